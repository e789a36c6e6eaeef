//! Report: what happened to every message, the human summary, and the exit
//! code. Outcomes are recorded as values (never as global state) by `upload`
//! and `run`; the report alone decides the exit status.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

/// The process exit status (documented in --help, README and the man page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything uploaded.
    Success,
    /// 1: some messages failed.
    Partial,
    /// 2: usage or configuration error.
    Usage,
    /// 3: connection, TLS or authentication failure.
    Connection,
    /// 4: stopped by the provider's daily quota (or --max-bytes-per-day)
    /// with nothing failed: run the same command again after it resets.
    Quota,
    /// 130: stopped by SIGINT/SIGTERM (128 + 2, as shells report Ctrl-C);
    /// everything confirmed so far is journaled.
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Partial => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Connection => 3,
            ExitStatus::Quota => 4,
            ExitStatus::Interrupted => 130,
        }
    }
}

/// Why a message did not land.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// The source could not be read.
    Unreadable,
    /// Not sent on purpose (empty, larger than the server accepts).
    NotSent,
    /// The server refused it (NO / BAD).
    Refused,
    /// Its fate is unknown (the connection broke before the answer).
    Unknown,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Unreadable => "unreadable",
            FailureClass::NotSent => "not sent",
            FailureClass::Refused => "refused by the server",
            FailureClass::Unknown => "fate unknown",
        }
    }
}

/// One message that did not land.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Where the message is in the source (file, index, offset).
    pub origin: String,
    /// The target mailbox.
    pub mailbox: String,
    pub class: FailureClass,
    pub reason: String,
}

/// A source file recognised as mail (by its magic or a mail extension)
/// that could not be read, so none of its messages were counted or sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnreadableFile {
    pub path: String,
    pub reason: String,
}

impl UnreadableFile {
    /// The line the report and `scan` print.
    pub fn line(&self) -> String {
        format!("{}: {}", self.path, self.reason)
    }
}

/// Counts for one target mailbox.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MailboxTally {
    pub name: String,
    pub found: u64,
    pub uploaded: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Of `skipped`: already on the server (journal or server check).
    pub already_present: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// The run stopped before every message of the source meant for this
    /// mailbox was read: `found` counts only what was read (JSON:
    /// `"complete": false`).
    #[serde(rename = "complete", serialize_with = "negated")]
    pub unfinished: bool,
}

/// `n` and the noun for it: "1 message", "3 messages".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl MailboxTally {
    /// Nothing found for it and nothing left unread.
    pub fn is_untouched(&self) -> bool {
        self.found == 0 && self.skipped == 0 && !self.unfinished
    }
}

/// `unfinished` written as `complete`.
fn negated<S: serde::Serializer>(unfinished: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(!unfinished)
}

/// Keywords a mailbox could not keep, left out of the messages uploaded
/// into it (the messages themselves landed): `upload/strict.rs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeywordsDropped {
    pub mailbox: String,
    /// Messages that lost at least one keyword.
    pub messages: u64,
    /// The keywords left out, sorted, each once.
    pub keywords: Vec<String>,
}

impl KeywordsDropped {
    /// The line the report prints.
    pub fn line(&self) -> String {
        format!(
            "{}: {} message{}: keyword{} {} not kept: the server does not allow new keywords",
            self.mailbox,
            self.messages,
            if self.messages == 1 { "" } else { "s" },
            if self.keywords.len() == 1 { "" } else { "s" },
            self.keywords.join(", ")
        )
    }
}

/// One message not uploaded on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub origin: String,
    pub mailbox: String,
    pub reason: String,
}

/// What the server-checked resume looked at and found (`upload/server_check.rs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerCheck {
    /// Source messages found on the server by the check (not by the journal).
    pub found: u64,
    /// Mailboxes whose messages were read (in part or in whole).
    pub mailboxes_read: u64,
    /// Server messages whose size and Message-ID were read.
    pub messages_read: u64,
    /// Server messages whose body was read and hashed to break a tie.
    pub bodies_hashed: u64,
    /// Journaled UIDs spot-checked against the server.
    pub spot_checked: u64,
    /// Mailboxes whose journal entries did not hold on this server.
    pub journal_distrusted: u64,
    /// Bytes of server responses the looks read.
    pub bytes_read: u64,
    /// Time the looks took, summed over connections.
    pub seconds: f64,
    /// Source messages read by the key pre-pass (their Message-IDs, for
    /// the mailboxes that hold messages the journal cannot account for).
    pub source_keys_read: u64,
    /// Time the key pre-pass took.
    pub source_keys_seconds: f64,
}

impl ServerCheck {
    fn merge(&mut self, o: &ServerCheck) {
        self.found += o.found;
        self.mailboxes_read += o.mailboxes_read;
        self.messages_read += o.messages_read;
        self.bodies_hashed += o.bodies_hashed;
        self.spot_checked += o.spot_checked;
        self.journal_distrusted += o.journal_distrusted;
        self.bytes_read += o.bytes_read;
        self.seconds += o.seconds;
        self.source_keys_read += o.source_keys_read;
        self.source_keys_seconds += o.source_keys_seconds;
    }

    /// The summary lines (under 80 columns), when the check looked at anything.
    fn lines(&self) -> Option<String> {
        if self.messages_read == 0 && self.found == 0 && self.spot_checked == 0 {
            return None;
        }
        let mut s = format!(
            "server check: {} already on the server\n  looked at {}",
            self.found,
            plural(self.messages_read, "message", "messages"),
        );
        if self.bodies_hashed > 0 {
            let _ = write!(s, " ({})", plural(self.bodies_hashed, "body", "bodies"));
        }
        let _ = write!(
            s,
            " in {}: {} in {:.2} s",
            plural(self.mailboxes_read, "mailbox", "mailboxes"),
            human_bytes(self.bytes_read),
            self.seconds
        );
        if self.source_keys_read > 0 {
            let _ = write!(
                s,
                "\n  source keys: {} read in {:.2} s",
                plural(self.source_keys_read, "message", "messages"),
                self.source_keys_seconds
            );
        }
        Some(s)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub mailboxes: Vec<MailboxTally>,
    pub failures: Vec<Failure>,
    /// Source files recognised as mail that could not be read (exit 1).
    pub unreadable_files: Vec<UnreadableFile>,
    pub skips: Vec<Skip>,
    /// Things that did not stop any message but are worth saying.
    pub warnings: Vec<String>,
    /// The upload mode, e.g. "MULTIAPPEND with LITERAL+".
    pub mode: String,
    pub append_commands: u64,
    /// Messages copied by UID COPY instead of uploaded again (Takeout labels).
    pub copies: u64,
    pub elapsed: Duration,
    /// Set when the run stopped early (connection lost, …).
    pub aborted: Option<String>,
    /// The run stopped because the connection could not be restored.
    pub connection_lost: bool,
    /// The run stopped on SIGINT/SIGTERM.
    pub interrupted: bool,
    /// The provider's daily quota (or `--max-bytes-per-day`) stopped the run.
    pub quota_stop: Option<String>,
    /// Messages read but not landed, when the quota stopped the run: not
    /// sent, or sent without an answer (open in the journal). The next run
    /// sends (or looks for) them. Messages not read are not counted here:
    /// see `unread`.
    pub left_for_next_run: u64,
    /// The run stopped before the whole source was read (the mailboxes
    /// concerned, where known, are [`MailboxTally::unfinished`]): no count
    /// in this report covers the source.
    pub unread: bool,
    /// What the server-checked resume looked at.
    pub server_check: ServerCheck,
    /// Per mailbox, keywords left out because the server cannot keep them.
    pub keywords_dropped: Vec<KeywordsDropped>,
    /// The daily byte budget, when there is one (`upload/budget.rs`).
    pub budget: Option<crate::upload::BudgetFigures>,
}

impl Report {
    /// The tally of `name`, created on first use (mailboxes keep plan order).
    pub fn mailbox(&mut self, name: &str) -> &mut MailboxTally {
        let i = match self.mailboxes.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                self.mailboxes.push(MailboxTally {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.mailboxes.len() - 1
            }
        };
        &mut self.mailboxes[i]
    }

    pub fn uploaded(&mut self, mailbox: &str, bytes: u64) {
        let t = self.mailbox(mailbox);
        t.found += 1;
        t.uploaded += 1;
        t.bytes += bytes;
    }

    pub fn failed(&mut self, mailbox: &str, origin: String, class: FailureClass, reason: String) {
        let t = self.mailbox(mailbox);
        t.found += 1;
        t.failed += 1;
        self.failures.push(Failure {
            origin,
            mailbox: mailbox.to_string(),
            class,
            reason,
        });
    }

    /// A message the source said not to upload (e.g. deleted in the source).
    pub fn skipped(&mut self, mailbox: &str, origin: String, reason: String) {
        self.mailbox(mailbox).skipped += 1;
        self.mailbox(mailbox).found += 1;
        self.skips.push(Skip {
            origin,
            mailbox: mailbox.to_string(),
            reason,
        });
    }

    /// A message already on the server (journaled, or found by
    /// the server check): skipped, and counted as present.
    pub fn already_present(&mut self, mailbox: &str, origin: String, reason: String) {
        self.skipped(mailbox, origin, reason);
        self.mailbox(mailbox).already_present += 1;
    }

    /// One message for `mailbox` lost these `keywords` (none: nothing to note).
    pub fn keywords_dropped(&mut self, mailbox: &str, keywords: &[String]) {
        if keywords.is_empty() {
            return;
        }
        self.merge_keywords_dropped(KeywordsDropped {
            mailbox: mailbox.to_string(),
            messages: 1,
            keywords: keywords.to_vec(),
        });
    }

    fn merge_keywords_dropped(&mut self, k: KeywordsDropped) {
        let i = match self
            .keywords_dropped
            .iter()
            .position(|d| d.mailbox == k.mailbox)
        {
            Some(i) => i,
            None => {
                self.keywords_dropped.push(KeywordsDropped {
                    mailbox: k.mailbox.clone(),
                    ..Default::default()
                });
                self.keywords_dropped.len() - 1
            }
        };
        let d = &mut self.keywords_dropped[i];
        d.messages += k.messages;
        d.keywords.extend(k.keywords);
        d.keywords.sort();
        d.keywords.dedup();
    }

    /// Adds another connection's report (`--jobs`) into this one: tallies
    /// summed per mailbox, lists appended, the first reason to stop kept.
    pub fn merge(&mut self, other: Report) {
        for m in other.mailboxes {
            let t = self.mailbox(&m.name);
            t.found += m.found;
            t.uploaded += m.uploaded;
            t.failed += m.failed;
            t.skipped += m.skipped;
            t.already_present += m.already_present;
            t.bytes += m.bytes;
            t.unfinished |= m.unfinished;
        }
        self.unread |= other.unread;
        self.failures.extend(other.failures);
        self.unreadable_files.extend(other.unreadable_files);
        self.skips.extend(other.skips);
        self.warnings.extend(other.warnings);
        self.append_commands += other.append_commands;
        self.copies += other.copies;
        if self.aborted.is_none() {
            self.aborted = other.aborted;
        }
        self.connection_lost |= other.connection_lost;
        self.interrupted |= other.interrupted;
        if self.quota_stop.is_none() {
            self.quota_stop = other.quota_stop;
        }
        self.left_for_next_run += other.left_for_next_run;
        self.server_check.merge(&other.server_check);
        for k in other.keywords_dropped {
            self.merge_keywords_dropped(k);
        }
        if self.budget.is_none() {
            self.budget = other.budget;
        }
    }

    pub fn totals(&self) -> MailboxTally {
        let mut t = MailboxTally {
            name: "total".into(),
            ..Default::default()
        };
        for m in &self.mailboxes {
            t.found += m.found;
            t.uploaded += m.uploaded;
            t.failed += m.failed;
            t.skipped += m.skipped;
            t.already_present += m.already_present;
            t.bytes += m.bytes;
        }
        t.unfinished = self.unread;
        t
    }

    /// Marks `mailbox` as not read to its end (and the run as stopped
    /// before the whole source was read).
    pub fn unfinished(&mut self, mailbox: &str) {
        self.mailbox(mailbox).unfinished = true;
        self.unread = true;
    }

    /// Why the run stopped before its end, in one word, or `None` when
    /// it ran to its end.
    pub fn stop_reason(&self) -> Option<&'static str> {
        if self.interrupted {
            Some("interrupted")
        } else if self.quota_stop.is_some() {
            Some("quota")
        } else if self.connection_lost {
            Some("connection")
        } else if self.aborted.is_some() || self.unread {
            Some("error")
        } else {
            None
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        let failed = !self.failures.is_empty() || !self.unreadable_files.is_empty();
        if self.interrupted {
            ExitStatus::Interrupted
        } else if self.quota_stop.is_some() && !failed {
            ExitStatus::Quota
        } else if self.connection_lost {
            ExitStatus::Connection
        } else if self.aborted.is_some() || failed {
            ExitStatus::Partial
        } else {
            ExitStatus::Success
        }
    }

    /// The table and the totals line, for a terminal of any width ≥ 80.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let width = self
            .mailboxes
            .iter()
            .map(|m| sanitize(&m.name).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(7, 40);
        let _ = writeln!(
            s,
            "{:<width$}  {:>7} {:>8} {:>6} {:>7} {:>10}",
            "mailbox", "found", "uploaded", "failed", "skipped", "bytes"
        );
        let total = self.totals();
        for m in self.mailboxes.iter().chain(std::iter::once(&total)) {
            // "97+": at least that many, the rest was not read.
            let found = format!("{}{}", m.found, if m.unfinished { "+" } else { "" });
            let _ = writeln!(
                s,
                "{:<width$}  {:>7} {:>8} {:>6} {:>7} {:>10}",
                sanitize(&m.name),
                found,
                m.uploaded,
                m.failed,
                m.skipped,
                human_bytes(m.bytes)
            );
        }
        let _ = writeln!(s, "{}", self.totals_line(&total));
        let _ = writeln!(
            s,
            "mode: {}; {} APPEND command{}",
            self.mode,
            self.append_commands,
            if self.append_commands == 1 { "" } else { "s" }
        );
        if let Some(lines) = self.server_check.lines() {
            let _ = writeln!(s, "{lines}");
        }
        if let Some(b) = &self.budget {
            let _ = writeln!(s, "{}", b.line());
        }
        if self.copies > 0 {
            let _ = writeln!(
                s,
                "{} copied by UID COPY instead of sent again",
                self.copies
            );
        }
        if !self.unreadable_files.is_empty() {
            let n = self.unreadable_files.len();
            let _ = writeln!(
                s,
                "{n} source file{} of mail could not be read (named above)",
                if n == 1 { "" } else { "s" },
            );
        }
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for k in &self.skips {
            match reasons.iter_mut().find(|(r, _)| *r == k.reason) {
                Some((_, n)) => *n += 1,
                None => reasons.push((&k.reason, 1)),
            }
        }
        for (reason, n) in reasons {
            let _ = writeln!(s, "skipped {n}: {}", sanitize(reason));
        }
        s
    }

    /// What the run did in all: "N of M messages uploaded" only when it
    /// ran to its end; after an early stop what landed, and what the counts
    /// do not cover (a second line).
    fn totals_line(&self, total: &MailboxTally) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-3);
        let pace = format!(
            "in {:.1} s ({:.0} msg/s, {}/s)",
            self.elapsed.as_secs_f64(),
            total.uploaded as f64 / secs,
            human_bytes((total.bytes as f64 / secs) as u64),
        );
        if self.stop_reason().is_none() {
            return format!(
                "{} of {} messages uploaded {pace}",
                total.uploaded, total.found
            );
        }
        let mut s = format!("{} uploaded {pace}\n", total.uploaded);
        s.push_str(
            match (self.unread, self.mailboxes.iter().any(|m| m.unfinished)) {
                (false, _) => "stopped early",
                (true, false) => "stopped before the whole source was read",
                (true, true) => "stopped before the whole source was read (+)",
            },
        );
        s.push_str(": the same command continues");
        if self.left_for_next_run > 0 {
            let _ = write!(
                s,
                "\n{} read but not landed (not sent, or sent without an answer)",
                self.left_for_next_run
            );
        }
        s
    }

    /// Failures and warnings, one per line, for stderr.
    pub fn problems(&self) -> String {
        let mut s = String::new();
        for f in &self.failures {
            let _ = writeln!(
                s,
                "mailhaul: {} → {}: {}: {}",
                sanitize(&f.origin),
                sanitize(&f.mailbox),
                f.class.as_str(),
                sanitize(&f.reason)
            );
        }
        for u in &self.unreadable_files {
            let _ = writeln!(s, "mailhaul: {}", sanitize(&u.line()));
        }
        for k in &self.keywords_dropped {
            let _ = writeln!(s, "mailhaul: warning: {}", sanitize(&k.line()));
        }
        for w in &self.warnings {
            let _ = writeln!(s, "mailhaul: warning: {}", sanitize(w));
        }
        if let Some(why) = &self.aborted {
            let _ = writeln!(s, "mailhaul: stopped early: {}", sanitize(why));
        }
        s
    }

    /// The report as JSON (`--json`): counts per mailbox, every failure and
    /// skip with its origin and reason, the mode, timings and the exit code.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "schema": crate::scan::JSON_SCHEMA,
            "kind": "upload",
            "mode": self.mode,
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "append_commands": self.append_commands,
            "copies": self.copies,
            "mailboxes": self.mailboxes,
            "totals": self.totals(),
            "stopped_early": self.stop_reason().is_some(),
            "stop_reason": self.stop_reason(),
            "read_all": !self.unread,
            "left_for_next_run": self.left_for_next_run,
            "failures": self.failures,
            "unreadable_files": self.unreadable_files,
            "skips": self.skips,
            "warnings": self.warnings,
            "server_check": self.server_check,
            "keywords_dropped": self.keywords_dropped,
            "budget": self.budget,
            "aborted": self.aborted,
            "exit_code": self.exit_status().code(),
        })
    }

    /// Prints problems to stderr and, unless quiet, the summary to stdout.
    pub fn print(&self, quiet: bool) -> io::Result<()> {
        io::stderr().write_all(self.problems().as_bytes())?;
        if !quiet {
            io::stdout().write_all(self.summary().as_bytes())?;
        }
        Ok(())
    }
}

/// Replaces control characters (from server text, file and folder names) so
/// nothing can drive the terminal.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_follows_failures() {
        let mut r = Report::default();
        r.uploaded("INBOX", 10);
        assert_eq!(r.exit_status(), ExitStatus::Success);
        r.failed("INBOX", "x".into(), FailureClass::Refused, "NO".into());
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        let t = r.totals();
        assert_eq!((t.found, t.uploaded, t.failed, t.bytes), (2, 1, 1, 10));
        r.connection_lost = true;
        assert_eq!(r.exit_status().code(), 3);
        r.interrupted = true;
        assert_eq!(r.exit_status().code(), 130);
    }

    #[test]
    fn an_unreadable_source_file_fails_the_run() {
        let mut r = Report::default();
        r.uploaded("INBOX", 10);
        r.unreadable_files.push(UnreadableFile {
            path: "mix/trunc.pst".into(),
            reason: "not a readable PST file: truncated".into(),
        });
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        // Not a quota stop with nothing failed: the file needs the user.
        r.quota_stop = Some("daily quota".into());
        assert_eq!(r.exit_status(), ExitStatus::Partial);
        assert_eq!(
            r.problems(),
            "mailhaul: mix/trunc.pst: not a readable PST file: truncated\n"
        );
        assert!(
            r.summary()
                .contains("\n1 source file of mail could not be read (named above)\n")
        );
        let doc = r.to_json();
        assert_eq!(doc["unreadable_files"][0]["path"], "mix/trunc.pst");
        assert_eq!(doc["exit_code"], 1);
    }

    #[test]
    fn already_present_counts_as_skipped() {
        let mut r = Report::default();
        r.already_present("INBOX", "a".into(), "already uploaded (journal)".into());
        let t = r.totals();
        assert_eq!((t.found, t.skipped, t.already_present), (1, 1, 1));
        assert_eq!(r.exit_status(), ExitStatus::Success);
        assert!(
            r.summary()
                .contains("skipped 1: already uploaded (journal)")
        );
    }

    /// The server check's line says what was found and what the look cost;
    /// the JSON report carries the same counts; connections add up.
    #[test]
    fn server_check_is_reported() {
        let mut r = Report::default();
        assert!(!r.summary().contains("server check"));
        let other = Report {
            server_check: ServerCheck {
                found: 200,
                mailboxes_read: 3,
                messages_read: 200,
                bytes_read: 30 << 10,
                seconds: 0.25,
                ..Default::default()
            },
            ..Default::default()
        };
        r.merge(other);
        let s = r.summary();
        assert!(
            s.contains(
                "server check: 200 already on the server\n  looked at 200 messages in 3 mailboxes: 30.0 KiB in 0.25 s\n"
            ),
            "{s}"
        );
        assert_eq!(r.to_json()["server_check"]["found"], 200);
        assert_eq!(r.to_json()["server_check"]["bytes_read"], 30 << 10);
        // The key pre-pass over the source, when there was one.
        r.server_check.source_keys_read = 200;
        r.server_check.source_keys_seconds = 0.5;
        assert!(
            r.summary()
                .contains("\n  source keys: 200 messages read in 0.50 s\n"),
            "{}",
            r.summary()
        );
        assert_eq!(r.to_json()["server_check"]["source_keys_read"], 200);
    }

    /// A run stopped early (here by a quota, 97 of a mailbox whose source
    /// holds more uploaded, 3 read but not sent) never prints "N of N":
    /// the mailbox and the totals say the source was not read to its end,
    /// and so does the JSON (only fields added to schema 1).
    #[test]
    fn a_stopped_run_never_looks_complete() {
        let mut r = Report {
            quota_stop: Some("--max-bytes-per-day 2 MB reached".into()),
            left_for_next_run: 3,
            ..Default::default()
        };
        for _ in 0..97 {
            r.uploaded("Box", 100);
        }
        r.uploaded("Other", 100);
        r.unfinished("Box");
        let s = r.summary();
        assert!(!s.contains(" of "), "{s}");
        assert!(s.contains("\nBox          97+       97 "), "{s}");
        assert!(s.contains("\nOther          1        1 "), "{s}");
        assert!(s.contains("\ntotal        98+       98 "), "{s}");
        assert!(s.contains("\n98 uploaded in "), "{s}");
        assert!(
            s.contains(
                "\nstopped before the whole source was read (+): the same command continues\n3 read but not landed (not sent, or sent without an answer)\n"
            ),
            "{s}"
        );
        for line in s.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let j = r.to_json();
        assert_eq!(j["mailboxes"][0]["complete"], false);
        assert_eq!(j["mailboxes"][0]["found"], 97);
        assert_eq!(j["mailboxes"][1]["complete"], true);
        assert_eq!(j["totals"]["complete"], false);
        assert_eq!(j["stopped_early"], true);
        assert_eq!(j["stop_reason"], "quota");
        assert_eq!(j["read_all"], false);
        assert_eq!(j["left_for_next_run"], 3);
        // Another connection's report keeps the mark.
        let mut merged = Report::default();
        merged.merge(r);
        assert!(merged.mailboxes[0].unfinished && merged.unread);
    }

    /// Interrupted after everything was read: no "N of M" either (what was
    /// in flight is not in the counts), but no claim that reading stopped.
    #[test]
    fn an_interrupted_run_read_to_its_end_says_it_stopped() {
        let mut r = Report {
            interrupted: true,
            ..Default::default()
        };
        r.uploaded("INBOX", 10);
        let s = r.summary();
        assert!(!s.contains(" of "), "{s}");
        assert!(
            s.contains("\nstopped early: the same command continues\n"),
            "{s}"
        );
        assert!(!s.contains("1+"), "{s}");
        let j = r.to_json();
        assert_eq!(
            (j["stopped_early"].clone(), j["stop_reason"].clone()),
            (true.into(), "interrupted".into())
        );
        assert_eq!(j["mailboxes"][0]["complete"], true);
        // A run to its end: unchanged.
        let mut done = Report::default();
        done.uploaded("INBOX", 10);
        assert!(done.summary().contains("\n1 of 1 messages uploaded in "));
        let j = done.to_json();
        assert_eq!(
            (j["stopped_early"].clone(), j["read_all"].clone()),
            (false.into(), true.into())
        );
        assert_eq!(j["stop_reason"], serde_json::Value::Null);
    }

    #[test]
    fn summary_fits_80_columns() {
        let mut r = Report {
            mode: "MULTIAPPEND with LITERAL+".into(),
            ..Default::default()
        };
        r.uploaded("INBOX", 1000);
        r.uploaded("Archive/2019", 3 << 20);
        let s = r.summary();
        assert!(s.contains("Archive/2019"), "{s}");
        for line in s.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }

    #[test]
    fn control_characters_are_neutralized() {
        assert_eq!(sanitize("a\x1b[2Jb"), "a\u{fffd}[2Jb");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
