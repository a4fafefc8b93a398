//! mmap, munmap, mprotect and madvise (mm/mmap.c, mm/mprotect.c, mm/madvise.c).

use crate::error::{Errno, KResult, errno, invalid};
use crate::fault::{FaultKind, PMD_PAGES, handle_mm_fault, split_pmd};
use crate::file::{File, FsKind};
use crate::folio::{HPAGE_PMD_ORDER, Zone};
use crate::ids::{FileId, Pid, ZERO_FOLIO};
use crate::mm::{Backing, Pte, Region, VmFlags, Vma};
use crate::preset::MprotectUpgrade;
use crate::step::{Ctx, ObjRef};
use imbl::{OrdMap, Vector};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest mapping the model accepts: 16 GiB of 4 KiB pages.
pub const MAX_MAP_PAGES: u64 = 1 << 22;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmapArgs {
    pub pages: u64,
    /// File to map; None is anonymous memory.
    pub file: Option<String>,
    /// Offset into the file, in pages.
    pub offset: u64,
    pub shared: bool,
    pub write: bool,
    /// VM_HUGEPAGE from the start (as MADV_HUGEPAGE right after mmap).
    pub thp: bool,
    /// Anonymous folio order for faults (2..=8: multi-size THP, 6.8+; 9: THP).
    pub order: u8,
    /// Allocate from ZONE_MOVABLE (a model hint for long-term pin lessons);
    /// the same as `zone = "movable"`.
    pub movable: bool,
    /// Where faults allocate: normal (the default), movable or cma.
    pub zone: Option<Zone>,
    /// MAP_POPULATE: fault every page in now.
    pub populate: bool,
}

/// The advice a lesson may give. The catalogue's value list and the probe's
/// system call come from this enum (strum's VariantNames with serde's
/// spelling; an exhaustive `match` in probe/src/worker.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Advice {
    Dontfork,
    Dofork,
    Hugepage,
    Nohugepage,
    Dontneed,
    Pageout,
    Collapse,
}

pub fn mmap(ctx: &mut Ctx, pid: Pid, name: &str, a: &MmapArgs) -> KResult<()> {
    if name.is_empty() {
        return invalid("a mapping needs a name");
    }
    if ctx.w.proc(pid).mm.regions.contains_key(name) {
        return invalid(format!("{} already has a mapping named '{name}'", ctx.w.proc(pid).name));
    }
    if a.pages == 0 {
        return errno(Errno::EINVAL, "mmap of 0 pages");
    }
    if a.pages > MAX_MAP_PAGES {
        return errno(
            Errno::ENOMEM,
            format!(
                "mmap of {} pages: the model maps at most {MAX_MAP_PAGES} pages (16 GiB)",
                a.pages
            ),
        );
    }
    ctx.w.check_budget(a.pages, "this mmap")?;
    let zone = match (a.zone, a.movable) {
        (Some(z), true) if z != Zone::Movable => {
            return invalid(format!(
                "movable = true and zone = \"{}\" contradict each other",
                z.name()
            ));
        }
        (Some(z), _) => z,
        (None, true) => Zone::Movable,
        (None, false) => Zone::Normal,
    };
    let mut anon_order = 0;
    let mut hugepage = a.thp;
    match a.order {
        0 => {}
        1 => {
            return errno(
                Errno::EINVAL,
                "order-1 folios are not modelled (their pincount placement changed across releases)",
            );
        }
        2..=8 => {
            if !ctx.w.preset.has_anon_mthp() {
                return errno(
                    Errno::EINVAL,
                    "anonymous multi-size THP (orders 2-8) exists from 6.8; use order 9 (THP) before that",
                );
            }
            anon_order = a.order;
        }
        o if o == HPAGE_PMD_ORDER => hugepage = true,
        o => {
            return errno(Errno::EINVAL, format!("folio order {o} is larger than a PMD (9)"));
        }
    }
    let backing = match &a.file {
        Some(fname) => {
            if hugepage || anon_order > 0 {
                return invalid("large-folio hints apply to anonymous memory only");
            }
            let file = ctx.w.file_id(fname)?;
            Backing::File { file, pgoff: a.offset }
        }
        None if a.shared => {
            // MAP_SHARED|MAP_ANONYMOUS is backed by a shmem object.
            let id = FileId(ctx.w.files.keys().next_back().map(|k| k.0 + 1).unwrap_or(0));
            let pname = ctx.w.proc(pid).name.clone();
            ctx.w.files.insert(
                id,
                Arc::new(File {
                    name: format!("shmem:{pname}:{name}"),
                    fs: FsKind::Tmpfs,
                    pages: a.pages,
                    cache: OrdMap::new(),
                    disk: Vector::new(),
                    shmem_for_anon: true,
                }),
            );
            Backing::File { file: id, pgoff: 0 }
        }
        None => Backing::Anon,
    };
    let mm = &ctx.w.proc(pid).mm;
    let base = mm.next_vpn.div_ceil(PMD_PAGES) * PMD_PAGES;
    let kind = match (&a.file, a.shared) {
        (Some(f), true) => format!("MAP_SHARED of file '{f}'"),
        (Some(f), false) => format!("MAP_PRIVATE of file '{f}'"),
        (None, true) => "MAP_SHARED|MAP_ANONYMOUS (shmem)".to_string(),
        (None, false) => "MAP_PRIVATE|MAP_ANONYMOUS".to_string(),
    };
    ctx.step(
        "do_mmap",
        "mm/mmap.c",
        format!(
            "mmap {} page(s) {kind}, {}: a new VMA, no page tables filled yet (faults populate them).",
            a.pages,
            if a.write { "PROT_READ|PROT_WRITE" } else { "PROT_READ" }
        ),
    );
    let vma = Vma {
        name: name.to_string(),
        start: base,
        flags: VmFlags {
            read: true,
            write: a.write,
            shared: a.shared,
            maywrite: true,
            hugepage,
            ..VmFlags::default()
        },
        backing,
        anon_order,
        zone,
        anon_vma: 0,
        has_anon_vma: false,
        ptes: std::iter::repeat_n(Pte::None, a.pages as usize).collect(),
    };
    let p = ctx.w.proc_mut(pid);
    p.mm.vmas.insert(base, Arc::new(vma));
    p.mm.regions.insert(name.to_string(), Region { base, pages: a.pages });
    p.mm.next_vpn = base + a.pages + PMD_PAGES;
    ctx.touch(ObjRef::Process(pid));
    if a.populate {
        ctx.step(
            "populate_vma_page_range",
            "mm/gup.c",
            format!("MAP_POPULATE: fault in all {} page(s) now.", a.pages),
        );
        populate_range(ctx, pid, base, a.pages)?;
    }
    Ok(())
}

/// mm/gup.c: populate_vma_page_range faults with FOLL_WRITE when the mapping
/// is private and writable (break COW now), else reads.
pub fn populate_range(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) -> KResult<()> {
    for vpn in first..first + n {
        let vma = ctx.w.vma(pid, vpn)?;
        let kind = if vma.flags.write && !vma.flags.shared {
            FaultKind::Write
        } else {
            FaultKind::Read
        };
        let pte = vma.pte(vpn);
        if !pte.is_present() || (kind == FaultKind::Write && !pte.is_writable()) {
            handle_mm_fault(ctx, pid, vpn, kind)?;
        }
    }
    Ok(())
}

/// Makes sure a VMA boundary falls at `vpn` (mm/mmap.c: __split_vma), splitting
/// a PMD-mapped THP that straddles it first.
fn split_at(ctx: &mut Ctx, pid: Pid, vpn: u64) {
    let Some(vma) = ctx.w.proc(pid).mm.vma_at(vpn).cloned() else {
        return;
    };
    if vma.start == vpn {
        return;
    }
    if vma.pte(vpn).is_pmd() && !vpn.is_multiple_of(PMD_PAGES) {
        split_pmd(ctx, pid, vpn);
    }
    let vma = ctx.w.proc(pid).mm.vma_at(vpn).cloned().expect("vma");
    let mut left = (*vma).clone();
    let right_ptes = left.ptes.split_off((vpn - vma.start) as usize);
    let mut right = left.clone();
    right.start = vpn;
    right.ptes = right_ptes;
    if let Backing::File { file, pgoff } = left.backing {
        right.backing = Backing::File {
            file,
            pgoff: pgoff + (vpn - vma.start),
        };
    }
    let mm = &mut ctx.w.proc_mut(pid).mm;
    mm.vmas.insert(left.start, Arc::new(left));
    mm.vmas.insert(vpn, Arc::new(right));
}

/// Merges the VMAs around [first, end) with their neighbours where a flag
/// change made them alike again (mm/vma.c: vma_modify_flags ->
/// vma_merge_existing_range; mm/mmap.c: vma_merge before 6.8). Alike: same
/// mapping (the model's stand-in for the same anon_vma), flags and hints, and
/// for files contiguous offsets. cow.c relies on it: "Revert MADV_DONTFORK
/// such that we merge the VMAs" before MADV_COLLAPSE.
fn merge_around(ctx: &mut Ctx, pid: Pid, first: u64, end: u64) {
    let lo = first.saturating_sub(1);
    loop {
        let mm = &ctx.w.proc(pid).mm;
        let pair = mm
            .vmas
            .range(..=end)
            .filter(|(_, v)| v.end() >= lo)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| mergeable(&w[0], &w[1]))
            .map(|w| (w[0].clone(), w[1].clone()));
        let Some((left, right)) = pair else { return };
        let mut merged = (*left).clone();
        for i in 0..right.ptes.len() {
            merged.ptes.push_back(right.ptes[i]);
        }
        let mm = &mut ctx.w.proc_mut(pid).mm;
        mm.vmas.remove(&right.start);
        mm.vmas.insert(merged.start, Arc::new(merged));
    }
}

fn mergeable(a: &Vma, b: &Vma) -> bool {
    let backing = match (a.backing, b.backing) {
        (Backing::Anon, Backing::Anon) => true,
        (Backing::File { file: f, pgoff: p }, Backing::File { file: g, pgoff: q }) => f == g && p + a.pages() == q,
        _ => false,
    };
    a.end() == b.start
        && a.name == b.name
        && a.anon_vma == b.anon_vma
        && a.flags == b.flags
        && a.anon_order == b.anon_order
        && a.zone == b.zone
        && backing
}

/// Starts of the VMAs covering [first, first+n), after splitting at both ends;
/// ENOMEM if part of the range is not mapped (as mprotect and madvise report).
fn vmas_in(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, split: bool) -> KResult<Vec<u64>> {
    let end = first + n;
    let mut vpn = first;
    while vpn < end {
        match ctx.w.proc(pid).mm.vma_at(vpn) {
            Some(v) => vpn = v.end(),
            None => {
                return errno(Errno::ENOMEM, format!("{} is not mapped", ctx.w.page_name(pid, vpn)));
            }
        }
    }
    if split {
        split_at(ctx, pid, first);
        split_at(ctx, pid, end);
    }
    let mut out = Vec::new();
    let mut vpn = first;
    while vpn < end {
        let v = ctx.w.proc(pid).mm.vma_at(vpn).expect("checked above");
        out.push(v.start);
        vpn = v.end();
    }
    Ok(out)
}

/// mm/memory.c: zap_pte_range over [first, first+n): each mapping drops its
/// mapcount and reference; swap entries release their slot.
pub fn zap_range(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) {
    zap(ctx, pid, first, n, true);
}

/// Clears the page table over a range as a larger operation's part (the old
/// small pages khugepaged releases), without zap micro-steps of its own.
pub fn clear_range(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) {
    zap(ctx, pid, first, n, false);
}

fn zap(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, steps: bool) {
    let end = first + n;
    let mut vpn = first;
    while vpn < end {
        let Some(vma) = ctx.w.proc(pid).mm.vma_at(vpn).cloned() else {
            vpn += 1;
            continue;
        };
        let stop = vma.end().min(end);
        while vpn < stop {
            let pte = vma.pte(vpn);
            match pte {
                Pte::Present { folio, pmd: true, .. } => {
                    let base = vpn & !(PMD_PAGES - 1);
                    if base >= first && base + PMD_PAGES <= end {
                        if steps {
                            ctx.step_batch("zap_huge_pmd", "mm/huge_memory.c", "zap-pmd", || {
                                "Zap a PMD mapping a whole THP: the PMD's one reference and the entire mapcount go; the folio is freed if nothing else holds it.".into()
                            });
                        }
                        let f = ctx.w.folio_mut(folio);
                        f.entire_mapcount -= 1;
                        ctx.w.folio_put(folio, 1);
                        for v in base..base + PMD_PAGES {
                            ctx.w.set_pte(pid, v, Pte::None);
                        }
                        ctx.touch(ObjRef::Folio(folio));
                        vpn = base + PMD_PAGES;
                        continue;
                    }
                    split_pmd(ctx, pid, vpn);
                    // Re-read this VMA's entries after the split.
                    return zap(ctx, pid, vpn, end - vpn, steps);
                }
                Pte::Present { folio, page, .. } => {
                    if steps {
                        zap_pte_step(ctx);
                    }
                    if folio != ZERO_FOLIO {
                        ctx.w.folio_mut(folio).pages[page as usize].mapcount -= 1;
                        ctx.w.folio_put(folio, 1);
                        ctx.touch(ObjRef::Folio(folio));
                    }
                    ctx.w.set_pte(pid, vpn, Pte::None);
                }
                Pte::Swap { slot, .. } => {
                    if steps {
                        zap_pte_step(ctx);
                    }
                    ctx.w.set_pte(pid, vpn, Pte::None);
                    crate::swap::swap_free(ctx, slot);
                }
                Pte::None => {}
            }
            vpn += 1;
        }
    }
}

fn zap_pte_step(ctx: &mut Ctx) {
    ctx.step_batch("zap_pte_range", "mm/memory.c", "zap-pte", || {
        "Zap the PTEs: each drops one mapcount and one reference on its folio (a swap entry frees its slot); a folio whose refcount reaches 0 is freed.".into()
    });
}

pub fn munmap(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) -> KResult<()> {
    ctx.step(
        "munmap",
        "mm/mmap.c",
        format!("munmap({n} page(s)): split the VMAs at the range's ends, zap the page tables, remove the VMAs."),
    );
    ctx.touch(ObjRef::Page(pid, first));
    let end = first + n;
    // munmap of an unmapped range is not an error.
    if ctx.w.proc(pid).mm.vma_at(first).is_some() {
        split_at(ctx, pid, first);
    }
    if ctx.w.proc(pid).mm.vma_at(end).is_some() {
        split_at(ctx, pid, end);
    }
    zap_range(ctx, pid, first, n);
    let starts: Vec<u64> = ctx.w.proc(pid).mm.vmas.range(first..end).map(|(s, _)| *s).collect();
    let mm = &mut ctx.w.proc_mut(pid).mm;
    for s in starts {
        mm.vmas.remove(&s);
    }
    Ok(())
}

pub fn mprotect(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, write: bool) -> KResult<()> {
    let starts = vmas_in(ctx, pid, first, n, true)?;
    ctx.step(
        "mprotect_fixup",
        "mm/mprotect.c",
        format!(
            "mprotect {n} page(s) to {}: {}",
            if write { "PROT_READ|PROT_WRITE" } else { "PROT_READ" },
            if write {
                "VM_WRITE is set; change_pte_range makes a PTE writable right away only where no write fault is needed (can_change_pte_writable)."
            } else {
                "VM_WRITE is cleared and every PTE write-protected."
            }
        ),
    );
    let upgrade = ctx.w.preset.mprotect_upgrade();
    for s in starts {
        let vma = ctx.w.proc(pid).mm.vmas[&s].clone();
        let fs_tracked = match vma.backing {
            Backing::File { file, .. } => ctx.w.file(file).fs.dirty_tracked(),
            Backing::Anon => false,
        };
        let mut v = (*vma).clone();
        v.flags.write = write;
        for i in 0..v.ptes.len() {
            let old = v.ptes[i];
            let mut pte = old;
            let Pte::Present {
                folio,
                page,
                writable,
                dirty,
                ..
            } = &mut pte
            else {
                continue;
            };
            if !write {
                *writable = false;
            } else if *folio != ZERO_FOLIO {
                let f = ctx.w.folio(*folio);
                let ok = if v.flags.shared {
                    // Shared mappings: writable unless the filesystem wants
                    // write notification; then only already-dirty PTEs.
                    !fs_tracked || *dirty
                } else if f.is_anon() && f.pages[*page as usize].anon_exclusive {
                    match upgrade {
                        MprotectUpgrade::Never => false,
                        MprotectUpgrade::DirtyExclusive => *dirty,
                        MprotectUpgrade::Exclusive => true,
                    }
                } else {
                    false
                };
                *writable = *writable || ok;
            }
            v.ptes.set(i, pte);
            ctx.w.note_pte(pid, s + i as u64, old, pte);
        }
        ctx.w.proc_mut(pid).mm.vmas.insert(s, Arc::new(v));
    }
    merge_around(ctx, pid, first, first + n);
    ctx.touch(ObjRef::Page(pid, first));
    Ok(())
}

pub fn madvise(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, advice: Advice) -> KResult<()> {
    let flag_change = matches!(
        advice,
        Advice::Dontfork | Advice::Dofork | Advice::Hugepage | Advice::Nohugepage
    );
    if advice == Advice::Collapse && !ctx.w.preset.has_madv_collapse() {
        return errno(Errno::EINVAL, "MADV_COLLAPSE exists from 6.1 (7d8faaf15545)");
    }
    let starts = vmas_in(ctx, pid, first, n, flag_change)?;
    ctx.touch(ObjRef::Page(pid, first));
    match advice {
        Advice::Dontfork | Advice::Dofork | Advice::Hugepage | Advice::Nohugepage => {
            let (name, text) = match advice {
                Advice::Dontfork => (
                    "MADV_DONTFORK",
                    "set VM_DONTCOPY: fork will not copy this range into the child",
                ),
                Advice::Dofork => ("MADV_DOFORK", "clear VM_DONTCOPY"),
                Advice::Hugepage => (
                    "MADV_HUGEPAGE",
                    "set VM_HUGEPAGE: write faults on an empty aligned 512-page block allocate a THP",
                ),
                _ => ("MADV_NOHUGEPAGE", "set VM_NOHUGEPAGE: no THP on fault"),
            };
            let (func, path) = crate::names::madvise_flags(ctx.w.preset);
            ctx.step(func, path, format!("{name}: {text}."));
            for s in starts {
                let mm = &mut ctx.w.proc_mut(pid).mm;
                let v = Arc::make_mut(mm.vmas.get_mut(&s).expect("vma"));
                match advice {
                    Advice::Dontfork => v.flags.dontcopy = true,
                    Advice::Dofork => v.flags.dontcopy = false,
                    Advice::Hugepage => {
                        v.flags.hugepage = true;
                        v.flags.nohugepage = false;
                    }
                    _ => {
                        v.flags.nohugepage = true;
                        v.flags.hugepage = false;
                    }
                }
            }
            merge_around(ctx, pid, first, first + n);
        }
        Advice::Dontneed => {
            ctx.step(
                "madvise_dontneed_single_vma",
                "mm/madvise.c",
                "MADV_DONTNEED: zap the range; the next access faults in the zero page (anon) or the page cache (file).",
            );
            zap_range(ctx, pid, first, n);
        }
        Advice::Pageout => {
            ctx.step(
                "madvise_pageout",
                "mm/madvise.c",
                format!(
                    "MADV_PAGEOUT: reclaim the exclusively mapped small anonymous folios of the range now (reclaim_pages -> {}); file pages are left to the I/O model.",
                    crate::names::shrink_list(ctx.w.preset).0
                ),
            );
            for vpn in first..first + n {
                let anon = ctx.w.proc(pid).mm.vma_at(vpn).is_some_and(|v| v.is_anon());
                if anon {
                    crate::swap::pageout_anon(ctx, pid, vpn)?;
                }
            }
        }
        Advice::Collapse => crate::collapse::madv_collapse(ctx, pid, first, n)?,
    }
    Ok(())
}
