//! Swap-out of anonymous pages (MADV_PAGEOUT -> reclaim_pages ->
//! shrink_folio_list) and the swap cache.

use crate::error::KResult;
use crate::ids::{FolioId, Pid};
use crate::step::{Ctx, ObjRef};
use crate::world::SwapEntry;

const VMSCAN_C: &str = "mm/vmscan.c";

/// mm/swap_state.c: delete_from_swap_cache: the swap cache drops its
/// reference and the slot is freed if no swap PTE needs it.
pub fn delete_from_swap_cache(ctx: &mut Ctx, folio: FolioId) {
    let Some(slot) = ctx.w.folio(folio).swap_slot else {
        return;
    };
    let (func, path) = crate::names::free_swap(ctx.w.preset);
    ctx.step(
        func,
        path,
        "No swap PTE needs the slot any more: remove the folio from the swap cache (one reference less) and free the slot.",
    );
    {
        let f = ctx.w.folio_mut(folio);
        f.flags.swapcache = false;
        f.swap_slot = None;
    }
    ctx.w.folio_put(folio, 1);
    if ctx.w.swap.get(&slot).is_some_and(|s| s.count == 0) {
        ctx.w.swap.remove(&slot);
    } else if let Some(s) = ctx.w.swap.get_mut(&slot) {
        s.cache = None;
    }
    ctx.touch(ObjRef::Folio(folio));
}

/// mm/swap_state.c: add_to_swap: a new slot, the folio in the swap cache
/// (one more reference). Nothing is written yet: pageout() writes the slot
/// later, and only if the swap cache is all that holds the folio.
pub fn add_to_swap(ctx: &mut Ctx, folio: FolioId) -> u32 {
    let (func, path) = crate::names::add_to_swap(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!("{folio}: allocate a swap slot and add the folio to the swap cache (one more reference)."),
    );
    ctx.touch(ObjRef::Folio(folio));
    let slot = ctx.w.next_swap;
    ctx.w.next_swap += 1;
    let data = ctx.w.folio(folio).pages[0].data.clone();
    ctx.w.swap.insert(
        slot,
        SwapEntry {
            data,
            count: 0,
            cache: Some(folio),
        },
    );
    let f = ctx.w.folio_mut(folio);
    f.flags.swapcache = true;
    f.swap_slot = Some(slot);
    f.refcount += 1;
    slot
}

/// mm/vmscan.c: pageout() of an unmapped anon folio in the swap cache:
/// is_page_cache_freeable() must hold (the swap cache is its only holder),
/// else PAGE_KEEP and nothing is written. On success the slot receives the
/// data (the model writes swap synchronously) and pswpout counts the page.
/// Returns whether it wrote.
pub fn swap_pageout(ctx: &mut Ctx, folio: FolioId) -> bool {
    let f = ctx.w.folio(folio);
    let Some(slot) = f.swap_slot else {
        return false;
    };
    // is_page_cache_freeable: the swap cache and, during reclaim, the
    // isolation are the only holders.
    if f.refcount != 1 + i64::from(f.isolated) {
        return false;
    }
    ctx.step(
        "pageout",
        VMSCAN_C,
        if ctx.w.preset >= crate::Preset::V6_18 {
            format!(
                "{folio} is held by the swap cache alone: write it to its swap slot (writeout() -> swap_writeout())."
            )
        } else {
            format!("{folio} is held by the swap cache alone: write it to its swap slot (->writepage: swap_writepage).")
        },
    );
    let data = ctx.w.folio(folio).pages[0].data.clone();
    if let Some(e) = ctx.w.swap.get_mut(&slot) {
        e.data = data;
    }
    ctx.w.vmstat.pswpout += 1;
    true
}

/// Drops one swap PTE's claim on a slot (zap of a swap entry).
pub fn swap_free(ctx: &mut Ctx, slot: u32) {
    let Some(e) = ctx.w.swap.get_mut(&slot) else {
        return;
    };
    e.count -= 1;
    if e.count == 0 {
        match e.cache {
            Some(f) => delete_from_swap_cache(ctx, f),
            None => {
                ctx.w.swap.remove(&slot);
            }
        }
    }
}

/// MADV_PAGEOUT of one exclusively mapped small anon page at `vpn`
/// (madvise_cold_or_pageout_pte_range skips shared and large folios, then
/// reclaim_pages -> shrink_folio_list).
pub fn pageout_anon(ctx: &mut Ctx, pid: Pid, vpn: u64) -> KResult<()> {
    let pte = ctx.w.pte(pid, vpn);
    let Some((folio, _)) = pte.folio() else {
        return Ok(());
    };
    let f = ctx.w.folio(folio);
    if !f.is_anon() || f.is_large() || f.total_mapcount() != 1 || f.lru.is_none() || f.flags.mlocked {
        return Ok(());
    }
    crate::reclaim::reclaim_pages(ctx, &[folio])
}
