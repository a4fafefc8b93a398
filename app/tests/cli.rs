//! The `pinlab` command line: output, JSON, and exit status 0 / 1 / 2.

use std::path::PathBuf;
use std::process::{Command, Output};

fn pinlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A file in a directory of its own that is removed when the test ends,
/// however it ends.
struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

fn temp(name: &str, content: &[u8]) -> Scratch {
    let dir = tempfile::Builder::new().prefix("pinlab-cli-").tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    Scratch { _dir: dir, path }
}

const LESSON: &str = r#"
id = "tiny"
title = "Tiny"
summary = "s"
objectives = ["o"]
kernels = ["5.7", "6.12"]
[[step]]
do = "spawn"
name = "p"
[[step]]
do = "mmap"
proc = "p"
vma = "b"
pages = 1
write = true
[[step]]
do = "write"
at = "p:b[0]"
data = "x"
expect = [{ refcount = "p:b[0]", is = REFCOUNT }]
"#;

#[test]
fn help_exits_zero() {
    let o = pinlab(&["--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("check"));
}

#[test]
fn lessons_lists_the_course_numbered_and_grouped_with_the_lectures() {
    let o = pinlab(&["lessons"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.starts_with("1 Foundations"), "{out}");
    assert!(out.contains("  1.1   folio-life "), "{out}");
    assert!(out.contains("(after fork-cow, ref-extraction)"), "{out}");
    assert!(out.contains("50-minutes"), "{out}");
    // Every built-in lesson has a number.
    for l in pinlab_lessons::builtin::all().into_iter().flatten() {
        assert!(
            out.contains(&format!(" {:<24}", l.id)),
            "{} has no place in the course",
            l.id
        );
    }
}

#[test]
fn a_bad_lecture_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.toml");
    std::fs::write(
        &f,
        "title = \"t\"\n[[stop]]\nlesson = \"fork-cow\"\nfrom = 2\nto = 1\nminutes = 3\n",
    )
    .unwrap();
    let o = pinlab(&["open", "--lecture", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("l.toml:2:1: steps 2-1 do not fit 'fork-cow'"),
        "{}",
        stderr(&o)
    );
    let o = pinlab(&["open", "--lecture", "no-such-lecture"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shipped lectures: 50-minutes, 2x90-minutes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_prints_the_transcript_and_exits_zero() {
    let o = pinlab(&["run", "folio-life"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("mm/memory.c: do_anonymous_page"));
    assert!(out.contains("[pass] refcount(file:notes[0]) = 2"));
}

#[test]
fn run_json_is_one_document() {
    let o = pinlab(&["run", "folio-life", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["lesson"], "folio-life");
    assert_eq!(v["passed"], true);
    assert!(v["steps"].as_array().unwrap().len() >= 5);
    assert!(v["steps"][2]["micro_steps"][0]["function"].is_string());
}

#[test]
fn a_failing_expectation_exits_one_and_an_invalid_file_two() {
    let ok = temp("ok.toml", LESSON.replace("REFCOUNT", "1").as_bytes());
    assert_eq!(pinlab(&["run", ok.to_str().unwrap()]).status.code(), Some(0));
    let bad = temp("bad.toml", LESSON.replace("REFCOUNT", "2").as_bytes());
    let o = pinlab(&["run", bad.to_str().unwrap(), "--kernel", "5.7"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("[FAIL] refcount(p:b[0]) = 2 (actual: 1;"));
    let broken = temp("broken.toml", LESSON.replace("REFCOUNT", "\"one\"").as_bytes());
    let o = pinlab(&["run", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.toml:20:"), "{}", stderr(&o));
    let utf = temp("latin1.toml", b"id = \"\xe9\"\n");
    let o = pinlab(&["run", utf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"));
}

#[test]
fn bad_arguments_exit_two() {
    assert_eq!(pinlab(&["run", "no-such-lesson"]).status.code(), Some(2));
    assert_eq!(pinlab(&["run", "folio-life", "--kernel", "4.1"]).status.code(), Some(2));
    let o = pinlab(&["run", "folio-life", "--what-if", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown what-if toggle 'bogus'"));
    assert_eq!(pinlab(&["run", "/nonexistent/x.toml"]).status.code(), Some(2));
    assert_eq!(pinlab(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn check_reports_per_kernel_and_a_closing_count() {
    let ok = temp("check-ok.toml", LESSON.replace("REFCOUNT", "1").as_bytes());
    let o = pinlab(&["check", ok.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("pass  tiny") && out.contains("kernel 5.7") && out.contains("kernel 6.12"));
    assert!(out.lines().last().unwrap() == "2 passed, 0 failed", "{out}");
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons/tests/malformed");
    let o = pinlab(&["check", corpus]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("INVALID 01-not-toml.toml") || stdout(&o).contains("01-not-toml.toml:2:8"));
}

#[test]
fn handout_writes_markdown_with_answers() {
    let dir = tempfile::Builder::new().prefix("pinlab-handout-").tempdir().unwrap();
    let out = dir.path().join("h.md");
    let o = pinlab(&["handout", "folio-life", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(out).unwrap();
    assert!(md.starts_with("# A folio's life"));
    assert!(md.contains("## Answers"));
    assert!(md.contains("| `app:buf[1]` |"));
}

/// The output's extension picks the format: `-o x.html` writes the HTML
/// handout (a cropped picture per step, real tables), a worksheet without
/// pictures.
#[test]
fn handout_to_an_html_file_writes_html() {
    let dir = tempfile::Builder::new().prefix("pinlab-handout-").tempdir().unwrap();
    let out = dir.path().join("fc.html");
    let o = pinlab(&["handout", "fork-cow", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{}", &html[..80.min(html.len())]);
    assert!(html.matches("<svg").count() >= 10);
    assert!(html.contains("<table>"));
    assert!(!html.contains("viewBox=\"0 0 1200 4000\""), "figures are cropped");
    let ws = dir.path().join("ws.HTM");
    let o = pinlab(&["handout", "fork-cow", "--worksheet", "-o", ws.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ws = std::fs::read_to_string(&ws).unwrap();
    assert!(ws.starts_with("<!doctype html>") && !ws.contains("<svg"));
}

#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinlab"))
        // Far more than a pipe buffer (64 KiB), so the writer meets the closed pipe.
        .args(["matrix", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Read one byte, then hang up, as `pinlab matrix --json | head -c1` does.
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{status:?}");
}

#[test]
fn matrix_shows_the_cve_on_5_7_and_its_fix() {
    let o = pinlab(&["matrix", "--json", "--only", "vmsplice() + unmap in child"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let base = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["test"] == "vmsplice() + unmap in child" && r["variant"] == "base page")
        .expect("row");
    let cell = |k: &str| {
        base["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c[0] == k)
            .map(|c| c[1].clone())
            .unwrap()
    };
    assert_eq!(cell("5.7")["outcome"], "fail");
    assert_eq!(cell("5.7")["known"]["basis"], "stated");
    assert_eq!(cell("6.12")["outcome"], "pass");
    let text = stdout(&pinlab(&["matrix", "--only", "collapsing"]));
    assert!(text.contains("0 disagreement(s)"), "{text}");
}

#[test]
fn exercises_are_reproducible_and_their_lessons_run() {
    let a = pinlab(&["exercise", "--seed", "11", "--count", "2"]);
    let b = pinlab(&["exercise", "--seed", "11", "--count", "2"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(stdout(&a).contains("Answer key"));
    let scratch = tempfile::Builder::new().prefix("pinlab-ex-").tempdir().unwrap();
    let dir = scratch.path();
    let o = pinlab(&[
        "exercise",
        "--seed",
        "11",
        "--count",
        "2",
        "--lessons",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let file = dir.join("exercise-11-1.toml");
    let r = pinlab(&["run", file.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stdout(&r));
    assert_eq!(pinlab(&["exercise", "--count", "0"]).status.code(), Some(2));
}

fn pinlab_with_stdout(args: &[&str], stdout_to: std::fs::File) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(args)
        .stdout(stdout_to)
        .output()
        .expect("runs")
}

/// `pinlab check failing.toml > /dev/full`: the failure is still 1; a
/// success whose output cannot be written is 2; both say so on stderr.
#[test]
fn exit_status_survives_an_unwritable_stdout() {
    let failing = temp("full-fail.toml", LESSON.replace("REFCOUNT", "7").as_bytes());
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let o = pinlab_with_stdout(&["check", failing.to_str().unwrap()], full());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write the output"), "{}", stderr(&o));
    let passing = temp("full-pass.toml", LESSON.replace("REFCOUNT", "1").as_bytes());
    let o = pinlab_with_stdout(&["check", passing.to_str().unwrap()], full());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Not a regular file: refused at once, without reading (a FIFO would block,
/// /dev/zero never ends).
#[test]
fn devices_fifos_and_big_files_are_refused_at_once() {
    let o = pinlab(&["run", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    let fifo = std::env::temp_dir().join(format!("pinlab-fifo-{}.toml", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let start = std::time::Instant::now();
    let o = pinlab(&["run", fifo.to_str().unwrap()]);
    let _ = std::fs::remove_file(&fifo);
    assert_eq!(o.status.code(), Some(2));
    assert!(start.elapsed().as_secs() < 10, "returned without waiting for a writer");
    let big = temp("big.toml", &vec![b'#'; 2 << 20]);
    let o = pinlab(&["run", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("at most 1048576 bytes"), "{}", stderr(&o));
}

/// A deliberately broken invariant (a folio whose refcount drifts from its
/// holders) makes `pinlab check` exit 1 and name the violation.
#[test]
fn a_broken_invariant_fails_check_and_is_named() {
    let o = pinlab(&["check", "--inject-fault", "refcount-drift"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("MODEL BUG"), "{out}");
    assert!(
        out.contains("refcount") && out.contains("references add up to"),
        "{out}"
    );
    // The same lessons without the fault pass.
    assert_eq!(pinlab(&["check"]).status.code(), Some(0));
}

/// `--kernel` takes what `uname -r` prints and says which preset it chose.
#[test]
fn kernel_accepts_uname_releases_and_notes_newer_ones() {
    let o = pinlab(&["run", "folio-life", "--kernel", "6.8.0-45-generic"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("kernel 6.8"));
    assert!(stderr(&o).contains("preset 6.8 (6.8-6.11)"), "{}", stderr(&o));
    let o = pinlab(&["run", "folio-life", "--kernel", "7.1.5"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("newer than the newest preset: using 6.18"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        pinlab(&["run", "folio-life", "--kernel", "4.19"]).status.code(),
        Some(2)
    );
}

#[test]
fn counterexample_tries_and_time_are_bounded() {
    let o = pinlab(&["counterexample", "data_leak", "--tries", "4294967295"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tries must be between 1 and 1000000"));
    let o = pinlab(&["counterexample", "data_leak", "--seconds", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `--help`, docs/cli.md and the command enum list the same commands.
#[test]
fn help_and_docs_list_the_same_commands() {
    let o = pinlab(&["--help"]);
    let help = stdout(&o);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(listed.len() >= 10, "{help}");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md")).unwrap();
    for c in &listed {
        assert!(
            doc.contains(&format!("| `pinlab {c}")),
            "docs/cli.md does not document `pinlab {c}`"
        );
    }
    for line in doc.lines().filter(|l| l.starts_with("| `pinlab ")) {
        let c = line.trim_start_matches("| `pinlab ").split([' ', '`']).next().unwrap();
        assert!(
            listed.iter().any(|l| l == c),
            "docs/cli.md documents `pinlab {c}`, which --help does not list"
        );
    }
}

#[test]
fn a_window_size_is_checked_before_anything_opens() {
    for bad in ["10x10", "1920", "axb", "99999x1080"] {
        let o = pinlab(&["open", "folio-life", "--size", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("size"), "{bad}: {}", stderr(&o));
    }
    assert_eq!(pinlab::cli::window_size("1920x1080"), Ok([1920.0, 1080.0]));
}
