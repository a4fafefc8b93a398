//! One lesson, twice: in the model and on the machine, step by step.

use crate::compare::{self, LivePage, LiveStep, ModelPage};
use crate::counts::KernelCounts;
use crate::env::Machine;
use crate::known::Known;
use crate::live::{Live, Perf};
use crate::report::{Check, Performed, ProbeReport, ProbeStep, Source, Verdict};
use pinlab_lessons::Lesson;
use pinlab_lessons::address::Address;
use pinlab_lessons::expect::{StepOutcome, Subject, What, observe};
use pinlab_model::{Checks, Preset, Sim, WhatIf, World};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Pages the probe observes per step, at most.
const MAX_PAGES: usize = 128;
/// Of each mapping, the first pages observed even where the lesson names
/// none of them: the model predicts every page, not only the named ones.
const PAGES_PER_MAPPING: u64 = 32;
/// The live run refuses lessons that would map more than this.
pub const MAX_LIVE_BYTES: u64 = 256 << 20;

pub struct ProbeOptions {
    /// The `pinlab` executable (workers run `pinlab probe-worker`).
    pub exe: PathBuf,
    /// How long one step may take.
    pub step_timeout: Duration,
    pub known: Known,
    /// Set by Ctrl-C: the probe stops after the current step and cleans up.
    pub interrupted: Arc<AtomicBool>,
    /// A deliberately wrong model rule (tests: the probe must catch it).
    pub fault: Option<pinlab_model::Fault>,
}

pub struct Probe {
    pub machine: Machine,
    pub preset: Preset,
    /// Why the preset is only the nearest one, when it is.
    pub preset_note: Option<String>,
    opts: ProbeOptions,
    /// Refcounts, pincounts and MMF_HAS_PINNED through BPF, or why not.
    counts: Result<std::sync::Mutex<KernelCounts>, String>,
}

/// "6.18.44-fc" -> (6, 18).
fn major_minor(release: &str) -> (u32, u32) {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok());
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The lesson's processes, and the pages to observe: the ones it names
/// first (their count is the third value), then its mappings' first pages.
fn page_addresses(lesson: &Lesson) -> (Vec<String>, Vec<(String, u64)>, usize) {
    let mut procs: Vec<String> = Vec::new();
    let mut pages: BTreeSet<(String, u64)> = BTreeSet::new();
    fn add(pages: &mut BTreeSet<(String, u64)>, a: &Address) {
        if let Address::Page { vma, page, .. } = a {
            pages.insert((vma.clone(), *page));
        }
    }
    for s in &lesson.steps {
        use pinlab_model::action::Action as A;
        match &s.action {
            A::Spawn { name } => procs.push(name.clone()),
            A::Fork { child, .. } => procs.push(child.clone()),
            A::Write { vma, page, .. } | A::Read { vma, page, .. } => {
                pages.insert((vma.clone(), *page));
            }
            _ => {}
        }
        for e in &s.expect {
            match &e.subject {
                Subject::At(a) => add(&mut pages, a),
                Subject::Pair(a, b) => {
                    add(&mut pages, a);
                    add(&mut pages, b);
                }
                _ => {}
            }
        }
        for f in &s.focus {
            add(&mut pages, f);
        }
    }
    // Every mapping's first pages after the named ones, so that the cap
    // never drops a page the lesson names.
    let mut all: Vec<(String, u64)> = pages.iter().cloned().collect();
    let mut more: BTreeSet<(String, u64)> = BTreeSet::new();
    for s in &lesson.steps {
        if let pinlab_model::action::Action::Mmap { vma, args, .. } = &s.action {
            for p in 0..args.pages.min(PAGES_PER_MAPPING) {
                if !pages.contains(&(vma.clone(), p)) {
                    more.insert((vma.clone(), p));
                }
            }
        }
    }
    let named = all.len();
    all.extend(more);
    (procs, all, named)
}

/// Bytes the lesson maps in all (its mmaps), to refuse big ones.
fn mapped_bytes(lesson: &Lesson) -> u64 {
    lesson
        .steps
        .iter()
        .map(|s| match &s.action {
            pinlab_model::action::Action::Mmap { args, .. } => args.pages.saturating_mul(4096),
            pinlab_model::action::Action::CreateFile { pages, .. } => pages.saturating_mul(4096),
            _ => 0,
        })
        .fold(0u64, u64::saturating_add)
}

fn skipped(source: Source, what: &str, subject: String, model: String, why: &str, line: Option<usize>) -> Check {
    Check {
        source,
        what: what.into(),
        subject,
        model,
        live: "-".into(),
        verdict: Verdict::Skipped(why.into()),
        line,
        holds_live: None,
    }
}

fn result_text(r: &Result<Vec<String>, String>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.clone(),
    }
}

impl Probe {
    pub fn new(opts: ProbeOptions) -> Result<Probe, String> {
        let machine = Machine::detect()?;
        let m = Preset::for_release(&machine.release)?;
        // Orphaned forked workers come back to us to be reaped.
        let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
        let counts = KernelCounts::open(major_minor(&machine.release)).map(std::sync::Mutex::new);
        Ok(Probe {
            preset: m.preset,
            preset_note: m.note,
            machine,
            opts,
            counts,
        })
    }

    /// Why refcounts are not read, when they are not.
    pub fn counts_unavailable(&self) -> Option<&str> {
        self.counts.as_ref().err().map(String::as_str)
    }

    /// Probes a lesson. A lesson that disagrees anywhere is run again, up
    /// to three times in all: the vmstat counters are global (another
    /// process can move them), and the kernel works asynchronously (a
    /// shrinker may split a partly mapped THP at any time); a model that is
    /// wrong disagrees every time. What disagreed in an earlier run is kept
    /// in the report's notes, so a rerun hides nothing.
    pub fn probe(&self, lesson: &Lesson) -> ProbeReport {
        let mut runs = 1;
        let mut report = self.probe_once(lesson);
        let disagreements = |r: &ProbeReport| -> Vec<String> {
            r.steps
                .iter()
                .flat_map(|s| s.checks.iter().map(move |c| (s.step, c)))
                .filter(|(_, c)| c.verdict == Verdict::Disagree)
                .map(|(n, c)| {
                    format!(
                        "step {n} {}({}): model {} | live {}",
                        c.what, c.subject, c.model, c.live
                    )
                })
                .collect()
        };
        let mut earlier = Vec::new();
        while runs < 3 && !self.opts.interrupted.load(Ordering::Relaxed) {
            let bad = disagreements(&report);
            if bad.is_empty() {
                break;
            }
            earlier.push(format!(
                "run {runs} disagreed: {}",
                bad.into_iter().take(3).collect::<Vec<_>>().join("; ")
            ));
            runs += 1;
            report = self.probe_once(lesson);
        }
        if runs > 1 {
            report.notes.push(format!(
                "run {runs} times (another process or the kernel's asynchronous work can disturb a run; a wrong model disagrees every time)"
            ));
            report.notes.extend(earlier);
        }
        report
    }

    fn probe_once(&self, lesson: &Lesson) -> ProbeReport {
        let mut report = ProbeReport {
            lesson: lesson.id.clone(),
            title: lesson.title.clone(),
            release: self.machine.release.clone(),
            kernel: self.preset.name().into(),
            steps: Vec::new(),
            totals: Default::default(),
            notes: self.preset_note.iter().cloned().collect(),
        };
        let stop_all = if lesson.whatif != WhatIf::default() {
            Some(format!(
                "the lesson turns on what-if toggles ({}) that no released kernel has",
                lesson.whatif.names().join(", ")
            ))
        } else if mapped_bytes(lesson) > MAX_LIVE_BYTES {
            Some(format!(
                "the lesson maps {} MiB; the live run is limited to {} MiB",
                mapped_bytes(lesson) >> 20,
                MAX_LIVE_BYTES >> 20
            ))
        } else {
            None
        };
        let mut live = match &stop_all {
            Some(_) => None,
            None => match Live::new(&self.machine, &self.opts.exe, self.opts.step_timeout) {
                Ok(l) => Some(l),
                Err(e) => {
                    report.notes.push(format!("cannot run live: {e}"));
                    None
                }
            },
        };
        let mut stopped: Option<String> = stop_all
            .clone()
            .or_else(|| live.is_none().then(|| "cannot run live".into()));
        if let Some(why) = &stop_all {
            report.notes.push(why.clone());
        }
        let (procs, pages, named) = page_addresses(lesson);
        let mut sim = Sim::with_whatif(self.preset, lesson.whatif);
        sim.set_checks(Checks::Incremental);
        if let Some(f) = self.opts.fault {
            sim.inject_fault(f);
        }
        let mut labels: HashMap<String, (pinlab_model::FolioId, usize)> = HashMap::new();
        let mut live_labels: HashMap<String, u64> = HashMap::new();
        let vm_start = crate::observe::vmstat().unwrap_or_default();
        let mut last_mapcounts: HashMap<u64, u64> = HashMap::new();
        let mut last_counts: HashMap<u64, (i64, Option<i64>)> = HashMap::new();
        let mut counts = self
            .counts
            .as_ref()
            .ok()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()));
        if let Err(why) = &self.counts {
            report.notes.push(format!("refcounts are not read: {why}"));
        }
        for (i, step) in lesson.steps.iter().enumerate() {
            let n = i + 1;
            if self.opts.interrupted.load(Ordering::Relaxed) {
                report.notes.push(format!("interrupted before step {n}"));
                break;
            }
            if !step.runs_under(self.preset) {
                report.steps.push(ProbeStep {
                    step: n,
                    line: step.line,
                    action: step.action_text.clone(),
                    model_result: "not run".into(),
                    performed: Performed::Skipped("the step does not run under this kernel".into()),
                    checks: Vec::new(),
                });
                continue;
            }
            let before = sim.world().clone();
            let result = sim.apply_with(&step.action, step.whatif);
            let after = sim.world().clone();
            for (name, addr) in &step.labels {
                if let Ok(fp) = pinlab_lessons::expect::resolve_folio(&after, &labels, addr) {
                    labels.insert(name.clone(), fp);
                }
            }
            let model_res: Result<Vec<String>, String> = match &result {
                Ok(o) => Ok(o.data.clone()),
                Err(e) => Err(e.errno().map(|e| e.name().to_string()).unwrap_or_else(|| e.to_string())),
            };
            let outcome = StepOutcome {
                before: &before,
                world: &after,
                labels: &labels,
                errno: result.as_ref().err().and_then(|e| e.errno()),
                hazards: after
                    .hazards
                    .iter()
                    .skip(before.hazards.len())
                    .map(|h| h.kind)
                    .collect(),
            };
            let mut ps = ProbeStep {
                step: n,
                line: step.line,
                action: step.action_text.clone(),
                model_result: result_text(&model_res),
                performed: Performed::Skipped(String::new()),
                checks: Vec::new(),
            };
            let expectations: Vec<_> = step.expect.iter().filter(|e| e.applies(self.preset)).collect();
            let skip_all = |ps: &mut ProbeStep, why: &str| {
                for e in &expectations {
                    let model = observe(e.what, &e.subject, &outcome)
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    ps.checks.push(skipped(
                        Source::Expect,
                        e.what.key(),
                        subject_text(&e.subject),
                        model,
                        why,
                        Some(e.line),
                    ));
                }
            };
            if let Some(why) = &stopped {
                ps.performed = Performed::Skipped(why.clone());
                skip_all(&mut ps, why);
                report.steps.push(ps);
                continue;
            }
            let Some(l) = live.as_mut() else { continue };
            if step.whatif.is_some() {
                let why = "the step turns on a what-if toggle no released kernel has";
                ps.performed = Performed::ModelOnly(why.into());
                skip_all(&mut ps, why);
                stopped = Some(format!("follows step {n}, which ran in the model only"));
                report.steps.push(ps);
                continue;
            }
            let vm_before = crate::observe::vmstat().unwrap_or_default();
            let perf = l.perform(&self.machine, &step.action, &before);
            let live_res = match perf {
                Perf::ModelOnly(why) => {
                    skip_all(&mut ps, &format!("model only: {why}"));
                    ps.performed = Performed::ModelOnly(why);
                    stopped = Some(format!(
                        "follows step {n} ({}), which ran in the model only",
                        step.action.kind()
                    ));
                    report.steps.push(ps);
                    continue;
                }
                Perf::NotPerformable(why) => {
                    skip_all(&mut ps, &format!("not performable here: {why}"));
                    ps.performed = Performed::NotPerformable(why);
                    stopped = Some(format!(
                        "follows step {n} ({}), which could not be performed here",
                        step.action.kind()
                    ));
                    report.steps.push(ps);
                    continue;
                }
                Perf::Done(r) => r,
            };
            ps.performed = Performed::Live(result_text(&live_res));
            // Observe.
            let mut obs = LiveStep {
                mapcount_before: last_mapcounts.clone(),
                counts_before: last_counts.clone(),
                errno: live_res.as_ref().err().cloned(),
                counts_unavailable: self.counts.as_ref().err().cloned(),
                ..LiveStep::default()
            };
            let model_vm = |w: &World, k: &str| w.vmstat.get(k).unwrap_or(0) as i64;
            let mut vm_after = crate::observe::vmstat().unwrap_or_default();
            // Asynchronous teardown (an io_uring ring freed by its last
            // fd's close runs in a workqueue): give counters up to a
            // second to reach the model's value before comparing.
            for _ in 0..100 {
                let settled = compare::VMSTAT_COUNTERS.iter().all(|k| {
                    let d = *vm_after.get(*k).unwrap_or(&0) as i64 - *vm_before.get(*k).unwrap_or(&0) as i64;
                    d == model_vm(&after, k) - model_vm(&before, k)
                });
                if settled {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
                vm_after = crate::observe::vmstat().unwrap_or_default();
            }
            for k in compare::VMSTAT_COUNTERS {
                let d = *vm_after.get(k).unwrap_or(&0) as i64 - *vm_before.get(k).unwrap_or(&0) as i64;
                obs.vmstat_delta.insert(k.to_string(), d);
                if d != model_vm(&after, k) - model_vm(&before, k) {
                    // Did it move with pinlab idle? Then others use it.
                    let a = crate::observe::vmstat().unwrap_or_default();
                    std::thread::sleep(Duration::from_millis(50));
                    let b = crate::observe::vmstat().unwrap_or_default();
                    if a.get(k) != b.get(k) {
                        obs.disturbed.insert(k.to_string());
                    }
                }
            }
            let mut observed: Vec<(String, ModelPage, LivePage)> = Vec::new();
            let mut named_observed = 0;
            let (first, rest) = pages.split_at(named);
            'outer: for (p, (vma, page)) in [first, rest]
                .into_iter()
                .flat_map(|part| procs.iter().flat_map(move |p| part.iter().map(move |vp| (p, vp))))
            {
                if observed.len() >= MAX_PAGES {
                    break 'outer;
                }
                let Some(m) = compare::model_page(&after, p, vma, *page) else {
                    continue;
                };
                let Some(lp) = l.observe(p, vma, *page) else {
                    continue;
                };
                observed.push((format!("{p}:{vma}[{page}]"), m, lp));
                if pages[..named].contains(&(vma.clone(), *page)) {
                    named_observed = observed.len();
                }
            }
            last_mapcounts = observed
                .iter()
                .filter_map(|(_, _, lp)| Some((lp.entry.pfn()?, lp.mapcount?)))
                .collect();
            for k in compare::VMSTAT_COUNTERS {
                let d = *vm_after.get(k).unwrap_or(&0) as i64 - *vm_start.get(k).unwrap_or(&0) as i64;
                obs.vmstat_since_start.insert(k.to_string(), d);
            }
            for (name, addr) in &step.labels {
                if let Address::Page { proc, vma, page } = addr
                    && let Some(pfn) = l.observe(proc, vma, *page).and_then(|p| p.entry.pfn())
                {
                    live_labels.insert(name.clone(), pfn);
                }
            }
            // A label's frame is looked at only while the model says its
            // folio lives: a freed frame may already hold something else.
            for (name, pfn) in &live_labels {
                let alive = labels.get(name).is_some_and(|(id, _)| !after.folio(*id).freed);
                if alive && let Some(p) = l.frame(*pfn) {
                    obs.labels.insert(name.clone(), p);
                }
            }
            for e in &expectations {
                match &e.subject {
                    Subject::At(Address::Pipe(name)) => {
                        if let Some(tags) = l.peek_pipe(name) {
                            obs.pipes.insert(name.clone(), tags);
                        }
                    }
                    Subject::At(Address::Holder { name, index: None }) if e.what == What::Data => {
                        if let Some(tags) = l.peek_ring(name) {
                            obs.rings.insert(name.clone(), tags);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(k) = counts.as_mut() {
                read_counts(k, l, &procs, &mut observed, &mut obs);
                last_counts = observed
                    .iter()
                    .filter_map(|(_, _, lp)| Some((lp.head?, (lp.refcount?, lp.pincount))))
                    .collect();
            }
            // A request held in flight that completed while the step was
            // observed: what was seen may be after its completion.
            if let Some(why) = l.lost_in_flight() {
                skip_all(&mut ps, &format!("not performable here: {why}"));
                ps.performed = Performed::NotPerformable(why);
                stopped = Some(format!(
                    "follows step {n}, where the live run could not keep up with the lesson"
                ));
                report.steps.push(ps);
                continue;
            }
            obs.pages = observed.iter().map(|(a, _, lp)| (a.clone(), lp.clone())).collect();
            // The step's own result, and the data it returned.
            let mut res = Check {
                source: Source::Predicted,
                what: "result".into(),
                subject: step.action.kind().into(),
                model: result_text(&model_res),
                live: result_text(&live_res),
                verdict: Verdict::Agree,
                line: None,
                holds_live: None,
            };
            let model_failed_invalid = matches!(&result, Err(e) if e.errno().is_none());
            res.verdict = if model_failed_invalid {
                Verdict::Skipped(
                    "the model refused the request as invalid (the lesson asks for something that does not exist)"
                        .into(),
                )
            } else if res.model == res.live {
                Verdict::Agree
            } else {
                Verdict::Disagree
            };
            let diverged = res.verdict == Verdict::Disagree;
            ps.checks.push(res);
            if let (Ok(md), Ok(ld)) = (&model_res, &live_res)
                && (!md.is_empty() || !ld.is_empty())
            {
                let mut c = compare_text("returned", step.action.kind(), md.join(","), ld.join(","));
                c.source = Source::Predicted;
                ps.checks.push(c);
            }
            // The lesson's own expectations.
            for e in &expectations {
                let model = observe(e.what, &e.subject, &outcome).map(|v| v.to_string());
                let (live_v, holds) = if e.what == What::Errno {
                    let v = obs.errno.clone().unwrap_or_else(|| "ok".into());
                    (Ok(v.clone()), None)
                } else {
                    match compare::live_value(e.what, &e.subject, &obs) {
                        Ok(v) => {
                            let holds = e.cmp.as_ref().map(|c| c.holds(&v));
                            (Ok(v.to_string()), holds)
                        }
                        Err(why) => (Err(why), None),
                    }
                };
                let model_shown = if e.what == What::Errno {
                    Ok(outcome
                        .errno
                        .map(|e| e.name().to_string())
                        .unwrap_or_else(|| "ok".into()))
                } else {
                    model
                };
                let c = match (model_shown, live_v) {
                    (Ok(m), Ok(lv)) => {
                        let mut c = compare_text(e.what.key(), &subject_text(&e.subject), m, lv);
                        c.line = Some(e.line);
                        c.holds_live = holds;
                        c
                    }
                    (Err(why), _) => skipped(
                        Source::Expect,
                        e.what.key(),
                        subject_text(&e.subject),
                        "-".into(),
                        &format!("the model cannot evaluate it: {why}"),
                        Some(e.line),
                    ),
                    (Ok(m), Err(why)) => skipped(
                        Source::Expect,
                        e.what.key(),
                        subject_text(&e.subject),
                        m,
                        &format!("not observable: {why}"),
                        Some(e.line),
                    ),
                };
                ps.checks.push(c);
            }
            // The model's predictions for every page the lesson names.
            // A folio's counts once per step, at the first of its pages.
            let mut counted: BTreeSet<u64> = BTreeSet::new();
            for (a, m, lp) in &observed {
                let first = lp.head.is_none_or(|h| counted.insert(h));
                ps.checks.extend(
                    compare::page_checks(a, m, lp)
                        .into_iter()
                        .filter(|c| first || !matches!(c.what.as_str(), "refcount" | "pincount")),
                );
            }
            let trio: Vec<(String, &ModelPage, &LivePage)> =
                observed.iter().map(|(a, m, lp)| (a.clone(), m, lp)).collect();
            ps.checks.extend(compare::same_folio_checks(&trio, named_observed));
            ps.checks.extend(compare::vmstat_checks(&before, &after, &obs));
            ps.checks.extend(compare::has_pinned_checks(&after, &obs));
            self.opts.known.apply(&lesson.id, &self.machine.release, &mut ps.checks);
            report.steps.push(ps);
            if diverged {
                stopped = Some(format!("the live run diverged from the model at step {n}"));
            }
        }
        if !sim.violations().is_empty() {
            report.notes.push(format!(
                "the model broke {} invariant(s): a pinlab bug",
                sim.violations().len()
            ));
        }
        drop(live);
        report.recount();
        report
    }
}

/// The kernel's counts for every observed page (and label), read after the
/// per-CPU LRU batches drained, and each live process's MMF_HAS_PINNED.
fn read_counts(
    k: &mut KernelCounts,
    l: &mut Live,
    procs: &[String],
    observed: &mut [(String, ModelPage, LivePage)],
    obs: &mut LiveStep,
) {
    for p in procs {
        if let Some(pid) = l.pid(p) {
            // Every worker runs on the CPU whose batches `drain` empties
            // (from the step after its spawn; a fork's child inherits it).
            k.pin_to_cpu(pid);
            k.watch(pid);
            if k.has_pinned(pid).is_none() {
                // Watched only now: let it make a system call.
                l.ping(p);
            }
            if let Some(h) = k.has_pinned(pid) {
                obs.has_pinned.insert(p.clone(), h);
            }
        }
    }
    k.drain();
    let heads: Vec<u64> = observed
        .iter()
        .filter_map(|(_, _, lp)| lp.head)
        .chain(obs.labels.values().filter_map(|lp| lp.head))
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let c = k.read(&heads);
    let fill = |lp: &mut LivePage| {
        let Some(fc) = lp.head.and_then(|h| c.get(&h)) else {
            return;
        };
        if lp.flags.is_some_and(|f| f.zero_page()) {
            return;
        }
        lp.refcount = Some(fc.refcount);
        lp.pincount = lp.order.filter(|&o| o > 0).map(|_| fc.folio_pincount);
    };
    for (_, _, lp) in observed.iter_mut() {
        fill(lp);
    }
    for lp in obs.labels.values_mut() {
        fill(lp);
    }
}

fn compare_text(what: &str, subject: &str, model: String, live: String) -> Check {
    let verdict = if model == live {
        Verdict::Agree
    } else {
        Verdict::Disagree
    };
    Check {
        source: Source::Expect,
        what: what.into(),
        subject: subject.into(),
        model,
        live,
        verdict,
        line: None,
        holds_live: None,
    }
}

fn subject_text(s: &Subject) -> String {
    match s {
        Subject::At(a) => a.to_string(),
        Subject::Pair(a, b) => format!("{a}, {b}"),
        Subject::Hazard(h) => h.name().to_string(),
        Subject::Errno(e) => e.name().to_string(),
        Subject::Vmstat(v) => v.clone(),
    }
}
