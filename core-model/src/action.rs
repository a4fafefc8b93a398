//! Syscall-level actions: the only way to change the world.

use crate::error::{KResult, invalid};
use crate::file::FsKind;
use crate::gup::{GupFlags, release_holder};
use crate::holder::HolderKind;
use crate::step::Ctx;
use crate::vma_ops::{Advice, MmapArgs};
use serde::{Deserialize, Serialize};

fn one() -> u64 {
    1
}

/// One user-visible action. Processes, mappings, files, holders and pipes are
/// named; `page`/`start` index pages of a named mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "action", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// A store of one tag per page, from `page` on: `pages` pages (or as many
    /// as `data` lists tags; a single tag is stored in every page).
    Write {
        proc: String,
        vma: String,
        page: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pages: Option<u64>,
        data: Tags,
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
        /// How many references (or pins) the holder takes on each page.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u64,
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
    /// The kernel allocates a buffer of its own (kvec/bvec iterators use it).
    KbufAlloc {
        kbuf: String,
        pages: u64,
    },
    KbufWrite {
        kbuf: String,
        page: u64,
        data: String,
    },
    KbufRead {
        kbuf: String,
    },
    KbufFree {
        kbuf: String,
    },
    /// iov_iter_get_pages2 into a named holder.
    IovIterGetPages2 {
        #[serde(flatten)]
        iter: IterArgs,
        holder: String,
        /// How many times the holder extracts each page.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u64,
    },
    /// iov_iter_extract_pages (6.3+) into a named holder.
    IovIterExtractPages {
        #[serde(flatten)]
        iter: IterArgs,
        holder: String,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u64,
    },
    /// O_DIRECT read from a file into user memory; `wait: false` leaves the
    /// bio in flight until `bio_complete`.
    DioRead {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        file: String,
        #[serde(default)]
        offset: u64,
        bio: String,
        #[serde(default = "yes")]
        wait: bool,
    },
    /// O_DIRECT write from user memory to a file.
    DioWrite {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        file: String,
        #[serde(default)]
        offset: u64,
        bio: String,
        #[serde(default = "yes")]
        wait: bool,
    },
    /// A bio over a kernel buffer (ITER_BVEC or ITER_KVEC).
    KernelBio {
        kbuf: String,
        iter: crate::direct_io::KernelIter,
        file: String,
        #[serde(default)]
        offset: u64,
        #[serde(default)]
        write: bool,
        bio: String,
        #[serde(default = "yes")]
        wait: bool,
    },
    /// The device finishes a bio in flight.
    BioComplete {
        bio: String,
    },
    /// Buffered read(2) through the page cache.
    ReadFile {
        proc: String,
        file: String,
        #[serde(default)]
        offset: u64,
        #[serde(default = "one")]
        pages: u64,
    },
    /// Buffered write(2) through the page cache: one tag per page.
    WriteFile {
        proc: String,
        file: String,
        #[serde(default)]
        offset: u64,
        data: Vec<String>,
    },
    /// Background writeback of a file (bios complete later).
    Writeback {
        file: String,
    },
    Fsync {
        file: String,
    },
    /// kswapd runs `passes` rounds of reclaim, each taking up to `scan`
    /// folios from every inactive list.
    Reclaim {
        scan: u64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        passes: u64,
    },
    Mlock {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default)]
        pages: Option<u64>,
    },
    /// ibv_reg_mr: a long-term pin for an RDMA memory region.
    RdmaRegMr {
        proc: String,
        vma: String,
        #[serde(default)]
        start: u64,
        #[serde(default = "one")]
        pages: u64,
        mr: String,
        #[serde(default = "yes")]
        write: bool,
    },
    RdmaDeregMr {
        mr: String,
    },
}

fn yes() -> bool {
    true
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// The data of a store: one tag, or one tag per page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tags {
    One(String),
    Many(Vec<String>),
}

impl Tags {
    /// The tag of the i-th page of the range.
    pub fn get(&self, i: usize) -> Option<&str> {
        match self {
            Tags::One(t) => Some(t),
            Tags::Many(v) => v.get(i).map(String::as_str),
        }
    }
}

impl From<&str> for Tags {
    fn from(s: &str) -> Tags {
        Tags::One(s.to_string())
    }
}

impl From<String> for Tags {
    fn from(s: String) -> Tags {
        Tags::One(s)
    }
}

/// The iterator an extraction walks: user memory (proc + vma), a kernel
/// buffer (kbuf), a file's page cache (file) or a pipe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IterArgs {
    pub iter: crate::iov_iter::IterKind,
    /// ITER_DEST: data flows into the pages (a read).
    #[serde(default)]
    pub dest: bool,
    #[serde(default)]
    pub proc: Option<String>,
    #[serde(default)]
    pub vma: Option<String>,
    #[serde(default)]
    pub kbuf: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub pipe: Option<String>,
    #[serde(default)]
    pub start: u64,
    #[serde(default)]
    pub pages: Option<u64>,
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
            Action::KbufAlloc { .. } => "kbuf_alloc",
            Action::KbufWrite { .. } => "kbuf_write",
            Action::KbufRead { .. } => "kbuf_read",
            Action::KbufFree { .. } => "kbuf_free",
            Action::IovIterGetPages2 { .. } => "iov_iter_get_pages2",
            Action::IovIterExtractPages { .. } => "iov_iter_extract_pages",
            Action::DioRead { .. } => "dio_read",
            Action::DioWrite { .. } => "dio_write",
            Action::KernelBio { .. } => "kernel_bio",
            Action::BioComplete { .. } => "bio_complete",
            Action::ReadFile { .. } => "read_file",
            Action::WriteFile { .. } => "write_file",
            Action::Writeback { .. } => "writeback",
            Action::Fsync { .. } => "fsync",
            Action::Reclaim { .. } => "reclaim",
            Action::Mlock { .. } => "mlock",
            Action::RdmaRegMr { .. } => "rdma_reg_mr",
            Action::RdmaDeregMr { .. } => "rdma_dereg_mr",
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
        Action::Write {
            proc,
            vma,
            page,
            pages,
            data,
        } => {
            let n = match (pages, data) {
                (Some(n), Tags::Many(v)) if *n != v.len() as u64 => {
                    return invalid(format!("pages = {n} but data lists {} tags", v.len()));
                }
                (Some(n), _) => *n,
                (None, Tags::One(_)) => 1,
                (None, Tags::Many(v)) => v.len() as u64,
            };
            let (pid, first, n) = range(ctx, proc, vma, *page, Some(n))?;
            if n == 1 {
                crate::access::user_write(ctx, pid, first, data.get(0).unwrap_or_default())?;
            } else {
                crate::access::user_write_range(ctx, pid, first, n, data)?;
            }
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
            count,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            crate::gup::gup_into_holder_n(ctx, pid, first, n, *flags, holder, HolderKind::Gup, *count)?;
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
        Action::KbufAlloc { kbuf, pages } => crate::kbuf::alloc(ctx, kbuf, *pages)?,
        Action::KbufWrite { kbuf, page, data } => crate::kbuf::write(ctx, kbuf, *page, data)?,
        Action::KbufRead { kbuf } => out.data = crate::kbuf::read(ctx, kbuf)?,
        Action::KbufFree { kbuf } => crate::kbuf::free(ctx, kbuf)?,
        Action::IovIterGetPages2 { iter, holder, count } => {
            let src = iter_source(ctx, iter)?;
            crate::iov_iter::get_pages2(ctx, iter.iter, iter.dest, &src, holder, *count)?;
        }
        Action::IovIterExtractPages { iter, holder, count } => {
            let src = iter_source(ctx, iter)?;
            crate::iov_iter::extract_pages(ctx, iter.iter, iter.dest, &src, holder, *count)?;
        }
        Action::DioRead {
            proc,
            vma,
            start,
            pages,
            file,
            offset,
            bio,
            wait,
        }
        | Action::DioWrite {
            proc,
            vma,
            start,
            pages,
            file,
            offset,
            bio,
            wait,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            let fid = ctx.w.file_id(file)?;
            let write = matches!(action, Action::DioWrite { .. });
            crate::direct_io::dio(ctx, pid, first, n, fid, *offset, write, bio, *wait)?;
        }
        Action::KernelBio {
            kbuf,
            iter,
            file,
            offset,
            write,
            bio,
            wait,
        } => {
            let fid = ctx.w.file_id(file)?;
            crate::direct_io::kernel_bio(ctx, kbuf, *iter, fid, *offset, *write, bio, *wait)?;
        }
        Action::BioComplete { bio } => crate::bio::complete(ctx, bio)?,
        Action::ReadFile {
            proc,
            file,
            offset,
            pages,
        } => {
            let pid = ctx.w.pid_of(proc)?;
            let fid = ctx.w.file_id(file)?;
            out.data = crate::buffered::read_file(ctx, pid, fid, *offset, *pages)?;
        }
        Action::WriteFile {
            proc,
            file,
            offset,
            data,
        } => {
            let pid = ctx.w.pid_of(proc)?;
            let fid = ctx.w.file_id(file)?;
            crate::buffered::write_file(ctx, pid, fid, *offset, data)?;
        }
        Action::Writeback { file } => {
            let fid = ctx.w.file_id(file)?;
            crate::writeback::background(ctx, fid)?;
        }
        Action::Fsync { file } => {
            let fid = ctx.w.file_id(file)?;
            crate::writeback::fsync(ctx, fid)?;
        }
        Action::Reclaim { scan, passes } => {
            if *passes == 0 || *passes > 64 {
                return invalid(format!("passes = {passes}: 1 to 64 rounds of reclaim"));
            }
            for _ in 0..*passes {
                crate::reclaim::reclaim(ctx, *scan)?;
            }
        }
        Action::Mlock {
            proc,
            vma,
            start,
            pages,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, *pages)?;
            crate::reclaim::mlock(ctx, pid, first, n)?;
        }
        Action::RdmaRegMr {
            proc,
            vma,
            start,
            pages,
            mr,
            write,
        } => {
            let (pid, first, n) = range(ctx, proc, vma, *start, Some(*pages))?;
            crate::rdma::reg_mr(ctx, pid, first, n, mr, *write)?;
        }
        Action::RdmaDeregMr { mr } => crate::rdma::dereg_mr(ctx, mr)?,
    }
    Ok(out)
}

/// Resolves what an iterator walks from its arguments.
fn iter_source(ctx: &Ctx, a: &IterArgs) -> KResult<crate::iov_iter::IterSource> {
    use crate::iov_iter::IterSource;
    if let (Some(proc), Some(vma)) = (&a.proc, &a.vma) {
        let (pid, first, pages) = range(ctx, proc, vma, a.start, a.pages)?;
        return Ok(IterSource::User { pid, first, pages });
    }
    if let Some(k) = &a.kbuf {
        return Ok(IterSource::KernelBuf(k.clone()));
    }
    if let Some(f) = &a.file {
        let file = ctx.w.file_id(f)?;
        let pages = match a.pages {
            Some(p) => p,
            None => ctx.w.file(file).pages.saturating_sub(a.start),
        };
        return Ok(IterSource::PageCache {
            file,
            first: a.start,
            pages,
        });
    }
    if let Some(p) = &a.pipe {
        return Ok(IterSource::Pipe(p.clone()));
    }
    invalid("an iterator needs proc and vma, kbuf, file or pipe")
}
