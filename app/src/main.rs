//! The `pinlab` binary. The desktop window and the CLI subcommands arrive with
//! their issues; until then it says so.

fn main() {
    let presets: Vec<&str> = pinlab_lessons::model::Preset::ALL.iter().map(|p| p.name()).collect();
    println!(
        "pinlab {}: the simulated kernel is built (presets: {}).",
        env!("CARGO_PKG_VERSION"),
        presets.join(", ")
    );
    println!(
        "The desktop app and the lesson CLI are not built yet; run `cargo test --workspace` to exercise the model."
    );
}
