//! What the settle step of the batch lifecycle (`lifecycle.rs`) writes,
//! and nothing else does for a message that was sent: the journal
//! (`Landed`), the report (uploaded, copied, failed, fate unknown), the
//! progress, `--failed-out`, the copies a landed message is owed, and the
//! messages of an earlier run's batch held back because their fate could
//! not be checked. [`Books`] borrows these from an uploader for one settle.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::fingerprint::Fingerprint;
use crate::journal::Landed;
use crate::progress::Lane;
use crate::report::{FailureClass, Report};

use super::copies::Copies;
use super::failed_out::FailedOut;
use super::lifecycle::{Item, Work};
use super::{Shared, lock};

/// Journal, report, progress and `--failed-out`: what the settle step
/// writes. Borrowed from an uploader's fields for one settle.
pub(super) struct Books<'u, 'a> {
    pub shared: &'a Shared,
    pub report: &'u mut Report,
    pub progress: &'u Lane<'a>,
    /// Messages landed on this connection (for the progress line).
    pub done: &'u mut u64,
    pub copies: &'u mut Copies,
    /// UIDs confirmed in this run, per mailbox (excluded when looking).
    pub confirmed: &'u mut HashMap<String, HashSet<u32>>,
}

impl Books<'_, '_> {
    pub(super) fn landed(&mut self, work: &Work, mailbox: &str, item: &Item, at: Landed) {
        if let Some(j) = &self.shared.journal {
            match (work, item.size) {
                // Bytes uploaded (an earlier run's: counted from now, to
                // be safe): in the daily budget's window (`budget.rs`).
                (Work::Append | Work::Earlier, Some(size)) => {
                    lock(j).uploaded(mailbox, &item.fp, size, at, SystemTime::now());
                }
                _ => lock(j).landed(mailbox, &item.fp, item.size, at),
            }
        }
        if let Some(uid) = at.uid {
            self.confirmed
                .entry(mailbox.to_string())
                .or_default()
                .insert(uid);
        }
        let size = item.size_or_zero();
        match work {
            Work::Earlier => return,
            Work::Copy { .. } => self.report.copies += 1,
            Work::Append => self.progress.advance(size),
        }
        self.report.uploaded(mailbox, size);
        *self.done += 1;
        self.progress.set_status(*self.done, mailbox);
        if item.message().is_some() {
            for to in self.copies.landed(mailbox, item, at) {
                let reason = "the server gave no UID for the uploaded message, so it could not be copied here; run the same command again to upload it".to_string();
                self.failed(&to, item, FailureClass::NotSent, reason);
            }
        }
    }

    pub(super) fn failed(
        &mut self,
        mailbox: &str,
        item: &Item,
        class: FailureClass,
        reason: String,
    ) {
        if let Some(m) = item.message() {
            self.progress.advance(m.bytes.len() as u64);
            for to in self.copies.failed(mailbox, &item.fp) {
                let why = format!("not copied: it did not land in {mailbox} ({reason})");
                record_failure(self.shared, self.report, &to, item, class, why);
            }
        }
        record_failure(self.shared, self.report, mailbox, item, class, reason);
    }

    /// A message of an earlier run's batch whose fate could not be checked:
    /// not to be sent in this run.
    pub(super) fn hold(&mut self, mailbox: &str, fp: Fingerprint) {
        *lock(&self.shared.unsettled)
            .entry((mailbox.to_string(), fp))
            .or_default() += 1;
    }
}

fn record_failure(
    shared: &Shared,
    report: &mut Report,
    mailbox: &str,
    item: &Item,
    class: FailureClass,
    reason: String,
) {
    write_failure(
        shared.failed_out.as_ref(),
        report,
        mailbox,
        item.origin(),
        item.bytes(),
        class,
        reason,
    );
}

/// Records a failure in the report (and writes the message to `--failed-out`).
pub(super) fn write_failure(
    failed_out: Option<&Mutex<FailedOut>>,
    report: &mut Report,
    mailbox: &str,
    origin: String,
    bytes: Option<&[u8]>,
    class: FailureClass,
    reason: String,
) {
    if let Some(out) = failed_out
        && let Err(e) = lock(out).write(mailbox, &origin, class.as_str(), &reason, bytes)
    {
        report
            .warnings
            .push(format!("--failed-out: cannot write {origin}: {e}"));
    }
    report.failed(mailbox, origin, class, reason);
}
