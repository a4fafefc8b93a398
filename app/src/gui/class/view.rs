//! What the live class looks like: a window to open or join a room and,
//! for the lecturer, the room's code, link, QR code, answer count and
//! distribution; for a student, a bar along the bottom with the question,
//! their answer and whether it was right.

use super::LectureCommand;
use super::{Lecturer, LiveClass, Phase, Status, Student, chart, qr};
use crate::gui::session::Session;
use crate::gui::{PinlabApp, theme};
use egui::{Key, RichText, Ui};

/// What the views ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum ClassUiCommand {
    Open(String),
    Join(String, String),
    /// Take back the room this app lectured before a restart.
    TakeBack,
    Lecture(LectureCommand),
    Answer(i64),
    Follow,
    Leave,
}

impl LiveClass {
    fn status_text(&self) -> (String, egui::Color32) {
        match &self.status {
            Status::Idle => ("Not in a room".into(), theme::GREY),
            Status::Connecting => (format!("Connecting to {}...", self.server), theme::GREY),
            Status::Connected => ("Connected".into(), theme::GREEN),
            Status::Retrying { why, .. } => (format!("Connection lost ({why}); reconnecting..."), theme::HAZARD),
            Status::Ended { why } if self.role.is_none() => (format!("Not in a room: {why}"), theme::HAZARD),
            Status::Ended { why } => (format!("Room ended: {why}"), theme::HAZARD),
        }
    }

    /// The window's contents.
    pub fn window_ui(&mut self, ui: &mut Ui, s: &Session) -> Vec<ClassUiCommand> {
        let mut out = Vec::new();
        let (text, colour) = self.status_text();
        ui.label(RichText::new(text).color(colour));
        if let Some(r) = &self.rejected {
            ui.label(RichText::new(format!("Refused: {r}")).color(theme::HAZARD));
        }
        match self.role.clone() {
            Some(super::Role::Lecturer(l)) => self.lecturer_ui(ui, s, &l, &mut out),
            Some(super::Role::Student(st)) => {
                ui.label(format!("You are a student in room {}.", st.code));
                if ui.button("Leave the room").clicked() {
                    out.push(ClassUiCommand::Leave);
                }
            }
            None => self.setup_ui(ui, &mut out),
        }
        out
    }

    fn setup_ui(&mut self, ui: &mut Ui, out: &mut Vec<ClassUiCommand>) {
        ui.label("Students follow your steps on their own devices and answer the lesson's questions together.");
        ui.horizontal(|ui| {
            let l = ui.label("Server");
            ui.text_edit_singleline(&mut self.server).labelled_by(l.id);
        });
        if ui.button("Open a room").clicked() {
            out.push(ClassUiCommand::Open(self.server.clone()));
        }
        if let Some(l) = &self.lecture
            && ui
                .button(format!("Take back room {}", l.code))
                .on_hover_text(format!(
                    "The room this app opened on {}: its students and answers carry on",
                    l.server
                ))
                .clicked()
        {
            out.push(ClassUiCommand::TakeBack);
        }
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui.label("Room code");
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.typed_code).desired_width(90.0))
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button("Join").clicked() || enter {
                out.push(ClassUiCommand::Join(self.server.clone(), self.typed_code.clone()));
            }
        });
        ui.label(RichText::new("Start a server with `pinlab serve` (docs/classroom.md).").weak());
    }

    fn lecturer_ui(&mut self, ui: &mut Ui, s: &Session, l: &Lecturer, out: &mut Vec<ClassUiCommand>) {
        let link = self.join_link().unwrap_or_default();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.label(RichText::new(&l.code).size(44.0).monospace().strong())
                    .on_hover_text("The room code: students type it, or scan the QR code");
                ui.label(
                    RichText::new(format!("{} students connected", l.students))
                        .size(18.0)
                        .strong(),
                );
                ui.label(RichText::new(&link).monospace());
                if ui.small_button("Copy the link").clicked() {
                    ui.ctx().copy_text(link.clone());
                }
            });
            qr::show(ui, &link, 150.0);
        });
        ui.separator();
        match l.asking {
            Some((k, round, phase)) => question_ui(ui, s, l, (k, round, phase), out),
            None => {
                ui.label("No question on this step. Move forward: the next question stops the lesson for the room.");
            }
        }
        ui.separator();
        if ui.button("Close the room").clicked() {
            out.push(ClassUiCommand::Lecture(LectureCommand::Close));
        }
    }

    /// The student's bar: room, following, the question and their answer.
    pub fn student_ui(&mut self, ui: &mut Ui, s: &Session, st: &Student) -> Vec<ClassUiCommand> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Room {}", st.code)).strong());
            let (text, colour) = self.status_text();
            ui.label(RichText::new(text).color(colour));
            if !st.lecturer_present {
                ui.label(RichText::new("The lecturer is away").color(theme::HAZARD));
            }
            if matches!(self.status, Status::Ended { .. }) {
                if ui.button("Leave").clicked() {
                    out.push(ClassUiCommand::Leave);
                }
            } else if st.following {
                ui.label(RichText::new("Following the lecturer").color(theme::GREEN));
            } else if ui.button("Follow the lecturer").clicked() {
                out.push(ClassUiCommand::Follow);
            }
            let right = self.results.iter().filter(|r| r.right && r.room == st.code).count();
            let all = self.results.iter().filter(|r| r.room == st.code).count();
            if all > 0 {
                ui.label(format!("Your answers: {right} of {all} right"));
            }
        });
        if let Some(r) = &self.rejected {
            ui.label(RichText::new(format!("Refused: {r}")).color(theme::HAZARD));
        }
        let Some(q) = st.position.as_ref().and_then(|p| p.question.clone()) else {
            return out;
        };
        let same = st
            .position
            .as_ref()
            .is_some_and(|p| p.lesson == s.lesson.id && p.kernel == s.preset.name());
        let Some(asked) = same
            .then(|| {
                let i = (q.step as usize).checked_sub(1)?;
                s.report.steps.get(i).and_then(|x| x.question.clone())
            })
            .flatten()
        else {
            ui.label("The room has a question: follow the lecturer to answer it.");
            return out;
        };
        ui.label(RichText::new(&asked.prompt).strong().size(18.0));
        let mine = st
            .answered
            .filter(|(k, r, _)| (*k, *r) == (q.step, q.round))
            .map(|(_, _, v)| v);
        match (q.phase, mine) {
            (Phase::Open, None) => self.answer_buttons(ui, &asked.choices, &mut out),
            (Phase::Open | Phase::Closed, Some(v)) => {
                ui.label(format!(
                    "Your answer: {}. Wait for the reveal.",
                    show_value(&asked.choices, v)
                ));
            }
            (Phase::Closed, None) => {
                ui.label("Answers are closed for this round.");
            }
            (Phase::Revealed, _) => {
                let r = self
                    .results
                    .iter()
                    .find(|r| r.room == st.code && (r.step, r.round) == (q.step, q.round));
                match r {
                    Some(r) if r.right => ui.label(
                        RichText::new(format!("Right: {}", show_value(&asked.choices, r.value)))
                            .color(theme::GREEN)
                            .strong(),
                    ),
                    Some(r) => ui.label(
                        RichText::new(format!(
                            "Not this time: you said {}",
                            show_value(&asked.choices, r.value)
                        ))
                        .color(theme::HAZARD)
                        .strong(),
                    ),
                    None => ui.label("Revealed: you did not answer this round."),
                };
            }
        }
        if q.round > 1 {
            ui.label(RichText::new(format!("Round {} (after discussion)", q.round)).weak());
        }
        out
    }

    /// The bar while a join is under way or after it failed.
    fn joining_ui(&mut self, ui: &mut Ui) -> Vec<ClassUiCommand> {
        let mut out = Vec::new();
        let code = self.joining().unwrap_or_default();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Room {code}")).strong());
            let (text, colour) = self.status_text();
            ui.label(RichText::new(text).color(colour));
            if matches!(self.status, Status::Ended { .. }) && ui.button("Close").clicked() {
                out.push(ClassUiCommand::Leave);
            }
        });
        out
    }

    fn answer_buttons(&mut self, ui: &mut Ui, choices: &[String], out: &mut Vec<ClassUiCommand>) {
        if choices.is_empty() {
            if let Some(v) = crate::gui::quiz::view::number_answer(ui, &mut self.typed_number, "Send", false) {
                out.push(ClassUiCommand::Answer(v));
            }
        } else {
            ui.horizontal_wrapped(|ui| {
                for (i, c) in choices.iter().enumerate() {
                    if ui.button(RichText::new(format!("{}. {c}", i + 1)).size(16.0)).clicked() {
                        out.push(ClassUiCommand::Answer(i as i64 + 1));
                    }
                }
            });
        }
    }
}

fn show_value(choices: &[String], v: i64) -> String {
    match v
        .checked_sub(1)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| choices.get(i))
    {
        Some(c) => format!("{v}. {c}"),
        None => v.to_string(),
    }
}

fn question_ui(
    ui: &mut Ui,
    s: &Session,
    l: &Lecturer,
    (k, round, phase): (u32, u32, Phase),
    out: &mut Vec<ClassUiCommand>,
) {
    let q = s.report.steps.get(k as usize - 1).and_then(|x| x.question.clone());
    let choices = q.as_ref().map_or(0, |q| q.choices.len() as u32);
    if let Some(q) = &q {
        ui.label(RichText::new(&q.prompt).strong());
        // The choices on the projector too: the room discusses them by number.
        for (i, c) in q.choices.iter().enumerate() {
            ui.label(format!("{}. {c}", i + 1));
        }
        if q.choices.is_empty() {
            ui.label(RichText::new("Answered with a number").weak());
        }
    }
    let tally = l.tallies.get(&format!("{k}.{round}"));
    let answered = tally.map_or(0, |t| t.answered);
    let what = match phase {
        Phase::Open => "answering",
        Phase::Closed => "answers closed",
        Phase::Revealed => "revealed",
    };
    ui.label(
        RichText::new(format!(
            "Step {k}, round {round} ({what}): {answered} of {} answered",
            l.students
        ))
        .size(18.0),
    );
    ui.horizontal(|ui| {
        let chart_label = if l.chart {
            "Hide answers (C)"
        } else {
            "Show answers (C)"
        };
        if ui.button(chart_label).clicked() {
            out.push(ClassUiCommand::Lecture(LectureCommand::ShowAnswers));
        }
        if phase != Phase::Revealed {
            if ui.button("Reveal (R)").clicked() {
                out.push(ClassUiCommand::Lecture(LectureCommand::Reveal));
            }
            if ui.button("Second round (N)").clicked() {
                out.push(ClassUiCommand::Lecture(LectureCommand::SecondRound));
            }
        }
    });
    if l.chart {
        let mut rounds: Vec<&pinlab_room::Tally> = l.tallies.values().filter(|t| t.step == k).collect();
        // Keyed "STEP.ROUND" as text: "3.10" sorts before "3.2"; order by round.
        rounds.sort_by_key(|t| t.round);
        let right = q
            .as_ref()
            .and_then(|q| q.answer_value)
            .filter(|_| phase == Phase::Revealed);
        chart::show(ui, &rounds, choices, 180.0, right);
        if let (Phase::Revealed, Some(q)) = (phase, &q)
            && let Some(v) = q.answer_value
        {
            ui.label(
                RichText::new(format!("The model says: {}", show_value(&q.choices, v)))
                    .color(theme::GREEN)
                    .strong(),
            );
        }
    }
}

impl PinlabApp {
    /// The live-class window and, for a student, the bottom bar.
    pub(in crate::gui) fn class_ui(&mut self, ctx: &egui::Context) {
        let mut cmds = Vec::new();
        let mut open = self.class.open;
        if open {
            // Over the kernel-log side, clear of the story and the picture's middle.
            let area = ctx.content_rect();
            egui::Window::new("Live class")
                .open(&mut open)
                .default_width(400.0)
                .default_pos([area.right() - 420.0, area.top() + 80.0])
                .resizable(true)
                .show(ctx, |ui| cmds.extend(self.class.window_ui(ui, &self.session)));
            self.class.open = open;
        }
        self.apply_class_ui(cmds);
    }

    /// The student's bar, above the timeline.
    pub(in crate::gui) fn class_student_panel(&mut self, ui: &mut Ui) {
        let mut cmds = Vec::new();
        match self.class.student().cloned() {
            Some(st) => {
                egui::Panel::bottom("live-student").show(ui, |ui| {
                    cmds = self.class.student_ui(ui, &self.session, &st);
                });
            }
            // A join link still connecting, or refused: say so where the bar will be.
            None if self.class.joining().is_some() => {
                egui::Panel::bottom("live-student").show(ui, |ui| {
                    cmds = self.class.joining_ui(ui);
                });
            }
            None => {}
        }
        self.apply_class_ui(cmds);
    }

    /// Keys: the lecturer's C / R / N while a question is put to the room.
    pub(in crate::gui) fn class_keys(&mut self, ctx: &egui::Context) -> bool {
        if ctx.egui_wants_keyboard_input() {
            return false;
        }
        if self.class.lecturer().is_some_and(|l| l.asking.is_some()) {
            let cmds: Vec<LectureCommand> = ctx.input(|i| {
                [
                    (Key::C, LectureCommand::ShowAnswers),
                    (Key::R, LectureCommand::Reveal),
                    (Key::N, LectureCommand::SecondRound),
                ]
                .into_iter()
                .filter(|(k, _)| i.key_pressed(*k))
                .map(|(_, c)| c)
                .collect()
            });
            let any = !cmds.is_empty();
            self.apply_lecture(cmds);
            return any;
        }
        false
    }

    pub fn apply_class_ui(&mut self, cmds: Vec<ClassUiCommand>) {
        for c in cmds {
            match c {
                ClassUiCommand::Open(server) => self.open_room(&server),
                ClassUiCommand::Join(server, code) => self.join_room(&server, &code),
                ClassUiCommand::TakeBack => {
                    self.quiz.enabled = true;
                    self.class.take_back();
                }
                ClassUiCommand::Lecture(l) => {
                    self.apply_lecture(vec![l]);
                }
                ClassUiCommand::Answer(v) => {
                    if let Err(e) = self.answer_room(v) {
                        self.class.rejected = Some(e);
                    }
                }
                ClassUiCommand::Follow => self.follow_room(),
                ClassUiCommand::Leave => self.class.leave(),
            }
        }
    }
}
