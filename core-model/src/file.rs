//! Files, their page cache and their blocks on disk.

use crate::data::Data;
use crate::ids::FolioId;
use imbl::{OrdMap, Vector};
use serde::{Deserialize, Serialize};

/// Filesystem kind: decides dirty tracking and long-term pin rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum FsKind {
    Ext4,
    Xfs,
    Btrfs,
    Tmpfs,
    Hugetlbfs,
}

impl FsKind {
    /// Does a shared writable mapping need write notification and dirty
    /// tracking (mm/gup.c: vma_needs_dirty_tracking)? shmem and hugetlbfs do not.
    pub fn dirty_tracked(self) -> bool {
        matches!(self, FsKind::Ext4 | FsKind::Xfs | FsKind::Btrfs)
    }

    /// Does ->page_mkwrite / ->write_begin attach private data to the folio
    /// (and with it a reference)? ext4 attaches buffer heads
    /// (__block_write_begin -> create_empty_buffers), btrfs its extent state
    /// (set_page_extent_mapped / set_folio_extent_mapped). XFS goes through
    /// iomap, whose iomap_page_create() attaches nothing when a folio holds a
    /// single block (i_blocksize == PAGE_SIZE in 5.7, nr_blocks <= 1 from 5.9):
    /// the model's XFS has 4 KiB blocks. shmem and hugetlbfs attach nothing.
    pub fn attaches_private(self) -> bool {
        matches!(self, FsKind::Ext4 | FsKind::Btrfs)
    }

    /// Backed by a block device (tmpfs and hugetlbfs live in memory).
    pub fn has_disk(self) -> bool {
        self.dirty_tracked()
    }

    pub fn parse(s: &str) -> Option<FsKind> {
        Some(match s {
            "ext4" => FsKind::Ext4,
            "xfs" => FsKind::Xfs,
            "btrfs" => FsKind::Btrfs,
            "tmpfs" | "shmem" => FsKind::Tmpfs,
            "hugetlbfs" => FsKind::Hugetlbfs,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    pub name: String,
    pub fs: FsKind,
    /// Size in pages.
    pub pages: u64,
    /// address_space: page index -> folio.
    #[serde(skip)]
    pub cache: OrdMap<u64, FolioId>,
    /// What is on disk, per block (empty for memory filesystems).
    #[serde(skip)]
    pub disk: Vector<Data>,
    /// Hidden object behind MAP_SHARED|MAP_ANONYMOUS.
    pub shmem_for_anon: bool,
}
