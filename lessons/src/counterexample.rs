//! Find a counterexample: random action sequences under a preset and toggles
//! until one raises a chosen hazard, then shrunk (delta debugging, one step
//! at a time) to a sequence from which no single step can be removed without
//! losing the hazard. The result is a lesson, so it opens in the app and
//! `pinlab run` replays it.

use crate::load::load_str;
use crate::run::{Report, run_report};
use pinlab_model::{HazardKind, Preset, WhatIf};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// One page is enough for every hazard the model knows, and keeps the search small.
const PAGES: u64 = 1;

/// A found sequence: each step's TOML (the lines after `[[step]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub steps: Vec<String>,
    /// Sequences tried before this one.
    pub tries: u32,
    /// Length before shrinking.
    pub original_len: usize,
}

/// What the generator knows of the state, so that it proposes steps that can
/// succeed (the model still decides; failing steps are dropped).
#[derive(Default)]
struct Shape {
    forked: bool,
    child_alive: bool,
    mapped: [bool; 2],
    pipe_full: bool,
    holder: Option<bool>,
}

fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

/// One random step over a small world (two processes, one mapping, a pipe,
/// a GUP holder and a device), among those that make sense now.
fn random_step(rng: &mut ChaCha8Rng, st: &mut Shape, n: usize) -> Option<String> {
    let tag = format!("d{n}");
    let mut options: Vec<(String, u8)> = Vec::new();
    for (i, who) in ["p", "c"].iter().enumerate() {
        let alive = i == 0 || st.child_alive;
        if !alive {
            continue;
        }
        if st.mapped[i] {
            options.push((format!("do = \"write\"\nat = \"{who}:buf[0]\"\ndata = \"{tag}\""), 0));
            options.push((format!("do = \"read\"\nat = \"{who}:buf[0]\""), 0));
            options.push((
                format!("do = \"vmsplice\"\nproc = \"{who}\"\nvma = \"buf\"\npipe = \"q\""),
                1,
            ));
            options.push((format!("do = \"munmap\"\nproc = \"{who}\"\nvma = \"buf\""), 2 + i as u8));
            if st.holder.is_none() {
                let pin = below(rng, 2) == 1;
                options.push((
                    format!("do = \"gup\"\nproc = \"{who}\"\nvma = \"buf\"\nholder = \"h\"\npin = {pin}\nwrite = true"),
                    4,
                ));
            }
        }
        if st.pipe_full {
            options.push((format!("do = \"pipe_read\"\nproc = \"{who}\"\npipe = \"q\""), 5));
        }
    }
    if !st.forked {
        options.push(("do = \"fork\"\nparent = \"p\"\nchild = \"c\"".into(), 6));
    }
    if st.child_alive {
        options.push(("do = \"exit\"\nproc = \"c\"".into(), 7));
    }
    if st.holder.is_some() {
        options.push((format!("do = \"device_write\"\nholder = \"h\"\ndata = \"{tag}\""), 0));
        options.push(("do = \"device_read\"\nholder = \"h\"".into(), 0));
        options.push((
            format!("do = \"release\"\nholder = \"h\"\ndirty = {}", below(rng, 2) == 1),
            8,
        ));
    }
    if options.is_empty() {
        return None; // nothing left to do: everything unmapped and exited
    }
    let (text, effect) = options[below(rng, options.len() as u64) as usize].clone();
    match effect {
        1 => st.pipe_full = true,
        2 => st.mapped[0] = false,
        3 => st.mapped[1] = false,
        4 => st.holder = Some(true),
        5 => st.pipe_full = false,
        6 => {
            st.forked = true;
            st.child_alive = true;
            st.mapped[1] = st.mapped[0];
        }
        7 => {
            st.child_alive = false;
            st.mapped[1] = false;
        }
        8 => st.holder = None,
        _ => {}
    }
    Some(text)
}

/// Every sequence starts from a process with a written private mapping.
fn prologue() -> Vec<String> {
    vec![
        "do = \"spawn\"\nname = \"p\"".into(),
        format!("do = \"mmap\"\nproc = \"p\"\nvma = \"buf\"\npages = {PAGES}\nwrite = true"),
    ]
}

pub fn lesson_text(title: &str, preset: Preset, whatif: WhatIf, steps: &[String]) -> String {
    let toggles: Vec<String> = whatif.names().iter().map(|n| format!("{n:?}")).collect();
    let mut t = format!(
        "id = \"sandbox\"\ntitle = {title:?}\nsummary = \"Made in the sandbox.\"\nobjectives = [\"Replay what was tried.\"]\nkernels = [\"{}\"]\n",
        preset.name()
    );
    if !toggles.is_empty() {
        t.push_str(&format!("whatif = [{}]\n", toggles.join(", ")));
    }
    for s in steps {
        t.push_str("\n[[step]]\n");
        t.push_str(s);
        t.push('\n');
    }
    t
}

fn run(preset: Preset, whatif: WhatIf, steps: &[String]) -> Option<Report> {
    let l = load_str(
        "<counterexample>",
        &lesson_text("Counterexample", preset, whatif, steps),
    )
    .ok()?;
    Some(run_report(&l, preset, None))
}

/// Does the sequence raise `hazard`, with every step succeeding?
fn shows(preset: Preset, whatif: WhatIf, steps: &[String], hazard: HazardKind) -> bool {
    run(preset, whatif, steps).is_some_and(|r| {
        r.steps.iter().all(|s| s.result.is_ok())
            && r.steps
                .iter()
                .any(|s| s.hazards.iter().any(|h| h.kind == hazard.name()))
    })
}

/// Where a search stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Searching {
        tried: u32,
    },
    Found(Found),
    /// Every try used, no hit.
    Exhausted {
        tried: u32,
    },
    /// A sequence made the model break its own invariants: a bug in pinlab,
    /// reported with the sequence that shows it.
    ModelBug {
        steps: Vec<String>,
        bug: String,
    },
}

/// A search that runs a slice of tries at a time, so that a GUI stays live.
pub struct Search {
    preset: Preset,
    whatif: WhatIf,
    hazard: HazardKind,
    rng: ChaCha8Rng,
    tries: u32,
    tried: u32,
    max_len: usize,
}

impl Search {
    pub fn new(preset: Preset, whatif: WhatIf, hazard: HazardKind, seed: u64, tries: u32, max_len: usize) -> Search {
        Search {
            preset,
            whatif,
            hazard,
            rng: ChaCha8Rng::seed_from_u64(seed),
            tries,
            tried: 0,
            max_len,
        }
    }

    pub fn tries(&self) -> u32 {
        self.tries
    }

    /// Runs up to `n` more tries; a hit is shrunk before it is returned.
    pub fn advance(&mut self, n: u32) -> Progress {
        let (preset, whatif, hazard) = (self.preset, self.whatif, self.hazard);
        let stop = self.tried.saturating_add(n).min(self.tries);
        while self.tried < stop {
            self.tried += 1;
            let rng = &mut self.rng;
            let mut steps = prologue();
            let len = 2 + below(rng, self.max_len.max(3) as u64 - 1) as usize;
            let mut shape = Shape {
                mapped: [true, false],
                ..Default::default()
            };
            for i in 0..len {
                match random_step(rng, &mut shape, i) {
                    Some(s) => steps.push(s),
                    None => break,
                }
            }
            let Some(r) = run(preset, whatif, &steps) else { continue };
            if let Some(bug) = r.steps.iter().flat_map(|s| s.model_bugs.iter()).next() {
                return Progress::ModelBug {
                    steps,
                    bug: bug.clone(),
                };
            }
            // Keep the prefix up to the first hazard of that kind, minus failed steps.
            let Some(at) = r
                .steps
                .iter()
                .position(|s| s.hazards.iter().any(|h| h.kind == hazard.name()))
            else {
                continue;
            };
            let kept: Vec<String> = steps[..=at]
                .iter()
                .zip(&r.steps)
                .filter(|(_, s)| s.result.is_ok())
                .map(|(st, _)| st.clone())
                .collect();
            if !shows(preset, whatif, &kept, hazard) {
                continue;
            }
            let original_len = kept.len();
            return Progress::Found(Found {
                steps: shrink(preset, whatif, hazard, kept),
                tries: self.tried,
                original_len,
            });
        }
        if self.tried >= self.tries {
            Progress::Exhausted { tried: self.tried }
        } else {
            Progress::Searching { tried: self.tried }
        }
    }
}

/// Searches up to `tries` random sequences of up to `max_len` steps. Err: a
/// sequence broke the model's invariants (the bug, then the sequence).
pub fn search(
    preset: Preset,
    whatif: WhatIf,
    hazard: HazardKind,
    seed: u64,
    tries: u32,
    max_len: usize,
) -> Result<Option<Found>, String> {
    let mut s = Search::new(preset, whatif, hazard, seed, tries, max_len);
    loop {
        match s.advance(1000) {
            Progress::Found(f) => return Ok(Some(f)),
            Progress::Exhausted { .. } => return Ok(None),
            Progress::ModelBug { steps, bug } => return Err(format!("{bug}\n{}", steps.join("\n--\n"))),
            Progress::Searching { .. } => {}
        }
    }
}

/// Removes steps one at a time (from the end) while the hazard still shows,
/// until no single removal keeps it: a 1-minimal sequence.
pub fn shrink(preset: Preset, whatif: WhatIf, hazard: HazardKind, mut steps: Vec<String>) -> Vec<String> {
    loop {
        let mut removed = false;
        for i in (0..steps.len()).rev() {
            let mut shorter = steps.clone();
            shorter.remove(i);
            if shows(preset, whatif, &shorter, hazard) {
                steps = shorter;
                removed = true;
            }
        }
        if !removed {
            return steps;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_leak_under_5_7_and_shrinks_it_to_a_minimal_sequence() {
        let w = WhatIf::default();
        let found = search(Preset::V5_7, w, HazardKind::DataLeak, 1, 20_000, 8)
            .unwrap()
            .expect("found under 5.7");
        let s = &found.steps;
        assert!(shows(Preset::V5_7, w, s, HazardKind::DataLeak));
        // 1-minimal: removing any step loses the leak.
        for i in 0..s.len() {
            let mut t = s.clone();
            t.remove(i);
            assert!(
                !shows(Preset::V5_7, w, &t, HazardKind::DataLeak),
                "step {i} was not needed"
            );
        }
        // The shortest leak in this vocabulary: a device writes, through a
        // FOLL_GET reference taken before fork, into the page fork shared
        // with the child, and the child reads the parent's DMA data.
        for verb in [
            "\"gup\"",
            "pin = false",
            "\"fork\"",
            "\"device_write\"",
            "\"read\"\nat = \"c:",
        ] {
            assert!(s.iter().any(|x| x.contains(verb)), "{verb}: {s:#?}");
        }
        // A reference is invisible to fork in every release; a pin makes
        // fork copy the page for the child from 5.9 (70e806e4e645).
        assert!(shows(Preset::NEWEST, w, s, HazardKind::DataLeak));
        let pinned: Vec<String> = s.iter().map(|x| x.replace("pin = false", "pin = true")).collect();
        assert!(shows(Preset::V5_8, w, &pinned, HazardKind::DataLeak));
        assert!(!shows(Preset::V5_9, w, &pinned, HazardKind::DataLeak));
    }

    /// A golden value: ChaCha8 and fixed-width arithmetic make the search the
    /// same on every platform; a change here means exercises and searches
    /// would differ between a class's machines.
    #[test]
    fn seed_1_finds_the_leak_after_the_same_number_of_tries() {
        let f = search(Preset::V5_7, WhatIf::default(), HazardKind::DataLeak, 1, 20_000, 8)
            .unwrap()
            .unwrap();
        assert_eq!((f.tries, f.original_len, f.steps.len()), (1816, 6, 6));
    }

    #[test]
    fn the_same_seed_finds_the_same_sequence() {
        let w = WhatIf::default();
        let a = search(Preset::V5_7, w, HazardKind::DataLeak, 9, 20_000, 8);
        let b = search(Preset::V5_7, w, HazardKind::DataLeak, 9, 20_000, 8);
        assert_eq!(a, b);
    }
}
