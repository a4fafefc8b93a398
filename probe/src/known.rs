//! Disagreements between the model and this machine's kernel that are
//! understood and written down (assets/probe/known-differences.toml). A
//! listed disagreement is reported as "known", not as a failure; the goal is
//! an empty list.

use crate::report::{Check, Verdict};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// A lesson id, or a prefix ending in `*`.
    pub lesson: String,
    /// The check (`mapcount`, `vmstat_delta`, ...), or `*` for every check
    /// (a step whose result differs changes everything after it).
    pub what: String,
    /// Its subject, when only one is meant.
    #[serde(default)]
    pub subject: Option<String>,
    /// Only on kernels whose release (`uname -r`) starts with this.
    #[serde(default)]
    pub release: Option<String>,
    /// Why they differ, and what would resolve it.
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Known {
    #[serde(default)]
    pub difference: Vec<Difference>,
}

pub const BUILTIN: &str = include_str!("../../assets/probe/known-differences.toml");

impl Known {
    pub fn parse(file: &str, text: &str) -> Result<Known, String> {
        toml::from_str(text).map_err(|e| format!("{file}: {e}"))
    }

    pub fn builtin() -> Known {
        Known::parse("assets/probe/known-differences.toml", BUILTIN).unwrap_or_default()
    }

    fn matches(d: &Difference, lesson: &str, release: &str, c: &Check) -> bool {
        if d.release.as_ref().is_some_and(|r| !release.starts_with(r.as_str())) {
            return false;
        }
        let lesson_ok = match d.lesson.strip_suffix('*') {
            Some(prefix) => lesson.starts_with(prefix),
            None => d.lesson == lesson,
        };
        lesson_ok && (d.what == "*" || d.what == c.what) && d.subject.as_ref().is_none_or(|s| *s == c.subject)
    }

    /// Marks the disagreements this list explains, on the kernel `release`.
    pub fn apply(&self, lesson: &str, release: &str, checks: &mut [Check]) {
        for c in checks.iter_mut().filter(|c| c.verdict == Verdict::Disagree) {
            if let Some(d) = self.difference.iter().find(|d| Known::matches(d, lesson, release, c)) {
                c.verdict = Verdict::Known(d.reason.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Source;

    #[test]
    fn the_builtin_list_parses() {
        Known::parse("builtin", BUILTIN).expect("assets/probe/known-differences.toml parses");
    }

    #[test]
    fn a_listed_disagreement_becomes_known() {
        let k = Known::parse(
            "t",
            "[[difference]]\nlesson = \"cow-*\"\nwhat = \"mapcount\"\nreason = \"because\"\n",
        )
        .unwrap();
        let mut c = vec![Check {
            source: Source::Predicted,
            what: "mapcount".into(),
            subject: "p:mem[0]".into(),
            model: "1".into(),
            live: "2".into(),
            verdict: Verdict::Disagree,
            line: None,
            holds_live: None,
        }];
        k.apply("07-fork-cow", "6.18.4", &mut c);
        assert_eq!(c[0].verdict, Verdict::Disagree);
        k.apply("cow-anon--x", "6.18.4", &mut c);
        assert_eq!(c[0].verdict, Verdict::Known("because".into()));
    }

    #[test]
    fn a_difference_of_one_release_is_known_only_there() {
        let k = Known::parse(
            "t",
            "[[difference]]\nlesson = \"a\"\nwhat = \"dirty\"\nrelease = \"6.1.\"\nreason = \"r\"\n",
        )
        .unwrap();
        let check = || Check {
            source: Source::Predicted,
            what: "dirty".into(),
            subject: "p:m[0]".into(),
            model: "true".into(),
            live: "false".into(),
            verdict: Verdict::Disagree,
            line: None,
            holds_live: None,
        };
        let mut on_618 = vec![check()];
        k.apply("a", "6.18.44", &mut on_618);
        assert_eq!(on_618[0].verdict, Verdict::Disagree);
        let mut on_61 = vec![check()];
        k.apply("a", "6.1.0-47-cloud-amd64", &mut on_61);
        assert_eq!(on_61[0].verdict, Verdict::Known("r".into()));
    }

    #[test]
    fn an_unknown_key_is_refused() {
        assert!(
            Known::parse(
                "t",
                "[[difference]]\nlesson = \"a\"\nwhat = \"b\"\nreason = \"c\"\nsubjekt = \"d\"\n"
            )
            .is_err()
        );
    }
}
