//! Putting the blocks in place so the picture fills the pane. Two
//! arrangements: columns (processes | folios | holders, arrows left to right)
//! and bands (processes above, folios in the middle, holders below, arrows up
//! and down), whose rows wrap at the pane's width. `fit` picks the one, and
//! the zoom, at which the whole picture is largest; folios sit next to what
//! references them, so arrows cross as little as possible.

use super::layout::{BLOCK_W, CellKey, Layout};
use ahash::AHashMap as HashMap;
use egui::{Vec2, vec2};
use pinlab_lessons::model::refs::{RefKind, Reference, Referrer};
use pinlab_lessons::model::{FolioId, World};

const BLOCK_GAP: f32 = 12.0;
/// Between processes and folios: mappings carry no label.
const LEFT_GAP: f32 = 56.0;
/// Between folios and holders: wide enough for an arrow's label ("ref
/// \u{d7}1022") to sit on the arrow without covering a card or a block.
pub const RIGHT_GAP: f32 = 100.0;
const COLUMNS_W: f32 = 3.0 * BLOCK_W + LEFT_GAP + RIGHT_GAP;
const BAND_GAP: f32 = 30.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrangement {
    Columns,
    Bands,
}

/// Where each page a holder or pipe has sits in it: (folio, page) to its
/// indexes, so the k-th reference to one page finds the k-th cell.
type Slots = HashMap<(FolioId, u16), Vec<usize>>;

fn slots(pages: impl Iterator<Item = (FolioId, u16)>) -> Slots {
    let mut m: Slots = HashMap::new();
    for (i, p) in pages.enumerate() {
        m.entry(p).or_default().push(i);
    }
    m
}

/// The cell of the `k`-th reference to `r`'s page in holder or pipe `name`
/// (its slots made once by `make`); the layout knows whether it is drawn (a
/// run of alike pages is one cell however long).
fn slot(
    cache: &mut HashMap<String, Slots>,
    name: &str,
    make: impl FnOnce() -> Option<Slots>,
    r: &Reference,
    k: usize,
) -> Option<usize> {
    let s = cache
        .entry(name.to_string())
        .or_insert_with(|| make().unwrap_or_default());
    s.get(&(r.folio, r.page))?.get(k).copied()
}

/// The cell each reference starts from (None: drawn as a chip, or not shown).
pub fn cell_keys(w: &World, refs: &[Reference]) -> Vec<Option<CellKey>> {
    let mut holders: HashMap<String, Slots> = HashMap::new();
    let mut pipes: HashMap<String, Slots> = HashMap::new();
    let mut seen: HashMap<(bool, String, FolioId, u16), usize> = HashMap::new();
    let mut nth = |pipe: bool, name: &str, r: &Reference| {
        let n = seen.entry((pipe, name.to_string(), r.folio, r.page)).or_insert(0);
        *n += 1;
        *n - 1
    };
    refs.iter()
        .map(|r| match &r.from {
            Referrer::Pte(p, v) | Referrer::Pmd(p, v) => Some(CellKey::Pte(*p, *v)),
            Referrer::PageCache(f, i) => Some(CellKey::Cache(*f, *i)),
            Referrer::Holder(h) => {
                let k = nth(false, h, r);
                let pages = || {
                    w.holders
                        .get(h)
                        .map(|x| slots(x.pages.iter().map(|p| (p.folio, p.page))))
                };
                slot(&mut holders, h, pages, r, k).map(|i| CellKey::Holder(h.clone(), i))
            }
            Referrer::Pipe(name) => {
                let k = nth(true, name, r);
                let bufs = || {
                    w.pipes
                        .get(name)
                        .map(|x| slots(x.bufs.iter().map(|b| (b.folio, b.page))))
                };
                slot(&mut pipes, name, bufs, r, k).map(|i| CellKey::Pipe(name.clone(), i))
            }
            Referrer::KernelBuf(k, i) => Some(CellKey::Kbuf(k.clone(), *i as usize)),
            Referrer::SwapCache(_)
            | Referrer::Private(_)
            | Referrer::Reserved
            | Referrer::Leak(_)
            | Referrer::Isolation(_) => None,
        })
        .collect()
}

/// The world's blocks.
pub struct Blocks {
    pub left: Vec<Layout>,
    pub right: Vec<Layout>,
    /// In folio id order, which is the order folios were allocated in and
    /// so the order they appeared in the lesson: every folio keeps its place
    /// from one micro-step to the next (a COW copy comes after the page it
    /// copies, which stays where it was), the way Python Tutor never moves an
    /// object. Placing cards by where their referrers sit crossed fewer
    /// arrows, but moved "the page" at the moment the lesson is about it.
    pub cards: Vec<(FolioId, Layout)>,
}

impl Blocks {
    /// The processes and the cards back, to pair them with other holder blocks.
    pub fn into_parts(self) -> (Vec<Layout>, Vec<(FolioId, Layout)>) {
        (self.left, self.cards)
    }
}

/// Offsets of every block, in the order of `Blocks`' lists.
pub struct Placement {
    pub arrangement: Arrangement,
    left: Vec<Vec2>,
    right: Vec<Vec2>,
    /// Card index in `Blocks::cards` and its offset.
    cards: Vec<(usize, Vec2)>,
    pub size: Vec2,
    /// The width rows wrapped at.
    pub width: f32,
}

/// Blocks stacked downwards from `y`; returns offsets and the height used.
fn stack(blocks: &[Layout], x: f32, y: f32) -> (Vec<Vec2>, f32) {
    let mut offs = Vec::with_capacity(blocks.len());
    let mut at = y;
    for b in blocks {
        offs.push(vec2(x, at));
        at += b.size.y + BLOCK_GAP;
    }
    (offs, (at - y - BLOCK_GAP).max(0.0))
}

/// Between two rows of folio cards: room for an arrow routed around the
/// cards of a nearer row to turn into its card (route.rs).
const CARD_ROW_GAP: f32 = 18.0;

/// Blocks in rows that wrap at `width`, `row_gap` apart, from `y`: offsets,
/// rows (first block index, count, row width), height.
fn flow(sizes: &[Vec2], width: f32, y: f32, row_gap: f32) -> (Vec<Vec2>, Vec<(usize, usize, f32)>, f32) {
    let mut offs = Vec::with_capacity(sizes.len());
    let mut rows: Vec<(usize, usize, f32)> = Vec::new();
    let (mut x, mut row_y, mut row_h) = (0.0f32, y, 0.0f32);
    for (i, s) in sizes.iter().enumerate() {
        if x > 0.0 && x + s.x > width {
            row_y += row_h + row_gap;
            x = 0.0;
            row_h = 0.0;
        }
        if x == 0.0 {
            rows.push((i, 0, 0.0));
        }
        offs.push(vec2(x, row_y));
        let row = rows.last_mut().expect("a row");
        row.1 += 1;
        row.2 = x + s.x;
        x += s.x + BLOCK_GAP;
        row_h = row_h.max(s.y);
    }
    let h = if sizes.is_empty() { 0.0 } else { row_y + row_h - y };
    (offs, rows, h)
}

pub fn columns(b: &Blocks) -> Placement {
    let (left, lh) = stack(&b.left, 0.0, 0.0);
    let right_x = 2.0 * BLOCK_W + LEFT_GAP + RIGHT_GAP;
    let (right, rh) = stack(&b.right, right_x, 0.0);
    let mut cards = Vec::with_capacity(b.cards.len());
    let mut y = 0.0;
    for i in 0..b.cards.len() {
        cards.push((i, vec2(BLOCK_W + LEFT_GAP, y)));
        y += b.cards[i].1.size.y + BLOCK_GAP;
    }
    let mh = (y - BLOCK_GAP).max(0.0);
    Placement {
        arrangement: Arrangement::Columns,
        left,
        right,
        cards,
        size: vec2(COLUMNS_W, lh.max(rh).max(mh)),
        width: COLUMNS_W,
    }
}

/// Centres each row of a band within `width`.
fn centre_rows(offs: &mut [Vec2], rows: &[(usize, usize, f32)], width: f32) {
    for (first, n, w) in rows {
        for o in &mut offs[*first..first + n] {
            o.x += ((width - w) / 2.0).max(0.0);
        }
    }
}

pub fn bands(b: &Blocks, width: f32) -> Placement {
    let sizes = |v: &[Layout]| v.iter().map(|l| l.size).collect::<Vec<_>>();
    let (mut left, lrows, lh) = flow(&sizes(&b.left), width, 0.0, BLOCK_GAP);
    let (mut right, rrows, rh) = flow(&sizes(&b.right), width, 0.0, BLOCK_GAP);
    let order = 0..b.cards.len();
    let card_sizes: Vec<Vec2> = b.cards.iter().map(|c| c.1.size).collect();
    let mid_y = if b.left.is_empty() { 0.0 } else { lh + BAND_GAP };
    let (mid, mrows, mh) = flow(&card_sizes, width, mid_y, CARD_ROW_GAP);
    let right_y = mid_y + if order.is_empty() { 0.0 } else { mh + BAND_GAP };
    for o in &mut right {
        o.y += right_y;
    }
    let widest = [&lrows, &rrows, &mrows]
        .iter()
        .flat_map(|rows| rows.iter().map(|r| r.2))
        .fold(0.0f32, f32::max);
    centre_rows(&mut left, &lrows, widest);
    // The folios' rows start at the left: a card joining a row does not
    // move the cards already in it (and a COW copy does not push "the page"
    // aside at the moment the lesson is about it).
    centre_rows(&mut right, &rrows, widest);
    let height = if b.right.is_empty() {
        right_y - BAND_GAP
    } else {
        right_y + rh
    };
    Placement {
        arrangement: Arrangement::Bands,
        left,
        right,
        cards: order.into_iter().zip(mid).collect(),
        size: vec2(widest, height.max(0.0)),
        width,
    }
}

/// The arrangement and zoom at which the picture is largest in `pane`
/// (points), never above `max_zoom`.
pub fn fit(b: &Blocks, pane: Vec2, max_zoom: f32) -> (Placement, f32) {
    let cols = columns(b);
    let zc = (pane.x / cols.size.x).min(pane.y / cols.size.y.max(1.0)).min(max_zoom);
    let fits = |z: f32| {
        let p = bands(b, pane.x / z);
        p.size.x <= pane.x / z + 0.5 && p.size.y <= pane.y / z + 0.5
    };
    let (mut lo, mut hi) = (0.1f32, max_zoom);
    if fits(hi) {
        lo = hi;
    } else {
        for _ in 0..14 {
            let mid = (lo + hi) / 2.0;
            if fits(mid) { lo = mid } else { hi = mid }
        }
    }
    // A row that wraps sends arrows through the row before it: keep every
    // band on one row while the text stays readable (zoom 1 is 13 px) and
    // the picture keeps at least half its size.
    let one_row = (pane.x / widest_band(b)).min(max_zoom);
    let zb = if one_row < lo && one_row >= (0.5 * lo).max(lo.min(1.0)) && fits(one_row) {
        one_row
    } else {
        lo
    };
    // Columns read left to right like the kernel's path; keep them unless
    // bands are clearly larger.
    if zb > zc * 1.05 {
        (bands(b, pane.x / zb), zb)
    } else {
        (cols, zc)
    }
}

/// The width of the widest band laid out in a single row.
fn widest_band(b: &Blocks) -> f32 {
    let row = |sizes: &mut dyn Iterator<Item = f32>| {
        let (n, w) = sizes.fold((0, 0.0f32), |(n, w), x| (n + 1, w + x));
        w + (n.max(1) - 1) as f32 * BLOCK_GAP
    };
    let l = row(&mut b.left.iter().map(|x| x.size.x));
    let m = row(&mut b.cards.iter().map(|(_, x)| x.size.x));
    let r = row(&mut b.right.iter().map(|x| x.size.x));
    l.max(m).max(r).max(1.0)
}

/// The blocks moved into place: one layout of the whole canvas.
pub fn build(b: Blocks, p: &Placement) -> Layout {
    let mut l = Layout::default();
    let mut cards: Vec<Option<(FolioId, Layout)>> = b.cards.into_iter().map(Some).collect();
    for (blk, off) in b.left.into_iter().zip(&p.left).chain(b.right.into_iter().zip(&p.right)) {
        l.absorb(blk, *off);
    }
    for (i, off) in &p.cards {
        if let Some((_, blk)) = cards[*i].take() {
            l.absorb(blk, *off);
        }
    }
    l.size = l.size.max(p.size);
    l.sideways = p.arrangement == Arrangement::Columns;
    l
}

/// Whether a reference gets a card for its folio (the zero page's own
/// reservation alone does not).
pub fn shows_folio(r: &Reference) -> bool {
    r.kind != RefKind::Reserved
}
