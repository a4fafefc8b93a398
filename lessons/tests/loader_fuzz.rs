//! Nothing a lesson file contains can panic the loader or the runner:
//! random text, and random mutations of a real lesson.

use pinlab_lessons::load_str;
use pinlab_lessons::run::run_lesson;
use proptest::prelude::*;

const BASE: &str = include_str!("../../assets/lessons/01-folio-life.toml");

fn mutate(base: &str, pos: usize, cut: usize, insert: &str) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let pos = pos % (chars.len() + 1);
    let end = (pos + cut).min(chars.len());
    chars.splice(pos..end, insert.chars());
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,400}") {
        let _ = load_str("fuzz.toml", &s);
    }

    #[test]
    fn mutated_lessons_load_or_fail_cleanly_and_run(
        pos in 0usize..4000,
        cut in 0usize..40,
        insert in prop::sample::select(vec![
            "", "\"", "[", "]]", "=", "\n[[step]]\n", "99999999999999999999", "-1", "{", "}", "@x", "[9]",
            "\ndo = \"fork\"\n", "is = true", "kernels = [\"5.7\"]", "é", "\0",
        ]),
    ) {
        let text = mutate(BASE, pos, cut, insert);
        if let Ok(lesson) = load_str("mutant.toml", &text) {
            for p in &lesson.kernels {
                let _ = run_lesson(&lesson, *p);
            }
        }
    }
}

#[test]
fn the_example_in_the_format_doc_runs() {
    let doc = include_str!("../../docs/lesson-format.md");
    let start = doc.find("```toml\nid = ").expect("a complete example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let lesson = load_str("docs/lesson-format.md", &doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    for p in &lesson.kernels {
        let r = run_lesson(&lesson, *p);
        assert!(r.passed, "{}", pinlab_lessons::run::transcript(&lesson, &r));
    }
}
