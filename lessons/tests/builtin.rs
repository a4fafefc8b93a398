//! Every built-in lesson loads and passes under every kernel it declares.

use pinlab_lessons::builtin;
use pinlab_lessons::run::{run_lesson, transcript};

#[test]
fn builtin_lessons_pass_under_every_declared_kernel() {
    let all = builtin::all();
    assert!(!all.is_empty());
    let mut lessons = Vec::new();
    for l in all {
        lessons.push(l.unwrap_or_else(|e| panic!("{e}")));
    }
    pinlab_lessons::load::check_unique(&lessons).unwrap();
    for l in &lessons {
        for p in &l.kernels {
            let r = run_lesson(l, *p);
            assert!(r.passed, "{} under {p} failed:\n{}", l.id, transcript(l, &r));
        }
    }
}
