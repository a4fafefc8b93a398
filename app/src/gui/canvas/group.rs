//! The compact view of big worlds: folios that look alike (same kind, order,
//! counts, flags and the same kinds of references) and sit next to each other
//! are drawn as one card with a count, so a 512-folio world stays readable
//! and fast. Folios the step created or changed fold too, with each other
//! (a THP's fork makes "512 new copies, refcount 1 each" in one card), since
//! that is when there are most of them; a hazard, a focus of the lesson and
//! the selection are never folded into a group.

use super::Marks;
use ahash::AHashMap as HashMap;
use pinlab_lessons::model::refs::{RefKind, Reference};
use pinlab_lessons::model::step::ObjRef;
use pinlab_lessons::model::{FolioId, World};

/// Fewer alike folios than this are drawn one by one.
pub const MIN_GROUP: usize = 4;

/// What a card shows of a folio, apart from its name and data.
#[derive(PartialEq, Eq)]
struct Look {
    kind: std::mem::Discriminant<pinlab_lessons::model::folio::FolioKind>,
    order: u8,
    counts: (i64, i64, i32),
    freed: bool,
    /// Changed in this micro-step, or different from the other pane.
    marked: (bool, bool),
    chips: Vec<&'static str>,
    refs: Vec<(RefKind, i64, i64)>,
}

fn look(w: &World, id: FolioId, refs: &[Reference], mine: &[usize], marks: &Marks) -> Look {
    let f = w.folio(id);
    let mut r: Vec<(RefKind, i64, i64)> = mine
        .iter()
        .map(|i| (refs[*i].kind, refs[*i].refs, refs[*i].pins))
        .collect();
    r.sort();
    Look {
        kind: std::mem::discriminant(&f.kind),
        order: f.order,
        counts: (f.refcount, f.pincount, f.total_mapcount()),
        freed: f.freed,
        marked: (marks.changed.contains(&ObjRef::Folio(id)), marks.diff.contains(&id)),
        chips: super::card::chips(f).into_iter().map(|(c, _)| c).collect(),
        refs: r,
    }
}

/// Drawn on its own card whatever its neighbours look like.
fn apart(marks: &Marks, id: FolioId) -> bool {
    marks.hazard.contains(&ObjRef::Folio(id)) || marks.focus.contains(&id) || marks.selected == Some(id)
}

/// The folios to draw, in id order, as groups (most of one).
pub fn folios(
    w: &World,
    ids: &[FolioId],
    refs: &[Reference],
    by_folio: &HashMap<FolioId, Vec<usize>>,
    marks: &Marks,
) -> Vec<Vec<FolioId>> {
    let none = Vec::new();
    let mut out: Vec<Vec<FolioId>> = Vec::new();
    let mut run: Vec<FolioId> = Vec::new();
    let mut run_look: Option<Look> = None;
    let flush = |run: &mut Vec<FolioId>, out: &mut Vec<Vec<FolioId>>| {
        if run.len() >= MIN_GROUP {
            out.push(std::mem::take(run));
        } else {
            out.extend(run.drain(..).map(|id| vec![id]));
        }
    };
    for id in ids {
        if apart(marks, *id) {
            flush(&mut run, &mut out);
            run_look = None;
            out.push(vec![*id]);
            continue;
        }
        let l = look(w, *id, refs, by_folio.get(id).unwrap_or(&none), marks);
        if run_look.as_ref() != Some(&l) {
            flush(&mut run, &mut out);
            run_look = Some(l);
        }
        run.push(*id);
    }
    flush(&mut run, &mut out);
    out
}
