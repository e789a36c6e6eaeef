//! Scan: reads the sources the way upload would and tells, per target
//! mailbox, what would be sent — count, bytes, date range, flags — and the
//! problems found. Each message's fate comes from [`crate::plan::decide()`],
//! as in the upload: `scan` knows no server ([`ServerFacts::unknown`]) and
//! lists what depends on it; `upload --dry-run` passes the server's facts
//! and so shows the very refusals the upload will make, and asks the
//! upload's presence check ([`crate::upload::look_up`]) which of the
//! messages it would send are already there (journal, server check), so
//! that what it counts as to be sent is what the upload sends.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::message::Message;
use crate::plan::{Plan, ServerFacts, TargetMap, Verdict, decide};
use crate::report::{
    ExitStatus, Failure, FailureClass, ServerCheck, human_bytes, plural, sanitize,
};
use crate::source::ReadOptions;
use crate::upload::{FoundBy, Looked, OpenBatches, Presence, Presences};

/// What one target mailbox would receive.
#[derive(Debug, Default, Serialize)]
pub struct MailboxScan {
    pub name: String,
    pub messages: u64,
    /// Messages the source says not to upload (deleted in source, chats).
    pub skipped: u64,
    /// Messages that cannot be sent to this server (empty, over
    /// APPENDLIMIT, NUL bytes without BINARY); not in `messages`.
    pub refused: u64,
    /// Messages sent or refused depending on the server, which `scan` does
    /// not know (NUL bytes: sent only with BINARY); not in `messages`.
    pub depends_on_server: u64,
    /// Messages the upload would not send: journaled as uploaded (the
    /// journal confirmed by the server). Only against a server.
    pub already_uploaded: u64,
    /// Messages the upload would not send: found on the server by its
    /// check. Only against a server.
    pub already_on_server: u64,
    pub bytes: u64,
    pub oldest: Option<DateTime<FixedOffset>>,
    pub newest: Option<DateTime<FixedOffset>>,
    pub flags: BTreeMap<String, u64>,
    /// Where each internal date came from, by source.
    pub date_sources: BTreeMap<&'static str, u64>,
}

/// A source folder read, with its kind.
#[derive(Debug, Serialize)]
pub struct ScannedSource {
    pub path: String,
    /// `mbox`, `maildir`, `eml`, `takeout-zip`, … ([`crate::source::FolderKind::name`]).
    pub kind: String,
    pub mailbox: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ScanReport {
    pub mailboxes: Vec<MailboxScan>,
    /// The source folders read, with their kinds.
    pub sources: Vec<ScannedSource>,
    /// Source folders left out by `--include`/`--exclude`.
    pub excluded: Vec<String>,
    /// Messages that upload would not send (unreadable, refused), one line each.
    pub errors: Vec<String>,
    /// Each message that cannot be sent, per mailbox, as the upload's
    /// report lists its failures (class `not-sent`).
    pub refusals: Vec<Failure>,
    /// Each message whose fate depends on the server (only without one).
    pub depends_on_server: Vec<ServerDependent>,
    /// Things worth knowing that do not stop a message.
    pub warnings: Vec<String>,
    /// What the upload would do on this server (`upload --dry-run` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against_server: Option<AgainstServer>,
}

/// The dry run's totals against the server: what the upload would send
/// and what it would find already there.
#[derive(Debug, Default, Serialize)]
pub struct AgainstServer {
    pub would_send: u64,
    pub would_send_bytes: u64,
    /// Already there: journaled (confirmed by the server) plus found by the
    /// server check.
    pub already_there: u64,
    pub already_uploaded: u64,
    pub already_on_server: u64,
    /// Batches an interrupted run left open: the upload looks at them first.
    pub open_batches: OpenBatches,
    /// What the dry run's looks at the server cost (those the upload
    /// makes too).
    pub server_check: ServerCheck,
}

impl AgainstServer {
    /// The totals of `mailboxes`, with what the looks found and cost.
    pub fn of(mailboxes: &[MailboxScan], looked: Looked) -> AgainstServer {
        let mut a = AgainstServer {
            open_batches: looked.open,
            server_check: looked.server_check,
            ..Default::default()
        };
        for m in mailboxes {
            a.would_send += m.messages;
            a.would_send_bytes += m.bytes;
            a.already_uploaded += m.already_uploaded;
            a.already_on_server += m.already_on_server;
        }
        a.already_there = a.already_uploaded + a.already_on_server;
        a
    }
}

/// A message sent or refused depending on the server.
#[derive(Debug, Serialize)]
pub struct ServerDependent {
    pub origin: String,
    pub mailbox: String,
    /// What the server must offer for it to be sent.
    pub needs: &'static str,
}

impl ScanReport {
    /// A message the upload would not send to `mailbox`, and why.
    fn not_sent(&mut self, origin: &str, mailbox: String, class: FailureClass, reason: String) {
        self.mailbox(&mailbox).refused += 1;
        self.errors.push(format!(
            "{origin} → {mailbox}: {}: {reason}",
            class.as_str()
        ));
        self.refusals.push(Failure {
            origin: origin.to_string(),
            mailbox,
            class,
            reason,
        });
    }

    fn mailbox(&mut self, name: &str) -> &mut MailboxScan {
        let i = match self.mailboxes.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                self.mailboxes.push(MailboxScan {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.mailboxes.len() - 1
            }
        };
        &mut self.mailboxes[i]
    }
}

/// Reads every planned folder; `server` is what is known of the server
/// ([`ServerFacts::unknown`] for `scan`).
pub fn scan(plan: &Plan, map: &TargetMap, read: &ReadOptions, server: &ServerFacts) -> ScanReport {
    scan_with(plan, map, read, server, &mut |_, _| Presence::Absent)
}

/// [`scan`], each message the decision sends asked of `presence` (the
/// upload's check, for `upload --dry-run`): one already there is counted
/// as such, not as sent; one the check cannot tell is not sent, as in the
/// upload.
pub fn scan_with(
    plan: &Plan,
    map: &TargetMap,
    read: &ReadOptions,
    server: &ServerFacts,
    presence: &mut Presences<'_>,
) -> ScanReport {
    let mut report = ScanReport {
        excluded: plan
            .excluded
            .iter()
            .map(|f| f.path.display().to_string())
            .collect(),
        ..Default::default()
    };
    for f in &plan.folders {
        report.mailbox(&f.mailbox);
        report.sources.push(ScannedSource {
            path: f.source.path.display().to_string(),
            kind: f.source.kind.name(),
            mailbox: f.mailbox.clone(),
        });
        report.warnings.extend(f.notes.iter().cloned());
        let messages = match f.source.messages(read) {
            Ok(m) => m,
            Err(e) => {
                report
                    .errors
                    .push(format!("{}: {e:#}", f.source.location()));
                continue;
            }
        };
        let mut labelled = false;
        for item in messages {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    report.errors.push(e.to_string());
                    continue;
                }
            };
            labelled |= !msg.targets.is_empty();
            for w in &msg.warnings {
                report.warnings.push(format!("{}: {w}", msg.origin));
            }
            let origin = msg.origin.to_string();
            let (mut skipped, mut sent) = (None, false);
            for (mailbox, verdict) in decide(&msg, f, map, server) {
                match verdict {
                    Verdict::Send => match presence(&mailbox, &msg) {
                        Presence::Absent => {
                            report.mailbox(&mailbox).add(&msg);
                            sent = true;
                        }
                        Presence::There(FoundBy::Journal) => {
                            report.mailbox(&mailbox).already_uploaded += 1;
                        }
                        Presence::There(FoundBy::Server) => {
                            report.mailbox(&mailbox).already_on_server += 1;
                        }
                        Presence::Unchecked(reason) => {
                            report.not_sent(&origin, mailbox, FailureClass::NotSent, reason);
                        }
                    },
                    Verdict::Skip(reason) => {
                        report.mailbox(&mailbox).skipped += 1;
                        skipped = Some(reason);
                    }
                    Verdict::CannotSend(r) => {
                        report.not_sent(&origin, mailbox, r.class(), r.reason());
                    }
                    Verdict::DependsOnServer(r) => {
                        report.mailbox(&mailbox).depends_on_server += 1;
                        report.warnings.push(format!(
                            "{origin} → {mailbox}: sent only if the server has {}",
                            r.condition()
                        ));
                        report.depends_on_server.push(ServerDependent {
                            origin: origin.clone(),
                            mailbox,
                            needs: r.condition(),
                        });
                    }
                }
            }
            if let Some(reason) = skipped {
                report
                    .warnings
                    .push(format!("{origin}: not uploaded: {reason}"));
            }
            if sent && msg.date.is_none() {
                report.warnings.push(format!(
                    "{}: no usable date; the server will use the upload time",
                    msg.origin
                ));
            }
        }
        if labelled {
            // A Takeout mbox is no mailbox: its messages went by their labels.
            report
                .mailboxes
                .retain(|m| m.name != f.mailbox || !m.is_untouched());
        }
    }
    report
}

impl MailboxScan {
    /// Nothing of the source counted for it.
    fn is_untouched(&self) -> bool {
        self.messages
            + self.skipped
            + self.refused
            + self.depends_on_server
            + self.already_uploaded
            + self.already_on_server
            == 0
    }

    fn add(&mut self, msg: &Message) {
        self.messages += 1;
        self.bytes += msg.bytes.len() as u64;
        for flag in &msg.flags {
            *self.flags.entry(flag.as_imap().to_string()).or_default() += 1;
        }
        match msg.date {
            Some(d) => {
                *self.date_sources.entry(d.source.as_str()).or_default() += 1;
                self.oldest = Some(self.oldest.map_or(d.at, |o| o.min(d.at)));
                self.newest = Some(self.newest.map_or(d.at, |o| o.max(d.at)));
            }
            None => *self.date_sources.entry("none (server's time)").or_default() += 1,
        }
    }
}

/// Version of the JSON documents' layout; bumped on incompatible changes.
pub const JSON_SCHEMA: u32 = 1;

impl ScanReport {
    /// 0, or 1 when some messages could not be sent (`scan` and
    /// `upload --dry-run`).
    pub fn exit_status(&self) -> ExitStatus {
        if self.errors.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Partial
        }
    }

    /// The scan as JSON (`--json`), with a schema version.
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = serde_json::to_value(self).unwrap_or_default();
        doc["schema"] = JSON_SCHEMA.into();
        doc["kind"] = "scan".into();
        doc
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let (mut n, mut b) = (0, 0);
        for m in &self.mailboxes {
            n += m.messages;
            b += m.bytes;
            let range = match (m.oldest, m.newest) {
                (Some(o), Some(w)) => {
                    // Shown in UTC: in their own zones the ends can look reversed.
                    let day = |d: DateTime<FixedOffset>| d.with_timezone(&Utc).format("%Y-%m-%d");
                    format!("{} .. {} (UTC)", day(o), day(w))
                }
                _ => "no dates".into(),
            };
            let _ = writeln!(
                s,
                "{}: {}, {}, {}{}{}{}{}",
                sanitize(&m.name),
                plural(m.messages, "message", "messages"),
                human_bytes(m.bytes),
                range,
                if m.skipped > 0 {
                    format!(", {} skipped", m.skipped)
                } else {
                    String::new()
                },
                if m.refused > 0 {
                    format!(", {} cannot be sent", m.refused)
                } else {
                    String::new()
                },
                if m.depends_on_server > 0 {
                    format!(", {} depend on the server", m.depends_on_server)
                } else {
                    String::new()
                },
                already_there(m.already_uploaded, m.already_on_server),
            );
            if !m.flags.is_empty() {
                let flags: Vec<String> = m.flags.iter().map(|(f, c)| format!("{f} {c}")).collect();
                let _ = writeln!(s, "  flags: {}", flags.join(", "));
            }
            if !m.date_sources.is_empty() {
                let d: Vec<String> = m
                    .date_sources
                    .iter()
                    .map(|(f, c)| format!("{f} {c}"))
                    .collect();
                let _ = writeln!(s, "  dates from: {}", d.join(", "));
            }
        }
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for src in &self.sources {
            *kinds.entry(&src.kind).or_default() += 1;
        }
        if !kinds.is_empty() {
            let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(s, "sources: {}", kinds.join(", "));
        }
        for e in &self.excluded {
            let _ = writeln!(s, "excluded: {}", sanitize(e));
        }
        let _ = writeln!(
            s,
            "total: {}, {} in {} mailbox{}; {} problem{}, {} warning{}",
            plural(n, "message", "messages"),
            human_bytes(b),
            self.mailboxes.len(),
            if self.mailboxes.len() == 1 { "" } else { "es" },
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" },
            self.warnings.len(),
            if self.warnings.len() == 1 { "" } else { "s" },
        );
        if let Some(a) = &self.against_server {
            let _ = writeln!(
                s,
                "upload would send {} message{} ({}){}",
                a.would_send,
                if a.would_send == 1 { "" } else { "s" },
                human_bytes(a.would_send_bytes),
                already_there(a.already_uploaded, a.already_on_server)
            );
            let open = &a.open_batches;
            if open.batches > 0 {
                let _ = writeln!(
                    s,
                    "the journal holds {} open batch{} ({} message{}, in {}) of an interrupted run: the upload looks for them on the server first",
                    open.batches,
                    if open.batches == 1 { "" } else { "es" },
                    open.messages,
                    if open.messages == 1 { "" } else { "s" },
                    sanitize(&open.mailboxes.join(", ")),
                );
            }
        }
        s
    }
}

/// ", N already there (journal | server | J journal, S server)", or
/// nothing when none is.
fn already_there(journal: u64, server: u64) -> String {
    match (journal, server) {
        (0, 0) => String::new(),
        (n, 0) => format!(", {n} already there (journal)"),
        (0, n) => format!(", {n} already there (server)"),
        (j, n) => format!(", {} already there ({j} journal, {n} server)", j + n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ServerLayout, TargetOptions};
    use crate::source::{FolderKind, SourceFolder};

    /// `letters`: an empty message, one with a NUL byte, one ordinary.
    fn scan_letters(server: &ServerFacts) -> ScanReport {
        scan_letters_with(server, &mut |_, _| Presence::Absent)
    }

    fn scan_letters_with(server: &ServerFacts, presence: &mut Presences<'_>) -> ScanReport {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letters");
        std::fs::write(
            &path,
            "From a@b Mon Jan  6 09:15:00 2020\n\n\
             From a@b Mon Jan  6 09:16:00 2020\nSubject: nul\n\nzero \0 byte\n\n\
             From a@b Mon Jan  6 09:17:00 2020\nSubject: ok\n\nfine\n",
        )
        .unwrap();
        let map = TargetMap::new(&TargetOptions::default(), ServerLayout::offline()).unwrap();
        let plan = map.plan(&[SourceFolder {
            path,
            kind: FolderKind::Mbox,
            folder: vec!["letters".into()],
        }]);
        scan_with(&plan, &map, &ReadOptions::default(), server, presence)
    }

    #[test]
    fn without_a_server_nul_bytes_depend_on_it() {
        let r = scan_letters(&ServerFacts::unknown());
        let m = &r.mailboxes[0];
        assert_eq!((m.messages, m.refused, m.depends_on_server), (1, 1, 1));
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].reason.contains("empty"), "{:?}", r.refusals);
        assert_eq!(r.depends_on_server[0].mailbox, "letters");
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert_eq!(r.sources[0].kind, "mbox");
        assert!(r.render().contains("sources: mbox 1\n"), "{}", r.render());
        let doc = r.to_json();
        assert_eq!(doc["schema"], JSON_SCHEMA);
        assert_eq!(doc["refusals"][0]["class"], "not-sent");
        assert_eq!(
            doc["depends_on_server"][0]["needs"],
            r.depends_on_server[0].needs
        );
        assert!(
            r.render()
                .contains(", 1 cannot be sent, 1 depend on the server")
        );
    }

    #[test]
    fn with_a_server_its_facts_decide() {
        let no_binary = ServerFacts {
            append_limit: None,
            binary: Some(false),
            size_cap: None,
        };
        let r = scan_letters(&no_binary);
        let m = &r.mailboxes[0];
        assert_eq!((m.messages, m.refused, m.depends_on_server), (1, 2, 0));
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        let binary = ServerFacts {
            append_limit: Some(10),
            binary: Some(true),
            size_cap: None,
        };
        let r = scan_letters(&binary);
        // Both non-empty messages are over 10 bytes.
        assert_eq!((r.mailboxes[0].messages, r.mailboxes[0].refused), (0, 3));
        assert!(
            r.refusals
                .iter()
                .any(|f| f.reason.contains("APPENDLIMIT of 10")),
            "{:?}",
            r.refusals
        );
    }

    /// Against a server, each message the decision sends is asked of the
    /// presence check: one already there is counted as such, not as sent;
    /// one the check cannot tell is not sent, as the upload reports it.
    #[test]
    fn the_presence_check_decides_what_is_sent() {
        let binary = ServerFacts {
            append_limit: None,
            binary: Some(true),
            size_cap: None,
        };
        let mut asked = Vec::new();
        let mut presence = |mailbox: &str, msg: &Message| {
            asked.push(mailbox.to_string());
            if msg.bytes.windows(4).any(|w| w == b"zero") {
                Presence::There(FoundBy::Server)
            } else {
                Presence::Unchecked("could not check".into())
            }
        };
        let mut r = scan_letters_with(&binary, &mut presence);
        assert_eq!(asked, ["letters", "letters"], "the empty one is not asked");
        let m = &r.mailboxes[0];
        assert_eq!((m.messages, m.already_on_server, m.refused), (0, 1, 2));
        assert!(
            r.refusals
                .iter()
                .any(|f| f.reason == "could not check" && f.class == FailureClass::NotSent),
            "{:?}",
            r.refusals
        );
        r.against_server = Some(AgainstServer::of(&r.mailboxes, Looked::default()));
        let text = r.render();
        assert!(
            text.contains(", 2 cannot be sent, 1 already there (server)\n"),
            "{text}"
        );
        assert!(
            text.contains("upload would send 0 messages (0 B), 1 already there (server)\n"),
            "{text}"
        );
        assert_eq!(r.to_json()["against_server"]["already_there"], 1);
        assert_eq!(
            already_there(2, 3),
            ", 5 already there (2 journal, 3 server)"
        );
    }
}
