//! A worker: one real process of a lesson. It runs requests in its own
//! address space and answers on its socket; at end of input (the controller
//! is gone) it exits, so no worker outlives its probe.

use crate::maps;
use crate::proto::{Reply, Request, tag_bytes, tag_of, tag_page};
use io_uring::{IoUring, opcode, types};
use std::collections::HashMap;
use std::ffi::c_void;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;

const PAGE: u64 = 4096;

struct Ring {
    ring: IoUring,
    base: u64,
    pages: u64,
}

struct Worker {
    socket: String,
    fifos: HashMap<String, File>,
    rings: HashMap<String, Ring>,
    /// O_DIRECT requests in flight: their ring and file, by the lesson's
    /// bio name.
    inflight: HashMap<String, (IoUring, File)>,
}

/// The worker's main loop (`pinlab probe-worker SOCKET`). Returns the exit
/// status.
pub fn main(socket: &str) -> i32 {
    one_cpu();
    let Ok(stream) = connect(socket) else {
        return 2;
    };
    let mut w = Worker {
        socket: socket.to_string(),
        fifos: HashMap::new(),
        rings: HashMap::new(),
        inflight: HashMap::new(),
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => exit_now(0),
            Ok(_) => {}
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Exit) => {
                let _ = send(reader.get_mut(), &Reply::Done);
                exit_now(0)
            }
            Ok(Request::Fork) => match unsafe { libc::fork() } {
                -1 => failed("fork", std::io::Error::last_os_error()),
                0 => {
                    // The child: its own connection to the controller. The
                    // ring fds it inherited are closed: in the lesson a ring
                    // belongs to the process that registered it (as in the
                    // model) and dies with it.
                    w.rings.clear();
                    w.inflight.clear();
                    match connect(&w.socket) {
                        Ok(s) => {
                            reader = BufReader::new(s);
                            continue;
                        }
                        Err(_) => exit_now(3),
                    }
                }
                pid => Reply::Forked { pid },
            },
            Ok(req) => w.handle(req),
            Err(e) => Reply::Failed {
                call: format!("bad request: {e}"),
                errno: "EINVAL".into(),
            },
        };
        if send(reader.get_mut(), &reply).is_err() {
            exit_now(0);
        }
    }
}

/// Every worker (and every process it forks) runs on the lowest CPU it may
/// use. A freshly faulted folio waits in a per-CPU LRU batch that holds a
/// reference; do_wp_page's reuse test (wp_can_reuse_anon_folio) drains only
/// the local CPU's batches (lru_add_drain), so a process that moved to
/// another CPU sees that reference and copies instead of reusing: the
/// outcome would depend on the scheduler. On one CPU it does not.
fn one_cpu() {
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
    let Ok(allowed) = sched_getaffinity(None) else {
        return;
    };
    if let Some(cpu) = (0..CpuSet::MAX_CPU).find(|&c| allowed.is_set(c)) {
        let mut one = CpuSet::new();
        one.set(cpu);
        let _ = sched_setaffinity(None, &one);
    }
}

fn exit_now(code: i32) -> ! {
    // _exit: a forked child must not run the parent's exit handlers.
    unsafe { libc::_exit(code) }
}

fn connect(socket: &str) -> std::io::Result<UnixStream> {
    let mut s = UnixStream::connect(socket)?;
    send(
        &mut s,
        &Reply::Hello {
            pid: std::process::id() as i32,
        },
    )?;
    Ok(s)
}

fn send(s: &mut UnixStream, r: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_string(r).map_err(std::io::Error::other)?;
    line.push('\n');
    s.write_all(line.as_bytes())
}

/// The errno name as the model spells it (E... from the OS).
pub fn errno_name(e: &std::io::Error) -> String {
    let n = e.raw_os_error().unwrap_or(0);
    let name = match n {
        libc::EFAULT => "EFAULT",
        libc::EINVAL => "EINVAL",
        libc::ENOMEM => "ENOMEM",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EBUSY => "EBUSY",
        libc::EAGAIN => "EAGAIN",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::ENOSPC => "ENOSPC",
        libc::ENOENT => "ENOENT",
        libc::EBADF => "EBADF",
        libc::ENXIO => "ENXIO",
        _ => return format!("errno {n}"),
    };
    name.to_string()
}

/// The lesson's file opened for O_DIRECT reads and writes.
fn open_direct(file: &str) -> Result<File, Reply> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(file)
        .map_err(|e| failed("open O_DIRECT", e))
}

fn failed(call: &str, e: std::io::Error) -> Reply {
    Reply::Failed {
        call: call.to_string(),
        errno: errno_name(&e),
    }
}

fn efault(call: &str) -> Reply {
    Reply::Failed {
        call: call.to_string(),
        errno: "EFAULT".into(),
    }
}

fn check(call: &str, r: libc::c_int) -> Result<(), Reply> {
    if r == -1 {
        Err(failed(call, std::io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

/// Whether every page of the range is mapped with the rights asked, read
/// from /proc/self/maps: a CPU access to anything else would kill the worker
/// with SIGSEGV, where the model answers EFAULT.
fn accessible(addr: u64, pages: u64, write: bool) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/self/maps") else {
        return false;
    };
    let lines = maps::parse(&text);
    (0..pages).all(|i| maps::covering(&lines, addr + i * PAGE).is_some_and(|m| m.read && (m.write || !write)))
}

impl Worker {
    fn handle(&mut self, req: Request) -> Reply {
        match self.run(req) {
            Ok(r) | Err(r) => r,
        }
    }

    fn fifo(&mut self, path: &str) -> Result<&File, Reply> {
        if !self.fifos.contains_key(path) {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .map_err(|e| failed("open fifo", e))?;
            self.fifos.insert(path.to_string(), f);
        }
        Ok(&self.fifos[path])
    }

    fn run(&mut self, req: Request) -> Result<Reply, Reply> {
        match req {
            Request::Mmap {
                pages,
                align,
                write,
                shared,
                file,
                offset,
                populate,
                hugepage,
            } => mmap(pages, align, write, shared, file.as_deref(), offset, populate, hugepage),
            Request::Munmap { addr, pages } => {
                check("munmap", unsafe {
                    libc::munmap(addr as *mut c_void, (pages * PAGE) as usize)
                })?;
                Ok(Reply::Done)
            }
            Request::Mprotect { addr, pages, write } => {
                let prot = libc::PROT_READ | if write { libc::PROT_WRITE } else { 0 };
                check("mprotect", unsafe {
                    libc::mprotect(addr as *mut c_void, (pages * PAGE) as usize, prot)
                })?;
                Ok(Reply::Done)
            }
            Request::Madvise { addr, pages, advice } => {
                use pinlab_model::vma_ops::Advice;
                let a = match advice {
                    Advice::Dontfork => libc::MADV_DONTFORK,
                    Advice::Dofork => libc::MADV_DOFORK,
                    Advice::Hugepage => libc::MADV_HUGEPAGE,
                    Advice::Nohugepage => libc::MADV_NOHUGEPAGE,
                    Advice::Dontneed => libc::MADV_DONTNEED,
                    Advice::Pageout => libc::MADV_PAGEOUT,
                    Advice::Collapse => libc::MADV_COLLAPSE,
                };
                check(&format!("madvise {advice:?}"), unsafe {
                    libc::madvise(addr as *mut c_void, (pages * PAGE) as usize, a)
                })?;
                Ok(Reply::Done)
            }
            Request::Mlock { addr, pages } => {
                check("mlock", unsafe {
                    libc::mlock(addr as *const c_void, (pages * PAGE) as usize)
                })?;
                Ok(Reply::Done)
            }
            Request::Store { addr, tags } => {
                if !accessible(addr, tags.len() as u64, true) {
                    return Err(efault("store"));
                }
                for (i, t) in tags.iter().enumerate() {
                    let p = (addr + i as u64 * PAGE) as *mut u8;
                    for (j, b) in tag_bytes(t).into_iter().enumerate() {
                        // A CPU store, as a program does it.
                        unsafe { std::ptr::write_volatile(p.add(j), b) };
                    }
                }
                Ok(Reply::Done)
            }
            Request::Ping => Ok(Reply::Done),
            Request::DioStart {
                key,
                file,
                addr,
                pages,
                offset,
                write,
            } => {
                let f = open_direct(&file)?;
                let mut ring = IoUring::new(4).map_err(|e| failed("io_uring_setup", e))?;
                let len = (pages * PAGE) as u32;
                let fd = types::Fd(f.as_raw_fd());
                let sqe = if write {
                    opcode::Write::new(fd, addr as *const u8, len)
                        .offset(offset * PAGE)
                        .build()
                } else {
                    opcode::Read::new(fd, addr as *mut u8, len)
                        .offset(offset * PAGE)
                        .build()
                };
                // SAFETY: the buffer is the lesson's mapping, which stays
                // mapped until the request completes (bio_complete waits).
                unsafe { ring.submission().push(&sqe) }.map_err(|_| Reply::Failed {
                    call: "io_uring submission queue".into(),
                    errno: "EBUSY".into(),
                })?;
                ring.submit().map_err(|e| failed("io_uring_enter", e))?;
                self.inflight.insert(key, (ring, f));
                Ok(Reply::Done)
            }
            Request::DioWait { key } => {
                let (mut ring, _f) = self.inflight.remove(&key).ok_or_else(|| Reply::Failed {
                    call: format!("no O_DIRECT request '{key}' in flight"),
                    errno: "EINVAL".into(),
                })?;
                ring.submit_and_wait(1).map_err(|e| failed("io_uring_enter", e))?;
                let res = ring.completion().next().map_or(-libc::EIO, |c| c.result());
                if res < 0 {
                    return Err(failed("O_DIRECT request", std::io::Error::from_raw_os_error(-res)));
                }
                Ok(Reply::Done)
            }
            Request::DioPending { key } => {
                let pending = match self.inflight.get_mut(&key) {
                    Some((ring, _)) => {
                        let mut cq = ring.completion();
                        cq.sync();
                        cq.is_empty()
                    }
                    None => false,
                };
                Ok(Reply::Pending { pending })
            }
            Request::Load { addr } => {
                if !accessible(addr, 1, false) {
                    return Err(efault("load"));
                }
                let p = addr as *const u8;
                let bytes: Vec<u8> = (0..=crate::proto::TAG_MAX)
                    .map(|j| unsafe { std::ptr::read_volatile(p.add(j)) })
                    .collect();
                Ok(Reply::Data {
                    tags: vec![tag_of(&bytes)],
                })
            }
            Request::Fork | Request::Exit => unreachable!("handled in the main loop"),
            Request::Vmsplice { fifo, addr, pages } => {
                let fd = self.fifo(&fifo)?.as_raw_fd();
                let iov = libc::iovec {
                    iov_base: addr as *mut c_void,
                    iov_len: (pages * PAGE) as usize,
                };
                let n = unsafe { libc::vmsplice(fd, &iov, 1, 0) };
                if n < 0 {
                    return Err(failed("vmsplice", std::io::Error::last_os_error()));
                }
                // A partial transfer (the pipe filled up) is a success, as
                // for the kernel: vmsplice returns the bytes that went in.
                Ok(Reply::Done)
            }
            Request::PipeRead { fifo } => {
                let mut f: &File = self.fifo(&fifo)?;
                let mut tags = Vec::new();
                let mut buf = vec![0u8; PAGE as usize];
                loop {
                    match f.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => tags.push(tag_of(&buf)),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(failed("read pipe", e)),
                    }
                    if tags.len() > 4096 {
                        break;
                    }
                }
                Ok(Reply::Data { tags })
            }
            Request::RingRegister { ring, addr, pages } => {
                let r = IoUring::new(8).map_err(|e| failed("io_uring_setup", e))?;
                let iov = libc::iovec {
                    iov_base: addr as *mut c_void,
                    iov_len: (pages * PAGE) as usize,
                };
                unsafe { r.submitter().register_buffers(&[iov]) }
                    .map_err(|e| failed("io_uring_register(IORING_REGISTER_BUFFERS)", e))?;
                self.rings.insert(
                    ring,
                    Ring {
                        ring: r,
                        base: addr,
                        pages,
                    },
                );
                Ok(Reply::Done)
            }
            Request::RingUnregister { ring } => {
                let r = self.rings.remove(&ring).ok_or_else(|| efault("no such ring"))?;
                r.ring
                    .submitter()
                    .unregister_buffers()
                    .map_err(|e| failed("io_uring_register(IORING_UNREGISTER_BUFFERS)", e))?;
                Ok(Reply::Done)
            }
            Request::RingIo {
                ring,
                file,
                index,
                pages,
                to_file,
            } => {
                let r = self.rings.get_mut(&ring).ok_or_else(|| efault("no such ring"))?;
                if index + pages > r.pages {
                    return Err(efault("ring io beyond the buffer"));
                }
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&file)
                    .map_err(|e| failed("open", e))?;
                let buf = (r.base + index * PAGE) as *mut u8;
                let len = (pages * PAGE) as u32;
                let fd = types::Fd(f.as_raw_fd());
                let sqe = if to_file {
                    opcode::WriteFixed::new(fd, buf, len, 0).offset(index * PAGE).build()
                } else {
                    opcode::ReadFixed::new(fd, buf, len, 0).offset(index * PAGE).build()
                };
                unsafe { r.ring.submission().push(&sqe) }.map_err(|_| efault("submission queue full"))?;
                r.ring.submit_and_wait(1).map_err(|e| failed("io_uring_enter", e))?;
                let cqe = r.ring.completion().next().ok_or_else(|| efault("no completion"))?;
                if cqe.result() < 0 {
                    return Err(failed(
                        if to_file {
                            "IORING_OP_WRITE_FIXED"
                        } else {
                            "IORING_OP_READ_FIXED"
                        },
                        std::io::Error::from_raw_os_error(-cqe.result()),
                    ));
                }
                Ok(Reply::Done)
            }
            Request::Dio {
                file,
                addr,
                pages,
                offset,
                write,
            } => {
                let f = open_direct(&file)?;
                let len = (pages * PAGE) as usize;
                let off = (offset * PAGE) as libc::off_t;
                let n = unsafe {
                    if write {
                        libc::pwrite(f.as_raw_fd(), addr as *const c_void, len, off)
                    } else {
                        libc::pread(f.as_raw_fd(), addr as *mut c_void, len, off)
                    }
                };
                if n < 0 {
                    return Err(failed(
                        if write { "pwrite O_DIRECT" } else { "pread O_DIRECT" },
                        std::io::Error::last_os_error(),
                    ));
                }
                Ok(Reply::Done)
            }
            Request::ReadFile { file, offset, pages } => {
                let f = File::open(&file).map_err(|e| failed("open", e))?;
                let mut tags = Vec::new();
                let mut buf = vec![0u8; PAGE as usize];
                for i in 0..pages {
                    let n = f
                        .read_at(&mut buf, (offset + i) * PAGE)
                        .map_err(|e| failed("pread", e))?;
                    if n == 0 {
                        break;
                    }
                    tags.push(tag_of(&buf[..n]));
                }
                Ok(Reply::Data { tags })
            }
            Request::WriteFile { file, offset, tags } => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&file)
                    .map_err(|e| failed("open", e))?;
                for (i, t) in tags.iter().enumerate() {
                    let page = tag_page(t);
                    f.write_all_at(&page, (offset + i as u64) * PAGE)
                        .map_err(|e| failed("pwrite", e))?;
                }
                Ok(Reply::Done)
            }
            Request::Fsync { file } => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&file)
                    .map_err(|e| failed("open", e))?;
                f.sync_all().map_err(|e| failed("fsync", e))?;
                Ok(Reply::Done)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn mmap(
    pages: u64,
    align: u64,
    write: bool,
    shared: bool,
    file: Option<&str>,
    offset: u64,
    populate: bool,
    hugepage: bool,
) -> Result<Reply, Reply> {
    let len = (pages * PAGE) as usize;
    let align = (align.max(1) * PAGE) as usize;
    let f = match file {
        Some(p) => Some(
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(p)
                .map_err(|e| failed("open", e))?,
        ),
        None => None,
    };
    // Reserve an aligned hole, then map over it (and give back the rest).
    let reserve = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len + align,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if reserve == libc::MAP_FAILED {
        return Err(failed("mmap", std::io::Error::last_os_error()));
    }
    let r = reserve as usize;
    let start = r.div_ceil(align) * align;
    let prot = libc::PROT_READ | if write { libc::PROT_WRITE } else { 0 };
    let mut flags = libc::MAP_FIXED | if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
    if f.is_none() {
        flags |= libc::MAP_ANONYMOUS;
    }
    // MAP_POPULATE now, unless MADV_HUGEPAGE must come first.
    if populate && !hugepage {
        flags |= libc::MAP_POPULATE;
    }
    let fd = f.as_ref().map_or(-1, |f| f.as_raw_fd());
    let p = unsafe {
        libc::mmap(
            start as *mut c_void,
            len,
            prot,
            flags,
            fd,
            (offset * PAGE) as libc::off_t,
        )
    };
    let mapped_ok = p != libc::MAP_FAILED;
    let err = std::io::Error::last_os_error();
    unsafe {
        if start > r {
            libc::munmap(r as *mut c_void, start - r);
        }
        let end = start + len;
        if r + len + align > end {
            libc::munmap(end as *mut c_void, r + len + align - end);
        }
        if !mapped_ok {
            libc::munmap(start as *mut c_void, len);
        }
    }
    if !mapped_ok {
        return Err(failed("mmap", err));
    }
    if hugepage {
        check("madvise HUGEPAGE", unsafe {
            libc::madvise(start as *mut c_void, len, libc::MADV_HUGEPAGE)
        })?;
        if populate {
            let how = if write && !shared {
                libc::MADV_POPULATE_WRITE
            } else {
                libc::MADV_POPULATE_READ
            };
            check("madvise POPULATE", unsafe {
                libc::madvise(start as *mut c_void, len, how)
            })?;
        }
    }
    Ok(Reply::Mapped { addr: start as u64 })
}
