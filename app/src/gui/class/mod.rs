//! The live class, on the app's side: a lecturer's room or a student's
//! seat in one. The room's rules are the server's (pinlab-room); here is
//! what each side keeps and shows: the lecturer only aggregates, the student
//! their own answers (kept on their device). The app turns its own state into
//! the position it broadcasts, and applies the positions it follows
//! (glue.rs), so that the GUI, the web API and the tests share one path.

pub mod chart;
mod glue;
pub use glue::LectureCommand;
pub mod link;
pub mod qr;
pub mod view;

use link::{Link, LinkEvent, WsLink};
use pinlab_room::{ClientMsg, Phase, Position, ServerMsg, Tally};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The lecturer's side of a room.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Lecturer {
    pub code: String,
    #[serde(skip)]
    pub key: String,
    pub students: u32,
    /// Every round's answers so far, by (step, round).
    pub tallies: BTreeMap<String, Tally>,
    /// The question being asked: (step, round, phase).
    pub asking: Option<(u32, u32, Phase)>,
    /// The distribution is on screen.
    pub chart: bool,
    /// Per question step: its latest round, and the kernel and toggles it
    /// was asked under.
    #[serde(skip)]
    pub rounds: BTreeMap<u32, (u32, String)>,
}

/// A student's side.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Student {
    pub code: String,
    #[serde(skip)]
    pub token: String,
    /// The student's view follows the lecturer's.
    pub following: bool,
    pub lecturer_present: bool,
    /// The lecturer's last position.
    pub position: Option<Position>,
    /// The lesson the room follows: id and source (when not built in).
    #[serde(skip)]
    pub lesson: Option<(String, Option<String>)>,
    /// This student's answer to the open round: (step, round, value).
    pub answered: Option<(u32, u32, i64)>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    Lecturer(Lecturer),
    Student(Student),
}

/// One of the student's own results, kept on their device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveResult {
    pub room: String,
    pub lesson: String,
    pub kernel: String,
    pub step: u32,
    pub round: u32,
    pub value: i64,
    pub right: bool,
}

/// What the connection is doing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Idle,
    Connecting,
    Connected,
    /// Lost; trying again at this time (seconds of the app's clock).
    Retrying {
        at: f64,
        why: String,
    },
    /// The room ended (or could not be joined): nothing more happens.
    Ended {
        why: String,
    },
}

/// What the class asks the app to do (the student's view follows).
#[derive(Clone, Debug, PartialEq)]
pub enum ClassCommand {
    /// Show this position of this lesson (id, source when not built in).
    Follow {
        lesson: (String, Option<String>),
        position: Position,
    },
    /// The round was revealed: mark the student's answer with the model.
    Mark { position: Position, value: i64 },
}

/// What the connection should say once it opens.
#[derive(Clone, Debug, PartialEq)]
enum Hello {
    Open,
    /// A room code, and the token of an earlier seat in it.
    Join(String, Option<String>),
    /// A room this app lectured before a restart: its code and key.
    Resume(String, String),
}

/// A student's seat: what rejoins the same room as the same student after
/// the page is reloaded (saved with the app's state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    pub server: String,
    pub code: String,
    pub token: String,
}

pub struct LiveClass {
    /// The server (http://host:port), as typed or as the page's own origin.
    pub server: String,
    pub status: Status,
    pub role: Option<Role>,
    /// The last message the server refused, with its reason.
    pub rejected: Option<String>,
    /// The student's own results (saved with the app's state).
    pub results: Vec<LiveResult>,
    /// The last room joined as a student (saved).
    pub seat: Option<Seat>,
    /// The room this app lectures, with its key as the token (saved, so a
    /// restarted app or a reloaded page can take the room back).
    pub lecture: Option<Seat>,
    /// The text of the room's lesson a follower last loaded (not built in).
    pub(crate) shown_source: Option<String>,
    /// The window is open.
    pub open: bool,
    /// What is typed: a room code, a number answer.
    pub typed_code: String,
    pub typed_number: String,
    link: Option<Box<dyn Link>>,
    hello: Option<Hello>,
    /// A hello (open, join, resume) is waiting for its answer: a refusal
    /// then ends the attempt (a wrong code; a room gone with its server).
    greeting: bool,
    retries: u32,
    /// The lecturer's last broadcast (to send only changes) and lesson.
    sent: Option<Position>,
    sent_lesson: Option<(String, Option<String>)>,
    seq: u64,
    /// Repaints the app when a message arrives (the app sets it each frame).
    pub wake: Option<egui::Context>,
    /// Makes links (a test gives a scripted one).
    connector: Connector,
}

/// Makes a link to a WebSocket address, waking this context on messages.
pub type Connector = Box<dyn Fn(&str, Option<egui::Context>) -> Result<Box<dyn Link>, String>>;

impl Default for LiveClass {
    fn default() -> Self {
        LiveClass::with_connector(Box::new(|url, wake| {
            WsLink::connect(url, wake).map(|l| Box::new(l) as Box<dyn Link>)
        }))
    }
}

/// The default server: this machine (on the web, the page's own origin is
/// set by the page when it joins or opens a room).
fn default_server() -> String {
    "http://127.0.0.1:8080".to_string()
}

impl LiveClass {
    pub fn with_connector(connector: Connector) -> LiveClass {
        LiveClass {
            server: default_server(),
            status: Status::Idle,
            role: None,
            rejected: None,
            results: Vec::new(),
            seat: None,
            lecture: None,
            shown_source: None,
            open: false,
            typed_code: String::new(),
            typed_number: String::new(),
            link: None,
            hello: None,
            greeting: false,
            retries: 0,
            sent: None,
            sent_lesson: None,
            seq: 0,
            wake: None,
            connector,
        }
    }

    pub fn lecturer(&self) -> Option<&Lecturer> {
        match &self.role {
            Some(Role::Lecturer(l)) => Some(l),
            _ => None,
        }
    }

    pub fn lecturer_mut(&mut self) -> Option<&mut Lecturer> {
        match &mut self.role {
            Some(Role::Lecturer(l)) => Some(l),
            _ => None,
        }
    }

    pub fn student(&self) -> Option<&Student> {
        match &self.role {
            Some(Role::Student(s)) => Some(s),
            _ => None,
        }
    }

    pub fn student_mut(&mut self) -> Option<&mut Student> {
        match &mut self.role {
            Some(Role::Student(s)) => Some(s),
            _ => None,
        }
    }

    /// The room code of a join under way (or refused), before the seat is given.
    pub fn joining(&self) -> Option<String> {
        match (&self.role, &self.hello) {
            (None, Some(Hello::Join(code, _))) => Some(code.clone()),
            _ => None,
        }
    }

    /// The room is live (connected or reconnecting).
    pub fn active(&self) -> bool {
        self.role.is_some() && !matches!(self.status, Status::Ended { .. })
    }

    /// Opens a new room on `server` as its lecturer.
    pub fn open_room(&mut self, server: &str) {
        self.start(server, Hello::Open);
    }

    /// Joins room `code` on `server` as a student.
    pub fn join(&mut self, server: &str, code: &str) {
        let token = self
            .seat
            .as_ref()
            .filter(|s| s.server == server.trim() && pinlab_room::code::normalize(code).as_ref() == Some(&s.code))
            .map(|s| s.token.clone());
        self.start(server, Hello::Join(code.trim().to_string(), token));
    }

    fn start(&mut self, server: &str, hello: Hello) {
        self.leave();
        self.server = server.trim().to_string();
        // A lecturer needs the window (code, QR, counts); a student has the bar.
        if matches!(hello, Hello::Open | Hello::Resume(..)) {
            self.open = true;
        }
        self.hello = Some(hello);
        self.connect();
    }

    fn connect(&mut self) {
        match (self.connector)(&link::ws_url(&self.server), self.wake.clone()) {
            Ok(l) => {
                self.link = Some(l);
                self.status = Status::Connecting;
            }
            Err(why) => self.status = Status::Ended { why },
        }
    }

    /// Takes back the room this app lectured before it was restarted.
    pub fn take_back(&mut self) {
        if let Some(l) = self.lecture.clone() {
            self.start(&l.server, Hello::Resume(l.code, l.token));
        }
    }

    /// Leaves the room (a lecturer closes it for everyone).
    pub fn leave(&mut self) {
        if self.lecturer().is_some() {
            self.send(&ClientMsg::Close {});
            self.lecture = None;
        }
        self.link = None;
        self.role = None;
        self.hello = None;
        self.sent = None;
        self.sent_lesson = None;
        self.retries = 0;
        self.rejected = None;
        self.status = Status::Idle;
    }

    fn send(&mut self, m: &ClientMsg) {
        if let Some(l) = &mut self.link {
            l.send(serde_json::to_string(m).expect("client messages serialize"));
        }
    }

    /// Handles what arrived and reconnects when it is time; returns what
    /// the app must do. `now` is the app's clock in seconds.
    pub fn poll(&mut self, now: f64) -> Vec<ClassCommand> {
        if let Status::Retrying { at, .. } = self.status
            && now >= at
        {
            self.connect();
        }
        let events = self.link.as_mut().map(|l| l.poll()).unwrap_or_default();
        let mut out = Vec::new();
        for e in events {
            match e {
                LinkEvent::Opened => self.on_open(),
                LinkEvent::Text(t) => match serde_json::from_str::<ServerMsg>(&t) {
                    Ok(m) => out.extend(self.on_message(m, now)),
                    Err(e) => self.rejected = Some(format!("the server sent something unreadable: {e}")),
                },
                LinkEvent::Closed(why) => self.on_closed(why, now),
            }
        }
        out
    }

    fn on_open(&mut self) {
        self.status = Status::Connected;
        self.retries = 0;
        // After a reconnect the role's secret resumes the same seat.
        let m = match (&self.role, &self.hello) {
            (Some(Role::Lecturer(l)), _) => ClientMsg::Resume {
                code: l.code.clone(),
                key: l.key.clone(),
            },
            (Some(Role::Student(s)), _) => ClientMsg::Join {
                code: s.code.clone(),
                token: Some(s.token.clone()),
            },
            (None, Some(Hello::Open)) => ClientMsg::Open {},
            (None, Some(Hello::Resume(code, key))) => ClientMsg::Resume {
                code: code.clone(),
                key: key.clone(),
            },
            (None, Some(Hello::Join(code, token))) => ClientMsg::Join {
                code: code.clone(),
                token: token.clone(),
            },
            (None, None) => return,
        };
        // The lecturer sends the lesson and position again after resuming.
        self.sent = None;
        self.sent_lesson = None;
        self.greeting = true;
        self.send(&m);
    }

    fn on_closed(&mut self, why: String, now: f64) {
        self.link = None;
        if matches!(self.status, Status::Ended { .. } | Status::Idle) {
            return;
        }
        if self.role.is_none() && self.retries >= 3 {
            self.status = Status::Ended {
                why: format!("cannot reach {}: {why}", self.server),
            };
            return;
        }
        // 1, 2, 4, 8 s, then every 10 s: a hall's Wi-Fi comes back.
        let wait = [1.0, 2.0, 4.0, 8.0, 10.0][self.retries.min(4) as usize];
        self.retries += 1;
        self.status = Status::Retrying { at: now + wait, why };
    }

    fn on_message(&mut self, m: ServerMsg, now: f64) -> Vec<ClassCommand> {
        match m {
            ServerMsg::Opened { code, key } => {
                self.greeting = false;
                self.lecture = Some(Seat {
                    server: self.server.clone(),
                    code: code.clone(),
                    token: key.clone(),
                });
                let keep = self.lecturer().filter(|l| l.code == code).cloned();
                self.role = Some(Role::Lecturer(Lecturer {
                    code,
                    key,
                    ..keep.unwrap_or_default()
                }));
            }
            ServerMsg::Joined { code, token, answered } => {
                self.greeting = false;
                let keep = self.student().filter(|s| s.token == token).cloned();
                let mut s = keep.unwrap_or(Student {
                    following: true,
                    ..Default::default()
                });
                self.seat = Some(Seat {
                    server: self.server.clone(),
                    code: code.clone(),
                    token: token.clone(),
                });
                s.code = code;
                s.token = token;
                // The server remembers this seat's answer to the open round
                // (its step and round arrive with the position).
                s.answered = answered.map(|v| (0, 0, v));
                self.role = Some(Role::Student(s));
            }
            ServerMsg::Room { students, tally } => {
                if let Some(l) = self.lecturer_mut() {
                    l.students = students;
                    if let Some(t) = tally {
                        l.tallies.insert(format!("{}.{}", t.step, t.round), t);
                    }
                }
            }
            ServerMsg::Lesson { id, source } => {
                if let Some(s) = self.student_mut() {
                    s.lesson = Some((id, source));
                }
            }
            ServerMsg::Position { position } => return self.on_position(position),
            ServerMsg::Lecturer { present } => {
                if let Some(s) = self.student_mut() {
                    s.lecturer_present = present;
                }
            }
            ServerMsg::Accepted { step, round, value } => {
                self.rejected = None;
                if let Some(s) = self.student_mut() {
                    s.answered = Some((step, round, value));
                }
            }
            ServerMsg::Rejected {
                reason,
                retry_ms: Some(ms),
            } if self.greeting => {
                // Rate-limited (a hall behind one address mistyped codes): try again.
                self.greeting = false;
                self.link = None;
                self.status = Status::Retrying {
                    at: now + ms as f64 / 1000.0,
                    why: reason.clone(),
                };
                self.rejected = Some(reason);
            }
            ServerMsg::Rejected { reason, .. } => {
                if self.greeting {
                    // The hello itself was refused (a wrong code, or a room
                    // that ended while the connection was down): stop here.
                    self.greeting = false;
                    if matches!(self.hello, Some(Hello::Resume(..))) || self.lecturer().is_some() {
                        self.lecture = None;
                    }
                    self.status = Status::Ended { why: reason.clone() };
                    self.link = None;
                }
                self.rejected = Some(reason);
            }
            ServerMsg::Closed { reason } => {
                if self.lecturer().is_some() {
                    self.lecture = None;
                }
                self.status = Status::Ended { why: reason };
                self.link = None;
            }
        }
        Vec::new()
    }

    fn on_position(&mut self, p: Position) -> Vec<ClassCommand> {
        let Some(s) = self.student_mut() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let q = p.question.clone();
        // An answer the server remembered at a rejoin is for this round.
        if let (Some(q), Some((0, 0, v))) = (&q, s.answered) {
            s.answered = Some((q.step, q.round, v));
        }
        if let (Some(q), Some((step, round, value))) = (&q, s.answered)
            && q.phase == Phase::Revealed
            && (q.step, q.round) == (step, round)
        {
            out.push(ClassCommand::Mark {
                position: p.clone(),
                value,
            });
        }
        // A new round clears the answer to the last one. No question (the
        // lecturer stepped back) keeps it: the server keeps the round's
        // answers until a new round starts, so asking again is the same round.
        if let Some(q) = &q
            && Some((q.step, q.round)) != s.answered.map(|(a, b, _)| (a, b))
        {
            s.answered = None;
        }
        s.position = Some(p.clone());
        if s.following {
            let lesson = s.lesson.clone().unwrap_or((p.lesson.clone(), None));
            out.push(ClassCommand::Follow { lesson, position: p });
        }
        out
    }

    /// The student answers the open round.
    pub fn answer(&mut self, value: i64) -> Result<(), String> {
        let s = self.student().ok_or("not in a room as a student")?;
        let q = s
            .position
            .as_ref()
            .and_then(Position::open_question)
            .cloned()
            .ok_or("no question is open")?;
        if s.answered.is_some() {
            return Err("already answered this round".into());
        }
        if self.status != Status::Connected {
            return Err("not connected to the room right now: answer again when it reconnects".into());
        }
        self.send(&ClientMsg::Answer {
            step: q.step,
            round: q.round,
            value,
        });
        Ok(())
    }

    /// The student's view follows the lecturer again; the command shows
    /// where the lecturer is.
    pub fn follow(&mut self) -> Vec<ClassCommand> {
        let Some(s) = self.student_mut() else {
            return Vec::new();
        };
        s.following = true;
        match s.position.clone() {
            Some(position) => vec![ClassCommand::Follow {
                lesson: s.lesson.clone().unwrap_or((position.lesson.clone(), None)),
                position,
            }],
            None => Vec::new(),
        }
    }

    /// The student moved on their own.
    pub fn unfollow(&mut self) {
        if let Some(s) = self.student_mut() {
            s.following = false;
        }
    }

    /// The lecturer's broadcast: the lesson when it changed, the position
    /// when it changed.
    pub fn broadcast(&mut self, lesson: (String, Option<String>), mut p: Position) {
        if self.lecturer().is_none() || self.status != Status::Connected {
            return;
        }
        // Again when the source changes too (a lesson file edited and reloaded).
        if self.sent_lesson.as_ref() != Some(&lesson) {
            self.sent_lesson = Some(lesson.clone());
            self.send(&ClientMsg::Lesson {
                id: lesson.0,
                source: lesson.1,
            });
        }
        p.seq = self.sent.as_ref().map_or(0, |s| s.seq);
        if self.sent.as_ref() == Some(&p) {
            return;
        }
        self.seq += 1;
        p.seq = self.seq;
        self.send(&ClientMsg::Position { position: p.clone() });
        self.sent = Some(p);
    }

    /// Records a student's result (kept on the device).
    pub fn record(&mut self, r: LiveResult) {
        if !self
            .results
            .iter()
            .any(|x| (x.room.as_str(), x.step, x.round) == (r.room.as_str(), r.step, r.round))
        {
            self.results.push(r);
        }
    }

    /// The class as JSON for `window.pinlab.live()`.
    pub fn state_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.status,
            "server": self.server,
            "room": self.role,
            "join_link": self.join_link(),
            "rejected": self.rejected,
            "results": self.results,
        })
    }

    pub fn join_link(&self) -> Option<String> {
        self.lecturer().map(|l| link::join_link(&self.server, &l.code))
    }
}

#[cfg(test)]
mod tests;
