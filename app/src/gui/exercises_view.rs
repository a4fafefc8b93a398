//! The Exercises window: generated scenarios with questions (the same as
//! `pinlab exercise --seed N`), an answer key to show or hide, and each
//! exercise opened as a lesson in quiz mode.

use super::{PinlabApp, Source};
use egui::RichText;
use pinlab_lessons::exercise::{self, Exercise};

pub struct ExercisesView {
    pub seed: u64,
    pub count: usize,
    pub list: Vec<Exercise>,
    pub show_key: bool,
}

impl Default for ExercisesView {
    fn default() -> Self {
        ExercisesView {
            seed: 1,
            count: 3,
            list: exercise::generate(1, 3),
            show_key: false,
        }
    }
}

/// What the Exercises window asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ExerciseCommand {
    /// Open this exercise (its lesson text) in quiz mode.
    Quiz(String),
}

impl ExercisesView {
    /// The window's contents, from its own state.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Vec<ExerciseCommand> {
        let mut out = Vec::new();
        ui.horizontal(|ui| {
            let l = ui.label("seed");
            ui.add(egui::DragValue::new(&mut self.seed)).labelled_by(l.id);
            let l = ui.label("count");
            ui.add(egui::DragValue::new(&mut self.count).range(1..=20))
                .labelled_by(l.id);
            if ui.button("Generate").clicked() {
                self.list = exercise::generate(self.seed, self.count);
            }
            ui.checkbox(&mut self.show_key, "Show the answers");
        });
        ui.label(format!(
            "The same seed gives the same exercises everywhere (pinlab exercise --seed {}).",
            self.seed
        ));
        egui::ScrollArea::vertical().show(ui, |ui| {
            for e in &self.list {
                ui.separator();
                ui.strong(format!("Exercise {} (kernel {})", e.number, e.kernel));
                for (i, s) in e.steps.iter().enumerate() {
                    ui.label(format!("{:>2}. {s}", i + 1));
                }
                for (i, q) in e.questions.iter().enumerate() {
                    ui.label(RichText::new(format!("Q{}. {}", i + 1, q.text)).strong());
                    for (j, c) in q.choices.iter().enumerate() {
                        ui.label(format!("    {}) {c}", j + 1));
                    }
                    if self.show_key {
                        ui.label(RichText::new(format!("    answer: {}", q.answer_text)).italics());
                    }
                }
                if ui
                    .button(format!("Step through exercise {} in quiz mode", e.number))
                    .clicked()
                {
                    out.push(ExerciseCommand::Quiz(e.toml.clone()));
                }
            }
        });
        out
    }
}

impl PinlabApp {
    pub(super) fn exercises_window(&mut self, ctx: &egui::Context) {
        let Some(view) = &mut self.exercises else { return };
        let mut open = true;
        let mut cmds = Vec::new();
        egui::Window::new("Exercises")
            .open(&mut open)
            .default_size([620.0, 520.0])
            .show(ctx, |ui| cmds = view.ui(ui));
        for c in cmds {
            match c {
                ExerciseCommand::Quiz(text) => {
                    if self.load_text("exercise", &text, Source::Builtin(String::new())) {
                        self.quiz.enabled = true;
                        self.quiz.reset();
                    }
                }
            }
        }
        if !open {
            self.exercises = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn harness() -> Harness<'static, (ExercisesView, Vec<ExerciseCommand>)> {
        let mut h = Harness::builder().with_size(egui::vec2(700.0, 3000.0)).build_ui_state(
            |ui, st: &mut (ExercisesView, Vec<ExerciseCommand>)| {
                let c = st.0.ui(ui);
                st.1.extend(c);
            },
            (ExercisesView::default(), Vec::new()),
        );
        h.run();
        h
    }

    /// Answers show only when asked; the quiz button sends that exercise's
    /// own lesson text; Generate follows the seed.
    #[test]
    fn answers_on_demand_quiz_by_command_and_seeded_generation() {
        let mut h = harness();
        let first = h.state().0.list[0].clone();
        let answer = format!("    answer: {}", first.questions[0].answer_text);
        assert!(h.query_by_label(&answer).is_none());
        h.get_by_label("Show the answers").click();
        h.run();
        assert!(h.query_all_by_label(&answer).next().is_some());
        h.get_by_label("Step through exercise 1 in quiz mode").click();
        h.run();
        assert_eq!(h.state().1, vec![ExerciseCommand::Quiz(first.toml.clone())]);
        h.state_mut().0.seed = 7;
        h.get_by_label("Generate").click();
        h.run();
        let again: Vec<String> = exercise::generate(7, 3).into_iter().map(|e| e.toml).collect();
        let shown: Vec<String> = h.state().0.list.iter().map(|e| e.toml.clone()).collect();
        assert_eq!(shown, again);
        assert_ne!(shown[0], first.toml);
    }
}
