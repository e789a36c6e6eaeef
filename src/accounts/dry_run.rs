//! The report of `mailhaul batch --dry-run`: per account what its
//! `mailhaul upload --dry-run` found (would send, already there, cannot be
//! sent, batches an interrupted run left open), and the totals; as a table
//! or as JSON (`"kind": "batch-dry-run"`, the batch report's `schema` and
//! `exit_code` conventions). Nothing in it was sent or written.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::report::{ExitStatus, human_bytes, plural, sanitize};

use super::report::account_width;
use crate::scan::ScanReport;

/// One account's dry run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DryRunRow {
    /// `user@host:port`.
    pub account: String,
    /// Its line in the accounts list.
    pub line: usize,
    /// Messages the upload would send, and their bytes.
    pub would_send: u64,
    pub would_send_bytes: u64,
    /// Messages the upload would find already there: journaled (the
    /// journal confirmed by the server) plus found by the server check.
    pub already_there: u64,
    pub already_uploaded: u64,
    pub already_on_server: u64,
    /// Messages the source says not to upload.
    pub skipped: u64,
    /// Messages this server cannot take (empty, over APPENDLIMIT, NUL
    /// bytes without BINARY).
    pub refused: u64,
    /// Batches an interrupted run left open (the upload looks at them first).
    pub open_batches: u64,
    /// The exit status `mailhaul upload --dry-run` of this account would have.
    pub exit_code: u8,
    /// Why the dry run stopped, or its first error.
    pub error: Option<String>,
}

impl DryRunRow {
    /// An account whose dry run did not get to a scan (`error`).
    pub fn without_scan(
        account: String,
        line: usize,
        exit: ExitStatus,
        error: Option<String>,
    ) -> DryRunRow {
        DryRunRow {
            account,
            line,
            exit_code: exit.code(),
            error,
            ..DryRunRow::default()
        }
    }

    /// The row of an account's `upload --dry-run` scan (`exit`: the exit
    /// status that dry run gives).
    pub fn of_scan(account: String, line: usize, scan: &ScanReport, exit: ExitStatus) -> DryRunRow {
        let mut row = DryRunRow::without_scan(account, line, exit, scan.errors.first().cloned());
        for m in &scan.mailboxes {
            row.skipped += m.skipped;
            row.refused += m.refused;
        }
        if let Some(a) = &scan.against_server {
            row.would_send = a.would_send;
            row.would_send_bytes = a.would_send_bytes;
            row.already_there = a.already_there;
            row.already_uploaded = a.already_uploaded;
            row.already_on_server = a.already_on_server;
            row.open_batches = a.open_batches.batches;
        }
        row
    }
}

/// Sums over accounts.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct DryRunTotals {
    pub accounts: usize,
    /// Accounts whose dry run did not exit 0.
    pub failed: usize,
    pub would_send: u64,
    pub would_send_bytes: u64,
    pub already_there: u64,
    pub refused: u64,
}

/// Every account's dry run, in list order.
#[derive(Debug, Default)]
pub struct DryRunReport {
    pub accounts: Vec<DryRunRow>,
    pub elapsed: Duration,
}

impl DryRunReport {
    pub fn totals(&self) -> DryRunTotals {
        let mut t = DryRunTotals {
            accounts: self.accounts.len(),
            ..DryRunTotals::default()
        };
        for a in &self.accounts {
            t.failed += usize::from(a.exit_code != 0);
            t.would_send += a.would_send;
            t.would_send_bytes += a.would_send_bytes;
            t.already_there += a.already_there;
            t.refused += a.refused;
        }
        t
    }

    /// 0 when every account's dry run is; 130 when stopped by a signal;
    /// else 1.
    pub fn exit_status(&self) -> ExitStatus {
        let interrupted = ExitStatus::Interrupted.code();
        if self.accounts.iter().all(|a| a.exit_code == 0) {
            ExitStatus::Success
        } else if self.accounts.iter().any(|a| a.exit_code == interrupted) {
            ExitStatus::Interrupted
        } else {
            ExitStatus::Partial
        }
    }

    /// The table and the totals line.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let width = account_width(self.accounts.iter().map(|a| a.account.as_str()));
        let _ = writeln!(
            s,
            "{:<width$}  {:>10} {:>13} {:>11} {:>4}",
            "account", "would send", "already there", "cannot send", "exit"
        );
        for a in &self.accounts {
            let _ = writeln!(
                s,
                "{:<width$}  {:>10} {:>13} {:>11} {:>4}",
                sanitize(&a.account),
                a.would_send,
                a.already_there,
                a.refused,
                a.exit_code
            );
            if a.open_batches > 0 {
                let _ = writeln!(
                    s,
                    "    {} an interrupted run left open: the upload looks for them first",
                    plural(a.open_batches, "batch", "batches")
                );
            }
            if let Some(e) = &a.error {
                let _ = writeln!(s, "    {}", sanitize(e));
            }
        }
        let t = self.totals();
        let _ = writeln!(
            s,
            "{}: {} ({}) would be sent, {} already there, {} cannot be sent; dry run: nothing sent or written",
            plural(t.accounts as u64, "account", "accounts"),
            plural(t.would_send, "message", "messages"),
            human_bytes(t.would_send_bytes),
            t.already_there,
            t.refused
        );
        if t.failed > 0 {
            let _ = writeln!(
                s,
                "{} could not be checked in full",
                plural(t.failed as u64, "account", "accounts")
            );
        }
        s
    }

    /// The report as JSON (`--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema": crate::scan::JSON_SCHEMA,
            "kind": "batch-dry-run",
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "accounts": self.accounts,
            "totals": self.totals(),
            "exit_code": self.exit_status().code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{AgainstServer, MailboxScan};

    #[test]
    fn a_scan_becomes_a_row_and_rows_a_report() {
        let scan = ScanReport {
            mailboxes: vec![MailboxScan {
                name: "INBOX".into(),
                messages: 2,
                skipped: 1,
                refused: 1,
                already_uploaded: 3,
                bytes: 200,
                ..MailboxScan::default()
            }],
            errors: vec!["INBOX: message 4 is empty".into()],
            against_server: Some(AgainstServer {
                would_send: 2,
                would_send_bytes: 200,
                already_there: 3,
                already_uploaded: 3,
                ..AgainstServer::default()
            }),
            ..ScanReport::default()
        };
        let row = DryRunRow::of_scan("a@h:993".into(), 2, &scan, ExitStatus::Partial);
        assert_eq!(
            (row.would_send, row.already_there, row.refused, row.skipped),
            (2, 3, 1, 1)
        );
        assert_eq!(row.exit_code, 1);
        assert_eq!(row.error.as_deref(), Some("INBOX: message 4 is empty"));
        let mut r = DryRunReport::default();
        r.accounts.push(row);
        r.accounts.push(DryRunRow::without_scan(
            "b@h:993".into(),
            3,
            ExitStatus::Connection,
            Some("authentication failed".into()),
        ));
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        let table = r.table();
        assert!(
            table.contains("2 accounts: 2 messages (200 B) would be sent, 3 already there"),
            "{table}"
        );
        assert!(table.contains("authentication failed"), "{table}");
        let json = r.to_json();
        assert_eq!(json["kind"], "batch-dry-run");
        assert_eq!(json["schema"], crate::scan::JSON_SCHEMA);
        assert_eq!(json["exit_code"], 1);
        assert_eq!(json["accounts"][0]["would_send"], 2);
        assert_eq!(json["totals"]["failed"], 2);
        r.accounts.pop();
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        r.accounts[0].exit_code = 0;
        assert_eq!(r.exit_status(), ExitStatus::Success);
    }
}
