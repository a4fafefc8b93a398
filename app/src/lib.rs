//! pinlab application library: the command line and the egui app.

pub mod cli;
pub mod gui;
