//! Classroom features driven through AccessKit (egui_kittest): quiz scoring,
//! presenter mode's hidden answers, side by side.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pinlab::gui::PinlabApp;
use pinlab::gui::TimeCommand;
use pinlab::gui::session::Nav;
use pinlab_lessons::model::Preset;

fn harness() -> Harness<'static, PinlabApp> {
    harness_sized(1280.0, 720.0)
}

fn harness_sized(w: f32, h: f32) -> Harness<'static, PinlabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.run();
    h
}

fn has_label_starting(h: &Harness<'_, PinlabApp>, prefix: &str) -> bool {
    // A Role::Label keeps its text in the value, other widgets in the label.
    h.query_all_by(|n| n.value().or_else(|| n.label()).is_some_and(|l| l.starts_with(prefix)))
        .next()
        .is_some()
}

#[test]
fn quiz_stops_before_each_question_and_keeps_score() {
    let mut h = harness();
    // Its first question asks for a number, its second offers choices.
    h.state_mut().open_builtin("false-positive");
    h.state_mut().set_kernel(Preset::V6_12);
    h.run();
    h.get_by_label("Quiz").click();
    h.run();
    h.key_press(egui::Key::End);
    h.run();
    // Stopped before the first question's step: its action has not run yet.
    let k = h.state().quiz().asking.expect("a question is waiting");
    assert_eq!(h.state().session().step(), k - 1);
    let right = h.state().session().report.steps[k - 1]
        .question
        .as_ref()
        .unwrap()
        .answer_value
        .unwrap();
    h.get_by_label("Your answer").focus();
    h.run();
    h.get_by_label("Your answer").type_text(&right.to_string());
    h.run();
    h.get_by_label("Answer").click();
    h.run();
    assert_eq!(h.state().session().step(), k, "the step ran after the answer");
    h.get_by_label(&format!("Your answer {right} is right."));
    // The next question: answered wrongly.
    h.key_press(egui::Key::End);
    h.run();
    let k2 = h.state().quiz().asking.expect("the next question");
    assert!(k2 > k);
    let q2 = h.state().session().report.steps[k2 - 1].question.clone().unwrap();
    let right2 = q2.answer_value.unwrap();
    let wrong2 = if right2 == 1 { 2 } else { 1 };
    h.get_by_label(&format!("{wrong2}. {}", q2.choices[wrong2 as usize - 1]))
        .click();
    h.run();
    h.get_by_label(&format!("Your answer {wrong2} is wrong."));
    h.get_by_label("Quiz score: 1 right of 2 answered (5 questions)");
}

#[test]
fn presenter_mode_hides_answers_and_checks_until_revealed() {
    // Tall enough that the large narration fits without scrolling.
    let mut h = harness_sized(1600.0, 1600.0);
    h.state_mut().open_builtin("ref-extraction");
    h.run();
    h.key_press(egui::Key::F5);
    h.run();
    assert!(h.state().presenter() && h.state().large_text());
    // The step of the first question: predict first stops before it.
    let k = h
        .state()
        .session()
        .report
        .steps
        .iter()
        .position(|s| s.question.is_some())
        .unwrap()
        + 1;
    h.state_mut().nav(Nav::Step(k));
    h.run();
    assert_eq!(h.state().session().step(), k - 1, "the state before step {k}");
    assert!(
        !has_label_starting(&h, "Answer: "),
        "the answer shows before the reveal"
    );
    assert!(!has_label_starting(&h, "[pass]"), "the checks give the answer away");
    h.get_by_label("About to happen:");
    h.key_press(egui::Key::R);
    h.run();
    assert_eq!(h.state().session().step(), k, "R runs the step");
    assert!(h.state().revealed(), "R reveals");
    assert!(has_label_starting(&h, "Answer: "));
    assert!(has_label_starting(&h, "[pass]"));
    // Page Down moves on (a clicker), and hides the next answer again.
    h.key_press(egui::Key::PageDown);
    h.run();
    assert_eq!(h.state().session().step(), k + 1);
    // A step that asks nothing hides nothing, in presenter mode too.
    let st = &h.state().session().report.steps[k];
    assert!(
        st.question.is_none() && !st.checks.is_empty(),
        "step {} must be one without a question",
        k + 1
    );
    assert!(has_label_starting(&h, "[pass]"), "its checks are shown");
    assert!(
        !has_label_starting(&h, "(the checks are hidden"),
        "no hint where nothing is hidden"
    );
    // B blanks the screen and brings it back.
    h.key_press(egui::Key::B);
    h.run();
    h.get_by_label("Blank screen: press B to come back");
    h.key_press(egui::Key::B);
    h.run();
    assert!(h.query_by_label("Blank screen: press B to come back").is_none());
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(!h.state().presenter());
}

#[test]
fn side_by_side_marks_what_differs_at_the_step() {
    let mut h = harness();
    h.state_mut().open_builtin("vmsplice-leak");
    h.state_mut().set_kernel(Preset::V5_7);
    h.run();
    h.get_by_label("Side by side").click();
    h.run();
    h.state_mut().set_compare(Some(Preset::V5_8));
    h.state_mut().nav(Nav::Step(8));
    if h.state().quiz().asking == Some(8) {
        h.state_mut().time(TimeCommand::Reveal);
    }
    h.run();
    // The right pane follows the left one.
    assert_eq!(h.state().compare().unwrap().step(), 8);
    h.get_by_label("data read: secret  |  public");
    h.get_by_label("hazards: data_leak  |  none");
    let n = h.state().differences().len();
    h.get_by_label(&format!("Step 8: {n} difference(s)"));
    // Step 3 is the same under both kernels.
    h.state_mut().nav(Nav::Step(3));
    h.run();
    h.get_by_label("Step 3: no difference between 5.7 and the second pane");
}

#[test]
fn a_sandbox_session_saved_runs_unchanged_with_pinlab_run() {
    let mut h = harness();
    h.state_mut().set_kernel(Preset::V5_7);
    h.get_by_label("Sandbox").click();
    h.run();
    // The palette: spawn a process by typing its name.
    h.get_by_label("name").focus();
    h.run();
    h.get_by_label("name").type_text("parent");
    h.run();
    h.get_by_label("Do spawn").click();
    h.run();
    assert_eq!(h.state().sandbox().unwrap().steps.len(), 1);
    // The rest through the same entry point the palette uses.
    let app = h.state_mut();
    app.sandbox_do(
        "mmap",
        &[("proc", "parent"), ("vma", "buf"), ("pages", "1"), ("write", "true")],
    )
    .unwrap();
    app.sandbox_do(
        "write",
        &[("proc", "parent"), ("vma", "buf"), ("page", "0"), ("data", "public")],
    )
    .unwrap();
    app.sandbox_do("fork", &[("parent", "parent"), ("child", "child")])
        .unwrap();
    app.sandbox_do("vmsplice", &[("proc", "child"), ("vma", "buf"), ("pipe", "p")])
        .unwrap();
    app.sandbox_do("munmap", &[("proc", "child"), ("vma", "buf")]).unwrap();
    app.sandbox_do(
        "write",
        &[("proc", "parent"), ("vma", "buf"), ("page", "0"), ("data", "secret")],
    )
    .unwrap();
    app.sandbox_do("pipe_read", &[("proc", "child"), ("pipe", "p")])
        .unwrap();
    // An impossible action shows the kernel's errno and changes nothing.
    let before = app.session().entries();
    let e = app
        .sandbox_do("read", &[("proc", "child"), ("vma", "buf"), ("page", "0")])
        .unwrap_err();
    assert!(e.contains("EFAULT"), "{e}");
    assert_eq!(app.session().entries(), before);
    assert_eq!(app.sandbox().unwrap().steps.len(), 8);
    h.run();
    h.get_by_label(&format!("read: {e}"));
    // The CVE shows in the sandbox under 5.7.
    assert!(
        h.state().session().report.steps[7]
            .hazards
            .iter()
            .any(|z| z.kind == pinlab_lessons::model::HazardKind::DataLeak)
    );

    let scratch = tempfile::Builder::new().prefix("pinlab-sandbox-").tempdir().unwrap();
    let path = scratch.path().join("sandbox.toml");
    h.state_mut().sandbox_mut().unwrap().save_path = path.display().to_string();
    h.get_by_label("Save").click();
    h.run();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(["run", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = &h.state().session();
    let app_transcript = pinlab_lessons::run::transcript(&s.lesson, &s.report);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        app_transcript.trim_end()
    );
}

#[test]
fn the_sandbox_finds_and_shrinks_a_leak_under_5_7() {
    let mut app = PinlabApp::default();
    app.set_kernel(Preset::V5_7);
    app.set_sandbox(true);
    app.find_counterexample();
    let sb = app.sandbox().unwrap();
    assert!(sb.message.as_ref().unwrap().0, "{:?}", sb.message);
    // The shortest: DMA through a reference taken before fork lands in the
    // page fork shared, and the child reads it.
    for verb in ["\"fork\"", "\"device_write\""] {
        assert!(sb.steps.iter().any(|s| s.contains(verb)), "{verb}: {:?}", sb.steps);
    }
    assert!(app.session().report.steps.iter().any(|s| {
        s.hazards
            .iter()
            .any(|h| h.kind == pinlab_lessons::model::HazardKind::DataLeak)
    }));
}

#[test]
fn the_selftests_window_fills_in_and_a_cell_opens_its_case() {
    let mut h = harness();
    // Windows open from the toolbar's More menu.
    h.get_by_label("More...").click();
    h.run();
    h.get_by_label("Selftests").click();
    // A few rows per frame: the window fills in while the app stays live.
    h.run_steps(60);
    let view = h.state().selftests().unwrap();
    assert!(view.rows.len() > 180, "{} rows", view.rows.len());
    let i = view
        .rows
        .iter()
        .position(|r| r.test == "vmsplice() + unmap in child" && r.variant == "base page")
        .unwrap();
    h.state_mut().open_selftest(i, Preset::V5_7);
    h.run();
    let s = &h.state().session();
    assert_eq!(s.lesson.id, "cow-anon--vmsplice-unmap-in-child--base-page");
    assert_eq!(s.preset, Preset::V5_7);
    // Opened at the step that failed under 5.7: the parent's data shows through.
    let k = s.step();
    assert!(s.report.steps[k - 1].checks.iter().any(|c| !c.passed));
}

#[test]
fn an_exercise_opens_in_quiz_mode() {
    let mut h = harness();
    // Windows open from the toolbar's More menu.
    h.get_by_label("More...").click();
    h.run();
    h.get_by_label("Exercises").click();
    h.run();
    h.get_by_label("Step through exercise 1 in quiz mode").click();
    h.run();
    assert_eq!(h.state().session().lesson.id, "ex-1-1");
    assert!(h.state().quiz().enabled);
}

#[test]
fn sandbox_fields_are_typed_and_cannot_inject_steps() {
    let mut app = PinlabApp::default();
    app.set_sandbox(true);
    // An empty sandbox is a booted kernel, not an error.
    assert_eq!(app.session().lesson.id, "sandbox");
    assert_eq!(app.session().report.steps.len(), 0);
    assert!(app.sandbox().unwrap().message.is_none());
    // A name that looks like a number is still a name.
    app.sandbox_do("spawn", &[("name", "1")]).unwrap();
    assert!(app.session().world().procs.values().any(|p| p.name == "1"));
    let e = app
        .sandbox_do("spawn", &[("name", "x\"\n[[step]]\ndo = \"exit\"\nproc = \"1")])
        .unwrap_err();
    assert!(e.contains("one line"), "{e}");
    let e = app
        .sandbox_do("mmap", &[("proc", "1"), ("vma", "b"), ("pages", "lots")])
        .unwrap_err();
    assert!(e.contains("whole number"), "{e}");
    assert_eq!(app.sandbox().unwrap().steps.len(), 1);
    // Closing the sandbox keeps the work; reopening brings it back.
    app.set_sandbox(false);
    app.set_sandbox(true);
    assert_eq!(app.sandbox().unwrap().steps.len(), 1);
}

/// Predict first, by default: opening any lesson at a step that asks a
/// question shows the state before that step, what is about to happen and the
/// question, and nothing the step did (its narration heading, its checks, its
/// world) until R reveals it. Every question of every lesson, under every
/// kernel the lesson declares.
#[test]
fn every_question_is_asked_before_its_step_runs_and_r_reveals_it() {
    use pinlab_lessons::builtin;
    use pinlab_lessons::model::action_words::words;
    let mut h = harness();
    let mut asked = 0;
    for l in builtin::all().into_iter().flatten() {
        for p in l.kernels.clone() {
            assert!(h.state_mut().open_builtin(&l.id));
            h.state_mut().set_kernel(p);
            let steps = h.state().session().report.steps.clone();
            for st in steps.iter().filter(|st| st.question.is_some()) {
                let k = st.step;
                let app = h.state_mut();
                app.time(TimeCommand::Go(Nav::Home));
                app.time(TimeCommand::Go(Nav::Step(k)));
                let before = app.session().sim.entries()[st.first_entry.saturating_sub(1)]
                    .world
                    .clone();
                assert_eq!(app.quiz().asking, Some(k), "{} {k} under {}", l.id, p.name());
                assert_eq!(app.session().step(), k - 1, "{} {k}: the state before", l.id);
                if st.end_entry > st.first_entry {
                    assert_eq!(app.session().world(), &before, "{} {k}: the world before", l.id);
                }
                h.run();
                let plain = words(&l.steps[k - 1].action).plain;
                assert!(has_label_starting(&h, &plain), "{} {k}: 'about to happen' shown", l.id);
                let heading = format!("Step {k} of {}:", steps.len());
                assert!(
                    !has_label_starting(&h, &heading),
                    "{} {k}: the step's narration is hidden",
                    l.id
                );
                assert!(!has_label_starting(&h, "[pass]"), "{} {k}: no checks shown", l.id);
                let prompt = &st.question.as_ref().unwrap().prompt;
                assert!(has_label_starting(&h, prompt), "{} {k}: the question is shown", l.id);
                h.state_mut().time(TimeCommand::Reveal);
                assert_eq!(h.state().session().step(), k, "{} {k}: R runs the step", l.id);
                assert!(h.state().revealed());
                asked += 1;
            }
        }
    }
    assert!(asked > 150, "{asked} questions asked");
}

/// A lecture walks its stops with Page Down across lessons and kernels,
/// asking every question of a stop before its step, and Page Up walks back.
#[test]
fn page_down_walks_a_lecture_across_lessons_and_page_up_walks_back() {
    let lecture = pinlab_lessons::lecture::builtin("50-minutes").unwrap().unwrap();
    let stops = lecture.stops.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.state_mut().open_lecture(lecture);
    h.run();
    let mut visited = Vec::new();
    let mut asked = 0;
    for _ in 0..400 {
        let s = h.state();
        let at = (
            s.lecture().unwrap().stop,
            s.session().lesson.id.clone(),
            s.session().preset,
            s.session().step(),
        );
        if visited.last().map(|v: &(usize, String, Preset, usize)| v.0) != Some(at.0) {
            // A stop opens at the state before its first step, under its kernel.
            let stop = &stops[at.0];
            assert_eq!(
                (at.1.as_str(), at.2, at.3),
                (stop.lesson.id.as_str(), stop.kernel, stop.from - 1),
                "stop {}",
                at.0
            );
            visited.push(at.clone());
        }
        if s.quiz().asking.is_some() {
            asked += 1;
        }
        let last = at.0 + 1 == stops.len() && at.3 == stops[at.0].to && s.quiz().asking.is_none();
        if last {
            break;
        }
        h.key_press(egui::Key::PageDown);
        h.run();
    }
    assert_eq!(visited.len(), stops.len(), "every stop was opened in order");
    let questions: usize = stops
        .iter()
        .map(|s| {
            s.lesson.steps[s.from - 1..s.to]
                .iter()
                .filter(|st| st.question.is_some())
                .count()
        })
        .sum();
    assert_eq!(asked, questions, "each question of each stop was asked before its step");
    // Page Up from the start of the last stop goes back to the end of the one before.
    let last = stops.len() - 1;
    for _ in 0..40 {
        if h.state().session().step() + 1 == stops[last].from {
            break;
        }
        h.key_press(egui::Key::PageUp);
        h.run();
    }
    h.key_press(egui::Key::PageUp);
    h.run();
    let s = h.state();
    assert_eq!(s.lecture().unwrap().stop, last - 1);
    assert_eq!(s.session().lesson.id, stops[last - 1].lesson.id);
    assert_eq!(s.session().step(), stops[last - 1].to);
    // The bar names the stop and its note is on screen.
    h.get_by_label_contains(&format!("stop {} of {}", last, stops.len()));
}
