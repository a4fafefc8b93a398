//! The memory canvas: processes and their page tables on the left, folios in
//! the middle, page cache, disk, holders, pipes and kernel buffers on the
//! right, and an arrow for every reference. Drawn from model state only.

use super::theme;
use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, StrokeKind, Ui, Vec2, pos2, vec2};
use pinlab_lessons::model::folio::{FolioKind, LruList};
use pinlab_lessons::model::holder::Grab;
use pinlab_lessons::model::mm::Pte;
use pinlab_lessons::model::refs::{RefKind, Reference, Referrer, all_references};
use pinlab_lessons::model::step::ObjRef;
use pinlab_lessons::model::{FileId, Folio, FolioId, Pid, World, ZERO_FOLIO};
use std::collections::{BTreeMap, HashMap, HashSet};

const CELL: f32 = 30.0;
const PER_ROW: usize = 8;
const MAX_PAGES_SHOWN: usize = 64;
const LEFT_W: f32 = 270.0;
const MID_X: f32 = 320.0;
const MID_W: f32 = 270.0;
const RIGHT_X: f32 = 640.0;
const RIGHT_W: f32 = 270.0;

/// Width of the whole canvas at zoom 1 (the app fits it to the window).
pub const CANVAS_WIDTH: f32 = RIGHT_X + RIGHT_W + 10.0;

/// What to emphasise on the canvas.
#[derive(Default)]
pub struct Marks {
    pub changed: HashSet<ObjRef>,
    pub focus: HashSet<FolioId>,
    pub hazard: HashSet<ObjRef>,
    pub selected: Option<FolioId>,
    /// Folios that differ from the other pane (side by side).
    pub diff: HashSet<FolioId>,
}

/// Where everything was placed.
#[derive(Default)]
struct Layout {
    folio: BTreeMap<FolioId, Rect>,
    pte: HashMap<(Pid, u64), Rect>,
    cache: HashMap<(FileId, u64), Rect>,
    holder_page: HashMap<(String, usize), Rect>,
    pipe_buf: HashMap<(String, usize), Rect>,
    kbuf_page: HashMap<(String, usize), Rect>,
    boxes: Vec<(Rect, String, Color32)>,
    texts: Vec<(Pos2, String, f32, Color32)>,
    size: Vec2,
}

/// A short description of a folio for labels and screen readers.
pub fn folio_label(id: FolioId, f: &Folio) -> String {
    let mut s = format!("{id}: refcount {}, mapcount {}", f.refcount, f.total_mapcount());
    if f.has_pincount() {
        s.push_str(&format!(", pincount {}", f.pincount));
    }
    if f.freed {
        s.push_str(", freed");
    }
    s
}

fn kind_name(f: &Folio, w: &World) -> String {
    match f.kind {
        FolioKind::Zero => "zero page".into(),
        FolioKind::Anon => {
            if f.order > 0 {
                format!("anon, order {}", f.order)
            } else {
                "anon".into()
            }
        }
        FolioKind::Kernel => "kernel page".into(),
        FolioKind::File { file, index } => format!("{}[{index}]", w.file(file).name),
    }
}

fn layout(w: &World, refs: &[Reference]) -> Layout {
    let mut l = Layout::default();
    let mut y = 10.0;
    // Left: processes, VMAs, PTEs.
    for p in w.procs.values().filter(|p| p.alive) {
        let top = y;
        l.texts.push((
            pos2(8.0, y + 4.0),
            format!(
                "{} (pid {}){}",
                p.name,
                p.pid.0,
                if p.mm.has_pinned { "  MMF_HAS_PINNED" } else { "" }
            ),
            15.0,
            Color32::WHITE,
        ));
        y += 26.0;
        for vma in p.mm.vmas.values() {
            let mut flags = vec![
                if vma.flags.write { "rw" } else { "r" },
                if vma.flags.shared { "shared" } else { "private" },
            ];
            if vma.flags.dontcopy {
                flags.push("dontfork");
            }
            if vma.flags.hugepage {
                flags.push("thp");
            }
            if vma.flags.locked {
                flags.push("locked");
            }
            if vma.flags.nocow {
                flags.push("nocow");
            }
            let region_base = p.mm.regions.get(&vma.name).map(|r| r.base).unwrap_or(vma.start);
            l.texts.push((
                pos2(16.0, y),
                format!("{} [{}..] {}", vma.name, vma.start - region_base, flags.join(" ")),
                13.0,
                Color32::LIGHT_GRAY,
            ));
            y += 18.0;
            let n = (vma.pages() as usize).min(MAX_PAGES_SHOWN);
            for i in 0..n {
                let r = Rect::from_min_size(
                    pos2(
                        16.0 + (i % PER_ROW) as f32 * (CELL + 2.0),
                        y + (i / PER_ROW) as f32 * (CELL + 2.0),
                    ),
                    vec2(CELL, CELL),
                );
                l.pte.insert((p.pid, vma.start + i as u64), r);
            }
            y += n.div_ceil(PER_ROW) as f32 * (CELL + 2.0) + 4.0;
            if vma.pages() as usize > n {
                l.texts.push((
                    pos2(16.0, y),
                    format!("+{} more pages", vma.pages() as usize - n),
                    12.0,
                    Color32::GRAY,
                ));
                y += 16.0;
            }
        }
        l.boxes.push((
            Rect::from_min_max(pos2(2.0, top), pos2(LEFT_W, y + 4.0)),
            String::new(),
            Color32::from_gray(60),
        ));
        y += 16.0;
    }
    let left_h = y;
    // Right: files (page cache, disk), holders, pipes, kernel buffers.
    let mut y = 10.0;
    for (fid, f) in w.files.iter() {
        if f.cache.is_empty() && f.shmem_for_anon {
            continue;
        }
        let top = y;
        l.texts.push((
            pos2(RIGHT_X + 6.0, y + 4.0),
            format!("file {} ({:?})", f.name, f.fs),
            14.0,
            Color32::WHITE,
        ));
        y += 24.0;
        for (i, (idx, _)) in f.cache.iter().enumerate().take(MAX_PAGES_SHOWN) {
            let r = Rect::from_min_size(
                pos2(
                    RIGHT_X + 8.0 + (i % 6) as f32 * (CELL + 12.0),
                    y + (i / 6) as f32 * (CELL + 2.0),
                ),
                vec2(CELL + 10.0, CELL),
            );
            l.cache.insert((*fid, *idx), r);
        }
        y += f.cache.len().min(MAX_PAGES_SHOWN).div_ceil(6) as f32 * (CELL + 2.0);
        if f.fs.has_disk() {
            let shown: Vec<&str> = f.disk.iter().take(8).map(|d| d.tag()).collect();
            l.texts.push((
                pos2(RIGHT_X + 8.0, y + 2.0),
                format!(
                    "disk: {}{}",
                    shown.join(" | "),
                    if f.disk.len() > 8 { " ..." } else { "" }
                ),
                12.0,
                Color32::LIGHT_GRAY,
            ));
            y += 18.0;
        }
        l.boxes.push((
            Rect::from_min_max(pos2(RIGHT_X, top), pos2(RIGHT_X + RIGHT_W, y + 4.0)),
            String::new(),
            Color32::from_gray(60),
        ));
        y += 14.0;
    }
    for h in w.holders.values() {
        let top = y;
        let grab = match h.grab {
            Grab::Ref => "refs (FOLL_GET)",
            Grab::Pin => "pins (FOLL_PIN)",
            Grab::List => "just listed",
        };
        let mut title = format!("{:?} '{}': {grab}", h.kind, h.name);
        if h.longterm {
            title.push_str(", long-term");
        }
        if let Some(b) = &h.bio {
            let f = b.flags.names();
            if !f.is_empty() {
                title.push_str(&format!(", {}", f.join("|")));
            }
        }
        l.texts
            .push((pos2(RIGHT_X + 6.0, y + 4.0), title, 13.0, Color32::WHITE));
        y += 22.0;
        for (i, _) in h.pages.iter().enumerate().take(MAX_PAGES_SHOWN) {
            let r = Rect::from_min_size(
                pos2(
                    RIGHT_X + 8.0 + (i % PER_ROW) as f32 * (CELL + 2.0),
                    y + (i / PER_ROW) as f32 * (CELL + 2.0),
                ),
                vec2(CELL, CELL),
            );
            l.holder_page.insert((h.name.clone(), i), r);
        }
        y += h.pages.len().min(MAX_PAGES_SHOWN).div_ceil(PER_ROW) as f32 * (CELL + 2.0);
        l.boxes.push((
            Rect::from_min_max(pos2(RIGHT_X, top), pos2(RIGHT_X + RIGHT_W, y + 4.0)),
            String::new(),
            theme::PIN.gamma_multiply(0.4),
        ));
        y += 14.0;
    }
    for p in w.pipes.values() {
        let top = y;
        l.texts.push((
            pos2(RIGHT_X + 6.0, y + 4.0),
            format!("pipe '{}'", p.name),
            13.0,
            Color32::WHITE,
        ));
        y += 22.0;
        for (i, _) in p.bufs.iter().enumerate().take(MAX_PAGES_SHOWN) {
            l.pipe_buf.insert(
                (p.name.clone(), i),
                Rect::from_min_size(
                    pos2(RIGHT_X + 8.0 + (i % PER_ROW) as f32 * (CELL + 2.0), y),
                    vec2(CELL, CELL),
                ),
            );
        }
        y += CELL + 2.0;
        l.boxes.push((
            Rect::from_min_max(pos2(RIGHT_X, top), pos2(RIGHT_X + RIGHT_W, y + 4.0)),
            String::new(),
            Color32::from_gray(60),
        ));
        y += 14.0;
    }
    for (name, pages) in w.kbufs.iter() {
        let top = y;
        l.texts.push((
            pos2(RIGHT_X + 6.0, y + 4.0),
            format!("kernel buffer '{name}'"),
            13.0,
            Color32::WHITE,
        ));
        y += 22.0;
        for i in 0..pages.len().min(MAX_PAGES_SHOWN) {
            l.kbuf_page.insert(
                (name.clone(), i),
                Rect::from_min_size(
                    pos2(
                        RIGHT_X + 8.0 + (i % PER_ROW) as f32 * (CELL + 2.0),
                        y + (i / PER_ROW) as f32 * (CELL + 2.0),
                    ),
                    vec2(CELL, CELL),
                ),
            );
        }
        y += pages.len().min(MAX_PAGES_SHOWN).div_ceil(PER_ROW) as f32 * (CELL + 2.0);
        l.boxes.push((
            Rect::from_min_max(pos2(RIGHT_X, top), pos2(RIGHT_X + RIGHT_W, y + 4.0)),
            String::new(),
            Color32::from_gray(60),
        ));
        y += 14.0;
    }
    let right_h = y;
    // Middle: every folio something references, ordered by where its
    // referrers are, so that arrows cross as little as possible.
    let mut anchor: HashMap<FolioId, f32> = HashMap::new();
    for r in refs {
        let y = match &r.from {
            Referrer::Pte(p, v) | Referrer::Pmd(p, v) => l.pte.get(&(*p, *v)).map(|r| r.center().y),
            Referrer::PageCache(f, i) => l.cache.get(&(*f, *i)).map(|r| r.center().y),
            _ => None,
        };
        if r.kind == RefKind::Reserved {
            continue;
        }
        let e = anchor.entry(r.folio).or_insert(f32::MAX);
        *e = e.min(y.unwrap_or(1e6 + r.folio.0 as f32));
    }
    let mut order: Vec<(FolioId, f32)> = anchor.into_iter().collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut y = 10.0;
    for (id, _) in order {
        let f = w.folio(id);
        let pages_lines = if f.nr_pages() > 1 { 1.0 } else { 0.0 };
        // Large folios look large: taller with every order.
        let h = 108.0 + pages_lines * 16.0 + f.order as f32 * 10.0;
        l.folio.insert(id, Rect::from_min_size(pos2(MID_X, y), vec2(MID_W, h)));
        y += h + 12.0;
    }
    l.size = vec2(RIGHT_X + RIGHT_W + 10.0, left_h.max(right_h).max(y) + 10.0);
    l
}

fn folio_color(f: &Folio) -> Color32 {
    match f.kind {
        FolioKind::Zero => Color32::from_gray(70),
        FolioKind::Anon => Color32::from_rgb(36, 52, 72),
        FolioKind::File { .. } => Color32::from_rgb(30, 62, 50),
        FolioKind::Kernel => Color32::from_rgb(60, 50, 70),
    }
}

/// Draws the canvas; returns a folio the user clicked.
pub fn canvas_ui(ui: &mut Ui, w: &World, prev: Option<&World>, marks: &Marks, zoom: f32) -> Option<FolioId> {
    let refs = all_references(w);
    let l = layout(w, &refs);
    if l.folio.is_empty() && l.pte.is_empty() && l.boxes.is_empty() {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new("Nothing is mapped yet: only the shared zero page exists.").size(18.0 * zoom.max(1.0)),
            );
            ui.label("Step forward to run the lesson.");
        });
        return None;
    }
    let (resp, painter) = ui.allocate_painter(l.size * zoom, Sense::hover());
    // Only what is inside the visible part of the scroll area is drawn.
    let clip = ui.clip_rect().expand(40.0);
    let visible = |r: Rect| clip.intersects(r);
    let o = resp.rect.min.to_vec2();
    let t = |p: Pos2| pos2(p.x * zoom, p.y * zoom) + o;
    let tr = |r: Rect| Rect::from_min_max(t(r.min), t(r.max));
    let font = |s: f32| FontId::proportional(s * zoom);
    let dark = ui.visuals().dark_mode;
    let fg = if dark { Color32::WHITE } else { Color32::BLACK };
    let fg_of = |c: Color32| if dark || c != Color32::WHITE { c } else { Color32::BLACK };
    for (r, _, c) in &l.boxes {
        if visible(tr(*r)) {
            painter.rect_stroke(tr(*r), 6.0 * zoom, Stroke::new(1.5 * zoom, *c), StrokeKind::Inside);
        }
    }
    for (p, s, size, c) in &l.texts {
        if !clip.contains(t(*p)) && !clip.contains(t(*p) + vec2(200.0, 0.0)) {
            continue;
        }
        let c = if *c == Color32::WHITE {
            fg
        } else if *c == Color32::LIGHT_GRAY && !dark {
            Color32::DARK_GRAY
        } else {
            fg_of(*c)
        };
        painter.text(t(*p), Align2::LEFT_TOP, s, font(*size), c);
    }
    // PTE cells.
    for ((pid, vpn), r) in &l.pte {
        let r = tr(*r);
        if !visible(r) {
            continue;
        }
        let pte = w.pte(*pid, *vpn);
        let (fill, text) = match pte {
            Pte::None => (Color32::TRANSPARENT, ".".to_string()),
            Pte::Swap { exclusive, .. } => (
                Color32::from_gray(80),
                if exclusive { "S+x".into() } else { "S".into() },
            ),
            Pte::Present {
                folio,
                writable,
                dirty,
                pmd,
                ..
            } => {
                let mut s = String::from(if folio == ZERO_FOLIO { "0" } else { "P" });
                if writable {
                    s.push('W');
                }
                if dirty {
                    s.push('D');
                }
                if pmd {
                    s = format!("H{s}");
                }
                (theme::MAP.gamma_multiply(0.35), s)
            }
        };
        painter.rect_filled(r, 3.0 * zoom, fill);
        let changed = marks.changed.contains(&ObjRef::Page(*pid, *vpn));
        let stroke = if marks.hazard.contains(&ObjRef::Page(*pid, *vpn)) {
            Stroke::new(3.0 * zoom, theme::HAZARD)
        } else if changed {
            Stroke::new(3.0 * zoom, theme::CHANGED)
        } else {
            Stroke::new(1.0 * zoom, Color32::GRAY)
        };
        painter.rect_stroke(r, 3.0 * zoom, stroke, StrokeKind::Inside);
        painter.text(r.center(), Align2::CENTER_CENTER, text, font(10.0), fg);
    }
    // Page-cache and other right-hand cells.
    for ((_, idx), r) in &l.cache {
        let r = tr(*r);
        if !visible(r) {
            continue;
        }
        painter.rect_filled(r, 3.0 * zoom, theme::CACHE.gamma_multiply(0.35));
        painter.text(r.center(), Align2::CENTER_CENTER, format!("[{idx}]"), font(11.0), fg);
    }
    for ((name, i), r) in l.holder_page.iter().chain(l.pipe_buf.iter()).chain(l.kbuf_page.iter()) {
        let r = tr(*r);
        if !visible(r) {
            continue;
        }
        painter.rect_filled(r, 3.0 * zoom, Color32::from_gray(90).gamma_multiply(0.6));
        painter.text(r.center(), Align2::CENTER_CENTER, format!("{i}"), font(10.0), fg);
        let changed = marks.changed.contains(&ObjRef::Holder(name.clone()))
            || marks.changed.contains(&ObjRef::Pipe(name.clone()));
        if changed {
            painter.rect_stroke(
                r,
                3.0 * zoom,
                Stroke::new(2.0 * zoom, theme::CHANGED),
                StrokeKind::Inside,
            );
        }
    }
    // Arrows.
    for r in &refs {
        let Some(to) = l.folio.get(&r.folio).map(|x| tr(*x)) else {
            continue;
        };
        let (from, color, width, left_side) = match &r.from {
            Referrer::Pte(p, v) | Referrer::Pmd(p, v) => match l.pte.get(&(*p, *v)) {
                Some(c) => (
                    tr(*c).right_center(),
                    theme::MAP,
                    if matches!(r.from, Referrer::Pmd(..)) { 3.0 } else { 1.2 },
                    true,
                ),
                None => continue,
            },
            Referrer::PageCache(f, i) => match l.cache.get(&(*f, *i)) {
                Some(c) => (tr(*c).left_center(), theme::CACHE, 1.5, false),
                None => continue,
            },
            Referrer::Holder(h) => {
                let idx = w
                    .holders
                    .get(h)
                    .and_then(|hh| hh.pages.iter().position(|p| p.folio == r.folio && p.page == r.page))
                    .unwrap_or(0);
                match l.holder_page.get(&(h.clone(), idx)) {
                    Some(c) => {
                        let (col, wd) = match r.kind {
                            RefKind::Pin => (theme::PIN, 2.5),
                            RefKind::List => (theme::LIST, 1.0),
                            _ => (theme::REF, 1.5),
                        };
                        (tr(*c).left_center(), col, wd, false)
                    }
                    None => continue,
                }
            }
            Referrer::Pipe(pname) => match l.pipe_buf.iter().find(|((n, _), _)| n == pname) {
                Some((_, c)) => (tr(*c).left_center(), theme::REF, 1.5, false),
                None => continue,
            },
            Referrer::KernelBuf(k, i) => match l.kbuf_page.get(&(k.clone(), *i as usize)) {
                Some(c) => (tr(*c).left_center(), theme::PURPLE, 1.5, false),
                None => continue,
            },
            // The private data is drawn as the folio's 'buffers' chip, not an arrow.
            Referrer::SwapCache(_) | Referrer::Reserved | Referrer::Private(_) => continue,
        };
        let target = if left_side { to.left_center() } else { to.right_center() };
        if !visible(Rect::from_two_pos(from, target)) {
            continue;
        }
        let selected = marks.selected == Some(r.folio);
        let width = if selected { width * 2.5 } else { width };
        let stroke = Stroke::new(width * zoom, color.gamma_multiply(0.85));
        if r.kind == RefKind::List {
            painter.extend(egui::Shape::dashed_line(
                &[from, target],
                stroke,
                6.0 * zoom,
                4.0 * zoom,
            ));
        } else {
            painter.line_segment([from, target], stroke);
        }
        painter.circle_filled(target, 3.0 * zoom, color);
    }
    // Folios.
    let mut clicked = None;
    for (id, r) in &l.folio {
        let rect = tr(*r);
        if !visible(rect) {
            continue;
        }
        let f = w.folio(*id);
        painter.rect_filled(
            rect,
            6.0 * zoom,
            if f.freed {
                Color32::from_rgb(70, 30, 30)
            } else {
                folio_color(f)
            },
        );
        let ring = if marks.hazard.contains(&ObjRef::Folio(*id)) {
            Stroke::new(4.0 * zoom, theme::HAZARD)
        } else if marks.changed.contains(&ObjRef::Folio(*id)) {
            Stroke::new(3.0 * zoom, theme::CHANGED)
        } else if marks.selected == Some(*id) {
            Stroke::new(3.0 * zoom, Color32::WHITE)
        } else if marks.diff.contains(id) {
            Stroke::new(4.0 * zoom, super::side_by_side::DIFF)
        } else if marks.focus.contains(id) {
            Stroke::new(3.0 * zoom, theme::PURPLE)
        } else {
            Stroke::new(1.0 * zoom, Color32::GRAY)
        };
        painter.rect_stroke(rect, 6.0 * zoom, ring, StrokeKind::Inside);
        let x = rect.left() + 8.0 * zoom;
        let mut y = rect.top() + 6.0 * zoom;
        let title = format!("{id}  {}{}", kind_name(f, w), if f.freed { "  FREED" } else { "" });
        painter.text(pos2(x, y), Align2::LEFT_TOP, title, font(14.0), Color32::WHITE);
        y += 20.0 * zoom;
        // Counts that moved in this micro-step show where they came from.
        let before = prev.and_then(|p| p.folios.get(id.0 as usize));
        let moved = |now: i64, then: Option<i64>| match then {
            Some(t) if t != now => format!("{now} (was {t})"),
            _ => now.to_string(),
        };
        let rc = moved(f.refcount, before.map(|b| b.refcount));
        let mc = moved(f.total_mapcount() as i64, before.map(|b| b.total_mapcount() as i64));
        let counts = if f.has_pincount() {
            format!(
                "refcount {rc}   pincount {}   mapcount {mc}",
                moved(f.pincount, before.map(|b| b.pincount))
            )
        } else {
            format!("refcount {rc}   mapcount {mc}")
        };
        let counts_color = if counts.contains("(was") {
            theme::CHANGED
        } else {
            Color32::WHITE
        };
        painter.text(pos2(x, y), Align2::LEFT_TOP, counts, font(13.0), counts_color);
        if prev.is_some() && before.is_none() {
            painter.text(
                pos2(rect.right() - 8.0 * zoom, rect.top() + 6.0 * zoom),
                Align2::RIGHT_TOP,
                "NEW",
                font(12.0),
                theme::CHANGED,
            );
        }
        y += 18.0 * zoom;
        refcount_bar(&painter, pos2(x, y), (MID_W - 16.0) * zoom, 14.0 * zoom, *id, &refs);
        y += 20.0 * zoom;
        let mut chips: Vec<(&str, Color32)> = Vec::new();
        if f.pages.iter().any(|p| p.anon_exclusive) {
            chips.push(("anon-excl", theme::GREEN));
        }
        if f.maybe_dma_pinned() {
            chips.push(("maybe-pinned", theme::PIN));
        }
        if f.flags.dirty {
            chips.push(("dirty", theme::YELLOW));
        }
        if f.flags.writeback {
            chips.push(("writeback", theme::SKY));
        }
        if f.flags.private {
            chips.push(("buffers", theme::GREY));
        }
        if f.flags.swapcache {
            chips.push(("swapcache", theme::GREY));
        }
        match f.lru {
            Some(LruList::Inactive) => chips.push(("inactive", theme::GREY)),
            Some(LruList::Active) => chips.push(("active", theme::GREY)),
            Some(LruList::Unevictable) => chips.push(("unevictable", theme::PURPLE)),
            None => {}
        }
        let mut cx = x;
        for (c, col) in chips {
            let g = painter.layout_no_wrap(c.to_string(), font(11.0), Color32::BLACK);
            let cr = Rect::from_min_size(pos2(cx, y), g.size() + vec2(8.0, 4.0) * zoom);
            painter.rect_filled(cr, 4.0 * zoom, col);
            painter.galley(cr.min + vec2(4.0, 2.0) * zoom, g, Color32::BLACK);
            cx = cr.right() + 4.0 * zoom;
        }
        y += 20.0 * zoom;
        let data: Vec<&str> = f.pages.iter().take(6).map(|p| p.data.tag()).collect();
        let data = format!(
            "data: {}{}",
            data.join(" | "),
            if f.nr_pages() > 6 {
                format!(" ... ({} pages)", f.nr_pages())
            } else {
                String::new()
            }
        );
        painter.text(pos2(x, y), Align2::LEFT_TOP, data, font(12.0), Color32::LIGHT_GRAY);
        let resp = ui.interact(rect, ui.scope_id().with(("folio", id.0)), Sense::click());
        let label = folio_label(*id, f);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        let resp = resp.on_hover_ui(|ui| folio_tooltip(ui, *id, f, w, &refs));
        if resp.clicked() {
            clicked = Some(*id);
        }
    }
    clicked
}

/// Plain references as small cells, each pin's 1024 bias as a wide block.
fn refcount_bar(p: &egui::Painter, at: Pos2, width: f32, h: f32, id: FolioId, refs: &[Reference]) {
    let mine: Vec<&Reference> = refs.iter().filter(|r| r.folio == id && r.refs > 0).collect();
    let bias_pins: usize = mine.iter().filter(|r| r.kind == RefKind::Pin && r.refs >= 1024).count();
    let plain: i64 = mine
        .iter()
        .filter(|r| !(r.kind == RefKind::Pin && r.refs >= 1024))
        .map(|r| r.refs)
        .sum();
    let block = (width * 0.3).min(70.0);
    let cells_w = (width - bias_pins.min(4) as f32 * (block + 2.0)).max(20.0);
    let shown = plain.clamp(0, 24) as f32;
    let cell = if shown > 0.0 { (cells_w / shown).min(12.0) } else { 0.0 };
    let mut x = at.x;
    for r in mine.iter().filter(|r| !(r.kind == RefKind::Pin && r.refs >= 1024)) {
        for _ in 0..r.refs.min(24) {
            if x + cell > at.x + cells_w {
                break;
            }
            let col = match r.kind {
                RefKind::Map => theme::MAP,
                RefKind::PageCache => theme::CACHE,
                RefKind::Pin => theme::PIN,
                RefKind::Kernel => theme::PURPLE,
                _ => theme::REF,
            };
            p.rect_filled(
                Rect::from_min_size(pos2(x, at.y), vec2((cell - 1.0).max(1.0), h)),
                1.0,
                col,
            );
            x += cell;
        }
    }
    if plain > 24 {
        p.text(
            pos2(x + 2.0, at.y),
            Align2::LEFT_TOP,
            format!("+{}", plain - 24),
            FontId::proportional(h * 0.8),
            Color32::WHITE,
        );
    }
    let mut x = at.x + cells_w + 2.0;
    for i in 0..bias_pins {
        if i == 4 {
            p.text(
                pos2(x, at.y),
                Align2::LEFT_TOP,
                format!("+{} pins", bias_pins - 4),
                FontId::proportional(h * 0.8),
                Color32::WHITE,
            );
            break;
        }
        let r = Rect::from_min_size(pos2(x, at.y), vec2(block, h));
        p.rect_filled(r, 2.0, theme::PIN);
        // Hatching tells a pin apart without relying on colour.
        let mut hx = r.left();
        while hx < r.right() {
            p.line_segment(
                [pos2(hx, r.bottom()), pos2((hx + h).min(r.right()), r.top())],
                Stroke::new(1.0, Color32::BLACK.gamma_multiply(0.5)),
            );
            hx += 6.0;
        }
        p.text(
            r.center(),
            Align2::CENTER_CENTER,
            "pin 1024",
            FontId::proportional(h * 0.75),
            Color32::BLACK,
        );
        x += block + 2.0;
    }
}

fn folio_tooltip(ui: &mut Ui, id: FolioId, f: &Folio, w: &World, refs: &[Reference]) {
    ui.strong(format!("{id}: {}", kind_name(f, w)));
    ui.label(format!(
        "order {} ({} pages), zone {:?}\nrefcount {}, pincount {}, mapcount {} (entire {})\nfolio_maybe_dma_pinned: {}",
        f.order,
        f.nr_pages(),
        f.zone,
        f.refcount,
        f.pincount,
        f.total_mapcount(),
        f.entire_mapcount,
        f.maybe_dma_pinned()
    ));
    ui.label(format!(
        "flags: dirty {}, writeback {}, uptodate {}, buffers {}, mlocked {}, swapcache {}; lru {:?}",
        f.flags.dirty, f.flags.writeback, f.flags.uptodate, f.flags.private, f.flags.mlocked, f.flags.swapcache, f.lru
    ));
    let n = refs.iter().filter(|r| r.folio == id).count();
    ui.label(format!("{n} reference(s); click for the list"));
}
