//! `mailhaul batch`: the accounts list checked whole (nothing is sent while
//! a line is wrong), accounts complete in an earlier run skipped on their
//! evidence and the server's word, the others uploaded side by side ([`crate::accounts::schedule`]),
//! each exactly as `mailhaul upload` would with its own connections,
//! journal and lock; the report per account and in total, and the state
//! recorded so that the same command retries exactly what is not complete.
//! An account the state calls complete is skipped only once the server
//! confirms it, in one session ([`crate::accounts::confirm`]); otherwise
//! it runs as a normal upload, the reason in the report.
//! One account's failure never stops another; SIGINT/SIGTERM stop them all
//! (130), and the rerun resumes each from its journal.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::Context;

use crate::accounts::schedule::{self, Slot};
use crate::accounts::state::sources_size;
use crate::accounts::{
    Account, AccountOutcome, AccountStatus, BatchReport, BatchState, Evidence, ListError,
    ServerConfirmation, confirm, list,
};
use crate::cli::BatchArgs;
use crate::config::Login;
use crate::progress::{BatchProgress, ProgressMode};
use crate::report::{ExitStatus, Report, sanitize};

use super::batch_account::{SharedOptions, account_env, in_list_terms};
use super::batch_dry_run::{Schedule, dry_run_all};
use super::settings::UploadSettings;
use super::setup::connect;
use super::upload::{Prepared, Start, stop_on_signals};
use super::{Failure, usage};

pub(super) fn run_batch(args: BatchArgs) -> Result<ExitStatus, Failure> {
    if !args.merge_reports.is_empty() {
        return merge_reports(&args.merge_reports, args.json);
    }
    let Some(list_path) = args.list.as_deref() else {
        return Err(usage(anyhow::anyhow!("no accounts list given")));
    };
    let (accounts, mut mistakes) = list::read(list_path);
    let shared = SharedOptions::new(args.upload.clone(), args.ca_file.as_deref()).map_err(usage)?;
    let (slots, more) = check_accounts(
        &accounts,
        &shared,
        args.max_connections_per_server,
        args.check,
    );
    mistakes.extend(more);
    refuse_mistakes(list_path, mistakes)?;
    if args.check {
        println!(
            "{}: {} accounts, no mistakes",
            sanitize(&list_path.display().to_string()),
            accounts.len()
        );
        return Ok(ExitStatus::Success);
    }
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop);
    if args.dry_run {
        let schedule = Schedule {
            slots: &slots,
            parallel: args.accounts,
            cap: args.max_connections_per_server,
            stop: &stop,
        };
        let report = dry_run_all(&accounts, &shared, &schedule);
        print(
            args.json,
            args.quiet,
            || report.to_json(),
            || report.table(),
        )?;
        return Ok(report.exit_status());
    }
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => BatchState::default_path(list_path).ok_or_else(|| {
            usage(anyhow::anyhow!(
                "no place for the batch state: set XDG_STATE_HOME or HOME, or use --state PATH"
            ))
        })?,
    };
    let state = Mutex::new(BatchState::load(&state_path).map_err(usage)?);
    let mode = ProgressMode::of_flags(args.json_progress, args.quiet || args.json);
    let total: u64 = accounts.iter().map(|a| sources_size(&a.sources)).sum();
    let progress = BatchProgress::new(total, accounts.len(), mode);
    let started = Instant::now();
    let run = Batch {
        shared: &shared,
        stop: &stop,
        progress: &progress,
        state: &state,
        state_path: &state_path,
    };
    let outcomes = schedule::run_all(
        &slots,
        args.accounts,
        args.max_connections_per_server,
        &stop,
        |i| run.account(&accounts[i]),
    );
    progress.finish();
    let report = BatchReport {
        accounts: accounts
            .iter()
            .zip(outcomes)
            .map(|(a, o)| {
                o.unwrap_or_else(|| {
                    AccountOutcome::without_upload(
                        a.name(),
                        a.line,
                        AccountStatus::NotStarted,
                        ExitStatus::Interrupted,
                        None,
                    )
                })
            })
            .collect(),
        elapsed: started.elapsed(),
    };
    print_report(&report, args.json, args.quiet)?;
    Ok(report.exit_status())
}

/// The list's mistakes, every one with `FILE:LINE` in line order, make a
/// usage error (the last is the error, the others are printed before it).
fn refuse_mistakes(path: &Path, mut mistakes: Vec<ListError>) -> Result<(), Failure> {
    mistakes.sort_by_key(|m| m.line);
    let Some(last) = mistakes.pop() else {
        return Ok(());
    };
    for m in &mistakes {
        eprintln!("mailhaul: {}", sanitize(&m.at(path)));
    }
    Err(usage(anyhow::anyhow!("{}", last.at(path))))
}

/// Every row as an upload: its options parsed, its secret's variable set,
/// its connections within the cap; with `discover`, its sources read too.
/// The slots of the accounts, and every account's mistakes.
fn check_accounts(
    accounts: &[Account],
    shared: &SharedOptions,
    cap: Option<usize>,
    discover: bool,
) -> (Vec<Slot>, Vec<ListError>) {
    let mut mistakes = Vec::new();
    let mut slots = Vec::new();
    for a in accounts {
        let mut mistake = |e: anyhow::Error| {
            mistakes.push(ListError {
                line: a.line,
                message: format!("{e:#}"),
            })
        };
        if let Err(e) = account_env(a) {
            mistake(e);
        }
        let args = match shared.upload_args(a) {
            Ok(args) => args,
            Err(e) => {
                mistake(e);
                continue;
            }
        };
        if let Some(cap) = cap.filter(|&c| args.jobs > c) {
            mistake(anyhow::anyhow!(
                "--jobs {} is over --max-connections-per-server {cap}",
                args.jobs
            ));
        }
        if discover
            && let Err(e) = crate::source::discover(&args.source.sources, args.source.format)
        {
            mistake(e);
        }
        slots.push(Slot {
            server: a.server_key(),
            connections: args.jobs,
        });
    }
    (slots, mistakes)
}

/// What every account's run shares.
struct Batch<'a> {
    shared: &'a SharedOptions,
    stop: &'a Arc<AtomicBool>,
    progress: &'a BatchProgress,
    state: &'a Mutex<BatchState>,
    state_path: &'a Path,
}

impl Batch<'_> {
    /// Runs one account (or skips it, complete before) and records the outcome.
    fn account(&self, account: &Account) -> AccountOutcome {
        let name = account.name();
        let journal =
            crate::journal::default_path(&account.url.user, &account.url.host, account.url.port);
        let now = journal
            .as_deref()
            .and_then(|j| Evidence::now(&account.sources, &self.shared.placement(account), j));
        let recorded = self.lock_state().complete.get(&name).cloned();
        let started = Instant::now();
        let mut confirmation = None;
        if let (Some(now), Some(recorded)) = (&now, &recorded)
            && now.confirms(recorded)
        {
            let checked = self.confirm(account);
            if checked.rerun_because.is_none() {
                self.progress.account_done(&name, 0);
                let mut outcome = AccountOutcome::without_upload(
                    name,
                    account.line,
                    AccountStatus::AlreadyComplete,
                    ExitStatus::Success,
                    None,
                );
                outcome.seconds = started.elapsed().as_secs_f64();
                outcome.confirmation = Some(checked);
                return outcome;
            }
            if let Some(why) = &checked.rerun_because {
                self.progress.println(&format!(
                    "mailhaul: {name}: complete before, run again: {}",
                    sanitize(why)
                ));
            }
            confirmation = Some(checked);
        }
        let mut outcome = match self.upload(account) {
            Ok(o) => o,
            Err(f) => {
                let error = sanitize(&format!("{:#}", f.error));
                self.progress
                    .println(&format!("mailhaul: {name}: error: {error}"));
                AccountOutcome::without_upload(
                    name.clone(),
                    account.line,
                    AccountStatus::Failed,
                    f.status,
                    Some(error),
                )
            }
        };
        // The account's whole time: its secret, connection and upload.
        outcome.seconds = started.elapsed().as_secs_f64();
        outcome.confirmation = confirmation;
        self.progress.account_done(&name, outcome.exit_code);
        self.record(account, &outcome, journal.as_deref());
        outcome
    }

    /// Asks the server, in one session logged in as the upload logs in,
    /// whether it holds what the journal of an account complete before
    /// says ([`confirm`]). Anything that stops the check is a reason to
    /// run the account again: its upload then meets the same problem on
    /// its own error path (a refused login fails the account).
    fn confirm(&self, account: &Account) -> ServerConfirmation {
        let mut checked = ServerConfirmation {
            sessions: 0,
            mailboxes: 0,
            rerun_because: None,
        };
        let answers = (|| -> anyhow::Result<confirm::Answers> {
            anyhow::ensure!(!self.stop.load(Ordering::Relaxed), "interrupted");
            let args = self.shared.upload_args(account)?;
            let env = account_env(account)?;
            let settings = UploadSettings::resolve(&args, &env).map_err(|f| f.error)?;
            let journal = match &settings.journal {
                Some(j) => j.read_only().map_err(|f| f.error)?,
                None => anyhow::bail!("no journal"),
            };
            let login = Login::new(&settings.server);
            checked.sessions = 1;
            let mut session = connect(&login).map_err(|e| anyhow::anyhow!("cannot log in: {e}"))?;
            let answers = confirm::ask(&mut session, &journal);
            session.logout();
            answers.map_err(|e| anyhow::anyhow!("the check's session failed: {e}"))
        })();
        checked.rerun_because = match answers {
            Ok(a) => {
                checked.mailboxes = a.mailboxes.len();
                match confirm::judge(&a) {
                    confirm::Verdict::Confirmed => None,
                    confirm::Verdict::Rerun(why) => Some(why),
                }
            }
            Err(e) => Some(format!("{e:#}")),
        };
        checked
    }

    fn upload(&self, account: &Account) -> Result<AccountOutcome, Failure> {
        let name = account.name();
        let args = self.shared.upload_args(account).map_err(usage)?;
        let env = account_env(account).map_err(usage)?;
        let mut settings = UploadSettings::resolve(&args, &env).map_err(in_list_terms)?;
        // One flag for the whole batch: a signal stops every account.
        settings.upload.stop = Arc::clone(self.stop);
        if self.stop.load(Ordering::Relaxed) {
            return Ok(AccountOutcome::without_upload(
                name,
                account.line,
                AccountStatus::NotStarted,
                ExitStatus::Interrupted,
                None,
            ));
        }
        let prepared = match Prepared::start(&mut settings)? {
            Start::Ready(p) => *p,
            Start::Spent(report) => return Ok(self.outcome(&name, account, &report)),
        };
        let progress = self.progress.account(&name, prepared.source_bytes());
        let report = prepared.upload(&settings, &progress);
        Ok(self.outcome(&name, account, &report))
    }

    /// The account's outcome, its problems printed.
    fn outcome(&self, name: &str, account: &Account, report: &Report) -> AccountOutcome {
        for line in report.problems().lines() {
            self.progress.println(&format!("{name}: {line}"));
        }
        AccountOutcome::of_report(name.to_string(), account.line, report)
    }

    /// Keeps the state file in step: a complete account with its evidence,
    /// any other forgotten. A state that cannot be written is said, not fatal.
    fn record(&self, account: &Account, outcome: &AccountOutcome, journal: Option<&Path>) {
        let mut state = self.lock_state();
        let name = account.name();
        let placement = self.shared.placement(account);
        let evidence = journal.and_then(|j| Evidence::now(&account.sources, &placement, j));
        match (outcome.status, evidence) {
            (AccountStatus::Complete, Some(e)) => {
                state.complete.insert(name, e);
            }
            _ => {
                state.complete.remove(&name);
            }
        }
        if let Err(e) = state.save(self.state_path) {
            self.progress.println(&format!(
                "mailhaul: warning: cannot save the batch state {}: {}",
                sanitize(&self.state_path.display().to_string()),
                sanitize(&format!("{e:#}"))
            ));
        }
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, BatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn print_report(report: &BatchReport, json: bool, quiet: bool) -> Result<(), Failure> {
    print(json, quiet, || report.to_json(), || report.table())
}

/// A report on stdout: its JSON document, or its table unless `quiet`.
fn print(
    json: bool,
    quiet: bool,
    doc: impl FnOnce() -> serde_json::Value,
    table: impl FnOnce() -> String,
) -> Result<(), Failure> {
    let mut out = std::io::stdout();
    let printed = if json {
        serde_json::to_writer_pretty(&mut out, &doc())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else if quiet {
        Ok(())
    } else {
        out.write_all(table().as_bytes())
    };
    printed.context("cannot write the report").map_err(usage)
}

/// `--merge-reports`: the shards' JSON reports as one.
fn merge_reports(paths: &[std::path::PathBuf], json: bool) -> Result<ExitStatus, Failure> {
    let mut merged = BatchReport::default();
    for p in paths {
        let read = || -> anyhow::Result<BatchReport> {
            let text = std::fs::read(p)?;
            BatchReport::from_json(&serde_json::from_slice(&text)?)
        };
        merged.merge(
            read()
                .with_context(|| format!("{}", p.display()))
                .map_err(usage)?,
        );
    }
    print_report(&merged, json, false)?;
    Ok(merged.exit_status())
}
