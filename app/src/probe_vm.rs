//! `pinlab probe --vm KERNEL_IMAGE`: the same probe, inside a virtual
//! machine running another kernel. tools/vm/probe-in-vm.sh (embedded here)
//! builds an initramfs from this binary and busybox, boots the image under
//! QEMU (KVM when it starts, TCG otherwise) with an ext4 scratch disk and a
//! swap disk, runs `pinlab probe ... --json` inside and hands back its
//! output; this side reports it as that kernel's (docs/probe.md).

use crate::cli::{EXIT_FAILED, EXIT_INVALID};
use pinlab_probe::{ProbeReport, Totals};
use std::path::Path;
use std::process::{Command, ExitCode};

const SCRIPT: &str = include_str!("../../tools/vm/probe-in-vm.sh");

fn cannot(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("pinlab probe --vm: {msg}");
    ExitCode::from(EXIT_INVALID)
}

/// What the guest's probe wrote, and how the VM ran.
struct GuestRun {
    status: u8,
    doc: serde_json::Value,
    accel: String,
    stderr: String,
}

/// The arguments for the guest's probe: lesson files and a known list are
/// copied in as /files/N-NAME.
fn guest_args(
    work: &Path,
    names: &[String],
    all: bool,
    known: Option<&Path>,
    step_timeout: u64,
) -> Result<Vec<String>, String> {
    let files = work.join("files");
    let mut n = 0;
    let mut stage = |p: &Path| -> Result<String, String> {
        std::fs::create_dir_all(&files).map_err(|e| format!("{}: {e}", files.display()))?;
        let base = p
            .file_name()
            .and_then(|b| b.to_str())
            .unwrap_or("file")
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-', "_");
        let name = format!("{n}-{base}");
        n += 1;
        std::fs::copy(p, files.join(&name)).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(format!("/files/{name}"))
    };
    let mut args = Vec::new();
    for l in names {
        let p = Path::new(l);
        if l.ends_with(".toml") && p.is_file() {
            args.push(stage(p)?);
        } else {
            args.push(l.clone());
        }
    }
    if all {
        args.push("--all".into());
    }
    if let Some(k) = known {
        args.push("--known".into());
        args.push(stage(k)?);
    }
    // Emulated, a step takes longer: allow six times as long.
    args.push("--step-timeout".into());
    args.push(step_timeout.saturating_mul(6).clamp(1, 600).to_string());
    Ok(args)
}

fn boot(image: &Path, work: &Path, args: &[String]) -> Result<GuestRun, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the pinlab executable: {e}"))?;
    let script = work.join("probe-in-vm.sh");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("{}: {e}", script.display()))?;
    let run = Command::new("sh")
        .arg(&script)
        .arg(image)
        .arg(&exe)
        .arg(work)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    if !run.status.success() {
        return Err(String::from_utf8_lossy(&run.stderr).trim().to_string());
    }
    let read = |name: &str| std::fs::read_to_string(work.join(name)).unwrap_or_default();
    let status: u8 = read("status").trim().parse().map_err(|_| {
        format!(
            "the VM's probe did not finish (console: {})",
            read("console.log")
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" / ")
        )
    })?;
    let stderr = read("err.txt");
    let doc = if status == EXIT_INVALID {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&read("out.json")).map_err(|e| format!("the VM's probe wrote no report: {e}; {stderr}"))?
    };
    Ok(GuestRun {
        status,
        doc,
        accel: read("accel").trim().to_string(),
        stderr,
    })
}

pub fn probe(
    image: &Path,
    names: &[String],
    (all, json, verbose): (bool, bool, bool),
    known: Option<&Path>,
    step_timeout: u64,
) -> ExitCode {
    if !image.is_file() {
        return cannot(format!("{}: no such kernel image", image.display()));
    }
    if Command::new("qemu-system-x86_64").arg("--version").output().is_err() {
        return cannot("qemu-system-x86_64 is not installed (Debian: qemu-system-x86)");
    }
    if !all && names.is_empty() {
        return cannot("name a lesson (a built-in id or a .toml file), or give --all");
    }
    let work = match tempfile::Builder::new().prefix("pinlab-vm-").tempdir() {
        Ok(w) => w,
        Err(e) => return cannot(format!("cannot make a temporary directory: {e}")),
    };
    let started = std::time::Instant::now();
    let run = match guest_args(work.path(), names, all, known, step_timeout).and_then(|a| boot(image, work.path(), &a))
    {
        Ok(r) => r,
        Err(e) => return cannot(e),
    };
    if run.status == EXIT_INVALID {
        return cannot(format!("the probe in the VM refused: {}", run.stderr.trim()));
    }
    let release = run.doc["release"].as_str().unwrap_or("?").to_string();
    let kernel = run.doc["kernel"].as_str().unwrap_or("?").to_string();
    let secs = started.elapsed().as_secs_f64();
    let live = format!(
        "live Linux {release} (in a VM, {}, {secs:.0} s)",
        run.accel.to_uppercase()
    );
    if json {
        let mut doc = run.doc;
        doc["vm"] = serde_json::json!({ "image": image.display().to_string(), "accel": run.accel, "seconds": secs });
        out!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        let reports: Vec<ProbeReport> = serde_json::from_value(run.doc["lessons"].clone()).unwrap_or_default();
        for r in &reports {
            crate::probe_cmd::print_lesson(r, all, verbose);
        }
        if let Some(n) = crate::probe_cmd::counts_note(&reports) {
            out!("{n}");
        }
        let totals: Totals = serde_json::from_value(run.doc["totals"].clone()).unwrap_or_default();
        out!("{} (model under {kernel}, {live})", totals.summary());
    }
    match run.status {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_FAILED),
    }
}
