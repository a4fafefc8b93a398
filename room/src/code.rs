//! Room codes and secrets, made from entropy the server passes in.
//!
//! A code is what a student types from the projector: 6 characters from 32
//! that cannot be mistaken for one another (0 but no O; no 1, I or L), so 2^30
//! codes.
//! With the server's limit on failed joins (see [`crate::limits`]) a room
//! of a lecture cannot be found by guessing: at 60 misses a minute from one
//! address, hitting one of even 100 open rooms takes about 180,000 minutes.
//! Keys and tokens are 128 bits: they are never typed.

/// Characters in a code.
pub const CODE_LEN: usize = 6;

/// A code from 6 bytes of entropy (5 bits of each).
pub fn room_code(entropy: &[u8; CODE_LEN]) -> String {
    entropy
        .iter()
        .map(|b| CODE_ALPHABET[(b & 31) as usize] as char)
        .collect()
}

/// The 32 characters codes are made of.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTUVWXYZ234567890";

/// A secret (lecturer key, student token): 16 bytes as hex.
pub fn secret(entropy: &[u8; 16]) -> String {
    entropy.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a student typed, as a code: upper case, without spaces or dashes;
/// None when it cannot be a code (wrong length or a character codes lack).
pub fn normalize(typed: &str) -> Option<String> {
    let c: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        // The letter O is read as the digit: codes have only the digit.
        .map(|c| if c == 'O' { '0' } else { c })
        .collect();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_32_distinct_unambiguous_characters() {
        let mut seen = CODE_ALPHABET.to_vec();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 32);
        for bad in b"O1IL" {
            assert!(!CODE_ALPHABET.contains(bad), "{}", *bad as char);
        }
        // Every 5-bit value gives a different character.
        let all: std::collections::BTreeSet<String> = (0..32u8).map(|b| room_code(&[b, 0, 0, 0, 0, 0])).collect();
        assert_eq!(all.len(), 32);
    }

    #[test]
    fn typed_codes_are_normalized_or_refused() {
        let code = room_code(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(code, "BCDEFG");
        assert_eq!(normalize(" bcd-efg ").as_deref(), Some("BCDEFG"));
        assert_eq!(normalize("BCDEF"), None);
        assert_eq!(normalize("BCDEF0").as_deref(), Some("BCDEF0"));
        assert_eq!(normalize("BCDEFo").as_deref(), Some("BCDEF0"), "O is read as 0");
        assert_eq!(normalize("BCDEF1"), None, "1 is not a code character");
        assert_eq!(secret(&[0xab; 16]).len(), 32);
    }
}
