//! Page reclaim (mm/vmscan.c: shrink_folio_list, as kswapd runs it) and mlock.
//! Pinned folios stay on the normal LRU and are scanned in vain
//! (docs/kernel-reference.md, rows 21-22).

use crate::error::KResult;
use crate::folio::{FolioKind, LruList};
use crate::hazard::HazardKind;
use crate::ids::{FolioId, Pid};
use crate::mm::Pte;
use crate::names;
use crate::preset::{Preset, ReuseRule};
use crate::step::{Ctx, ObjRef};
use crate::writeback::mappings_of;
use std::sync::Arc;

const VMSCAN_C: &str = "mm/vmscan.c";

/// Scans up to `scan` folios, inactive list first (oldest first), then the
/// active list (as shrink_active_list would deactivate them).
pub fn reclaim(ctx: &mut Ctx, scan: u64) -> KResult<()> {
    let mut order: Vec<FolioId> = Vec::new();
    for list in [LruList::Inactive, LruList::Active] {
        order.extend(
            ctx.w
                .live_folios()
                .filter(|(_, f)| f.lru == Some(list))
                .map(|(id, _)| id),
        );
    }
    ctx.step(
        "shrink_node",
        VMSCAN_C,
        format!("kswapd reclaims: scan up to {scan} folio(s) of the inactive and active LRU lists ({} candidates; the unevictable list is not scanned).", order.len()),
    );
    for folio in order.into_iter().take(scan as usize) {
        ctx.w.vmstat.pgscan += 1;
        shrink_folio(ctx, folio)?;
    }
    Ok(())
}

/// keep_locked (back on its list) or activate_locked (to the active list).
fn keep(ctx: &mut Ctx, folio: FolioId, why: &str, in_vain: bool, activate: bool) {
    let (func, path) = names::shrink_list(ctx.w.preset);
    ctx.step(func, path, format!("{folio}: {why}"));
    ctx.touch(ObjRef::Folio(folio));
    let f = ctx.w.folio_mut(folio);
    if activate && f.lru.is_some() {
        f.lru = Some(LruList::Active);
    }
    if in_vain {
        ctx.w.vmstat.pgscan_wasted += 1;
        let text = format!("Reclaim scanned {folio} and could not free it: {why}");
        ctx.hazard(HazardKind::ReclaimInVain, text, vec![ObjRef::Folio(folio)]);
    }
}

fn shrink_folio(ctx: &mut Ctx, folio: FolioId) -> KResult<()> {
    let preset = ctx.w.preset;
    let f = ctx.w.folio(folio).clone();
    if f.flags.mlocked {
        let (func, path) = names::shrink_list(preset);
        ctx.step(
            func,
            path,
            format!("{folio} is mlocked: move it to the unevictable list."),
        );
        ctx.w.folio_mut(folio).lru = Some(LruList::Unevictable);
        return Ok(());
    }
    if f.flags.writeback {
        keep(
            ctx,
            folio,
            "under writeback: mark it for reclaim (PG_reclaim) and move on.",
            false,
            false,
        );
        return Ok(());
    }
    if f.is_large() {
        keep(
            ctx,
            folio,
            "a large folio (splitting for reclaim is not modelled).",
            false,
            false,
        );
        return Ok(());
    }
    match f.kind {
        FolioKind::Anon => shrink_anon(ctx, folio, preset),
        FolioKind::File { file, index } => shrink_file(ctx, folio, file, index, preset),
        _ => Ok(()),
    }
}

/// Unmaps every PTE of an anon folio, replacing it by a swap entry.
fn unmap_anon(ctx: &mut Ctx, folio: FolioId, slot: u32) {
    let remember = ctx.w.preset.anon_reuse_rule() == ReuseRule::AnonExclusive;
    for (pid, vpn) in mappings_of(ctx, folio) {
        let ex = {
            let f = ctx.w.folio_mut(folio);
            let ex = f.pages[0].anon_exclusive;
            f.pages[0].anon_exclusive = false;
            f.pages[0].mapcount -= 1;
            ex
        };
        ctx.w.set_pte(
            pid,
            vpn,
            Pte::Swap {
                slot,
                exclusive: ex && remember,
            },
        );
        if let Some(e) = ctx.w.swap.get_mut(&slot) {
            e.count += 1;
        }
        ctx.w.folio_put(folio, 1);
        ctx.touch(ObjRef::Page(pid, vpn));
    }
}

fn shrink_anon(ctx: &mut Ctx, folio: FolioId, preset: Preset) -> KResult<()> {
    let f = ctx.w.folio(folio).clone();
    if !f.flags.swapcache {
        if f.maybe_dma_pinned() && preset.pinned_anon_kept_out_of_swap() {
            keep(
                ctx,
                folio,
                "may be DMA-pinned: not added to the swap cache (feb889fb40fa, 5.11); it stays mapped.",
                true,
                false,
            );
            return Ok(());
        }
        crate::swap::add_to_swap(ctx, folio);
    }
    let slot = ctx.w.folio(folio).swap_slot.expect("in swap cache");
    let f = ctx.w.folio(folio).clone();
    if f.is_mapped() {
        // folio_try_share_anon_rmap: an exclusive, maybe-pinned page cannot be unmapped (5.19+).
        if preset >= Preset::V5_19 && f.pages[0].anon_exclusive && f.maybe_dma_pinned() {
            keep(
                ctx,
                folio,
                "try_to_unmap fails: the page is anon-exclusive and may be pinned.",
                true,
                true,
            );
            return Ok(());
        }
        ctx.step(
            "try_to_unmap",
            "mm/rmap.c",
            format!("Replace every PTE mapping {folio} by a swap entry."),
        );
        unmap_anon(ctx, folio, slot);
    }
    if !crate::swap::swap_pageout(ctx, folio) {
        let f = ctx.w.folio(folio);
        let why = format!(
            "pageout() declines (is_page_cache_freeable): refcount {} but the swap cache holds only 1 ({}); it stays in the swap cache, unwritten.",
            f.refcount,
            if f.maybe_dma_pinned() {
                "the folio is pinned"
            } else {
                "extra references such as GUP refs"
            }
        );
        keep(ctx, folio, &why, true, false);
        return Ok(());
    }
    remove_or_keep(ctx, folio, |ctx| {
        let f = ctx.w.folio_mut(folio);
        f.flags.swapcache = false;
        f.swap_slot = None;
        if let Some(e) = ctx.w.swap.get_mut(&slot) {
            e.cache = None;
        }
    });
    Ok(())
}

/// __remove_mapping: frees the folio if only the cache (swap or page cache)
/// still references it (folio_ref_freeze fails on any other reference).
fn remove_or_keep(ctx: &mut Ctx, folio: FolioId, detach: impl FnOnce(&mut Ctx)) {
    let f = ctx.w.folio(folio);
    if f.refcount == f.nr_pages() as i64 && !f.flags.private {
        ctx.step(
            "__remove_mapping",
            VMSCAN_C,
            format!("Only the cache holds {folio}: remove it and free the folio."),
        );
        ctx.touch(ObjRef::Folio(folio));
        detach(ctx);
        let n = ctx.w.folio(folio).refcount;
        ctx.w.folio_put(folio, n);
        ctx.w.vmstat.pgsteal += 1;
    } else {
        let pinned = f.maybe_dma_pinned();
        let why = format!(
            "__remove_mapping fails: refcount {} but the cache holds only {} (extra references{}).",
            f.refcount,
            f.nr_pages(),
            if pinned {
                ", the folio is pinned"
            } else {
                " such as GUP refs"
            }
        );
        keep(ctx, folio, &why, true, false);
    }
}

fn shrink_file(ctx: &mut Ctx, folio: FolioId, file: crate::ids::FileId, index: u64, preset: Preset) -> KResult<()> {
    if !ctx.w.file(file).fs.has_disk() {
        keep(
            ctx,
            folio,
            "a memory filesystem page (shmem swap-out is not modelled).",
            false,
            false,
        );
        return Ok(());
    }
    if ctx.w.folio(folio).is_mapped() {
        ctx.step(
            "try_to_unmap",
            "mm/rmap.c",
            format!("Unmap every PTE of {folio} (their dirty bits move to the folio); a pin does not prevent this."),
        );
        ctx.touch(ObjRef::Folio(folio));
        for (pid, vpn) in mappings_of(ctx, folio) {
            let pte = ctx.w.pte(pid, vpn);
            let f = ctx.w.folio_mut(folio);
            if pte.is_dirty() {
                f.flags.dirty = true;
            }
            f.pages[0].mapcount -= 1;
            ctx.w.set_pte(pid, vpn, Pte::None);
            ctx.w.folio_put(folio, 1);
            ctx.touch(ObjRef::Page(pid, vpn));
        }
    }
    if ctx.w.folio(folio).maybe_dma_pinned() && preset >= Preset::V6_4 {
        keep(
            ctx,
            folio,
            "may be DMA-pinned now that it is unmapped: activate it and keep its buffers (d824ec2a1546, 6.4).",
            true,
            true,
        );
        return Ok(());
    }
    if ctx.w.folio(folio).flags.dirty {
        // pageout() writes only a folio that is_page_cache_freeable(): held by
        // the page cache, its private data and reclaim's isolation alone.
        if !page_cache_freeable(ctx, folio) {
            let f = ctx.w.folio(folio);
            let why = format!(
                "dirty, but pageout() declines (is_page_cache_freeable: refcount {} is more than the page cache's {}{}): something else holds it{}.",
                f.refcount,
                f.nr_pages(),
                if f.flags.private {
                    " + 1 for the private data"
                } else {
                    ""
                },
                if f.maybe_dma_pinned() {
                    ", a pin"
                } else {
                    ", such as a GUP reference"
                }
            );
            keep(ctx, folio, &why, true, false);
            return Ok(());
        }
        ctx.step(
            "pageout",
            VMSCAN_C,
            format!("{folio} is dirty: kswapd starts writing it out (->writepage); reclaim moves on and comes back once the write is done."),
        );
        crate::writeback::writeback_range(ctx, file, index, 1, false)?;
        return Ok(());
    }
    if ctx.w.folio(folio).flags.private {
        let (func, path) = names::release_folio(preset);
        ctx.step(
            func,
            path,
            format!(
                "{folio} is clean: the filesystem frees its private data (buffer heads), which drops their reference."
            ),
        );
        ctx.w.detach_private(folio);
        ctx.touch(ObjRef::Folio(folio));
    }
    remove_or_keep(ctx, folio, |ctx| {
        ctx.w.file_mut(file).cache.remove(&index);
    });
    Ok(())
}

/// mm/vmscan.c: is_page_cache_freeable: only the page cache (one reference
/// per page) and the private data hold the folio (reclaim's own isolation
/// reference is not modelled).
fn page_cache_freeable(ctx: &Ctx, folio: FolioId) -> bool {
    let f = ctx.w.folio(folio);
    f.refcount - i64::from(f.flags.private) == f.nr_pages() as i64
}

/// mlock(2): VM_LOCKED, populate the range, and move its folios to the
/// unevictable list (mm/mlock.c: mlock_folio).
pub fn mlock(ctx: &mut Ctx, pid: Pid, first: u64, n: u64) -> KResult<()> {
    let starts: Vec<u64> = {
        let mut v = Vec::new();
        let mut vpn = first;
        while vpn < first + n {
            let vma = ctx.w.vma(pid, vpn)?;
            v.push(vma.start);
            vpn = vma.end();
        }
        v
    };
    ctx.step(
        "mlock_fixup",
        "mm/mlock.c",
        format!("mlock {n} page(s): set VM_LOCKED, fault them in, and move their folios to the unevictable list."),
    );
    for s in &starts {
        let mm = &mut ctx.w.proc_mut(pid).mm;
        Arc::make_mut(mm.vmas.get_mut(s).expect("vma")).flags.locked = true;
    }
    crate::vma_ops::populate_range(ctx, pid, first, n)?;
    for vpn in first..first + n {
        if let Some((folio, _)) = ctx.w.pte(pid, vpn).folio()
            && !ctx.w.folio(folio).is_zero()
        {
            let f = ctx.w.folio_mut(folio);
            f.flags.mlocked = true;
            f.lru = Some(LruList::Unevictable);
            ctx.touch(ObjRef::Folio(folio));
        }
    }
    Ok(())
}
