//! Mutation fuzzing over the built-in lessons and selftest cases: steps deleted, duplicated and
//! swapped, numbers set to boundary values, names replaced by unknown or
//! reserved ones, files truncated. Every mutant must load or be refused with
//! a located error, never panic, and when it runs, the model must keep every
//! invariant (incremental checks after every micro-step, full checks on a
//! sample). `PINLAB_FUZZ_CASES` sets the count (CI: 10,000; by default 600;
//! a local soak: 100,000), `PINLAB_FUZZ_SEED` the seed.

use pinlab_lessons::load_str;
use pinlab_lessons::run::{RunOptions, run_with};
use pinlab_lessons::{builtin, matrix};
use pinlab_model::Checks;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

const BOUNDARIES: [&str; 10] = [
    "0",
    "1",
    "-1",
    "511",
    "513",
    "4194304",
    "4194305",
    "4294967295",
    "9223372036854775807",
    "18446744073709551615",
];

const NAMES: [&str; 8] = ["nosuch", "file", "bio", "", "p:q", "zz", "parent", "child"];

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// Splits a lesson into its header and its `[[step]]` blocks.
fn split(text: &str) -> (String, Vec<String>) {
    let mut parts = text.split("\n[[step]]\n");
    let head = parts.next().unwrap_or_default().to_string();
    (head, parts.map(str::to_string).collect())
}

fn join(head: &str, steps: &[String]) -> String {
    let mut t = head.to_string();
    for s in steps {
        t.push_str("\n[[step]]\n");
        t.push_str(s);
    }
    t
}

/// One random mutation of a lesson's text.
fn mutate(rng: &mut ChaCha8Rng, text: &str) -> String {
    let (head, mut steps) = split(text);
    match below(rng, 7) {
        0 if !steps.is_empty() => {
            steps.remove(below(rng, steps.len()));
        }
        1 if !steps.is_empty() => {
            let i = below(rng, steps.len());
            let s = steps[i].clone();
            steps.insert(i, s);
        }
        2 if steps.len() > 1 => {
            let (a, b) = (below(rng, steps.len()), below(rng, steps.len()));
            steps.swap(a, b);
        }
        3 | 4 => {
            // A number literal becomes a boundary value.
            let t = join(&head, &steps);
            let spots: Vec<(usize, usize)> = number_spans(&t);
            if spots.is_empty() {
                return t;
            }
            let (a, b) = spots[below(rng, spots.len())];
            return format!("{}{}{}", &t[..a], BOUNDARIES[below(rng, BOUNDARIES.len())], &t[b..]);
        }
        5 => {
            // A quoted value becomes an unknown or reserved name.
            let t = join(&head, &steps);
            let quotes: Vec<usize> = t.match_indices("= \"").map(|(i, _)| i + 3).collect();
            if quotes.is_empty() {
                return t;
            }
            let a = quotes[below(rng, quotes.len())];
            let Some(len) = t[a..].find('"') else { return t };
            return format!("{}{}{}", &t[..a], NAMES[below(rng, NAMES.len())], &t[a + len..]);
        }
        _ => {
            // Truncated at a random byte.
            let t = join(&head, &steps);
            let mut cut = below(rng, t.len());
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            return t[..cut].to_string();
        }
    }
    join(&head, &steps)
}

/// Spans of integer literals that follow `= ` or `[`.
fn number_spans(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && i > 0 && matches!(b[i - 1], b' ' | b'[') {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i >= b.len() || matches!(b[i], b'\n' | b',' | b' ' | b']' | b'}') {
                out.push((start, i));
            }
        }
        i += 1;
    }
    out
}

#[test]
fn mutated_lessons_never_panic_and_keep_the_models_invariants() {
    let cases: usize = std::env::var("PINLAB_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("PINLAB_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let sources: Vec<&str> = builtin::sources()
        .iter()
        .chain(matrix::sources())
        .map(|(_, t)| *t)
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut refused, mut ran, mut passed) = (0usize, 0usize, 0usize);
    for case in 0..cases {
        let mut text = sources[below(&mut rng, sources.len())].to_string();
        for _ in 0..1 + below(&mut rng, 3) {
            text = mutate(&mut rng, &text);
        }
        let full = case % 50 == 0;
        let outcome = std::panic::catch_unwind(|| {
            let l = match load_str("mutant.toml", &text) {
                Ok(l) => l,
                Err(e) => {
                    assert!(e.line > 0 || text.is_empty(), "an error without a place: {e}");
                    return None;
                }
            };
            let p = l.kernels[0];
            let opts = RunOptions {
                checks: if full { Checks::Both } else { Checks::Incremental },
                ..RunOptions::default()
            };
            let (_, r) = run_with(&l, p, opts);
            Some(r)
        });
        match outcome {
            Err(_) => {
                let path = std::env::temp_dir().join(format!("pinlab-mutant-{seed}-{case}.toml"));
                let _ = std::fs::write(&path, &text);
                panic!("mutant {case} (seed {seed}) panicked; saved to {}", path.display());
            }
            Ok(None) => refused += 1,
            Ok(Some(r)) => {
                ran += 1;
                if r.passed {
                    passed += 1;
                }
                assert_eq!(
                    r.model_bugs,
                    0,
                    "mutant {case} (seed {seed}) broke the model's invariants:\n{text}\n{:?}",
                    r.steps.iter().flat_map(|s| s.model_bugs.iter()).collect::<Vec<_>>()
                );
            }
        }
    }
    eprintln!("{cases} mutants: {refused} refused by the loader, {ran} ran ({passed} passed every check)");
    assert!(
        ran * 5 > cases,
        "too few mutants ran ({ran} of {cases}): the mutations are too destructive"
    );
}
