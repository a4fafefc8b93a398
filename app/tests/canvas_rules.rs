//! The picture's rules, at every micro-step of every built-in lesson, as the
//! app paints them at 1280x720 (CanvasStats, from egui_kittest frames):
//!
//! - no arrow runs through a card it does not point at;
//! - no arrow label covers a card;
//! - no canvas text is smaller than 13 px;
//! - a folio keeps its place in the folios' band: when no folio before it
//!   came, went or changed its card's size, and the fit did not change, its
//!   card is where it was.

use egui_kittest::Harness;
use pinlab::gui::PinlabApp;
use pinlab::gui::TimeCommand;
use pinlab::gui::session::Nav;
use pinlab_lessons::builtin;
use pinlab_lessons::model::FolioId;
use std::collections::BTreeMap;

/// The part of segment a-b inside `r`, if any (Liang-Barsky).
fn crosses(a: egui::Pos2, b: egui::Pos2, r: egui::Rect) -> bool {
    let d = b - a;
    let (mut t0, mut t1) = (0.0f32, 1.0f32);
    for (p, q) in [
        (-d.x, a.x - r.left()),
        (d.x, r.right() - a.x),
        (-d.y, a.y - r.top()),
        (d.y, r.bottom() - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
            continue;
        }
        let t = q / p;
        if p < 0.0 {
            t0 = t0.max(t);
        } else {
            t1 = t1.min(t);
        }
    }
    t0 < t1
}

#[derive(Default)]
struct Tally {
    frames: usize,
    crossings: Vec<String>,
    covered: Vec<String>,
    small: Vec<String>,
    moved: Vec<String>,
}

#[test]
fn every_micro_step_of_every_lesson_keeps_the_pictures_rules() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_ui_state(|ui, app: &mut PinlabApp| app.ui_root(ui), PinlabApp::default());
    h.state_mut().set_predict_first(false);
    h.state_mut().set_reduce_motion(true);
    h.run();
    let mut t = Tally::default();
    for lesson in builtin::all().into_iter().map(|l| l.expect("built-in lessons load")) {
        assert!(h.state_mut().open_builtin(&lesson.id), "{}", lesson.id);
        let entries = h.state().session().entries();
        // The last frame's cards by folio, the fit, and the folios before each.
        type Places = BTreeMap<FolioId, (egui::Rect, Vec<(FolioId, u32, u32)>)>;
        let mut before: Option<(f32, Places)> = None;
        for i in 0..entries {
            h.state_mut().time(TimeCommand::Go(Nav::Seek(i)));
            h.run();
            t.frames += 1;
            let s = h.state().canvas_stats().clone();
            let at = format!("{} entry {i}", lesson.id);
            if s.min_text_px < 13.0 {
                t.small.push(format!("{at}: {:.1} px", s.min_text_px));
            }
            for (a, b, to) in &s.arrows {
                for (id, r, _) in &s.cards {
                    if id != to && crosses(*a, *b, r.shrink(2.0)) {
                        t.crossings.push(format!("{at}: the arrow to {to} crosses {id}"));
                    }
                }
            }
            for l in &s.labels {
                for (id, r, _) in &s.cards {
                    if l.intersect(*r).area() > 4.0 {
                        t.covered.push(format!("{at}: a label covers {id}"));
                    }
                }
            }
            // Folio -> (its card's rect, every folio drawn before it).
            let mut order: Vec<(egui::Rect, Vec<FolioId>)> = s.cards.iter().map(|(_, r, m)| (*r, m.clone())).collect();
            order.sort_by(|a, b| (a.0.top(), a.0.left()).partial_cmp(&(b.0.top(), b.0.left())).unwrap());
            let mut now = BTreeMap::new();
            // Relative to the folios' band (its left, its top): centring the
            // picture in the pane, or a process block above growing a row, is
            // not a move of the folio.
            let top = s.cards.iter().map(|c| c.1.top()).fold(f32::INFINITY, f32::min);
            let origin = egui::vec2(s.content.min.x, if top.is_finite() { top } else { 0.0 });
            // Every folio before it, with its card's size (a card above that
            // gains a row of flags moves the row below, as it should).
            let mut ahead: Vec<(FolioId, u32, u32)> = Vec::new();
            for (r, members) in &order {
                for m in members {
                    now.insert(*m, (r.translate(-origin), ahead.clone()));
                }
                let size = (r.width().round() as u32, r.height().round() as u32);
                ahead.extend(members.iter().map(|m| (*m, size.0, size.1)));
            }
            if let Some((zoom, was)) = &before
                && (*zoom - s.zoom).abs() < 1e-4
            {
                for (f, (r, ahead)) in &now {
                    if let Some((r0, ahead0)) = was.get(f)
                        && ahead == ahead0
                        && r0.min.distance(r.min) > 0.5
                    {
                        t.moved
                            .push(format!("{at}: {f} moved from {:?} to {:?}", r0.min, r.min));
                    }
                }
            }
            before = Some((s.zoom, now));
        }
    }
    eprintln!(
        "{} frames: {} crossings, {} covered cards, {} small texts, {} moves",
        t.frames,
        t.crossings.len(),
        t.covered.len(),
        t.small.len(),
        t.moved.len()
    );
    if std::env::var_os("CANVAS_RULES_ALL").is_some() {
        for l in [&t.crossings, &t.covered, &t.small, &t.moved] {
            for x in l {
                eprintln!("{x}");
            }
        }
    }
    // Not yet met everywhere: at 1280x720 a world of five or more cards
    // (longterm, lru-reclaim) needs a zoom under 1 to fit, and its text drops
    // to 9.5 px. The bound only goes down (issue 24); the six lessons of the
    // screenshots are held to 13 px by canvas_fit.rs.
    const SMALL_TEXT_FRAMES_AT_MOST: usize = 138;
    assert!(
        t.small.len() <= SMALL_TEXT_FRAMES_AT_MOST,
        "{} frames with text under 13 px (at most {SMALL_TEXT_FRAMES_AT_MOST}):\n{}",
        t.small.len(),
        t.small.join("\n")
    );
    for (what, list) in [
        ("arrows through cards", &t.crossings),
        ("labels over cards", &t.covered),
        ("folios that moved", &t.moved),
    ] {
        assert!(
            list.is_empty(),
            "{what}: {}\n{}",
            list.len(),
            list.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}
