//! All rooms of one server and the connections in them: takes what a
//! connection sent and says what to send to whom. The server passes in the
//! time and fresh entropy, so the hub is deterministic under test.

use crate::code;
use crate::limits::{
    JoinLimiter, LECTURER_AWAY_MS, LECTURER_MAX_BYTES, MAX_ROOMS, MAX_ROOMS_PER_ADDRESS, STUDENT_MAX_BYTES,
};
use crate::protocol::{ClientMsg, Position, ServerMsg};
use crate::room::{Room, Student};
use std::collections::HashMap;

/// A connection, numbered by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Whom a message goes to.
#[derive(Clone, Debug, PartialEq)]
pub enum To {
    One(ConnId),
    Many(Vec<ConnId>),
}

/// One message to send (serialized once however many receive it).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub to: To,
    pub msg: ServerMsg,
}

/// What the server passes with each message.
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    pub now_ms: u64,
    /// Fresh random bytes (room codes, keys and tokens are made from them).
    pub entropy: [u8; 32],
}

#[derive(Clone, Debug, PartialEq)]
enum Role {
    /// Connected, in no room yet.
    Pending,
    Lecturer {
        code: String,
    },
    Student {
        code: String,
        token: String,
    },
}

struct Conn {
    peer: String,
    role: Role,
}

#[derive(Default)]
pub struct Hub {
    rooms: HashMap<String, Room>,
    conns: HashMap<ConnId, Conn>,
    limiter: JoinLimiter,
}

/// Why a message is refused, and when a rate-limited address may try again.
struct Refusal {
    reason: String,
    retry_ms: Option<u64>,
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal { reason, retry_ms: None }
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        reason.to_string().into()
    }
}

fn one(c: ConnId, msg: ServerMsg) -> Delivery {
    Delivery { to: To::One(c), msg }
}

impl Hub {
    pub fn rooms(&self) -> usize {
        self.rooms.len()
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// A room, by code (for tests and the server's status line).
    pub fn room(&self, code: &str) -> Option<&Room> {
        self.rooms.get(code)
    }

    /// A new connection from `peer` (its address: joins are limited per address).
    pub fn connect(&mut self, c: ConnId, peer: &str) {
        self.conns.insert(
            c,
            Conn {
                peer: peer.to_string(),
                role: Role::Pending,
            },
        );
    }

    /// The largest message `c` may send.
    pub fn max_bytes(&self, c: ConnId) -> usize {
        match self.conns.get(&c).map(|k| &k.role) {
            Some(Role::Lecturer { .. }) => LECTURER_MAX_BYTES,
            _ => STUDENT_MAX_BYTES,
        }
    }

    /// A text message from `c`: checked for size, form and role, then applied.
    pub fn receive(&mut self, c: ConnId, text: &str, inp: Inputs) -> Vec<Delivery> {
        let Some(role) = self.conns.get(&c).map(|k| k.role.clone()) else {
            return Vec::new();
        };
        let max = self.max_bytes(c);
        if text.len() > max {
            let who = if matches!(role, Role::Lecturer { .. }) {
                "the lecturer"
            } else {
                "a student"
            };
            return vec![one(
                c,
                ServerMsg::rejected(format!(
                    "message of {} bytes refused: {who} may send at most {max} bytes",
                    text.len()
                )),
            )];
        }
        let msg = match serde_json::from_str::<ClientMsg>(text) {
            Ok(m) => m,
            Err(e) => return vec![one(c, ServerMsg::rejected(format!("malformed message: {e}")))],
        };
        match self.apply(c, role, msg, inp) {
            Ok(out) => out,
            Err(r) => vec![one(
                c,
                ServerMsg::Rejected {
                    reason: r.reason,
                    retry_ms: r.retry_ms,
                },
            )],
        }
    }

    fn apply(&mut self, c: ConnId, role: Role, msg: ClientMsg, inp: Inputs) -> Result<Vec<Delivery>, Refusal> {
        let kind = msg.kind();
        match (role, msg) {
            (Role::Pending, ClientMsg::Open {}) => self.open(c, inp),
            (Role::Pending, ClientMsg::Resume { code, key }) => self.resume(c, &code, &key, inp.now_ms),
            (Role::Pending, ClientMsg::Join { code, token }) => self.join(c, &code, token, inp),
            (Role::Lecturer { code }, ClientMsg::Lesson { id, source }) => {
                let room = self.rooms.get_mut(&code).ok_or("the room has ended")?;
                room.lesson = Some((id.clone(), source.clone()));
                Ok(vec![Delivery {
                    to: To::Many(room.student_conns()),
                    msg: ServerMsg::Lesson { id, source },
                }])
            }
            (Role::Lecturer { code }, ClientMsg::Position { position }) => self.position(c, &code, position),
            (Role::Lecturer { code }, ClientMsg::Close {}) => Ok(self.end(&code, "the lecturer closed the room")),
            (Role::Student { code, token }, ClientMsg::Answer { step, round, value }) => {
                let room = self.rooms.get_mut(&code).ok_or("the room has ended")?;
                room.answer(&token, step, round, value)?;
                let mut out = vec![one(c, ServerMsg::Accepted { step, round, value })];
                out.extend(lecturer_view(room));
                Ok(out)
            }
            (Role::Pending, _) => Err(format!("'{kind}' before joining a room: send 'join' (or 'open') first").into()),
            (Role::Student { .. }, _) => Err(format!(
                "a student may only answer: '{kind}' is the lecturer's (only the lecturer moves the room)"
            )
            .into()),
            (Role::Lecturer { code }, _) => Err(format!("the lecturer of room {code} cannot send '{kind}'").into()),
        }
    }

    fn open(&mut self, c: ConnId, inp: Inputs) -> Result<Vec<Delivery>, Refusal> {
        if self.rooms.len() >= MAX_ROOMS {
            return Err(format!("this server has {MAX_ROOMS} rooms open: close one first").into());
        }
        let peer = self.peer(c);
        if self.rooms.values().filter(|r| r.opened_by == peer).count() >= MAX_ROOMS_PER_ADDRESS {
            return Err(format!("this address has {MAX_ROOMS_PER_ADDRESS} rooms open: close one first").into());
        }
        let e = &inp.entropy;
        let code = [&e[0..6], &e[26..32]]
            .into_iter()
            .map(|b| code::room_code(b.try_into().expect("6 bytes")))
            .find(|k| !self.rooms.contains_key(k))
            .ok_or("no free room code: try again")?;
        let key = code::secret(e[6..22].try_into().expect("16 bytes"));
        self.rooms
            .insert(code.clone(), Room::new(code.clone(), key.clone(), peer, c));
        self.set_role(c, Role::Lecturer { code: code.clone() });
        Ok(vec![
            one(c, ServerMsg::Opened { code, key }),
            one(
                c,
                ServerMsg::Room {
                    students: 0,
                    tally: None,
                },
            ),
        ])
    }

    /// A refusal for a join or resume that named nothing: rate-limited per
    /// address (a 128-bit key or token that matches is never limited).
    fn miss(&mut self, c: ConnId, now_ms: u64, reason: String) -> Refusal {
        let peer = self.peer(c);
        if let Some(ms) = self.limiter.retry_in(&peer, now_ms) {
            return Refusal {
                reason: format!(
                    "too many wrong room codes or keys from this address: try again in {} s",
                    ms.div_ceil(1000)
                ),
                retry_ms: Some(ms),
            };
        }
        self.limiter.missed(&peer, now_ms);
        reason.into()
    }

    fn resume(&mut self, c: ConnId, code: &str, key: &str, now_ms: u64) -> Result<Vec<Delivery>, Refusal> {
        let code = code::normalize(code).unwrap_or_default();
        if self.rooms.get(&code).is_none_or(|r| r.key != key) {
            return Err(self.miss(c, now_ms, "no room with that code and key".into()));
        }
        let room = self.rooms.get_mut(&code).expect("checked above");
        let old = room.lecturer.replace(c);
        room.away_since = None;
        let mut out = vec![
            one(
                c,
                ServerMsg::Opened {
                    code: code.clone(),
                    key: key.to_string(),
                },
            ),
            Delivery {
                to: To::Many(room.student_conns()),
                msg: ServerMsg::Lecturer { present: true },
            },
        ];
        out.extend(lecturer_view(room));
        if let Some(o) = old.filter(|o| *o != c) {
            out.push(one(
                o,
                ServerMsg::Closed {
                    reason: "the room was taken over by another lecturer connection".into(),
                },
            ));
            self.set_role(o, Role::Pending);
        }
        self.set_role(c, Role::Lecturer { code });
        Ok(out)
    }

    fn join(&mut self, c: ConnId, typed: &str, token: Option<String>, inp: Inputs) -> Result<Vec<Delivery>, Refusal> {
        let code = code::normalize(typed).unwrap_or_default();
        let token = token.filter(|t| self.rooms.get(&code).is_some_and(|r| r.students.contains_key(t)));
        // A new seat is limited per address; a seat's own token never is.
        if token.is_none() {
            let peer = self.peer(c);
            if let Some(ms) = self.limiter.retry_in(&peer, inp.now_ms) {
                return Err(Refusal {
                    reason: format!(
                        "too many wrong room codes from this address: try again in {} s",
                        ms.div_ceil(1000)
                    ),
                    retry_ms: Some(ms),
                });
            }
            if !self.rooms.contains_key(&code) {
                return Err(self.miss(c, inp.now_ms, format!("no room '{}' is open", typed.trim())));
            }
        }
        let room = self.rooms.get_mut(&code).expect("checked above");
        // A known token resumes that student (their answer to the open round too).
        let token = match token {
            Some(t) => t,
            None => {
                if !room.make_space() {
                    return Err("the room is full".into());
                }
                let t = code::secret(inp.entropy[..16].try_into().expect("16 bytes"));
                // 128 random bits never collide in practice; never overwrite a seat if they do.
                if room.students.contains_key(&t) {
                    return Err("could not make a seat: try again".into());
                }
                room.students.insert(t.clone(), Student::default());
                t
            }
        };
        let s = room.students.get_mut(&token).expect("inserted above");
        let old = s.conn.replace(c);
        let answered = s.answered;
        let mut out = vec![one(
            c,
            ServerMsg::Joined {
                code: room.code.clone(),
                token: token.clone(),
                answered,
            },
        )];
        out.extend(catch_up(room, c));
        out.extend(lecturer_view(room));
        let code = room.code.clone();
        if let Some(o) = old.filter(|o| *o != c) {
            out.push(one(
                o,
                ServerMsg::Closed {
                    reason: "this student joined again from another connection".into(),
                },
            ));
            self.set_role(o, Role::Pending);
        }
        self.set_role(c, Role::Student { code, token });
        Ok(out)
    }

    fn position(&mut self, c: ConnId, code: &str, p: Position) -> Result<Vec<Delivery>, Refusal> {
        let room = self.rooms.get_mut(code).ok_or("the room has ended")?;
        let before = room.tally();
        room.set_position(p.clone())?;
        let mut out = vec![Delivery {
            to: To::Many(room.student_conns()),
            msg: ServerMsg::Position { position: p },
        }];
        if room.tally() != before {
            out.extend(lecturer_view(room));
        }
        let _ = c;
        Ok(out)
    }

    /// Ends a room: everyone in it is told, and their connections are free.
    fn end(&mut self, code: &str, reason: &str) -> Vec<Delivery> {
        let Some(room) = self.rooms.remove(code) else {
            return Vec::new();
        };
        let mut to = room.student_conns();
        to.extend(room.lecturer);
        for k in &to {
            self.set_role(*k, Role::Pending);
        }
        vec![Delivery {
            to: To::Many(to),
            msg: ServerMsg::Closed { reason: reason.into() },
        }]
    }

    /// A connection has gone: a student stays in the room (to resume), a
    /// lecturer's room waits for them.
    pub fn disconnect(&mut self, c: ConnId, now_ms: u64) -> Vec<Delivery> {
        let Some(conn) = self.conns.remove(&c) else {
            return Vec::new();
        };
        match conn.role {
            Role::Pending => Vec::new(),
            Role::Lecturer { code } => {
                let Some(room) = self.rooms.get_mut(&code).filter(|r| r.lecturer == Some(c)) else {
                    return Vec::new();
                };
                room.lecturer = None;
                room.away_since = Some(now_ms);
                vec![Delivery {
                    to: To::Many(room.student_conns()),
                    msg: ServerMsg::Lecturer { present: false },
                }]
            }
            Role::Student { code, token } => {
                let Some(room) = self.rooms.get_mut(&code) else {
                    return Vec::new();
                };
                if let Some(s) = room.students.get_mut(&token).filter(|s| s.conn == Some(c)) {
                    s.conn = None;
                }
                lecturer_view(room).into_iter().collect()
            }
        }
    }

    /// Ends rooms whose lecturer has been away too long; forgets old join misses.
    pub fn sweep(&mut self, now_ms: u64) -> Vec<Delivery> {
        self.limiter.sweep(now_ms);
        let gone: Vec<String> = self
            .rooms
            .values()
            .filter(|r| r.away_since.is_some_and(|t| now_ms >= t + LECTURER_AWAY_MS))
            .map(|r| r.code.clone())
            .collect();
        gone.iter()
            .flat_map(|k| self.end(k, "the lecturer has been away for two hours"))
            .collect()
    }

    fn peer(&self, c: ConnId) -> String {
        self.conns.get(&c).map(|k| k.peer.clone()).unwrap_or_default()
    }

    fn set_role(&mut self, c: ConnId, role: Role) {
        if let Some(k) = self.conns.get_mut(&c) {
            k.role = role;
        }
    }
}

/// What a (re)joining student needs: the lesson, where the room is, and
/// whether the lecturer is there.
fn catch_up(room: &Room, c: ConnId) -> Vec<Delivery> {
    let mut out = Vec::new();
    if let Some((id, source)) = &room.lesson {
        out.push(one(
            c,
            ServerMsg::Lesson {
                id: id.clone(),
                source: source.clone(),
            },
        ));
    }
    if let Some(p) = &room.position {
        out.push(one(c, ServerMsg::Position { position: p.clone() }));
    }
    out.push(one(
        c,
        ServerMsg::Lecturer {
            present: room.lecturer.is_some(),
        },
    ));
    out
}

/// The lecturer's aggregate view, if they are connected.
fn lecturer_view(room: &Room) -> Option<Delivery> {
    room.lecturer.map(|l| {
        one(
            l,
            ServerMsg::Room {
                students: room.connected(),
                tally: room.tally(),
            },
        )
    })
}
