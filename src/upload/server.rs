//! The server as the upload sees it: the few commands a batch lifecycle
//! needs, as a trait ([`MailServer`]). [`Session`] implements it over a
//! socket; unit tests implement it with an in-memory scripted server
//! (`scripted.rs`) that can fail at every step, so that every fault of the
//! lifecycle is tested without a socket.
//!
//! What it does not own: which mailbox a message goes to, the journal, the
//! report. It only speaks to the server. A call's error is the server's
//! (NO/BAD, typed) or a lost connection
//! ([`ImapError::is_connection_lost`]); after a lost
//! connection [`MailServer::is_broken`] is true and the caller reconnects
//! with a [`super::Connect`].

use crate::fingerprint::Fingerprint;
use crate::imap::{
    AppendItem, Appended, Capabilities, Copied, ImapError, ListEntry, MailboxStatus, Selected,
    Session, SessionStats, Summary,
};

/// The commands the upload sends. Every method but `append_start` and
/// `append_finish` runs one command and waits for its answer.
pub trait MailServer {
    /// The capabilities after login (RFC 3501 §6.1.1).
    fn capabilities(&self) -> &Capabilities;
    /// True once the connection is unusable (lost, BYE, out of step).
    fn is_broken(&self) -> bool;
    /// APPEND commands written and bytes read so far.
    fn stats(&self) -> SessionStats;

    /// LIST (RFC 3501 §6.3.8).
    fn list(&mut self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>, ImapError>;
    /// CREATE (RFC 3501 §6.3.3); ALREADYEXISTS counts as done.
    fn create(&mut self, mailbox: &str) -> Result<(), ImapError>;
    /// STATUS (MESSAGES UIDNEXT UIDVALIDITY) (RFC 3501 §6.3.10).
    fn status(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError>;
    /// SELECT (RFC 3501 §6.3.1).
    fn select(&mut self, mailbox: &str) -> Result<Selected, ImapError>;
    /// UNSELECT (RFC 3691) where offered, else nothing.
    fn unselect(&mut self) -> Result<(), ImapError> {
        Ok(())
    }

    /// One APPEND command (a MULTIAPPEND for several items), waited for.
    fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError>;
    /// Writes one APPEND command and returns its tag without waiting. An
    /// error means the command was not completely written (its last byte
    /// never went out), so the server cannot have carried it out.
    fn append_start(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<String, ImapError>;
    /// The answer of a command written by `append_start`.
    fn append_finish(&mut self, tag: &str) -> Result<Appended, ImapError>;

    /// Size, internal date and Message-ID of the messages of the selected
    /// mailbox with a UID of at least `from`.
    fn fetch_summaries_from(&mut self, from: u32) -> Result<Vec<Summary>, ImapError>;
    /// The same for these UIDs.
    fn fetch_summaries_of(&mut self, uids: &[u32]) -> Result<Vec<Summary>, ImapError>;
    /// The fingerprints (SHA-256 of the stored bytes) of these UIDs of the
    /// selected mailbox.
    fn fetch_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError>;
    /// The fingerprints of these UIDs' text (the bytes after the header,
    /// [`crate::fingerprint::text_of`]), for servers that rewrite headers.
    fn fetch_text_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError>;
    /// UID COPY from the selected mailbox (RFC 3501 §6.4.8, COPYUID of RFC 4315).
    fn uid_copy(&mut self, uids: &[u32], mailbox: &str) -> Result<Copied, ImapError>;

    /// The latest soft throttle since the last call (Gmail's `[THROTTLED]`
    /// on an OK, or untagged while a command ran): nothing was refused,
    /// the server asks the client to slow down.
    fn take_throttle_notice(&mut self) -> Option<String>;

    /// LOGOUT, best effort.
    fn logout(self: Box<Self>);
}

impl MailServer for Session {
    fn capabilities(&self) -> &Capabilities {
        Session::capabilities(self)
    }
    fn is_broken(&self) -> bool {
        Session::is_broken(self)
    }
    fn stats(&self) -> SessionStats {
        Session::stats(self)
    }
    fn list(&mut self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>, ImapError> {
        Session::list(self, reference, pattern)
    }
    fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        Session::create(self, mailbox)
    }
    fn status(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError> {
        Session::status(self, mailbox)
    }
    fn select(&mut self, mailbox: &str) -> Result<Selected, ImapError> {
        Session::select(self, mailbox)
    }
    fn unselect(&mut self) -> Result<(), ImapError> {
        Session::unselect(self)
    }
    fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError> {
        Session::append(self, mailbox, items)
    }
    fn append_start(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<String, ImapError> {
        Session::append_start(self, mailbox, items)
    }
    fn append_finish(&mut self, tag: &str) -> Result<Appended, ImapError> {
        Session::append_finish(self, tag)
    }
    fn fetch_summaries_from(&mut self, from: u32) -> Result<Vec<Summary>, ImapError> {
        Session::fetch_summaries_from(self, from)
    }
    fn fetch_summaries_of(&mut self, uids: &[u32]) -> Result<Vec<Summary>, ImapError> {
        Session::fetch_summaries_of(self, uids)
    }
    fn fetch_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        Session::fetch_hashes(self, uids)
    }
    fn fetch_text_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        Session::fetch_text_hashes(self, uids)
    }
    fn uid_copy(&mut self, uids: &[u32], mailbox: &str) -> Result<Copied, ImapError> {
        Session::uid_copy(self, uids, mailbox)
    }
    fn take_throttle_notice(&mut self) -> Option<String> {
        Session::take_throttle_notice(self)
    }
    fn logout(self: Box<Self>) {
        Session::logout(*self)
    }
}
