//! The side panels: narration and question, the micro-step log with source
//! links, hazards, vmstat, and "why is this folio still alive?".

use super::session::Session;
use super::theme;
use egui::{Color32, RichText, Ui};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};
use pinlab_lessons::model::refs::{Referrer, references_to};
use pinlab_lessons::model::world::Vmstat;
use pinlab_lessons::model::{FolioId, World};

/// A link to the kernel source of the preset's release.
pub fn source_url(release: &str, path: &str) -> Option<String> {
    if path.contains('(') || path.is_empty() {
        return None;
    }
    Some(format!("https://elixir.bootlin.com/linux/{release}/source/{path}"))
}

/// How the narration panel is shown.
pub struct NarrationView<'a> {
    pub revealed: &'a mut bool,
    pub large: bool,
    /// The step whose question waits (the cursor is at the end of the step
    /// before): nothing of that step is shown, its narration gives the answer.
    pub asking: Option<usize>,
}

pub fn narration_ui(ui: &mut Ui, s: &Session, md: &mut CommonMarkCache, view: NarrationView<'_>) {
    let NarrationView {
        revealed,
        large,
        asking,
    } = view;
    let k = s.step();
    ui.heading(&s.lesson.title);
    model_bug_banner(ui, s);
    if asking.is_some() && k > 0 {
        // What came before stays at hand, folded: the question is the point now.
        let st = &s.report.steps[k - 1];
        egui::CollapsingHeader::new(format!("So far: step {k} ({})", st.action))
            .id_salt(("so-far", k))
            .default_open(false)
            .show(ui, |ui| {
                CommonMarkViewer::new().show(ui, md, &st.narration);
            });
        return;
    }
    if k == 0 {
        ui.label(RichText::new(&s.lesson.summary).italics());
        if !s.lesson.objectives.is_empty() {
            ui.add_space(6.0);
            ui.strong("Objectives");
            for o in &s.lesson.objectives {
                ui.label(format!("- {o}"));
            }
        }
        if !s.lesson.steps.is_empty() && asking.is_none() {
            ui.add_space(6.0);
            ui.label("Press the Right arrow (or Next step) to begin.");
        }
        return;
    }
    let st = &s.report.steps[k - 1];
    ui.label(RichText::new(format!("Step {k} of {}: {}", s.report.steps.len(), st.action)).monospace());
    ui.separator();
    if large {
        ui.style_mut().override_text_style = Some(egui::TextStyle::Heading);
    }
    CommonMarkViewer::new().show(ui, md, &st.narration);
    if let Some(q) = &st.question {
        ui.separator();
        ui.strong(format!("Question: {}", q.prompt));
        for (i, c) in q.choices.iter().enumerate() {
            ui.label(format!("{}. {c}", i + 1));
        }
        if *revealed {
            ui.label(
                RichText::new(format!("Answer: {}", q.answer))
                    .strong()
                    .color(theme::GREEN),
            );
            CommonMarkViewer::new().show(ui, md, &q.explain);
        } else if ui.button("Reveal answer").clicked() {
            *revealed = true;
        }
    }
    // The checks of a step that asks a question would give the answer away;
    // elsewhere there is nothing to hide, in presenter mode too.
    let hide = !*revealed && st.question.is_some();
    if !st.checks.is_empty() && hide {
        ui.separator();
        ui.label(RichText::new("(the checks are hidden until the answer is revealed: R)").weak());
    } else if !st.checks.is_empty() {
        ui.separator();
        for c in &st.checks {
            let (mark, col) = if c.passed {
                ("pass", theme::GREEN)
            } else {
                ("FAIL", theme::HAZARD)
            };
            ui.label(RichText::new(format!("[{mark}] {}", c.expect)).color(col));
        }
    }
}

pub fn log_ui(ui: &mut Ui, s: &Session) {
    let k = s.step();
    let release = s.preset.release();
    let Some(st) = (if k == 0 { None } else { s.report.steps.get(k - 1) }) else {
        ui.label("The kernel has booted: only the shared zero page exists.");
        return;
    };
    if !st.result.is_ok() {
        ui.label(RichText::new(format!("The action failed: {}", st.result)).color(theme::HAZARD));
    }
    for i in st.first_entry..st.end_entry {
        let e = &s.sim.entries()[i].step;
        let current = i == s.cursor;
        let future = i > s.cursor;
        ui.horizontal_wrapped(|ui| {
            let name = RichText::new(format!(
                "{}{}",
                e.func,
                if e.count > 1 {
                    format!(" x{}", e.count)
                } else {
                    String::new()
                }
            ))
            .monospace()
            .strong();
            let name = if current {
                name.background_color(theme::CHANGED.gamma_multiply(0.5))
            } else {
                name
            };
            let name = if future { name.weak() } else { name };
            match source_url(release, e.path) {
                Some(url) => {
                    ui.hyperlink_to(name, url)
                        .on_hover_text(format!("{} in {release}", e.path));
                }
                None => {
                    ui.label(name);
                }
            }
            ui.label(RichText::new(e.path).small().weak());
        });
        let text = RichText::new(&e.text);
        ui.label(if future { text.weak() } else { text });
        ui.add_space(4.0);
    }
}

/// A broken invariant is a bug in pinlab, not a finding about the kernel:
/// shown apart from hazards, above the narration, in black on yellow.
pub fn model_bug_banner(ui: &mut Ui, s: &Session) {
    if s.report.model_bugs == 0 {
        return;
    }
    let first = s
        .report
        .steps
        .iter()
        .find_map(|st| st.model_bugs.first().map(|b| format!("step {}: {b}", st.step)))
        .unwrap_or_default();
    egui::Frame::new().fill(theme::YELLOW).inner_margin(6.0).show(ui, |ui| {
        ui.label(
            RichText::new(format!(
                "Model bug: pinlab broke {} of its own invariant(s) in this lesson under {}. \
                     This is a bug in pinlab, not a kernel hazard: please report it. First: {first}",
                s.report.model_bugs, s.report.kernel
            ))
            .color(egui::Color32::BLACK),
        );
    });
}

pub fn hazards_ui(ui: &mut Ui, w: &World) {
    if w.hazards.is_empty() {
        ui.label("No hazard so far.");
        return;
    }
    for h in w.hazards.iter() {
        egui::Frame::new()
            .stroke(egui::Stroke::new(2.0, theme::HAZARD))
            .inner_margin(6.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.label(
                    RichText::new(format!("! {} (micro-step {})", h.kind.name(), h.step))
                        .strong()
                        .color(theme::HAZARD),
                );
                ui.label(&h.text);
            });
    }
}

pub fn vmstat_ui(ui: &mut Ui, s: &Session) {
    let w = s.world();
    ui.label(format!(
        "kernel {}{}",
        s.preset.name(),
        if s.whatif.names().is_empty() {
            String::new()
        } else {
            format!(", what-if: {}", s.whatif.names().join(", "))
        }
    ));
    egui::Grid::new("vmstat").striped(true).show(ui, |ui| {
        for n in Vmstat::NAMES {
            ui.label(RichText::new(n).monospace());
            ui.label(w.vmstat.get(n).unwrap_or(0).to_string());
            ui.end_row();
        }
    });
}

/// Every reference the selected folio holds, with the step that took it, and
/// its counts over the timeline.
pub fn why_alive_ui(ui: &mut Ui, s: &Session, id: FolioId) {
    let w = s.world();
    if id.0 as usize >= w.folios.len() {
        ui.label("This folio does not exist yet at this point of the timeline.");
        return;
    }
    let f = w.folio(id);
    ui.strong(super::canvas::folio_label(id, f));
    for r in references_to(w, id) {
        let who = match &r.from {
            Referrer::Pte(p, v) | Referrer::Pmd(p, v) => w.page_name(*p, *v),
            Referrer::PageCache(f, i) => format!("page cache of {} [{i}]", w.file(*f).name),
            Referrer::SwapCache(sl) => format!("swap cache (slot {sl})"),
            Referrer::Holder(h) => {
                let taken = w
                    .holders
                    .get(h)
                    .map(|h| format!(", taken at micro-step {}", h.taken_at))
                    .unwrap_or_default();
                format!("holder '{h}'{taken}")
            }
            Referrer::Pipe(p) => format!("pipe '{p}'"),
            Referrer::KernelBuf(k, i) => format!("kernel buffer {k}[{i}]"),
            Referrer::Reserved => "the zero page's own reference".into(),
            Referrer::Private(_) => "the filesystem's private data (buffer heads)".into(),
            Referrer::Leak(_) => "references a kernel bug leaked (nothing will drop them)".into(),
            Referrer::Isolation(_) => "reclaim, which took it off its LRU list".into(),
        };
        ui.label(format!(
            "- {:?}: +{} ref{}: {who}",
            r.kind,
            r.refs,
            if r.pins > 0 {
                format!(", +{} pin", r.pins)
            } else {
                String::new()
            }
        ));
    }
    let mut rc = Vec::new();
    let mut pc = Vec::new();
    let mut mc = Vec::new();
    for (i, e) in s.sim.entries().iter().enumerate() {
        if let Some(f) = e.world.folios.get(id.0 as usize) {
            rc.push([i as f64, f.refcount as f64]);
            pc.push([i as f64, f.pincount as f64]);
            mc.push([i as f64, f.total_mapcount() as f64]);
        }
    }
    egui_plot::Plot::new(("counts", id.0))
        .height(140.0)
        .legend(egui_plot::Legend::default())
        .show(ui, |p| {
            p.line(egui_plot::Line::new("refcount", rc).color(theme::REF));
            p.line(egui_plot::Line::new("pincount", pc).color(theme::PIN));
            p.line(egui_plot::Line::new("mapcount", mc).color(theme::MAP));
            p.vline(egui_plot::VLine::new("now", s.cursor as f64).color(Color32::GRAY));
        });
}
