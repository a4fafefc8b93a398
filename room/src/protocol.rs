//! The wire protocol: one JSON object per WebSocket text message, tagged by
//! `type`. Unknown fields and unknown types are refused, so a typo in a
//! client is an error the client sees, not a message silently ignored.

use serde::{Deserialize, Serialize};

/// Where the lecturer is: what every following student shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// The lesson's id (a built-in one, or the one the last `lesson` message sent).
    pub lesson: String,
    /// The kernel preset's name, e.g. "6.12".
    pub kernel: String,
    /// What-if toggles on, by name.
    #[serde(default)]
    pub whatif: Vec<String>,
    /// The lesson step on screen (0: before the first).
    pub step: u32,
    /// The history entry (micro-step) on screen.
    pub cursor: u32,
    /// The explanation of the step is shown.
    #[serde(default)]
    pub revealed: bool,
    /// A question the room is answering, if any.
    #[serde(default)]
    pub question: Option<Question>,
    /// The lecturer's own counter: echoed to students so that a client can
    /// tell a newer position from an older one (and the load test can time it).
    #[serde(default)]
    pub seq: u64,
}

impl Position {
    /// The question answers are taken for, if one is open.
    pub fn open_question(&self) -> Option<&Question> {
        self.question.as_ref().filter(|q| q.phase == Phase::Open)
    }
}

/// A question put to the room: the lesson step that asks it and its round
/// (a second round after discussion is a new round of the same step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub step: u32,
    pub round: u32,
    /// The number of choices; 0 for a question answered with a number.
    pub choices: u32,
    pub phase: Phase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Answers are taken.
    Open,
    /// Answers are no longer taken; the distribution may be on screen.
    Closed,
    /// The step has run: each student's own model says if they were right.
    Revealed,
}

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Lecturer: open a new room. (Braced, so that unknown fields are refused.)
    Open {},
    /// Lecturer: take a room back after a reconnect, with the key `opened` gave.
    Resume { code: String, key: String },
    /// Lecturer: the lesson the room follows; `source` is its TOML when it is
    /// not built in.
    Lesson { id: String, source: Option<String> },
    /// Lecturer: where the room is.
    Position { position: Position },
    /// Lecturer: end the room.
    Close {},
    /// Student: join a room; `token` is the one a previous `joined` gave, to resume.
    Join { code: String, token: Option<String> },
    /// Student: an answer to the open round: the 1-based choice or the number.
    Answer { step: u32, round: u32, value: i64 },
}

impl ClientMsg {
    /// The message's type as written on the wire (for rejections).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMsg::Open {} => "open",
            ClientMsg::Resume { .. } => "resume",
            ClientMsg::Lesson { .. } => "lesson",
            ClientMsg::Position { .. } => "position",
            ClientMsg::Close {} => "close",
            ClientMsg::Join { .. } => "join",
            ClientMsg::Answer { .. } => "answer",
        }
    }
}

/// The answers to one round: how many, out of how many students, and the
/// count per value (choice number or typed number), smallest value first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub step: u32,
    pub round: u32,
    pub answered: u32,
    pub counts: Vec<(i64, u32)>,
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMsg {
    /// To the lecturer: the room is theirs. `key` resumes it after a reconnect.
    Opened { code: String, key: String },
    /// To a student: joined. `token` resumes after a reconnect; `answered` is
    /// this student's answer to the open round, if they gave one before.
    Joined {
        code: String,
        token: String,
        answered: Option<i64>,
    },
    /// To students: the lesson to load (sent before any position that needs it).
    Lesson { id: String, source: Option<String> },
    /// To students: where the lecturer is.
    Position { position: Position },
    /// To the lecturer: the students connected and the open round's answers
    /// (aggregates only: never who answered what).
    Room { students: u32, tally: Option<Tally> },
    /// To students: whether the lecturer is connected.
    Lecturer { present: bool },
    /// To a student: the answer is counted.
    Accepted { step: u32, round: u32, value: i64 },
    /// To the sender: the message was refused; nothing changed (but a
    /// refused join or resume counts against the address). `retry_ms`: the
    /// address is rate-limited; the same message succeeds after that long.
    Rejected {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_ms: Option<u64>,
    },
    /// The room has ended; the connection will be closed.
    Closed { reason: String },
}

impl ServerMsg {
    pub fn rejected(reason: impl Into<String>) -> ServerMsg {
        ServerMsg::Rejected {
            reason: reason.into(),
            retry_ms: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_their_wire_form() {
        let m = ClientMsg::Answer {
            step: 4,
            round: 2,
            value: 3,
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"type":"answer","step":4,"round":2,"value":3}"#);
        assert_eq!(serde_json::from_str::<ClientMsg>(&text).unwrap(), m);
        let s = ServerMsg::Room {
            students: 2,
            tally: Some(Tally {
                step: 4,
                round: 1,
                answered: 2,
                counts: vec![(1, 1), (3, 1)],
            }),
        };
        assert_eq!(serde_json::from_str::<ServerMsg>(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"open","admin":true}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"become_lecturer"}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"answer","step":1}"#).is_err());
    }
}
