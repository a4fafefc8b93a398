//! Scale benchmarks of the model (issue targets on a 2-core machine):
//! pin then unpin every page of a buffer, fork of a populated process, and
//! the memory history keeps per micro-step. Four sizes up to 1 GiB show that
//! cost is linear. Run with `cargo bench -p pinlab-model`.
//!
//! It starts with a table: each piece of work in the model with invariant
//! checks on (as every lesson, the app and the probe run it) and off, next
//! to the same work done for real by this machine's kernel (real_kernel/),
//! and the ratio model / kernel. `PINLAB_BENCH_TABLE_ONLY=1` prints the
//! table alone; `PINLAB_BENCH_REPS=N` sets its runs per cell (median).

mod real_kernel;

use criterion::{BatchSize, Criterion, criterion_group};
use pinlab_model::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes so the history's memory can be measured exactly.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// 4 KiB pages: 64 MiB, 256 MiB, 512 MiB, 1 GiB.
const SIZES: [u64; 4] = [16_384, 65_536, 131_072, 262_144];

fn populated(pages: u64) -> Sim {
    populated_checked(pages, false)
}

fn populated_checked(pages: u64, checks: bool) -> Sim {
    let mut sim = Sim::new(Preset::NEWEST);
    sim.set_check_invariants(checks);
    sim.apply(&Action::Spawn { name: "p".into() }).unwrap();
    let args = MmapArgs {
        pages,
        write: true,
        populate: true,
        ..Default::default()
    };
    sim.apply(&Action::Mmap {
        proc: "p".into(),
        vma: "buf".into(),
        args,
    })
    .unwrap();
    sim
}

fn pin_all(pages: u64) -> Action {
    Action::Gup {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages,
        holder: "dio".into(),
        flags: GupFlags {
            pin: true,
            write: true,
            longterm: false,
            fast: true,
            force: false,
        },
        count: 1,
    }
}

fn mib(pages: u64) -> u64 {
    pages * 4 / 1024
}

fn dio_read_all(pages: u64) -> Action {
    Action::DioRead {
        proc: "p".into(),
        vma: "buf".into(),
        start: 0,
        pages,
        file: "disk.img".into(),
        offset: 0,
        bio: "io".into(),
        wait: true,
    }
}

fn with_disk_file(mut sim: Sim, pages: u64, fs: FsKind) -> Sim {
    sim.apply(&Action::CreateFile {
        name: "disk.img".into(),
        fs,
        pages,
        data: vec![],
    })
    .unwrap();
    sim
}

/// The median time of `actions` applied to a fresh clone of `sim`.
fn model_time(sim: &Sim, actions: &[Action], reps: usize) -> Duration {
    real_kernel::median(reps, || {
        let mut s = sim.clone();
        let start = Instant::now();
        for a in actions {
            s.apply(a).unwrap();
        }
        let took = start.elapsed();
        black_box(&s);
        Some(took)
    })
    .expect("the model's runs always give a time")
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn cell(d: Option<Duration>) -> String {
    d.map_or("-".into(), ms)
}

fn ratio(model: Duration, kernel: Option<Duration>) -> String {
    kernel.map_or("-".into(), |k| format!("{:.2}", model.as_secs_f64() / k.as_secs_f64()))
}

/// Model (checks on, checks off) beside the kernel, in milliseconds
/// (medians), with the ratio model / kernel for each.
fn side_by_side_with_the_kernel() {
    let reps = std::env::var("PINLAB_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let release = real_kernel::release().unwrap_or_else(|| "not Linux: no kernel column".into());
    println!("\nthe model beside this machine's kernel ({release}), medians of {reps} runs, ms:");
    println!(
        "  {:<28} {:>8} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8}",
        "work", "size", "model on", "model off", "kernel", "on/k", "off/k", "on/off"
    );
    // PINLAB_BENCH_MIB=256 and PINLAB_BENCH_WORK=fork narrow the table (for
    // a profiler: perf record on one row).
    let only_mib: Option<u64> = std::env::var("PINLAB_BENCH_MIB").ok().and_then(|v| v.parse().ok());
    let only_work = std::env::var("PINLAB_BENCH_WORK").unwrap_or_default();
    for pages in SIZES.into_iter().filter(|p| only_mib.is_none_or(|m| mib(*p) == m)) {
        // The kernel first, while this process is small: fork copies every
        // page table of the bench itself, and the model's worlds are large.
        let kernel = real_kernel::measure(pages, reps);
        let size = format!("{} MiB", mib(pages));
        let rows: [(&str, Sim, Vec<Action>, Option<Duration>); 4] = [
            (
                "io_uring register, unregister",
                populated_checked(pages, true),
                vec![
                    Action::IoUringRegister {
                        proc: "p".into(),
                        vma: "buf".into(),
                        start: 0,
                        pages,
                        ring: "ring".into(),
                    },
                    Action::IoUringUnregister { ring: "ring".into() },
                ],
                kernel.pin_unpin,
            ),
            (
                "fork, buffer populated",
                populated_checked(pages, true),
                vec![Action::Fork {
                    parent: "p".into(),
                    child: "c".into(),
                }],
                kernel.fork,
            ),
            (
                "O_DIRECT read, ext4",
                with_disk_file(populated_checked(pages, true), pages, FsKind::Ext4),
                vec![dio_read_all(pages)],
                kernel.dio_ext4,
            ),
            (
                "O_DIRECT read, tmpfs",
                with_disk_file(populated_checked(pages, true), pages, FsKind::Tmpfs),
                vec![dio_read_all(pages)],
                kernel.dio_tmpfs,
            ),
        ];
        for (work, mut sim, actions, kernel) in rows.into_iter().filter(|r| r.0.contains(only_work.as_str())) {
            let on = model_time(&sim, &actions, reps);
            sim.set_check_invariants(false);
            let off = model_time(&sim, &actions, reps);
            println!(
                "  {work:<28} {size:>8} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8.2}",
                ms(on),
                ms(off),
                cell(kernel),
                ratio(on, kernel),
                ratio(off, kernel),
                on.as_secs_f64() / off.as_secs_f64()
            );
        }
    }
    println!();
}

fn pin_unpin(c: &mut Criterion) {
    let mut g = c.benchmark_group("pin_then_unpin");
    g.sample_size(10);
    for pages in SIZES {
        let sim = populated(pages);
        g.bench_function(format!("{} MiB ({pages} pages)", mib(pages)), |b| {
            b.iter_batched(
                || sim.clone(),
                |mut s| {
                    s.apply(&pin_all(pages)).unwrap();
                    s.apply(&Action::Release {
                        holder: "dio".into(),
                        dirty: true,
                    })
                    .unwrap();
                    black_box(s)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn fork(c: &mut Criterion) {
    let mut g = c.benchmark_group("fork_populated_anon");
    g.sample_size(10);
    for pages in SIZES {
        let sim = populated(pages);
        g.bench_function(format!("{} MiB ({pages} pages)", mib(pages)), |b| {
            b.iter_batched(
                || sim.clone(),
                |mut s| {
                    s.apply(&Action::Fork {
                        parent: "p".into(),
                        child: "c".into(),
                    })
                    .unwrap();
                    black_box(s)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn dio_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("o_direct_read_complete");
    g.sample_size(10);
    for pages in SIZES {
        let mut sim = populated(pages);
        sim.apply(&Action::CreateFile {
            name: "disk.img".into(),
            fs: FsKind::Ext4,
            pages,
            data: vec![],
        })
        .unwrap();
        g.bench_function(format!("{} MiB ({pages} pages)", mib(pages)), |b| {
            b.iter_batched(
                || sim.clone(),
                |mut s| {
                    s.apply(&dio_read_all(pages)).unwrap();
                    black_box(s)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Bytes of history added per micro-step by small actions (stores, pins,
/// unpins, reads, one page each) on a world of `pages` populated pages.
fn history_bytes_per_step(pages: u64) -> (f64, usize) {
    let mut sim = populated(pages);
    let steps_before = sim.len();
    let live_before = LIVE.load(Ordering::Relaxed);
    for i in 0..200u64 {
        let page = (i * 7919) % pages;
        sim.apply(&Action::Write {
            proc: "p".into(),
            vma: "buf".into(),
            page,
            data: (format!("w{i}")).into(),
            pages: None,
        })
        .unwrap();
        let holder = format!("h{i}");
        let flags = GupFlags {
            pin: true,
            write: true,
            ..Default::default()
        };
        sim.apply(&Action::Gup {
            proc: "p".into(),
            vma: "buf".into(),
            start: page,
            pages: 1,
            holder: holder.clone(),
            flags,
            count: 1,
        })
        .unwrap();
        sim.apply(&Action::Release { holder, dirty: false }).unwrap();
        sim.apply(&Action::Read {
            proc: "p".into(),
            vma: "buf".into(),
            page,
        })
        .unwrap();
    }
    let added = LIVE.load(Ordering::Relaxed) - live_before;
    let steps = sim.len() - steps_before;
    black_box(&sim);
    (added as f64 / steps as f64, steps)
}

fn history(_: &mut Criterion) {
    println!("\nhistory memory per micro-step (small actions on a populated world):");
    for pages in SIZES {
        let (bytes, steps) = history_bytes_per_step(pages);
        println!(
            "  {:>5} MiB world: {bytes:>7.0} bytes per micro-step over {steps} micro-steps",
            mib(pages)
        );
    }
    let sim = populated(SIZES[3]);
    let live_before = LIVE.load(Ordering::Relaxed);
    let mut s = sim.clone();
    s.apply(&pin_all(SIZES[3])).unwrap();
    let added = LIVE.load(Ordering::Relaxed) - live_before;
    println!(
        "  pinning all of 1 GiB adds {:.1} MiB of history ({} micro-steps)\n",
        added as f64 / 1048576.0,
        s.len() - sim.len()
    );
}

criterion_group!(benches, pin_unpin, fork, dio_read, history);

fn main() {
    side_by_side_with_the_kernel();
    if std::env::var_os("PINLAB_BENCH_TABLE_ONLY").is_some() {
        return;
    }
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
