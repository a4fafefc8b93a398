//! fork(2): kernel/fork.c dup_mm -> dup_mmap -> mm/memory.c copy_page_range
//! (docs/model.md, "fork").

use crate::error::{KResult, invalid};
use crate::fault::{PMD_PAGES, split_pmd};
use crate::file::FsKind;
use crate::folio::FolioKind;
use crate::ids::{Pid, ZERO_FOLIO};
use crate::mm::{Backing, Mm, Process, Pte, Vma};
use crate::step::{Ctx, ObjRef};
use std::sync::Arc;

pub fn fork(ctx: &mut Ctx, parent: Pid, child_name: &str) -> KResult<Pid> {
    if child_name.is_empty() || ctx.w.procs.values().any(|p| p.name == child_name) {
        return invalid(format!("process name '{child_name}' is empty or already used"));
    }
    let copied: u64 = ctx
        .w
        .proc(parent)
        .mm
        .vmas
        .values()
        .filter(|v| !v.flags.dontcopy)
        .map(|v| v.pages())
        .sum();
    ctx.w.check_budget(copied, "this fork")?;
    let preset = ctx.w.preset;
    let pinned_note = if preset >= crate::preset::Preset::V5_14 {
        " MMF_HAS_PINNED is not inherited (not in MMF_INIT_MASK)."
    } else if preset.tracks_has_pinned() {
        " The child's mm->has_pinned starts at 0 (mm_init)."
    } else {
        ""
    };
    ctx.step(
        "dup_mm",
        "kernel/fork.c",
        format!(
            "fork: create '{child_name}' with a copy of {}'s VMAs.{pinned_note}",
            ctx.w.proc(parent).name
        ),
    );
    let seq = ctx.w.bump_seq();
    let child = Pid(ctx.w.next_pid);
    ctx.w.next_pid += 1;
    let pm = ctx.w.proc(parent).mm.clone();
    let proc = Process {
        pid: child,
        name: child_name.to_string(),
        parent: Some(parent),
        created_seq: seq,
        alive: true,
        mm: Mm {
            has_pinned: false,
            vmas: Default::default(),
            regions: pm.regions.clone(),
            next_vpn: pm.next_vpn,
        },
    };
    ctx.w.procs.insert(child, Arc::new(proc));
    ctx.touch(ObjRef::Process(child));
    ctx.touch(ObjRef::Process(parent));
    let starts: Vec<u64> = pm.vmas.keys().copied().collect();
    for start in starts {
        let vma = ctx.w.proc(parent).mm.vmas[&start].clone();
        if vma.flags.dontcopy {
            let (func, path) = crate::names::dup_mmap(ctx.w.preset);
            ctx.step(
                func,
                path,
                format!(
                    "VMA '{}' has VM_DONTCOPY (MADV_DONTFORK): the child gets nothing there.",
                    vma.name
                ),
            );
            continue;
        }
        copy_page_range(ctx, parent, child, start);
    }
    Ok(child)
}

/// copy_page_range for one VMA.
fn copy_page_range(ctx: &mut Ctx, parent: Pid, child: Pid, start: u64) {
    let vma = ctx.w.proc(parent).mm.vmas[&start].clone();
    let hugetlb = matches!(vma.backing, Backing::File { file, .. } if ctx.w.file(file).fs == FsKind::Hugetlbfs);
    if !vma.has_anon_vma && !hugetlb {
        skip_vma_without_anon_vma(ctx, child, &vma);
        return;
    }
    let preset = ctx.w.preset;
    let has_pinned = ctx.w.proc(parent).mm.has_pinned;
    let vma0 = ctx.w.proc(parent).mm.vmas[&start].clone();
    let cow = vma0.flags.is_cow();
    // Early COW needs MMF_HAS_PINNED and folio_maybe_dma_pinned (70e806e4e645, 5.9).
    let needs_cow = |f: &crate::folio::Folio| preset.fork_copies_pinned() && cow && has_pinned && f.maybe_dma_pinned();
    // copy_huge_pmd: a maybe-pinned THP is split and copied page by page
    // (d042035eaf5f, 5.9; 5.19+: only if the page is anon-exclusive).
    let mut vpn = vma0.start;
    while vpn < vma0.end() {
        if let Pte::Present { folio, pmd: true, .. } = vma0.pte(vpn) {
            let f = ctx.w.folio(folio);
            let ae_ok = !preset.fork_copies_only_exclusive_anon() || f.pages[0].anon_exclusive;
            if needs_cow(f) && ae_ok {
                split_pmd(ctx, parent, vpn);
            }
            vpn += PMD_PAGES;
        } else {
            vpn += 1;
        }
    }
    let vma = ctx.w.proc(parent).mm.vmas[&start].clone();
    ctx.step("copy_page_range", "mm/memory.c", String::new());
    let mut pv: Vma = (*vma).clone();
    let n = pv.ptes.len();
    let mut child_ptes: Vec<Pte> = Vec::with_capacity(n);
    let (mut shared, mut copied, mut pmds) = (0u64, 0u64, 0u64);
    let mut i = 0usize;
    while i < n {
        let pte = pv.ptes[i];
        match pte {
            Pte::None => child_ptes.push(Pte::None),
            Pte::Swap { slot, exclusive } => {
                // copy_nonpresent_pte: the slot gains a user; 5.19+ clears the
                // exclusive bit in the parent as the page is now shared.
                if let Some(e) = ctx.w.swap.get_mut(&slot) {
                    e.count += 1;
                }
                if exclusive {
                    pv.ptes.set(i, Pte::Swap { slot, exclusive: false });
                    ctx.w.note_pte(parent, vma.start + i as u64, pte, pv.ptes[i]);
                }
                child_ptes.push(Pte::Swap { slot, exclusive: false });
            }
            Pte::Present { folio, .. } if folio == ZERO_FOLIO => child_ptes.push(pte),
            Pte::Present { folio, pmd: true, .. } => {
                // Share the whole PMD: one reference, entire mapcount +1.
                {
                    let f = ctx.w.folio_mut(folio);
                    f.refcount += 1;
                    f.entire_mapcount += 1;
                    if preset.fork_copies_only_exclusive_anon() {
                        for p in f.pages.iter_mut() {
                            p.anon_exclusive = false;
                        }
                    }
                }
                for k in 0..PMD_PAGES as usize {
                    let old = pv.ptes[i + k];
                    let mut p = old;
                    if cow {
                        p.wrprotect();
                    }
                    pv.ptes.set(i + k, p);
                    ctx.w.note_pte(parent, vma.start + (i + k) as u64, old, p);
                    // copy_huge_pmd: pmd_mkold(pmd_wrprotect(pmd)) for the child.
                    let mut c = p;
                    c.set_young(false);
                    child_ptes.push(c);
                }
                pmds += 1;
                ctx.touch(ObjRef::Folio(folio));
                i += PMD_PAGES as usize;
                continue;
            }
            Pte::Present {
                folio,
                page,
                writable,
                soft_dirty,
                ..
            } => {
                let f = ctx.w.folio(folio);
                let page_ae = f.pages[page as usize].anon_exclusive;
                // What-if VM_NOCOW: anon pages of the VMA are never COW-shared.
                // (Fault::ForkCopies: the same, everywhere, as a wrong rule.)
                let nocow = (vma.flags.nocow || ctx.w.fault == Some(crate::sim::Fault::ForkCopies)) && f.is_anon();
                let copy = !vma.flags.shared
                    && (nocow
                        || needs_cow(f)
                            && if preset.fork_copies_only_exclusive_anon() {
                                f.is_anon() && page_ae
                            } else {
                                true
                            });
                if copy {
                    // copy_present_page: the child gets its own copy now; the
                    // parent's PTE, page, pin and exclusivity stay as they are.
                    let data = f.pages[page as usize].data.clone();
                    let zone = vma.zone;
                    let id = ctx.w.alloc_folio(FolioKind::Anon, 0, zone);
                    {
                        let nf = ctx.w.folio_mut(id);
                        nf.pages[0].data = data;
                        nf.pages[0].anon_exclusive = preset.tracks_anon_exclusive();
                        nf.pages[0].mapcount = 1;
                    }
                    ctx.w.lru_add(id, vma.flags.locked);
                    child_ptes.push(Pte::present(id, 0, vma.flags.write, true));
                    copied += 1;
                    ctx.touch(ObjRef::Folio(folio));
                    ctx.touch(ObjRef::Folio(id));
                } else {
                    {
                        let f = ctx.w.folio_mut(folio);
                        f.refcount += 1;
                        f.pages[page as usize].mapcount += 1;
                        if f.kind == FolioKind::Anon && preset.fork_copies_only_exclusive_anon() {
                            f.pages[page as usize].anon_exclusive = false;
                        }
                    }
                    let mut p = pte;
                    if cow && writable {
                        p.wrprotect();
                        pv.ptes.set(i, p);
                        ctx.w.note_pte(parent, vma.start + i as u64, pte, p);
                    }
                    // VM_SHARED: the child's PTE is clean; it keeps write permission.
                    // copy_present_pte: pte_mkold for the child either way.
                    let cp = if vma.flags.shared {
                        Pte::Present {
                            folio,
                            page,
                            writable,
                            dirty: false,
                            soft_dirty,
                            pmd: false,
                            young: false,
                        }
                    } else {
                        let mut c = p;
                        c.set_young(false);
                        c
                    };
                    child_ptes.push(cp);
                    shared += 1;
                    if shared <= 8 {
                        ctx.touch(ObjRef::Folio(folio));
                    }
                }
            }
        }
        i += 1;
    }
    let kind = if vma.flags.shared { "shared" } else { "private" };
    let mut text = format!("VMA '{}' ({kind}): ", vma.name);
    if vma.flags.shared {
        text.push_str(&format!(
            "{shared} page(s) mapped in the child too (refcount +1, mapcount +1, child PTE clean)"
        ));
    } else {
        text.push_str(&format!(
            "{shared} page(s) shared read-only (refcount +1, mapcount +1, both PTEs write-protected{})",
            if preset.fork_copies_only_exclusive_anon() {
                ", PageAnonExclusive cleared"
            } else {
                ""
            }
        ));
        if pmds > 0 {
            text.push_str(&format!("; {pmds} THP PMD(s) shared whole"));
        }
        if copied > 0 && vma.flags.nocow {
            text.push_str(&format!(
                "; {copied} page(s) copied for the child because the VMA has VM_NOCOW (what-if), the parent keeps its pages writable"
            ));
        } else if copied > 0 {
            text.push_str(&format!(
                "; {copied} page(s) copied for the child at once (copy_present_page: the mm has pinned and the folio may be DMA-pinned), the parent keeps its pinned page writable"
            ));
        }
    }
    text.push('.');
    ctx.set_text(text);
    let mut cv = pv.clone();
    // anon_vma_fork: a VMA that has anonymous pages (so an anon_vma) gives
    // the child's copy an anon_vma of its own; pieces of the child's mapping
    // then never merge (LTP vma01, 965f55dea0e3).
    let has_anon = pv.ptes.iter().any(|p| match p {
        Pte::Present { folio, .. } => ctx.w.folio(*folio).is_anon(),
        Pte::Swap { .. } => true,
        Pte::None => false,
    });
    if has_anon || pv.has_anon_vma {
        cv.anon_vma = ((child.0 as u64) << 40) | (start + 1);
    }
    for (i, p) in child_ptes.iter().enumerate() {
        if *p != Pte::None {
            ctx.w.note_pte(child, start + i as u64, Pte::None, *p);
        }
    }
    cv.ptes = child_ptes.into_iter().collect();
    ctx.w.proc_mut(parent).mm.vmas.insert(start, Arc::new(pv));
    ctx.w.proc_mut(child).mm.vmas.insert(start, Arc::new(cv));
}

/// mm/memory.c: copy_page_range returns at once for a VMA without an anon_vma
/// (vma_needs_copy from 5.19 on): "Don't copy ptes where a page fault will
/// fill them correctly". A MAP_SHARED file or shmem mapping, or a private one
/// that only ever mapped the zero page or page-cache pages, leaves the child's
/// page table empty; its first access faults the page in. hugetlb VMAs are
/// always copied (the model's hugetlbfs keeps that rule).
fn skip_vma_without_anon_vma(ctx: &mut Ctx, child: Pid, vma: &Vma) {
    let present = vma.ptes.iter().filter(|p| p.is_present()).count();
    ctx.step(
        "copy_page_range",
        "mm/memory.c",
        format!(
            "VMA '{}' ({}) has no anon_vma: nothing is copied, because a page fault will fill the child's page table correctly. The child maps none of the {present} page(s) the parent maps there until it touches them.",
            vma.name,
            if vma.flags.shared { "shared" } else { "private, never written" }
        ),
    );
    let mut cv = vma.clone();
    cv.ptes = std::iter::repeat_n(Pte::None, vma.ptes.len()).collect();
    ctx.w.proc_mut(child).mm.vmas.insert(vma.start, Arc::new(cv));
}
