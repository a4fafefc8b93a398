//! The reference graph and the micro-step transcript.

mod common;
use common::*;
use pinlab_model::graph::RefGraph;
use pinlab_model::refs::{RefKind, Referrer, references_to};
use pinlab_model::*;

#[test]
fn graph_lists_every_referrer_of_a_folio() {
    let mut t = T::new(Preset::V5_9);
    t.spawn("parent");
    t.anon("parent", "buf", 1);
    t.write("parent", "buf", 0, "A");
    t.fork("parent", "child");
    t.get("child", "buf", 0, "gup", false);
    t.ok(Action::Vmsplice {
        proc: "child".into(),
        vma: "buf".into(),
        start: 0,
        pages: 1,
        pipe: "p".into(),
    });
    let id = t.folio_id("parent", "buf", 0);
    let g = RefGraph::build(t.w());
    let (ppid, pvpn) = t.vpn("parent", "buf", 0);
    let (cpid, cvpn) = t.vpn("child", "buf", 0);
    let kinds = g.referrers(id);
    assert_eq!(
        kinds,
        vec![
            (Referrer::Pte(ppid, pvpn), RefKind::Map),
            (Referrer::Pte(cpid, cvpn), RefKind::Map),
            (Referrer::Holder("gup".into()), RefKind::Get),
            (Referrer::Pipe("p".into()), RefKind::Pipe),
        ]
    );
    let sum: i64 = references_to(t.w(), id).iter().map(|r| r.refs).sum();
    assert_eq!(sum, t.w().folio(id).refcount);
    assert_eq!(g.folios_of(&Referrer::Holder("gup".into())), vec![id]);
}

#[test]
fn every_step_names_a_kernel_function_and_source() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("parent");
    t.anon("parent", "buf", 2);
    t.write("parent", "buf", 0, "A");
    t.pin("parent", "buf", 0, "dma", true);
    t.fork("parent", "child");
    t.write("child", "buf", 0, "B");
    t.release("dma", true);
    let steps: Vec<(&str, &str)> = t.sim.entries().iter().map(|e| (e.step.func, e.step.path)).collect();
    for want in [
        ("do_anonymous_page", "mm/memory.c"),
        ("mm_set_has_pinned_flag", "mm/gup.c"),
        ("try_grab_page", "mm/gup.c"),
        ("dup_mm", "kernel/fork.c"),
        ("copy_page_range", "mm/memory.c"),
        ("unpin_user_pages_dirty_lock", "mm/gup.c"),
    ] {
        assert!(steps.contains(&want), "missing {want:?} in {steps:?}");
    }
    for e in t.sim.entries() {
        assert!(
            !e.step.func.is_empty() && !e.step.path.is_empty() && !e.step.text.is_empty(),
            "{:?}",
            e.step
        );
    }
    // The early copy is explained in the fork step.
    let fork_step = t
        .sim
        .entries()
        .iter()
        .find(|e| e.step.func == "copy_page_range")
        .unwrap();
    assert!(
        fork_step.step.text.contains("1 page(s) copied for the child"),
        "{}",
        fork_step.step.text
    );
}

#[test]
fn batched_faults_count_their_pages() {
    let mut t = T::new(Preset::V6_8);
    t.spawn("p");
    t.anon("p", "buf", 64);
    t.gup("p", "buf", 0, 64, "dio", pin_rw());
    let fault = t
        .sim
        .entries()
        .iter()
        .find(|e| e.step.func == "do_anonymous_page")
        .unwrap();
    assert_eq!(fault.step.count, 64, "one micro-step for the 64 identical faults");
    assert_eq!(t.w().vmstat.nr_foll_pin_acquired, 64);
}
