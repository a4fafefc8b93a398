//! Side by side: the same lesson under a second preset (or other toggles) in
//! a second pane (below the first) that follows the first step by step, with what differs at
//! the current step listed and the folios involved ringed on both canvases.

use super::session::{Nav, Session};
use super::{PinlabApp, canvas, theme};
use egui::{RichText, Ui};
use pinlab_lessons::compare::{Difference, differences};
use pinlab_lessons::model::Preset;

/// Ring colour of a folio that differs between the panes.
pub const DIFF: egui::Color32 = theme::SKY;

impl PinlabApp {
    /// Opens (or closes) the second pane, under `preset`.
    pub fn set_compare(&mut self, preset: Option<Preset>) {
        self.compare = preset.map(|p| {
            let mut s = Session::new(self.session.lesson.clone(), p, Some(self.session.whatif));
            s.nav(Nav::Step(self.session.step()));
            s
        });
    }

    /// A sensible other kernel: the lesson's next declared one, else the newest or oldest.
    pub fn default_compare_preset(&self) -> Preset {
        let s = &self.session;
        s.lesson
            .kernels
            .iter()
            .copied()
            .find(|p| *p != s.preset)
            .unwrap_or(if s.preset == Preset::NEWEST {
                Preset::ALL[0]
            } else {
                Preset::NEWEST
            })
    }

    /// Keeps the second pane at the first pane's lesson step.
    pub(super) fn sync_compare(&mut self) {
        let k = self.session.step();
        if let Some(c) = &mut self.compare {
            c.nav(Nav::Step(k));
        }
    }

    /// What differs at the current step (empty without a second pane).
    pub fn differences(&self) -> Vec<Difference> {
        let Some(c) = &self.compare else { return Vec::new() };
        differences(
            (self.session.world(), self.session.step_report()),
            (c.world(), c.step_report()),
        )
    }

    pub(super) fn side_by_side_ui(&mut self, ui: &mut Ui, marks: canvas::Marks) {
        let fit = self.canvas_fit();
        let diffs = self.differences();
        let k = self.session.step();
        let header = if diffs.is_empty() {
            format!(
                "Step {k}: no difference between {} and the second pane",
                self.session.preset.name()
            )
        } else {
            format!("Step {k}: {} difference(s)", diffs.len())
        };
        ui.label(RichText::new(header).strong());
        egui::ScrollArea::vertical()
            .id_salt("diffs")
            .max_height(110.0)
            .show(ui, |ui| {
                for d in &diffs {
                    ui.label(RichText::new(format!("{}: {}  |  {}", d.what, d.left, d.right)).color(DIFF));
                }
            });
        let (mut left_marks, mut right_marks) = (marks, canvas::Marks::default());
        left_marks.diff.extend(diffs.iter().filter_map(|d| d.left_folio));
        right_marks.diff.extend(diffs.iter().filter_map(|d| d.right_folio));
        // One pane above the other: each gets the full width, so the canvases
        // stay as readable as in the single view (processes stack downwards).
        let mut pick = None;
        let pane_h = ((ui.available_height() - 40.0) / 2.0).max(120.0);
        ui.label(RichText::new(format!("kernel {}", self.session.preset.name())).strong());
        let mut outs = Vec::new();
        ui.push_id("left-pane", |ui| {
            ui.allocate_ui(egui::vec2(ui.available_width(), pane_h), |ui| {
                outs.push(canvas::canvas_ui(
                    ui,
                    self.session.world(),
                    None,
                    &left_marks,
                    fit,
                    None,
                ));
            });
        });
        ui.separator();
        let Some(c) = &self.compare else { return };
        let mut other = c.preset;
        ui.horizontal(|ui| {
            ui.label(RichText::new("kernel").strong());
            let r = egui::ComboBox::from_id_salt("compare-kernel")
                .selected_text(other.name())
                .show_ui(ui, |ui| {
                    for p in Preset::ALL {
                        ui.selectable_value(&mut other, p, p.name());
                    }
                });
            r.response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Second pane kernel"));
        });
        if other != c.preset {
            pick = Some(other);
        }
        ui.push_id("right-pane", |ui| {
            ui.allocate_ui(egui::vec2(ui.available_width(), pane_h), |ui| {
                outs.push(canvas::canvas_ui(
                    ui,
                    c.world(),
                    None,
                    &right_marks,
                    self.canvas_fit_for(c),
                    None,
                ));
            });
        });
        // Both panes move together, so the same place is compared.
        for o in &outs {
            self.apply_canvas_out(o);
        }
        if let Some(p) = pick {
            self.set_compare(Some(p));
        }
    }
}
