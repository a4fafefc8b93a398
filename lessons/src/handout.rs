//! Markdown handouts: narration, the state after each step as a small table,
//! the questions, and the answers at the end.

use crate::address::Address;
use crate::expect::resolve_folio;
use crate::lesson::Lesson;
use crate::run::{Report, run_with_sim};
use pinlab_model::Preset;
use pinlab_model::action_words::words;
use std::collections::HashMap;
use std::fmt::Write;

pub fn handout(lesson: &Lesson, preset: Preset) -> String {
    handout_with(lesson, preset, None)
}

/// The handout under given what-if toggles (None: the lesson's own).
pub fn handout_with(lesson: &Lesson, preset: Preset, whatif: Option<pinlab_model::WhatIf>) -> String {
    handout_as(lesson, preset, whatif, Sheet::Handout)
}

/// A handout, or a worksheet to fill in before the lecture shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sheet {
    /// Each question is asked before its step's narration and state.
    Handout,
    /// A step that asks a question shows only what is about to happen and
    /// the question; its narration and state wait for the key at the end.
    Worksheet,
}

pub fn handout_as(lesson: &Lesson, preset: Preset, whatif: Option<pinlab_model::WhatIf>, sheet: Sheet) -> String {
    let (sim, report) = run_with_sim(lesson, preset, whatif);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", lesson.title);
    let _ = writeln!(
        s,
        "*{}*  \nKernel {}{}\n",
        lesson.summary.trim(),
        report.kernel,
        whatif_note(&report)
    );
    let _ = writeln!(s, "## Objectives\n");
    for o in &lesson.objectives {
        let _ = writeln!(s, "- {o}");
    }
    let mut qn = 0;
    let mut answers = Vec::new();
    let mut labels = HashMap::new();
    for (st, step) in report.steps.iter().zip(&lesson.steps) {
        let _ = writeln!(s, "\n## Step {}: `{}`\n", st.step, st.action);
        // The question comes before what answers it.
        let asks = st.question.is_some();
        if let Some(q) = &st.question {
            qn += 1;
            let _ = writeln!(s, "*About to happen:* {}\n", words(&step.action).plain);
            let _ = writeln!(s, "> **Question {qn}.** {}", q.prompt);
            for (i, c) in q.choices.iter().enumerate() {
                let _ = writeln!(s, ">\n> {}. {c}", i + 1);
            }
            let _ = writeln!(s);
            let said = if sheet == Sheet::Worksheet {
                st.narration.trim()
            } else {
                ""
            };
            answers.push((qn, st.step, q.answer.clone(), q.explain.clone(), said.to_string()));
        }
        if asks && sheet == Sheet::Worksheet {
            let _ = writeln!(s, "Your answer: ______________________\n");
            continue;
        }
        if !st.narration.is_empty() {
            let _ = writeln!(s, "{}\n", st.narration);
        }
        let world = &sim.entries()[st.end_entry.saturating_sub(1).max(st.first_entry.min(sim.len() - 1))].world;
        for (name, addr) in &step.labels {
            if let Ok(fp) = resolve_folio(world, &labels, addr) {
                labels.insert(name.clone(), fp);
            }
        }
        let focus: Vec<&Address> = step.focus.iter().collect();
        if !focus.is_empty() {
            let _ = writeln!(s, "| object | folio | refcount | pincount | mapcount | flags |");
            let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- |");
            for a in focus {
                match resolve_folio(world, &labels, a) {
                    Ok((id, page)) => {
                        let f = world.folio(id);
                        let mut flags = Vec::new();
                        if f.pages[page].anon_exclusive {
                            flags.push("anon-exclusive");
                        }
                        if f.flags.dirty {
                            flags.push("dirty");
                        }
                        if f.maybe_dma_pinned() {
                            flags.push("maybe-pinned");
                        }
                        if f.freed {
                            flags.push("freed");
                        }
                        let _ = writeln!(
                            s,
                            "| `{a}` | {id} | {} | {} | {} | {} |",
                            f.refcount,
                            f.pincount,
                            f.page_mapcount(page),
                            flags.join(", ")
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(s, "| `{a}` | {e} | | | | |");
                    }
                }
            }
            let _ = writeln!(s);
        }
        for h in &st.hazards {
            let _ = writeln!(s, "**Hazard ({})**: {}\n", h.kind.name(), h.text);
        }
    }
    if !answers.is_empty() {
        let _ = writeln!(s, "\n## Answers\n");
        for (n, step, a, e, said) in answers {
            let _ = writeln!(s, "{n}. **{a}**. {}", e.trim());
            if !said.is_empty() {
                let _ = writeln!(s, "\n   *Step {step}:* {}\n", said.replace('\n', "\n   "));
            }
        }
    }
    s
}

fn whatif_note(r: &Report) -> String {
    if r.whatif.is_empty() {
        String::new()
    } else {
        format!(", what-if: {}", r.whatif.join(", "))
    }
}
