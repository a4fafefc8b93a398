//! One room: the lecturer's position, the students and the open round's
//! answers. Who may do what is decided here; the hub only routes.

use crate::ConnId;
use crate::limits::{MAX_NUMBER, MAX_STUDENTS};
use crate::protocol::{Position, Tally};
use std::collections::{BTreeMap, HashMap};

/// A student, known by the token the server gave at their first join.
#[derive(Debug, Default)]
pub struct Student {
    /// The connection, while connected.
    pub conn: Option<ConnId>,
    /// Their answer to the current round, if any.
    pub answered: Option<i64>,
}

#[derive(Debug)]
pub struct Room {
    pub code: String,
    /// The lecturer's secret: who presents it may take the room back.
    pub key: String,
    /// The address that opened it (rooms per address are limited).
    pub opened_by: String,
    pub lecturer: Option<ConnId>,
    /// Since when the lecturer has been away (ms), while away.
    pub away_since: Option<u64>,
    /// The lesson the room follows: id and TOML source when not built in.
    pub lesson: Option<(String, Option<String>)>,
    pub position: Option<Position>,
    pub students: HashMap<String, Student>,
    /// The round the counts are for: (step, round).
    round: Option<(u32, u32)>,
    counts: BTreeMap<i64, u32>,
}

impl Room {
    pub fn new(code: String, key: String, opened_by: String, lecturer: ConnId) -> Room {
        Room {
            code,
            key,
            opened_by,
            lecturer: Some(lecturer),
            away_since: None,
            lesson: None,
            position: None,
            students: HashMap::new(),
            round: None,
            counts: BTreeMap::new(),
        }
    }

    /// Connected students' connections.
    pub fn student_conns(&self) -> Vec<ConnId> {
        self.students.values().filter_map(|s| s.conn).collect()
    }

    pub fn connected(&self) -> u32 {
        self.students.values().filter(|s| s.conn.is_some()).count() as u32
    }

    /// Makes space for a new student: a full room gives up a seat whose
    /// student is not connected (their answers stay counted). False when
    /// every seat is connected.
    pub fn make_space(&mut self) -> bool {
        if self.students.len() < MAX_STUDENTS {
            return true;
        }
        let away = self
            .students
            .iter()
            .find(|(_, s)| s.conn.is_none())
            .map(|(t, _)| t.clone());
        away.is_some_and(|t| self.students.remove(&t).is_some())
    }

    /// Takes the lecturer's new position. A question with a new (step,
    /// round) starts a new round: every student may answer it once.
    pub fn set_position(&mut self, p: Position) -> Result<(), String> {
        if let Some(q) = &p.question {
            if q.step == 0 || q.round == 0 {
                return Err("a question's step and round count from 1".into());
            }
            if q.choices > 26 {
                return Err(format!("a question has at most 26 choices, not {}", q.choices));
            }
            let key = (q.step, q.round);
            if self.round != Some(key) {
                self.round = Some(key);
                self.counts.clear();
                for s in self.students.values_mut() {
                    s.answered = None;
                }
            }
        }
        self.position = Some(p);
        Ok(())
    }

    /// Counts a student's answer to the open round.
    pub fn answer(&mut self, token: &str, step: u32, round: u32, value: i64) -> Result<(), String> {
        let q = self
            .position
            .as_ref()
            .and_then(Position::open_question)
            .ok_or("no question is open")?;
        if (q.step, q.round) != (step, round) {
            return Err(format!(
                "the open question is round {} of step {}, not round {round} of step {step}",
                q.round, q.step
            ));
        }
        if q.choices > 0 && !(1..=q.choices as i64).contains(&value) {
            return Err(format!("choice {value}: the question has choices 1 to {}", q.choices));
        }
        // unsigned_abs: i64::MIN has no abs (it would overflow).
        if q.choices == 0 && value.unsigned_abs() > MAX_NUMBER as u64 {
            return Err(format!("{value} is out of range (at most {MAX_NUMBER} either way)"));
        }
        let s = self.students.get_mut(token).ok_or("not a student of this room")?;
        if let Some(v) = s.answered {
            return Err(format!("already answered round {round} of step {step} (with {v})"));
        }
        s.answered = Some(value);
        *self.counts.entry(value).or_default() += 1;
        Ok(())
    }

    /// The current round's answers.
    pub fn tally(&self) -> Option<Tally> {
        let (step, round) = self.round?;
        Some(Tally {
            step,
            round,
            answered: self.counts.values().sum(),
            counts: self.counts.iter().map(|(v, n)| (*v, *n)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Phase, Question};

    fn pos(step: u32, round: u32, phase: Phase) -> Position {
        Position {
            lesson: "folio-life".into(),
            kernel: "6.12".into(),
            whatif: vec![],
            step: step - 1,
            cursor: 3,
            revealed: false,
            question: Some(Question {
                step,
                round,
                choices: 3,
                phase,
            }),
            seq: 0,
        }
    }

    fn room_with(students: &[&str]) -> Room {
        let mut r = Room::new("BCDEFG".into(), "k".into(), "127.0.0.1".into(), ConnId(1));
        for (i, s) in students.iter().enumerate() {
            r.students.insert(
                s.to_string(),
                Student {
                    conn: Some(ConnId(10 + i as u64)),
                    answered: None,
                },
            );
        }
        r
    }

    #[test]
    fn each_student_answers_a_round_once_and_a_second_round_starts_afresh() {
        let mut r = room_with(&["a", "b", "c"]);
        r.set_position(pos(4, 1, Phase::Open)).unwrap();
        r.answer("a", 4, 1, 2).unwrap();
        r.answer("b", 4, 1, 2).unwrap();
        r.answer("c", 4, 1, 3).unwrap();
        let e = r.answer("a", 4, 1, 1).unwrap_err();
        assert!(e.contains("already answered"), "{e}");
        let t = r.tally().unwrap();
        assert_eq!((t.answered, t.counts.clone()), (3, vec![(2, 2), (3, 1)]));
        // Moving within the round keeps its answers.
        r.set_position(pos(4, 1, Phase::Closed)).unwrap();
        assert_eq!(r.tally().unwrap().answered, 3);
        assert!(r.answer("a", 4, 1, 1).unwrap_err().contains("no question is open"));
        // Round 2 after discussion: everyone answers again.
        r.set_position(pos(4, 2, Phase::Open)).unwrap();
        assert_eq!(r.tally().unwrap().answered, 0);
        r.answer("a", 4, 2, 3).unwrap();
        assert_eq!(r.tally().unwrap().counts, vec![(3, 1)]);
    }

    #[test]
    fn answers_to_another_round_or_out_of_range_are_refused_and_change_nothing() {
        let mut r = room_with(&["a"]);
        r.set_position(pos(4, 1, Phase::Open)).unwrap();
        for (step, round, value, why) in [
            (4, 2, 1, "round 1 of step 4"),
            (5, 1, 1, "not round 1 of step 5"),
            (4, 1, 0, "choices 1 to 3"),
            (4, 1, 4, "choices 1 to 3"),
        ] {
            let e = r.answer("a", step, round, value).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        assert!(r.answer("nobody", 4, 1, 1).unwrap_err().contains("not a student"));
        assert_eq!(r.tally().unwrap().answered, 0);
        assert!(r.set_position(pos(4, 0, Phase::Open)).is_err());
    }
}
