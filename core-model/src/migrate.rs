//! Migration of folios that may not be pinned long-term (mm/gup.c:
//! check_and_migrate_movable_pages, check_and_migrate_cma_pages before 5.14
//! -> mm/migrate.c: migrate_pages).

use crate::error::{Errno, KResult, errno};
use crate::folio::Zone;
use crate::ids::FolioId;
use crate::mm::Pte;
use crate::refs::{RefKind, references_to};
use crate::step::{Ctx, ObjRef};
use crate::writeback::mappings_of;

/// Moves `old` to a new folio in ZONE_NORMAL: every PTE and the page cache
/// entry are switched over; fails (ENOMEM, as the GUP caller sees it) if
/// anything but mappings and caches holds the folio.
pub fn migrate_to_normal(ctx: &mut Ctx, old: FolioId) -> KResult<FolioId> {
    let f = ctx.w.folio(old).clone();
    // migrate_folio_move_mapping / migrate_page_move_mapping: folio_ref_count
    // must equal what the mappings and caches explain; a GUP reference, a pin
    // or a leaked reference makes it fail.
    let expected: i64 = references_to(&ctx.w, old)
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                RefKind::Map | RefKind::PageCache | RefKind::SwapCache | RefKind::Private
            )
        })
        .map(|r| r.refs)
        .sum();
    if f.refcount != expected {
        return errno(
            Errno::ENOMEM,
            format!(
                "{old} cannot be migrated for a long-term pin: refcount {} but mappings and caches account for {expected} (another GUP reference or pin holds it)",
                f.refcount
            ),
        );
    }
    ctx.step(
        "migrate_pages",
        "mm/migrate.c",
        format!(
            "Migrate {old} out of {} ({}): copy it to a new folio, switch every mapping over, free the old one.",
            if f.zone == Zone::Cma {
                "its CMA pageblock"
            } else {
                "ZONE_MOVABLE"
            },
            ctx.w.preset.longterm_migrate_reason()
        ),
    );
    let new = ctx.w.alloc_folio(f.kind, f.order, Zone::Normal);
    {
        let n = ctx.w.folio_mut(new);
        n.refcount = f.refcount;
        n.pincount = 0;
        n.entire_mapcount = f.entire_mapcount;
        n.flags = f.flags;
        n.lru = f.lru;
        n.lru_seq = f.lru_seq;
        n.pages = f.pages.clone();
        n.swap_slot = f.swap_slot;
    }
    for (pid, vpn) in mappings_of(ctx, old) {
        let mut pte = ctx.w.pte(pid, vpn);
        if let Pte::Present { folio, .. } = &mut pte {
            *folio = new;
        }
        ctx.w.set_pte(pid, vpn, pte);
    }
    if let crate::folio::FolioKind::File { file, index } = f.kind {
        ctx.w.file_mut(file).cache.insert(index, new);
    }
    if let Some(slot) = f.swap_slot
        && let Some(e) = ctx.w.swap.get_mut(&slot)
    {
        e.cache = Some(new);
    }
    {
        let o = ctx.w.folio_mut(old);
        for p in o.pages.iter_mut() {
            p.mapcount = 0;
        }
        o.entire_mapcount = 0;
        o.flags.swapcache = false;
        o.swap_slot = None;
        let rc = o.refcount;
        ctx.w.folio_put(old, rc);
    }
    ctx.w.vmstat.pgmigrate_success += f.nr_pages() as u64;
    ctx.touch(ObjRef::Folio(old));
    ctx.touch(ObjRef::Folio(new));
    Ok(new)
}
