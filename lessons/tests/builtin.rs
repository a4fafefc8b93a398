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
