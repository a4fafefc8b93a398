//! pinlab-model: a deterministic, pure model of how the Linux kernel keeps
//! pages alive and coherent while devices use them.
//!
//! Start with [`Sim`]: create one for a [`Preset`], [`Sim::apply`] syscall-level
//! [`Action`]s, and read the [`World`] after every micro-step. Every rule names
//! the kernel function it stands for; `docs/model.md` gives the sources.

pub mod access;
pub mod action;
pub mod action_words;
pub mod bio;
pub mod buffered;
pub mod catalogue;
pub mod collapse;
pub mod data;
pub mod device;
pub mod direct_io;
pub mod error;
pub mod fault;
pub mod file;
pub mod folio;
pub mod fork;
pub mod graph;
pub mod gup;
pub mod hazard;
pub mod holder;
pub mod ids;
pub mod invariants;
pub mod io_uring;
pub mod iov_iter;
pub mod journal;
pub mod kbuf;
pub mod migrate;
pub mod mm;
pub mod names;
pub mod preset;
pub mod process;
pub mod pvec;
pub mod rdma;
pub mod reclaim;
pub mod refs;
pub mod sim;
pub mod splice;
pub mod step;
pub mod swap;
pub mod symbols;
pub mod tracker;
pub mod vma_ops;
pub mod whatif;
pub mod world;
pub mod writeback;

pub use action::{Action, Outcome, Tags};
pub use error::{ActionError, Errno};
pub use file::FsKind;
pub use folio::{Folio, GUP_PIN_COUNTING_BIAS};
pub use gup::GupFlags;
pub use hazard::{Hazard, HazardKind};
pub use ids::{FileId, FolioId, Pid, ZERO_FOLIO};
pub use preset::Preset;
pub use sim::{Checks, Fault, Sim};
pub use vma_ops::{Advice, MmapArgs};
pub use whatif::{PinnedWriteback, WhatIf};
pub use world::World;
