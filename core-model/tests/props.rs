//! Random action sequences under every preset: never panic, keep every
//! invariant after every micro-step, replay identically, and name only
//! kernel functions of the preset's release.

use pinlab_model::action::IterArgs;
use pinlab_model::direct_io::KernelIter;
use pinlab_model::iov_iter::IterKind;
use pinlab_model::*;
use proptest::prelude::*;

const PROCS: [&str; 4] = ["p0", "p1", "p2", "p3"];
const VMAS: [&str; 5] = ["anon", "thp", "shared", "private", "shm"];
const HOLDERS: [&str; 3] = ["h0", "h1", "ring"];

fn setup() -> Vec<Action> {
    let mm = |vma: &str, args: MmapArgs| Action::Mmap {
        proc: "p0".into(),
        vma: vma.into(),
        args,
    };
    vec![
        Action::Spawn { name: "p0".into() },
        Action::CreateFile {
            name: "file".into(),
            fs: FsKind::Ext4,
            pages: 4,
            data: vec!["F0".into(), "F1".into()],
        },
        // The direct-I/O and kernel-bio target of the I/O generator.
        Action::CreateFile {
            name: "disk.img".into(),
            fs: FsKind::Ext4,
            pages: 8,
            data: vec![],
        },
        Action::CreateFile {
            name: "tmp".into(),
            fs: FsKind::Tmpfs,
            pages: 2,
            data: vec![],
        },
        mm(
            "anon",
            MmapArgs {
                pages: 4,
                write: true,
                ..Default::default()
            },
        ),
        mm(
            "thp",
            MmapArgs {
                pages: 512,
                write: true,
                thp: true,
                ..Default::default()
            },
        ),
        mm(
            "shared",
            MmapArgs {
                pages: 4,
                write: true,
                shared: true,
                file: Some("file".into()),
                ..Default::default()
            },
        ),
        mm(
            "private",
            MmapArgs {
                pages: 4,
                write: true,
                file: Some("file".into()),
                ..Default::default()
            },
        ),
        mm(
            "shm",
            MmapArgs {
                pages: 4,
                write: true,
                shared: true,
                ..Default::default()
            },
        ),
        Action::Write {
            proc: "p0".into(),
            vma: "anon".into(),
            page: 0,
            data: "before-fork".into(),
            pages: None,
        },
        Action::Fork {
            parent: "p0".into(),
            child: "p1".into(),
        },
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let proc = prop_oneof![5 => Just("p0"), 3 => Just("p1"), 1 => Just("p2"), 1 => Just("p3")].prop_map(String::from);
    let child = prop::sample::select(&PROCS[1..]).prop_map(String::from);
    let vma = prop::sample::select(&VMAS[..]).prop_map(String::from);
    let holder = prop::sample::select(&HOLDERS[..]).prop_map(String::from);
    let page = 0u64..4;
    let flags = (any::<bool>(), any::<bool>(), 0u8..4, any::<bool>()).prop_map(|(pin, write, lt, fast)| GupFlags {
        pin: pin || lt == 0,
        write,
        longterm: lt == 0,
        fast,
        force: false,
    });
    let advice = prop::sample::select(vec![
        Advice::Dontfork,
        Advice::Dofork,
        Advice::Dontneed,
        Advice::Pageout,
        Advice::Hugepage,
        Advice::Collapse,
    ]);
    prop_oneof![
        4 => (proc.clone(), vma.clone(), page.clone(), 0u32..100)
            .prop_map(|(proc, vma, page, d)| Action::Write { proc, vma, page, data: (format!("d{d}")).into(), pages: None, }),
        2 => (proc.clone(), vma.clone(), page.clone()).prop_map(|(proc, vma, page)| Action::Read { proc, vma, page }),
        2 => (proc.clone(), child).prop_map(|(parent, child)| Action::Fork { parent, child }),
        3 => (proc.clone(), vma.clone(), page.clone(), 1u64..3, holder.clone(), flags, prop::sample::select(vec![1u64, 1, 2, 3]))
            .prop_map(|(proc, vma, start, pages, holder, flags, count)| Action::Gup { proc, vma, start, pages, holder, flags, count }),
        1 => (proc.clone(), vma.clone(), 0u64..2, 2u64..4, 0u32..100)
            .prop_map(|(proc, vma, page, n, d)| Action::Write { proc, vma, page, pages: Some(n), data: format!("r{d}").into() }),
        2 => (holder.clone(), any::<bool>()).prop_map(|(holder, dirty)| Action::Release { holder, dirty }),
        2 => (holder.clone(), 0u32..9).prop_map(|(holder, d)| Action::DeviceWrite { holder, data: format!("dma{d}"), index: None }),
        1 => holder.clone().prop_map(|holder| Action::DeviceRead { holder, index: None }),
        2 => (proc.clone(), vma.clone(), page.clone()).prop_map(|(proc, vma, start)| Action::Vmsplice { proc, vma, start, pages: 1, pipe: "pipe".into() }),
        1 => proc.clone().prop_map(|proc| Action::PipeRead { proc, pipe: "pipe".into() }),
        1 => (proc.clone(), vma.clone(), 0u64..4, 1u64..3).prop_map(|(proc, vma, start, n)| Action::Munmap { proc, vma, start, pages: Some(n) }),
        1 => (proc.clone(), vma.clone(), any::<bool>()).prop_map(|(proc, vma, write)| Action::Mprotect { proc, vma, start: 0, pages: None, write }),
        2 => (proc.clone(), vma.clone(), advice).prop_map(|(proc, vma, advice)| Action::Madvise { proc, vma, start: 0, pages: None, advice }),
        1 => (proc.clone(), vma.clone()).prop_map(|(proc, vma)| Action::IoUringRegister { proc, vma, start: 0, pages: 2, ring: "ring".into() }),
        1 => Just(Action::IoUringUnregister { ring: "ring".into() }),
        1 => proc.clone().prop_map(|proc| Action::Exit { proc }),
    ]
}

/// The I/O side: bios, writeback, reclaim, RDMA, kernel buffers, iterators.
fn io_action() -> impl Strategy<Value = Action> {
    let proc = prop_oneof![5 => Just("p0"), 3 => Just("p1"), 1 => Just("p2")].prop_map(String::from);
    let vma = prop::sample::select(&VMAS[..]).prop_map(String::from);
    let bio = prop::sample::select(vec!["b0", "b1", "wb-file-0", "wb-file-1", "wb-disk.img-0"]).prop_map(String::from);
    let file = prop::sample::select(vec!["file", "disk.img", "tmp"]).prop_map(String::from);
    let iter = prop::sample::select(vec![
        IterKind::Ubuf,
        IterKind::Iovec,
        IterKind::Bvec,
        IterKind::Kvec,
        IterKind::Xarray,
    ]);
    prop_oneof![
        3 => (proc.clone(), vma.clone(), 0u64..4, 0u64..6, bio.clone(), any::<bool>(), any::<bool>())
            .prop_map(|(proc, vma, start, offset, bio, write, wait)| if write {
                Action::DioWrite { proc, vma, start, pages: 1, file: "disk.img".into(), offset, bio, wait }
            } else {
                Action::DioRead { proc, vma, start, pages: 1, file: "disk.img".into(), offset, bio, wait }
            }),
        3 => bio.clone().prop_map(|bio| Action::BioComplete { bio }),
        1 => (bio, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(bio, bvec, write, wait)| Action::KernelBio {
            kbuf: "kb".into(),
            iter: if bvec { KernelIter::Bvec } else { KernelIter::Kvec },
            file: "disk.img".into(),
            offset: 0,
            write,
            bio,
            wait,
        }),
        1 => Just(Action::KbufFree { kbuf: "kb".into() }),
        1 => Just(Action::KbufAlloc { kbuf: "kb".into(), pages: 2 }),
        1 => (0u64..2).prop_map(|page| Action::KbufWrite { kbuf: "kb".into(), page, data: "k".into() }),
        2 => file.clone().prop_map(|file| Action::Writeback { file }),
        2 => file.clone().prop_map(|file| Action::Fsync { file }),
        2 => (1u64..12, 1u64..3).prop_map(|(scan, passes)| Action::Reclaim { scan, passes }),
        1 => (proc.clone(), vma.clone()).prop_map(|(proc, vma)| Action::Mlock { proc, vma, start: 0, pages: Some(2) }),
        2 => (proc.clone(), vma.clone(), 0u64..4, any::<bool>()).prop_map(|(proc, vma, start, write)| Action::RdmaRegMr { proc, vma, start, pages: 1, mr: "mr".into(), write }),
        1 => Just(Action::RdmaDeregMr { mr: "mr".into() }),
        1 => (0u32..5).prop_map(|d| Action::DeviceWrite { holder: "mr".into(), data: format!("rdma{d}"), index: None }),
        2 => (proc.clone(), vma, iter, any::<bool>(), any::<bool>(), 0u32..3).prop_map(|(proc, vma, iter, dest, extract, h)| {
            let args = IterArgs {
                iter,
                dest,
                proc: matches!(iter, IterKind::Ubuf | IterKind::Iovec).then_some(proc),
                vma: matches!(iter, IterKind::Ubuf | IterKind::Iovec).then_some(vma),
                kbuf: matches!(iter, IterKind::Bvec | IterKind::Kvec).then(|| "kb".to_string()),
                file: (iter == IterKind::Xarray).then(|| "file".to_string()),
                pipe: None,
                start: 0,
                pages: Some(1),
            };
            let holder = format!("it{h}");
            if extract { Action::IovIterExtractPages { iter: args, holder, count: 1, } } else { Action::IovIterGetPages2 { iter: args, holder, count: 1, } }
        }),
        1 => (0u32..3).prop_map(|h| Action::Release { holder: format!("it{h}"), dirty: true }),
        1 => (proc.clone(), file.clone(), 0u64..2).prop_map(|(proc, file, offset)| Action::WriteFile { proc, file, offset, data: vec!["bw".into()] }),
        1 => (proc, file).prop_map(|(proc, file)| Action::ReadFile { proc, file, offset: 0, pages: 2 }),
    ]
}

fn any_action() -> impl Strategy<Value = Action> {
    prop_oneof![3 => action(), 2 => io_action()]
}

fn whatif() -> impl Strategy<Value = WhatIf> {
    prop_oneof![
        4 => Just(WhatIf::default()),
        1 => (any::<bool>(), any::<bool>(), any::<bool>(), 0u8..3).prop_map(|(vm_nocow, unevictable_pins, bio_v7_modes, wb)| WhatIf {
            vm_nocow,
            unevictable_pins,
            bio_v7_modes,
            pinned_writeback: [PinnedWriteback::Usual, PinnedWriteback::Skip, PinnedWriteback::Bounce][wb as usize],
        }),
    ]
}

/// Runs the setup and the actions; returns the transcript and the final world.
fn run(preset: Preset, whatif: WhatIf, actions: &[Action]) -> (Vec<String>, World) {
    let mut sim = Sim::with_whatif(preset, whatif);
    sim.set_checks(Checks::Both);
    for a in setup() {
        sim.apply(&a).expect("setup");
    }
    let mut transcript = Vec::new();
    for a in actions {
        let before = sim.world().clone();
        let len = sim.len();
        match sim.apply(a) {
            Ok(out) => transcript.push(format!("{:?} -> {:?}", a.kind(), out.data)),
            Err(e) => {
                if sim.len() == len {
                    assert!(sim.world() == &before, "{a:?} failed but changed the world");
                } else {
                    // The kernel refused after doing something it keeps
                    // (Ctx::keep_on_failure): only with an errno, recorded as
                    // a failed action, and never leaving a holder behind.
                    assert!(e.errno().is_some(), "{a:?}: an invalid request recorded steps");
                    assert_eq!(sim.actions().last().and_then(|r| r.error.clone()), Some(e.clone()));
                    assert!(
                        sim.world().holders.keys().eq(before.holders.keys()),
                        "{a:?} failed but left a holder"
                    );
                }
                transcript.push(format!("{:?} -> {e}", a.kind()));
            }
        }
        assert!(
            sim.violations().is_empty(),
            "{preset}: after {a:?}: {:?}",
            &sim.violations()[..sim.violations().len().min(4)]
        );
    }
    // Every kernel function a micro-step names exists, in that file, in the
    // preset's release (assets/kernel-symbols.toml), and its sentence names
    // no function that release lacks.
    let table = symbols::SymbolTable::builtin();
    for e in sim.entries() {
        if !e.step.func.is_empty() {
            assert_eq!(table.check_step(e.step.func, e.step.path, preset), None, "{preset}");
        }
        let stale = table.missing_names_in(&e.step.text, preset);
        assert!(
            stale.is_empty(),
            "{preset}: {} names {stale:?}: {}",
            e.step.func,
            e.step.text
        );
        transcript.push(format!("{} {} {}", e.step.func, e.step.path, e.step.text));
    }
    let w = sim.world().clone();
    (transcript, w)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PINLAB_PROP_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64), ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_invariants_and_replay(
        preset in prop::sample::select(Preset::ALL.to_vec()),
        whatif in whatif(),
        actions in prop::collection::vec(any_action(), 1..40),
    ) {
        let (t1, w1) = run(preset, whatif, &actions);
        let (t2, w2) = run(preset, whatif, &actions);
        prop_assert_eq!(t1, t2);
        prop_assert!(w1 == w2);
    }
}

#[test]
fn time_travel_returns_identical_worlds() {
    let mut sim = Sim::new(Preset::V5_19);
    for a in setup() {
        sim.apply(&a).unwrap();
    }
    let snap: Vec<World> = sim.entries().iter().map(|e| e.world.clone()).collect();
    sim.seek(2);
    assert!(sim.world() == &snap[2]);
    sim.seek(usize::MAX);
    assert_eq!(sim.cursor(), snap.len() - 1);
    // A new action after going back drops the future (a new branch).
    sim.seek(3);
    let n_actions = sim.actions().iter().filter(|a| a.end <= 4).count();
    sim.apply(&Action::Spawn { name: "x".into() }).unwrap();
    assert_eq!(sim.actions().len(), n_actions + 1);
}

#[test]
fn random_sequences_mostly_do_something() {
    // Guard against a generator whose actions all fail: then the property
    // above would test nothing.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut total, mut hazards) = (0, 0, 0);
    for _ in 0..40 {
        let actions = prop::collection::vec(action(), 30)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut sim = Sim::new(Preset::ALL[total % Preset::ALL.len()]);
        for a in setup() {
            sim.apply(&a).unwrap();
        }
        for a in &actions {
            total += 1;
            match sim.apply(a) {
                Ok(_) => ok += 1,
                Err(e) if std::env::var("PROPS_DEBUG").is_ok() => eprintln!("{}: {e}", a.kind()),
                Err(_) => {}
            }
        }
        hazards += sim.world().hazards.len();
    }
    eprintln!("{ok} of {total} random actions succeeded, {hazards} hazards");
    assert!(ok * 5 > total * 2, "only {ok} of {total} random actions succeeded");
}

#[test]
fn random_io_sequences_mostly_do_something() {
    // The same guard for the I/O half of the generator (bios, writeback,
    // reclaim, RDMA, iterators, buffered I/O).
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut total) = (0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let actions = prop::collection::vec(io_action(), 30)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut sim = Sim::new(Preset::ALL[total % Preset::ALL.len()]);
        for a in setup() {
            sim.apply(&a).unwrap();
        }
        for a in &actions {
            total += 1;
            match sim.apply(a) {
                Ok(_) => {
                    ok += 1;
                    kinds.insert(a.kind());
                }
                Err(e) if std::env::var("PROPS_DEBUG").is_ok() => eprintln!("{}: {e}", a.kind()),
                Err(_) => {}
            }
        }
    }
    eprintln!("{ok} of {total} random I/O actions succeeded, kinds: {kinds:?}");
    assert!(ok * 5 > total * 2, "only {ok} of {total} random I/O actions succeeded");
    assert!(kinds.len() >= 8, "only {kinds:?} ever succeeded");
}
