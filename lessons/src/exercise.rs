//! Exercises in the style of OSTEP's homework generators: a seeded random
//! scenario (a process, a few pages, writes, fork, GUP references and pins,
//! device writes, releases, exit), questions about it, and an answer key.
//!
//! Every answer is read from the model by running the scenario, and every
//! exercise is also a lesson (`Exercise::toml`) whose expectations restate
//! the answers, so running that lesson checks the key. The generator uses
//! ChaCha8 and only fixed-width integers, so a seed gives the same exercises
//! on every platform (wasm32 included).

use crate::expect::{StepOutcome, What, observe};
use crate::lesson::Lesson;
use crate::load::load_str;
use crate::run::{Report, run_with_sim};
use crate::{address::Address, expect::Subject};
use pinlab_model::{Preset, Sim};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::HashMap;

/// Kernels exercises are set under: one per era of the COW and pin rules.
pub const KERNELS: [Preset; 5] = [Preset::V5_7, Preset::V5_8, Preset::V5_9, Preset::V5_19, Preset::V6_12];

const PAGES: u32 = 4;

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A count after a given step.
    Count,
    /// Only the final state is asked about.
    FinalState,
    /// What a process reads at the end (COW outcome).
    Read,
    /// Which hazard, if any, a step raises.
    Hazard,
    /// Given the state before and after a step, which action was it?
    Reverse,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Question {
    pub kind: Kind,
    /// The step (1-based) the question is about.
    pub step: usize,
    pub text: String,
    /// Empty for a number.
    pub choices: Vec<String>,
    /// The right answer: the number, or the 1-based choice.
    pub answer: i64,
    /// The answer as shown in the key.
    pub answer_text: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Exercise {
    pub seed: u64,
    pub number: usize,
    pub kernel: String,
    /// The scenario, one line per step.
    pub steps: Vec<String>,
    pub questions: Vec<Question>,
    /// The exercise as a lesson whose expectations restate the answers.
    pub toml: String,
}

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn below(&mut self, n: u32) -> u32 {
        (self.rng.next_u64() % n as u64) as u32
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// One candidate step: its TOML body (after `[[step]]`) and a sentence.
#[derive(Clone, Debug, PartialEq)]
struct Step {
    toml: String,
    text: String,
    /// A short name for reverse questions.
    verb: &'static str,
}

fn step(toml: String, text: String, verb: &'static str) -> Step {
    Step { toml, text, verb }
}

/// A random scenario (before dropping the steps the model refuses).
fn scenario(g: &mut Gen) -> Vec<Step> {
    let mut out = vec![
        step(
            r#"do = "spawn""#.to_string() + "\nname = \"p\"",
            "p starts".into(),
            "spawn",
        ),
        step(
            format!("do = \"mmap\"\nproc = \"p\"\nvma = \"buf\"\npages = {PAGES}\nwrite = true"),
            format!("p maps {PAGES} pages of private anonymous memory, read-write"),
            "mmap",
        ),
        step(
            "do = \"write\"\nat = \"p:buf[0]\"\ndata = \"A\"".into(),
            "p writes 'A' to buf[0]".into(),
            "write",
        ),
    ];
    let (mut forked, mut child) = (false, false);
    let mut holders: Vec<(String, bool)> = Vec::new();
    // Names only go up: a released holder's name is never reused.
    let mut next_holder = 1;
    let mut letter = b'B';
    let n = 4 + g.below(4);
    for _ in 0..n {
        let page = g.below(PAGES);
        let roll = g.below(100);
        let s = match roll {
            0..=24 => {
                let who = if child && g.chance(40) { "c" } else { "p" };
                let d = letter as char;
                letter += 1;
                step(
                    format!("do = \"write\"\nat = \"{who}:buf[{page}]\"\ndata = \"{d}\""),
                    format!("{who} writes '{d}' to buf[{page}]"),
                    "write",
                )
            }
            25..=34 => step(
                format!("do = \"read\"\nat = \"p:buf[{page}]\""),
                format!("p reads buf[{page}]"),
                "read",
            ),
            35..=49 if !forked => {
                forked = true;
                child = true;
                step(
                    "do = \"fork\"\nparent = \"p\"\nchild = \"c\"".into(),
                    "p forks child c".into(),
                    "fork",
                )
            }
            50..=69 => {
                let pin = g.chance(50);
                let write = g.chance(60);
                let name = format!("{}{next_holder}", if pin { "pin" } else { "ref" });
                next_holder += 1;
                holders.push((name.clone(), write));
                step(
                    format!(
                        "do = \"gup\"\nproc = \"p\"\nvma = \"buf\"\nstart = {page}\nholder = \"{name}\"\npin = {pin}\nwrite = {write}"
                    ),
                    format!(
                        "a driver calls {} on p's buf[{page}]{} (holder {name})",
                        if pin { "pin_user_pages" } else { "get_user_pages" },
                        if write { " with FOLL_WRITE" } else { "" }
                    ),
                    if pin { "pin" } else { "gup" },
                )
            }
            70..=79 if holders.iter().any(|h| h.1) => {
                let (name, _) = holders.iter().find(|h| h.1).cloned().expect("checked");
                let d = letter as char;
                letter += 1;
                step(
                    format!("do = \"device_write\"\nholder = \"{name}\"\ndata = \"{d}\""),
                    format!("the device writes '{d}' through {name}"),
                    "device_write",
                )
            }
            80..=89 if !holders.is_empty() => {
                let i = g.below(holders.len() as u32) as usize;
                let (name, _) = holders.remove(i);
                step(
                    format!("do = \"release\"\nholder = \"{name}\""),
                    format!("the driver releases {name}"),
                    "release",
                )
            }
            90..=99 if child => {
                child = false;
                step("do = \"exit\"\nproc = \"c\"".into(), "c exits".into(), "exit")
            }
            _ => step(
                format!("do = \"read\"\nat = \"p:buf[{page}]\""),
                format!("p reads buf[{page}]"),
                "read",
            ),
        };
        out.push(s);
    }
    out
}

fn lesson_text(id: &str, kernel: Preset, steps: &[Step], extra: &HashMap<usize, String>) -> String {
    let mut t = format!(
        "id = \"{id}\"\ntitle = \"Exercise {id}\"\nsummary = \"A generated exercise.\"\nobjectives = [\"Predict counts, COW outcomes and hazards.\"]\nkernels = [\"{}\"]\n",
        kernel.name()
    );
    for (i, s) in steps.iter().enumerate() {
        t.push_str("\n[[step]]\n");
        t.push_str(&s.toml);
        t.push('\n');
        if let Some(x) = extra.get(&(i + 1)) {
            t.push_str(x);
        }
    }
    t
}

fn load(id: &str, text: &str) -> Lesson {
    load_str(&format!("<exercise {id}>"), text).expect("generated lessons are valid")
}

/// Runs the steps, dropping any the model refuses, until all succeed.
fn valid_steps(id: &str, kernel: Preset, mut steps: Vec<Step>) -> (Vec<Step>, Sim, Report) {
    loop {
        let l = load(id, &lesson_text(id, kernel, &steps, &HashMap::new()));
        let (sim, report) = run_with_sim(&l, kernel, None);
        match report.steps.iter().position(|s| s.result.failed()) {
            Some(i) => {
                steps.remove(i);
            }
            None => return (steps, sim, report),
        }
    }
}

/// (refcount, mapcount, PTE writable) of the folio p:buf[page] maps after step k.
fn observe_at(sim: &Sim, report: &Report, k: usize, page: u32) -> Option<(i64, i64, bool)> {
    let idx = if k == 0 {
        0
    } else {
        report.steps[k - 1].end_entry.checked_sub(1)?
    };
    let world = &sim.entries()[idx].world;
    let labels = HashMap::new();
    let o = StepOutcome {
        before: world,
        world,
        labels: &labels,
        errno: None,
        hazards: Vec::new(),
    };
    let addr = Address::parse(&format!("p:buf[{page}]")).ok()?;
    // Not the shared zero page: its counts are not the lesson's point.
    if crate::expect::resolve_folio(world, &labels, &addr).ok()?.0 == pinlab_model::ZERO_FOLIO {
        return None;
    }
    let at = Subject::At(addr);
    let int = |w| match observe(w, &at, &o) {
        Ok(crate::expect::Value::Int(v)) => Some(v),
        _ => None,
    };
    let writable = matches!(
        observe(What::PteWritable, &at, &o),
        Ok(crate::expect::Value::Bool(true))
    );
    Some((int(What::Refcount)?, int(What::Mapcount)?, writable))
}

/// The exercises of a seed.
pub fn generate(seed: u64, count: usize) -> Vec<Exercise> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    (1..=count).map(|n| one(&mut g, seed, n)).collect()
}

fn one(g: &mut Gen, seed: u64, number: usize) -> Exercise {
    let kernel = KERNELS[g.below(KERNELS.len() as u32) as usize];
    let id = format!("ex-{seed}-{number}");
    let (mut steps, _, _) = valid_steps(&id, kernel, scenario(g));
    // End with a read of a random page: the COW outcome to predict.
    let read_page = g.below(PAGES);
    steps.push(step(
        format!("do = \"read\"\nat = \"p:buf[{read_page}]\""),
        format!("p reads buf[{read_page}]"),
        "read",
    ));
    let (steps, sim, report) = valid_steps(&id, kernel, steps);
    let last = steps.len();
    let mut questions = Vec::new();
    let mut extra: HashMap<usize, String> = HashMap::new();
    // `model`: for a number, where the lesson reads the answer from the model
    // (so running the lesson recomputes it); choices are fixed indexes.
    let mut add = |q: Question, model: Option<String>, expect: String, extra: &mut HashMap<usize, String>| {
        let choices = if q.choices.is_empty() {
            String::new()
        } else {
            format!(
                ", choices = [{}]",
                q.choices
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let e = extra.entry(q.step).or_default();
        if !e.contains("question =") {
            e.push_str(&format!(
                "question = {{ prompt = {:?}{choices}, answer = {}, explain = {:?} }}\n",
                q.text,
                model.unwrap_or_else(|| q.answer.to_string()),
                format!("The model's answer under {}: {}.", kernel.name(), q.answer_text)
            ));
        }
        e.push_str(&expect);
        questions.push(q);
    };

    // Final state only: a count at the end, on a page that is mapped then.
    let first = g.below(PAGES);
    let seen = (0..PAGES)
        .map(|i| (first + i) % PAGES)
        .find_map(|page| observe_at(&sim, &report, last, page).map(|o| (page, o)));
    if let Some((page, (rc, mc, _))) = seen {
        let (what, v) = if g.chance(50) {
            ("refcount", rc)
        } else {
            ("mapcount", mc)
        };
        add(
            Question {
                kind: Kind::FinalState,
                step: last,
                text: format!("At the end, what is the {what} of the folio p's buf[{page}] maps?"),
                choices: Vec::new(),
                answer: v,
                answer_text: v.to_string(),
            },
            Some(format!("{{ {what} = \"p:buf[{page}]\" }}")),
            format!("[[step.expect]]\n{what} = \"p:buf[{page}]\"\nis = {v}\n"),
            &mut extra,
        );
    }

    // A count after an intermediate step.
    if last > 4 {
        let k = 4 + g.below((last - 4) as u32) as usize;
        let page = g.below(PAGES);
        if k != last
            && let Some((rc, _, _)) = observe_at(&sim, &report, k, page)
        {
            add(
                Question {
                    kind: Kind::Count,
                    step: k,
                    text: format!("Right after step {k}, what is the refcount of the folio p's buf[{page}] maps?"),
                    choices: Vec::new(),
                    answer: rc,
                    answer_text: rc.to_string(),
                },
                Some(format!("{{ refcount = \"p:buf[{page}]\" }}")),
                format!("[[step.expect]]\nrefcount = \"p:buf[{page}]\"\nis = {rc}\n"),
                &mut extra,
            );
        }
    }

    // What the final read returns.
    let read = report.steps[last - 1].data.first().cloned().unwrap_or_default();
    let mut choices: Vec<String> = steps
        .iter()
        .filter_map(|s| {
            s.toml
                .split("data = \"")
                .nth(1)
                .map(|d| d.trim_end_matches('"').to_string())
        })
        .collect();
    choices.push("0".into());
    choices.sort();
    choices.dedup();
    if let Some(i) = choices.iter().position(|c| *c == read) {
        add(
            Question {
                kind: Kind::Read,
                step: last,
                text: format!("What does p read at buf[{read_page}] in the last step?"),
                choices: choices.clone(),
                answer: i as i64 + 1,
                answer_text: format!("'{read}'"),
            },
            None,
            format!("[[step.expect]]\ndata = \"p:buf[{read_page}]\"\nis = {read:?}\n"),
            &mut extra,
        );
    }

    // Hazards: the first step that raises one, else a device write (none).
    let hz = report.steps.iter().find(|s| !s.hazards.is_empty());
    let dw = steps.iter().position(|s| s.verb == "device_write").map(|i| i + 1);
    if let Some(k) = hz.map(|s| s.step).or(dw) {
        let kinds = ["none", "dma_lost", "data_leak", "stale_device_read", "use_after_free"];
        let got = report.steps[k - 1].hazards.first().map_or("none", |h| h.kind.name());
        if let Some(i) = kinds.iter().position(|x| *x == got) {
            let expect = if got == "none" {
                kinds[1..]
                    .iter()
                    .map(|k| format!("[[step.expect]]\nhazard = \"{k}\"\nis = false\n"))
                    .collect()
            } else {
                format!("[[step.expect]]\nhazard = \"{got}\"\nis = true\n")
            };
            add(
                Question {
                    kind: Kind::Hazard,
                    step: k,
                    text: format!("Which hazard does step {k} ({}) raise?", steps[k - 1].text),
                    choices: kinds.iter().map(|s| s.to_string()).collect(),
                    answer: i as i64 + 1,
                    answer_text: got.to_string(),
                },
                None,
                expect,
                &mut extra,
            );
        }
    }

    // Reverse: given before and after, which action? Asked only when exactly
    // one of the choices, run in its place, gives that "after".
    if let Some(q) = reverse(g, &id, kernel, &steps, &sim, &report) {
        let (rc, mc, _) = observe_at(&sim, &report, q.0.step, q.1).expect("observed");
        add(
            q.0,
            None,
            format!(
                "[[step.expect]]\nrefcount = \"p:buf[{}]\"\nis = {rc}\n[[step.expect]]\nmapcount = \"p:buf[{}]\"\nis = {mc}\n",
                q.1, q.1
            ),
            &mut extra,
        );
    }

    let toml = lesson_text(&id, kernel, &steps, &extra);
    Exercise {
        seed,
        number,
        kernel: kernel.name().to_string(),
        steps: steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // A reverse question asks which action this step was: not given away.
                if questions.iter().any(|q| q.kind == Kind::Reverse && q.step == i + 1) {
                    "? (which action? see the question)".to_string()
                } else {
                    s.text.clone()
                }
            })
            .collect(),
        questions,
        toml,
    }
}

fn reverse(
    g: &mut Gen,
    id: &str,
    kernel: Preset,
    steps: &[Step],
    sim: &Sim,
    report: &Report,
) -> Option<(Question, u32)> {
    let candidates: Vec<usize> = (4..=steps.len())
        .filter(|&k| matches!(steps[k - 1].verb, "write" | "fork" | "gup" | "pin" | "release" | "exit"))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let k = candidates[g.below(candidates.len() as u32) as usize];
    let page = g.below(PAGES);
    let before = observe_at(sim, report, k - 1, page)?;
    let after = observe_at(sim, report, k, page)?;
    if before == after {
        return None;
    }
    // The alternatives: the same kinds of action, on the same page.
    let alts = [
        step(
            format!("do = \"write\"\nat = \"p:buf[{page}]\"\ndata = \"Z\""),
            format!("p writes to buf[{page}]"),
            "write",
        ),
        step(
            "do = \"fork\"\nparent = \"p\"\nchild = \"x\"".into(),
            "p forks".into(),
            "fork",
        ),
        step(
            format!("do = \"gup\"\nproc = \"p\"\nvma = \"buf\"\nstart = {page}\nholder = \"alt\""),
            format!("get_user_pages on buf[{page}]"),
            "gup",
        ),
        step(
            format!("do = \"gup\"\nproc = \"p\"\nvma = \"buf\"\nstart = {page}\nholder = \"alt\"\npin = true"),
            format!("pin_user_pages on buf[{page}]"),
            "pin",
        ),
    ];
    let actual_label = match steps[k - 1].verb {
        "write" | "fork" | "gup" | "pin" => alts.iter().find(|a| a.verb == steps[k - 1].verb)?.text.clone(),
        _ => steps[k - 1].text.clone(),
    };
    let mut choices = vec![actual_label.clone()];
    for a in &alts {
        if a.verb == steps[k - 1].verb {
            continue;
        }
        let mut alt = steps[..k - 1].to_vec();
        alt.push(a.clone());
        let l = load(id, &lesson_text(id, kernel, &alt, &HashMap::new()));
        let (s2, r2) = run_with_sim(&l, kernel, None);
        if r2.steps.last().is_some_and(|s| s.result.failed()) {
            choices.push(a.text.clone());
            continue;
        }
        if observe_at(&s2, &r2, k, page) == Some(after) {
            return None; // ambiguous: another action gives the same "after"
        }
        choices.push(a.text.clone());
    }
    choices.sort();
    let answer = choices.iter().position(|c| *c == actual_label)? as i64 + 1;
    let show = |(rc, mc, w): (i64, i64, bool)| {
        format!(
            "refcount {rc}, mapcount {mc}, PTE {}",
            if w { "writable" } else { "read-only" }
        )
    };
    Some((
        Question {
            kind: Kind::Reverse,
            step: k,
            text: format!(
                "The folio p's buf[{page}] maps had {} before step {k} and {} after it. Which action was step {k}?",
                show(before),
                show(after)
            ),
            choices,
            answer,
            answer_text: actual_label,
        },
        page,
    ))
}

/// The exercises as text: scenario and questions, then the answer key.
pub fn text(exercises: &[Exercise]) -> String {
    let mut t = String::new();
    for e in exercises {
        t.push_str(&format!(
            "Exercise {} (seed {}, kernel {})\n",
            e.number, e.seed, e.kernel
        ));
        for (i, s) in e.steps.iter().enumerate() {
            t.push_str(&format!("  {:>2}. {s}\n", i + 1));
        }
        for (i, q) in e.questions.iter().enumerate() {
            t.push_str(&format!("  Q{}. {}\n", i + 1, q.text));
            for (j, c) in q.choices.iter().enumerate() {
                t.push_str(&format!("       {}) {c}\n", j + 1));
            }
        }
        t.push('\n');
    }
    t.push_str("Answer key\n");
    for e in exercises {
        let answers: Vec<String> = e
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                if q.choices.is_empty() {
                    format!("Q{} {}", i + 1, q.answer_text)
                } else {
                    format!("Q{} {}) {}", i + 1, q.answer, q.answer_text)
                }
            })
            .collect();
        t.push_str(&format!("  Exercise {}: {}\n", e.number, answers.join("; ")));
    }
    t
}
