//! What a micro-step changed: the folios it touched and the page-table
//! entries it rewrote. The world records both as it is changed, so that the
//! invariant check and the report's "changed" lines after a micro-step cost
//! what the micro-step did, not the size of the world.

use crate::ids::{FolioId, Pid};
use crate::mm::Pte;

/// One page-table entry rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PteChange {
    pub pid: Pid,
    pub vpn: u64,
    pub old: Pte,
    pub new: Pte,
}

/// Changes since the last micro-step boundary. Two journals always compare
/// equal: the journal is bookkeeping about a world, not part of its state.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    /// Folios written to (each at least once; consecutive repeats dropped).
    pub folios: Vec<FolioId>,
    pub ptes: Vec<PteChange>,
}

impl PartialEq for Journal {
    fn eq(&self, _: &Journal) -> bool {
        true
    }
}

impl Journal {
    pub fn touch(&mut self, id: FolioId) {
        if self.folios.last() != Some(&id) {
            self.folios.push(id);
        }
    }

    pub fn pte(&mut self, pid: Pid, vpn: u64, old: Pte, new: Pte) {
        if old != new {
            self.ptes.push(PteChange { pid, vpn, old, new });
        }
    }

    /// The touched folios, each once, in id order.
    pub fn touched(&self) -> Vec<FolioId> {
        let mut v = self.folios.clone();
        for c in &self.ptes {
            for p in [c.old, c.new] {
                if let Some((f, _)) = p.folio() {
                    v.push(f);
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}
