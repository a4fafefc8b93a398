//! `pinlab probe` on this machine's kernel. On Linux as root (the
//! developers' machines and CI) the probe runs for real; elsewhere it must
//! refuse clearly with exit status 2, and these tests check exactly that.

#![cfg(target_os = "linux")]

use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The probe reads global counters: one probe at a time in this file.
static SERIAL: Mutex<()> = Mutex::new(());

fn pinlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(args)
        .output()
        .expect("runs")
}

fn root() -> bool {
    rustix_like_geteuid() == 0
}

fn rustix_like_geteuid() -> u32 {
    // /proc/self/status: "Uid:\treal\teffective\t..."
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).and_then(|u| u.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn vmstat(name: &str) -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

/// What the probe could leave behind: its directories and its workers.
fn leftovers() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [std::env::temp_dir(), "/var/tmp".into(), "/dev/shm".into()] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with("pinlab-probe-") {
                    out.push(format!("{}/{n}", dir.display()));
                }
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains("probe-worker") {
                // A zombie has an empty cmdline: only live workers count.
                out.push(format!("worker {}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

/// What this probe run left behind: leftovers that were not there before
/// (a run killed by an earlier session must not fail this one).
fn left_since(before: &[String]) -> Vec<String> {
    leftovers().into_iter().filter(|l| !before.contains(l)).collect()
}

#[test]
fn without_root_the_probe_says_why_and_exits_2() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if root() {
        // As root the refusal path is the non-root one: check it through a
        // user that has no CAP_SYS_ADMIN, if setpriv is there.
        let o = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_pinlab"),
                "probe",
                "fork-cow",
            ])
            .output();
        let Ok(o) = o else { return };
        if o.status.code() == Some(127) {
            return;
        }
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("needs root"), "{o:?}");
    } else {
        let o = pinlab(&["probe", "fork-cow"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("sudo"));
    }
}

#[test]
fn fork_cow_agrees_with_this_kernel_and_leaves_nothing_behind() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = leftovers();
    let o = pinlab(&["probe", "fork-cow", "io-uring-fork", "--json"]);
    let j = json(&o);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let t = &j["totals"];
    assert_eq!(t["failed"], 0);
    assert!(t["passed"].as_u64().unwrap() >= 300, "{t}");
    // Pins the io_uring registration took were all released, and no worker
    // or temporary file is left.
    assert_eq!(vmstat("nr_foll_pin_acquired"), vmstat("nr_foll_pin_released"));
    assert_eq!(left_since(&before), Vec::<String>::new());
    // Refcounts and MMF_HAS_PINNED are read through BPF and agree: after
    // fork a shared page has two references, after IORING_REGISTER_BUFFERS a
    // small folio has its mapping's plus GUP_PIN_COUNTING_BIAS, and the
    // registering process has MMF_HAS_PINNED.
    let checks: Vec<&serde_json::Value> = j["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["steps"].as_array().unwrap())
        .flat_map(|s| s["checks"].as_array().unwrap())
        .collect();
    let agreed = |what: &str, live: &str| {
        checks
            .iter()
            .filter(|c| c["what"] == what && c["live"] == live && c["verdict"] == "agree")
            .count()
    };
    assert!(agreed("refcount", "2") >= 3, "fork's shared pages");
    assert!(agreed("refcount", "1025") >= 1, "a registered buffer's page");
    assert!(agreed("has_pinned", "true") >= 1, "the ring's owner");
    assert!(agreed("has_pinned", "false") >= 1);
}

#[test]
fn a_wrong_refcount_is_caught_by_the_kernels_own_count() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One reference more than the holders account for, on the newest folio:
    // the kernel's page->_refcount, read through BPF, says otherwise.
    let wrong = pinlab(&["probe", "fork-cow", "--inject-fault", "refcount-drift", "--json"]);
    assert_eq!(wrong.status.code(), Some(1));
    let j = json(&wrong);
    let fails: Vec<(i64, i64)> = j["lessons"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .filter(|c| c["verdict"] == "disagree" && c["what"] == "refcount")
        .map(|c| {
            let n = |v: &serde_json::Value| v.as_str().unwrap().parse::<i64>().unwrap();
            (n(&c["model"]), n(&c["live"]))
        })
        .collect();
    assert!(!fails.is_empty(), "no refcount disagreement");
    assert!(fails.iter().all(|(m, l)| m > l), "{fails:?}");
}

#[test]
fn a_deliberately_wrong_model_rule_is_caught() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let right = pinlab(&["probe", "fork-cow"]);
    assert_eq!(right.status.code(), Some(0));
    // fork copies every anonymous page (no COW sharing): no invariant of the
    // model breaks, but the kernel shows the parent and child sharing.
    let wrong = pinlab(&["probe", "fork-cow", "--inject-fault", "fork-copies", "--json"]);
    assert_eq!(wrong.status.code(), Some(1));
    let j = json(&wrong);
    assert!(j["totals"]["failed"].as_u64().unwrap() > 0);
    let fails: Vec<&serde_json::Value> = j["lessons"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .filter(|c| c["verdict"] == "disagree")
        .collect();
    assert!(
        fails
            .iter()
            .any(|c| c["what"] == "same_folio" && c["live"] == "true" && c["model"] == "false"),
        "{fails:?}"
    );
}

#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = leftovers();
    for args in [
        vec!["probe"],
        vec!["probe", "no-such-lesson"],
        vec!["probe", "/dev/zero"],
        vec!["probe", "fork-cow", "--known", "/no/such/file"],
    ] {
        let o = pinlab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
    // Too big to run live: said, and nothing done.
    // Not under the probe's own prefix: this directory is the test's.
    let dir = tempfile::Builder::new().prefix("pinlab-bigtest-").tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(
        &big,
        "id = \"big\"\ntitle = \"Big\"\nsummary = \"s\"\nobjectives = [\"o\"]\nkernels = [\"6.18\"]\n\
         [[step]]\ndo = \"spawn\"\nname = \"p\"\n[[step]]\ndo = \"mmap\"\nproc = \"p\"\nvma = \"m\"\npages = 131072\nwrite = true\n",
    )
    .unwrap();
    let o = pinlab(&["probe", big.to_str().unwrap()]);
    drop(dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("limited to 256 MiB"),
        "{o:?}"
    );
    assert_eq!(left_since(&before), Vec::<String>::new());
}

#[test]
fn ctrl_c_stops_the_probe_and_cleans_up() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = leftovers();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(["probe", "--all"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let t0 = Instant::now();
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let status = child.wait().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(15), "took {:?}", t0.elapsed());
    assert_eq!(status.code(), Some(2));
    assert_eq!(left_since(&before), Vec::<String>::new());
    assert_eq!(vmstat("nr_foll_pin_acquired"), vmstat("nr_foll_pin_released"));
}

#[test]
fn the_matrix_marks_cases_the_live_kernel_confirms() {
    if !root() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let o = pinlab(&["matrix", "--live", "--only", "vmsplice() + unmap in child", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = json(&o);
    let rows = rows.as_array().unwrap();
    let confirmed = rows.iter().filter(|r| r["live"]["verdict"] == "confirmed").count();
    assert!(confirmed >= 5, "{rows:?}");
    assert!(!rows.iter().any(|r| r["live"]["verdict"] == "contradicted"));
    // The base-page case is confirmed: the pipe keeps the old content.
    let base = rows.iter().find(|r| r["variant"] == "base page").unwrap();
    assert_eq!(base["live"]["outcome"], "P");
}
