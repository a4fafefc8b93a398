//! Painting the frames, texts, cells and arrows of a laid-out canvas.

use super::super::theme;
use super::Marks;
use super::layout::{BODY, CellKey, Layout};
use super::legend::{self, Style};
use super::view::View;
use egui::{Align2, Color32, Painter, Pos2, Rect, Stroke, StrokeKind, pos2};
use pinlab_lessons::model::mm::Pte;
use pinlab_lessons::model::refs::{RefKind, Reference};
use pinlab_lessons::model::step::ObjRef;
use pinlab_lessons::model::{FolioId, World, ZERO_FOLIO};

/// The boxes around processes and right-hand objects, and their labels.
pub fn frames(p: &Painter, v: &View, l: &Layout) {
    for (r, c) in &l.boxes {
        let r = v.tr(*r);
        if v.visible(r) {
            p.rect_stroke(r, 6.0 * v.zoom, Stroke::new(1.5 * v.zoom, *c), StrokeKind::Inside);
        }
    }
    for t in &l.texts {
        let at = v.t(t.at);
        if v.visible(Rect::from_min_size(at, egui::vec2(300.0, 20.0) * v.zoom)) {
            p.text(at, Align2::LEFT_TOP, &t.text, v.font(t.size), v.adapt(t.color));
        }
    }
}

/// A PTE's letters: P present (0: the zero page), W writable, D dirty, H
/// part of a PMD mapping; S a swap entry (+x: exclusive).
pub fn pte_text(pte: Pte) -> (Color32, String) {
    match pte {
        Pte::None => (Color32::TRANSPARENT, ".".to_string()),
        Pte::Swap { exclusive, .. } => (
            Color32::from_gray(80),
            if exclusive { "S+x".into() } else { "S".into() },
        ),
        Pte::Present {
            folio,
            writable,
            dirty,
            pmd,
            ..
        } => {
            let mut s = String::from(if folio == ZERO_FOLIO { "0" } else { "P" });
            if writable {
                s.push('W');
            }
            if dirty {
                s.push('D');
            }
            if pmd {
                s = format!("H{s}");
            }
            (theme::MAP.gamma_multiply(0.35), s)
        }
    }
}

fn changed(marks: &Marks, k: &CellKey) -> Option<Color32> {
    let (hazard, change) = match k {
        CellKey::Pte(p, v) => {
            let o = ObjRef::Page(*p, *v);
            (marks.hazard.contains(&o), marks.changed.contains(&o))
        }
        CellKey::Holder(n, _) => (false, marks.changed.contains(&ObjRef::Holder(n.clone()))),
        CellKey::Pipe(n, _) => (false, marks.changed.contains(&ObjRef::Pipe(n.clone()))),
        _ => (false, false),
    };
    if hazard {
        Some(theme::HAZARD)
    } else if change {
        Some(theme::CHANGED)
    } else {
        None
    }
}

/// Every cell: PTEs with their flags, page-cache indexes, and the numbered
/// pages of holders, pipes and kernel buffers. `hot` cells are ringed.
pub fn cells(p: &Painter, v: &View, l: &Layout, w: &World, marks: &Marks, hot: &[&CellKey]) {
    let bits = |r: &Rect| (r.min.x.to_bits(), r.min.y.to_bits());
    let in_run: ahash::AHashSet<(u32, u32)> = l.runs.iter().map(|r| bits(&r.rect)).collect();
    for run in &l.runs {
        runs(p, v, run, w, marks, hot, l);
    }
    for (k, r) in &l.cells {
        if in_run.contains(&bits(r)) {
            continue;
        }
        let r = v.tr(*r);
        if !v.visible(r) {
            continue;
        }
        let (fill, text) = match k {
            CellKey::Pte(pid, vpn) => pte_text(w.pte(*pid, *vpn)),
            CellKey::Cache(_, idx) => (theme::CACHE.gamma_multiply(0.35), format!("[{idx}]")),
            CellKey::Holder(_, i) | CellKey::Pipe(_, i) | CellKey::Kbuf(_, i) => {
                (Color32::from_gray(90).gamma_multiply(0.6), i.to_string())
            }
        };
        p.rect_filled(r, 3.0 * v.zoom, fill);
        let stroke = match changed(marks, k) {
            Some(c) => Stroke::new(3.0 * v.zoom, c),
            None => Stroke::new(1.0 * v.zoom, Color32::GRAY),
        };
        p.rect_stroke(r, 3.0 * v.zoom, stroke, StrokeKind::Inside);
        p.text(r.center(), Align2::CENTER_CENTER, text, v.font(BODY), v.fg());
        if hot.contains(&k) {
            p.rect_stroke(r.expand(2.0), 4.0, Stroke::new(2.5, v.fg()), StrokeKind::Outside);
        }
    }
}

/// A run: one wide cell. PTEs say "[0..511] PW  ×512" (a PMD mapping "one
/// PMD"); a holder's, pipe's or kernel buffer's "[0..1021]  ×1022 zero page".
fn runs(p: &Painter, v: &View, run: &super::layout::Run, w: &World, marks: &Marks, hot: &[&CellKey], l: &Layout) {
    let r = v.tr(run.rect);
    if !v.visible(r) {
        return;
    }
    let (fill, text) = match run.first {
        CellKey::Pte(pid, vpn) => {
            let (fill, flags) = pte_text(w.pte(pid, vpn));
            // A PMD mapping is one entry in the kernel, not 512: say so.
            let text = match flags.strip_prefix('H') {
                Some(f) => format!("{}  one PMD: {f}", run.label),
                None => format!("{} {flags}  \u{d7}{}", run.label, run.len),
            };
            (fill, text)
        }
        _ => (
            Color32::from_gray(90).gamma_multiply(0.6),
            format!("{}  \u{d7}{}", run.label, run.len),
        ),
    };
    p.rect_filled(r, 3.0 * v.zoom, fill);
    let members = || l.cells.iter().filter(|(_, c)| **c == run.rect).map(|(k, _)| k);
    let stroke = match members().find_map(|k| changed(marks, k)) {
        Some(c) => Stroke::new(3.0 * v.zoom, c),
        None => Stroke::new(1.0 * v.zoom, Color32::GRAY),
    };
    p.rect_stroke(r, 3.0 * v.zoom, stroke, StrokeKind::Inside);
    p.text(r.center(), Align2::CENTER_CENTER, text, v.font(BODY), v.fg());
    if members().any(|k| hot.contains(&k)) {
        p.rect_stroke(r.expand(2.0), 4.0, Stroke::new(2.5, v.fg()), StrokeKind::Outside);
    }
}

/// Where an arrow from a cell to a card starts and ends (canvas units): out
/// of the side of the cell that faces the card, straight where they line up.
/// In columns (`sideways`) an arrow leaves its cell by the side facing the
/// middle column and ends on the card's near edge, so it never reaches into
/// the column where other cards are.
pub fn ends(from: Rect, to: Rect, sideways: bool) -> (Pos2, Pos2) {
    let m = 12.0;
    let cx = from.center().x.clamp(to.left() + m, to.right() - m);
    let cy = from.center().y.clamp(to.top() + m, to.bottom() - m);
    if sideways && from.right() <= to.left() {
        (from.right_center(), pos2(to.left(), cy))
    } else if sideways && from.left() >= to.right() {
        (from.left_center(), pos2(to.right(), cy))
    } else if from.bottom() <= to.top() {
        (from.center_bottom(), pos2(cx, to.top()))
    } else if from.top() >= to.bottom() {
        (from.center_top(), pos2(cx, to.bottom()))
    } else if from.right() <= to.left() {
        (from.right_center(), pos2(to.left(), cy))
    } else {
        (from.left_center(), pos2(to.right(), cy))
    }
}

pub fn arrow_head(p: &Painter, from: Pos2, to: Pos2, color: Color32, zoom: f32) {
    let d = (to - from).normalized();
    if !d.x.is_finite() {
        return;
    }
    let n = egui::vec2(-d.y, d.x);
    let (len, half) = (9.0 * zoom, 4.5 * zoom);
    let base = to - d * len;
    p.add(egui::Shape::convex_polygon(
        vec![to, base + n * half, base - n * half],
        color,
        Stroke::NONE,
    ));
}

/// An arrow per reference whose holder cell and folio card are both shown;
/// hot ones drawn last, wider.
pub fn arrows(
    p: &Painter,
    v: &View,
    l: &Layout,
    refs: &[Reference],
    keys: &[Option<CellKey>],
    hot: &[usize],
    motion: Option<&super::motion::Motion>,
) {
    let mut order: Vec<usize> = (0..refs.len()).collect();
    order.sort_by_key(|i| hot.contains(i));
    // The 512 PTEs of a run share one cell, a group one card, the 1022
    // references of a holder's run one cell: one arrow per cell, kind and
    // card, labelled with how many references it stands for.
    let bundle = |i: usize| {
        let cell = l.cells.get(keys[i].as_ref()?)?;
        l.card(refs[i].folio)?;
        Some((cell.min.x.to_bits(), cell.min.y.to_bits(), refs[i].folio, refs[i].kind))
    };
    let mut count: ahash::AHashMap<_, usize> = ahash::AHashMap::new();
    for i in 0..refs.len() {
        if let Some(b) = bundle(i) {
            *count.entry(b).or_default() += 1;
        }
    }
    let cards: Vec<Rect> = l.cards.values().map(|c| v.tr(c.rect)).collect();
    let mut drawn = ahash::AHashSet::new();
    for i in order {
        let Some(id) = bundle(i) else { continue };
        let (Some(k), Some(card)) = (&keys[i], l.card(refs[i].folio)) else {
            continue;
        };
        let Some(cell) = l.cells.get(k) else { continue };
        if !drawn.insert((id, hot.contains(&i))) {
            continue;
        }
        let path: Vec<Pos2> = l.path(cell, card.members[0]).iter().map(|q| v.t(*q)).collect();
        if !v.visible(Rect::from_points(&path)) {
            continue;
        }
        // A new reference's arrow grows out of its holder.
        let grown = motion.map_or(1.0, |m| m.growth(i));
        if grown <= 0.0 {
            continue;
        }
        let path = partial(&path, grown);
        for s in path.windows(2) {
            v.arrows.borrow_mut().push((s[0], s[1], card.members[0]));
        }
        let st = if legend::is_pretended_pin(&refs[i]) {
            legend::pretended_pin()
        } else {
            legend::style(refs[i].kind)
        };
        let is_hot = hot.contains(&i);
        let width = st.width * v.zoom * if is_hot { 2.2 } else { 1.0 };
        let color = if is_hot {
            st.color
        } else {
            st.color.gamma_multiply(0.85)
        };
        if is_hot {
            p.add(egui::Shape::line(
                path.clone(),
                Stroke::new(width + 3.0, v.fg().gamma_multiply(0.6)),
            ));
        }
        polyline(p, &path, Style { width, ..st }, color, v.zoom);
        let n = path.len();
        arrow_head(
            p,
            path[n - 2],
            path[n - 1],
            color,
            v.zoom.max(0.6) * if is_hot { 1.4 } else { 1.0 },
        );
        label(
            p,
            v,
            &path,
            &cards,
            &refs[i],
            count.get(&id).copied().unwrap_or(1),
            color,
        );
    }
}

/// The first `t` (0 to 1) of `path`, by length.
pub fn partial(path: &[Pos2], t: f32) -> Vec<Pos2> {
    if t >= 1.0 {
        return path.to_vec();
    }
    let total: f32 = path.windows(2).map(|s| s[0].distance(s[1])).sum();
    let mut left = total * t;
    let mut out = vec![path[0]];
    for s in path.windows(2) {
        let d = s[0].distance(s[1]);
        if d >= left {
            out.push(s[0] + (s[1] - s[0]) * (left / d.max(1e-6)));
            return out;
        }
        left -= d;
        out.push(s[1]);
    }
    out
}

/// A path in a style, segment by segment.
pub fn polyline(p: &Painter, path: &[Pos2], st: Style, color: Color32, zoom: f32) {
    if st.dashed {
        p.extend(egui::Shape::dashed_line(
            path,
            Stroke::new(st.width, color),
            6.0 * zoom,
            4.0 * zoom,
        ));
        return;
    }
    for s in path.windows(2) {
        line(p, (s[0], s[1]), st, color, zoom);
    }
}

/// A line in a style: dashed, doubled (two thinner lines either side of the
/// path) or plain; `width` in `st` is already scaled, `zoom` sizes the dashes.
pub fn line(p: &Painter, (a, b): (Pos2, Pos2), st: Style, color: Color32, zoom: f32) {
    let stroke = Stroke::new(st.width, color);
    if st.dashed {
        p.extend(egui::Shape::dashed_line(&[a, b], stroke, 6.0 * zoom, 4.0 * zoom));
    } else if st.double {
        let d = (b - a).normalized();
        if !d.x.is_finite() {
            return;
        }
        let n = egui::vec2(-d.y, d.x) * (st.width * 0.9 + 0.6 * zoom);
        p.line_segment([a + n, b + n], stroke);
        p.line_segment([a - n, b - n], stroke);
    } else {
        p.line_segment([a, b], stroke);
    }
}

/// The kind of a holder's reference, written along its arrow where there is
/// room, with how many references a bundled arrow stands for ("ref \u{d7}1022");
/// mappings are many and all alike: the legend names them. The label goes
/// where it covers no card (`cards`, screen) and no other label: on or
/// beside the middle of one of the arrow's legs; nowhere, if no place is free.
fn label(p: &Painter, v: &View, path: &[Pos2], cards: &[Rect], r: &Reference, n: usize, color: Color32) {
    let word = match r.kind {
        RefKind::Pin if legend::is_pretended_pin(r) => "no-op pin",
        RefKind::Pin => "pin",
        RefKind::Get => "ref",
        RefKind::List => "listed",
        RefKind::Pipe => "pipe",
        RefKind::Kernel => "kbuf",
        RefKind::PageCache => "cache",
        _ => return,
    };
    let routed = path.len() > 2;
    if !routed && path[0].distance(path[path.len() - 1]) < 70.0 * v.zoom {
        return;
    }
    let word = if n > 1 {
        format!("{word} \u{d7}{n}")
    } else {
        word.to_string()
    };
    // The word in the text colour on a patch of the arrow's: readable on
    // either theme, and still tied to its arrow.
    let g = p.layout_no_wrap(word, v.font(BODY), v.fg());
    let beside = egui::vec2(g.size().x / 2.0 + 6.0 * v.zoom, 0.0);
    // On a sideways leg (columns, a routed run) the label sits on it; beside
    // an upright one.
    let places = path.windows(2).flat_map(|s| {
        let mid = s[0] + (s[1] - s[0]) * 0.5;
        let upright = (s[1] - s[0]).y.abs() > (s[1] - s[0]).x.abs();
        if upright {
            [mid + beside, mid]
        } else {
            [mid, mid + beside]
        }
    });
    let free = |r: Rect| !cards.iter().any(|c| c.intersects(r)) && !v.labels.borrow().iter().any(|o| o.intersects(r));
    let Some(r) = places
        .map(|at| Rect::from_center_size(at, g.size()))
        .find(|r| free(r.expand(3.0)))
    else {
        return;
    };
    v.note_label(r.expand(3.0));
    let bg = if v.dark {
        Color32::from_black_alpha(200)
    } else {
        Color32::from_white_alpha(220)
    };
    p.rect_filled(r.expand(3.0), 3.0, bg);
    p.rect_stroke(r.expand(3.0), 3.0, Stroke::new(1.5, color), StrokeKind::Inside);
    p.galley(r.min, g, v.fg());
}

/// The part of segment a-b inside `r`, if any (Liang-Barsky clipping).
pub fn clip(a: Pos2, b: Pos2, r: Rect) -> Option<(Pos2, Pos2)> {
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
                return None;
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
    (t0 < t1).then(|| (a + d * t0, a + d * t1))
}

/// Where an arrow passes over another folio's card, a dashed trace on top of
/// the card, so the arrow can still be followed to its folio.
pub fn crossings(p: &Painter, v: &View, l: &Layout, refs: &[Reference], keys: &[Option<CellKey>]) {
    let cards: Vec<(FolioId, Rect)> = l.cards.iter().map(|(id, c)| (*id, v.tr(c.rect))).collect();
    let mut drawn = ahash::AHashSet::new();
    for (r, k) in refs.iter().zip(keys) {
        let (Some(k), Some(card)) = (k, l.card(r.folio)) else {
            continue;
        };
        let Some(cell) = l.cells.get(k) else { continue };
        if !drawn.insert((cell.min.x.to_bits(), cell.min.y.to_bits(), card.members[0], r.kind)) {
            continue;
        }
        let path: Vec<Pos2> = l.path(cell, card.members[0]).iter().map(|q| v.t(*q)).collect();
        let st = legend::style(r.kind);
        for (id, rect) in &cards {
            if *id == card.members[0] {
                continue;
            }
            for s in path.windows(2) {
                if let Some((x, y)) = clip(s[0], s[1], rect.shrink(1.0)) {
                    let stroke = Stroke::new((st.width * v.zoom * 0.8).max(1.0), st.color.gamma_multiply(0.55));
                    p.extend(egui::Shape::dashed_line(&[x, y], stroke, 5.0 * v.zoom, 4.0 * v.zoom));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_part_inside() {
        let r = Rect::from_min_max(pos2(10.0, 10.0), pos2(20.0, 20.0));
        assert_eq!(
            clip(pos2(0.0, 15.0), pos2(30.0, 15.0), r),
            Some((pos2(10.0, 15.0), pos2(20.0, 15.0)))
        );
        assert_eq!(clip(pos2(0.0, 0.0), pos2(5.0, 30.0), r), None);
        assert_eq!(
            clip(pos2(15.0, 0.0), pos2(15.0, 12.0), r),
            Some((pos2(15.0, 10.0), pos2(15.0, 12.0)))
        );
    }
}
