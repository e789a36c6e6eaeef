//! `mailhaul upload`: discovers, connects, plans, uploads (or with
//! `--dry-run` prints the scan with the server's names) and reports.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::cli::UploadArgs;
use crate::imap::Session;
use crate::plan::{BatchLimits, Plan};
use crate::progress::{Progress, ProgressMode};
use crate::report::{ExitStatus, sanitize};
use crate::source;
use crate::upload::{self, UploadMode, UploadOptions};

use super::scan::print_scan;
use super::setup::{
    connect_with, open_journal, plan_sources, read_options, server_layout, server_settings,
};
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
            sanitize(&f.source.path.display().to_string()),
            sanitize(&f.mailbox)
        );
    }
    for f in &plan.excluded {
        eprintln!(
            "  {} excluded (--include/--exclude)",
            sanitize(&f.path.display().to_string())
        );
    }
}

/// SIGINT/SIGTERM set the returned flag (the upload stops before its next
/// command, journals, prints the summary and exits 130); a second signal
/// exits at once with 130 (the journal is synced after every batch).
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals; these are allowed.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

pub(super) fn run_upload(args: &UploadArgs) -> Result<ExitStatus, Failure> {
    // Read the sources' layout first: a typo in a path should not cost a login.
    source::discover(&args.source.sources, args.source.format).map_err(usage)?;
    let mut settings = server_settings(&args.server)?;
    let mut journal = if args.dry_run {
        None
    } else {
        open_journal(
            args.journal.as_deref(),
            args.no_journal,
            args.wait_lock,
            &settings.connect,
        )?
    };
    let stop = stop_flag();
    let mut session = connect_with(&mut settings)?;
    let layout = server_layout(&mut session).map_err(connection)?;
    let (plan, map, problems) = plan_sources(&args.source, &args.target, layout)?;
    let mode = UploadMode::choose(session.capabilities(), !args.no_multiappend);
    log::info!("upload mode: {mode}");
    if args.dry_run {
        session.logout();
        let mut scan = crate::scan::scan(&plan, &map, &read_options(&args.source));
        scan.warnings.extend(problems);
        return print_scan(&scan, args.json, Some(mode));
    }
    if !args.quiet && !args.json {
        print_plan(&plan, Some(mode));
    }
    let throttle = upload::Throttle::new(args.max_rate, args.max_bytes_rate);
    let limits = BatchLimits {
        max_messages: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
        max_bytes: args.batch_bytes,
    };
    let opts = UploadOptions {
        limits: throttle.as_ref().map_or(limits, |t| t.cap(limits)),
        allow_multiappend: !args.no_multiappend,
        read: read_options(&args.source),
        allow_duplicates: args.allow_duplicates,
        retries: args.retries,
        failed_out: args.failed_out.clone(),
        stop,
        throttle: throttle.map(Arc::new),
        jobs: args.jobs,
        unordered: args.unordered,
    };
    let mode = if args.json_progress {
        ProgressMode::Json
    } else if args.quiet || args.json {
        ProgressMode::Hidden
    } else {
        ProgressMode::Auto
    };
    let total_bytes = plan.folders.iter().map(upload::source_bytes).sum();
    let progress = Progress::new(total_bytes, mode, args.jobs);
    let reconnect = || Session::connect(&settings.connect);
    let mut report = upload::upload(
        session,
        &reconnect,
        journal.take(),
        &plan.folders,
        &map,
        &opts,
        &progress,
    );
    report.warnings.extend(problems);
    let printed = if args.json {
        let mut out = std::io::stdout();
        serde_json::to_writer_pretty(&mut out, &report.to_json())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        report.print(args.quiet)
    };
    printed.context("cannot write the report").map_err(usage)?;
    Ok(report.exit_status())
}
