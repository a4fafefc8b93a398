//! `pinlab generate`: the manual pages and shell completions, made from the
//! clap definitions so they can never disagree with `--help` (ripgrep's
//! `rg --generate` does the same). The Debian package ships what this
//! writes (tools/release).

use crate::cli::Cli;
use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use std::io::Write;
use std::path::Path;

/// What `pinlab generate` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    /// The manual page pinlab(1); with --dir also pinlab-COMMAND(1) for each command.
    Man,
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

impl Generated {
    fn shell(self) -> Option<Shell> {
        match self {
            Generated::Man => None,
            Generated::Bash => Some(Shell::Bash),
            Generated::Zsh => Some(Shell::Zsh),
            Generated::Fish => Some(Shell::Fish),
            Generated::Elvish => Some(Shell::Elvish),
            Generated::Powershell => Some(Shell::PowerShell),
        }
    }
}

/// Writes `what` to stdout, or into `dir` (created if missing); returns the
/// files written.
pub fn generate(what: Generated, dir: Option<&Path>) -> Result<Vec<String>, String> {
    let mut cmd = Cli::command();
    cmd.build();
    let Some(dir) = dir else {
        let mut out = std::io::stdout().lock();
        match what.shell() {
            Some(shell) => clap_complete::generate(shell, &mut cmd, "pinlab", &mut out),
            None => main_page(&cmd, &mut out).map_err(|e| format!("cannot write the manual page: {e}"))?,
        }
        return Ok(Vec::new());
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let wrote = |e: std::io::Error| format!("cannot write into {}: {e}", dir.display());
    match what.shell() {
        Some(shell) => {
            let path = clap_complete::generate_to(shell, &mut cmd, "pinlab", dir).map_err(wrote)?;
            Ok(vec![path.display().to_string()])
        }
        None => {
            let mut files = Vec::new();
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let page = clap_mangen::Man::new(sub.clone());
                files.push(page.generate_to(dir).map_err(wrote)?.display().to_string());
            }
            let path = dir.join("pinlab.1");
            let mut file = std::fs::File::create(&path).map_err(wrote)?;
            main_page(&cmd, &mut file).map_err(wrote)?;
            files.push(path.display().to_string());
            Ok(files)
        }
    }
}

/// pinlab(1): clap's sections, then the examples, files and pages a reader
/// of a manual expects and `--help` has no room for.
fn main_page(cmd: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone()).manual("pinlab manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    out.write_all(DESCRIPTION.as_bytes())?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(EXAMPLES.as_bytes())?;
    out.write_all(FILES.as_bytes())?;
    out.write_all(SEE_ALSO.as_bytes())?;
    man.render_version_section(out)
}

const DESCRIPTION: &str = r#".PP
Without a command, \fBpinlab\fR opens the desktop app on the first lesson of the course.
Each lesson runs a model of the kernel under the rules of one release (5.7 to 6.18), one kernel
function at a time: folios and their reference, pin and map counts, page tables, fork and
copy\-on\-write, get_user_pages references and pin_user_pages pins, bios and O_DIRECT, the
page cache, writeback and fsync. A step that asks a question stops before its answer.
.PP
Exit status: 0 success, 1 a check or a comparison failed, 2 bad input (a lesson, an argument);
each command's page lists its own.
"#;

const EXAMPLES: &str = r#".SH EXAMPLES
.TP
\fBpinlab open dio\-across\-fork \-\-step 6 \-\-kernel 5.19\fR
The O_DIRECT read across fork, at the step where the parent's write breaks COW, under 5.19.
.TP
\fBpinlab open \-\-lecture 50\-minutes \-\-present\fR
A 50\-minute lecture in presenter mode: Page Down walks its stops, R reveals an answer.
.TP
\fBpinlab lessons\fR
The course, numbered, with each lesson's minutes and prerequisites.
.TP
\fBpinlab run fork\-cow \-\-kernel 5.7 \-\-no\-answers\fR
A lesson as text, each question before what answers it.
.TP
\fBpinlab handout fsync\-pinned \-o fsync.html\fR
A printable handout with a picture after every step.
.TP
\fBpinlab serve \-\-addr 0.0.0.0:8080\fR
A live class on the hall's network: students open the address, the lecturer opens a room.
.TP
\fBsudo pinlab probe \-\-all\fR
Runs every lesson on this machine's own Linux and compares its counts with the model's.
"#;

const FILES: &str = r#".SH FILES
.TP
\fI~/.local/share/pinlab/app.ron\fR
What the desktop app remembers: the lesson, step, kernel and theme.
.TP
\fI/usr/share/doc/pinlab/\fR
The guides: the course, the lesson format, the classroom, the probe.
"#;

const SEE_ALSO: &str = r#".SH SEE ALSO
\fBpinlab\-open\fR(1), \fBpinlab\-run\fR(1), \fBpinlab\-serve\fR(1), \fBpinlab\-probe\fR(1),
\fBproc_pid_pagemap\fR(5), \fBfork\fR(2), \fBio_uring_register\fR(2), \fBvmsplice\fR(2)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_names_every_visible_command_and_keeps_the_examples() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut page = Vec::new();
        main_page(&cmd, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH pinlab"),
            "{}",
            &page[..200]
        );
        for sub in cmd.get_subcommands() {
            let named = page.contains(&format!("pinlab\\-{}", sub.get_name()));
            assert_eq!(named, !sub.is_hide_set(), "{} in the manual: {named}", sub.get_name());
        }
        assert!(page.contains(".SH EXAMPLES") && page.contains(".SH SEE ALSO"));
    }

    #[test]
    fn a_manual_page_for_each_command_and_a_completion_per_shell() {
        let dir = tempfile::tempdir().unwrap();
        let pages = generate(Generated::Man, Some(dir.path())).unwrap();
        let mut cmd = Cli::command();
        cmd.build();
        let visible = cmd.get_subcommands().filter(|s| !s.is_hide_set()).count();
        assert_eq!(pages.len(), visible + 1, "{pages:?}");
        let serve = std::fs::read_to_string(dir.path().join("pinlab-serve.1")).unwrap();
        assert!(serve.contains("\\-\\-site"), "the serve page documents --site");
        let bash = generate(Generated::Bash, Some(dir.path())).unwrap();
        let script = std::fs::read_to_string(&bash[0]).unwrap();
        assert!(
            script.contains("complete") && script.contains("handout"),
            "bash completes the commands"
        );
    }
}
