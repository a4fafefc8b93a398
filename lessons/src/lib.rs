//! pinlab lessons: the lesson format, loader and runner.
//!
//! The loader and runner arrive with the lessons issue; for now this crate only
//! re-exports the model so that the dependency direction `app -> lessons ->
//! core-model` is fixed from the start.

pub use pinlab_model as model;
