//! The kernel symbol table (`assets/kernel-symbols.toml`): for every kernel
//! function (and flag) the model names, and the file that defines it, the
//! preset releases whose source tree defines it there, with the evidence.
//! `names.rs` picks the name per preset; this table is the independent record
//! the tests hold every printed micro-step and every named function against.

use crate::preset::Preset;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One function (or flag) in one file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct FnEntry {
    pub name: String,
    pub path: String,
    /// Preset releases ("5.7", "6.18") whose tree defines it in `path`.
    pub releases: Vec<String>,
    pub evidence: String,
}

/// A micro-step that is not a kernel function (a user-space store, a
/// device's DMA, a what-if proposal).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Pseudo {
    pub name: String,
    pub path: String,
    pub reason: String,
}

/// A name lessons may quote that is not a kernel symbol (a user-space call,
/// a proposal that was never merged).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Other {
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SymbolTable {
    #[serde(default, rename = "fn")]
    pub fns: Vec<FnEntry>,
    #[serde(default)]
    pub pseudo: Vec<Pseudo>,
    #[serde(default)]
    pub other: Vec<Other>,
}

impl SymbolTable {
    pub fn parse(text: &str) -> Result<SymbolTable, String> {
        toml::from_str(text).map_err(|e| format!("kernel-symbols.toml: {e}"))
    }

    /// The table compiled into the program.
    pub fn builtin() -> &'static SymbolTable {
        static TABLE: OnceLock<SymbolTable> = OnceLock::new();
        TABLE.get_or_init(|| SymbolTable::parse(include_str!("../../assets/kernel-symbols.toml")).unwrap_or_default())
    }

    /// Why a micro-step may not name `func` in `path` under `p`; None when
    /// the table places it there in p's release (or lists it as a pseudo step).
    pub fn check_step(&self, func: &str, path: &str, p: Preset) -> Option<String> {
        if self.pseudo.iter().any(|s| s.name == func && s.path == path) {
            return None;
        }
        let mut files = Vec::new();
        for e in self.fns.iter().filter(|e| e.name == func) {
            if e.path == path && e.releases.iter().any(|r| r == p.name()) {
                return None;
            }
            if e.releases.iter().any(|r| r == p.name()) {
                files.push(e.path.as_str());
            }
        }
        Some(if files.is_empty() {
            format!("{func} ({path}) is not in the table for {p}")
        } else {
            format!("{func} is in {} in {p}, not in {path}", files.join(", "))
        })
    }

    /// Whether `name` is listed as not being a kernel symbol.
    pub fn is_other(&self, name: &str) -> bool {
        self.other.iter().any(|o| o.name == name)
    }

    /// Every function or flag name the table knows.
    pub fn names(&self) -> BTreeSet<&str> {
        self.fns.iter().map(|e| e.name.as_str()).collect()
    }

    /// Whether `p`'s release defines `name` in some file.
    pub fn exists_in(&self, name: &str, p: Preset) -> bool {
        self.fns
            .iter()
            .any(|e| e.name == name && e.releases.iter().any(|r| r == p.name()))
    }

    /// Identifiers in `text` that the table knows but that `p`'s release
    /// does not have.
    pub fn missing_names_in(&self, text: &str, p: Preset) -> Vec<String> {
        let names = self.names();
        identifiers(text)
            .filter(|w| names.contains(w) && !self.exists_in(w, p))
            .map(str::to_string)
            .collect()
    }
}

/// C identifiers in a text (words of letters, digits and '_').
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_parses_and_every_entry_has_evidence() {
        let t = SymbolTable::parse(include_str!("../../assets/kernel-symbols.toml")).expect("parses");
        assert!(t.fns.len() > 100);
        for e in &t.fns {
            assert!(!e.releases.is_empty(), "{} ({}) is in no release", e.name, e.path);
            assert!(e.evidence.starts_with("defined in"), "{}: {}", e.name, e.evidence);
            for r in &e.releases {
                assert!(
                    Preset::parse(r).is_some_and(|p| p.name() == r),
                    "{}: release {r}",
                    e.name
                );
            }
        }
    }

    #[test]
    fn a_wrong_entry_is_reported() {
        let mut t = SymbolTable::builtin().clone();
        assert_eq!(t.check_step("try_grab_folio", "mm/gup.c", Preset::V5_18), None);
        // Deliberately wrong: the table forgets that 5.18 has try_grab_folio.
        for e in t.fns.iter_mut().filter(|e| e.name == "try_grab_folio") {
            e.releases.retain(|r| r != "5.18");
        }
        let why = t.check_step("try_grab_folio", "mm/gup.c", Preset::V5_18);
        assert!(why.is_some_and(|w| w.contains("not in the table for 5.18")));
        assert!(
            t.check_step("folio_end_writeback", "mm/page-writeback.c", Preset::V6_12)
                .is_some_and(|w| w.contains("mm/filemap.c")),
            "a wrong file names the right one"
        );
    }

    #[test]
    fn names_in_text_are_checked_per_release() {
        let t = SymbolTable::builtin();
        assert_eq!(
            t.missing_names_in("iov_iter_get_pages2 takes refs; see MMF_HAS_PINNED.", Preset::V5_9),
            vec!["iov_iter_get_pages2", "MMF_HAS_PINNED"]
        );
        assert!(
            t.missing_names_in("iov_iter_get_pages2 takes refs", Preset::V6_12)
                .is_empty()
        );
    }
}
