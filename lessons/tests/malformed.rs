//! The malformed-lesson corpus: each file in tests/malformed/ starts with
//! `# expect: LINE:COL message-fragment`, the exact place and kind of the
//! error the loader must report.

use pinlab_lessons::load_str;
use std::path::Path;

#[test]
fn every_malformed_lesson_fails_at_the_expected_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 25, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let header = text.lines().next().unwrap();
        let spec = header
            .strip_prefix("# expect: ")
            .unwrap_or_else(|| panic!("{}: no '# expect:' header", f.display()));
        let (pos, fragment) = spec.split_once(' ').unwrap();
        let (line, col) = pos.split_once(':').unwrap();
        let (line, col): (usize, usize) = (line.parse().unwrap(), col.parse().unwrap());
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        match load_str(&name, &text) {
            Ok(_) => failures.push(format!("{name}: loaded, expected an error")),
            Err(e) => {
                if e.file != name || e.line != line || e.col != col || !e.message.contains(fragment) {
                    failures.push(format!("{name}: expected {line}:{col} '{fragment}', got {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
