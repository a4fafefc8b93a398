//! How each kind of reference is drawn (the same style for its arrow and for
//! its piece of the refcount bar), and the legend that says so, kept in a
//! corner of the canvas pane whatever the zoom and pan.

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
}

pub fn style(kind: RefKind) -> Style {
    let s = |color, width| Style {
        color,
        width,
        dashed: false,
        hatched: false,
    };
    match kind {
        RefKind::Map => s(theme::MAP, 1.5),
        RefKind::PageCache | RefKind::SwapCache => s(theme::CACHE, 2.0),
        RefKind::Get => s(theme::REF, 2.0),
        RefKind::Pin => Style {
            hatched: true,
            ..s(theme::PIN, 3.5)
        },
        RefKind::Pipe => s(theme::SKY.gamma_multiply(0.7), 2.0),
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

/// Height of the legend strip, in points.
pub const HEIGHT: f32 = 24.0;

/// The legend along the bottom of `pane`.
pub fn paint(ui: &Ui, pane: Rect, kinds: &[RefKind]) {
    let p = ui.painter().with_clip_rect(pane);
    let top = pane.bottom() - HEIGHT;
    p.rect_filled(
        Rect::from_min_max(pos2(pane.left(), top), pane.max),
        0.0,
        ui.visuals().extreme_bg_color.gamma_multiply(0.92),
    );
    let font = FontId::proportional(13.0);
    let fg = ui.visuals().text_color();
    let mut x = pane.left() + 8.0;
    let y = top + HEIGHT / 2.0;
    for k in kinds {
        let st = style(*k);
        sample(&p, pos2(x, y), st);
        let r = p.text(pos2(x + 30.0, y), Align2::LEFT_CENTER, k.noun(), font.clone(), fg);
        x = r.right() + 16.0;
    }
}

/// A short arrow in a kind's style.
pub fn sample(p: &egui::Painter, at: Pos2, st: Style) {
    let (a, b) = (at, at + vec2(24.0, 0.0));
    let stroke = Stroke::new(st.width, st.color);
    if st.dashed {
        p.extend(egui::Shape::dashed_line(&[a, b], stroke, 5.0, 3.0));
    } else {
        p.line_segment([a, b], stroke);
    }
    super::paint::arrow_head(p, a, b, st.color, 1.0);
}
