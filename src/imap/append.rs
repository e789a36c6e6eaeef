//! APPEND on a [`Session`]: one command for a batch (RFC 3502 MULTIAPPEND),
//! and APPENDs kept in flight: [`Session::append_start`] writes a command
//! and returns its tag, [`Session::append_finish`] waits for that tag's
//! answer. Answers are matched by tag, so several commands (MULTIAPPEND
//! batches or serial APPENDs) can be on the wire at once.
//!
//! The literal flavour follows the server (RFC 7888): LITERAL+ never waits,
//! LITERAL- waits only above 4096 bytes, otherwise every literal waits. A
//! synchronizing literal may follow commands in flight: only the command
//! being written can be waiting for a `+`, and answers of the others that
//! arrive meanwhile are kept. The caller decides whether a batch may be a
//! MULTIAPPEND (only when advertised: Courier stores the first message and
//! then says NO); this module sends what it is given.

use crate::imap::command;
use crate::imap::exec::Done;
use crate::imap::exec::Session;
use crate::imap::response::{Response, Status, StatusKind};
use crate::imap::types::{AppendItem, Appended};
use crate::imap::{Code, ImapError};

impl Session {
    /// One APPEND command carrying all `items` (a MULTIAPPEND when more than
    /// one), waited for. A NO/BAD, also one sent instead of a `+`, is
    /// returned typed; RFC 3502 §3: then none of the messages was stored.
    /// Without UIDPLUS the result's `uids` is empty.
    pub fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError> {
        let tag = self.append_start(mailbox, items)?;
        self.append_finish(&tag)
    }

    /// Writes one APPEND command for `items` and returns its tag without
    /// waiting for the answer (but waiting for `+` before synchronizing
    /// literals). An error means nothing is in flight for it: an empty
    /// message or NUL bytes without BINARY (nothing sent; RFC 3502 §6.3.11:
    /// a zero-length literal cancels), or the connection is lost (the
    /// command's fate is unknown; the session is unusable) — unless the
    /// server answered it before it closed: then its tag, for that answer.
    pub fn append_start(
        &mut self,
        mailbox: &str,
        items: &[AppendItem],
    ) -> Result<String, ImapError> {
        self.check_usable()?;
        let binary = self.caps.has("BINARY");
        // Refused before a tag is taken: nothing is written.
        command::check_append(items, binary)?;
        let tag = self.tags.next_tag();
        let cmd = command::append_with(
            tag.clone(),
            mailbox,
            items,
            self.caps.literal_mode(),
            binary,
        )?;
        self.append_commands += 1;
        self.in_flight.insert(tag.clone());
        let mut ignored = Done::empty();
        match self.write_command(&cmd, &mut ignored) {
            Ok(Some(status)) => {
                self.answered.insert(tag.clone(), status);
            }
            Ok(None) => {}
            // The server answered it before it closed (`closing.rs`).
            Err(_) if self.answered.contains_key(&tag) => {}
            Err(e) => {
                self.in_flight.remove(&tag);
                self.broken.get_or_insert_with(|| e.to_string());
                return Err(e);
            }
        }
        Ok(tag)
    }

    /// Waits for the tagged answer of `tag` (from [`Session::append_start`]);
    /// answers of other commands in flight read meanwhile are kept. When
    /// the connection is lost first, `ConnectionLost`: the fate is unknown.
    pub fn append_finish(&mut self, tag: &str) -> Result<Appended, ImapError> {
        loop {
            if let Some(status) = self.answered.remove(tag) {
                self.in_flight.remove(tag);
                return appended(status);
            }
            if let Err(e) = self.check_usable() {
                self.in_flight.remove(tag);
                return Err(e);
            }
            match self.read() {
                Ok(Response::Status(s)) if s.tag.is_some() => {
                    let t = s.tag.clone().unwrap_or_default();
                    if self.in_flight.contains(&t) {
                        self.answered.insert(t, s);
                    } else {
                        self.broken = Some(format!("response for unknown tag {t}"));
                    }
                }
                Ok(Response::Continue(text)) => {
                    self.broken = Some(format!("unexpected continuation request \"+ {text}\""));
                }
                // Untagged EXISTS/RECENT/OK, BYE (remembered by `read`).
                Ok(_) => {}
                Err(e) => {
                    self.broken.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

/// The tagged status of an APPEND as its result (RFC 4315 §3 APPENDUID).
fn appended(status: Status) -> Result<Appended, ImapError> {
    match status.kind {
        StatusKind::Ok => Ok(match status.code {
            Some(Code::AppendUid { uid_validity, uids }) => Appended {
                uid_validity: Some(uid_validity),
                uids,
            },
            _ => Appended::default(),
        }),
        _ => Err(status.into_result().unwrap_err()),
    }
}
