//! Upload: drives the planned folders through an IMAP session. It reads each
//! folder's messages, keeps back those that must not be sent (unreadable, or
//! as [`crate::plan::decide()`] says: skipped by the source, empty, over
//! APPENDLIMIT, NUL bytes without BINARY) and those already on
//! the server (journaled, or found by the server check), batches the rest
//! ([`crate::plan::MailboxBatches`]) and sends them (`send.rs`). Every
//! message ends up counted in the [`Report`] exactly once.
//!
//! Parts: `run.rs` starts one uploader per connection (`--jobs`) on the
//! shares `jobs.rs` deals out, and merges their reports; `folder.rs`
//! reads, decides and batches one share's messages; `handover.rs`
//! passes the work of a connection the server will not (re)admit to the
//! others; `lifecycle.rs`
//! is the one life of every unit of work (planned → begun → sent →
//! answered | lost → looked → settled) and its one settle step, which
//! writes journal, report and progress through `books.rs`; `window.rs`
//! journals and writes batches, several in flight; `copies.rs` copies a
//! message that belongs in several mailboxes instead of sending it again;
//! `recovery.rs` resolves units whose answers were lost (and those an
//! earlier run left open) by looking; `throttle.rs` keeps `--max-rate`;
//! `slowdown.rs` tells a provider's throttle, daily quota and session cap
//! from other answers, and `pace.rs` waits them out (an adaptive rate
//! shared by the connections, pauses); `budget.rs` keeps
//! `--max-bytes-per-day` over a rolling 24 hours, from the journal;
//! `send.rs` reads answers and retries idempotent commands; `link.rs` keeps
//! the connection and reopens it; `resolve.rs` looks at the server (what
//! landed, what is there), `server_index.rs` keeps what a mailbox holds
//! beyond the journal, `source_keys.rs` the source's Message-IDs per
//! mailbox (a key pre-pass, so that unique keys need no body read); `server_check.rs` checks the journal against
//! each target mailbox and reads what it holds beyond the journal;
//! `server.rs` is the server as a trait ([`MailServer`]: a
//! [`crate::imap::Session`], or a scripted one in unit tests);
//! `failed_out.rs` keeps the messages that did not land; `read_through.rs`
//! which shares were read to their end, so that a run stopped early says
//! which mailboxes its counts do not cover.
//! `dry_run.rs` asks the same presence check for `upload --dry-run`,
//! sending nothing.
//! The journal is [`crate::journal`]; `imap` knows nothing of it.

mod books;
mod budget;
mod copies;
#[cfg(test)]
mod copies_tests;
mod dry_run;
mod failed_out;
mod feed;
mod folder;
mod handover;
#[cfg(test)]
mod handover_tests;
mod jobs;
mod lifecycle;
#[cfg(test)]
mod lifecycle_tests;
mod link;
mod mode;
mod pace;
#[cfg(test)]
mod pace_tests;
mod read_through;
mod recovery;
pub mod resolve;
mod rewritten;
#[cfg(test)]
mod rewritten_tests;
mod run;
#[cfg(test)]
mod scripted;
#[cfg(test)]
mod scripted_world;
mod send;
pub mod server;
mod server_check;
#[cfg(test)]
mod server_check_tests;
mod server_index;
mod slowdown;
mod source_keys;
mod strict;
mod throttle;
#[cfg(test)]
mod throttle_tests;
mod window;

pub use budget::{BudgetFigures, spent_before_start};
pub use dry_run::{Looked, OpenBatches, Presences, look_up};
pub use jobs::source_bytes;
pub use link::{FirstRefusal, first_session};
pub use mode::UploadMode;
pub use run::{quota_refusal, refused_by_quota, upload, upload_to};
pub use server::MailServer;
pub use server_check::{FoundBy, Presence};
pub(crate) use server_check::{spot_fault, spots};
pub use throttle::Throttle;
pub use window::WindowLimits;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::imap::{AppendItem, Code, ImapError};
use crate::journal::{Journal, JournalError};
use crate::message::Message;
use crate::plan::{BatchLimits, ServerFacts};
use crate::progress::Lane;
use crate::provider::SizeCap;
use crate::report::{FailureClass, Report};
use crate::source::ReadOptions;

use failed_out::FailedOut;
use server_check::Checked;

#[derive(Clone, Debug)]
pub struct UploadOptions {
    pub limits: BatchLimits,
    pub allow_multiappend: bool,
    pub read: ReadOptions,
    /// `--allow-duplicates`: don't read what a target mailbox holds beyond
    /// the journal (the journal is still checked against the server).
    /// Without it, messages already there are skipped (Message-ID + size
    /// name the candidates; the body hash confirms where the Message-ID is
    /// missing or repeated in the source or the mailbox).
    pub allow_duplicates: bool,
    /// `--retries`: reconnections tried after a lost connection.
    pub retries: u32,
    /// `--failed-out DIR`.
    pub failed_out: Option<PathBuf>,
    /// Set by SIGINT/SIGTERM: stop before the next command.
    pub stop: Arc<AtomicBool>,
    /// `--max-rate`, `--max-bytes-rate`: shared by all connections.
    pub throttle: Option<Arc<Throttle>>,
    /// `--jobs`: connections in parallel.
    pub jobs: usize,
    /// `--unordered`: a large mailbox may be split across connections.
    pub unordered: bool,
    /// `--max-bytes-per-day`, else the provider's daily budget: bytes per
    /// rolling 24 hours (`budget.rs`).
    pub max_bytes_per_day: Option<u64>,
    /// The provider's simultaneous sessions per account (`--jobs` is
    /// already capped to it).
    pub session_cap: Option<usize>,
    /// The provider's message size cap, for servers without APPENDLIMIT.
    pub size_cap: Option<SizeCap>,
    /// `--max-throttle-wait`: the longest the run waits out throttles in
    /// all before what is still throttled is reported as not sent.
    pub max_throttle_wait: Duration,
    /// The adaptive rate's start (messages per second) when the provider's
    /// pace is known (a provider profile); `None`: as fast as allowed
    /// until the first throttle.
    pub start_rate: Option<f64>,
}

/// `--max-throttle-wait`'s default: an hour of waiting in all.
pub const DEFAULT_MAX_THROTTLE_WAIT: Duration = Duration::from_secs(3600);

/// Opens a new authenticated session (for another connection, or reconnecting).
pub type Connect<'a> = &'a (dyn Fn() -> Result<Box<dyn MailServer>, ImapError> + Sync);

/// What the connections of one run share.
struct Shared {
    journal: Option<Mutex<Journal>>,
    failed_out: Option<Mutex<FailedOut>>,
    /// How often each (mailbox, fingerprint) was met in this run, so that
    /// identical copies in the source are each uploaded once.
    seen: Mutex<HashMap<(String, Fingerprint), usize>>,
    /// Target mailboxes checked in this run, with what each holds that the
    /// journal does not account for (`server_check.rs`).
    on_server: Mutex<HashMap<String, Checked>>,
    /// Held while a connection checks a mailbox, so that another one
    /// meeting it too sees the outcome (journal distrusted, index read).
    checking: Mutex<()>,
    /// The source's Message-IDs per target mailbox, read by the server
    /// check's key pre-pass when a mailbox needs them (`source_keys.rs`).
    source_keys: Mutex<source_keys::SourceKeys>,
    /// Set once a server check waited for a mailbox to settle (before the
    /// first read of a mailbox the journal cannot account for): a run
    /// killed a moment ago may still have batches being stored.
    waited: AtomicBool,
    /// (mailbox, fingerprint) of messages in batches an earlier run left
    /// open whose fate could not be checked: not sent in this run.
    unsettled: Mutex<HashMap<(String, Fingerprint), usize>>,
    /// The account's adaptive rate, throttle pauses and quota stop.
    pace: pace::Pace,
    /// The account's daily byte budget.
    budget: budget::Budget,
    /// The shares read to their end (`read_through.rs`).
    read_through: read_through::ReadThrough,
}

/// Locks a mutex whose holder may have panicked (the data stays usable:
/// the journal's records are appended whole or not at all).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why the run stops early.
#[derive(Debug)]
enum Stop {
    /// The connection is lost and could not be restored.
    Connection(String),
    /// SIGINT/SIGTERM.
    Interrupted,
    /// `NO [OVERQUOTA]`: sending more would only be refused.
    OverQuota(String),
    /// The server's session cap refused this connection back while others
    /// carry on: its work was handed to them (`handover.rs`); not a failure.
    Fewer(String),
    /// The provider's daily quota (or `--max-bytes-per-day`): stop
    /// cleanly; tomorrow's run continues.
    Quota(String),
    Journal(JournalError),
}

struct Uploader<'a> {
    /// The session, and how to replace it when it breaks.
    session: link::Link<'a>,
    opts: &'a UploadOptions,
    mode: UploadMode,
    report: Report,
    progress: Lane<'a>,
    shared: &'a Shared,
    /// Connections uploading at once (they share the window's byte bound).
    connections: usize,
    /// Mailboxes known to exist on the server.
    existing: HashSet<String>,
    /// Mailboxes the server refused to create, with the reason.
    create_errors: HashMap<String, String>,
    /// Mailboxes whose journal entries and server contents were checked.
    checked: HashSet<String>,
    done: u64,
    /// Batches written, answers pending.
    window: window::Window,
    /// Copies owed by messages for several mailboxes.
    copies: copies::Copies,
    /// Which keywords each mailbox keeps (`strict.rs`).
    keywords: strict::Keywords,
    /// The run's lanes, to hand work over to (`handover.rs`).
    orphans: Option<&'a handover::Orphans<'a>>,
    /// What this lane leaves when the server will not readmit it.
    left: handover::Left,
    /// False while a message's targets are decided: a refused
    /// reconnection then does not end the lane.
    may_leave: bool,
    /// This lane owes (or made) UID COPYs: it never hands work over.
    copying: bool,
}

impl<'a> Uploader<'a> {
    fn new(
        session: Box<dyn MailServer>,
        connect: Connect<'a>,
        opts: &'a UploadOptions,
        shared: &'a Shared,
        progress: Lane<'a>,
        connections: usize,
    ) -> Uploader<'a> {
        let mode = UploadMode::choose(session.capabilities(), opts.allow_multiappend);
        Uploader {
            session: link::Link::new(session, connect),
            opts,
            mode,
            report: Report::default(),
            progress,
            shared,
            connections,
            existing: HashSet::new(),
            create_errors: HashMap::new(),
            checked: HashSet::new(),
            done: 0,
            window: window::Window::default(),
            copies: copies::Copies::default(),
            keywords: strict::Keywords::default(),
            orphans: None,
            left: handover::Left::default(),
            may_leave: true,
            copying: false,
        }
    }

    /// The journal, locked (`None` with `--no-journal`). Not to be held
    /// across a call that locks it again.
    fn journal(&self) -> Option<MutexGuard<'a, Journal>> {
        let shared: &'a Shared = self.shared;
        shared.journal.as_ref().map(lock)
    }

    /// Before anything is sent, on the first connection: which mailboxes
    /// exist, and the batches an earlier run left open, resolved.
    fn prepare(&mut self) -> Result<(), Stop> {
        self.list_mailboxes()?;
        self.resolve_earlier()
    }

    fn list_mailboxes(&mut self) -> Result<(), Stop> {
        let entries = self.retrying(|s| s.list("", "*"))?;
        self.existing = match entries {
            Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
            Err(e) => return Err(Stop::Connection(format!("LIST failed: {e}"))),
        };
        Ok(())
    }

    fn check_stop(&self) -> Result<(), Stop> {
        if self.opts.stop.load(Ordering::SeqCst) {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    }

    /// What [`crate::plan::decide()`] needs to know of this server.
    fn facts(&self) -> ServerFacts {
        ServerFacts::of(self.session.capabilities()).with_size_cap(self.opts.size_cap)
    }

    /// Creates `mailbox` if the server does not have it, else checks it once
    /// (`check_mailbox`). A refusal to create is kept and returned for every
    /// message meant for that mailbox.
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
        match self.retrying(|s| strict::create(s, mailbox))? {
            Ok(()) => {
                self.existing.insert(mailbox.to_string());
                self.checked_new(mailbox);
                Ok(None)
            }
            Err(_) if self.retrying(|s| s.status(mailbox))?.is_ok() => {
                // Created meanwhile (another connection, or the server's
                // own autocreation after our LIST).
                self.existing.insert(mailbox.to_string());
                self.checked.insert(mailbox.to_string());
                self.check_mailbox(mailbox)?;
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

    /// A mailbox just created (or, in a dry run, one that would be):
    /// empty, so nothing to read; journal entries for it were made in a
    /// mailbox deleted since (or on another server) and are distrusted.
    fn checked_new(&mut self, mailbox: &str) {
        self.checked.insert(mailbox.to_string());
        lock(&self.shared.on_server).insert(mailbox.to_string(), Checked::default());
        if let Some(mut j) = self.journal()
            && j.has_entries(mailbox)
        {
            j.distrust(mailbox);
            self.report.server_check.journal_distrusted += 1;
            self.report.warnings.push(format!(
                "{mailbox}: the journal has entries for it but the server had no such mailbox (deleted, or another server); uploading everything into it again"
            ));
        }
    }

    /// An existing mailbox, met for the first time in this run (by any
    /// connection): its journal entries checked against the server, and
    /// what it holds beyond them read (`server_check.rs`).
    fn check_mailbox(&mut self, mailbox: &str) -> Result<(), Stop> {
        // Half a check is no state to hand over: a refusal to reconnect
        // meanwhile does not end the lane (`handover.rs`).
        self.without_leaving(|up| up.check_mailbox_once(mailbox))
    }

    fn check_mailbox_once(&mut self, mailbox: &str) -> Result<(), Stop> {
        let shared = self.shared;
        let _checking = lock(&shared.checking);
        if lock(&shared.on_server).contains_key(mailbox) {
            return Ok(());
        }
        let checked = self.server_check(mailbox)?;
        lock(&shared.on_server).insert(mailbox.to_string(), checked);
        Ok(())
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
        let failed_out = self.shared.failed_out.as_ref();
        books::write_failure(
            failed_out,
            &mut self.report,
            mailbox,
            origin,
            bytes,
            class,
            reason,
        );
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
    match r {
        Err(ImapError::No {
            code: Some(Code::TryCreate),
            ..
        }) => true,
        Err(e) => strict::asks_to_create(e),
        Ok(_) => false,
    }
}
