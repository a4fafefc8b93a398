//! A lecture: an ordered list of stops across lessons, each a lesson, a
//! range of its steps, the kernel to show it under, the minutes it takes and
//! a note for the lecturer (assets/lectures/*.toml). The app walks the stops
//! with Page Down (`pinlab open --lecture FILE`); docs/course.md lists them.

use crate::builtin;
use crate::lesson::Lesson;
use crate::load::{LoadError, line_col};
use pinlab_model::Preset;
use serde::Deserialize;
use toml::Spanned;

/// The lectures that ship, as (file name, text).
pub const BUILTIN: [(&str, &str); 2] = [
    ("50-minutes.toml", include_str!("../../assets/lectures/50-minutes.toml")),
    (
        "2x90-minutes.toml",
        include_str!("../../assets/lectures/2x90-minutes.toml"),
    ),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LectureFile {
    title: String,
    #[serde(default)]
    summary: String,
    stop: Vec<Spanned<StopFile>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StopFile {
    lesson: Spanned<String>,
    from: usize,
    to: usize,
    kernel: Option<Spanned<String>>,
    minutes: u32,
    #[serde(default)]
    note: String,
}

/// One stop: `lesson` from the state before step `from` to the end of step
/// `to`, under `kernel`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub lesson: Lesson,
    pub from: usize,
    pub to: usize,
    pub kernel: Preset,
    pub minutes: u32,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lecture {
    pub title: String,
    pub summary: String,
    pub stops: Vec<Stop>,
}

impl Lecture {
    pub fn minutes(&self) -> u32 {
        self.stops.iter().map(|s| s.minutes).sum()
    }
}

/// Reads a lecture; every stop must name a built-in lesson, steps it has
/// and a kernel it declares. Errors name the file, line and column.
pub fn parse(file: &str, text: &str) -> Result<Lecture, LoadError> {
    let at = |offset: usize, message: String| {
        let (line, col) = line_col(text, offset);
        LoadError {
            file: file.into(),
            line,
            col,
            message,
        }
    };
    let f: LectureFile = toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().into()))?;
    if f.stop.is_empty() {
        return Err(at(0, "a lecture needs at least one [[stop]]".into()));
    }
    let mut stops = Vec::new();
    for s in f.stop {
        let start = s.span().start;
        let s = s.into_inner();
        let id = s.lesson.get_ref();
        let lesson =
            builtin::by_id(id).ok_or_else(|| at(s.lesson.span().start, format!("no built-in lesson '{id}'")))?;
        let n = lesson.steps.len();
        if s.from == 0 || s.from > s.to || s.to > n {
            return Err(at(
                start,
                format!("steps {}-{} do not fit '{id}', which has steps 1-{n}", s.from, s.to),
            ));
        }
        let kernel = match &s.kernel {
            None => lesson.kernels[0],
            Some(k) => {
                let p = Preset::parse(k.get_ref())
                    .ok_or_else(|| at(k.span().start, format!("'{}' is not a kernel preset", k.get_ref())))?;
                if !lesson.kernels.contains(&p) {
                    let declared: Vec<&str> = lesson.kernels.iter().map(|p| p.name()).collect();
                    return Err(at(
                        k.span().start,
                        format!("'{id}' is written for {}, not {}", declared.join(", "), p.name()),
                    ));
                }
                p
            }
        };
        stops.push(Stop {
            lesson,
            from: s.from,
            to: s.to,
            kernel,
            minutes: s.minutes,
            note: s.note,
        });
    }
    Ok(Lecture {
        title: f.title,
        summary: f.summary,
        stops,
    })
}

/// A shipped lecture by file name ("50-minutes.toml" or "50-minutes").
pub fn builtin(name: &str) -> Option<Result<Lecture, LoadError>> {
    let want = name.trim_end_matches(".toml");
    BUILTIN
        .iter()
        .find(|(f, _)| f.trim_end_matches(".toml") == want)
        .map(|(f, t)| parse(&format!("assets/lectures/{f}"), t))
}

/// Where a lecture is: its stop and the lesson step shown (0 = the state
/// before step 1). Page Down past a stop's last step opens the next stop;
/// Page Up before its first step goes back to the previous stop's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Stay in the lesson: the move is the lesson's own.
    Within,
    /// Open stop `stop` at lesson step `step`.
    Open { stop: usize, step: usize },
    /// Past the last stop (or before the first): nothing happens.
    Edge,
}

impl Lecture {
    /// Where a forward (or backward) move from `step` of stop `stop` goes.
    pub fn step_move(&self, stop: usize, step: usize, forward: bool) -> Move {
        let Some(s) = self.stops.get(stop) else {
            return Move::Edge;
        };
        match forward {
            true if step < s.to => Move::Within,
            true if stop + 1 < self.stops.len() => Move::Open {
                stop: stop + 1,
                step: self.stops[stop + 1].from - 1,
            },
            false if step + 1 > s.from => Move::Within,
            false if stop > 0 => Move::Open {
                stop: stop - 1,
                step: self.stops[stop - 1].to,
            },
            _ => Move::Edge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lectures_load_and_fit_their_time() {
        for (f, _) in BUILTIN {
            let l = builtin(f).unwrap().unwrap_or_else(|e| panic!("{e}"));
            assert!(!l.stops.is_empty());
            let want = if f.starts_with("50") { 50 } else { 180 };
            assert_eq!(l.minutes(), want, "{f}: the stops' minutes");
        }
    }

    #[test]
    fn page_down_walks_the_stops_and_page_up_walks_back() {
        let l = builtin("50-minutes").unwrap().unwrap();
        // Stop 0 is folio-life 1-4: forward inside, then the next stop
        // before its first step.
        assert_eq!(l.step_move(0, 0, true), Move::Within);
        assert_eq!(l.step_move(0, 4, true), Move::Open { stop: 1, step: 0 });
        // fork-cow 6-9 (stop 4) opens at the state after step 5.
        assert_eq!(l.step_move(3, l.stops[3].to, true), Move::Open { stop: 4, step: 5 });
        assert_eq!(
            l.step_move(4, 5, false),
            Move::Open {
                stop: 3,
                step: l.stops[3].to
            }
        );
        assert_eq!(l.step_move(4, 6, false), Move::Within);
        assert_eq!(l.step_move(0, 0, false), Move::Edge);
        let last = l.stops.len() - 1;
        assert_eq!(l.step_move(last, l.stops[last].to, true), Move::Edge);
    }

    #[test]
    fn a_bad_stop_is_refused_with_its_place() {
        let text = "title = \"t\"\n\n[[stop]]\nlesson = \"fork-cow\"\nfrom = 3\nto = 99\nminutes = 5\n";
        let e = parse("x.toml", text).unwrap_err();
        assert!(e.message.contains("steps 3-99 do not fit 'fork-cow'"), "{e}");
        assert_eq!((e.file.as_str(), e.line), ("x.toml", 3));
        let k = "title = \"t\"\n[[stop]]\nlesson = \"fork-cow\"\nfrom = 1\nto = 2\nkernel = \"6.3\"\nminutes = 5\n";
        let e = parse("x.toml", k).unwrap_err();
        assert!(e.message.contains("written for"), "{e}");
        assert_eq!(e.line, 6);
        let unknown = "title = \"t\"\n[[stop]]\nlesson = \"nope\"\nfrom = 1\nto = 2\nminutes = 5\n";
        assert!(
            parse("x.toml", unknown)
                .unwrap_err()
                .message
                .contains("no built-in lesson")
        );
        assert!(parse("x.toml", "title = \"t\"\nstop = []\n").is_err());
        assert!(parse("x.toml", "title = ").is_err());
    }
}
