//! Who references which folio, derived from the state: PTEs, PMDs, the page
//! cache, the swap cache, GUP refs and pins, pipes. The invariants check the
//! refcounts against this list, and the graph is built from it.

use crate::folio::GUP_PIN_COUNTING_BIAS;
use crate::holder::Grab;
use crate::ids::{FileId, FolioId, Pid, ZERO_FOLIO};
use crate::mm::Pte;
use crate::world::World;
use serde::{Deserialize, Serialize};

/// The holder side of a reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Referrer {
    /// A PTE of a process at a virtual page.
    Pte(Pid, u64),
    /// A PMD of a process mapping a whole THP (first virtual page).
    Pmd(Pid, u64),
    PageCache(FileId, u64),
    SwapCache(u32),
    Holder(String),
    Pipe(String),
    /// A kernel buffer's page.
    KernelBuf(String, u64),
    /// The filesystem's private data on a page-cache folio (PG_private:
    /// buffer heads, btrfs extent state).
    Private(FolioId),
    /// The zero page's own reserved reference.
    Reserved,
    /// References a kernel bug leaked on this folio (`Folio::leaked`).
    Leak(FolioId),
    /// Reclaim's own reference while the folio is off its LRU list.
    Isolation(FolioId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    Map,
    PageCache,
    SwapCache,
    Get,
    Pin,
    Pipe,
    /// Just listed: the holder has the page but no reference.
    List,
    Kernel,
    /// folio_attach_private's reference.
    Private,
    Reserved,
    /// Taken and never dropped (a kernel bug of that release).
    Leaked,
    /// Reclaim's reference on a folio it isolated from its LRU list.
    Isolated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub from: Referrer,
    pub folio: FolioId,
    pub page: u16,
    pub kind: RefKind,
    /// Contribution to the folio's refcount.
    pub refs: i64,
    /// Contribution to the folio's pincount.
    pub pins: i64,
}

impl Reference {
    /// A pin on a small folio: it counts GUP_PIN_COUNTING_BIAS (1024) in the
    /// refcount (mm/gup.c: try_grab_folio); a pin on a large folio counts 1
    /// there and 1 in _pincount instead.
    pub fn is_biased_pin(&self) -> bool {
        self.kind == RefKind::Pin && self.refs >= crate::folio::GUP_PIN_COUNTING_BIAS
    }
}

impl RefKind {
    /// What a student calls this kind of reference (legend, tooltips, deltas).
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::Map => "mapping",
            RefKind::PageCache => "page cache",
            RefKind::SwapCache => "swap cache",
            RefKind::Get => "reference (FOLL_GET)",
            RefKind::Pin => "pin (FOLL_PIN)",
            RefKind::Pipe => "pipe buffer",
            RefKind::List => "listed, no reference",
            RefKind::Kernel => "kernel buffer",
            RefKind::Private => "private data",
            RefKind::Reserved => "the zero page's own reference",
            RefKind::Leaked => "leaked reference (never dropped)",
            RefKind::Isolated => "reclaim's isolation reference",
        }
    }
}

impl Referrer {
    /// The holder's name as a student would say it: `app:buf[0]`, `page cache
    /// of f[2]`, `holder 'xtr'`.
    pub fn describe(&self, w: &World) -> String {
        match self {
            Referrer::Pte(p, v) => format!("PTE {}", w.page_name(*p, *v)),
            Referrer::Pmd(p, v) => format!("PMD {}", w.page_name(*p, *v)),
            Referrer::PageCache(f, i) => format!("page cache of {}[{i}]", w.file(*f).name),
            Referrer::SwapCache(sl) => format!("swap cache (slot {sl})"),
            Referrer::Holder(h) => match w.holders.get(h) {
                Some(hh) => format!("{:?} '{h}'", hh.kind),
                None => format!("holder '{h}'"),
            },
            Referrer::Pipe(p) => format!("pipe '{p}'"),
            Referrer::KernelBuf(k, i) => format!("kernel buffer {k}[{i}]"),
            Referrer::Reserved => "the zero page's own reference".into(),
            Referrer::Private(_) => "the filesystem's private data (buffer heads)".into(),
            Referrer::Leak(_) => "references a kernel bug leaked (nothing will drop them)".into(),
            Referrer::Isolation(_) => "reclaim, which took it off its LRU list".into(),
        }
    }
}

/// Every reference in the world. Zero-page PTEs map without a reference and
/// are listed with `refs: 0`.
pub fn all_references(w: &World) -> Vec<Reference> {
    let mut out = Vec::new();
    out.push(Reference {
        from: Referrer::Reserved,
        folio: ZERO_FOLIO,
        page: 0,
        kind: RefKind::Reserved,
        refs: 1,
        pins: 0,
    });
    for p in w.procs.values() {
        for vma in p.mm.vmas.values() {
            for (i, pte) in vma.ptes.iter().enumerate() {
                let vpn = vma.start + i as u64;
                if let Pte::Present { folio, page, pmd, .. } = *pte {
                    if pmd {
                        if page == 0 {
                            out.push(Reference {
                                from: Referrer::Pmd(p.pid, vpn),
                                folio,
                                page,
                                kind: RefKind::Map,
                                refs: 1,
                                pins: 0,
                            });
                        }
                        continue;
                    }
                    out.push(Reference {
                        from: Referrer::Pte(p.pid, vpn),
                        folio,
                        page,
                        kind: RefKind::Map,
                        refs: if folio == ZERO_FOLIO { 0 } else { 1 },
                        pins: 0,
                    });
                }
            }
        }
    }
    for (fid, f) in w.files.iter() {
        for (idx, folio) in f.cache.iter() {
            out.push(Reference {
                from: Referrer::PageCache(*fid, *idx),
                folio: *folio,
                page: 0,
                kind: RefKind::PageCache,
                refs: w.folio(*folio).nr_pages() as i64,
                pins: 0,
            });
            if w.folio(*folio).flags.private {
                out.push(Reference {
                    from: Referrer::Private(*folio),
                    folio: *folio,
                    page: 0,
                    kind: RefKind::Private,
                    refs: 1,
                    pins: 0,
                });
            }
        }
    }
    for (id, f) in w.live_folios() {
        if f.leaked > 0 || f.leaked_pincount > 0 {
            out.push(Reference {
                from: Referrer::Leak(id),
                folio: id,
                page: 0,
                kind: RefKind::Leaked,
                refs: f.leaked,
                pins: f.leaked_pincount,
            });
        }
        if f.isolated {
            out.push(Reference {
                from: Referrer::Isolation(id),
                folio: id,
                page: 0,
                kind: RefKind::Isolated,
                refs: 1,
                pins: 0,
            });
        }
    }
    for (slot, e) in w.swap.iter() {
        if let Some(folio) = e.cache {
            out.push(Reference {
                from: Referrer::SwapCache(*slot),
                folio,
                page: 0,
                kind: RefKind::SwapCache,
                refs: 1,
                pins: 0,
            });
        }
    }
    for h in w.holders.values() {
        for hp in &h.pages {
            let large = w.folio(hp.folio).has_pincount();
            let (kind, refs, pins) = match (h.grab, hp.no_grab) {
                (Grab::List, _) => (RefKind::List, 0, 0),
                (_, true) => (RefKind::Pin, 0, 0),
                (Grab::Ref, _) => (RefKind::Get, 1, 0),
                (Grab::Pin, _) if large => (RefKind::Pin, 1, 1),
                (Grab::Pin, _) => (RefKind::Pin, GUP_PIN_COUNTING_BIAS, 0),
            };
            out.push(Reference {
                from: Referrer::Holder(h.name.clone()),
                folio: hp.folio,
                page: hp.page,
                kind,
                refs,
                pins,
            });
        }
    }
    for (name, pages) in w.kbufs.iter() {
        for (i, folio) in pages.iter().enumerate() {
            out.push(Reference {
                from: Referrer::KernelBuf(name.clone(), i as u64),
                folio: *folio,
                page: 0,
                kind: RefKind::Kernel,
                refs: 1,
                pins: 0,
            });
        }
    }
    for p in w.pipes.values() {
        for b in &p.bufs {
            out.push(Reference {
                from: Referrer::Pipe(p.name.clone()),
                folio: b.folio,
                page: b.page,
                kind: RefKind::Pipe,
                refs: 1,
                pins: 0,
            });
        }
    }
    out
}

/// References to one folio ("why is this folio still alive?").
pub fn references_to(w: &World, folio: FolioId) -> Vec<Reference> {
    all_references(w).into_iter().filter(|r| r.folio == folio).collect()
}

#[cfg(test)]
mod bias_tests {
    use crate::{Action, GupFlags, MmapArgs, Preset, Sim, Tags};

    /// A pin on a small folio is drawn (and counted) as the 1024 bias; a
    /// reference is not.
    #[test]
    fn a_pin_on_a_small_folio_is_a_biased_pin_and_a_reference_is_not() {
        let mut sim = Sim::new(Preset::V6_18);
        for a in [
            Action::Spawn { name: "p".into() },
            Action::Mmap {
                proc: "p".into(),
                vma: "b".into(),
                args: MmapArgs {
                    pages: 1,
                    write: true,
                    ..MmapArgs::default()
                },
            },
            Action::Write {
                proc: "p".into(),
                vma: "b".into(),
                page: 0,
                pages: None,
                data: Tags::One("x".into()),
            },
        ] {
            sim.apply(&a).unwrap();
        }
        for (holder, pin) in [("r", false), ("q", true)] {
            sim.apply(&Action::Gup {
                proc: "p".into(),
                vma: "b".into(),
                start: 0,
                pages: 1,
                holder: holder.into(),
                flags: GupFlags {
                    pin,
                    ..GupFlags::default()
                },
                count: 1,
            })
            .unwrap();
        }
        let refs = super::all_references(sim.world());
        let of = |h: &str| {
            refs.iter()
                .find(|r| matches!(&r.from, super::Referrer::Holder(x) if x == h))
                .unwrap()
        };
        assert!(of("q").is_biased_pin());
        assert!(!of("r").is_biased_pin());
    }
}
