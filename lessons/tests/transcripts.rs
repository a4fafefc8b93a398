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

#[test]
fn vmsplice_leak_before_and_after_the_fix() {
    snap("vmsplice-leak", "5.7");
    snap("vmsplice-leak", "5.8");
}

#[test]
fn dio_across_fork_refs_and_pins() {
    snap("dio-across-fork", "5.19");
    snap("dio-across-fork", "6.5");
}

#[test]
fn pinned_pagecache_6_4() {
    snap("pinned-pagecache", "6.4");
}
