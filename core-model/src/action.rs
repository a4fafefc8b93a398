//! Syscall-level actions: the only way to change the world.

use crate::error::{KResult, invalid};
use crate::file::FsKind;
use crate::gup::{GupFlags, gup_into_holder, release_holder};
use crate::holder::HolderKind;
use crate::step::Ctx;
use crate::vma_ops::{Advice, MmapArgs};
use serde::{Deserialize, Serialize};

fn one() -> u64 {
    1
}

/// One user-visible action. Processes, mappings, files, holders and pipes are
/// named; `page`/`start` index pages of a named mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Spawn {
        name: String,
    },
    Fork {
        parent: String,
        child: String,
    },
    Exit {
        proc: String,
    },
    CreateFile {
        name: String,
        fs: FsKind,
        pages: u64,
        #[serde(default)]
        data: Vec<String>,
    },
    Mmap {
        proc: String,
        vma: String,
        #[serde(flatten)]
        args: MmapArgs,
    },
    Munmap {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        /// None: to the end of the mapping.
        #[serde(default)]
        pages: Option<u64>,
    },
    Mprotect {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default)]
        pages: Option<u64>,
        write: bool,
    },
    Madvise {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default)]
        pages: Option<u64>,
        advice: Advice,
    },
    Write {
        proc: String,
        vma: String,
        page: u64,
        data: String,
    },
    Read {
        proc: String,
        vma: String,
        page: u64,
    },
    /// get_user_pages* (pin = false) or pin_user_pages* (pin = true).
    Gup {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        holder: String,
        #[serde(flatten)]
        flags: GupFlags,
    },
    /// put_page / unpin_user_pages(_dirty_lock) of everything a holder has.
    Release {
        holder: String,
        #[serde(default)]
        dirty: bool,
    },
    DeviceRead {
        holder: String,
        #[serde(default)]
        index: Option<u64>,
    },
    DeviceWrite {
        holder: String,
        data: String,
        #[serde(default)]
        index: Option<u64>,
    },
    Vmsplice {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        pipe: String,
    },
    PipeRead {
        proc: String,
        pipe: String,
    },
    IoUringRegister {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        ring: String,
    },
    IoUringUnregister {
        ring: String,
    },
}

/// What an action produced besides the state change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Data read (by a process, a device or from a pipe).
    pub data: Vec<String>,
}

impl Action {
    /// Short name of the action kind (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Spawn { .. } => "spawn",
            Action::Fork { .. } => "fork",
            Action::Exit { .. } => "exit",
            Action::CreateFile { .. } => "create_file",
            Action::Mmap { .. } => "mmap",
            Action::Munmap { .. } => "munmap",
            Action::Mprotect { .. } => "mprotect",
            Action::Madvise { .. } => "madvise",
            Action::Write { .. } => "write",
            Action::Read { .. } => "read",
            Action::Gup { .. } => "gup",
            Action::Release { .. } => "release",
            Action::DeviceRead { .. } => "device_read",
            Action::DeviceWrite { .. } => "device_write",
            Action::Vmsplice { .. } => "vmsplice",
            Action::PipeRead { .. } => "pipe_read",
            Action::IoUringRegister { .. } => "io_uring_register",
            Action::IoUringUnregister { .. } => "io_uring_unregister",
        }
    }
}

/// Resolves `proc:vma[start..start+pages)`; `pages` None means "to the end".
fn range(ctx: &Ctx, proc: &str, vma: &str, start: u64, pages: Option<u64>) -> KResult<(crate::ids::Pid, u64, u64)> {
    let pid = ctx.w.pid_of(proc)?;
    let n = match pages {
        Some(n) => n,
        None => match ctx.w.proc(pid).mm.regions.get(vma) {
            Some(r) if start < r.pages => r.pages - start,
            Some(r) => {
                return invalid(format!(
                    "{proc}:{vma}[{start}] is out of range: '{vma}' has {} pages",
                    r.pages
                ));
            }
            None => return invalid(format!("process '{proc}' has no mapping named '{vma}'")),
        },
    };
    let first = ctx.w.resolve_range(pid, vma, start, n)?;
    Ok((pid, first, n))
}

pub(crate) fn run(ctx: &mut Ctx, action: &Action) -> KResult<Outcome> {
    let mut out = Outcome::default();
    match action {
        Action::Spawn { name } => {
            crate::process::spawn(ctx, name)?;
        }
        Action::Fork { parent, child } => {
            let pid = ctx.w.pid_of(parent)?;
            crate::fork::fork(ctx, pid, child)?;
        }
        Action::Exit { proc } => {
            let pid = ctx.w.pid_of(proc)?;
            crate::process::exit(ctx, pid)?;
        }
        Action::CreateFile { name, fs, pages, data } => {
            crate::process::create_file(ctx, name, *fs, *pages, data)?;
        }
        Action::Mmap { proc, vma, args } => {
            let pid = ctx.w.pid_of(proc)?;
            crate::vma_ops::mmap(ctx, pid, vma, args)?;
        }
        Action::Munmap {
            proc,
            vma,
            start,
            pages,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, *pages)?;
            crate::vma_ops::munmap(ctx, pid, first, n)?;
        }
        Action::Mprotect {
            proc,
            vma,
            start,
            pages,
            write,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, *pages)?;
            crate::vma_ops::mprotect(ctx, pid, first, n, *write)?;
        }
        Action::Madvise {
            proc,
            vma,
            start,
            pages,
            advice,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, *pages)?;
            crate::vma_ops::madvise(ctx, pid, first, n, *advice)?;
        }
        Action::Write { proc, vma, page, data } => {
            let pid = ctx.w.pid_of(proc)?;
            let vpn = ctx.w.resolve(pid, vma, *page)?;
            crate::access::user_write(ctx, pid, vpn, data)?;
        }
        Action::Read { proc, vma, page } => {
            let pid = ctx.w.pid_of(proc)?;
            let vpn = ctx.w.resolve(pid, vma, *page)?;
            out.data.push(crate::access::user_read(ctx, pid, vpn)?);
        }
        Action::Gup {
            proc,
            vma,
            start,
            pages,
            holder,
            flags,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            gup_into_holder(ctx, pid, first, n, *flags, holder, HolderKind::Gup)?;
        }
        Action::Release { holder, dirty } => release_holder(ctx, holder, *dirty)?,
        Action::DeviceRead { holder, index } => {
            out.data = crate::device::device_read(ctx, holder, *index)?;
        }
        Action::DeviceWrite { holder, data, index } => {
            crate::device::device_write(ctx, holder, data, *index)?;
        }
        Action::Vmsplice {
            proc,
            vma,
            start,
            pages,
            pipe,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            crate::splice::vmsplice(ctx, pid, first, n, pipe)?;
        }
        Action::PipeRead { proc, pipe } => {
            let pid = ctx.w.pid_of(proc)?;
            out.data = crate::splice::pipe_read(ctx, pid, pipe)?;
        }
        Action::IoUringRegister {
            proc,
            vma,
            start,
            pages,
            ring,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            crate::io_uring::register(ctx, pid, first, n, ring)?;
        }
        Action::IoUringUnregister { ring } => crate::io_uring::unregister(ctx, ring)?,
    }
    Ok(out)
}
