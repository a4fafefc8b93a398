//! The live class and the app: the lecturer's app state becomes the
//! position it broadcasts; a following student's app shows the position it
//! receives; a revealed round is marked by the student's own model.

use super::{ClassCommand, LiveResult, Phase};
use crate::gui::session::{Nav, Session};
use crate::gui::{PinlabApp, Source};
use pinlab_lessons::model::{Preset, WhatIf};
use pinlab_room::{Position, Question};

/// What the lecturer does to the room's question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LectureCommand {
    /// Stop taking answers and show the distribution (again: hide it).
    ShowAnswers,
    /// Run the step: students see if they were right.
    Reveal,
    /// Ask the same question again after discussion.
    SecondRound,
    /// End the room for everyone.
    Close,
}

impl PinlabApp {
    /// Every frame: what arrived, what to broadcast.
    pub(in crate::gui) fn class_tick(&mut self, ctx: &egui::Context) {
        if self.class.wake.is_none() {
            self.class.wake = Some(ctx.clone());
        }
        let now = ctx.input(|i| i.time);
        let cmds = self.class.poll(now);
        self.apply_class(cmds);
        self.class_broadcast();
        if matches!(
            self.class.status,
            super::Status::Retrying { .. } | super::Status::Connecting
        ) {
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    /// The lecturer's view of the question follows the quiz: a new question
    /// opens round 1; stepping away from it ends the asking.
    fn lecturer_asking(&mut self) -> Option<Question> {
        let asking = self.quiz.asking.map(|k| k as u32);
        let step = self.session.step() as u32;
        let asked_under = format!("{} {:?}", self.session.preset.name(), self.session.whatif.names());
        let l = self.class.lecturer_mut()?;
        l.asking = match (l.asking, asking) {
            (Some((k, r, p)), Some(a))
                if k == a
                    && p != Phase::Revealed
                    && l.rounds.get(&a).is_some_and(|(_, under)| *under == asked_under) =>
            {
                Some((k, r, p))
            }
            (_, Some(a)) => {
                l.chart = false;
                // Asked again after stepping away: the same round, whose answers
                // the server kept; under another kernel or toggles a new one
                // (the right answer may differ).
                let round = match l.rounds.get(&a) {
                    Some((r, under)) if *under == asked_under => *r,
                    Some((r, _)) => r + 1,
                    None => 1,
                };
                l.rounds.insert(a, (round, asked_under));
                Some((a, round, Phase::Open))
            }
            (Some((k, r, Phase::Revealed)), None) if k == step => Some((k, r, Phase::Revealed)),
            _ => None,
        };
        let (k, round, phase) = l.asking?;
        let choices = self
            .session
            .report
            .steps
            .get(k as usize - 1)
            .and_then(|s| s.question.as_ref())
            .map_or(0, |q| q.choices.len() as u32);
        Some(Question {
            step: k,
            round,
            choices,
            phase,
        })
    }

    fn class_broadcast(&mut self) {
        if self.class.lecturer().is_none() {
            return;
        }
        let question = self.lecturer_asking();
        let s = &self.session;
        let lesson = match &self.source {
            Source::Builtin(id) if !id.is_empty() => (id.clone(), None),
            _ => (s.lesson.id.clone(), Some(s.lesson.to_toml())),
        };
        let p = Position {
            lesson: lesson.0.clone(),
            kernel: s.preset.name().to_string(),
            whatif: s.whatif.names().into_iter().map(String::from).collect(),
            step: s.step() as u32,
            cursor: s.cursor as u32,
            revealed: self.revealed,
            question,
            seq: 0,
        };
        self.class.broadcast(lesson, p);
    }

    /// The one place the class's commands change the app.
    pub fn apply_class(&mut self, cmds: Vec<ClassCommand>) {
        for c in cmds {
            match c {
                ClassCommand::Follow { lesson, position } => {
                    if let Err(e) = self.show_position(&lesson, &position) {
                        self.class.rejected = Some(e);
                    }
                }
                ClassCommand::Mark { position, value } => self.mark(&position, value),
            }
        }
    }

    /// Shows the lecturer's position: lesson, kernel, what-ifs, micro-step.
    fn show_position(&mut self, lesson: &(String, Option<String>), p: &Position) -> Result<(), String> {
        let same_lesson = match (&self.source, &lesson.1) {
            (Source::Builtin(id), None) => *id == lesson.0,
            // A lesson sent as text is the same only if its text is (the
            // lecturer may have edited and reloaded it under the same id).
            (_, Some(_)) => self.session.lesson.id == lesson.0 && self.class.shown_source == lesson.1,
            _ => false,
        };
        if !same_lesson {
            self.class.shown_source = lesson.1.clone();
            let ok = match &lesson.1 {
                Some(toml) => self.load_text(
                    &format!("<room lesson {}>", lesson.0),
                    toml,
                    Source::Builtin(String::new()),
                ),
                None => self.open_builtin(&lesson.0),
            };
            if !ok {
                return Err(self.error.clone().unwrap_or_default());
            }
        }
        let (preset, whatif) = kernel_and_whatif(p)?;
        if (preset, whatif) != (self.session.preset, self.session.whatif) {
            self.session.replay(preset, whatif);
        }
        // Straight to the micro-step: a follower's quiz does not gate the lecturer.
        self.session.nav(Nav::Seek(p.cursor as usize));
        // A step whose action failed records no micro-step of its own: the
        // cursor is the step before's, and the step says which one is shown.
        if self.session.step() != p.step as usize {
            self.session.nav(Nav::Step(p.step as usize));
        }
        self.sync_compare();
        self.revealed = p.revealed;
        self.last_step = self.session.step();
        Ok(())
    }

    /// Marks the student's answer with the model under the room's lesson
    /// and kernel, and keeps the result on the device.
    fn mark(&mut self, p: &Position, value: i64) {
        let Some(q) = &p.question else { return };
        let Ok((preset, whatif)) = kernel_and_whatif(p) else {
            return;
        };
        let here = self.session.lesson.id == p.lesson && self.session.preset == preset && self.session.whatif == whatif;
        let right_value = if here {
            question_answer(&self.session, q.step)
        } else {
            let lesson = self
                .class
                .student()
                .and_then(|s| s.lesson.clone())
                .filter(|(id, _)| *id == p.lesson);
            let l = match lesson.and_then(|(_, src)| src) {
                Some(toml) => pinlab_lessons::load_str("<room lesson>", &toml).ok(),
                None => pinlab_lessons::builtin::by_id(&p.lesson),
            };
            l.and_then(|l| question_answer(&Session::new(l, preset, Some(whatif)), q.step))
        };
        let Some(room) = self.class.student().map(|s| s.code.clone()) else {
            return;
        };
        self.class.record(LiveResult {
            room,
            lesson: p.lesson.clone(),
            kernel: p.kernel.clone(),
            step: q.step,
            round: q.round,
            value,
            right: right_value == Some(value),
        });
    }

    /// The one place the lecturer's commands change the app and the room.
    /// False if a command had nothing to act on (no question put to the room).
    pub fn apply_lecture(&mut self, cmds: Vec<LectureCommand>) -> bool {
        let mut applied = true;
        for c in cmds {
            // The question asked may have changed since the last frame (an
            // API call moved time): bring the room's view of it up to date.
            self.lecturer_asking();
            let Some(l) = self.class.lecturer_mut() else {
                return false;
            };
            match (c, l.asking) {
                (LectureCommand::ShowAnswers, Some((k, r, Phase::Open))) => {
                    l.asking = Some((k, r, Phase::Closed));
                    l.chart = true;
                }
                (LectureCommand::ShowAnswers, Some(_)) => l.chart = !l.chart,
                (LectureCommand::SecondRound, Some((k, r, Phase::Open | Phase::Closed))) => {
                    l.asking = Some((k, r + 1, Phase::Open));
                    l.chart = false;
                    if let Some(e) = l.rounds.get_mut(&k) {
                        e.0 = r + 1;
                    }
                }
                (LectureCommand::Reveal, Some((k, r, Phase::Open | Phase::Closed))) => {
                    l.asking = Some((k, r, Phase::Revealed));
                    l.chart = true;
                    match question_answer(&self.session, k) {
                        Some(v) => self.answer_quiz(v),
                        // No answer under this kernel: run the step all the same
                        // (past the quiz's gate, which would stop before it again).
                        None => {
                            self.quiz.pass(k as usize);
                            self.show_revealed(k as usize);
                        }
                    }
                }
                (LectureCommand::Close, _) => self.class.leave(),
                _ => applied = false,
            }
        }
        self.class_broadcast();
        applied
    }

    /// Opens a room on `server`: the quiz stops at every question, so each
    /// one is put to the room before its step runs.
    pub fn open_room(&mut self, server: &str) {
        self.quiz.enabled = true;
        self.class.open_room(server);
    }

    pub fn join_room(&mut self, server: &str, code: &str) {
        self.class.join(server, code);
    }

    /// The student answers the room's open question.
    pub fn answer_room(&mut self, value: i64) -> Result<(), String> {
        self.class.answer(value)
    }

    /// The student catches up with the lecturer.
    pub fn follow_room(&mut self) {
        let cmds = self.class.follow();
        self.apply_class(cmds);
    }

    /// What repaints the app when a live-class message arrives.
    pub fn set_class_wake(&mut self, ctx: egui::Context) {
        self.class.wake = Some(ctx);
    }

    /// The server the Live class window offers (the page's origin on the web).
    pub fn set_class_server(&mut self, server: &str) {
        self.class.server = server.to_string();
    }

    pub fn class(&self) -> &super::LiveClass {
        &self.class
    }
}

fn kernel_and_whatif(p: &Position) -> Result<(Preset, WhatIf), String> {
    let preset = Preset::parse(&p.kernel).ok_or_else(|| format!("the room's kernel '{}' is unknown here", p.kernel))?;
    let mut w = WhatIf::default();
    for t in &p.whatif {
        w.set(t).map_err(|e| e.to_string())?;
    }
    Ok((preset, w))
}

/// The model's answer to step `k`'s question.
fn question_answer(s: &Session, k: u32) -> Option<i64> {
    s.report
        .steps
        .get((k as usize).checked_sub(1)?)?
        .question
        .as_ref()?
        .answer_value
}
