//! What one client may send, and how often a guess at a room code may miss.

use std::collections::HashMap;

/// The largest message a student (or a client that has not joined) may
/// send: an answer or a join is under 200 bytes.
pub const STUDENT_MAX_BYTES: usize = 1024;
/// The largest message the lecturer may send: a lesson's TOML source.
pub const LECTURER_MAX_BYTES: usize = 256 * 1024;
/// Students in one room (a lecture hall of 300 fits three times over).
pub const MAX_STUDENTS: usize = 1000;
/// Rooms open at once on one server.
pub const MAX_ROOMS: usize = 200;
/// Rooms open at once opened from one address (a script cannot take them all).
pub const MAX_ROOMS_PER_ADDRESS: usize = 10;
/// Failed joins (unknown code, wrong key) one address may make per window:
/// enough for a hall behind one NAT address mistyping codes.
pub const JOIN_MISSES: u32 = 60;
/// The window of [`JOIN_MISSES`], in milliseconds.
pub const JOIN_WINDOW_MS: u64 = 60_000;
/// A room whose lecturer has been away this long ends (the lecturer closed
/// the laptop and went home).
pub const LECTURER_AWAY_MS: u64 = 2 * 60 * 60 * 1000;
/// A typed number answer is within this bound (a refcount, a count of pages).
pub const MAX_NUMBER: i64 = 1 << 40;

/// Failed joins per address in fixed windows: an address that misses
/// [`JOIN_MISSES`] times is refused until its window ends. Successful joins
/// do not count, so a hall behind one NAT address is not locked out by its
/// own students.
#[derive(Default)]
pub struct JoinLimiter {
    misses: HashMap<String, (u64, u32)>,
}

impl JoinLimiter {
    /// Whether `peer` may try a join now.
    pub fn allowed(&self, peer: &str, now_ms: u64) -> bool {
        match self.misses.get(peer) {
            Some(&(start, n)) => now_ms >= start + JOIN_WINDOW_MS || n < JOIN_MISSES,
            None => true,
        }
    }

    /// How long until `peer` may try again (ms), when it may not now.
    pub fn retry_in(&self, peer: &str, now_ms: u64) -> Option<u64> {
        (!self.allowed(peer, now_ms)).then(|| {
            let start = self.misses.get(peer).map_or(now_ms, |e| e.0);
            (start + JOIN_WINDOW_MS).saturating_sub(now_ms).max(1)
        })
    }

    /// Records a join that named no open room.
    pub fn missed(&mut self, peer: &str, now_ms: u64) {
        let e = self.misses.entry(peer.to_string()).or_insert((now_ms, 0));
        if now_ms >= e.0 + JOIN_WINDOW_MS {
            *e = (now_ms, 0);
        }
        e.1 += 1;
    }

    /// Forgets windows that have ended (so the map stays small).
    pub fn sweep(&mut self, now_ms: u64) {
        self.misses.retain(|_, (start, _)| now_ms < *start + JOIN_WINDOW_MS);
    }

    pub fn len(&self) -> usize {
        self.misses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.misses.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_lock_an_address_out_until_its_window_ends() {
        let mut l = JoinLimiter::default();
        for _ in 0..JOIN_MISSES {
            assert!(l.allowed("10.0.0.7", 1000));
            l.missed("10.0.0.7", 1000);
        }
        assert!(!l.allowed("10.0.0.7", 1000 + JOIN_WINDOW_MS - 1));
        assert_eq!(l.retry_in("10.0.0.7", 1000 + JOIN_WINDOW_MS - 10), Some(10));
        assert_eq!(l.retry_in("10.0.0.8", 1000), None);
        assert!(l.allowed("10.0.0.8", 1000), "another address is not affected");
        assert!(l.allowed("10.0.0.7", 1000 + JOIN_WINDOW_MS));
        l.sweep(1000 + JOIN_WINDOW_MS);
        assert!(l.is_empty());
    }
}
