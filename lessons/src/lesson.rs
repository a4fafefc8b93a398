//! A loaded, validated lesson.

use crate::address::Address;
use crate::expect::{Expectation, Subject, What};
use crate::kernels::KernelFilter;
use pinlab_model::{Action, Preset, WhatIf};

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub objectives: Vec<String>,
    /// The presets the lesson runs under; the first is the default.
    pub kernels: Vec<Preset>,
    pub whatif: WhatIf,
    pub steps: Vec<Step>,
    /// File name (or "<builtin>/name") for messages.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Line of the step's `[[step]]` header.
    pub line: usize,
    /// The kernels the step runs under (all when empty); its checks too.
    pub kernels: Vec<KernelFilter>,
    /// What-if toggles for this step's action only (the lesson's otherwise).
    pub whatif: Option<WhatIf>,
    pub action: Action,
    /// The action as the lesson wrote it (`do = ...` and its arguments).
    pub action_text: String,
    pub say: Vec<Narration>,
    pub focus: Vec<Address>,
    pub question: Option<Question>,
    pub expect: Vec<Expectation>,
    /// Folios captured after the step: label -> address.
    pub labels: Vec<(String, Address)>,
    /// In a selftest case: what a failure at this step means for the
    /// selftest (it skips, or it does not run the case).
    pub selftest: Option<SelftestRole>,
}

/// What a failure at a step of a selftest case means (the `selftest` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelftestRole {
    /// The selftest checks this first and skips when it does not hold.
    Precondition,
    /// The selftest skips when this step fails with EINVAL (gup_test's
    /// PIN_LONGTERM_TEST_START where the kernel lacks the test).
    SkipIfEinval,
    /// The selftest does not run the case before 6.8 (mTHP sizes).
    NotRunBefore6_8,
}

impl SelftestRole {
    pub const ALL: [(SelftestRole, &'static str); 3] = [
        (SelftestRole::Precondition, "precondition"),
        (SelftestRole::SkipIfEinval, "skip_if_einval"),
        (SelftestRole::NotRunBefore6_8, "not_run_before_6.8"),
    ];

    pub fn key(self) -> &'static str {
        SelftestRole::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("", |(_, k)| k)
    }

    pub fn parse(s: &str) -> Option<SelftestRole> {
        SelftestRole::ALL.iter().find(|(_, k)| *k == s).map(|(r, _)| *r)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Narration {
    pub text: String,
    pub kernels: Vec<KernelFilter>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub prompt: String,
    /// Empty for a number question.
    pub choices: Vec<String>,
    pub answer: Answer,
    pub explain: String,
}

/// The right answer: a fixed value, one per kernel range, or read from the
/// model after the step (always right, whatever the preset).
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A number, or the 1-based index of the right choice.
    Fixed(i64),
    PerKernel(Vec<(KernelFilter, i64)>),
    /// Read from the model after the step, like an expectation's left side.
    FromModel {
        what: What,
        subject: Subject,
    },
}

impl Step {
    /// Does the step run under this kernel?
    pub fn runs_under(&self, p: Preset) -> bool {
        crate::kernels::any_matches(&self.kernels, p)
    }
}

impl Lesson {
    /// Narration of a step for one preset.
    pub fn narration(step: &Step, p: Preset) -> String {
        step.say
            .iter()
            .filter(|n| crate::kernels::any_matches(&n.kernels, p))
            .map(|n| n.text.trim().to_string())
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}
