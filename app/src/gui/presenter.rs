//! Presenter mode: full screen, large type, answers and checks hidden until
//! revealed, and a clicker-friendly key map (Page Down / Page Up move, B or
//! "." blanks the screen, Escape or F5 leaves).

use super::PinlabApp;
use egui::{Color32, Order, RichText};

/// How much larger everything is drawn on a projector.
const PRESENTER_ZOOM: f32 = 1.35;

impl PinlabApp {
    pub fn set_presenter(&mut self, ctx: &egui::Context, on: bool) {
        self.presenter = on;
        self.large = on;
        self.blank = false;
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
