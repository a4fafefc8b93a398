//! The join link as a QR code, drawn with the painter: dark modules on a
//! white square with the standard 4-module quiet zone, so phone cameras read
//! it off a projector in a dark or light theme alike.

use qrcode::{Color, QrCode};

/// The modules of `text`'s QR code, row by row (true: dark), and the width.
pub fn modules(text: &str) -> Option<(Vec<bool>, usize)> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let w = code.width();
    Some((code.to_colors().into_iter().map(|c| c == Color::Dark).collect(), w))
}

/// Draws `text` as a QR code `side` points wide.
pub fn show(ui: &mut egui::Ui, text: &str, side: f32) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
    let Some((dark, w)) = modules(text) else {
        return resp;
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::WHITE);
    let quiet = 4.0;
    let m = side / (w as f32 + 2.0 * quiet);
    for (i, on) in dark.iter().enumerate() {
        if *on {
            let (x, y) = ((i % w) as f32 + quiet, (i / w) as f32 + quiet);
            let r = egui::Rect::from_min_size(rect.min + egui::vec2(x * m, y * m), egui::vec2(m, m));
            // Half a pixel of overlap: no seams between modules.
            painter.rect_filled(r.expand(0.25), 0.0, egui::Color32::BLACK);
        }
    }
    resp.on_hover_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_link_encodes_as_a_square_code_with_finder_patterns() {
        let (dark, w) = modules("http://192.168.1.20:8080/#join=BCDEFG").unwrap();
        assert_eq!(dark.len(), w * w);
        assert!(w >= 21 && (w - 21) % 4 == 0, "a QR version's width: {w}");
        // The top-left finder pattern: a dark 7x7 ring around a light ring.
        for i in 0..7 {
            assert!(dark[i] && dark[6 * w + i] && dark[i * w] && dark[i * w + 6]);
        }
        assert!(!dark[w + 1] && dark[2 * w + 2]);
    }
}
