//! Holders of GUP references and pins, pipes and io_uring rings.

use crate::ids::{FolioId, Pid};
use serde::{Deserialize, Serialize};

/// How a holder keeps its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grab {
    /// FOLL_GET: a plain reference per page.
    Ref,
    /// FOLL_PIN: a pin per page (bias or pincount).
    Pin,
    /// Just listed: no reference, no pin. Whoever submitted the pages must
    /// keep them alive (kernel-backed iterators, writeback of page cache).
    List,
}

/// Who holds the pages (for display and for the release path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HolderKind {
    /// A driver that called get_user_pages / pin_user_pages directly.
    Gup,
    /// io_uring fixed buffers (IORING_REGISTER_BUFFERS).
    IoUring,
    /// An RDMA memory region (ib_umem_get).
    Rdma,
    /// The page list an iov_iter extraction returned.
    IovIter,
    /// A bio in flight (direct IO, a kernel buffer, writeback).
    Bio,
}

/// One page a holder has, and where it came from (to detect incoherence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPage {
    pub folio: FolioId,
    pub page: u16,
    /// Process and virtual page the GUP walked: the page the owner means
    /// (None for kernel and page-cache pages).
    pub owner: Option<Pid>,
    pub vpn: u64,
    /// Nothing is held for this page: a pretend pin of the zero page (6.5+),
    /// or a page whose pin io_uring dropped because one pin on its folio
    /// covers the whole buffer (6.3+). The holder still uses the page.
    pub no_grab: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub name: String,
    pub kind: HolderKind,
    pub grab: Grab,
    pub write: bool,
    pub longterm: bool,
    /// Micro-step index at which the pages were taken ("why is it alive").
    pub taken_at: usize,
    pub pages: Vec<HeldPage>,
    /// Set when the holder is a bio.
    pub bio: Option<crate::bio::BioInfo>,
    /// The iterator iov_iter_extract_pages walked, for its holder: what
    /// iov_iter_extract_will_pin answers for it.
    #[serde(default)]
    pub extracted_from: Option<crate::iov_iter::IterKind>,
}

impl Holder {
    /// iov_iter_extract_will_pin for the pages this holder got: for an
    /// extraction, whether its iterator is user-backed; for a bio, whether it
    /// was flagged BIO_PAGE_PINNED. None for other holders.
    pub fn will_pin(&self) -> Option<bool> {
        match (&self.extracted_from, &self.bio) {
            (Some(k), _) => Some(k.user_backed()),
            (None, Some(b)) => Some(b.flags.page_pinned),
            (None, None) => None,
        }
    }
}

/// A pipe buffer: vmsplice puts user pages in with a reference each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeBuf {
    pub folio: FolioId,
    pub page: u16,
    /// The process whose memory was spliced in: what it wrote there, it sent.
    pub sender: crate::ids::Pid,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pipe {
    pub name: String,
    pub bufs: Vec<PipeBuf>,
}
