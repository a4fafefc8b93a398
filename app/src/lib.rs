//! pinlab application library: the command line now; the egui app arrives
//! with the GUI issue.

pub mod cli;
