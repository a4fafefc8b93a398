//! The `pinlab` binary: the desktop app (no arguments, or `open`) and the
//! CLI subcommands.

use clap::Parser;
use pinlab::cli::{Cli, Command, EXIT_INVALID, find_lesson, main_with};
use pinlab::gui::{PinlabApp, Source, session::Nav};
use pinlab_lessons::model::Preset;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_gui(None),
        Some(Command::Open { lesson, step, kernel }) => {
            let l = match find_lesson(&lesson) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("pinlab: {e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            let preset = match kernel.as_deref().map(Preset::parse) {
                None => None,
                Some(Some(p)) => Some(p),
                Some(None) => {
                    eprintln!("pinlab: unknown kernel '{}'", kernel.unwrap_or_default());
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            let source = if std::path::Path::new(&lesson).exists() {
                Source::File(lesson.into())
            } else {
                Source::Builtin(lesson)
            };
            run_gui(Some((l, source, step, preset)))
        }
        Some(other) => main_with(Cli { command: Some(other) }),
    }
}

type Start = (pinlab_lessons::Lesson, Source, usize, Option<Preset>);

fn run_gui(start: Option<Start>) -> ExitCode {
    env_logger::init();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 720.0])
            .with_title("pinlab"),
        ..Default::default()
    };
    let r = eframe::run_native(
        "pinlab",
        options,
        Box::new(move |cc| {
            let mut app = PinlabApp::new(cc);
            if let Some((lesson, source, step, preset)) = start {
                app.open_lesson(lesson, source);
                if let Some(p) = preset {
                    app.set_kernel(p);
                }
                app.nav(Nav::Step(step));
            }
            Ok(Box::new(app))
        }),
    );
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pinlab: the desktop app could not start: {e}");
            ExitCode::from(1)
        }
    }
}
