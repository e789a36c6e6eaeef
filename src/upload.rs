//! Upload: drives the planned folders through one IMAP session. It reads each
//! folder's messages, keeps back those that must not be sent (unreadable,
//! empty, over APPENDLIMIT), batches the rest ([`crate::plan::BatchBuilder`])
//! and sends them: one MULTIAPPEND per batch (RFC 3502) when the server has
//! it, else one APPEND per message, pipelined when literals allow. A batch the
//! server refuses is split until the refused messages are isolated; every
//! message ends up counted in the [`Report`] exactly once.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::imap::{AppendItem, Capabilities, Code, ImapError, LiteralMode, Session};
use crate::message::Message;
use crate::plan::{BatchLimits, MailboxBatches, PlannedFolder, TargetMap};
use crate::progress::Progress;
use crate::report::{FailureClass, Report};
use crate::source::ReadOptions;

/// How messages go to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadMode {
    /// One APPEND command per batch (RFC 3502).
    MultiAppend(LiteralMode),
    /// One APPEND command per message.
    Serial(LiteralMode),
}

impl UploadMode {
    /// MULTIAPPEND only when advertised: Courier stores the first message of
    /// an unadvertised MULTIAPPEND and then answers NO (DESIGN.md).
    pub fn choose(caps: &Capabilities, allow_multiappend: bool) -> UploadMode {
        let literals = caps.literal_mode();
        if allow_multiappend && caps.has("MULTIAPPEND") {
            UploadMode::MultiAppend(literals)
        } else {
            UploadMode::Serial(literals)
        }
    }
}

impl fmt::Display for UploadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literals = |m: &LiteralMode| match m {
            LiteralMode::Plus => "LITERAL+",
            LiteralMode::Minus => "LITERAL- (non-synchronizing up to 4096 bytes)",
            LiteralMode::Sync => "synchronizing literals",
        };
        match self {
            UploadMode::MultiAppend(m) => write!(f, "MULTIAPPEND with {}", literals(m)),
            UploadMode::Serial(LiteralMode::Sync) => {
                write!(f, "serial APPEND with synchronizing literals")
            }
            UploadMode::Serial(m) => write!(f, "serial APPEND, pipelined with {}", literals(m)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct UploadOptions {
    pub limits: BatchLimits,
    pub allow_multiappend: bool,
    pub read: ReadOptions,
}

/// The connection broke (or the server said BYE): the run cannot go on.
#[derive(Debug)]
struct Fatal(ImapError);

struct Uploader<'a> {
    session: &'a mut Session,
    mode: UploadMode,
    report: &'a mut Report,
    progress: &'a Progress,
    /// Mailboxes known to exist on the server.
    existing: HashSet<String>,
    /// Mailboxes the server refused to create, with the reason.
    create_errors: HashMap<String, String>,
    append_limit: Option<u64>,
    done: u64,
}

/// Uploads every planned folder; the outcome of each message is in the
/// returned report (`aborted` set if the connection was lost).
pub fn upload(
    session: &mut Session,
    folders: &[PlannedFolder],
    map: &TargetMap,
    opts: &UploadOptions,
    progress: &Progress,
) -> Report {
    let started = std::time::Instant::now();
    let mode = UploadMode::choose(session.capabilities(), opts.allow_multiappend);
    let append_limit = session.capabilities().append_limit();
    let mut report = Report {
        mode: mode.to_string(),
        ..Default::default()
    };
    for f in folders {
        report.mailbox(&f.mailbox);
        for note in &f.notes {
            report.warnings.push(note.clone());
        }
    }
    let existing = match session.list("", "*") {
        Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
        Err(e) => {
            report.aborted = Some(format!("LIST failed: {e}"));
            return report;
        }
    };
    let mut up = Uploader {
        session,
        mode,
        report: &mut report,
        progress,
        existing,
        create_errors: HashMap::new(),
        append_limit,
        done: 0,
    };
    for folder in folders {
        if let Err(Fatal(e)) = up.folder(folder, map, opts) {
            up.report.aborted = Some(e.to_string());
            break;
        }
    }
    let stats = up.session.stats();
    report.append_commands = stats.append_commands;
    report.elapsed = started.elapsed();
    progress.finish();
    report
}

impl Uploader<'_> {
    fn folder(
        &mut self,
        folder: &PlannedFolder,
        map: &TargetMap,
        opts: &UploadOptions,
    ) -> Result<(), Fatal> {
        self.progress.set_status(self.done, &folder.mailbox);
        let messages = match folder.source.messages(&opts.read) {
            Ok(m) => m,
            Err(e) => {
                self.report.failed(
                    &folder.mailbox,
                    folder.source.path.display().to_string(),
                    FailureClass::Unreadable,
                    format!("{e:#}"),
                );
                return Ok(());
            }
        };
        let mut batches = MailboxBatches::new(opts.limits);
        for item in messages {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    self.report.failed(
                        &folder.mailbox,
                        e.origin.to_string(),
                        FailureClass::Unreadable,
                        e.reason,
                    );
                    continue;
                }
            };
            for w in &msg.warnings {
                self.report.warnings.push(format!("{}: {w}", msg.origin));
            }
            let targets = map.targets_of(&msg, folder);
            if let Some(reason) = &msg.skip {
                for t in &targets {
                    self.report
                        .skipped(t, msg.origin.to_string(), reason.clone());
                }
                self.progress.advance(msg.bytes.len() as u64);
                continue;
            }
            let mut accepted = Vec::new();
            for mailbox in targets {
                let refusal = self.ensure_mailbox(&mailbox)?;
                match refusal.or_else(|| self.not_sendable(&msg)) {
                    Some((class, reason)) => {
                        self.report
                            .failed(&mailbox, msg.origin.to_string(), class, reason);
                        self.progress.advance(msg.bytes.len() as u64);
                    }
                    None => accepted.push(mailbox),
                }
            }
            // Every target but the last gets a copy; the last takes the message.
            if let Some((last, others)) = accepted.split_last() {
                for mailbox in others {
                    for (mb, batch) in batches.push(mailbox, msg.clone()) {
                        self.send(&mb, &batch)?;
                    }
                }
                for (mb, batch) in batches.push(last, msg) {
                    self.send(&mb, &batch)?;
                }
            }
        }
        for (mb, batch) in batches.finish() {
            self.send(&mb, &batch)?;
        }
        Ok(())
    }

    /// Creates `mailbox` if the server does not have it. A refusal is kept and
    /// returned for every message meant for that mailbox.
    fn ensure_mailbox(&mut self, mailbox: &str) -> Result<Option<(FailureClass, String)>, Fatal> {
        if let Some(e) = self.create_errors.get(mailbox) {
            return Ok(Some((FailureClass::Refused, e.clone())));
        }
        if self.existing.contains(mailbox) {
            return Ok(None);
        }
        match self.create(mailbox) {
            Ok(()) => Ok(None),
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                let reason = format!("cannot create mailbox: {e}");
                self.create_errors
                    .insert(mailbox.to_string(), reason.clone());
                Ok(Some((FailureClass::Refused, reason)))
            }
            Err(e) => Err(Fatal(e)),
        }
    }

    /// Why a message must not be sent, if it must not.
    fn not_sendable(&self, msg: &Message) -> Option<(FailureClass, String)> {
        if msg.bytes.is_empty() {
            // RFC 3502 §6.3.11: a zero-length literal cancels the whole command.
            return Some((
                FailureClass::NotSent,
                "empty message (0 bytes); an IMAP server cannot store it".into(),
            ));
        }
        match self.append_limit {
            Some(limit) if msg.bytes.len() as u64 > limit => Some((
                FailureClass::NotSent,
                format!(
                    "{} bytes is larger than the server's APPENDLIMIT of {limit} bytes",
                    msg.bytes.len()
                ),
            )),
            _ => None,
        }
    }

    fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        self.session.create(mailbox)?;
        self.existing.insert(mailbox.to_string());
        Ok(())
    }

    fn send(&mut self, mailbox: &str, batch: &[Message]) -> Result<(), Fatal> {
        match self.mode {
            UploadMode::MultiAppend(_) => self.send_atomic(mailbox, batch),
            UploadMode::Serial(_) => self.send_serial(mailbox, batch),
        }
    }

    /// One APPEND command for the whole batch (MULTIAPPEND when more than one
    /// message). RFC 3502 §6.3.11: all or nothing, so a refusal is resolved
    /// by splitting the batch in halves until the refused messages stand alone.
    fn send_atomic(&mut self, mailbox: &str, batch: &[Message]) -> Result<(), Fatal> {
        let items: Vec<AppendItem> = batch.iter().map(append_item).collect();
        let mut result = self.session.append(mailbox, &items);
        if is_trycreate(&result) && self.create(mailbox).is_ok() {
            // RFC 3501 §6.3.11: TRYCREATE — create the mailbox and retry once.
            result = self.session.append(mailbox, &items);
        }
        match result {
            Ok(_) => {
                for m in batch {
                    self.landed(mailbox, m);
                }
                Ok(())
            }
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                if batch.len() == 1 {
                    self.refused(mailbox, &batch[0], &e);
                    return Ok(());
                }
                let (a, b) = batch.split_at(batch.len() / 2);
                self.send_atomic(mailbox, a)?;
                self.send_atomic(mailbox, b)
            }
            Err(e) => {
                self.unknown(mailbox, batch, &e);
                Err(Fatal(e))
            }
        }
    }

    /// One APPEND per message, pipelined by the session when literals allow.
    fn send_serial(&mut self, mailbox: &str, batch: &[Message]) -> Result<(), Fatal> {
        let items: Vec<AppendItem> = batch.iter().map(append_item).collect();
        let mut results = self.session.append_pipelined(mailbox, &items);
        if results.iter().any(is_trycreate) && self.create(mailbox).is_ok() {
            let retry: Vec<usize> = (0..results.len())
                .filter(|&i| is_trycreate(&results[i]))
                .collect();
            let again: Vec<AppendItem> = retry.iter().map(|&i| items[i]).collect();
            for (i, r) in retry
                .into_iter()
                .zip(self.session.append_pipelined(mailbox, &again))
            {
                results[i] = r;
            }
        }
        let mut fatal = None;
        for (m, r) in batch.iter().zip(results) {
            match r {
                Ok(_) => self.landed(mailbox, m),
                Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                    self.refused(mailbox, m, &e)
                }
                Err(e) => {
                    self.unknown(mailbox, std::slice::from_ref(m), &e);
                    fatal.get_or_insert(e);
                }
            }
        }
        match fatal {
            Some(e) => Err(Fatal(e)),
            None => Ok(()),
        }
    }

    fn landed(&mut self, mailbox: &str, m: &Message) {
        self.report.uploaded(mailbox, m.bytes.len() as u64);
        self.done += 1;
        self.progress.advance(m.bytes.len() as u64);
        self.progress.set_status(self.done, mailbox);
    }

    fn refused(&mut self, mailbox: &str, m: &Message, e: &ImapError) {
        self.report.failed(
            mailbox,
            m.origin.to_string(),
            FailureClass::Refused,
            e.to_string(),
        );
        self.progress.advance(m.bytes.len() as u64);
    }

    fn unknown(&mut self, mailbox: &str, batch: &[Message], e: &ImapError) {
        for m in batch {
            self.report.failed(
                mailbox,
                m.origin.to_string(),
                FailureClass::Unknown,
                e.to_string(),
            );
        }
    }
}

fn append_item(m: &Message) -> AppendItem<'_> {
    AppendItem {
        flags: &m.flags,
        date: m.date.map(|d| d.at),
        bytes: &m.bytes,
    }
}

fn is_trycreate<T>(r: &Result<T, ImapError>) -> bool {
    matches!(
        r,
        Err(ImapError::No {
            code: Some(Code::TryCreate),
            ..
        })
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_choice() {
        let caps = |s: &str| Capabilities(s.split(' ').map(String::from).collect());
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 MULTIAPPEND LITERAL+"), true),
            UploadMode::MultiAppend(LiteralMode::Plus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 MULTIAPPEND LITERAL+"), false),
            UploadMode::Serial(LiteralMode::Plus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 LITERAL-"), true),
            UploadMode::Serial(LiteralMode::Minus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 UIDPLUS"), true).to_string(),
            "serial APPEND with synchronizing literals"
        );
    }
}
