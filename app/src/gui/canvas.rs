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
use pinlab_lessons::model::{FileId, Folio, FolioId, GUP_PIN_COUNTING_BIAS, Pid, World, ZERO_FOLIO};
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
    // Left: processes, VMAs, PTEs.
    let left_h = layout_processes(&mut l, w);
    // Right: files (page cache, disk), holders, pipes, kernel buffers.
    let mut y = 10.0;
    y = layout_files(&mut l, w, y);
    y = layout_holders(&mut l, w, y);
    y = layout_pipes(&mut l, w, y);
    let right_h = layout_kbufs(&mut l, w, y);
    // Middle: the folios, next to what references them.
    let mid_h = layout_folios(&mut l, w, refs);
    l.size = vec2(RIGHT_X + RIGHT_W + 10.0, left_h.max(right_h).max(mid_h) + 10.0);
    l
}

/// Cell `i` of a grid of `per_row` cells of width `w` whose first is at (x, y).
fn cell(x: f32, y: f32, i: usize, per_row: usize, w: f32) -> Rect {
    Rect::from_min_size(
        pos2(
            x + (i % per_row) as f32 * (w + 2.0),
            y + (i / per_row) as f32 * (CELL + 2.0),
        ),
        vec2(w, CELL),
    )
}

/// Height of a grid of `n` cells, `per_row` to a row.
fn rows_height(n: usize, per_row: usize) -> f32 {
    n.div_ceil(per_row) as f32 * (CELL + 2.0)
}

/// A box around one object of the right column, from `top` to `y`.
fn right_box(l: &mut Layout, top: f32, y: f32, color: Color32) {
    l.boxes.push((
        Rect::from_min_max(pos2(RIGHT_X, top), pos2(RIGHT_X + RIGHT_W, y + 4.0)),
        String::new(),
        color,
    ));
}

fn layout_processes(l: &mut Layout, w: &World) -> f32 {
    let mut y = 10.0;
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
            for (on, name) in [
                (vma.flags.dontcopy, "dontfork"),
                (vma.flags.hugepage, "thp"),
                (vma.flags.locked, "locked"),
                (vma.flags.nocow, "nocow"),
            ] {
                if on {
                    flags.push(name);
                }
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
                l.pte
                    .insert((p.pid, vma.start + i as u64), cell(16.0, y, i, PER_ROW, CELL));
            }
            y += rows_height(n, PER_ROW) + 4.0;
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
    y
}

fn layout_files(l: &mut Layout, w: &World, mut y: f32) -> f32 {
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
            // Wider cells, six to a row: an index fits in them.
            let r = Rect::from_min_size(
                pos2(
                    RIGHT_X + 8.0 + (i % 6) as f32 * (CELL + 12.0),
                    y + (i / 6) as f32 * (CELL + 2.0),
                ),
                vec2(CELL + 10.0, CELL),
            );
            l.cache.insert((*fid, *idx), r);
        }
        y += rows_height(f.cache.len().min(MAX_PAGES_SHOWN), 6);
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
        right_box(l, top, y, Color32::from_gray(60));
        y += 14.0;
    }
    y
}

fn holder_title(h: &pinlab_lessons::model::holder::Holder) -> String {
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
    title
}

fn layout_holders(l: &mut Layout, w: &World, mut y: f32) -> f32 {
    for h in w.holders.values() {
        let top = y;
        l.texts
            .push((pos2(RIGHT_X + 6.0, y + 4.0), holder_title(h), 13.0, Color32::WHITE));
        y += 22.0;
        for (i, _) in h.pages.iter().enumerate().take(MAX_PAGES_SHOWN) {
            l.holder_page
                .insert((h.name.clone(), i), cell(RIGHT_X + 8.0, y, i, PER_ROW, CELL));
        }
        y += rows_height(h.pages.len().min(MAX_PAGES_SHOWN), PER_ROW);
        right_box(l, top, y, theme::PIN.gamma_multiply(0.4));
        y += 14.0;
    }
    y
}

fn layout_pipes(l: &mut Layout, w: &World, mut y: f32) -> f32 {
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
            // One row: a pipe holds at most 16 buffers.
            l.pipe_buf
                .insert((p.name.clone(), i), cell(RIGHT_X + 8.0, y, i, usize::MAX, CELL));
        }
        y += CELL + 2.0;
        right_box(l, top, y, Color32::from_gray(60));
        y += 14.0;
    }
    y
}

fn layout_kbufs(l: &mut Layout, w: &World, mut y: f32) -> f32 {
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
            l.kbuf_page
                .insert((name.clone(), i), cell(RIGHT_X + 8.0, y, i, PER_ROW, CELL));
        }
        y += rows_height(pages.len().min(MAX_PAGES_SHOWN), PER_ROW);
        right_box(l, top, y, Color32::from_gray(60));
        y += 14.0;
    }
    y
}

/// Every folio something references, ordered by where its referrers are,
/// so that arrows cross as little as possible. Returns the column's height.
fn layout_folios(l: &mut Layout, w: &World, refs: &[Reference]) -> f32 {
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
    y
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
    let v = View {
        zoom,
        origin: resp.rect.min.to_vec2(),
        // Only what is inside the visible part of the scroll area is drawn.
        clip: ui.clip_rect().expand(40.0),
        dark: ui.visuals().dark_mode,
    };
    paint_frames(&painter, &v, &l);
    paint_ptes(&painter, &v, &l, w, marks);
    paint_right_cells(&painter, &v, &l, marks);
    paint_arrows(&painter, &v, &l, w, &refs, marks);
    let mut clicked = None;
    for (id, r) in &l.folio {
        let rect = v.tr(*r);
        if v.visible(rect)
            && folio_card(
                ui,
                &painter,
                &v,
                Card {
                    w,
                    prev,
                    marks,
                    refs: &refs,
                },
                *id,
                rect,
            )
        {
            clicked = Some(*id);
        }
    }
    clicked
}

/// From canvas coordinates (zoom 1) to the screen, and what is on screen.
struct View {
    zoom: f32,
    origin: Vec2,
    clip: Rect,
    dark: bool,
}

impl View {
    fn t(&self, p: Pos2) -> Pos2 {
        pos2(p.x * self.zoom, p.y * self.zoom) + self.origin
    }

    fn tr(&self, r: Rect) -> Rect {
        Rect::from_min_max(self.t(r.min), self.t(r.max))
    }

    fn font(&self, size: f32) -> FontId {
        FontId::proportional(size * self.zoom)
    }

    fn visible(&self, r: Rect) -> bool {
        self.clip.intersects(r)
    }

    /// Text colour on the canvas background.
    fn fg(&self) -> Color32 {
        if self.dark { Color32::WHITE } else { Color32::BLACK }
    }
}

/// The boxes around processes and right-hand objects, and their labels.
fn paint_frames(painter: &egui::Painter, v: &View, l: &Layout) {
    for (r, _, c) in &l.boxes {
        if v.visible(v.tr(*r)) {
            painter.rect_stroke(
                v.tr(*r),
                6.0 * v.zoom,
                Stroke::new(1.5 * v.zoom, *c),
                StrokeKind::Inside,
            );
        }
    }
    for (p, s, size, c) in &l.texts {
        let at = v.t(*p);
        if !v.clip.contains(at) && !v.clip.contains(at + vec2(200.0, 0.0)) {
            continue;
        }
        let c = if *c == Color32::WHITE {
            v.fg()
        } else if *c == Color32::LIGHT_GRAY && !v.dark {
            Color32::DARK_GRAY
        } else {
            *c
        };
        painter.text(at, Align2::LEFT_TOP, s, v.font(*size), c);
    }
}

/// A PTE's letters: P present (0: the zero page), W writable, D dirty, H
/// part of a PMD mapping; S a swap entry (+x: exclusive).
fn pte_text(pte: Pte) -> (Color32, String) {
    match pte {
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
    }
}

fn paint_ptes(painter: &egui::Painter, v: &View, l: &Layout, w: &World, marks: &Marks) {
    for ((pid, vpn), r) in &l.pte {
        let r = v.tr(*r);
        if !v.visible(r) {
            continue;
        }
        let (fill, text) = pte_text(w.pte(*pid, *vpn));
        painter.rect_filled(r, 3.0 * v.zoom, fill);
        let stroke = if marks.hazard.contains(&ObjRef::Page(*pid, *vpn)) {
            Stroke::new(3.0 * v.zoom, theme::HAZARD)
        } else if marks.changed.contains(&ObjRef::Page(*pid, *vpn)) {
            Stroke::new(3.0 * v.zoom, theme::CHANGED)
        } else {
            Stroke::new(1.0 * v.zoom, Color32::GRAY)
        };
        painter.rect_stroke(r, 3.0 * v.zoom, stroke, StrokeKind::Inside);
        painter.text(r.center(), Align2::CENTER_CENTER, text, v.font(10.0), v.fg());
    }
}

/// Page-cache cells, and the cells of holders, pipes and kernel buffers.
fn paint_right_cells(painter: &egui::Painter, v: &View, l: &Layout, marks: &Marks) {
    for ((_, idx), r) in &l.cache {
        let r = v.tr(*r);
        if !v.visible(r) {
            continue;
        }
        painter.rect_filled(r, 3.0 * v.zoom, theme::CACHE.gamma_multiply(0.35));
        painter.text(
            r.center(),
            Align2::CENTER_CENTER,
            format!("[{idx}]"),
            v.font(11.0),
            v.fg(),
        );
    }
    for ((name, i), r) in l.holder_page.iter().chain(l.pipe_buf.iter()).chain(l.kbuf_page.iter()) {
        let r = v.tr(*r);
        if !v.visible(r) {
            continue;
        }
        painter.rect_filled(r, 3.0 * v.zoom, Color32::from_gray(90).gamma_multiply(0.6));
        painter.text(r.center(), Align2::CENTER_CENTER, format!("{i}"), v.font(10.0), v.fg());
        let changed = marks.changed.contains(&ObjRef::Holder(name.clone()))
            || marks.changed.contains(&ObjRef::Pipe(name.clone()));
        if changed {
            painter.rect_stroke(
                r,
                3.0 * v.zoom,
                Stroke::new(2.0 * v.zoom, theme::CHANGED),
                StrokeKind::Inside,
            );
        }
    }
}

/// Where a reference's arrow starts, its colour and width, and whether it
/// enters the folio from the left (mappings) or the right (everything else).
fn arrow_start(v: &View, l: &Layout, w: &World, r: &Reference) -> Option<(Pos2, Color32, f32, bool)> {
    Some(match &r.from {
        Referrer::Pte(p, vpn) | Referrer::Pmd(p, vpn) => {
            let c = l.pte.get(&(*p, *vpn))?;
            let width = if matches!(r.from, Referrer::Pmd(..)) { 3.0 } else { 1.2 };
            (v.tr(*c).right_center(), theme::MAP, width, true)
        }
        Referrer::PageCache(f, i) => (v.tr(*l.cache.get(&(*f, *i))?).left_center(), theme::CACHE, 1.5, false),
        Referrer::Holder(h) => {
            let idx = w
                .holders
                .get(h)
                .and_then(|hh| hh.pages.iter().position(|p| p.folio == r.folio && p.page == r.page))
                .unwrap_or(0);
            let c = l.holder_page.get(&(h.clone(), idx))?;
            let (col, wd) = match r.kind {
                RefKind::Pin => (theme::PIN, 2.5),
                RefKind::List => (theme::LIST, 1.0),
                _ => (theme::REF, 1.5),
            };
            (v.tr(*c).left_center(), col, wd, false)
        }
        Referrer::Pipe(pname) => {
            let (_, c) = l.pipe_buf.iter().find(|((n, _), _)| n == pname)?;
            (v.tr(*c).left_center(), theme::REF, 1.5, false)
        }
        Referrer::KernelBuf(k, i) => (
            v.tr(*l.kbuf_page.get(&(k.clone(), *i as usize))?).left_center(),
            theme::PURPLE,
            1.5,
            false,
        ),
        // The private data is drawn as the folio's 'buffers' chip, not an arrow.
        Referrer::SwapCache(_) | Referrer::Reserved | Referrer::Private(_) => return None,
    })
}

fn paint_arrows(painter: &egui::Painter, v: &View, l: &Layout, w: &World, refs: &[Reference], marks: &Marks) {
    for r in refs {
        let Some(to) = l.folio.get(&r.folio).map(|x| v.tr(*x)) else {
            continue;
        };
        let Some((from, color, width, left_side)) = arrow_start(v, l, w, r) else {
            continue;
        };
        let target = if left_side { to.left_center() } else { to.right_center() };
        if !v.visible(Rect::from_two_pos(from, target)) {
            continue;
        }
        let width = if marks.selected == Some(r.folio) {
            width * 2.5
        } else {
            width
        };
        let stroke = Stroke::new(width * v.zoom, color.gamma_multiply(0.85));
        if r.kind == RefKind::List {
            painter.extend(egui::Shape::dashed_line(
                &[from, target],
                stroke,
                6.0 * v.zoom,
                4.0 * v.zoom,
            ));
        } else {
            painter.line_segment([from, target], stroke);
        }
        painter.circle_filled(target, 3.0 * v.zoom, color);
    }
}

/// What a folio card is drawn from.
#[derive(Clone, Copy)]
struct Card<'a> {
    w: &'a World,
    prev: Option<&'a World>,
    marks: &'a Marks,
    refs: &'a [Reference],
}

fn card_ring(v: &View, marks: &Marks, id: FolioId) -> Stroke {
    let z = v.zoom;
    if marks.hazard.contains(&ObjRef::Folio(id)) {
        Stroke::new(4.0 * z, theme::HAZARD)
    } else if marks.changed.contains(&ObjRef::Folio(id)) {
        Stroke::new(3.0 * z, theme::CHANGED)
    } else if marks.selected == Some(id) {
        Stroke::new(3.0 * z, Color32::WHITE)
    } else if marks.diff.contains(&id) {
        Stroke::new(4.0 * z, super::side_by_side::DIFF)
    } else if marks.focus.contains(&id) {
        Stroke::new(3.0 * z, theme::PURPLE)
    } else {
        Stroke::new(1.0 * z, Color32::GRAY)
    }
}

/// The flags a folio card shows as coloured chips.
fn chips(f: &Folio) -> Vec<(&'static str, Color32)> {
    let mut chips: Vec<(&str, Color32)> = Vec::new();
    for (on, name, col) in [
        (f.pages.iter().any(|p| p.anon_exclusive), "anon-excl", theme::GREEN),
        (f.maybe_dma_pinned(), "maybe-pinned", theme::PIN),
        (f.flags.dirty, "dirty", theme::YELLOW),
        (f.flags.writeback, "writeback", theme::SKY),
        (f.flags.private, "buffers", theme::GREY),
        (f.flags.swapcache, "swapcache", theme::GREY),
    ] {
        if on {
            chips.push((name, col));
        }
    }
    match f.lru {
        Some(LruList::Inactive) => chips.push(("inactive", theme::GREY)),
        Some(LruList::Active) => chips.push(("active", theme::GREY)),
        Some(LruList::Unevictable) => chips.push(("unevictable", theme::PURPLE)),
        None => {}
    }
    chips
}

/// The counts line of a card, and whether any count moved in this
/// micro-step (each that moved shows what it was).
fn counts_line(f: &Folio, before: Option<&Folio>) -> (String, bool) {
    let mut moved_any = false;
    let mut moved = |now: i64, then: Option<i64>| match then {
        Some(t) if t != now => {
            moved_any = true;
            format!("{now} (was {t})")
        }
        _ => now.to_string(),
    };
    let rc = moved(f.refcount, before.map(|b| b.refcount));
    let mc = moved(f.total_mapcount() as i64, before.map(|b| b.total_mapcount() as i64));
    let text = if f.has_pincount() {
        let pc = moved(f.pincount, before.map(|b| b.pincount));
        format!("refcount {rc}   pincount {pc}   mapcount {mc}")
    } else {
        format!("refcount {rc}   mapcount {mc}")
    };
    (text, moved_any)
}

/// One folio's card: kind, counts, the refcount bar, flags and data.
/// Returns whether it was clicked.
fn folio_card(ui: &mut Ui, painter: &egui::Painter, v: &View, c: Card, id: FolioId, rect: Rect) -> bool {
    let (w, z) = (c.w, v.zoom);
    let f = w.folio(id);
    let fill = if f.freed {
        Color32::from_rgb(70, 30, 30)
    } else {
        folio_color(f)
    };
    painter.rect_filled(rect, 6.0 * z, fill);
    painter.rect_stroke(rect, 6.0 * z, card_ring(v, c.marks, id), StrokeKind::Inside);
    let x = rect.left() + 8.0 * z;
    let mut y = rect.top() + 6.0 * z;
    let title = format!("{id}  {}{}", kind_name(f, w), if f.freed { "  FREED" } else { "" });
    painter.text(pos2(x, y), Align2::LEFT_TOP, title, v.font(14.0), Color32::WHITE);
    y += 20.0 * z;
    let before = c.prev.and_then(|p| p.folios.get(id.0 as usize));
    let (counts, moved) = counts_line(f, before);
    let counts_color = if moved { theme::CHANGED } else { Color32::WHITE };
    painter.text(pos2(x, y), Align2::LEFT_TOP, counts, v.font(13.0), counts_color);
    if c.prev.is_some() && before.is_none() {
        painter.text(
            pos2(rect.right() - 8.0 * z, rect.top() + 6.0 * z),
            Align2::RIGHT_TOP,
            "NEW",
            v.font(12.0),
            theme::CHANGED,
        );
    }
    y += 18.0 * z;
    refcount_bar(painter, pos2(x, y), (MID_W - 16.0) * z, 14.0 * z, id, c.refs);
    y += 20.0 * z;
    let mut cx = x;
    for (chip, col) in chips(f) {
        let g = painter.layout_no_wrap(chip.to_string(), v.font(11.0), Color32::BLACK);
        let cr = Rect::from_min_size(pos2(cx, y), g.size() + vec2(8.0, 4.0) * z);
        painter.rect_filled(cr, 4.0 * z, col);
        painter.galley(cr.min + vec2(4.0, 2.0) * z, g, Color32::BLACK);
        cx = cr.right() + 4.0 * z;
    }
    y += 20.0 * z;
    let data: Vec<&str> = f.pages.iter().take(6).map(|p| p.data.tag()).collect();
    let more = if f.nr_pages() > 6 {
        format!(" ... ({} pages)", f.nr_pages())
    } else {
        String::new()
    };
    let data = format!("data: {}{more}", data.join(" | "));
    painter.text(pos2(x, y), Align2::LEFT_TOP, data, v.font(12.0), Color32::LIGHT_GRAY);
    let resp = ui.interact(rect, ui.scope_id().with(("folio", id.0)), Sense::click());
    let label = folio_label(id, f);
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    resp.on_hover_ui(|ui| folio_tooltip(ui, id, f, w, c.refs)).clicked()
}

/// Plain references as small cells, each pin's GUP_PIN_COUNTING_BIAS as a
/// wide block.
fn refcount_bar(p: &egui::Painter, at: Pos2, width: f32, h: f32, id: FolioId, refs: &[Reference]) {
    let mine: Vec<&Reference> = refs.iter().filter(|r| r.folio == id && r.refs > 0).collect();
    let bias_pins: usize = mine.iter().filter(|r| r.is_biased_pin()).count();
    let plain: i64 = mine.iter().filter(|r| !r.is_biased_pin()).map(|r| r.refs).sum();
    let block = (width * 0.3).min(70.0);
    let cells_w = (width - bias_pins.min(4) as f32 * (block + 2.0)).max(20.0);
    let shown = plain.clamp(0, 24) as f32;
    let cell = if shown > 0.0 { (cells_w / shown).min(12.0) } else { 0.0 };
    let mut x = at.x;
    for r in mine.iter().filter(|r| !r.is_biased_pin()) {
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
            format!("pin {GUP_PIN_COUNTING_BIAS}"),
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
