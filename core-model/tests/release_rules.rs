//! Rules that differ between releases and that a review against
//! single-release kernel trees found the model had wrong. Each test is named
//! after the rule and cites the kernel code that shows it.

mod common;
use common::*;
use pinlab_model::folio::{LruList, Zone};
use pinlab_model::mm::Pte;
use pinlab_model::*;

/// Kernel functions of the micro-steps of the last action.
fn last_funcs(t: &T) -> Vec<&'static str> {
    let a = t.sim.actions().last().expect("an action ran");
    t.sim.entries()[a.first..a.end].iter().map(|e| e.step.func).collect()
}

fn write_shared(t: &mut T, fs: FsKind) -> FolioId {
    t.spawn("app");
    t.file("f", fs, 1, &["D"]);
    t.map_file("app", "m", "f", 1, true);
    t.write("app", "m", 0, "W");
    t.cache_folio("f", 0)
}

/// folio_attach_private() does folio_get() (attach_page_buffers() ->
/// get_page() in 5.7, include/linux/buffer_head.h): ext4's buffer heads and
/// btrfs's extent state hold a reference. XFS goes through iomap, whose
/// iomap_page_create() returns early when a folio holds one block
/// (fs/iomap/buffered-io.c: `i_blocksize(inode) == PAGE_SIZE` in 5.7).
#[test]
fn folio_attach_private_takes_a_reference_on_ext4_and_btrfs_not_xfs() {
    for p in Preset::ALL {
        for (fs, buffers) in [(FsKind::Ext4, true), (FsKind::Btrfs, true), (FsKind::Xfs, false)] {
            let mut t = T::new(p);
            let id = write_shared(&mut t, fs);
            let f = t.w().folio(id);
            assert_eq!(f.flags.private, buffers, "{p} {fs:?}");
            // page cache + mapping (+ private data)
            assert_eq!(f.refcount, 2 + i64::from(buffers), "{p} {fs:?}");
            t.pin("app", "m", 0, "pin", true);
            assert_eq!(
                t.w().folio(id).refcount,
                1026 + i64::from(buffers),
                "{p} {fs:?}: 1027 on ext4"
            );
        }
    }
}

/// mm/vmscan.c: is_page_cache_freeable() allows for the private data's
/// reference; filemap_release_folio (try_to_release_page) drops it, and only
/// then can __remove_mapping free a clean folio.
#[test]
fn reclaim_frees_a_clean_ext4_folio_after_releasing_its_buffers() {
    let mut t = T::new(Preset::NEWEST);
    let id = write_shared(&mut t, FsKind::Ext4);
    t.ok(Action::Fsync { file: "f".into() });
    t.ok(Action::Munmap {
        proc: "app".into(),
        vma: "m".into(),
        start: 0,
        pages: None,
    });
    assert_eq!(t.w().folio(id).refcount, 2, "page cache + buffers");
    t.ok(Action::Reclaim { scan: 10, passes: 1 });
    assert!(t.w().folio(id).freed);
    assert!(last_funcs(&t).contains(&"filemap_release_folio"));
    assert_eq!(t.disk("f", 0), "W");
}

/// mm/vmscan.c: pageout() returns PAGE_KEEP unless is_page_cache_freeable():
/// a dirty folio that a GUP reference or a pin holds is not written by
/// reclaim, even once kswapd is allowed to write it (PG_reclaim and
/// PGDAT_DIRTY).
#[test]
fn pageout_declines_a_dirty_folio_that_others_hold() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        let id = write_shared(&mut t, FsKind::Ext4);
        t.get("app", "m", 0, "ref", false);
        // Young and marked accessed: activated, aged, left to the flusher
        // (PG_reclaim) and activated again, aged, and only then does
        // kswapd try pageout() (the fifth pass).
        let mut passes = 0;
        while !t.has(HazardKind::ReclaimInVain) && passes < 8 {
            t.ok(Action::Reclaim { scan: 10, passes: 1 });
            passes += 1;
        }
        assert_eq!(passes, 5, "{p}");
        let f = t.w().folio(id);
        assert!(f.flags.dirty && !f.flags.writeback, "{p}: not written");
        assert!(f.flags.private, "{p}: buffers stay on a dirty folio");
        assert!(
            f.flags.reclaim && t.w().pgdat_dirty,
            "{p}: kswapd would have written it"
        );
        assert!(!last_funcs(&t).contains(&"pageout"), "{p}");
        assert!(t.has(HazardKind::ReclaimInVain), "{p}");
    }
}

/// mm/vmscan.c shrink_folio_list (5.7.14 l.1319-1330, 6.4.4 l.1965-1993,
/// 6.12 l.1339): a dirty file folio is first left to the flusher threads
/// (PG_reclaim, activate_locked); kswapd writes it itself only when it meets
/// it again with PG_reclaim set and the node PGDAT_DIRTY, and pageout() then
/// needs a ->writepage: ext4 has one until 6.1 (gone in 6.2), and 6.18's
/// pageout() writes no filesystem folio at all. After the write,
/// folio_end_writeback rotates the folio to the inactive tail and the next
/// pass frees it.
#[test]
fn kswapd_writes_a_dirty_file_folio_only_on_a_second_look_and_with_writepage() {
    for p in [
        Preset::V5_7,
        Preset::V5_11,
        Preset::V6_1,
        Preset::V6_2,
        Preset::V6_12,
        Preset::V6_18,
    ] {
        let mut t = T::new(p);
        let id = write_shared(&mut t, FsKind::Ext4);
        t.ok(Action::Munmap {
            proc: "app".into(),
            vma: "m".into(),
            start: 0,
            pages: None,
        });
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        let f = t.w().folio(id).clone();
        assert!(
            f.flags.reclaim && f.lru == Some(LruList::Active),
            "{p}: left to the flusher"
        );
        assert!(!f.flags.writeback && t.w().pgdat_dirty, "{p}");
        assert!(!last_funcs(&t).contains(&"pageout"), "{p}");
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert_eq!(
            t.w().folio(id).lru,
            Some(LruList::Inactive),
            "{p}: aged off the active list"
        );
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        let writes = p < Preset::V6_2;
        assert_eq!(last_funcs(&t).contains(&"pageout"), writes, "{p}");
        assert_eq!(t.w().folio(id).flags.writeback, writes, "{p}");
        if writes {
            t.complete("wb-f-0");
            assert_eq!(t.w().folio(id).lru, Some(LruList::Inactive), "{p}: rotated to the tail");
            t.ok(Action::Reclaim { scan: 10, passes: 1 });
            assert!(t.w().folio(id).freed, "{p}: freed once clean");
            assert_eq!(t.disk("f", 0), "W");
        } else {
            let f = t.w().folio(id);
            assert!(f.flags.dirty && f.lru == Some(LruList::Active), "{p}: PAGE_ACTIVATE");
            assert_eq!(t.disk("f", 0), "D", "{p}: nothing written by reclaim");
        }
    }
}

/// xfs lost ->writepage in 5.15 (5.14.2 has xfs_vm_writepage, 5.15.85 not)
/// and btrfs in 6.0 (5.19 has btrfs_writepage): pageout() returns
/// PAGE_ACTIVATE for them from then on.
#[test]
fn pageout_needs_a_writepage_xfs_until_5_14_btrfs_until_5_19() {
    for (fs, last) in [(FsKind::Xfs, Preset::V5_14), (FsKind::Btrfs, Preset::V5_19)] {
        for p in Preset::ALL {
            assert_eq!(p.pageout_writes(fs), p <= last, "{p} {fs:?}");
        }
    }
    assert!(Preset::V6_18.pageout_writes(FsKind::Tmpfs), "6.18 still writes shmem");
}

/// mm/vmscan.c: folio_check_references (page_check_references): a young
/// mapping keeps a file folio for a second look (PG_referenced) and, up to
/// 5.8, activates a swap-backed one at once; b518154e59aa (5.9) treats anon
/// like file. Up to 5.8 new anon folios even start on the active list.
#[test]
fn young_pages_are_not_reclaimed_on_the_first_pass() {
    for p in [Preset::V5_7, Preset::V5_8, Preset::V5_9, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("app");
        t.anon("app", "buf", 1);
        t.write("app", "buf", 0, "x");
        let id = t.folio_id("app", "buf", 0);
        let active_at_once = p < Preset::V5_9;
        assert_eq!(t.w().folio(id).lru == Some(LruList::Active), active_at_once, "{p}");
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert!(
            !t.w().folio(id).freed && t.pte("app", "buf", 0).is_present(),
            "{p}: young"
        );
        assert!(!t.pte("app", "buf", 0).is_young(), "{p}: its accessed bit is cleared");
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert!(
            matches!(t.pte("app", "buf", 0), Pte::Swap { .. }),
            "{p}: swapped once cold"
        );
        assert_eq!(t.read("app", "buf", 0), "x");
    }
}

/// isolate_lru_folios takes a reference (folio_try_get; get_page_unless_zero
/// in 5.11): with 1022 GUP references and its mapping, a small anon folio
/// reaches 1024 inside shrink_folio_list and folio_maybe_dma_pinned keeps it
/// out of the swap cache (5.11+): it stays mapped.
#[test]
fn reclaims_own_reference_makes_1022_gup_references_look_pinned() {
    for p in [Preset::V5_11, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("app");
        t.anon("app", "buf", 1);
        t.write("app", "buf", 0, "x");
        t.ok(Action::Gup {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: 1,
            holder: "many".into(),
            flags: GupFlags::default(),
            count: 1022,
        });
        let id = t.folio_id("app", "buf", 0);
        assert_eq!(t.w().folio(id).refcount, 1023);
        assert!(!t.w().folio(id).maybe_dma_pinned());
        for _ in 0..3 {
            t.ok(Action::Reclaim { scan: 10, passes: 1 });
        }
        assert!(t.pte("app", "buf", 0).is_present(), "{p}: kept out of the swap cache");
        assert!(!t.w().folio(id).flags.swapcache, "{p}");
        let h = t
            .w()
            .hazards
            .iter()
            .find(|h| h.kind == HazardKind::ReclaimInVain)
            .expect("scanned in vain");
        assert!(h.text.contains("false positive"), "{p}: {}", h.text);
        assert_eq!(t.w().folio(id).refcount, 1023, "{p}: reclaim gave its reference back");
    }
}

fn longterm_pin_in(p: Preset, zone: Zone) -> (T, FolioId) {
    let mut t = T::new(p);
    t.spawn("app");
    t.mmap(
        "app",
        "buf",
        1,
        MmapArgs {
            write: true,
            zone: Some(zone),
            ..Default::default()
        },
    );
    t.write("app", "buf", 0, "M");
    let old = t.folio_id("app", "buf", 0);
    t.ok(Action::IoUringRegister {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        ring: "r".into(),
    });
    (t, old)
}

/// mm/gup.c: before 5.14 __gup_longterm_locked called
/// check_and_migrate_cma_pages (only CMA pages move; 5.7.14, 5.11);
/// d1e153fea2a8 (5.14) made it check_and_migrate_movable_pages
/// (ZONE_MOVABLE too; 5.14, 6.2 trees). In 5.7-5.9 the pin's put_page()
/// leaks 1023 references, migration then fails and the CMA page is pinned
/// where it is (`cma_pin_leaks_1023_references_before_5_10`).
#[test]
fn longterm_pins_migrate_cma_always_and_zone_movable_from_5_14() {
    for p in Preset::ALL {
        for zone in [Zone::Normal, Zone::Movable, Zone::Cma] {
            let (mut t, old) = longterm_pin_in(p, zone);
            let funcs = last_funcs(&t);
            let now = t.folio_id("app", "buf", 0);
            let migrated = match zone {
                Zone::Normal => false,
                Zone::Movable => p >= Preset::V5_14,
                Zone::Cma => p > Preset::V5_9,
            };
            assert_eq!(now != old, migrated, "{p} {zone:?}");
            assert_eq!(t.w().folio(now).zone == Zone::Normal, zone == Zone::Normal || migrated);
            assert_eq!(t.read("app", "buf", 0), "M", "{p} {zone:?}: the data moved with it");
            if zone != Zone::Normal && (migrated || zone == Zone::Cma) {
                let name = if p >= Preset::V5_14 {
                    "check_and_migrate_movable_pages"
                } else {
                    "check_and_migrate_cma_pages"
                };
                assert!(funcs.contains(&name), "{p}: {funcs:?}");
            }
        }
    }
}

/// mm/gup.c 5.7.14-5.9.1: check_and_migrate_cma_pages drops the request
/// with put_page() even for FOLL_PIN ("drop the above get_user_pages
/// reference"), so each page keeps 1023 of its pin's 1024; migrate_pages
/// then fails on the extra references (MR_CONTIG_RANGE), migrate_allow is
/// cleared and the page is pinned again where it is: refcount 1 + 1023 +
/// 1024 = 2048, and after the unpin 1024 stay forever. 5.10 calls
/// unpin_user_pages for FOLL_PIN.
#[test]
fn cma_pin_leaks_1023_references_before_5_10() {
    for p in [Preset::V5_7, Preset::V5_8, Preset::V5_9, Preset::V5_11] {
        let (mut t, old) = longterm_pin_in(p, Zone::Cma);
        let f = t.folio("app", "buf", 0);
        if p <= Preset::V5_9 {
            assert_eq!(t.folio_id("app", "buf", 0), old, "{p}: pinned in place");
            assert_eq!((f.zone, f.refcount, f.leaked), (Zone::Cma, 2048, 1023), "{p}");
            assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 2);
            assert_eq!(t.w().vmstat.nr_foll_pin_released, 0, "put_page counts no release");
            assert!(last_funcs(&t).contains(&"check_and_migrate_cma_pages"));
            t.ok(Action::IoUringUnregister { ring: "r".into() });
            let f = t.folio("app", "buf", 0);
            assert_eq!(f.refcount, 1024, "{p}: the leak outlives the pin");
            assert!(f.maybe_dma_pinned(), "{p}: and looks pinned forever");
            t.ok(Action::Munmap {
                proc: "app".into(),
                vma: "buf".into(),
                start: 0,
                pages: None,
            });
            assert!(!t.w().folio(old).freed, "{p}: never freed");
        } else {
            assert_ne!(t.folio_id("app", "buf", 0), old, "{p}: migrated");
            assert_eq!((f.refcount, f.leaked), (1025, 0), "{p}");
        }
    }
}

/// mm/gup.c 5.7.14-5.11: when migrate_pages fails, check_and_migrate_cma_pages
/// sets migrate_allow = false and pins again without migration ("some of the
/// pages failed migration. Do get_user_pages without migration"); from 5.12
/// (5.12.9; check_and_migrate_movable_pages in 5.14) GUP fails with ENOMEM.
#[test]
fn failed_cma_migration_pins_in_place_until_5_12() {
    for p in [Preset::V5_11, Preset::V5_14, Preset::NEWEST] {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "buf",
            1,
            MmapArgs {
                write: true,
                zone: Some(Zone::Cma),
                ..Default::default()
            },
        );
        t.write("app", "buf", 0, "M");
        t.get("app", "buf", 0, "other", false);
        let old = t.folio_id("app", "buf", 0);
        let reg = Action::RdmaRegMr {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: 1,
            mr: "mr".into(),
            write: true,
        };
        if p.longterm_migration_failure_pins_in_place() {
            t.ok(reg);
            let f = t.folio("app", "buf", 0);
            assert_eq!(t.folio_id("app", "buf", 0), old, "{p}");
            assert_eq!(
                (f.zone, f.refcount),
                (Zone::Cma, 2 + 1024),
                "{p}: pinned on the CMA page"
            );
        } else {
            let (e, _) = t.err_keeping(reg);
            assert_eq!(e.errno(), Some(Errno::ENOMEM), "{p}");
            assert_eq!(t.folio("app", "buf", 0).refcount, 2, "{p}: nothing left pinned");
        }
    }
}

/// mm/gup.c: mm_set_has_pinned_flag (5.14+; atomic_set(&mm->has_pinned, 1)
/// in 5.9-5.13) runs in __get_user_pages_locked before __get_user_pages
/// calls check_vma_flags (5.9.1, 5.12.9, 5.14.2, 6.5.0, 6.12.0): a refused
/// pin still marks the mm, and 5.8 has no flag at all.
#[test]
fn refused_pin_still_sets_mmf_has_pinned() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "ro",
            1,
            MmapArgs {
                write: false,
                ..Default::default()
            },
        );
        let (e, kept) = t.err_keeping(Action::Gup {
            proc: "app".into(),
            vma: "ro".into(),
            start: 0,
            pages: 1,
            holder: "h".into(),
            flags: GupFlags {
                pin: true,
                write: true,
                ..GupFlags::default()
            },
            count: 1,
        });
        assert_eq!(e.errno(), Some(Errno::EFAULT), "{p}");
        let pid = t.w().pid_of("app").unwrap();
        assert_eq!(t.w().proc(pid).mm.has_pinned, p.tracks_has_pinned(), "{p}");
        assert_eq!(kept, usize::from(p.tracks_has_pinned()), "{p}");
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 0, "{p}");
    }
}

/// io_uring/rsrc.c (fs/io_uring.c before 6.0): io_sqe_buffer_register pins
/// first and checks the VMAs afterwards (5.7 l.7293-7317, 6.1 l.1147-1176,
/// 6.3 l.1163-1192): a file-backed buffer is pinned, unpinned and refused
/// with EOPNOTSUPP, leaving the pin counters and the mm's pin flag behind.
#[test]
fn io_uring_refuses_file_buffers_after_pinning_them_before_6_5() {
    for p in [Preset::V5_11, Preset::V6_1, Preset::V6_4] {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("f", FsKind::Ext4, 1, &["D"]);
        t.map_file("app", "m", "f", 1, true);
        let (e, _) = t.err_keeping(Action::IoUringRegister {
            proc: "app".into(),
            vma: "m".into(),
            start: 0,
            pages: 1,
            ring: "r".into(),
        });
        assert_eq!(e.errno(), Some(Errno::EOPNOTSUPP), "{p}");
        let vm = &t.w().vmstat;
        assert_eq!((vm.nr_foll_pin_acquired, vm.nr_foll_pin_released), (1, 1), "{p}");
        let pid = t.w().pid_of("app").unwrap();
        assert!(t.w().proc(pid).mm.has_pinned, "{p}");
        assert!(t.w().holders.is_empty());
        let id = t.cache_folio("f", 0);
        assert!(t.w().folio(id).flags.dirty, "{p}: the pin's write fault dirtied it");
    }
}

fn rdma_ro(p: Preset, shared: bool, writable_mapping: bool) -> (T, Result<(), Errno>) {
    let mut t = T::new(p);
    t.spawn("app");
    t.file("f", FsKind::Ext4, 1, &["D"]);
    t.mmap(
        "app",
        "m",
        1,
        MmapArgs {
            file: Some("f".into()),
            shared,
            write: writable_mapping,
            ..Default::default()
        },
    );
    t.read("app", "m", 0);
    let r = t
        .sim
        .apply(&Action::RdmaRegMr {
            proc: "app".into(),
            vma: "m".into(),
            start: 0,
            pages: 1,
            mr: "mr".into(),
            write: false,
        })
        .map(|_| ())
        .map_err(|e| e.errno().expect("an errno"));
    (t, r)
}

/// drivers/infiniband/core/umem.c: ib_umem_get before 6.2 set FOLL_WRITE for
/// every region and FOLL_FORCE for read-only ones (5.7.14: `gup_flags =
/// FOLL_WRITE; if (!umem->writable) gup_flags |= FOLL_FORCE;`): a read-only
/// region write-faulted its pages. From 6.2 FOLL_WRITE only for writable ones.
#[test]
fn rdma_read_only_registration_used_foll_write_and_force_before_6_2() {
    for p in Preset::ALL {
        let legacy = p < Preset::V6_2;
        // A writable MAP_SHARED ext4 page: the write fault runs ->page_mkwrite.
        let (t, r) = rdma_ro(p, true, true);
        assert_eq!(r, Ok(()), "{p}");
        let id = t.cache_folio("f", 0);
        assert_eq!(t.w().folio(id).flags.dirty, legacy, "{p}: dirtied by the write fault");
        assert_eq!(
            t.w().folio(id).flags.private,
            legacy,
            "{p}: page_mkwrite attached buffers"
        );
        // A read-only MAP_SHARED mapping: FOLL_FORCE writes only COW mappings.
        let (_, r) = rdma_ro(p, true, false);
        assert_eq!(r, if legacy { Err(Errno::EFAULT) } else { Ok(()) }, "{p}");
        // A read-only private mapping: the FOLL_FORCE write breaks COW (an
        // anonymous copy); from 6.2 a R/O long-term pin unshares instead.
        let (t, r) = rdma_ro(p, false, false);
        assert_eq!(r, Ok(()), "{p}");
        let now = t.folio_id("app", "m", 0);
        assert!(t.w().folio(now).is_anon(), "{p}: the MR pins an anonymous copy");
        assert!(!t.pte("app", "m", 0).is_writable(), "{p}");
    }
}

fn register_thp(p: Preset, pages: u64) -> T {
    let mut t = T::new(p);
    t.spawn("app");
    t.mmap(
        "app",
        "buf",
        512,
        MmapArgs {
            write: true,
            thp: true,
            ..Default::default()
        },
    );
    t.write("app", "buf", 0, "T");
    t.ok(Action::IoUringRegister {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages,
        ring: "r".into(),
    });
    t
}

/// io_uring/rsrc.c: io_sqe_buffer_register from 6.3 (57bebf807e2a; 6.3.8
/// tree): when every page of the buffer is the next page of one folio,
/// `unpin_user_pages(&pages[1], nr_pages - 1)` leaves one pin on the folio.
#[test]
fn io_uring_keeps_one_pin_per_large_folio_from_6_3() {
    for p in Preset::ALL {
        let t = register_thp(p, 4);
        let id = t.folio_id("app", "buf", 0);
        let f = t.w().folio(id);
        let pins = if p >= Preset::V6_3 { 1 } else { 4 };
        assert_eq!(f.pincount, pins, "{p}");
        assert_eq!(f.refcount, 1 + pins, "{p}: the PMD's reference + one per pin");
        let vm = t.w().vmstat;
        assert_eq!(vm.nr_foll_pin_acquired, 4, "{p}: four pages were pinned");
        assert_eq!(vm.nr_foll_pin_released, 4 - pins as u64, "{p}");
        let mut t = t;
        t.ok(Action::IoUringUnregister { ring: "r".into() });
        let f = t.w().folio(id);
        assert_eq!((f.pincount, f.refcount), (0, 1), "{p}");
        assert_eq!(t.w().vmstat.nr_foll_pin_released, 4, "{p}");
    }
}

/// 6.12's io_try_coalesce_buffer (io_check_coalesce_buffer) coalesces across
/// folios of one size; 6.3-6.11 only within a single folio.
#[test]
fn io_uring_coalesces_across_folios_from_6_12() {
    for p in [Preset::V6_8, Preset::V6_12] {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "buf",
            8,
            MmapArgs {
                write: true,
                order: 2,
                ..Default::default()
            },
        );
        for i in [0, 4] {
            t.write("app", "buf", i, "x");
        }
        t.ok(Action::IoUringRegister {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: 8,
            ring: "r".into(),
        });
        let pins: Vec<i64> = [0, 4].map(|i| t.folio("app", "buf", i).pincount).to_vec();
        let expect = if p >= Preset::V6_12 { 1 } else { 4 };
        assert_eq!(pins, vec![expect, expect], "{p}");
    }
}

/// mm/gup.c: gup_pte_range falls back to the slow path on a special PTE
/// (`else if (pte_special(pte)) goto pte_unmap;`, 5.7.14 and later), and
/// do_anonymous_page maps the zero page with pte_mkspecial: GUP-fast never
/// takes the zero page.
#[test]
fn gup_fast_never_takes_the_zero_page() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.anon("app", "buf", 1);
        t.read("app", "buf", 0);
        t.gup(
            "app",
            "buf",
            0,
            1,
            "ro",
            GupFlags {
                pin: true,
                fast: true,
                ..Default::default()
            },
        );
        let fallback = names::gup_fast_fallback(p).0;
        assert!(last_funcs(&t).contains(&fallback), "{p}: {:?}", last_funcs(&t));
    }
}

/// 008cfe4418b3 (5.9) added mm->has_pinned, set with atomic_set() in
/// __get_user_pages_locked and internal_get_user_pages_fast (5.9.1, 5.11
/// trees); a458b76a4171 (5.14) turned it into MMF_HAS_PINNED, set by
/// mm_set_has_pinned_flag().
#[test]
fn mm_has_pinned_until_5_13_then_mmf_has_pinned_from_5_14() {
    for p in Preset::ALL {
        for fast in [false, true] {
            let mut t = T::new(p);
            t.spawn("app");
            t.anon("app", "buf", 1);
            t.write("app", "buf", 0, "x");
            t.gup(
                "app",
                "buf",
                0,
                1,
                "pin",
                GupFlags {
                    pin: true,
                    fast,
                    ..Default::default()
                },
            );
            let funcs = last_funcs(&t);
            let setter = match p {
                p if p < Preset::V5_9 => None,
                p if p < Preset::V5_14 && fast => Some("internal_get_user_pages_fast"),
                p if p < Preset::V5_14 => Some("__get_user_pages_locked"),
                _ => Some("mm_set_has_pinned_flag"),
            };
            match setter {
                Some(s) => assert_eq!(funcs[0], s, "{p}"),
                None => assert!(!funcs.contains(&"mm_set_has_pinned_flag"), "{p}"),
            }
            let a = t.sim.actions().last().unwrap();
            let text = &t.sim.entries()[a.first].step.text;
            assert_eq!(text.contains("MMF_HAS_PINNED"), p >= Preset::V5_14, "{p}: {text}");
        }
    }
}

/// mm/memory.c: copy_page_range returns at once for a VMA without an
/// anon_vma ("Don't copy ptes where a page fault will fill them correctly",
/// 5.7.14; vma_needs_copy() from 5.19): the child of a MAP_SHARED file
/// mapping maps nothing until it touches the page.
#[test]
fn fork_does_not_copy_page_tables_of_vmas_without_anon_vma() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        let id = write_shared(&mut t, FsKind::Ext4);
        let before = t.w().folio(id).refcount;
        t.fork("app", "kid");
        assert!(!t.pte("kid", "m", 0).is_present(), "{p}: nothing copied");
        assert_eq!(t.w().folio(id).refcount, before, "{p}");
        assert_eq!(t.w().folio(id).pages[0].mapcount, 1, "{p}");
        assert_eq!(t.read("kid", "m", 0), "W", "{p}: the fault maps the page cache");
        assert_eq!(t.w().folio(id).pages[0].mapcount, 2, "{p}");
        // A private mapping that only read the zero page has no anon_vma either.
        t.anon("app", "z", 1);
        t.read("app", "z", 0);
        t.fork("app", "kid2");
        assert_eq!(t.pte("kid2", "z", 0), Pte::None, "{p}");
        // One that wrote has, and its pages are shared.
        t.write("app", "z", 0, "A");
        t.fork("app", "kid3");
        assert!(t.pte("kid3", "z", 0).is_present(), "{p}");
    }
}

/// An O_DIRECT read in flight across fork lands in the page the child maps
/// (before 6.5: the bio holds a FOLL_GET reference, fork shares the page, the
/// parent's write copies it away). The child reading that page sees file data
/// read for the parent after they diverged: a leak, besides the parent's loss.
#[test]
fn dma_for_the_parent_read_by_the_child_is_a_leak() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("parent");
        t.file("secret", FsKind::Ext4, 1, &["S"]);
        t.anon("parent", "buf", 1);
        t.write("parent", "buf", 0, "old");
        t.dio_read("parent", "buf", "secret", 0, "io", false);
        t.fork("parent", "child");
        t.write("parent", "buf", 0, "mine");
        t.complete("io");
        let child_sees = t.read("child", "buf", 0);
        let pinned = p >= Preset::V6_5;
        assert_eq!(child_sees, if pinned { "old" } else { "S" }, "{p}");
        assert_eq!(t.has(HazardKind::DmaLost), !pinned, "{p}");
        assert_eq!(t.has(HazardKind::DataLeak), !pinned, "{p}");
    }
}

/// mm/memory.c (6.18 tree): wp_can_reuse_anon_folio ->
/// __wp_can_reuse_large_anon_folio reuses a PTE-mapped large anon folio when
/// more than one page is mapped, only by this mm, and its references are all
/// mappings (6.15, MM-ID tracking). Before, wp_can_reuse_anon_folio gave up on
/// every large folio and the write copied one page.
#[test]
fn write_faults_reuse_an_exclusive_large_anon_folio_from_6_18() {
    for p in [Preset::V6_8, Preset::V6_12, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "buf",
            4,
            MmapArgs {
                write: true,
                order: 2,
                ..Default::default()
            },
        );
        t.write("app", "buf", 0, "a");
        let big = t.folio_id("app", "buf", 0);
        // fork, then the child exits: the folio is mapped by this mm only
        // again, but no longer anon-exclusive and its PTEs are read-only.
        t.fork("app", "kid");
        t.ok(Action::Exit { proc: "kid".into() });
        assert!(!t.ae("app", "buf", 1));
        t.write("app", "buf", 1, "b");
        let reused = p >= Preset::V6_18;
        assert_eq!(t.folio_id("app", "buf", 1) == big, reused, "{p}");
        if reused {
            assert!(t.ae("app", "buf", 1), "{p}: the written page is exclusive again");
            assert!(t.pte("app", "buf", 1).is_writable());
        }
        // A folio that another reference holds is never reused.
        let mut t2 = T::new(p);
        t2.spawn("app");
        t2.mmap(
            "app",
            "buf",
            4,
            MmapArgs {
                write: true,
                order: 2,
                ..Default::default()
            },
        );
        t2.write("app", "buf", 0, "a");
        t2.fork("app", "kid");
        t2.write("app", "buf", 1, "b");
        assert_ne!(
            t2.folio_id("app", "buf", 1),
            t2.folio_id("kid", "buf", 1),
            "{p}: shared with the child"
        );
    }
}

/// MADV_COLLAPSE exists from 6.1 (7d8faaf15545; madvise returns EINVAL for
/// an unknown advice before): the thp-pins lesson's collapse steps expect
/// EINVAL under 6.0 and the collapse rules from 6.1.
#[test]
fn madv_collapse_exists_from_6_1() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.anon("app", "buf", 512);
        t.write("app", "buf", 0, "x");
        let r = t.sim.apply(&Action::Madvise {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
            advice: Advice::Collapse,
        });
        assert_eq!(r.is_ok(), p >= Preset::V6_1, "{p}: {r:?}");
    }
}

/// fs/btrfs/extent_io.c: the read attaches btrfs's private data before it
/// reads: __do_readpage (5.7.14) and btrfs_do_readpage (5.11, 5.14.2,
/// 6.1.20, 6.5.0) call set_page_extent_mapped (SetPagePrivate + get_page,
/// attach_page_private), 6.12 and 6.18.2 set_folio_extent_mapped
/// (folio_attach_private). ext4's mpage read attaches no buffer heads.
#[test]
fn btrfs_read_attaches_private_data() {
    for p in Preset::ALL {
        for (fs, private) in [(FsKind::Btrfs, true), (FsKind::Ext4, false)] {
            let mut t = T::new(p);
            t.spawn("app");
            t.file("f", fs, 2, &["A", "B"]);
            t.ok(Action::ReadFile {
                proc: "app".into(),
                file: "f".into(),
                offset: 0,
                pages: 1,
            });
            let id = t.cache_folio("f", 0);
            let f = t.w().folio(id);
            assert_eq!(
                (f.flags.private, f.refcount),
                (private, 1 + i64::from(private)),
                "{p} {fs:?} read(2)"
            );
            t.map_file("app", "m", "f", 2, false);
            assert_eq!(t.read("app", "m", 1), "B");
            let id = t.cache_folio("f", 1);
            let f = t.w().folio(id);
            assert_eq!(
                (f.flags.private, f.refcount),
                (private, 2 + i64::from(private)),
                "{p} {fs:?} fault"
            );
            if private {
                let funcs = last_funcs(&t);
                let name = if p >= Preset::V5_11 {
                    "btrfs_do_readpage"
                } else {
                    "__do_readpage"
                };
                assert!(funcs.contains(&name), "{p}: {funcs:?}");
            }
        }
    }
}

/// mm/memory.c: 5.19's do_wp_page and 6.5's / 6.8's wp_can_reuse_anon_folio
/// have no large-folio test, so a PTE-mapped large anon folio whose one
/// reference is the faulting PTE is reused (only that page becomes
/// exclusive); 6.12 returns false for every large folio (l.3595), and 6.18's
/// __wp_can_reuse_large_anon_folio frees a folio mapped once instead
/// ("Let's just free up a large folio if only a single page is mapped").
#[test]
fn large_anon_folio_mapped_once_is_reused_in_5_19_to_6_8() {
    for p in [
        Preset::V5_18,
        Preset::V5_19,
        Preset::V6_5,
        Preset::V6_8,
        Preset::V6_12,
        Preset::V6_18,
    ] {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "buf",
            512,
            MmapArgs {
                write: true,
                thp: true,
                ..Default::default()
            },
        );
        t.write("app", "buf", 0, "a");
        let big = t.folio_id("app", "buf", 0);
        // Split the PMD by unmapping all but page 0, then share and unshare
        // it with a child so that its PTE is read-only and not exclusive.
        t.ok(Action::Munmap {
            proc: "app".into(),
            vma: "buf".into(),
            start: 1,
            pages: None,
        });
        t.fork("app", "kid");
        t.ok(Action::Exit { proc: "kid".into() });
        let f = t.folio("app", "buf", 0);
        assert!(f.is_large() && f.refcount == 1 && !t.ae("app", "buf", 0), "{p}: {f:?}");
        t.write("app", "buf", 0, "b");
        let reused = p.reuses_large_anon_folio_by_refcount() || p < Preset::V5_19;
        assert_eq!(t.folio_id("app", "buf", 0) == big, reused, "{p}");
        if reused && p >= Preset::V5_19 {
            assert!(t.ae("app", "buf", 0), "{p}: the faulting page is exclusive");
        }
        assert_eq!(t.read("app", "buf", 0), "b");
    }
}

/// mm/huge_memory.c 5.7.14 do_huge_pmd_wp_page: a write to a THP that a
/// fork shares allocates a new THP (alloc_hugepage_vma(HPAGE_PMD_ORDER),
/// THP_FAULT_ALLOC, copy_user_huge_page) and maps it by PMD; 3917c80280c9
/// (5.8) splits the PMD (__split_huge_pmd, VM_FAULT_FALLBACK) and the PTE
/// fault copies one small page.
#[test]
fn cow_of_a_shared_thp_copies_the_whole_thp_in_5_7_and_splits_from_5_8() {
    for p in [Preset::V5_7, Preset::V5_8] {
        let mut t = T::new(p);
        t.spawn("app");
        t.mmap(
            "app",
            "buf",
            512,
            MmapArgs {
                write: true,
                thp: true,
                ..Default::default()
            },
        );
        t.write("app", "buf", 0, "a");
        let thp = t.folio_id("app", "buf", 0);
        t.fork("app", "kid");
        t.write("app", "buf", 3, "b");
        let now = t.folio_id("app", "buf", 3);
        assert_ne!(now, thp, "{p}: the parent's page is a copy");
        assert_eq!(t.read("kid", "buf", 3), "0", "{p}: the child keeps the old data");
        assert_eq!(t.read("app", "buf", 0), "a", "{p}");
        let vm = t.w().vmstat;
        if p == Preset::V5_7 {
            let f = t.w().folio(now);
            assert!(
                f.is_large() && t.pte("app", "buf", 3).is_pmd(),
                "{p}: a new PMD-mapped THP"
            );
            assert_eq!((vm.thp_fault_alloc, vm.thp_split_pmd), (2, 0));
            assert_eq!(t.folio_id("app", "buf", 0), now, "{p}: the whole range moved");
            let old = t.w().folio(thp);
            assert_eq!(
                (old.refcount, old.entire_mapcount),
                (1, 1),
                "{p}: only the child maps it"
            );
        } else {
            assert!(!t.w().folio(now).is_large(), "{p}: one small page copied");
            assert_eq!((vm.thp_fault_alloc, vm.thp_split_pmd), (1, 1));
            assert_eq!(t.folio_id("app", "buf", 0), thp, "{p}: the rest stays on the THP");
        }
    }
}

/// block/bio.c: bio_set_pages_dirty and bio_check_pages_dirty skip
/// PageCompound pages (5.7.14 l.1242 and 1291, 5.9.1, 6.5.0 l.1489 and
/// 1538); 6.8 marks the folio dirty whatever its size. An O_DIRECT read into
/// a THP leaves the THP's PG_dirty as it was through 6.5.
#[test]
fn dio_read_into_a_thp_leaves_it_clean_before_6_8() {
    for p in [Preset::V5_9, Preset::V6_5, Preset::V6_8, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("f", FsKind::Ext4, 1, &["D"]);
        t.mmap(
            "app",
            "buf",
            512,
            MmapArgs {
                write: true,
                thp: true,
                ..Default::default()
            },
        );
        t.write("app", "buf", 0, "a");
        let thp = t.folio_id("app", "buf", 0);
        assert!(t.w().folio(thp).is_large() && !t.w().folio(thp).flags.dirty, "{p}");
        t.dio_read("app", "buf", "f", 0, "io", true);
        assert_eq!(t.read("app", "buf", 0), "D", "{p}: the data arrived");
        assert_eq!(t.w().folio(thp).flags.dirty, p >= Preset::V6_8, "{p}");
    }
}

/// block/bio.c: an ITER_BVEC bio: __bio_iov_bvec_add_pages (5.7.14, 5.11)
/// adds each page and sets BIO_NO_PAGE_REF only; bio_iov_bvec_set borrows
/// the bvec array: BIO_NO_PAGE_REF | BIO_CLONED (5.14.2, 6.4.4), BIO_CLONED
/// alone from 6.5 (BIO_NO_PAGE_REF became BIO_PAGE_REFFED, set by nobody here).
#[test]
fn iter_bvec_bio_is_cloned_only_from_5_14() {
    for (p, cloned, no_ref) in [
        (Preset::V5_11, false, true),
        (Preset::V5_14, true, true),
        (Preset::V6_4, true, true),
        (Preset::V6_5, true, false),
    ] {
        let mut t = T::new(p);
        t.file("f", FsKind::Ext4, 1, &["D"]);
        t.ok(Action::KbufAlloc {
            kbuf: "k".into(),
            pages: 1,
        });
        t.ok(Action::KernelBio {
            kbuf: "k".into(),
            iter: pinlab_model::direct_io::KernelIter::Bvec,
            file: "f".into(),
            offset: 0,
            write: false,
            bio: "b".into(),
            wait: false,
        });
        let flags = t.w().holder("b").unwrap().bio.as_ref().unwrap().flags;
        assert_eq!((flags.cloned, flags.no_page_ref), (cloned, no_ref), "{p}");
    }
}

/// fs/btrfs/inode.c: btrfs_direct_IO calls __blockdev_direct_IO (5.7.14,
/// 5.9.1 l.7956), whose dio_refill_pages takes FOLL_GET references;
/// iomap_dio_rw from 5.10. ext4 and xfs use iomap in every preset.
#[test]
fn btrfs_dio_goes_through_fs_direct_io_before_5_10() {
    for p in [Preset::V5_7, Preset::V5_9, Preset::V5_11] {
        for fs in [FsKind::Btrfs, FsKind::Ext4] {
            let mut t = T::new(p);
            t.spawn("app");
            t.file("f", fs, 1, &["D"]);
            t.anon("app", "buf", 1);
            t.write("app", "buf", 0, "x");
            t.dio_read("app", "buf", "f", 0, "io", true);
            let funcs = last_funcs(&t);
            let legacy = fs == FsKind::Btrfs && p <= Preset::V5_9;
            assert_eq!(funcs.contains(&"__blockdev_direct_IO"), legacy, "{p} {fs:?}: {funcs:?}");
            assert_eq!(funcs.contains(&"iomap_dio_rw"), !legacy, "{p} {fs:?}");
            assert_eq!(t.read("app", "buf", 0), "D");
        }
    }
}

/// A writeback bio's ->bi_end_io ends writeback (end_page_writeback /
/// folio_end_writeback); it took no page reference and never calls
/// bio_release_pages.
#[test]
fn writeback_bios_do_not_release_pages() {
    for p in [Preset::V5_7, Preset::V6_18] {
        let mut t = T::new(p);
        let _ = write_shared(&mut t, FsKind::Ext4);
        t.ok(Action::Fsync { file: "f".into() });
        let funcs = last_funcs(&t);
        assert!(!funcs.iter().any(|f| f.contains("bio_release_pages")), "{p}: {funcs:?}");
        assert_eq!(t.disk("f", 0), "W", "{p}");
    }
}

/// mm/shmem.c: shmem_file_open sets FMODE_CAN_ODIRECT from 6.6
/// (e88e0d366f9c, "tmpfs: trivial support for direct IO"): O_DIRECT on a
/// tmpfs file is then a copy through its page cache, with no bio and no pin
/// (this machine's 6.18 does the O_DIRECT pread of the scale benchmark on
/// /dev/shm). Before 6.6, opening tmpfs with O_DIRECT fails with EINVAL.
#[test]
fn tmpfs_takes_o_direct_as_a_page_cache_copy_from_6_6() {
    for p in [Preset::V6_5, Preset::V6_8, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("f", FsKind::Tmpfs, 2, &["D0", "D1"]);
        t.mmap(
            "app",
            "buf",
            2,
            MmapArgs {
                write: true,
                ..Default::default()
            },
        );
        let read = Action::DioRead {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: 2,
            file: "f".into(),
            offset: 0,
            bio: "io".into(),
            wait: false,
        };
        if !p.tmpfs_accepts_odirect() {
            let e = t.err(read);
            assert!(e.to_string().contains("EINVAL"), "{p}: {e}");
            continue;
        }
        t.ok(read);
        assert!(
            last_funcs(&t).contains(&"shmem_file_read_iter"),
            "{p}: {:?}",
            last_funcs(&t)
        );
        assert_eq!(
            (t.read("app", "buf", 0), t.read("app", "buf", 1)),
            ("D0".into(), "D1".into()),
            "{p}"
        );
        assert!(t.w().holder("io").is_err(), "{p}: no bio is made");
        let page = t.folio_id("app", "buf", 0);
        let f = t.w().folio(page);
        assert_eq!((f.refcount, f.pincount), (1, 0), "{p}: the user page is only mapped");
        // The write side: the user's data reaches the page cache, dirty.
        t.write("app", "buf", 1, "U");
        t.ok(Action::DioWrite {
            proc: "app".into(),
            vma: "buf".into(),
            start: 1,
            pages: 1,
            file: "f".into(),
            offset: 0,
            bio: "w".into(),
            wait: true,
        });
        let cached = t.cache_folio("f", 0);
        assert_eq!(t.w().folio(cached).pages[0].data.tag(), "U", "{p}");
        assert!(t.w().folio(cached).flags.dirty, "{p}");
    }
}
