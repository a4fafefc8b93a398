//! What the pointer is on: a piece of a refcount bar, a holder's cell or an
//! arrow. Each names the same references, so pointing at any one lights up
//! the other two (the piece, its arrow and its holder).

use super::layout::{CellKey, Layout};
use egui::Pos2;
use pinlab_lessons::model::FolioId;
use pinlab_lessons::model::refs::Reference;

#[derive(Default)]
pub struct Hot {
    /// Indexes into the world's reference list.
    pub refs: Vec<usize>,
    /// The holder cells of those references.
    pub cells: Vec<CellKey>,
    /// The bar piece under the pointer: its folio and index.
    pub piece: Option<(FolioId, usize)>,
}

fn dist_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t).distance(p)
}

/// `at` is in canvas units; `slack` is how near an arrow counts as on it.
pub fn find(l: &Layout, refs: &[Reference], keys: &[Option<CellKey>], at: Pos2, slack: f32) -> Hot {
    let mut hot = Hot::default();
    'cards: for (id, c) in &l.cards {
        for (i, p) in c.bar.iter().enumerate() {
            if p.rect.expand(1.0).contains(at) {
                hot.refs = p.seg.members.clone();
                hot.piece = Some((*id, i));
                break 'cards;
            }
        }
    }
    if hot.refs.is_empty()
        && let Some((k, _)) = l.cells.iter().find(|(_, r)| r.contains(at))
    {
        hot.refs = (0..refs.len()).filter(|i| keys[*i].as_ref() == Some(k)).collect();
        hot.cells.push(k.clone());
    }
    if hot.refs.is_empty() && hot.cells.is_empty() {
        let mut best: Option<(f32, usize)> = None;
        for (i, r) in refs.iter().enumerate() {
            let (Some(k), Some(card)) = (&keys[i], l.card(r.folio)) else {
                continue;
            };
            let Some(cell) = l.cells.get(k) else { continue };
            let path = l.path(cell, card.members[0]);
            let d = path
                .windows(2)
                .map(|s| dist_to_segment(at, s[0], s[1]))
                .fold(f32::INFINITY, f32::min);
            if d <= slack && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, i));
            }
        }
        hot.refs.extend(best.map(|(_, i)| i));
    }
    for i in &hot.refs {
        if let Some(k) = &keys[*i]
            && !hot.cells.contains(k)
        {
            hot.cells.push(k.clone());
        }
    }
    hot
}
