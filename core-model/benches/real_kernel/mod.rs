//! The same work the model benchmarks simulate, done for real by this
//! machine's kernel, so each model figure has a physical reference:
//!
//! - pin then unpin: `io_uring_register(IORING_REGISTER_BUFFERS)` of the whole
//!   populated buffer, then `IORING_UNREGISTER_BUFFERS` (io_uring/rsrc.c:
//!   io_sqe_buffer_register pins with FOLL_LONGTERM, io_buffer_unmap unpins);
//! - fork of a process with the buffer populated (kernel/fork.c: copy_mm), the
//!   parent's time until fork returns; the child exits at once;
//! - an O_DIRECT pread of the whole buffer from a file (fs/iomap/direct-io.c on
//!   ext4; tmpfs where it accepts O_DIRECT, mm/shmem.c since 6.6).
//!
//! Linux only; elsewhere every kernel figure is `None`.

use std::time::Duration;

/// The kernel's time for each piece of work on `pages` 4 KiB pages; `None`
/// where this machine cannot do it (not Linux, io_uring refused, no O_DIRECT).
pub struct KernelTimes {
    pub pin_unpin: Option<Duration>,
    pub fork: Option<Duration>,
    pub dio_ext4: Option<Duration>,
    pub dio_tmpfs: Option<Duration>,
}

/// The kernel's release, as `uname -r` prints it.
pub fn release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(target_os = "linux")]
pub fn measure(pages: u64, reps: usize) -> KernelTimes {
    linux::measure(pages, reps)
}

#[cfg(not(target_os = "linux"))]
pub fn measure(_pages: u64, _reps: usize) -> KernelTimes {
    KernelTimes {
        pin_unpin: None,
        fork: None,
        dio_ext4: None,
        dio_tmpfs: None,
    }
}

/// The median of `reps` runs of `f`, or `None` when one run fails.
pub fn median(reps: usize, mut f: impl FnMut() -> Option<Duration>) -> Option<Duration> {
    let mut runs = Vec::with_capacity(reps);
    for _ in 0..reps {
        runs.push(f()?);
    }
    runs.sort();
    runs.get(runs.len() / 2).copied()
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{KernelTimes, median};
    use std::ffi::CString;
    use std::time::{Duration, Instant};

    const PAGE: usize = 4096;

    /// An anonymous private mapping, written to page by page so every page
    /// is present (MAP_POPULATE with write access does the same fault-in).
    struct Buffer {
        addr: *mut libc::c_void,
        len: usize,
    }

    impl Buffer {
        fn populated(pages: u64) -> Option<Buffer> {
            let len = pages as usize * PAGE;
            // SAFETY: a fresh anonymous mapping; checked against MAP_FAILED.
            let addr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                    -1,
                    0,
                )
            };
            if addr == libc::MAP_FAILED {
                return None;
            }
            // No transparent huge pages: the model's buffer is 4 KiB pages.
            // SAFETY: the range is the mapping just made.
            unsafe { libc::madvise(addr, len, libc::MADV_NOHUGEPAGE) };
            let bytes = addr.cast::<u8>();
            for p in 0..pages as usize {
                // SAFETY: p * PAGE < len, inside the mapping.
                unsafe { bytes.add(p * PAGE).write_volatile(1) };
            }
            Some(Buffer { addr, len })
        }
    }

    impl Drop for Buffer {
        fn drop(&mut self) {
            // SAFETY: the mapping this Buffer made, unmapped once.
            unsafe { libc::munmap(self.addr, self.len) };
        }
    }

    pub fn measure(pages: u64, reps: usize) -> KernelTimes {
        let Some(buf) = Buffer::populated(pages) else {
            return KernelTimes {
                pin_unpin: None,
                fork: None,
                dio_ext4: None,
                dio_tmpfs: None,
            };
        };
        let dir = std::env::temp_dir();
        KernelTimes {
            pin_unpin: median(reps, || pin_unpin(&buf)),
            fork: median(reps, fork),
            dio_ext4: dio_file(&dir.join("pinlab-bench-dio"), &buf, reps),
            dio_tmpfs: dio_file(std::path::Path::new("/dev/shm/pinlab-bench-dio"), &buf, reps),
        }
    }

    /// IORING_REGISTER_BUFFERS then IORING_UNREGISTER_BUFFERS of the whole
    /// buffer: every page pinned (FOLL_PIN | FOLL_LONGTERM), then unpinned.
    fn pin_unpin(buf: &Buffer) -> Option<Duration> {
        let ring = io_uring::IoUring::new(8).ok()?;
        let iov = libc::iovec {
            iov_base: buf.addr,
            iov_len: buf.len,
        };
        let start = Instant::now();
        // SAFETY: the buffer outlives its registration (unregistered below).
        unsafe { ring.submitter().register_buffers(&[iov]) }.ok()?;
        ring.submitter().unregister_buffers().ok()?;
        Some(start.elapsed())
    }

    /// fork() of this process, the buffer populated: the parent's time until
    /// fork returns (copy_mm copies the page tables and takes a reference
    /// and a map count on every anonymous page).
    fn fork() -> Option<Duration> {
        let start = Instant::now();
        // SAFETY: the child only calls _exit, async-signal-safe.
        let pid = unsafe { libc::fork() };
        let took = start.elapsed();
        match pid {
            -1 => None,
            0 => unsafe { libc::_exit(0) },
            child => {
                let mut status = 0;
                // SAFETY: waits for the child just forked.
                unsafe { libc::waitpid(child, &mut status, 0) };
                Some(took)
            }
        }
    }

    /// The file written once with the buffer's size, then read back whole
    /// with O_DIRECT into the buffer, `reps` times; `None` where the
    /// filesystem refuses O_DIRECT.
    fn dio_file(path: &std::path::Path, buf: &Buffer, reps: usize) -> Option<Duration> {
        use std::io::Write;
        {
            let mut f = std::fs::File::create(path).ok()?;
            let chunk = vec![7u8; 1 << 20];
            let mut left = buf.len;
            while left > 0 {
                let n = left.min(chunk.len());
                f.write_all(&chunk[..n]).ok()?;
                left -= n;
            }
            f.sync_all().ok()?;
        }
        let cpath = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
        let read = || {
            // SAFETY: a path we made; the fd is closed below.
            let fd = unsafe { libc::open(cpath.as_ptr(), libc::O_RDONLY | libc::O_DIRECT) };
            if fd < 0 {
                return None;
            }
            let start = Instant::now();
            let mut done = 0usize;
            while done < buf.len {
                // SAFETY: writes inside the buffer's mapping.
                let n = unsafe {
                    libc::pread(
                        fd,
                        buf.addr.cast::<u8>().add(done).cast(),
                        buf.len - done,
                        done as libc::off_t,
                    )
                };
                if n <= 0 {
                    break;
                }
                done += n as usize;
            }
            let took = start.elapsed();
            // SAFETY: the fd opened above.
            unsafe { libc::close(fd) };
            (done == buf.len).then_some(took)
        };
        let result = median(reps, read);
        let _ = std::fs::remove_file(path);
        result
    }
}
