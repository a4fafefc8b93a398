//! The desktop app driven through AccessKit (egui_kittest, no GPU).

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pinlab::gui::canvas::folio_label;
use pinlab::gui::{PinlabApp, Source};
use pinlab_lessons::model::{FolioId, Preset};

fn harness() -> Harness<'static, PinlabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.run();
    h
}

fn label_of(app: &PinlabApp, id: u32) -> String {
    folio_label(FolioId(id), app.session().world().folio(FolioId(id)))
}

#[test]
fn opens_on_the_first_lesson_and_steps_forward_and_back() {
    let mut h = harness();
    assert_eq!(h.state().session().lesson.id, "folio-life");
    assert_eq!(h.state().session().step(), 0);
    // Predict first: a step with a question (3 and 4) stops before it, and
    // the next press runs it.
    for (step, asking) in [(1, None), (2, None), (2, Some(3)), (3, None), (3, Some(4)), (4, None)] {
        h.get_by_label("Next step >").click();
        h.run();
        assert_eq!((h.state().session().step(), h.state().quiz().asking), (step, asking));
    }
    // The canvas shows the folio the write allocated, with the model's counts.
    let label = label_of(h.state(), 1);
    assert_eq!(label, "folio#1: refcount 1, mapcount 1");
    h.get_by_label(&label);
    h.get_by_label("< Previous step").click();
    h.run();
    assert_eq!(h.state().session().step(), 3);
    assert!(
        h.query_by_label("folio#1: refcount 1, mapcount 1").is_none(),
        "not allocated yet at step 3"
    );
}

#[test]
fn keyboard_moves_through_time() {
    let mut h = harness();
    h.key_press(egui::Key::ArrowRight);
    h.run();
    h.key_press(egui::Key::ArrowRight);
    h.run();
    assert_eq!(h.state().session().step(), 2);
    h.key_press(egui::Key::End);
    h.run();
    assert_eq!(h.state().session().cursor, h.state().session().entries() - 1);
    h.key_press(egui::Key::Home);
    h.run();
    assert_eq!(h.state().session().cursor, 0);
}

#[test]
fn changing_the_kernel_replays_to_the_same_step() {
    let mut h = harness();
    h.state_mut().open_builtin("folio-life");
    h.state_mut().nav(pinlab::gui::session::Nav::Step(7));
    assert_eq!(h.state().session().step(), 6, "step 7 asks: predict first");
    h.state_mut().time(pinlab::gui::TimeCommand::Reveal);
    h.state_mut().set_kernel(Preset::V5_7);
    h.run();
    assert_eq!(h.state().session().preset, Preset::V5_7);
    assert_eq!(h.state().session().step(), 7);
    let s = &h.state().session();
    let f = s.world().file(s.world().file_id("notes").unwrap()).cache[&0];
    let label = label_of(h.state(), f.0);
    h.get_by_label(&label);
}

#[test]
fn an_invalid_lesson_shows_its_error_and_the_app_keeps_running() {
    let mut h = harness();
    let ok = h.state_mut().load_text(
        "broken.toml",
        "id = \"x\"\ntitle = 3\n",
        Source::File("broken.toml".into()),
    );
    assert!(!ok);
    h.run();
    let err = h.state().error().unwrap().to_string();
    assert!(err.starts_with("broken.toml:2:9:"), "{err}");
    h.get_by_label(&format!("Could not open the lesson: {err}"));
    // The previous lesson is still there and still works.
    assert_eq!(h.state().session().lesson.id, "folio-life");
    h.get_by_label("Next step >").click();
    h.run();
    assert_eq!(h.state().session().step(), 1);
}

#[test]
fn saved_state_round_trips_and_damaged_state_falls_back() {
    let mut app = PinlabApp::default();
    app.nav(pinlab::gui::session::Nav::Step(3));
    app.time(pinlab::gui::TimeCommand::Reveal);
    let saved = app.saved();
    let mut other = PinlabApp::default();
    other.restore(saved);
    assert_eq!(other.session().step(), 3);
    let damaged = pinlab::gui::Saved {
        source: Source::Builtin("no-such-lesson".into()),
        kernel: "9.9".into(),
        step: 999,
        dark: false,
        zoom: f32::NAN,
        sandbox: None,
        sandbox_closed: None,
        reduce_motion: true,
        live_results: vec![pinlab::gui::class::LiveResult {
            room: "BCDEFG".into(),
            lesson: "folio-life".into(),
            kernel: "6.12".into(),
            step: 3,
            round: 1,
            value: 2,
            right: true,
        }],
        live_seat: None,
        live_lecture: None,
    };
    let mut third = PinlabApp::default();
    third.restore(damaged);
    assert_eq!(third.session().lesson.id, "folio-life");
    assert!(third.error().is_none());
    assert!(third.reduce_motion(), "the motion setting survives a restart");
    assert_eq!(
        third.class().results.len(),
        1,
        "a student's live-class results survive a restart"
    );
    assert_eq!(third.saved().live_results, third.class().results);
}

/// A broken invariant is shown apart from hazards, as a model bug.
#[test]
fn a_model_bug_gets_its_own_banner() {
    use pinlab::gui::session::Session;
    use pinlab_lessons::model::Fault;
    use pinlab_lessons::run::RunOptions;
    let mut h = harness();
    assert!(h.query_by_label_contains("Model bug").is_none());
    let lesson = pinlab_lessons::builtin::by_id("folio-life").unwrap();
    let opts = RunOptions {
        fault: Some(Fault::RefcountDrift),
        ..RunOptions::default()
    };
    h.state_mut().open_session(
        Session::with_options(lesson, Preset::NEWEST, opts),
        Source::Builtin("folio-life".into()),
    );
    h.run();
    let banner = h.get_by_label_contains("Model bug: pinlab broke");
    assert!(format!("{banner:?}").contains("not a kernel hazard"));
}
