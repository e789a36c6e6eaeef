//! Upload: drives the planned folders through an IMAP session. It reads each
//! folder's messages, keeps back those that must not be sent (unreadable,
//! empty, over APPENDLIMIT, NUL bytes without BINARY) and those already on
//! the server (journaled, or found by `--skip-existing`), batches the rest
//! ([`crate::plan::MailboxBatches`]) and sends them (`send.rs`). Every
//! message ends up counted in the [`Report`] exactly once.
//!
//! Parts: `window.rs` journals and writes batches, several in flight, and
//! resolves those of unknown fate; `send.rs` reads answers and keeps the
//! connection; `resolve.rs` looks at the server (what landed,
//! what is there); `failed_out.rs` keeps the messages that did not land.
//! The journal is [`crate::journal`]; `imap` knows nothing of it.

mod failed_out;
mod mode;
pub mod resolve;
mod send;
mod window;

pub use mode::UploadMode;
pub use window::WindowLimits;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::fingerprint::Fingerprint;
use crate::imap::{AppendItem, Code, ImapError, Session};
use crate::journal::{Journal, JournalError};
use crate::message::Message;
use crate::plan::{BatchLimits, MailboxBatches, PlannedFolder, TargetMap};
use crate::progress::Progress;
use crate::report::{FailureClass, Report};
use crate::source::ReadOptions;

use failed_out::FailedOut;
use resolve::{ServerIndex, ServerKey};

#[derive(Clone, Debug)]
pub struct UploadOptions {
    pub limits: BatchLimits,
    pub allow_multiappend: bool,
    pub read: ReadOptions,
    /// `--skip-existing`: read each non-empty target mailbox first and skip
    /// messages already there (Message-ID + size, else size + date).
    pub skip_existing: bool,
    /// `--retries`: reconnections tried after a lost connection.
    pub retries: u32,
    /// `--failed-out DIR`.
    pub failed_out: Option<PathBuf>,
    /// Set by SIGINT/SIGTERM: stop before the next command.
    pub stop: Arc<AtomicBool>,
}

/// Opens a new authenticated session (for reconnecting).
pub type Connect<'a> = &'a dyn Fn() -> Result<Session, ImapError>;

/// Why the run stops early.
#[derive(Debug)]
enum Stop {
    /// The connection is lost and could not be restored.
    Connection(String),
    /// SIGINT/SIGTERM.
    Interrupted,
    /// `NO [OVERQUOTA]`: sending more would only be refused.
    OverQuota(String),
    Journal(JournalError),
}

struct Uploader<'a> {
    session: Session,
    connect: Connect<'a>,
    opts: &'a UploadOptions,
    mode: UploadMode,
    report: Report,
    progress: &'a Progress,
    journal: Option<&'a mut Journal>,
    failed_out: Option<FailedOut>,
    /// Mailboxes known to exist on the server.
    existing: HashSet<String>,
    /// Mailboxes the server refused to create, with the reason.
    create_errors: HashMap<String, String>,
    /// Mailboxes whose journal entries and server contents were checked.
    checked: HashSet<String>,
    /// Server contents of mailboxes checked by key (`--skip-existing`, or
    /// after a UIDVALIDITY change made the journal untrusted).
    on_server: HashMap<String, ServerIndex>,
    /// How often each (mailbox, fingerprint) was met in this run, so that
    /// identical copies in the source are each uploaded once.
    seen: HashMap<(String, Fingerprint), usize>,
    append_limit: Option<u64>,
    done: u64,
    /// Batches written, answers pending.
    window: window::Window,
}

/// Uploads every planned folder; the outcome of each message is in the
/// returned report. The session is logged out at the end.
pub fn upload(
    session: Session,
    connect: Connect<'_>,
    journal: Option<&mut Journal>,
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
    let failed_out = match &opts.failed_out {
        None => None,
        Some(dir) => match FailedOut::open(dir) {
            Ok(f) => Some(f),
            Err(e) => {
                report.aborted = Some(format!("--failed-out {}: {e}", dir.display()));
                return report;
            }
        },
    };
    let mut up = Uploader {
        session,
        connect,
        opts,
        mode,
        report,
        progress,
        journal,
        failed_out,
        existing: HashSet::new(),
        create_errors: HashMap::new(),
        checked: HashSet::new(),
        on_server: HashMap::new(),
        seen: HashMap::new(),
        append_limit,
        done: 0,
        window: window::Window::default(),
    };
    let result = up.run(folders, map);
    if result.is_err() {
        up.abandon();
    }
    if let Some(j) = up.journal.as_deref_mut()
        && let Err(e) = j.sync()
    {
        up.report.warnings.push(e.to_string());
    }
    match result {
        Ok(()) => {}
        Err(Stop::Connection(why)) => {
            up.report.connection_lost = true;
            up.report.aborted = Some(format!(
                "{why}; run the same command again to finish (nothing will be doubled)"
            ));
        }
        Err(Stop::Interrupted) => {
            up.report.interrupted = true;
            up.report.aborted = Some(
                "interrupted; what landed is journaled: run the same command again to finish"
                    .into(),
            );
        }
        Err(Stop::OverQuota(why)) => {
            up.report.aborted = Some(format!(
                "the server says the account is over quota ({why}); stopped instead of sending more. Free space or raise the quota, then run the same command again"
            ));
        }
        Err(Stop::Journal(e)) => {
            up.report.aborted = Some(format!("cannot write the journal: {e}"));
        }
    }
    let mut report = up.report;
    let stats = up.session.stats();
    report.append_commands = stats.append_commands;
    report.elapsed = started.elapsed();
    up.session.logout();
    progress.finish();
    report
}

impl Uploader<'_> {
    fn run(&mut self, folders: &[PlannedFolder], map: &TargetMap) -> Result<(), Stop> {
        let entries = self.retrying(|s| s.list("", "*"))?;
        self.existing = match entries {
            Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
            Err(e) => return Err(Stop::Connection(format!("LIST failed: {e}"))),
        };
        self.resolve_pending()?;
        for folder in folders {
            self.folder(folder, map)?;
        }
        self.drain()
    }

    fn check_stop(&self) -> Result<(), Stop> {
        if self.opts.stop.load(Ordering::SeqCst) {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    }

    fn folder(&mut self, folder: &PlannedFolder, map: &TargetMap) -> Result<(), Stop> {
        self.check_stop()?;
        self.progress.set_status(self.done, &folder.mailbox);
        let messages = match folder.source.messages(&self.opts.read) {
            Ok(m) => m,
            Err(e) => {
                let origin = folder.source.path.display().to_string();
                self.fail(
                    &folder.mailbox,
                    origin,
                    None,
                    FailureClass::Unreadable,
                    format!("{e:#}"),
                );
                return Ok(());
            }
        };
        let mut batches = MailboxBatches::new(self.opts.limits);
        for item in messages {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    let origin = e.origin.to_string();
                    self.fail(
                        &folder.mailbox,
                        origin,
                        None,
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
            let fp = Fingerprint::of(&msg.bytes);
            let mut accepted = Vec::new();
            for mailbox in targets {
                let refusal = self.ensure_mailbox(&mailbox)?;
                if let Some((class, reason)) = refusal.or_else(|| self.not_sendable(&msg)) {
                    let origin = msg.origin.to_string();
                    self.fail(&mailbox, origin, Some(&msg.bytes), class, reason);
                    self.progress.advance(msg.bytes.len() as u64);
                    continue;
                }
                if let Some(why) = self.already_there(&mailbox, &msg, &fp) {
                    self.report
                        .already_present(&mailbox, msg.origin.to_string(), why.into());
                    self.progress.advance(msg.bytes.len() as u64);
                    continue;
                }
                accepted.push(mailbox);
            }
            // Every target but the last gets a copy; the last takes the message.
            if let Some((last, others)) = accepted.split_last() {
                for mailbox in others {
                    for (mb, batch) in batches.push(mailbox, msg.clone()) {
                        self.submit(&mb, batch, 1)?;
                    }
                }
                for (mb, batch) in batches.push(last, msg) {
                    self.submit(&mb, batch, 1)?;
                }
            }
        }
        for (mb, batch) in batches.finish() {
            self.submit(&mb, batch, 1)?;
        }
        Ok(())
    }

    /// Why `msg` need not go to `mailbox`, if it is already there.
    fn already_there(
        &mut self,
        mailbox: &str,
        msg: &Message,
        fp: &Fingerprint,
    ) -> Option<&'static str> {
        let seen = self.seen.entry((mailbox.to_string(), *fp)).or_default();
        let occurrence = *seen;
        *seen += 1;
        if let Some(j) = self.journal.as_deref()
            && j.entries(mailbox, fp).len() > occurrence
        {
            return Some("already uploaded (journal)");
        }
        let ix = self.on_server.get_mut(mailbox)?;
        ix.take(&ServerKey::of_message(msg))
            .then_some("already on the server (same Message-ID and size)")
    }

    /// Creates `mailbox` if the server does not have it, else checks it once
    /// (journal UIDVALIDITY, `--skip-existing`). A refusal to create is kept
    /// and returned for every message meant for that mailbox.
    fn ensure_mailbox(&mut self, mailbox: &str) -> Result<Option<(FailureClass, String)>, Stop> {
        if let Some(e) = self.create_errors.get(mailbox) {
            return Ok(Some((FailureClass::Refused, e.clone())));
        }
        if self.existing.contains(mailbox) {
            if !self.checked.contains(mailbox) {
                self.checked.insert(mailbox.to_string());
                self.check_mailbox(mailbox)?;
            }
            return Ok(None);
        }
        match self.retrying(|s| s.create(mailbox))? {
            Ok(()) => {
                self.existing.insert(mailbox.to_string());
                self.checked.insert(mailbox.to_string());
                if let Some(j) = self.journal.as_deref_mut()
                    && j.has_entries(mailbox)
                {
                    // Deleted since an earlier run: what it held is gone.
                    j.distrust(mailbox);
                    self.report.warnings.push(format!(
                        "{mailbox}: the journal has entries for it but the server had no such mailbox (deleted?); uploading everything into it again"
                    ));
                }
                Ok(None)
            }
            Err(e) => {
                let reason = format!("cannot create mailbox: {e}");
                self.create_errors
                    .insert(mailbox.to_string(), reason.clone());
                Ok(Some((FailureClass::Refused, reason)))
            }
        }
    }

    /// An existing mailbox, met for the first time: are its journal entries
    /// still valid (same UIDVALIDITY), and what is in it (`--skip-existing`)?
    fn check_mailbox(&mut self, mailbox: &str) -> Result<(), Stop> {
        let mut need_index = self.opts.skip_existing;
        if self.journal.is_some() {
            let status = match self.retrying(|s| s.status(mailbox))? {
                Ok(s) => s,
                Err(_) => return Ok(()),
            };
            let stale = match (status.uid_validity, self.journal.as_deref()) {
                (Some(now), Some(j)) => j.stale_uidvalidity(mailbox, now).map(|was| (was, now)),
                _ => None,
            };
            if let Some((was, now)) = stale {
                self.report.warnings.push(format!(
                    "{mailbox}: UIDVALIDITY changed ({was} → {now}), the mailbox was recreated; its journal entries are not trusted, checking the server's messages instead"
                ));
                if let Some(j) = self.journal.as_deref_mut() {
                    j.distrust(mailbox);
                }
                need_index = true;
            }
        }
        if need_index {
            match self.retrying(|s| ServerIndex::read(s, mailbox))? {
                Ok(ix) => {
                    self.on_server.insert(mailbox.to_string(), ix);
                }
                Err(e) => self.report.warnings.push(format!(
                    "{mailbox}: cannot read what is on the server ({e}); uploading without the check"
                )),
            }
        }
        Ok(())
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
        if let Some(limit) = self.append_limit
            && msg.bytes.len() as u64 > limit
        {
            // RFC 7889: a larger message would be refused; don't send it.
            return Some((
                FailureClass::NotSent,
                format!(
                    "{} bytes is larger than the server's APPENDLIMIT of {limit} bytes",
                    msg.bytes.len()
                ),
            ));
        }
        if msg.bytes.contains(&0) && !self.session.capabilities().has("BINARY") {
            // RFC 3501 §4.3: a literal must not carry NUL; RFC 3516 literal8 can.
            return Some((
                FailureClass::NotSent,
                "the message contains NUL bytes and the server has no BINARY extension (RFC 3516)"
                    .into(),
            ));
        }
        None
    }

    /// Records a failure (and writes the message to `--failed-out`).
    fn fail(
        &mut self,
        mailbox: &str,
        origin: String,
        bytes: Option<&[u8]>,
        class: FailureClass,
        reason: String,
    ) {
        if let Some(out) = &mut self.failed_out
            && let Err(e) = out.write(mailbox, &origin, class.as_str(), &reason, bytes)
        {
            self.report
                .warnings
                .push(format!("--failed-out: cannot write {origin}: {e}"));
        }
        self.report.failed(mailbox, origin, class, reason);
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
