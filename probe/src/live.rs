//! The controller: the lesson's processes as real worker processes, its
//! files in private temporary directories, its pipes as FIFOs. Everything
//! it creates is removed, and every worker killed, when it is dropped
//! (success, error, timeout or Ctrl-C).

use crate::env::Machine;
use crate::observe::{self, Kpage};
use crate::proto::{Reply, Request, tag_of, tag_page};
use pinlab_model::World;
use pinlab_model::action::{Action, Tags};
use pinlab_model::file::FsKind;
use pinlab_model::vma_ops::Advice;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const PAGE: u64 = 4096;

/// How a step was carried out.
pub enum Perf {
    /// Done: the data it returned, or the errno it failed with.
    Done(Result<Vec<String>, String>),
    ModelOnly(String),
    NotPerformable(String),
}

struct Conn {
    pid: i32,
    reader: BufReader<UnixStream>,
}

#[derive(Clone)]
pub struct Region {
    pub addr: u64,
    pub pages: u64,
}

struct Ring {
    owner: String,
    scratch: PathBuf,
    pages: u64,
}

pub struct Live {
    exe: PathBuf,
    timeout: Duration,
    /// Holds the socket, the ext4 files, the FIFOs and the io_uring scratch
    /// files.
    dir: TempDir,
    shm: Option<TempDir>,
    listener: UnixListener,
    sock: String,
    workers: BTreeMap<String, Conn>,
    children: Vec<Child>,
    groups: Vec<i32>,
    pub regions: BTreeMap<(String, String), Region>,
    files: BTreeMap<String, PathBuf>,
    fifos: BTreeMap<String, (PathBuf, File)>,
    rings: BTreeMap<String, Ring>,
    pub kpage: Kpage,
    /// nr_foll_pin_acquired - nr_foll_pin_released when the probe began.
    pins_before: i64,
    /// O_DIRECT requests left in flight: bio name -> the process that
    /// submitted it.
    inflight: BTreeMap<String, String>,
}

fn pins_outstanding() -> i64 {
    let v = observe::vmstat().unwrap_or_default();
    let get = |k: &str| v.get(k).copied().unwrap_or(0) as i64;
    get("nr_foll_pin_acquired") - get("nr_foll_pin_released")
}

/// The tags of pages `first..first + n` of a file.
fn read_tags(path: &Path, first: u64, n: u64) -> std::io::Result<Vec<String>> {
    let f = File::open(path)?;
    (first..first + n)
        .map(|i| {
            let mut buf = vec![0u8; PAGE as usize];
            f.read_exact_at(&mut buf, i * PAGE)?;
            Ok(tag_of(&buf))
        })
        .collect()
}

fn io_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Live {
    pub fn new(m: &Machine, exe: &Path, timeout: Duration) -> Result<Live, String> {
        let dir = tempfile::Builder::new()
            .prefix("pinlab-probe-")
            .tempdir_in(m.ext4_dir.as_deref().unwrap_or(Path::new("/tmp")))
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        let shm = match &m.tmpfs_dir {
            Some(d) => Some(
                tempfile::Builder::new()
                    .prefix("pinlab-probe-")
                    .tempdir_in(d)
                    .map_err(|e| format!("cannot make a directory in {}: {e}", d.display()))?,
            ),
            None => None,
        };
        let sock_path = dir.path().join("ctl.sock");
        let listener =
            UnixListener::bind(&sock_path).map_err(|e| format!("cannot listen on {}: {e}", sock_path.display()))?;
        listener.set_nonblocking(true).map_err(io_err)?;
        Ok(Live {
            exe: exe.to_path_buf(),
            timeout,
            sock: sock_path.to_string_lossy().into_owned(),
            dir,
            shm,
            listener,
            workers: BTreeMap::new(),
            children: Vec::new(),
            groups: Vec::new(),
            regions: BTreeMap::new(),
            files: BTreeMap::new(),
            fifos: BTreeMap::new(),
            rings: BTreeMap::new(),
            kpage: Kpage::open().map_err(|e| format!("cannot open /proc/kpageflags: {e}"))?,
            pins_before: pins_outstanding(),
            inflight: BTreeMap::new(),
        })
    }

    pub fn pid(&self, proc: &str) -> Option<i32> {
        self.workers.get(proc).map(|c| c.pid)
    }

    fn accept(&self, pid: Option<i32>) -> Result<Conn, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).map_err(io_err)?;
                    s.set_read_timeout(Some(self.timeout)).map_err(io_err)?;
                    let mut reader = BufReader::new(s);
                    let mut line = String::new();
                    reader
                        .read_line(&mut line)
                        .map_err(|e| format!("worker said nothing: {e}"))?;
                    match serde_json::from_str::<Reply>(&line) {
                        Ok(Reply::Hello { pid: got }) if pid.is_none_or(|p| p == got) => {
                            return Ok(Conn { pid: got, reader });
                        }
                        other => return Err(format!("unexpected greeting from a worker: {other:?}")),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err("a worker did not connect in time".into());
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        }
    }

    fn call(&mut self, proc: &str, req: &Request) -> Result<Reply, String> {
        let conn = self
            .workers
            .get_mut(proc)
            .ok_or_else(|| format!("no live process '{proc}'"))?;
        let mut line = serde_json::to_string(req).map_err(io_err)?;
        line.push('\n');
        conn.reader
            .get_mut()
            .write_all(line.as_bytes())
            .map_err(|e| format!("process '{proc}' is gone: {e}"))?;
        let mut answer = String::new();
        match conn.reader.read_line(&mut answer) {
            Ok(0) => Err(format!("process '{proc}' died")),
            Ok(_) => serde_json::from_str(&answer).map_err(|e| format!("bad reply from '{proc}': {e}")),
            Err(e) => Err(format!(
                "process '{proc}' did not answer within {:?}: {e}",
                self.timeout
            )),
        }
    }

    fn spawn(&mut self, name: &str) -> Result<(), String> {
        let start = |group: i32| {
            Command::new(&self.exe)
                .arg("probe-worker")
                .arg(&self.sock)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(group)
                .spawn()
        };
        let child = match self.groups.first() {
            // Join the probe's process group if it still has a member.
            Some(&g) => start(g).or_else(|_| start(0)),
            None => start(0),
        }
        .map_err(|e| format!("cannot start a worker ({}): {e}", self.exe.display()))?;
        let pid = child.id() as i32;
        if let Ok(g) = rustix::process::getpgid(rustix::process::Pid::from_raw(pid))
            && !self.groups.contains(&g.as_raw_nonzero().get())
        {
            self.groups.push(g.as_raw_nonzero().get());
        }
        self.children.push(child);
        let conn = self.accept(Some(pid))?;
        self.workers.insert(name.to_string(), conn);
        Ok(())
    }

    /// Waits until a process has released its memory (gone or a zombie).
    fn wait_gone(&mut self, pid: i32) {
        let deadline = Instant::now() + self.timeout;
        while Instant::now() < deadline {
            for c in &mut self.children {
                if c.id() as i32 == pid {
                    let _ = c.try_wait();
                }
            }
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return,
                Ok(s) => {
                    let state = s.rsplit(')').next().and_then(|r| r.split_whitespace().next());
                    if matches!(state, Some("Z" | "X")) {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn region(&self, proc: &str, vma: &str) -> Result<Region, String> {
        self.regions
            .get(&(proc.to_string(), vma.to_string()))
            .cloned()
            .ok_or_else(|| format!("'{proc}' has no live mapping '{vma}'"))
    }

    /// Address and page count of a range of a mapping (`pages` None: to its
    /// end).
    fn range(&self, proc: &str, vma: &str, start: u64, pages: Option<u64>) -> Result<(u64, u64), String> {
        let r = self.region(proc, vma)?;
        let n = pages.unwrap_or(r.pages.saturating_sub(start));
        Ok((r.addr + start * PAGE, n))
    }

    fn fifo(&mut self, pipe: &str) -> Result<String, String> {
        if let Some((p, _)) = self.fifos.get(pipe) {
            return Ok(p.to_string_lossy().into_owned());
        }
        let path = self.dir.path().join(format!("pipe-{}", self.fifos.len()));
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .map_err(|e| format!("mkfifo: {e}"))?;
        // The controller keeps the pipe open, so its buffers outlive the
        // processes that filled it (as the model's named pipes do).
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags_nonblock()
            .open(&path)
            .map_err(|e| format!("open fifo: {e}"))?;
        let s = path.to_string_lossy().into_owned();
        self.fifos.insert(pipe.to_string(), (path, f));
        Ok(s)
    }

    fn file(&self, name: &str) -> Result<String, String> {
        self.files
            .get(name)
            .map(|p| p.to_string_lossy().into_owned())
            .ok_or_else(|| format!("file '{name}' was not created live"))
    }

    fn create_file(&mut self, m: &Machine, name: &str, fs: FsKind, pages: u64, data: &[String]) -> Perf {
        let dir = match fs {
            FsKind::Ext4 if m.ext4_dir.is_some() => self.dir.path().to_path_buf(),
            FsKind::Tmpfs => match &self.shm {
                Some(d) => d.path().to_path_buf(),
                None => return Perf::NotPerformable("no tmpfs at /dev/shm".into()),
            },
            other => {
                return Perf::NotPerformable(format!(
                    "no {other:?} filesystem here (pinlab mounts nothing; it uses ext4 and /dev/shm)"
                ));
            }
        };
        let path = dir.join(format!("file-{}", self.files.len()));
        let r = (|| -> std::io::Result<()> {
            let f = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
            f.set_len(pages * PAGE)?;
            for (i, t) in data.iter().enumerate() {
                let page = tag_page(t);
                f.write_all_at(&page, i as u64 * PAGE)?;
            }
            if fs == FsKind::Ext4 {
                // The model's file starts on disk with nothing cached: write
                // it back and drop this file's clean page cache.
                f.sync_all()?;
                rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed)?;
            }
            Ok(())
        })();
        match r {
            Ok(()) => {
                self.files.insert(name.to_string(), path);
                Perf::Done(Ok(Vec::new()))
            }
            Err(e) => Perf::NotPerformable(format!("cannot create the file: {e}")),
        }
    }

    /// Carries out one lesson action for real, or says why it cannot.
    pub fn perform(&mut self, m: &Machine, action: &Action, before: &World) -> Perf {
        match self.try_perform(m, action, before) {
            Ok(p) => p,
            Err(e) => Perf::NotPerformable(e),
        }
    }

    fn reply(&mut self, proc: &str, req: Request) -> Result<Perf, String> {
        Ok(match self.call(proc, &req)? {
            Reply::Done | Reply::Mapped { .. } | Reply::Forked { .. } | Reply::Hello { .. } => {
                Perf::Done(Ok(Vec::new()))
            }
            Reply::Data { tags } => Perf::Done(Ok(tags)),
            Reply::Pending { .. } => Perf::Done(Ok(Vec::new())),
            Reply::Failed { errno, .. } => Perf::Done(Err(errno)),
        })
    }

    fn try_perform(&mut self, m: &Machine, action: &Action, before: &World) -> Result<Perf, String> {
        use Action as A;
        let model_only = |why: &str| Ok(Perf::ModelOnly(why.to_string()));
        match action {
            A::Spawn { name } => {
                self.spawn(name)?;
                Ok(Perf::Done(Ok(Vec::new())))
            }
            A::Fork { parent, child } => {
                let pid = match self.call(parent, &Request::Fork)? {
                    Reply::Forked { pid } => pid,
                    Reply::Failed { errno, .. } => return Ok(Perf::Done(Err(errno))),
                    other => return Err(format!("unexpected reply to fork: {other:?}")),
                };
                let conn = self.accept(Some(pid))?;
                self.workers.insert(child.clone(), conn);
                let inherited: Vec<((String, String), Region)> = self
                    .regions
                    .iter()
                    .filter(|((p, _), _)| p == parent)
                    .map(|((_, v), r)| ((child.clone(), v.clone()), r.clone()))
                    .collect();
                self.regions.extend(inherited);
                Ok(Perf::Done(Ok(Vec::new())))
            }
            A::Exit { proc } => {
                let pid = self.pid(proc).ok_or_else(|| format!("no live process '{proc}'"))?;
                let r = self.reply(proc, Request::Exit)?;
                self.workers.remove(proc);
                self.wait_gone(pid);
                self.regions.retain(|(p, _), _| p != proc);
                Ok(r)
            }
            A::CreateFile { name, fs, pages, data } => Ok(self.create_file(m, name, *fs, *pages, data)),
            A::Mmap { proc, vma, args } => {
                if args.movable || args.zone.is_some_and(|z| z != pinlab_model::folio::Zone::Normal) {
                    return Ok(Perf::NotPerformable(
                        "userspace cannot choose ZONE_MOVABLE or CMA memory for a mapping".into(),
                    ));
                }
                let hugepage = args.thp || args.order == 9;
                if (1..9).contains(&args.order)
                    && let Some(why) = m.mthp_unavailable(args.order)
                {
                    return Ok(Perf::NotPerformable(why));
                }
                let file = match &args.file {
                    Some(f) => Some(self.file(f)?),
                    None => None,
                };
                let req = Request::Mmap {
                    pages: args.pages,
                    align: if hugepage || args.order > 0 { 512 } else { 1 },
                    write: args.write,
                    shared: args.shared,
                    file,
                    offset: args.offset,
                    populate: args.populate,
                    hugepage,
                };
                match self.call(proc, &req)? {
                    Reply::Mapped { addr } => {
                        self.regions.insert(
                            (proc.clone(), vma.clone()),
                            Region {
                                addr,
                                pages: args.pages,
                            },
                        );
                        Ok(Perf::Done(Ok(Vec::new())))
                    }
                    Reply::Failed { errno, .. } => Ok(Perf::Done(Err(errno))),
                    other => Err(format!("unexpected reply to mmap: {other:?}")),
                }
            }
            A::Munmap {
                proc,
                vma,
                start,
                pages,
            } => {
                let (addr, pages) = self.range(proc, vma, *start, *pages)?;
                self.reply(proc, Request::Munmap { addr, pages })
            }
            A::Mprotect {
                proc,
                vma,
                start,
                pages,
                write,
            } => {
                let (addr, pages) = self.range(proc, vma, *start, *pages)?;
                self.reply(
                    proc,
                    Request::Mprotect {
                        addr,
                        pages,
                        write: *write,
                    },
                )
            }
            A::Madvise {
                proc,
                vma,
                start,
                pages,
                advice,
            } => {
                if *advice == Advice::Pageout && !m.swap {
                    let pid = before.pid_of(proc).map_err(|e| e.to_string())?;
                    let anon_or_shmem = before
                        .proc(pid)
                        .mm
                        .regions
                        .get(vma.as_str())
                        .and_then(|r| before.proc(pid).mm.vma_at(r.base + start))
                        .is_none_or(|v| match v.backing {
                            pinlab_model::mm::Backing::Anon => true,
                            pinlab_model::mm::Backing::File { file, .. } => !before.file(file).fs.has_disk(),
                        });
                    if anon_or_shmem {
                        return Ok(Perf::NotPerformable(
                            "no swap on this machine: MADV_PAGEOUT cannot swap anonymous or shmem memory out".into(),
                        ));
                    }
                }
                let (addr, pages) = self.range(proc, vma, *start, *pages)?;
                self.reply(
                    proc,
                    Request::Madvise {
                        addr,
                        pages,
                        advice: *advice,
                    },
                )
            }
            A::Mlock {
                proc,
                vma,
                start,
                pages,
            } => {
                let (addr, pages) = self.range(proc, vma, *start, *pages)?;
                self.reply(proc, Request::Mlock { addr, pages })
            }
            A::Write {
                proc,
                vma,
                page,
                pages,
                data,
            } => {
                let tags = match data {
                    Tags::One(t) => vec![t.clone(); pages.unwrap_or(1) as usize],
                    Tags::Many(v) => v.clone(),
                };
                let (addr, _) = self.range(proc, vma, *page, Some(1))?;
                self.reply(proc, Request::Store { addr, tags })
            }
            A::Read { proc, vma, page } => {
                let (addr, _) = self.range(proc, vma, *page, Some(1))?;
                self.reply(proc, Request::Load { addr })
            }
            A::Vmsplice {
                proc,
                vma,
                start,
                pages,
                pipe,
            } => {
                let fifo = self.fifo(pipe)?;
                let (addr, pages) = self.range(proc, vma, *start, Some(*pages))?;
                self.reply(proc, Request::Vmsplice { fifo, addr, pages })
            }
            A::PipeRead { proc, pipe } => {
                let fifo = self.fifo(pipe)?;
                self.reply(proc, Request::PipeRead { fifo })
            }
            A::IoUringRegister {
                proc,
                vma,
                start,
                pages,
                ring,
            } => {
                let (addr, pages) = self.range(proc, vma, *start, Some(*pages))?;
                let scratch = self.dir.path().join(format!("ring-{}.img", self.rings.len()));
                let f = File::create(&scratch).map_err(|e| format!("scratch file: {e}"))?;
                f.set_len(pages * PAGE).map_err(io_err)?;
                let r = self.reply(
                    proc,
                    Request::RingRegister {
                        ring: ring.clone(),
                        addr,
                        pages,
                    },
                )?;
                if matches!(r, Perf::Done(Ok(_))) {
                    self.rings.insert(
                        ring.clone(),
                        Ring {
                            owner: proc.clone(),
                            scratch,
                            pages,
                        },
                    );
                }
                Ok(r)
            }
            A::IoUringUnregister { ring } => {
                let owner = self.ring_owner(ring)?;
                let r = self.reply(&owner, Request::RingUnregister { ring: ring.clone() })?;
                self.rings.remove(ring);
                Ok(r)
            }
            A::DeviceRead { holder, index } | A::DeviceWrite { holder, index, .. }
                if self.rings.contains_key(holder) =>
            {
                let owner = self.ring_owner(holder)?;
                let scratch = self.rings[holder].scratch.clone();
                let h = before.holder(holder).map_err(|e| e.to_string())?;
                let (first, n) = match index {
                    Some(i) => (*i, 1),
                    None => (0, h.pages.len() as u64),
                };
                let to_file = matches!(action, A::DeviceRead { .. });
                if let A::DeviceWrite { data, .. } = action {
                    // The "device" puts the data in the file; READ_FIXED
                    // brings it into the buffer's pages.
                    let f = OpenOptions::new().write(true).open(&scratch).map_err(io_err)?;
                    for i in first..first + n {
                        let page = tag_page(data);
                        f.write_all_at(&page, i * PAGE).map_err(io_err)?;
                    }
                }
                let r = self.reply(
                    &owner,
                    Request::RingIo {
                        ring: holder.clone(),
                        file: scratch.to_string_lossy().into_owned(),
                        index: first,
                        pages: n,
                        to_file,
                    },
                )?;
                if to_file && matches!(r, Perf::Done(Ok(_))) {
                    return Ok(Perf::Done(Ok(read_tags(&scratch, first, n).map_err(io_err)?)));
                }
                Ok(r)
            }
            A::DioRead {
                proc,
                vma,
                start,
                pages,
                file,
                offset,
                wait,
                bio,
                ..
            }
            | A::DioWrite {
                proc,
                vma,
                start,
                pages,
                file,
                offset,
                wait,
                bio,
                ..
            } => {
                let write = matches!(action, A::DioWrite { .. });
                if !wait {
                    // Held in flight only where every read is delayed
                    // (the VM's dm-delay disk): elsewhere the device
                    // completes it before the lesson's next step.
                    if m.slow_reads_ms.is_none() || write {
                        return Ok(Perf::NotPerformable(
                            "an O_DIRECT request left in flight needs a disk that delays it (pinlab probe --vm \
                             gives reads one); this one completes it at once"
                                .into(),
                        ));
                    }
                    let file = self.file(file)?;
                    let (addr, pages) = self.range(proc, vma, *start, Some(*pages))?;
                    let r = self.reply(
                        proc,
                        Request::DioStart {
                            key: bio.clone(),
                            file,
                            addr,
                            pages,
                            offset: *offset,
                            write,
                        },
                    )?;
                    if matches!(r, Perf::Done(Ok(_))) {
                        self.inflight.insert(bio.clone(), proc.clone());
                    }
                    return Ok(r);
                }
                let file = self.file(file)?;
                let (addr, pages) = self.range(proc, vma, *start, Some(*pages))?;
                self.reply(
                    proc,
                    Request::Dio {
                        file,
                        addr,
                        pages,
                        offset: *offset,
                        write: matches!(action, A::DioWrite { .. }),
                    },
                )
            }
            A::ReadFile {
                proc,
                file,
                offset,
                pages,
            } => {
                let file = self.file(file)?;
                self.reply(
                    proc,
                    Request::ReadFile {
                        file,
                        offset: *offset,
                        pages: *pages,
                    },
                )
            }
            A::WriteFile {
                proc,
                file,
                offset,
                data,
            } => {
                let file = self.file(file)?;
                self.reply(
                    proc,
                    Request::WriteFile {
                        file,
                        offset: *offset,
                        tags: data.clone(),
                    },
                )
            }
            A::Fsync { file } => {
                let path = self.file(file)?;
                match OpenOptions::new().write(true).open(&path).and_then(|f| f.sync_all()) {
                    Ok(()) => Ok(Perf::Done(Ok(Vec::new()))),
                    Err(e) => Ok(Perf::Done(Err(crate::worker::errno_name(&e)))),
                }
            }
            A::Gup { .. } | A::Release { .. } | A::DeviceRead { .. } | A::DeviceWrite { .. } => {
                model_only(if m.gup_test {
                    "a driver's get/pin_user_pages: mapping it onto CONFIG_GUP_TEST is not done yet"
                } else {
                    "a driver's get/pin_user_pages and its DMA: no system call does exactly this, and this kernel has no CONFIG_GUP_TEST"
                })
            }
            A::RdmaRegMr { .. } | A::RdmaDeregMr { .. } => model_only("RDMA needs an RDMA device"),
            A::KbufAlloc { .. } | A::KbufWrite { .. } | A::KbufRead { .. } | A::KbufFree { .. } => {
                model_only("kernel buffers are kernel-internal")
            }
            A::IovIterGetPages2 { .. } | A::IovIterExtractPages { .. } => {
                model_only("iov_iter calls are kernel-internal")
            }
            A::BioComplete { bio } if self.inflight.contains_key(bio) => {
                let owner = self.inflight.remove(bio).unwrap_or_default();
                self.reply(&owner, Request::DioWait { key: bio.clone() })
            }
            A::KernelBio { .. } | A::BioComplete { .. } => model_only("a kernel bio is kernel-internal"),
            A::Writeback { .. } => model_only("background writeback cannot be started on demand from userspace"),
            A::Reclaim { .. } => model_only("reclaim cannot be run on demand, on chosen folios, from userspace"),
        }
    }

    fn ring_owner(&self, ring: &str) -> Result<String, String> {
        self.rings
            .get(ring)
            .map(|r| r.owner.clone())
            .ok_or_else(|| format!("ring '{ring}' was not registered live"))
    }

    /// Why the live run no longer matches the lesson, when an O_DIRECT
    /// request it holds in flight has completed before its bio_complete.
    pub fn lost_in_flight(&mut self) -> Option<String> {
        let held: Vec<(String, String)> = self.inflight.iter().map(|(b, p)| (b.clone(), p.clone())).collect();
        for (bio, proc) in held {
            if let Ok(Reply::Pending { pending: false }) = self.call(&proc, &Request::DioPending { key: bio.clone() }) {
                return Some(format!(
                    "the device completed O_DIRECT request '{bio}' before the lesson completes it (bio_complete)"
                ));
            }
        }
        None
    }

    /// A round trip to a worker: it makes system calls, nothing else.
    pub fn ping(&mut self, proc: &str) -> bool {
        matches!(self.call(proc, &Request::Ping), Ok(Reply::Done))
    }

    /// The tag a present page holds, read by its process with a load.
    pub fn load(&mut self, proc: &str, addr: u64) -> Option<String> {
        match self.call(proc, &Request::Load { addr }) {
            Ok(Reply::Data { tags }) => tags.into_iter().next(),
            _ => None,
        }
    }

    /// A page frame as the kernel shows it (for a label: a folio the lesson
    /// captured, wherever it is mapped now).
    pub fn frame(&self, pfn: u64) -> Option<crate::compare::LivePage> {
        let (head, order) = self.kpage.folio(pfn).ok()?;
        Some(crate::compare::LivePage {
            mapped: true,
            entry: crate::pagemap::PagemapEntry(1 << 63 | pfn),
            flags: Some(self.kpage.flags(pfn).ok()?),
            mapcount: Some(self.kpage.count(pfn).ok()?),
            head: Some(head),
            order,
            data: None,
            refcount: None,
            pincount: None,
        })
    }

    /// What a pipe holds, one tag per buffer, without consuming it: tee(2)
    /// duplicates its buffers into a scratch pipe, which is read and closed.
    pub fn peek_pipe(&self, pipe: &str) -> Option<Vec<String>> {
        use rustix::pipe::{PipeFlags, SpliceFlags, pipe_with, tee};
        let Some((_, f)) = self.fifos.get(pipe) else {
            // Never filled live: empty, as for the model.
            return Some(Vec::new());
        };
        let (r, w) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).ok()?;
        match tee(f, &w, usize::MAX >> 1, SpliceFlags::NONBLOCK) {
            Ok(_) => {}
            Err(rustix::io::Errno::AGAIN) => return Some(Vec::new()),
            Err(_) => return None,
        }
        drop(w);
        let r = File::from(r);
        let mut tags = Vec::new();
        let mut buf = vec![0u8; PAGE as usize];
        while let Ok(n) = std::io::Read::read(&mut &r, &mut buf) {
            if n == 0 {
                break;
            }
            tags.push(tag_of(&buf[..n]));
        }
        Some(tags)
    }

    /// What a registered io_uring buffer holds, as a device would read it:
    /// IORING_OP_WRITE_FIXED of the whole buffer into a scratch file (a read
    /// of the pinned pages that changes nothing about them).
    pub fn peek_ring(&mut self, ring: &str) -> Option<Vec<String>> {
        let (owner, pages) = self.rings.get(ring).map(|r| (r.owner.clone(), r.pages))?;
        let peek = self.dir.path().join(format!("peek-{ring}.img"));
        File::create(&peek).ok()?.set_len(pages * PAGE).ok()?;
        let done = self.call(
            &owner,
            &Request::RingIo {
                ring: ring.to_string(),
                file: peek.to_string_lossy().into_owned(),
                index: 0,
                pages,
                to_file: true,
            },
        );
        if !matches!(done, Ok(Reply::Done)) {
            return None;
        }
        let tags = read_tags(&peek, 0, pages).ok();
        let _ = std::fs::remove_file(&peek);
        tags
    }

    /// One page of a process as the kernel shows it (and its data when it
    /// is present).
    pub fn observe(&mut self, proc: &str, vma: &str, page: u64) -> Option<crate::compare::LivePage> {
        let pid = self.pid(proc)?;
        let r = self.region(proc, vma).ok()?;
        if page >= r.pages {
            return None;
        }
        let addr = r.addr + page * PAGE;
        let lines = observe::maps_of(pid);
        let mut p = observe::page(&self.kpage, pid, addr, &lines).ok()?;
        if p.entry.present() && p.mapped {
            p.data = self.load(proc, addr);
        }
        Some(p)
    }
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Kill every worker (and every process they forked: they share the
        // process groups), then reap what is ours. The temporary
        // directories go with their TempDir.
        for &g in &self.groups {
            if let Some(pid) = rustix::process::Pid::from_raw(g) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
        self.workers.clear();
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Orphaned forked workers were reparented to us (child subreaper).
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
                Ok(Some(_)) => continue,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(_) => break,
            }
        }
        self.fifos.clear();
        // A killed worker's io_uring ring is torn down in a workqueue
        // (io_ring_exit_work), which unpins its buffers a little later: wait
        // for the pins to come back to where they were.
        let deadline = Instant::now() + Duration::from_secs(3);
        while pins_outstanding() > self.pins_before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
