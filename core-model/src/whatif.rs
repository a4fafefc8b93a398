//! What-if toggles: proposals from the January 2023 thread that mainline did
//! not take, so that their consequences can be shown. All off by default.

use serde::{Deserialize, Serialize};

/// What writeback does with a maybe-pinned page-cache folio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinnedWriteback {
    /// Mainline: folio_clear_dirty_for_io never looks at pins.
    #[default]
    Usual,
    /// Skip pinned folios (keep them dirty), even for fsync.
    Skip,
    /// Write a stable copy (bounce folio); the original stays dirty
    /// (Jan Kara's Feb 2023 RFC for integrity writeback).
    Bounce,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatIf {
    /// Willy's VM_NOCOW: set on a VMA by its first O_DIRECT read or RDMA
    /// registration; fork gives the child copies instead of sharing its pages.
    pub vm_nocow: bool,
    /// Pinned page-cache folios go to the unevictable list while pinned.
    pub unevictable_pins: bool,
    pub pinned_writeback: PinnedWriteback,
    /// The v7 iov_iter series: user-backed extraction pins when data flows
    /// into the pages (READ) and takes refs when it flows out (WRITE), with
    /// BIO_PAGE_REFFED beside BIO_PAGE_PINNED.
    pub bio_v7_modes: bool,
}

/// A what-if toggle the model does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown what-if toggle '{0}' (known: {known})", known = WhatIf::NAMES.join(", "))]
pub struct UnknownToggle(pub String);

impl WhatIf {
    /// Names as lessons and the CLI spell them.
    pub const NAMES: [&'static str; 6] = [
        "vm_nocow",
        "unevictable_pins",
        "pinned_writeback=usual",
        "pinned_writeback=skip",
        "pinned_writeback=bounce",
        "bio_v7_modes",
    ];

    /// Applies one toggle by name ("vm_nocow", "pinned_writeback=skip", ...).
    pub fn set(&mut self, name: &str) -> Result<(), UnknownToggle> {
        match name {
            "vm_nocow" => self.vm_nocow = true,
            "unevictable_pins" => self.unevictable_pins = true,
            "bio_v7_modes" => self.bio_v7_modes = true,
            "pinned_writeback=usual" => self.pinned_writeback = PinnedWriteback::Usual,
            "pinned_writeback=skip" => self.pinned_writeback = PinnedWriteback::Skip,
            "pinned_writeback=bounce" => self.pinned_writeback = PinnedWriteback::Bounce,
            other => return Err(UnknownToggle(other.to_string())),
        }
        Ok(())
    }

    /// The toggles in force, as names.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.vm_nocow {
            v.push("vm_nocow");
        }
        if self.unevictable_pins {
            v.push("unevictable_pins");
        }
        match self.pinned_writeback {
            PinnedWriteback::Usual => {}
            PinnedWriteback::Skip => v.push("pinned_writeback=skip"),
            PinnedWriteback::Bounce => v.push("pinned_writeback=bounce"),
        }
        if self.bio_v7_modes {
            v.push("bio_v7_modes");
        }
        v
    }
}
