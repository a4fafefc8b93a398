//! The machine the probe runs on: its release, what it has (swap, THP
//! sizes, filesystems, CONFIG_GUP_TEST) and whether the probe may run.

use std::path::{Path, PathBuf};

const EXT4_SUPER_MAGIC: i64 = 0xEF53;
const TMPFS_MAGIC: i64 = 0x0102_1994;

#[derive(Clone, Debug)]
pub struct Machine {
    /// `uname -r`.
    pub release: String,
    pub swap: bool,
    /// A directory on ext4 for the lesson's ext4 files.
    pub ext4_dir: Option<PathBuf>,
    /// A tmpfs directory (/dev/shm) for its tmpfs files.
    pub tmpfs_dir: Option<PathBuf>,
    /// /sys/kernel/debug/gup_test exists.
    pub gup_test: bool,
    /// /sys/kernel/mm/transparent_hugepage/enabled: always, madvise or never.
    pub thp: String,
    /// Per mTHP size in KiB: its `enabled` setting.
    pub mthp: Vec<(u64, String)>,
    /// Every read of the ext4 scratch disk is delayed this long (the VM's
    /// dm-delay device, announced by PINLAB_PROBE_SLOW_READS_MS): an
    /// O_DIRECT read can then be held in flight across the lesson's steps.
    pub slow_reads_ms: Option<u64>,
}

fn selected(text: &str) -> String {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
        .unwrap_or("never")
        .to_string()
}

// f_type is i64 on x86-64 but narrower on some architectures.
#[allow(clippy::unnecessary_cast)]
fn fs_magic(p: &Path) -> Option<i64> {
    rustix::fs::statfs(p).ok().map(|s| s.f_type as i64)
}

impl Machine {
    /// Why the probe cannot run here, or the machine.
    pub fn detect() -> Result<Machine, String> {
        if !rustix::process::geteuid().is_root() {
            return Err(
                "pinlab probe needs root: page frame numbers in /proc/PID/pagemap and /proc/kpageflags \
                        need CAP_SYS_ADMIN. Run it with sudo (sudo pinlab probe ...)."
                    .into(),
            );
        }
        std::fs::File::open("/proc/kpageflags")
            .map_err(|e| format!("cannot read /proc/kpageflags ({e}): the kernel needs CONFIG_PROC_PAGE_MONITOR"))?;
        let release = rustix::system::uname().release().to_string_lossy().into_owned();
        let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(t) = std::env::var_os("TMPDIR") {
            candidates.push(t.into());
        }
        candidates.extend(["/var/tmp", "/tmp"].map(PathBuf::from));
        if let Ok(d) = std::env::current_dir() {
            candidates.push(d);
        }
        let ext4_dir = candidates.into_iter().find(|d| fs_magic(d) == Some(EXT4_SUPER_MAGIC));
        let shm = PathBuf::from("/dev/shm");
        let tmpfs_dir = (fs_magic(&shm) == Some(TMPFS_MAGIC)).then_some(shm);
        let thp_dir = Path::new("/sys/kernel/mm/transparent_hugepage");
        let thp = std::fs::read_to_string(thp_dir.join("enabled"))
            .map(|t| selected(&t))
            .unwrap_or_else(|_| "never".into());
        let mut mthp = Vec::new();
        if let Ok(rd) = std::fs::read_dir(thp_dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(kb) = name.strip_prefix("hugepages-").and_then(|n| n.strip_suffix("kB"))
                    && let Ok(kb) = kb.parse::<u64>()
                {
                    let en = std::fs::read_to_string(e.path().join("enabled"))
                        .map(|t| selected(&t))
                        .unwrap_or_default();
                    mthp.push((kb, en));
                }
            }
        }
        mthp.sort();
        Ok(Machine {
            release,
            swap: swaps.lines().count() > 1,
            ext4_dir,
            tmpfs_dir,
            gup_test: Path::new("/sys/kernel/debug/gup_test").exists(),
            thp,
            mthp,
            slow_reads_ms: std::env::var("PINLAB_PROBE_SLOW_READS_MS")
                .ok()
                .and_then(|v| v.parse().ok()),
        })
    }

    /// Why an anonymous folio of this order (1..=8) cannot be had here, if
    /// it cannot. The probe never changes system settings.
    pub fn mthp_unavailable(&self, order: u8) -> Option<String> {
        let kb = 4u64 << order;
        let setting = self.mthp.iter().find(|(k, _)| *k == kb).map(|(_, s)| s.as_str());
        let on = match setting {
            Some("always" | "madvise") => true,
            Some("inherit") => self.thp != "never",
            _ => false,
        };
        (!on).then(|| {
            format!(
                "{kb} KiB anonymous folios are off here (/sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/enabled \
                 is {}); pinlab does not change system settings",
                setting.unwrap_or("missing")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selected_setting_is_the_bracketed_word() {
        assert_eq!(selected("always inherit madvise [never]\n"), "never");
        assert_eq!(selected("always [inherit] madvise never"), "inherit");
        assert_eq!(selected("garbage"), "never");
    }

    #[test]
    fn an_mthp_size_is_usable_only_when_enabled() {
        let m = Machine {
            release: "6.18".into(),
            swap: false,
            ext4_dir: None,
            tmpfs_dir: None,
            gup_test: false,
            thp: "madvise".into(),
            mthp: vec![(64, "never".into()), (2048, "inherit".into()), (16, "madvise".into())],
            slow_reads_ms: None,
        };
        assert!(
            m.mthp_unavailable(4)
                .unwrap()
                .contains("hugepages-64kB/enabled is never")
        );
        assert_eq!(m.mthp_unavailable(2), None);
        assert!(m.mthp_unavailable(3).unwrap().contains("missing"));
    }
}
