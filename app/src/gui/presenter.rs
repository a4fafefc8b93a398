//! Presenter mode: full screen, large type, answers and checks hidden until
//! revealed, and a clicker-friendly key map (Page Down / Page Up move, B or
//! "." blanks the screen, Escape or F5 leaves). A component: its own state,
//! keys and bar, returning commands the app applies in one place.

use super::PinlabApp;
use egui::{Color32, InputState, Key, Order, RichText, Ui};

/// How much larger everything is drawn on a projector.
const PRESENTER_ZOOM: f32 = 1.35;

#[derive(Default)]
pub struct Presenter {
    /// Presenter mode is on.
    pub on: bool,
    /// The blank screen (B).
    pub blank: bool,
    /// Show the kernel-function log too (L).
    pub show_log: bool,
}

/// What the presenter's keys and bar ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenterCommand {
    /// Enter or leave presenter mode.
    Toggle,
    /// Blank the screen, or come back.
    Blank,
    /// Show or hide the kernel functions.
    Log,
}

impl Presenter {
    /// F5 toggles; in presenter mode Escape leaves, B or "." blanks, L
    /// shows the kernel functions.
    pub fn keys(&self, i: &InputState) -> Vec<PresenterCommand> {
        let mut out = Vec::new();
        if i.key_pressed(Key::F5) || (self.on && i.key_pressed(Key::Escape)) {
            out.push(PresenterCommand::Toggle);
        }
        if self.on && (i.key_pressed(Key::B) || i.key_pressed(Key::Period)) {
            out.push(PresenterCommand::Blank);
        }
        if self.on && i.key_pressed(Key::L) {
            out.push(PresenterCommand::Log);
        }
        out
    }

    /// The top bar in presenter mode: only what the presenter needs; the
    /// rest is one Esc away.
    pub fn bar(&self, ui: &mut Ui, title: &str, kernel: &str) -> Vec<PresenterCommand> {
        let mut out = Vec::new();
        ui.horizontal(|ui| {
            ui.strong(title);
            ui.label(format!("kernel {kernel}"));
            if ui.button("Leave presenter (Esc)").clicked() {
                out.push(PresenterCommand::Toggle);
            }
            let mut log = self.show_log;
            if ui.checkbox(&mut log, "Kernel functions (L)").changed() {
                out.push(PresenterCommand::Log);
            }
        });
        out
    }
}

impl PinlabApp {
    /// The one place presenter commands change the app.
    pub fn apply_presenter(&mut self, ctx: &egui::Context, cmds: Vec<PresenterCommand>) {
        for c in cmds {
            match c {
                PresenterCommand::Toggle => self.set_presenter(ctx, !self.presenter.on),
                PresenterCommand::Blank => self.presenter.blank = !self.presenter.blank,
                PresenterCommand::Log => self.presenter.show_log = !self.presenter.show_log,
            }
        }
    }

    pub fn set_presenter(&mut self, ctx: &egui::Context, on: bool) {
        self.presenter.on = on;
        self.large = on;
        self.presenter.blank = false;
        self.revealed = false;
        ctx.set_zoom_factor(if on { PRESENTER_ZOOM } else { 1.0 });
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(on));
    }

    /// The blank screen covers everything; only the way back is shown, faintly.
    pub(super) fn blank_ui(&self, ctx: &egui::Context) {
        let rect = ctx.content_rect();
        egui::Area::new(egui::Id::unique("blank"))
            .order(Order::Foreground)
            .fixed_pos(rect.min)
            .show(ctx, |ui| {
                ui.painter().rect_filled(rect, 0.0, Color32::BLACK);
                ui.allocate_space(rect.size());
                let at = rect.left_bottom() + egui::vec2(12.0, -28.0);
                ui.put(
                    egui::Rect::from_min_size(at, egui::vec2(400.0, 20.0)),
                    egui::Label::new(RichText::new("Blank screen: press B to come back").color(Color32::from_gray(40))),
                );
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn pressed(p: &Presenter, key: Key) -> Vec<PresenterCommand> {
        let mut i = egui::RawInput::default();
        i.events.push(egui::Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        });
        let ctx = egui::Context::default();
        let mut out = Vec::new();
        let mut frame = ctx.run_ui(i, |ui| out = p.keys(&ui.input(|i| i.clone())));
        // Headless: nobody uploads the font atlas.
        frame.textures_delta.clear();
        out
    }

    /// The clicker keys act only in presenter mode; F5 always toggles.
    #[test]
    fn keys_act_in_presenter_mode_only() {
        let off = Presenter::default();
        assert_eq!(pressed(&off, Key::F5), vec![PresenterCommand::Toggle]);
        for k in [Key::B, Key::Period, Key::L, Key::Escape] {
            assert!(pressed(&off, k).is_empty(), "{k:?} outside presenter mode");
        }
        let on = Presenter {
            on: true,
            ..Default::default()
        };
        assert_eq!(pressed(&on, Key::Escape), vec![PresenterCommand::Toggle]);
        assert_eq!(pressed(&on, Key::B), vec![PresenterCommand::Blank]);
        assert_eq!(pressed(&on, Key::Period), vec![PresenterCommand::Blank]);
        assert_eq!(pressed(&on, Key::L), vec![PresenterCommand::Log]);
    }

    /// The bar's button leaves and its box toggles the log, as commands.
    #[test]
    fn the_bar_sends_leave_and_log() {
        let mut h = Harness::builder().build_ui_state(
            |ui, st: &mut (Presenter, Vec<PresenterCommand>)| {
                let c = st.0.bar(ui, "A lesson", "6.12");
                st.1.extend(c);
            },
            (
                Presenter {
                    on: true,
                    ..Default::default()
                },
                Vec::new(),
            ),
        );
        h.run();
        h.get_by_label("kernel 6.12");
        h.get_by_label("Leave presenter (Esc)").click();
        h.run();
        h.get_by_label("Kernel functions (L)").click();
        h.run();
        assert_eq!(h.state().1, vec![PresenterCommand::Toggle, PresenterCommand::Log]);
    }
}
