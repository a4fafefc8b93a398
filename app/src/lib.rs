//! pinlab application library: the command line and the egui app.

#[cfg(not(target_arch = "wasm32"))]
#[macro_use]
pub mod cli;
#[cfg(not(target_arch = "wasm32"))]
pub mod generate;
pub mod gui;
#[cfg(not(target_arch = "wasm32"))]
pub mod probe_cmd;
#[cfg(target_os = "linux")]
pub mod probe_vm;
#[cfg(not(target_arch = "wasm32"))]
pub mod serve_cmd;
