//! The timeline: every micro-step with the world after it. Going back and forth
//! is an index change; history memory grows with what changed because worlds
//! share structure (imbl).

use crate::action::{Action, Outcome, run};
use crate::error::KResult;
use crate::preset::Preset;
use crate::step::{Ctx, MicroStep};
use crate::whatif::WhatIf;
use crate::world::World;

#[derive(Clone, Debug)]
pub struct Entry {
    pub step: MicroStep,
    pub world: World,
    /// Index into `Sim::actions` of the action this step belongs to.
    pub action: Option<usize>,
    /// The folios this micro-step changed or whose mappings it changed.
    pub touched: Vec<crate::ids::FolioId>,
}

/// A deliberate model bug, for testing that the checks catch one (`pinlab
/// check --inject-fault`). Never set in normal use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// After every action, one more reference on the newest live folio than
    /// its holders account for.
    RefcountDrift,
    /// A wrong rule that no invariant catches: fork copies every anonymous
    /// page at once instead of sharing it copy-on-write. Only a referee
    /// outside the model (`pinlab probe`, the real kernel) can see it.
    ForkCopies,
}

impl Fault {
    pub fn parse(s: &str) -> Option<Fault> {
        match s {
            "refcount-drift" => Some(Fault::RefcountDrift),
            "fork-copies" => Some(Fault::ForkCopies),
            _ => None,
        }
    }
}

/// How the model's invariants are checked after every micro-step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    Off,
    /// On what the micro-step touched (`tracker.rs`): the default.
    Incremental,
    /// Over the whole world (`invariants::check`): slow on big worlds.
    Full,
    /// Both, and they must agree (tests).
    Both,
}

#[derive(Clone, Debug)]
pub struct ActionRecord {
    pub action: Action,
    pub outcome: Outcome,
    /// The errno of an action that failed after the kernel had already
    /// changed something it keeps (`Ctx::keep_on_failure`).
    pub error: Option<crate::error::ActionError>,
    /// Its micro-steps are `entries[first..end]`.
    pub first: usize,
    pub end: usize,
}

/// A broken invariant: a bug in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub step: usize,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Sim {
    entries: Vec<Entry>,
    actions: Vec<ActionRecord>,
    cursor: usize,
    checks: Checks,
    tracker: Option<Box<crate::tracker::Tracker>>,
    violations: Vec<Violation>,
    fault: Option<Fault>,
}

impl Sim {
    pub fn new(preset: Preset) -> Sim {
        Sim::with_whatif(preset, WhatIf::default())
    }

    /// A timeline under a preset with what-if toggles.
    pub fn with_whatif(preset: Preset, whatif: WhatIf) -> Sim {
        let boot = MicroStep {
            func: "start_kernel",
            path: "init/main.c",
            text: if whatif == WhatIf::default() {
                format!("Boot a {} kernel: only the shared zero page exists.", preset.name())
            } else {
                format!(
                    "Boot a {} kernel with what-if toggles {}: only the shared zero page exists.",
                    preset.name(),
                    whatif.names().join(", ")
                )
            },
            count: 1,
            objects: Vec::new(),
            hazards: Vec::new(),
        };
        Sim {
            entries: vec![Entry {
                step: boot,
                world: World::new(preset, whatif),
                action: None,
                touched: Vec::new(),
            }],
            actions: Vec::new(),
            cursor: 0,
            checks: Checks::Incremental,
            tracker: None,
            violations: Vec::new(),
            fault: None,
        }
    }

    /// Turns invariant checking after every micro-step on (incremental) or off.
    pub fn set_check_invariants(&mut self, on: bool) {
        self.set_checks(if on { Checks::Incremental } else { Checks::Off });
    }

    pub fn set_checks(&mut self, checks: Checks) {
        self.checks = checks;
    }

    pub fn checks(&self) -> Checks {
        self.checks
    }

    /// Breaks the model on purpose (see `Fault`).
    pub fn inject_fault(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    pub fn preset(&self) -> Preset {
        self.entries[0].world.preset
    }

    pub fn whatif(&self) -> WhatIf {
        self.entries[0].world.whatif
    }

    /// Runs an action at the cursor. Anything after the cursor is dropped
    /// first (new history branch). On error nothing changes, except what the
    /// kernel does before it refuses (`Ctx::keep_on_failure`).
    pub fn apply(&mut self, action: &Action) -> KResult<Outcome> {
        self.apply_with(action, None)
    }

    /// Runs an action with other what-if toggles for this action only (a
    /// lesson step's `whatif`); the worlds it records keep the timeline's own.
    pub fn apply_with(&mut self, action: &Action, whatif: Option<WhatIf>) -> KResult<Outcome> {
        if self.cursor + 1 < self.entries.len() {
            self.truncate_after_cursor();
        }
        let base = self.entries.len();
        let mut start = self.entries[base - 1].world.clone();
        start.fault = self.fault;
        let own = start.whatif;
        if let Some(w) = whatif {
            start.whatif = w;
        }
        let mut ctx = Ctx::new(start, base);
        let (result, mut steps) = match run(&mut ctx, action) {
            Ok(outcome) => (Ok(outcome), ctx.finish().1),
            // An invalid request changes nothing; a kernel refusal keeps what
            // the kernel did before it refused.
            Err(e @ crate::error::ActionError::Invalid(_)) => return Err(e),
            Err(e) => {
                let kept = ctx.finish_failed();
                if kept.is_empty() {
                    return Err(e);
                }
                (Err(e), kept)
            }
        };
        for (_, w, _) in steps.iter_mut() {
            w.whatif = own;
        }
        if let (Some(Fault::RefcountDrift), Some((_, w, journal))) = (self.fault, steps.last_mut())
            && let Some((id, _)) = w.live_folios().filter(|(id, _)| *id != crate::ids::ZERO_FOLIO).last()
        {
            w.folio_mut(id).refcount += 1;
            journal.touch(id);
            w.journal = Default::default();
        }
        let idx = self.actions.len();
        let incremental = matches!(self.checks, Checks::Incremental | Checks::Both);
        if !incremental {
            // Stale as soon as a step goes unchecked: rebuilt when needed.
            self.tracker = None;
        }
        if incremental && self.tracker.is_none() {
            let prev = &self.entries[base - 1].world;
            self.tracker = Some(Box::new(crate::tracker::Tracker::new(prev)));
        }
        for (step, world, journal) in steps {
            let at = self.entries.len();
            if let Some(t) = self.tracker.as_mut().filter(|_| incremental) {
                for text in t.step(&world, &journal) {
                    self.violations.push(Violation { step: at, text });
                }
            }
            if matches!(self.checks, Checks::Full | Checks::Both) {
                for text in crate::invariants::check(&world) {
                    let text = if self.checks == Checks::Both {
                        format!("(full check) {text}")
                    } else {
                        text
                    };
                    self.violations.push(Violation { step: at, text });
                }
            }
            self.entries.push(Entry {
                step,
                world,
                action: Some(idx),
                touched: journal.touched(),
            });
        }
        self.actions.push(ActionRecord {
            action: action.clone(),
            outcome: result.clone().unwrap_or_default(),
            error: result.as_ref().err().cloned(),
            first: base,
            end: self.entries.len(),
        });
        self.cursor = self.entries.len() - 1;
        result
    }

    fn truncate_after_cursor(&mut self) {
        // Keep whole actions only: cut back to the end of the last action
        // that finished at or before the cursor.
        let keep_actions = self.actions.iter().take_while(|a| a.end <= self.cursor + 1).count();
        let keep_entries = self
            .actions
            .get(keep_actions.wrapping_sub(1))
            .map(|a| a.end)
            .unwrap_or(1);
        self.actions.truncate(keep_actions);
        self.entries.truncate(keep_entries);
        self.violations.retain(|v| v.step < keep_entries);
        self.cursor = keep_entries - 1;
        // The counts follow the newest world: rebuilt from the kept one.
        self.tracker = None;
    }

    /// The world at the cursor.
    pub fn world(&self) -> &World {
        &self.entries[self.cursor].world
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn actions(&self) -> &[ActionRecord] {
        &self.actions
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Moves the cursor to micro-step `i` (clamped).
    pub fn seek(&mut self, i: usize) {
        self.cursor = i.min(self.entries.len() - 1);
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}
