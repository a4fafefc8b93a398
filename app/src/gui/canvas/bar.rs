//! A folio's refcount as a stacked bar: one piece per holder, so each unit of
//! the count can be pointed at and named. A pin on a small folio is one
//! compressed block standing for GUP_PIN_COUNTING_BIAS (1024) references
//! (mm/gup.c: try_grab_folio); on a large folio a pin is +1 refcount and +1
//! pincount and is drawn as one unit. The pieces always add up to the
//! refcount the model reports (tested over every micro-step of every lesson).

use egui::{Pos2, Rect, pos2, vec2};
use pinlab_lessons::model::FolioId;
use pinlab_lessons::model::refs::{RefKind, Reference};

/// More holders than this are grouped by kind (a THP with 512 mappings).
pub const MAX_PIECES: usize = 12;
/// The narrowest piece: still big enough to point at.
const MIN_W: f32 = 14.0;
/// The widest a compressed 1024 block gets.
const BIAS_W: f32 = 60.0;
/// Width per reference above MIN_W, at most: one reference stays narrower
/// than a compressed 1024 block, so the bar never suggests otherwise.
const UNIT_W: f32 = 6.0;
const SPACING: f32 = 2.0;

/// One or more references of one kind into one folio.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub kind: RefKind,
    /// Contribution to the refcount.
    pub refs: i64,
    /// Contribution to the pincount (large folios).
    pub pins: i64,
    /// Pins on a small folio: each is the 1024 bias.
    pub biased: bool,
    /// Indexes into the world's reference list.
    pub members: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BarPiece {
    pub rect: Rect,
    pub seg: Segment,
}

/// The segments of folio `id`'s refcount, in the order of `refs`.
pub fn segments(id: FolioId, refs: &[Reference]) -> Vec<Segment> {
    let mine: Vec<usize> = (0..refs.len()).filter(|i| refs[*i].folio == id).collect();
    segments_of(refs, &mine)
}

/// The segments made of `refs[i]` for each `i` in `mine` (one folio's).
pub fn segments_of(refs: &[Reference], mine: &[usize]) -> Vec<Segment> {
    let counted = || {
        mine.iter()
            .map(|i| (*i, &refs[*i]))
            .filter(|(_, r)| r.refs != 0 || r.pins != 0)
    };
    let one = |i: usize, r: &Reference| Segment {
        kind: r.kind,
        refs: r.refs,
        pins: r.pins,
        biased: r.is_biased_pin(),
        members: vec![i],
    };
    if counted().count() <= MAX_PIECES {
        return counted().map(|(i, r)| one(i, r)).collect();
    }
    let mut groups: Vec<Segment> = Vec::new();
    for (i, r) in counted() {
        let key = (r.kind, r.is_biased_pin());
        match groups.iter_mut().find(|g| (g.kind, g.biased) == key) {
            Some(g) => {
                g.refs += r.refs;
                g.pins += r.pins;
                g.members.push(i);
            }
            None => groups.push(one(i, r)),
        }
    }
    groups
}

/// Places the segments in a bar of `width` at `at`.
pub fn pieces(segs: Vec<Segment>, at: Pos2, width: f32, h: f32) -> Vec<BarPiece> {
    let n = segs.len() as f32;
    let n_biased = segs.iter().filter(|s| s.biased).count() as f32;
    let n_plain = n - n_biased;
    let free = width - (n - 1.0).max(0.0) * SPACING;
    let bias_w = if n_biased > 0.0 {
        ((free - n_plain * MIN_W) / n_biased).clamp(MIN_W, BIAS_W)
    } else {
        0.0
    };
    let plain_free = (free - n_biased * bias_w - n_plain * MIN_W).max(0.0);
    let plain_units: i64 = segs.iter().filter(|s| !s.biased).map(|s| s.refs.max(1)).sum();
    let unit = (plain_free / plain_units.max(1) as f32).min(UNIT_W);
    let mut x = at.x;
    segs.into_iter()
        .map(|seg| {
            let w = if seg.biased {
                bias_w
            } else {
                MIN_W + unit * seg.refs.max(1) as f32
            };
            let rect = Rect::from_min_size(pos2(x, at.y), vec2(w, h));
            x += w + SPACING;
            BarPiece { rect, seg }
        })
        .collect()
}

/// The label drawn inside a piece, if any.
pub fn label(seg: &Segment) -> String {
    let n = seg.members.len();
    match (seg.biased, n) {
        (true, 1) => "\u{d7}1024".into(),
        (true, _) => format!("{n}\u{d7}1024"),
        (false, _) if seg.refs > 1 => seg.refs.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::model::refs::all_references;
    use pinlab_lessons::{builtin, run::run_with_sim};

    /// The reference arithmetic on screen adds up to the model's refcount and
    /// pincount, for every folio at every micro-step of every lesson.
    #[test]
    fn the_bar_adds_up_to_the_refcount_everywhere() {
        let mut checked = 0;
        for l in builtin::all().into_iter().flatten() {
            let preset = *l.kernels.last().expect("a kernel");
            let (sim, _) = run_with_sim(&l, preset, None);
            for e in sim.entries() {
                let refs = all_references(&e.world);
                for id in e.world.live_folios().map(|(id, _)| id) {
                    let f = e.world.folio(id);
                    let segs = segments(id, &refs);
                    assert_eq!(
                        segs.iter().map(|s| s.refs).sum::<i64>(),
                        f.refcount,
                        "{}: {id} at {}",
                        l.id,
                        e.step.func
                    );
                    if f.has_pincount() {
                        assert_eq!(segs.iter().map(|s| s.pins).sum::<i64>(), f.pincount);
                    }
                    let placed = pieces(segs, Pos2::ZERO, 284.0, 18.0);
                    assert!(
                        placed
                            .iter()
                            .all(|p| p.rect.right() <= 284.5 && p.rect.width() >= MIN_W - 0.01)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} folio states checked");
    }

    fn r(i: u32, kind: RefKind, refs: i64) -> Reference {
        use pinlab_lessons::model::refs::Referrer;
        Reference {
            from: Referrer::Holder(format!("h{i}")),
            folio: FolioId(1),
            page: 0,
            kind,
            refs,
            pins: 0,
        }
    }

    #[test]
    fn many_holders_are_grouped_by_kind_and_still_add_up() {
        let mut refs: Vec<Reference> = (0..2047).map(|i| r(i, RefKind::Get, 1)).collect();
        refs.push(r(9999, RefKind::Pin, 1024));
        let segs = segments(FolioId(1), &refs);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].members.len(), 2047);
        assert_eq!(segs.iter().map(|s| s.refs).sum::<i64>(), 2047 + 1024);
        assert_eq!(label(&segs[1]), "\u{d7}1024");
        assert_eq!(label(&segs[0]), "2047");
    }
}
