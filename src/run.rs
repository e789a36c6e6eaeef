//! Runs one subcommand: resolves settings, calls the pipeline, prints.
use crate::cli::Cli;
use crate::report::ExitStatus;

pub fn run(cli: Cli) -> ExitStatus {
    let _ = cli;
    todo!()
}
