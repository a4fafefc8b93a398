//! Page content. A page holds a short tag instead of 4096 bytes, plus who wrote
//! it and when, so that lost and leaked data can be recognised.

use crate::ids::Pid;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where the bytes of a page came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Writer {
    /// A process stored them through its page table.
    Process(Pid),
    /// A device wrote them by DMA (through a ref or pin holder).
    Device,
    /// They were read from disk.
    Disk,
}

/// Content of one base page: `None` is a zero-filled page.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Data(pub Option<Arc<Stamp>>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub tag: String,
    pub writer: Writer,
    /// Global write sequence number (world.seq at the time of the write).
    pub seq: u64,
    /// Written through a private (COW) mapping: another process seeing it after
    /// the two diverged at fork is a leak.
    pub private: bool,
    /// For data a device delivered by DMA (an O_DIRECT read, an RDMA write):
    /// the process whose private memory it was meant for (the holder's owner).
    #[serde(default)]
    pub for_proc: Option<Pid>,
}

impl Stamp {
    /// The process this data belongs to: its writer, or the process a device
    /// delivered it to.
    pub fn owner(&self) -> Option<Pid> {
        match self.writer {
            Writer::Process(p) => Some(p),
            _ => self.for_proc,
        }
    }
}

impl Data {
    pub fn zero() -> Data {
        Data(None)
    }

    pub fn new(tag: &str, writer: Writer, seq: u64, private: bool) -> Data {
        Data(Some(Arc::new(Stamp {
            tag: tag.to_string(),
            writer,
            seq,
            private,
            for_proc: None,
        })))
    }

    /// The same bytes, delivered by DMA at `seq` into the private memory of
    /// `owner` (see `Stamp::for_proc`).
    pub fn delivered_to(&self, owner: Pid, seq: u64) -> Data {
        match &self.0 {
            None => Data::zero(),
            Some(s) => Data(Some(Arc::new(Stamp {
                tag: s.tag.clone(),
                writer: s.writer,
                seq,
                private: true,
                for_proc: Some(owner),
            }))),
        }
    }

    /// What a reader sees: the tag, or "0" for a zero-filled page.
    pub fn tag(&self) -> &str {
        match &self.0 {
            Some(s) => &s.tag,
            None => "0",
        }
    }

    pub fn stamp(&self) -> Option<&Stamp> {
        self.0.as_deref()
    }
}
