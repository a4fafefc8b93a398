//! "Real kernel": the lesson run on the machine's own Linux by
//! `pinlab probe` (docs/probe.md), shown step by step beside the model. The
//! probe runs as a separate process (it forks workers and must be root),
//! in the background so that the app stays responsive; the current step's
//! checks appear with the model's value, the kernel's, and whether they
//! agree. What userspace cannot see (refcount, pincount) is shown as
//! unknown, never guessed.

use super::{PinlabApp, theme};
use egui::{Color32, RichText};
use pinlab_lessons::Lesson;
use pinlab_lessons::model::Preset;
use pinlab_probe::report::{Performed, ProbeReport, ProbeStep, Source, Totals, Verdict};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, serde::Deserialize)]
struct ProbeDoc {
    release: String,
    kernel: String,
    lessons: Vec<ProbeReport>,
    totals: Totals,
}

enum State {
    Running,
    Done(Box<ProbeDoc>),
    Failed(String),
}

pub struct LiveView {
    /// The lesson that was probed (its TOML), to probe again when it changes.
    probed: String,
    state: Arc<Mutex<State>>,
    /// Also list the model's predictions that agree.
    pub all_checks: bool,
}

impl LiveView {
    /// Starts probing `lesson` in the background.
    pub fn start(lesson: &Lesson) -> LiveView {
        let text = lesson.to_toml();
        let state = Arc::new(Mutex::new(State::Running));
        let out = state.clone();
        let input = text.clone();
        std::thread::spawn(move || {
            let result = run_probe(&input);
            if let Ok(mut s) = out.lock() {
                *s = match result {
                    Ok(doc) => State::Done(Box::new(doc)),
                    Err(e) => State::Failed(e),
                };
            }
        });
        LiveView {
            probed: text,
            state,
            all_checks: false,
        }
    }

    pub fn is_for(&self, lesson: &Lesson) -> bool {
        self.probed == lesson.to_toml()
    }

    pub fn running(&self) -> bool {
        self.state.lock().map(|s| matches!(*s, State::Running)).unwrap_or(false)
    }
}

/// Runs `pinlab probe FILE --json` on the lesson written to a private file.
fn run_probe(lesson_toml: &str) -> Result<ProbeDoc, String> {
    let dir = tempfile::Builder::new()
        .prefix("pinlab-live-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary file: {e}"))?;
    let file = dir.path().join("lesson.toml");
    std::fs::write(&file, lesson_toml).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .arg("probe")
        .arg(&file)
        .arg("--json")
        .output()
        .map_err(|e| format!("cannot run pinlab probe: {e}"))?;
    if out.status.code() == Some(2) || out.stdout.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(err.trim_start_matches("pinlab probe: ").to_string());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("unexpected probe output: {e}"))
}

fn verdict_color(v: &Verdict) -> Color32 {
    match v {
        Verdict::Agree => theme::GREEN,
        Verdict::Disagree => theme::HAZARD,
        Verdict::Known(_) => theme::ORANGE,
        Verdict::Skipped(_) => theme::GREY,
    }
}

impl PinlabApp {
    pub(super) fn live_window(&mut self, ctx: &egui::Context) {
        let Some(view) = &mut self.live else { return };
        if !view.is_for(&self.session.lesson) && !view.running() {
            *view = LiveView::start(&self.session.lesson);
        }
        if view.running() {
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
        }
        let step = self.session.step();
        let shown = self.session.preset;
        let mut switch_to = None;
        let mut open = true;
        let all = &mut view.all_checks;
        egui::Window::new("This machine's kernel (live)")
            .open(&mut open)
            .default_size([620.0, 480.0])
            .show(ctx, |ui| {
                let Ok(state) = view.state.lock() else { return };
                match &*state {
                    State::Running => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Running the lesson on this machine's kernel...");
                        });
                    }
                    State::Failed(e) => {
                        ui.label(RichText::new(format!("The probe cannot run here: {e}")).color(theme::HAZARD));
                    }
                    State::Done(doc) => switch_to = doc_ui(ui, doc, step, shown, all),
                }
            });
        if let Some(p) = switch_to {
            self.set_kernel(p);
        }
        if !open {
            self.live = None;
        }
    }
}

/// The probe's report for the step on screen. Returns a preset to switch
/// the canvas to, when the user asks.
fn doc_ui(ui: &mut egui::Ui, doc: &ProbeDoc, step: usize, shown: Preset, all: &mut bool) -> Option<Preset> {
    let r = doc.lessons.first()?;
    ui.label(format!(
        "Linux {} (live) beside the model under {}: {} passed, {} failed, {} skipped.",
        doc.release, doc.kernel, doc.totals.passed, doc.totals.failed, doc.totals.skipped
    ));
    for n in &r.notes {
        ui.label(RichText::new(n).color(theme::GREY));
    }
    let mut switch_to = None;
    if let Some(p) = Preset::parse(&doc.kernel)
        && p != shown
    {
        ui.horizontal(|ui| {
            ui.label(format!(
                "The canvas shows the model under {}; this comparison uses {}, this machine's release.",
                shown.name(),
                p.name()
            ));
            if ui.button(format!("Show {}", p.name())).clicked() {
                switch_to = Some(p);
            }
        });
    }
    ui.checkbox(all, "also the model's predictions that agree");
    ui.separator();
    let Some(s) = r.steps.iter().find(|s| s.step == step) else {
        ui.label("Move to a step to see it on the machine.");
        return switch_to;
    };
    ui.strong(format!("Step {}: {}", s.step, s.action));
    ui.label(match &s.performed {
        Performed::Live(res) => format!("done for real: {res}"),
        Performed::ModelOnly(why) => format!("in the model only: {why}"),
        Performed::NotPerformable(why) => format!("not performable here: {why}"),
        Performed::Skipped(why) => format!("not done: {why}"),
    });
    checks_grid(ui, s, *all);
    switch_to
}

/// One row per check: agree / DIFFER / ?, what, the model's value, this
/// kernel's (or why it is unknown).
fn checks_grid(ui: &mut egui::Ui, s: &ProbeStep, all: bool) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("live-checks").striped(true).show(ui, |ui| {
            for h in ["", "check", "model", "this kernel"] {
                ui.strong(h);
            }
            ui.end_row();
            let shown = s
                .checks
                .iter()
                .filter(|c| all || c.source == Source::Expect || c.verdict != Verdict::Agree);
            for c in shown {
                let mark = match &c.verdict {
                    Verdict::Agree => "agree",
                    Verdict::Disagree => "DIFFER",
                    Verdict::Known(_) => "known",
                    Verdict::Skipped(_) => "?",
                };
                ui.label(RichText::new(mark).color(verdict_color(&c.verdict)));
                ui.label(format!("{}({})", c.what, c.subject));
                ui.label(&c.model);
                ui.label(match &c.verdict {
                    Verdict::Skipped(why) => format!("unknown: {why}"),
                    _ => c.live.clone(),
                });
                ui.end_row();
            }
        });
    });
}
