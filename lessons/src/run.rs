//! The runner: plays a lesson under one preset, checks every expectation, and
//! produces the report that transcripts, JSON and handouts are made from.

use crate::expect::{StepOutcome, observe};
use crate::lesson::{Answer, Lesson, Question};
use pinlab_model::action_words::words;
use pinlab_model::{ActionError, Checks, Errno, Fault, FolioId, HazardKind, Preset, Sim, WhatIf, World};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub lesson: String,
    pub title: String,
    pub kernel: String,
    pub whatif: Vec<String>,
    pub steps: Vec<StepReport>,
    pub checks_passed: usize,
    pub checks_failed: usize,
    /// Broken invariants: bugs in the model, never findings about the kernel.
    pub model_bugs: usize,
    /// True when every expectation held, no action failed unexpectedly and
    /// the model kept every invariant.
    pub passed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// 1-based.
    pub step: usize,
    pub line: usize,
    pub action: String,
    pub narration: String,
    /// ok, the error the action failed with, or why it did not run.
    pub result: StepResult,
    pub data: Vec<String>,
    pub micro_steps: Vec<MicroLine>,
    pub changes: Vec<String>,
    pub hazards: Vec<HazardLine>,
    pub checks: Vec<CheckLine>,
    /// Invariants the model broke during this step (a bug in pinlab).
    pub model_bugs: Vec<String>,
    pub question: Option<QuestionLine>,
    /// The step's micro-steps are history entries [first_entry, end_entry).
    pub first_entry: usize,
    pub end_entry: usize,
}

/// How a step's action went. In JSON and the transcript it is one string:
/// "ok", the error ("EFAULT: ...", "invalid request: ..."), or "not run ...".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepResult {
    Ok,
    /// The action failed: the kernel refused it, or it asked for something
    /// that does not exist. Nothing changed.
    Failed(ActionError),
    /// The step does not run under this kernel (its `kernels` filter).
    NotRun(String),
}

impl StepResult {
    pub fn is_ok(&self) -> bool {
        *self == StepResult::Ok
    }

    pub fn failed(&self) -> bool {
        matches!(self, StepResult::Failed(_))
    }

    pub fn errno(&self) -> Option<Errno> {
        match self {
            StepResult::Failed(e) => e.errno(),
            _ => None,
        }
    }
}

impl fmt::Display for StepResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepResult::Ok => f.write_str("ok"),
            StepResult::Failed(e) => write!(f, "{e}"),
            StepResult::NotRun(why) => f.write_str(why),
        }
    }
}

impl Serialize for StepResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct MicroLine {
    pub function: String,
    pub path: String,
    pub text: String,
    pub pages: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HazardLine {
    /// Serialized as its name (`data_leak`), as before it was typed.
    pub kind: HazardKind,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckLine {
    pub expect: String,
    pub line: usize,
    pub passed: bool,
    pub actual: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct QuestionLine {
    pub prompt: String,
    pub choices: Vec<String>,
    /// The right answer under this preset, as shown to the student.
    pub answer: String,
    /// The right answer as a number (the 1-based choice, or the value).
    pub answer_value: Option<i64>,
    pub explain: String,
}

/// How to run a lesson: what-if toggles (the lesson's when None), how the
/// model's invariants are checked (incremental by default), and a deliberate
/// model bug for testing the checks.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub whatif: Option<WhatIf>,
    pub checks: Checks,
    pub fault: Option<Fault>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            whatif: None,
            checks: Checks::Incremental,
            fault: None,
        }
    }
}

/// Runs a lesson under `preset` with options. Returns the timeline too, for the GUI.
pub fn run_with(lesson: &Lesson, preset: Preset, opts: RunOptions) -> (Sim, Report) {
    let mut sim = Sim::with_whatif(preset, opts.whatif.unwrap_or(lesson.whatif));
    sim.set_checks(opts.checks);
    if let Some(f) = opts.fault {
        sim.inject_fault(f);
    }
    run_on(lesson, sim)
}

/// Runs a lesson under `preset` (what-if toggles: the lesson's, or `whatif`
/// when given), checking the model's invariants after every micro-step.
pub fn run_with_sim(lesson: &Lesson, preset: Preset, whatif: Option<WhatIf>) -> (Sim, Report) {
    run_with(
        lesson,
        preset,
        RunOptions {
            whatif,
            ..RunOptions::default()
        },
    )
}

/// The report alone (bulk runs: the selftest matrix, exercises, searches).
pub fn run_report(lesson: &Lesson, preset: Preset, whatif: Option<WhatIf>) -> Report {
    run_with_sim(lesson, preset, whatif).1
}

fn run_on(lesson: &Lesson, mut sim: Sim) -> (Sim, Report) {
    let preset = sim.world().preset;
    let whatif = sim.world().whatif;
    let mut labels: HashMap<String, (FolioId, usize)> = HashMap::new();
    let mut steps = Vec::new();
    let (mut ok, mut bad) = (0, 0);
    let mut aborted = false;
    let mut bugs_seen = 0;
    for (i, step) in lesson.steps.iter().enumerate() {
        if aborted {
            break;
        }
        if !step.runs_under(preset) {
            steps.push(skipped_step(i, step, sim.len()));
            continue;
        }
        let before = sim.world().clone();
        let first_entry = sim.len();
        let hazards_before = before.hazards.len();
        let result = sim.apply_with(&step.action, step.whatif);
        let end_entry = sim.len();
        let world = sim.world().clone();
        let (result_text, errno, data) = match &result {
            Ok(out) => (StepResult::Ok, None, out.data.clone()),
            Err(e) => (StepResult::Failed(e.clone()), e.errno(), Vec::new()),
        };
        let new_hazards: Vec<_> = world.hazards.iter().skip(hazards_before).cloned().collect();
        for (name, addr) in &step.labels {
            if let Ok(fp) = crate::expect::resolve_folio(&world, &labels, addr) {
                labels.insert(name.clone(), fp);
            }
        }
        let outcome = StepOutcome {
            before: &before,
            world: &world,
            labels: &labels,
            errno,
            hazards: new_hazards.iter().map(|h| h.kind).collect(),
        };
        let mut checks = Vec::new();
        let expects_errno = step
            .expect
            .iter()
            .any(|e| e.applies(preset) && e.what == crate::expect::What::Errno);
        if let Err(e) = &result
            && !expects_errno
        {
            checks.push(CheckLine {
                expect: "the action succeeds".into(),
                line: step.line,
                passed: false,
                actual: e.to_string(),
            });
            bad += 1;
            aborted = true;
        }
        for e in step.expect.iter().filter(|e| e.applies(preset)) {
            let (passed, actual) = match e.check(&outcome) {
                Ok(a) => (true, a),
                Err(a) => (false, a),
            };
            if passed {
                ok += 1;
            } else {
                bad += 1;
            }
            checks.push(CheckLine {
                expect: e.to_string(),
                line: e.line,
                passed,
                actual,
            });
        }
        let question = step.question.as_ref().map(|q| question_line(q, preset, &outcome));
        let micro_steps = sim.entries()[first_entry..end_entry]
            .iter()
            .map(|e| MicroLine {
                function: e.step.func.to_string(),
                path: e.step.path.to_string(),
                text: e.step.text.clone(),
                pages: e.step.count,
            })
            .collect();
        let changes = changes(&before, &world, &sim.entries()[first_entry..end_entry]);
        let model_bugs: Vec<String> = sim.violations()[bugs_seen..]
            .iter()
            .map(|v| {
                format!(
                    "after micro-step {} ({}): {}",
                    v.step,
                    sim.entries().get(v.step).map_or("", |e| e.step.func),
                    v.text
                )
            })
            .collect();
        bugs_seen = sim.violations().len();
        steps.push(StepReport {
            step: i + 1,
            line: step.line,
            action: step.action_text.clone(),
            narration: Lesson::narration(step, preset),
            result: result_text,
            data,
            micro_steps,
            changes,
            hazards: new_hazards
                .iter()
                .map(|h| HazardLine {
                    kind: h.kind,
                    text: h.text.clone(),
                })
                .collect(),
            checks,
            model_bugs,
            question,
            first_entry,
            end_entry,
        });
    }
    let report = Report {
        lesson: lesson.id.clone(),
        title: lesson.title.clone(),
        kernel: preset.name().into(),
        whatif: whatif.names().iter().map(|s| s.to_string()).collect(),
        steps,
        checks_passed: ok,
        checks_failed: bad,
        model_bugs: sim.violations().len(),
        passed: bad == 0 && sim.violations().is_empty(),
    };
    (sim, report)
}

/// The report line of a step that does not run under this kernel.
fn skipped_step(i: usize, step: &crate::lesson::Step, at: usize) -> StepReport {
    let kernels: Vec<&str> = step.kernels.iter().map(|k| k.text.as_str()).collect();
    StepReport {
        step: i + 1,
        line: step.line,
        action: step.action_text.clone(),
        narration: String::new(),
        result: StepResult::NotRun(format!(
            "not run under this kernel (the step runs under {})",
            kernels.join(", ")
        )),
        data: Vec::new(),
        micro_steps: Vec::new(),
        changes: Vec::new(),
        hazards: Vec::new(),
        checks: Vec::new(),
        model_bugs: Vec::new(),
        question: None,
        first_entry: at,
        end_entry: at,
    }
}

pub fn run_lesson(lesson: &Lesson, preset: Preset) -> Report {
    run_with_sim(lesson, preset, None).1
}

/// The right answer of a question under a preset.
pub fn answer_value(q: &Question, preset: Preset, o: &StepOutcome) -> Option<i64> {
    match &q.answer {
        Answer::Fixed(n) => Some(*n),
        Answer::PerKernel(v) => v.iter().find(|(f, _)| f.matches(preset)).map(|(_, n)| *n),
        Answer::FromModel { what, subject } => match observe(*what, subject, o) {
            Ok(crate::expect::Value::Int(n)) => Some(n),
            _ => None,
        },
    }
}

fn question_line(q: &Question, preset: Preset, o: &StepOutcome) -> QuestionLine {
    let v = answer_value(q, preset, o);
    let answer = match (v, q.choices.is_empty()) {
        (Some(n), true) => n.to_string(),
        (Some(n), false) => match q.choices.get((n - 1).max(0) as usize) {
            Some(c) => format!("{n}. {c}"),
            None => format!("{n}"),
        },
        (None, _) => "(no answer for this kernel)".into(),
    };
    QuestionLine {
        prompt: q.prompt.clone(),
        choices: q.choices.clone(),
        answer,
        answer_value: v,
        explain: q.explain.clone(),
    }
}

/// Counts that moved during the step, on the folios its micro-steps touched
/// (at most 40 lines): the cost follows the step, not the world.
fn changes(before: &World, after: &World, entries: &[pinlab_model::sim::Entry]) -> Vec<String> {
    let mut out = Vec::new();
    let mut more = 0;
    let mut push = |line: String, out: &mut Vec<String>| {
        if out.len() < 40 {
            out.push(line);
        } else {
            more += 1;
        }
    };
    let mut touched: Vec<FolioId> = entries.iter().flat_map(|e| e.touched.iter().copied()).collect();
    touched.sort_unstable();
    touched.dedup();
    for id in touched {
        if id.0 as usize >= after.folios.len() {
            continue;
        }
        let a = after.folio(id);
        let Some(b) = before.folios.get(id.0 as usize) else {
            let pins = if a.pincount > 0 {
                format!(", pincount {}", a.pincount)
            } else {
                String::new()
            };
            push(
                format!(
                    "{id} allocated: refcount {}, total mapcount {}{pins}",
                    a.refcount,
                    a.total_mapcount()
                ),
                &mut out,
            );
            continue;
        };
        if a == b {
            continue;
        }
        if a.freed && !b.freed {
            push(format!("{id} freed"), &mut out);
            continue;
        }
        let mut parts = Vec::new();
        if a.refcount != b.refcount {
            parts.push(format!("refcount {} -> {}", b.refcount, a.refcount));
        }
        if a.pincount != b.pincount {
            parts.push(format!("pincount {} -> {}", b.pincount, a.pincount));
        }
        if a.total_mapcount() != b.total_mapcount() {
            parts.push(format!(
                "total mapcount {} -> {}",
                b.total_mapcount(),
                a.total_mapcount()
            ));
        }
        if a.flags.dirty != b.flags.dirty {
            parts.push(if a.flags.dirty { "dirty".into() } else { "clean".into() });
        }
        let ae = |f: &pinlab_model::Folio| f.pages.iter().any(|p| p.anon_exclusive);
        if ae(a) != ae(b) {
            parts.push(if ae(a) {
                "anon-exclusive".into()
            } else {
                "not anon-exclusive".into()
            });
        }
        if !parts.is_empty() {
            push(format!("{id}: {}", parts.join(", ")), &mut out);
        }
    }
    if more > 0 {
        out.push(format!("... and {more} more folio(s) changed"));
    }
    out
}

/// The plain-text transcript (what `pinlab run` prints and screen readers get).
pub fn transcript(lesson: &Lesson, r: &Report) -> String {
    transcript_with(lesson, r, true)
}

/// The transcript for a class that predicts first (`pinlab run
/// --no-answers`): a step that asks a question shows what is about to happen
/// and the question, and nothing the step did (its narration, kernel
/// functions, changes and checks give the answer away); the answers follow
/// at the end, each with what its step did.
pub fn transcript_without_answers(lesson: &Lesson, r: &Report) -> String {
    transcript_with(lesson, r, false)
}

fn transcript_with(lesson: &Lesson, r: &Report, answers: bool) -> String {
    let mut s = String::new();
    let mut key = String::new();
    let _ = writeln!(
        s,
        "# {} ({}), kernel {}{}",
        r.title,
        r.lesson,
        r.kernel,
        if r.whatif.is_empty() {
            String::new()
        } else {
            format!(", what-if: {}", r.whatif.join(", "))
        }
    );
    for st in &r.steps {
        if !answers && let Some(q) = &st.question {
            let _ = writeln!(s, "\n## Step {}: predict before it runs", st.step);
            if let Some(step) = lesson.steps.get(st.step - 1) {
                let _ = writeln!(s, "  about to happen: {}", words(&step.action).plain);
            }
            let _ = writeln!(s, "  ? {}", q.prompt);
            for (i, c) in q.choices.iter().enumerate() {
                let _ = writeln!(s, "      {}. {c}", i + 1);
            }
            let _ = writeln!(
                key,
                "\nStep {}: {}\n  answer: {} ({})",
                st.step,
                st.action,
                q.answer,
                q.explain.trim()
            );
            for l in st.narration.lines() {
                let _ = writeln!(key, "  | {l}");
            }
            continue;
        }
        let _ = writeln!(s, "\n## Step {}: {}", st.step, st.action);
        if !st.narration.is_empty() {
            for l in st.narration.lines() {
                let _ = writeln!(s, "  | {l}");
            }
        }
        if let Some(q) = &st.question {
            let _ = writeln!(s, "  ? {}", q.prompt);
            for (i, c) in q.choices.iter().enumerate() {
                let _ = writeln!(s, "      {}. {c}", i + 1);
            }
            let _ = writeln!(s, "    answer: {} ({})", q.answer, q.explain.trim());
        }
        for m in &st.micro_steps {
            let n = if m.pages > 1 {
                format!(" (x{})", m.pages)
            } else {
                String::new()
            };
            let _ = writeln!(s, "  - {}: {}{n}: {}", m.path, m.function, m.text);
        }
        if !st.result.is_ok() {
            let _ = writeln!(s, "  result: {}", st.result);
        }
        if !st.data.is_empty() {
            let _ = writeln!(s, "  data: {}", st.data.join(", "));
        }
        for c in &st.changes {
            let _ = writeln!(s, "  changed: {c}");
        }
        for h in &st.hazards {
            let _ = writeln!(s, "  HAZARD {}: {}", h.kind.name(), h.text);
        }
        for b in &st.model_bugs {
            let _ = writeln!(
                s,
                "  MODEL BUG (an invariant of pinlab's model broke; please report it): {b}"
            );
        }
        for c in &st.checks {
            let _ = writeln!(
                s,
                "  [{}] {}{}",
                if c.passed { "pass" } else { "FAIL" },
                c.expect,
                if c.passed {
                    String::new()
                } else {
                    format!(" (actual: {}; {}:{})", c.actual, lesson.source, c.line)
                }
            );
        }
    }
    if !key.is_empty() {
        let _ = writeln!(s, "\n## Answers\n{key}");
    }
    let _ = writeln!(s, "\n{} checks passed, {} failed", r.checks_passed, r.checks_failed);
    if r.model_bugs > 0 {
        let _ = writeln!(s, "{} model bug(s): the model broke its own invariants", r.model_bugs);
    }
    s
}
