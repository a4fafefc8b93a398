//! Every kernel function the model prints, and every function a lesson's
//! narration names in backticks, exists in the preset's release, in the file
//! the model names (assets/kernel-symbols.toml, verified against one release
//! tree per preset by tools/symbols/verify.py).

use pinlab_lessons::lesson::Lesson;
use pinlab_lessons::run::{Report, run_report};
use pinlab_lessons::{builtin, matrix};
use pinlab_model::symbols::SymbolTable;
use pinlab_model::world::Vmstat;
use pinlab_model::{HazardKind, Preset, WhatIf};
use std::collections::BTreeSet;

/// Problems of one run: micro-steps naming a function the table does not
/// place in that file in this release, or whose sentence names one the
/// release lacks.
fn check_run(table: &SymbolTable, r: &Report, p: Preset) -> BTreeSet<String> {
    let mut bad = BTreeSet::new();
    for s in r.steps.iter().flat_map(|s| &s.micro_steps) {
        if !s.function.is_empty()
            && let Some(why) = table.check_step(&s.function, &s.path, p)
        {
            bad.insert(why);
        }
        for name in table.missing_names_in(&s.text, p) {
            bad.insert(format!("{p}: the text of {} names {name}: {}", s.function, s.text));
        }
    }
    bad
}

/// Backticked identifiers in a lesson's narration for `p`: each must be a
/// function (or flag) the table knows and p's release has. A name of another
/// release is written without backticks, with its release.
fn check_narration(table: &SymbolTable, l: &Lesson, p: Preset) -> BTreeSet<String> {
    let names = table.names();
    let mut bad = BTreeSet::new();
    for st in &l.steps {
        let text = Lesson::narration(st, p);
        for (i, quoted) in text.split('`').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let q = quoted.trim_end_matches("()");
            let looks_like_fn = !q.is_empty()
                && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && q.contains('_')
                && q.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !looks_like_fn {
                continue;
            }
            let is_flag = q
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_flag && !names.contains(q) {
                continue; // FOLL_PIN, BIO_PAGE_PINNED, ITER_UBUF: not in the table
            }
            // vmstat counters, pinlab's own names (what-ifs, hazards), user-space calls.
            let pinlab_name = Vmstat::NAMES.contains(&q)
                || WhatIf::default().clone().set(q).is_ok()
                || HazardKind::parse(q).is_some();
            if pinlab_name || table.is_other(q) {
                continue;
            }
            if !names.contains(q) {
                bad.insert(format!(
                    "{} line {}: `{q}` is not in the kernel symbol table",
                    l.id, st.line
                ));
            } else if !table.exists_in(q, p) {
                bad.insert(format!(
                    "{} line {} under {p}: `{q}` does not exist in {p}",
                    l.id, st.line
                ));
            }
        }
    }
    bad
}

fn lessons() -> Vec<Lesson> {
    builtin::all().into_iter().map(|l| l.expect("loads")).collect()
}

#[test]
fn builtin_lessons_name_only_functions_of_each_release() {
    let table = SymbolTable::builtin();
    let mut bad = BTreeSet::new();
    for l in lessons() {
        for p in Preset::ALL {
            let r = run_report(&l, p, None);
            bad.extend(check_run(table, &r, p).into_iter().map(|b| format!("{}: {b}", l.id)));
        }
        for p in &l.kernels {
            bad.extend(check_narration(table, &l, *p));
        }
    }
    assert!(
        bad.is_empty(),
        "{} problem(s):\n{}",
        bad.len(),
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn selftest_cases_name_only_functions_of_each_release() {
    let table = SymbolTable::builtin();
    let mut bad = BTreeSet::new();
    for case in matrix::cases() {
        let case = case.expect("loads");
        for p in Preset::ALL {
            let r = run_report(&case.lesson, p, None);
            bad.extend(check_run(table, &r, p).into_iter().map(|b| format!("{}: {b}", case.id)));
        }
    }
    assert!(
        bad.is_empty(),
        "{} problem(s):\n{}",
        bad.len(),
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The check fails when the table is wrong: here it forgets that 5.19 has
/// folio_clear_dirty_for_io, and the fsync lesson under 5.19 is reported.
#[test]
fn a_deliberately_wrong_table_entry_fails_the_check() {
    let mut table = SymbolTable::builtin().clone();
    for e in table.fns.iter_mut().filter(|e| e.name == "folio_clear_dirty_for_io") {
        e.releases.retain(|r| r != "5.19");
    }
    let l = builtin::by_id("fsync-pinned").expect("lesson");
    let r = run_report(&l, Preset::V5_19, None);
    let bad = check_run(&table, &r, Preset::V5_19);
    assert!(bad.iter().any(|b| b.contains("folio_clear_dirty_for_io")), "{bad:?}");
    assert!(check_run(SymbolTable::builtin(), &r, Preset::V5_19).is_empty());
}
