//! From canvas units to the screen: zoom, origin and clip, and a record of
//! the smallest text actually drawn (the readability test reads it).

use egui::{Color32, FontId, Pos2, Rect, Vec2, pos2};
use std::cell::Cell;

pub struct View {
    pub zoom: f32,
    pub origin: Vec2,
    pub clip: Rect,
    pub dark: bool,
    /// Smallest font size drawn this frame, in points.
    pub min_font: Cell<f32>,
    /// Where arrow labels were drawn this frame (screen), for the test that
    /// no label covers a card.
    pub labels: std::cell::RefCell<Vec<Rect>>,
    /// The arrows drawn this frame: ends (screen) and the card's folio.
    pub arrows: std::cell::RefCell<Vec<(Pos2, Pos2, pinlab_lessons::model::FolioId)>>,
}

impl View {
    pub fn new(zoom: f32, origin: Vec2, clip: Rect, dark: bool) -> View {
        View {
            zoom,
            origin,
            clip,
            dark,
            min_font: Cell::new(f32::INFINITY),
            labels: Default::default(),
            arrows: Default::default(),
        }
    }

    pub fn note_label(&self, r: Rect) {
        self.labels.borrow_mut().push(r);
    }

    pub fn t(&self, p: Pos2) -> Pos2 {
        pos2(p.x * self.zoom, p.y * self.zoom) + self.origin
    }

    pub fn tr(&self, r: Rect) -> Rect {
        Rect::from_min_max(self.t(r.min), self.t(r.max))
    }

    /// Back from the screen to canvas units.
    pub fn inv(&self, p: Pos2) -> Pos2 {
        let q = p - self.origin;
        pos2(q.x / self.zoom, q.y / self.zoom)
    }

    /// A font of `size` canvas units; counts towards the smallest text drawn.
    pub fn font(&self, size: f32) -> FontId {
        let pts = size * self.zoom;
        self.min_font.set(self.min_font.get().min(pts));
        FontId::proportional(pts)
    }

    pub fn visible(&self, r: Rect) -> bool {
        self.clip.intersects(r)
    }

    /// Text colour on the canvas background.
    pub fn fg(&self) -> Color32 {
        if self.dark { Color32::WHITE } else { Color32::BLACK }
    }

    /// A colour meant for the dark background, adapted to the light theme.
    pub fn adapt(&self, c: Color32) -> Color32 {
        if c == Color32::WHITE {
            self.fg()
        } else if !self.dark && (c == Color32::LIGHT_GRAY || c == Color32::GRAY) {
            Color32::DARK_GRAY
        } else {
            c
        }
    }
}
