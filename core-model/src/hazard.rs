//! Hazards: the user-visible consequences the lessons are about. A hazard is a
//! finding recorded in the world, never a panic.

use serde::{Deserialize, Serialize};

use crate::step::ObjRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// A device wrote into a page the owner no longer maps there: the owner
    /// never sees the data (e.g. O_DIRECT read across fork before 6.5).
    DmaLost,
    /// A device read a page the owner has since replaced by a copy: the pin
    /// lost sight of the owner's writes (R/O pins before 5.19).
    StaleDeviceRead,
    /// A process saw data another process wrote privately after they
    /// diverged at fork (CVE-2020-29374).
    DataLeak,
    /// A device touched a folio that was already freed.
    UseAfterFree,
    /// A GUP holder dirtied a page-cache folio that writeback had cleaned and
    /// write-protected: the filesystem was not told (no ->page_mkwrite).
    DirtyBehindFs,
    /// A device changed a page-cache folio while it was under writeback.
    WriteUnderWriteback,
    /// Writeback met a dirty folio without buffers (Jan Kara's 2018 race):
    /// a BUG in ext4 before 5.18, then a warning and a lost write.
    DirtyWithoutBuffers,
    /// fsync returned while dirty data of the file was not written.
    FsyncIncomplete,
    /// Reclaim scanned a folio it could not free because it is pinned.
    ReclaimInVain,
}

impl HazardKind {
    pub const ALL: [HazardKind; 9] = [
        HazardKind::DmaLost,
        HazardKind::StaleDeviceRead,
        HazardKind::DataLeak,
        HazardKind::UseAfterFree,
        HazardKind::DirtyBehindFs,
        HazardKind::WriteUnderWriteback,
        HazardKind::DirtyWithoutBuffers,
        HazardKind::FsyncIncomplete,
        HazardKind::ReclaimInVain,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HazardKind::DmaLost => "dma_lost",
            HazardKind::StaleDeviceRead => "stale_device_read",
            HazardKind::DataLeak => "data_leak",
            HazardKind::UseAfterFree => "use_after_free",
            HazardKind::DirtyBehindFs => "dirty_behind_fs",
            HazardKind::WriteUnderWriteback => "write_under_writeback",
            HazardKind::DirtyWithoutBuffers => "dirty_without_buffers",
            HazardKind::FsyncIncomplete => "fsync_incomplete",
            HazardKind::ReclaimInVain => "reclaim_in_vain",
        }
    }

    pub fn parse(s: &str) -> Option<HazardKind> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub text: String,
    pub objects: Vec<ObjRef>,
    /// Index of the micro-step that raised it.
    pub step: usize,
}
