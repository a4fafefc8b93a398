//! `WebHandle`: the wasm-bindgen object behind `window.pinlab`.

use pinlab::gui::PinlabApp;
use pinlab::gui::api;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct WebHandle {
    runner: eframe::WebRunner,
    /// Set once the app exists, so calls from JS can ask for a repaint.
    ctx: Rc<RefCell<Option<egui::Context>>>,
}

/// A JS `Error`, so that callers get a message and a stack.
fn err(msg: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&msg.to_string()).into()
}

#[wasm_bindgen]
impl WebHandle {
    /// Installs eframe's panic handler and the console logger.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> WebHandle {
        eframe::WebLogger::init(log::LevelFilter::Info).ok();
        WebHandle {
            runner: eframe::WebRunner::new(),
            ctx: Rc::new(RefCell::new(None)),
        }
    }

    /// Starts the app on the canvas. Rejects if WebGL2 cannot be set up.
    pub async fn start(&self, canvas: web_sys::HtmlCanvasElement) -> Result<(), JsValue> {
        let ctx = self.ctx.clone();
        self.runner
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(move |cc| {
                    ctx.replace(Some(cc.egui_ctx.clone()));
                    cc.egui_ctx.set_fonts(crate::fonts::embedded());
                    let mut app = PinlabApp::new(cc);
                    // The system's "reduce motion" preference turns the canvas' animation off.
                    let reduce = web_sys::window()
                        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
                        .is_some_and(|m| m.matches());
                    if reduce {
                        app.set_reduce_motion(true);
                    }
                    // Rooms live on the server that served this page.
                    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
                        app.set_class_server(&origin);
                    }
                    Ok(Box::new(app))
                }),
            )
            .await
    }

    /// The monospace font's TTF, fetched by the page after the first frame;
    /// throws if the app is not running or the bytes are not a font.
    pub fn install_monospace_font(&self, ttf: Vec<u8>) -> Result<(), JsValue> {
        // A truncated or wrong file must not reach egui, which would panic
        // on it at the next frame: read its tables first.
        if ttf.len() < 12 || !matches!(&ttf[..4], [0, 1, 0, 0] | b"true" | b"OTTO") {
            return Err(err(format!("not a TrueType font ({} bytes)", ttf.len())));
        }
        let ctx = self.ctx.borrow().clone().ok_or_else(|| err("pinlab is not running"))?;
        crate::fonts::install_monospace(&ctx, ttf);
        ctx.request_repaint();
        Ok(())
    }

    pub fn destroy(&self) {
        self.runner.destroy();
    }

    pub fn has_panicked(&self) -> bool {
        self.runner.has_panicked()
    }

    pub fn panic_message(&self) -> Option<String> {
        self.runner.panic_summary().map(|s| s.message())
    }

    pub fn panic_callstack(&self) -> Option<String> {
        self.runner.panic_summary().map(|s| s.callstack())
    }

    /// The built-in lessons as JSON: `[{id, title, kernels}]`.
    pub fn lessons_json(&self) -> String {
        serde_json::to_string(&api::lessons()).unwrap_or_else(|_| "[]".into())
    }

    /// The action catalogue as JSON, the same as `pinlab actions --json`.
    pub fn actions_json(&self) -> String {
        serde_json::to_string(pinlab_lessons::model::catalogue::CATALOGUE).unwrap_or_else(|_| "[]".into())
    }

    /// A built-in lesson id or a lesson's TOML text. Throws the loader's
    /// error (file, line, column) and keeps the current lesson.
    pub fn load(&self, id_or_toml: &str) -> Result<(), JsValue> {
        self.with_app(|app| app.load(id_or_toml))?.map_err(err)
    }

    /// Opens a deep link's target; throws what could not be applied.
    pub fn open_at(&self, lesson: Option<String>, step: Option<usize>, kernel: Option<String>) -> Result<(), JsValue> {
        self.with_app(|app| app.open_at(lesson.as_deref(), step, kernel.as_deref()))?
            .map_err(err)
    }

    /// Walks a shipped lecture (by name) or a lecture file's text from stop
    /// `stop` (1-based); throws the loader's error.
    pub fn open_lecture(&self, name_or_toml: &str, stop: usize) -> Result<(), JsValue> {
        self.with_app(|app| app.open_lecture_named(name_or_toml, stop))?
            .map_err(err)
    }

    /// n steps forward; returns the step now shown.
    pub fn step(&self, n: usize) -> Result<usize, JsValue> {
        self.with_app(|app| app.step_forward(n))
    }

    /// n steps back; returns the step now shown.
    pub fn back(&self, n: usize) -> Result<usize, JsValue> {
        self.with_app(|app| app.step_back(n))
    }

    /// The model state and transcript as JSON (see docs/web.md).
    pub fn state_json(&self) -> Result<String, JsValue> {
        self.read_app(|app| app.state_json())
    }

    /// Generated exercises as JSON, the same as `pinlab exercise --seed N
    /// --count K --json` (the browser test compares the two).
    pub fn exercises_json(&self, seed: u64, count: usize) -> String {
        let list = pinlab_lessons::exercise::generate(seed, count.clamp(1, 100));
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
    }

    /// Opens a live-class room on `server` (the page's origin when served
    /// by `pinlab serve`) as its lecturer.
    pub fn live_open(&self, server: &str) -> Result<(), JsValue> {
        self.with_app(|app| app.open_room(server))
    }

    /// Joins room `code` on `server` as a student.
    pub fn live_join(&self, server: &str, code: &str) -> Result<(), JsValue> {
        self.with_app(|app| app.join_room(server, code))
    }

    /// A student's answer to the open question (a choice number or a number).
    pub fn live_answer(&self, value: f64) -> Result<(), JsValue> {
        if value.fract() != 0.0 || value.abs() > 1e15 {
            return Err(err(format!("{value} is not a whole number")));
        }
        self.with_app(|app| app.answer_room(value as i64))?.map_err(err)
    }

    /// The lecturer's show_answers, reveal, second_round or close.
    pub fn live_lecture(&self, cmd: &str) -> Result<(), JsValue> {
        self.with_app(|app| app.live_lecture(cmd))?.map_err(err)
    }

    /// A student follows the lecturer again.
    pub fn live_follow(&self) -> Result<(), JsValue> {
        self.with_app(|app| app.follow_room())
    }

    /// The live class as JSON (see docs/classroom.md).
    pub fn live_json(&self) -> Result<String, JsValue> {
        self.read_app(|app| app.live_json())
    }

    /// `{lesson, step, kernel, micro_step, micro_steps}` as JSON: cheap
    /// enough to poll, so the page can follow the user in the address bar.
    pub fn position_json(&self) -> Result<String, JsValue> {
        self.read_app(|app| serde_json::to_string(&app.position()).unwrap_or_default())
    }
}

impl WebHandle {
    /// A question that changes nothing: no repaint, so a page polled for its
    /// position (every 150 ms) stays idle instead of drawing 6 frames a
    /// second (which kept phones busy and slowed every other page).
    fn read_app<T>(&self, f: impl FnOnce(&PinlabApp) -> T) -> Result<T, JsValue> {
        let app = self
            .runner
            .app_mut::<PinlabApp>()
            .ok_or_else(|| err("pinlab is not running (not started, or it crashed)"))?;
        Ok(f(&app))
    }

    fn with_app<T>(&self, f: impl FnOnce(&mut PinlabApp) -> T) -> Result<T, JsValue> {
        let out = {
            let mut app = self
                .runner
                .app_mut::<PinlabApp>()
                .ok_or_else(|| err("pinlab is not running (not started, or it crashed)"))?;
            f(&mut app)
        };
        if let Some(ctx) = self.ctx.borrow().as_ref() {
            ctx.request_repaint();
        }
        Ok(out)
    }
}
