//! Lists assets/lessons/*.toml (the built-in curriculum) and
//! assets/selftests/*.toml (the selftest matrix) so that they are compiled in.

use std::path::Path;

fn main() {
    embed("lessons", "BUILTIN", "builtin_lessons.rs");
    embed("selftests", "SELFTESTS", "builtin_selftests.rs");
}

fn embed(folder: &str, name: &str, out_file: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets").join(folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.ends_with("known.toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = format!("static {name}: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let file = f.file_name().unwrap().to_string_lossy();
        let abs = f.canonicalize().unwrap();
        out.push_str(&format!(
            "    ({file:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    let known = dir.join("known.toml");
    if known.exists() {
        println!("cargo:rerun-if-changed={}", known.display());
        out.push_str(&format!(
            "static KNOWN: &str = include_str!({:?});\n",
            known.canonicalize().unwrap().display().to_string()
        ));
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join(out_file);
    std::fs::write(dest, out).unwrap();
}
