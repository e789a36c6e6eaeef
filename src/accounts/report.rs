//! The batch report: one row per account (found, uploaded, skipped, failed,
//! time, exit status, the error that stopped it) and the totals; as a table
//! or as JSON (`--json`, the same schema conventions as upload's report),
//! and several shards' JSON reports merged into one (`--merge-reports`).

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::report::{ExitStatus, Report, human_bytes, plural, sanitize};

/// How an account's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountStatus {
    /// Every message is on the server.
    Complete,
    /// Complete in an earlier run, its journal and sources say so still,
    /// and the server confirmed it ([`crate::accounts::confirm`]).
    AlreadyComplete,
    /// Some messages, or the whole account, failed.
    Failed,
    /// Stopped cleanly by the provider's daily quota or
    /// --max-bytes-per-day, nothing failed: a later run continues it.
    Quota,
    /// Stopped by SIGINT/SIGTERM.
    Interrupted,
    /// Never started (the batch was stopped first).
    NotStarted,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Complete => "complete",
            AccountStatus::AlreadyComplete => "done before, verified",
            AccountStatus::Failed => "FAILED",
            AccountStatus::Quota => "quota: later",
            AccountStatus::Interrupted => "interrupted",
            AccountStatus::NotStarted => "not started",
        }
    }

    pub fn is_complete(self) -> bool {
        matches!(
            self,
            AccountStatus::Complete | AccountStatus::AlreadyComplete
        )
    }
}

/// One account's line of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountOutcome {
    /// `user@host:port`.
    pub account: String,
    /// Its line in the accounts list.
    pub line: usize,
    pub status: AccountStatus,
    pub found: u64,
    pub uploaded: u64,
    pub skipped: u64,
    pub failed: u64,
    pub bytes: u64,
    /// Wall time of the account (secret, connection, upload).
    pub seconds: f64,
    /// The exit status a single `mailhaul upload` of this account would have.
    pub exit_code: u8,
    /// Why it stopped or failed.
    pub error: Option<String>,
    /// Its whole source was read (or an earlier run finished it): `found`
    /// is what the source holds. False after an early stop: `found` is
    /// only what was read. Reports without it were written when it was.
    #[serde(default = "read_all_before")]
    pub read_all: bool,
    /// For an account complete in an earlier run: what the server said
    /// when asked before it was skipped. Absent otherwise (and in reports
    /// written before the check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<ServerConfirmation>,
}

/// The check on the server of an account complete in an earlier run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfirmation {
    /// Sessions the check opened (0 when it never reached the server).
    pub sessions: u32,
    /// Mailboxes of the journal asked about.
    pub mailboxes: usize,
    /// Why the account was run again; `None`: verified on the server, skipped.
    pub rerun_because: Option<String>,
}

/// `read_all` of a shard's report written before the field existed.
fn read_all_before() -> bool {
    true
}

impl AccountOutcome {
    /// An account that did not run (`status`), or whose run ended before
    /// uploading (`error`, with the exit status it maps to).
    pub fn without_upload(
        account: String,
        line: usize,
        status: AccountStatus,
        exit: ExitStatus,
        error: Option<String>,
    ) -> AccountOutcome {
        AccountOutcome {
            account,
            line,
            status,
            found: 0,
            uploaded: 0,
            skipped: 0,
            failed: 0,
            bytes: 0,
            seconds: 0.0,
            exit_code: exit.code(),
            read_all: status.is_complete(),
            error,
            confirmation: None,
        }
    }

    /// The outcome of an upload's report.
    pub fn of_report(account: String, line: usize, report: &Report) -> AccountOutcome {
        let t = report.totals();
        let exit = report.exit_status();
        let status = match exit {
            ExitStatus::Success => AccountStatus::Complete,
            ExitStatus::Interrupted => AccountStatus::Interrupted,
            ExitStatus::Quota => AccountStatus::Quota,
            _ => AccountStatus::Failed,
        };
        let error = report.aborted.clone().or_else(|| {
            report
                .failures
                .first()
                .map(|f| format!("{} messages failed, first: {}", t.failed, f.reason))
                .or_else(|| {
                    let n = report.unreadable_files.len();
                    let first = report.unreadable_files.first()?;
                    Some(format!(
                        "{n} source files could not be read, first: {}",
                        first.line()
                    ))
                })
        });
        AccountOutcome {
            account,
            line,
            status,
            found: t.found,
            uploaded: t.uploaded,
            skipped: t.skipped,
            failed: t.failed,
            bytes: t.bytes,
            seconds: report.elapsed.as_secs_f64(),
            exit_code: exit.code(),
            error,
            read_all: !report.unread,
            confirmation: None,
        }
    }
}

/// The width of a table's account column: the longest name as printed,
/// at least the header's, at most 40.
pub fn account_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names
        .map(|n| sanitize(n).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(7, 40)
}

/// Every account's outcome, in list order.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub accounts: Vec<AccountOutcome>,
    pub elapsed: Duration,
}

/// Sums over accounts.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct BatchTotals {
    pub accounts: usize,
    pub complete: usize,
    pub failed: usize,
    /// Stopped by a daily quota (not failed; counted in neither of the others).
    pub quota: usize,
    pub found: u64,
    pub uploaded: u64,
    pub skipped: u64,
    pub failed_messages: u64,
    pub bytes: u64,
    /// Every account's source was read to its end: `found` is what the
    /// sources hold.
    pub read_all: bool,
}

impl BatchReport {
    pub fn totals(&self) -> BatchTotals {
        let mut t = BatchTotals {
            accounts: self.accounts.len(),
            read_all: true,
            ..BatchTotals::default()
        };
        for a in &self.accounts {
            match a.status {
                s if s.is_complete() => t.complete += 1,
                AccountStatus::Quota => t.quota += 1,
                _ => t.failed += 1,
            }
            t.found += a.found;
            t.uploaded += a.uploaded;
            t.skipped += a.skipped;
            t.failed_messages += a.failed;
            t.bytes += a.bytes;
            t.read_all &= a.read_all;
        }
        t
    }

    /// The accounts to run again.
    pub fn unfinished(&self) -> impl Iterator<Item = &AccountOutcome> {
        self.accounts.iter().filter(|a| !a.status.is_complete())
    }

    /// 0 when every account is complete; 130 when stopped by a signal; 1
    /// when an account failed; 4 when the only accounts left were stopped
    /// by their daily quota.
    pub fn exit_status(&self) -> ExitStatus {
        if self.accounts.iter().all(|a| a.status.is_complete()) {
            ExitStatus::Success
        } else if self.accounts.iter().any(|a| {
            matches!(
                a.status,
                AccountStatus::Interrupted | AccountStatus::NotStarted
            )
        }) {
            ExitStatus::Interrupted
        } else if self
            .accounts
            .iter()
            .all(|a| a.status.is_complete() || a.status == AccountStatus::Quota)
        {
            ExitStatus::Quota
        } else {
            ExitStatus::Partial
        }
    }

    /// The table (80 columns for names up to 20 characters; bytes are in
    /// the totals line and the JSON), the totals line and the accounts to rerun.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let width = account_width(self.accounts.iter().map(|a| a.account.as_str()));
        let _ = writeln!(
            s,
            "{:<width$}  {:>6} {:>8} {:>7} {:>6} {:>7} {:>4}  status",
            "account", "found", "uploaded", "skipped", "failed", "time", "exit"
        );
        for a in &self.accounts {
            let _ = writeln!(
                s,
                "{:<width$}  {:>6} {:>8} {:>7} {:>6} {:>6.1}s {:>4}  {}",
                sanitize(&a.account),
                a.found,
                a.uploaded,
                a.skipped,
                a.failed,
                a.seconds,
                a.exit_code,
                a.status.as_str()
            );
            match &a.confirmation {
                Some(ServerConfirmation {
                    rerun_because: Some(why),
                    ..
                }) => {
                    let _ = writeln!(s, "    complete before, run again: {}", sanitize(why));
                }
                Some(c) => {
                    let _ = writeln!(
                        s,
                        "    verified on the server: {}, {}",
                        plural(c.mailboxes as u64, "mailbox", "mailboxes"),
                        plural(u64::from(c.sessions), "session", "sessions")
                    );
                }
                None => {}
            }
            if let Some(e) = &a.error {
                let _ = writeln!(s, "    {}", sanitize(e));
            }
        }
        let t = self.totals();
        // "N of M" only when M is what the sources hold.
        let uploaded = if t.read_all {
            format!("{} of {} messages uploaded", t.uploaded, t.found)
        } else {
            format!("{} messages uploaded", t.uploaded)
        };
        let _ = writeln!(
            s,
            "{} of {} accounts complete; {uploaded}, {} skipped, {} failed, {} in {:.1} s",
            t.complete,
            t.accounts,
            t.skipped,
            t.failed_messages,
            human_bytes(t.bytes),
            self.elapsed.as_secs_f64()
        );
        if !t.read_all {
            let _ = writeln!(
                s,
                "stopped before every account's source was read: the counts cover only what was read"
            );
        }
        if t.quota > 0 {
            let _ = writeln!(
                s,
                "{} stopped by a daily quota, nothing failed there: the same command continues them once the quota has room again",
                t.quota
            );
        }
        let unfinished: Vec<String> = self.unfinished().map(|a| a.account.clone()).collect();
        if !unfinished.is_empty() {
            let _ = writeln!(
                s,
                "not complete (the same command retries exactly these): {}",
                sanitize(&unfinished.join(", "))
            );
        }
        s
    }

    /// The report as JSON (`--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema": crate::scan::JSON_SCHEMA,
            "kind": "batch",
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "accounts": self.accounts,
            "totals": self.totals(),
            "unfinished": self.unfinished().map(|a| &a.account).collect::<Vec<_>>(),
            "exit_code": self.exit_status().code(),
        })
    }

    /// Reads a `--json` batch report back (one shard's, for merging).
    pub fn from_json(value: &serde_json::Value) -> anyhow::Result<BatchReport> {
        anyhow::ensure!(
            value["kind"] == "batch" && value["schema"] == crate::scan::JSON_SCHEMA,
            "not a mailhaul batch report of schema {}",
            crate::scan::JSON_SCHEMA
        );
        Ok(BatchReport {
            accounts: serde_json::from_value(value["accounts"].clone())?,
            elapsed: Duration::from_secs_f64(value["elapsed_seconds"].as_f64().unwrap_or(0.0)),
        })
    }

    /// Adds a shard's report: its accounts appended; the elapsed time is
    /// the longest shard's (they ran side by side).
    pub fn merge(&mut self, other: BatchReport) {
        self.accounts.extend(other.accounts);
        self.elapsed = self.elapsed.max(other.elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FailureClass;

    fn outcome(name: &str, status: AccountStatus) -> AccountOutcome {
        AccountOutcome::without_upload(name.into(), 2, status, ExitStatus::Success, None)
    }

    #[test]
    fn the_exit_status_is_0_only_when_every_account_is_complete() {
        let mut r = BatchReport::default();
        r.accounts.push(outcome("a", AccountStatus::Complete));
        r.accounts
            .push(outcome("b", AccountStatus::AlreadyComplete));
        assert_eq!(r.exit_status(), ExitStatus::Success);
        r.accounts.push(outcome("c", AccountStatus::Failed));
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        assert!(r.table().contains("retries exactly these): c"));
        r.accounts.push(outcome("d", AccountStatus::NotStarted));
        assert_eq!(r.exit_status(), ExitStatus::Interrupted);
        assert_eq!(r.totals().complete, 2);
    }

    #[test]
    fn accounts_stopped_by_their_quota_are_exit_4_not_failed() {
        let mut r = BatchReport::default();
        r.accounts.push(outcome("a", AccountStatus::Complete));
        r.accounts.push(outcome("q", AccountStatus::Quota));
        assert_eq!(r.exit_status(), ExitStatus::Quota);
        let t = r.totals();
        assert_eq!((t.complete, t.quota, t.failed), (1, 1, 0));
        let table = r.table();
        assert!(table.contains("quota: later"), "{table}");
        assert!(table.contains("1 stopped by a daily quota"), "{table}");
        assert!(table.contains("retries exactly these): q"), "{table}");
        assert_eq!(r.to_json()["totals"]["quota"], 1);
        // A failure elsewhere makes it 1: something needs fixing.
        r.accounts.push(outcome("f", AccountStatus::Failed));
        assert_eq!(r.exit_status(), ExitStatus::Partial);

        let mut up = Report::default();
        up.uploaded("INBOX", 100);
        up.quota_stop = Some("--max-bytes-per-day".into());
        let a = AccountOutcome::of_report("me@h:993".into(), 3, &up);
        assert_eq!((a.status, a.exit_code), (AccountStatus::Quota, 4));
    }

    /// An account stopped before its source was read makes the totals
    /// line drop "N of M" (a batch SIGINT'd with 9000 said "4000 of 4000").
    #[test]
    fn a_batch_stopped_before_every_source_was_read_says_so() {
        let mut up = Report {
            interrupted: true,
            ..Default::default()
        };
        up.uploaded("INBOX", 100);
        up.unfinished("INBOX");
        let mut r = BatchReport::default();
        r.accounts
            .push(AccountOutcome::of_report("me@h:993".into(), 2, &up));
        r.accounts.push(outcome("n", AccountStatus::NotStarted));
        let table = r.table();
        assert!(!table.contains(" of 1 messages"), "{table}");
        assert!(table.contains("; 1 messages uploaded, "), "{table}");
        assert!(
            table.contains("stopped before every account's source was read"),
            "{table}"
        );
        assert_eq!(r.to_json()["accounts"][0]["read_all"], false);
        assert_eq!(r.to_json()["totals"]["read_all"], false);
        // A shard's report from before the field: read to its end.
        let mut old = r.to_json();
        old["accounts"][0]
            .as_object_mut()
            .unwrap()
            .remove("read_all");
        assert!(BatchReport::from_json(&old).unwrap().accounts[0].read_all);
        // Complete accounts: "N of M" as before.
        let mut done = BatchReport::default();
        done.accounts.push(outcome("a", AccountStatus::Complete));
        assert!(done.table().contains("0 of 0 messages uploaded"));
    }

    #[test]
    fn the_server_check_of_an_account_complete_before_is_reported() {
        let mut verified = outcome("v", AccountStatus::AlreadyComplete);
        verified.confirmation = Some(ServerConfirmation {
            sessions: 1,
            mailboxes: 2,
            rerun_because: None,
        });
        let mut rerun = outcome("r", AccountStatus::Complete);
        rerun.confirmation = Some(ServerConfirmation {
            sessions: 1,
            mailboxes: 1,
            rerun_because: Some("INBOX: not on the server".into()),
        });
        let mut r = BatchReport::default();
        r.accounts
            .extend([verified, rerun, outcome("n", AccountStatus::Complete)]);
        let table = r.table();
        assert!(
            table.contains("verified on the server: 2 mailboxes, 1 session"),
            "{table}"
        );
        assert!(
            table.contains("complete before, run again: INBOX: not on the server"),
            "{table}"
        );
        let json = r.to_json();
        assert_eq!(json["accounts"][0]["confirmation"]["sessions"], 1);
        assert_eq!(
            json["accounts"][1]["confirmation"]["rerun_because"],
            "INBOX: not on the server"
        );
        assert!(json["accounts"][2].get("confirmation").is_none());
        // Read back (a shard's report), and from before the field.
        assert_eq!(BatchReport::from_json(&json).unwrap().accounts, r.accounts);
    }

    #[test]
    fn an_upload_report_becomes_a_row() {
        let mut up = Report::default();
        up.uploaded("INBOX", 100);
        up.failed(
            "INBOX",
            "m:1".into(),
            FailureClass::Refused,
            "NO too big".into(),
        );
        let a = AccountOutcome::of_report("me@h:993".into(), 3, &up);
        assert_eq!((a.found, a.uploaded, a.failed, a.exit_code), (2, 1, 1, 1));
        assert_eq!(a.status, AccountStatus::Failed);
        assert!(a.error.unwrap().contains("NO too big"));
    }

    #[test]
    fn shard_reports_merge() {
        let mut a = BatchReport::default();
        a.accounts.push(outcome("a", AccountStatus::Complete));
        a.elapsed = Duration::from_secs(3);
        let mut b = BatchReport::default();
        b.accounts.push(outcome("b", AccountStatus::Failed));
        b.elapsed = Duration::from_secs(5);
        let b = BatchReport::from_json(&b.to_json()).unwrap();
        a.merge(b);
        assert_eq!(a.accounts.len(), 2);
        assert_eq!(a.elapsed, Duration::from_secs(5));
        assert_eq!(a.to_json()["unfinished"], serde_json::json!(["b"]));
        assert!(BatchReport::from_json(&serde_json::json!({"kind": "upload"})).is_err());
    }
}
