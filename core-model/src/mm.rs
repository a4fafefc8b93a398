//! Processes, their mm, VMAs and page-table entries.

use crate::ids::{FileId, FolioId, Pid};
use crate::pvec::PVec;
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One page-table entry. PMD-mapped THPs are stored as 512 entries with `pmd`
/// set, so every virtual page has exactly one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Pte {
    #[default]
    None,
    Present {
        folio: FolioId,
        /// Page of the folio this entry maps.
        page: u16,
        writable: bool,
        dirty: bool,
        soft_dirty: bool,
        /// Part of a PMD mapping of a whole THP.
        pmd: bool,
        /// The accessed bit (_PAGE_ACCESSED): set by the CPU on a load or a
        /// store, and already in vm_page_prot on x86, so every PTE a fault
        /// installs starts young; fork gives the child old entries
        /// (pte_mkold in copy_present_pte); reclaim's rmap walk
        /// (folio_referenced) reads and clears it.
        #[serde(default)]
        young: bool,
    },
    /// Swap entry; `exclusive` remembers PG_anon_exclusive (5.19+).
    Swap { slot: u32, exclusive: bool },
}

impl Pte {
    pub fn present(folio: FolioId, page: usize, writable: bool, dirty: bool) -> Pte {
        Pte::Present {
            folio,
            page: page as u16,
            writable,
            dirty,
            soft_dirty: true,
            pmd: false,
            young: true,
        }
    }

    pub fn is_young(&self) -> bool {
        matches!(self, Pte::Present { young: true, .. })
    }

    /// pte_mkyoung (a CPU access) or pte_mkold.
    pub fn set_young(&mut self, on: bool) {
        if let Pte::Present { young, .. } = self {
            *young = on;
        }
    }

    pub fn folio(&self) -> Option<(FolioId, usize)> {
        match *self {
            Pte::Present { folio, page, .. } => Some((folio, page as usize)),
            _ => None,
        }
    }

    pub fn is_present(&self) -> bool {
        matches!(self, Pte::Present { .. })
    }

    pub fn is_writable(&self) -> bool {
        matches!(self, Pte::Present { writable: true, .. })
    }

    pub fn is_dirty(&self) -> bool {
        matches!(self, Pte::Present { dirty: true, .. })
    }

    pub fn is_pmd(&self) -> bool {
        matches!(self, Pte::Present { pmd: true, .. })
    }

    /// pte_wrprotect.
    pub fn wrprotect(&mut self) {
        if let Pte::Present { writable, .. } = self {
            *writable = false;
        }
    }
}

/// VMA flags (include/linux/mm.h VM_*), plus two hints the model needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmFlags {
    pub read: bool,
    pub write: bool,
    pub shared: bool,
    pub maywrite: bool,
    /// VM_DONTCOPY (MADV_DONTFORK).
    pub dontcopy: bool,
    /// VM_LOCKED (mlock).
    pub locked: bool,
    /// VM_HUGEPAGE (MADV_HUGEPAGE): PMD-sized THP on fault.
    pub hugepage: bool,
    /// VM_NOHUGEPAGE (MADV_NOHUGEPAGE).
    pub nohugepage: bool,
    /// What-if VM_NOCOW (never merged): fork copies instead of sharing.
    pub nocow: bool,
}

impl VmFlags {
    /// is_cow_mapping: private and may become writable.
    pub fn is_cow(&self) -> bool {
        !self.shared && self.maywrite
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backing {
    Anon,
    /// A file, `pgoff` pages into it. Shared anonymous memory is a shmem file.
    File {
        file: FileId,
        pgoff: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vma {
    /// Name the user gave the mapping (several VMAs share it after a split).
    pub name: String,
    /// First virtual page number.
    pub start: u64,
    pub flags: VmFlags,
    pub backing: Backing,
    /// Large-folio order for anonymous faults (mTHP hint; 0 = small folios).
    pub anon_order: u8,
    /// Where faults allocate folios (a model hint: ZONE_MOVABLE or CMA memory
    /// for the long-term pin lessons).
    pub zone: crate::folio::Zone,
    /// Which anon_vma the VMA has, for merging: 0 for the one of the mapping
    /// as made (its pieces share it), or a VMA of its own that fork gave a
    /// child (anon_vma_fork), so a child's pieces never merge again.
    #[serde(default)]
    pub anon_vma: u64,
    /// vma->anon_vma is set: anon_vma_prepare ran because an anonymous page
    /// was allocated here (do_anonymous_page, do_cow_fault, wp_page_copy, a
    /// THP fault), or fork gave the child one (anon_vma_fork). Mapping the
    /// zero page or page-cache pages does not. fork copies the page tables of
    /// a VMA only if it has one (copy_page_range, vma_needs_copy).
    #[serde(default)]
    pub has_anon_vma: bool,
    #[serde(skip)]
    pub ptes: PVec<Pte>,
}

impl Vma {
    pub fn pages(&self) -> u64 {
        self.ptes.len() as u64
    }

    pub fn end(&self) -> u64 {
        self.start + self.pages()
    }

    pub fn contains(&self, vpn: u64) -> bool {
        vpn >= self.start && vpn < self.end()
    }

    pub fn pte(&self, vpn: u64) -> Pte {
        self.ptes[(vpn - self.start) as usize]
    }

    pub fn is_anon(&self) -> bool {
        self.backing == Backing::Anon
    }

    /// File page index of a virtual page (file mappings only).
    pub fn file_index(&self, vpn: u64) -> Option<(FileId, u64)> {
        match self.backing {
            Backing::File { file, pgoff } => Some((file, pgoff + (vpn - self.start))),
            Backing::Anon => None,
        }
    }
}

/// A named region of the address space: `buf[i]` is page `base + i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub base: u64,
    pub pages: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mm {
    /// MMF_HAS_PINNED (mm->has_pinned before 5.14): sticky once set.
    pub has_pinned: bool,
    #[serde(skip)]
    pub vmas: OrdMap<u64, Arc<Vma>>,
    pub regions: OrdMap<String, Region>,
    pub next_vpn: u64,
}

impl Mm {
    /// find_vma for one page.
    pub fn vma_at(&self, vpn: u64) -> Option<&Arc<Vma>> {
        let (_, vma) = self.vmas.range(..=vpn).next_back()?;
        vma.contains(vpn).then_some(vma)
    }

    pub fn pte(&self, vpn: u64) -> Pte {
        self.vma_at(vpn).map(|v| v.pte(vpn)).unwrap_or(Pte::None)
    }

    /// Sets one PTE (the page must be inside a VMA).
    /// mm/rmap.c: anon_vma_prepare for the VMA holding `vpn`.
    pub fn anon_vma_prepare(&mut self, vpn: u64) {
        let Some((&start, vma)) = self.vmas.range(..=vpn).next_back() else {
            return;
        };
        if vma.contains(vpn) && !vma.has_anon_vma {
            Arc::make_mut(self.vmas.get_mut(&start).expect("vma")).has_anon_vma = true;
        }
    }

    pub fn set_pte(&mut self, vpn: u64, pte: Pte) {
        let start = self.vma_at(vpn).map(|v| v.start).expect("set_pte outside a vma");
        let vma = Arc::make_mut(self.vmas.get_mut(&start).expect("vma"));
        let i = (vpn - vma.start) as usize;
        vma.ptes.set(i, pte);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: Pid,
    pub name: String,
    pub parent: Option<Pid>,
    /// world.seq when the process was created (fork or spawn).
    pub created_seq: u64,
    pub alive: bool,
    pub mm: Mm,
}
