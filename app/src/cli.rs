//! The command line: `pinlab lessons | actions | run | check | matrix |
//! exercise | counterexample | handout | probe` (and `open`, in main.rs). Exit status 0 when
//! everything held, 1 when an expectation failed (or the model broke an
//! invariant), 2 for invalid input or output that could not be written
//! (docs/cli.md).

/// `println!` that never panics on stdout: a closed pipe (`pinlab run x |
/// head`) silences the rest of the output and keeps the outcome's exit code;
/// any other write error is remembered, reported once on stderr at the end,
/// and makes the exit status non-zero (`output::finish`).
macro_rules! out {
    ($($t:tt)*) => {{
        crate::cli::output::line(format_args!($($t)*));
    }};
}

/// What happened to standard output.
pub mod output {
    use std::io::{ErrorKind, Write};
    use std::process::ExitCode;
    use std::sync::Mutex;

    #[derive(Default)]
    struct State {
        closed: bool,
        error: Option<String>,
    }

    static STATE: Mutex<State> = Mutex::new(State {
        closed: false,
        error: None,
    });

    pub fn line(args: std::fmt::Arguments) {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if st.closed || st.error.is_some() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let r = out
            .write_fmt(args)
            .and_then(|_| out.write_all(b"\n"))
            .and_then(|_| out.flush());
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => st.closed = true,
            Err(e) => st.error = Some(e.to_string()),
        }
    }

    /// Raw bytes (a handout on stdout).
    pub fn bytes(b: &[u8]) {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if st.closed || st.error.is_some() {
            return;
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(b).and_then(|_| out.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => st.closed = true,
            Err(e) => st.error = Some(e.to_string()),
        }
    }

    /// The exit status once the output is done: the outcome's, unless
    /// writing failed for another reason than a closed pipe; then the error
    /// goes to stderr and a successful outcome becomes 2 (a failed one stays 1).
    pub fn finish(outcome: ExitCode, outcome_ok: bool) -> ExitCode {
        let st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        match &st.error {
            Some(e) => {
                eprintln!("pinlab: cannot write the output: {e}");
                if outcome_ok {
                    ExitCode::from(super::EXIT_INVALID)
                } else {
                    outcome
                }
            }
            None => outcome,
        }
    }
}

use clap::{Parser, Subcommand};
use pinlab_lessons::load::{LoadError, check_unique, load_str};
use pinlab_lessons::model::{Checks, Fault, Preset, WhatIf};
use pinlab_lessons::run::{RunOptions, run_with, transcript};
use pinlab_lessons::{Lesson, builtin};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pinlab",
    version,
    about = "An interactive lab for pages, pins and COW in the Linux kernel"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--size 1920x1080`: a window from 320x240 to 7680x4320 points.
pub fn window_size(s: &str) -> Result<[f32; 2], String> {
    let bad = || format!("'{s}' is not a window size: use WIDTHxHEIGHT, e.g. 1920x1080");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if !(320..=7680).contains(&w) || !(240..=4320).contains(&h) {
        return Err(format!("window size {w}x{h} is outside 320x240 .. 7680x4320"));
    }
    Ok([w as f32, h as f32])
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the desktop app on a lesson (built-in id or file), at a step.
    Open {
        /// A built-in lesson id or a lesson file (not needed with --lecture).
        #[arg(required_unless_present = "lecture")]
        lesson: Option<String>,
        /// Walk a lecture's stops with Page Down: a shipped one
        /// (50-minutes, 2x90-minutes) or a lecture file (docs/course.md).
        #[arg(long, value_name = "LECTURE", conflicts_with_all = ["step", "kernel"])]
        lecture: Option<String>,
        #[arg(long, default_value_t = 0)]
        step: usize,
        #[arg(long)]
        kernel: Option<String>,
        /// Side by side with this kernel in the second pane.
        #[arg(long)]
        compare: Option<String>,
        /// Start in presenter mode (full screen, large type, answers hidden).
        #[arg(long)]
        present: bool,
        /// Start in quiz mode (stop before each question).
        #[arg(long)]
        quiz: bool,
        /// Also run the lesson on this machine's own Linux and show it beside the model
        /// (pinlab probe; Linux, as root).
        #[arg(long)]
        live: bool,
        /// Window size in points, WIDTHxHEIGHT (default 1280x720).
        #[arg(long, value_parser = window_size)]
        size: Option<[f32; 2]>,
        /// Open a live-class room on this server (`pinlab serve`), as its lecturer.
        #[arg(long, value_name = "SERVER")]
        room: Option<String>,
        /// Join this live-class room (its code) as a student, on --server.
        #[arg(long, value_name = "CODE")]
        join: Option<String>,
        /// The live-class server for --join.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// The course: every built-in lesson, numbered and grouped, with its
    /// minutes and prerequisites, and the shipped lectures.
    Lessons {
        /// As docs/course.md (the course and every lecture's stops).
        #[arg(long)]
        markdown: bool,
    },
    /// List every action a lesson step can do, with its arguments (the action catalogue).
    Actions {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// As the Markdown table of docs/lesson-format.md.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
    },
    /// Run a lesson (built-in id or file) and print its transcript.
    Run {
        /// A built-in lesson id or a path to a .toml file.
        lesson: String,
        /// Kernel release (default: the lesson's first).
        #[arg(long)]
        kernel: Option<String>,
        /// What-if toggle (vm_nocow, unevictable_pins, pinned_writeback=skip|bounce|usual, bio_v7_modes); repeatable.
        #[arg(long = "what-if")]
        what_if: Vec<String>,
        /// Print the report as one JSON document (docs/cli.md, "pinlab run --json").
        #[arg(long)]
        json: bool,
        /// Predict first: a step that asks a question shows what is about to happen and
        /// the question only; the answers and what those steps did follow at the end.
        #[arg(long, conflicts_with = "json")]
        no_answers: bool,
        #[command(flatten)]
        checking: Checking,
    },
    /// Run every built-in lesson (or the given files and folders) under each kernel it declares.
    Check {
        paths: Vec<PathBuf>,
        #[command(flatten)]
        checking: Checking,
    },
    /// The kernel's COW and long-term pin selftests (cow.c, gup_longterm.c) under every
    /// preset: P pass, F fail, s skipped by the selftest, - not run on that kernel; a
    /// source confirms the outcome (*) or contradicts it (!); unmarked: no source says.
    Matrix {
        /// Print the matrix as JSON.
        #[arg(long)]
        json: bool,
        /// Only cases whose group, test or variant contains this text.
        #[arg(long)]
        only: Option<String>,
        /// Also run every case on this machine's own Linux (pinlab probe; as root) and mark
        /// whether it confirms the model under the machine's preset.
        #[arg(long)]
        live: bool,
    },
    /// Generate exercises with an answer key (OSTEP style): a seed always gives the same ones.
    Exercise {
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Print them as JSON (each with its lesson TOML).
        #[arg(long)]
        json: bool,
        /// Also write each exercise as a lesson file into this folder (open it in the app).
        #[arg(long)]
        lessons: Option<PathBuf>,
    },
    /// Search random action sequences for a hazard and print the shortest found as a lesson.
    Counterexample {
        /// The hazard: dma_lost, data_leak, stale_device_read, use_after_free, ...
        hazard: String,
        #[arg(long, default_value = "5.7")]
        kernel: String,
        #[arg(long = "what-if")]
        what_if: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many random sequences to try (at most 1,000,000).
        #[arg(long, default_value_t = 20_000)]
        tries: u32,
        /// Give up after this many seconds (at most 3600).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Run lessons on this machine's own Linux (real processes, real system calls) and
    /// compare what the kernel shows (pagemap, kpageflags, kpagecount, vmstat) with the
    /// model under the matching preset. Linux only, as root (docs/probe.md).
    Probe {
        /// Built-in lesson ids, selftest case ids or .toml files.
        lessons: Vec<String>,
        /// Every built-in lesson and every selftest case.
        #[arg(long)]
        all: bool,
        /// Print the reports as one JSON document.
        #[arg(long)]
        json: bool,
        /// List every check, also the model's predictions that agree.
        #[arg(short, long)]
        verbose: bool,
        /// A known-differences file instead of the built-in one.
        #[arg(long)]
        known: Option<PathBuf>,
        /// Seconds one step may take.
        #[arg(long, default_value_t = 10)]
        step_timeout: u64,
        /// Break the model on purpose (fork-copies), to see the probe catch it.
        #[arg(long, hide = true)]
        inject_fault: Option<String>,
        /// Run the probe inside a virtual machine booting this kernel image
        /// (a bzImage such as /boot/vmlinuz-6.1.0-47-cloud-amd64; QEMU).
        #[arg(long, value_name = "KERNEL_IMAGE")]
        vm: Option<PathBuf>,
    },
    /// A probe worker (started by `pinlab probe`).
    #[command(hide = true)]
    ProbeWorker { socket: String },
    /// Serve the web build and host live-class rooms: the lecturer opens a room, students
    /// follow it on their own devices and answer its questions (docs/classroom.md).
    Serve {
        /// Address to listen on. The default is this machine only; a lecture hall's
        /// network needs 0.0.0.0:8080 (docs/classroom.md).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// The web build to serve (web/build.sh DIR). Without it, the app built into
        /// this binary (the `site` feature, as in the Debian package), else rooms only.
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Write the manual pages or a shell's completions, from these definitions
    /// (what the Debian package installs; docs/install.md).
    Generate {
        what: crate::generate::Generated,
        /// Write into this folder (man: pinlab.1 and a pinlab-COMMAND.1 per command)
        /// instead of stdout.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Write a handout of a lesson: Markdown, or HTML with a picture after every
    /// step when the output's name ends in .html or .htm.
    Handout {
        lesson: String,
        /// The file to write (stdout without it); its extension picks the format.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[arg(long)]
        kernel: Option<String>,
        /// A worksheet: each question with what is about to happen and room for the
        /// answer, the narration of those steps in the key at the end.
        #[arg(long)]
        worksheet: bool,
    },
}

/// How the model's own invariants are checked while lessons run.
#[derive(clap::Args, Debug, Clone)]
pub struct Checking {
    /// Check every invariant over the whole world after every micro-step, as
    /// well as incrementally (slow on big worlds; for debugging the model).
    #[arg(long)]
    full_checks: bool,
    /// Break the model on purpose (refcount-drift, fork-copies), to see the checks catch it.
    #[arg(long, hide = true)]
    inject_fault: Option<String>,
}

impl Checking {
    fn options(&self, whatif: Option<WhatIf>) -> Result<RunOptions, String> {
        let fault = match &self.inject_fault {
            None => None,
            Some(f) => Some(
                Fault::parse(f).ok_or_else(|| format!("unknown fault '{f}' (known: refcount-drift, fork-copies)"))?,
            ),
        };
        Ok(RunOptions {
            whatif,
            checks: if self.full_checks {
                Checks::Both
            } else {
                Checks::Incremental
            },
            fault,
        })
    }
}

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

/// Lesson files are read whole; larger than this is not a lesson.
pub const MAX_LESSON_BYTES: u64 = 1 << 20;

/// Most tries and seconds a counterexample search may be given.
pub const MAX_TRIES: u32 = 1_000_000;
pub const MAX_SECONDS: u64 = 3600;

#[cfg(target_os = "linux")]
fn probe_worker(socket: &str) -> ExitCode {
    ExitCode::from(pinlab_probe::worker::main(socket).clamp(0, 255) as u8)
}

#[cfg(not(target_os = "linux"))]
fn probe_worker(_: &str) -> ExitCode {
    ExitCode::from(EXIT_INVALID)
}

fn invalid(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("pinlab: {msg}");
    ExitCode::from(EXIT_INVALID)
}

/// A built-in id, or a lesson file.
/// `pinlab lessons`: the course by part, then the lectures that ship.
fn lessons(markdown: bool) -> ExitCode {
    let course = match pinlab_lessons::course::builtin() {
        Ok(c) => c,
        Err(e) => return invalid(e),
    };
    if markdown {
        out!("{}", pinlab_lessons::course::markdown(&course).trim_end());
        return ExitCode::SUCCESS;
    }
    for (i, part) in course.parts.iter().enumerate() {
        out!("{} {}", i + 1, part.title);
        for e in &part.lessons {
            let after = if e.after.is_empty() {
                String::new()
            } else {
                format!("  (after {})", e.after.join(", "))
            };
            out!(
                "  {:<5} {:<24} {:>3} min  {}{after}",
                e.number,
                e.id,
                e.minutes,
                e.title
            );
        }
    }
    out!(
        "{} lessons, {} minutes in class.",
        course.entries().count(),
        course.minutes()
    );
    out!("Lectures (pinlab open --lecture NAME):");
    for (f, _) in pinlab_lessons::lecture::BUILTIN {
        if let Some(Ok(l)) = pinlab_lessons::lecture::builtin(f) {
            out!(
                "  {:<13} {} ({} stops, {} min)",
                f.trim_end_matches(".toml"),
                l.title,
                l.stops.len(),
                l.minutes()
            );
        }
    }
    ExitCode::SUCCESS
}

/// A lecture by shipped name or file path.
pub fn find_lecture(arg: &str) -> Result<pinlab_lessons::lecture::Lecture, String> {
    if let Some(l) = pinlab_lessons::lecture::builtin(arg) {
        return l.map_err(|e| e.to_string());
    }
    let path = Path::new(arg);
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{arg}: {e} (shipped lectures: 50-minutes, 2x90-minutes)"))?;
    if !meta.is_file() || meta.len() > MAX_LESSON_BYTES {
        return Err(format!("{arg}: not a regular file of at most {MAX_LESSON_BYTES} bytes"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{arg}: {e}"))?;
    pinlab_lessons::lecture::parse(arg, &text).map_err(|e| e.to_string())
}

pub fn find_lesson(arg: &str) -> Result<Lesson, String> {
    let looks_like_path = arg.ends_with(".toml") || arg.contains('/') || Path::new(arg).exists();
    if !looks_like_path {
        return builtin::by_id(arg).ok_or_else(|| {
            let ids: Vec<String> = builtin::all().into_iter().flatten().map(|l| l.id).collect();
            format!(
                "no built-in lesson '{arg}' (known: {}); give a path to load a file",
                ids.join(", ")
            )
        });
    }
    load_file(Path::new(arg)).map_err(|e| e.to_string())
}

/// Reads a lesson file: a regular file (not a FIFO or a device, which could
/// block or never end) of at most MAX_LESSON_BYTES, checked before it is opened.
pub fn load_file(path: &Path) -> Result<Lesson, LoadError> {
    use std::io::Read;
    let name = path.display().to_string();
    let fail = |message: String| LoadError {
        file: name.clone(),
        line: 0,
        col: 0,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(fail("not a regular file (a lesson is a .toml file)".into()));
    }
    if meta.len() > MAX_LESSON_BYTES {
        return Err(fail(format!(
            "{} bytes: a lesson file is at most {MAX_LESSON_BYTES} bytes",
            meta.len()
        )));
    }
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_LESSON_BYTES + 1).read_to_end(&mut text))
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if text.len() as u64 > MAX_LESSON_BYTES {
        return Err(fail(format!(
            "more than {MAX_LESSON_BYTES} bytes: a lesson file is at most that"
        )));
    }
    let text = String::from_utf8(text).map_err(|e| LoadError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    load_str(&name, &text)
}

/// The preset for `--kernel` (the lesson's first kernel when absent). Says
/// on stderr which preset a release maps to, and when it is newer than all.
pub fn kernel_arg(kernel: Option<&str>) -> Result<Option<Preset>, String> {
    let Some(k) = kernel else { return Ok(None) };
    let m = Preset::for_release(k)?;
    match &m.note {
        Some(note) => eprintln!("pinlab: {note}"),
        None if m.preset.name() != k.trim().trim_start_matches('v') => {
            eprintln!("pinlab: kernel {k}: preset {} ({})", m.preset.name(), m.preset.span())
        }
        None => {}
    }
    Ok(Some(m.preset))
}

fn preset_arg(kernel: &Option<String>, lesson: &Lesson) -> Result<Preset, String> {
    Ok(kernel_arg(kernel.as_deref())?.unwrap_or(lesson.kernels[0]))
}

pub fn main_with(cli: Cli) -> ExitCode {
    let code = run_command(cli);
    let ok = code == ExitCode::SUCCESS;
    output::finish(code, ok)
}

fn run_command(cli: Cli) -> ExitCode {
    match cli.command {
        None | Some(Command::Open { .. }) => invalid("the desktop app is started by the binary's main"),
        Some(Command::Lessons { markdown }) => lessons(markdown),
        Some(Command::Run {
            lesson,
            kernel,
            what_if,
            json,
            no_answers,
            checking,
        }) => run(&lesson, &kernel, &what_if, (json, no_answers), &checking),
        Some(Command::Check { paths, checking }) => match checking.options(None) {
            Ok(opts) => check(&paths, opts),
            Err(e) => invalid(e),
        },
        Some(Command::Matrix { json, only, live }) => matrix(json, only.as_deref(), live),
        Some(Command::Actions { json, markdown }) => actions(json, markdown),
        Some(Command::Probe {
            lessons,
            all,
            json,
            verbose,
            known,
            step_timeout,
            inject_fault,
            vm,
        }) => {
            if let Some(image) = vm {
                #[cfg(target_os = "linux")]
                return crate::probe_vm::probe(&image, &lessons, (all, json, verbose), known.as_deref(), step_timeout);
                #[cfg(not(target_os = "linux"))]
                return invalid(format!("--vm {}: the probe runs on Linux only", image.display()));
            }
            let fault = match inject_fault.as_deref().map(|f| Fault::parse(f).ok_or(f)) {
                None => None,
                Some(Ok(f)) => Some(f),
                Some(Err(f)) => return invalid(format!("unknown fault '{f}' (known: refcount-drift, fork-copies)")),
            };
            crate::probe_cmd::probe(&lessons, all, json, verbose, known.as_deref(), step_timeout, fault)
        }
        Some(Command::ProbeWorker { socket }) => probe_worker(&socket),
        Some(Command::Counterexample {
            hazard,
            kernel,
            what_if,
            seed,
            tries,
            seconds,
        }) => counterexample(&hazard, &kernel, &what_if, seed, tries, seconds),
        Some(Command::Exercise {
            seed,
            count,
            json,
            lessons,
        }) => exercise(seed, count, json, lessons.as_deref()),
        Some(Command::Handout {
            lesson,
            output,
            kernel,
            worksheet,
        }) => handout(&lesson, output.as_deref(), &kernel, worksheet),
        Some(Command::Generate { what, dir }) => match crate::generate::generate(what, dir.as_deref()) {
            Ok(files) => {
                for f in files {
                    println!("{f}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => invalid(e),
        },
        Some(Command::Serve { addr, site }) => match crate::serve_cmd::serve(&addr, site) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => invalid(e),
        },
    }
}

/// The lesson a command names and the kernel to run it under.
fn lesson_and_kernel(lesson: &str, kernel: &Option<String>) -> Result<(Lesson, Preset), String> {
    let l = find_lesson(lesson)?;
    let preset = preset_arg(kernel, &l)?;
    Ok((l, preset))
}

/// `pinlab run`.
fn run(
    lesson: &str,
    kernel: &Option<String>,
    what_if: &[String],
    (json, no_answers): (bool, bool),
    checking: &Checking,
) -> ExitCode {
    let (l, preset) = match lesson_and_kernel(lesson, kernel) {
        Ok(x) => x,
        Err(e) => return invalid(e),
    };
    let mut whatif: Option<WhatIf> = None;
    for t in what_if {
        let w = whatif.get_or_insert(l.whatif);
        if let Err(e) = w.set(t) {
            return invalid(e);
        }
    }
    let opts = match checking.options(whatif) {
        Ok(o) => o,
        Err(e) => return invalid(e),
    };
    let (_, report) = run_with(&l, preset, opts);
    let out = if json {
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    } else if no_answers {
        pinlab_lessons::run::transcript_without_answers(&l, &report)
    } else {
        transcript(&l, &report)
    };
    out!("{out}");
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// `pinlab actions`: the action catalogue.
fn actions(json: bool, markdown: bool) -> ExitCode {
    use pinlab_lessons::model::catalogue;
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(catalogue::CATALOGUE).unwrap_or_default()
        );
    } else if markdown {
        output::bytes(catalogue::markdown_table().as_bytes());
    } else {
        for a in catalogue::CATALOGUE {
            let args: Vec<String> = a
                .args
                .iter()
                .map(|x| {
                    if x.required {
                        x.name.to_string()
                    } else {
                        format!("[{}]", x.name)
                    }
                })
                .collect();
            out!("{:<24} {}\n{:<24} {}", a.name, args.join(" "), "", a.does);
        }
    }
    ExitCode::SUCCESS
}

/// `pinlab handout`.
fn handout(lesson: &str, to: Option<&Path>, kernel: &Option<String>, worksheet: bool) -> ExitCode {
    use pinlab_lessons::handout::{Sheet, handout_as};
    let (l, preset) = match lesson_and_kernel(lesson, kernel) {
        Ok(x) => x,
        Err(e) => return invalid(e),
    };
    let sheet = if worksheet { Sheet::Worksheet } else { Sheet::Handout };
    let md = handout_as(&l, preset, None, sheet);
    let html = to.is_some_and(|p| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
    });
    let md = match (html, worksheet) {
        (false, _) => md,
        (true, false) => crate::gui::export::handout_html(&l, preset, l.whatif),
        (true, true) => crate::gui::export::sheet_html(&l.title, &md),
    };
    match to {
        Some(p) => {
            if let Err(e) = std::fs::write(p, md) {
                return invalid(format!("cannot write {}: {e}", p.display()));
            }
        }
        None => output::bytes(md.as_bytes()),
    }
    ExitCode::SUCCESS
}

fn collect(paths: &[PathBuf]) -> Vec<Result<Lesson, String>> {
    if paths.is_empty() {
        return builtin::all()
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) => {
                    out.push(Err(format!("{}: cannot read folder: {e}", p.display())));
                    continue;
                }
            };
            files.sort();
            out.extend(files.iter().map(|f| load_file(f).map_err(|e| e.to_string())));
        } else {
            out.push(load_file(p).map_err(|e| e.to_string()));
        }
    }
    out
}

fn check(paths: &[PathBuf], opts: RunOptions) -> ExitCode {
    let loaded = collect(paths);
    let (mut passed, mut failed, mut invalid_files) = (0, 0, 0);
    let mut lessons = Vec::new();
    for r in loaded {
        match r {
            Ok(l) => lessons.push(l),
            Err(e) => {
                out!("INVALID {e}");
                invalid_files += 1;
            }
        }
    }
    if let Err(e) = check_unique(&lessons) {
        out!("INVALID {e}");
        invalid_files += 1;
    }
    for l in &lessons {
        for p in &l.kernels {
            let (_, r) = run_with(l, *p, opts);
            if r.passed {
                passed += 1;
                out!("pass  {:<28} kernel {:<5} {} checks", l.id, p.name(), r.checks_passed);
            } else {
                failed += 1;
                out!(
                    "FAIL  {:<28} kernel {:<5} {} of {} checks failed{}",
                    l.id,
                    p.name(),
                    r.checks_failed,
                    r.checks_passed + r.checks_failed,
                    if r.model_bugs > 0 {
                        format!(", {} model bug(s)", r.model_bugs)
                    } else {
                        String::new()
                    }
                );
                for st in &r.steps {
                    for c in st.checks.iter().filter(|c| !c.passed) {
                        out!(
                            "      step {} ({}:{}): {} (actual: {})",
                            st.step,
                            l.source,
                            c.line,
                            c.expect,
                            c.actual
                        );
                    }
                    for b in &st.model_bugs {
                        out!("      step {}: MODEL BUG: {b}", st.step);
                    }
                }
            }
        }
    }
    out!("{passed} passed, {} failed", failed + invalid_files);
    if invalid_files > 0 {
        ExitCode::from(EXIT_INVALID)
    } else if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn matrix(json: bool, only: Option<&str>, live: bool) -> ExitCode {
    use pinlab_lessons::matrix::{self, Outcome};
    let known = match matrix::known() {
        Ok(k) => k,
        Err(e) => return invalid(e),
    };
    let mut rows = Vec::new();
    for c in matrix::cases() {
        let c = match c {
            Ok(c) => c,
            Err(e) => return invalid(e),
        };
        let hay = format!("{} {} {}", c.group, c.test, c.variant).to_lowercase();
        if only.is_some_and(|o| !hay.contains(&o.to_lowercase())) {
            continue;
        }
        rows.push(matrix::run_row(&c, &known));
    }
    let disagreements = rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|(_, c)| c.agrees() == Some(false))
        .count();
    let newest_bad = rows
        .iter()
        .filter(|r| r.cells.last().is_some_and(|(_, c)| c.outcome != Outcome::Pass))
        .count();
    let lives = if live {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        match crate::probe_cmd::live_outcomes(&ids) {
            Ok(l) => Some(l),
            Err(e) => return invalid(format!("--live: {e}")),
        }
    } else {
        None
    };
    let contradicted = lives
        .as_ref()
        .map_or(0, |(_, m)| m.values().filter(|(_, v)| *v == "contradicted").count());
    if json {
        matrix_json(&rows, lives.as_ref());
    } else {
        matrix_text(&rows, lives.as_ref(), disagreements, newest_bad, contradicted);
    }
    if disagreements > 0 || newest_bad > 0 || contradicted > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn matrix_json(rows: &[pinlab_lessons::matrix::Row], lives: Option<&crate::probe_cmd::LiveOutcomes>) {
    let mut doc = serde_json::to_value(rows).unwrap_or_default();
    if let (Some((preset, m)), Some(items)) = (lives, doc.as_array_mut()) {
        for item in items {
            let id = item["id"].as_str().unwrap_or_default().to_string();
            if let Some((o, v)) = m.get(&id) {
                item["live"] = serde_json::json!({ "kernel": preset, "outcome": o, "verdict": v });
            }
        }
    }
    out!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

fn matrix_text(
    rows: &[pinlab_lessons::matrix::Row],
    lives: Option<&crate::probe_cmd::LiveOutcomes>,
    disagreements: usize,
    newest_bad: usize,
    contradicted: usize,
) {
    let live_mark = |id: &str| -> String {
        let Some((_, m)) = lives else { return String::new() };
        match m.get(id) {
            Some((o, "confirmed")) => format!("{o}="),
            Some((o, "contradicted")) => format!("{o}!!"),
            _ => "?".into(),
        }
    };
    let mut last = String::new();
    for r in rows {
        let title = format!("{}: {}", r.group, r.test);
        if title != last {
            out!("\n{title}");
            let mut head = format!("  {:<46}", "variant");
            for (p, _) in &r.cells {
                head.push_str(&format!("{p:<6}"));
            }
            if let Some((preset, _)) = lives {
                head.push_str(&format!("live {preset}"));
            }
            out!("{head}");
            last = title;
        }
        let mut line = format!("  {:<46}", truncate(&r.variant, 45));
        for (_, c) in &r.cells {
            line.push_str(&format!("{:<6}", format!("{}{}", c.outcome.short(), c.mark())));
        }
        line.push_str(&live_mark(&r.id));
        out!("{line}");
    }
    matrix_legend(rows, lives, disagreements, newest_bad, contradicted);
}

fn matrix_legend(
    rows: &[pinlab_lessons::matrix::Row],
    lives: Option<&crate::probe_cmd::LiveOutcomes>,
    disagreements: usize,
    newest_bad: usize,
    contradicted: usize,
) {
    use pinlab_lessons::matrix;
    out!(
        "\n{} cases x {} kernels. P pass, F fail, s skipped by the selftest, - not run on that kernel;",
        rows.len(),
        Preset::ALL.len()
    );
    out!(
        "* a source confirms the outcome, ! a source contradicts it, ~ derived from the rules a source states (not compared), unmarked: no source says (assets/selftests/known.toml)."
    );
    let cells: Vec<&matrix::Cell> = rows.iter().flat_map(|r| r.cells.iter().map(|(_, c)| c)).collect();
    let compared = cells.iter().filter(|c| c.agrees().is_some()).count();
    let derived = cells.iter().filter(|c| c.derived()).count();
    out!(
        "{compared} of {} cells compared with a source, {disagreements} disagreement(s); {derived} derived, not compared; {newest_bad} case(s) not passing under {} (mainline passes all).",
        cells.len(),
        Preset::NEWEST.name()
    );
    if let Some((preset, m)) = &lives {
        let confirmed = m.values().filter(|(_, v)| *v == "confirmed").count();
        out!(
            "live (this machine's kernel, compared with the model under {preset}): {confirmed} case(s) confirmed (=), {contradicted} contradicted (!!), {} not decidable live (?: docs/probe.md says why).",
            rows.len() - confirmed - contradicted
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 3).collect();
        t.push_str("...");
        t
    }
}

/// At most this many exercises at once: each is run several times in the model.
const MAX_EXERCISES: usize = 1000;

fn exercise(seed: u64, count: usize, json: bool, lessons: Option<&Path>) -> ExitCode {
    use pinlab_lessons::exercise;
    if count == 0 || count > MAX_EXERCISES {
        return invalid(format!("--count must be between 1 and {MAX_EXERCISES}"));
    }
    let all = exercise::generate(seed, count);
    if let Some(dir) = lessons {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return invalid(format!("{}: {e}", dir.display()));
        }
        for e in &all {
            let path = dir.join(format!("exercise-{}-{}.toml", e.seed, e.number));
            if let Err(err) = std::fs::write(&path, &e.toml) {
                return invalid(format!("{}: {err}", path.display()));
            }
        }
    }
    if json {
        out!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    } else {
        out!("{}", exercise::text(&all).trim_end());
    }
    ExitCode::SUCCESS
}

fn counterexample(hazard: &str, kernel: &str, what_if: &[String], seed: u64, tries: u32, seconds: u64) -> ExitCode {
    use pinlab_lessons::counterexample::{self, Progress, Search};
    use pinlab_lessons::model::HazardKind;
    let Some(h) = HazardKind::parse(hazard) else {
        let all: Vec<&str> = HazardKind::ALL.iter().map(|h| h.name()).collect();
        return invalid(format!("unknown hazard '{hazard}' (known: {})", all.join(", ")));
    };
    let p = match kernel_arg(Some(kernel)) {
        Ok(p) => p.unwrap_or(Preset::NEWEST),
        Err(e) => return invalid(e),
    };
    if tries == 0 || tries > MAX_TRIES {
        return invalid(format!("--tries must be between 1 and {MAX_TRIES}"));
    }
    if seconds == 0 || seconds > MAX_SECONDS {
        return invalid(format!("--seconds must be between 1 and {MAX_SECONDS}"));
    }
    let mut w = WhatIf::default();
    for t in what_if {
        if let Err(e) = w.set(t) {
            return invalid(e);
        }
    }
    let start = std::time::Instant::now();
    let mut search = Search::new(p, w, h, seed, tries, 8);
    loop {
        match search.advance(200) {
            Progress::Searching { tried } => {
                if start.elapsed().as_secs() >= seconds {
                    eprintln!(
                        "pinlab: no {} in {tried} sequences under {}: the {seconds} s budget ran out",
                        h.name(),
                        p.name()
                    );
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            Progress::Found(f) => {
                eprintln!(
                    "pinlab: {} found after {} sequence(s), shrunk from {} to {} steps",
                    h.name(),
                    f.tries,
                    f.original_len,
                    f.steps.len()
                );
                let l = counterexample::lesson(&format!("Counterexample: {}", h.name()), p, w, &f.steps);
                out!("{}", l.to_toml().trim_end());
                return ExitCode::SUCCESS;
            }
            Progress::Exhausted { tried } => {
                eprintln!("pinlab: no {} in {tried} sequences under {}", h.name(), p.name());
                return ExitCode::from(EXIT_FAILED);
            }
            Progress::ModelBug { steps, bug } => {
                eprintln!("pinlab: MODEL BUG (please report it): {bug}");
                out!(
                    "{}",
                    counterexample::lesson("Model bug", p, w, &steps).to_toml().trim_end()
                );
                return ExitCode::from(EXIT_FAILED);
            }
        }
    }
}
