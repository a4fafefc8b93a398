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
}

impl HazardKind {
    pub fn name(self) -> &'static str {
        match self {
            HazardKind::DmaLost => "dma_lost",
            HazardKind::StaleDeviceRead => "stale_device_read",
            HazardKind::DataLeak => "data_leak",
            HazardKind::UseAfterFree => "use_after_free",
        }
    }

    pub fn parse(s: &str) -> Option<HazardKind> {
        [
            HazardKind::DmaLost,
            HazardKind::StaleDeviceRead,
            HazardKind::DataLeak,
            HazardKind::UseAfterFree,
        ]
        .into_iter()
        .find(|k| k.name() == s)
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
