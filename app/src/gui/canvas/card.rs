//! A folio's card: kind, counts (each that moved says what it was), the
//! refcount bar, flags as chips, data, and what moved and why.

use super::super::theme;
use super::Marks;
use super::bar::{self, BarPiece};
use super::delta::Delta;
use super::layout::{BLOCK_W, BODY, CardPlace, HEAD, Layout};
use super::legend;
use super::view::View;
use egui::{Align2, Color32, Pos2, Rect, RichText, Sense, Stroke, StrokeKind, Ui, pos2, vec2};
use pinlab_lessons::model::folio::{FolioKind, LruList};
use pinlab_lessons::model::refs::Reference;
use pinlab_lessons::model::step::ObjRef;
use pinlab_lessons::model::{Folio, FolioId, World};

const RC_Y: f32 = 24.0;
const MC_Y: f32 = 42.0;
const BAR_Y: f32 = 61.0;
const BAR_H: f32 = 18.0;
const CHIPS_Y: f32 = 85.0;
const CHIP_ROW: f32 = 23.0;
const LINE: f32 = 18.0;
const PAD: f32 = 7.0;
/// Characters of a count line that fit in a card at 13 units.
const LINE_CHARS: usize = 38;

pub fn kind_name(f: &Folio, w: &World) -> String {
    match f.kind {
        FolioKind::Zero => "zero page".into(),
        FolioKind::Anon if f.order > 0 => format!("anon, order {}", f.order),
        FolioKind::Anon => "anon".into(),
        FolioKind::Kernel => "kernel page".into(),
        FolioKind::File { file, index } => format!("{}[{index}]", w.file(file).name),
    }
}

/// The flags a folio card shows as coloured chips (each also a word).
pub fn chips(f: &Folio) -> Vec<(&'static str, Color32)> {
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

/// A chip's width at zoom 1, a little over what it measures, so the rows the
/// layout reserves always hold the painted chips.
fn chip_w(name: &str) -> f32 {
    name.chars().count() as f32 * 7.4 + 12.0
}

/// Rows of chips in a card's width.
fn chip_rows(chips: &[(&str, Color32)]) -> usize {
    let mut rows = 0;
    let mut x = f32::INFINITY;
    for (c, _) in chips {
        if x + chip_w(c) > BLOCK_W - 2.0 * PAD {
            rows += 1;
            x = 0.0;
        }
        x += chip_w(c) + 4.0;
    }
    rows
}

/// One card at its own origin, for `members` (one folio, or a group drawn as
/// its first); `mine` indexes the first one's references.
pub fn block(w: &World, members: Vec<FolioId>, refs: &[Reference], mine: &[usize], deltas: Vec<Delta>) -> Layout {
    let id = members[0];
    let f = w.folio(id);
    let chip_h = chip_rows(&chips(f)) as f32 * CHIP_ROW;
    // The height does not depend on what moved: cards keep their places.
    let h = CHIPS_Y + chip_h + LINE + PAD;
    let rect = Rect::from_min_size(Pos2::ZERO, vec2(BLOCK_W, h));
    let bar = bar::pieces(
        bar::segments_of(refs, mine),
        pos2(PAD, BAR_Y),
        BLOCK_W - 2.0 * PAD,
        BAR_H,
    );
    let mut l = Layout::default();
    for m in &members[1..] {
        l.card_of.insert(*m, id);
    }
    l.cards.insert(
        id,
        CardPlace {
            rect,
            bar,
            members,
            deltas,
        },
    );
    l.size = rect.size();
    l
}

/// The counts lines of a card, and whether any count moved in this
/// micro-step. The refcount says by how much and whose reference it was
/// ("refcount 2049  +1024 pin 'xtr'"); the others what they were.
fn counts_lines(f: &Folio, before: Option<&Folio>, deltas: &[Delta]) -> (String, String, bool) {
    let moved = |now: i64, then: Option<i64>| match then {
        Some(t) if t != now => format!("{now} (was {t})"),
        _ => now.to_string(),
    };
    let moved_any = before.is_some_and(|b| {
        b.refcount != f.refcount || b.total_mapcount() != f.total_mapcount() || b.pincount != f.pincount
    });
    let rc = match (before, deltas.first()) {
        (Some(b), Some(d)) if b.refcount != f.refcount => {
            let mut s = format!("{}  {}", f.refcount, d.brief());
            if deltas.len() > 1 {
                s.push_str(&format!(" +{} more", deltas.len() - 1));
            }
            if s.chars().count() + 9 > LINE_CHARS {
                s = s.chars().take(LINE_CHARS - 10).collect::<String>() + "\u{2026}";
            }
            s
        }
        _ => moved(f.refcount, before.map(|b| b.refcount)),
    };
    let mc = moved(f.total_mapcount() as i64, before.map(|b| b.total_mapcount() as i64));
    let second = if f.has_pincount() {
        let pc = moved(f.pincount, before.map(|b| b.pincount));
        format!("mapcount {mc}   pincount {pc}")
    } else {
        format!("mapcount {mc}")
    };
    (format!("refcount {rc}"), second, moved_any)
}

pub fn ring(v: &View, marks: &Marks, id: FolioId) -> Stroke {
    let z = v.zoom;
    if marks.hazard.contains(&ObjRef::Folio(id)) {
        Stroke::new(4.0 * z, theme::HAZARD)
    } else if marks.changed.contains(&ObjRef::Folio(id)) {
        Stroke::new(3.0 * z, theme::CHANGED)
    } else if marks.selected == Some(id) {
        Stroke::new(3.0 * z, Color32::WHITE)
    } else if marks.diff.contains(&id) {
        Stroke::new(4.0 * z, super::super::side_by_side::DIFF)
    } else if marks.focus.contains(&id) {
        Stroke::new(2.0 * z, v.fg())
    } else {
        Stroke::new(1.0 * z, Color32::GRAY)
    }
}

fn fill(f: &Folio) -> Color32 {
    if f.freed {
        return Color32::from_rgb(70, 30, 30);
    }
    match f.kind {
        FolioKind::Zero => Color32::from_gray(70),
        FolioKind::Anon => Color32::from_rgb(36, 52, 72),
        FolioKind::File { .. } => Color32::from_rgb(30, 62, 50),
        FolioKind::Kernel => Color32::from_rgb(60, 50, 70),
    }
}

/// What a card is drawn from.
#[derive(Clone, Copy)]
pub struct Card<'a> {
    pub w: &'a World,
    pub prev: Option<&'a World>,
    pub marks: &'a Marks,
    pub refs: &'a [Reference],
    /// References highlighted by the pointer (their pieces get a ring).
    pub hot: &'a [usize],
    /// The bar piece under the pointer, if it is on this card.
    pub hot_piece: Option<&'a BarPiece>,
    /// The transition under way, if any.
    pub motion: Option<&'a super::motion::Motion<'a>>,
}

/// Paints one card; returns whether it was clicked.
pub fn paint(ui: &mut Ui, p: &egui::Painter, v: &View, c: Card, id: FolioId, place: &CardPlace) -> bool {
    let (w, z) = (c.w, v.zoom);
    let f = w.folio(id);
    let mut p = p.clone();
    let mut shown;
    let f = match c.motion {
        Some(m) => {
            // Counts tick from their old values; a new folio fades in.
            p.multiply_opacity(m.fade_in(id));
            shown = f.clone();
            shown.refcount = m.count(id, f.refcount, |x| x.refcount);
            shown.pincount = m.count(id, f.pincount, |x| x.pincount);
            &shown
        }
        None => f,
    };
    let p = &p;
    let rect = v.tr(place.rect);
    p.rect_filled(rect, 6.0 * z, fill(f));
    p.rect_stroke(rect, 6.0 * z, ring(v, c.marks, id), StrokeKind::Inside);
    if c.marks.focus.contains(&id) {
        // The lesson's page: a second ring outside, whatever else marks it.
        p.rect_stroke(
            rect.expand(3.0 * z),
            8.0 * z,
            Stroke::new(2.0 * z, v.fg()),
            StrokeKind::Outside,
        );
    }
    let at = |y: f32| v.t(place.rect.min + vec2(PAD, y));
    let title = match place.members.last() {
        // A group: "folio#5..#516 ×512, each:".
        Some(last) if place.members.len() > 1 => format!(
            "{id}..#{}  \u{d7}{}, each: {}",
            last.0,
            place.members.len(),
            kind_name(f, w)
        ),
        _ => format!("{id}  {}{}", kind_name(f, w), if f.freed { "  FREED" } else { "" }),
    };
    p.text(at(6.0), Align2::LEFT_TOP, title, v.font(HEAD), Color32::WHITE);
    let before = c.prev.and_then(|p| p.folios.get(id.0 as usize));
    if c.prev.is_some() && before.is_none() {
        let ne = v.t(pos2(place.rect.right() - PAD, place.rect.top() + 6.0));
        p.text(ne, Align2::RIGHT_TOP, "NEW", v.font(BODY), theme::CHANGED);
    }
    let (rc, mc, moved) = counts_lines(f, before, &place.deltas);
    let color = if moved { theme::CHANGED } else { Color32::WHITE };
    p.text(at(RC_Y), Align2::LEFT_TOP, rc, v.font(BODY), color);
    p.text(at(MC_Y), Align2::LEFT_TOP, mc, v.font(BODY), color);
    for piece in &place.bar {
        paint_piece(p, v, piece, c.hot);
    }
    paint_chips(p, v, place, f);
    let y = place.rect.height() - PAD - LINE;
    let data = data_line(w, f, place);
    p.text(at(y), Align2::LEFT_TOP, data, v.font(BODY), Color32::LIGHT_GRAY);
    let resp = ui.interact(rect, ui.scope_id().with(("folio", id.0)), Sense::click());
    let label = if place.members.len() > 1 {
        format!("{} alike folios from {id}: {}", place.members.len(), folio_label(id, f))
    } else {
        folio_label(id, f)
    };
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    match c.hot_piece {
        Some(piece) => resp.on_hover_ui(|ui| piece_tooltip(ui, piece, w, c.refs)),
        None => resp.on_hover_ui(|ui| folio_tooltip(ui, id, f, w, c.refs, &place.deltas)),
    }
    .clicked()
}

/// The flags as chips, wrapped to the rows the layout reserved.
fn paint_chips(p: &egui::Painter, v: &View, place: &CardPlace, f: &Folio) {
    let z = v.zoom;
    let mut y = CHIPS_Y;
    let mut x = f32::INFINITY;
    for (name, col) in chips(f) {
        if x + chip_w(name) > BLOCK_W - 2.0 * PAD {
            y += if x.is_finite() { CHIP_ROW } else { 0.0 };
            x = 0.0;
        }
        let g = p.layout_no_wrap(name.to_string(), v.font(BODY), Color32::BLACK);
        let cr = Rect::from_min_size(v.t(place.rect.min + vec2(PAD + x, y)), g.size() + vec2(8.0, 4.0) * z);
        p.rect_filled(cr, 4.0 * z, col);
        p.galley(cr.min + vec2(4.0, 2.0) * z, g, Color32::BLACK);
        x += chip_w(name) + 4.0;
    }
}

/// "data: A | B": the tags of the first pages; for a group, whether its
/// folios' data differ.
fn data_line(w: &World, f: &Folio, place: &CardPlace) -> String {
    let data: Vec<&str> = f.pages.iter().take(6).map(|p| p.data.tag()).collect();
    let more = if f.nr_pages() > 6 {
        format!(" ... ({} pages)", f.nr_pages())
    } else {
        String::new()
    };
    if place.members.len() > 1 {
        let tags = |m: &FolioId| w.folio(*m).pages.iter().map(|p| p.data.tag()).collect::<Vec<_>>();
        let first = tags(&place.members[0]);
        if place.members.iter().any(|m| tags(m) != first) {
            return format!("data: differs (first: {})", first.first().copied().unwrap_or("-"));
        }
    }
    format!("data: {}{more}", data.join(" | "))
}

fn paint_piece(p: &egui::Painter, v: &View, piece: &BarPiece, hot: &[usize]) {
    let st = legend::style(piece.seg.kind);
    let r = v.tr(piece.rect);
    p.rect_filled(r, 2.0 * v.zoom, st.color);
    if st.hatched {
        let mut hx = r.left();
        while hx < r.right() {
            let top = pos2((hx + r.height()).min(r.right()), r.top());
            p.line_segment(
                [pos2(hx, r.bottom()), top],
                Stroke::new(1.0, Color32::BLACK.gamma_multiply(0.45)),
            );
            hx += 7.0 * v.zoom;
        }
    }
    if piece.seg.biased {
        // The break mark: this block stands for 1024 units, not drawn to scale.
        let bx = r.left() + 8.0 * v.zoom;
        for dx in [0.0, 4.0 * v.zoom] {
            p.line_segment(
                [pos2(bx + dx, r.bottom()), pos2(bx + dx + 5.0 * v.zoom, r.top())],
                Stroke::new(2.0 * v.zoom, Color32::WHITE),
            );
        }
    }
    let label = bar::label(&piece.seg);
    if !label.is_empty() {
        let g = p.layout_no_wrap(label, v.font(BODY), Color32::BLACK);
        if g.size().x + 14.0 * v.zoom <= r.width() || (!piece.seg.biased && g.size().x + 4.0 <= r.width()) {
            let at = if piece.seg.biased {
                pos2(r.right() - g.size().x - 3.0 * v.zoom, r.center().y - g.size().y / 2.0)
            } else {
                r.center() - g.size() / 2.0
            };
            p.galley(at, g, Color32::BLACK);
        }
    }
    if piece.seg.members.iter().any(|m| hot.contains(m)) {
        p.rect_stroke(
            r.expand(2.0),
            3.0,
            Stroke::new(2.5, Color32::WHITE),
            StrokeKind::Outside,
        );
    }
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

/// Who a piece of the bar stands for.
pub fn piece_text(piece: &BarPiece, w: &World, refs: &[Reference]) -> String {
    let s = &piece.seg;
    let mut t = format!("{:+} refcount", s.refs);
    if s.pins != 0 {
        t.push_str(&format!(", {:+} pincount", s.pins));
    }
    t.push_str(&format!(": {}", s.kind.noun()));
    if s.biased {
        t.push_str(" (each pin on a small folio counts GUP_PIN_COUNTING_BIAS = 1024)");
    }
    let names: Vec<String> = s.members.iter().take(6).map(|m| refs[*m].from.describe(w)).collect();
    t.push_str(&format!("\nfrom {}", names.join(", ")));
    if s.members.len() > 6 {
        t.push_str(&format!(" and {} more", s.members.len() - 6));
    }
    t
}

fn piece_tooltip(ui: &mut Ui, piece: &BarPiece, w: &World, refs: &[Reference]) {
    ui.label(piece_text(piece, w, refs));
}

fn folio_tooltip(ui: &mut Ui, id: FolioId, f: &Folio, w: &World, refs: &[Reference], deltas: &[Delta]) {
    ui.strong(format!("{id}: {}", kind_name(f, w)));
    for d in deltas {
        ui.label(RichText::new(d.line()).color(theme::CHANGED));
    }
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
    ui.label(format!(
        "{n} reference(s); point at a piece of the bar to name its holder; click for the list"
    ));
}
