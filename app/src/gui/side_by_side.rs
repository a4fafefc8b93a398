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
        let Some(c) = &self.compare else { return };
        let cmds = panes(
            ui,
            (&self.session, self.canvas_fit()),
            (c, self.canvas_fit_for(c)),
            marks,
        );
        for cmd in cmds {
            match cmd {
                CompareCommand::Kernel(p) => self.set_compare(Some(p)),
                // Both panes move together, so the same place is compared.
                CompareCommand::Canvas { pan_by, zoom_by } => self.pan_zoom(pan_by, zoom_by),
            }
        }
    }
}

/// What the two panes ask the app to do.
#[derive(Debug)]
pub enum CompareCommand {
    /// Run the second pane under this kernel.
    Kernel(Preset),
    /// A pane was panned (points) or zoomed (a factor).
    Canvas { pan_by: egui::Vec2, zoom_by: f32 },
}

/// The differences at the current step, then the first pane above the
/// second (each gets the full width, so the canvases stay as readable as in
/// the single view), and the second pane's kernel picker.
pub fn panes(
    ui: &mut Ui,
    (left, left_fit): (&Session, canvas::Fit),
    (right, right_fit): (&Session, canvas::Fit),
    marks: canvas::Marks,
) -> Vec<CompareCommand> {
    let diffs = differences((left.world(), left.step_report()), (right.world(), right.step_report()));
    let k = left.step();
    let header = if diffs.is_empty() {
        format!(
            "Step {k}: no difference between {} and the second pane",
            left.preset.name()
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
    let mut out = Vec::new();
    let left_title = RichText::new(format!("kernel {}", left.preset.name())).strong();
    // A wide pane (a projector, a big window) puts them side by side; a
    // tall one stacks them, so each canvas keeps as much room as it can.
    if ui.available_width() > 1.6 * ui.available_height() {
        ui.columns(2, |cols| {
            let h = (cols[0].available_height() - 30.0).max(120.0);
            cols[0].label(left_title);
            out.push(pane(&mut cols[0], "left-pane", h, (left, left_fit), &left_marks));
            out.extend(kernel_picker(&mut cols[1], right.preset).map(CompareCommand::Kernel));
            out.push(pane(&mut cols[1], "right-pane", h, (right, right_fit), &right_marks));
        });
        return out;
    }
    let pane_h = ((ui.available_height() - 40.0) / 2.0).max(120.0);
    ui.label(left_title);
    out.push(pane(ui, "left-pane", pane_h, (left, left_fit), &left_marks));
    ui.separator();
    out.extend(kernel_picker(ui, right.preset).map(CompareCommand::Kernel));
    out.push(pane(ui, "right-pane", pane_h, (right, right_fit), &right_marks));
    out
}

/// The second pane's kernel, and another one if the user picked it.
fn kernel_picker(ui: &mut Ui, current: Preset) -> Option<Preset> {
    let mut other = current;
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
    (other != current).then_some(other)
}

/// One pane's canvas, `height` high, and how the user moved it.
fn pane(
    ui: &mut Ui,
    id: &str,
    height: f32,
    (s, fit): (&Session, canvas::Fit),
    marks: &canvas::Marks,
) -> CompareCommand {
    ui.push_id(id, |ui| {
        ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
            let o = canvas::canvas_ui(ui, s.world(), None, marks, fit, None);
            CompareCommand::Canvas {
                pan_by: o.pan_by,
                zoom_by: o.zoom_by,
            }
        })
        .inner
    })
    .inner
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use pinlab_lessons::builtin;

    struct State {
        left: Session,
        right: Session,
        out: Vec<CompareCommand>,
    }

    fn at(p: Preset) -> Session {
        let mut s = Session::new(builtin::by_id("dio-across-fork").unwrap(), p, None);
        s.nav(Nav::Step(5));
        s
    }

    /// The panes of dio-across-fork at step 5, 5.8 against 6.5, in a window
    /// of `size`; the commands they return are kept.
    fn harness(size: egui::Vec2) -> Harness<'static, State> {
        let mut h = Harness::builder().with_size(size).build_ui_state(
            |ui, st: &mut State| {
                let fit = canvas::Fit::Pane {
                    user_zoom: 1.0,
                    pan: egui::Vec2::ZERO,
                    max_zoom: 2.2,
                    key: None,
                };
                let cmds = panes(ui, (&st.left, fit), (&st.right, fit), canvas::Marks::default());
                st.out.extend(cmds);
            },
            State {
                left: at(Preset::V5_8),
                right: at(Preset::V6_5),
                out: Vec::new(),
            },
        );
        h.run();
        h
    }

    /// The panes list what differs, ring it on both canvases, and the
    /// kernel picker asks for another kernel without changing anything itself.
    #[test]
    fn the_panes_list_differences_and_ask_for_another_kernel() {
        let mut h = harness(egui::vec2(900.0, 800.0));
        h.get_by_label("Step 5: 1 difference(s)");
        h.get_by_label("kernel 5.8");
        h.get_by_label("Second pane kernel").click();
        h.run();
        // One near the top of the list, so it is inside the popup's view.
        let pick = Preset::ALL[1];
        h.get_by_label(pick.name()).click();
        h.run();
        let kernels: Vec<&CompareCommand> = h
            .state()
            .out
            .iter()
            .filter(|c| matches!(c, CompareCommand::Kernel(_)))
            .collect();
        assert!(
            matches!(kernels.as_slice(), [CompareCommand::Kernel(p)] if *p == pick),
            "{kernels:?}"
        );
        assert_eq!(
            h.state().right.preset,
            Preset::V6_5,
            "the component changes nothing itself"
        );
    }

    /// A wide pane puts the two canvases side by side, each with its title
    /// and the second with its kernel picker.
    #[test]
    fn a_wide_pane_puts_them_side_by_side() {
        let h = harness(egui::vec2(1800.0, 600.0));
        let title = h.get_by_label("kernel 5.8").rect();
        let picker = h.get_by_label("Second pane kernel").rect();
        assert!(picker.left() > title.right(), "{title:?} {picker:?}");
        assert!((picker.top() - title.top()).abs() < 40.0, "{title:?} {picker:?}");
    }
}
