//! Incremental invariant checking: the invariants of `invariants.rs`, checked
//! after every micro-step on what the micro-step touched only. The tracker
//! keeps, per folio, the counts the state implies (mappings by PTE and PMD,
//! references and pins of holders, pipes and kernel buffers); each micro-step
//! updates them from its journal (the PTEs it rewrote, the folios it wrote
//! to) and from the holders, pipes and kernel buffers that changed (compared
//! by pointer, so unchanged ones cost nothing), then checks the touched
//! folios against them. The page cache, swap cache and private data of a
//! touched folio are read off the world directly. `invariants::check` stays
//! the reference: tests run both and must agree.

use crate::folio::{FolioKind, GUP_PIN_COUNTING_BIAS, LruList};
use crate::holder::{Grab, Holder, Pipe};
use crate::ids::{FolioId, Pid, ZERO_FOLIO};
use crate::journal::Journal;
use crate::mm::Pte;
use crate::preset::ReuseRule;
use crate::world::World;
use imbl::OrdMap;
use smallvec::SmallVec;
// FxHash: the keys are small integers, hashed millions of times on a big
// world (SipHash was a tenth of the checks' time); fixed, so deterministic.
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// The page-table entries that map one page.
#[derive(Clone, Debug, Default)]
struct PageMaps {
    /// PTE (not PMD) mappings: the page's mapcount.
    ptes: i32,
    /// Entries of every kind, per process (exclusivity checks).
    mms: SmallVec<[(u32, u32); 2]>,
    /// Writable entries.
    writable: i32,
}

#[derive(Clone, Debug, Default)]
pub struct Tracker {
    pages: HashMap<(FolioId, u16), PageMaps>,
    pmds: HashMap<FolioId, i32>,
    /// (references, pins) from holders, pipes, kernel buffers, and the zero
    /// page's own reference.
    other: HashMap<FolioId, (i64, i64)>,
    /// Pins held on each page (a pretend or coalesced page holds none).
    pinned: HashMap<(FolioId, u16), u32>,
    outstanding_pins: u64,
    holders: OrdMap<String, Arc<Holder>>,
    pipes: OrdMap<String, Arc<Pipe>>,
    kbufs: OrdMap<String, Arc<Vec<FolioId>>>,
}

impl Tracker {
    /// The counts a world implies (one full pass).
    pub fn new(w: &World) -> Tracker {
        let mut t = Tracker::default();
        t.other.insert(ZERO_FOLIO, (1, 0));
        for p in w.procs.values() {
            for vma in p.mm.vmas.values() {
                for pte in vma.ptes.iter() {
                    t.map(p.pid, *pte, 1);
                }
            }
        }
        for h in w.holders.values() {
            t.holder(w, h, 1);
        }
        for p in w.pipes.values() {
            t.pipe(p, 1);
        }
        for k in w.kbufs.values() {
            t.kbuf(k, 1);
        }
        t.holders = w.holders.clone();
        t.pipes = w.pipes.clone();
        t.kbufs = w.kbufs.clone();
        t
    }

    /// Adds (sign 1) or removes (-1) one page-table entry.
    fn map(&mut self, pid: Pid, pte: Pte, sign: i32) {
        let Pte::Present {
            folio,
            page,
            writable,
            pmd,
            ..
        } = pte
        else {
            return;
        };
        if folio == ZERO_FOLIO {
            return;
        }
        if pmd {
            if page == 0 {
                *self.pmds.entry(folio).or_default() += sign;
            }
        } else {
            self.pages.entry((folio, page)).or_default().ptes += sign;
        }
        let pm = self.pages.entry((folio, page)).or_default();
        pm.writable += if writable { sign } else { 0 };
        match pm.mms.iter_mut().find(|(p, _)| *p == pid.0) {
            Some((_, n)) => *n = (*n as i32 + sign) as u32,
            None => pm.mms.push((pid.0, sign.max(0) as u32)),
        }
        pm.mms.retain(|(_, n)| *n > 0);
    }

    fn add_other(&mut self, f: FolioId, refs: i64, pins: i64) {
        let e = self.other.entry(f).or_default();
        e.0 += refs;
        e.1 += pins;
    }

    /// Adds (1) or removes (-1) a holder's references and pins.
    fn holder(&mut self, w: &World, h: &Holder, sign: i64) {
        for hp in &h.pages {
            let (refs, pins) = match (h.grab, hp.no_grab) {
                (Grab::List, _) | (_, true) => (0, 0),
                (Grab::Ref, _) => (1, 0),
                (Grab::Pin, _) if w.folio(hp.folio).has_pincount() => (1, 1),
                (Grab::Pin, _) => (GUP_PIN_COUNTING_BIAS, 0),
            };
            self.add_other(hp.folio, sign * refs, sign * pins);
            if h.grab == Grab::Pin && !hp.no_grab {
                let e = self.pinned.entry((hp.folio, hp.page)).or_default();
                *e = (*e as i64 + sign) as u32;
                self.outstanding_pins = (self.outstanding_pins as i64 + sign) as u64;
            }
        }
    }

    fn pipe(&mut self, p: &Pipe, sign: i64) {
        for b in &p.bufs {
            self.add_other(b.folio, sign, 0);
        }
    }

    fn kbuf(&mut self, pages: &[FolioId], sign: i64) {
        for f in pages {
            self.add_other(*f, sign, 0);
        }
    }

    /// Brings the counts up to date with a micro-step and checks what it
    /// touched. Returns one sentence per broken invariant.
    pub fn step(&mut self, w: &World, journal: &Journal) -> Vec<String> {
        let mut bad = Vec::new();
        let mut touched = journal.touched();
        for c in &journal.ptes {
            self.map(c.pid, c.old, -1);
            self.map(c.pid, c.new, 1);
            if let Pte::Present {
                folio: ZERO_FOLIO,
                writable: true,
                ..
            } = c.new
            {
                let name = w.procs.get(&c.pid).map(|p| p.name.clone()).unwrap_or_default();
                bad.push(format!("{name} maps the zero page writable"));
            }
        }
        if !ptr_eq_maps(&self.holders, &w.holders) {
            let old = std::mem::take(&mut self.holders);
            // A holder rewritten with the same grab and pages (its bio's
            // flags, say) adds to the counts exactly what it took away:
            // skip both walks, which cost a hash update per page.
            let same_counts = |a: &Holder, b: &Holder| a.grab == b.grab && a.pages == b.pages;
            for (name, h) in old.iter() {
                match w.holders.get(name) {
                    Some(n) if Arc::ptr_eq(n, h) => {}
                    Some(n) if same_counts(n, h) => {}
                    _ => {
                        self.holder(w, h, -1);
                        touched.extend(h.pages.iter().map(|p| p.folio));
                    }
                }
            }
            for (name, h) in w.holders.iter() {
                if old.get(name).is_none_or(|o| !Arc::ptr_eq(o, h)) {
                    if old.get(name).is_none_or(|o| !same_counts(o, h)) {
                        self.holder(w, h, 1);
                    }
                    touched.extend(h.pages.iter().map(|p| p.folio));
                    if let Some(b) = &h.bio
                        && b.flags.page_pinned
                        && h.grab != Grab::Pin
                    {
                        bad.push(format!("bio '{}' has BIO_PAGE_PINNED but does not hold pins", h.name));
                    }
                }
            }
            self.holders = w.holders.clone();
        }
        if !ptr_eq_maps(&self.pipes, &w.pipes) {
            let old = std::mem::take(&mut self.pipes);
            for (name, p) in old.iter() {
                if w.pipes.get(name).is_none_or(|n| !Arc::ptr_eq(n, p)) {
                    self.pipe(p, -1);
                    touched.extend(p.bufs.iter().map(|b| b.folio));
                }
            }
            for (name, p) in w.pipes.iter() {
                if old.get(name).is_none_or(|o| !Arc::ptr_eq(o, p)) {
                    self.pipe(p, 1);
                    touched.extend(p.bufs.iter().map(|b| b.folio));
                }
            }
            self.pipes = w.pipes.clone();
        }
        if !ptr_eq_maps(&self.kbufs, &w.kbufs) {
            let old = std::mem::take(&mut self.kbufs);
            for (name, k) in old.iter() {
                if w.kbufs.get(name).is_none_or(|n| !Arc::ptr_eq(n, k)) {
                    self.kbuf(k, -1);
                    touched.extend(k.iter().copied());
                }
            }
            for (name, k) in w.kbufs.iter() {
                if old.get(name).is_none_or(|o| !Arc::ptr_eq(o, k)) {
                    self.kbuf(k, 1);
                    touched.extend(k.iter().copied());
                }
            }
            self.kbufs = w.kbufs.clone();
        }
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            self.check_folio(w, id, &mut bad);
        }
        let vm = &w.vmstat;
        if vm.nr_foll_pin_acquired < vm.nr_foll_pin_released
            || vm.nr_foll_pin_acquired - vm.nr_foll_pin_released != self.outstanding_pins + w.leaked_pins
        {
            bad.push(format!(
                "nr_foll_pin_acquired {} - nr_foll_pin_released {} != {} outstanding pins",
                vm.nr_foll_pin_acquired, vm.nr_foll_pin_released, self.outstanding_pins
            ));
        }
        bad
    }

    fn check_folio(&self, w: &World, id: FolioId, bad: &mut Vec<String>) {
        if id.0 as usize >= w.folios.len() {
            return;
        }
        let f = w.folio(id);
        let cached = match f.kind {
            FolioKind::File { file, index } => w.files.get(&file).and_then(|x| x.cache.get(&index)) == Some(&id),
            _ => false,
        };
        let swap_cached = f
            .swap_slot
            .and_then(|s| w.swap.get(&s))
            .is_some_and(|e| e.cache == Some(id));
        let (other_refs, pins) = self.other.get(&id).copied().unwrap_or((0, 0));
        let pins = pins + f.leaked_pincount;
        let mut expect =
            other_refs + f.leaked + i64::from(f.isolated) + self.pmds.get(&id).copied().unwrap_or(0) as i64;
        if id != ZERO_FOLIO {
            for i in 0..f.nr_pages() {
                expect += self.pages.get(&(id, i as u16)).map_or(0, |p| p.ptes) as i64;
            }
        }
        if cached {
            expect += f.nr_pages() as i64 + i64::from(f.flags.private);
        }
        if swap_cached {
            expect += 1;
        }
        if !crate::invariants::check_counts(id, f, expect, pins, bad) {
            return;
        }
        if f.flags.swapcache != swap_cached {
            bad.push(format!(
                "{id}: PG_swapcache is {} but the swap cache says {swap_cached}",
                f.flags.swapcache
            ));
        }
        if f.flags.private && !cached {
            bad.push(format!("{id} has private data but is not in the page cache"));
        }
        if id == ZERO_FOLIO {
            return;
        }
        let ae_rule = w.preset.anon_reuse_rule() == ReuseRule::AnonExclusive;
        let pmd = self.pmds.get(&id).copied().unwrap_or(0);
        if f.entire_mapcount != pmd {
            bad.push(format!(
                "{id}: entire mapcount {} but {pmd} PMDs map it",
                f.entire_mapcount
            ));
        }
        for (i, p) in f.pages.iter().enumerate() {
            let maps = self.pages.get(&(id, i as u16));
            let m = maps.map_or(0, |x| x.ptes);
            if p.mapcount != m {
                bad.push(format!("{id} page {i}: mapcount {} but {m} PTEs map it", p.mapcount));
            }
            if self.pinned.get(&(id, i as u16)).is_some_and(|n| *n > 0) {
                if !f.maybe_dma_pinned() {
                    bad.push(format!("{id} is pinned but folio_maybe_dma_pinned is false"));
                }
                if ae_rule && f.is_anon() && !p.anon_exclusive {
                    bad.push(format!("{id} page {i} is pinned but not anon-exclusive"));
                }
            }
            let Some(maps) = maps else { continue };
            if !f.is_anon() {
                continue;
            }
            if maps.writable > 0 && ae_rule && !p.anon_exclusive {
                bad.push(format!("writable PTE to {id} page {i}, which is not anon-exclusive"));
            }
            let mapcount = f.page_mapcount(i);
            if mapcount > 1 && maps.writable > 0 {
                bad.push(format!(
                    "{id} page {i} is mapped {mapcount} times and one mapping is writable"
                ));
            }
            if ae_rule && maps.mms.len() > 1 && p.anon_exclusive {
                bad.push(format!(
                    "{id} page {i} is anon-exclusive but mapped by {} processes",
                    maps.mms.len()
                ));
            }
        }
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
        if f.lru == Some(LruList::Unevictable) && !f.flags.mlocked && !f.maybe_dma_pinned() {
            bad.push(format!(
                "{id} is on the unevictable list but neither mlocked nor pinned"
            ));
        }
    }
}

/// The same map object (cheap: the roots are shared when nothing changed).
fn ptr_eq_maps<V: Clone>(a: &OrdMap<String, V>, b: &OrdMap<String, V>) -> bool {
    a.ptr_eq(b)
}
