//! MADV_COLLAPSE (mm/khugepaged.c: madvise_collapse, 6.1+): replace the small
//! folios of an aligned 512-page block by one PMD-mapped THP.

use crate::data::Data;
use crate::error::{Errno, KResult, errno};
use crate::fault::PMD_PAGES;
use crate::folio::{FolioKind, HPAGE_PMD_ORDER};
use crate::ids::{Pid, ZERO_FOLIO};
use crate::mm::Pte;
use crate::step::{Ctx, ObjRef};

pub fn madv_collapse(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) -> KResult<()> {
    let end = first + n;
    let mut base = first.div_ceil(PMD_PAGES) * PMD_PAGES;
    let mut collapsed = 0;
    while base + PMD_PAGES <= end {
        collapse_block(ctx, pid, base)?;
        collapsed += 1;
        base += PMD_PAGES;
    }
    if collapsed == 0 {
        return errno(
            Errno::EINVAL,
            "MADV_COLLAPSE needs a 512-page aligned block inside the range",
        );
    }
    Ok(())
}

fn collapse_block(ctx: &mut Ctx, pid: Pid, base: u64) -> KResult<()> {
    let vma = ctx.w.vma(pid, base)?.clone();
    if !vma.is_anon() || vma.start > base || vma.end() < base + PMD_PAGES {
        return errno(
            Errno::EINVAL,
            "MADV_COLLAPSE: the block must lie in one anonymous VMA (file THP is not modelled)",
        );
    }
    if vma.flags.nohugepage {
        return errno(Errno::EINVAL, "MADV_COLLAPSE: VM_NOHUGEPAGE is set");
    }
    if vma.pte(base).is_pmd() {
        return Ok(());
    }
    // hpage_collapse_scan_pmd: every mapped page must have no references other
    // than its mappings (is_refcount_suitable), else SCAN_PAGE_COUNT -> EAGAIN.
    let mut datas = Vec::with_capacity(PMD_PAGES as usize);
    let mut writable = false;
    for v in base..base + PMD_PAGES {
        match vma.pte(v) {
            Pte::None => datas.push(Data::zero()),
            Pte::Swap { .. } => {
                return errno(
                    Errno::EAGAIN,
                    "MADV_COLLAPSE: swapped-out pages in the block (swap-in during collapse is not modelled)",
                );
            }
            Pte::Present { folio, page, .. } => {
                let f = ctx.w.folio(folio);
                if folio != ZERO_FOLIO {
                    let expected = f.total_mapcount() as i64 + if f.flags.swapcache { 1 } else { 0 };
                    if f.refcount != expected {
                        return errno(
                            Errno::EAGAIN,
                            format!(
                                "MADV_COLLAPSE: {folio} has references besides its mappings (refcount {}, mapcount {}): a GUP reference or pin blocks the collapse (SCAN_PAGE_COUNT)",
                                f.refcount,
                                f.total_mapcount()
                            ),
                        );
                    }
                }
                datas.push(f.pages[page as usize].data.clone());
                // The zero page counts as none (none_or_zero), not as writable.
                writable |= folio != ZERO_FOLIO && vma.pte(v).is_writable();
            }
        }
    }
    if ctx.w.preset.collapse_needs_writable_pte() && !writable {
        return errno(
            Errno::EINVAL,
            "MADV_COLLAPSE: no page of the block is mapped writable (SCAN_PAGE_RO, refused before 6.18)",
        );
    }
    ctx.step(
        "collapse_huge_page",
        "mm/khugepaged.c",
        "MADV_COLLAPSE: copy the 512 pages into a new THP, map it with one PMD, and release the old small folios.",
    );
    ctx.w.vmstat.thp_collapse_alloc += 1;
    let zone = vma.zone;
    let id = ctx.w.alloc_folio(FolioKind::Anon, HPAGE_PMD_ORDER, zone);
    let ae = ctx.w.preset.tracks_anon_exclusive();
    {
        let f = ctx.w.folio_mut(id);
        f.entire_mapcount = 1;
        for (p, d) in f.pages.iter_mut().zip(datas) {
            p.anon_exclusive = ae;
            p.data = d;
        }
    }
    ctx.w.lru_add_new_anon(id, vma.flags.locked);
    crate::vma_ops::clear_range(ctx, pid, base, PMD_PAGES);
    for i in 0..PMD_PAGES {
        let pte = Pte::Present {
            folio: id,
            page: i as u16,
            writable: vma.flags.write,
            dirty: true,
            soft_dirty: true,
            young: true,
            pmd: true,
        };
        ctx.w.set_pte(pid, base + i, pte);
    }
    ctx.touch(ObjRef::Folio(id));
    Ok(())
}
