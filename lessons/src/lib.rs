//! pinlab lessons: the lesson format (TOML), its loader with precise errors,
//! the runner that checks every expectation, transcripts and handouts. It
//! knows nothing of egui: the app, the CLI and the web build all use it.

pub mod address;
pub mod builtin;
pub mod compare;
pub mod counterexample;
pub mod course;
pub mod exercise;
pub mod expect;
pub mod handout;
pub mod kernels;
pub mod lecture;
pub mod lesson;
pub mod load;
pub mod matrix;
pub mod run;
pub mod write;

pub use lesson::{Lesson, Step};
pub use load::{LoadError, load_str};
pub use pinlab_model as model;
pub use run::{Report, run_lesson};
