//! Generated exercises: the same seed gives the same exercises, different
//! seeds differ, and the answer key survives the round trip through lesson
//! text. What this proves is that round trip: the answers the generator read
//! from the model are what the model says again when the exercise, written
//! as a lesson, is loaded and run. It does not prove the model right about
//! the kernel; the lessons' expectations, the selftest matrix and
//! `pinlab probe` are for that.

use pinlab_lessons::exercise::{Kind, generate, text};
use pinlab_lessons::{load_str, run_lesson};

#[test]
fn a_seed_always_gives_the_same_exercises() {
    for seed in [0, 1, 42, 2026, u64::MAX] {
        assert_eq!(generate(seed, 3), generate(seed, 3), "seed {seed}");
    }
    // The first exercises of a longer run are those of a shorter one.
    assert_eq!(generate(7, 2)[..], generate(7, 4)[..2]);
    let a = text(&generate(1, 3));
    let b = text(&generate(2, 3));
    assert_ne!(a, b);
}

#[test]
fn every_answer_survives_the_round_trip_through_lesson_text() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut questions = 0;
    for seed in 0..40 {
        for e in generate(seed, 2) {
            let lesson = load_str("<exercise>", &e.toml).unwrap_or_else(|err| panic!("{err}\n{}", e.toml));
            let kernel = pinlab_lessons::model::Preset::parse(&e.kernel).unwrap();
            let r = run_lesson(&lesson, kernel);
            assert!(r.passed, "seed {seed} exercise {}:\n{}\n{r:#?}", e.number, e.toml);
            // Every question's answer is restated as at least one check.
            let checks: usize = r.steps.iter().map(|s| s.checks.len()).sum();
            assert!(checks >= e.questions.len(), "{}", e.toml);
            for q in &e.questions {
                if q.choices.is_empty() {
                    // Numbers: the rerun lesson reads its answer from the model.
                    let asked = r.steps[q.step - 1].question.as_ref().expect("asked at its step");
                    if asked.prompt == q.text {
                        assert_eq!(asked.answer_value, Some(q.answer), "{}", e.toml);
                    }
                } else {
                    // Choices: the index points at the answer the key gives.
                    let c = &q.choices[(q.answer - 1) as usize];
                    assert!(q.answer_text == *c || q.answer_text == format!("'{c}'"), "{q:?}");
                }
            }
            questions += e.questions.len();
            kinds.extend(e.questions.iter().map(|q| format!("{:?}", q.kind)));
        }
    }
    assert!(questions > 150, "{questions}");
    for k in [Kind::Count, Kind::FinalState, Kind::Read, Kind::Hazard, Kind::Reverse] {
        assert!(kinds.contains(&format!("{k:?}")), "no {k:?} question in 80 exercises");
    }
}
