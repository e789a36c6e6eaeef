//! Server-checked resume: the journal is a cache, the server the last word.
//! Before anything is sent into an existing mailbox, it is looked at once
//! per run:
//!
//! 1. Is the journal right about it? Only entries made under the
//!    mailbox's current UIDVALIDITY count (others were made in an earlier
//!    incarnation of it, or on another server; only entries under other
//!    UIDVALIDITYs: a warning). Entries for a mailbox that is empty on this
//!    server, or journaled UIDs that hold messages of another size or are
//!    all gone (a spot check of [`SPOT_CHECKS`] UIDs: another server with
//!    the same names and UIDVALIDITY) make the journal distrusted for it,
//!    with a warning. Entries without UIDs (no UIDPLUS) cannot be spot-checked:
//!    the server's messages confirm them instead (Message-ID and size, or
//!    on servers that rewrite headers Message-ID and text: `rewritten.rs`).
//! 2. What does it hold that the journal cannot account for? Read only that
//!    (size, Message-ID): nothing when STATUS says the mailbox is empty or
//!    MESSAGES and UIDNEXT match what the journal wrote; the UIDs after the
//!    last journaled one when only those are new; everything else when the
//!    journal is distrusted or absent. What is found becomes a
//!    [`ServerIndex`] that [`Uploader::presence`] claims messages from:
//!    on the key alone where its Message-ID is unique both there and among
//!    the source messages for the mailbox (known by a key pre-pass over
//!    the source, `source_keys.rs`, run only for a mailbox whose messages
//!    it may spare reading are at least 1/16 of the source it reads), else
//!    confirmed by its body hash. A read answered in part ([`left_out`]) is
//!    read again, then gives no verdict: the mailbox's messages the journal
//!    does not account for are not sent, and said so ([`Presence::Unchecked`]).
//!    A mailbox whose UIDNEXT moved while it was read is read again once it
//!    settles ([`read_settled`]); the first mailbox of a run read in full
//!    (no journal for it) is read only once it has settled, waiting at
//!    least 600 ms once per run: a run killed a moment ago may still have
//!    batches being stored, in it or in another mailbox. A rerun with a
//!    journal that accounts for everything, and uploads into empty or new
//!    mailboxes, never wait.
//!
//! `--allow-duplicates` keeps step 1 (it guards against loss, and costs one
//! small FETCH) and drops step 2. The cost of the looks goes into the
//! report ([`crate::report::ServerCheck`]).

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::fingerprint::Fingerprint;
use crate::imap::{ImapError, MailboxStatus, Summary};
use crate::journal::Holdings;
use crate::message::Message;

use super::resolve::{ServerKey, left_out, settle};
use super::server::MailServer;
use super::server_index::{Claim, ServerIndex};
use super::{Stop, Uploader, lock};

/// Journaled UIDs of a mailbox checked against the server per run: the
/// first, the middle and the last.
pub const SPOT_CHECKS: usize = 3;

/// A target mailbox as checked in this run.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Its UIDVALIDITY: journal entries under it count, others don't.
    pub uidvalidity: Option<u32>,
    /// What it holds that the journal does not account for.
    pub index: ServerIndex,
    /// Why what it holds could not be read (a FETCH refused, or answered
    /// in part twice): its messages the journal does not account for get
    /// no verdict and are not sent.
    pub unchecked: Option<String>,
}

/// Whether a message is already in a target mailbox.
#[derive(Debug, PartialEq, Eq)]
pub enum Presence {
    /// Not there: send it.
    Absent,
    /// There, and how that is known.
    There(FoundBy),
    /// The server could not be checked: not sent (sending could double
    /// it), and said so.
    Unchecked(String),
}

/// How a message already in a target mailbox is known to be there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// Journaled as uploaded, the journal confirmed by the server.
    Journal,
    /// Found by the server check among what the journal cannot account for.
    Server,
}

impl FoundBy {
    /// Why the message is not sent, as the report gives it.
    pub fn reason(self) -> &'static str {
        match self {
            FoundBy::Journal => "already uploaded (journal)",
            FoundBy::Server => "already on the server (found by the server check)",
        }
    }
}

/// Said of a message not sent because the server could not be checked.
pub(super) const UNCHECKED: &str = "could not check whether the server already holds it; not sent, to avoid storing it twice (run again, or pass --allow-duplicates to send without the check)";

impl Uploader<'_> {
    /// Looks at `mailbox` (existing on the server, met for the first time
    /// in this run): the journal's entries for it checked, and what it
    /// holds beyond them read into an index.
    pub(super) fn server_check(&mut self, mailbox: &str) -> Result<Checked, Stop> {
        let mut checked = self.costed(|u| u.look(mailbox))?;
        if checked.unchecked.is_none() {
            self.learn_source_keys(mailbox, &mut checked.index);
        }
        Ok(checked)
    }

    /// Whether `msg` is already in `mailbox`: in the journal (checked
    /// against the server by [`Uploader::server_check`]), else among the
    /// server's messages the journal does not account for, on a key unique
    /// on both sides or confirmed by body hash ([`ServerIndex`]).
    pub(super) fn presence(
        &mut self,
        mailbox: &str,
        msg: &Message,
        fp: &Fingerprint,
    ) -> Result<Presence, Stop> {
        let occurrence = {
            let mut seen = lock(&self.shared.seen);
            let seen = seen.entry((mailbox.to_string(), *fp)).or_default();
            *seen += 1;
            *seen - 1
        };
        let shared = self.shared;
        let (uidvalidity, unchecked) = match lock(&shared.on_server).get(mailbox) {
            Some(c) => (c.uidvalidity, c.unchecked.clone()),
            None => (None, None),
        };
        if let Some(j) = self.journal()
            && j.count(mailbox, fp, uidvalidity) > occurrence
        {
            return Ok(Presence::There(FoundBy::Journal));
        }
        if let Some(why) = unchecked {
            return Ok(Presence::Unchecked(format!("{UNCHECKED}: {why}")));
        }
        let key = ServerKey::of_message(msg);
        let need = match lock(&shared.on_server).get(mailbox) {
            Some(c) if !c.index.is_empty() => c.index.needs_hashes(&key),
            _ => return Ok(Presence::Absent),
        };
        if !need.is_empty() {
            self.read_hashes(mailbox, &need)?;
        }
        let claimed = lock(&shared.on_server)
            .get_mut(mailbox)
            .map_or(Claim::Absent, |c| c.index.claim(&key, fp));
        let claimed = match claimed {
            Claim::Absent => self.found_rewritten(mailbox, msg, &key, fp)?,
            c => c,
        };
        match claimed {
            Claim::Absent => Ok(Presence::Absent),
            Claim::There(_) => {
                self.report.server_check.found += 1;
                Ok(Presence::There(FoundBy::Server))
            }
            Claim::Unknown => Ok(Presence::Unchecked(format!(
                "{UNCHECKED}: the server did not give the body of a message that may be it"
            ))),
        }
    }

    /// Reads the body hashes of `need` in `mailbox` into its index; UIDs
    /// left out are asked for once more, then left without verdict.
    fn read_hashes(&mut self, mailbox: &str, need: &[u32]) -> Result<(), Stop> {
        let shared = self.shared;
        let mut ask = need.to_vec();
        for _ in 0..2 {
            let hashes = self.costed(|u| {
                u.retrying(|s| {
                    s.select(mailbox)?;
                    s.fetch_hashes(&ask)
                })
            })?;
            let got = match hashes {
                Ok(h) => h,
                Err(e) => {
                    self.report.warnings.push(format!(
                        "{mailbox}: cannot read server messages' bodies to compare ({e})"
                    ));
                    Vec::new()
                }
            };
            self.report.server_check.bodies_hashed += got.len() as u64;
            let left = lock(&shared.on_server)
                .get_mut(mailbox)
                .map(|c| c.index.add_hashes(&ask, got));
            let Some(left) = left else {
                return Ok(());
            };
            ask = left;
            if ask.is_empty() {
                return Ok(());
            }
        }
        if let Some(c) = lock(&shared.on_server).get_mut(mailbox) {
            c.index.unanswered(&ask);
        }
        Ok(())
    }

    /// Runs a look, its time and the bytes it read counted as the server
    /// check's cost.
    pub(super) fn costed<T>(&mut self, look: impl FnOnce(&mut Self) -> T) -> T {
        let started = Instant::now();
        let bytes_before = self.session.stats().bytes_received;
        let out = look(self);
        let cost = &mut self.report.server_check;
        cost.seconds += started.elapsed().as_secs_f64();
        // The counts sum over reconnections (`link.rs`).
        cost.bytes_read += self
            .session
            .stats()
            .bytes_received
            .saturating_sub(bytes_before);
        out
    }

    fn look(&mut self, mailbox: &str) -> Result<Checked, Stop> {
        let status = match self.retrying(|s| s.status(mailbox))? {
            Ok(s) => s,
            Err(e) => {
                // Nothing known of it: the journal's entries are not
                // trusted into skipping (none is under UIDVALIDITY None
                // unless the server never reports one).
                self.report.warnings.push(format!(
                    "{mailbox}: cannot look at it on the server ({e}); uploading without the check"
                ));
                self.distrust_journal(mailbox);
                return Ok(Checked::default());
            }
        };
        let checked = |index| Checked {
            uidvalidity: status.uid_validity,
            index,
            unchecked: None,
        };
        let holdings = self
            .journal()
            .map(|j| j.holdings(mailbox, status.uid_validity))
            .unwrap_or_default();
        let mut journaled: Vec<u32> = Vec::new();
        if holdings.current == 0 {
            if let (Some(was), Some(now)) = (holdings.stale_uidvalidity, status.uid_validity) {
                self.report.warnings.push(format!(
                    "{mailbox}: UIDVALIDITY changed ({was} → {now}), the mailbox was recreated (or this is another server); its journal entries are not trusted, checking the server's messages instead"
                ));
                self.report.server_check.journal_distrusted += 1;
            }
        } else {
            if let Some(why) = self.journal_fault(mailbox, &status, &holdings)? {
                self.report.warnings.push(format!(
                    "{mailbox}: {why}; its journal entries are not trusted, checking the server's messages instead"
                ));
                self.report.server_check.journal_distrusted += 1;
                self.distrust_journal(mailbox);
            } else if holdings.uids.is_empty() && !self.opts.allow_duplicates {
                // No UIDPLUS: no UID to check, the server's messages
                // (Message-ID and size) confirm what is there instead.
                self.distrust_journal(mailbox);
            } else {
                journaled = holdings.uids.iter().map(|&(uid, _)| uid).collect();
            }
        }
        if self.opts.allow_duplicates || status.messages == Some(0) {
            return Ok(checked(ServerIndex::default()));
        }
        // The first mailbox read in full in this run (no journal for it: a
        // rerun without journal, maybe right after a kill) is read once
        // it has settled; the time that takes covers the other mailboxes.
        let wait = journaled.is_empty() && !self.shared.waited.swap(true, Ordering::SeqCst);
        let read = self.retrying(|s| {
            if wait {
                settle(s, mailbox)?;
                let settled = s.status(mailbox)?;
                return read_settled(s, mailbox, &settled, &journaled);
            }
            read_settled(s, mailbox, &status, &journaled)
        })?;
        let (found, why) = match read {
            Ok(Read { found, incomplete }) => (found, incomplete),
            Err(e) => (Found::default(), Some(e.to_string())),
        };
        let cost = &mut self.report.server_check;
        cost.mailboxes_read += u64::from(found.read > 0);
        cost.messages_read += found.read;
        if let Some(why) = why {
            self.report.warnings.push(format!(
                "{mailbox}: cannot read what is on the server ({why}); its messages the journal does not account for are not sent"
            ));
            return Ok(Checked {
                unchecked: Some(why),
                ..checked(ServerIndex::default())
            });
        }
        Ok(checked(ServerIndex::from_summaries(&found.unaccounted)))
    }

    fn distrust_journal(&mut self, mailbox: &str) {
        if let Some(mut j) = self.journal() {
            j.distrust(mailbox);
        }
    }

    /// Why the journal's entries for `mailbox` do not hold on this server,
    /// if they don't.
    fn journal_fault(
        &mut self,
        mailbox: &str,
        status: &MailboxStatus,
        holdings: &Holdings,
    ) -> Result<Option<String>, Stop> {
        if status.messages == Some(0) {
            return Ok(Some(format!(
                "the journal lists {} messages in it but it is empty on this server (another server, or emptied or recreated since)",
                holdings.current
            )));
        }
        let spots = spots(&holdings.uids);
        if spots.is_empty() {
            return Ok(None);
        }
        let uids: Vec<u32> = spots.iter().map(|&(uid, _)| uid).collect();
        self.report.server_check.spot_checked += uids.len() as u64;
        let found = match self.retrying(|s| {
            s.select(mailbox)?;
            s.fetch_summaries_of(&uids)
        })? {
            Ok(f) => f,
            Err(e) => return Ok(Some(format!("cannot spot-check its journaled UIDs ({e})"))),
        };
        Ok(spot_fault(&spots, &found))
    }
}

/// The journaled UIDs to spot-check: first, middle, last (fewer when
/// there are fewer).
pub(crate) fn spots(uids: &[(u32, Option<u64>)]) -> Vec<(u32, Option<u64>)> {
    let Some(last) = uids.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut at: Vec<usize> = [0, last / 2, last].into_iter().take(SPOT_CHECKS).collect();
    at.dedup();
    at.into_iter().map(|i| uids[i]).collect()
}

/// What is wrong with the server's answer about the spot-checked UIDs: one
/// holding a message of another size than the journaled one, or none of
/// them there at all. Some missing while the others hold the journaled
/// sizes is the same server with messages deleted since: those stay
/// deleted (the journal still counts them), as a user who deleted them
/// expects.
pub(crate) fn spot_fault(spots: &[(u32, Option<u64>)], found: &[Summary]) -> Option<String> {
    let resized = spots.iter().find_map(|&(uid, size)| {
        let s = found.iter().find(|s| s.uid == uid)?;
        size.filter(|&z| z != u64::from(s.size)).map(|z| {
            format!(
                "journaled UID {uid} holds {} bytes on this server, the journaled message {z} (another server?)",
                s.size
            )
        })
    });
    if resized.is_some() {
        return resized;
    }
    let present = spots
        .iter()
        .any(|(uid, _)| found.iter().any(|s| s.uid == *uid));
    (!present).then(|| {
        let uids: Vec<String> = spots.iter().map(|(u, _)| u.to_string()).collect();
        format!(
            "none of the spot-checked journaled UIDs ({}) is on this server (another server, or deleted since)",
            uids.join(", ")
        )
    })
}

/// What a look read: how many summaries, and those of messages the journal
/// does not account for.
#[derive(Debug, Default)]
struct Found {
    read: u64,
    unaccounted: Vec<Summary>,
}

/// The first read of a mailbox's unaccounted messages.
#[derive(Debug, PartialEq, Eq)]
enum FirstRead {
    /// MESSAGES and UIDNEXT match what the journal wrote: read nothing.
    Nothing,
    /// New UIDs after the last journaled one: read them, then everything
    /// if they do not explain MESSAGES.
    Tail(u32),
    /// Everything.
    All,
}

fn first_read(status: &MailboxStatus, journaled: &[u32]) -> FirstRead {
    let Some(&max) = journaled.last() else {
        return FirstRead::All;
    };
    match status.uid_next {
        Some(next) if next <= max.saturating_add(1) => {
            if explains(status, journaled.len(), 0) {
                FirstRead::Nothing
            } else {
                FirstRead::All
            }
        }
        _ => FirstRead::Tail(max.saturating_add(1)),
    }
}

/// True when the journaled UIDs and `tail` more messages are at least as
/// many as STATUS MESSAGES (fewer: some were deleted on the server).
fn explains(status: &MailboxStatus, journaled: usize, tail: usize) -> bool {
    status
        .messages
        .is_some_and(|m| u64::from(m) <= (journaled + tail) as u64)
}

/// A read of what a mailbox holds beyond the journal: what was found, and
/// why it gives no verdict if it does not ([`left_out`]).
struct Read {
    found: Found,
    incomplete: Option<String>,
}

/// [`read_unaccounted`], settled and complete:
///
/// - When the mailbox's UIDNEXT moved between the STATUS that began the
///   check and one more STATUS after the read, something is still being
///   stored, maybe the commands of a run killed a moment ago (the journal's
///   open batch makes the recovery wait for that; without a journal
///   nothing else would): wait for UIDNEXT to settle ([`settle`]) and read
///   again. A mailbox that does not move costs one STATUS and no sleep;
///   the price is that a store still unfinished when the read ends while
///   nothing landed since the first STATUS (one batch taking longer than
///   the whole look) goes unseen.
/// - A FETCH answered in part is read once more; twice is no verdict.
fn read_settled(
    s: &mut dyn MailServer,
    mailbox: &str,
    status: &MailboxStatus,
    journaled: &[u32],
) -> Result<Read, ImapError> {
    let mut status = status.clone();
    let mut read = 0;
    let mut tries = 0;
    loop {
        tries += 1;
        let mut this = read_unaccounted(s, mailbox, &status, journaled)?;
        read += this.found.read;
        this.found.read = read;
        if this.found.read == 0 && this.incomplete.is_none() {
            // Nothing read (the journal accounts for all): its open
            // batches, if any, were settled by the recovery.
            return Ok(this);
        }
        let now = s.status(mailbox)?;
        let moved = now.uid_next != status.uid_next;
        if tries >= 2 || (!moved && this.incomplete.is_none()) {
            return Ok(this);
        }
        if moved {
            settle(s, mailbox)?;
            status = s.status(mailbox)?;
        } else {
            status = now;
        }
    }
}

/// Reads the size and Message-ID of the messages of `mailbox` that are not
/// among `journaled` (trusted UIDs, ascending), as little as MESSAGES and
/// UIDNEXT allow.
fn read_unaccounted(
    s: &mut dyn MailServer,
    mailbox: &str,
    status: &MailboxStatus,
    journaled: &[u32],
) -> Result<Read, ImapError> {
    let complete = |found| Read {
        found,
        incomplete: None,
    };
    let first = first_read(status, journaled);
    if first == FirstRead::Nothing {
        return Ok(complete(Found::default()));
    }
    let sel = s.select(mailbox)?;
    let mut read = 0;
    if let FirstRead::Tail(from) = first {
        let tail = s.fetch_summaries_from(from)?;
        read += tail.len() as u64;
        if explains(status, journaled.len(), tail.len()) {
            return Ok(complete(Found {
                read,
                unaccounted: tail,
            }));
        }
    }
    let mut all = s.fetch_summaries_from(1)?;
    read += all.len() as u64;
    let incomplete = left_out(sel.exists, 0, all.len());
    all.retain(|x| journaled.binary_search(&x.uid).is_err());
    Ok(Read {
        found: Found {
            read,
            unaccounted: all,
        },
        incomplete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(uid: u32, size: u32) -> Summary {
        crate::upload::resolve::tests::summary(uid, size, None)
    }

    fn status(messages: u32, uid_next: u32) -> MailboxStatus {
        MailboxStatus {
            messages: Some(messages),
            uid_validity: Some(1),
            uid_next: Some(uid_next),
        }
    }

    /// Reads only what the journal cannot account for: nothing when STATUS
    /// matches it, the tail after the last journaled UID when new messages
    /// came after it, everything without a journal or when MESSAGES says
    /// some unaccounted message sits among the journaled UIDs.
    #[test]
    fn first_read_follows_status() {
        let journaled = [3, 4, 5];
        assert_eq!(first_read(&status(3, 6), &journaled), FirstRead::Nothing);
        assert_eq!(first_read(&status(2, 6), &journaled), FirstRead::Nothing);
        assert_eq!(first_read(&status(4, 6), &journaled), FirstRead::All);
        assert_eq!(first_read(&status(5, 9), &journaled), FirstRead::Tail(6));
        assert_eq!(first_read(&status(5, 9), &[]), FirstRead::All);
        let no_uidnext = MailboxStatus {
            uid_next: None,
            ..status(3, 0)
        };
        assert_eq!(first_read(&no_uidnext, &journaled), FirstRead::Tail(6));
        assert!(explains(&status(5, 9), 3, 2));
        assert!(!explains(&status(6, 9), 3, 2));
    }

    #[test]
    fn spots_are_first_middle_last() {
        let uids: Vec<(u32, Option<u64>)> = (1..=9).map(|u| (u, Some(10))).collect();
        let picked: Vec<u32> = spots(&uids).iter().map(|s| s.0).collect();
        assert_eq!(picked, [1, 5, 9]);
        assert_eq!(spots(&uids[..1]).len(), 1);
        assert!(spots(&[]).is_empty());
    }

    #[test]
    fn spot_check_wants_the_uid_and_its_size() {
        let spots = [(1, Some(10)), (5, None), (9, Some(30))];
        let good = [summary(1, 10), summary(5, 99), summary(9, 30)];
        assert_eq!(spot_fault(&spots, &good), None);
        // One deleted since, the others as journaled: the same server.
        let one_deleted = [summary(1, 10), summary(9, 30)];
        assert_eq!(spot_fault(&spots, &one_deleted), None);
        assert!(
            spot_fault(&spots, &[])
                .unwrap()
                .contains("none of the spot-checked journaled UIDs (1, 5, 9)")
        );
        let resized = [summary(1, 10), summary(5, 99), summary(9, 31)];
        assert!(
            spot_fault(&spots, &resized)
                .unwrap()
                .contains("UID 9 holds 31 bytes")
        );
    }
}
