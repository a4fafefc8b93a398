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
}

#[derive(Clone, Debug)]
pub struct ActionRecord {
    pub action: Action,
    pub outcome: Outcome,
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
    check_invariants: bool,
    violations: Vec<Violation>,
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
            }],
            actions: Vec::new(),
            cursor: 0,
            check_invariants: true,
            violations: Vec::new(),
        }
    }

    /// Turns invariant checking after every micro-step on or off (it costs
    /// time proportional to the world; benchmarks turn it off).
    pub fn set_check_invariants(&mut self, on: bool) {
        self.check_invariants = on;
    }

    pub fn preset(&self) -> Preset {
        self.entries[0].world.preset
    }

    pub fn whatif(&self) -> WhatIf {
        self.entries[0].world.whatif
    }

    /// Runs an action at the cursor. Anything after the cursor is dropped
    /// first (new history branch). On error nothing changes.
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
        let own = start.whatif;
        if let Some(w) = whatif {
            start.whatif = w;
        }
        let mut ctx = Ctx::new(start, base);
        let outcome = run(&mut ctx, action)?;
        let (_, mut steps) = ctx.finish();
        for (_, w) in steps.iter_mut() {
            w.whatif = own;
        }
        let idx = self.actions.len();
        for (step, world) in steps {
            if self.check_invariants {
                let at = self.entries.len();
                for text in crate::invariants::check(&world) {
                    self.violations.push(Violation { step: at, text });
                }
            }
            self.entries.push(Entry {
                step,
                world,
                action: Some(idx),
            });
        }
        self.actions.push(ActionRecord {
            action: action.clone(),
            outcome: outcome.clone(),
            first: base,
            end: self.entries.len(),
        });
        self.cursor = self.entries.len() - 1;
        Ok(outcome)
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
