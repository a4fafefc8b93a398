//! The counts userspace cannot see, read from the running kernel: a page's
//! `_refcount` and `_mapcount`, a large folio's `_pincount`, an mm's
//! MMF_HAS_PINNED. A small BPF program (probe/bpf/page_counts.bpf.c, loaded
//! with aya) reads `struct page` through the kernel's BTF; every offset and
//! `sizeof(struct page)` is relocated at load time (CO-RE), so no layout is
//! written here. Nothing is changed: the program only reads.
//!
//! Transient references are part of the truth, but not of a lesson: a page
//! a process just faulted in sits in a per-CPU LRU batch (`mm/swap.c:
//! folio_add_lru`), which holds one reference until the batch drains. The
//! probe keeps every worker on one CPU and drains that CPU's batches
//! (`lru_add_drain`, which `madvise(MADV_COLD)` calls first) before each
//! read, so a count is what the page holds once the batch has emptied: what
//! the model, which has no per-CPU batches, counts. docs/probe.md says so.

use aya::maps::{Array, HashMap as BpfMap, MapData};
use aya::programs::{RawTracePoint, TracePoint};
use aya::{Ebpf, Pod};
use std::collections::HashMap;
use std::path::Path;

/// The object tools/build-bpf builds; committed, so building pinlab needs
/// no clang (CI checks it is not stale).
static OBJECT: &[u8] = aya::include_bytes_aligned!("../bpf/page_counts.bpf.o");
/// The program's `MAX_PFNS`: PFNs read per trigger.
const MAX_PFNS: usize = 256;
const TRACEFS: &str = "/sys/kernel/tracing";
const LRU_FORMAT: &str = "/sys/kernel/tracing/events/pagemap/mm_lru_insertion/format";

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Config {
    probe_tgid: u32,
    trigger_nr: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct State {
    vmemmap: u64,
    page_size: u64,
    requested: u32,
    served: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Counts {
    refcount: i32,
    mapcount: i32,
    compound_head: u64,
    folio_pincount: i32,
    read_ok: u32,
}

// SAFETY: plain C structs of integers, laid out as the BPF program's.
unsafe impl Pod for Config {}
unsafe impl Pod for State {}
unsafe impl Pod for Counts {}

/// One frame's counts as the kernel holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameCounts {
    /// `page->_refcount`: for a folio's head page, `folio_ref_count`.
    pub refcount: i64,
    /// `page->_mapcount + 1`.
    pub mapcount: i64,
    /// The folio's `_pincount`, as if the frame were a large folio's head
    /// (meaningless otherwise: for an order-0 folio the field is the next
    /// page's).
    pub folio_pincount: i64,
}

/// MMF_HAS_PINNED's bit in `mm->flags`: 28 from 5.13 (commit a458b76a4130,
/// "mm: gup: pack has_pinned in MMF_HAS_PINNED"), 27 once MMF_OOM_VICTIM
/// was deleted ("mm: delete unused MMF_OOM_VICTIM flag", Suren
/// Baghdasaryan, 2022, in 6.0); 6.18's include/linux/mm_types.h still says
/// 27. None before 5.13, which had `mm->has_pinned` (an atomic_t).
pub fn has_pinned_bit(release: (u32, u32)) -> Option<u32> {
    match release {
        r if r < (5, 13) => None,
        r if r < (6, 0) => Some(28),
        _ => Some(27),
    }
}

pub struct KernelCounts {
    _bpf: Ebpf,
    state: Array<MapData, State>,
    request: Array<MapData, u64>,
    result: Array<MapData, Counts>,
    watched: BpfMap<MapData, u32, u64>,
    /// The CPU every worker and the drain run on.
    cpu: usize,
    /// Two anonymous pages of the probe's own: the first never touched
    /// (madvise(MADV_COLD) of it drains and deactivates nothing), the
    /// second faulted in to learn and check the memmap's address.
    scratch: *mut libc::c_void,
    has_pinned_bit: Option<u32>,
}

// SAFETY: `scratch` is the probe's own private mapping, used only through
// &self / &mut self.
unsafe impl Send for KernelCounts {}

/// A watched process not yet seen making a system call.
const NOT_SEEN: u64 = u64::MAX;

fn err(what: &str) -> impl Fn(aya::maps::MapError) -> String + '_ {
    move |e| format!("BPF map {what}: {e}")
}

/// The tracepoint's record must be what the program reads: a folio
/// pointer at offset 8 and its PFN at 16 (include/trace/events/pagemap.h).
fn check_lru_format(text: &str) -> Result<(), String> {
    let has = |field: &str, offset: u32| {
        text.lines().any(|l| {
            l.contains(&format!("{field};")) && l.contains(&format!("offset:{offset};")) && l.contains("size:8;")
        })
    };
    if has("struct folio * folio", 8) && has("unsigned long pfn", 16) {
        Ok(())
    } else {
        Err(format!(
            "{LRU_FORMAT} does not have a folio pointer at offset 8 and its pfn at 16"
        ))
    }
}

impl KernelCounts {
    /// Loads and attaches the program, or says why it cannot be used here.
    pub fn open(release: (u32, u32)) -> Result<KernelCounts, String> {
        if !Path::new("/sys/kernel/btf/vmlinux").exists() {
            return Err("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
        }
        if !Path::new(LRU_FORMAT).exists() && !Path::new(&format!("{TRACEFS}/events")).exists() {
            // Mounting tracefs changes no setting: it only shows the
            // tracepoints that exist.
            let r = unsafe {
                libc::mount(
                    c"nodev".as_ptr(),
                    c"/sys/kernel/tracing".as_ptr(),
                    c"tracefs".as_ptr(),
                    0,
                    std::ptr::null(),
                )
            };
            if r != 0 {
                return Err(format!(
                    "tracefs is not mounted and cannot be: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        let format = std::fs::read_to_string(LRU_FORMAT)
            .map_err(|e| format!("no tracepoint pagemap:mm_lru_insertion ({LRU_FORMAT}: {e})"))?;
        check_lru_format(&format)?;
        let mut bpf = Ebpf::load(OBJECT).map_err(|e| format!("the kernel refused the BPF object: {e}"))?;
        let tp: &mut TracePoint = bpf
            .program_mut("lru_insertion")
            .ok_or("no lru_insertion program")?
            .try_into()
            .map_err(|e| format!("{e}"))?;
        tp.load()
            .map_err(|e| format!("the verifier refused lru_insertion: {e}"))?;
        tp.attach("pagemap", "mm_lru_insertion")
            .map_err(|e| format!("cannot attach to pagemap:mm_lru_insertion: {e}"))?;
        let rt: &mut RawTracePoint = bpf
            .program_mut("sys_enter")
            .ok_or("no sys_enter program")?
            .try_into()
            .map_err(|e| format!("{e}"))?;
        rt.load().map_err(|e| format!("the verifier refused sys_enter: {e}"))?;
        rt.attach("sys_enter")
            .map_err(|e| format!("cannot attach to the sys_enter raw tracepoint: {e}"))?;
        let take = |bpf: &mut Ebpf, name: &str| bpf.take_map(name).ok_or_else(|| format!("no map {name}"));
        let mut config: Array<MapData, Config> = Array::try_from(take(&mut bpf, "config")?).map_err(err("config"))?;
        config
            .set(
                0,
                Config {
                    probe_tgid: std::process::id(),
                    trigger_nr: libc::SYS_getppid as u32,
                },
                0,
            )
            .map_err(err("config"))?;
        let scratch = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * 4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if scratch == libc::MAP_FAILED {
            return Err("cannot map a scratch page".into());
        }
        let cpu = unsafe { libc::sched_getcpu() }.max(0) as usize;
        let mut k = KernelCounts {
            state: Array::try_from(take(&mut bpf, "state")?).map_err(err("state"))?,
            request: Array::try_from(take(&mut bpf, "request")?).map_err(err("request"))?,
            result: Array::try_from(take(&mut bpf, "result")?).map_err(err("result"))?,
            watched: BpfMap::try_from(take(&mut bpf, "watched")?).map_err(err("watched"))?,
            _bpf: bpf,
            cpu,
            scratch,
            has_pinned_bit: has_pinned_bit(release),
        };
        // Learn where the memmap starts: fault a fresh page in and drain
        // the batch it went to, which inserts it into an LRU.
        for _ in 0..200 {
            unsafe {
                libc::madvise(k.probe_page(), 4096, libc::MADV_DONTNEED);
                std::ptr::write_volatile(k.probe_page() as *mut u8, 1);
            }
            k.drain();
            if k.state.get(&0, 0).map_err(err("state"))?.vmemmap != 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if k.state.get(&0, 0).map_err(err("state"))?.vmemmap == 0 {
            return Err("no LRU insertion was seen: the memmap's address is unknown".into());
        }
        // Check the arithmetic on a page whose counts are known: the
        // scratch page, mapped once, held by its mapping alone.
        let pfn = crate::observe::pagemap_entry(std::process::id() as i32, k.probe_page() as u64)
            .ok()
            .and_then(|e| e.pfn())
            .ok_or("cannot read the scratch page's PFN")?;
        k.drain();
        match k.read(&[pfn]).get(&pfn) {
            Some(c) if c.refcount == 1 && c.mapcount == 1 => Ok(k),
            other => Err(format!(
                "a page mapped once read as {other:?}, not refcount 1 and mapcount 1: the memmap's address is wrong"
            )),
        }
    }

    fn probe_page(&self) -> *mut libc::c_void {
        self.scratch.wrapping_byte_add(4096)
    }

    /// Keeps a process on the probe's CPU, so that its per-CPU LRU batches
    /// are the ones `drain` empties (a forked child inherits it).
    pub fn pin_to_cpu(&self, pid: i32) {
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(self.cpu, &mut set);
            libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }

    /// `lru_add_drain()` on the workers' CPU: madvise(MADV_COLD) calls it
    /// before looking at its range (mm/madvise.c: madvise_cold).
    pub fn drain(&self) {
        self.pin_to_cpu(0);
        unsafe { libc::madvise(self.scratch, 4096, libc::MADV_COLD) };
    }

    /// The counts of each frame, read in one pass per 256 frames.
    pub fn read(&mut self, pfns: &[u64]) -> HashMap<u64, FrameCounts> {
        let mut out = HashMap::new();
        for chunk in pfns.chunks(MAX_PFNS) {
            for (i, pfn) in chunk.iter().enumerate() {
                let _ = self.request.set(i as u32, pfn, 0);
            }
            let Ok(mut s) = self.state.get(&0, 0) else {
                return out;
            };
            let served = s.served;
            s.requested = chunk.len() as u32;
            if self.state.set(0, s, 0).is_err() {
                return out;
            }
            // The trigger: the program reads the frames as this call enters.
            unsafe { libc::syscall(libc::SYS_getppid) };
            if self.state.get(&0, 0).ok().map(|s| s.served) != Some(served + 1) {
                return out;
            }
            for (i, pfn) in chunk.iter().enumerate() {
                if let Ok(c) = self.result.get(&(i as u32), 0)
                    && c.read_ok == 1
                {
                    out.insert(
                        *pfn,
                        FrameCounts {
                            refcount: c.refcount as i64,
                            mapcount: c.mapcount as i64 + 1,
                            folio_pincount: c.folio_pincount as i64,
                        },
                    );
                }
            }
        }
        out
    }

    /// Starts recording a process's mm->flags at each of its system calls.
    pub fn watch(&mut self, pid: i32) {
        if self.watched.get(&(pid as u32), 0).is_err() {
            let _ = self.watched.insert(pid as u32, NOT_SEEN, 0);
        }
    }

    /// MMF_HAS_PINNED of a watched process, as of its last system call;
    /// None before it made one, or where the bit is not known.
    pub fn has_pinned(&self, pid: i32) -> Option<bool> {
        let bit = self.has_pinned_bit?;
        let word = self.watched.get(&(pid as u32), 0).ok()?;
        (word != NOT_SEEN).then_some(word & (1 << bit) != 0)
    }

    pub fn forget(&mut self, pid: i32) {
        let _ = self.watched.remove(&(pid as u32));
    }
}

impl Drop for KernelCounts {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.scratch, 2 * 4096) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_has_pinned_bit_moved_in_6_0() {
        assert_eq!(has_pinned_bit((5, 12)), None);
        assert_eq!(has_pinned_bit((5, 13)), Some(28));
        assert_eq!(has_pinned_bit((5, 19)), Some(28));
        assert_eq!(has_pinned_bit((6, 1)), Some(27));
        assert_eq!(has_pinned_bit((6, 18)), Some(27));
    }

    #[test]
    fn the_lru_tracepoint_format_is_checked() {
        let ok = "\tfield:struct folio * folio;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:unsigned long pfn;\toffset:16;\tsize:8;\tsigned:0;\n";
        assert!(check_lru_format(ok).is_ok());
        let moved = ok.replace("offset:16", "offset:24");
        assert!(check_lru_format(&moved).is_err());
        let page = ok.replace("struct folio * folio", "struct page * page");
        assert!(check_lru_format(&page).is_err());
    }
}
