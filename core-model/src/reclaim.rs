//! Page reclaim as kswapd runs it (mm/vmscan.c: shrink_node ->
//! shrink_lruvec -> shrink_inactive_list / shrink_active_list ->
//! shrink_folio_list), MADV_PAGEOUT's reclaim_pages, and mlock.
//!
//! One `reclaim` action is one round of shrink_lruvec over the anonymous and
//! the file LRU lists, in the kernel's order (inactive anon, active anon,
//! inactive file, active file): each inactive list gives up to `scan` of
//! its oldest folios, isolated with a reference of reclaim's own; an active
//! list is aged (deactivated) only when it is larger than its inactive list
//! (inactive_is_low). Pinned folios stay on the normal LRU lists and are
//! scanned in vain (docs/kernel-reference.md, rows 21-22).

use crate::error::KResult;
use crate::file::FsKind;
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

/// Which LRU a folio is on: swap-backed (anon, shmem) or file
/// (folio_is_file_lru).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LruType {
    Anon,
    File,
}

impl LruType {
    fn name(self) -> &'static str {
        match self {
            LruType::Anon => "anon",
            LruType::File => "file",
        }
    }
}

fn lru_type(ctx: &Ctx, folio: FolioId) -> Option<LruType> {
    match ctx.w.folio(folio).kind {
        FolioKind::Anon => Some(LruType::Anon),
        FolioKind::File { file, .. } if !ctx.w.file(file).fs.has_disk() => Some(LruType::Anon),
        FolioKind::File { .. } => Some(LruType::File),
        _ => None,
    }
}

/// How shrink_folio_list is driven (struct scan_control).
#[derive(Clone, Copy, Debug)]
struct ScanControl {
    /// current_is_kswapd(): only kswapd writes dirty file folios itself.
    kswapd: bool,
    /// MADV_PAGEOUT (reclaim_pages): the references are not consulted.
    ignore_references: bool,
}

/// Where shrink_folio_list leaves a folio it could not free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Freed,
    /// keep / keep_locked: back on the inactive list.
    Keep,
    /// activate_locked: to the active list.
    Activate,
    /// Not evictable (mlocked): to the unevictable list.
    Unevictable,
}

/// What one pass saw, for PGDAT_DIRTY (sc->nr.file_taken, nr.unqueued_dirty).
#[derive(Default)]
struct PassStats {
    file_taken: u64,
    unqueued_dirty: u64,
}

/// folio_check_references' answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum References {
    Activate,
    Keep,
    Reclaim,
    /// Reclaim only if clean (a file folio referenced before, not mapped young).
    ReclaimClean,
}

/// kswapd: one round of reclaim over the LRU lists.
pub fn reclaim(ctx: &mut Ctx, scan: u64) -> KResult<()> {
    ctx.step(
        "shrink_node",
        VMSCAN_C,
        format!(
            "kswapd reclaims: from each inactive list (anon, then file) take up to {scan} of the oldest folios and try to free them; age an active list only when it is larger than its inactive list. The unevictable list is not scanned."
        ),
    );
    let sc = ScanControl {
        kswapd: true,
        ignore_references: false,
    };
    let mut stats = PassStats::default();
    for lru in [LruType::Anon, LruType::File] {
        // get_scan_count sizes the round from the lists as they are at its
        // start: a folio this round activates is not aged in the same round.
        let active = lru_folios(ctx, lru, LruList::Active);
        shrink_inactive_list(ctx, lru, scan, sc, &mut stats)?;
        if inactive_is_low(ctx, lru) {
            shrink_active_list(ctx, lru, &active, scan);
        }
    }
    // shrink_node: "Allow kswapd to start writing pages during reclaim."
    if stats.file_taken > 0 && stats.unqueued_dirty == stats.file_taken && !ctx.w.pgdat_dirty {
        ctx.step(
            "shrink_node",
            VMSCAN_C,
            format!(
                "Every file folio this pass took ({}) was dirty and not queued for writeback: set PGDAT_DIRTY on the node, so that kswapd may write such folios itself when it meets them again.",
                stats.file_taken
            ),
        );
        ctx.w.pgdat_dirty = true;
    }
    Ok(())
}

/// LRU folios of one type on one list, oldest (tail) first.
fn lru_folios(ctx: &Ctx, lru: LruType, list: LruList) -> Vec<FolioId> {
    let mut v: Vec<(i64, FolioId)> = ctx
        .w
        .live_folios()
        .filter(|(_, f)| f.lru == Some(list))
        .map(|(id, f)| (f.lru_seq, id))
        .filter(|(_, id)| lru_type(ctx, *id) == Some(lru))
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, id)| id).collect()
}

/// mm/vmscan.c: inactive_is_low: the inactive list is too small when
/// inactive * ratio < active, ratio int_sqrt(10 * GiB of the two lists), or
/// 1 below a GiB.
fn inactive_is_low(ctx: &Ctx, lru: LruType) -> bool {
    let pages = |list| {
        lru_folios(ctx, lru, list)
            .iter()
            .map(|id| ctx.w.folio(*id).nr_pages() as u64)
            .sum::<u64>()
    };
    let (inactive, active) = (pages(LruList::Inactive), pages(LruList::Active));
    let gb = (inactive + active) >> (30 - 12);
    let ratio = if gb > 0 { (10 * gb).isqrt() } else { 1 };
    inactive * ratio < active
}

/// mm/vmscan.c: shrink_active_list: deactivate up to `scan` of the oldest
/// active folios. folio_referenced clears their accessed bits on the way;
/// only referenced executable file pages would stay active, and the model has
/// no VM_EXEC.
fn shrink_active_list(ctx: &mut Ctx, lru: LruType, at_start: &[FolioId], scan: u64) {
    let take: Vec<FolioId> = lru_folios(ctx, lru, LruList::Active)
        .into_iter()
        .filter(|id| at_start.contains(id))
        .take(scan as usize)
        .collect();
    if take.is_empty() {
        return;
    }
    ctx.step(
        "shrink_active_list",
        VMSCAN_C,
        format!(
            "The inactive {} list is smaller than the active one (inactive_is_low): move its {} oldest active folio(s) to the inactive list; folio_referenced clears their accessed bits on the way.",
            lru.name(),
            take.len()
        ),
    );
    for id in take {
        clear_young(ctx, id);
        ctx.w.lru_move(id, LruList::Inactive, true);
        ctx.w.vmstat.pgdeactivate += ctx.w.folio(id).nr_pages() as u64;
        ctx.touch(ObjRef::Folio(id));
    }
}

/// mm/vmscan.c: shrink_inactive_list: isolate, shrink_folio_list, put back.
fn shrink_inactive_list(ctx: &mut Ctx, lru: LruType, scan: u64, sc: ScanControl, stats: &mut PassStats) -> KResult<()> {
    let take: Vec<FolioId> = lru_folios(ctx, lru, LruList::Inactive)
        .into_iter()
        .take(scan as usize)
        .collect();
    if take.is_empty() {
        return Ok(());
    }
    isolate(ctx, &take, lru.name());
    ctx.w.vmstat.pgscan += take.len() as u64;
    shrink_and_put_back(ctx, &take, sc, stats)
}

/// isolate_lru_folios (isolate_lru_pages before 6.1): off the list, PG_lru
/// cleared, one reference each (folio_try_get; get_page_unless_zero before).
fn isolate(ctx: &mut Ctx, folios: &[FolioId], list: &str) {
    let (func, path) = names::isolate_lru(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!(
            "Take {} folio(s) off the inactive {list} list, oldest first. Reclaim holds one reference on each while it works on it (refcount +1).",
            folios.len()
        ),
    );
    for id in folios {
        let f = ctx.w.folio_mut(*id);
        f.isolated = true;
        f.lru = None;
        f.refcount += 1;
        ctx.touch(ObjRef::Folio(*id));
    }
}

/// shrink_folio_list over isolated folios, then move_folios_to_lru.
fn shrink_and_put_back(ctx: &mut Ctx, folios: &[FolioId], sc: ScanControl, stats: &mut PassStats) -> KResult<()> {
    let mut verdicts = Vec::with_capacity(folios.len());
    for id in folios {
        verdicts.push((*id, shrink_folio(ctx, *id, sc, stats)?));
    }
    put_back(ctx, &verdicts);
    Ok(())
}

/// move_folios_to_lru (move_pages_to_lru / putback_inactive_pages before
/// 6.1): what was not freed goes back to a list and loses reclaim's reference.
fn put_back(ctx: &mut Ctx, verdicts: &[(FolioId, Verdict)]) {
    let count = |v: Verdict| verdicts.iter().filter(|(_, x)| *x == v).count();
    let back = verdicts.len() - count(Verdict::Freed);
    if back == 0 {
        return;
    }
    let (func, path) = names::put_back_lru(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!(
            "Put back the {back} folio(s) reclaim did not free ({} to the active list, {} to the inactive list{}); each loses reclaim's reference.",
            count(Verdict::Activate),
            count(Verdict::Keep),
            match count(Verdict::Unevictable) {
                0 => String::new(),
                n => format!(", {n} to the unevictable list"),
            }
        ),
    );
    for (id, v) in verdicts {
        let list = match v {
            Verdict::Freed => continue,
            Verdict::Keep => LruList::Inactive,
            Verdict::Activate => {
                ctx.w.vmstat.pgactivate += ctx.w.folio(*id).nr_pages() as u64;
                LruList::Active
            }
            Verdict::Unevictable => LruList::Unevictable,
        };
        ctx.w.folio_mut(*id).isolated = false;
        ctx.w.lru_move(*id, list, true);
        ctx.w.folio_put(*id, 1);
        ctx.touch(ObjRef::Folio(*id));
    }
}

/// A folio reclaim gives up on, and why; `in_vain` raises the hazard.
fn give_up(ctx: &mut Ctx, folio: FolioId, why: &str, in_vain: bool, v: Verdict) -> Verdict {
    let (func, path) = names::shrink_list(ctx.w.preset);
    ctx.step(func, path, format!("{folio}: {why}"));
    ctx.touch(ObjRef::Folio(folio));
    if in_vain {
        ctx.w.vmstat.pgscan_wasted += 1;
        let text = format!("Reclaim scanned {folio} and could not free it: {why}");
        ctx.hazard(HazardKind::ReclaimInVain, text, vec![ObjRef::Folio(folio)]);
    }
    v
}

/// folio_referenced's rmap walk: how many of the folio's mappings are young
/// (a PMD counts once), clearing their accessed bits.
fn clear_young(ctx: &mut Ctx, folio: FolioId) -> u32 {
    let mut young = 0;
    for (pid, vpn) in mappings_of(ctx, folio) {
        let mut pte = ctx.w.pte(pid, vpn);
        if !pte.is_young() {
            continue;
        }
        let pmd_tail = pte.is_pmd()
            && ctx
                .w
                .pte(pid, vpn.wrapping_sub(1))
                .folio()
                .is_some_and(|(f, _)| f == folio);
        if !pmd_tail {
            young += 1;
        }
        pte.set_young(false);
        ctx.w.set_pte(pid, vpn, pte);
        ctx.touch(ObjRef::Page(pid, vpn));
    }
    young
}

/// mm/vmscan.c: folio_check_references (page_check_references before 6.1).
fn check_references(ctx: &mut Ctx, folio: FolioId) -> References {
    let young = clear_young(ctx, folio);
    let f = ctx.w.folio_mut(folio);
    let was_referenced = std::mem::take(&mut f.flags.referenced);
    let swap_backed = lru_type(ctx, folio) == Some(LruType::Anon);
    let preset = ctx.w.preset;
    let answer = if young > 0 {
        if swap_backed && preset.young_anon_activates_at_once() {
            References::Activate
        } else {
            ctx.w.folio_mut(folio).flags.referenced = true;
            if was_referenced || young > 1 {
                References::Activate
            } else {
                References::Keep
            }
        }
    } else if was_referenced && !swap_backed {
        References::ReclaimClean
    } else {
        References::Reclaim
    };
    let (func, path) = names::check_references(preset);
    let why = match answer {
        References::Activate if young > 0 && swap_backed && preset.young_anon_activates_at_once() => {
            format!("{young} young mapping(s) of a swap-backed folio: activate it (before 5.9).")
        }
        References::Activate => format!(
            "{young} young mapping(s){}: it is in use, activate it (accessed bits now cleared).",
            if was_referenced {
                " and PG_referenced from before"
            } else {
                ""
            }
        ),
        References::Keep => format!(
            "{young} young mapping(s) but no earlier reference: set PG_referenced and keep it on the inactive list for a second look (accessed bits now cleared)."
        ),
        References::ReclaimClean => {
            "no young mapping, but PG_referenced from an earlier access: reclaim it only if it is clean.".to_string()
        }
        References::Reclaim => return References::Reclaim,
    };
    ctx.step(func, path, format!("{folio}: {why}"));
    ctx.touch(ObjRef::Folio(folio));
    answer
}

/// mm/vmscan.c: shrink_folio_list (shrink_page_list before 6.1) on one
/// isolated folio, in the kernel's order: evictable, writeback, references,
/// then the anon or file path.
fn shrink_folio(ctx: &mut Ctx, folio: FolioId, sc: ScanControl, stats: &mut PassStats) -> KResult<Verdict> {
    let preset = ctx.w.preset;
    let f = ctx.w.folio(folio).clone();
    if f.flags.mlocked {
        return Ok(give_up(
            ctx,
            folio,
            "mlocked, not evictable: it goes to the unevictable list.",
            false,
            Verdict::Unevictable,
        ));
    }
    let file = lru_type(ctx, folio) == Some(LruType::File);
    if file {
        // folio_check_dirty_writeback: only file folios count.
        stats.file_taken += 1;
        if f.flags.dirty && !f.flags.writeback {
            stats.unqueued_dirty += 1;
        }
    }
    if f.flags.writeback {
        ctx.w.folio_mut(folio).flags.reclaim = true;
        return Ok(give_up(
            ctx,
            folio,
            "under writeback: set PG_reclaim (the end of the write will rotate it to the tail of the inactive list) and activate it.",
            false,
            Verdict::Activate,
        ));
    }
    let refs = if sc.ignore_references {
        References::Reclaim
    } else {
        check_references(ctx, folio)
    };
    match refs {
        References::Activate => return Ok(Verdict::Activate),
        References::Keep => return Ok(Verdict::Keep),
        References::Reclaim | References::ReclaimClean => {}
    }
    if f.is_large() {
        return Ok(give_up(
            ctx,
            folio,
            "a large folio (splitting for reclaim is not modelled).",
            false,
            Verdict::Keep,
        ));
    }
    match f.kind {
        FolioKind::Anon => shrink_anon(ctx, folio, preset),
        FolioKind::File { file, index } => shrink_file(ctx, folio, file, index, refs, sc),
        _ => Ok(Verdict::Keep),
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

/// d824ec2a1546 (6.4): `if (folio_maybe_dma_pinned(folio)) goto
/// activate_locked;` once the folio is unmapped, before its data or its
/// private data are touched.
fn pinned_after_unmap(ctx: &mut Ctx, folio: FolioId) -> Option<Verdict> {
    (ctx.w.preset >= Preset::V6_4 && ctx.w.folio(folio).maybe_dma_pinned()).then(|| {
        give_up(
            ctx,
            folio,
            "may be DMA-pinned now that it is unmapped: activate it, write nothing and keep its private data (d824ec2a1546, 6.4).",
            true,
            Verdict::Activate,
        )
    })
}

/// folio_maybe_dma_pinned while reclaim's own reference is counted: a small
/// folio with 1022 GUP references and one mapping reaches the 1024 bias.
fn pinned_note(ctx: &Ctx, folio: FolioId) -> &'static str {
    let f = ctx.w.folio(folio);
    let without_isolation = f.refcount.saturating_sub(1);
    if f.has_pincount() || without_isolation >= crate::folio::GUP_PIN_COUNTING_BIAS {
        ""
    } else {
        " (counting reclaim's own reference: a false positive)"
    }
}

fn shrink_anon(ctx: &mut Ctx, folio: FolioId, preset: Preset) -> KResult<Verdict> {
    let f = ctx.w.folio(folio).clone();
    if !f.flags.swapcache {
        if f.maybe_dma_pinned() && preset.pinned_anon_kept_out_of_swap() {
            let why = format!(
                "may be DMA-pinned{}: not added to the swap cache (feb889fb40fa, 5.11); it stays mapped.",
                pinned_note(ctx, folio)
            );
            return Ok(give_up(ctx, folio, &why, true, Verdict::Keep));
        }
        crate::swap::add_to_swap(ctx, folio);
    }
    let slot = ctx.w.folio(folio).swap_slot.expect("in swap cache");
    let f = ctx.w.folio(folio).clone();
    if f.is_mapped() {
        // folio_try_share_anon_rmap: an exclusive, maybe-pinned page cannot be unmapped (5.19+).
        if preset >= Preset::V5_19 && f.pages[0].anon_exclusive && f.maybe_dma_pinned() {
            return Ok(give_up(
                ctx,
                folio,
                "try_to_unmap fails: the page is anon-exclusive and may be pinned.",
                true,
                Verdict::Activate,
            ));
        }
        ctx.step(
            "try_to_unmap",
            "mm/rmap.c",
            format!("Replace every PTE mapping {folio} by a swap entry."),
        );
        unmap_anon(ctx, folio, slot);
    }
    if let Some(v) = pinned_after_unmap(ctx, folio) {
        return Ok(v);
    }
    if !crate::swap::swap_pageout(ctx, folio) {
        let f = ctx.w.folio(folio);
        let why = format!(
            "pageout() declines (is_page_cache_freeable): refcount {} but the swap cache and reclaim hold only 2 ({}); it stays in the swap cache, unwritten.",
            f.refcount,
            if f.maybe_dma_pinned() {
                "the folio is pinned"
            } else {
                "extra references such as GUP refs"
            }
        );
        return Ok(give_up(ctx, folio, &why, true, Verdict::Keep));
    }
    Ok(remove_or_keep(ctx, folio, |ctx| {
        let f = ctx.w.folio_mut(folio);
        f.flags.swapcache = false;
        f.swap_slot = None;
        if let Some(e) = ctx.w.swap.get_mut(&slot) {
            e.cache = None;
        }
    }))
}

/// __remove_mapping: frees the folio if only the cache (swap or page cache)
/// and reclaim still reference it (folio_ref_freeze fails on any other).
fn remove_or_keep(ctx: &mut Ctx, folio: FolioId, detach: impl FnOnce(&mut Ctx)) -> Verdict {
    let f = ctx.w.folio(folio);
    let expected = f.nr_pages() as i64 + i64::from(f.isolated);
    if f.refcount == expected && !f.flags.private {
        ctx.step(
            "__remove_mapping",
            VMSCAN_C,
            format!("Only the cache and reclaim hold {folio}: remove it and free the folio."),
        );
        ctx.touch(ObjRef::Folio(folio));
        detach(ctx);
        let f = ctx.w.folio_mut(folio);
        f.isolated = false;
        let n = f.refcount;
        ctx.w.folio_put(folio, n);
        ctx.w.vmstat.pgsteal += 1;
        Verdict::Freed
    } else {
        let pinned = f.maybe_dma_pinned();
        let why = format!(
            "__remove_mapping fails: refcount {} but the cache and reclaim hold only {expected} (extra references{}).",
            f.refcount,
            if pinned {
                ", the folio is pinned"
            } else {
                " such as GUP refs"
            }
        );
        give_up(ctx, folio, &why, true, Verdict::Keep)
    }
}

fn shrink_file(
    ctx: &mut Ctx,
    folio: FolioId,
    file: crate::ids::FileId,
    index: u64,
    refs: References,
    sc: ScanControl,
) -> KResult<Verdict> {
    let fs = ctx.w.file(file).fs;
    if !fs.has_disk() {
        return Ok(give_up(
            ctx,
            folio,
            "a memory filesystem page (shmem swap-out is not modelled).",
            false,
            Verdict::Keep,
        ));
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
    if let Some(v) = pinned_after_unmap(ctx, folio) {
        return Ok(v);
    }
    if ctx.w.folio(folio).flags.dirty {
        return dirty_file(ctx, folio, file, index, fs, refs, sc);
    }
    if ctx.w.folio(folio).flags.private {
        let (func, path) = names::release_folio(ctx.w.preset);
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
    Ok(remove_or_keep(ctx, folio, |ctx| {
        ctx.w.file_mut(file).cache.remove(&index);
    }))
}

/// A dirty page-cache folio: kswapd leaves it to the flusher threads unless
/// it meets it a second time with PG_reclaim set and the node PGDAT_DIRTY,
/// and then pageout() writes it only where the filesystem still has a
/// ->writepage (mm/vmscan.c 5.7 l.1319-1330, 6.4 l.1965-1993, 6.12 l.1339).
fn dirty_file(
    ctx: &mut Ctx,
    folio: FolioId,
    file: crate::ids::FileId,
    index: u64,
    fs: FsKind,
    refs: References,
    sc: ScanControl,
) -> KResult<Verdict> {
    let f = ctx.w.folio(folio);
    if !(sc.kswapd && f.flags.reclaim && ctx.w.pgdat_dirty) {
        ctx.w.folio_mut(folio).flags.reclaim = true;
        let why = if sc.kswapd {
            "dirty: leave it to the flusher threads. Set PG_reclaim (written back, it will be reclaimed at once) and activate it; kswapd writes a dirty file folio itself only when it meets it again with PG_reclaim set and the node marked PGDAT_DIRTY."
        } else {
            "dirty: only kswapd writes file folios from reclaim. Set PG_reclaim and activate it."
        };
        return Ok(give_up(ctx, folio, why, false, Verdict::Activate));
    }
    if refs == References::ReclaimClean {
        return Ok(give_up(
            ctx,
            folio,
            "dirty and referenced recently (PG_referenced): keep it.",
            false,
            Verdict::Keep,
        ));
    }
    // pageout() writes only a folio that is_page_cache_freeable(): held by
    // the page cache, its private data and reclaim's isolation alone.
    if !page_cache_freeable(ctx, folio) {
        let f = ctx.w.folio(folio);
        let why = format!(
            "dirty, but pageout() declines (is_page_cache_freeable: refcount {} is more than the page cache's {} + reclaim's 1{}): something else holds it{}.",
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
        return Ok(give_up(ctx, folio, &why, true, Verdict::Keep));
    }
    let preset = ctx.w.preset;
    if !preset.pageout_writes(fs) {
        let why = if preset >= Preset::V6_18 {
            "dirty: pageout() no longer writes filesystem folios (6.18: \"We no longer attempt to writeback filesystem folios here\"): PAGE_ACTIVATE, the flusher threads will write it."
        } else {
            match fs {
                FsKind::Xfs => {
                    "dirty: xfs has no ->writepage since 5.15, so pageout() returns PAGE_ACTIVATE; the flusher threads will write it."
                }
                FsKind::Btrfs => {
                    "dirty: btrfs has no ->writepage since 6.0, so pageout() returns PAGE_ACTIVATE; the flusher threads will write it."
                }
                _ => {
                    "dirty: ext4 has no ->writepage since 6.2, so pageout() returns PAGE_ACTIVATE; the flusher threads will write it."
                }
            }
        };
        return Ok(give_up(ctx, folio, why, false, Verdict::Activate));
    }
    ctx.step(
        "pageout",
        VMSCAN_C,
        format!("{folio} is dirty, seen a second time with PG_reclaim and PGDAT_DIRTY: kswapd writes it out itself (->writepage); reclaim moves on, and the end of the write rotates it to the tail of the inactive list."),
    );
    crate::writeback::writeback_range(ctx, file, index, 1, false)?;
    Ok(Verdict::Keep)
}

/// mm/vmscan.c: is_page_cache_freeable: only the page cache (one reference
/// per page), the private data and reclaim's isolation hold the folio.
fn page_cache_freeable(ctx: &Ctx, folio: FolioId) -> bool {
    let f = ctx.w.folio(folio);
    f.refcount - i64::from(f.flags.private) == f.nr_pages() as i64 + i64::from(f.isolated)
}

/// mm/vmscan.c: reclaim_pages, as MADV_PAGEOUT drives it
/// (madvise_cold_or_pageout_pte_range has cleared the accessed bits and
/// PG_referenced first): isolate each folio, shrink_folio_list without
/// looking at references, put back what was not freed.
pub fn reclaim_pages(ctx: &mut Ctx, folios: &[FolioId]) -> KResult<()> {
    if folios.is_empty() {
        return Ok(());
    }
    for id in folios {
        clear_young(ctx, *id);
        ctx.w.folio_mut(*id).flags.referenced = false;
    }
    isolate(ctx, folios, "anon");
    let sc = ScanControl {
        kswapd: false,
        ignore_references: true,
    };
    shrink_and_put_back(ctx, folios, sc, &mut PassStats::default())
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
            ctx.w.folio_mut(folio).flags.mlocked = true;
            ctx.w.lru_move(folio, LruList::Unevictable, true);
            ctx.touch(ObjRef::Folio(folio));
        }
    }
    Ok(())
}
