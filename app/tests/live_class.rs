//! A whole live class on this machine: the real server (pinlab-server) on a
//! loopback port, a lecturer's app and two students' apps (egui_kittest,
//! real WebSockets through ewebsock). Follow, answer, count, reveal, mark,
//! a second round, stepping back alone and following again.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pinlab::gui::PinlabApp;
use pinlab::gui::class::{LectureCommand, Status};
use pinlab_room::Phase;
use std::time::{Duration, Instant};

fn server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            pinlab_server::serve(l, None).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn app() -> Harness<'static, PinlabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.run();
    h
}

/// Runs frames of every app until `done` holds (messages arrive on other
/// threads); fails after 10 s.
fn pump(
    apps: &mut [&mut Harness<'static, PinlabApp>],
    what: &str,
    done: impl Fn(&[&mut Harness<'static, PinlabApp>]) -> bool,
) {
    let start = Instant::now();
    while !done(apps) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for: {what}"
        );
        for h in apps.iter_mut() {
            h.step();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for h in apps.iter_mut() {
        h.step();
    }
}

/// A few frames after a click: the click, its effect, the tree drawn again.
/// (Not `run`: socket messages may keep waking the app while it settles.)
fn settle(h: &mut Harness<'static, PinlabApp>) {
    for _ in 0..3 {
        h.step();
    }
}

/// How many answers the lecturer's counts show for (step, round).
fn answered(h: &Harness<'static, PinlabApp>, step: usize, round: u32) -> u32 {
    h.state()
        .class()
        .lecturer()
        .and_then(|l| l.tallies.get(&format!("{step}.{round}")))
        .map_or(0, |t| t.answered)
}

/// The question a student's app has from the room.
fn question(h: &Harness<'static, PinlabApp>) -> Option<pinlab_room::Question> {
    h.state().class().student()?.position.as_ref()?.question.clone()
}

fn code(h: &Harness<'static, PinlabApp>) -> Option<String> {
    h.state().class().lecturer().map(|l| l.code.clone())
}

#[test]
fn a_lesson_runs_live_follow_answer_count_reveal_and_a_second_round() {
    let url = server();
    let mut lect = app();
    let mut s1 = app();
    let mut s2 = app();
    lect.state_mut().open_room(&url);
    pump(&mut [&mut lect], "the room opens", |a| code(a[0]).is_some());
    let code = code(&lect).unwrap();
    assert_eq!(code.len(), 6);
    for s in [&mut s1, &mut s2] {
        s.state_mut().join_room(&url, &code.to_lowercase());
    }
    pump(&mut [&mut lect, &mut s1, &mut s2], "two students", |a| {
        a[0].state().class().lecturer().unwrap().students == 2
    });
    // The lecturer moves to the end: the quiz stops before the first question.
    lect.state_mut()
        .time(pinlab::gui::TimeCommand::Go(pinlab::gui::session::Nav::End));
    let k = lect.state().quiz().asking.expect("stopped before a question");
    pump(
        &mut [&mut lect, &mut s1, &mut s2],
        "students follow to the question",
        |a| {
            a[1..]
                .iter()
                .all(|s| s.state().session().step() == k - 1 && question(s).is_some_and(|q| q.phase == Phase::Open))
        },
    );
    let q = lect.state().session().report.steps[k - 1].question.clone().unwrap();
    let right = q.answer_value.unwrap();
    assert!(!q.choices.is_empty(), "folio-life's first question is multiple choice");
    let wrong = if right == 1 { 2 } else { 1 };
    // Student 1 clicks the right choice in the bar; student 2 answers wrong.
    s1.get_by_label(&format!("{right}. {}", q.choices[right as usize - 1]))
        .click();
    settle(&mut s1);
    s2.state_mut().answer_room(wrong).unwrap();
    pump(&mut [&mut lect, &mut s1, &mut s2], "two answers counted", |a| {
        answered(a[0], k, 1) == 2
    });
    let t = &lect.state().class().lecturer().unwrap().tallies[&format!("{k}.1")];
    let mut want = vec![(right, 1), (wrong, 1)];
    want.sort();
    assert_eq!(t.counts, want);
    assert_eq!(
        s2.state_mut().answer_room(right).unwrap_err(),
        "already answered this round"
    );
    // C shows the distribution, R reveals: the step runs for everyone.
    lect.key_press(egui::Key::C);
    lect.step();
    assert!(lect.state().class().lecturer().unwrap().chart);
    lect.get_by_label("round 1");
    lect.key_press(egui::Key::R);
    lect.step();
    assert_eq!(lect.state().session().step(), k);
    pump(&mut [&mut lect, &mut s1, &mut s2], "both students marked", |a| {
        a[1..]
            .iter()
            .all(|s| s.state().class().results.len() == 1 && s.state().session().step() == k)
    });
    assert!(s1.state().class().results[0].right);
    assert!(!s2.state().class().results[0].right);
    s1.get_by_label(&format!("Right: {right}. {}", q.choices[right as usize - 1]));

    // Student 2 steps back alone, then follows again.
    s2.get_by_label("< Previous step").click();
    settle(&mut s2);
    assert!(!s2.state().class().student().unwrap().following);
    lect.state_mut()
        .time(pinlab::gui::TimeCommand::Go(pinlab::gui::session::Nav::End));
    let k2 = lect.state().quiz().asking.unwrap_or(lect.state().session().step());
    pump(&mut [&mut lect, &mut s1, &mut s2], "student 1 follows on", |a| {
        a[1].state().session().step() + 1 >= k2
    });
    assert_eq!(s2.state().session().step(), k - 1, "student 2 stays where they went");
    s2.get_by_label("Follow the lecturer").click();
    settle(&mut s2);
    assert_eq!(s2.state().session().step(), s1.state().session().step());

    // A second round of the next question: the count starts again.
    assert!(lect.state().quiz().asking.is_some(), "folio-life has a second question");
    {
        lect.state_mut().apply_lecture(vec![LectureCommand::SecondRound]);
        pump(
            &mut [&mut lect, &mut s1, &mut s2],
            "round 2 reaches the students",
            |a| question(a[1]).is_some_and(|q| q.round == 2),
        );
        s1.state_mut().answer_room(1).unwrap();
        pump(&mut [&mut lect, &mut s1], "round 2's answer", |a| {
            answered(a[0], k2, 2) == 1
        });
    }
    // Closing ends the room for the students.
    lect.state_mut().apply_lecture(vec![LectureCommand::Close]);
    pump(&mut [&mut lect, &mut s1, &mut s2], "the room ends", |a| {
        a[1..]
            .iter()
            .all(|s| matches!(s.state().class().status, Status::Ended { .. }))
    });
}

#[test]
fn a_wrong_code_says_why_in_the_students_bar_and_the_app_goes_on() {
    let url = server();
    let mut s = app();
    s.state_mut().join_room(&url, "zz-zzzz");
    pump(&mut [&mut s], "the refusal", |a| {
        matches!(a[0].state().class().status, Status::Ended { .. })
    });
    s.get_by_label("Not in a room: no room 'zz-zzzz' is open");
    s.get_by_label("Next step >").click();
    settle(&mut s);
    assert_eq!(s.state().session().step(), 1);
    s.get_by_label("Close").click();
    settle(&mut s);
    assert!(s.query_by_label("Not in a room: no room 'zz-zzzz' is open").is_none());
}

/// just-list asks about a step whose action fails (EFAULT): it records no
/// micro-step, so the students must be shown that step, not the one before.
#[test]
fn a_revealed_step_whose_action_failed_is_the_step_the_students_see() {
    let url = server();
    let mut lect = app();
    let mut s = app();
    lect.state_mut().load("just-list").unwrap();
    let k = lect
        .state()
        .session()
        .report
        .steps
        .iter()
        .find(|st| st.result.failed() && st.question.is_some())
        .expect("a failing step with a question")
        .step;
    lect.state_mut().open_room(&url);
    pump(&mut [&mut lect], "the room opens", |a| code(a[0]).is_some());
    let c = code(&lect).unwrap();
    s.state_mut().join_room(&url, &c);
    pump(&mut [&mut lect, &mut s], "the student", |a| {
        a[0].state().class().lecturer().unwrap().students == 1
    });
    lect.state_mut()
        .time(pinlab::gui::TimeCommand::Go(pinlab::gui::session::Nav::Step(k)));
    // Earlier questions stop the lecturer first: reveal each on the way.
    while lect.state().quiz().asking.is_some_and(|a| a < k) {
        lect.state_mut().apply_lecture(vec![LectureCommand::Reveal]);
        lect.state_mut()
            .time(pinlab::gui::TimeCommand::Go(pinlab::gui::session::Nav::Step(k)));
    }
    assert_eq!(lect.state().quiz().asking, Some(k));
    lect.state_mut().apply_lecture(vec![LectureCommand::Reveal]);
    assert_eq!(lect.state().session().step(), k);
    pump(&mut [&mut lect, &mut s], "the student on the failed step", |a| {
        a[1].state().session().step() == k
    });
    assert!(s.state().session().step_report().unwrap().result.failed());
}

/// Stepping back from a question and forward again asks the same round (the
/// server kept its answers); after a kernel change it is a new round.
#[test]
fn a_question_asked_again_keeps_its_round_until_the_kernel_changes() {
    use pinlab::gui::TimeCommand::Go;
    use pinlab::gui::session::Nav;
    let url = server();
    let mut lect = app();
    let mut s = app();
    lect.state_mut().open_room(&url);
    pump(&mut [&mut lect], "the room opens", |a| code(a[0]).is_some());
    let c = code(&lect).unwrap();
    s.state_mut().join_room(&url, &c);
    lect.state_mut().time(Go(Nav::End));
    let k = lect.state().quiz().asking.unwrap();
    pump(&mut [&mut lect, &mut s], "the question reaches the student", |a| {
        question(a[1]).is_some_and(|q| q.phase == Phase::Open)
    });
    s.state_mut().answer_room(1).unwrap();
    pump(&mut [&mut lect, &mut s], "the answer", |a| answered(a[0], k, 1) == 1);
    lect.state_mut().time(Go(Nav::PrevStep));
    lect.state_mut().time(Go(Nav::End));
    assert_eq!(lect.state().class().lecturer().unwrap().asking.map(|a| a.1), Some(1));
    pump(&mut [&mut lect, &mut s], "round 1 again", |a| {
        question(a[1]).is_some_and(|q| q.round == 1 && q.phase == Phase::Open)
    });
    assert_eq!(answered(&lect, k, 1), 1, "the answer survived");
    assert!(s.state_mut().answer_room(2).is_err(), "still answered");
    // Another kernel: the right answer may differ, so a new round.
    assert_eq!(lect.state().session().preset, pinlab_lessons::model::Preset::V6_12);
    lect.state_mut().set_kernel(pinlab_lessons::model::Preset::V6_5);
    lect.state_mut().time(Go(Nav::End));
    assert_eq!(lect.state().quiz().asking, Some(k));
    pump(&mut [&mut lect, &mut s], "round 2 after the kernel change", |a| {
        question(a[1]).is_some_and(|q| q.round == 2)
    });
    s.state_mut().answer_room(2).unwrap();
}
