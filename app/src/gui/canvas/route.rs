//! Arrows that go around cards. An arrow is a straight line from its cell to
//! its card when that line crosses no other card (always so in columns: the
//! line ends at the near edge of the middle column). In bands whose middle
//! row wraps, the straight line to a card in a far row would cross the cards
//! of the rows between, and a student would read the arrow as pointing at
//! the first card it enters. Such an arrow leaves its cell into the gap
//! between its band and the folios, runs along that gap to a channel beside
//! the cards (the gap between two cards, or outside the row), follows it to
//! the gap before its card's row, and enters its card from there.

use super::layout::Layout;
use super::paint::ends;
use egui::{Pos2, Rect, pos2};
use pinlab_lessons::model::FolioId;

/// Where a band meets the folios: half of arrange's BAND_GAP.
const BAND_CHANNEL: f32 = 15.0;

/// The key of a route: the cell's corner and the card's first folio.
pub type RouteKey = (u32, u32, FolioId);

pub fn key(cell: &Rect, card: FolioId) -> RouteKey {
    (cell.min.x.to_bits(), cell.min.y.to_bits(), card)
}

/// Whether segment a-b enters `r`.
fn enters(a: Pos2, b: Pos2, r: Rect) -> bool {
    super::paint::clip(a, b, r).is_some()
}

fn clear(path: &[Pos2], others: &[Rect]) -> bool {
    path.windows(2)
        .all(|s| others.iter().all(|r| !enters(s[0], s[1], r.shrink(2.0))))
}

fn length(path: &[Pos2]) -> f32 {
    path.windows(2).map(|s| s[0].distance(s[1])).sum()
}

/// The path (canvas units, at least two points) of the arrow from `cell` to
/// card `to` in `l`; a routed arrow keeps `lane` units beside the channel's
/// middle, so arrows that share a channel run side by side.
pub fn route(l: &Layout, cell: Rect, to: FolioId, lane: f32) -> Vec<Pos2> {
    let Some(card) = l.cards.get(&to) else {
        return vec![cell.center(), cell.center()];
    };
    let target = card.rect;
    let (a, b) = ends(cell, target, l.sideways);
    let others: Vec<Rect> = l
        .cards
        .iter()
        .filter(|(id, _)| **id != to)
        .map(|(_, c)| c.rect)
        .collect();
    if clear(&[a, b], &others) {
        return vec![a, b];
    }
    let down = cell.bottom() <= target.top();
    let up = cell.top() >= target.bottom();
    if !down && !up {
        return vec![a, b];
    }
    // The gap between the cell's band and the folios, and the gap before
    // the card's row.
    let all = l.cards.values().map(|c| c.rect);
    let (y1, y2, entry) = if down {
        let top = all.map(|r| r.top()).fold(f32::INFINITY, f32::min);
        (
            top - BAND_CHANNEL,
            target.top() - half_row_gap(l, target, true),
            target.top(),
        )
    } else {
        let bottom = all.map(|r| r.bottom()).fold(f32::NEG_INFINITY, f32::max);
        (
            bottom + BAND_CHANNEL,
            target.bottom() + half_row_gap(l, target, false),
            target.bottom(),
        )
    };
    let start = if down { cell.center_bottom() } else { cell.center_top() };
    // Channels: beside every card (the middle of the gap to its neighbour).
    let mut xs: Vec<f32> = others
        .iter()
        .flat_map(|r| [r.left() - 6.0, r.right() + 6.0])
        .chain([target.left() - 6.0, target.right() + 6.0])
        .collect();
    xs.sort_by(f32::total_cmp);
    xs.dedup();
    let m = 12.0;
    let mut best: Option<Vec<Pos2>> = None;
    let (y1, y2) = if down {
        (y1 + lane, y2 + lane / 2.0)
    } else {
        (y1 - lane, y2 - lane / 2.0)
    };
    for cx in xs {
        let cx = cx + lane;
        let tx = cx.clamp(target.left() + m, target.right() - m);
        let mut path = vec![
            start,
            pos2(start.x, y1),
            pos2(cx, y1),
            pos2(cx, y2),
            pos2(tx, y2),
            pos2(tx, entry),
        ];
        path.dedup_by(|q, p| q.distance(*p) < 0.01);
        if clear(&path, &others) && best.as_ref().is_none_or(|p| length(&path) < length(p)) {
            best = Some(path);
        }
    }
    best.unwrap_or_else(|| vec![a, b])
}

/// Half the gap between `target`'s row and the row before it (above when
/// `above`), where a routed arrow turns towards its card.
fn half_row_gap(l: &Layout, target: Rect, above: bool) -> f32 {
    let gap = l
        .cards
        .values()
        .map(|c| c.rect)
        .filter_map(|r| {
            let g = if above {
                target.top() - r.bottom()
            } else {
                r.top() - target.bottom()
            };
            (g > 0.0).then_some(g)
        })
        .fold(f32::INFINITY, f32::min);
    if gap.is_finite() { gap / 2.0 } else { BAND_CHANNEL }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::canvas::layout::CardPlace;
    use egui::vec2;

    fn card(x: f32, y: f32) -> CardPlace {
        CardPlace {
            rect: Rect::from_min_size(pos2(x, y), vec2(280.0, 100.0)),
            bar: Vec::new(),
            members: Vec::new(),
            deltas: Vec::new(),
        }
    }

    /// Two cards in a row and one below: the arrow from above to the lower
    /// card goes round the upper ones instead of through them, and the
    /// arrows to the upper ones stay straight.
    #[test]
    fn an_arrow_to_a_far_row_goes_between_the_cards_of_the_near_row() {
        let mut l = Layout::default();
        l.cards.insert(FolioId(1), card(0.0, 100.0));
        l.cards.insert(FolioId(2), card(292.0, 100.0));
        l.cards.insert(FolioId(3), card(146.0, 224.0));
        let cell = Rect::from_min_size(pos2(280.0, 40.0), vec2(42.0, 30.0));
        let p = route(&l, cell, FolioId(3), 0.0);
        assert!(p.len() > 2, "routed: {p:?}");
        let near: Vec<Rect> = [1, 2].map(|i| l.cards[&FolioId(i)].rect).to_vec();
        assert!(clear(&p, &near), "{p:?}");
        assert_eq!(p.last().map(|q| q.y), Some(224.0), "it enters its card from the top");
        assert_eq!(route(&l, cell, FolioId(1), 0.0).len(), 2);
        // A second arrow in the same channel runs beside the first.
        let q = route(&l, cell, FolioId(3), 4.0);
        assert!(clear(&q, &near) && q != p, "{q:?}");
    }
}
