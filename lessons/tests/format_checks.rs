//! The lesson format's checks and step keys, each shown to pass where the
//! model agrees and to fail where it does not (a check that cannot fail
//! proves nothing).

use pinlab_lessons::load_str;
use pinlab_lessons::run::{Report, run_lesson};
use pinlab_model::Preset;

const HEAD: &str = "id = \"t\"\ntitle = \"t\"\nsummary = \"s\"\nobjectives = [\"o\"]\n";

fn run(steps: &str, p: Preset) -> Report {
    let text = format!("{HEAD}{steps}");
    let l = load_str("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    run_lesson(&l, p)
}

/// (passed, expectation) of every check, in order.
fn checks(r: &Report) -> Vec<(bool, String)> {
    r.steps
        .iter()
        .flat_map(|s| s.checks.iter().map(|c| (c.passed, c.expect.clone())))
        .collect()
}

const SETUP: &str = r#"
[[step]]
do = "spawn"
name = "p"
[[step]]
do = "mmap"
proc = "p"
vma = "buf"
pages = 4
write = true
"#;

#[test]
fn range_write_count_and_deltas() {
    let r = run(
        &format!(
            r#"{SETUP}
[[step]]
do = "write"
at = "p:buf[0]"
pages = 4
data = ["a", "b", "c", "d"]
expect = [
  {{ data = "p:buf[2]", is = "c" }},
  {{ refcount_delta = "p:buf[3]", is = 1 }},
  {{ vmstat_delta = "pgfault", is = 4 }},
]
[[step]]
do = "gup"
at = "p:buf[1]"
holder = "h"
count = 3
expect = [
  {{ refcount = "p:buf[1]", is = 4 }},
  {{ refcount_delta = "p:buf[1]", is = 3 }},
  {{ refcount = "p:buf[1]", at_least = 2 }},
  {{ refcount = "p:buf[1]", at_least = 5 }},
  {{ lru = "p:buf[1]", one_of = ["inactive", "active"] }},
  {{ lru = "p:buf[1]", one_of = ["unevictable"] }},
  {{ pincount_delta = "p:buf[1]", is = 0 }},
]
[[step]]
do = "release"
holder = "h"
expect = [
  {{ refcount_delta = "p:buf[1]", is = -3 }},
]
"#
        ),
        Preset::NEWEST,
    );
    let c = checks(&r);
    let failed: Vec<&String> = c.iter().filter(|(ok, _)| !ok).map(|(_, e)| e).collect();
    assert_eq!(
        failed,
        vec!["refcount(p:buf[1]) >= 5", "lru(p:buf[1]) in {'unevictable'}"],
        "{c:#?}"
    );
}

#[test]
fn bio_flags_and_will_pin_follow_the_release() {
    let steps = format!(
        r#"{SETUP}
[[step]]
do = "create_file"
name = "f"
fs = "ext4"
pages = 1
[[step]]
do = "write"
at = "p:buf[0]"
data = "x"
[[step]]
do = "dio_read"
proc = "p"
vma = "buf"
file = "f"
bio = "rd"
wait = false
expect = [
  {{ bio_flags = "bio:rd", is = ["BIO_PAGE_PINNED"] }},
  {{ will_pin = "bio:rd", is = true }},
]
"#
    );
    let r = run(&steps, Preset::V6_5);
    assert!(r.passed, "{:#?}", checks(&r));
    let r = run(&steps, Preset::V6_4);
    assert_eq!(checks(&r).iter().filter(|(ok, _)| !ok).count(), 2, "{:#?}", checks(&r));
    let actual: Vec<&str> = r
        .steps
        .last()
        .unwrap()
        .checks
        .iter()
        .map(|c| c.actual.as_str())
        .collect();
    assert_eq!(actual, vec!["[]", "false"]);
}

#[test]
fn mapped_zone_and_swapcache() {
    let r = run(
        &format!(
            r#"{SETUP}
[[step]]
do = "mmap"
proc = "p"
vma = "mov"
pages = 1
write = true
zone = "cma"
[[step]]
do = "write"
at = "p:mov[0]"
data = "m"
expect = [
  {{ zone = "p:mov[0]", is = "cma" }},
  {{ swapcache = "p:mov[0]", is = false }},
]
[[step]]
do = "madvise"
proc = "p"
vma = "buf"
advice = "DONTFORK"
[[step]]
do = "fork"
parent = "p"
child = "c"
expect = [
  {{ mapped = "c:buf", is = false }},
  {{ mapped = "c:buf[0]", is = false }},
  {{ mapped = "c:mov", is = true }},
  {{ mapped = "p:buf[3]", is = true }},
]
"#
        ),
        Preset::NEWEST,
    );
    assert!(r.passed, "{:#?}", checks(&r));
}

#[test]
fn a_step_runs_only_under_its_kernels_and_with_its_own_whatif() {
    let steps = format!(
        r#"{SETUP}
[[step]]
do = "madvise"
proc = "p"
vma = "buf"
advice = "COLLAPSE"
kernels = ["6.1+"]
expect = [{{ errno = "EINVAL" }}]
[[step]]
do = "create_file"
name = "f"
fs = "ext4"
pages = 1
[[step]]
do = "write"
at = "p:buf[0]"
data = "x"
[[step]]
do = "dio_read"
proc = "p"
vma = "buf"
file = "f"
bio = "rd"
wait = false
whatif = ["bio_v7_modes"]
expect = [{{ bio_flags = "bio:rd", is = ["BIO_PAGE_PINNED"] }}]
"#
    );
    // Under 6.0 the collapse step does not run, and neither does its check.
    let r = run(&steps, Preset::V6_0);
    assert!(r.steps[2].result.to_string().starts_with("not run under this kernel"));
    assert!(r.steps[2].checks.is_empty());
    assert!(r.passed, "{:#?}", checks(&r));
    // Under 6.1 it runs (a VMA smaller than a PMD is refused with EINVAL:
    // hugepage_vma_check), and its check with it.
    let r = run(&steps, Preset::V6_1);
    assert!(
        r.steps[2].result.to_string().starts_with("EINVAL"),
        "{}",
        r.steps[2].result
    );
    assert_eq!(r.steps[2].checks.len(), 1);
    assert!(r.steps[2].checks[0].passed);
    // The step's what-if: the v7 proposal pins the O_DIRECT read even under 6.4.
    let r = run(&steps, Preset::V6_4);
    assert!(r.steps.last().unwrap().checks[0].passed, "{:#?}", checks(&r));
    let world_whatif = pinlab_lessons::run::run_with_sim(
        &load_str("t.toml", &format!("{HEAD}{steps}")).unwrap(),
        Preset::V6_4,
        None,
    )
    .0
    .world()
    .whatif;
    assert_eq!(
        world_whatif,
        pinlab_model::WhatIf::default(),
        "the timeline keeps the lesson's toggles"
    );
}
