//! The `mailhaul` binary: parse the command line, run, map the outcome to an
//! exit code (see `report::ExitStatus`). Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mailhaul::cli::Cli::parse();
    mailhaul::logger::init(cli.verbose);
    let status = mailhaul::run::run(cli);
    ExitCode::from(status.code())
}
