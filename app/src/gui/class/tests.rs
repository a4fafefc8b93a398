//! The class's client logic with a scripted link: what it sends, and what
//! it does with what the server says.

use super::link::{Link, LinkEvent};
use super::*;
use std::cell::RefCell;
use std::rc::Rc;

/// A link whose traffic the test sees and scripts.
#[derive(Clone, Default)]
struct Script {
    sent: Rc<RefCell<Vec<ClientMsg>>>,
    inbox: Rc<RefCell<Vec<LinkEvent>>>,
    connects: Rc<RefCell<u32>>,
}

struct ScriptLink(Script);

impl Link for ScriptLink {
    fn send(&mut self, text: String) {
        self.0.sent.borrow_mut().push(serde_json::from_str(&text).unwrap());
    }
    fn poll(&mut self) -> Vec<LinkEvent> {
        std::mem::take(&mut *self.0.inbox.borrow_mut())
    }
}

fn class() -> (LiveClass, Script) {
    let sc = Script::default();
    let s2 = sc.clone();
    let c = LiveClass::with_connector(Box::new(move |url, _| {
        assert_eq!(url, "ws://127.0.0.1:9/live");
        *s2.connects.borrow_mut() += 1;
        Ok(Box::new(ScriptLink(s2.clone())) as Box<dyn Link>)
    }));
    (c, sc)
}

impl Script {
    fn push(&self, m: ServerMsg) {
        self.inbox.borrow_mut().push(LinkEvent::Text(m.to_json()));
    }
    fn event(&self, e: LinkEvent) {
        self.inbox.borrow_mut().push(e);
    }
    fn take(&self) -> Vec<ClientMsg> {
        std::mem::take(&mut *self.sent.borrow_mut())
    }
}

impl Script {
    /// The server's side of a first join: seat t1 in BCDEFG, and a question open.
    fn joined_with_a_question(&self) {
        self.push(ServerMsg::Joined {
            code: "BCDEFG".into(),
            token: "t1".into(),
            answered: None,
        });
        self.push(ServerMsg::Position {
            position: pos(1, Some((3, 1, Phase::Open))),
        });
    }

    /// The server's side of opening room BCDEFG with key k1.
    fn opened(&self) {
        self.push(ServerMsg::Opened {
            code: "BCDEFG".into(),
            key: "k1".into(),
        });
    }
}

fn pos(seq: u64, q: Option<(u32, u32, Phase)>) -> Position {
    Position {
        lesson: "folio-life".into(),
        kernel: "6.12".into(),
        whatif: vec![],
        step: 2,
        cursor: 5,
        revealed: false,
        question: q.map(|(step, round, phase)| pinlab_room::Question {
            step,
            round,
            choices: 3,
            phase,
        }),
        seq,
    }
}

#[test]
fn a_lecturer_opens_broadcasts_changes_only_and_resumes_after_a_drop() {
    let (mut c, sc) = class();
    c.open_room("http://127.0.0.1:9");
    sc.event(LinkEvent::Opened);
    c.poll(0.0);
    assert_eq!(sc.take(), vec![ClientMsg::Open {}]);
    sc.opened();
    c.poll(0.1);
    assert_eq!(c.join_link().as_deref(), Some("http://127.0.0.1:9/#join=BCDEFG"));
    let lesson = ("folio-life".to_string(), None);
    c.broadcast(lesson.clone(), pos(0, None));
    c.broadcast(lesson.clone(), pos(0, None));
    let sent = sc.take();
    assert_eq!(sent.len(), 2, "the lesson once, the position once: {sent:?}");
    assert!(matches!(&sent[1], ClientMsg::Position { position } if position.seq == 1));
    // The connection drops: a retry after a second resumes with the key.
    sc.event(LinkEvent::Closed("reset".into()));
    c.poll(1.0);
    assert!(matches!(c.status, Status::Retrying { at, .. } if at == 2.0));
    c.poll(1.5);
    assert_eq!(*sc.connects.borrow(), 1);
    c.poll(2.0);
    assert_eq!(*sc.connects.borrow(), 2);
    sc.event(LinkEvent::Opened);
    c.poll(2.1);
    assert_eq!(
        sc.take(),
        vec![ClientMsg::Resume {
            code: "BCDEFG".into(),
            key: "k1".into()
        }]
    );
    sc.opened();
    c.poll(2.2);
    // After resuming, the lesson and position are sent again.
    c.broadcast(lesson, pos(0, None));
    assert_eq!(sc.take().len(), 2);
}

#[test]
fn a_student_follows_answers_once_unfollows_and_is_marked_on_reveal() {
    let (mut c, sc) = class();
    c.join("127.0.0.1:9", " bcd efg ");
    sc.event(LinkEvent::Opened);
    c.poll(0.0);
    assert!(matches!(&sc.take()[..], [ClientMsg::Join { code, token: None }] if code == "bcd efg"));
    sc.joined_with_a_question();
    let cmds = c.poll(0.1);
    assert!(matches!(&cmds[..], [ClassCommand::Follow { position, .. }] if position.seq == 1));
    c.answer(2).unwrap();
    assert_eq!(
        sc.take(),
        vec![ClientMsg::Answer {
            step: 3,
            round: 1,
            value: 2
        }]
    );
    sc.push(ServerMsg::Accepted {
        step: 3,
        round: 1,
        value: 2,
    });
    c.poll(0.2);
    assert_eq!(c.answer(1).unwrap_err(), "already answered this round");
    // Stepping back alone: positions are kept but not shown.
    c.unfollow();
    sc.push(ServerMsg::Position {
        position: pos(2, Some((3, 1, Phase::Revealed))),
    });
    let cmds = c.poll(0.3);
    assert_eq!(
        cmds,
        vec![ClassCommand::Mark {
            position: pos(2, Some((3, 1, Phase::Revealed))),
            value: 2
        }]
    );
    // Follow catches up with the last position.
    assert!(matches!(&c.follow()[..], [ClassCommand::Follow { position, .. }] if position.seq == 2));
    // A wrong code ends the attempt with the server's reason.
    let (mut c2, sc2) = class();
    c2.join("127.0.0.1:9", "ZZZZZZ");
    sc2.event(LinkEvent::Opened);
    sc2.push(ServerMsg::rejected("no room 'ZZZZZZ' is open"));
    c2.poll(0.0);
    assert!(matches!(&c2.status, Status::Ended { why } if why.contains("ZZZZZZ")));
}

#[test]
fn a_reloaded_page_rejoins_its_seat_and_knows_its_answer() {
    let (mut c, sc) = class();
    c.seat = Some(Seat {
        server: "http://127.0.0.1:9".into(),
        code: "BCDEFG".into(),
        token: "t9".into(),
    });
    c.join("http://127.0.0.1:9", "bcdefg");
    sc.event(LinkEvent::Opened);
    c.poll(0.0);
    assert!(matches!(&sc.take()[..], [ClientMsg::Join { token: Some(t), .. }] if t == "t9"));
    sc.push(ServerMsg::Joined {
        code: "BCDEFG".into(),
        token: "t9".into(),
        answered: Some(3),
    });
    sc.push(ServerMsg::Position {
        position: pos(4, Some((3, 2, Phase::Open))),
    });
    c.poll(0.1);
    assert_eq!(c.student().unwrap().answered, Some((3, 2, 3)));
    assert_eq!(c.answer(1).unwrap_err(), "already answered this round");
    // Another room's code does not present this seat's token.
    let (mut c2, sc2) = class();
    c2.seat = c.seat.clone();
    c2.join("http://127.0.0.1:9", "HJKMNP");
    sc2.event(LinkEvent::Opened);
    c2.poll(0.0);
    assert!(matches!(&sc2.take()[..], [ClientMsg::Join { token: None, .. }]));
}

#[test]
fn a_resume_refused_after_the_server_restarted_ends_the_room_instead_of_talking_to_nobody() {
    let (mut c, sc) = class();
    c.open_room("http://127.0.0.1:9");
    sc.event(LinkEvent::Opened);
    sc.opened();
    c.poll(0.0);
    sc.event(LinkEvent::Closed("reset".into()));
    c.poll(1.0);
    c.poll(2.0);
    sc.event(LinkEvent::Opened);
    sc.push(ServerMsg::rejected("no room with that code and key"));
    c.poll(2.1);
    assert!(matches!(&c.status, Status::Ended { why } if why.contains("no room")));
    // A refusal of an ordinary message later does not end a live room.
    let (mut c2, sc2) = class();
    c2.open_room("http://127.0.0.1:9");
    sc2.event(LinkEvent::Opened);
    sc2.opened();
    sc2.push(ServerMsg::rejected("message of 300000 bytes refused"));
    c2.poll(0.0);
    assert_eq!(c2.status, Status::Connected);
    assert!(c2.rejected.as_deref().unwrap().contains("300000"));
}

#[test]
fn stepping_away_from_a_question_keeps_the_answer_and_a_rate_limit_is_retried() {
    let (mut c, sc) = class();
    c.join("http://127.0.0.1:9", "BCDEFG");
    sc.event(LinkEvent::Opened);
    sc.joined_with_a_question();
    sc.push(ServerMsg::Accepted {
        step: 3,
        round: 1,
        value: 2,
    });
    // The lecturer steps back (no question), then forward to the same round.
    sc.push(ServerMsg::Position { position: pos(2, None) });
    sc.push(ServerMsg::Position {
        position: pos(3, Some((3, 1, Phase::Open))),
    });
    c.poll(0.0);
    assert_eq!(c.student().unwrap().answered, Some((3, 1, 2)));
    assert_eq!(c.answer(1).unwrap_err(), "already answered this round");
    // Round 2 clears it.
    sc.push(ServerMsg::Position {
        position: pos(4, Some((3, 2, Phase::Open))),
    });
    c.poll(0.1);
    assert_eq!(c.student().unwrap().answered, None);
    // A rate-limited join waits and tries again instead of giving up.
    let (mut c2, sc2) = class();
    c2.join("http://127.0.0.1:9", "BCDEFG");
    sc2.event(LinkEvent::Opened);
    sc2.push(ServerMsg::Rejected {
        reason: "too many wrong room codes from this address: try again in 12 s".into(),
        retry_ms: Some(12_000),
    });
    c2.poll(5.0);
    assert!(matches!(c2.status, Status::Retrying { at, .. } if at == 17.0));
    c2.poll(17.0);
    assert_eq!(*sc2.connects.borrow(), 2);
    sc2.event(LinkEvent::Opened);
    sc2.take();
    c2.poll(17.1);
    assert!(matches!(&sc2.take()[..], [ClientMsg::Join { .. }]));
}

#[test]
fn a_restarted_lecturer_takes_the_room_back_with_the_saved_key() {
    let (mut c, sc) = class();
    c.open_room("http://127.0.0.1:9");
    sc.event(LinkEvent::Opened);
    sc.opened();
    c.poll(0.0);
    let saved = c.lecture.clone().expect("the room is remembered");
    assert_eq!((saved.code.as_str(), saved.token.as_str()), ("BCDEFG", "k1"));
    // A new app (restart, reload) with the saved state.
    let (mut c2, sc2) = class();
    c2.lecture = Some(saved.clone());
    c2.take_back();
    sc2.event(LinkEvent::Opened);
    c2.poll(0.0);
    assert_eq!(
        sc2.take(),
        vec![ClientMsg::Resume {
            code: "BCDEFG".into(),
            key: "k1".into()
        }]
    );
    sc2.opened();
    c2.poll(0.1);
    assert_eq!(c2.lecturer().unwrap().code, "BCDEFG");
    // Closing the room forgets it.
    c2.leave();
    assert!(c2.lecture.is_none());
    // A room that ended meanwhile: the take-back is refused and forgotten.
    let (mut c3, sc3) = class();
    c3.lecture = Some(saved);
    c3.take_back();
    sc3.event(LinkEvent::Opened);
    sc3.push(ServerMsg::rejected("no room with that code and key"));
    c3.poll(0.0);
    assert!(matches!(&c3.status, Status::Ended { .. }));
    assert!(c3.lecture.is_none());
}
