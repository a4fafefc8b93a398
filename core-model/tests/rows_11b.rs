//! One test per operation row of docs/kernel-reference.md that the core
//! model covers (rows 1-16), under every preset where the row differs.

mod common;
use common::*;
use pinlab_model::mm::Pte;
use pinlab_model::*;

const BIAS: i64 = GUP_PIN_COUNTING_BIAS;

fn setup(p: Preset) -> T {
    let mut t = T::new(p);
    t.spawn("parent");
    t.anon("parent", "buf", 4);
    t
}

#[test]
fn row01_first_write_allocates_exclusive_folio() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        let f = t.folio("parent", "buf", 0);
        assert_eq!((f.refcount, f.page_mapcount(0)), (1, 1), "{p}");
        assert_eq!(
            f.pages[0].anon_exclusive,
            p >= Preset::V5_19,
            "{p}: PG_anon_exclusive exists from 5.19"
        );
        assert!(f.lru.is_some());
        let pte = t.pte("parent", "buf", 0);
        assert!(pte.is_writable() && pte.is_dirty(), "{p}");
    }
}

#[test]
fn row02_first_read_maps_zero_page() {
    for p in Preset::ALL {
        let mut t = setup(p);
        let folios_before = t.w().folios.len();
        assert_eq!(t.read("parent", "buf", 1), "0");
        assert_eq!(t.pte("parent", "buf", 1).folio(), Some((ZERO_FOLIO, 0)));
        assert!(!t.pte("parent", "buf", 1).is_writable());
        assert_eq!(t.w().folios.len(), folios_before, "{p}: no folio allocated");
        assert_eq!(
            t.w().folio(ZERO_FOLIO).refcount,
            1,
            "{p}: mapping the zero page takes no reference"
        );
    }
}

#[test]
fn row03_fork_shares_unpinned_page() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let id = t.folio_id("parent", "buf", 0);
        assert_eq!(t.folio_id("child", "buf", 0), id, "{p}");
        let f = t.folio("parent", "buf", 0);
        assert_eq!((f.refcount, f.page_mapcount(0)), (2, 2), "{p}");
        assert!(!f.pages[0].anon_exclusive, "{p}");
        assert!(
            !t.pte("parent", "buf", 0).is_writable() && !t.pte("child", "buf", 0).is_writable(),
            "{p}"
        );
    }
}

#[test]
fn row04_fork_copies_pinned_page_early_from_5_9() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.pin("parent", "buf", 0, "dma", true);
        t.fork("parent", "child");
        let pf = t.folio("parent", "buf", 0);
        if p >= Preset::V5_9 {
            assert_ne!(t.folio_id("child", "buf", 0), t.folio_id("parent", "buf", 0), "{p}");
            assert_eq!(
                (pf.refcount, pf.page_mapcount(0)),
                (1 + BIAS, 1),
                "{p}: parent unchanged"
            );
            assert!(
                t.pte("parent", "buf", 0).is_writable(),
                "{p}: parent keeps its pinned page writable"
            );
            let cf = t.folio("child", "buf", 0);
            assert_eq!((cf.refcount, cf.page_mapcount(0)), (1, 1), "{p}");
            assert_eq!(cf.pages[0].anon_exclusive, p >= Preset::V5_19);
            assert!(t.pte("child", "buf", 0).is_writable() && t.pte("child", "buf", 0).is_dirty());
            assert_eq!(t.read("child", "buf", 0), "A");
        } else {
            // 5.7 / 5.8: fork never looks at pins.
            assert_eq!(t.folio_id("child", "buf", 0), t.folio_id("parent", "buf", 0), "{p}");
            assert_eq!((pf.refcount, pf.page_mapcount(0)), (2 + BIAS, 2), "{p}");
        }
    }
}

#[test]
fn row04_needs_mmf_has_pinned_not_just_1024_refs() {
    // A FOLL_GET holder with 1024 refs looks pinned but the mm never pinned.
    let mut t = setup(Preset::V6_8);
    t.write("parent", "buf", 0, "A");
    t.gup("parent", "buf", 0, 1, "x", GupFlags::default());
    let id = t.folio_id("parent", "buf", 0);
    for i in 0..1023 {
        t.gup("parent", "buf", 0, 1, &format!("r{i}"), GupFlags::default());
    }
    assert!(t.w().folio(id).maybe_dma_pinned(), "false positive");
    assert!(!t.w().proc(t.w().pid_of("parent").unwrap()).mm.has_pinned);
    t.fork("parent", "child");
    assert_eq!(t.folio_id("child", "buf", 0), id, "no MMF_HAS_PINNED: shared");
}

#[test]
fn row05_write_fault_on_exclusive_page_reuses() {
    for p in [Preset::V5_19, Preset::V6_0, Preset::V6_2, Preset::V6_8] {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        let id = t.folio_id("parent", "buf", 0);
        t.ok(Action::Mprotect {
            proc: "parent".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
            write: false,
        });
        t.ok(Action::Mprotect {
            proc: "parent".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
            write: true,
        });
        // 6.0+ upgrades the dirty exclusive PTE at mprotect time; 5.19 leaves it R/O.
        assert_eq!(t.pte("parent", "buf", 0).is_writable(), p >= Preset::V6_0, "{p}");
        t.write("parent", "buf", 0, "B");
        assert_eq!(t.folio_id("parent", "buf", 0), id, "{p}: reused");
        assert!(t.pte("parent", "buf", 0).is_writable() && t.pte("parent", "buf", 0).is_dirty());
    }
}

#[test]
fn row06_write_fault_not_exclusive_refcount_one_reuses() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        t.ok(Action::Exit { proc: "child".into() });
        let id = t.folio_id("parent", "buf", 0);
        let f = t.folio("parent", "buf", 0);
        assert_eq!(
            (f.refcount, f.page_mapcount(0), f.pages[0].anon_exclusive),
            (1, 1, false),
            "{p}"
        );
        assert!(!t.pte("parent", "buf", 0).is_writable());
        t.write("parent", "buf", 0, "B");
        assert_eq!(t.folio_id("parent", "buf", 0), id, "{p}: reused in place");
        assert_eq!(t.ae("parent", "buf", 0), p >= Preset::V5_19, "{p}");
        assert!(t.pte("parent", "buf", 0).is_writable());
    }
}

#[test]
fn row07_write_fault_on_shared_page_copies() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let old = t.folio_id("parent", "buf", 0);
        t.write("parent", "buf", 0, "B");
        let new = t.folio_id("parent", "buf", 0);
        assert_ne!(new, old, "{p}");
        let nf = t.w().folio(new);
        assert_eq!(
            (nf.refcount, nf.page_mapcount(0), nf.pages[0].anon_exclusive),
            (1, 1, p >= Preset::V5_19)
        );
        let of = t.w().folio(old);
        assert_eq!(
            (of.refcount, of.page_mapcount(0)),
            (1, 1),
            "{p}: child keeps the old page"
        );
        assert_eq!(t.read("child", "buf", 0), "A");
        assert_eq!(t.read("parent", "buf", 0), "B");
    }
}

#[test]
fn row08_rw_pin_on_ro_page_write_faults_first() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let shared = t.folio_id("parent", "buf", 0);
        t.pin("parent", "buf", 0, "dma", true);
        let id = t.folio_id("parent", "buf", 0);
        assert_ne!(id, shared, "{p}: write fault copied the shared page");
        let f = t.w().folio(id);
        assert_eq!(f.refcount, 1 + BIAS, "{p}");
        assert!(t.pte("parent", "buf", 0).is_writable());
        let has = t.w().proc(t.w().pid_of("parent").unwrap()).mm.has_pinned;
        assert_eq!(has, p >= Preset::V5_9, "{p}: MMF_HAS_PINNED (mm->has_pinned from 5.9)");
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 1);
    }
}

#[test]
fn row09_ro_pin_on_exclusive_page_only_adds_bias() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        let before = t.pte("parent", "buf", 0);
        t.pin("parent", "buf", 0, "ro", false);
        assert_eq!(t.pte("parent", "buf", 0), before, "{p}: PTE unchanged");
        assert_eq!(t.folio("parent", "buf", 0).refcount, 1 + BIAS);
    }
}

#[test]
fn row10_ro_pin_of_shared_anon_unshares_from_5_19() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let shared = t.folio_id("parent", "buf", 0);
        t.pin("parent", "buf", 0, "ro", false);
        let id = t.folio_id("parent", "buf", 0);
        if p >= Preset::V5_19 {
            assert_ne!(id, shared, "{p}: unshare copied");
            assert!(
                !t.pte("parent", "buf", 0).is_writable(),
                "{p}: unshare keeps the PTE R/O"
            );
            assert!(t.ae("parent", "buf", 0));
            assert_eq!(t.w().folio(id).refcount, 1 + BIAS);
            assert_eq!(t.w().folio(shared).refcount, 1);
        } else if p == Preset::V5_8 {
            // 5.8: the read GUP broke COW with a write fault.
            assert_ne!(id, shared, "{p}");
            assert!(t.pte("parent", "buf", 0).is_writable());
        } else {
            assert_eq!(id, shared, "{p}: the shared page itself is pinned");
            assert_eq!(t.w().folio(id).refcount, 2 + BIAS);
        }
    }
}

#[test]
fn row10_ro_pin_reuses_when_only_mapping() {
    let mut t = setup(Preset::V6_8);
    t.write("parent", "buf", 0, "A");
    t.fork("parent", "child");
    t.ok(Action::Exit { proc: "child".into() });
    let id = t.folio_id("parent", "buf", 0);
    assert!(!t.ae("parent", "buf", 0));
    t.pin("parent", "buf", 0, "ro", false);
    assert_eq!(t.folio_id("parent", "buf", 0), id, "reused");
    assert!(t.ae("parent", "buf", 0));
    assert!(!t.pte("parent", "buf", 0).is_writable());
}

#[test]
fn row11_ro_longterm_pin_of_zero_page_unshares_from_6_2() {
    for p in [Preset::V5_19, Preset::V6_0, Preset::V6_2, Preset::V6_5, Preset::V6_8] {
        let mut t = setup(p);
        t.read("parent", "buf", 0);
        let flags = GupFlags {
            pin: true,
            write: false,
            longterm: true,
            fast: false,
            force: false,
        };
        t.gup("parent", "buf", 0, 1, "lt", flags);
        let (id, _) = t.pte("parent", "buf", 0).folio().unwrap();
        if p >= Preset::V6_2 {
            assert_ne!(id, ZERO_FOLIO, "{p}");
            assert!(t.ae("parent", "buf", 0));
            assert!(!t.pte("parent", "buf", 0).is_writable());
            assert_eq!(t.w().folio(id).refcount, 1 + BIAS);
            assert_eq!(t.w().folio(ZERO_FOLIO).refcount, 1);
        } else {
            assert_eq!(id, ZERO_FOLIO, "{p}: the zero page itself is pinned");
            assert_eq!(t.w().folio(ZERO_FOLIO).refcount, 1 + BIAS);
        }
    }
}

#[test]
fn row11_ro_longterm_pin_of_pagecache_in_private_mapping() {
    for p in [Preset::V5_19, Preset::V6_2, Preset::V6_8] {
        let mut t = T::new(p);
        t.spawn("parent");
        t.ok(Action::CreateFile {
            name: "data".into(),
            fs: FsKind::Ext4,
            pages: 2,
            data: vec!["D0".into()],
        });
        t.mmap(
            "parent",
            "m",
            2,
            MmapArgs {
                file: Some("data".into()),
                write: true,
                ..Default::default()
            },
        );
        assert_eq!(t.read("parent", "m", 0), "D0");
        let pc = t.folio_id("parent", "m", 0);
        let flags = GupFlags {
            pin: true,
            write: false,
            longterm: true,
            fast: true,
            force: false,
        };
        t.gup("parent", "m", 0, 1, "lt", flags);
        let id = t.folio_id("parent", "m", 0);
        if p >= Preset::V6_2 {
            assert_ne!(id, pc, "{p}: anon copy");
            assert!(t.w().folio(id).is_anon());
            assert_eq!(t.w().folio(pc).refcount, 1, "{p}: page cache only");
        } else {
            assert_eq!(id, pc, "{p}");
            assert_eq!(t.w().folio(pc).refcount, 2 + BIAS);
        }
        assert_eq!(t.device_read("lt"), vec!["D0"]);
    }
}

#[test]
fn row12_short_term_pin_of_zero_page_is_pretend_from_6_5() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.read("parent", "buf", 0);
        t.pin("parent", "buf", 0, "ro", false);
        let zero = t.w().folio(ZERO_FOLIO).refcount;
        let acq = t.w().vmstat.nr_foll_pin_acquired;
        if p >= Preset::V6_5 {
            assert_eq!((zero, acq), (1, 0), "{p}");
        } else if p == Preset::V5_8 {
            // 5.8 breaks COW first: the pin lands on a fresh anon page.
            assert_eq!((zero, acq), (1, 1), "{p}");
        } else {
            assert_eq!((zero, acq), (1 + BIAS, 1), "{p}");
        }
        t.release("ro", false);
        assert_eq!(t.w().folio(ZERO_FOLIO).refcount, 1);
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, t.w().vmstat.nr_foll_pin_released);
    }
}

#[test]
fn row13_foll_get_adds_one_and_never_unshares() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let shared = t.folio_id("parent", "buf", 0);
        t.get("parent", "buf", 0, "ref", false);
        if p == Preset::V5_8 {
            assert_ne!(
                t.folio_id("parent", "buf", 0),
                shared,
                "5.8 breaks COW for FOLL_GET too"
            );
            continue;
        }
        assert_eq!(t.folio_id("parent", "buf", 0), shared, "{p}");
        let f = t.w().folio(shared);
        assert_eq!(f.refcount, 3, "{p}");
        assert!(!f.pages[0].anon_exclusive);
        assert!(!t.pte("parent", "buf", 0).is_writable());
        assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 0);
    }
}

#[test]
fn row14_unpin_small_and_large() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("p");
    t.anon("p", "small", 1);
    t.mmap(
        "p",
        "large",
        4,
        MmapArgs {
            write: true,
            order: 2,
            ..Default::default()
        },
    );
    t.write("p", "small", 0, "s");
    t.write("p", "large", 0, "l");
    let large = t.folio("p", "large", 0);
    assert_eq!(
        (large.order, large.refcount, large.pincount),
        (2, 4, 0),
        "4 PTEs map the order-2 folio"
    );
    t.gup("p", "large", 0, 4, "lp", pin_rw());
    t.pin("p", "small", 0, "sp", true);
    assert_eq!(t.folio("p", "small", 0).refcount, 1 + BIAS);
    let large = t.folio("p", "large", 0);
    assert_eq!(
        (large.refcount, large.pincount),
        (8, 4),
        "+1 ref and +1 pincount per page"
    );
    assert!(large.maybe_dma_pinned());
    assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 5);
    t.release("lp", false);
    t.release("sp", false);
    let large = t.folio("p", "large", 0);
    assert_eq!((large.refcount, large.pincount), (4, 0));
    assert_eq!(t.folio("p", "small", 0).refcount, 1);
    assert_eq!(t.w().vmstat.nr_foll_pin_released, 5);
}

#[test]
fn row15_unpin_dirty_marks_folio_dirty() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("p");
    t.ok(Action::CreateFile {
        name: "f".into(),
        fs: FsKind::Ext4,
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
    t.read("p", "m", 0);
    let id = t.folio_id("p", "m", 0);
    assert!(!t.w().folio(id).flags.dirty);
    t.gup(
        "p",
        "m",
        0,
        1,
        "ro",
        GupFlags {
            pin: true,
            ..Default::default()
        },
    );
    t.release("ro", true);
    assert!(t.w().folio(id).flags.dirty);
    assert_eq!(t.w().folio(id).refcount, 2, "page cache + PTE");
}

#[test]
fn row16_munmap_drops_mapping_and_frees_at_zero() {
    for p in Preset::ALL {
        let mut t = setup(p);
        t.write("parent", "buf", 0, "A");
        t.fork("parent", "child");
        let id = t.folio_id("parent", "buf", 0);
        t.ok(Action::Munmap {
            proc: "child".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
        });
        let f = t.w().folio(id);
        assert_eq!((f.refcount, f.page_mapcount(0)), (1, 1), "{p}");
        t.pin("parent", "buf", 0, "dma", true);
        t.ok(Action::Munmap {
            proc: "parent".into(),
            vma: "buf".into(),
            start: 0,
            pages: None,
        });
        let f = t.w().folio(id);
        assert!(!f.freed, "{p}: the pin keeps it alive");
        assert_eq!(f.refcount, BIAS);
        if p >= Preset::V5_19 {
            assert!(f.pages[0].anon_exclusive, "{p}: PageAnonExclusive stays");
        }
        t.release("dma", false);
        assert!(t.w().folio(id).freed, "{p}");
        assert_eq!(t.pte("parent", "buf", 0), Pte::None);
    }
}
