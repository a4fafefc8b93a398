//! The `pinlab` binary: the desktop app (no arguments, or `open`) and the
//! CLI subcommands.

use clap::Parser;
use pinlab::cli::{Cli, Command, EXIT_INVALID, find_lecture, find_lesson, kernel_arg, main_with};
use pinlab::gui::{PinlabApp, Source, session::Nav};
use pinlab_lessons::model::Preset;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_gui(None),
        Some(Command::Open {
            lesson,
            lecture,
            step,
            kernel,
            compare,
            present,
            quiz,
            live,
            size,
            room,
            join,
            server,
        }) => {
            let lecture = match lecture.as_deref().map(find_lecture).transpose() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("pinlab: {e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            // With a lecture, its first stop's lesson (the lecture opens it).
            let lesson = match (&lecture, lesson) {
                (Some(l), _) => l.stops[0].lesson.id.clone(),
                (None, Some(lesson)) => lesson,
                (None, None) => unreachable!("clap requires a lesson without --lecture"),
            };
            let l = match find_lesson(&lesson) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("pinlab: {e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            let (preset, compare) = match (kernel_arg(kernel.as_deref()), kernel_arg(compare.as_deref())) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("pinlab: {e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            let source = if std::path::Path::new(&lesson).exists() {
                Source::File(lesson.into())
            } else {
                Source::Builtin(lesson)
            };
            run_gui(Some(Start {
                lesson: l,
                lecture,
                source,
                step,
                preset,
                compare,
                present,
                quiz,
                live,
                size,
                room,
                join: join.map(|code| (server, code)),
            }))
        }
        Some(other) => main_with(Cli { command: Some(other) }),
    }
}

/// How `pinlab open` starts the app.
struct Start {
    lesson: pinlab_lessons::Lesson,
    /// Walk this lecture from its first stop (Page Down across lessons).
    lecture: Option<pinlab_lessons::lecture::Lecture>,
    source: Source,
    step: usize,
    preset: Option<Preset>,
    compare: Option<Preset>,
    present: bool,
    quiz: bool,
    /// Open the "Real kernel" window (Linux).
    live: bool,
    /// Window size in points.
    size: Option<[f32; 2]>,
    /// Open a live-class room on this server.
    room: Option<String>,
    /// Join a live-class room: (server, code).
    join: Option<(String, String)>,
}

fn run_gui(start: Option<Start>) -> ExitCode {
    env_logger::init();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size(start.as_ref().and_then(|s| s.size).unwrap_or([1280.0, 720.0]))
            .with_title("pinlab")
            // Matches assets/pinlab.desktop (StartupWMClass), so a desktop
            // shows the installed icon on this window.
            .with_app_id("pinlab"),
        ..Default::default()
    };
    let r = eframe::run_native(
        "pinlab",
        options,
        Box::new(move |cc| {
            let mut app = PinlabApp::new(cc);
            if let Some(s) = start {
                app.open_lesson(s.lesson, s.source);
                if let Some(p) = s.preset {
                    app.set_kernel(p);
                }
                app.set_quiz(s.quiz);
                app.set_compare(s.compare);
                app.nav(Nav::Step(s.step));
                if let Some(l) = s.lecture {
                    app.open_lecture(l);
                }
                if s.present {
                    app.set_presenter(&cc.egui_ctx, true);
                }
                #[cfg(target_os = "linux")]
                if s.live {
                    app.open_live();
                }
                if let Some(server) = &s.room {
                    app.open_room(server);
                }
                if let Some((server, code)) = &s.join {
                    app.join_room(server, code);
                }
            }
            Ok(Box::new(app))
        }),
    );
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pinlab: the desktop app could not start (is there a display?): {e}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}
