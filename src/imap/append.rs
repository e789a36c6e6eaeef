//! APPEND on a [`Session`]: one command for a batch (RFC 3502 MULTIAPPEND)
//! and pipelined serial APPENDs (one command per message, up to
//! [`PIPELINE_WINDOW`] in flight when no literal needs a `+`).
//!
//! The literal flavour follows the server (RFC 7888): LITERAL+ never waits,
//! LITERAL- waits only above 4096 bytes, otherwise every literal waits. The
//! caller decides whether a batch may be a MULTIAPPEND (only when advertised:
//! Courier stores the first message and then says NO); this module sends
//! what it is given.

use std::collections::VecDeque;
use std::slice;

use crate::imap::command::{self, literal_is_sync};
use crate::imap::response::{Status, StatusKind};
use crate::imap::session::{AppendItem, Appended, PIPELINE_WINDOW, Session};
use crate::imap::{Code, ImapError};

impl Session {
    /// One APPEND command carrying all `items` (a MULTIAPPEND when more than
    /// one). A NO/BAD, also one sent instead of a `+`, is returned typed;
    /// RFC 3502 §3: then none of the messages was stored. Without UIDPLUS
    /// the result's `uids` is empty. An empty message is refused before
    /// anything is sent (RFC 3502 §6.3.11: a zero-length literal cancels).
    pub fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError> {
        self.check_usable()?;
        let tag = self.tags.next_tag();
        let binary = self.caps.has("BINARY");
        let cmd = command::append_with(tag, mailbox, items, self.caps.literal_mode(), binary)?;
        self.append_commands += 1;
        let done = self.run(cmd)?;
        appended(done.status)
    }

    /// One APPEND per item, exactly one result per item, in order. When
    /// every literal of an item may be non-synchronizing, up to
    /// [`PIPELINE_WINDOW`] commands are written ahead and their tagged
    /// responses matched by tag; otherwise items go one at a time. When the
    /// connection is lost, every item without a tagged answer gets
    /// `ConnectionLost` (its fate is unknown).
    pub fn append_pipelined(
        &mut self,
        mailbox: &str,
        items: &[AppendItem],
    ) -> Vec<Result<Appended, ImapError>> {
        let mode = self.caps.literal_mode();
        let binary = self.caps.has("BINARY");
        let mut results: Vec<Option<Result<Appended, ImapError>>> =
            items.iter().map(|_| None).collect();
        let mut in_flight: VecDeque<(String, usize)> = VecDeque::new();
        let mut next = 0;
        let mut out = Vec::new();
        while self.broken.is_none() {
            while next < items.len() && in_flight.len() < PIPELINE_WINDOW {
                let item = &items[next];
                if item.bytes.is_empty() {
                    // RFC 3502 §6.3.11: never send a zero-length literal.
                    results[next] = Some(Err(ImapError::Protocol(format!(
                        "message {} is empty (0 bytes)",
                        next + 1
                    ))));
                    next += 1;
                    continue;
                }
                if literal_is_sync(mode, item.bytes.len()) {
                    if !in_flight.is_empty() {
                        break; // drain first: a `+` must not be mistaken
                    }
                    results[next] = Some(self.append(mailbox, slice::from_ref(item)));
                    next += 1;
                    if self.broken.is_some() {
                        break;
                    }
                    continue;
                }
                let tag = self.tags.next_tag();
                match command::append_with(
                    tag.clone(),
                    mailbox,
                    slice::from_ref(item),
                    mode,
                    binary,
                ) {
                    Ok(cmd) => {
                        out.extend_from_slice(&cmd.dump());
                        in_flight.push_back((tag, next));
                        self.append_commands += 1;
                    }
                    Err(e) => results[next] = Some(Err(e)),
                }
                next += 1;
            }
            if !out.is_empty() {
                if self.send(&out).is_err() {
                    break;
                }
                out.clear();
            }
            if in_flight.is_empty() {
                if next >= items.len() || self.broken.is_some() {
                    break;
                }
                continue;
            }
            match self.read() {
                Ok(crate::imap::response::Response::Status(s)) if s.tag.is_some() => {
                    let tag = s.tag.as_deref().unwrap_or_default();
                    match in_flight.iter().position(|(t, _)| t == tag) {
                        Some(pos) => {
                            let (_, idx) = in_flight.remove(pos).expect("position is valid");
                            results[idx] = Some(appended(s));
                        }
                        None => {
                            self.broken = Some(format!("response for unknown tag {tag}"));
                        }
                    }
                }
                // Untagged EXISTS/RECENT/OK, BYE (remembered by `read`).
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let why = self
            .broken
            .clone()
            .unwrap_or_else(|| "result unknown".into());
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(ImapError::ConnectionLost(why.clone()))))
            .collect()
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
