//! Colours: the Okabe-Ito palette (safe for the common colour-vision
//! deficiencies); meaning is never carried by red versus green alone — every
//! coloured mark also has a text label or a pattern.

use egui::Color32;

pub const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
pub const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
pub const SKY: Color32 = Color32::from_rgb(86, 180, 233);
pub const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
pub const YELLOW: Color32 = Color32::from_rgb(240, 228, 66);
pub const VERMILION: Color32 = Color32::from_rgb(213, 94, 0);
pub const PURPLE: Color32 = Color32::from_rgb(204, 121, 167);
pub const GREY: Color32 = Color32::from_rgb(140, 140, 140);

/// Plain references.
pub const REF: Color32 = BLUE;
/// Pins (the 1024 bias segments and pincount).
pub const PIN: Color32 = ORANGE;
/// Just-listed pages (no reference).
pub const LIST: Color32 = GREY;
/// Mappings (PTE -> folio).
pub const MAP: Color32 = SKY;
/// Page-cache references.
pub const CACHE: Color32 = GREEN;
/// What changed in the current micro-step.
pub const CHANGED: Color32 = YELLOW;
/// Hazards.
pub const HAZARD: Color32 = VERMILION;
