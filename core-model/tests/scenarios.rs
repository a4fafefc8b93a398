//! The classic bugs, named after the CVE or commit they are about: each must
//! appear under the old presets and disappear under the fixed ones.

mod common;
use common::*;
use pinlab_model::*;

/// Probe (a) of docs/kernel-reference.md ("Two probes"): parent and child share an anon page;
/// the child vmsplices it (FOLL_GET), unmaps it; the parent writes; the child
/// reads the pipe.
fn vmsplice_unmap(p: Preset, thp: bool) -> (T, Vec<String>) {
    let mut t = T::new(p);
    t.spawn("parent");
    let pages = if thp { 512 } else { 1 };
    t.mmap(
        "parent",
        "buf",
        pages,
        MmapArgs {
            write: true,
            thp,
            ..Default::default()
        },
    );
    t.write("parent", "buf", 0, "before-fork");
    if thp {
        assert!(t.pte("parent", "buf", 0).is_pmd(), "THP mapped by a PMD");
    }
    t.fork("parent", "child");
    t.ok(Action::Vmsplice {
        proc: "child".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        pipe: "p".into(),
    });
    t.ok(Action::Munmap {
        proc: "child".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
    });
    t.write("parent", "buf", 0, "parent-secret");
    let seen = t
        .ok(Action::PipeRead {
            proc: "child".into(),
            pipe: "p".into(),
        })
        .data;
    (t, seen)
}

#[test]
fn cve_2020_29374_vmsplice_leak_small_pages() {
    for p in Preset::ALL {
        let (t, seen) = vmsplice_unmap(p, false);
        let leak = t.hazards().contains(&HazardKind::DataLeak);
        if p == Preset::V5_7 {
            assert_eq!(
                seen,
                vec!["parent-secret"],
                "{p}: the parent reused the page the pipe holds"
            );
            assert!(leak, "{p}");
        } else {
            assert_eq!(seen, vec!["before-fork"], "{p}");
            assert!(!leak, "{p}");
        }
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 0, "vmsplice takes refs, not pins");
    }
}

#[test]
fn cve_2020_29374_comes_back_on_thp_until_5_18() {
    for p in Preset::ALL {
        let (t, seen) = vmsplice_unmap(p, true);
        let leak = t.hazards().contains(&HazardKind::DataLeak);
        // do_huge_pmd_wp_page kept the mapcount rule until 3bff7e3f1f16 (5.18);
        // 5.8 broke COW in the child's GUP instead.
        let expect_leak = matches!(p, Preset::V5_7 | Preset::V5_9 | Preset::V5_11 | Preset::V5_14);
        assert_eq!(leak, expect_leak, "{p}: saw {seen:?}");
        assert_eq!(seen[0] == "parent-secret", expect_leak, "{p}");
    }
}

/// Probe (b): a device write into the parent's buffer is in flight across fork
/// and the parent writes before it completes.
fn dma_across_fork(p: Preset, pin: bool) -> T {
    let mut t = T::new(p);
    t.spawn("parent");
    t.anon("parent", "buf", 1);
    t.write("parent", "buf", 0, "old");
    let flags = GupFlags {
        pin,
        write: true,
        ..Default::default()
    };
    t.gup("parent", "buf", 0, 1, "dio", flags);
    t.fork("parent", "child");
    t.write("parent", "buf", 0, "parent-write");
    t.device_write("dio", "disk-data");
    t
}

#[test]
fn dma_lands_in_child_page_with_refs_in_every_preset() {
    for p in Preset::ALL {
        let mut t = dma_across_fork(p, false);
        assert!(t.hazards().contains(&HazardKind::DmaLost), "{p}");
        assert_eq!(t.read("parent", "buf", 0), "parent-write", "{p}");
        assert_eq!(t.read("child", "buf", 0), "disk-data", "{p}: the child got the data");
    }
}

#[test]
fn early_cow_at_fork_70e806e4e645_keeps_dma_in_parent() {
    for p in Preset::ALL {
        let mut t = dma_across_fork(p, true);
        let lost = t.hazards().contains(&HazardKind::DmaLost);
        if p >= Preset::V5_9 {
            assert!(!lost, "{p}");
            // The device data and the parent's write meet in the parent's page.
            assert_eq!(t.read("parent", "buf", 0), "disk-data", "{p}");
            assert_eq!(t.read("child", "buf", 0), "old", "{p}: the child's copy is as of fork");
        } else {
            assert!(lost, "{p}: neither fork nor do_wp_page looks at pins");
            assert_eq!(t.read("parent", "buf", 0), "parent-write", "{p}");
        }
    }
}

#[test]
fn io_uring_fixed_buffer_across_fork() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("parent");
        t.anon("parent", "buf", 2);
        t.write("parent", "buf", 0, "A");
        t.ok(Action::IoUringRegister {
            proc: "parent".into(),
            vma: "buf".into(),
            start: 0,
            pages: 2,
            ring: "ring".into(),
        });
        let f = t.folio("parent", "buf", 0);
        assert_eq!(f.refcount, 1 + GUP_PIN_COUNTING_BIAS);
        t.fork("parent", "child");
        t.write("parent", "buf", 0, "B");
        t.device_write("ring", "READ_FIXED");
        let lost = t.hazards().contains(&HazardKind::DmaLost);
        assert_eq!(lost, p < Preset::V5_9, "{p}");
        // Exit tears the ring down and unpins.
        t.ok(Action::Exit { proc: "parent".into() });
        assert!(t.w().holders.is_empty());
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, t.w().vmstat.nr_foll_pin_released);
    }
}

/// A R/O pin of a page shared with a child, then the owner writes: does the
/// device still see the owner's data?
#[test]
fn ro_pin_loses_owner_writes_before_5_19() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("parent");
        t.anon("parent", "buf", 1);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        t.pin("parent", "buf", 0, "ro", false);
        t.write("parent", "buf", 0, "B");
        let seen = t.device_read("ro");
        let stale = t.hazards().contains(&HazardKind::StaleDeviceRead);
        // 5.8 breaks COW at GUP time, 5.19 unshares: both keep the pin coherent.
        let expect_stale = matches!(
            p,
            Preset::V5_7 | Preset::V5_9 | Preset::V5_11 | Preset::V5_14 | Preset::V5_18
        );
        assert_eq!(stale, expect_stale, "{p}");
        assert_eq!(seen, vec![if expect_stale { "A" } else { "B" }], "{p}");
    }
}

#[test]
fn gup_5_8_read_of_untouched_memory_allocates() {
    let mut t = T::new(Preset::V5_8);
    t.spawn("p");
    t.anon("p", "buf", 1);
    t.get("p", "buf", 0, "r", false);
    assert!(
        t.folio("p", "buf", 0).is_anon(),
        "17839856fd58: a read GUP took a write fault"
    );
    let mut t = T::new(Preset::V5_9);
    t.spawn("p");
    t.anon("p", "buf", 1);
    t.get("p", "buf", 0, "r", false);
    assert_eq!(t.folio_id("p", "buf", 0), ZERO_FOLIO, "5.9 returns the zero page");
}

#[test]
fn writable_longterm_pin_of_shared_ext4_refused_from_6_5() {
    for p in Preset::ALL {
        for fs in [FsKind::Ext4, FsKind::Tmpfs] {
            let mut t = T::new(p);
            t.spawn("p");
            t.ok(Action::CreateFile {
                name: "f".into(),
                fs,
                pages: 1,
                data: vec![],
            });
            t.mmap(
                "p",
                "m",
                1,
                MmapArgs {
                    file: Some("f".into()),
                    shared: true,
                    write: true,
                    ..Default::default()
                },
            );
            let a = Action::Gup {
                proc: "p".into(),
                vma: "m".into(),
                start: 0,
                pages: 1,
                holder: "mr".into(),
                flags: GupFlags {
                    pin: true,
                    write: true,
                    longterm: true,
                    fast: false,
                    force: false,
                },
                count: 1,
            };
            if p >= Preset::V6_5 && fs == FsKind::Ext4 {
                assert_eq!(t.err_keeping(a).0.errno(), Some(Errno::EFAULT), "{p} {fs:?}");
            } else {
                t.ok(a);
            }
        }
    }
}

#[test]
fn io_uring_refuses_file_buffers_before_6_5() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("p");
        t.ok(Action::CreateFile {
            name: "f".into(),
            fs: FsKind::Xfs,
            pages: 1,
            data: vec![],
        });
        t.mmap(
            "p",
            "m",
            1,
            MmapArgs {
                file: Some("f".into()),
                write: true,
                ..Default::default()
            },
        );
        let a = Action::IoUringRegister {
            proc: "p".into(),
            vma: "m".into(),
            start: 0,
            pages: 1,
            ring: "r".into(),
        };
        if p < Preset::V6_5 {
            assert_eq!(t.err_keeping(a).0.errno(), Some(Errno::EOPNOTSUPP), "{p}");
        } else {
            // A private file mapping: the write pin breaks COW into anon memory.
            t.ok(a);
            assert!(t.folio("p", "m", 0).is_anon(), "{p}");
        }
    }
}

#[test]
fn pinned_anon_kept_out_of_swap_feb889fb40fa() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("p");
        t.anon("p", "buf", 1);
        t.write("p", "buf", 0, "A");
        t.pin("p", "buf", 0, "dma", true);
        let id = t.folio_id("p", "buf", 0);
        t.ok(Action::Madvise {
            proc: "p".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
            advice: Advice::Pageout,
        });
        if p >= Preset::V5_11 {
            assert_eq!(t.folio_id("p", "buf", 0), id, "{p}: stays mapped");
            assert_eq!(t.w().vmstat.pswpout, 0);
        } else {
            // Swapped out but the pin keeps the folio in the swap cache.
            assert!(
                matches!(t.pte("p", "buf", 0), pinlab_model::mm::Pte::Swap { .. }),
                "{p}"
            );
            assert!(t.w().folio(id).flags.swapcache);
            t.write("p", "buf", 0, "B");
            assert_eq!(t.folio_id("p", "buf", 0), id, "{p}: swap-in finds the same folio");
        }
        t.device_write("dma", "D");
        assert!(!t.hazards().contains(&HazardKind::DmaLost), "{p}");
    }
}

/// A process whose one anonymous page holds "A" and was paged out.
fn one_page_swapped_out(p: Preset) -> T {
    let mut t = T::new(p);
    t.spawn("p");
    t.anon("p", "buf", 1);
    t.write("p", "buf", 0, "A");
    t.ok(Action::Madvise {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
        advice: Advice::Pageout,
    });
    t
}

#[test]
fn swap_round_trip_keeps_data_and_exclusivity() {
    for p in Preset::ALL {
        let mut t = one_page_swapped_out(p);
        assert_eq!(t.w().vmstat.pswpout, 1);
        assert_eq!(t.read("p", "buf", 0), "A", "{p}");
        assert_eq!(t.ae("p", "buf", 0), p >= Preset::V5_19, "{p}: exclusive bit restored");
        // A read fault leaves the folio in the swap cache, which keeps its
        // reference (should_try_to_free_swap: only a write by the only
        // user, or mlock, frees it); the live 6.1 kernel reads refcount 2.
        let id = t.folio_id("p", "buf", 0);
        assert!(t.w().folio(id).flags.swapcache, "{p}: still in the swap cache");
        assert_eq!(t.w().folio(id).refcount, 2, "{p}");
        assert_eq!(t.w().swap.len(), 1, "{p}: the slot is the cache's");
        t.write("p", "buf", 0, "B");
        if (Preset::V5_9..Preset::V5_18).contains(&p) {
            // 09854ba94c6a (5.9) reuses only at refcount 1, and the swap
            // cache's reference makes it 2: the page is copied, as
            // 53a05ad9f21d (5.18) says when it frees the cache first.
            assert_ne!(t.folio_id("p", "buf", 0), id, "{p}: copied");
            assert!(t.w().folio(id).flags.swapcache, "{p}: the old folio stays cached");
        } else {
            // The only user's write frees the cache (reuse_swap_page before
            // 5.9, folio_free_swap in do_wp_page from 5.18) and reuses it.
            assert_eq!(t.folio_id("p", "buf", 0), id, "{p}: reused, not copied");
            assert_eq!(t.w().folio(id).refcount, 1, "{p}");
            assert!(t.w().swap.is_empty(), "{p}: slot freed");
        }
    }
}

#[test]
fn a_write_fault_swapping_in_frees_the_swap_cache_at_once() {
    for p in Preset::ALL {
        let mut t = one_page_swapped_out(p);
        t.write("p", "buf", 0, "B");
        let id = t.folio_id("p", "buf", 0);
        assert!(!t.w().folio(id).flags.swapcache, "{p}");
        assert_eq!(t.w().folio(id).refcount, 1, "{p}");
        assert!(t.w().swap.is_empty(), "{p}");
    }
}

#[test]
fn thp_pin_uses_pincount_and_fork_splits_pinned_pmd() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("p");
        t.mmap(
            "p",
            "huge",
            512,
            MmapArgs {
                write: true,
                thp: true,
                ..Default::default()
            },
        );
        t.write("p", "huge", 3, "X");
        let f = t.folio("p", "huge", 0);
        assert_eq!((f.order, f.refcount, f.entire_mapcount), (9, 1, 1), "{p}");
        t.gup("p", "huge", 3, 1, "dma", pin_rw());
        let f = t.folio("p", "huge", 0);
        assert_eq!((f.refcount, f.pincount), (2, 1), "{p}: large folios count pins exactly");
        t.fork("p", "c");
        if p >= Preset::V5_9 {
            assert!(
                !t.pte("p", "huge", 0).is_pmd(),
                "{p}: d042035eaf5f split the pinned PMD"
            );
            assert_ne!(t.folio_id("c", "huge", 3), t.folio_id("p", "huge", 3));
            assert_eq!(t.read("c", "huge", 3), "X");
            assert_eq!(t.w().vmstat.thp_split_pmd, 1);
        } else {
            assert!(t.pte("c", "huge", 0).is_pmd(), "{p}");
            assert_eq!(t.folio("p", "huge", 0).entire_mapcount, 2);
        }
    }
}

#[test]
fn madv_dontfork_skips_vma() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("p");
    t.anon("p", "buf", 2);
    t.write("p", "buf", 0, "A");
    t.ok(Action::Madvise {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
        advice: Advice::Dontfork,
    });
    t.fork("p", "c");
    let e = t.err(Action::Read {
        proc: "c".into(),
        vma: "buf".into(),
        page: 0,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT));
    assert_eq!(t.folio("p", "buf", 0).refcount, 1);
}

#[test]
fn madv_collapse_refused_by_a_pin() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("p");
    t.anon("p", "buf", 512);
    for i in 0..4 {
        t.write("p", "buf", i, &format!("d{i}"));
    }
    t.pin("p", "buf", 2, "dma", true);
    let a = Action::Madvise {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
        advice: Advice::Collapse,
    };
    assert_eq!(t.err(a.clone()).errno(), Some(Errno::EAGAIN));
    t.release("dma", false);
    t.ok(a.clone());
    assert!(t.pte("p", "buf", 0).is_pmd());
    assert_eq!(t.read("p", "buf", 3), "d3");
    assert_eq!(t.read("p", "buf", 100), "0");
    assert_eq!(t.w().vmstat.thp_collapse_alloc, 1);
    let mut old = T::new(Preset::V5_19);
    old.spawn("p");
    old.anon("p", "buf", 512);
    assert_eq!(old.err(a).errno(), Some(Errno::EINVAL), "MADV_COLLAPSE is 6.1+");
}

/// cow.c's collapse tests split a THP region with MADV_DONTFORK (or mprotect),
/// revert it "such that we merge the VMAs", then MADV_COLLAPSE the whole
/// block: vma_modify_flags merges the pieces back, so the collapse sees one VMA.
#[test]
fn flag_changes_that_are_reverted_merge_the_vmas_again() {
    let mut t = T::new(Preset::V6_12);
    t.spawn("p");
    t.anon("p", "buf", 512);
    for i in 0..4 {
        t.write("p", "buf", i, &format!("d{i}"));
    }
    let advise = |start, pages, advice| Action::Madvise {
        proc: "p".into(),
        vma: "buf".into(),
        start,
        pages: Some(pages),
        advice,
    };
    let vmas = |t: &T| t.w().proc(t.vpn("p", "buf", 0).0).mm.vmas.len();
    t.ok(advise(256, 256, Advice::Dontfork));
    assert_eq!(vmas(&t), 2, "split at page 256");
    t.ok(advise(256, 256, Advice::Dofork));
    assert_eq!(vmas(&t), 1, "merged again");
    t.ok(Action::Mprotect {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: Some(1),
        write: false,
    });
    assert_eq!(vmas(&t), 2);
    t.ok(Action::Mprotect {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: Some(1),
        write: true,
    });
    assert_eq!(vmas(&t), 1);
    t.ok(advise(0, 512, Advice::Collapse));
    assert!(t.pte("p", "buf", 0).is_pmd());
    assert_eq!(t.read("p", "buf", 3), "d3");
}

/// A forked child's VMAs each get an anon_vma of their own (anon_vma_fork),
/// so undoing a split in the child does not merge them (LTP vma01).
#[test]
fn a_forked_childs_vmas_do_not_merge_again() {
    let mut t = T::new(Preset::V6_12);
    t.spawn("p");
    t.anon("p", "buf", 4);
    for i in 0..4 {
        t.write("p", "buf", i, "x");
    }
    let protect = |proc: &str, write| Action::Mprotect {
        proc: proc.into(),
        vma: "buf".into(),
        start: 0,
        pages: Some(1),
        write,
    };
    t.ok(protect("p", false));
    t.fork("p", "c");
    let vmas = |t: &T, who: &str| t.w().proc(t.vpn(who, "buf", 0).0).mm.vmas.len();
    assert_eq!(vmas(&t, "c"), 2);
    t.ok(protect("c", true));
    assert_eq!(vmas(&t, "c"), 2, "the child's pieces have different anon_vmas");
    t.ok(protect("p", true));
    assert_eq!(vmas(&t, "p"), 1, "the parent's pieces share theirs and merge");
}

/// What the process that vmspliced a page writes into it afterwards is what
/// it sends; only another process's private write seen through the pipe is
/// a leak (CVE-2020-29374).
#[test]
fn a_senders_own_later_write_through_vmsplice_is_not_a_leak() {
    let mut t = T::new(Preset::V5_7);
    t.spawn("p");
    t.anon("p", "buf", 1);
    t.write("p", "buf", 0, "a");
    t.fork("p", "c");
    t.ok(Action::Vmsplice {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        pipe: "q".into(),
    });
    t.write("p", "buf", 0, "later");
    t.ok(Action::PipeRead {
        proc: "c".into(),
        pipe: "q".into(),
    });
    assert!(
        !t.w().hazards.iter().any(|h| h.kind == HazardKind::DataLeak),
        "{:?}",
        t.w().hazards
    );
}

/// fs/splice.c: iter_to_pipe adds pages while add_to_pipe finds a free slot
/// (PIPE_DEF_BUFFERS = 16); the rest stay where they are and vmsplice returns
/// the bytes that went in; a full pipe refuses with EAGAIN. Found by `pinlab
/// probe`: a 512-page vmsplice on Linux 6.18 moves 16 pages.
#[test]
fn vmsplice_moves_only_what_fits_in_the_pipe() {
    for p in [Preset::V5_7, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("p");
        t.anon("p", "buf", 20);
        for i in 0..20 {
            t.write("p", "buf", i, &format!("d{i}"));
        }
        t.ok(Action::Vmsplice {
            proc: "p".into(),
            vma: "buf".into(),
            start: 0,
            pages: 20,
            pipe: "q".into(),
        });
        assert_eq!(t.w().pipes["q"].bufs.len(), 16, "{p}");
        // Page 16 was not taken: only its mapping references it.
        let (f, _) = t.pte("p", "buf", 16).folio().unwrap();
        assert_eq!(t.w().folio(f).refcount, 1, "{p}");
        let e = t.err(Action::Vmsplice {
            proc: "p".into(),
            vma: "buf".into(),
            start: 16,
            pages: 1,
            pipe: "q".into(),
        });
        assert_eq!(e.errno(), Some(Errno::EAGAIN), "{p}");
        let seen = t
            .ok(Action::PipeRead {
                proc: "p".into(),
                pipe: "q".into(),
            })
            .data;
        assert_eq!(seen.len(), 16);
        assert_eq!(seen[15], "d15");
    }
}

/// mm/khugepaged.c: before 6.18 a block in which no PTE is writable is
/// SCAN_PAGE_RO, and MADV_COLLAPSE returns EINVAL; after fork every PTE of
/// the parent is write-protected. Linux 6.1 in pinlab probe --vm refused
/// exactly this (cow.c's "collapsing after fork (fully shared)"); 6.18
/// collapses it.
#[test]
fn madv_collapse_after_fork_needs_a_writable_pte_before_6_18() {
    for p in [Preset::V6_1, Preset::V6_12, Preset::V6_18] {
        let mut t = T::new(p);
        t.spawn("p");
        t.anon("p", "buf", 512);
        t.write("p", "buf", 0, "a");
        t.write("p", "buf", 1, "b");
        t.fork("p", "c");
        let collapse = Action::Madvise {
            proc: "p".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
            advice: Advice::Collapse,
        };
        if p < Preset::V6_18 {
            assert_eq!(t.err(collapse.clone()).errno(), Some(Errno::EINVAL), "{p}");
            assert!(!t.pte("p", "buf", 0).is_pmd(), "{p}");
            // Once the parent has written a page again, one PTE is writable.
            t.write("p", "buf", 1, "B");
            t.ok(collapse);
        } else {
            t.ok(collapse);
        }
        assert!(t.pte("p", "buf", 0).is_pmd(), "{p}");
        assert_eq!(t.read("p", "buf", 0), "a", "{p}");
    }
}
