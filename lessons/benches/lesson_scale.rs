//! How running a lesson scales: generated lessons of 10^3, 10^4 and 10^5
//! small steps (stores, loads, pins and unpins, device writes on random pages)
//! on a populated world of 64 MiB, 256 MiB and 1 GiB, with the model's
//! invariants checked after every micro-step (incrementally, as lessons run).
//! Prints the time per run, the time per step once the world is set up, and
//! the memory the run's history holds. Run with `cargo bench -p pinlab-lessons`
//! (`PINLAB_BENCH_QUICK=1` stops at 10^4 steps).

use criterion::Criterion;
use pinlab_lessons::load_str;
use pinlab_lessons::run::run_report;
use pinlab_model::Preset;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size() as isize, Ordering::Relaxed) + l.size() as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let now =
            LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed) + new as isize - l.size() as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// 4 KiB pages: 64 MiB, 256 MiB, 1 GiB.
const SIZES: [u64; 3] = [16_384, 65_536, 262_144];

/// A lesson: a process with `pages` populated pages, then `steps` random
/// small actions.
pub fn generated(pages: u64, steps: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = String::from(
        "id = \"scale\"\ntitle = \"Scale\"\nsummary = \"s\"\nobjectives = [\"o\"]\nkernels = [\"6.18\"]\n\
         [[step]]\ndo = \"spawn\"\nname = \"p\"\n",
    );
    t.push_str(&format!(
        "[[step]]\ndo = \"mmap\"\nproc = \"p\"\nvma = \"buf\"\npages = {pages}\nwrite = true\npopulate = true\n"
    ));
    let mut holder: Option<u64> = None;
    for i in 0..steps {
        let page = rng.next_u64() % pages;
        let step = match (rng.next_u64() % 5, holder) {
            (0, _) => format!("do = \"write\"\nat = \"p:buf[{page}]\"\ndata = \"d{i}\""),
            (1, _) => format!("do = \"read\"\nat = \"p:buf[{page}]\""),
            (2, None) => {
                holder = Some(page);
                format!("do = \"gup\"\nat = \"p:buf[{page}]\"\nholder = \"h\"\npin = true\nwrite = true\nfast = true")
            }
            (3, Some(_)) => format!("do = \"device_write\"\nholder = \"h\"\ndata = \"dma{i}\""),
            (_, Some(_)) => {
                holder = None;
                "do = \"release\"\nholder = \"h\"\ndirty = true".to_string()
            }
            _ => format!("do = \"write\"\nat = \"p:buf[{page}]\"\ndata = \"d{i}\""),
        };
        t.push_str("[[step]]\n");
        t.push_str(&step);
        t.push('\n');
    }
    t
}

fn mib(pages: u64) -> u64 {
    (pages * 4096) >> 20
}

/// Seconds to run the lesson, and the peak heap bytes during the run.
fn timed_run(text: &str) -> (f64, isize, usize) {
    let l = load_str("scale.toml", text).expect("generated lesson loads");
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t0 = Instant::now();
    let r = run_report(&l, Preset::V6_18, None);
    let secs = t0.elapsed().as_secs_f64();
    assert!(r.passed, "the generated lesson fails");
    assert_eq!(r.model_bugs, 0);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let micro = r.steps.last().map_or(0, |s| s.end_entry);
    drop(r);
    (secs, peak, micro)
}

fn table() {
    let quick = std::env::var("PINLAB_BENCH_QUICK").is_ok();
    let step_counts: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    println!("\nlesson scale (incremental invariant checks on), one run each:");
    println!(
        "{:>8} {:>8} {:>10} {:>12} {:>14} {:>10}",
        "world", "steps", "run (s)", "setup (s)", "per step (us)", "peak MiB"
    );
    for &pages in &SIZES {
        let (setup, _, _) = timed_run(&generated(pages, 0, 1));
        for &steps in step_counts {
            let (secs, peak, _micro) = timed_run(&generated(pages, steps, 1));
            println!(
                "{:>5} MiB {:>8} {:>10.2} {:>12.2} {:>14.1} {:>10.0}",
                mib(pages),
                steps,
                secs,
                setup,
                (secs - setup) * 1e6 / steps as f64,
                peak as f64 / (1 << 20) as f64
            );
        }
    }
}

fn criterion_small(c: &mut Criterion) {
    let mut g = c.benchmark_group("lesson 1000 steps");
    g.sample_size(10);
    for pages in [16_384u64, 262_144] {
        let l = load_str("scale.toml", &generated(pages, 1_000, 7)).expect("loads");
        g.bench_function(format!("{} MiB world", mib(pages)), |b| {
            b.iter(|| run_report(&l, Preset::V6_18, None))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    criterion_small(&mut c);
    c.final_summary();
    table();
}
