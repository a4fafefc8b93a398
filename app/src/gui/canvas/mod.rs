//! The memory canvas: processes and their page tables, folios, and the page
//! cache, holders, pipes and kernel buffers around them, with an arrow for
//! every reference and a refcount bar whose every piece names its holder.
//! Drawn from model state only. It fits the pane: the arrangement and zoom
//! are chosen so the whole picture is as large as the pane allows; the user's
//! zoom and pan (wheel, drag, pinch, + / -, F to fit again) go on top.

mod arrange;
pub mod bar;
mod blocks;
mod card;
pub mod delta;
mod group;
mod hover;
pub mod layout;
mod legend;
mod motion;
mod paint;
mod route;
mod view;

pub use card::folio_label;

use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use egui::{Rect, Sense, Ui, Vec2, vec2};
use pinlab_lessons::model::refs::Reference;
use pinlab_lessons::model::refs::all_references;
use pinlab_lessons::model::step::ObjRef;
use pinlab_lessons::model::{FolioId, World};
use std::collections::BTreeSet;
use view::View;

/// What to emphasise on the canvas.
#[derive(Default)]
pub struct Marks {
    pub changed: HashSet<ObjRef>,
    pub focus: HashSet<FolioId>,
    pub hazard: HashSet<ObjRef>,
    pub selected: Option<FolioId>,
    /// Folios that differ from the other pane (side by side).
    pub diff: HashSet<FolioId>,
}

/// How the canvas is sized.
#[derive(Clone, Copy, Debug)]
pub enum Fit {
    /// Fill the rest of the pane, then apply the user's zoom and pan.
    /// `key` names the world and the one before it (`Session::view_key`):
    /// while it, the pane and the marks stay the same, the layout is reused.
    Pane {
        user_zoom: f32,
        pan: Vec2,
        max_zoom: f32,
        key: Option<u64>,
    },
    /// Columns at zoom 1, at their natural size (export to SVG).
    Natural,
}

/// What the last frame showed, for tests and the frame benchmark.
#[derive(Clone, Debug)]
pub struct CanvasStats {
    /// The area the picture is fitted into (points).
    pub pane: Rect,
    /// What the picture covers on screen (points).
    pub content: Rect,
    pub zoom: f32,
    /// The smallest canvas text drawn, in physical pixels.
    pub min_text_px: f32,
    pub arrangement: String,
    /// Every refcount piece on screen: folio, rect (points), who it stands for.
    pub pieces: Vec<(FolioId, Rect, String)>,
    /// The holders the pointer lights up, as `Referrer::describe` names them.
    pub lit: Vec<String>,
    /// Holder cells and bar pieces lit with them.
    pub lit_cells: usize,
    pub lit_pieces: usize,
    /// Holder cells on screen that start an arrow: rect (points) and holder.
    pub cells: Vec<(Rect, String)>,
    /// The kinds the legend explains.
    pub legend: Vec<&'static str>,
    /// The other marks it explains: cell letters, card outlines.
    pub legend_marks: Vec<&'static str>,
    /// Arrow labels drawn (screen rects, points).
    pub labels: Vec<Rect>,
    /// Every folio card on screen: first folio, rect (points), and the folio
    /// ids drawn in it.
    pub cards: Vec<(FolioId, Rect, Vec<FolioId>)>,
    /// Every arrow drawn: its ends (points), and the card it points at.
    pub arrows: Vec<(egui::Pos2, egui::Pos2, FolioId)>,
    /// Whether this frame was part of an animated transition.
    pub animating: bool,
    /// Cards of folios the step dropped, fading out.
    pub fading: usize,
}

impl Default for CanvasStats {
    fn default() -> Self {
        CanvasStats {
            pane: Rect::NOTHING,
            content: Rect::NOTHING,
            zoom: 1.0,
            min_text_px: f32::INFINITY,
            arrangement: String::new(),
            pieces: Vec::new(),
            lit: Vec::new(),
            lit_cells: 0,
            lit_pieces: 0,
            cells: Vec::new(),
            legend: Vec::new(),
            legend_marks: Vec::new(),
            labels: Vec::new(),
            cards: Vec::new(),
            arrows: Vec::new(),
            animating: false,
            fading: 0,
        }
    }
}

impl CanvasStats {
    /// Share of the pane the picture covers.
    pub fn coverage(&self) -> f32 {
        let i = self.content.intersect(self.pane);
        if !i.is_positive() {
            return 0.0;
        }
        i.area() / self.pane.area().max(1.0)
    }
}

#[derive(Debug, Default)]
pub struct CanvasOut {
    pub clicked: Option<FolioId>,
    /// Pinch or Ctrl+wheel over the canvas: multiply the user's zoom by this.
    pub zoom_by: f32,
    /// Drag or wheel over the canvas: move the picture by this (points).
    pub pan_by: Vec2,
    pub stats: CanvasStats,
}

/// Each folio's references, as indexes into `refs`.
fn by_folio(refs: &[Reference]) -> HashMap<FolioId, Vec<usize>> {
    let mut m: HashMap<FolioId, Vec<usize>> = HashMap::new();
    for (i, r) in refs.iter().enumerate() {
        m.entry(r.folio).or_default().push(i);
    }
    m
}

/// The cards: one per folio something references, alike folios grouped
/// (each card's layout names the folios drawn in it).
type Cards = Vec<(FolioId, layout::Layout)>;

fn folio_cards(
    w: &World,
    prev: Option<&World>,
    refs: &[Reference],
    prev_refs: Option<&[Reference]>,
    marks: &Marks,
) -> Cards {
    let by = by_folio(refs);
    let prev_by = prev_refs.map(by_folio);
    let ids: Vec<FolioId> = refs
        .iter()
        .filter(|r| arrange::shows_folio(r))
        .map(|r| r.folio)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let none = Vec::new();
    group::folios(w, &ids, refs, &by, marks)
        .into_iter()
        .map(|members| {
            let id = members[0];
            let mine = by.get(&id).unwrap_or(&none);
            let deltas = match (prev, prev_refs, &prev_by) {
                (Some(pw), Some(pr), Some(pb)) => {
                    let was = pb.get(&id).unwrap_or(&none);
                    delta::deltas_of((pw, pr, was), (w, refs, mine))
                }
                _ => Vec::new(),
            };
            (id, card::block(w, members, refs, mine, deltas))
        })
        .collect()
}

/// A transition being animated: the world it comes from and how far it is
/// (0 at the start, 1 done).
#[derive(Clone, Copy)]
pub struct Anim<'a> {
    pub from: &'a World,
    pub t: f32,
}

/// Everything about the world the canvas draws from.
struct Scene<'a> {
    w: &'a World,
    prev: Option<&'a World>,
    marks: &'a Marks,
    refs: &'a [Reference],
    keys: &'a [Option<layout::CellKey>],
}

/// Where the picture goes and at what zoom.
struct Framing {
    pane: Rect,
    fit_area: Rect,
    zoom: f32,
    origin: Vec2,
}

/// The world laid out: everything that does not depend on the user's zoom,
/// pan or pointer, so it can be kept from one frame to the next.
struct Laid {
    refs: Vec<Reference>,
    keys: Vec<Option<layout::CellKey>>,
    l: layout::Layout,
    arrangement: String,
    /// The zoom that fits the pane, before the user's own.
    fit_zoom: f32,
}

/// Lays out `w` to fit `fit` (size, zoom cap), or in columns at its natural
/// size; None when there is nothing to draw.
fn lay_out(w: &World, prev: Option<&World>, marks: &Marks, fit: Option<(Vec2, f32)>) -> Option<Laid> {
    let refs = all_references(w);
    let keys = arrange::cell_keys(w, &refs);
    let prev_refs = prev.map(all_references);
    let left = blocks::left(w);
    let right = blocks::right(w, blocks::CellsAt::Below);
    let cards = folio_cards(w, prev, &refs, prev_refs.as_deref(), marks);
    if cards.is_empty() && left.is_empty() && right.is_empty() {
        return None;
    }
    let b = arrange::Blocks { left, right, cards };
    let (placement, fit_zoom) = match fit {
        Some((size, max_zoom)) => arrange::fit(&b, size, max_zoom),
        None => (arrange::columns(&b), 1.0),
    };
    let arrangement = format!("{:?}", placement.arrangement);
    let (b, placement) = if placement.arrangement == arrange::Arrangement::Bands {
        // Holders below the folios: their cells on top, so arrows leave
        // upwards without crossing their titles (same sizes, same places).
        let (left, cards) = b.into_parts();
        let right = blocks::right(w, blocks::CellsAt::Above);
        let b = arrange::Blocks { left, right, cards };
        let p = arrange::bands(&b, placement.width);
        (b, p)
    } else {
        (b, placement)
    };
    let mut l = arrange::build(b, &placement);
    let arrows: Vec<(Rect, FolioId)> = refs
        .iter()
        .zip(&keys)
        .filter_map(|(r, k)| Some((*l.cells.get(k.as_ref()?)?, l.card(r.folio)?.members[0])))
        .collect();
    l.route_arrows(arrows.into_iter());
    Some(Laid {
        refs,
        keys,
        l,
        arrangement,
        fit_zoom,
    })
}

/// The last layout and what it was made for.
type Cached = std::sync::Arc<(u64, Option<Laid>)>;

/// A hash of the marks, whatever the order of their sets.
fn marks_hash(m: &Marks) -> u64 {
    let st = ahash::RandomState::with_seeds(1, 2, 3, 4);
    let mut sum = st.hash_one((m.selected.map(|f| f.0), m.changed.len(), m.hazard.len()));
    for o in m.changed.iter().chain(&m.hazard) {
        sum = sum.wrapping_add(st.hash_one(o));
    }
    for f in m.focus.iter().chain(&m.diff) {
        sum = sum.wrapping_add(st.hash_one((f.0, 7u8)));
    }
    sum
}

/// `lay_out`, reused while the world (`key`), the marks and the fit stay the
/// same: a still picture, or one being animated, is laid out once.
fn lay_out_cached(
    ui: &Ui,
    sc: (&World, Option<&World>, &Marks),
    key: Option<u64>,
    size: Vec2,
    max_zoom: f32,
) -> Cached {
    let (w, prev, marks) = sc;
    let Some(key) = key else {
        return std::sync::Arc::new((0, lay_out(w, prev, marks, Some((size, max_zoom)))));
    };
    let full = ahash::RandomState::with_seeds(5, 6, 7, 8).hash_one((
        key,
        size.x.to_bits(),
        size.y.to_bits(),
        max_zoom.to_bits(),
        marks_hash(marks),
    ));
    let id = ui.scope_id().with("canvas-layout");
    let old = ui.ctx().data(|d| d.get_temp::<Cached>(id));
    if let Some(c) = &old
        && c.0 == full
    {
        return c.clone();
    }
    let c: Cached = std::sync::Arc::new((full, lay_out(w, prev, marks, Some((size, max_zoom)))));
    ui.ctx().data_mut(|d| {
        d.insert_temp(id, c.clone());
        // The picture before: where a folio freed in this step was drawn.
        if let Some(o) = old {
            d.insert_temp(id.with("before"), o);
        }
    });
    c
}

/// The layout shown before the current one (kept by `lay_out_cached`).
fn layout_before(ui: &Ui) -> Option<Cached> {
    ui.ctx()
        .data(|d| d.get_temp::<Cached>(ui.scope_id().with("canvas-layout").with("before")))
}

/// Cards of folios the step freed (drawn before, gone now), fading out where
/// they were, at the zoom they had.
fn ghosts(ui: &mut Ui, ld: &Laid, framing: &Framing, from: &World, t: f32) -> usize {
    let Some(before) = layout_before(ui) else { return 0 };
    let Some(b) = &before.1 else { return 0 };
    let user_zoom = framing.zoom / ld.fit_zoom;
    let content = ld.l.content();
    let pan = framing.origin - (framing.fit_area.center().to_vec2() - content.center().to_vec2() * framing.zoom);
    let zoom = b.fit_zoom * user_zoom;
    let origin = framing.fit_area.center().to_vec2() - b.l.content().center().to_vec2() * zoom + pan;
    let v = View::new(zoom, origin, framing.pane, ui.visuals().dark_mode);
    let mut p = ui.painter_at(framing.pane);
    p.multiply_opacity(1.0 - t);
    let marks = Marks::default();
    let mut n = 0;
    for (id, place) in &b.l.cards {
        if ld.l.card(*id).is_some() || from.folios.get(id.0 as usize).is_none() {
            continue;
        }
        n += 1;
        let c = card::Card {
            w: from,
            prev: None,
            marks: &marks,
            refs: &b.refs,
            hot: &[],
            hot_piece: None,
            motion: None,
        };
        card::paint(ui, &p, &v, c, *id, place);
    }
    n
}

/// The height the legend takes under a pane `width` wide: worked out from
/// the world before the layout (the pane's size depends on it), for every
/// kind and mark the world has; what is on screen is among them. Kept while
/// the world (`key`), the marks and the width stay the same.
fn legend_height(ui: &Ui, (w, marks): (&World, &Marks), key: Option<u64>, width: f32) -> f32 {
    let full =
        key.map(|k| ahash::RandomState::with_seeds(9, 8, 7, 6).hash_one((k, width.to_bits(), marks_hash(marks))));
    let id = ui.scope_id().with("canvas-legend-height");
    if let Some(full) = full
        && let Some((k, h)) = ui.ctx().data(|d| d.get_temp::<(u64, f32)>(id))
        && k == full
    {
        return h;
    }
    let refs = all_references(w);
    let shown: HashSet<FolioId> = refs
        .iter()
        .filter(|r| arrange::shows_folio(r))
        .map(|r| r.folio)
        .collect();
    let kinds = legend::kinds(refs.iter().filter(|r| shown.contains(&r.folio)));
    // The cells a process block draws are among its first entries.
    let ptes = w
        .procs
        .values()
        .filter(|p| p.alive)
        .flat_map(|p| {
            p.mm.vmas.values().flat_map(move |v| {
                (0..v.ptes.len().min(4 * layout::MAX_CELLS)).map(move |i| (p.pid, v.start + i as u64))
            })
        })
        .collect();
    let m = legend::marks_of(w, ptes, |f| shown.contains(&f), &refs, marks);
    let h = legend::height(ui, width, &legend::items(&kinds, &m));
    if let Some(full) = full {
        ui.ctx().data_mut(|d| d.insert_temp(id, (full, h)));
    }
    h
}

/// Draws the canvas of `w`; `prev` is the world one micro-step earlier (what
/// moved is marked and explained); `anim` the transition still under way.
pub fn canvas_ui(
    ui: &mut Ui,
    w: &World,
    prev: Option<&World>,
    marks: &Marks,
    fit: Fit,
    anim: Option<Anim>,
) -> CanvasOut {
    let mut out = CanvasOut {
        zoom_by: 1.0,
        ..Default::default()
    };
    let (cached, pane, fit_area, resp, user_zoom, pan) = match fit {
        Fit::Pane {
            user_zoom,
            pan,
            max_zoom,
            key,
        } => {
            let pane = ui.available_rect_before_wrap();
            let resp = ui.allocate_rect(pane, Sense::click_and_drag());
            let legend_h = legend_height(ui, (w, marks), key, pane.width());
            let fit_area = Rect::from_min_max(pane.min, pane.max - vec2(0.0, legend_h)).shrink(6.0);
            let c = lay_out_cached(ui, (w, prev, marks), key, fit_area.size(), max_zoom);
            (c, pane, fit_area, resp, user_zoom, pan)
        }
        Fit::Natural => {
            let c: Cached = std::sync::Arc::new((0, lay_out(w, prev, marks, None)));
            let size = c.1.as_ref().map_or(Vec2::splat(200.0), |ld| ld.l.size) + vec2(20.0, 20.0);
            let (rect, resp) = ui.allocate_exact_size(size, Sense::hover());
            (c, rect, rect.shrink(10.0), resp, 1.0, Vec2::ZERO)
        }
    };
    let Some(ld) = &cached.1 else {
        let msg = "Nothing is mapped yet: only the shared zero page exists.\nStep forward to run the lesson.";
        let color = ui.visuals().text_color();
        ui.painter().text(
            pane.center(),
            egui::Align2::CENTER_CENTER,
            msg,
            egui::FontId::proportional(18.0),
            color,
        );
        return out;
    };
    let zoom = ld.fit_zoom * user_zoom;
    let content = ld.l.content();
    // Centred in the pane (then the user's pan), or from the corner on paper.
    let origin = match fit {
        Fit::Pane { .. } => fit_area.center().to_vec2() - content.center().to_vec2() * zoom + pan,
        Fit::Natural => fit_area.min.to_vec2() - content.min.to_vec2(),
    };
    let framing = Framing {
        pane,
        fit_area,
        zoom,
        origin,
    };
    let kinds;
    (out.stats, kinds) = draw(ui, (w, prev, marks), ld, &framing, anim, &mut out);
    if let Fit::Pane { .. } = fit {
        let ptes =
            ld.l.cells
                .keys()
                .filter_map(|k| match k {
                    layout::CellKey::Pte(pid, vpn) => Some((*pid, *vpn)),
                    _ => None,
                })
                .collect();
        let on_screen = legend::marks_of(w, ptes, |f| ld.l.card(f).is_some(), &ld.refs, marks);
        out.stats.legend_marks = on_screen.codes.clone();
        out.stats
            .legend_marks
            .extend(on_screen.outlines.iter().map(|(_, what)| *what));
        let items = legend::items(&kinds, &on_screen);
        let h = pane.bottom() - fit_area.bottom() - 6.0;
        legend::paint(ui, framing.pane, h, &items);
        out.pan_by = resp.drag_delta();
        if resp.contains_pointer() {
            out.pan_by += ui.input(|i| i.smooth_scroll_delta);
            out.zoom_by = ui.input(|i| i.zoom_delta());
        }
    }
    out
}

/// Hover, motion, painting, the frame's stats and the kinds of reference on
/// screen; sets `out.clicked`.
fn draw(
    ui: &mut Ui,
    (w, prev, marks): (&World, Option<&World>, &Marks),
    ld: &Laid,
    framing: &Framing,
    anim: Option<Anim>,
    out: &mut CanvasOut,
) -> (CanvasStats, Vec<pinlab_lessons::model::refs::RefKind>) {
    let sc = Scene {
        w,
        prev,
        marks,
        refs: &ld.refs,
        keys: &ld.keys,
    };
    let l = &ld.l;
    let v = View::new(framing.zoom, framing.origin, framing.pane, ui.visuals().dark_mode);
    let pointer = ui
        .input(|i| i.pointer.hover_pos())
        .filter(|p| framing.pane.contains(*p));
    let hot = pointer
        .map(|p| hover::find(l, sc.refs, sc.keys, v.inv(p), 6.0 / framing.zoom))
        .unwrap_or_default();
    let motion = anim.filter(|a| a.t < 1.0).map(|a| motion::Motion::new(a, sc.refs));
    let fading = match (anim, &motion) {
        (Some(a), Some(m)) => ghosts(ui, ld, framing, a.from, m.t()),
        _ => 0,
    };
    out.clicked = paint_all(ui, &sc, l, &v, &hot, motion.as_ref());
    let kinds = legend::kinds(sc.refs.iter().filter(|r| l.card(r.folio).is_some()));
    let mut stats = stats(ui, &sc, l, &v, &hot, framing);
    stats.arrangement = ld.arrangement.clone();
    stats.legend = kinds.iter().map(|k| k.noun()).collect();
    stats.animating = motion.is_some();
    stats.fading = fading;
    (stats, kinds)
}

/// Frames, arrows, cells and cards, in that order (cards on top); returns a
/// folio the user clicked.
fn paint_all(
    ui: &mut Ui,
    sc: &Scene,
    l: &layout::Layout,
    v: &View,
    hot: &hover::Hot,
    motion: Option<&motion::Motion>,
) -> Option<FolioId> {
    let painter = ui.painter_at(v.clip);
    paint::frames(&painter, v, l);
    paint::arrows(&painter, v, l, sc.refs, sc.keys, &hot.refs, motion);
    if let Some(m) = motion {
        m.retracting(&painter, v, l);
    }
    let hot_cells: Vec<&layout::CellKey> = hot.cells.iter().collect();
    paint::cells(&painter, v, l, sc.w, sc.marks, &hot_cells);
    let mut clicked = None;
    for (id, place) in &l.cards {
        if !v.visible(v.tr(place.rect)) {
            continue;
        }
        let c = card::Card {
            w: sc.w,
            prev: sc.prev,
            marks: sc.marks,
            refs: sc.refs,
            hot: &hot.refs,
            hot_piece: hot.piece.filter(|(f, _)| f == id).map(|(_, i)| &place.bar[i]),
            motion,
        };
        if card::paint(ui, &painter, v, c, *id, place) {
            clicked = Some(*id);
        }
    }
    // On top of the cards: where an arrow crosses another folio.
    paint::crossings(&painter, v, l, sc.refs, sc.keys);
    clicked
}

fn stats(ui: &Ui, sc: &Scene, l: &layout::Layout, v: &View, hot: &hover::Hot, f: &Framing) -> CanvasStats {
    let mut lit: Vec<String> = hot.refs.iter().map(|i| sc.refs[*i].from.describe(sc.w)).collect();
    lit.dedup();
    let pieces = l
        .cards
        .iter()
        .flat_map(|(id, c)| c.bar.iter().map(move |p| (*id, p)))
        .map(|(id, p)| (id, v.tr(p.rect), card::piece_text(p, sc.w, sc.refs)))
        .collect();
    let lit_pieces = l
        .cards
        .values()
        .flat_map(|c| &c.bar)
        .filter(|p| p.seg.members.iter().any(|m| hot.refs.contains(m)))
        .count();
    let mut first_ref: HashMap<&layout::CellKey, usize> = HashMap::new();
    for (i, k) in sc.keys.iter().enumerate() {
        if let Some(k) = k {
            first_ref.entry(k).or_insert(i);
        }
    }
    let cells = l
        .cells
        .iter()
        .filter_map(|(k, r)| {
            let i = *first_ref.get(k)?;
            l.card(sc.refs[i].folio)
                .is_some()
                .then(|| (v.tr(*r), sc.refs[i].from.describe(sc.w)))
        })
        .collect();
    CanvasStats {
        pane: f.fit_area,
        content: v.tr(l.content()),
        zoom: f.zoom,
        min_text_px: v.min_font.get() * ui.ctx().pixels_per_point(),
        pieces,
        lit,
        lit_cells: hot.cells.len(),
        lit_pieces,
        cells,
        labels: v.labels.borrow().clone(),
        cards: l
            .cards
            .iter()
            .map(|(id, c)| (*id, v.tr(c.rect), c.members.clone()))
            .collect(),
        arrows: v.arrows.borrow().clone(),
        ..Default::default()
    }
}
