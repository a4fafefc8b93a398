//! A lesson played under one preset: the timeline the GUI moves through.
//! Navigation is a command enum handled in one place, so that buttons, keys,
//! tests and (later) deep links all drive the same code.

use pinlab_lessons::Lesson;
use pinlab_lessons::model::{Preset, Sim, WhatIf, World};
use pinlab_lessons::run::{Report, StepReport, run_with_sim};

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
}

impl Session {
    pub fn new(lesson: Lesson, preset: Preset, whatif: Option<WhatIf>) -> Session {
        let whatif = whatif.unwrap_or(lesson.whatif);
        let (sim, report) = run_with_sim(&lesson, preset, Some(whatif));
        Session {
            lesson,
            preset,
            whatif,
            sim,
            report,
            cursor: 0,
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
        self.step_at(self.cursor)
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
    fn end_of(&self, k: usize) -> usize {
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
        self.cursor = self.cursor_after(self.cursor, n);
    }

    /// Where `n` moves a cursor standing at `cursor` (no side effects).
    pub fn cursor_after(&self, cursor: usize, n: Nav) -> usize {
        let last = self.entries() - 1;
        match n {
            Nav::NextMicro => (cursor + 1).min(last),
            Nav::PrevMicro => cursor.saturating_sub(1),
            Nav::Home => 0,
            Nav::End => last,
            Nav::Seek(i) => i.min(last),
            Nav::Step(k) => self.end_of(k.min(self.report.steps.len())),
            Nav::NextStep => {
                let k = self.step_at(cursor);
                // At a step boundary go to the next step's end, else to this one's.
                let target = if cursor == self.end_of(k) { k + 1 } else { k };
                self.end_of(target.min(self.report.steps.len()))
            }
            Nav::PrevStep => self.end_of(self.step_at(cursor).saturating_sub(1)),
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
}
