//! `pinlab probe`: lessons and selftest cases run on this machine's own
//! kernel and compared with the model (docs/probe.md).

use crate::cli::{EXIT_FAILED, EXIT_INVALID, find_lesson};
use pinlab_lessons::model::Fault;
use pinlab_lessons::{Lesson, builtin, matrix};
use pinlab_probe::{Known, ProbeReport, Totals};
use std::path::Path;
use std::process::ExitCode;

fn cannot(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("pinlab probe: {msg}");
    ExitCode::from(EXIT_INVALID)
}

/// What to probe: named lessons, or everything built in.
fn lessons(names: &[String], all: bool) -> Result<Vec<(Lesson, bool)>, String> {
    if all {
        let mut out = Vec::new();
        for l in builtin::all() {
            out.push((l.map_err(|e| e.to_string())?, false));
        }
        for c in matrix::cases() {
            out.push((c.map_err(|e| e.to_string())?.lesson, true));
        }
        return Ok(out);
    }
    if names.is_empty() {
        return Err("name a lesson (a built-in id or a .toml file), or give --all".into());
    }
    let cases: Vec<matrix::Case> = matrix::cases().into_iter().flatten().collect();
    names
        .iter()
        .map(|n| {
            if let Some(c) = cases.iter().find(|c| c.id == *n) {
                return Ok((c.lesson.clone(), true));
            }
            let l = find_lesson(n)?;
            let case = cases.iter().any(|c| c.id == l.id);
            Ok((l, case))
        })
        .collect()
}

#[cfg(not(target_os = "linux"))]
#[allow(clippy::too_many_arguments)]
pub fn probe(_: &[String], _: bool, _: bool, _: bool, _: Option<&Path>, _: u64, _: Option<Fault>) -> ExitCode {
    cannot(pinlab_probe::unavailable().unwrap_or_default())
}

#[cfg(target_os = "linux")]
type Interrupt = std::sync::Arc<std::sync::atomic::AtomicBool>;

/// A probe of this machine, with Ctrl-C caught.
#[cfg(target_os = "linux")]
fn make_probe(
    known: Known,
    step_timeout: u64,
    fault: Option<Fault>,
) -> Result<(pinlab_probe::Probe, Interrupt), String> {
    use pinlab_probe::{Probe, ProbeOptions};
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the pinlab executable: {e}"))?;
    let interrupted = pinlab_probe::interrupt_flag();
    let probe = Probe::new(ProbeOptions {
        exe,
        step_timeout: std::time::Duration::from_secs(step_timeout.clamp(1, 600)),
        known,
        interrupted: interrupted.clone(),
        fault,
    })?;
    Ok((probe, interrupted))
}

#[cfg(target_os = "linux")]
fn known_list(path: Option<&Path>) -> Result<Known, String> {
    match path {
        None => Ok(Known::builtin()),
        Some(p) => {
            let t = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Known::parse(&p.display().to_string(), &t)
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(clippy::too_many_arguments)]
pub fn probe(
    names: &[String],
    all: bool,
    json: bool,
    verbose: bool,
    known: Option<&Path>,
    step_timeout: u64,
    fault: Option<Fault>,
) -> ExitCode {
    let list = match lessons(names, all) {
        Ok(l) => l,
        Err(e) => return cannot(e),
    };
    let (probe, interrupted) = match known_list(known).and_then(|k| make_probe(k, step_timeout, fault)) {
        Ok(p) => p,
        Err(e) => return cannot(e),
    };
    let mut reports: Vec<(ProbeReport, bool)> = Vec::new();
    let mut totals = Totals::default();
    for (l, case) in &list {
        if interrupted.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let r = probe.probe(l);
        totals.merge(&r.totals);
        if !json {
            print_lesson(&r, all, verbose);
        }
        reports.push((r, *case));
    }
    let live = matrix_column(&probe, &reports);
    if json {
        let doc = serde_json::json!({
            "release": probe.machine.release,
            "kernel": probe.preset.name(),
            "lessons": reports.iter().map(|(r, _)| r).collect::<Vec<_>>(),
            "selftests": live.iter().map(|(id, model, live, v)| serde_json::json!({
                "case": id, "model": model, "live": live, "verdict": v,
            })).collect::<Vec<_>>(),
            "totals": totals,
        });
        out!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_summary(&probe, &totals, &live);
    }
    if interrupted.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("pinlab probe: interrupted; workers stopped and temporary files removed");
        return ExitCode::from(EXIT_INVALID);
    }
    if totals.failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// One lesson: its transcript, or with --all one line and its disagreements.
#[cfg(target_os = "linux")]
pub fn print_lesson(r: &ProbeReport, all: bool, verbose: bool) {
    if !all {
        out!("{}", pinlab_probe::transcript(r, verbose));
        return;
    }
    out!(
        "{:<72} {:>4} passed {:>3} failed {:>4} skipped{}",
        r.lesson,
        r.totals.passed,
        r.totals.failed,
        r.totals.skipped,
        if r.totals.failed > 0 { "  <-- disagrees" } else { "" }
    );
    for s in &r.steps {
        for c in s
            .checks
            .iter()
            .filter(|c| c.verdict == pinlab_probe::report::Verdict::Disagree)
        {
            out!(
                "    step {} (line {}) {}({}): model {} | live {}",
                s.step,
                s.line,
                c.what,
                c.subject,
                c.model,
                c.live
            );
        }
    }
}

#[cfg(target_os = "linux")]
fn print_summary(probe: &pinlab_probe::Probe, totals: &Totals, live: &[(String, String, String, &'static str)]) {
    if !live.is_empty() {
        let confirmed = live.iter().filter(|x| x.3 == "confirmed").count();
        let contradicted = live.iter().filter(|x| x.3 == "contradicted").count();
        out!(
            "selftest cases under {}: {confirmed} confirmed by this kernel, {contradicted} contradicted, {} not decidable live",
            probe.preset.name(),
            live.len() - confirmed - contradicted
        );
        for (id, model, l, _) in live.iter().filter(|x| x.3 == "contradicted") {
            out!("  {id}: model {model}, live {l}");
        }
    }
    if let Some(why) = probe.counts_unavailable() {
        out!("refcounts are not read: {why}");
    }
    out!(
        "{} (model under {}, live Linux {})",
        totals.summary(),
        probe.preset.name(),
        probe.machine.release
    );
}

/// The note a report carries when BPF could not read the counts.
pub fn counts_note(reports: &[ProbeReport]) -> Option<&str> {
    reports
        .iter()
        .flat_map(|r| &r.notes)
        .find(|n| n.starts_with("refcounts are not read"))
        .map(String::as_str)
}

/// The preset the live run was compared with, and per case id the live
/// outcome (P, F or ?) and `confirmed`, `contradicted` or `undecided`.
pub type LiveOutcomes = (String, std::collections::HashMap<String, (String, &'static str)>);

/// The live outcome of selftest cases on this machine, for `pinlab matrix
/// --live`.
#[cfg(target_os = "linux")]
pub fn live_outcomes(ids: &[String]) -> Result<LiveOutcomes, String> {
    let (probe, interrupted) = make_probe(Known::builtin(), 10, None)?;
    let cases: Vec<matrix::Case> = matrix::cases().into_iter().flatten().collect();
    let mut reports = Vec::new();
    for c in cases.iter().filter(|c| ids.contains(&c.id)) {
        if interrupted.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        reports.push((probe.probe(&c.lesson), true));
    }
    let col = matrix_column(&probe, &reports);
    Ok((
        probe.preset.name().to_string(),
        col.into_iter().map(|(id, _, live, v)| (id, (live, v))).collect(),
    ))
}

#[cfg(not(target_os = "linux"))]
pub fn live_outcomes(_: &[String]) -> Result<LiveOutcomes, String> {
    Err(pinlab_probe::unavailable().unwrap_or_default())
}

/// The selftest outcome the live run shows for each case (P: every pass
/// criterion held live, F: one did not, ?: not decidable live), beside the
/// model's outcome under the same preset.
#[cfg(target_os = "linux")]
fn matrix_column(
    probe: &pinlab_probe::Probe,
    reports: &[(ProbeReport, bool)],
) -> Vec<(String, String, String, &'static str)> {
    use pinlab_probe::report::Source;
    let known = matrix::known().unwrap_or_default();
    let cases: Vec<matrix::Case> = matrix::cases().into_iter().flatten().collect();
    let mut out = Vec::new();
    for (r, is_case) in reports {
        if !is_case {
            continue;
        }
        let Some(case) = cases.iter().find(|c| c.id == r.lesson) else {
            continue;
        };
        let cell = matrix::run_case(case, probe.preset, &known);
        let expects: Vec<_> = r
            .steps
            .iter()
            .flat_map(|s| &s.checks)
            .filter(|c| c.source == Source::Expect && c.line.is_some())
            .collect();
        let live = if expects.iter().any(|c| c.holds_live == Some(false)) {
            "F"
        } else if !expects.is_empty() && expects.iter().all(|c| c.holds_live == Some(true)) {
            "P"
        } else {
            // A criterion was not observable (or the case stopped before it).
            "?"
        };
        let model = cell.outcome.short().to_string();
        let verdict = match live {
            "?" => "undecided",
            l if l == model => "confirmed",
            _ => "contradicted",
        };
        out.push((r.lesson.clone(), model, live.to_string(), verdict));
    }
    out
}
