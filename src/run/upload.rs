//! `mailhaul upload`: discovers, connects, plans, uploads (or with
//! `--dry-run` prints the scan with the server's names and what the
//! upload would find already there) and reports.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::cli::UploadArgs;
use crate::config::{Environment, Login};
use crate::imap::Session;
use crate::journal::Journal;
use crate::plan::{Plan, ServerFacts, TargetMap};
use crate::progress::{self, Progress};
use crate::report::{ExitStatus, Report, sanitize};
use crate::scan::{AgainstServer, ScanReport};
use crate::upload::{self, FirstRefusal, UploadMode};

use super::scan::print_scan;
use super::settings::{SourceProblems, UploadSettings};
use super::setup::{connect_and, server_layout};
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
pub(super) fn stop_on_signals(flag: &Arc<AtomicBool>) {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals; these are allowed.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(flag));
    }
}

/// How an account's upload starts: connected and planned, or stopped
/// before connecting because the journal says the daily budget is spent.
pub(super) enum Start {
    Ready(Box<Prepared>),
    /// The report of the run that sent nothing (exit 4): the budget has no
    /// room, or the provider's quota refused the login.
    Spent(Box<Report>),
}

/// An account connected, its journal locked, its folders planned: what
/// `upload` (and each account of `batch`) sends from.
pub(super) struct Prepared {
    session: Session,
    /// How the first session was opened, and how lost ones are replaced.
    login: Login,
    journal: Option<Journal>,
    pub plan: Plan,
    map: TargetMap,
    /// The discovery's problems: warnings, and files that fail the run.
    problems: SourceProblems,
    pub mode: UploadMode,
}

impl Prepared {
    /// Opens the journal, connects and plans, unless the journal says
    /// the daily budget has no room left or the provider's quota refuses
    /// the login.
    pub fn start(settings: &mut UploadSettings) -> Result<Start, Failure> {
        let journal = match &settings.journal {
            None => None,
            // Read only: the dry run writes nothing and blocks no run.
            Some(j) if settings.dry_run => Some(j.read_only()?),
            Some(j) => Some(j.open()?),
        };
        if let Some(report) =
            upload::spent_before_start(journal.as_ref(), settings.upload.max_bytes_per_day)
        {
            return Ok(Start::Spent(Box::new(report)));
        }
        let login = Login::new(&settings.server);
        let mode = settings.progress;
        let waiting = |wait, reason: &str| progress::waiting_to_connect(mode, wait, reason);
        // A throttle's refusal (Yahoo's penalty from an earlier run) is
        // waited out, as in the middle of a run.
        let first = upload::first_session(
            || connect_and(&login, server_layout),
            settings.upload.max_throttle_wait,
            &settings.upload.stop,
            &waiting,
        );
        let (session, layout) = match first {
            Ok(s) => s,
            Err(FirstRefusal::Refused(e)) => match upload::quota_refusal(&e) {
                // Still locked by the provider's quota from an earlier run.
                Some(why) => {
                    let limit = settings.upload.max_bytes_per_day;
                    let report = upload::refused_by_quota(why, journal.as_ref(), limit);
                    return Ok(Start::Spent(Box::new(report)));
                }
                None => return Err(connection(e)),
            },
            Err(FirstRefusal::GaveUp { last, why }) => {
                return Err(Failure {
                    status: ExitStatus::Connection,
                    error: anyhow::Error::new(last).context(why),
                });
            }
            Err(FirstRefusal::Interrupted) => {
                return Err(Failure {
                    status: ExitStatus::Interrupted,
                    error: anyhow::anyhow!(
                        "interrupted while waiting for the server's throttle to pass; nothing was sent"
                    ),
                });
            }
        };
        let (plan, map, problems) = settings.sources.plan(layout)?;
        let mode = UploadMode::choose(session.capabilities(), settings.upload.allow_multiappend);
        log::info!("upload mode: {mode}");
        Ok(Start::Ready(Box::new(Prepared {
            session,
            login,
            journal,
            plan,
            map,
            problems,
            mode,
        })))
    }

    /// The bytes the planned sources hold (what progress measures).
    pub fn source_bytes(&self) -> u64 {
        self.plan.folders.iter().map(upload::source_bytes).sum()
    }

    /// What the upload would do, sending nothing: the upload's own
    /// decision with this server's facts (the same refusals: APPENDLIMIT,
    /// NUL bytes without BINARY) and its own presence check (journal read
    /// only, then the server), so the messages it counts as to be sent
    /// are those the upload sends.
    pub fn dry_run(self, settings: &UploadSettings) -> ScanReport {
        let facts =
            ServerFacts::of(self.session.capabilities()).with_size_cap(settings.upload.size_cap);
        let login = &self.login;
        let reconnect = || login.connect();
        let (mut scan, mut looked) = upload::look_up(
            self.session,
            &reconnect,
            self.journal,
            &self.plan.folders,
            &self.map,
            &settings.upload,
            |presence| {
                crate::scan::scan_with(
                    &self.plan,
                    &self.map,
                    &settings.sources.read,
                    &facts,
                    presence,
                )
            },
        );
        scan.warnings.extend(std::mem::take(&mut looked.warnings));
        scan.against_server = Some(AgainstServer::of(&scan.mailboxes, looked));
        scan.errors.extend(self.problems.unreadable_lines());
        scan.warnings.extend(self.problems.warnings);
        scan
    }

    /// Uploads everything planned; the report carries the planning's warnings.
    pub fn upload(self, settings: &UploadSettings, progress: &Progress) -> Report {
        let login = &self.login;
        let reconnect = || login.connect();
        let mut report = upload::upload(
            self.session,
            &reconnect,
            self.journal,
            &self.plan.folders,
            &self.map,
            &settings.upload,
            progress,
        );
        report.warnings.extend(self.problems.warnings);
        report.unreadable_files.extend(self.problems.unreadable);
        report
    }
}

pub(super) fn run_upload(args: &UploadArgs, env: &Environment) -> Result<ExitStatus, Failure> {
    let mut settings = UploadSettings::resolve(args, env)?;
    stop_on_signals(&settings.upload.stop);
    let prepared = match Prepared::start(&mut settings)? {
        Start::Ready(p) => *p,
        Start::Spent(report) => return print_report(&settings, &report),
    };
    if settings.dry_run {
        let mode = prepared.mode;
        let scan = prepared.dry_run(&settings);
        return print_scan(&scan, settings.json, Some(mode));
    }
    if !settings.quiet && !settings.json {
        print_plan(&prepared.plan, Some(prepared.mode));
    }
    let progress = Progress::new(
        prepared.source_bytes(),
        settings.progress,
        settings.upload.jobs,
    );
    let report = prepared.upload(&settings, &progress);
    print_report(&settings, &report)
}

/// Prints the report (`--json`: as one document) and gives its exit status.
fn print_report(settings: &UploadSettings, report: &Report) -> Result<ExitStatus, Failure> {
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
