//! The embedding API: what the browser's `window.pinlab` (and tests) can ask
//! of the app. It lives here, not in the web crate, so that it is the same
//! code on every platform and can be tested natively.

use super::session::Nav;
use super::{PinlabApp, Source};
use pinlab_lessons::builtin;
use pinlab_lessons::model::world::Vmstat;
use pinlab_lessons::model::{Folio, FolioId, Preset};
use pinlab_lessons::run::Report;
use serde::Serialize;

/// One built-in lesson, as `pinlab lessons` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct LessonInfo {
    pub id: String,
    pub title: String,
    pub kernels: Vec<String>,
}

/// Where the app is: enough to rebuild the view (a deep link).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Built-in lesson id; empty for a lesson loaded from text or a file.
    pub lesson: String,
    /// Lesson step (1-based; 0 = before the first step).
    pub step: usize,
    pub kernel: String,
    /// History entry (micro-step) shown.
    pub micro_step: usize,
    pub micro_steps: usize,
    /// Presenter mode is on.
    pub presenter: bool,
    /// The shipped lecture being walked, and its stop (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<usize>,
}

#[derive(Serialize)]
struct FolioView<'a> {
    id: FolioId,
    #[serde(flatten)]
    folio: &'a Folio,
}

/// `state()`: the report of `pinlab run --json` for the lesson under the
/// current preset, plus where the user is and the live folios shown there.
#[derive(Serialize)]
struct State<'a> {
    #[serde(flatten)]
    report: &'a Report,
    position: Position,
    folios: Vec<FolioView<'a>>,
    vmstat: &'a Vmstat,
}

pub fn lessons() -> Vec<LessonInfo> {
    builtin::all()
        .into_iter()
        .flatten()
        .map(|l| LessonInfo {
            id: l.id,
            title: l.title,
            kernels: l.kernels.iter().map(|p| p.name().to_string()).collect(),
        })
        .collect()
}

impl PinlabApp {
    pub fn position(&self) -> Position {
        let s = &self.session;
        Position {
            lesson: match &self.source {
                Source::Builtin(id) => id.clone(),
                Source::File(_) => String::new(),
            },
            step: s.step(),
            kernel: s.preset.name().to_string(),
            micro_step: s.cursor,
            micro_steps: s.entries(),
            presenter: self.presenter.on,
            lecture: self.lecture().and_then(|w| w.name.clone()),
            stop: self.lecture().map(|w| w.stop + 1),
        }
    }

    /// `load(idOrToml)`: a built-in lesson id, or the text of a lesson file.
    /// On error the current lesson stays and the error is also shown in the app.
    pub fn load(&mut self, id_or_toml: &str) -> Result<(), String> {
        let ok = if builtin::by_id(id_or_toml.trim()).is_some() {
            self.open_builtin(id_or_toml.trim())
        } else {
            self.load_text("<loaded>", id_or_toml, Source::Builtin(String::new()))
        };
        if ok {
            Ok(())
        } else {
            Err(self.error.clone().unwrap_or_default())
        }
    }

    /// Opens a deep link's target: lesson, then kernel, then step. Unknown
    /// parts are reported and skipped; the rest still applies.
    pub fn open_at(&mut self, lesson: Option<&str>, step: Option<usize>, kernel: Option<&str>) -> Result<(), String> {
        let mut errors = Vec::new();
        if let Some(id) = lesson
            && !(matches!(&self.source, Source::Builtin(cur) if cur == id) || self.open_builtin(id))
        {
            errors.push(format!("no built-in lesson '{id}'"));
        }
        if let Some(k) = kernel {
            match Preset::parse(k) {
                Some(p) if p != self.session.preset => self.set_kernel(p),
                Some(_) => {}
                None => errors.push(format!("unknown kernel '{k}'")),
            }
        }
        if let Some(k) = step {
            self.time(super::TimeCommand::Go(Nav::Step(k)));
            self.api_passes_question();
        }
        if errors.is_empty() {
            Ok(())
        } else {
            let e = errors.join("; ");
            self.error = Some(e.clone());
            Err(e)
        }
    }

    /// `live()`: the live class as the page sees it: status, role, room
    /// code, students, the rounds' counts (a lecturer's) or the position
    /// followed, own answer and results (a student's).
    pub fn live_json(&self) -> String {
        self.class().state_json().to_string()
    }

    /// `liveLecture(cmd)`: the lecturer's "show_answers", "reveal",
    /// "second_round" or "close".
    pub fn live_lecture(&mut self, cmd: &str) -> Result<(), String> {
        use super::class::LectureCommand as L;
        let c = match cmd {
            "show_answers" => L::ShowAnswers,
            "reveal" => L::Reveal,
            "second_round" => L::SecondRound,
            "close" => L::Close,
            other => {
                return Err(format!(
                    "unknown lecture command '{other}' (show_answers, reveal, second_round, close)"
                ));
            }
        };
        if self.class().lecturer().is_none() {
            return Err("not the lecturer of a room".into());
        }
        if self.apply_lecture(vec![c]) {
            Ok(())
        } else {
            Err(format!("'{cmd}': no question is put to the room now"))
        }
    }

    /// `step(n)`: n lesson steps forward; returns the new step.
    pub fn step_forward(&mut self, n: usize) -> usize {
        for _ in 0..n.min(self.session.report.steps.len() + 1) {
            self.time(super::TimeCommand::Go(Nav::NextStep));
            self.api_passes_question();
        }
        self.session.step()
    }

    /// A page that embeds the app asks for a step and gets it: predict
    /// first stops the people at the keys, not the page's own buttons
    /// (quiz mode still stops both).
    fn api_passes_question(&mut self) {
        if !self.quiz.enabled && self.quiz.asking.is_some() {
            self.reveal_waiting();
        }
    }

    /// `back(n)`: n lesson steps back; returns the new step.
    pub fn step_back(&mut self, n: usize) -> usize {
        for _ in 0..n.min(self.session.report.steps.len() + 1) {
            self.time(super::TimeCommand::Go(Nav::PrevStep));
        }
        self.session.step()
    }

    /// `state()` as JSON.
    pub fn state_json(&self) -> String {
        let w = self.session.world();
        let state = State {
            report: &self.session.report,
            position: self.position(),
            folios: w.live_folios().map(|(id, folio)| FolioView { id, folio }).collect(),
            vmstat: &w.vmstat,
        };
        serde_json::to_string(&state).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_has_the_report_schema_and_follows_the_cursor() {
        let mut app = PinlabApp::default();
        app.load("fork-cow").unwrap();
        let k = app.step_forward(2);
        assert_eq!(k, 2);
        let v: serde_json::Value = serde_json::from_str(&app.state_json()).unwrap();
        assert_eq!(v["lesson"], "fork-cow");
        assert_eq!(v["position"]["step"], 2);
        // The report part is exactly `pinlab run --json`'s.
        let report = serde_json::to_value(&app.session.report).unwrap();
        for (key, val) in report.as_object().unwrap() {
            assert_eq!(&v[key], val, "field {key}");
        }
        // Folios are those of the world at the cursor.
        let n = app.session.world().live_folios().count();
        assert_eq!(v["folios"].as_array().unwrap().len(), n);
        assert_eq!(app.step_back(5), 0);
    }

    #[test]
    fn load_rejects_bad_text_and_keeps_the_lesson() {
        let mut app = PinlabApp::default();
        app.load("fork-cow").unwrap();
        let e = app.load("id = 3\n").unwrap_err();
        assert!(e.contains("<loaded>:1:"), "{e}");
        assert_eq!(app.position().lesson, "fork-cow");
    }

    #[test]
    fn open_at_applies_what_it_can() {
        let mut app = PinlabApp::default();
        let e = app.open_at(Some("fork-cow"), Some(3), Some("banana")).unwrap_err();
        assert!(e.contains("banana"));
        let p = app.position();
        assert_eq!((p.lesson.as_str(), p.step), ("fork-cow", 3));
        app.open_at(None, Some(1), Some("5.8")).unwrap();
        assert_eq!((app.position().kernel.as_str(), app.position().step), ("5.8", 1));
    }
}
