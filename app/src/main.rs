//! The `pinlab` binary: the desktop app (no arguments) and the CLI subcommands.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    pinlab::cli::main_with(pinlab::cli::Cli::parse())
}
