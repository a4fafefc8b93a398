//! Bad input returns a clear error and changes nothing.

mod common;
use common::*;
use pinlab_model::*;

fn base() -> T {
    let mut t = T::new(Preset::NEWEST);
    t.spawn("p");
    t.anon("p", "buf", 4);
    t.mmap("p", "ro", 1, MmapArgs::default());
    t
}

fn invalid_text(e: ActionError) -> String {
    match e {
        ActionError::Invalid(s) => s,
        other => panic!("expected an invalid-request error, got {other}"),
    }
}

#[test]
fn unknown_names_are_invalid_requests() {
    let mut t = base();
    let before = t.w().clone();
    let e = t.err(Action::Read {
        proc: "nobody".into(),
        vma: "buf".into(),
        page: 0,
    });
    assert!(invalid_text(e).contains("no process named 'nobody'"));
    let e = t.err(Action::Read {
        proc: "p".into(),
        vma: "nope".into(),
        page: 0,
    });
    assert!(invalid_text(e).contains("no mapping named 'nope'"));
    let e = t.err(Action::Release {
        holder: "ghost".into(),
        dirty: false,
    });
    assert!(invalid_text(e).contains("no holder named 'ghost'"));
    let e = t.err(Action::PipeRead {
        proc: "p".into(),
        pipe: "none".into(),
    });
    assert!(invalid_text(e).contains("no pipe named 'none'"));
    let e = t.err(Action::Fork {
        parent: "p".into(),
        child: "p".into(),
    });
    assert!(invalid_text(e).contains("already used"));
    assert_eq!(t.w(), &before);
}

#[test]
fn page_out_of_range_and_huge_numbers() {
    let mut t = base();
    let before = t.w().clone();
    let e = t.err(Action::Write {
        proc: "p".into(),
        vma: "buf".into(),
        page: 4,
        data: "x".into(),
        pages: None,
    });
    assert_eq!(invalid_text(e), "p:buf[4] is out of range: 'buf' has 4 pages");
    let e = t.err(Action::Read {
        proc: "p".into(),
        vma: "buf".into(),
        page: u64::MAX,
    });
    assert!(invalid_text(e).contains("out of range"));
    let gup = |start, pages| Action::Gup {
        proc: "p".into(),
        vma: "buf".into(),
        start,
        pages,
        holder: "h".into(),
        flags: GupFlags::default(),
        count: 1,
    };
    assert!(invalid_text(t.err(gup(2, u64::MAX))).contains("overflows"));
    assert!(invalid_text(t.err(gup(0, 0))).contains("0 pages"));
    let e = t.err(Action::Mmap {
        proc: "p".into(),
        vma: "big".into(),
        args: MmapArgs {
            pages: u64::MAX,
            ..Default::default()
        },
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM));
    let e = t.err(Action::CreateFile {
        name: "f".into(),
        fs: FsKind::Ext4,
        pages: 0,
        data: vec![],
    });
    assert!(invalid_text(e).contains("0 pages"));
    assert_eq!(t.w(), &before);
}

#[test]
fn unmapped_and_forbidden_accesses_fail_like_the_kernel() {
    let mut t = base();
    t.write("p", "buf", 0, "A");
    t.ok(Action::Munmap {
        proc: "p".into(),
        vma: "buf".into(),
        start: 1,
        pages: Some(2),
    });
    let before = t.w().clone();
    let e = t.err(Action::Read {
        proc: "p".into(),
        vma: "buf".into(),
        page: 1,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT));
    assert_eq!(t.w(), &before, "a refused read changes nothing");
    // A pin over a hole fails as a whole and takes nothing, but
    // mm_set_has_pinned_flag ran before check_vma_flags: the flag stays.
    let before_pin = t.w().clone();
    let (e, kept) = t.err_keeping(Action::Gup {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: 4,
        holder: "h".into(),
        flags: GupFlags {
            pin: true,
            ..Default::default()
        },
        count: 1,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT));
    assert_eq!(kept, 1, "only mm_set_has_pinned_flag's step is kept");
    let pid = t.w().pid_of("p").unwrap();
    assert!(t.w().proc(pid).mm.has_pinned && !before_pin.proc(pid).mm.has_pinned);
    assert_eq!(t.w().vmstat, before_pin.vmstat, "no pin was counted");
    assert!(t.w().holders.is_empty());
    let before = t.w().clone();
    let e = t.err(Action::Write {
        proc: "p".into(),
        vma: "ro".into(),
        page: 0,
        data: "x".into(),
        pages: None,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT));
    let e = t.err(Action::Gup {
        proc: "p".into(),
        vma: "ro".into(),
        start: 0,
        pages: 1,
        holder: "h".into(),
        flags: GupFlags {
            pin: true,
            write: true,
            ..Default::default()
        },
        count: 1,
    });
    assert_eq!(e.errno(), Some(Errno::EFAULT));
    let e = t.err(Action::Gup {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        holder: "h".into(),
        flags: GupFlags {
            pin: false,
            longterm: true,
            ..Default::default()
        },
        count: 1,
    });
    assert_eq!(e.errno(), Some(Errno::EINVAL), "FOLL_LONGTERM needs FOLL_PIN");
    let e = t.err(Action::Madvise {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages: None,
        advice: Advice::Dontfork,
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM), "madvise over a hole");
    let e = t.err(Action::Mmap {
        proc: "p".into(),
        vma: "l".into(),
        args: MmapArgs {
            pages: 4,
            order: 1,
            ..Default::default()
        },
    });
    assert_eq!(e.errno(), Some(Errno::EINVAL));
    assert_eq!(t.w(), &before);
}

#[test]
fn device_write_through_read_only_holder_is_refused() {
    let mut t = base();
    t.write("p", "buf", 0, "A");
    t.pin("p", "buf", 0, "ro", false);
    let before = t.w().clone();
    let e = t.err(Action::DeviceWrite {
        holder: "ro".into(),
        data: "x".into(),
        index: None,
    });
    assert!(invalid_text(e).contains("without FOLL_WRITE"));
    let e = t.err(Action::DeviceRead {
        holder: "ro".into(),
        index: Some(7),
    });
    assert!(invalid_text(e).contains("out of range"));
    assert_eq!(t.w(), &before);
}

#[test]
fn mthp_only_from_6_8() {
    let mut t = T::new(Preset::V6_5);
    t.spawn("p");
    let e = t.err(Action::Mmap {
        proc: "p".into(),
        vma: "l".into(),
        args: MmapArgs {
            pages: 4,
            order: 2,
            ..Default::default()
        },
    });
    assert_eq!(e.errno(), Some(Errno::EINVAL));
}

/// The world has a page budget across everything it holds: forty 16 GiB
/// mappings fail at the second with ENOMEM, and so does a fork that would
/// double a world already at half the budget; nothing changes.
#[test]
fn the_world_page_budget_bounds_mappings_files_buffers_and_forks() {
    use pinlab_model::world::MAX_WORLD_PAGES;
    let mut t = T::new(Preset::NEWEST);
    t.spawn("p");
    let big = |vma: &str| Action::Mmap {
        proc: "p".into(),
        vma: vma.into(),
        args: MmapArgs {
            pages: MAX_WORLD_PAGES,
            write: true,
            ..Default::default()
        },
    };
    t.ok(big("m0"));
    let e = t.err(big("m1"));
    assert_eq!(e.errno(), Some(Errno::ENOMEM), "{e}");
    assert!(e.to_string().contains("at most 4194304 pages"), "{e}");
    let e = t.err(Action::CreateFile {
        name: "f".into(),
        fs: FsKind::Ext4,
        pages: 1,
        data: vec![],
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM));
    let e = t.err(Action::KbufAlloc {
        kbuf: "k".into(),
        pages: 1,
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM));
    t.ok(Action::Munmap {
        proc: "p".into(),
        vma: "m0".into(),
        start: 0,
        pages: None,
    });
    t.ok(Action::Mmap {
        proc: "p".into(),
        vma: "half".into(),
        args: MmapArgs {
            pages: MAX_WORLD_PAGES / 2 + 1,
            write: true,
            ..Default::default()
        },
    });
    let e = t.err(Action::Fork {
        parent: "p".into(),
        child: "c".into(),
    });
    assert_eq!(e.errno(), Some(Errno::ENOMEM));
}
