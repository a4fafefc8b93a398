//! Folios: refcount, per-page mapcount, pincount, flags and content.
//! Reference arithmetic: docs/kernel-reference.md.

use crate::data::Data;
use crate::ids::FileId;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// include/linux/mm.h: GUP_PIN_COUNTING_BIAS.
pub const GUP_PIN_COUNTING_BIAS: i64 = 1024;

/// Order of a PMD-sized THP on x86-64 (512 base pages).
pub const HPAGE_PMD_ORDER: u8 = 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FolioKind {
    /// The shared zero page (never freed, mapped without a reference).
    Zero,
    /// Anonymous memory.
    Anon,
    /// Page-cache folio of a file at a page index.
    File { file: FileId, index: u64 },
    /// A page the kernel allocated for its own buffer (kvec/bvec iterators).
    Kernel,
}

/// Where a folio was allocated, as far as long-term pinning cares
/// (include/linux/mm.h: folio_is_longterm_pinnable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Zone {
    Normal,
    /// ZONE_MOVABLE: long-term pins migrate it away from 5.14
    /// (check_and_migrate_movable_pages, d1e153fea2a8); before, it was pinned in place.
    Movable,
    /// A MIGRATE_CMA pageblock (a migrate type, not a zone, shown beside them):
    /// long-term pins migrate it away in every preset (check_and_migrate_cma_pages, 5.1).
    Cma,
}

impl Zone {
    pub fn name(self) -> &'static str {
        match self {
            Zone::Normal => "normal",
            Zone::Movable => "movable",
            Zone::Cma => "cma",
        }
    }

    pub fn parse(s: &str) -> Option<Zone> {
        [Zone::Normal, Zone::Movable, Zone::Cma]
            .into_iter()
            .find(|z| z.name() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LruList {
    Inactive,
    Active,
    Unevictable,
}

/// Page flags kept per folio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolioFlags {
    pub dirty: bool,
    pub writeback: bool,
    pub uptodate: bool,
    pub mlocked: bool,
    pub swapcache: bool,
    /// PG_private: the filesystem attached private data (ext4's buffer heads,
    /// btrfs's extent state). It holds a reference: folio_attach_private()
    /// does folio_get() (attach_page_buffers() / get_page() in 5.x).
    pub private: bool,
    /// PG_referenced: folio_mark_accessed (read(2), GUP's FOLL_TOUCH) and
    /// reclaim's folio_check_references set it; a second look activates.
    #[serde(default)]
    pub referenced: bool,
    /// PG_reclaim: reclaim met it dirty or under writeback and wants it
    /// back at the tail of the inactive list once written
    /// (folio_end_writeback -> folio_rotate_reclaimable).
    #[serde(default)]
    pub reclaim: bool,
}

/// One base page of a folio.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Number of PTEs mapping this page (the kernel's _mapcount + 1).
    pub mapcount: i32,
    /// PG_anon_exclusive (per page; 5.19+).
    pub anon_exclusive: bool,
    pub data: Data,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folio {
    pub order: u8,
    pub kind: FolioKind,
    /// _refcount: every reference, pins weighted (section 3).
    pub refcount: i64,
    /// _pincount: exact pin count, large folios only.
    pub pincount: i64,
    /// Number of PMD mappings of the whole folio (_entire_mapcount + 1).
    pub entire_mapcount: i32,
    pub flags: FolioFlags,
    /// LRU list, or None when not on an LRU (zero page, kernel pages, freed).
    pub lru: Option<LruList>,
    pub zone: Zone,
    /// Swap slot this folio is cached for (PG_swapcache), if any.
    pub swap_slot: Option<u32>,
    /// Where on its LRU list the folio sits: lists are scanned from the
    /// lowest (the tail, oldest) up; list_add at the head takes a new
    /// highest value, a rotation to the tail a new lowest.
    #[serde(default)]
    pub lru_seq: i64,
    /// Taken off its LRU list by reclaim, which holds one reference on it
    /// meanwhile (isolate_lru_folios: folio_try_get).
    #[serde(default)]
    pub isolated: bool,
    pub freed: bool,
    /// References a kernel bug took and nothing will ever drop: 5.7-5.9's
    /// check_and_migrate_cma_pages drops a pin with put_page(), leaving 1023
    /// of its 1024 (`Preset::longterm_migration_leaks_pins`).
    #[serde(default)]
    pub leaked: i64,
    /// Pins the same bug left in a large folio's _pincount (put_page drops
    /// the pin's one reference but not its pincount).
    #[serde(default)]
    pub leaked_pincount: i64,
    pub pages: SmallVec<[Page; 1]>,
}

impl Folio {
    pub fn new(kind: FolioKind, order: u8, zone: Zone) -> Folio {
        let n = 1usize << order;
        let page = Page {
            mapcount: 0,
            anon_exclusive: false,
            data: Data::zero(),
        };
        Folio {
            order,
            kind,
            refcount: 0,
            pincount: 0,
            entire_mapcount: 0,
            flags: FolioFlags::default(),
            lru: None,
            zone,
            swap_slot: None,
            lru_seq: 0,
            isolated: false,
            freed: false,
            leaked: 0,
            leaked_pincount: 0,
            pages: SmallVec::from_elem(page, n),
        }
    }

    pub fn nr_pages(&self) -> usize {
        1usize << self.order
    }

    /// folio_test_large.
    pub fn is_large(&self) -> bool {
        self.order > 0
    }

    /// folio_has_pincount (64-bit): large folios keep an exact _pincount.
    /// Order-1 folios are never created by this model (their pincount placement
    /// changed across releases), so "large" is the whole test.
    pub fn has_pincount(&self) -> bool {
        self.is_large()
    }

    pub fn is_anon(&self) -> bool {
        self.kind == FolioKind::Anon
    }

    pub fn is_zero(&self) -> bool {
        self.kind == FolioKind::Zero
    }

    /// Mapcount of one page as page_mapcount reports it: PTE mappings of the
    /// page plus PMD mappings of the whole folio.
    pub fn page_mapcount(&self, page: usize) -> i32 {
        self.pages[page].mapcount + self.entire_mapcount
    }

    /// folio_mapcount: all page-table mappings (each PMD counts once).
    pub fn total_mapcount(&self) -> i32 {
        self.pages.iter().map(|p| p.mapcount).sum::<i32>() + self.entire_mapcount
    }

    pub fn is_mapped(&self) -> bool {
        self.total_mapcount() > 0
    }

    /// include/linux/mm.h: folio_maybe_dma_pinned. Exact for large folios;
    /// for small ones a refcount of 1024 plain references is a false positive.
    pub fn maybe_dma_pinned(&self) -> bool {
        if self.has_pincount() {
            self.pincount > 0
        } else {
            (self.refcount as u32) >= GUP_PIN_COUNTING_BIAS as u32
        }
    }

    /// Pins as the kernel could count them: exact for large folios, the bias
    /// quotient for small ones.
    pub fn pins_estimate(&self) -> i64 {
        if self.has_pincount() {
            self.pincount
        } else {
            self.refcount / GUP_PIN_COUNTING_BIAS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_folio_false_positive_at_1024_refs() {
        let mut f = Folio::new(FolioKind::Anon, 0, Zone::Normal);
        f.refcount = 1023;
        assert!(!f.maybe_dma_pinned());
        f.refcount = 1024;
        assert!(f.maybe_dma_pinned());
    }

    #[test]
    fn large_folio_uses_exact_pincount() {
        let mut f = Folio::new(FolioKind::Anon, 2, Zone::Normal);
        f.refcount = 5000;
        assert!(!f.maybe_dma_pinned());
        f.pincount = 1;
        assert!(f.maybe_dma_pinned());
    }

    #[test]
    fn overflowed_refcount_still_reads_as_pinned() {
        let mut f = Folio::new(FolioKind::Anon, 0, Zone::Normal);
        f.refcount = i32::MIN as i64 + 5;
        assert!(f.maybe_dma_pinned());
    }
}
