//! What a probe found: per step, what was done for real, and every check
//! with the model's value, the live value and whether they agree.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reason")]
pub enum Verdict {
    /// The model and the machine's kernel say the same.
    Agree,
    Disagree,
    /// Not observable from userspace, or not performed: says why.
    Skipped(String),
    /// A disagreement listed in the known-differences file (its reason).
    Known(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An expectation the lesson states.
    Expect,
    /// What the model predicts for a page the lesson names, checked even
    /// where the lesson states nothing.
    Predicted,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Check {
    pub source: Source,
    /// What is compared: `present`, `mapcount`, `data`, `same_folio`, ...
    pub what: String,
    /// The address (or pair, or counter) it is about.
    pub subject: String,
    pub model: String,
    pub live: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// For a lesson expectation: its line, and whether it holds live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds_live: Option<bool>,
}

/// How a step was carried out on the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "how", content = "detail")]
pub enum Performed {
    /// Done for real: "ok" or the errno.
    Live(String),
    /// The model's kernel-internal action: no userspace call does it.
    ModelOnly(String),
    /// A userspace action this machine cannot do as the lesson asks.
    NotPerformable(String),
    /// Not done: the live run stopped earlier (says where), or the step does
    /// not run under this kernel.
    Skipped(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeStep {
    pub step: usize,
    pub line: usize,
    pub action: String,
    pub model_result: String,
    pub performed: Performed,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Disagreements the known-differences file explains (not failures).
    pub known: usize,
}

impl Totals {
    /// "N passed, N failed, N skipped[, N known differences]".
    pub fn summary(&self) -> String {
        let known = if self.known > 0 {
            format!(", {} known differences", self.known)
        } else {
            String::new()
        };
        format!(
            "{} passed, {} failed, {} skipped{known}",
            self.passed, self.failed, self.skipped
        )
    }

    pub fn add(&mut self, v: &Verdict) {
        match v {
            Verdict::Agree => self.passed += 1,
            Verdict::Disagree => self.failed += 1,
            Verdict::Skipped(_) => self.skipped += 1,
            Verdict::Known(_) => self.known += 1,
        }
    }

    pub fn merge(&mut self, o: &Totals) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.skipped += o.skipped;
        self.known += o.known;
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeReport {
    pub lesson: String,
    pub title: String,
    /// `uname -r` of the machine.
    pub release: String,
    /// The preset the model ran under.
    pub kernel: String,
    pub steps: Vec<ProbeStep>,
    pub totals: Totals,
    /// Lesson-level notes (why the lesson or part of it could not run live).
    pub notes: Vec<String>,
}

impl ProbeReport {
    pub fn recount(&mut self) {
        let mut t = Totals::default();
        for s in &self.steps {
            for c in &s.checks {
                t.add(&c.verdict);
            }
        }
        self.totals = t;
    }
}

/// The transcript: each step, how it was done, its checks with a live
/// column. Without `verbose`, the model's predictions that agree are
/// counted on one line per step; the lesson's own checks and every
/// disagreement are always listed.
pub fn transcript(r: &ProbeReport, verbose: bool) -> String {
    let mut out = format!(
        "{} ({}): the model under {} against this machine's Linux {}\n",
        r.lesson, r.title, r.kernel, r.release
    );
    for n in &r.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    for s in &r.steps {
        let how = match &s.performed {
            Performed::Live(res) => format!("live: {res}"),
            Performed::ModelOnly(why) => format!("model only: {why}"),
            Performed::NotPerformable(why) => format!("not performable here: {why}"),
            Performed::Skipped(why) => format!("skipped: {why}"),
        };
        out.push_str(&format!(
            "step {} (line {}): {}\n    model: {}; {how}\n",
            s.step, s.line, s.action, s.model_result
        ));
        let quiet = |c: &&Check| !verbose && c.source == Source::Predicted && c.verdict == Verdict::Agree;
        let agreeing = s.checks.iter().filter(quiet).count();
        if agreeing > 0 {
            let mut kinds: Vec<&str> = s.checks.iter().filter(quiet).map(|c| c.what.as_str()).collect();
            kinds.dedup();
            kinds.sort();
            kinds.dedup();
            out.push_str(&format!(
                "    ok   model  {agreeing} predictions agree ({})\n",
                kinds.join(", ")
            ));
        }
        for c in s.checks.iter().filter(|c| !quiet(c)) {
            let mark = match &c.verdict {
                Verdict::Agree => "ok  ".to_string(),
                Verdict::Disagree => "FAIL".to_string(),
                Verdict::Skipped(_) => "skip".to_string(),
                Verdict::Known(_) => "known".to_string(),
            };
            let src = match c.source {
                Source::Expect => "expect",
                Source::Predicted => "model ",
            };
            let mut line = format!(
                "    {mark} {src} {}({}): model {} | live {}",
                c.what, c.subject, c.model, c.live
            );
            if let Verdict::Skipped(why) | Verdict::Known(why) = &c.verdict {
                line.push_str(&format!("  ({why})"));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    let t = &r.totals;
    out.push_str(&t.summary());
    out.push('\n');
    out
}
