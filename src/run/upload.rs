//! `mailhaul upload`: discovers, connects, plans, uploads (or with
//! `--dry-run` prints the scan with the server's names) and reports.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::cli::UploadArgs;
use crate::config::{Environment, Login};
use crate::plan::{Plan, ServerFacts};
use crate::progress::Progress;
use crate::report::{ExitStatus, sanitize};
use crate::upload::{self, UploadMode};

use super::scan::print_scan;
use super::settings::UploadSettings;
use super::setup::{connect, server_layout};
use super::{Failure, connection, usage};

/// Prints the plan (source → mailbox, excluded folders) to stderr.
fn print_plan(plan: &Plan, mode: Option<UploadMode>) {
    match mode {
        Some(mode) => eprintln!("mailhaul: plan ({mode}):"),
        None => eprintln!("mailhaul: plan:"),
    }
    for f in &plan.folders {
        eprintln!(
            "  {} → {}",
            sanitize(&f.source.location()),
            sanitize(&f.mailbox)
        );
    }
    for f in &plan.excluded {
        eprintln!(
            "  {} excluded (--include/--exclude)",
            sanitize(&f.location())
        );
    }
}

/// SIGINT/SIGTERM set `flag` (the upload stops before its next command,
/// journals, prints the summary and exits 130); a second signal exits at
/// once with 130 (the journal is synced after every batch).
fn stop_on_signals(flag: &Arc<AtomicBool>) {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals; these are allowed.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(flag));
    }
}

pub(super) fn run_upload(args: &UploadArgs, env: &Environment) -> Result<ExitStatus, Failure> {
    let settings = UploadSettings::resolve(args, env)?;
    let mut journal = settings.journal.as_ref().map(|j| j.open()).transpose()?;
    stop_on_signals(&settings.upload.stop);
    let login = Login::new(&settings.server);
    let mut session = connect(&login)?;
    let layout = server_layout(&mut session).map_err(connection)?;
    let (plan, map, problems) = settings.sources.plan(layout)?;
    let mode = UploadMode::choose(session.capabilities(), settings.upload.allow_multiappend);
    log::info!("upload mode: {mode}");
    if settings.dry_run {
        // The upload's own decision, with this server's facts: the same
        // refusals (APPENDLIMIT, NUL bytes without BINARY) the upload makes.
        let facts = ServerFacts::of(session.capabilities());
        session.logout();
        let mut scan = crate::scan::scan(&plan, &map, &settings.sources.read, &facts);
        scan.warnings.extend(problems);
        return print_scan(&scan, settings.json, Some(mode));
    }
    if !settings.quiet && !settings.json {
        print_plan(&plan, Some(mode));
    }
    let total_bytes = plan.folders.iter().map(upload::source_bytes).sum();
    let progress = Progress::new(total_bytes, settings.progress, settings.upload.jobs);
    let reconnect = || login.connect();
    let mut report = upload::upload(
        session,
        &reconnect,
        journal.take(),
        &plan.folders,
        &map,
        &settings.upload,
        &progress,
    );
    report.warnings.extend(problems);
    let printed = if settings.json {
        let mut out = std::io::stdout();
        serde_json::to_writer_pretty(&mut out, &report.to_json())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        report.print(settings.quiet)
    };
    printed.context("cannot write the report").map_err(usage)?;
    Ok(report.exit_status())
}
