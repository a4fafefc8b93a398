//! The selftest matrix: coverage of the selftests' test names, mainline
//! expectations under the newest preset, and agreement with every outcome a
//! source states.

use pinlab_lessons::matrix::{Basis, Outcome, cases, known, run_row};
use pinlab_lessons::model::Preset;

/// The test descriptions of cow.c (anon_test_cases, anon_thp_test_cases,
/// non_anon_test_cases) and gup_longterm.c (test_cases), as the selftests print them.
const SELFTEST_NAMES: &[&str] = &[
    "Basic COW after fork()",
    "Basic COW after fork() with mprotect() optimization",
    "vmsplice() + unmap in child",
    "vmsplice() + unmap in child with mprotect() optimization",
    "vmsplice() before fork(), unmap in parent after fork()",
    "vmsplice() + unmap in parent after fork()",
    "R/O-mapping a page registered as iouring fixed buffer",
    "fork() with an iouring fixed buffer",
    "R/O GUP pin on R/O-mapped shared page",
    "R/O GUP-fast pin on R/O-mapped shared page",
    "R/O GUP pin on R/O-mapped previously-shared page",
    "R/O GUP-fast pin on R/O-mapped previously-shared page",
    "R/O GUP pin on R/O-mapped exclusive page",
    "R/O GUP-fast pin on R/O-mapped exclusive page",
    "Basic COW after fork() when collapsing before fork()",
    "Basic COW after fork() when collapsing after fork() (fully shared)",
    "Basic COW after fork() when collapsing after fork() (lower shared)",
    "Basic COW after fork() when collapsing after fork() (upper shared)",
    "Basic COW",
    "R/O longterm GUP pin",
    "R/O longterm GUP-fast pin",
    "R/W longterm GUP pin in MAP_SHARED file mapping",
    "R/W longterm GUP-fast pin in MAP_SHARED file mapping",
    "R/O longterm GUP pin in MAP_SHARED file mapping",
    "R/O longterm GUP-fast pin in MAP_SHARED file mapping",
    "R/W longterm GUP pin in MAP_PRIVATE file mapping",
    "R/W longterm GUP-fast pin in MAP_PRIVATE file mapping",
    "R/O longterm GUP pin in MAP_PRIVATE file mapping",
    "R/O longterm GUP-fast pin in MAP_PRIVATE file mapping",
    "io_uring fixed buffer with MAP_SHARED file mapping",
    "io_uring fixed buffer with MAP_PRIVATE file mapping",
];

#[test]
fn every_selftest_name_is_covered() {
    let all: Vec<_> = cases().into_iter().map(|c| c.expect("loads")).collect();
    for name in SELFTEST_NAMES {
        assert!(all.iter().any(|c| c.test == *name), "no case for '{name}'");
    }
    for c in &all {
        assert!(
            SELFTEST_NAMES.contains(&c.test.as_str()),
            "{}: unknown test name '{}'",
            c.id,
            c.test
        );
    }
}

/// One test, because the matrix is 2,646 runs: under the newest preset every
/// case passes, as on mainline; under every preset, each outcome a source
/// gives matches the model's.
#[test]
fn mainline_passes_and_the_model_agrees_with_every_known_outcome() {
    let known = known().unwrap();
    let mut disagree = Vec::new();
    let mut newest_bad = Vec::new();
    let mut compared = 0;
    for c in cases().into_iter().map(|c| c.unwrap()) {
        let row = run_row(&c, &known);
        for (p, cell) in &row.cells {
            if *p == Preset::NEWEST.name() && cell.outcome != Outcome::Pass {
                newest_bad.push(format!("{}: {:?} {}", c.id, cell.outcome, cell.detail));
            }
            match cell.agrees() {
                Some(true) => compared += 1,
                Some(false) => disagree.push(format!(
                    "{} under {p}: model {:?}, known {:?} ({})",
                    c.id,
                    cell.outcome,
                    cell.known.as_ref().unwrap().outcome,
                    cell.detail
                )),
                None => {}
            }
        }
    }
    assert!(
        newest_bad.is_empty(),
        "under the newest preset:\n{}",
        newest_bad.join("\n")
    );
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    assert!(compared > 500, "only {compared} cells have a stated outcome");
}

/// Every known outcome names its source; a derived one (it follows from the
/// rules the model also follows) is marked and never counted as compared.
#[test]
fn known_outcomes_name_their_source_and_derived_ones_are_not_compared() {
    let known = known().unwrap();
    assert!(known.iter().all(|k| !k.source.trim().is_empty()));
    assert!(known.iter().any(|k| k.basis == Basis::Derived));
    let c = cases()
        .into_iter()
        .map(|c| c.unwrap())
        .find(|c| c.test == "Basic COW")
        .unwrap();
    let row = run_row(&c, &known);
    for (_, cell) in &row.cells {
        if cell.derived() {
            assert_eq!(cell.agrees(), None);
            assert_eq!(cell.mark(), "~");
        }
    }
}
