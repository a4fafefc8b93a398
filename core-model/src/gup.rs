//! get_user_pages / pin_user_pages and their release (mm/gup.c; docs/model.md,
//! "GUP" and "Release").

use crate::error::{Errno, KResult, errno, invalid};
use crate::fault::{FaultKind, handle_mm_fault};
use crate::folio::{FolioKind, GUP_PIN_COUNTING_BIAS, LruList};
use crate::holder::{Grab, HeldPage, Holder, HolderKind};
use crate::ids::{FolioId, Pid, ZERO_FOLIO};
use crate::mm::{Backing, Pte, Vma};
use crate::names;
use crate::step::{Ctx, ObjRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const GUP_C: &str = "mm/gup.c";

/// The FOLL_* flags a caller chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GupFlags {
    /// FOLL_PIN (pin_user_pages*) instead of FOLL_GET (get_user_pages*).
    pub pin: bool,
    /// FOLL_WRITE: the caller (device) will write to the pages.
    pub write: bool,
    /// FOLL_LONGTERM.
    pub longterm: bool,
    /// The lockless GUP-fast walk first (*_fast variants).
    pub fast: bool,
    /// FOLL_FORCE: a write may go through a read-only private (COW) mapping,
    /// as ptrace does; the written page becomes an anonymous copy.
    pub force: bool,
}

impl GupFlags {
    pub fn describe(&self) -> String {
        let mut s = String::from(if self.pin { "FOLL_PIN" } else { "FOLL_GET" });
        if self.write {
            s.push_str("|FOLL_WRITE");
        }
        if self.longterm {
            s.push_str("|FOLL_LONGTERM");
        }
        if self.force {
            s.push_str("|FOLL_FORCE");
        }
        s
    }
}

/// mm/gup.c: is_valid_gup_args, before anything else.
fn check_args(flags: GupFlags) -> KResult<()> {
    if flags.longterm && !flags.pin {
        return errno(
            Errno::EINVAL,
            "FOLL_LONGTERM needs FOLL_PIN: get_user_pages refuses long-term references (is_valid_gup_args)",
        );
    }
    Ok(())
}

/// mm/gup.c: check_vma_flags, for every VMA the range touches.
fn check_range(ctx: &Ctx, pid: Pid, first: u64, n: u64, flags: GupFlags) -> KResult<()> {
    let w = &ctx.w;
    let mut vpn = first;
    let end = first + n;
    while vpn < end {
        let vma = w.vma(pid, vpn)?;
        if !vma.flags.read {
            return errno(
                Errno::EFAULT,
                format!("{} is not readable (check_vma_flags)", w.page_name(pid, vpn)),
            );
        }
        // FOLL_FORCE lets a write through a read-only COW mapping (never a shared one).
        if flags.write && !vma.flags.write && !(flags.force && vma.flags.is_cow()) {
            return errno(
                Errno::EFAULT,
                format!(
                    "FOLL_WRITE on read-only {} (check_vma_flags, no FOLL_FORCE)",
                    w.page_name(pid, vpn)
                ),
            );
        }
        if let Backing::File { file, .. } = vma.backing {
            let fs = w.file(file).fs;
            // 8ac268436e6d (6.5): writable long-term pins of dirty-tracked
            // shared file mappings are refused.
            if flags.pin
                && flags.longterm
                && flags.write
                && vma.flags.shared
                && fs.dirty_tracked()
                && w.preset.refuses_longterm_write_pins_of_dirty_tracked_files()
            {
                return errno(
                    Errno::EFAULT,
                    format!(
                        "writable FOLL_LONGTERM pin of a shared {fs:?} file mapping: the filesystem must track dirtying (check_vma_flags, vma_needs_dirty_tracking, 6.5+)"
                    ),
                );
            }
        }
        vpn = vma.end();
    }
    Ok(())
}

/// gup_must_unshare for a R/O pin (include/linux/mm.h in 5.19-6.2,
/// mm/internal.h from 6.3).
fn must_unshare(ctx: &Ctx, vma: &Vma, folio: FolioId, page: usize, flags: GupFlags) -> bool {
    if !flags.pin || flags.write {
        return false;
    }
    let f = ctx.w.folio(folio);
    let preset = ctx.w.preset;
    if f.is_anon() {
        preset.unshare_ro_pins_of_anon() && !f.pages[page].anon_exclusive
    } else {
        flags.longterm && vma.flags.is_cow() && preset.unshare_ro_longterm_pins_of_non_anon()
    }
}

/// What the slow path must fault before it can grab the page, if anything.
fn needed_fault(ctx: &Ctx, pid: Pid, vpn: u64, flags: GupFlags, wrote_once: bool) -> KResult<Option<FaultKind>> {
    let vma = ctx.w.vma(pid, vpn)?;
    // 17839856fd58 (5.8): on a COW mapping every GUP breaks COW with a write fault.
    let forced = ctx.w.preset.gup_forces_cow_break() && vma.flags.is_cow();
    let write = flags.write || forced;
    Ok(match vma.pte(vpn) {
        Pte::None | Pte::Swap { .. } => Some(if write { FaultKind::Write } else { FaultKind::Read }),
        Pte::Present {
            writable, folio, page, ..
        } => {
            let cow_copy_accepted = wrote_once && !vma.flags.write;
            if write && !writable && !cow_copy_accepted {
                // A write fault on a VMA without VM_WRITE (5.8's forced COW
                // break, or FOLL_FORCE) leaves the PTE R/O; the page is then
                // this mm's own copy, which FOLL_COW (before 6.0) or
                // PageAnonExclusive (can_follow_write_pte, 6.0+) accepts.
                Some(FaultKind::Write)
            } else if must_unshare(ctx, vma, folio, page as usize, flags) {
                Some(FaultKind::Unshare)
            } else {
                None
            }
        }
    })
}

/// GUP-fast can take the page without faulting or falling back.
fn fast_ok(ctx: &Ctx, vma: Option<&Arc<Vma>>, vpn: u64, flags: GupFlags) -> bool {
    let Some(vma) = vma.filter(|v| v.contains(vpn)) else {
        return false;
    };
    let Pte::Present {
        folio, page, writable, ..
    } = vma.pte(vpn)
    else {
        return false;
    };
    // The zero page is mapped by a special PTE (pte_mkspecial in
    // do_anonymous_page): gup_pte_range falls back to the slow path.
    if folio == ZERO_FOLIO {
        return false;
    }
    let f = ctx.w.folio(folio);
    if (flags.write || ctx.w.preset.gup_forces_cow_break()) && !writable {
        return false;
    }
    if flags.pin && !flags.write {
        // GUP-fast does not know the VMA: non-anon long-term R/O pins fall back.
        let must = if f.is_anon() {
            ctx.w.preset.unshare_ro_pins_of_anon() && !f.pages[page as usize].anon_exclusive
        } else {
            flags.longterm && ctx.w.preset.unshare_ro_longterm_pins_of_non_anon()
        };
        if must {
            return false;
        }
    }
    !flags.longterm || ctx.w.preset.longterm_pinnable(f.zone)
}

/// Records that the mm has pinned: mm_set_has_pinned_flag (5.14+; an
/// atomic_set of mm->has_pinned in 5.9-5.13) runs at the top of
/// __get_user_pages_locked and of internal_get_user_pages_fast /
/// gup_fast_fallback, before check_vma_flags: a pin the VMA checks then
/// refuse (EFAULT) still leaves the flag set, and fork looks at it.
fn set_has_pinned(ctx: &mut Ctx, pid: Pid, flags: GupFlags, api: &str) {
    let preset = ctx.w.preset;
    if !flags.pin || !preset.tracks_has_pinned() || ctx.w.proc(pid).mm.has_pinned {
        return;
    }
    let (func, path) = names::set_has_pinned(preset, flags.fast);
    ctx.step(
        func,
        path,
        format!(
            "{api} ({}): first pin in this mm, set {} before any check (sticky, even if the pin then fails; fork will look at it).",
            flags.describe(),
            names::has_pinned_flag(preset)
        ),
    );
    ctx.w.proc_mut(pid).mm.has_pinned = true;
    ctx.touch(ObjRef::Process(pid));
    ctx.keep_on_failure();
}

/// mm/gup.c: try_grab_folio: one reference, or one pin, on one page.
/// Returns false for the 6.5+ pretend pin of the zero page.
pub fn try_grab(ctx: &mut Ctx, folio: FolioId, pin: bool) -> bool {
    let preset = ctx.w.preset;
    if pin && folio == ZERO_FOLIO && preset.zero_page_never_pinned() {
        return false;
    }
    let unevictable_pins = ctx.w.whatif.unevictable_pins;
    let f = ctx.w.folio_mut(folio);
    if pin {
        if f.has_pincount() {
            f.refcount += 1;
            f.pincount += 1;
        } else {
            f.refcount += GUP_PIN_COUNTING_BIAS;
        }
        // What-if: isolate pinned page-cache folios onto the unevictable list.
        let cull = unevictable_pins
            && matches!(f.kind, FolioKind::File { .. })
            && f.lru.is_some_and(|l| l != LruList::Unevictable);
        if cull {
            f.lru = Some(LruList::Unevictable);
            ctx.w.vmstat.unevictable_pgs_culled += 1;
        }
        ctx.w.vmstat.nr_foll_pin_acquired += 1;
    } else {
        f.refcount += 1;
    }
    true
}

/// mm/gup.c: gup_put_folio / put_page for one page of a holder.
pub fn put_grab(ctx: &mut Ctx, folio: FolioId, grab: Grab) {
    match grab {
        Grab::List => {}
        Grab::Ref => ctx.w.folio_put(folio, 1),
        Grab::Pin => {
            let f = ctx.w.folio_mut(folio);
            let n = if f.has_pincount() {
                f.pincount -= 1;
                1
            } else {
                GUP_PIN_COUNTING_BIAS
            };
            ctx.w.vmstat.nr_foll_pin_released += 1;
            ctx.w.folio_put(folio, n);
            let f = ctx.w.folio_mut(folio);
            // What-if: the last unpin puts the folio back on an evictable list
            // (whatever the toggles are now: only the what-if puts an
            // unmlocked folio on the unevictable list).
            if !f.freed && !f.flags.mlocked && f.lru == Some(LruList::Unevictable) && !f.maybe_dma_pinned() {
                f.lru = Some(LruList::Inactive);
                ctx.w.vmstat.unevictable_pgs_rescued += 1;
            }
        }
    }
}

/// __get_user_pages / pin_user_pages*: returns the pages taken, in order.
pub fn gup(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, flags: GupFlags) -> KResult<Vec<HeldPage>> {
    check_args(flags)?;
    let preset = ctx.w.preset;
    let api = match (flags.pin, flags.fast) {
        (true, true) => "pin_user_pages_fast",
        (true, false) => "pin_user_pages",
        (false, true) => "get_user_pages_fast",
        (false, false) => "get_user_pages",
    };
    set_has_pinned(ctx, pid, flags, api);
    check_range(ctx, pid, first, n, flags)?;
    let mut fast_done = 0u64;
    if flags.fast {
        let mut vma = ctx.w.proc(pid).mm.vma_at(first).cloned();
        while fast_done < n {
            let vpn = first + fast_done;
            if !vma.as_ref().is_some_and(|v| v.contains(vpn)) {
                vma = ctx.w.proc(pid).mm.vma_at(vpn).cloned();
            }
            if !fast_ok(ctx, vma.as_ref(), vpn, flags) {
                break;
            }
            fast_done += 1;
        }
        if fast_done < n {
            let (func, path) = names::gup_fast_fallback(preset);
            ctx.step(
                func,
                path,
                format!(
                    "GUP-fast took {fast_done} of {n} pages; page {} needs a fault or an unshare (or cannot be pinned long-term where it is), so the rest goes through the slow path.",
                    ctx.w.page_name(pid, first + fast_done)
                ),
            );
        }
    }
    // Slow path, first half: fault in what the walk cannot take yet
    // (follow_page_pte -> faultin_page -> handle_mm_fault, per page).
    for vpn in first + fast_done..first + n {
        let mut wrote_once = false;
        for _ in 0..3 {
            let Some(kind) = needed_fault(ctx, pid, vpn, flags, wrote_once)? else {
                break;
            };
            if kind == FaultKind::Unshare {
                ctx.step_batch("faultin_page", GUP_C, "unshare", || {
                    "R/O pin of a page that may be shared (gup_must_unshare): trigger an unshare fault (FAULT_FLAG_UNSHARE).".into()
                });
            }
            handle_mm_fault(ctx, pid, vpn, kind)?;
            wrote_once |= kind == FaultKind::Write;
        }
    }
    // Grab every page: the GUP-fast ones first, then the slow path's.
    let mut held = Vec::with_capacity(n as usize);
    let mut pretend = 0u64;
    let (func, path) = if flags.fast && fast_done > 0 {
        names::grab_fast(preset)
    } else {
        names::grab_slow(preset)
    };
    let what = if flags.pin {
        "pin: +1024 on a small folio, +1 reference and +1 pincount on a large one, nr_foll_pin_acquired +1 per page"
    } else {
        "reference: refcount +1 per page"
    };
    let mut text = format!("{api} ({}): take one {what}.", flags.describe());
    let file_backed = ctx.w.proc(pid).mm.vma_at(first).is_some_and(|v| !v.is_anon());
    if flags.pin && ctx.w.whatif.unevictable_pins && file_backed {
        text.push_str(" What-if: every pinned page-cache folio is also isolated from its LRU list and put on the unevictable list (LRU lock taken per folio).");
    }
    ctx.step(func, path, text.clone());
    let mut vma: Option<Arc<Vma>> = None;
    for vpn in first..first + n {
        // Look the VMA up once per VMA, not once per page.
        if !vma.as_ref().is_some_and(|v| v.contains(vpn)) {
            vma = ctx.w.proc(pid).mm.vma_at(vpn).cloned();
        }
        let pte = vma.as_ref().map(|v| v.pte(vpn)).unwrap_or_default();
        let Some((folio, page)) = pte.folio() else {
            return errno(
                Errno::EFAULT,
                format!("{} is not present after faulting", ctx.w.page_name(pid, vpn)),
            );
        };
        let took = try_grab(ctx, folio, flags.pin);
        if !took {
            pretend += 1;
        }
        // follow_page_pte with FOLL_TOUCH: a write GUP dirties a clean folio
        // and the folio is marked accessed; GUP-fast sets PG_referenced.
        if vpn >= first + fast_done {
            if flags.write && !pte.is_dirty() && !ctx.w.folio(folio).flags.dirty {
                ctx.w.folio_mut(folio).flags.dirty = true;
            }
            ctx.w.mark_accessed(folio);
        } else if folio != ZERO_FOLIO {
            ctx.w.folio_mut(folio).flags.referenced = true;
        }
        ctx.touch(ObjRef::Folio(folio));
        held.push(HeldPage {
            folio,
            page: page as u16,
            owner: Some(pid),
            vpn,
            no_grab: !took,
        });
    }
    if pretend > 0 {
        // Same step: the caller records the holder before the next one starts.
        ctx.set_text(format!(
            "{text} {pretend} page(s) map the shared zero page: a pin of the zero page is only pretended (no refcount change, no counters; c8070b787519, 6.5)."
        ));
    }
    Ok(held)
}

/// Records a holder. Callers do this right after `gup` returns, before any
/// new micro-step, so that every step boundary accounts for the references.
#[allow(clippy::too_many_arguments)]
pub fn insert_holder(
    ctx: &mut Ctx,
    name: &str,
    kind: HolderKind,
    flags: GupFlags,
    taken_at: usize,
    pages: Vec<HeldPage>,
    bio: Option<crate::bio::BioInfo>,
) {
    let holder = Holder {
        name: name.to_string(),
        kind,
        grab: if flags.pin { Grab::Pin } else { Grab::Ref },
        write: flags.write,
        longterm: flags.longterm,
        taken_at,
        pages,
        bio,
        extracted_from: None,
    };
    ctx.w.holders.insert(name.to_string(), Arc::new(holder));
    ctx.touch(ObjRef::Holder(name.to_string()));
}

/// Most references or pins one holder may take on a page (`count`).
pub const MAX_GRAB_COUNT: u64 = 1 << 20;

/// Like `gup_into_holder`, taking `count` references (or pins) on every
/// page: the same GUP `count` times over, as a driver that maps one buffer
/// into several descriptors does.
#[allow(clippy::too_many_arguments)]
pub fn gup_into_holder_n(
    ctx: &mut Ctx,
    pid: Pid,
    first: u64,
    n: u64,
    flags: GupFlags,
    name: &str,
    kind: HolderKind,
    count: u64,
) -> KResult<()> {
    check_count(count, n)?;
    gup_into_holder(ctx, pid, first, n, flags, name, kind)?;
    if count > 1 {
        let grab = if flags.fast {
            names::grab_fast(ctx.w.preset)
        } else {
            names::grab_slow(ctx.w.preset)
        };
        repeat_grabs(ctx, name, flags.pin, count, grab)?;
    }
    Ok(())
}

/// `count` must be 1 to MAX_GRAB_COUNT, and count x pages within the world's page budget.
pub fn check_count(count: u64, n: u64) -> KResult<()> {
    if count == 0 || count > MAX_GRAB_COUNT {
        return invalid(format!(
            "count = {count}: a holder takes 1 to {MAX_GRAB_COUNT} references per page"
        ));
    }
    if count.saturating_mul(n) > crate::vma_ops::MAX_MAP_PAGES {
        return invalid(format!(
            "count = {count} on {n} page(s) is {} grabs; the model holds at most {} at once",
            count.saturating_mul(n),
            crate::vma_ops::MAX_MAP_PAGES
        ));
    }
    Ok(())
}

/// The holder's pages, grabbed `count - 1` more times each, in one micro-step
/// named after the grab function.
pub fn repeat_grabs(ctx: &mut Ctx, name: &str, pin: bool, count: u64, grab: names::KFn) -> KResult<()> {
    let h = ctx.w.holder(name)?.clone();
    check_count(count, h.pages.len() as u64)?;
    ctx.step(
        grab.0,
        grab.1,
        format!(
            "The same request {} more time(s): '{name}' now holds {count} {} on each of its {} page(s).",
            count - 1,
            if pin { "pins" } else { "references" },
            h.pages.len()
        ),
    );
    let mut pages = h.pages.clone();
    for _ in 1..count {
        for hp in &h.pages {
            if !hp.no_grab {
                if h.grab == Grab::List {
                    continue;
                }
                try_grab(ctx, hp.folio, pin);
            }
            pages.push(*hp);
        }
    }
    let hm = ctx.w.holders.get_mut(name).expect("holder");
    Arc::make_mut(hm).pages = pages;
    ctx.touch(ObjRef::Holder(name.to_string()));
    Ok(())
}

/// Pins or refs a range on behalf of a named holder.
pub fn gup_into_holder(
    ctx: &mut Ctx,
    pid: Pid,
    first: u64,
    n: u64,
    flags: GupFlags,
    name: &str,
    kind: HolderKind,
) -> KResult<()> {
    if ctx.w.holders.contains_key(name) || ctx.w.pipes.contains_key(name) {
        return invalid(format!("a holder named '{name}' already exists"));
    }
    let taken_at = ctx.step_index();
    let pages = gup(ctx, pid, first, n, flags)?;
    insert_holder(ctx, name, kind, flags, taken_at, pages, None);
    if flags.longterm {
        migrate_unpinnable(ctx, pid, first, n, flags, name, kind)?;
    }
    Ok(())
}

/// mm/gup.c: check_and_migrate_movable_pages (check_and_migrate_cma_pages
/// before 5.14): a long-term pin may not stay on a folio that is not
/// long-term pinnable (`Preset::longterm_pinnable`); drop the whole request,
/// migrate those folios, and pin again. Before 5.12 a failed migration pins
/// the folios where they are; 5.7-5.9 drop FOLL_PIN pins with put_page() and
/// so leak 1023 references on every page of the request.
fn migrate_unpinnable(
    ctx: &mut Ctx,
    pid: Pid,
    first: u64,
    n: u64,
    flags: GupFlags,
    name: &str,
    kind: HolderKind,
) -> KResult<()> {
    let preset = ctx.w.preset;
    let pages = ctx.w.holder(name)?.pages.clone();
    let mut unpinnable: Vec<FolioId> = pages
        .iter()
        .filter(|p| !p.no_grab && !preset.longterm_pinnable(ctx.w.folio(p.folio).zone))
        .map(|p| p.folio)
        .collect();
    unpinnable.dedup();
    if unpinnable.is_empty() {
        return Ok(());
    }
    let (func, path) = names::longterm_migrate(preset);
    let zones = if preset.longterm_pinnable(crate::folio::Zone::Movable) {
        "CMA memory"
    } else {
        "ZONE_MOVABLE or CMA memory"
    };
    let leak = flags.pin && preset.longterm_migration_leaks_pins();
    let drop = if leak {
        "drop the request with put_page(), which takes only 1 of each pin's 1024: 1023 references per page are leaked (5.7-5.9; 5.10 calls unpin_user_pages)"
    } else if flags.pin {
        "unpin the whole request"
    } else {
        "put the whole request"
    };
    ctx.step(
        func,
        path,
        format!(
            "FOLL_LONGTERM: {} folio(s) are in {zones} and may not stay pinned there: {drop}, migrate them ({}), and try again.",
            unpinnable.len(),
            preset.longterm_migrate_reason()
        ),
    );
    let grab = if flags.pin { Grab::Pin } else { Grab::Ref };
    for p in pages.iter().filter(|p| !p.no_grab) {
        if leak {
            leak_pin(ctx, p.folio);
        } else {
            put_grab(ctx, p.folio, grab);
        }
    }
    ctx.w.holders.remove(name);
    for f in unpinnable {
        match crate::migrate::migrate_to_normal(ctx, f) {
            Ok(_) => {}
            Err(e) if preset.longterm_migration_failure_pins_in_place() => {
                ctx.step(
                    func,
                    path,
                    format!(
                        "migrate_pages failed ({e}): put the folios back (putback_movable_pages), set migrate_allow = false and pin again without migrating, so {f} stays pinned where it is (before 5.12; from 5.12 GUP fails with ENOMEM)."
                    ),
                );
                ctx.touch(ObjRef::Folio(f));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let taken_at = ctx.step_index();
    let pages = gup(ctx, pid, first, n, flags)?;
    insert_holder(ctx, name, kind, flags, taken_at, pages, None);
    Ok(())
}

/// put_page() on a page a FOLL_PIN request pinned: one reference of the
/// pin's 1024 (or the one of a large folio, whose pincount stays) is
/// dropped, the rest is leaked, and nr_foll_pin_released never counts it.
fn leak_pin(ctx: &mut Ctx, folio: FolioId) {
    let f = ctx.w.folio_mut(folio);
    if f.has_pincount() {
        // hpage_pinned_refcount / _pincount is never decremented.
        f.leaked_pincount += 1;
    } else {
        f.leaked += GUP_PIN_COUNTING_BIAS - 1;
    }
    ctx.w.folio_put(folio, 1);
    ctx.w.leaked_pins += 1;
    ctx.touch(ObjRef::Folio(folio));
}

/// unpin_user_pages(_dirty_lock) or put_page (+ set_page_dirty_lock) for
/// every page of a holder; the holder is gone afterwards.
pub fn release_holder(ctx: &mut Ctx, name: &str, dirty: bool) -> KResult<()> {
    let h = ctx.w.holder(name)?.clone();
    let preset = ctx.w.preset;
    let ((func, path), text) = match (h.grab, dirty) {
        (Grab::Pin, true) => (
            ("unpin_user_pages_dirty_lock", GUP_C),
            if preset >= crate::preset::Preset::V5_18 {
                "For each folio not already dirty: lock, folio_mark_dirty, unlock; then unpin (-1024, or -1 and pincount -1 on a large folio; nr_foll_pin_released +1 per page)."
            } else {
                "For each page not already dirty: set_page_dirty_lock; then unpin (-1024, or -1 and pincount -1 on a large folio; nr_foll_pin_released +1 per page)."
            },
        ),
        (Grab::Pin, false) => (
            ("unpin_user_pages", GUP_C),
            "Unpin every page (-1024, or -1 and pincount -1 on a large folio; nr_foll_pin_released +1 per page).",
        ),
        (Grab::Ref, true) => (
            names::set_page_dirty_lock(preset),
            "Mark every page dirty, then put_page drops one reference per page.",
        ),
        (Grab::Ref, false) => (names::put_page(preset), "Drop one reference per page."),
        (Grab::List, _) => (
            ("iov_iter_extract_will_pin", "include/linux/uio.h"),
            "false for this iterator: the pages were only listed, so there is nothing to drop.",
        ),
    };
    ctx.step(func, path, format!("{name}: {text}"));
    drop_holder_pages(ctx, name, dirty)
}

/// The release itself, under a micro-step the caller started: (dirty and)
/// drop every page's reference or pin, then forget the holder.
pub fn drop_holder_pages(ctx: &mut Ctx, name: &str, dirty: bool) -> KResult<()> {
    let h = ctx.w.holder(name)?.clone();
    ctx.touch(ObjRef::Holder(name.to_string()));
    for hp in &h.pages {
        ctx.touch(ObjRef::Folio(hp.folio));
        if hp.no_grab {
            continue;
        }
        if dirty && h.grab != Grab::List {
            crate::bio::mark_dirty_from_holder(ctx, name, hp.folio);
        }
        put_grab(ctx, hp.folio, h.grab);
    }
    ctx.w.holders.remove(name);
    Ok(())
}
