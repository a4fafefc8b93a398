//! The questions of the built-in lessons are for peer instruction: mostly
//! three or four choices built on a misconception, few yes/no and few bare
//! refcount sums (issue: "better questions").

use pinlab_lessons::builtin;
use pinlab_lessons::expect::What;
use pinlab_lessons::lesson::Answer;

#[test]
fn few_questions_are_binary_or_only_a_refcount_number() {
    let (mut all, mut binary, mut refcount_only) = (0, Vec::new(), Vec::new());
    for l in builtin::all().into_iter().flatten() {
        for (i, s) in l.steps.iter().enumerate() {
            let Some(q) = &s.question else { continue };
            all += 1;
            if q.choices.len() == 2 {
                binary.push(format!("{} {}", l.id, i + 1));
            }
            let reads_refcount = matches!(
                &q.answer,
                Answer::FromModel {
                    what: What::Refcount,
                    ..
                }
            );
            if q.choices.is_empty() && (reads_refcount || q.prompt.to_lowercase().contains("refcount")) {
                refcount_only.push(format!("{} {}", l.id, i + 1));
            }
        }
    }
    assert!(all >= 80, "{all} questions");
    assert!(binary.len() <= 10, "{} binary questions: {binary:?}", binary.len());
    assert!(
        refcount_only.len() <= 15,
        "{} questions ask only for a refcount: {refcount_only:?}",
        refcount_only.len()
    );
    // Every multiple-choice answer names one of its choices, under every kernel.
    for l in builtin::all().into_iter().flatten() {
        for s in &l.steps {
            let Some(q) = &s.question else { continue };
            if q.choices.is_empty() {
                continue;
            }
            let answers: Vec<i64> = match &q.answer {
                Answer::Fixed(n) => vec![*n],
                Answer::PerKernel(v) => v.iter().map(|(_, n)| *n).collect(),
                Answer::FromModel { .. } => panic!("{}: a choice question reads the model", l.id),
            };
            for a in answers {
                assert!(
                    a >= 1 && a as usize <= q.choices.len(),
                    "{}: '{}' answer {a}",
                    l.id,
                    q.prompt
                );
            }
        }
    }
}
