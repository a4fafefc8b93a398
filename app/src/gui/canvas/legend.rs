//! How each kind of reference is drawn (the same style for its arrow and for
//! its piece of the refcount bar), and the legend that says so, kept along
//! the bottom of the canvas pane whatever the zoom and pan: a row for the
//! kinds of arrow on screen, a row for the other marks on screen (the
//! letters in page-table cells, the outlines of cards).

use super::super::theme;
use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, Ui, pos2, vec2};
use pinlab_lessons::model::refs::{RefKind, Reference};

#[derive(Clone, Copy)]
pub struct Style {
    pub color: Color32,
    /// Arrow width at zoom 1.
    pub width: f32,
    pub dashed: bool,
    /// Pins are hatched, so they are told apart without colour.
    pub hatched: bool,
    /// FOLL_GET references are drawn as two lines, so a reference and a
    /// mapping differ by more than their shade of blue.
    pub double: bool,
}

/// A pipe buffer's reference (get_page in splice): brown, the one colour
/// outside the Okabe-Ito set, since each of those already means one thing.
pub const PIPE: Color32 = Color32::from_rgb(170, 110, 60);

pub fn style(kind: RefKind) -> Style {
    let s = |color, width| Style {
        color,
        width,
        dashed: false,
        hatched: false,
        double: false,
    };
    match kind {
        RefKind::Map => s(theme::MAP, 1.5),
        RefKind::PageCache | RefKind::SwapCache => s(theme::CACHE, 2.0),
        RefKind::Get => Style {
            double: true,
            ..s(theme::REF, 1.5)
        },
        RefKind::Pin => Style {
            hatched: true,
            ..s(theme::PIN, 3.5)
        },
        RefKind::Pipe => s(PIPE, 2.5),
        RefKind::List => Style {
            dashed: true,
            ..s(theme::LIST, 1.5)
        },
        RefKind::Kernel => s(theme::PURPLE, 2.0),
        RefKind::Private | RefKind::Reserved => s(theme::GREY, 1.5),
        RefKind::Leaked => Style {
            dashed: true,
            ..s(theme::HAZARD, 1.5)
        },
        RefKind::Isolated => Style {
            dashed: true,
            ..s(theme::GREY, 1.5)
        },
    }
}

/// Kinds in the legend's order.
const ORDER: [RefKind; 11] = [
    RefKind::Map,
    RefKind::PageCache,
    RefKind::Get,
    RefKind::Pin,
    RefKind::List,
    RefKind::Pipe,
    RefKind::Kernel,
    RefKind::Private,
    RefKind::Reserved,
    RefKind::Leaked,
    RefKind::Isolated,
];

/// The kinds among `refs` (those drawn), in legend order.
pub fn kinds<'a>(refs: impl Iterator<Item = &'a Reference>) -> Vec<RefKind> {
    let mut present = ahash::AHashSet::new();
    for r in refs {
        present.insert(if r.kind == RefKind::SwapCache {
            RefKind::PageCache
        } else {
            r.kind
        });
    }
    ORDER.into_iter().filter(|k| present.contains(k)).collect()
}

/// A pin that took nothing (mm/gup.c: try_grab_folio returns early for the
/// zero page from 6.5): dashed, "pretended", so it is not read as a pin.
pub fn pretended_pin() -> Style {
    Style {
        dashed: true,
        hatched: false,
        ..style(RefKind::Pin)
    }
}

/// Whether `r` is a pin that took no reference and no pin.
pub fn is_pretended_pin(r: &Reference) -> bool {
    r.kind == RefKind::Pin && r.refs == 0 && r.pins == 0
}

/// The marks on screen apart from the arrows, each with what it means.
#[derive(Default)]
pub struct Marks {
    /// The letters of the page-table cells on screen, explained.
    pub codes: Vec<&'static str>,
    /// Card outlines on screen: colour and meaning.
    pub outlines: Vec<(Color32, &'static str)>,
    pub pretended_pin: bool,
}

/// What each letter of a page-table cell means (paint::pte_text), in the
/// order they are explained; `text` is a cell's text.
pub fn codes_of(text: &str, out: &mut Vec<&'static str>) {
    let mut add = |c: &'static str| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    match text {
        "." => add(". no entry"),
        "S" => add("S swap entry"),
        "S+x" => add("S+x swap entry, exclusive"),
        _ => {
            for ch in text.chars() {
                match ch {
                    'P' => add("P present"),
                    '0' => add("0 the zero page"),
                    'W' => add("W writable"),
                    'D' => add("D dirty"),
                    'H' => add("H part of a PMD mapping"),
                    _ => {}
                }
            }
        }
    }
}

/// One entry of the legend.
pub enum Item {
    /// A kind of arrow (and bar piece): its style and its name.
    Arrow(Style, &'static str),
    Text(String),
    /// A card outline: its colour and what it means.
    Outline(Color32, &'static str),
}

/// The legend's entries: the kinds of arrow, then the cell letters, then
/// the outlines.
pub fn items(kinds: &[RefKind], marks: &Marks) -> Vec<Item> {
    let mut out: Vec<Item> = kinds.iter().map(|k| Item::Arrow(style(*k), k.noun())).collect();
    if marks.pretended_pin {
        out.push(Item::Arrow(pretended_pin(), "pin that took nothing (zero page, 6.5+)"));
    }
    if !marks.codes.is_empty() {
        out.push(Item::Text(format!("cells: {}", marks.codes.join(" \u{b7} "))));
    }
    out.extend(marks.outlines.iter().map(|(c, what)| Item::Outline(*c, what)));
    out
}

const ROW: f32 = 21.0;
const FONT: f32 = 13.0;

/// Each item's place (x from the left, row) when the items flow in rows
/// `width` wide, and the number of rows.
fn flow(ui: &Ui, width: f32, items: &[Item]) -> (Vec<(f32, usize)>, usize) {
    let font = FontId::proportional(FONT);
    let mut at = Vec::with_capacity(items.len());
    let (mut x, mut row) = (8.0f32, 0usize);
    for it in items {
        let (lead, text) = match it {
            Item::Arrow(_, t) => (30.0, t.to_string()),
            Item::Text(t) => (0.0, t.clone()),
            Item::Outline(_, t) => (26.0, t.to_string()),
        };
        let w = lead + ui.fonts_mut(|f| f.layout_no_wrap(text, font.clone(), Color32::WHITE).size().x);
        if x > 8.0 && x + w > width - 8.0 {
            row += 1;
            x = 8.0;
        }
        at.push((x, row));
        x += w + 16.0;
    }
    (at, if items.is_empty() { 0 } else { row + 1 })
}

/// The height of the strip the items take in a pane `width` wide (points).
pub fn height(ui: &Ui, width: f32, items: &[Item]) -> f32 {
    flow(ui, width, items).1.max(1) as f32 * ROW + 3.0
}

/// The legend along the bottom of `pane`, `h` tall.
pub fn paint(ui: &Ui, pane: Rect, h: f32, items: &[Item]) {
    let p = ui.painter().with_clip_rect(pane);
    let top = pane.bottom() - h;
    p.rect_filled(
        Rect::from_min_max(pos2(pane.left(), top), pane.max),
        0.0,
        ui.visuals().extreme_bg_color.gamma_multiply(0.92),
    );
    let font = FontId::proportional(FONT);
    let fg = ui.visuals().text_color();
    let (at, _) = flow(ui, pane.width(), items);
    for (it, (x, row)) in items.iter().zip(at) {
        let x = pane.left() + x;
        let y = top + row as f32 * ROW + ROW / 2.0 + 1.0;
        match it {
            Item::Arrow(st, text) => {
                sample(&p, pos2(x, y), *st);
                p.text(pos2(x + 30.0, y), Align2::LEFT_CENTER, *text, font.clone(), fg);
            }
            Item::Text(text) => {
                p.text(pos2(x, y), Align2::LEFT_CENTER, text, font.clone(), fg);
            }
            Item::Outline(color, text) => {
                let r = Rect::from_center_size(pos2(x + 10.0, y), vec2(20.0, 13.0));
                p.rect_stroke(r, 3.0, Stroke::new(3.0, *color), egui::StrokeKind::Inside);
                p.text(pos2(x + 26.0, y), Align2::LEFT_CENTER, *text, font.clone(), fg);
            }
        }
    }
}

/// A short arrow in a kind's style.
pub fn sample(p: &egui::Painter, at: Pos2, st: Style) {
    let (a, b) = (at, at + vec2(24.0, 0.0));
    super::paint::line(p, (a, b), st, st.color, 1.0);
    super::paint::arrow_head(p, a, b, st.color, 1.0);
}

/// The marks that the legend explains besides arrows: the letters of the
/// page-table cells `ptes`, the outlines of the cards for which `carded`
/// holds, and pins that took nothing among `refs`.
pub fn marks_of(
    w: &pinlab_lessons::model::World,
    mut ptes: Vec<(pinlab_lessons::model::Pid, u64)>,
    carded: impl Fn(pinlab_lessons::model::FolioId) -> bool,
    refs: &[Reference],
    marks: &super::Marks,
) -> Marks {
    use pinlab_lessons::model::step::ObjRef;
    let mut out = Marks::default();
    ptes.sort();
    ptes.dedup();
    for (pid, vpn) in ptes {
        codes_of(&super::paint::pte_text(w.pte(pid, vpn)).1, &mut out.codes);
    }
    let folios = |set: &ahash::AHashSet<ObjRef>| set.iter().any(|o| matches!(o, ObjRef::Folio(f) if carded(*f)));
    let mut outline = |on: bool, color, what| {
        if on {
            out.outlines.push((color, what));
        }
    };
    outline(folios(&marks.changed), theme::CHANGED, "changed by this step");
    outline(folios(&marks.hazard), theme::HAZARD, "hazard");
    outline(
        marks.focus.iter().any(|f| carded(*f)),
        theme::GREY,
        "double ring: the step's page",
    );
    outline(marks.selected.is_some_and(&carded), Color32::WHITE, "selected");
    outline(
        marks.diff.iter().any(|f| carded(*f)),
        super::super::side_by_side::DIFF,
        "differs from the other pane",
    );
    out.pretended_pin = refs.iter().any(|r| is_pretended_pin(r) && carded(r.folio));
    out
}
