//! The sandbox: free play under a chosen preset and toggles. Every model
//! action is on a palette with a form; an action the kernel refuses shows
//! its errno and changes nothing. The session is an ordinary lesson, so the
//! timeline is the undo, and "Save" writes a file `pinlab run` accepts as is.
//! "Find a counterexample" searches random sequences for a hazard.

use super::session::{Nav, Session};
use super::{PinlabApp, Source, theme};
use egui::{RichText, Ui};
use pinlab_lessons::counterexample::{self, Progress, lesson_text};
use pinlab_lessons::model::catalogue::{self, Arg, ArgKind, NameOf};
use pinlab_lessons::model::{FolioId, HazardKind, World};
use pinlab_lessons::write::step_toml;
use pinlab_lessons::{Lesson, load_str};
use std::collections::BTreeMap;

pub struct Sandbox {
    /// The steps so far: the TOML lines after each `[[step]]`.
    pub steps: Vec<String>,
    pub action: String,
    /// The form: argument name -> text typed.
    pub args: BTreeMap<String, String>,
    /// The last outcome: (it worked, message).
    pub message: Option<(bool, String)>,
    pub save_path: String,
    pub hazard: HazardKind,
    pub seed: u64,
    /// A counterexample search under way (a slice of tries per frame).
    pub search: Option<counterexample::Search>,
    /// The user's own actions, kept when a counterexample replaced them.
    pub before_search: Option<Vec<String>>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            steps: Vec::new(),
            action: "spawn".into(),
            args: BTreeMap::new(),
            message: None,
            save_path: "sandbox.toml".into(),
            hazard: HazardKind::DataLeak,
            seed: 1,
            search: None,
            before_search: None,
        }
    }
}

/// What the sandbox panel asks the app to do (the panel itself changes only
/// the sandbox's own state: the form, the chosen action and hazard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxCommand {
    Undo,
    Do {
        action: String,
        args: Vec<(String, String)>,
    },
    Save,
    Copy,
    Find,
    Stop,
    Back,
}

impl Sandbox {
    /// Draws the panel for the world on screen; returns what the user asked.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        world: &World,
        preset: pinlab_lessons::model::Preset,
        selected: Option<(String, String, u64)>,
    ) -> Vec<SandboxCommand> {
        let mut out = Vec::new();
        ui.heading("Sandbox");
        ui.label(format!(
            "{} action(s) under {}. Undo is the timeline, or:",
            self.steps.len(),
            preset.name()
        ));
        if ui.button("Undo last action").clicked() {
            out.push(SandboxCommand::Undo);
        }
        self.action_picker(ui);
        let names = self.arg_form(ui, world);
        if let Some((p, v, page)) = &selected {
            let at = format!("{p}:{v}[{page}]");
            if ui.button(format!("Use the selected folio ({at})")).clicked() {
                self.args.insert("proc".into(), p.clone());
                self.args.insert("vma".into(), v.clone());
                for k in ["page", "start"] {
                    if names.contains(&k) {
                        self.args.insert(k.into(), page.to_string());
                    }
                }
            }
        }
        if ui
            .button(RichText::new(format!("Do {}", self.action)).strong())
            .clicked()
        {
            let args = names
                .iter()
                .map(|n| (n.to_string(), self.args.get(*n).cloned().unwrap_or_default()))
                .collect();
            out.push(SandboxCommand::Do {
                action: self.action.clone(),
                args,
            });
        }
        if let Some((ok, m)) = &self.message {
            ui.label(RichText::new(m).color(if *ok { theme::GREEN } else { theme::HAZARD }));
        }
        ui.separator();
        self.save_ui(ui, &mut out);
        ui.separator();
        self.search_ui(ui, &mut out);
        out
    }

    fn action_picker(&mut self, ui: &mut Ui) {
        let mut action = self.action.clone();
        let r = egui::ComboBox::from_id_salt("sandbox-action")
            .selected_text(&action)
            .show_ui(ui, |ui| {
                for a in catalogue::CATALOGUE {
                    ui.selectable_value(&mut action, a.name.to_string(), a.name)
                        .on_hover_text(a.does);
                }
            });
        r.response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Action"));
        if action != self.action {
            self.action = action;
            self.args.clear();
        }
    }

    /// The chosen action's arguments, one row each, with suggestions from
    /// the world. Returns the argument names.
    fn arg_form(&mut self, ui: &mut Ui, world: &World) -> Vec<&'static str> {
        let spec_args: &[Arg] = catalogue::spec(&self.action).map_or(&[], |s| s.args);
        let proc = self.args.get("proc").cloned();
        egui::Grid::new("sandbox-args").num_columns(3).show(ui, |ui| {
            for arg in spec_args {
                let name = arg.name;
                let l = ui.label(name);
                if !arg.doc.is_empty() {
                    l.clone().on_hover_text(arg.doc);
                }
                let text = self.args.entry(name.to_string()).or_default();
                ui.add_sized([140.0, 20.0], egui::TextEdit::singleline(text))
                    .labelled_by(l.id);
                let options = suggestions(arg, world, proc.as_deref());
                if options.is_empty() {
                    ui.label("");
                } else {
                    egui::ComboBox::from_id_salt(("pick", name))
                        .selected_text("pick")
                        .width(60.0)
                        .show_ui(ui, |ui| {
                            for o in options {
                                if ui.selectable_label(*text == o, &o).clicked() {
                                    *text = o;
                                }
                            }
                        });
                }
                ui.end_row();
            }
        });
        spec_args.iter().map(|a| a.name).collect()
    }

    fn save_ui(&mut self, ui: &mut Ui, out: &mut Vec<SandboxCommand>) {
        ui.strong("Save as a lesson");
        #[cfg(not(target_arch = "wasm32"))]
        ui.horizontal(|ui| {
            let l = ui.label("file");
            ui.add(egui::TextEdit::singleline(&mut self.save_path).desired_width(160.0))
                .labelled_by(l.id);
            if ui.button("Save").clicked() {
                out.push(SandboxCommand::Save);
            }
        });
        if ui.button("Copy the lesson text").clicked() {
            out.push(SandboxCommand::Copy);
        }
    }

    fn search_ui(&mut self, ui: &mut Ui, out: &mut Vec<SandboxCommand>) {
        ui.strong("Find a counterexample");
        let mut hazard = self.hazard;
        let r = egui::ComboBox::from_id_salt("sandbox-hazard")
            .selected_text(hazard.name())
            .show_ui(ui, |ui| {
                for h in HazardKind::ALL {
                    ui.selectable_value(&mut hazard, h, h.name());
                }
            });
        r.response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Hazard to find"));
        self.hazard = hazard;
        if self.search.is_some() {
            if ui.button("Stop the search").clicked() {
                out.push(SandboxCommand::Stop);
            }
        } else if ui
            .button("Search random sequences")
            .on_hover_text("Up to 20,000 sequences under this kernel and toggles; the first hit is shrunk.")
            .clicked()
        {
            out.push(SandboxCommand::Find);
        }
        if self.before_search.is_some() && ui.button("Back to my actions").clicked() {
            out.push(SandboxCommand::Back);
        }
    }
}

/// A form field as a TOML value of the argument's kind (from the action
/// catalogue). What was typed is never pasted into the lesson as is: text
/// is quoted by the toml crate, and a line break is refused, so a field
/// cannot add steps or keys.
fn toml_value(arg: &Arg, v: &str) -> Result<String, String> {
    let v = v.trim();
    let name = arg.name;
    if v.contains(['\n', '\r']) {
        return Err(format!("{name}: one line only"));
    }
    match arg.kind {
        ArgKind::Number { min, max } => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
            Ok(n) => Err(format!("{name}: from {min} to {max}, not {n}")),
            Err(_) => Err(format!("{name}: a whole number, not '{v}'")),
        },
        ArgKind::Bool => match v {
            "true" | "false" => Ok(v.to_string()),
            _ => Err(format!("{name}: true or false, not '{v}'")),
        },
        ArgKind::OneOf { values } if !values.contains(&v) => {
            Err(format!("{name}: one of {}, not '{v}'", values.join(", ")))
        }
        ArgKind::TagList => {
            // A list of page tags, typed as "a, b, c" (brackets and quotes optional).
            let inner = v.trim_start_matches('[').trim_end_matches(']');
            let tags: Vec<toml::Value> = inner
                .split(',')
                .map(|t| t.trim().trim_matches('"').to_string())
                .filter(|t| !t.is_empty())
                .map(toml::Value::String)
                .collect();
            Ok(toml::Value::Array(tags).to_string())
        }
        _ => Ok(toml::Value::String(v.to_string()).to_string()),
    }
}

/// What an argument can be set to: names from the world (processes,
/// mappings, holders, files, pipes, kernel buffers) or the catalogue's words.
fn suggestions(arg: &Arg, w: &World, proc: Option<&str>) -> Vec<String> {
    match arg.kind {
        ArgKind::Name { of } => match of {
            NameOf::Process => w.procs.values().filter(|p| p.alive).map(|p| p.name.clone()).collect(),
            NameOf::Mapping => {
                let mut v: Vec<String> = w
                    .procs
                    .values()
                    .filter(|p| p.alive && proc.is_none_or(|n| p.name == n))
                    .flat_map(|p| p.mm.vmas.values().map(|v| v.name.clone()))
                    .collect();
                v.sort();
                v.dedup();
                v
            }
            NameOf::Holder => w.holders.keys().cloned().collect(),
            NameOf::File => w.files.values().map(|f| f.name.clone()).collect(),
            NameOf::Pipe => w.pipes.keys().cloned().collect(),
            NameOf::Kbuf => w.kbufs.keys().cloned().collect(),
            NameOf::NewProcess | NameOf::NewMapping | NameOf::NewFile | NameOf::NewHolder | NameOf::NewKbuf => {
                Vec::new()
            }
        },
        ArgKind::OneOf { values } => values.iter().map(|v| v.to_string()).collect(),
        ArgKind::Bool => vec!["true".into(), "false".into()],
        _ => Vec::new(),
    }
}

/// The first mapping of a folio, as (process, mapping, page): what "use the
/// selected folio" fills in.
fn mapping_of(w: &World, f: FolioId) -> Option<(String, String, u64)> {
    for p in w.procs.values().filter(|p| p.alive) {
        for v in p.mm.vmas.values() {
            // Lessons count pages from where the mapping was made, even after part of it went.
            let first = p.mm.regions.get(&v.name).map_or(v.start, |r| r.base);
            for i in 0..v.pages() {
                if v.pte(v.start + i).folio().is_some_and(|(g, _)| g == f) {
                    return Some((p.name.clone(), v.name.clone(), v.start + i - first));
                }
            }
        }
    }
    None
}

impl PinlabApp {
    /// Enters the sandbox (under the current preset and toggles, with the
    /// actions of the last time it was closed), or leaves it.
    pub fn set_sandbox(&mut self, on: bool) {
        if on {
            let steps = self.sandbox_stash.take().unwrap_or_default();
            self.sandbox = Some(Sandbox {
                steps,
                ..Default::default()
            });
            self.rebuild_sandbox();
        } else if let Some(sb) = self.sandbox.take() {
            // Leaving does not lose the work: reopening brings it back.
            self.sandbox_stash = Some(sb.steps);
        }
    }

    /// The sandbox as lesson text.
    pub fn sandbox_text(&self) -> Option<String> {
        let sb = self.sandbox.as_ref()?;
        Some(lesson_text(
            "Sandbox",
            self.session.preset,
            self.session.whatif,
            &sb.steps,
        ))
    }

    /// Rebuilds the session from the sandbox's steps.
    pub(super) fn rebuild_sandbox(&mut self) {
        let Some(text) = self.sandbox_text() else { return };
        let (preset, whatif) = (self.session.preset, self.session.whatif);
        if self.sandbox.as_ref().is_some_and(|s| s.steps.is_empty()) {
            // Nothing done yet: a booted kernel. (A lesson file needs a step,
            // so this one is built here rather than loaded.)
            let empty = Lesson {
                id: "sandbox".into(),
                title: "Sandbox".into(),
                summary: "Pick an action on the palette to begin.".into(),
                objectives: Vec::new(),
                kernels: vec![preset],
                whatif,
                steps: Vec::new(),
                source: "sandbox.toml".into(),
            };
            self.open_lesson(empty, Source::Builtin(String::new()));
            return;
        }
        match load_str("sandbox.toml", &text) {
            Ok(l) => {
                self.open_session(Session::new(l, preset, Some(whatif)), Source::Builtin(String::new()));
                self.nav(Nav::End);
            }
            Err(e) => {
                if let Some(sb) = &mut self.sandbox {
                    sb.message = Some((false, e.to_string()));
                }
            }
        }
    }

    /// Performs the palette's action: kept only if the kernel accepts it.
    pub fn sandbox_do(&mut self, action: &str, args: &[(&str, &str)]) -> Result<(), String> {
        let Some(spec) = catalogue::spec(action) else {
            return Err(format!("no action '{action}'"));
        };
        let mut body = format!("do = {action:?}");
        for (k, v) in args.iter().filter(|(_, v)| !v.trim().is_empty()) {
            let Some(arg) = spec.arg(k) else {
                return Err(format!("{action} takes no argument '{k}'"));
            };
            let v = toml_value(arg, v).inspect_err(|e| {
                if let Some(sb) = &mut self.sandbox {
                    sb.message = Some((false, format!("{action}: {e}")));
                }
            })?;
            body.push_str(&format!("\n{k} = {v}"));
        }
        let Some(sb) = &self.sandbox else {
            return Err("the sandbox is not open".into());
        };
        let mut steps = sb.steps.clone();
        steps.push(body);
        let text = lesson_text("Sandbox", self.session.preset, self.session.whatif, &steps);
        // Run once: the same session is shown if the kernel accepts the action.
        let (preset, whatif) = (self.session.preset, self.session.whatif);
        let tried = load_str("sandbox.toml", &text).map_err(|e| e.message).and_then(|l| {
            let session = Session::new(l, preset, Some(whatif));
            match session.report.steps.last().map(|s| s.result.clone()) {
                Some(res) if res.is_ok() => Ok(session),
                Some(res) => Err(format!("{res}. Nothing changed.")),
                None => Err("no step".into()),
            }
        });
        let sb = self.sandbox.as_mut().expect("checked");
        match tried {
            Ok(session) => {
                sb.steps = steps;
                sb.message = Some((true, format!("{action}: done")));
                self.open_session(session, Source::Builtin(String::new()));
                self.nav(Nav::End);
                Ok(())
            }
            Err(e) => {
                sb.message = Some((false, format!("{action}: {e}")));
                Err(e)
            }
        }
    }

    /// Drops the last action.
    pub fn sandbox_undo(&mut self) {
        if let Some(sb) = &mut self.sandbox
            && sb.steps.pop().is_some()
        {
            sb.message = None;
            self.rebuild_sandbox();
        }
    }

    /// The sandbox panel: the sandbox draws itself and says what it wants
    /// done; the app does it here.
    pub(super) fn sandbox_ui(&mut self, ui: &mut Ui) {
        let world = self.session.world().clone();
        let selected = self.selected.and_then(|f| mapping_of(&world, f));
        let preset = self.session.preset;
        let Some(sb) = &mut self.sandbox else { return };
        for c in sb.ui(ui, &world, preset, selected) {
            self.apply_sandbox(c, ui.ctx());
        }
        if self.sandbox.as_ref().is_some_and(|s| s.search.is_some()) {
            // A slice per frame: the window stays responsive, on wasm too.
            self.poll_counterexample(150);
            ui.ctx().request_repaint();
        }
    }

    fn apply_sandbox(&mut self, c: SandboxCommand, ctx: &egui::Context) {
        match c {
            SandboxCommand::Undo => self.sandbox_undo(),
            SandboxCommand::Do { action, args } => {
                let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let _ = self.sandbox_do(&action, &args);
            }
            #[cfg(not(target_arch = "wasm32"))]
            SandboxCommand::Save => {
                let r = self.save_sandbox();
                if let Some(sb) = &mut self.sandbox {
                    sb.message = Some(match r {
                        Ok(p) => (true, format!("saved {p}: `pinlab run {p}` replays it")),
                        Err(e) => (false, e),
                    });
                }
            }
            #[cfg(target_arch = "wasm32")]
            SandboxCommand::Save => {}
            SandboxCommand::Copy => {
                if let Some(t) = self.sandbox_text() {
                    ctx.copy_text(t);
                }
            }
            SandboxCommand::Find => self.start_counterexample(),
            SandboxCommand::Stop => {
                if let Some(sb) = &mut self.sandbox {
                    sb.search = None;
                    sb.message = Some((false, "Search stopped.".into()));
                }
            }
            SandboxCommand::Back => {
                if let Some(sb) = &mut self.sandbox {
                    sb.steps = sb.before_search.take().unwrap_or_default();
                    sb.message = None;
                    self.rebuild_sandbox();
                }
            }
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn save_sandbox(&self) -> Result<String, String> {
        let sb = self.sandbox.as_ref().ok_or("the sandbox is not open")?;
        let text = self.sandbox_text().ok_or("the sandbox is not open")?;
        std::fs::write(&sb.save_path, text).map_err(|e| format!("{}: {e}", sb.save_path))?;
        Ok(sb.save_path.clone())
    }

    /// Starts a counterexample search under the current kernel and toggles.
    pub fn start_counterexample(&mut self) {
        let (preset, whatif) = (self.session.preset, self.session.whatif);
        if let Some(sb) = &mut self.sandbox {
            sb.search = Some(counterexample::Search::new(
                preset, whatif, sb.hazard, sb.seed, 20_000, 8,
            ));
            sb.seed += 1;
        }
    }

    /// Runs the search to its end (tests, scripts).
    pub fn find_counterexample(&mut self) {
        self.start_counterexample();
        while self.sandbox.as_ref().is_some_and(|s| s.search.is_some()) {
            self.poll_counterexample(u32::MAX);
        }
    }

    /// Runs up to `tries` more tries of a search under way; a hit replaces the
    /// sandbox's actions, which "Back to my actions" restores.
    pub(super) fn poll_counterexample(&mut self, tries: u32) {
        let Some(sb) = &mut self.sandbox else { return };
        let Some(search) = &mut sb.search else { return };
        let total = search.tries();
        let preset = self.session.preset;
        match search.advance(tries) {
            Progress::Searching { tried } => {
                sb.message = Some((true, format!("Searching: {tried} of {total} sequences...")));
            }
            Progress::Exhausted { tried } => {
                sb.search = None;
                sb.message = Some((
                    false,
                    format!("No {} in {tried} sequences under {}.", sb.hazard.name(), preset.name()),
                ));
            }
            Progress::ModelBug { steps, bug } => {
                sb.search = None;
                sb.message = Some((
                    false,
                    format!("Model bug (please report it): {bug}. The sequence is now in the sandbox."),
                ));
                let steps = steps.iter().map(step_toml).collect();
                let mine = std::mem::replace(&mut sb.steps, steps);
                sb.before_search.get_or_insert(mine);
                self.rebuild_sandbox();
            }
            Progress::Found(f) => {
                sb.search = None;
                sb.message = Some((
                    true,
                    format!(
                        "{} after {} sequence(s); shrunk from {} to {} steps.",
                        sb.hazard.name(),
                        f.tries,
                        f.original_len,
                        f.steps.len()
                    ),
                ));
                let steps = f.steps.iter().map(step_toml).collect();
                let mine = std::mem::replace(&mut sb.steps, steps);
                sb.before_search.get_or_insert(mine);
                self.rebuild_sandbox();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use pinlab_lessons::model::{Preset, Sim};

    struct State {
        sb: Sandbox,
        world: World,
        out: Vec<SandboxCommand>,
    }

    fn harness() -> Harness<'static, State> {
        let state = State {
            sb: Sandbox::default(),
            world: Sim::new(Preset::V6_18).world().clone(),
            out: Vec::new(),
        };
        Harness::new_ui_state(
            |ui, s: &mut State| {
                let cmds = s.sb.ui(ui, &s.world, Preset::V6_18, None);
                s.out.extend(cmds);
            },
            state,
        )
    }

    #[test]
    fn the_panel_asks_for_the_action_with_the_form_as_typed() {
        let mut h = harness();
        h.state_mut().sb.args.insert("name".into(), "p".into());
        h.run();
        h.get_by_label("Do spawn").click();
        h.run();
        assert_eq!(
            h.state().out,
            vec![SandboxCommand::Do {
                action: "spawn".into(),
                args: vec![("name".into(), "p".into())],
            }]
        );
    }

    #[test]
    fn undo_and_search_are_commands_not_changes() {
        let mut h = harness();
        h.get_by_label("Undo last action").click();
        h.run();
        h.get_by_label("Search random sequences").click();
        h.run();
        assert_eq!(h.state().out, vec![SandboxCommand::Undo, SandboxCommand::Find]);
        // The panel changed nothing itself: no steps, no search under way.
        assert!(h.state().sb.steps.is_empty() && h.state().sb.search.is_none());
    }

    #[test]
    fn a_form_field_is_checked_against_the_catalogue() {
        let pages = catalogue::spec("mmap").and_then(|s| s.arg("pages")).unwrap();
        assert_eq!(toml_value(pages, "4"), Ok("4".into()));
        assert!(toml_value(pages, "0").unwrap_err().contains("from 1"));
        assert!(toml_value(pages, "four").unwrap_err().contains("whole number"));
        let advice = catalogue::spec("madvise").and_then(|s| s.arg("advice")).unwrap();
        assert!(toml_value(advice, "DONTFORKK").unwrap_err().contains("one of"));
        let name = catalogue::spec("spawn").and_then(|s| s.arg("name")).unwrap();
        // Quoted by the toml crate: the text reads back as typed.
        let v = toml_value(name, "a\"b").unwrap();
        let t: toml::Table = toml::from_str(&format!("x = {v}")).unwrap();
        assert_eq!(t["x"].as_str(), Some("a\"b"));
        assert!(toml_value(name, "a\nb").is_err());
    }
}
