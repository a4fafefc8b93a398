//! A lecture in the app (pinlab_lessons::lecture): Page Down past a stop's
//! last step opens the next stop's lesson, under its kernel, at the state
//! before its first step; Page Up before a stop's first step goes back to
//! the previous stop's end. A bar above the picture says where the lecture
//! is, how long the stop takes and the lecturer's note.

use super::session::Nav;
use super::{PinlabApp, Source};
use pinlab_lessons::lecture::{Lecture, Move};

pub struct LectureWalk {
    pub lecture: Lecture,
    /// The shipped lecture's name ("50-minutes"), for links; None for a file.
    pub name: Option<String>,
    /// The stop shown (an index into `lecture.stops`).
    pub stop: usize,
}

impl PinlabApp {
    /// Starts walking a lecture at its first stop.
    pub fn open_lecture(&mut self, lecture: Lecture) {
        self.open_lecture_at(lecture, None, 0);
    }

    fn open_lecture_at(&mut self, lecture: Lecture, name: Option<String>, stop: usize) {
        let stop = stop.min(lecture.stops.len() - 1);
        let first = lecture.stops[stop].from - 1;
        self.lecture = Some(LectureWalk { lecture, name, stop });
        self.open_stop(stop, first);
    }

    /// A shipped lecture by name, or a lecture file's text, at stop `stop`
    /// (1-based; the first when 0 or too large): the web build's
    /// `#lecture=NAME&stop=N` and `pinlab.lecture()`.
    pub fn open_lecture_named(&mut self, name_or_toml: &str, stop: usize) -> Result<(), String> {
        let (lecture, name) = match pinlab_lessons::lecture::builtin(name_or_toml.trim()) {
            Some(l) => (l, Some(name_or_toml.trim().trim_end_matches(".toml").to_string())),
            None => (pinlab_lessons::lecture::parse("<lecture>", name_or_toml), None),
        };
        let lecture = lecture.map_err(|e| e.to_string())?;
        let n = lecture.stops.len();
        self.open_lecture_at(lecture, name, stop.saturating_sub(1).min(n - 1));
        Ok(())
    }

    pub fn lecture(&self) -> Option<&LectureWalk> {
        self.lecture.as_ref()
    }

    pub fn close_lecture(&mut self) {
        self.lecture = None;
    }

    fn open_stop(&mut self, stop: usize, step: usize) {
        let Some(walk) = self.lecture.as_mut() else {
            return;
        };
        walk.stop = stop;
        let s = walk.lecture.stops[stop].clone();
        let id = s.lesson.id.clone();
        self.open_lesson(s.lesson, Source::Builtin(id));
        self.set_kernel(s.kernel);
        self.go(Nav::Step(step));
    }

    /// A step forward or back that leaves the stop opens the next or the
    /// previous one; true when the move was the lecture's. A question
    /// waiting to be revealed keeps the move in the lesson.
    pub(super) fn lecture_nav(&mut self, n: Nav) -> bool {
        let forward = match n {
            Nav::NextStep => true,
            Nav::PrevStep => false,
            _ => return false,
        };
        if forward && self.quiz.asking.is_some() {
            return false;
        }
        let Some(walk) = self.lecture.as_ref() else {
            return false;
        };
        match walk.lecture.step_move(walk.stop, self.session.step(), forward) {
            Move::Within => false,
            Move::Edge => true,
            Move::Open { stop, step } => {
                self.open_stop(stop, step);
                true
            }
        }
    }

    /// The lecture's bar: where it is, the stop's minutes and note, and
    /// buttons to move by stop or leave the lecture.
    pub(super) fn lecture_bar(&mut self, ui: &mut egui::Ui) {
        let Some(walk) = self.lecture.as_ref() else {
            return;
        };
        let s = &walk.lecture.stops[walk.stop];
        let (n, total) = (walk.stop + 1, walk.lecture.stops.len());
        let head = format!(
            "{} · stop {n} of {total}: {} steps {}-{} under {} · {} min",
            walk.lecture.title,
            s.lesson.title,
            s.from,
            s.to,
            s.kernel.name(),
            s.minutes
        );
        let note = s.note.clone();
        let (first, last) = (walk.stop == 0, walk.stop + 1 == total);
        let mut go: Option<usize> = None;
        let mut close = false;
        ui.horizontal_wrapped(|ui| {
            ui.strong(head);
            if ui.add_enabled(!first, egui::Button::new("< Previous stop")).clicked() {
                go = Some(n - 2);
            }
            if ui.add_enabled(!last, egui::Button::new("Next stop >")).clicked() {
                go = Some(n);
            }
            if ui.button("Leave the lecture").clicked() {
                close = true;
            }
        });
        // The note is for the lecturer: not on the projector in presenter mode.
        if !note.is_empty() && !self.presenter.on {
            ui.label(note);
        }
        if let Some(i) = go {
            let from = self.lecture.as_ref().map_or(1, |w| w.lecture.stops[i].from);
            self.open_stop(i, from - 1);
        }
        if close {
            self.close_lecture();
        }
    }
}
