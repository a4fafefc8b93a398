//! Transcript snapshots of a few lessons: a model change that alters what a
//! lesson shows appears in review as a snapshot diff (`cargo insta review`,
//! or INSTA_UPDATE=always to accept).

use pinlab_lessons::builtin;
use pinlab_lessons::model::Preset;
use pinlab_lessons::run::{run_lesson, transcript};

fn snap(id: &str, kernel: &str) {
    let Some(lesson) = builtin::by_id(id) else {
        panic!("no built-in lesson '{id}'");
    };
    let p = Preset::parse(kernel).unwrap();
    let r = run_lesson(&lesson, p);
    insta::assert_snapshot!(format!("{id}@{kernel}"), transcript(&lesson, &r));
}

#[test]
fn folio_life() {
    snap("folio-life", "6.12");
}
