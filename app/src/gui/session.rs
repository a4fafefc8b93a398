//! A lesson played under one preset: the timeline the GUI moves through.
//! Navigation is a command enum handled in one place, so that buttons, keys,
//! tests and (later) deep links all drive the same code.

use pinlab_lessons::Lesson;
use pinlab_lessons::model::{Preset, Sim, WhatIf, World};
use pinlab_lessons::run::{Report, RunOptions, StepReport, run_with};

/// Moving through time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    NextStep,
    PrevStep,
    NextMicro,
    PrevMicro,
    Home,
    End,
    /// To history entry i (micro-step granularity).
    Seek(usize),
    /// To the end of lesson step k (1-based; 0 is the initial state).
    Step(usize),
}

pub struct Session {
    pub lesson: Lesson,
    pub preset: Preset,
    pub whatif: WhatIf,
    pub sim: Sim,
    pub report: Report,
    /// History entry shown.
    pub cursor: usize,
    /// A lesson step whose action failed (an errno) records no history
    /// entry; when the user is on such a step, it is this, and the cursor
    /// stands at the end of the step before (the state did not change).
    pub failed_step: Option<usize>,
    /// Unique to this run: what the canvas' layout cache is keyed on.
    id: u64,
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Session {
    /// Identifies the world on screen: this run and the micro-step shown
    /// (two sessions never share an id; a replay is a new session).
    pub fn view_key(&self) -> u64 {
        self.id.wrapping_mul(1 << 32) ^ self.cursor as u64
    }

    pub fn new(lesson: Lesson, preset: Preset, whatif: Option<WhatIf>) -> Session {
        Session::with_options(
            lesson,
            preset,
            RunOptions {
                whatif,
                ..RunOptions::default()
            },
        )
    }

    /// A session run with options (how invariants are checked, a fault).
    pub fn with_options(lesson: Lesson, preset: Preset, opts: RunOptions) -> Session {
        let whatif = opts.whatif.unwrap_or(lesson.whatif);
        let (sim, report) = run_with(
            &lesson,
            preset,
            RunOptions {
                whatif: Some(whatif),
                ..opts
            },
        );
        Session {
            lesson,
            preset,
            whatif,
            sim,
            report,
            cursor: 0,
            failed_step: None,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The world at the cursor.
    pub fn world(&self) -> &World {
        &self.sim.entries()[self.cursor].world
    }

    pub fn entries(&self) -> usize {
        self.sim.len()
    }

    /// Lesson step (1-based) the cursor is in; 0 before the first.
    pub fn step(&self) -> usize {
        self.failed_step.unwrap_or_else(|| self.step_at(self.cursor))
    }

    /// Lesson step that history entry `cursor` belongs to.
    pub fn step_at(&self, cursor: usize) -> usize {
        self.report
            .steps
            .iter()
            .find(|s| cursor >= s.first_entry && cursor < s.end_entry)
            .map(|s| s.step)
            .unwrap_or(0)
    }

    pub fn step_report(&self) -> Option<&StepReport> {
        let k = self.step();
        if k == 0 { None } else { self.report.steps.get(k - 1) }
    }

    /// Last entry of step k (k = 0: the boot state).
    pub fn end_of(&self, k: usize) -> usize {
        if k == 0 {
            return 0;
        }
        match self.report.steps.get(k - 1) {
            // A failed action records no entry: stay where the step before ended.
            Some(s) if s.end_entry > s.first_entry => s.end_entry - 1,
            Some(_) => self.end_of(k - 1),
            None => self.entries() - 1,
        }
    }

    pub fn nav(&mut self, n: Nav) {
        (self.cursor, self.failed_step) = self.target(n);
    }

    /// The lesson step `n` would show (no side effects).
    pub fn step_after(&self, n: Nav) -> usize {
        let (cursor, failed) = self.target(n);
        failed.unwrap_or_else(|| self.step_at(cursor))
    }

    /// Did step k (1-based) record no history entry (its action failed)?
    fn recorded_nothing(&self, k: usize) -> bool {
        k > 0
            && self
                .report
                .steps
                .get(k - 1)
                .is_some_and(|s| s.end_entry == s.first_entry)
    }

    /// Where `n` moves: the history entry, and the failed step shown if any.
    fn target(&self, n: Nav) -> (usize, Option<usize>) {
        let last = self.entries() - 1;
        let steps = self.report.steps.len();
        let to_step = |k: usize| {
            let k = k.min(steps);
            (self.end_of(k), self.recorded_nothing(k).then_some(k))
        };
        match n {
            Nav::NextMicro => ((self.cursor + 1).min(last), None),
            Nav::PrevMicro => (self.cursor.saturating_sub(1), None),
            Nav::Home => (0, None),
            Nav::Seek(i) => (i.min(last), None),
            // The end of the lesson, even when its last action failed.
            Nav::End => to_step(steps),
            Nav::Step(k) => to_step(k),
            Nav::NextStep => {
                let k = self.step();
                // At a step boundary go to the next step's end, else to this one's.
                let at_end = self.failed_step.is_some() || self.cursor == self.end_of(k);
                to_step(if at_end { k + 1 } else { k })
            }
            Nav::PrevStep => to_step(self.step().saturating_sub(1)),
        }
    }

    /// Replays under another preset or toggles, keeping the lesson step.
    pub fn replay(&mut self, preset: Preset, whatif: WhatIf) {
        let k = self.step();
        let lesson = self.lesson.clone();
        *self = Session::new(lesson, preset, Some(whatif));
        self.nav(Nav::Step(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::builtin;

    #[test]
    fn stepping_moves_between_step_ends_and_back_is_exact() {
        let l = builtin::by_id("folio-life").unwrap();
        let mut s = Session::new(l, Preset::NEWEST, None);
        assert_eq!(s.step(), 0);
        s.nav(Nav::NextStep);
        assert_eq!(s.step(), 1);
        s.nav(Nav::NextStep);
        s.nav(Nav::NextStep);
        assert_eq!(s.step(), 3);
        let at3 = s.cursor;
        s.nav(Nav::PrevMicro);
        assert!(s.cursor < at3);
        s.nav(Nav::NextStep);
        assert_eq!(s.cursor, at3, "from inside step 3, next step goes to its end");
        s.nav(Nav::End);
        assert_eq!(s.step(), s.report.steps.len());
        s.nav(Nav::Home);
        assert_eq!((s.cursor, s.step()), (0, 0));
        s.nav(Nav::Step(4));
        s.replay(Preset::V5_7, WhatIf::default());
        assert_eq!((s.step(), s.preset), (4, Preset::V5_7), "replay keeps the step");
    }

    #[test]
    fn steps_whose_action_failed_are_visited_too() {
        // just-list has steps that fail with EFAULT on purpose: they record no
        // history entry, and stepping must still stop on each of them.
        let l = builtin::by_id("just-list").unwrap();
        let mut s = Session::new(l, Preset::NEWEST, None);
        let failed: Vec<usize> = s
            .report
            .steps
            .iter()
            .filter(|x| x.result.failed())
            .map(|x| x.step)
            .collect();
        assert!(!failed.is_empty(), "the lesson has a failing step");
        let n = s.report.steps.len();
        for k in 1..=n {
            s.nav(Nav::NextStep);
            assert_eq!(s.step(), k);
        }
        // And back again, one step at a time.
        for k in (0..n).rev() {
            s.nav(Nav::PrevStep);
            assert_eq!(s.step(), k);
        }
        let f = failed[0];
        s.nav(Nav::Step(f));
        assert_eq!(s.step(), f);
        assert_eq!(s.step_report().unwrap().step, f);
        assert_eq!(
            s.cursor,
            s.end_of(f - 1),
            "the state is the one before: nothing changed"
        );
    }
}
