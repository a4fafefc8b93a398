//! Predict, then see. Moving forward into a step that asks a question stops
//! just before that step's action runs: the canvas shows the state before, an
//! "about to happen" line says what the step will do, and the question waits.
//! By default (predict first) an answer, R or a second forward move reveals
//! the step; in quiz mode only an answer does, and answers are scored against
//! what the model says under the current kernel.

use super::session::{Nav, Session};
use std::collections::{BTreeMap, BTreeSet};

/// One answered question.
#[derive(Clone, Debug, PartialEq)]
pub struct Given {
    /// The 1-based choice, or the number typed.
    pub value: i64,
    pub right: bool,
}

pub struct Quiz {
    /// Quiz mode: answers are scored, and only an answer reveals.
    pub enabled: bool,
    /// Predict first (on unless the user turns it off): stop before every
    /// question even outside quiz mode.
    pub predict_first: bool,
    /// The step (1-based) whose question is waiting to be answered: the
    /// cursor stands at the end of the step before it.
    pub asking: Option<usize>,
    /// Answers by step, for this lesson and kernel.
    pub given: BTreeMap<usize, Given>,
    /// Questions revealed without an answer (R, a forward move, the room).
    pub settled: BTreeSet<usize>,
    /// What the student is typing for a number question.
    pub typed: String,
    /// The question the answer field last took focus for.
    pub focused: Option<usize>,
    /// A question the last gate revealed (a forward move past it).
    just_revealed: Option<usize>,
}

impl Default for Quiz {
    fn default() -> Self {
        Quiz {
            enabled: false,
            predict_first: true,
            asking: None,
            given: BTreeMap::new(),
            settled: BTreeSet::new(),
            typed: String::new(),
            focused: None,
            just_revealed: None,
        }
    }
}

impl Quiz {
    /// Starts over (new lesson or kernel: the right answers may differ).
    pub fn reset(&mut self) {
        self.asking = None;
        self.given.clear();
        self.settled.clear();
        self.typed.clear();
        self.focused = None;
        self.just_revealed = None;
    }

    /// Does moving forward stop before questions?
    pub fn gating(&self) -> bool {
        self.enabled || self.predict_first
    }

    fn open(&self, k: usize) -> bool {
        !self.given.contains_key(&k) && !self.settled.contains(&k)
    }

    /// The question step a forward move revealed (once).
    pub fn take_revealed(&mut self) -> Option<usize> {
        self.just_revealed.take()
    }

    /// The navigation to perform instead of `n`: forward moves stop before
    /// the first open question they would run. In quiz mode every question
    /// on the way stops them; with predict first only, a jump (a step picked,
    /// End) stops only before the step it lands on, and a forward move from
    /// a waiting question reveals it.
    pub fn gate(&mut self, s: &Session, n: Nav) -> Nav {
        self.just_revealed = None;
        if !self.gating() {
            return n;
        }
        let here = s.step();
        if matches!(n, Nav::PrevStep | Nav::PrevMicro | Nav::Home) {
            self.asking = None;
            return n;
        }
        let target = s.step_after(n);
        if target <= here {
            return n;
        }
        if !self.enabled
            && let Some(k) = self.asking
            && k == here + 1
            && matches!(n, Nav::NextStep | Nav::NextMicro)
        {
            // The second press: the step runs and its answer shows.
            self.settled.insert(k);
            self.asking = None;
            self.just_revealed = Some(k);
            return n;
        }
        let asks = |k: usize| s.report.steps.get(k - 1).is_some_and(|st| st.question.is_some());
        let jump = matches!(n, Nav::Step(_) | Nav::End);
        let first = if jump && !self.enabled {
            Some(target).filter(|&k| asks(k) && self.open(k) && n != Nav::End)
        } else {
            (here + 1..=target).find(|&k| asks(k) && self.open(k))
        };
        match first {
            Some(k) => {
                self.asking = Some(k);
                self.typed.clear();
                Nav::Step(k - 1)
            }
            None => n,
        }
    }

    /// Marks an answer to the waiting question; returns the step to run.
    pub fn answer(&mut self, s: &Session, value: i64) -> Option<usize> {
        let k = self.asking.take()?;
        let q = s.report.steps.get(k - 1)?.question.as_ref()?;
        let right = q.answer_value == Some(value);
        self.given.insert(k, Given { value, right });
        Some(k)
    }

    /// Settles the question at step k without an answer (R, or a room
    /// answered it): forward moves no longer stop before it.
    pub fn pass(&mut self, k: usize) {
        if self.asking == Some(k) {
            self.asking = None;
        }
        self.settled.insert(k);
    }

    /// (right, answered, questions in the lesson).
    pub fn score(&self, s: &Session) -> (usize, usize, usize) {
        let total = s.report.steps.iter().filter(|st| st.question.is_some()).count();
        let right = self.given.values().filter(|g| g.right).count();
        (right, self.given.len(), total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::builtin;
    use pinlab_lessons::model::Preset;

    fn session(id: &str, p: Preset) -> Session {
        Session::new(builtin::by_id(id).unwrap(), p, None)
    }

    #[test]
    fn forward_stops_before_a_question_and_the_answer_is_marked_per_kernel() {
        // ref-extraction asks a per-kernel question: 1 up to 5.8, 2 from 5.9.
        for (p, right) in [(Preset::V5_8, 1), (Preset::V6_12, 2)] {
            let mut s = session("ref-extraction", p);
            let mut q = Quiz {
                enabled: true,
                ..Default::default()
            };
            let k = s
                .report
                .steps
                .iter()
                .position(|st| {
                    st.question
                        .as_ref()
                        .is_some_and(|q| q.prompt.starts_with("Does the parent keep"))
                })
                .unwrap()
                + 1;
            // Jump to the end: the first question stops it.
            let n = q.gate(&s, Nav::End);
            s.nav(n);
            let first = q.asking.unwrap();
            assert_eq!(s.step(), first - 1, "stopped before the question's action");
            // Answer every question on the way, wrongly at step k.
            while let Some(a) = q.asking {
                let v = if a == k {
                    3 - right
                } else {
                    s.report.steps[a - 1].question.as_ref().unwrap().answer_value.unwrap()
                };
                let run = q.answer(&s, v).unwrap();
                s.nav(Nav::Step(run));
                assert_eq!(s.step(), run);
                let n = q.gate(&s, Nav::End);
                s.nav(n);
            }
            assert_eq!(s.cursor, s.entries() - 1);
            assert!(!q.given[&k].right);
            let (r, answered, total) = q.score(&s);
            assert_eq!((answered, total), (total, 5));
            assert_eq!(r, total - 1);
        }
    }

    #[test]
    fn a_question_on_a_step_whose_action_fails_is_asked_and_then_shown() {
        // just-list asks what iov_iter_get_pages2 does on an ITER_KVEC: EFAULT,
        // a step that records no history entry.
        let mut s = session("just-list", Preset::V6_12);
        let k = s
            .report
            .steps
            .iter()
            .find(|st| st.result.failed() && st.question.is_some())
            .expect("a failing step with a question")
            .step;
        let mut q = Quiz {
            enabled: true,
            ..Default::default()
        };
        s.nav(Nav::Step(k - 1));
        q.given.extend((1..k).map(|i| (i, Given { value: 0, right: false })));
        let n = q.gate(&s, Nav::NextStep);
        assert_eq!(q.asking, Some(k));
        s.nav(n);
        assert_eq!(s.step(), k - 1);
        let right = s.report.steps[k - 1].question.as_ref().unwrap().answer_value.unwrap();
        let run = q.answer(&s, right).unwrap();
        s.nav(Nav::Step(run));
        assert_eq!(s.step(), k, "the failed step is shown with its answer");
        assert!(q.given[&k].right);
        // And the next step is reachable.
        let n = q.gate(&s, Nav::NextStep);
        s.nav(n);
        assert!(s.step() > k || q.asking == Some(k + 1));
    }

    #[test]
    fn a_passed_question_no_longer_stops_forward_moves() {
        let s = session("folio-life", Preset::V6_12);
        let mut q = Quiz {
            enabled: true,
            ..Default::default()
        };
        let n = q.gate(&s, Nav::End);
        let k = q.asking.unwrap();
        assert_eq!(n, Nav::Step(k - 1));
        q.pass(k);
        assert_eq!(q.asking, None);
        let n = q.gate(&s, Nav::Step(k));
        assert_eq!(n, Nav::Step(k), "the room's question is settled");
    }

    #[test]
    fn backwards_and_answered_questions_are_not_gated() {
        let mut s = session("folio-life", Preset::V6_12);
        let mut q = Quiz {
            enabled: true,
            ..Default::default()
        };
        let n = q.gate(&s, Nav::End);
        s.nav(n);
        let k = q.asking.unwrap();
        q.answer(&s, 0).unwrap();
        s.nav(Nav::Step(k));
        s.nav(Nav::Home);
        // The question at k is answered: going forward passes it.
        let n = q.gate(&s, Nav::Step(k));
        assert_eq!(n, Nav::Step(k));
        assert_eq!(q.gate(&s, Nav::PrevStep), Nav::PrevStep);
    }
}

/// What the quiz asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum QuizCommand {
    /// Mark this answer to the waiting question, run the step, reveal.
    Answer(i64),
    /// Run the waiting question's step and reveal, without an answer.
    Reveal,
}

/// The quiz's part of the narration panel and its keys: drawn from the
/// quiz's own state and the session, returning commands the app applies.
pub(in crate::gui) mod view {
    use super::super::session::{Nav, Session};
    use super::super::{PinlabApp, theme};
    use super::{Quiz, QuizCommand};
    use egui::{Key, RichText, Ui};
    use pinlab_lessons::model::action_words::words;

    impl Quiz {
        /// The waiting question: what is about to happen, the question, the
        /// choices or the number field, and how to reveal. After a step whose
        /// question was answered, whether the answer was right.
        pub fn ui(&mut self, ui: &mut Ui, s: &Session, large: bool) -> Vec<QuizCommand> {
            if self.enabled {
                let (right, answered, total) = self.score(s);
                ui.label(
                    RichText::new(format!(
                        "Quiz score: {right} right of {answered} answered ({total} questions)"
                    ))
                    .strong(),
                );
            }
            let mut out = Vec::new();
            if let Some(k) = self.asking {
                let Some(q) = s.report.steps.get(k - 1).and_then(|st| st.question.clone()) else {
                    return out;
                };
                let about = s.lesson.steps.get(k - 1).map(|st| words(&st.action));
                let big = |t: RichText| if large { t.heading() } else { t.size(17.0) };
                ui.group(|ui| {
                    ui.label(RichText::new(format!("Predict first: step {k} has not run yet.")).weak());
                    if let Some(w) = &about {
                        ui.label(RichText::new("About to happen:").strong());
                        ui.label(&w.plain);
                        ui.label(RichText::new(&w.c).monospace().weak());
                    }
                    ui.add_space(4.0);
                    ui.label(big(RichText::new(&q.prompt).strong()));
                    if q.choices.is_empty() {
                        // In quiz mode the student types at once; in a lecture
                        // (predict first, presenter) R and the clicker keep the keys.
                        let focus = self.enabled && !large && self.focused != Some(k);
                        self.focused = Some(k);
                        if let Some(v) = number_answer(ui, &mut self.typed, "Answer", focus) {
                            out.push(QuizCommand::Answer(v));
                        }
                    } else {
                        for (i, c) in q.choices.iter().enumerate() {
                            if ui.button(big(RichText::new(format!("{}. {c}", i + 1)))).clicked() {
                                out.push(QuizCommand::Answer(i as i64 + 1));
                            }
                        }
                    }
                    if !self.enabled {
                        ui.add_space(4.0);
                        if ui
                            .button("Reveal without answering (R)")
                            .on_hover_text("Run the step and show what happened")
                            .clicked()
                        {
                            out.push(QuizCommand::Reveal);
                        }
                    }
                });
                ui.separator();
            } else if let Some(g) = self.given.get(&s.step()) {
                let (text, color) = if g.right {
                    (format!("Your answer {} is right.", g.value), theme::GREEN)
                } else {
                    (format!("Your answer {} is wrong.", g.value), theme::HAZARD)
                };
                ui.label(RichText::new(text).strong().color(color));
            }
            out
        }

        /// Digits answer a multiple-choice question that is waiting.
        pub fn keys(&self, ctx: &egui::Context, s: &Session) -> Vec<QuizCommand> {
            let Some(k) = self.asking else { return Vec::new() };
            let n = s
                .report
                .steps
                .get(k - 1)
                .and_then(|st| st.question.as_ref())
                .map_or(0, |q| q.choices.len());
            if n == 0 || ctx.egui_wants_keyboard_input() {
                return Vec::new();
            }
            const DIGITS: [Key; 9] = [
                Key::Num1,
                Key::Num2,
                Key::Num3,
                Key::Num4,
                Key::Num5,
                Key::Num6,
                Key::Num7,
                Key::Num8,
                Key::Num9,
            ];
            ctx.input(|i| DIGITS.iter().take(n).position(|d| i.key_pressed(*d)))
                .map(|i| QuizCommand::Answer(i as i64 + 1))
                .into_iter()
                .collect()
        }
    }

    /// A number answer: "Your answer" [typed] [button]; the number once
    /// the button or Enter is pressed on something that parses.
    pub(in crate::gui) fn number_answer(ui: &mut Ui, typed: &mut String, button: &str, focus: bool) -> Option<i64> {
        ui.horizontal(|ui| {
            let l = ui.label("Your answer");
            let r = ui
                .add(egui::TextEdit::singleline(typed).desired_width(80.0))
                .labelled_by(l.id);
            if focus {
                // The student types at once: no click into the field first.
                r.request_focus();
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button(button).clicked() || enter {
                typed.trim().parse::<i64>().ok()
            } else {
                None
            }
        })
        .inner
    }

    impl PinlabApp {
        pub(in crate::gui) fn quiz_ui(&mut self, ui: &mut Ui) {
            // A lecturer's question belongs to the room: answered there, revealed with R.
            if self.class.lecturer().is_some() {
                if let Some(k) = self.quiz.asking {
                    ui.label(
                        RichText::new(format!(
                            "Step {k}'s question is put to the room (Live class window): C shows the answers, R reveals."
                        ))
                        .strong(),
                    );
                    ui.separator();
                }
                return;
            }
            let cmds = self.quiz.ui(ui, &self.session, self.large || self.presenter.on);
            self.apply_quiz(cmds);
        }

        pub(in crate::gui) fn quiz_keys(&mut self, ctx: &egui::Context) {
            if self.class.lecturer().is_some() {
                return;
            }
            let cmds = self.quiz.keys(ctx, &self.session);
            self.apply_quiz(cmds);
        }

        /// The one place quiz commands change the app.
        pub fn apply_quiz(&mut self, cmds: Vec<QuizCommand>) {
            for c in cmds {
                match c {
                    QuizCommand::Answer(v) => self.answer_quiz(v),
                    QuizCommand::Reveal => self.reveal_waiting(),
                }
            }
        }

        /// Runs the waiting question's step and shows it, unanswered.
        pub fn reveal_waiting(&mut self) {
            if let Some(k) = self.quiz.asking {
                self.quiz.pass(k);
                self.show_revealed(k);
            }
        }

        /// Moves to step k (past the gate) with its answer and checks shown.
        pub(in crate::gui) fn show_revealed(&mut self, k: usize) {
            self.session.nav(Nav::Step(k));
            self.sync_compare();
            self.last_step = k;
            self.revealed = true;
        }

        /// Marks the answer, runs the step and shows the explanation.
        pub fn answer_quiz(&mut self, value: i64) {
            if let Some(k) = self.quiz.answer(&self.session, value) {
                self.show_revealed(k);
            }
        }
    }
}

#[cfg(test)]
mod component_tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use pinlab_lessons::builtin;
    use pinlab_lessons::model::Preset;

    struct State {
        quiz: Quiz,
        session: Session,
        out: Vec<QuizCommand>,
    }

    fn harness(id: &str) -> Harness<'static, State> {
        let session = Session::new(builtin::by_id(id).unwrap(), Preset::V6_12, None);
        let mut quiz = Quiz {
            enabled: true,
            ..Default::default()
        };
        let mut session = session;
        let n = quiz.gate(&session, Nav::End);
        session.nav(n);
        Harness::builder().build_ui_state(
            |ui, st: &mut State| {
                let cmds = st.quiz.ui(ui, &st.session, false);
                st.out.extend(cmds);
            },
            State {
                quiz,
                session,
                out: Vec::new(),
            },
        )
    }

    /// A choice button sends that answer; nothing is marked until the app
    /// applies it.
    #[test]
    fn a_choice_sends_its_number() {
        let mut h = harness("folio-life");
        h.run();
        let k = h.state().quiz.asking.expect("a question is waiting");
        let q = h.state().session.report.steps[k - 1].question.clone().unwrap();
        assert!(!q.choices.is_empty());
        h.get_by_label(&format!("2. {}", q.choices[1])).click();
        h.run();
        assert_eq!(h.state().out, vec![QuizCommand::Answer(2)]);
        assert!(h.state().quiz.given.is_empty());
    }

    /// A number question takes what is typed; text that is not a number
    /// sends nothing.
    #[test]
    fn a_number_is_typed_and_sent() {
        // false-positive's first question asks for a number.
        let mut h = harness("false-positive");
        h.run();
        let k = h.state().quiz.asking.expect("a question is waiting");
        assert!(
            h.state().session.report.steps[k - 1]
                .question
                .as_ref()
                .unwrap()
                .choices
                .is_empty()
        );
        h.state_mut().quiz.typed = "two".into();
        h.get_by_label("Answer").click();
        h.run();
        assert!(h.state().out.is_empty());
        h.state_mut().quiz.typed = " 2 ".into();
        h.get_by_label("Answer").click();
        h.run();
        assert_eq!(h.state().out, vec![QuizCommand::Answer(2)]);
    }
}
