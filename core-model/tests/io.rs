//! The I/O side: rows 17-23 and invariants 19-26 of docs/kernel-reference.md, the scenarios of the I/O issue and one test per what-if toggle.

mod common;
use common::*;
use pinlab_model::bio::BioFlags;
use pinlab_model::folio::{LruList, Zone};
use pinlab_model::iov_iter::{IterKind, extract_will_pin};
use pinlab_model::*;

const BIAS: i64 = GUP_PIN_COUNTING_BIAS;

fn anon_and_disk(p: Preset) -> T {
    let mut t = T::new(p);
    t.spawn("app");
    t.anon("app", "buf", 2);
    t.write("app", "buf", 0, "old");
    t.file("disk.img", FsKind::Ext4, 4, &["B0", "B1", "B2", "B3"]);
    t
}

fn bio_flags(t: &T, bio: &str) -> BioFlags {
    t.w().holders[bio].bio.as_ref().unwrap().flags
}

#[test]
fn row17_dio_read_refs_before_6_5_pins_from_6_5() {
    for p in Preset::ALL {
        let mut t = anon_and_disk(p);
        t.dio_read("app", "buf", "disk.img", 2, "io", false);
        let f = t.folio("app", "buf", 0);
        let flags = bio_flags(&t, "io");
        if p >= Preset::V6_5 {
            assert_eq!(f.refcount, 1 + BIAS, "{p}");
            assert!(f.maybe_dma_pinned());
            assert!(flags.page_pinned && !flags.no_page_ref, "{p}");
            assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 1);
        } else {
            assert_eq!(f.refcount, 2, "{p}: one FOLL_GET reference");
            assert!(!f.maybe_dma_pinned());
            assert!(!flags.page_pinned && !flags.no_page_ref, "{p}: put_page at completion");
            assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 0);
        }
        assert!(f.flags.dirty, "{p}: bio_set_pages_dirty");
        t.complete("io");
        let f = t.folio("app", "buf", 0);
        assert_eq!(f.refcount, 1, "{p}: released");
        assert!(f.flags.dirty, "{p}: invariant 22, pages dirty after a DIO read");
        assert_eq!(t.read("app", "buf", 0), "B2");
        assert!(t.w().holders.is_empty());
    }
}

#[test]
fn row18_dio_write_takes_no_foll_write_and_does_not_dirty() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("src", FsKind::Ext4, 1, &["S"]);
        t.file("dst", FsKind::Xfs, 1, &[]);
        t.mmap(
            "app",
            "m",
            1,
            MmapArgs {
                file: Some("src".into()),
                write: true,
                ..Default::default()
            },
        );
        assert_eq!(t.read("app", "m", 0), "S");
        let pc = t.cache_folio("src", 0);
        t.ok(Action::DioWrite {
            proc: "app".into(),
            vma: "m".into(),
            start: 0,
            pages: 1,
            file: "dst".into(),
            offset: 0,
            bio: "w".into(),
            wait: false,
        });
        if p == Preset::V5_8 {
            // 5.8 breaks COW for every GUP on a private mapping.
            assert_ne!(t.folio_id("app", "m", 0), pc);
        } else {
            assert_eq!(
                t.folio_id("app", "m", 0),
                pc,
                "{p}: no write fault, the page cache page itself"
            );
            let rc = t.w().folio(pc).refcount;
            assert_eq!(rc, if p >= Preset::V6_5 { 2 + BIAS } else { 3 }, "{p}");
        }
        t.complete("w");
        assert_eq!(t.disk("dst", 0), "S", "{p}");
        assert!(
            !t.w().folio(pc).flags.dirty,
            "{p}: a DIO write does not dirty its source"
        );
        assert_eq!(t.w().folio(pc).refcount, if p == Preset::V5_8 { 1 } else { 2 });
    }
}

#[test]
fn row19_bvec_bio_takes_nothing_and_freeing_early_is_use_after_free() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.file("disk.img", FsKind::Ext4, 2, &["D0", "D1"]);
        t.ok(Action::KbufAlloc {
            kbuf: "kb".into(),
            pages: 2,
        });
        let before: Vec<i64> = t.w().kbufs["kb"].iter().map(|f| t.w().folio(*f).refcount).collect();
        t.ok(Action::KernelBio {
            kbuf: "kb".into(),
            iter: pinlab_model::direct_io::KernelIter::Bvec,
            file: "disk.img".into(),
            offset: 0,
            write: false,
            bio: "b".into(),
            wait: false,
        });
        let after: Vec<i64> = t.w().kbufs["kb"].iter().map(|f| t.w().folio(*f).refcount).collect();
        assert_eq!(before, after, "{p}: invariant 20, nothing taken");
        let flags = bio_flags(&t, "b");
        assert_eq!(flags.cloned, p >= Preset::V5_14, "{p}");
        assert_eq!(flags.no_page_ref, p < Preset::V6_5, "{p}");
        t.ok(Action::KbufFree { kbuf: "kb".into() });
        assert!(!t.has(HazardKind::UseAfterFree));
        t.complete("b");
        assert!(
            t.has(HazardKind::UseAfterFree),
            "{p}: the device wrote into freed pages"
        );
    }
}

#[test]
fn kvec_bio_listed_from_6_5_refused_before() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.file("disk.img", FsKind::Ext4, 1, &["D0"]);
        t.ok(Action::KbufAlloc {
            kbuf: "kb".into(),
            pages: 1,
        });
        let a = Action::KernelBio {
            kbuf: "kb".into(),
            iter: pinlab_model::direct_io::KernelIter::Kvec,
            file: "disk.img".into(),
            offset: 0,
            write: false,
            bio: "b".into(),
            wait: true,
        };
        if p >= Preset::V6_5 {
            t.ok(a);
            assert_eq!(t.ok(Action::KbufRead { kbuf: "kb".into() }).data, vec!["D0"]);
        } else {
            assert_eq!(t.err(a).errno(), Some(Errno::EFAULT), "{p}");
        }
    }
}

#[test]
fn invariant21_extract_will_pin_is_user_backed() {
    for k in [IterKind::Ubuf, IterKind::Iovec] {
        assert!(extract_will_pin(k));
    }
    for k in [
        IterKind::Kvec,
        IterKind::Bvec,
        IterKind::Xarray,
        IterKind::Folioq,
        IterKind::Pipe,
    ] {
        assert!(!extract_will_pin(k));
    }
}

fn iter(kind: IterKind, dest: bool) -> pinlab_model::action::IterArgs {
    pinlab_model::action::IterArgs {
        iter: kind,
        dest,
        proc: None,
        vma: None,
        kbuf: None,
        file: None,
        pipe: None,
        start: 0,
        pages: None,
    }
}

#[test]
fn iov_iter_ref_pin_or_just_list() {
    let mut t = T::new(Preset::NEWEST);
    t.spawn("app");
    t.anon("app", "buf", 1);
    t.write("app", "buf", 0, "u");
    t.ok(Action::KbufAlloc {
        kbuf: "kb".into(),
        pages: 1,
    });
    let user = |dest| pinlab_model::action::IterArgs {
        proc: Some("app".into()),
        vma: Some("buf".into()),
        ..iter(IterKind::Ubuf, dest)
    };
    let kbuf = |k| pinlab_model::action::IterArgs {
        kbuf: Some("kb".into()),
        ..iter(k, false)
    };
    t.ok(Action::IovIterGetPages2 {
        iter: user(true),
        holder: "ref".into(),
        count: 1,
    });
    assert_eq!(t.folio("app", "buf", 0).refcount, 2);
    t.ok(Action::IovIterExtractPages {
        iter: user(true),
        holder: "pin".into(),
        count: 1,
    });
    assert_eq!(t.folio("app", "buf", 0).refcount, 2 + BIAS);
    let kf = t.w().kbufs["kb"][0];
    t.ok(Action::IovIterExtractPages {
        iter: kbuf(IterKind::Bvec),
        holder: "list".into(),
        count: 1,
    });
    assert_eq!(t.w().folio(kf).refcount, 1, "just listed");
    t.ok(Action::IovIterGetPages2 {
        iter: kbuf(IterKind::Bvec),
        holder: "bref".into(),
        count: 1,
    });
    assert_eq!(t.w().folio(kf).refcount, 2, "get_pages2 on a bvec takes a reference");
    let e = t.err(Action::IovIterGetPages2 {
        iter: kbuf(IterKind::Kvec),
        holder: "x".into(),
        count: 1,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT), "get_pages2 refuses ITER_KVEC");
    for h in ["ref", "pin", "list", "bref"] {
        t.release(h, false);
    }
    assert_eq!(t.folio("app", "buf", 0).refcount, 1);
    assert_eq!(t.w().folio(kf).refcount, 1);
    // Version gates.
    let mut old = T::new(Preset::V6_2);
    old.spawn("app");
    old.anon("app", "buf", 1);
    let e = old.err(Action::IovIterExtractPages {
        iter: user(true),
        holder: "p".into(),
        count: 1,
    });
    assert!(matches!(e, ActionError::Invalid(s) if s.contains("6.3")));
    let mut v65 = T::new(Preset::V6_5);
    let e = v65.err(Action::IovIterGetPages2 {
        iter: pinlab_model::action::IterArgs {
            pipe: Some("p".into()),
            ..iter(IterKind::Pipe, false)
        },
        holder: "p".into(),
        count: 1,
    });
    assert!(matches!(e, ActionError::Invalid(s) if s.contains("ITER_PIPE")));
}

#[test]
fn iter_pipe_before_6_5_refs_and_folioq_from_6_12() {
    let mut t = T::new(Preset::V6_3);
    t.spawn("app");
    t.anon("app", "buf", 1);
    t.write("app", "buf", 0, "x");
    t.ok(Action::Vmsplice {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        pipe: "p".into(),
    });
    let pipe = pinlab_model::action::IterArgs {
        pipe: Some("p".into()),
        ..iter(IterKind::Pipe, false)
    };
    t.ok(Action::IovIterGetPages2 {
        iter: pipe.clone(),
        holder: "h".into(),
        count: 1,
    });
    assert_eq!(t.folio("app", "buf", 0).refcount, 3);
    assert_eq!(
        t.err(Action::IovIterExtractPages {
            iter: pipe,
            holder: "e".into(),
            count: 1,
        })
        .errno(),
        Some(Errno::EFAULT)
    );
    for p in [Preset::V6_8, Preset::V6_12] {
        let mut t = T::new(p);
        t.file("f", FsKind::Ext4, 1, &["F"]);
        let fq = pinlab_model::action::IterArgs {
            file: Some("f".into()),
            ..iter(IterKind::Folioq, false)
        };
        let a = Action::IovIterExtractPages {
            iter: fq,
            holder: "n".into(),
            count: 1,
        };
        if p >= Preset::V6_12 {
            t.ok(a);
            assert_eq!(t.device_read("n"), vec!["F"]);
        } else {
            assert!(matches!(t.err(a), ActionError::Invalid(_)));
        }
    }
}

/// Issue scenario: O_DIRECT read into an anon buffer, fork while in flight,
/// the parent writes before completion.
#[test]
fn dio_read_in_flight_across_fork() {
    for p in Preset::ALL {
        let mut t = anon_and_disk(p);
        t.dio_read("app", "buf", "disk.img", 1, "io", false);
        t.fork("app", "child");
        t.write("app", "buf", 0, "parent-write");
        t.complete("io");
        if p >= Preset::V6_5 {
            assert!(!t.has(HazardKind::DmaLost), "{p}");
            assert_eq!(t.read("app", "buf", 0), "B1", "{p}: the DMA lands in the parent's page");
            assert_eq!(t.read("child", "buf", 0), "old", "{p}");
        } else {
            assert!(t.has(HazardKind::DmaLost), "{p}");
            assert_eq!(t.read("app", "buf", 0), "parent-write", "{p}");
            assert_eq!(t.read("child", "buf", 0), "B1", "{p}: the child got the data");
        }
    }
}

#[test]
fn vm_nocow_protects_anon_dio_across_fork() {
    for p in [Preset::V5_8, Preset::V5_19, Preset::V6_3] {
        let mut t = with(p, &["vm_nocow"]);
        t.spawn("app");
        t.anon("app", "buf", 1);
        t.write("app", "buf", 0, "old");
        t.file("disk.img", FsKind::Ext4, 2, &["B0", "B1"]);
        t.dio_read("app", "buf", "disk.img", 1, "io", false);
        t.fork("app", "child");
        assert!(t.pte("app", "buf", 0).is_writable(), "{p}: the parent kept its page");
        t.write("app", "buf", 0, "parent-write");
        t.complete("io");
        assert!(
            !t.has(HazardKind::DmaLost),
            "{p}: VM_NOCOW gave the child a copy at fork"
        );
        assert_eq!(t.read("child", "buf", 0), "old");
    }
}

/// A MAP_SHARED ext4 page, pinned long-term by RDMA, written back by fsync
/// while the peer keeps writing, then deregistered (unpin with dirtying).
fn rdma_shared_file(p: Preset, fs: FsKind, whatif: &[&str]) -> (T, Result<(), ActionError>) {
    let mut t = with(p, whatif);
    t.spawn("app");
    t.file("data", fs, 1, &["D0"]);
    t.map_file("app", "m", "data", 1, true);
    t.write("app", "m", 0, "A");
    let r = t.sim.apply(&Action::RdmaRegMr {
        proc: "app".into(),
        vma: "m".into(),
        start: 0,
        pages: 1,
        mr: "mr".into(),
        write: true,
    });
    if r.is_err() {
        return (t, r.map(|_| ()));
    }
    t.ok(Action::Writeback { file: "data".into() });
    t.device_write("mr", "remote-1");
    if t.w().holders.contains_key("wb-data-0") {
        t.complete("wb-data-0");
    }
    t.ok(Action::Fsync { file: "data".into() });
    t.device_write("mr", "remote-2");
    t.ok(Action::RdmaDeregMr { mr: "mr".into() });
    (t, Ok(()))
}

#[test]
fn rdma_pinned_shared_ext4_page_written_back_behind_the_fs() {
    for p in Preset::ALL {
        let (mut t, r) = rdma_shared_file(p, FsKind::Ext4, &[]);
        if p >= Preset::V6_5 {
            assert_eq!(
                r.unwrap_err().errno(),
                Some(Errno::EFAULT),
                "{p}: 8ac268436e6d refuses the registration"
            );
            continue;
        }
        r.unwrap();
        let id = t.cache_folio("data", 0);
        assert!(t.has(HazardKind::WriteUnderWriteback), "{p}");
        assert_eq!(t.disk("data", 0), "remote-1", "{p}: the device's data reached the disk");
        assert!(
            t.has(HazardKind::DirtyBehindFs),
            "{p}: the unpin dirtied a page writeback had cleaned"
        );
        assert!(t.w().folio(id).flags.dirty);
        assert!(
            !t.pte("app", "m", 0).is_writable(),
            "{p}: writeback write-protected the PTE"
        );
        t.ok(Action::Fsync { file: "data".into() });
        assert_eq!(t.disk("data", 0), "remote-2");
    }
}

#[test]
fn rdma_on_shared_tmpfs_still_registers_from_6_5() {
    for p in [Preset::V6_5, Preset::V6_12] {
        let (t, r) = rdma_shared_file(p, FsKind::Tmpfs, &[]);
        r.unwrap();
        assert!(!t.has(HazardKind::DirtyBehindFs), "{p}: tmpfs does not track dirtying");
    }
}

#[test]
fn vm_nocow_tells_the_filesystem_nothing() {
    let (t, r) = rdma_shared_file(Preset::V6_3, FsKind::Ext4, &["vm_nocow"]);
    r.unwrap();
    assert!(t.has(HazardKind::DirtyBehindFs) && t.has(HazardKind::WriteUnderWriteback));
}

#[test]
fn pinned_writeback_skip_breaks_fsync() {
    let mut t = with(Preset::V6_3, &["pinned_writeback=skip"]);
    t.spawn("app");
    t.file("data", FsKind::Xfs, 1, &["D0"]);
    t.map_file("app", "m", "data", 1, true);
    t.write("app", "m", 0, "A");
    t.ok(Action::RdmaRegMr {
        proc: "app".into(),
        vma: "m".into(),
        start: 0,
        pages: 1,
        mr: "mr".into(),
        write: true,
    });
    t.ok(Action::Fsync { file: "data".into() });
    assert!(t.has(HazardKind::FsyncIncomplete));
    assert_eq!(t.disk("data", 0), "D0", "fsync returned with the data not on disk");
    // Mainline writes it.
    let mut m = T::new(Preset::V6_3);
    m.spawn("app");
    m.file("data", FsKind::Xfs, 1, &["D0"]);
    m.map_file("app", "m", "data", 1, true);
    m.write("app", "m", 0, "A");
    m.ok(Action::RdmaRegMr {
        proc: "app".into(),
        vma: "m".into(),
        start: 0,
        pages: 1,
        mr: "mr".into(),
        write: true,
    });
    m.ok(Action::Fsync { file: "data".into() });
    assert_eq!(m.disk("data", 0), "A");
}

#[test]
fn pinned_writeback_bounce_writes_a_stable_copy() {
    let mut t = with(Preset::V6_3, &["pinned_writeback=bounce"]);
    t.spawn("app");
    t.file("data", FsKind::Xfs, 1, &["D0"]);
    t.map_file("app", "m", "data", 1, true);
    t.write("app", "m", 0, "A");
    t.ok(Action::RdmaRegMr {
        proc: "app".into(),
        vma: "m".into(),
        start: 0,
        pages: 1,
        mr: "mr".into(),
        write: true,
    });
    t.ok(Action::Writeback { file: "data".into() });
    t.device_write("mr", "during");
    t.complete("wb-data-0");
    assert_eq!(t.disk("data", 0), "A", "the bounce copy is what was written");
    assert!(
        !t.has(HazardKind::WriteUnderWriteback),
        "the original is not under writeback"
    );
    assert!(
        t.w().folio(t.cache_folio("data", 0)).flags.dirty,
        "the original stays dirty"
    );
    t.ok(Action::Fsync { file: "data".into() });
    assert_eq!(t.disk("data", 0), "during");
}

#[test]
fn bio_v7_modes_ref_for_writes_pin_for_reads() {
    let mut t = with(Preset::V6_5, &["bio_v7_modes"]);
    t.spawn("app");
    t.anon("app", "buf", 2);
    t.write("app", "buf", 0, "x");
    t.write("app", "buf", 1, "y");
    t.file("disk.img", FsKind::Ext4, 2, &[]);
    t.ok(Action::DioWrite {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        file: "disk.img".into(),
        offset: 0,
        bio: "w".into(),
        wait: false,
    });
    let f = bio_flags(&t, "w");
    assert!(f.page_reffed && !f.page_pinned);
    assert_eq!(t.folio("app", "buf", 0).refcount, 2);
    t.ok(Action::DioRead {
        proc: "app".into(),
        vma: "buf".into(),
        start: 1,
        pages: 1,
        file: "disk.img".into(),
        offset: 1,
        bio: "r".into(),
        wait: false,
    });
    assert!(bio_flags(&t, "r").page_pinned);
    t.complete("w");
    t.complete("r");
    assert_eq!(t.w().vmstat.nr_foll_pin_acquired, t.w().vmstat.nr_foll_pin_released);
}

#[test]
fn row21_reclaim_keeps_pinned_anon() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.anon("app", "buf", 2);
        t.write("app", "buf", 0, "pinned");
        t.write("app", "buf", 1, "plain");
        t.pin("app", "buf", 0, "dma", true);
        let pinned = t.folio_id("app", "buf", 0);
        // Both pages were just written: the first pass only clears their
        // accessed bits (and, before 5.9, ages them off the active list);
        // the pinned one was also marked accessed by the pin (FOLL_TOUCH), so
        // it is activated and needs one more pass to come back.
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert!(
            !t.has(HazardKind::ReclaimInVain),
            "{p}: young pages are not reclaim's targets yet"
        );
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        if p >= Preset::V5_11 {
            assert_eq!(
                t.folio_id("app", "buf", 0),
                pinned,
                "{p}: kept mapped, never in swap cache"
            );
            assert!(!t.w().folio(pinned).flags.swapcache);
            assert!(t.has(HazardKind::ReclaimInVain));
        }
        assert!(
            matches!(t.pte("app", "buf", 1), pinlab_model::mm::Pte::Swap { .. }),
            "{p}: the plain page was swapped"
        );
        assert_eq!(t.read("app", "buf", 1), "plain");
        assert!(!t.w().folio(pinned).freed, "{p}: invariant 23");
    }
}

#[test]
fn row22_reclaim_of_pinned_pagecache_and_the_2018_race() {
    for p in Preset::ALL {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("data", FsKind::Ext4, 2, &["D0", "D1"]);
        t.map_file("app", "m", "data", 2, true);
        t.read("app", "m", 0);
        t.file("disk.img", FsKind::Ext4, 1, &["DMA"]);
        // Jan Kara's race: an O_DIRECT read into a MAP_SHARED page is in flight...
        t.dio_read("app", "m", "disk.img", 0, "io", false);
        let id = t.cache_folio("data", 0);
        assert!(t.w().folio(id).flags.private, "page_mkwrite attached buffers");
        // ...the flusher writes the page out (clear_page_dirty_for_io, ->writepage)...
        t.ok(Action::Writeback { file: "data".into() });
        t.complete("wb-data-0");
        assert!(!t.w().folio(id).flags.dirty, "{p}: writeback cleaned it");
        // ...kswapd unmaps it and frees its buffers (try_to_release_page),
        // once the page has aged: the first pass sees its young PTE and the
        // DIO's GUP marked it referenced, so it is activated; the second
        // ages it back to the inactive list; the third takes it.
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert!(t.pte("app", "m", 0).is_present(), "{p}: young, activated");
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        t.ok(Action::Reclaim { scan: 10, passes: 1 });
        assert!(!t.pte("app", "m", 0).is_present(), "{p}: try_to_unmap unmapped it");
        assert!(!t.w().folio(id).freed, "{p}: the GUP ref or pin keeps it");
        let pinned = p >= Preset::V6_5;
        let keeps_private = p >= Preset::V6_4 && pinned;
        assert_eq!(
            t.w().folio(id).flags.private,
            keeps_private,
            "{p}: buffers kept only for a pinned folio from 6.4"
        );
        // ...the DIO completes and dirties the page...
        t.complete("io");
        t.ok(Action::Fsync { file: "data".into() });
        let race = !keeps_private;
        assert_eq!(t.has(HazardKind::DirtyWithoutBuffers), race, "{p}");
        if race {
            let text = &t
                .w()
                .hazards
                .iter()
                .find(|h| h.kind == HazardKind::DirtyWithoutBuffers)
                .unwrap()
                .text;
            assert_eq!(text.contains("BUG_ON"), p < Preset::V5_18, "{p}: {text}");
            assert_eq!(t.disk("data", 0), "D0", "{p}: the DMA data never reached the file");
        } else {
            assert_eq!(t.disk("data", 0), "DMA", "{p}");
        }
    }
}

#[test]
fn row23_longterm_pin_migrates_out_of_zone_movable() {
    let mut t = T::new(Preset::NEWEST);
    t.spawn("app");
    t.mmap(
        "app",
        "buf",
        1,
        MmapArgs {
            write: true,
            movable: true,
            ..Default::default()
        },
    );
    t.write("app", "buf", 0, "M");
    let old = t.folio_id("app", "buf", 0);
    assert_eq!(t.w().folio(old).zone, Zone::Movable);
    t.gup(
        "app",
        "buf",
        0,
        1,
        "lt",
        GupFlags {
            pin: true,
            write: true,
            longterm: true,
            fast: true,
            force: false,
        },
    );
    let new = t.folio_id("app", "buf", 0);
    assert_ne!(new, old);
    assert!(t.w().folio(old).freed, "old folio freed");
    let nf = t.w().folio(new);
    assert_eq!((nf.zone, nf.refcount), (Zone::Normal, 1 + BIAS));
    assert_eq!(t.w().vmstat.pgmigrate_success, 1);
    assert_eq!(t.device_read("lt"), vec!["M"]);
    // Another holder's reference makes migration fail.
    let mut t = T::new(Preset::NEWEST);
    t.spawn("app");
    t.mmap(
        "app",
        "buf",
        1,
        MmapArgs {
            write: true,
            movable: true,
            ..Default::default()
        },
    );
    t.write("app", "buf", 0, "M");
    t.get("app", "buf", 0, "other", false);
    let (e, kept) = t.err_keeping(Action::RdmaRegMr {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        mr: "mr".into(),
        write: true,
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM));
    assert!(kept >= 1, "the mm's pin flag stays");
    let pid = t.w().pid_of("app").unwrap();
    assert!(t.w().proc(pid).mm.has_pinned);
    assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 0, "the pins were dropped");
}

#[test]
fn unevictable_pins_whatif_costs_a_move_per_pin_and_unpin() {
    let mut t = with(Preset::V6_3, &["unevictable_pins"]);
    t.spawn("app");
    t.file("data", FsKind::Ext4, 1, &["D0"]);
    t.map_file("app", "m", "data", 1, true);
    t.read("app", "m", 0);
    let id = t.cache_folio("data", 0);
    t.pin("app", "m", 0, "dio", false);
    assert_eq!(t.w().folio(id).lru, Some(LruList::Unevictable));
    assert_eq!(t.w().vmstat.unevictable_pgs_culled, 1);
    t.ok(Action::Reclaim { scan: 10, passes: 1 });
    assert!(!t.has(HazardKind::ReclaimInVain), "not scanned at all");
    assert_eq!(t.w().vmstat.pgscan, 0);
    t.release("dio", false);
    assert_eq!(t.w().folio(id).lru, Some(LruList::Inactive));
    assert_eq!(t.w().vmstat.unevictable_pgs_rescued, 1);
    // Without the toggle the pinned folio is scanned in vain.
    let mut m = T::new(Preset::V6_3);
    m.spawn("app");
    m.file("data", FsKind::Ext4, 1, &["D0"]);
    m.map_file("app", "m", "data", 1, true);
    m.read("app", "m", 0);
    m.pin("app", "m", 0, "dio", false);
    // Young and marked accessed by the pin: activated, aged, then scanned.
    for _ in 0..3 {
        m.ok(Action::Reclaim { scan: 10, passes: 1 });
    }
    assert!(m.has(HazardKind::ReclaimInVain));
}

#[test]
fn mlock_moves_to_unevictable_and_reclaim_skips_it() {
    let mut t = T::new(Preset::NEWEST);
    t.spawn("app");
    t.anon("app", "buf", 2);
    t.ok(Action::Mlock {
        proc: "app".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
    });
    let f = t.folio("app", "buf", 0);
    assert!(f.flags.mlocked && f.lru == Some(LruList::Unevictable));
    t.ok(Action::Reclaim { scan: 10, passes: 1 });
    assert_eq!(t.w().vmstat.pgscan, 0);
}

#[test]
fn buffered_write_then_fsync_reaches_disk() {
    for p in [Preset::V5_7, Preset::NEWEST] {
        let mut t = T::new(p);
        t.spawn("app");
        t.file("f", FsKind::Btrfs, 2, &["a", "b"]);
        t.ok(Action::WriteFile {
            proc: "app".into(),
            file: "f".into(),
            offset: 1,
            data: vec!["B".into()],
        });
        assert_eq!(
            t.ok(Action::ReadFile {
                proc: "app".into(),
                file: "f".into(),
                offset: 0,
                pages: 2
            })
            .data,
            vec!["a", "B"]
        );
        assert_eq!(t.disk("f", 1), "b");
        t.ok(Action::Fsync { file: "f".into() });
        assert_eq!(t.disk("f", 1), "B");
        assert!(!t.w().folio(t.cache_folio("f", 1)).flags.dirty);
    }
}

#[test]
fn io_uring_fixed_buffer_dio_across_fork_from_5_9() {
    for p in Preset::ALL {
        let mut t = anon_and_disk(p);
        t.ok(Action::IoUringRegister {
            proc: "app".into(),
            vma: "buf".into(),
            start: 0,
            pages: 1,
            ring: "ring".into(),
        });
        t.fork("app", "child");
        t.write("app", "buf", 0, "parent-write");
        t.device_write("ring", "READ_FIXED");
        assert_eq!(t.has(HazardKind::DmaLost), p < Preset::V5_9, "{p}");
    }
}
