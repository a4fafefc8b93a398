//! "+1024 pin 'xtr'": which references into a folio came or went in this
//! micro-step, by how much, and whose they are. Derived from the reference
//! lists before and after, so it names exactly what the model changed.

use ahash::AHashMap as HashMap;
use pinlab_lessons::model::refs::{RefKind, Reference, Referrer};
use pinlab_lessons::model::{FolioId, World};

/// More changes than this are summed by kind (a THP's 512 mappings).
const MAX_CHANGES: usize = 4;

#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    /// Change of the refcount.
    pub refs: i64,
    /// Change of the pincount (large folios).
    pub pins: i64,
    pub kind: RefKind,
    /// `Referrer::describe`, or "512 holders" when summed.
    pub who: String,
    /// A short name for the card: `'xtr'`, `child:buf[0]`, `f[2]`.
    pub short: String,
}

impl Delta {
    /// The whole sentence (tooltip, tests).
    pub fn line(&self) -> String {
        let mut s = format!("{:+} {}", self.refs, self.kind.noun());
        if self.pins != 0 {
            s.push_str(&format!(" ({:+} pincount)", self.pins));
        }
        format!("{s}: {}", self.who)
    }

    /// What fits next to a count on the card.
    pub fn brief(&self) -> String {
        let kind = match self.kind {
            RefKind::Map => "map",
            RefKind::PageCache | RefKind::SwapCache => "cache",
            RefKind::Get => "ref",
            RefKind::Pin => "pin",
            RefKind::Pipe => "pipe",
            RefKind::List => "list",
            RefKind::Kernel => "kbuf",
            RefKind::Private => "buffers",
            RefKind::Reserved => "reserved",
            RefKind::Leaked => "leaked",
            RefKind::Isolated => "reclaim",
        };
        format!("{:+} {kind} {}", self.refs, self.short)
    }
}

fn short(r: &Referrer, w: &World) -> String {
    match r {
        Referrer::Pte(p, v) | Referrer::Pmd(p, v) => w.page_name(*p, *v),
        Referrer::PageCache(f, i) => format!("{}[{i}]", w.file(*f).name),
        Referrer::Holder(h) | Referrer::Pipe(h) => format!("'{h}'"),
        Referrer::KernelBuf(k, i) => format!("{k}[{i}]"),
        Referrer::SwapCache(sl) => format!("slot {sl}"),
        Referrer::Private(_) | Referrer::Reserved | Referrer::Leak(_) | Referrer::Isolation(_) => String::new(),
    }
}

/// The changes to folio `id` between `before` and `now`.
pub fn deltas(id: FolioId, before: (&World, &[Reference]), now: (&World, &[Reference])) -> Vec<Delta> {
    let of = |refs: &[Reference]| -> Vec<usize> { (0..refs.len()).filter(|i| refs[*i].folio == id).collect() };
    let (b, n) = (of(before.1), of(now.1));
    deltas_of((before.0, before.1, &b), (now.0, now.1, &n))
}

/// The same, from the indexes of one folio's references before and now.
pub fn deltas_of(before: (&World, &[Reference], &[usize]), now: (&World, &[Reference], &[usize])) -> Vec<Delta> {
    // Sums per (referrer, kind); a referrer is named only if its sum moved.
    let mut sums: HashMap<(&Referrer, RefKind), (i64, i64, usize)> = HashMap::new();
    let mut order: Vec<(&Referrer, RefKind)> = Vec::new();
    for (refs, mine, sign) in [(before.1, before.2, -1), (now.1, now.2, 1)] {
        for (i, r) in mine.iter().map(|i| (*i, &refs[*i])) {
            let e = sums.entry((&r.from, r.kind)).or_insert_with(|| {
                order.push((&r.from, r.kind));
                (0, 0, usize::MAX)
            });
            e.0 += sign * r.refs;
            e.1 += sign * r.pins;
            if sign > 0 || e.2 == usize::MAX {
                e.2 = if sign > 0 { i } else { usize::MAX - 1 };
            }
        }
    }
    let changes: Vec<Delta> = order
        .into_iter()
        .filter_map(|key| {
            let (refs, pins, at) = sums[&key];
            if refs == 0 && pins == 0 {
                return None;
            }
            // Named in the world where the referrer exists (a PTE of a
            // process that exited is named from before).
            let w = if at == usize::MAX - 1 { before.0 } else { now.0 };
            Some(Delta {
                refs,
                pins,
                kind: key.1,
                who: key.0.describe(w),
                short: short(key.0, w),
            })
        })
        .collect();
    if changes.len() <= MAX_CHANGES {
        return changes;
    }
    let mut by_kind: Vec<(Delta, usize)> = Vec::new();
    for c in changes {
        let up = c.refs + c.pins > 0;
        match by_kind
            .iter_mut()
            .find(|(k, _)| k.kind == c.kind && (k.refs + k.pins > 0) == up)
        {
            Some((k, n)) => {
                k.refs += c.refs;
                k.pins += c.pins;
                *n += 1;
            }
            None => by_kind.push((c, 1)),
        }
    }
    by_kind
        .into_iter()
        .map(|(mut d, n)| {
            if n > 1 {
                d.who = format!("{n} holders");
                d.short = format!("({n})");
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::model::refs::all_references;
    use pinlab_lessons::{builtin, run::run_with_sim};

    /// Over every micro-step of every lesson the changes add up to the move
    /// of the refcount and the pincount; pin-extraction's pin names its
    /// iov_iter holder.
    #[test]
    fn deltas_add_up_and_a_pin_names_its_holder() {
        let mut seen_pin = false;
        for l in builtin::all().into_iter().flatten() {
            let (sim, _) = run_with_sim(&l, *l.kernels.last().unwrap(), None);
            for pair in sim.entries().windows(2) {
                let (a, b) = (&pair[0].world, &pair[1].world);
                let (ra, rb) = (all_references(a), all_references(b));
                for (id, f) in b.live_folios() {
                    let Some(old) = a.folios.get(id.0 as usize) else {
                        continue;
                    };
                    let ds = deltas(id, (a, &ra), (b, &rb));
                    let refs: i64 = ds.iter().map(|d| d.refs).sum();
                    assert_eq!(refs, f.refcount - old.refcount, "{}: {ds:?}", l.id);
                    if f.has_pincount() && old.has_pincount() {
                        assert_eq!(ds.iter().map(|d| d.pins).sum::<i64>(), f.pincount - old.pincount);
                    }
                    if l.id == "pin-extraction"
                        && ds.iter().any(|d| {
                            d.line() == "+1024 pin (FOLL_PIN): IovIter 'xtr'" && d.brief() == "+1024 pin 'xtr'"
                        })
                    {
                        seen_pin = true;
                    }
                }
            }
        }
        assert!(seen_pin);
    }
}
