//! Handouts from the app: the lesson as Markdown, and as one HTML file with
//! a picture of the canvas after every step (SVG, embedded), plus a PNG of
//! the canvas on screen. The SVG is not a second drawing of the canvas: the
//! canvas is painted headless by `canvas_ui` and its shapes written out, so
//! the handout shows exactly what the app does.

use super::canvas::{self, Marks};
use egui::epaint::{ColorMode, Shape};
use egui::{Color32, Pos2};
use pinlab_lessons::model::World;
// The HTML handout and its files are written on the desktop only.
#[cfg(not(target_arch = "wasm32"))]
use pinlab_lessons::{
    Lesson,
    handout::handout_with,
    model::{Preset, WhatIf},
    run::run_with_sim,
};
use std::fmt::Write;

fn rgba(c: Color32) -> String {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    format!("rgba({r},{g},{b},{:.3})", a as f32 / 255.0)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn shape_svg(out: &mut String, s: &Shape, fg: Color32) {
    match s {
        Shape::Vec(v) => v.iter().for_each(|s| shape_svg(out, s, fg)),
        Shape::Rect(r) => {
            let (x, y, w, h) = (r.rect.min.x, r.rect.min.y, r.rect.width(), r.rect.height());
            let rad = r.corner_radius.nw as f32;
            let stroke = if r.stroke.width > 0.0 {
                format!(
                    " stroke=\"{}\" stroke-width=\"{}\"",
                    rgba(r.stroke.color),
                    r.stroke.width
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{rad:.1}\" fill=\"{}\"{stroke}/>",
                rgba(r.fill)
            );
        }
        Shape::Text(t) => {
            let g = &t.galley;
            let (size, color) = g
                .job
                .sections
                .first()
                .map(|s| (s.format.font_id.size, s.format.color))
                .unwrap_or((12.0, fg));
            let color = t.override_text_color.unwrap_or(if color == Color32::PLACEHOLDER {
                t.fallback_color
            } else {
                color
            });
            for row in &g.rows {
                let text: String = row.row.glyphs.iter().map(|gl| gl.chr).collect();
                if text.trim().is_empty() {
                    continue;
                }
                let p = t.pos + row.pos.to_vec2();
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{size:.1}\" fill=\"{}\" dominant-baseline=\"hanging\">{}</text>",
                    p.x,
                    p.y,
                    rgba(color),
                    esc(&text)
                );
            }
        }
        Shape::LineSegment { points, stroke } => line(out, points, stroke.width, stroke.color),
        Shape::Path(p) => {
            let color = match &p.stroke.color {
                ColorMode::Solid(c) => *c,
                _ => fg,
            };
            let pts: Vec<String> = p.points.iter().map(|q| format!("{:.1},{:.1}", q.x, q.y)).collect();
            let tag = if p.closed { "polygon" } else { "polyline" };
            let _ = writeln!(
                out,
                "<{tag} points=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
                pts.join(" "),
                if p.closed { rgba(p.fill) } else { "none".into() },
                rgba(color),
                p.stroke.width
            );
        }
        Shape::Circle(c) => {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"{}\"/>",
                c.center.x,
                c.center.y,
                c.radius,
                rgba(c.fill)
            );
        }
        _ => {}
    }
}

fn line(out: &mut String, p: &[Pos2; 2], width: f32, color: Color32) {
    let _ = writeln!(
        out,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width}\"/>",
        p[0].x,
        p[0].y,
        p[1].x,
        p[1].y,
        rgba(color)
    );
}

/// The canvas of a world as SVG, painted headless (light theme, for paper).
pub fn canvas_svg(w: &World) -> String {
    let size = egui::vec2(1200.0, 4000.0);
    let ctx = egui::Context::default();
    ctx.set_theme(egui::Theme::Light);
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(Pos2::ZERO, size)),
        ..Default::default()
    };
    let out = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            canvas::canvas_ui(ui, w, None, &Marks::default(), canvas::Fit::Natural, None);
        });
    });
    // Headless: nobody uploads the font atlas.
    let mut out = out;
    out.textures_delta.clear();
    let mut body = String::new();
    // Cropped to what is drawn (the panel's background aside), so a figure
    // on paper is the picture and a margin, not a 1200x4000 page.
    let mut used = egui::Rect::NOTHING;
    for cs in &out.shapes {
        let r = cs.shape.visual_bounding_rect();
        if r.area() >= 0.9 * size.x * size.y {
            continue; // the panel's own background
        }
        shape_svg(&mut body, &cs.shape, Color32::BLACK);
        if r.is_finite() && r.is_positive() {
            used = used.union(r);
        }
    }
    let used = if used.is_positive() {
        used.expand(8.0)
    } else {
        egui::Rect::from_min_size(Pos2::ZERO, size)
    };
    let (x, y, wd, ht) = (used.min.x, used.min.y, used.width().max(1.0), used.height().max(1.0));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"{x:.0} {y:.0} {wd:.0} {ht:.0}\" width=\"{wd:.0}\" height=\"{ht:.0}\" font-family=\"sans-serif\">\n<rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{wd:.0}\" height=\"{ht:.0}\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

#[cfg(not(target_arch = "wasm32"))]
/// Markdown from a lesson as HTML that cannot run anything: raw HTML in the
/// lesson is shown as text, and ammonia (html5ever's parser, a maintained
/// allow list) keeps only plain elements and http, https and mailto links.
fn push_markdown(html: &mut String, md: &str) {
    use pulldown_cmark::{Event, Options, Parser};
    // Tables on: the handout's state tables become <table>s.
    let events = Parser::new_ext(md, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        e => e,
    });
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events);
    let clean = ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .clean(&raw)
        .to_string();
    html.push_str(&clean);
}

#[cfg(not(target_arch = "wasm32"))]
/// The handout as one self-contained HTML file: the Markdown handout's text,
/// and after every step the canvas as it stands then.
pub fn handout_html(lesson: &Lesson, preset: Preset, whatif: WhatIf) -> String {
    let (sim, report) = run_with_sim(lesson, preset, Some(whatif));
    // The text and the pictures come from the same toggles.
    let md = handout_with(lesson, preset, Some(whatif));
    // Split the Markdown at each step's heading and put the step's picture after it.
    let mut html = String::new();
    let mut parts = md.split("\n## Step ");
    let head = parts.next().unwrap_or_default();
    push_markdown(&mut html, head);
    for (i, part) in parts.enumerate() {
        let (body, tail) = match part.find("\n## ") {
            Some(j) => part.split_at(j),
            None => (part, ""),
        };
        let section = format!("## Step {body}");
        push_markdown(&mut html, &section);
        if let Some(st) = report.steps.get(i)
            && st.end_entry > st.first_entry
        {
            html.push_str("<figure>");
            html.push_str(&canvas_svg(&sim.entries()[st.end_entry - 1].world));
            let _ = write!(
                html,
                "<figcaption>After step {} under {}</figcaption></figure>",
                st.step, report.kernel
            );
        }
        push_markdown(&mut html, tail);
    }
    page(&lesson.title, &html)
}

#[cfg(not(target_arch = "wasm32"))]
/// A worksheet (or any Markdown sheet) as one HTML page, without pictures:
/// a worksheet's pictures would show the answers.
pub fn sheet_html(title: &str, md: &str) -> String {
    let mut html = String::new();
    push_markdown(&mut html, md);
    page(title, &html)
}

#[cfg(not(target_arch = "wasm32"))]
/// The page around a handout's body: print-ready (figures and tables kept
/// whole across page breaks).
fn page(title: &str, html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font:15px/1.45 sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}figure{{margin:1rem 0;overflow-x:auto}}svg{{max-width:100%;height:auto;border:1px solid #ccc}}code{{background:#f3f3f3}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}@media print{{body{{margin:0;max-width:none}}figure,table,pre{{break-inside:avoid}}h2{{break-after:avoid}}svg{{border:none}}}}</style></head><body>\n{html}</body></html>\n",
        esc(title)
    )
}

/// A file name from a lesson id: ids come from files anyone can write, so
/// nothing but letters, digits, '-', '_' and '.' (no '/', no leading '.').
pub fn file_stem(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "lesson".into() } else { s }
}

/// Writes `<stem>.md` and `<stem>.html`; returns the paths written.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_handouts(lesson: &Lesson, preset: Preset, whatif: WhatIf, stem: &str) -> std::io::Result<Vec<String>> {
    let md = format!("{stem}.md");
    let html = format!("{stem}.html");
    std::fs::write(&md, handout_with(lesson, preset, Some(whatif)))?;
    std::fs::write(&html, handout_html(lesson, preset, whatif))?;
    Ok(vec![md, html])
}

/// Crops a screenshot to the canvas and writes it as PNG.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_png(img: &egui::ColorImage, rect: egui::Rect, pixels_per_point: f32, path: &str) -> Result<(), String> {
    let [iw, ih] = img.size;
    let px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, y0) = (px(rect.min.x, iw), px(rect.min.y, ih));
    let (x1, y1) = (px(rect.max.x, iw), px(rect.max.y, ih));
    if x1 <= x0 || y1 <= y0 {
        return Err("the canvas is not on screen".into());
    }
    let out = image::RgbaImage::from_fn((x1 - x0) as u32, (y1 - y0) as u32, |x, y| {
        let c = img.pixels[(y0 + y as usize) * iw + x0 + x as usize];
        image::Rgba(c.to_srgba_unmultiplied())
    });
    out.save(path).map_err(|e| format!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinlab_lessons::builtin;

    #[test]
    fn the_html_handout_has_a_picture_per_step_with_the_model_counts() {
        let l = builtin::by_id("fork-cow").unwrap();
        let html = handout_html(&l, Preset::V6_12, WhatIf::default());
        assert_eq!(html.matches("<svg").count(), l.steps.len());
        // After step 3 the written folio has refcount 1; the picture says so.
        let (sim, r) = run_with_sim(&l, Preset::V6_12, None);
        let w = &sim.entries()[r.steps[2].end_entry - 1].world;
        let f = w.folio(pinlab_lessons::model::FolioId(1));
        assert_eq!(f.refcount, 1);
        let svg = canvas_svg(w);
        assert!(svg.contains("refcount 1"), "{svg}");
        assert!(html.contains("<h2>Step 7"));
    }

    /// The numbers of attribute `name` in every `<tag ...>` of `svg`.
    fn attrs(svg: &str, tag: &str, names: &[&str]) -> Vec<Vec<f32>> {
        svg.lines()
            .filter(|l| l.starts_with(&format!("<{tag} ")))
            .map(|l| {
                names
                    .iter()
                    .map(|n| {
                        let at = l.find(&format!(" {n}=\"")).expect("attribute") + n.len() + 3;
                        l[at..l[at..].find('"').expect("closing quote") + at]
                            .parse()
                            .expect("a number")
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn figures_are_cropped_to_what_they_draw() {
        let l = builtin::by_id("fork-cow").unwrap();
        let (sim, r) = run_with_sim(&l, Preset::V6_12, None);
        for st in r.steps.iter().filter(|s| s.end_entry > s.first_entry) {
            let svg = canvas_svg(&sim.entries()[st.end_entry - 1].world);
            let vb: Vec<f32> = svg
                .split("viewBox=\"")
                .nth(1)
                .and_then(|t| t.split('"').next())
                .expect("a viewBox")
                .split(' ')
                .map(|n| n.parse().expect("a number"))
                .collect();
            let (x0, y0, x1, y1) = (vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]);
            // Every block's frame and card, except the background, which is the viewBox.
            let rects: Vec<Vec<f32>> = attrs(&svg, "rect", &["x", "y", "width", "height"])
                .into_iter()
                .filter(|r| (r[2] - vb[2]).abs() > 1.0 || (r[3] - vb[3]).abs() > 1.0)
                .collect();
            assert!(!rects.is_empty(), "step {}: nothing drawn", st.step);
            let left = rects.iter().map(|r| r[0]).fold(f32::INFINITY, f32::min);
            let top = rects.iter().map(|r| r[1]).fold(f32::INFINITY, f32::min);
            let right = rects.iter().map(|r| r[0] + r[2]).fold(0.0, f32::max);
            let bottom = rects.iter().map(|r| r[1] + r[3]).fold(0.0, f32::max);
            for (edge, margin) in [
                ("left", left - x0),
                ("top", top - y0),
                ("right", x1 - right),
                ("bottom", y1 - bottom),
            ] {
                assert!(
                    (0.0..=12.0).contains(&margin),
                    "step {}: {margin} units of blank at the {edge} (viewBox {vb:?})",
                    st.step
                );
            }
        }
    }

    #[test]
    fn handout_tables_are_html_tables() {
        let l = builtin::by_id("fork-cow").unwrap();
        let md = handout_with(&l, Preset::V6_12, None);
        let html = handout_html(&l, Preset::V6_12, WhatIf::default());
        let md_tables = md
            .lines()
            .filter(|l| l.starts_with("| ---") || l.starts_with("|---"))
            .count();
        assert!(md_tables > 0, "the Markdown handout has tables");
        assert_eq!(html.matches("<table>").count(), md_tables);
        assert!(!html.contains("| ---"), "no Markdown table left as text");
    }

    /// Tables are on now: what a lesson puts in a cell is still only text.
    #[test]
    fn a_hostile_table_in_a_lesson_runs_nothing() {
        let md = "| a | b |\n| --- | --- |\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |\n\n<script>alert(2)</script>\n";
        let mut html = String::new();
        push_markdown(&mut html, md);
        assert!(html.contains("<table>"), "{html}");
        // No element from the lesson: its tags are shown as text, its link has no target.
        for bad in ["<img", "<script", "href=\"javascript"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<td>&lt;img src=x onerror=alert(1)&gt;</td>"), "{html}");
    }

    #[test]
    fn file_names_from_lesson_ids_stay_in_the_folder() {
        assert_eq!(file_stem("fork-cow-5.8"), "fork-cow-5.8");
        assert_eq!(file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_stem("/tmp/x"), "_tmp_x");
        assert_eq!(file_stem(""), "lesson");
    }
}
