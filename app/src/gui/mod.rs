//! The desktop (and, later, web) application: one `PinlabApp` with a canvas,
//! narration, the micro-step log, hazards, vmstat and a timeline.

pub mod api;
pub mod canvas;
pub mod class;
pub mod exercises_view;
pub mod export;
pub mod lecture_walk;
pub mod links;
#[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
pub mod live_view;
pub mod panels;
pub mod presenter;
pub mod quiz;
pub mod sandbox;
pub mod selftests_view;
pub mod session;
pub mod side_by_side;
pub mod theme;

use egui::{Key, RichText};
use egui_commonmark::CommonMarkCache;
use pinlab_lessons::model::{FolioId, Preset, WhatIf, World};
use pinlab_lessons::{Lesson, builtin, load_str};
use serde::{Deserialize, Serialize};
use session::{Nav, Session};
use std::path::PathBuf;
use std::time::SystemTime;

/// Where the current lesson came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Builtin(String),
    File(PathBuf),
}

/// What survives a restart (eframe persistence).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Saved {
    pub source: Source,
    pub kernel: String,
    pub step: usize,
    pub dark: bool,
    pub zoom: f32,
    /// The sandbox's actions, when it was open: never lose the user's work.
    #[serde(default)]
    pub sandbox: Option<Vec<String>>,
    /// ... and when it was closed.
    #[serde(default)]
    pub sandbox_closed: Option<Vec<String>>,
    /// No animation between micro-steps.
    #[serde(default)]
    pub reduce_motion: bool,
    /// A student's own live-class results (only ever on their device).
    #[serde(default)]
    pub live_results: Vec<class::LiveResult>,
    /// A student's last seat, to rejoin as the same student after a reload.
    #[serde(default)]
    pub live_seat: Option<class::Seat>,
    /// The room this app lectures (its key), to take it back after a restart.
    #[serde(default)]
    pub live_lecture: Option<class::Seat>,
}

const SAVE_KEY: &str = "pinlab-state";

/// Below this width (points) the side panels become tabs.
const NARROW: f32 = 800.0;

/// The tabs of a narrow screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Picture,
    Story,
    Kernel,
}

/// Which world is on screen: lesson, kernel, micro-step.
type ShownKey = (String, &'static str, usize);

pub struct PinlabApp {
    session: Session,
    source: Source,
    /// A lesson that failed to load, shown above the canvas; the app keeps the previous lesson.
    error: Option<String>,
    /// The user's zoom on top of the canvas' fit (1: fitted).
    zoom: f32,
    /// The user's pan of the canvas, in points (zero: centred).
    pan: egui::Vec2,
    /// What the canvas showed in the last frame.
    canvas_stats: canvas::CanvasStats,
    /// The tab shown on a narrow screen.
    tab: Tab,
    /// The top bar's menu, folded on a narrow screen.
    menu_open: bool,
    /// No animation between micro-steps (a setting; the browser's
    /// prefers-reduced-motion turns it on).
    reduce_motion: bool,
    /// The world on screen and what it is (lesson, kernel, micro-step), to
    /// animate from when the micro-step changes.
    on_screen: Option<(ShownKey, World)>,
    /// The transition under way: from this world, started at this time.
    anim: Option<(World, f64)>,
    dark: bool,
    /// Presenter-friendly large text.
    large: bool,
    playing: bool,
    /// Micro-steps per second while playing.
    speed: f32,
    selected: Option<FolioId>,
    revealed: bool,
    quiz: quiz::Quiz,
    /// The second pane of side by side, following the first.
    compare: Option<Session>,
    /// Free play: the palette, the actions so far, the counterexample search.
    sandbox: Option<sandbox::Sandbox>,
    /// The sandbox's actions while it is closed.
    sandbox_stash: Option<Vec<String>>,
    selftests: Option<selftests_view::SelftestsView>,
    exercises: Option<exercises_view::ExercisesView>,
    /// The live class: a room this app lectures or follows.
    class: class::LiveClass,
    /// The lesson on this machine's own kernel (`pinlab probe`).
    #[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
    live: Option<live_view::LiveView>,
    /// Where the canvas was last drawn (for its PNG).
    canvas_rect: egui::Rect,
    /// What an export did (a PNG arrives from a screenshot callback).
    notice: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// Presenter mode: full screen, large type, answers and checks hidden until revealed.
    presenter: presenter::Presenter,
    show_help: bool,
    /// Presenter commands from buttons outside the presenter's own bar.
    presenter_cmds: Vec<presenter::PresenterCommand>,
    /// The lecture being walked, if one was opened (lecture_walk.rs).
    lecture: Option<lecture_walk::LectureWalk>,
    show_transcript: bool,
    /// The "Open a lesson file" box (desktop only: the web build has no files).
    #[cfg(not(target_arch = "wasm32"))]
    open_path: String,
    last_tick: f64,
    last_step: usize,
    file_mtime: Option<SystemTime>,
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    last_poll: f64,
    md: CommonMarkCache,
}

fn first_lesson() -> Lesson {
    builtin::all()
        .into_iter()
        .flatten()
        .next()
        .expect("the curriculum has lessons")
}

impl Default for PinlabApp {
    fn default() -> Self {
        let lesson = first_lesson();
        let id = lesson.id.clone();
        let preset = lesson.kernels[0];
        PinlabApp {
            session: Session::new(lesson, preset, None),
            source: Source::Builtin(id),
            error: None,
            zoom: 1.0,
            pan: egui::Vec2::ZERO,
            canvas_stats: canvas::CanvasStats::default(),
            reduce_motion: false,
            tab: Tab::Picture,
            menu_open: false,
            on_screen: None,
            anim: None,
            dark: true,
            large: false,
            playing: false,
            speed: 2.0,
            selected: None,
            revealed: false,
            quiz: quiz::Quiz::default(),
            compare: None,
            sandbox: None,
            sandbox_stash: None,
            selftests: None,
            exercises: None,
            class: class::LiveClass::default(),
            #[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
            live: None,
            canvas_rect: egui::Rect::NOTHING,
            notice: Default::default(),
            presenter: presenter::Presenter::default(),
            show_help: false,
            presenter_cmds: Vec::new(),
            lecture: None,
            show_transcript: false,
            #[cfg(not(target_arch = "wasm32"))]
            open_path: String::new(),
            last_tick: 0.0,
            last_step: 0,
            file_mtime: None,
            last_poll: 0.0,
            md: CommonMarkCache::default(),
        }
    }
}

impl PinlabApp {
    /// The app restored from storage; a damaged or missing state gives the defaults.
    /// The lesson run on screen.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The second pane of side by side, when it is open.
    pub fn compare(&self) -> Option<&Session> {
        self.compare.as_ref()
    }

    pub fn quiz(&self) -> &quiz::Quiz {
        &self.quiz
    }

    /// Quiz mode on or off (forward moves stop before each question).
    pub fn set_quiz(&mut self, on: bool) {
        self.quiz.enabled = on;
        self.quiz.reset();
    }

    /// Predict first on or off (on by default: stop before every question).
    pub fn set_predict_first(&mut self, on: bool) {
        self.quiz.predict_first = on;
        self.quiz.asking = None;
    }

    pub fn sandbox(&self) -> Option<&sandbox::Sandbox> {
        self.sandbox.as_ref()
    }

    pub fn sandbox_mut(&mut self) -> Option<&mut sandbox::Sandbox> {
        self.sandbox.as_mut()
    }

    pub fn selftests(&self) -> Option<&selftests_view::SelftestsView> {
        self.selftests.as_ref()
    }

    /// Whether the current step's answer and checks are revealed.
    pub fn revealed(&self) -> bool {
        self.revealed
    }

    pub fn presenter(&self) -> bool {
        self.presenter.on
    }

    /// What the canvas showed in the last frame (fit, text size, bar pieces).
    pub fn canvas_stats(&self) -> &canvas::CanvasStats {
        &self.canvas_stats
    }

    pub fn reduce_motion(&self) -> bool {
        self.reduce_motion
    }

    pub fn set_reduce_motion(&mut self, on: bool) {
        self.reduce_motion = on;
        self.anim = None;
    }

    /// Fit the canvas to its pane again (the F key).
    pub fn fit_canvas(&mut self) {
        self.zoom = 1.0;
        self.pan = egui::Vec2::ZERO;
    }

    pub fn large_text(&self) -> bool {
        self.large
    }

    /// Why the last lesson could not be opened, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Opens the "Real kernel" window on the lesson on screen.
    #[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
    pub fn open_live(&mut self) {
        self.live = Some(live_view::LiveView::start(&self.session.lesson));
    }

    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let mut app = PinlabApp::default();
        if let Some(saved) = cc.storage.and_then(|s| eframe::get_value::<Saved>(s, SAVE_KEY)) {
            app.restore(saved);
        }
        // A theme, not visuals: visuals alone are overridden by the browser's colour scheme.
        cc.egui_ctx.set_theme(app.theme());
        // Live-class messages wake the app even before its first frame (a
        // join link is followed as soon as the page starts).
        app.set_class_wake(cc.egui_ctx.clone());
        app
    }

    fn theme(&self) -> egui::Theme {
        if self.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        }
    }

    pub fn saved(&self) -> Saved {
        Saved {
            source: self.source.clone(),
            kernel: self.session.preset.name().to_string(),
            step: self.session.step(),
            dark: self.dark,
            zoom: self.zoom,
            reduce_motion: self.reduce_motion,
            sandbox: self.sandbox.as_ref().map(|s| s.steps.clone()),
            sandbox_closed: self.sandbox_stash.clone(),
            live_results: self.class.results.clone(),
            live_seat: self.class.seat.clone(),
            live_lecture: self.class.lecture.clone(),
        }
    }

    pub fn restore(&mut self, s: Saved) {
        self.class.results = s.live_results;
        self.class.seat = s.live_seat;
        self.class.lecture = s.live_lecture;
        self.dark = s.dark;
        self.reduce_motion = s.reduce_motion;
        self.zoom = if s.zoom.is_finite() {
            s.zoom.clamp(0.3, 4.0)
        } else {
            1.0
        };
        let ok = match &s.source {
            Source::Builtin(id) => self.open_builtin(id),
            Source::File(p) => self.open_file(p.clone()),
        };
        if ok {
            if let Some(p) = Preset::parse(&s.kernel) {
                self.set_kernel(p);
            }
            self.session.nav(Nav::Step(s.step));
        }
        self.sandbox_stash = s.sandbox_closed;
        if let Some(steps) = s.sandbox {
            self.set_sandbox(true);
            if let Some(sb) = &mut self.sandbox {
                sb.steps = steps;
            }
            self.rebuild_sandbox();
        }
        // A saved lesson that no longer loads is not an error worth showing at start.
        if !ok {
            self.error = None;
        }
    }

    /// Shows a lesson; on failure keeps the current one and shows the error.
    pub fn open_lesson(&mut self, lesson: Lesson, source: Source) {
        let preset = lesson.kernels[0];
        self.open_session(Session::new(lesson, preset, None), source);
    }

    /// Shows a lesson already run (the sandbox runs it once to check it).
    pub fn open_session(&mut self, session: Session, source: Source) {
        self.session = session;
        self.source = source;
        self.error = None;
        self.selected = None;
        self.revealed = false;
        self.quiz.reset();
        if let Some(p) = self.compare.as_ref().map(|c| c.preset) {
            self.set_compare(Some(p));
        }
    }

    pub fn open_builtin(&mut self, id: &str) -> bool {
        match builtin::by_id(id) {
            Some(l) => {
                self.open_lesson(l, Source::Builtin(id.to_string()));
                self.file_mtime = None;
                true
            }
            None => {
                self.error = Some(format!("no built-in lesson '{id}'"));
                false
            }
        }
    }

    /// Loads lesson text (a dropped or opened file).
    pub fn load_text(&mut self, name: &str, text: &str, source: Source) -> bool {
        match load_str(name, text) {
            Ok(l) => {
                self.open_lesson(l, source);
                true
            }
            Err(e) => {
                self.error = Some(e.to_string());
                false
            }
        }
    }

    pub fn open_file(&mut self, path: PathBuf) -> bool {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).to_string();
                let name = path.display().to_string();
                self.file_mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                self.load_text(&name, &text, Source::File(path))
            }
            Err(e) => {
                self.error = Some(format!("{}: cannot read: {e}", path.display()));
                false
            }
        }
    }

    pub fn set_kernel(&mut self, p: Preset) {
        let w = self.session.whatif;
        self.session.replay(p, w);
        // The right answers may differ under another kernel.
        self.quiz.reset();
    }

    pub fn set_whatif(&mut self, w: WhatIf) {
        let p = self.session.preset;
        self.session.replay(p, w);
        self.quiz.reset();
        // Both panes of side by side run under the same toggles.
        if let Some(c) = &mut self.compare {
            let cp = c.preset;
            c.replay(cp, w);
        }
        self.sync_compare();
    }

    /// Moves through time, plays, pauses or reveals: what every key,
    /// button, the web API and the tests do to the timeline.
    pub fn time(&mut self, c: TimeCommand) {
        match c {
            TimeCommand::Go(n) => self.nav(n),
            TimeCommand::TogglePlay => self.playing = !self.playing,
            TimeCommand::Play => self.playing = true,
            TimeCommand::Pause => self.playing = false,
            TimeCommand::Speed(s) => self.speed = s.clamp(0.5, 10.0),
            TimeCommand::Reveal if self.quiz.asking.is_some() => self.reveal_waiting(),
            TimeCommand::Reveal => self.revealed = true,
        }
    }

    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Moves through time; in quiz mode forward moves stop before an unanswered question.
    pub fn nav(&mut self, n: Nav) {
        // A student who moves on their own stops following the lecturer.
        self.class.unfollow();
        if self.lecture_nav(n) {
            return;
        }
        let n = self.quiz.gate(&self.session, n);
        self.go(n);
    }

    /// Moves without asking: where a lecture opens a stop (the state before
    /// its first step, or the end of its last when walking back).
    fn go(&mut self, n: Nav) {
        self.session.nav(n);
        self.sync_compare();
        let k = self.session.step();
        if k != self.last_step {
            self.revealed = false;
            self.last_step = k;
        }
        if self.quiz.take_revealed() == Some(k) {
            self.revealed = true;
        }
        if self.quiz.asking.is_some() {
            // Playing stops where the class is asked to predict.
            self.playing = false;
        }
    }

    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        // A key press never waits for an animation: it finishes at once.
        if ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Key { pressed: true, .. }))
        }) {
            self.anim = None;
        }
        // The lecturer's C / R / N act on the room's question first.
        if self.class_keys(ctx) {
            return;
        }
        for c in ctx.input(time_keys) {
            self.time(c);
        }
        ctx.input(|i| {
            if i.key_pressed(Key::F1) || i.key_pressed(Key::Questionmark) {
                self.show_help = !self.show_help;
            }
            if i.key_pressed(Key::T) {
                self.show_transcript = !self.show_transcript;
            }
            self.presenter_cmds.extend(self.presenter.keys(i));
            if i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals) {
                self.zoom = (self.zoom * 1.15).min(4.0);
            }
            if i.key_pressed(Key::Minus) {
                self.zoom = (self.zoom / 1.15).max(0.3);
            }
            if i.key_pressed(Key::F) || i.key_pressed(Key::Num0) {
                self.fit_canvas();
            }
        });
        self.quiz_keys(ctx);
    }

    fn tick(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        if self.playing {
            if now - self.last_tick >= 1.0 / self.speed as f64 {
                self.last_tick = now;
                if self.session.cursor + 1 >= self.session.entries() {
                    self.playing = false;
                } else {
                    self.nav(Nav::NextMicro);
                }
            }
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.poll_files(ctx, now);
    }

    /// Reloads a lesson file that changed on disk and opens dropped files.
    /// (In the browser the page reads dropped and picked files: web/www.)
    #[cfg(not(target_arch = "wasm32"))]
    fn poll_files(&mut self, ctx: &egui::Context, now: f64) {
        // Reload a lesson file when it changes on disk.
        if let Source::File(p) = &self.source
            && now - self.last_poll > 1.0
        {
            self.last_poll = now;
            let m = std::fs::metadata(p).and_then(|m| m.modified()).ok();
            if m.is_some() && m != self.file_mtime {
                let (p, k, step) = (p.clone(), self.session.preset, self.session.step());
                if self.open_file(p) {
                    self.set_kernel(k);
                    self.session.nav(Nav::Step(step));
                    self.sync_compare();
                }
            }
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        }
        let dropped: Vec<egui::DroppedFileHandle> = ctx.input(|i| i.raw.dropped_files.clone());
        for f in dropped {
            let path = f.path().to_path_buf();
            if !path.as_os_str().is_empty() && path.exists() {
                self.open_file(path);
            } else {
                match f.bytes() {
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes).to_string();
                        let name = path.display().to_string();
                        self.load_text(&name, &text, Source::Builtin(String::new()));
                    }
                    Err(e) => self.error = Some(format!("cannot read the dropped file: {e}")),
                }
            }
        }
    }

    fn marks(&self) -> canvas::Marks {
        let s = &self.session;
        let entry = &s.sim.entries()[s.cursor];
        let mut m = canvas::Marks {
            selected: self.selected,
            ..Default::default()
        };
        m.changed.extend(entry.step.objects.iter().cloned());
        for h in &entry.step.hazards {
            m.hazard.extend(h.objects.iter().cloned());
        }
        if let Some(step) = s.session_step() {
            for a in &step.focus {
                if let Ok((f, _)) = pinlab_lessons::expect::resolve_folio(s.world(), &Default::default(), a) {
                    m.focus.insert(f);
                }
            }
        }
        m
    }

    /// The whole window's contents (also what tests drive).
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.class_tick(&ctx);
        self.keys(&ctx);
        self.tick(&ctx);
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        if self.lecture.is_some() {
            egui::Panel::top("lecture").show(ui, |ui| self.lecture_bar(ui));
        }
        // Presenter commands from its keys and the Present button, in one place.
        let cmds = std::mem::take(&mut self.presenter_cmds);
        self.apply_presenter(&ctx, cmds);
        egui::Panel::bottom("timeline").show(ui, |ui| self.timeline(ui));
        self.class_student_panel(ui);
        if self.narrow(&ctx) {
            self.tabs_ui(ui);
        } else {
            self.narration_panel(ui);
            self.log_panel(ui);
            egui::CentralPanel::default().show(ui, |ui| self.central_ui(ui));
        }
        self.help_window(&ctx);
        self.selftests_window(&ctx);
        #[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
        self.live_window(&ctx);
        self.exercises_window(&ctx);
        self.class_ui(&ctx);
        if self.presenter.on && self.presenter.blank {
            self.blank_ui(&ctx);
        }
        self.transcript_window(&ctx);
    }

    /// A phone or a small window: the side panels become tabs and the
    /// picture keeps the whole width.
    fn narrow(&self, ctx: &egui::Context) -> bool {
        let w = ctx.content_rect().width();
        w.is_finite() && w < NARROW && !self.presenter.on
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                for (tab, name) in [
                    (Tab::Picture, "Picture"),
                    (Tab::Story, "Story"),
                    (Tab::Kernel, "Kernel log"),
                ] {
                    ui.selectable_value(&mut self.tab, tab, name);
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Picture => self.central_ui(ui),
            Tab::Story => self.narration_contents(ui),
            Tab::Kernel => self.log_contents(ui),
        });
    }

    /// The left panel: the sandbox, the quiz and the step's narration.
    fn narration_panel(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Presenter mode has its own panel sizes: the canvas gets the room.
        let width = ctx.content_rect().width();
        egui::Panel::left(if self.presenter.on {
            "narration-present"
        } else {
            "narration"
        })
        .resizable(true)
        .default_size(if self.presenter.on {
            // The first frame may not know the window's size yet.
            if width.is_finite() {
                (width * 0.3).clamp(240.0, 400.0)
            } else {
                300.0
            }
        } else if self.large {
            480.0
        } else if width.is_finite() {
            // The canvas is what teaches: the panels take what they need.
            (width * 0.22).clamp(260.0, 400.0)
        } else {
            300.0
        })
        .show(ui, |ui| self.narration_contents(ui));
    }

    /// The sandbox, the quiz and the step's narration (a side panel, or a tab
    /// on a narrow screen).
    fn narration_contents(&mut self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().id_salt("narr").show(ui, |ui| {
            if self.sandbox.is_some() {
                self.sandbox_ui(ui);
                ui.separator();
            }
            if self.quiz.enabled || self.quiz.asking.is_some() {
                self.quiz_ui(ui);
            }
            let view = panels::NarrationView {
                revealed: &mut self.revealed,
                large: self.large,
                asking: self.quiz.asking,
            };
            panels::narration_ui(ui, &self.session, &mut self.md, view);
        });
    }

    /// The right panel: kernel functions, hazards, vmstat, why-alive.
    fn log_panel(&mut self, ui: &mut egui::Ui) {
        // On a projector the kernel-function log gives way to the canvas (L brings it back).
        if !self.presenter.on || self.presenter.show_log {
            let width = ui.ctx().content_rect().width();
            egui::Panel::right("log")
                .resizable(true)
                .default_size(if width.is_finite() {
                    (width * 0.25).clamp(280.0, 420.0)
                } else {
                    320.0
                })
                .show(ui, |ui| self.log_contents(ui));
        }
    }

    /// Kernel functions, hazards, vmstat and why-alive (a side panel, or a
    /// tab on a narrow screen).
    fn log_contents(&mut self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().id_salt("log").show(ui, |ui| {
            egui::CollapsingHeader::new("Kernel functions of this step")
                .default_open(true)
                .show(ui, |ui| panels::log_ui(ui, &self.session));
            egui::CollapsingHeader::new("Hazards")
                .default_open(true)
                .show(ui, |ui| panels::hazards_ui(ui, self.session.world()));
            egui::CollapsingHeader::new("vmstat")
                .default_open(false)
                .show(ui, |ui| panels::vmstat_ui(ui, &self.session));
            if let Some(id) = self.selected {
                egui::CollapsingHeader::new("Why is this folio still alive?")
                    .default_open(true)
                    .show(ui, |ui| panels::why_alive_ui(ui, &self.session, id));
            }
        });
    }

    /// The canvas (or both panes of side by side), with notices and load errors above it.
    fn central_ui(&mut self, ui: &mut egui::Ui) {
        self.canvas_rect = ui.max_rect();
        let notice = self.notice.lock().ok().and_then(|n| n.clone());
        if let Some(n) = notice {
            ui.horizontal(|ui| {
                ui.label(RichText::new(n).color(theme::GREEN));
                if ui.small_button("OK").clicked()
                    && let Ok(mut n) = self.notice.lock()
                {
                    *n = None;
                }
            });
        }
        if let Some(e) = &self.error {
            ui.label(
                RichText::new(format!("Could not open the lesson: {e}"))
                    .color(theme::HAZARD)
                    .strong(),
            );
        }
        let marks = self.marks();
        if self.compare.is_some() {
            self.side_by_side_ui(ui, marks);
            return;
        }
        let anim = self.animation(ui.ctx());
        let prev = self
            .session
            .cursor
            .checked_sub(1)
            .map(|i| &self.session.sim.entries()[i].world);
        let anim = anim.as_ref().map(|(from, t)| canvas::Anim { from, t: *t });
        let out = canvas::canvas_ui(ui, self.session.world(), prev, &marks, self.canvas_fit(), anim);
        if let Some(f) = out.clicked {
            self.selected = if self.selected == Some(f) { None } else { Some(f) };
        }
        self.apply_canvas_out(&out);
        self.canvas_stats = out.stats;
    }

    /// Seconds a transition takes: tied to the play speed (micro-steps per
    /// second), so a fast replay is not slowed down by its animation.
    fn anim_secs(&self) -> f64 {
        (0.6 / self.speed.max(0.1) as f64).clamp(0.12, 0.5)
    }

    /// Starts a transition when the micro-step on screen changed within the
    /// same lesson and kernel; returns the world it comes from and how far
    /// it is, while it lasts.
    fn animation(&mut self, ctx: &egui::Context) -> Option<(World, f32)> {
        let s = &self.session;
        let key: ShownKey = (s.lesson.id.clone(), s.preset.name(), s.cursor);
        let now = ctx.input(|i| i.time);
        match &self.on_screen {
            Some((k, _)) if *k == key => {}
            Some((k, before)) => {
                let same_story = k.0 == key.0 && k.1 == key.1;
                self.anim = (same_story && !self.reduce_motion).then(|| (before.clone(), now));
                self.on_screen = Some((key, s.world().clone()));
            }
            None => self.on_screen = Some((key, s.world().clone())),
        }
        let (from, start) = self.anim.as_ref()?;
        let t = ((now - start) / self.anim_secs()) as f32;
        if t >= 1.0 {
            self.anim = None;
            return None;
        }
        ctx.request_repaint();
        Some((from.clone(), t.max(0.0)))
    }

    /// How the canvas is fitted: the user's zoom and pan over the best fit,
    /// and on a projector room for larger type.
    fn canvas_fit(&self) -> canvas::Fit {
        self.canvas_fit_for(&self.session)
    }

    /// The same, for the world of session `s` (each pane of side by side).
    fn canvas_fit_for(&self, s: &Session) -> canvas::Fit {
        canvas::Fit::Pane {
            user_zoom: self.zoom,
            pan: self.pan,
            max_zoom: if self.presenter.on { 3.0 } else { 2.2 },
            key: Some(s.view_key()),
        }
    }

    fn apply_canvas_out(&mut self, out: &canvas::CanvasOut) {
        self.pan_zoom(out.pan_by, out.zoom_by);
    }

    /// Moves the canvas by `pan_by` points and multiplies the user's zoom.
    fn pan_zoom(&mut self, pan_by: egui::Vec2, zoom_by: f32) {
        self.pan += pan_by;
        if zoom_by != 1.0 {
            self.zoom = (self.zoom * zoom_by).clamp(0.3, 4.0);
        }
    }

    /// The keyboard help.
    fn help_window(&mut self, ctx: &egui::Context) {
        if !self.show_help {
            return;
        }

        egui::Window::new("Keyboard").collapsible(false).show(ctx, |ui| {
            for (k, what) in [
                ("Right / Page Down", "next step"),
                ("Left / Page Up", "previous step"),
                ("Shift+Right, Down", "next kernel function (micro-step)"),
                ("Shift+Left, Up", "previous micro-step"),
                ("Home / End", "start / end of the lesson"),
                ("Space", "play / pause"),
                ("R", "reveal the answer"),
                ("1-9", "answer a quiz question"),
                ("C / R / N", "live class: answers / reveal / round 2"),
                ("F5 / Esc", "presenter mode on / off"),
                ("B or .", "blank screen (presenter mode)"),
                ("L", "kernel functions (presenter mode)"),
                ("+ / -, Ctrl+wheel, pinch", "canvas zoom"),
                ("wheel, drag", "move the canvas"),
                ("F or 0", "fit the canvas to the window again"),
                ("T", "transcript (plain text)"),
                ("F1 or ?", "this help"),
            ] {
                ui.label(format!("{k}: {what}"));
            }
            if ui.button("Close").clicked() {
                self.show_help = false;
            }
        });
    }

    /// The plain-text transcript.
    fn transcript_window(&mut self, ctx: &egui::Context) {
        if !self.show_transcript {
            return;
        }

        let text = pinlab_lessons::run::transcript(&self.session.lesson, &self.session.report);
        egui::Window::new("Transcript")
            .default_size([640.0, 480.0])
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let mut t = text.as_str();
                    ui.add(
                        egui::TextEdit::multiline(&mut t)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    );
                });
            });
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        if self.presenter.on {
            let cmds = self
                .presenter
                .bar(ui, &self.session.lesson.title, self.session.preset.name());
            self.apply_presenter(&ui.ctx().clone(), cmds);
            return;
        }
        let narrow = self.narrow(ui.ctx());
        if narrow {
            ui.horizontal_wrapped(|ui| {
                ui.strong("pinlab");
                self.lesson_pickers(ui);
                // A phone: the rest of the bar folds away behind one button.
                ui.toggle_value(&mut self.menu_open, "Menu");
                if self.menu_open {
                    self.teaching_controls(ui);
                    self.more_items(ui);
                }
            });
            return;
        }
        // One row that never moves: what a lecture uses, then a menu for the
        // rest (exports, windows, view settings).
        ui.horizontal(|ui| {
            ui.strong("pinlab");
            self.lesson_pickers(ui);
            ui.separator();
            self.teaching_controls(ui);
            ui.menu_button("More...", |ui| self.more_items(ui));
        });
    }

    /// What a lecture reaches for: predict, quiz, side by side, sandbox,
    /// fit, presenter mode, help.
    fn teaching_controls(&mut self, ui: &mut egui::Ui) {
        if ui
            .checkbox(&mut self.quiz.predict_first, "Predict")
            .on_hover_text("Stop before every step that asks a question: predict, then see")
            .changed()
        {
            self.quiz.asking = None;
        }
        if ui
            .checkbox(&mut self.quiz.enabled, "Quiz")
            .on_hover_text("Score the answers; only an answer runs the step")
            .changed()
        {
            self.quiz.reset();
        }
        let mut side = self.compare.is_some();
        if ui.checkbox(&mut side, "Side by side").changed() {
            self.set_compare(side.then(|| self.default_compare_preset()));
        }
        let mut sand = self.sandbox.is_some();
        if ui.checkbox(&mut sand, "Sandbox").changed() {
            self.set_sandbox(sand);
        }
        if ui
            .button("Fit (F)")
            .on_hover_text("Fit the canvas to the window again")
            .clicked()
        {
            self.fit_canvas();
        }
        if ui
            .button(if self.presenter.on {
                "Leave presenter (Esc)"
            } else {
                "Present (F5)"
            })
            .clicked()
        {
            self.presenter_cmds.push(presenter::PresenterCommand::Toggle);
        }
        if ui.button("Help").clicked() {
            self.show_help = true;
        }
    }

    /// The More menu: opening a file, view settings, exports and windows.
    fn more_items(&mut self, ui: &mut egui::Ui) {
        // The browser page has its own file picker (web/www/index.html).
        #[cfg(not(target_arch = "wasm32"))]
        self.open_file_ui(ui);
        ui.separator();
        self.view_controls(ui);
        ui.separator();
        self.feature_buttons(ui);
    }

    /// The lesson, the kernel and the what-if toggles.
    fn lesson_pickers(&mut self, ui: &mut egui::Ui) {
        let current = self.session.lesson.title.clone();
        let mut pick: Option<String> = None;
        ui.label("Lesson");
        let r = egui::ComboBox::from_id_salt("lesson")
            .selected_text(current)
            .width(260.0)
            .height(640.0)
            .show_ui(ui, |ui| {
                // The course's order, parts and numbers (assets/course.toml).
                match pinlab_lessons::course::builtin() {
                    Ok(course) => {
                        for part in &course.parts {
                            ui.label(egui::RichText::new(&part.title).strong());
                            for e in &part.lessons {
                                let text = format!("{} {} · {} min", e.number, e.title, e.minutes);
                                if ui
                                    .selectable_label(self.source == Source::Builtin(e.id.clone()), text)
                                    .clicked()
                                {
                                    pick = Some(e.id.clone());
                                }
                            }
                        }
                    }
                    Err(_) => {
                        for l in builtin::all().into_iter().flatten() {
                            if ui
                                .selectable_label(self.source == Source::Builtin(l.id.clone()), &l.title)
                                .clicked()
                            {
                                pick = Some(l.id.clone());
                            }
                        }
                    }
                }
            });
        r.response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Lesson"));
        if let Some(id) = pick {
            self.open_builtin(&id);
        }
        let mut kernel = self.session.preset;
        ui.label("Kernel");
        let r = egui::ComboBox::from_id_salt("kernel")
            .selected_text(kernel.name())
            .show_ui(ui, |ui| {
                for p in Preset::ALL {
                    let declared = self.session.lesson.kernels.contains(&p);
                    let text = if declared {
                        format!("{} *", p.name())
                    } else {
                        p.name().to_string()
                    };
                    ui.selectable_value(&mut kernel, p, text);
                }
            });
        r.response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Kernel"));
        if kernel != self.session.preset {
            self.set_kernel(kernel);
        }
        let mut w = self.session.whatif;
        ui.menu_button("What-if…", |ui| {
            ui.checkbox(&mut w.vm_nocow, "VM_NOCOW");
            ui.checkbox(&mut w.unevictable_pins, "pinned page cache on the unevictable list");
            ui.checkbox(&mut w.bio_v7_modes, "v7 bio cleanup modes");
            ui.label("writeback of pinned folios:");
            use pinlab_lessons::model::PinnedWriteback as P;
            ui.radio_value(&mut w.pinned_writeback, P::Usual, "as usual (mainline)");
            ui.radio_value(&mut w.pinned_writeback, P::Skip, "skip");
            ui.radio_value(&mut w.pinned_writeback, P::Bounce, "bounce");
        });
        if w != self.session.whatif {
            self.set_whatif(w);
        }
    }

    /// Theme, canvas zoom and text size.
    fn view_controls(&mut self, ui: &mut egui::Ui) {
        if ui
            .button(if self.dark { "Light theme" } else { "Dark theme" })
            .clicked()
        {
            self.dark = !self.dark;
            ui.ctx().set_theme(self.theme());
        }
        ui.add(egui::Slider::new(&mut self.zoom, 0.3..=4.0).text("canvas zoom"));
        if ui
            .checkbox(&mut self.reduce_motion, "Reduce motion")
            .on_hover_text("No animation between micro-steps")
            .changed()
        {
            self.anim = None;
        }
        ui.checkbox(&mut self.large, "Large text");
    }

    /// The exports and windows.
    fn feature_buttons(&mut self, ui: &mut egui::Ui) {
        if ui
            .button("Handout")
            .on_hover_text("Markdown and HTML with a picture per step")
            .clicked()
        {
            self.export_handout(ui.ctx());
        }
        #[cfg(not(target_arch = "wasm32"))]
        if ui.button("PNG").on_hover_text("The canvas as a PNG file").clicked() {
            self.export_png(ui.ctx());
        }
        if ui.button("Selftests").clicked() {
            self.selftests = Some(Default::default());
        }
        #[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
        if ui
            .button("Real kernel")
            .on_hover_text("Run the lesson on this machine's own Linux (pinlab probe, needs root) and compare")
            .clicked()
        {
            self.live = Some(live_view::LiveView::start(&self.session.lesson));
        }
        if ui.button("Exercises").clicked() {
            self.exercises = Some(Default::default());
        }
        let live = if self.class.active() {
            "Live class (in a room)"
        } else {
            "Live class"
        };
        if ui
            .button(live)
            .on_hover_text("Open a room students follow on their own devices, or join one (pinlab serve)")
            .clicked()
        {
            self.class.open = !self.class.open;
        }
        if ui.button("Transcript").clicked() {
            self.show_transcript = !self.show_transcript;
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn open_file_ui(&mut self, ui: &mut egui::Ui) {
        ui.separator();
        ui.add(
            egui::TextEdit::singleline(&mut self.open_path)
                .hint_text("lesson file path")
                .desired_width(180.0),
        );
        let path = self.open_path.trim();
        // An empty box opens nothing (it used to say "cannot read ''").
        if ui
            .add_enabled(!path.is_empty(), egui::Button::new("Open file"))
            .on_disabled_hover_text("Type a lesson file's path first, or drop the file on the window")
            .clicked()
        {
            let p = PathBuf::from(path);
            self.open_file(p);
        }
    }

    fn set_notice(&self, text: String) {
        if let Ok(mut n) = self.notice.lock() {
            *n = Some(text);
        }
    }

    /// The current lesson's handout: files next to the app (native), or the
    /// Markdown on the clipboard (browser).
    pub fn export_handout(&mut self, ctx: &egui::Context) {
        let s = &self.session;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let stem = export::file_stem(&format!("{}-{}", s.lesson.id, s.preset.name()));
            match export::write_handouts(&s.lesson, s.preset, s.whatif, &stem) {
                Ok(paths) => self.set_notice(format!("Wrote {}", paths.join(" and "))),
                Err(e) => self.error = Some(format!("the handout could not be written: {e}")),
            }
            let _ = ctx;
        }
        #[cfg(target_arch = "wasm32")]
        {
            ctx.copy_text(pinlab_lessons::handout::handout_with(
                &s.lesson,
                s.preset,
                Some(s.whatif),
            ));
            self.set_notice("The Markdown handout is on the clipboard".into());
        }
    }

    /// A PNG of the canvas as shown, written when the frame's pixels arrive.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn export_png(&mut self, ctx: &egui::Context) {
        let path = export::file_stem(&format!(
            "{}-{}-step{}",
            self.session.lesson.id,
            self.session.preset.name(),
            self.session.step()
        )) + ".png";
        let (rect, ppp, notice, repaint) = (
            self.canvas_rect,
            ctx.pixels_per_point(),
            self.notice.clone(),
            ctx.clone(),
        );
        ctx.request_screenshot(move |img| {
            let text = match export::save_png(&img, rect, ppp, &path) {
                Ok(()) => format!("Wrote {path}"),
                Err(e) => format!("No PNG: {e}"),
            };
            if let Ok(mut n) = notice.lock() {
                *n = Some(text);
            }
            repaint.request_repaint();
        });
    }

    fn timeline(&mut self, ui: &mut egui::Ui) {
        let narrow = self.narrow(ui.ctx());
        ui.horizontal(|ui| {
            let s = &self.session;
            let (k, n) = (s.step(), s.report.steps.len());
            let mut cmd = None;
            for (label, short, c) in [
                ("|< Start", "|<", TimeCommand::Go(Nav::Home)),
                ("< Previous step", "<<", TimeCommand::Go(Nav::PrevStep)),
                ("< Previous function", "<", TimeCommand::Go(Nav::PrevMicro)),
                (
                    if self.playing { "Pause" } else { "Play" },
                    if self.playing { "Pause" } else { "Play" },
                    TimeCommand::TogglePlay,
                ),
                ("Next function >", ">", TimeCommand::Go(Nav::NextMicro)),
                ("Next step >", ">>", TimeCommand::Go(Nav::NextStep)),
                ("End >|", ">|", TimeCommand::Go(Nav::End)),
            ] {
                // A phone gets the short labels; the long one is the tooltip.
                let b = if narrow {
                    ui.button(short).on_hover_text(label)
                } else {
                    ui.button(label)
                };
                if b.clicked() {
                    cmd = Some(c);
                }
            }
            if !self.presenter.on && !narrow {
                let mut speed = self.speed;
                if ui
                    .add(egui::Slider::new(&mut speed, 0.5..=10.0).text("speed"))
                    .changed()
                {
                    cmd = Some(TimeCommand::Speed(speed));
                }
            }
            ui.label(format!("step {k}/{n} · micro-step {}/{}", s.cursor, s.entries() - 1));
            if let Some(c) = cmd {
                self.time(c);
            }
        });
        let mut c = self.session.cursor;
        let last = self.session.entries() - 1;
        ui.spacing_mut().slider_width = (ui.available_width() - 90.0).max(100.0);
        let r = ui.add(egui::Slider::new(&mut c, 0..=last).show_value(false).text("timeline"));
        if r.changed() {
            self.time(TimeCommand::Go(Nav::Seek(c)));
        }
    }
}

impl Session {
    /// The lesson step at the cursor.
    pub fn session_step(&self) -> Option<&pinlab_lessons::Step> {
        let k = self.step();
        if k == 0 { None } else { self.lesson.steps.get(k - 1) }
    }
}

impl eframe::App for PinlabApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
        for url in links::keep_safe_links(ui.ctx()) {
            self.error = Some(format!(
                "not opened: '{url}' (a lesson may link only to http, https and mailto addresses)"
            ));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SAVE_KEY, &self.saved());
    }

    #[cfg(target_arch = "wasm32")]
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(&mut *self)
    }
}

/// What moves through time or reveals the answer. Keys, the timeline's
/// buttons, the web API and the tests all say it this way.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeCommand {
    Go(Nav),
    TogglePlay,
    Play,
    Pause,
    /// Micro-steps per second while playing (0.5 to 10).
    Speed(f32),
    Reveal,
}

/// The keys that move time: arrows and Page Up/Down (a clicker), with Shift
/// or Up/Down for kernel functions, Home/End, Space to play, R to reveal.
fn time_keys(i: &egui::InputState) -> Vec<TimeCommand> {
    let shift = i.modifiers.shift;
    let mut out = Vec::new();
    let mut go = |n: Nav| out.push(TimeCommand::Go(n));
    if i.key_pressed(Key::ArrowRight) || i.key_pressed(Key::PageDown) {
        go(if shift { Nav::NextMicro } else { Nav::NextStep });
    }
    if i.key_pressed(Key::ArrowLeft) || i.key_pressed(Key::PageUp) {
        go(if shift { Nav::PrevMicro } else { Nav::PrevStep });
    }
    if i.key_pressed(Key::ArrowDown) {
        go(Nav::NextMicro);
    }
    if i.key_pressed(Key::ArrowUp) {
        go(Nav::PrevMicro);
    }
    if i.key_pressed(Key::Home) {
        go(Nav::Home);
    }
    if i.key_pressed(Key::End) {
        go(Nav::End);
    }
    if i.key_pressed(Key::Space) {
        out.push(TimeCommand::TogglePlay);
    }
    if i.key_pressed(Key::R) {
        out.push(TimeCommand::Reveal);
    }
    out
}
