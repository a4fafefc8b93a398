//! /proc/PID/maps: which addresses a process maps, and with what rights.

/// One line of /proc/PID/maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapLine {
    pub start: u64,
    pub end: u64,
    pub read: bool,
    pub write: bool,
    pub shared: bool,
}

/// Parses the text of /proc/PID/maps; lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<MapLine> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let range = parts.next()?;
            let perms = parts.next()?.as_bytes();
            let (a, b) = range.split_once('-')?;
            if perms.len() < 4 {
                return None;
            }
            Some(MapLine {
                start: u64::from_str_radix(a, 16).ok()?,
                end: u64::from_str_radix(b, 16).ok()?,
                read: perms[0] == b'r',
                write: perms[1] == b'w',
                shared: perms[3] == b's',
            })
        })
        .collect()
}

/// The mapping that covers `addr`, if any.
pub fn covering(lines: &[MapLine], addr: u64) -> Option<&MapLine> {
    lines.iter().find(|m| m.start <= addr && addr < m.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d0c0a00000-55d0c0a21000 r--p 00000000 fe:01 1234 /usr/bin/pinlab
7f0000000000-7f0000200000 rw-p 00000000 00:00 0
7f0000400000-7f0000401000 rw-s 00000000 00:1a 99 /dev/shm/x (deleted)
7f0000600000-7f0000601000 ---p 00000000 00:00 0
garbage line
";

    #[test]
    fn parses_ranges_and_rights() {
        let m = parse(SAMPLE);
        assert_eq!(m.len(), 4);
        assert_eq!(m[1].start, 0x7f00_0000_0000);
        assert!(m[1].write && !m[1].shared);
        assert!(m[2].shared);
        assert!(!m[3].read);
        assert_eq!(covering(&m, 0x7f00_001f_f000).map(|l| l.end), Some(0x7f00_0020_0000));
        assert_eq!(covering(&m, 0x7f00_0020_0000), None);
    }
}
