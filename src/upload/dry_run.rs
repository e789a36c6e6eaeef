//! `upload --dry-run` against the server: for each message the decision
//! sends, whether the upload would find it already there, asked of the
//! upload's own presence check (`server_check.rs`: the journal, confirmed
//! by the server, then what the server holds beyond it, the key pre-pass
//! and body hashes included). Read only: the journal is read without its
//! lock ([`crate::journal::Journal::read_only`]), no mailbox is created
//! (one the server lacks would receive everything), batches an interrupted
//! run left open are counted and named, not resolved, and nothing is sent.

use serde::Serialize;

use crate::imap::{ImapError, Session};
use crate::journal::Journal;
use crate::message::Message;
use crate::plan::{PlannedFolder, TargetMap};
use crate::progress::{Progress, ProgressMode};
use crate::report::ServerCheck;

use super::run::boxed;
use super::server_check::{Presence, UNCHECKED};
use super::{Shared, Stop, UploadOptions, Uploader};

/// Batches an interrupted run left open in the journal: the upload looks
/// for their messages on the server before it sends anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpenBatches {
    pub batches: u64,
    pub messages: u64,
    pub mailboxes: Vec<String>,
}

impl OpenBatches {
    fn of(journal: &Journal) -> OpenBatches {
        let mut open = OpenBatches::default();
        for p in journal.pending() {
            open.batches += 1;
            open.messages += p.fps.len() as u64;
            if !open.mailboxes.contains(&p.mailbox) {
                open.mailboxes.push(p.mailbox);
            }
        }
        open
    }
}

/// What the looks found beside each message's presence.
#[derive(Debug, Default)]
pub struct Looked {
    pub open: OpenBatches,
    /// The server check's warnings (a journal distrusted, a mailbox that
    /// could not be read).
    pub warnings: Vec<String>,
    /// What the looks cost, as the upload's report gives it.
    pub server_check: ServerCheck,
}

/// Whether the upload would find a message already in a mailbox.
pub type Presences<'p> = dyn FnMut(&str, &Message) -> Presence + 'p;

/// Runs `body` with the presence check of an upload over `folders`
/// through `session` (reconnecting with `connect`), `journal` read only;
/// the session is logged out at the end.
pub fn look_up<T>(
    session: Session,
    connect: &(dyn Fn() -> Result<Session, ImapError> + Sync),
    journal: Option<Journal>,
    folders: &[PlannedFolder],
    map: &TargetMap,
    opts: &UploadOptions,
    body: impl FnOnce(&mut Presences<'_>) -> T,
) -> (T, Looked) {
    let boxed = boxed(connect);
    let open = journal.as_ref().map(OpenBatches::of).unwrap_or_default();
    let shared = Shared::new(journal, None, folders, map, opts);
    let progress = Progress::new(0, ProgressMode::Hidden, 1);
    let mut up = Uploader::new(
        Box::new(session),
        &boxed,
        opts,
        &shared,
        progress.lane(1),
        1,
    );
    let mut stopped = up.list_mailboxes().err().map(|s| stopped_by(&s));
    let out = body(&mut |mailbox, msg| {
        if let Some(why) = &stopped {
            return Presence::Unchecked(why.clone());
        }
        up.presence_unsent(mailbox, msg).unwrap_or_else(|stop| {
            let why = stopped_by(&stop);
            stopped = Some(why.clone());
            Presence::Unchecked(why)
        })
    });
    let report = up.finish(Ok(()));
    let looked = Looked {
        open,
        warnings: report.warnings,
        server_check: report.server_check,
    };
    (out, looked)
}

/// The presence of a message when the check itself stopped.
fn stopped_by(stop: &Stop) -> String {
    let why = match stop {
        Stop::Connection(w) | Stop::OverQuota(w) | Stop::Quota(w) | Stop::Fewer(w) => w.clone(),
        Stop::Interrupted => "interrupted".into(),
        Stop::Journal(e) => e.to_string(),
    };
    format!("{UNCHECKED}: {why}")
}

impl Uploader<'_> {
    /// [`Uploader::presence`] of `msg` in `mailbox`, the mailbox checked
    /// once as the upload checks it, or taken as new and empty when the
    /// server does not have it (not created).
    fn presence_unsent(&mut self, mailbox: &str, msg: &Message) -> Result<Presence, Stop> {
        if !self.checked.contains(mailbox) {
            if self.existing.contains(mailbox) {
                self.checked.insert(mailbox.to_string());
                self.check_mailbox(mailbox)?;
            } else {
                self.checked_new(mailbox);
            }
        }
        self.presence(mailbox, msg, &msg.fingerprint())
    }
}
