//! The command line: `pinlab lessons | run | check | handout`. Exit status 0
//! when everything held, 1 when an expectation failed, 2 for invalid input.

/// `println!` that stops quietly when stdout is closed (`pinlab run x | head`)
/// instead of panicking on the broken pipe.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

use clap::{Parser, Subcommand};
use pinlab_lessons::load::{LoadError, check_unique, load_str};
use pinlab_lessons::model::{Preset, WhatIf};
use pinlab_lessons::run::{run_with_sim, transcript};
use pinlab_lessons::{Lesson, builtin};
use std::io::Write;
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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the desktop app on a lesson (built-in id or file), at a step.
    Open {
        lesson: String,
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
    },
    /// List the built-in lessons (id and title).
    Lessons,
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
        /// Print the report as one JSON document (docs/cli-json.md).
        #[arg(long)]
        json: bool,
    },
    /// Run every built-in lesson (or the given files and folders) under each kernel it declares.
    Check { paths: Vec<PathBuf> },
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
        #[arg(long, default_value_t = 20_000)]
        tries: u32,
    },
    /// Write a Markdown handout of a lesson.
    Handout {
        lesson: String,
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[arg(long)]
        kernel: Option<String>,
    },
}

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;

fn invalid(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("pinlab: {msg}");
    ExitCode::from(EXIT_INVALID)
}

/// A built-in id, or a lesson file.
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

pub fn load_file(path: &Path) -> Result<Lesson, LoadError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| LoadError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8(text).map_err(|e| LoadError {
        file: name.clone(),
        line: 0,
        col: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    load_str(&name, &text)
}

fn preset_arg(kernel: &Option<String>, lesson: &Lesson) -> Result<Preset, String> {
    match kernel {
        None => Ok(lesson.kernels[0]),
        Some(k) => Preset::parse(k).ok_or_else(|| {
            format!(
                "unknown kernel '{k}' (known presets: {})",
                Preset::ALL.map(|p| p.name()).join(", ")
            )
        }),
    }
}

pub fn main_with(cli: Cli) -> ExitCode {
    match cli.command {
        None | Some(Command::Open { .. }) => {
            eprintln!("pinlab: the desktop app is started by the binary's main");
            ExitCode::from(EXIT_INVALID)
        }
        Some(Command::Lessons) => {
            for l in builtin::all() {
                match l {
                    Ok(l) => out!("{:<28} {}", l.id, l.title),
                    Err(e) => out!("(broken) {e}"),
                }
            }
            ExitCode::SUCCESS
        }
        Some(Command::Run {
            lesson,
            kernel,
            what_if,
            json,
        }) => {
            let l = match find_lesson(&lesson) {
                Ok(l) => l,
                Err(e) => return invalid(e),
            };
            let preset = match preset_arg(&kernel, &l) {
                Ok(p) => p,
                Err(e) => return invalid(e),
            };
            let mut whatif: Option<WhatIf> = None;
            for t in &what_if {
                let w = whatif.get_or_insert(l.whatif);
                if let Err(e) = w.set(t) {
                    return invalid(e);
                }
            }
            let (_, report) = run_with_sim(&l, preset, whatif);
            let out = if json {
                serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
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
        Some(Command::Check { paths }) => check(&paths),
        Some(Command::Matrix { json, only }) => matrix(json, only.as_deref()),
        Some(Command::Counterexample {
            hazard,
            kernel,
            what_if,
            seed,
            tries,
        }) => counterexample(&hazard, &kernel, &what_if, seed, tries),
        Some(Command::Exercise {
            seed,
            count,
            json,
            lessons,
        }) => exercise(seed, count, json, lessons.as_deref()),
        Some(Command::Handout { lesson, output, kernel }) => {
            let l = match find_lesson(&lesson) {
                Ok(l) => l,
                Err(e) => return invalid(e),
            };
            let preset = match preset_arg(&kernel, &l) {
                Ok(p) => p,
                Err(e) => return invalid(e),
            };
            let md = pinlab_lessons::handout::handout(&l, preset);
            match output {
                Some(p) => {
                    if let Err(e) = std::fs::write(&p, md) {
                        return invalid(format!("cannot write {}: {e}", p.display()));
                    }
                }
                None => {
                    let _ = std::io::stdout().write_all(md.as_bytes());
                }
            }
            ExitCode::SUCCESS
        }
    }
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

fn check(paths: &[PathBuf]) -> ExitCode {
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
            let (_, r) = run_with_sim(l, *p, None);
            if r.passed {
                passed += 1;
                out!("pass  {:<28} kernel {:<5} {} checks", l.id, p.name(), r.checks_passed);
            } else {
                failed += 1;
                out!(
                    "FAIL  {:<28} kernel {:<5} {} of {} checks failed",
                    l.id,
                    p.name(),
                    r.checks_failed,
                    r.checks_passed + r.checks_failed
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

fn matrix(json: bool, only: Option<&str>) -> ExitCode {
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
    if json {
        out!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        let mut last = String::new();
        for r in &rows {
            let title = format!("{}: {}", r.group, r.test);
            if title != last {
                out!("\n{title}");
                let mut head = format!("  {:<46}", "variant");
                for (p, _) in &r.cells {
                    head.push_str(&format!("{p:<6}"));
                }
                out!("{head}");
                last = title;
            }
            let mut line = format!("  {:<46}", truncate(&r.variant, 45));
            for (_, c) in &r.cells {
                line.push_str(&format!("{:<6}", format!("{}{}", c.outcome.short(), c.mark())));
            }
            out!("{line}");
        }
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
    }
    if disagreements > 0 || newest_bad > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
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

fn counterexample(hazard: &str, kernel: &str, what_if: &[String], seed: u64, tries: u32) -> ExitCode {
    use pinlab_lessons::counterexample::{lesson_text, search};
    use pinlab_lessons::model::HazardKind;
    let Some(h) = HazardKind::parse(hazard) else {
        let all: Vec<&str> = HazardKind::ALL.iter().map(|h| h.name()).collect();
        return invalid(format!("unknown hazard '{hazard}' (known: {})", all.join(", ")));
    };
    let Some(p) = Preset::parse(kernel) else {
        return invalid(format!("unknown kernel '{kernel}'"));
    };
    let mut w = WhatIf::default();
    for t in what_if {
        if let Err(e) = w.set(t) {
            return invalid(e);
        }
    }
    match search(p, w, h, seed, tries, 8) {
        Some(f) => {
            eprintln!(
                "pinlab: {} found after {} sequence(s), shrunk from {} to {} steps",
                h.name(),
                f.tries,
                f.original_len,
                f.steps.len()
            );
            out!(
                "{}",
                lesson_text(&format!("Counterexample: {}", h.name()), p, w, &f.steps).trim_end()
            );
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("pinlab: no {} in {tries} sequences under {}", h.name(), p.name());
            ExitCode::from(EXIT_FAILED)
        }
    }
}
