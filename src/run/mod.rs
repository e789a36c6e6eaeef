//! Runs one subcommand: resolves its settings once (`settings`, from the
//! flags, the [`Environment`] read here and the config file), calls the
//! pipeline (source → plan → upload) and prints. Every error is printed once,
//! here, with its context chain, and mapped to an exit status. Each
//! subcommand lives in its own file; `setup` holds what they share
//! (connecting, learning the server's layout).

mod batch;
mod batch_account;
mod batch_dry_run;
mod check;
mod config;
mod generate;
mod scan;
mod settings;
mod setup;
mod upload;
mod verify;

pub use generate::{generate, generated_files};

use crate::cli::{Cli, Command, ConfigAction};
use crate::config::Environment;
use crate::imap::ImapError;
use crate::report::{ExitStatus, sanitize};

/// A failure that ends the run, with the exit status it maps to.
struct Failure {
    status: ExitStatus,
    error: anyhow::Error,
}

fn usage(error: anyhow::Error) -> Failure {
    Failure {
        status: ExitStatus::Usage,
        error,
    }
}

fn connection(error: ImapError) -> Failure {
    Failure {
        status: ExitStatus::Connection,
        error: anyhow::Error::new(error),
    }
}

pub fn run(cli: Cli) -> ExitStatus {
    let env = Environment::from_process();
    let json = json_kind(&cli.command);
    let result = match cli.command {
        Command::Upload(args) => upload::run_upload(&args, &env),
        Command::Scan(args) => scan::run_scan(&args),
        Command::Check(args) => check::run_check(&args, &env),
        Command::Verify(args) => verify::run_verify(&args, &env),
        Command::Batch(args) => batch::run_batch(args),
        Command::Generate { dir } => generate(&dir).map_err(usage),
        Command::Config {
            action: ConfigAction::Check { config },
        } => config::run_config_check(config.as_deref(), &env),
    };
    match result {
        Ok(status) => status,
        Err(f) => {
            let error = format!("{:#}", f.error);
            eprintln!("mailhaul: error: {}", sanitize(&error));
            if let Some(kind) = json {
                print_failure_json(kind, f.status, &error);
            }
            f.status
        }
    }
}

/// The `kind` of the one document `command` prints with `--json`, when
/// it was asked for (a dry run's is the scan's).
fn json_kind(command: &Command) -> Option<&'static str> {
    match command {
        Command::Upload(a) if a.json => Some(if a.dry_run { "scan" } else { "upload" }),
        Command::Scan(a) if a.json => Some("scan"),
        Command::Check(a) if a.json => Some("check"),
        Command::Verify(a) if a.json => Some("verify"),
        _ => None,
    }
}

/// `--json`'s one document for a run that failed before it had a report
/// (a refused login, a connection refused, the journal's lock held): the
/// conventions of every report and the error.
fn print_failure_json(kind: &str, status: ExitStatus, error: &str) {
    let doc = serde_json::json!({
        "schema": crate::scan::JSON_SCHEMA,
        "kind": kind,
        "exit_code": status.code(),
        "error": error,
    });
    println!("{doc:#}");
}
