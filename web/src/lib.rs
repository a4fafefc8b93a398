//! pinlab in the browser: the eframe web runner and the handle that
//! `web/www/pinlab.js` wraps as `window.pinlab`. The operations themselves
//! live in `pinlab::gui::api`, shared with the desktop app and its tests;
//! this file only crosses the JS boundary.

#[cfg(target_arch = "wasm32")]
pub mod fonts;
#[cfg(target_arch = "wasm32")]
pub mod handle;
