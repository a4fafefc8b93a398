//! Kernel-version presets. A preset means "this release up to the next preset";
//! every rule that differs between releases is a method here that names the
//! commit which changed it (docs/model.md lists them per preset with the evidence).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A kernel release the model can behave like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Preset {
    /// 5.7: pin bias and counters exist, nothing consumes them.
    #[serde(rename = "5.7")]
    V5_7,
    /// 5.8: GUP on a COW mapping breaks COW (17839856fd58).
    #[serde(rename = "5.8")]
    V5_8,
    /// 5.9-5.10: refcount-based reuse, early COW at fork for pinned pages.
    #[serde(rename = "5.9")]
    V5_9,
    /// 5.11-5.13: pinned anon pages kept out of the swap cache (feb889fb40fa).
    #[serde(rename = "5.11")]
    V5_11,
    /// 5.14-5.17: MMF_HAS_PINNED (a458b76a4171), long-term pins migrate
    /// ZONE_MOVABLE folios too (d1e153fea2a8), io_uring accepts shmem buffers.
    #[serde(rename = "5.14")]
    V5_14,
    /// 5.18: COW fixes part 1 (PMD-mapped THP and swap-in use the refcount rule).
    #[serde(rename = "5.18")]
    V5_18,
    /// 5.19-5.x: PageAnonExclusive, unshare faults for R/O pins (COW fixes part 2).
    #[serde(rename = "5.19")]
    V5_19,
    /// 6.0: mprotect upgrades dirty exclusive anon PTEs (64fe24a3e05e).
    #[serde(rename = "6.0")]
    V6_0,
    /// 6.1: MADV_COLLAPSE (7d8faaf15545).
    #[serde(rename = "6.1")]
    V6_1,
    /// 6.2: reliable R/O long-term pins in COW mappings (84209e87c696).
    #[serde(rename = "6.2")]
    V6_2,
    /// 6.3: iov_iter_extract_pages exists (7d58fe731028), used only by
    /// cifs/netfs; block O_DIRECT still takes references.
    #[serde(rename = "6.3")]
    V6_3,
    /// 6.4: reclaim keeps the private data of, and activates, maybe-pinned
    /// folios after unmapping them (d824ec2a1546).
    #[serde(rename = "6.4")]
    V6_4,
    /// 6.5-6.7: zero page never pinned, writable long-term pins of dirty-tracked files refused.
    #[serde(rename = "6.5")]
    V6_5,
    /// 6.8-6.11: folio rmap API, anonymous multi-size THP.
    #[serde(rename = "6.8")]
    V6_8,
    /// 6.12-6.17: ITER_FOLIOQ, io_uring coalescing across folios.
    #[serde(rename = "6.12")]
    V6_12,
    /// 6.18 and later: write faults reuse a large anonymous folio that only
    /// this mm maps (MM-ID tracking, 6.15); the release this project's
    /// machines run, checked by `pinlab probe`.
    #[serde(rename = "6.18")]
    V6_18,
}

impl Preset {
    pub const ALL: [Preset; 16] = [
        Preset::V5_7,
        Preset::V5_8,
        Preset::V5_9,
        Preset::V5_11,
        Preset::V5_14,
        Preset::V5_18,
        Preset::V5_19,
        Preset::V6_0,
        Preset::V6_1,
        Preset::V6_2,
        Preset::V6_3,
        Preset::V6_4,
        Preset::V6_5,
        Preset::V6_8,
        Preset::V6_12,
        Preset::V6_18,
    ];

    /// The newest preset, used when a lesson names none.
    pub const NEWEST: Preset = Preset::V6_18;

    pub fn name(self) -> &'static str {
        match self {
            Preset::V5_7 => "5.7",
            Preset::V5_8 => "5.8",
            Preset::V5_9 => "5.9",
            Preset::V5_11 => "5.11",
            Preset::V5_14 => "5.14",
            Preset::V5_18 => "5.18",
            Preset::V5_19 => "5.19",
            Preset::V6_0 => "6.0",
            Preset::V6_1 => "6.1",
            Preset::V6_2 => "6.2",
            Preset::V6_3 => "6.3",
            Preset::V6_4 => "6.4",
            Preset::V6_5 => "6.5",
            Preset::V6_8 => "6.8",
            Preset::V6_12 => "6.12",
            Preset::V6_18 => "6.18",
        }
    }

    /// Parses "5.19", "v5.19" or "5.19.3" (the patch level is ignored) to the
    /// preset whose span contains that release.
    pub fn parse(text: &str) -> Option<Preset> {
        let t = text.trim().trim_start_matches('v');
        let mut it = t.split('.');
        let major: u32 = it.next()?.parse().ok()?;
        let minor: u32 = it.next()?.parse().ok()?;
        if let Some(patch) = it.next() {
            patch.parse::<u32>().ok()?;
        }
        if it.next().is_some() {
            return None;
        }
        let v = (major, minor);
        let p = match v {
            (5, 7) => Preset::V5_7,
            (5, 8) => Preset::V5_8,
            (5, 9..=10) => Preset::V5_9,
            (5, 11..=13) => Preset::V5_11,
            (5, 14..=17) => Preset::V5_14,
            (5, 18) => Preset::V5_18,
            (5, 19) => Preset::V5_19,
            (6, 0) => Preset::V6_0,
            (6, 1) => Preset::V6_1,
            (6, 2) => Preset::V6_2,
            (6, 3) => Preset::V6_3,
            (6, 4) => Preset::V6_4,
            (6, 5..=7) => Preset::V6_5,
            (6, 8..=11) => Preset::V6_8,
            (6, 12..=17) => Preset::V6_12,
            (6, 18..) | (7.., _) => Preset::V6_18,
            _ => return None,
        };
        Some(p)
    }

    /// The preset for a release as a user or `uname -r` writes it: "6.8",
    /// "v6.1.5", "6.8.0-45-generic", "6.18.44-fc-v669". A release newer than
    /// the newest preset maps to it, with a note saying so.
    pub fn for_release(text: &str) -> Result<ReleaseMatch, String> {
        let t = text.trim().trim_start_matches('v');
        // The release is the leading "major.minor[.patch]"; the rest of a
        // `uname -r` string (flavour, build) is ignored.
        let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let nums: Vec<&str> = t[..end].trim_end_matches('.').split('.').collect();
        let bad = || {
            format!(
                "'{text}' is not a kernel release (write one such as 6.8 or 6.8.0-45-generic; presets: {})",
                Preset::ALL.map(|p| p.name()).join(", ")
            )
        };
        if nums.len() < 2 || nums.len() > 3 || (end < t.len() && !t[end..].starts_with(['-', '+', '_', '~'])) {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
        let (major, minor) = (num(nums[0])?, num(nums[1])?);
        let patch = if nums.len() == 3 { num(nums[2])? } else { 0 };
        let release = format!("{major}.{minor}");
        let Some(preset) = Preset::parse(&release) else {
            return Err(format!(
                "kernel {text}: the model starts at 5.7 (the pin counting bias, 3faa52c03f44); presets: {}",
                Preset::ALL.map(|p| p.name()).join(", ")
            ));
        };
        let newer = (major, minor) > (6, 18);
        let note = if newer {
            Some(format!(
                "kernel {text} is newer than the newest preset: using {} (releases after it may differ)",
                preset.name()
            ))
        } else {
            drift(major, minor, patch)
                .map(|d| format!("kernel {text}: preset {} ({}); {d}", preset.name(), preset.span()))
        };
        Ok(ReleaseMatch { preset, note })
    }

    /// The releases this preset stands for, e.g. "6.8-6.11", "6.18 and later".
    pub fn span(self) -> String {
        let i = Preset::ALL.iter().position(|p| *p == self).unwrap_or(0);
        match Preset::ALL.get(i + 1) {
            None => format!("{} and later", self.name()),
            Some(next) => {
                let (maj, min) = next.name().split_once('.').unwrap_or(("0", "0"));
                let (maj, min): (u32, u32) = (maj.parse().unwrap_or(0), min.parse().unwrap_or(0));
                let last = if min == 0 {
                    // 5.19 is followed by 6.0.
                    format!("{}.19", maj - 1)
                } else {
                    format!("{maj}.{}", min - 1)
                };
                if last == self.name() {
                    self.name().to_string()
                } else {
                    format!("{}-{last}", self.name())
                }
            }
        }
    }

    /// The release that starts this preset's span, for source links.
    pub fn release(self) -> &'static str {
        match self {
            Preset::V5_7 => "v5.7",
            Preset::V5_8 => "v5.8",
            Preset::V5_9 => "v5.9",
            Preset::V5_11 => "v5.11",
            Preset::V5_14 => "v5.14",
            Preset::V5_18 => "v5.18",
            Preset::V5_19 => "v5.19",
            Preset::V6_0 => "v6.0",
            Preset::V6_1 => "v6.1",
            Preset::V6_2 => "v6.2",
            Preset::V6_3 => "v6.3",
            Preset::V6_4 => "v6.4",
            Preset::V6_5 => "v6.5",
            Preset::V6_8 => "v6.8",
            Preset::V6_12 => "v6.12",
            Preset::V6_18 => "v6.18",
        }
    }

    // ---- GUP --------------------------------------------------------------

    /// mm/gup.c: should_force_cow_break (17839856fd58, 5.8 only; removed by
    /// a308c71bf1e6 in 5.9): GUP with FOLL_GET or FOLL_PIN on a COW mapping
    /// takes a write fault even for reads.
    pub fn gup_forces_cow_break(self) -> bool {
        self == Preset::V5_8
    }

    /// mm->has_pinned arrived in 5.9 (008cfe4418b3), packed into
    /// MMF_HAS_PINNED (mm_set_has_pinned_flag) in 5.14 (a458b76a4171); before
    /// 5.9 nothing recorded that an mm had pins. Both are sticky.
    pub fn tracks_has_pinned(self) -> bool {
        self >= Preset::V5_9
    }

    /// PG_anon_exclusive exists (6c287605fd56, 5.19); before, the flag is
    /// never set and the model shows no exclusivity.
    pub fn tracks_anon_exclusive(self) -> bool {
        self >= Preset::V5_19
    }

    /// gup_must_unshare for anon pages (5.19, COW fixes part 2; in
    /// include/linux/mm.h until 6.2, mm/internal.h from 6.3).
    pub fn unshare_ro_pins_of_anon(self) -> bool {
        self >= Preset::V5_19
    }

    /// gup_must_unshare (include/linux/mm.h in 6.2) for the zero page and pagecache pages in
    /// COW mappings under FOLL_LONGTERM (84209e87c696, 6.2).
    pub fn unshare_ro_longterm_pins_of_non_anon(self) -> bool {
        self >= Preset::V6_2
    }

    /// mm/gup.c: try_grab_folio returns early for the zero page
    /// (c8070b787519 "mm: Don't pin ZERO_PAGE in pin_user_pages()", 6.5).
    pub fn zero_page_never_pinned(self) -> bool {
        self >= Preset::V6_5
    }

    /// mm/gup.c: check_vma_flags refuses FOLL_LONGTERM|FOLL_WRITE on shared
    /// mappings of dirty-tracked filesystems (8ac268436e6d, 6.5).
    pub fn refuses_longterm_write_pins_of_dirty_tracked_files(self) -> bool {
        self >= Preset::V6_5
    }

    // ---- COW ----------------------------------------------------------------

    /// mm/memory.c: do_wp_page's reuse rule for small anon folios.
    pub fn anon_reuse_rule(self) -> ReuseRule {
        if self >= Preset::V5_19 {
            ReuseRule::AnonExclusive
        } else if self >= Preset::V5_9 {
            ReuseRule::Refcount
        } else {
            ReuseRule::Mapcount
        }
    }

    /// mm/huge_memory.c: do_huge_pmd_wp_page kept the mapcount rule
    /// (reuse_swap_page) until COW fixes part 1 (3bff7e3f1f16, 5.18).
    pub fn pmd_thp_reuse_rule(self) -> ReuseRule {
        if self >= Preset::V5_19 {
            ReuseRule::AnonExclusive
        } else if self >= Preset::V5_18 {
            ReuseRule::Refcount
        } else {
            ReuseRule::Mapcount
        }
    }

    /// mm/memory.c: wp_can_reuse_anon_folio -> __wp_can_reuse_large_anon_folio
    /// (6.15, with CONFIG_MM_ID, which THP selects): a write fault reuses a
    /// PTE-mapped large anon folio when more than one of its pages is mapped,
    /// every mapping is in this mm, and every reference is a mapping (large
    /// mapcount == refcount). Before, large PTE-mapped folios were always copied.
    pub fn reuses_exclusive_large_anon_folios(self) -> bool {
        self >= Preset::V6_18
    }

    /// mm/memory.c: 5.19's do_wp_page and 6.5's / 6.8's
    /// wp_can_reuse_anon_folio have no large-folio test: a PTE-mapped large
    /// anon folio whose only reference is the faulting PTE (refcount 1) is
    /// reused like a small one. 6.12 adds `if (folio_test_large(folio))
    /// return false;` (mm/memory.c 3595); 6.18 decides with
    /// __wp_can_reuse_large_anon_folio.
    pub fn reuses_large_anon_folio_by_refcount(self) -> bool {
        (Preset::V5_19..=Preset::V6_8).contains(&self)
    }

    /// mm/huge_memory.c: 5.7's do_huge_pmd_wp_page allocates a new THP
    /// (alloc_hugepage_vma(HPAGE_PMD_ORDER), copy_user_huge_page,
    /// THP_FAULT_ALLOC) for a write to a shared PMD-mapped THP; 3917c80280c9
    /// "thp: change CoW semantics for anon-THP" (5.8) splits the PMD and lets
    /// the PTE fault copy one page (__split_huge_pmd, VM_FAULT_FALLBACK).
    pub fn pmd_cow_copies_whole_thp(self) -> bool {
        self < Preset::V5_8
    }

    /// mm/memory.c: do_swap_page reuse on a write fault during swap-in kept the
    /// mapcount rule until c145e0b47c77 (5.18).
    pub fn swapin_reuse_rule(self) -> ReuseRule {
        self.pmd_thp_reuse_rule()
    }

    /// mm/khugepaged.c: hpage_collapse_scan_pmd and
    /// __collapse_huge_page_isolate refuse an anonymous block in which no
    /// PTE is writable (`if (!writable) result = SCAN_PAGE_RO`, which
    /// MADV_COLLAPSE returns as EINVAL through madvise_collapse_errno), up
    /// to 6.17; Dev Jain's "mm: enable khugepaged anonymous collapse on
    /// non-writable regions" (6.18) removed the test. Found by pinlab probe
    /// on Linux 6.1 in a VM: after fork the parent's PTEs are write-protected
    /// and the collapse fails.
    pub fn collapse_needs_writable_pte(self) -> bool {
        self < Preset::V6_18
    }

    /// mm/memory.c: do_wp_page tries to free the swap-cache entry of an
    /// otherwise exclusive page before deciding (53a05ad9f21d, 5.18).
    pub fn wp_frees_swapcache(self) -> bool {
        self >= Preset::V5_18
    }

    // ---- fork ---------------------------------------------------------------

    /// mm/memory.c: copy_present_page early COW of maybe-pinned pages when the
    /// mm has pinned (70e806e4e645, 5.9).
    pub fn fork_copies_pinned(self) -> bool {
        self >= Preset::V5_9
    }

    /// 5.9-5.18: the early-copy test did not check PageAnon, so maybe-pinned
    /// pagecache pages in private mappings were copied too; 5.19
    /// (page_try_dup_anon_rmap, fb3d824d1a46) copies only exclusive anon pages.
    pub fn fork_copies_only_exclusive_anon(self) -> bool {
        self >= Preset::V5_19
    }

    // ---- mprotect -----------------------------------------------------------

    /// mm/mprotect.c: can_change_pte_writable for private anon PTEs:
    /// 64fe24a3e05e (6.0) upgrades dirty exclusive PTEs; "allow clean exclusive
    /// anon pages to be writable" (6.2) also clean ones.
    pub fn mprotect_upgrade(self) -> MprotectUpgrade {
        if self >= Preset::V6_2 {
            MprotectUpgrade::Exclusive
        } else if self >= Preset::V6_0 {
            MprotectUpgrade::DirtyExclusive
        } else {
            MprotectUpgrade::Never
        }
    }

    // ---- I/O ----------------------------------------------------------------

    /// lib/iov_iter.c: iov_iter_extract_pages (7d58fe731028, 6.3).
    pub fn has_iov_iter_extract_pages(self) -> bool {
        self >= Preset::V6_3
    }

    /// ITER_PIPE was removed in 6.5 (3fc40265ae2b).
    pub fn has_iter_pipe(self) -> bool {
        self < Preset::V6_5
    }

    /// ITER_FOLIOQ (6.12).
    pub fn has_iter_folioq(self) -> bool {
        self >= Preset::V6_12
    }

    /// block/bio.c: bio_set_pages_dirty, bio_check_pages_dirty and
    /// __bio_release_pages(mark_dirty) skip `PageCompound` pages in 5.7.14,
    /// 5.9.1, 5.11, 6.4 and 6.5.0 (a read into a THP leaves it clean); 6.8
    /// dirties the folio whatever its size.
    pub fn bio_dirties_large_folios(self) -> bool {
        self >= Preset::V6_8
    }

    // ---- reclaim ------------------------------------------------------------

    /// mm/memory.c: new anonymous folios of a fault go to the active LRU list
    /// (lru_cache_add_active_or_unevictable, 5.7.14, 5.8.1) until
    /// b518154e59aa "mm/vmscan: protect the workingset on anonymous LRU"
    /// (5.9.1: lru_cache_add_inactive_or_unevictable).
    pub fn new_anon_on_active_list(self) -> bool {
        self < Preset::V5_9
    }

    /// mm/vmscan.c page_check_references: a swap-backed page with a young
    /// PTE is activated at once up to 5.8 (`if (PageSwapBacked(page)) return
    /// PAGEREF_ACTIVATE;`, 5.7.14, 5.8.1); from 5.9 (b518154e59aa) anon and
    /// file pages are treated alike: PG_referenced first, activation on a
    /// second reference.
    pub fn young_anon_activates_at_once(self) -> bool {
        self < Preset::V5_9
    }

    /// Does `pageout()` find a ->writepage to call for a dirty page-cache
    /// folio of this filesystem? xfs dropped it in 5.15 (5.14.2 has
    /// xfs_vm_writepage, 5.15.85 not), btrfs in 6.0 (5.19 has it), ext4 in
    /// 6.2 (6.1.20 has ext4_writepage); 6.18's pageout() writes only shmem
    /// and anonymous folios ("We no longer attempt to writeback filesystem
    /// folios here"). Without it pageout() returns PAGE_ACTIVATE.
    pub fn pageout_writes(self, fs: crate::file::FsKind) -> bool {
        use crate::file::FsKind::*;
        if self >= Preset::V6_18 {
            return !fs.has_disk();
        }
        match fs {
            Xfs => self <= Preset::V5_14,
            Btrfs => self < Preset::V6_0,
            Ext4 => self < Preset::V6_2,
            Tmpfs | Hugetlbfs => true,
        }
    }

    // ---- misc ---------------------------------------------------------------

    /// mm/khugepaged.c: MADV_COLLAPSE (7d8faaf15545, 6.1).
    pub fn has_madv_collapse(self) -> bool {
        self >= Preset::V6_1
    }

    /// mm/memory.c: anonymous multi-size THP (19eaf44954df, 6.8).
    pub fn has_anon_mthp(self) -> bool {
        self >= Preset::V6_8
    }

    /// mm/vmscan.c: shrink_folio_list keeps maybe-pinned anon pages out of the
    /// swap cache (feb889fb40fa, 5.11).
    pub fn pinned_anon_kept_out_of_swap(self) -> bool {
        self >= Preset::V5_11
    }

    /// mm/shmem.c: shmem_file_open sets FMODE_CAN_ODIRECT from 6.6
    /// (e88e0d366f9c, "tmpfs: trivial support for direct IO"); before, open
    /// with O_DIRECT on tmpfs fails with EINVAL. The 6.5 preset (6.5-6.7)
    /// keeps 6.5's refusal.
    pub fn tmpfs_accepts_odirect(self) -> bool {
        self >= Preset::V6_8
    }

    /// io_sqe_buffer_register (fs/io_uring.c, io_uring/rsrc.c from 6.0)
    /// refuses file-backed buffers but hugetlbfs, accepts shmem from 5.14 and,
    /// from 6.5, leaves the file check to GUP (8ac268436e6d).
    pub fn io_uring_file_rule(self) -> IoUringFileRule {
        if self >= Preset::V6_5 {
            IoUringFileRule::GupDecides
        } else if self >= Preset::V5_14 {
            IoUringFileRule::AnonShmemHugetlbOnly
        } else {
            IoUringFileRule::AnonHugetlbOnly
        }
    }

    /// io_sqe_buffer_register keeps one pin per folio when a buffer's pages
    /// are consecutive pages of one large folio and unpins the others
    /// (57bebf807e2a "io_uring/rsrc: optimise registered huge pages", 6.3);
    /// io_try_coalesce_buffer extends it across folios of one size (6.12).
    pub fn io_uring_coalesce(self) -> IoUringCoalesce {
        if self >= Preset::V6_12 {
            IoUringCoalesce::AcrossFolios
        } else if self >= Preset::V6_3 {
            IoUringCoalesce::OneFolio
        } else {
            IoUringCoalesce::Never
        }
    }

    /// Which folios a FOLL_LONGTERM pin may not keep where they are
    /// (folio_is_longterm_pinnable): CMA pageblocks in every preset
    /// (check_and_migrate_cma_pages, 5.1), ZONE_MOVABLE from 5.14
    /// (check_and_migrate_movable_pages, d1e153fea2a8).
    pub fn longterm_pinnable(self, zone: crate::folio::Zone) -> bool {
        match zone {
            crate::folio::Zone::Normal => true,
            crate::folio::Zone::Movable => self < Preset::V5_14,
            crate::folio::Zone::Cma => false,
        }
    }

    /// check_and_migrate_cma_pages drops the request's references with
    /// put_page() before migrating, even the FOLL_PIN ones (5.7-5.9): each
    /// page of the request keeps 1023 of its pin's 1024 forever. 5.10 unpins
    /// FOLL_PIN requests with unpin_user_pages (5.7.14, 5.8.1, 5.9.1 against
    /// 5.10.0, mm/gup.c); the 5.9 preset's span (5.9-5.10) takes 5.9's rule.
    pub fn longterm_migration_leaks_pins(self) -> bool {
        self <= Preset::V5_9
    }

    /// When migration for a long-term pin fails, check_and_migrate_cma_pages
    /// sets migrate_allow = false, puts the folios back and pins again without
    /// migrating: the pin stays on the CMA folio ("some of the pages failed
    /// migration. Do get_user_pages without migration", 5.7.14 to 5.11). From
    /// 5.12 (5.12.9, and check_and_migrate_movable_pages in 5.14) GUP fails
    /// with `ret > 0 ? -ENOMEM : ret`; the 5.11 preset (5.11-5.13) takes 5.11's.
    pub fn longterm_migration_failure_pins_in_place(self) -> bool {
        self <= Preset::V5_11
    }

    /// The migrate_reason a long-term pin's migration passes to
    /// migrate_pages: MR_CONTIG_RANGE (5.7.14 to 5.12.9), MR_LONGTERM_PIN
    /// from check_and_migrate_movable_pages (5.14.2).
    pub fn longterm_migrate_reason(self) -> &'static str {
        if self >= Preset::V5_14 {
            "MR_LONGTERM_PIN"
        } else {
            "MR_CONTIG_RANGE"
        }
    }

    /// ib_umem_get asks for FOLL_WRITE on every registration, and adds
    /// FOLL_FORCE for read-only ones, until 6.2 (FOLL_FORCE dropped from
    /// drivers with the reliable R/O long-term pins, MM pull for 6.2); from 6.2
    /// only writable regions get FOLL_WRITE.
    pub fn rdma_ro_uses_foll_write(self) -> bool {
        self < Preset::V6_2
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rules a release inside a preset's span already has, or lacks, although
/// the preset (which models its span's first release) says otherwise:
/// said to the user who asks for that release.
fn drift(major: u32, minor: u32, patch: u32) -> Option<&'static str> {
    Some(match (major, minor) {
        (5, 7) if patch >= 3 => {
            "5.7.3 and later 5.7.y took 17839856fd58 from stable (GUP breaks COW, the 5.8 fix of CVE-2020-29374); the 5.7 preset models 5.7.0: use --kernel 5.8 for that rule"
        }
        (5, 10) => {
            "5.10 drops a failed long-term migration's FOLL_PIN pages with unpin_user_pages (and later 5.10.y, e.g. 5.10.44, fail with ENOMEM as 5.12 does); the 5.9 preset shows 5.9's put_page leak of 1023 references"
        }
        (5, 12) => {
            "5.12 fails a long-term pin with ENOMEM when migration fails; the 5.11 preset shows 5.11, which pins in place"
        }
        (5, 13) => {
            "5.12 fails a long-term pin with ENOMEM when migration fails, and 5.13 most likely migrates ZONE_MOVABLE folios too (d1e153fea2a8, v5.13 merge window; not checked in a 5.13 tree); the 5.11 preset shows 5.11's rules"
        }
        (6, 3) if patch >= 2 => {
            "6.3.2 and later 6.3.y carry d824ec2a1546 from stable (reclaim keeps the private data of a maybe-pinned folio): use --kernel 6.4 for that rule"
        }
        (6, 6..=7) => "6.6 and 6.7 accept O_DIRECT on tmpfs (e88e0d366f9c); the 6.5 preset refuses it as 6.5 does",
        (6, 15..=17) => {
            "6.15-6.17 reuse an exclusive large anon folio on a write fault like 6.18; the 6.12 preset copies"
        }
        _ => return None,
    })
}

/// A release mapped to the preset whose span holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseMatch {
    pub preset: Preset,
    /// Said to the user when the release is newer than every preset.
    pub note: Option<String>,
}

/// How do_wp_page decides whether a write fault may reuse an anon page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReuseRule {
    /// up to 5.8: reuse_swap_page(): mapcount (+ swap count) <= 1, GUP refs ignored.
    Mapcount,
    /// 5.9 (09854ba94c6a): refcount == 1 (and mapcount == 1).
    Refcount,
    /// 5.19: PageAnonExclusive, else wp_can_reuse_anon_folio (refcount == 1).
    AnonExclusive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MprotectUpgrade {
    Never,
    DirtyExclusive,
    Exclusive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoUringFileRule {
    /// File-backed buffers refused with EOPNOTSUPP except hugetlbfs.
    AnonHugetlbOnly,
    /// File-backed buffers refused with EOPNOTSUPP except hugetlbfs and shmem (5.14+).
    AnonShmemHugetlbOnly,
    /// 6.5+: GUP's long-term rules decide (EFAULT for dirty-tracked shared files).
    GupDecides,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoUringCoalesce {
    /// One pin per page.
    Never,
    /// One pin for a buffer lying in consecutive pages of one large folio (6.3).
    OneFolio,
    /// One pin per folio across folios of one size (io_try_coalesce_buffer, 6.12).
    AcrossFolios,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_maps_releases_to_their_span() {
        assert_eq!(Preset::parse("5.10"), Some(Preset::V5_9));
        assert_eq!(Preset::parse("5.13"), Some(Preset::V5_11));
        assert_eq!(Preset::parse("5.15"), Some(Preset::V5_14));
        assert_eq!(Preset::parse("v6.1.5"), Some(Preset::V6_1));
        assert_eq!(Preset::parse("6.3"), Some(Preset::V6_3));
        assert_eq!(Preset::parse("6.11"), Some(Preset::V6_8));
        assert_eq!(Preset::parse("6.13"), Some(Preset::V6_12));
        assert_eq!(Preset::parse("6.18"), Some(Preset::V6_18));
        assert_eq!(Preset::parse("7.1"), Some(Preset::V6_18));
        assert_eq!(Preset::parse("5.6"), None);
        let m = |t: &str| Preset::for_release(t).map(|r| (r.preset, r.note.is_some()));
        assert_eq!(m("6.8.0-45-generic"), Ok((Preset::V6_8, false)));
        assert_eq!(m("6.18.44-fc-v669"), Ok((Preset::V6_18, false)));
        assert_eq!(m("v6.1.5"), Ok((Preset::V6_1, false)));
        assert_eq!(m("7.1.5"), Ok((Preset::V6_18, true)));
        // Releases whose rules drift from their preset's first release say so.
        assert_eq!(m("5.7.3"), Ok((Preset::V5_7, true)));
        assert_eq!(m("5.7.2"), Ok((Preset::V5_7, false)));
        assert_eq!(m("5.13"), Ok((Preset::V5_11, true)));
        assert_eq!(m("6.3.2"), Ok((Preset::V6_3, true)));
        assert_eq!(m("6.3.1"), Ok((Preset::V6_3, false)));
        assert!(
            Preset::for_release("5.13.4")
                .unwrap()
                .note
                .unwrap()
                .contains("ZONE_MOVABLE")
        );
        assert_eq!(m("99.0"), Ok((Preset::V6_18, true)));
        assert!(m("4.19").is_err());
        assert!(m("six").is_err());
        assert!(m("6").is_err());
        assert!(m("6.8x").is_err());
        assert_eq!(Preset::V6_8.span(), "6.8-6.11");
        assert_eq!(Preset::V5_19.span(), "5.19");
        assert_eq!(Preset::V5_18.span(), "5.18");
        assert_eq!(Preset::V5_9.span(), "5.9-5.10");
        assert_eq!(Preset::V6_18.span(), "6.18 and later");
        assert_eq!(Preset::parse("five"), None);
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()), Some(p));
        }
    }
}
