//! The canvas fills its pane and reads from the back row: measured from what
//! the app actually paints (CanvasStats), at 1280x720, for the six lessons
//! whose screenshots are in docs/screenshots; pointing at a piece of a
//! refcount bar lights its holder and arrow, and the other way round.

use egui_kittest::Harness;
use pinlab::gui::session::Nav;
use pinlab::gui::{PinlabApp, TimeCommand};
use pinlab_lessons::model::Preset;

/// The screenshot lessons, steps and kernels (docs/screenshots, made by
/// tools/screenshots/make.sh from the same list).
pub const SHOTS: [(&str, usize, &str); 6] = [
    ("pin-extraction", 6, "6.12"),
    ("fork-cow", 9, "5.7"),
    ("dio-across-fork", 5, "5.19"),
    ("vmsplice-leak", 6, "5.7"),
    ("fsync-pinned", 5, "6.1"),
    ("thp-pins", 4, "6.12"),
];

fn harness(w: f32, h: f32) -> Harness<'static, PinlabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.run();
    h
}

/// Step `step` shown, past its question (predict first stops before it).
fn go_past_question(app: &mut PinlabApp, step: usize) {
    app.time(TimeCommand::Go(Nav::Step(step)));
    if app.quiz().asking == Some(step) {
        app.time(TimeCommand::Reveal);
    }
}

fn at(h: &mut Harness<'static, PinlabApp>, lesson: &str, step: usize) {
    assert!(h.state_mut().open_builtin(lesson), "{lesson}");
    go_past_question(h.state_mut(), step);
    h.run();
}

fn shot(h: &mut Harness<'static, PinlabApp>, (lesson, step, kernel): (&str, usize, &str)) {
    assert!(h.state_mut().open_builtin(lesson), "{lesson}");
    h.state_mut().set_kernel(Preset::parse(kernel).expect(kernel));
    go_past_question(h.state_mut(), step);
    h.run();
    assert_eq!(h.state().session().step(), step, "{lesson} has a step {step}");
}

#[test]
fn the_picture_fills_the_pane_and_no_text_is_below_13_px() {
    fills_at(1280.0, 720.0, 0.6);
    // At 1080p a small world reaches the zoom cap (2.2) before it fills the
    // pane: thp-pins covers under half; the text only grows.
    fills_at(1920.0, 1080.0, 0.45);
}

fn fills_at(w: f32, ht: f32, coverage: f32) {
    let mut h = harness(w, ht);
    for (lesson, step, kernel) in SHOTS {
        shot(&mut h, (lesson, step, kernel));
        let s = h.state().canvas_stats().clone();
        eprintln!(
            "{w}x{ht} {lesson:<16} step {step:>2} ({kernel:>4}): {:?} zoom {:.2}, smallest text {:.1} px, covers {:.0}% of {:.0}x{:.0}",
            s.arrangement,
            s.zoom,
            s.min_text_px,
            s.coverage() * 100.0,
            s.pane.width(),
            s.pane.height()
        );
        assert!(s.coverage() >= coverage, "{lesson}: covers {:.2}", s.coverage());
        assert!(s.min_text_px >= 13.0, "{lesson}: {:.1} px", s.min_text_px);
    }
}

/// A 1080p projector (most lecture halls); presenter mode draws everything
/// 1.35 times larger.
#[test]
fn on_a_projector_no_canvas_text_is_below_20_px() {
    let mut h = harness(1920.0, 1080.0);
    let ctx = h.ctx.clone();
    h.state_mut().set_presenter(&ctx, true);
    h.run();
    for spec in SHOTS {
        let lesson = spec.0;
        shot(&mut h, spec);
        let s = h.state().canvas_stats().clone();
        eprintln!("presenter {lesson:<16}: smallest text {:.1} px", s.min_text_px);
        assert!(s.min_text_px >= 20.0, "{lesson}: {:.1} px", s.min_text_px);
    }
}

/// Every piece of every refcount bar names its holder, and pointing at it
/// lights exactly that holder, its cell and its arrow; pointing at a holder's
/// cell lights the piece.
#[test]
fn each_unit_of_a_refcount_names_its_holder_and_lights_it() {
    let mut h = harness(1280.0, 720.0);
    at(&mut h, "pin-extraction", 6);
    let pieces = h.state().canvas_stats().pieces.clone();
    assert!(pieces.len() >= 5, "{pieces:?}");
    for (folio, rect, who) in &pieces {
        h.hover_at(rect.center());
        h.run();
        let s = h.state().canvas_stats();
        assert!(!s.lit.is_empty(), "{folio}: nothing lit for {who}");
        for name in &s.lit {
            assert!(who.contains(name.as_str()), "{folio}: '{who}' lit {name}");
        }
        assert!(s.lit_cells >= 1, "{folio}: no holder cell lit for {who}");
        assert_eq!(s.lit_pieces, 1, "{folio}: {who}");
    }
    let cells = h.state().canvas_stats().cells.clone();
    let xtr = cells
        .iter()
        .find(|(_, n)| n.contains("'xtr'"))
        .expect("the iov_iter's cell");
    h.hover_at(xtr.0.center());
    h.run();
    let s = h.state().canvas_stats();
    assert_eq!(s.lit, vec!["IovIter 'xtr'".to_string()]);
    assert_eq!(s.lit_pieces, 1);
}

#[test]
fn the_legend_explains_every_kind_on_screen() {
    let mut h = harness(1280.0, 720.0);
    at(&mut h, "pin-extraction", 6);
    let s = h.state().canvas_stats();
    assert_eq!(s.legend, vec!["mapping", "pin (FOLL_PIN)"]);
    at(&mut h, "dio-across-fork", 5);
    let s = h.state().canvas_stats();
    assert_eq!(s.legend, vec!["mapping", "reference (FOLL_GET)"]);
}

#[test]
fn zoom_and_fit_again() {
    let mut h = harness(1280.0, 720.0);
    at(&mut h, "pin-extraction", 6);
    let fitted = h.state().canvas_stats().zoom;
    h.key_press(egui::Key::Plus);
    h.run();
    h.run();
    let zoomed = h.state().canvas_stats().zoom;
    assert!(zoomed > fitted * 1.1, "{fitted} -> {zoomed}");
    h.key_press(egui::Key::F);
    h.run();
    h.run();
    assert!((h.state().canvas_stats().zoom - fitted).abs() < 1e-3);
}

/// A micro-step animates (arrows grow, counts tick); the next key press
/// finishes it at once; with reduced motion nothing animates.
#[test]
fn a_micro_step_animates_a_key_finishes_it_and_reduced_motion_stops_it() {
    let mut h = harness(1280.0, 720.0);
    // Micro-steps one by one, into a step that asks a question: no stop.
    h.state_mut().set_predict_first(false);
    at(&mut h, "pin-extraction", 5);
    h.state_mut().time(TimeCommand::Go(Nav::NextMicro));
    h.step();
    assert!(h.state().canvas_stats().animating, "the new micro-step animates");
    h.key_press(egui::Key::Q);
    h.step();
    assert!(
        !h.state().canvas_stats().animating,
        "a key press finishes the animation"
    );
    // Left alone, it ends by itself.
    h.state_mut().time(TimeCommand::Go(Nav::NextMicro));
    h.step();
    assert!(h.state().canvas_stats().animating);
    h.run();
    assert!(!h.state().canvas_stats().animating);
    h.state_mut().set_reduce_motion(true);
    h.state_mut().time(TimeCommand::Go(Nav::NextMicro));
    h.step();
    assert!(!h.state().canvas_stats().animating, "reduced motion: no animation");
}

/// On a phone the side panels are tabs: the picture has the whole width,
/// and the story is one tap away.
#[test]
fn on_a_phone_the_panels_are_tabs_and_the_picture_is_full_width() {
    use egui_kittest::kittest::Queryable;
    let mut h = harness(400.0, 800.0);
    at(&mut h, "pin-extraction", 6);
    let s = h.state().canvas_stats().clone();
    eprintln!(
        "phone 400x800: zoom {:.2}, smallest text {:.1} px, covers {:.0}% of {:.0}x{:.0}",
        s.zoom,
        s.min_text_px,
        s.coverage() * 100.0,
        s.pane.width(),
        s.pane.height()
    );
    assert!(s.pane.width() >= 0.85 * 400.0, "{:?}", s.pane);
    assert!(s.coverage() >= 0.5, "{}", s.coverage());
    h.get_by_label("Story").click();
    h.run();
    h.get_by_label("Question: What is page 0's refcount now?");
    h.get_by_label("Kernel log").click();
    h.run();
    h.get_by_label("Kernel functions of this step");
}

/// A folio the step frees fades out where it was instead of vanishing.
#[test]
fn a_freed_folio_fades_out() {
    let mut h = harness(1280.0, 720.0);
    assert!(h.state_mut().open_builtin("folio-life"));
    h.state_mut().set_predict_first(false);
    let s = h.state().session();
    // The first micro-step after which a folio shown before has no card.
    let shows = |w: &pinlab_lessons::model::World| {
        pinlab_lessons::model::refs::all_references(w)
            .into_iter()
            .filter(|r| r.kind != pinlab_lessons::model::refs::RefKind::Reserved)
            .map(|r| r.folio)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let at = (1..s.entries())
        .find(|i| {
            shows(&s.sim.entries()[i - 1].world)
                .difference(&shows(&s.sim.entries()[*i].world))
                .next()
                .is_some()
        })
        .expect("folio-life frees a folio");
    h.state_mut().time(TimeCommand::Go(Nav::Seek(at - 1)));
    h.run();
    h.state_mut().time(TimeCommand::Go(Nav::NextMicro));
    h.step();
    let st = h.state().canvas_stats();
    assert!(st.animating);
    assert!(st.fading >= 1, "nothing fades out at micro-step {at}");
    h.run();
    assert_eq!(h.state().canvas_stats().fading, 0);
}
