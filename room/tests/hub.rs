//! The hub's rules, driven as the server drives it: connections send text,
//! the test reads what each connection would receive.

use pinlab_room::limits::{JOIN_MISSES, LECTURER_AWAY_MS, STUDENT_MAX_BYTES};
use pinlab_room::{ConnId, Delivery, Hub, Inputs, Phase, Position, Question, ServerMsg, To};
use std::collections::HashMap;

/// A hub with inboxes: what each connection has received, in order.
struct World {
    hub: Hub,
    inbox: HashMap<ConnId, Vec<ServerMsg>>,
    now: u64,
    n: u64,
}

impl World {
    fn new() -> World {
        World {
            hub: Hub::default(),
            inbox: HashMap::new(),
            now: 1_000,
            n: 0,
        }
    }

    fn connect(&mut self, c: u64, peer: &str) {
        self.hub.connect(ConnId(c), peer);
    }

    fn send(&mut self, c: u64, text: &str) {
        // Different entropy each message, from a counter: deterministic.
        self.n += 1;
        let mut entropy = [0u8; 32];
        // Each message's bytes differ (the counter in every 8-byte lane).
        for (i, b) in entropy.iter_mut().enumerate() {
            *b = (self.n >> (8 * (i % 8))) as u8 ^ (i as u8).wrapping_mul(37);
        }
        let out = self.hub.receive(
            ConnId(c),
            text,
            Inputs {
                now_ms: self.now,
                entropy,
            },
        );
        self.deliver(out);
    }

    fn deliver(&mut self, out: Vec<Delivery>) {
        for d in out {
            let to = match d.to {
                To::One(c) => vec![c],
                To::Many(v) => v,
            };
            for c in to {
                self.inbox.entry(c).or_default().push(d.msg.clone());
            }
        }
    }

    fn take(&mut self, c: u64) -> Vec<ServerMsg> {
        self.inbox.remove(&ConnId(c)).unwrap_or_default()
    }

    fn last_room(&mut self, c: u64) -> (u32, Option<pinlab_room::Tally>) {
        self.take(c)
            .into_iter()
            .rev()
            .find_map(|m| match m {
                ServerMsg::Room { students, tally } => Some((students, tally)),
                _ => None,
            })
            .expect("a room update")
    }

    /// Opens a room from connection `c`; returns (code, key).
    fn open(&mut self, c: u64) -> (String, String) {
        self.connect(c, "127.0.0.1");
        self.send(c, r#"{"type":"open"}"#);
        match self.take(c).remove(0) {
            ServerMsg::Opened { code, key } => (code, key),
            m => panic!("{m:?}"),
        }
    }

    /// Joins `code` from connection `c`; returns the token.
    fn join(&mut self, c: u64, code: &str, token: Option<&str>) -> (String, Vec<ServerMsg>) {
        self.connect(c, "10.1.2.3");
        let t = token.map_or("null".to_string(), |t| format!("\"{t}\""));
        self.send(c, &format!(r#"{{"type":"join","code":"{code}","token":{t}}}"#));
        let got = self.take(c);
        match &got[0] {
            ServerMsg::Joined { token, .. } => (token.clone(), got),
            m => panic!("{m:?}"),
        }
    }
}

fn position(step: u32, question: Option<(u32, u32, Phase)>, seq: u64) -> String {
    let p = Position {
        lesson: "folio-life".into(),
        kernel: "6.12".into(),
        whatif: vec![],
        step,
        cursor: step * 2,
        revealed: false,
        question: question.map(|(step, round, phase)| Question {
            step,
            round,
            choices: 3,
            phase,
        }),
        seq,
    };
    serde_json::to_string(&pinlab_room::ClientMsg::Position { position: p }).unwrap()
}

fn rejected(msgs: &[ServerMsg]) -> String {
    match msgs {
        [ServerMsg::Rejected { reason, .. }] => reason.clone(),
        m => panic!("expected one rejection, got {m:?}"),
    }
}

#[test]
fn a_lesson_runs_live_positions_reach_students_answers_reach_the_lecturer_as_counts() {
    let mut w = World::new();
    let (code, _) = w.open(1);
    w.take(1);
    w.send(1, r#"{"type":"lesson","id":"folio-life","source":null}"#);
    w.send(1, &position(2, None, 1));
    // A student joining now lands on the lesson and the current position.
    let (_, got) = w.join(2, &code.to_lowercase(), None);
    assert!(matches!(&got[1], ServerMsg::Lesson { id, .. } if id == "folio-life"));
    assert!(matches!(&got[2], ServerMsg::Position { position } if position.step == 2 && position.seq == 1));
    assert!(matches!(&got[3], ServerMsg::Lecturer { present: true }));
    let (t3, _) = w.join(3, &code, None);
    assert_eq!(w.last_room(1).0, 2, "the lecturer sees two students");
    // A question opens: both students get it.
    w.send(1, &position(3, Some((4, 1, Phase::Open)), 2));
    for s in [2, 3] {
        assert!(matches!(&w.take(s)[..], [ServerMsg::Position { position }] if position.seq == 2));
    }
    w.send(2, r#"{"type":"answer","step":4,"round":1,"value":2}"#);
    assert_eq!(
        w.take(2),
        vec![ServerMsg::Accepted {
            step: 4,
            round: 1,
            value: 2
        }]
    );
    w.send(3, r#"{"type":"answer","step":4,"round":1,"value":3}"#);
    let (students, tally) = w.last_room(1);
    let tally = tally.unwrap();
    assert_eq!((students, tally.answered, tally.counts), (2, 2, vec![(2, 1), (3, 1)]));
    // Answering twice is refused and the count does not move.
    w.take(3);
    w.send(3, r#"{"type":"answer","step":4,"round":1,"value":1}"#);
    assert!(rejected(&w.take(3)).contains("already answered"));
    assert!(w.take(1).is_empty(), "the lecturer hears nothing of a refused answer");
    // A second round after discussion: answers afresh.
    w.send(1, &position(3, Some((4, 2, Phase::Open)), 3));
    assert_eq!(w.last_room(1).1.unwrap().answered, 0);
    w.send(3, r#"{"type":"answer","step":4,"round":2,"value":2}"#);
    assert_eq!(w.last_room(1).1.unwrap().counts, vec![(2, 1)]);
    // Reveal and close.
    w.send(1, &position(4, Some((4, 2, Phase::Revealed)), 4));
    assert!(matches!(w.take(2).last(), Some(ServerMsg::Position { position })
        if position.question.as_ref().unwrap().phase == Phase::Revealed));
    w.send(1, r#"{"type":"close"}"#);
    for c in [1, 2, 3] {
        assert!(matches!(w.take(c).last(), Some(ServerMsg::Closed { .. })), "{c}");
    }
    assert_eq!(w.hub.rooms(), 0);
    // The token of a closed room resumes nothing.
    w.send(3, &format!(r#"{{"type":"join","code":"{code}","token":"{t3}"}}"#));
    assert!(rejected(&w.take(3)).contains("no room"));
}

#[test]
fn malformed_oversized_and_out_of_role_messages_are_rejected_with_a_reason() {
    let mut w = World::new();
    let (code, _) = w.open(1);
    w.send(1, &position(3, Some((4, 1, Phase::Open)), 1));
    w.join(2, &code, None);
    w.take(1);
    let cases = [
        ("{\"type\":\"answer\",", "malformed message"),
        (
            r#"{"type":"answer","step":4,"round":1,"value":2,"extra":1}"#,
            "unknown field",
        ),
        (r#"{"type":"teleport"}"#, "unknown variant"),
        (&position(9, None, 9), "only the lecturer moves the room"),
        (r#"{"type":"close"}"#, "a student may only answer"),
        (r#"{"type":"open"}"#, "a student may only answer"),
        (r#"{"type":"answer","step":4,"round":1,"value":7}"#, "choices 1 to 3"),
        (
            r#"{"type":"answer","step":5,"round":1,"value":1}"#,
            "not round 1 of step 5",
        ),
    ];
    for (text, why) in cases {
        w.send(2, text);
        let r = rejected(&w.take(2));
        assert!(r.contains(why), "{text}: {r}");
    }
    let big = format!(
        r#"{{"type":"answer","step":4,"round":1,"value":1,"pad":"{}"}}"#,
        "x".repeat(STUDENT_MAX_BYTES)
    );
    w.send(2, &big);
    let r = rejected(&w.take(2));
    assert!(r.contains("a student may send at most 1024 bytes"), "{r}");
    // Nothing changed: no answer counted, the lecturer heard nothing, the
    // student can still answer once.
    assert!(w.take(1).is_empty());
    assert_eq!(w.hub.room(&code).unwrap().tally().unwrap().answered, 0);
    w.send(2, r#"{"type":"answer","step":4,"round":1,"value":1}"#);
    assert!(matches!(w.take(2)[..], [ServerMsg::Accepted { .. }]));
    // Before joining, only join / open / resume are understood.
    w.connect(9, "10.9.9.9");
    w.send(9, r#"{"type":"answer","step":4,"round":1,"value":1}"#);
    assert!(rejected(&w.take(9)).contains("before joining a room"));
}

#[test]
fn a_dropped_student_resumes_with_their_answer_and_a_lecturer_reconnect_keeps_the_room() {
    let mut w = World::new();
    let (code, key) = w.open(1);
    w.send(1, &position(3, Some((4, 1, Phase::Open)), 1));
    let (t, _) = w.join(2, &code, None);
    w.send(2, r#"{"type":"answer","step":4,"round":1,"value":3}"#);
    let out = w.hub.disconnect(ConnId(2), w.now);
    w.deliver(out);
    assert_eq!(w.last_room(1).0, 0);
    // Back with its token, on a new connection: the answer is remembered
    // and a second answer is still refused.
    let (t2, got) = w.join(5, &code, Some(&t));
    assert_eq!(t2, t);
    assert!(matches!(got[0], ServerMsg::Joined { answered: Some(3), .. }));
    w.send(5, r#"{"type":"answer","step":4,"round":1,"value":1}"#);
    assert!(rejected(&w.take(5)).contains("already answered"));
    assert_eq!(w.hub.room(&code).unwrap().students.len(), 1, "the same student");
    // The lecturer drops: students are told; the room stays.
    let out = w.hub.disconnect(ConnId(1), w.now);
    w.deliver(out);
    assert_eq!(w.take(5), vec![ServerMsg::Lecturer { present: false }]);
    // A wrong key takes nothing.
    w.connect(6, "127.0.0.1");
    w.send(6, &format!(r#"{{"type":"resume","code":"{code}","key":"00"}}"#));
    assert!(rejected(&w.take(6)).contains("no room with that code and key"));
    w.send(6, &format!(r#"{{"type":"resume","code":"{code}","key":"{key}"}}"#));
    let got = w.take(6);
    assert!(matches!(&got[0], ServerMsg::Opened { .. }));
    let (students, tally) = match got.last() {
        Some(ServerMsg::Room { students, tally }) => (*students, tally.clone()),
        m => panic!("{m:?}"),
    };
    assert_eq!(
        (students, tally.unwrap().answered),
        (1, 1),
        "the round's answers survive"
    );
    assert_eq!(w.take(5), vec![ServerMsg::Lecturer { present: true }]);
    // The lecturer moves on from the new connection.
    w.send(6, &position(4, None, 2));
    assert!(matches!(&w.take(5)[..], [ServerMsg::Position { position }] if position.seq == 2));
}

#[test]
fn wrong_codes_are_rate_limited_per_address_and_abandoned_rooms_end() {
    let mut w = World::new();
    let (code, _) = w.open(1);
    w.connect(2, "10.0.0.66");
    for _ in 0..JOIN_MISSES {
        w.send(2, r#"{"type":"join","code":"ZZZZZZ","token":null}"#);
        assert!(rejected(&w.take(2)).contains("no room 'ZZZZZZ'"));
    }
    // Even the right code is refused now for a new seat, from that address
    // only, with the time to wait.
    let (t3, _) = w.join(3, &code, None);
    w.send(2, &format!(r#"{{"type":"join","code":"{code}","token":null}}"#));
    match &w.take(2)[..] {
        [
            ServerMsg::Rejected {
                reason,
                retry_ms: Some(ms),
            },
        ] => {
            assert!(reason.contains("too many wrong room codes"), "{reason}");
            assert_eq!(*ms, 60_000);
        }
        m => panic!("{m:?}"),
    }
    // A seat's own token is never limited: a hall behind one address
    // reconnects after a Wi-Fi drop whatever its typos cost it.
    w.connect(7, "10.0.0.66");
    w.send(7, &format!(r#"{{"type":"join","code":"{code}","token":"{t3}"}}"#));
    assert!(matches!(w.take(7)[0], ServerMsg::Joined { .. }));
    w.now += 60_000;
    w.send(2, &format!(r#"{{"type":"join","code":"{code}","token":null}}"#));
    assert!(matches!(w.take(2)[0], ServerMsg::Joined { .. }));
    // The lecturer leaves for good.
    let out = w.hub.disconnect(ConnId(1), w.now);
    w.deliver(out);
    assert!(w.hub.sweep(w.now + LECTURER_AWAY_MS - 1).is_empty());
    let out = w.hub.sweep(w.now + LECTURER_AWAY_MS);
    w.deliver(out);
    assert!(matches!(w.take(7).last(), Some(ServerMsg::Closed { reason }) if reason.contains("away")));
    assert_eq!(w.hub.rooms(), 0);
}

#[test]
fn extreme_numbers_full_rooms_and_room_hoarding_are_handled() {
    let mut w = World::new();
    let (code, _) = w.open(1);
    let p = Position {
        lesson: "folio-life".into(),
        kernel: "6.12".into(),
        whatif: vec![],
        step: 2,
        cursor: 2,
        revealed: false,
        question: Some(Question {
            step: 3,
            round: 1,
            choices: 0,
            phase: Phase::Open,
        }),
        seq: 1,
    };
    w.send(
        1,
        &serde_json::to_string(&pinlab_room::ClientMsg::Position { position: p }).unwrap(),
    );
    w.join(2, &code, None);
    // i64::MIN has no absolute value: refused, not a panic.
    w.send(
        2,
        &format!(r#"{{"type":"answer","step":3,"round":1,"value":{}}}"#, i64::MIN),
    );
    assert!(rejected(&w.take(2)).contains("out of range"));
    w.send(2, r#"{"type":"answer","step":3,"round":1,"value":-1099511627776}"#);
    assert!(matches!(w.take(2)[..], [ServerMsg::Accepted { .. }]));
    // A full room gives a disconnected student's seat to a new one.
    for i in 0..pinlab_room::limits::MAX_STUDENTS as u64 - 1 {
        w.join(100 + i, &code, None);
    }
    assert!(
        rejected(&{
            w.connect(5000, "10.3.3.3");
            w.send(5000, &format!(r#"{{"type":"join","code":"{code}","token":null}}"#));
            w.take(5000)
        })
        .contains("full")
    );
    let out = w.hub.disconnect(ConnId(100), w.now);
    w.deliver(out);
    w.join(5001, &code, None);
    assert_eq!(
        w.hub.room(&code).unwrap().students.len(),
        pinlab_room::limits::MAX_STUDENTS
    );
    // One address cannot open every room of the server.
    for c in 0..pinlab_room::limits::MAX_ROOMS_PER_ADDRESS as u64 - 1 {
        w.open(9000 + c);
    }
    w.connect(9999, "127.0.0.1");
    w.send(9999, r#"{"type":"open"}"#);
    assert!(rejected(&w.take(9999)).contains("rooms open"));
}
