//! Where everything on the canvas goes, in canvas units (1 unit = 1 point at
//! zoom 1). Blocks (a process, a file, a holder, a folio card...) are laid out
//! at their own origin and then moved into place by `arrange`.

use super::bar::BarPiece;
use ahash::AHashMap as HashMap;
use egui::{Color32, Pos2, Rect, Vec2};
use pinlab_lessons::model::{FileId, FolioId, Pid};
use std::collections::BTreeMap;

/// Text sizes on the canvas, in canvas units. The smallest is 13: at the
/// default fit on a 1280x720 window the zoom is at least 1, so no canvas text
/// is drawn below 13 px (a GUI test measures what is actually painted).
pub const TITLE: f32 = 15.0;
pub const HEAD: f32 = 14.0;
pub const BODY: f32 = 13.0;

/// A page-table, page-cache or holder cell.
pub const CELL_W: f32 = 42.0;
pub const CELL_H: f32 = 30.0;
pub const GAP: f32 = 2.0;
/// Cells to a row: six 42-unit cells fill a 280-unit block.
pub const PER_ROW: usize = 6;
/// Every block (process, file, holder, folio card) is this wide: two fit
/// side by side in the canvas pane of a 1280-wide window at zoom 1.
pub const BLOCK_W: f32 = 280.0;
/// Pages of one mapping or one holder drawn as cells; the rest are counted.
pub const MAX_CELLS: usize = 48;

#[derive(Clone, Debug)]
pub struct Text {
    pub at: Pos2,
    pub text: String,
    pub size: f32,
    pub color: Color32,
}

/// Which cell a reference starts from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CellKey {
    Pte(Pid, u64),
    Cache(FileId, u64),
    Holder(String, usize),
    Pipe(String, usize),
    Kbuf(String, usize),
}

/// A folio card's place and the pieces of its refcount bar.
#[derive(Clone, Debug)]
pub struct CardPlace {
    pub rect: Rect,
    pub bar: Vec<BarPiece>,
    /// The folios this card stands for: one, or a group of alike ones.
    pub members: Vec<FolioId>,
    /// Which references came or went in this micro-step.
    pub deltas: Vec<super::delta::Delta>,
}

/// Consecutive PTEs that map consecutive pages of one folio alike (a THP,
/// a PMD mapping), or an unmapped stretch, drawn as one wide cell.
#[derive(Clone, Debug)]
pub struct Run {
    pub rect: Rect,
    pub first: CellKey,
    /// "[0..511]": the pages of the mapping it stands for.
    pub label: String,
    pub len: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Cards by their first folio.
    pub cards: BTreeMap<FolioId, CardPlace>,
    /// The card each folio of a group is drawn in.
    pub card_of: HashMap<FolioId, FolioId>,
    /// Every cell an arrow can start from; the PTEs of a run share its rect.
    pub cells: HashMap<CellKey, Rect>,
    pub runs: Vec<Run>,
    /// Arrows that go around cards (route.rs), by cell and card; the others
    /// are straight.
    pub routes: HashMap<super::route::RouteKey, Vec<egui::Pos2>>,
    /// Laid out in columns: arrows leave their cells sideways.
    pub sideways: bool,
    pub boxes: Vec<(Rect, Color32)>,
    pub texts: Vec<Text>,
    pub size: Vec2,
}

impl Layout {
    pub fn text(&mut self, x: f32, y: f32, text: impl Into<String>, size: f32, color: Color32) {
        self.texts.push(Text {
            at: egui::pos2(x, y),
            text: text.into(),
            size,
            color,
        });
    }

    /// Moves `other` by `by` and adds it to this layout.
    pub fn absorb(&mut self, other: Layout, by: Vec2) {
        for (id, mut c) in other.cards {
            c.rect = c.rect.translate(by);
            for p in &mut c.bar {
                p.rect = p.rect.translate(by);
            }
            self.cards.insert(id, c);
        }
        self.card_of.extend(other.card_of);
        for (k, r) in other.cells {
            self.cells.insert(k, r.translate(by));
        }
        self.runs.extend(other.runs.into_iter().map(|mut r| {
            r.rect = r.rect.translate(by);
            r
        }));
        self.boxes
            .extend(other.boxes.into_iter().map(|(r, c)| (r.translate(by), c)));
        self.texts.extend(other.texts.into_iter().map(|mut t| {
            t.at += by;
            t
        }));
        self.size = self.size.max(other.size + by);
    }

    /// The path of the arrow from `cell` to the card `card` (its first folio).
    pub fn path(&self, cell: &Rect, card: FolioId) -> std::borrow::Cow<'_, [egui::Pos2]> {
        match self.routes.get(&super::route::key(cell, card)) {
            Some(p) => std::borrow::Cow::Borrowed(p),
            None => {
                let (a, b) = match self.cards.get(&card) {
                    Some(c) => super::paint::ends(*cell, c.rect, self.sideways),
                    None => (cell.center(), cell.center()),
                };
                std::borrow::Cow::Owned(vec![a, b])
            }
        }
    }

    /// Works out which arrows go around cards (after the blocks are placed).
    /// Arrows routed through the same channel take lanes 4 units apart.
    pub fn route_arrows(&mut self, cells: impl Iterator<Item = (Rect, FolioId)>) {
        let mut lanes: HashMap<u32, usize> = HashMap::new();
        for (cell, card) in cells {
            let k = super::route::key(&cell, card);
            if self.routes.contains_key(&k) {
                continue;
            }
            let p = super::route::route(self, cell, card, 0.0);
            if p.len() <= 2 {
                continue;
            }
            // The channel: the x of the path's third point.
            let lane = lanes.entry(p[2].x.to_bits()).or_default();
            let shifted = (*lane > 0)
                .then(|| super::route::route(self, cell, card, 4.0 * *lane as f32))
                .filter(|q| q.len() > 2);
            *lane += 1;
            self.routes.insert(k, shifted.unwrap_or(p));
        }
    }

    /// The card folio `id` is drawn in, alone or in a group.
    pub fn card(&self, id: FolioId) -> Option<&CardPlace> {
        self.cards.get(self.card_of.get(&id).unwrap_or(&id))
    }

    /// The part of the canvas anything is drawn in.
    pub fn content(&self) -> Rect {
        let mut r = Rect::NOTHING;
        for c in self.cards.values() {
            r = r.union(c.rect);
        }
        for (b, _) in &self.boxes {
            r = r.union(*b);
        }
        for c in self.cells.values() {
            r = r.union(*c);
        }
        r
    }
}

/// Cell `i` of a grid whose first cell is at (x, y).
pub fn cell(x: f32, y: f32, i: usize) -> Rect {
    Rect::from_min_size(
        egui::pos2(
            x + (i % PER_ROW) as f32 * (CELL_W + GAP),
            y + (i / PER_ROW) as f32 * (CELL_H + GAP),
        ),
        egui::vec2(CELL_W, CELL_H),
    )
}

/// Height of a grid of `n` cells.
pub fn rows_height(n: usize) -> f32 {
    n.div_ceil(PER_ROW) as f32 * (CELL_H + GAP)
}
