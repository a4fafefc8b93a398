//! The built-in curriculum, compiled into the binary (the web build has no
//! file system). `build.rs` lists `assets/lessons/*.toml`.

use crate::lesson::Lesson;
use crate::load::{LoadError, load_str};

include!(concat!(env!("OUT_DIR"), "/builtin_lessons.rs"));

/// (file name, TOML text) of every built-in lesson, in curriculum order.
pub fn sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

/// Loads every built-in lesson.
pub fn all() -> Vec<Result<Lesson, LoadError>> {
    BUILTIN
        .iter()
        .map(|(name, text)| load_str(&format!("assets/lessons/{name}"), text))
        .collect()
}

/// The built-in lesson with this id.
pub fn by_id(id: &str) -> Option<Lesson> {
    all().into_iter().flatten().find(|l| l.id == id)
}
