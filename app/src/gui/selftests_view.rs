//! The Selftests window: cow.c and gup_longterm.c by preset, pass / fail,
//! computed a few rows per frame so the app stays responsive. A cell opens
//! that case under that kernel at the step that decided it.

use super::{PinlabApp, Source, theme};
use egui::{Color32, RichText};
use pinlab_lessons::matrix::{self, Case, Cell, Known, Outcome, Row};
use pinlab_lessons::model::Preset;

/// Rows computed per frame (each is 14 runs of a short lesson).
const ROWS_PER_FRAME: usize = 6;

#[derive(Default)]
pub struct SelftestsView {
    cases: Vec<Case>,
    known: Vec<Known>,
    pub rows: Vec<Row>,
    pub error: Option<String>,
    started: bool,
}

impl SelftestsView {
    /// Computes the next few rows; true when all are done.
    pub fn advance(&mut self) -> bool {
        if !self.started {
            self.started = true;
            match (
                matrix::cases().into_iter().collect::<Result<Vec<_>, _>>(),
                matrix::known(),
            ) {
                (Ok(c), Ok(k)) => {
                    self.cases = c;
                    self.known = k;
                }
                (Err(e), _) => self.error = Some(e.to_string()),
                (_, Err(e)) => self.error = Some(e),
            }
        }
        let start = self.rows.len();
        let end = (start + ROWS_PER_FRAME).min(self.cases.len());
        for c in &self.cases[start..end] {
            self.rows.push(matrix::run_row(c, &self.known));
        }
        self.rows.len() == self.cases.len()
    }
}

fn cell_text(c: &Cell) -> (String, Color32) {
    let color = match (c.outcome, c.agrees()) {
        (_, Some(false)) => theme::HAZARD,
        (Outcome::Pass, _) => theme::GREEN,
        (Outcome::Fail, _) => theme::ORANGE,
        _ => theme::GREY,
    };
    (format!("{}{}", c.outcome.short(), c.mark()), color)
}

fn hover(c: &Cell) -> String {
    let mut t = match c.outcome {
        Outcome::Pass => "pass".to_string(),
        Outcome::Fail => format!("fail: {}", c.detail),
        Outcome::Skip => format!("the selftest would skip: {}", c.detail),
        Outcome::NotRun => "the selftest does not run this case on this kernel".to_string(),
    };
    match &c.known {
        Some(k) if c.derived() => t.push_str(&format!(
            "\nreal kernel: {:?}, derived from stated rules, not observed (not compared): {}",
            k.outcome, k.source
        )),
        Some(k) => t.push_str(&format!("\nreal kernel: {:?} (stated: {})", k.outcome, k.source)),
        None => t.push_str("\nreal kernel: unknown (no source says)"),
    }
    t
}

/// What the Selftests window asks the app to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelftestCommand {
    /// Open the case of this row under this kernel, at the step that decided it.
    Open(usize, Preset),
}

impl SelftestsView {
    /// The window's contents: the legend line and the grid of cells.
    pub fn ui(&self, ui: &mut egui::Ui) -> Vec<SelftestCommand> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            ui.label(RichText::new(e).color(theme::HAZARD));
            return out;
        }
        ui.label(format!(
            "{} of {} cases run. P pass, F fail, s skipped by the selftest, - not run on that kernel; \
             * a source confirms it, ! a source contradicts it, ~ derived from stated rules (not compared), unmarked: unknown. \
             Click a cell to open the case there.",
            self.rows.len(),
            self.cases.len()
        ));
        egui::ScrollArea::both().show(ui, |ui| {
            egui::Grid::new("selftests").striped(true).show(ui, |ui| {
                ui.strong("test");
                ui.strong("variant");
                for p in Preset::ALL {
                    ui.strong(p.name());
                }
                ui.end_row();
                let mut last = String::new();
                for (i, r) in self.rows.iter().enumerate() {
                    let title = format!("{}: {}", r.group, r.test);
                    if title != last {
                        ui.label(RichText::new(&title).strong());
                        last = title;
                    } else {
                        ui.label("");
                    }
                    ui.label(&r.variant);
                    for (k, (_, c)) in r.cells.iter().enumerate() {
                        let (t, color) = cell_text(c);
                        let b = ui
                            .add(egui::Button::new(RichText::new(t).color(color).monospace()).small())
                            .on_hover_text(hover(c));
                        if b.clicked() {
                            out.push(SelftestCommand::Open(i, Preset::ALL[k]));
                        }
                    }
                    ui.end_row();
                }
            });
        });
        out
    }
}

impl PinlabApp {
    pub(super) fn selftests_window(&mut self, ctx: &egui::Context) {
        let Some(view) = &mut self.selftests else { return };
        let done = view.advance();
        if !done {
            ctx.request_repaint();
        }
        let mut open = true;
        let mut cmds = Vec::new();
        egui::Window::new("Selftests: cow.c and gup_longterm.c by kernel")
            .open(&mut open)
            .default_size([1100.0, 560.0])
            .show(ctx, |ui| cmds = view.ui(ui));
        for c in cmds {
            match c {
                SelftestCommand::Open(i, p) => self.open_selftest(i, p),
            }
        }
        if !open {
            self.selftests = None;
        }
    }

    /// Opens row `i`'s case under `p`, at the step where the kernels differ.
    pub fn open_selftest(&mut self, i: usize, p: Preset) {
        let Some(view) = &self.selftests else { return };
        let (Some(row), Some(case)) = (view.rows.get(i), view.cases.get(i)) else {
            return;
        };
        let step = row.differing_step().unwrap_or(case.lesson.steps.len());
        let lesson = case.lesson.clone();
        self.open_lesson(lesson, Source::Builtin(String::new()));
        self.set_kernel(p);
        self.nav(super::session::Nav::Step(step));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// Rows fill in a few per frame; a cell's button asks to open that
    /// row's case under that column's kernel.
    #[test]
    fn rows_fill_in_and_a_cell_asks_to_open_its_case() {
        let mut view = SelftestsView::default();
        assert!(!view.advance(), "more than one frame's worth of rows");
        assert_eq!(view.rows.len(), ROWS_PER_FRAME);
        let mut h = Harness::builder().with_size(egui::vec2(1600.0, 900.0)).build_ui_state(
            |ui, st: &mut (SelftestsView, Vec<SelftestCommand>)| {
                let c = st.0.ui(ui);
                st.1.extend(c);
            },
            (view, Vec::new()),
        );
        h.run();
        let total = h.state().0.cases.len();
        h.get_by_label(&format!(
            "{ROWS_PER_FRAME} of {total} cases run. P pass, F fail, s skipped by the selftest, - not run on that kernel; \
             * a source confirms it, ! a source contradicts it, ~ derived from stated rules (not compared), unmarked: unknown. \
             Click a cell to open the case there."
        ));
        let (t, _) = cell_text(&h.state().0.rows[0].cells[0].1);
        h.query_all_by_label(&t).next().expect("the first cell").click();
        h.run();
        assert_eq!(h.state().1, vec![SelftestCommand::Open(0, Preset::ALL[0])]);
    }
}
