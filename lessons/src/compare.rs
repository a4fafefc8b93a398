//! Side by side: what differs at one lesson step between two runs of the
//! same lesson (two presets, or two sets of what-if toggles). Pages are
//! matched by address (process, mapping, page), not by folio number, since
//! the two runs may allocate folios in a different order.

use crate::run::StepReport;
use pinlab_model::mm::Pte;
use pinlab_model::{FolioId, World, ZERO_FOLIO};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// What differs: "parent:buf[0]", "result", "data read", "hazards".
    pub what: String,
    pub left: String,
    pub right: String,
    /// The folios involved on each side (for marking them on the canvases).
    pub left_folio: Option<FolioId>,
    pub right_folio: Option<FolioId>,
}

/// What a page looks like to someone comparing two kernels.
fn pages(w: &World) -> BTreeMap<String, (String, Option<FolioId>)> {
    let mut out = BTreeMap::new();
    for p in w.procs.values().filter(|p| p.alive) {
        for v in p.mm.vmas.values() {
            for i in 0..v.pages() {
                let vpn = v.start + i;
                let addr = format!("{}:{}[{}]", p.name, v.name, vpn - first_of(p, &v.name));
                let (text, folio) = match v.pte(vpn) {
                    Pte::None => continue,
                    Pte::Swap { .. } => ("swapped out".to_string(), None),
                    Pte::Present {
                        folio, page, writable, ..
                    } => {
                        let f = w.folio(folio);
                        let who = if folio == ZERO_FOLIO {
                            "zero page".to_string()
                        } else {
                            format!("refcount {}, mapcount {}", f.refcount, f.total_mapcount())
                        };
                        (
                            format!(
                                "{who}, data '{}', PTE {}",
                                f.pages[page as usize].data.tag(),
                                if writable { "writable" } else { "read-only" }
                            ),
                            Some(folio),
                        )
                    }
                };
                out.insert(addr, (text, folio));
            }
        }
    }
    out
}

/// Page indexes are relative to the first VMA of that name (a split mapping keeps its name).
fn first_of(p: &pinlab_model::mm::Process, name: &str) -> u64 {
    p.mm.vmas
        .values()
        .filter(|v| v.name == name)
        .map(|v| v.start)
        .min()
        .unwrap_or(0)
}

fn list(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

/// The differences at one step: the action's result, what it read, the
/// hazards it raised, then every mapped page whose state differs.
pub fn differences(left: (&World, Option<&StepReport>), right: (&World, Option<&StepReport>)) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut plain = |what: &str, l: String, r: String| {
        if l != r {
            out.push(Difference {
                what: what.into(),
                left: l,
                right: r,
                left_folio: None,
                right_folio: None,
            });
        }
    };
    if let (Some(a), Some(b)) = (left.1, right.1) {
        plain("result", a.result.to_string(), b.result.to_string());
        plain("data read", list(&a.data), list(&b.data));
        let kinds = |s: &StepReport| s.hazards.iter().map(|h| h.kind.name().to_string()).collect::<Vec<_>>();
        plain("hazards", list(&kinds(a)), list(&kinds(b)));
    }
    let (a, b) = (pages(left.0), pages(right.0));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (l, lf) = a.get(k).cloned().unwrap_or(("not mapped".into(), None));
        let (r, rf) = b.get(k).cloned().unwrap_or(("not mapped".into(), None));
        if l != r {
            out.push(Difference {
                what: k.clone(),
                left: l,
                right: r,
                left_folio: lf,
                right_folio: rf,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin;
    use crate::run::run_with_sim;
    use pinlab_model::Preset;

    fn at_step(id: &str, p: Preset, k: usize) -> (World, StepReport) {
        let l = builtin::by_id(id).unwrap();
        let (sim, r) = run_with_sim(&l, p, None);
        let s = r.steps[k - 1].clone();
        (sim.entries()[s.end_entry - 1].world.clone(), s)
    }

    #[test]
    fn the_vmsplice_leak_differs_between_5_7_and_5_8_and_not_between_5_8_and_5_9() {
        // Step 8: the child reads the pipe.
        let (w7, s7) = at_step("vmsplice-leak", Preset::V5_7, 8);
        let (w8, s8) = at_step("vmsplice-leak", Preset::V5_8, 8);
        let d = differences((&w7, Some(&s7)), (&w8, Some(&s8)));
        let read = d.iter().find(|d| d.what == "data read").expect("the read differs");
        assert_eq!((read.left.as_str(), read.right.as_str()), ("secret", "public"));
        assert!(d.iter().any(|d| d.what == "hazards" && d.left == "data_leak"));
        let same = differences((&w8, Some(&s8)), (&w8, Some(&s8)));
        assert!(same.is_empty());
    }

    #[test]
    fn pages_are_matched_by_address() {
        // dio-across-fork: where the DMA lands differs between 5.8 (refs) and 6.5 (pins).
        let l = builtin::by_id("dio-across-fork").unwrap();
        let n = l.steps.len();
        let (a, sa) = at_step("dio-across-fork", Preset::V5_8, n);
        let (b, sb) = at_step("dio-across-fork", Preset::V6_5, n);
        let d = differences((&a, Some(&sa)), (&b, Some(&sb)));
        let child = d.iter().find(|d| d.what == "child:buf[0]").expect("child page differs");
        assert!(
            child.left.contains("disk-data") && child.right.contains("'old'"),
            "{child:?}"
        );
    }
}
