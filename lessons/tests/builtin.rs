//! Every built-in lesson loads and passes under every kernel it declares.

use pinlab_lessons::builtin;
use pinlab_lessons::run::run_lesson;

#[test]
fn builtin_lessons_pass_under_every_declared_kernel() {
    let all = builtin::all();
    assert!(!all.is_empty());
    let mut lessons = Vec::new();
    for l in all {
        lessons.push(l.unwrap_or_else(|e| panic!("{e}")));
    }
    pinlab_lessons::load::check_unique(&lessons).unwrap();
    let mut failures = Vec::new();
    for l in &lessons {
        for p in &l.kernels {
            let r = run_lesson(l, *p);
            if r.passed {
                continue;
            }
            failures.push(format!("{} under {p}:", l.id));
            for st in &r.steps {
                for c in st.checks.iter().filter(|c| !c.passed) {
                    failures.push(format!(
                        "  step {} ({}): {} (actual: {}; {}:{})",
                        st.step, st.action, c.expect, c.actual, l.source, c.line
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The THP lesson holds under every release its kernel filters speak of,
/// 6.0 (no MADV_COLLAPSE yet) and 6.1 (the first with it) included.
#[test]
fn thp_pins_holds_under_6_0_and_6_1() {
    let l = builtin::by_id("thp-pins").expect("lesson");
    for p in [pinlab_lessons::model::Preset::V6_0, pinlab_lessons::model::Preset::V6_1] {
        let r = run_lesson(&l, p);
        assert!(
            r.passed,
            "thp-pins under {p}: {}",
            pinlab_lessons::run::transcript(&l, &r)
        );
    }
}

/// `Lesson::to_toml` is the inverse of the loader: every built-in lesson and
/// selftest case, written and loaded again, is the same lesson.
#[test]
fn every_lesson_round_trips_through_to_toml() {
    let mut all: Vec<pinlab_lessons::Lesson> = pinlab_lessons::builtin::all().into_iter().map(|l| l.unwrap()).collect();
    all.extend(pinlab_lessons::matrix::cases().into_iter().map(|c| c.unwrap().lesson));
    assert!(all.len() > 200);
    for l in &all {
        let text = l.to_toml();
        let back = pinlab_lessons::load_str("written.toml", &text)
            .unwrap_or_else(|e| panic!("{}: the written lesson does not load: {e}\n{text}", l.id));
        assert_eq!(back.positions_cleared(), l.positions_cleared(), "{}:\n{text}", l.id);
    }
}

/// A lesson built from values (no TOML in between) runs like a loaded one.
#[test]
fn a_built_lesson_runs_and_writes_a_loadable_file() {
    use pinlab_lessons::Step;
    use pinlab_lessons::expect::{Cmp, Expectation, Subject, Value, What};
    use pinlab_lessons::model::{Action, MmapArgs, Preset, Tags, WhatIf};
    let mut l = pinlab_lessons::Lesson::new("built", "Built", vec![Preset::V6_18], WhatIf::default());
    l.steps.push(Step::of(Action::Spawn { name: "p".into() }));
    l.steps.push(Step::of(Action::Mmap {
        proc: "p".into(),
        vma: "buf".into(),
        args: MmapArgs {
            pages: 2,
            write: true,
            ..MmapArgs::default()
        },
    }));
    let at = pinlab_lessons::address::Address::Page {
        proc: "p".into(),
        vma: "buf".into(),
        page: 0,
    };
    l.steps.push(
        Step::of(Action::Write {
            proc: "p".into(),
            vma: "buf".into(),
            page: 0,
            pages: None,
            data: Tags::One("x".into()),
        })
        .say("A store faults the page in.")
        .expect(Expectation {
            what: What::Mapcount,
            subject: Subject::At(at),
            cmp: Some(Cmp::Is(Value::Int(1))),
            kernels: Vec::new(),
            line: 0,
        }),
    );
    let r = pinlab_lessons::run::run_report(&l, Preset::V6_18, None);
    assert!(r.passed, "{r:?}");
    assert_eq!(r.steps[2].action, "write proc=\"p\" vma=\"buf\" page=0 data=\"x\"");
    let back = pinlab_lessons::load_str("built.toml", &l.to_toml()).unwrap();
    assert_eq!(back.positions_cleared(), l.positions_cleared());
}
