//! The world: every object of the simulated kernel, in persistent collections
//! so that a snapshot per micro-step costs only what changed.

use crate::data::Data;
use crate::error::Errno;
use crate::error::{KResult, errno, invalid};
use crate::file::File;
use crate::folio::{Folio, FolioKind, LruList, Zone};
use crate::hazard::Hazard;
use crate::holder::{Holder, Pipe};
use crate::ids::{FileId, FolioId, Pid, ZERO_FOLIO};
use crate::mm::{Process, Pte, Vma};
use crate::preset::Preset;
use crate::pvec::PVec;
use crate::whatif::WhatIf;
use imbl::{OrdMap, Vector};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// /proc/vmstat counters the model keeps (kernel names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vmstat {
    pub nr_foll_pin_acquired: u64,
    pub nr_foll_pin_released: u64,
    pub pgfault: u64,
    pub thp_fault_alloc: u64,
    pub thp_split_pmd: u64,
    pub thp_collapse_alloc: u64,
    pub pswpin: u64,
    pub pswpout: u64,
    pub pgscan: u64,
    pub pgsteal: u64,
    /// Folios reclaim moved to the active list (activate_locked).
    #[serde(default)]
    pub pgactivate: u64,
    /// Folios shrink_active_list moved to the inactive list.
    #[serde(default)]
    pub pgdeactivate: u64,
    pub pgmigrate_success: u64,
    pub unevictable_pgs_culled: u64,
    pub unevictable_pgs_rescued: u64,
    /// Not a kernel counter: folios reclaim scanned and could not free
    /// (the reclaim_in_vain hazard, counted).
    #[serde(default)]
    pub pgscan_wasted: u64,
}

impl Vmstat {
    /// Counters a lesson can read: the kernel's, `pgscan_wasted` (the model's
    /// count of scans in vain) and `pins_outstanding` (nr_foll_pin_acquired
    /// minus nr_foll_pin_released, as /proc/vmstat lets one compute).
    pub const NAMES: [&'static str; 17] = [
        "nr_foll_pin_acquired",
        "nr_foll_pin_released",
        "pgfault",
        "thp_fault_alloc",
        "thp_split_pmd",
        "thp_collapse_alloc",
        "pswpin",
        "pswpout",
        "pgscan",
        "pgsteal",
        "pgactivate",
        "pgdeactivate",
        "pgmigrate_success",
        "unevictable_pgs_culled",
        "unevictable_pgs_rescued",
        "pgscan_wasted",
        "pins_outstanding",
    ];

    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "nr_foll_pin_acquired" => self.nr_foll_pin_acquired,
            "nr_foll_pin_released" => self.nr_foll_pin_released,
            "pgfault" => self.pgfault,
            "thp_fault_alloc" => self.thp_fault_alloc,
            "thp_split_pmd" => self.thp_split_pmd,
            "thp_collapse_alloc" => self.thp_collapse_alloc,
            "pswpin" => self.pswpin,
            "pswpout" => self.pswpout,
            "pgscan" => self.pgscan,
            "pgsteal" => self.pgsteal,
            "pgactivate" => self.pgactivate,
            "pgdeactivate" => self.pgdeactivate,
            "pgmigrate_success" => self.pgmigrate_success,
            "unevictable_pgs_culled" => self.unevictable_pgs_culled,
            "unevictable_pgs_rescued" => self.unevictable_pgs_rescued,
            "pgscan_wasted" => self.pgscan_wasted,
            "pins_outstanding" => self.nr_foll_pin_acquired.saturating_sub(self.nr_foll_pin_released),
            _ => return None,
        })
    }
}

/// A swap slot: the data written out, how many swap PTEs point at it, and the
/// folio still in the swap cache for it, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapEntry {
    pub data: Data,
    pub count: u32,
    pub cache: Option<FolioId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub preset: Preset,
    pub whatif: WhatIf,
    #[serde(skip)]
    pub folios: PVec<Folio>,
    #[serde(skip)]
    pub procs: OrdMap<Pid, Arc<Process>>,
    #[serde(skip)]
    pub files: OrdMap<FileId, Arc<File>>,
    #[serde(skip)]
    pub holders: OrdMap<String, Arc<Holder>>,
    #[serde(skip)]
    pub pipes: OrdMap<String, Arc<Pipe>>,
    #[serde(skip)]
    pub swap: OrdMap<u32, SwapEntry>,
    /// Kernel-allocated buffers: name -> their folios (one reference each).
    #[serde(skip)]
    pub kbufs: OrdMap<String, Arc<Vec<FolioId>>>,
    pub vmstat: Vmstat,
    #[serde(skip)]
    pub hazards: Vector<Hazard>,
    /// Logical clock: bumps on every write, fork and spawn.
    pub seq: u64,
    /// What changed since the last micro-step boundary (not state: two
    /// journals always compare equal).
    #[serde(skip)]
    pub journal: crate::journal::Journal,
    /// A deliberately wrong rule for tests (`Sim::inject_fault`); None in
    /// normal use.
    #[serde(skip)]
    pub fault: Option<crate::sim::Fault>,
    pub next_pid: u32,
    pub next_swap: u32,
    /// Pins counted in nr_foll_pin_acquired that a kernel bug dropped with
    /// put_page(), so nr_foll_pin_released never counts them (`Folio::leaked`).
    #[serde(default)]
    pub leaked_pins: u64,
    /// Orders the LRU lists (`Folio::lru_seq`).
    #[serde(default)]
    pub lru_clock: i64,
    /// PGDAT_DIRTY: the last reclaim pass found every file folio it took
    /// dirty and not yet queued for writeback, which lets kswapd write such
    /// folios itself (pageout). Cleared when kswapd finds the node balanced
    /// (clear_pgdat_congested), which the model, having no watermarks, never
    /// does.
    #[serde(default)]
    pub pgdat_dirty: bool,
}

/// Most pages a world may hold across every mapping, file and kernel buffer
/// (16 GiB of 4 KiB pages): requests beyond it fail with ENOMEM before they
/// change anything, so no input makes the model allocate without bound.
pub const MAX_WORLD_PAGES: u64 = 1 << 22;

impl World {
    /// Pages the world holds: every live process's mappings, every file
    /// (shmem objects behind shared anonymous mappings are counted by their
    /// mappings) and every kernel buffer.
    pub fn pages_in_use(&self) -> u64 {
        let mapped: u64 = self
            .procs
            .values()
            .filter(|p| p.alive)
            .flat_map(|p| p.mm.vmas.values())
            .map(|v| v.pages())
            .sum();
        let files: u64 = self.files.values().filter(|f| !f.shmem_for_anon).map(|f| f.pages).sum();
        let kbufs: u64 = self.kbufs.values().map(|k| k.len() as u64).sum();
        mapped + files + kbufs
    }

    /// ENOMEM if `more` pages would take the world past MAX_WORLD_PAGES.
    pub fn check_budget(&self, more: u64, what: &str) -> KResult<()> {
        let now = self.pages_in_use();
        if now.saturating_add(more) > MAX_WORLD_PAGES {
            return errno(
                Errno::ENOMEM,
                format!(
                    "{what} would need {more} more page(s): the model's world holds at most {MAX_WORLD_PAGES} pages (16 GiB) across all mappings, files and kernel buffers, and {now} are in use"
                ),
            );
        }
        Ok(())
    }

    pub fn new(preset: Preset, whatif: WhatIf) -> World {
        let mut zero = Folio::new(FolioKind::Zero, 0, Zone::Normal);
        // The zero page is reserved memory with one reference of its own.
        zero.refcount = 1;
        zero.flags.uptodate = true;
        let mut folios = PVec::new();
        folios.push_back(zero);
        World {
            preset,
            whatif,
            folios,
            procs: OrdMap::new(),
            files: OrdMap::new(),
            holders: OrdMap::new(),
            pipes: OrdMap::new(),
            swap: OrdMap::new(),
            kbufs: OrdMap::new(),
            vmstat: Vmstat::default(),
            hazards: Vector::new(),
            seq: 0,
            journal: Default::default(),
            fault: None,
            next_pid: 1,
            next_swap: 0,
            leaked_pins: 0,
            lru_clock: 0,
            pgdat_dirty: false,
        }
    }

    // ---- folios ---------------------------------------------------------------

    pub fn folio(&self, id: FolioId) -> &Folio {
        &self.folios[id.0 as usize]
    }

    pub fn folio_mut(&mut self, id: FolioId) -> &mut Folio {
        self.journal.touch(id);
        self.folios.get_mut(id.0 as usize)
    }

    pub fn folio_ids(&self) -> impl Iterator<Item = FolioId> + '_ {
        (0..self.folios.len() as u32).map(FolioId)
    }

    pub fn live_folios(&self) -> impl Iterator<Item = (FolioId, &Folio)> + '_ {
        self.folios
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.freed)
            .map(|(i, f)| (FolioId(i as u32), f))
    }

    /// Allocates a folio holding one reference (the caller's).
    pub fn alloc_folio(&mut self, kind: FolioKind, order: u8, zone: Zone) -> FolioId {
        let mut f = Folio::new(kind, order, zone);
        f.refcount = 1;
        f.flags.uptodate = true;
        let id = FolioId(self.folios.len() as u32);
        self.folios.push_back(f);
        self.journal.touch(id);
        id
    }

    /// folio_put / folio_put_refs: drops references; frees the folio at zero.
    pub fn folio_put(&mut self, id: FolioId, n: i64) {
        if id == ZERO_FOLIO {
            let f = self.folio_mut(id);
            f.refcount -= n;
            return;
        }
        let f = self.folio_mut(id);
        f.refcount -= n;
        if f.refcount <= 0 && !f.freed {
            f.freed = true;
            f.lru = None;
            f.flags.dirty = false;
            f.flags.private = false;
        }
    }

    /// folio_attach_private: the filesystem hangs its private data (buffer
    /// heads, btrfs extent state) on a page-cache folio and takes a reference
    /// for it (folio_get; attach_page_buffers() -> get_page() in 5.x).
    /// Returns whether anything was attached.
    pub fn attach_private(&mut self, id: FolioId) -> bool {
        let f = self.folio_mut(id);
        if f.flags.private {
            return false;
        }
        f.flags.private = true;
        f.refcount += 1;
        true
    }

    /// folio_detach_private: the filesystem releases its private data
    /// (try_to_free_buffers / filemap_release_folio) and drops its reference.
    pub fn detach_private(&mut self, id: FolioId) {
        if self.folio(id).flags.private {
            self.folio_mut(id).flags.private = false;
            self.folio_put(id, 1);
        }
    }

    pub fn lru_add(&mut self, id: FolioId, mlocked: bool) {
        self.lru_add_to(id, mlocked, LruList::Inactive);
    }

    /// A new anonymous folio of a fault: lru_cache_add_active_or_unevictable
    /// puts it on the active list before 5.9; b518154e59aa (5.9,
    /// lru_cache_add_inactive_or_unevictable) on the inactive one, so that a
    /// second access has to promote it.
    pub fn lru_add_new_anon(&mut self, id: FolioId, mlocked: bool) {
        let list = if self.preset.new_anon_on_active_list() {
            LruList::Active
        } else {
            LruList::Inactive
        };
        self.lru_add_to(id, mlocked, list);
    }

    fn lru_add_to(&mut self, id: FolioId, mlocked: bool, list: LruList) {
        if mlocked {
            self.folio_mut(id).flags.mlocked = true;
            self.lru_move(id, LruList::Unevictable, true);
        } else {
            self.lru_move(id, list, true);
        }
    }

    /// Puts a folio on a list, at its head (newest) or its tail (the next
    /// one reclaim takes).
    pub fn lru_move(&mut self, id: FolioId, list: LruList, head: bool) {
        self.lru_clock += 1;
        let seq = if head { self.lru_clock } else { -self.lru_clock };
        let f = self.folio_mut(id);
        f.lru = Some(list);
        f.lru_seq = seq;
    }

    /// mm/swap.c: folio_mark_accessed (mark_page_accessed before 5.16): a
    /// first access sets PG_referenced, a second one activates a folio on the
    /// inactive list (and clears PG_referenced).
    pub fn mark_accessed(&mut self, id: FolioId) {
        let f = self.folio(id);
        if f.freed || f.is_zero() {
            return;
        }
        if f.flags.referenced && f.lru == Some(LruList::Inactive) {
            self.folio_mut(id).flags.referenced = false;
            self.lru_move(id, LruList::Active, true);
            self.vmstat.pgactivate += self.folio(id).nr_pages() as u64;
        } else if !f.flags.referenced {
            self.folio_mut(id).flags.referenced = true;
        }
    }

    // ---- processes -------------------------------------------------------------

    pub fn pid_of(&self, name: &str) -> KResult<Pid> {
        match self.procs.values().find(|p| p.name == name) {
            Some(p) if p.alive => Ok(p.pid),
            Some(_) => invalid(format!("process '{name}' has exited")),
            None => invalid(format!("no process named '{name}'")),
        }
    }

    pub fn proc(&self, pid: Pid) -> &Process {
        &self.procs[&pid]
    }

    pub fn proc_mut(&mut self, pid: Pid) -> &mut Process {
        Arc::make_mut(self.procs.get_mut(&pid).expect("live pid"))
    }

    /// Virtual page of `region[page]` in a process, checking the name and range.
    pub fn resolve(&self, pid: Pid, region: &str, page: u64) -> KResult<u64> {
        let p = self.proc(pid);
        let Some(r) = p.mm.regions.get(region) else {
            return invalid(format!("process '{}' has no mapping named '{region}'", p.name));
        };
        if page >= r.pages {
            return invalid(format!(
                "{}:{region}[{page}] is out of range: '{region}' has {} pages",
                p.name, r.pages
            ));
        }
        Ok(r.base + page)
    }

    /// Like `resolve` for a range; `pages` must be at least 1.
    pub fn resolve_range(&self, pid: Pid, region: &str, start: u64, pages: u64) -> KResult<u64> {
        if pages == 0 {
            return invalid("a range of 0 pages");
        }
        let first = self.resolve(pid, region, start)?;
        let Some(last) = start.checked_add(pages - 1) else {
            return invalid(format!("range of {pages} pages overflows"));
        };
        self.resolve(pid, region, last)?;
        Ok(first)
    }

    /// The VMA mapping a page, or EFAULT.
    pub fn vma(&self, pid: Pid, vpn: u64) -> KResult<&Arc<Vma>> {
        match self.proc(pid).mm.vma_at(vpn) {
            Some(v) => Ok(v),
            None => errno(
                Errno::EFAULT,
                format!("{}: page {vpn:#x} is not mapped", self.proc(pid).name),
            ),
        }
    }

    pub fn pte(&self, pid: Pid, vpn: u64) -> Pte {
        self.proc(pid).mm.pte(vpn)
    }

    /// mm/rmap.c: anon_vma_prepare: the VMA at `vpn` gets an anon_vma.
    pub fn anon_vma_prepare(&mut self, pid: Pid, vpn: u64) {
        self.proc_mut(pid).mm.anon_vma_prepare(vpn);
    }

    pub fn set_pte(&mut self, pid: Pid, vpn: u64, pte: Pte) {
        let old = self.pte(pid, vpn);
        self.journal.pte(pid, vpn, old, pte);
        self.proc_mut(pid).mm.set_pte(vpn, pte);
    }

    /// Records a PTE rewritten in place by code that edits a VMA's page table
    /// directly (fork, mprotect).
    pub fn note_pte(&mut self, pid: Pid, vpn: u64, old: Pte, new: Pte) {
        self.journal.pte(pid, vpn, old, new);
    }

    /// Name a student would use for a virtual page: `proc:region[i]`.
    pub fn page_name(&self, pid: Pid, vpn: u64) -> String {
        let p = self.proc(pid);
        for (name, r) in p.mm.regions.iter() {
            if vpn >= r.base && vpn < r.base + r.pages {
                return format!("{}:{}[{}]", p.name, name, vpn - r.base);
            }
        }
        format!("{}:{vpn:#x}", p.name)
    }

    // ---- files -----------------------------------------------------------------

    pub fn file_id(&self, name: &str) -> KResult<FileId> {
        match self.files.iter().find(|(_, f)| f.name == name && !f.shmem_for_anon) {
            Some((id, _)) => Ok(*id),
            None => invalid(format!("no file named '{name}'")),
        }
    }

    pub fn file(&self, id: FileId) -> &File {
        &self.files[&id]
    }

    pub fn file_mut(&mut self, id: FileId) -> &mut File {
        Arc::make_mut(self.files.get_mut(&id).expect("file"))
    }

    pub fn holder(&self, name: &str) -> KResult<&Arc<Holder>> {
        match self.holders.get(name) {
            Some(h) => Ok(h),
            None => invalid(format!("no holder named '{name}'")),
        }
    }

    pub fn bump_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
