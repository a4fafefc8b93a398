//! The controller talks to each worker process over a Unix stream socket,
//! one JSON object per line each way: a request, then its reply.

use serde::{Deserialize, Serialize};

/// What a worker is asked to do in its own address space. Addresses are the
/// worker's virtual addresses; page counts are 4 KiB pages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// mmap(2), aligned to `align` pages; `hugepage` is MADV_HUGEPAGE right
    /// after (before `populate` faults the pages in).
    Mmap {
        pages: u64,
        align: u64,
        write: bool,
        shared: bool,
        file: Option<String>,
        offset: u64,
        populate: bool,
        hugepage: bool,
    },
    Munmap {
        addr: u64,
        pages: u64,
    },
    Mprotect {
        addr: u64,
        pages: u64,
        write: bool,
    },
    Madvise {
        addr: u64,
        pages: u64,
        /// The model's own type: the worker maps every value with an
        /// exhaustive `match`, so a new advice cannot reach it unmapped.
        advice: pinlab_model::vma_ops::Advice,
    },
    Mlock {
        addr: u64,
        pages: u64,
    },
    /// CPU stores: `tags[i]` at the start of page i (a NUL ends it).
    Store {
        addr: u64,
        tags: Vec<String>,
    },
    /// An O_DIRECT read or write submitted through io_uring and left in
    /// flight (a lesson's `wait = false`), under the name `key`.
    DioStart {
        key: String,
        file: String,
        addr: u64,
        pages: u64,
        offset: u64,
        write: bool,
    },
    /// Waits for the request `key` to complete (the lesson's bio_complete).
    DioWait {
        key: String,
    },
    /// Whether the request `key` is still in flight.
    DioPending {
        key: String,
    },
    /// Nothing: a round trip, so that the worker makes a system call (the
    /// BPF counts record a process's mm->flags at its system calls).
    Ping,
    /// A CPU load of the tag at the start of the page.
    Load {
        addr: u64,
    },
    /// fork(2); the child connects back to the controller's socket.
    Fork,
    Exit,
    /// vmsplice(2) of the pages into the FIFO at `fifo`.
    Vmsplice {
        fifo: String,
        addr: u64,
        pages: u64,
    },
    /// read(2) of everything in the FIFO, a page at a time.
    PipeRead {
        fifo: String,
    },
    /// io_uring_register(IORING_REGISTER_BUFFERS) of one buffer.
    RingRegister {
        ring: String,
        addr: u64,
        pages: u64,
    },
    RingUnregister {
        ring: String,
    },
    /// IORING_OP_WRITE_FIXED (`to_file`: memory to `file`, a device reading
    /// the buffer) or IORING_OP_READ_FIXED (file to memory, a device
    /// writing it) of `pages` pages from page `index` of the buffer.
    RingIo {
        ring: String,
        file: String,
        index: u64,
        pages: u64,
        to_file: bool,
    },
    /// O_DIRECT pread / pwrite between the pages and the file.
    Dio {
        file: String,
        addr: u64,
        pages: u64,
        offset: u64,
        write: bool,
    },
    /// Buffered pread of pages of a file (into the worker's heap).
    ReadFile {
        file: String,
        offset: u64,
        pages: u64,
    },
    /// Buffered pwrite, one tag per page.
    WriteFile {
        file: String,
        offset: u64,
        tags: Vec<String>,
    },
    Fsync {
        file: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Hello {
        pid: i32,
    },
    Done,
    Mapped {
        addr: u64,
    },
    Data {
        tags: Vec<String>,
    },
    Forked {
        pid: i32,
    },
    /// Whether an O_DIRECT request is still in flight.
    Pending {
        pending: bool,
    },
    /// The call failed with this errno (its name, as the model spells it
    /// when the model knows it).
    Failed {
        call: String,
        errno: String,
    },
}

/// The tag a page holds: the bytes before the first NUL at its start; a
/// page of zeros reads as "0".
pub fn tag_of(page_start: &[u8]) -> String {
    let end = page_start.iter().position(|&b| b == 0).unwrap_or(page_start.len());
    if end == 0 {
        "0".to_string()
    } else {
        String::from_utf8_lossy(&page_start[..end]).into_owned()
    }
}

/// At most this many bytes of a tag are stored (the rest is cut).
pub const TAG_MAX: usize = 255;

/// The bytes a store writes: the tag and a NUL.
pub fn tag_bytes(tag: &str) -> Vec<u8> {
    let mut b: Vec<u8> = tag.as_bytes().iter().copied().take(TAG_MAX).collect();
    b.push(0);
    b
}

/// A whole page holding a tag (the rest zeros), as files and devices store it.
pub fn tag_page(tag: &str) -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    let b = tag_bytes(tag);
    page[..b.len()].copy_from_slice(&b);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_zeros_read_as_0() {
        let mut page = vec![0u8; 64];
        assert_eq!(tag_of(&page), "0");
        let b = tag_bytes("ff");
        page[..b.len()].copy_from_slice(&b);
        assert_eq!(tag_of(&page), "ff");
        let long = "x".repeat(400);
        assert_eq!(tag_bytes(&long).len(), TAG_MAX + 1);
    }

    #[test]
    fn requests_are_one_json_line() {
        let r = Request::Store {
            addr: 4096,
            tags: vec!["a\nb".into()],
        };
        let s = serde_json::to_string(&r).unwrap();
        assert!(!s.contains('\n'));
        assert!(matches!(
            serde_json::from_str::<Request>(&s).unwrap(),
            Request::Store { .. }
        ));
    }
}
