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

impl PinlabApp {
    pub(super) fn exercises_window(&mut self, ctx: &egui::Context) {
        let Some(view) = &mut self.exercises else { return };
        let mut open = true;
        let mut quiz: Option<String> = None;
        egui::Window::new("Exercises")
            .open(&mut open)
            .default_size([620.0, 520.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let l = ui.label("seed");
                    ui.add(egui::DragValue::new(&mut view.seed)).labelled_by(l.id);
                    let l = ui.label("count");
                    ui.add(egui::DragValue::new(&mut view.count).range(1..=20))
                        .labelled_by(l.id);
                    if ui.button("Generate").clicked() {
                        view.list = exercise::generate(view.seed, view.count);
                    }
                    ui.checkbox(&mut view.show_key, "Show the answers");
                });
                ui.label(format!(
                    "The same seed gives the same exercises everywhere (pinlab exercise --seed {}).",
                    view.seed
                ));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for e in &view.list {
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
                            if view.show_key {
                                ui.label(RichText::new(format!("    answer: {}", q.answer_text)).italics());
                            }
                        }
                        if ui
                            .button(format!("Step through exercise {} in quiz mode", e.number))
                            .clicked()
                        {
                            quiz = Some(e.toml.clone());
                        }
                    }
                });
            });
        if let Some(text) = quiz
            && self.load_text("exercise", &text, Source::Builtin(String::new()))
        {
            self.quiz.enabled = true;
            self.quiz.reset();
        }
        if !open {
            self.exercises = None;
        }
    }
}
