//! CPU time per frame of the desktop app, headless (layout and tessellation,
//! no GPU): on the busiest step of every built-in lesson, on a 512-folio
//! sandbox state, and mid-animation (a new transition every frame). Target: p99 under 4 ms. Run: `cargo bench -p pinlab --bench frame`.

use pinlab::gui::session::Nav;
use pinlab::gui::{PinlabApp, Source};
use pinlab_lessons::{builtin, load_str};
use std::time::Instant;

const FRAMES: usize = 120;

fn measure(app: &mut PinlabApp) -> (f64, f64) {
    measure_with(app, |_| {})
}

/// Frames in the middle of a transition: before each frame the app moves one
/// micro-step (forward, then back), so every measured frame animates.
fn measure_animating(app: &mut PinlabApp) -> (f64, f64) {
    let mut forward = true;
    measure_with(app, move |app| {
        app.nav(if forward { Nav::NextMicro } else { Nav::PrevMicro });
        forward = !forward;
    })
}

fn measure_with(app: &mut PinlabApp, mut before_frame: impl FnMut(&mut PinlabApp)) -> (f64, f64) {
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 720.0))),
        ..Default::default()
    };
    // Warm up (fonts, layout caches).
    for _ in 0..5 {
        let out = ctx.run_ui(input(), |ui| app.ui_root(ui));
        let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
    }
    let mut times = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        before_frame(app);
        let t = Instant::now();
        let out = ctx.run_ui(input(), |ui| app.ui_root(ui));
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[FRAMES / 2], times[FRAMES * 99 / 100])
}

/// The step whose world has the most live folios.
fn busiest(app: &PinlabApp) -> usize {
    let s = &app.session();
    (0..=s.report.steps.len())
        .max_by_key(|k| {
            let end = if *k == 0 {
                0
            } else {
                s.report.steps[k - 1].end_entry.saturating_sub(1)
            };
            s.sim.entries()[end.min(s.entries() - 1)].world.live_folios().count()
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    // `cargo bench --bench frame -- thp` measures only the cases whose name has "thp".
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let wanted = |name: &str| name.contains(filter.as_str());
    println!("frame time (CPU, 1280x720, layout + tessellation), {FRAMES} frames each:");
    let mut worst: f64 = 0.0;
    for l in builtin::all().into_iter().flatten().filter(|l| wanted(&l.id)) {
        let mut app = PinlabApp::default();
        let id = l.id.clone();
        app.open_lesson(l, Source::Builtin(id.clone()));
        let k = busiest(&app);
        app.nav(Nav::Step(k));
        let folios = app.session().world().live_folios().count();
        let (p50, p99) = measure(&mut app);
        worst = worst.max(p99);
        println!("  {id:<22} step {k:>2}  {folios:>4} folios  p50 {p50:6.2} ms  p99 {p99:6.2} ms");
    }
    let sandbox = r#"
id = "sandbox-512"
title = "512 folios"
summary = "s"
objectives = ["o"]
[[step]]
do = "spawn"
name = "p"
[[step]]
do = "mmap"
proc = "p"
vma = "big"
pages = 512
write = true
populate = true
[[step]]
do = "gup"
proc = "p"
vma = "big"
pages = 64
holder = "dma"
pin = true
write = true
[[step]]
do = "fork"
parent = "p"
child = "c"
"#;
    if wanted("sandbox (512 pages)") {
        let l = load_str("sandbox", sandbox).expect("sandbox lesson");
        let mut app = PinlabApp::default();
        app.open_lesson(l, Source::Builtin("sandbox".into()));
        app.nav(Nav::End);
        let folios = app.session().world().live_folios().count();
        let (p50, p99) = measure(&mut app);
        worst = worst.max(p99);
        println!(
            "  {:<22} step  4  {folios:>4} folios  p50 {p50:6.2} ms  p99 {p99:6.2} ms",
            "sandbox (512 pages)"
        );
    }
    for id in ["pin-extraction", "fork-cow", "thp-pins"]
        .into_iter()
        .filter(|id| wanted(&format!("{id} animating")))
    {
        let mut app = PinlabApp::default();
        assert!(app.open_builtin(id));
        let k = busiest(&app);
        app.nav(Nav::Step(k));
        let (p50, p99) = measure_animating(&mut app);
        worst = worst.max(p99);
        println!(
            "  {:<22} step {k:>2}  animating    p50 {p50:6.2} ms  p99 {p99:6.2} ms",
            id
        );
    }
    println!("worst p99: {worst:.2} ms (target < 4 ms)");
}
