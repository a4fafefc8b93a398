//! The browser build's fonts. The desktop app compiles in all of egui's
//! (eframe's `default_fonts`); here the one every frame needs, Ubuntu Light,
//! is compiled in, and the monospace one, Hack (code, the transcript, page
//! tables), is a file of the site that the page fetches after the first
//! frame and hands to `install_monospace` (web/www/main.js). Until it
//! arrives, monospace text is drawn in Ubuntu Light. This keeps 148 KB
//! (gzip) off the wasm a student waits for (docs/web.md).

use egui::{FontData, FontDefinitions, FontFamily, FontInsert, FontPriority, FontTweak, InsertFontFamily};
use std::sync::Arc;

/// The file web/build.sh copies next to the wasm, and its family's name.
pub const MONOSPACE: &str = "Hack";

/// Ubuntu Light for both families, egui's icon font after it: what
/// `FontDefinitions::default()` holds, less Hack.
pub fn embedded() -> FontDefinitions {
    let mut defs = FontDefinitions::empty();
    defs.font_data.insert(
        "Ubuntu-Light".into(),
        Arc::new(FontData::from_static(epaint_default_fonts::UBUNTU_LIGHT)),
    );
    // The handful of icons in egui::special_emojis, as egui's default has them.
    defs.font_data.insert(
        "egui-icons".into(),
        Arc::new(
            FontData::from_static(epaint_default_fonts::EGUI_ICONS).tweak(FontTweak {
                scale: 0.90,
                ..Default::default()
            }),
        ),
    );
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        defs.families
            .insert(family, vec!["Ubuntu-Light".into(), "egui-icons".into()]);
    }
    defs
}

/// Hack, fetched by the page, first for monospace text from the next frame.
pub fn install_monospace(ctx: &egui::Context, ttf: Vec<u8>) {
    ctx.add_font(FontInsert::new(
        MONOSPACE,
        FontData::from_owned(ttf),
        vec![InsertFontFamily {
            family: FontFamily::Monospace,
            priority: FontPriority::Highest,
        }],
    ));
}
