//! Invariants of the model (docs/model.md, "Invariants"), checked on a world.
//! A violation is a bug in the model, never something a lesson shows.

use crate::folio::FolioKind;
use crate::holder::Grab;
use crate::ids::{FolioId, ZERO_FOLIO};
use crate::mm::Pte;
use crate::preset::ReuseRule;
use crate::refs::{Referrer, all_references};
use crate::world::World;
use std::collections::{BTreeSet, HashMap};

/// Returns one sentence per broken invariant (empty when all hold).
pub fn check(w: &World) -> Vec<String> {
    let mut bad = Vec::new();
    let refs = all_references(w);
    let mut sum_refs: HashMap<FolioId, i64> = HashMap::new();
    let mut sum_pins: HashMap<FolioId, i64> = HashMap::new();
    let mut pte_maps: HashMap<(FolioId, u16), i32> = HashMap::new();
    let mut pmd_maps: HashMap<FolioId, i32> = HashMap::new();
    for r in &refs {
        *sum_refs.entry(r.folio).or_default() += r.refs;
        *sum_pins.entry(r.folio).or_default() += r.pins;
        match r.from {
            Referrer::Pte(..) if r.folio != ZERO_FOLIO => *pte_maps.entry((r.folio, r.page)).or_default() += 1,
            Referrer::Pmd(..) => *pmd_maps.entry(r.folio).or_default() += 1,
            _ => {}
        }
    }
    for id in w.folio_ids() {
        let f = w.folio(id);
        let expect = sum_refs.get(&id).copied().unwrap_or(0);
        let pins = sum_pins.get(&id).copied().unwrap_or(0);
        if !check_counts(id, f, expect, pins, &mut bad) {
            continue;
        }
        if id != ZERO_FOLIO {
            for (i, p) in f.pages.iter().enumerate() {
                let m = pte_maps.get(&(id, i as u16)).copied().unwrap_or(0);
                if p.mapcount != m {
                    bad.push(format!("{id} page {i}: mapcount {} but {m} PTEs map it", p.mapcount));
                }
            }
            let pm = pmd_maps.get(&id).copied().unwrap_or(0);
            if f.entire_mapcount != pm {
                bad.push(format!(
                    "{id}: entire mapcount {} but {pm} PMDs map it",
                    f.entire_mapcount
                ));
            }
        }
    }
    // 4 and 6: no false negatives; counters match outstanding pins.
    let mut outstanding = 0u64;
    for h in w.holders.values() {
        if h.grab != Grab::Pin {
            continue;
        }
        for hp in h.pages.iter().filter(|p| !p.no_grab) {
            outstanding += 1;
            let f = w.folio(hp.folio);
            if !f.maybe_dma_pinned() {
                bad.push(format!(
                    "{} is pinned by '{}' but folio_maybe_dma_pinned is false",
                    hp.folio, h.name
                ));
            }
            // 10: every pinned anon page is exclusive (5.19+).
            if w.preset.anon_reuse_rule() == ReuseRule::AnonExclusive
                && f.kind == FolioKind::Anon
                && !f.pages[hp.page as usize].anon_exclusive
            {
                bad.push(format!(
                    "{} page {} is pinned by '{}' but not anon-exclusive",
                    hp.folio, hp.page, h.name
                ));
            }
        }
    }
    let vm = &w.vmstat;
    if vm.nr_foll_pin_acquired < vm.nr_foll_pin_released
        || vm.nr_foll_pin_acquired - vm.nr_foll_pin_released != outstanding + w.leaked_pins
    {
        bad.push(format!(
            "nr_foll_pin_acquired {} - nr_foll_pin_released {} != {outstanding} outstanding pins",
            vm.nr_foll_pin_acquired, vm.nr_foll_pin_released
        ));
    }
    // Page-table rules: 8, 9, 12 and the zero page.
    let mut mms_of: HashMap<(FolioId, u16), BTreeSet<u32>> = HashMap::new();
    let mut writable_of: HashMap<(FolioId, u16), bool> = HashMap::new();
    for p in w.procs.values() {
        for vma in p.mm.vmas.values() {
            for pte in vma.ptes.iter() {
                let Pte::Present {
                    folio, page, writable, ..
                } = *pte
                else {
                    continue;
                };
                let f = w.folio(folio);
                if folio == ZERO_FOLIO && writable {
                    bad.push(format!("{} maps the zero page writable", p.name));
                }
                if f.kind != FolioKind::Anon {
                    continue;
                }
                mms_of.entry((folio, page)).or_default().insert(p.pid.0);
                *writable_of.entry((folio, page)).or_default() |= writable;
                if writable
                    && w.preset.anon_reuse_rule() == ReuseRule::AnonExclusive
                    && !f.pages[page as usize].anon_exclusive
                {
                    bad.push(format!(
                        "{}: writable PTE to {folio} page {page}, which is not anon-exclusive",
                        p.name
                    ));
                }
            }
        }
    }
    for ((folio, page), mms) in &mms_of {
        let f = w.folio(*folio);
        let mapcount = f.page_mapcount(*page as usize);
        if mapcount > 1 && writable_of.get(&(*folio, *page)).copied().unwrap_or(false) {
            bad.push(format!(
                "{folio} page {page} is mapped {mapcount} times and one mapping is writable"
            ));
        }
        if w.preset.anon_reuse_rule() == ReuseRule::AnonExclusive
            && mms.len() > 1
            && f.pages[*page as usize].anon_exclusive
        {
            bad.push(format!(
                "{folio} page {page} is anon-exclusive but mapped by {} processes",
                mms.len()
            ));
        }
    }
    // Page cache entries point at live folios of that file and index.
    for (fid, file) in w.files.iter() {
        for (idx, folio) in file.cache.iter() {
            let f = w.folio(*folio);
            if f.freed
                || f.kind
                    != (FolioKind::File {
                        file: *fid,
                        index: *idx,
                    })
            {
                bad.push(format!(
                    "page cache of '{}' index {idx} points at a wrong or freed folio {folio}",
                    file.name
                ));
            }
        }
    }
    // PG_private (the filesystem's private data) only on a folio in the page cache.
    for (id, f) in w.live_folios() {
        if f.flags.private {
            let cached = match f.kind {
                FolioKind::File { file, index } => w.files.get(&file).and_then(|x| x.cache.get(&index)) == Some(&id),
                _ => false,
            };
            if !cached {
                bad.push(format!("{id} has private data but is not in the page cache"));
            }
        }
    }
    // PG_writeback only while a writeback bio has the folio.
    for (id, f) in w.live_folios() {
        if f.flags.writeback {
            let in_bio = w.holders.values().any(|h| {
                h.bio
                    .as_ref()
                    .is_some_and(|b| b.purpose == crate::bio::BioPurpose::Writeback)
                    && h.pages.iter().any(|p| p.folio == id)
            });
            if !in_bio {
                bad.push(format!("{id} has PG_writeback but no writeback bio"));
            }
        }
        // The unevictable list holds mlocked folios (and, under the what-if,
        // pinned page-cache folios).
        // (A step's own what-if may have put a pinned folio there while the
        // timeline's toggles are off, so the pin is what counts.)
        if f.lru == Some(crate::folio::LruList::Unevictable) && !f.flags.mlocked && !f.maybe_dma_pinned() {
            bad.push(format!(
                "{id} is on the unevictable list but neither mlocked nor pinned"
            ));
        }
    }
    // 19: a BIO_PAGE_PINNED bio holds one pin per page.
    for h in w.holders.values() {
        if let Some(b) = &h.bio
            && b.flags.page_pinned
            && h.grab != Grab::Pin
        {
            bad.push(format!("bio '{}' has BIO_PAGE_PINNED but does not hold pins", h.name));
        }
    }
    bad
}

/// Invariants 1-3 for one folio, given what its holders add up to (the full
/// check and the incremental tracker both use it): a freed folio has no
/// holder; a live one's refcount is exactly its holders' references and
/// positive; a large folio's pincount is exactly its pins, a small one has
/// none. Returns false for a freed folio (nothing more to check).
pub(crate) fn check_counts(id: FolioId, f: &crate::Folio, refs: i64, pins: i64, bad: &mut Vec<String>) -> bool {
    if f.freed {
        if refs != 0 || f.refcount != 0 {
            bad.push(format!(
                "{id} is freed but refcount is {} and references add up to {refs}",
                f.refcount
            ));
        }
        return false;
    }
    if f.refcount != refs {
        bad.push(format!("{id}: refcount {} but references add up to {refs}", f.refcount));
    }
    if f.refcount <= 0 {
        bad.push(format!("{id} is live with refcount {}", f.refcount));
    }
    if f.has_pincount() && f.pincount != pins {
        bad.push(format!("{id}: pincount {} but {pins} pins are held", f.pincount));
    }
    if !f.has_pincount() && f.pincount != 0 {
        bad.push(format!("{id}: small folio with pincount {}", f.pincount));
    }
    true
}
