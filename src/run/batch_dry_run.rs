//! `mailhaul batch --dry-run`: every account of the list through
//! `mailhaul upload --dry-run` ([`Prepared::dry_run`]: the upload's own
//! decision and presence check, the journal read without its lock), side
//! by side under the same schedule and per-server caps as the batch, and
//! one report ([`DryRunReport`]). Nothing is sent, created or written: no
//! journal, no batch state.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::accounts::Account;
use crate::accounts::dry_run::{DryRunReport, DryRunRow};
use crate::accounts::schedule::{self, Slot};
use crate::report::{ExitStatus, sanitize};

use super::batch_account::{SharedOptions, account_env, in_list_terms};
use super::settings::UploadSettings;
use super::upload::{Prepared, Start};
use super::{Failure, usage};

/// How the dry runs are scheduled and stopped.
pub(super) struct Schedule<'a> {
    pub slots: &'a [Slot],
    pub parallel: usize,
    pub cap: Option<usize>,
    pub stop: &'a Arc<AtomicBool>,
}

/// Each account's dry run, in list order.
pub(super) fn dry_run_all(
    accounts: &[Account],
    shared: &SharedOptions,
    schedule: &Schedule<'_>,
) -> DryRunReport {
    let started = Instant::now();
    let rows = schedule::run_all(
        schedule.slots,
        schedule.parallel,
        schedule.cap,
        schedule.stop,
        |i| dry_run(&accounts[i], shared, schedule.stop),
    );
    DryRunReport {
        accounts: accounts
            .iter()
            .zip(rows)
            .map(|(a, r)| {
                r.unwrap_or_else(|| {
                    DryRunRow::without_scan(a.name(), a.line, ExitStatus::Interrupted, None)
                })
            })
            .collect(),
        elapsed: started.elapsed(),
    }
}

/// One account's dry run as a row; its problems printed with its name.
fn dry_run(account: &Account, shared: &SharedOptions, stop: &Arc<AtomicBool>) -> DryRunRow {
    let name = account.name();
    scan(account, shared, stop).unwrap_or_else(|f| {
        let error = sanitize(&format!("{:#}", f.error));
        eprintln!("mailhaul: {name}: error: {error}");
        DryRunRow::without_scan(name, account.line, f.status, Some(error))
    })
}

fn scan(
    account: &Account,
    shared: &SharedOptions,
    stop: &Arc<AtomicBool>,
) -> Result<DryRunRow, Failure> {
    let name = account.name();
    let mut args = shared.upload_args(account).map_err(usage)?;
    args.dry_run = true;
    let env = account_env(account).map_err(usage)?;
    let mut settings = UploadSettings::resolve(&args, &env).map_err(in_list_terms)?;
    settings.upload.stop = Arc::clone(stop);
    let scan = match Prepared::start(&mut settings)? {
        Start::Ready(p) => p.dry_run(&settings),
        // The daily budget spent, or the provider's quota refused the login.
        Start::Spent(report) => {
            let why = report.aborted.clone().or(report.quota_stop.clone());
            return Ok(DryRunRow::without_scan(
                name,
                account.line,
                report.exit_status(),
                why,
            ));
        }
    };
    for e in &scan.errors {
        eprintln!("mailhaul: {name}: {}", sanitize(e));
    }
    for w in &scan.warnings {
        eprintln!("mailhaul: {name}: warning: {}", sanitize(w));
    }
    Ok(DryRunRow::of_scan(
        name,
        account.line,
        &scan,
        scan.exit_status(),
    ))
}
