//! Motion between two micro-steps, so the eye can follow what changed: a new
//! reference's arrow grows from its holder, a dropped one shrinks back into
//! it, counts tick from the old value to the new, a new folio fades in (a COW
//! copy appears while the PTE's arrow leaves the original for it). Driven by
//! the app's clock through `Anim::t`; stepping back runs the same motion from
//! the later world, so it plays in reverse.

use super::Anim;
use super::layout::{CellKey, Layout};
use super::legend;
use super::paint::arrow_head;
use super::view::View;
use ahash::AHashSet as HashSet;
use egui::{Painter, Stroke};
use pinlab_lessons::model::refs::{RefKind, Reference, Referrer, all_references};
use pinlab_lessons::model::{Folio, FolioId, World};

/// What makes two references the same across the transition.
fn ident(r: &Reference) -> (FolioId, u16, RefKind, &Referrer) {
    (r.folio, r.page, r.kind, &r.from)
}

/// Indexes of `refs` sorted by identity.
fn sorted(refs: &[Reference]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..refs.len()).collect();
    v.sort_by(|a, b| ident(&refs[*a]).cmp(&ident(&refs[*b])));
    v
}

pub struct Motion<'a> {
    from: &'a World,
    /// Eased progress, 0 to 1.
    t: f32,
    /// Indexes of references that are new in this transition.
    new: HashSet<usize>,
    /// References that are gone, with the cell they started from.
    gone: Vec<(Reference, Option<CellKey>)>,
    /// Folios shown before (with a reference into them).
    shown_before: HashSet<FolioId>,
}

impl<'a> Motion<'a> {
    pub fn new(a: Anim<'a>, now: &[Reference]) -> Motion<'a> {
        let before = all_references(a.from);
        let keys = super::arrange::cell_keys(a.from, &before);
        // Merge the two lists in identity order: what only `now` has is new,
        // what only `before` had is gone (duplicates pair off one by one).
        let (sb, sn) = (sorted(&before), sorted(now));
        let (mut i, mut j) = (0, 0);
        let mut new = HashSet::new();
        let mut gone = Vec::new();
        while i < sb.len() || j < sn.len() {
            let order = match (sb.get(i), sn.get(j)) {
                (Some(x), Some(y)) => ident(&before[*x]).cmp(&ident(&now[*y])),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Equal => (i, j) = (i + 1, j + 1),
                std::cmp::Ordering::Less => {
                    gone.push((before[sb[i]].clone(), keys[sb[i]].clone()));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    new.insert(sn[j]);
                    j += 1;
                }
            }
        }
        let shown_before = before.iter().map(|r| r.folio).collect();
        // Smoothstep: starts and ends gently.
        let t = a.t.clamp(0.0, 1.0);
        Motion {
            from: a.from,
            t: t * t * (3.0 - 2.0 * t),
            new,
            gone,
            shown_before,
        }
    }

    /// Eased progress of the transition, 0 to 1.
    pub fn t(&self) -> f32 {
        self.t
    }

    /// How much of reference `i`'s arrow is drawn.
    pub fn growth(&self, i: usize) -> f32 {
        if self.new.contains(&i) { self.t } else { 1.0 }
    }

    /// Opacity of a folio's card: a folio nothing referenced before fades in.
    pub fn fade_in(&self, id: FolioId) -> f32 {
        if self.shown_before.contains(&id) { 1.0 } else { self.t }
    }

    /// A count on its way from its old value to its new one.
    pub fn count(&self, id: FolioId, now: i64, of: impl Fn(&Folio) -> i64) -> i64 {
        match self.from.folios.get(id.0 as usize) {
            Some(f) => {
                let old = of(f) as f64;
                (old + (now as f64 - old) * self.t as f64).round() as i64
            }
            None => now,
        }
    }

    /// Arrows of dropped references, shrinking back into their holder, where
    /// both ends are still on the canvas.
    pub fn retracting(&self, p: &Painter, v: &View, l: &Layout) {
        for (r, k) in &self.gone {
            let (Some(cell), Some(card)) = (k.as_ref().and_then(|k| l.cells.get(k)), l.card(r.folio)) else {
                continue;
            };
            let path: Vec<egui::Pos2> = l.path(cell, card.members[0]).iter().map(|q| v.t(*q)).collect();
            let path = super::paint::partial(&path, 1.0 - self.t);
            let st = legend::style(r.kind);
            let color = st.color.gamma_multiply(1.0 - self.t);
            p.add(egui::Shape::line(path.clone(), Stroke::new(st.width * v.zoom, color)));
            let n = path.len();
            if n >= 2 {
                arrow_head(p, path[n - 2], path[n - 1], color, v.zoom.max(0.6));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::{builtin, run::run_with_sim};

    /// Across fork-cow, the write fault that breaks COW both grows an arrow
    /// (the PTE to its new copy) and retracts one (the PTE from the shared
    /// original), and the copy fades in; counts tick halfway at t = 0.5.
    #[test]
    fn a_cow_break_grows_one_arrow_retracts_another_and_fades_the_copy_in() {
        let l = builtin::all()
            .into_iter()
            .flatten()
            .find(|l| l.id == "fork-cow")
            .unwrap();
        let (sim, _) = run_with_sim(&l, *l.kernels.last().unwrap(), None);
        let mut seen = false;
        for pair in sim.entries().windows(2) {
            let (a, b) = (&pair[0].world, &pair[1].world);
            let now = all_references(b);
            let m = Motion::new(Anim { from: a, t: 0.5 }, &now);
            let grows = now
                .iter()
                .enumerate()
                .any(|(i, r)| r.kind == RefKind::Map && m.growth(i) < 1.0 && m.fade_in(r.folio) < 1.0);
            let retracts = m.gone.iter().any(|(r, _)| r.kind == RefKind::Map);
            if grows && retracts {
                seen = true;
                let copy = now.iter().find(|r| m.fade_in(r.folio) < 1.0).unwrap().folio;
                assert_eq!(m.fade_in(copy), 0.5);
            }
        }
        assert!(seen, "no COW break found");
        let (a, b) = (&sim.entries()[0].world, &sim.entries()[sim.entries().len() - 1].world);
        let m = Motion::new(Anim { from: a, t: 0.5 }, &all_references(b));
        let id = FolioId(0);
        let (old, new) = (a.folio(id).refcount, b.folio(id).refcount);
        let mid = m.count(id, new, |f| f.refcount);
        assert!(mid >= old.min(new) && mid <= old.max(new));
    }
}
