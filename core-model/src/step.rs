//! Micro-steps: one kernel function each, with its source path, a sentence,
//! and the objects it touched. `Ctx` records them while an action runs.

use crate::hazard::{Hazard, HazardKind};
use crate::ids::{FileId, FolioId, Pid};
use crate::world::World;
use serde::{Deserialize, Serialize};

/// An object a micro-step or hazard is about (the GUI highlights these).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjRef {
    Folio(FolioId),
    Process(Pid),
    /// One virtual page of a process.
    Page(Pid, u64),
    File(FileId),
    Holder(String),
    Pipe(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MicroStep {
    /// Kernel function, e.g. "try_grab_folio".
    pub func: &'static str,
    /// Source file, e.g. "mm/gup.c".
    pub path: &'static str,
    pub text: String,
    /// How many pages a batched step covered (1 for a single page or none).
    pub count: u64,
    pub objects: Vec<ObjRef>,
    pub hazards: Vec<Hazard>,
}

/// Recording context of one action: the world being changed and the steps so far.
pub struct Ctx {
    pub w: World,
    /// Index the first recorded step will have in the history.
    base: usize,
    done: Vec<(MicroStep, World, crate::journal::Journal)>,
    pending: Option<MicroStep>,
    /// Key of a batchable pending step (same key: merge instead of a new step).
    pending_key: Option<String>,
    /// How many of `done` stay recorded if the action then fails
    /// (`keep_on_failure`).
    kept: usize,
}

impl Ctx {
    pub fn new(w: World, base: usize) -> Ctx {
        Ctx {
            w,
            base,
            done: Vec::new(),
            pending: None,
            pending_key: None,
            kept: 0,
        }
    }

    fn flush(&mut self) {
        if let Some(step) = self.pending.take() {
            let journal = std::mem::take(&mut self.w.journal);
            self.done.push((step, self.w.clone(), journal));
        }
        self.pending_key = None;
    }

    /// Starts a micro-step; the changes made until the next step belong to it.
    pub fn step(&mut self, func: &'static str, path: &'static str, text: impl Into<String>) {
        self.flush();
        self.pending = Some(MicroStep {
            func,
            path,
            text: text.into(),
            count: 1,
            objects: Vec::new(),
            hazards: Vec::new(),
        });
    }

    /// Like `step`, but consecutive calls with the same key merge into one
    /// step that counts the pages it covered (a loop over a range of pages).
    pub fn step_batch(&mut self, func: &'static str, path: &'static str, key: &str, text: impl FnOnce() -> String) {
        if self.pending_key.as_deref() == Some(key)
            && let Some(p) = self.pending.as_mut()
        {
            p.count += 1;
            return;
        }
        self.step(func, path, text());
        self.pending_key = Some(key.to_string());
    }

    /// Sets how many pages the current step covered (a range done at once).
    pub fn set_count(&mut self, n: u64) {
        if let Some(p) = self.pending.as_mut() {
            p.count = n;
        }
    }

    /// Replaces the sentence of the current step (when it is only known at the end).
    pub fn set_text(&mut self, text: String) {
        if let Some(p) = self.pending.as_mut() {
            p.text = text;
        }
    }

    /// Notes an object the current step touched (kept short for big batches).
    pub fn touch(&mut self, obj: ObjRef) {
        if let Some(p) = self.pending.as_mut()
            && p.objects.len() < 64
            && !p.objects.contains(&obj)
        {
            p.objects.push(obj);
        }
    }

    /// Index the current step will have in the history.
    pub fn step_index(&self) -> usize {
        self.base + self.done.len()
    }

    pub fn hazard(&mut self, kind: HazardKind, text: String, objects: Vec<ObjRef>) {
        if self.pending.is_none() {
            self.step("", "", "hazard");
        }
        let h = Hazard {
            kind,
            text,
            objects,
            step: self.step_index(),
        };
        self.w.hazards.push_back(h.clone());
        if let Some(p) = self.pending.as_mut() {
            p.hazards.push(h);
        }
    }

    /// What was recorded so far stays even if the action then fails with an
    /// errno, because the kernel did it before the check that refuses: e.g.
    /// mm_set_has_pinned_flag runs before check_vma_flags, and io_uring pins
    /// a buffer before it looks at the VMAs.
    pub fn keep_on_failure(&mut self) {
        self.flush();
        self.kept = self.done.len();
    }

    /// Ends recording of a failed action: the steps `keep_on_failure` kept.
    pub fn finish_failed(mut self) -> Vec<(MicroStep, World, crate::journal::Journal)> {
        self.done.truncate(self.kept);
        self.done
    }

    /// Ends recording: the steps with the world after each and what each changed.
    pub fn finish(mut self) -> (World, Vec<(MicroStep, World, crate::journal::Journal)>) {
        self.flush();
        (self.w, self.done)
    }
}
