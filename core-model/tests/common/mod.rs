//! Small helpers so that scenario tests read like the lessons they back.
#![allow(dead_code)]

use pinlab_model::mm::Pte;
use pinlab_model::*;

pub struct T {
    pub sim: Sim,
}

impl T {
    /// A timeline that checks every invariant both ways (incremental and
    /// full) after every micro-step.
    pub fn new(p: Preset) -> T {
        let mut sim = Sim::new(p);
        sim.set_checks(Checks::Both);
        T { sim }
    }

    pub fn w(&self) -> &World {
        self.sim.world()
    }

    /// Applies an action that must succeed and keep every invariant.
    pub fn ok(&mut self, a: Action) -> Outcome {
        let out = self
            .sim
            .apply(&a)
            .unwrap_or_else(|e| panic!("{a:?} failed under {}: {e}", self.sim.preset()));
        assert!(
            self.sim.violations().is_empty(),
            "invariants broken after {a:?}: {:?}",
            &self.sim.violations()[..self.sim.violations().len().min(4)]
        );
        out
    }

    pub fn err(&mut self, a: Action) -> ActionError {
        let before = self.sim.len();
        let e = self.sim.apply(&a).expect_err("action should fail");
        assert_eq!(self.sim.len(), before, "a failed action recorded steps");
        e
    }

    /// An action the kernel refuses after doing something it keeps
    /// (`Ctx::keep_on_failure`): the error and the micro-steps recorded.
    pub fn err_keeping(&mut self, a: Action) -> (ActionError, usize) {
        let before = self.sim.len();
        let e = self.sim.apply(&a).expect_err("action should fail");
        assert!(
            self.sim.violations().is_empty(),
            "invariants broken after {a:?}: {:?}",
            &self.sim.violations()[..self.sim.violations().len().min(4)]
        );
        (e, self.sim.len() - before)
    }

    pub fn spawn(&mut self, name: &str) {
        self.ok(Action::Spawn { name: name.into() });
    }

    pub fn mmap(&mut self, proc: &str, vma: &str, pages: u64, args: MmapArgs) {
        self.ok(Action::Mmap {
            proc: proc.into(),
            vma: vma.into(),
            args: MmapArgs { pages, ..args },
        });
    }

    pub fn anon(&mut self, proc: &str, vma: &str, pages: u64) {
        self.mmap(
            proc,
            vma,
            pages,
            MmapArgs {
                write: true,
                ..Default::default()
            },
        );
    }

    pub fn write(&mut self, proc: &str, vma: &str, page: u64, data: &str) {
        self.ok(Action::Write {
            proc: proc.into(),
            vma: vma.into(),
            page,
            data: data.into(),
            pages: None,
        });
    }

    pub fn read(&mut self, proc: &str, vma: &str, page: u64) -> String {
        self.ok(Action::Read {
            proc: proc.into(),
            vma: vma.into(),
            page,
        })
        .data
        .remove(0)
    }

    pub fn fork(&mut self, parent: &str, child: &str) {
        self.ok(Action::Fork {
            parent: parent.into(),
            child: child.into(),
        });
    }

    pub fn gup(&mut self, proc: &str, vma: &str, start: u64, pages: u64, holder: &str, flags: GupFlags) {
        self.ok(Action::Gup {
            proc: proc.into(),
            vma: vma.into(),
            start,
            pages,
            holder: holder.into(),
            flags,
            count: 1,
        });
    }

    pub fn pin(&mut self, proc: &str, vma: &str, page: u64, holder: &str, write: bool) {
        self.gup(
            proc,
            vma,
            page,
            1,
            holder,
            GupFlags {
                pin: true,
                write,
                ..Default::default()
            },
        );
    }

    pub fn get(&mut self, proc: &str, vma: &str, page: u64, holder: &str, write: bool) {
        self.gup(
            proc,
            vma,
            page,
            1,
            holder,
            GupFlags {
                pin: false,
                write,
                ..Default::default()
            },
        );
    }

    pub fn release(&mut self, holder: &str, dirty: bool) {
        self.ok(Action::Release {
            holder: holder.into(),
            dirty,
        });
    }

    pub fn device_write(&mut self, holder: &str, data: &str) {
        self.ok(Action::DeviceWrite {
            holder: holder.into(),
            data: data.into(),
            index: None,
        });
    }

    pub fn device_read(&mut self, holder: &str) -> Vec<String> {
        self.ok(Action::DeviceRead {
            holder: holder.into(),
            index: None,
        })
        .data
    }

    pub fn vpn(&self, proc: &str, vma: &str, page: u64) -> (Pid, u64) {
        let pid = self.w().pid_of(proc).unwrap();
        (pid, self.w().resolve(pid, vma, page).unwrap())
    }

    pub fn pte(&self, proc: &str, vma: &str, page: u64) -> Pte {
        let (pid, vpn) = self.vpn(proc, vma, page);
        self.w().pte(pid, vpn)
    }

    /// The folio `proc:vma[page]` maps now.
    pub fn folio_id(&self, proc: &str, vma: &str, page: u64) -> FolioId {
        self.pte(proc, vma, page).folio().expect("page is mapped").0
    }

    pub fn folio(&self, proc: &str, vma: &str, page: u64) -> Folio {
        self.w().folio(self.folio_id(proc, vma, page)).clone()
    }

    pub fn ae(&self, proc: &str, vma: &str, page: u64) -> bool {
        let (id, pg) = self.pte(proc, vma, page).folio().unwrap();
        self.w().folio(id).pages[pg].anon_exclusive
    }

    pub fn hazards(&self) -> Vec<HazardKind> {
        self.w().hazards.iter().map(|h| h.kind).collect()
    }
}

pub fn pin_rw() -> GupFlags {
    GupFlags {
        pin: true,
        write: true,
        ..Default::default()
    }
}

impl T {
    pub fn file(&mut self, name: &str, fs: FsKind, pages: u64, data: &[&str]) {
        self.ok(Action::CreateFile {
            name: name.into(),
            fs,
            pages,
            data: data.iter().map(|s| s.to_string()).collect(),
        });
    }

    pub fn map_file(&mut self, proc: &str, vma: &str, file: &str, pages: u64, shared: bool) {
        self.mmap(
            proc,
            vma,
            pages,
            MmapArgs {
                file: Some(file.into()),
                shared,
                write: true,
                ..Default::default()
            },
        );
    }

    pub fn dio_read(&mut self, proc: &str, vma: &str, file: &str, offset: u64, bio: &str, wait: bool) {
        self.ok(Action::DioRead {
            proc: proc.into(),
            vma: vma.into(),
            start: 0,
            pages: 1,
            file: file.into(),
            offset,
            bio: bio.into(),
            wait,
        });
    }

    pub fn complete(&mut self, bio: &str) {
        self.ok(Action::BioComplete { bio: bio.into() });
    }

    pub fn disk(&self, file: &str, block: usize) -> String {
        let id = self.w().file_id(file).unwrap();
        self.w().file(id).disk[block].tag().to_string()
    }

    pub fn cache_folio(&self, file: &str, index: u64) -> FolioId {
        let id = self.w().file_id(file).unwrap();
        *self.w().file(id).cache.get(&index).expect("cached")
    }

    pub fn has(&self, k: HazardKind) -> bool {
        self.hazards().contains(&k)
    }
}

pub fn with(p: Preset, whatif: &[&str]) -> T {
    let mut w = WhatIf::default();
    for n in whatif {
        w.set(n).unwrap();
    }
    let mut sim = Sim::with_whatif(p, w);
    sim.set_checks(Checks::Both);
    T { sim }
}
