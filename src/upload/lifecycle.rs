//! One batch lifecycle for every unit of work: an APPEND batch (one
//! MULTIAPPEND, or a window of serial APPENDs), a UID COPY chunk, and a
//! batch an earlier run left open in the journal all become a [`Unit`] and
//! go through the same stages:
//!
//! ```text
//! Planned ─begin─▶ Begun ─sent─▶ Sent ─answered─▶ Answered ───────────────┐
//!   (journal Begin, written)          │                                   │
//!                                     └──────────▶ Lost ─looked─▶ Looked ─┴─settle─▶ Settled
//!   earlier run's Begin ─────────────────────────▶ Lost     (recovery.rs)
//! ```
//!
//! Each message has one [`Fate`]; a unit is settled in one step
//! ([`Unit::settle`]) that writes the journal (`Landed`, `End`), the report
//! (uploaded, failed, fate unknown) and the progress together, so every
//! message is counted exactly once by construction. A message whose answer
//! was lost is never guessed at: it is looked for ([`Fate::Lost`] becomes
//! `Landed`, `Missing` or `Unknown`). Nothing settles without evidence: a
//! unit with a message of [`Fate::Unknown`] keeps its journal `Begin` open
//! (no `End`), so the next run looks again; `Missing` messages are handed
//! back to be sent again.
//!
//! What it does not own: sending (`window.rs`, `copies.rs`), looking
//! (`recovery.rs`, `resolve.rs`), deciding what is sent (`mod.rs`).

use std::sync::Mutex;
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::journal::{Before, Journal, JournalError, Landed, Pending};
use crate::message::Message;
use crate::report::FailureClass;

use super::books::Books;
use super::lock;
use super::resolve::Wanted;

/// What a unit of work does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Work {
    /// APPEND (one MULTIAPPEND, or serial APPENDs).
    Append,
    /// UID COPY from this mailbox.
    Copy { from: String },
    /// A batch an earlier run left open: only looked for and journaled
    /// (its messages are counted when the source is read).
    Earlier,
}

/// What a message of a unit carries.
#[derive(Clone, Debug)]
pub(super) enum Payload {
    /// The message itself: sent, sent again, or kept in `--failed-out`.
    Message(Box<Message>),
    /// Copied by UID from the source mailbox.
    Copy { uid: u32, origin: String },
    /// Known only by the journal of an earlier run.
    Journaled,
}

/// One message of a unit.
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub fp: Fingerprint,
    pub size: Option<u64>,
    pub message_id: Option<String>,
    pub payload: Payload,
}

impl Item {
    pub fn of_message(m: Message) -> Item {
        Item {
            fp: m.fingerprint(),
            size: Some(m.bytes.len() as u64),
            message_id: m.message_id().map(str::to_owned),
            payload: Payload::Message(Box::new(m)),
        }
    }

    pub fn message(&self) -> Option<&Message> {
        match &self.payload {
            Payload::Message(m) => Some(m.as_ref()),
            _ => None,
        }
    }

    pub(super) fn origin(&self) -> String {
        match &self.payload {
            Payload::Message(m) => m.origin.to_string(),
            Payload::Copy { origin, .. } => origin.clone(),
            Payload::Journaled => format!("journaled message {}", &self.fp.to_hex()[..16]),
        }
    }

    pub(super) fn bytes(&self) -> Option<&[u8]> {
        self.message().map(|m| m.bytes.as_slice())
    }

    pub(super) fn size_or_zero(&self) -> u64 {
        self.size.unwrap_or(0)
    }

    /// What a look needs to find it on the server.
    pub fn wanted(&self) -> Wanted {
        match self.message() {
            Some(m) => Wanted::of_message(m, self.fp),
            None => Wanted {
                fp: self.fp,
                size: self.size,
                message_id: self.message_id.clone(),
                text: None,
                date: None,
                wall_clock: None,
            },
        }
    }
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    Landed(Landed),
    /// NO/BAD for this message alone; `overquota`: RFC 5530 OVERQUOTA.
    Refused {
        reason: String,
        overquota: bool,
    },
    /// Not sent (cannot be encoded, the run stops, retries used up).
    NotSent(String),
    /// The answer never came (connection lost, BYE, timeout): to be looked for.
    Lost(String),
    /// Looked for and not there: to be sent again.
    Missing,
    /// Lost, and could not be looked for: stays open in the journal.
    Unknown(String),
    /// Refused by a throttle (`slowdown.rs`): not stored, to be sent again
    /// after the pause `wait` (when the server suggested one). Never a failure.
    Throttled {
        why: String,
        wait: Option<Duration>,
    },
    /// Lost when the provider's quota stopped the run: not looked for now
    /// (the account is locked); stays open in the journal for the next
    /// run, and is not a failure.
    Deferred(String),
}

/// Where a unit is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    Planned,
    /// Its `Begin` is journaled (written; durable once the sync thread has run).
    Begun,
    /// Its commands are written.
    Sent,
    /// Every message has an answer.
    Answered,
    /// Some messages' answers were lost.
    Lost,
    /// The lost messages were looked for (or could not be).
    Looked,
}

/// A unit of work from planned to settled.
#[derive(Debug)]
pub(super) struct Unit {
    pub work: Work,
    pub mailbox: String,
    pub items: Vec<Item>,
    /// The mailbox's STATUS before the unit was sent (for looking).
    pub before: Before,
    /// 1 for the first try; each recovery sends what is missing one round later.
    pub round: u32,
    journal: Option<u64>,
    fates: Vec<Option<Fate>>,
    /// Messages whose command was never completely written (its start
    /// failed: the connection was already lost, or was lost before the
    /// command's last byte went out): whatever their answer, the server
    /// cannot have carried it out.
    unwritten: Vec<bool>,
    stage: Stage,
}

/// What settling a unit leaves to do.
#[derive(Debug)]
pub(super) struct Settled {
    pub work: Work,
    pub mailbox: String,
    pub round: u32,
    /// Looked for and not there, or throttled: to be sent again, in order.
    pub resend: Vec<Item>,
    /// The first throttle answer among them, and the pause it suggested.
    pub throttle: Option<(String, Option<Duration>)>,
    /// Messages that landed.
    pub landed: usize,
    /// The server said OVERQUOTA: sending more would only be refused.
    pub overquota: Option<String>,
}

/// Said of a message whose fate could not be checked.
const UNKNOWN_NEXT_RUN: &str = "its batch stays open in the journal: the next run looks whether it landed, then sends it only if it did not";
const UNKNOWN_NO_JOURNAL: &str = "without a journal only the next run's server check (not with --allow-duplicates) can tell whether it landed";

impl Unit {
    pub fn planned(
        work: Work,
        mailbox: &str,
        items: Vec<Item>,
        before: Before,
        round: u32,
    ) -> Unit {
        let fates = vec![None; items.len()];
        Unit {
            work,
            mailbox: mailbox.to_string(),
            items,
            before,
            round,
            journal: None,
            unwritten: vec![false; fates.len()],
            fates,
            stage: Stage::Planned,
        }
    }

    /// A batch an earlier run began and never ended: every message's
    /// answer is lost. `exists`: the mailbox is on the server (if not,
    /// nothing of it landed).
    pub fn earlier(p: Pending, exists: bool) -> Unit {
        let keys = p.keys;
        let items: Vec<Item> = p
            .fps
            .into_iter()
            .enumerate()
            .map(|(k, fp)| Item {
                fp,
                size: keys.get(k).map(|k| k.0),
                message_id: keys.get(k).and_then(|k| k.1.clone()),
                payload: Payload::Journaled,
            })
            .collect();
        let before = Before {
            uidvalidity: p.uidvalidity,
            uidnext: p.uidnext,
            messages: p.messages,
        };
        let fate = if exists {
            Fate::Lost("an earlier run stopped before the server answered".into())
        } else {
            Fate::Missing
        };
        Unit {
            work: Work::Earlier,
            mailbox: p.mailbox,
            fates: vec![Some(fate); items.len()],
            unwritten: vec![false; items.len()],
            items,
            before,
            round: 1,
            journal: Some(p.batch),
            stage: if exists { Stage::Lost } else { Stage::Looked },
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Journals the unit (`Begin` written to the file; made durable by the
    /// journal's sync thread) before anything is sent.
    pub fn begin(&mut self, journal: Option<&Mutex<Journal>>) -> Result<(), JournalError> {
        debug_assert_eq!(self.stage, Stage::Planned);
        if let Some(j) = journal {
            let fps: Vec<Fingerprint> = self.items.iter().map(|i| i.fp).collect();
            let keys: Vec<(u64, Option<String>)> = self
                .items
                .iter()
                .map(|i| (i.size_or_zero(), i.message_id.clone()))
                .collect();
            let id = lock(j).begin_with_keys(&self.mailbox, self.before, &fps, &keys)?;
            self.journal = Some(id);
        }
        self.stage = Stage::Begun;
        Ok(())
    }

    /// Its commands are on the wire.
    pub fn sent(&mut self) {
        debug_assert_eq!(self.stage, Stage::Begun);
        self.stage = Stage::Sent;
    }

    /// The answers, one fate per message in order (for a unit never sent,
    /// still `Planned`, why it was not).
    pub fn answered(&mut self, fates: Vec<Fate>) {
        debug_assert!(matches!(
            self.stage,
            Stage::Planned | Stage::Begun | Stage::Sent
        ));
        debug_assert_eq!(fates.len(), self.items.len());
        self.stage = if fates.iter().any(|f| matches!(f, Fate::Lost(_))) {
            Stage::Lost
        } else {
            Stage::Answered
        };
        self.fates = fates.into_iter().map(Some).collect();
    }

    /// How many of its messages were answered as landed (before looking).
    pub fn answered_landed(&self) -> usize {
        let landed = self
            .fates
            .iter()
            .filter(|f| matches!(f, Some(Fate::Landed(_))));
        landed.count()
    }

    /// Why the first lost message was lost (for messages and warnings).
    pub fn lost_reason(&self) -> Option<&str> {
        self.fates.iter().find_map(|f| match f {
            Some(Fate::Lost(why)) => Some(why.as_str()),
            _ => None,
        })
    }

    /// The messages whose answer was lost, with their index.
    pub fn lost(&self) -> impl Iterator<Item = (usize, &Item)> {
        self.items
            .iter()
            .enumerate()
            .filter(|(k, _)| matches!(self.fates[*k], Some(Fate::Lost(_))))
    }

    /// The look's verdict on lost message `k`: where it is, or not there.
    pub fn found(&mut self, k: usize, at: Option<Landed>) {
        debug_assert!(matches!(self.fates[k], Some(Fate::Lost(_))));
        self.fates[k] = Some(at.map_or(Fate::Missing, Fate::Landed));
    }

    /// The lost messages could not be looked for.
    pub fn unknown(&mut self, why: &str) {
        for f in &mut self.fates {
            if let Some(Fate::Lost(lost)) = f {
                *f = Some(Fate::Unknown(format!("{lost}; {why}")));
            }
        }
        self.looked();
    }

    /// The commands of messages `range` were never completely written
    /// ([`crate::upload::MailServer::append_start`] failed).
    pub fn not_written(&mut self, range: std::ops::Range<usize>) {
        for k in range {
            self.unwritten[k] = true;
        }
    }

    /// The provider's quota stopped the run: the lost messages are left
    /// for the next run to look for (their unit stays open), except those
    /// never written, which are known not to be there: the next run sends
    /// them, and with nothing else open the unit ends.
    pub fn defer(&mut self, why: &str) {
        for (f, &unwritten) in self.fates.iter_mut().zip(&self.unwritten) {
            if let Some(Fate::Lost(lost)) = f {
                *f = Some(if unwritten {
                    Fate::Missing
                } else {
                    Fate::Deferred(format!("{lost}; {why}"))
                });
            }
        }
        self.looked();
    }

    /// Every lost message has been looked for.
    pub fn looked(&mut self) {
        for f in &mut self.fates {
            if let Some(Fate::Lost(lost)) = f {
                // Not looked for (its mailbox was not looked at): unknown.
                *f = Some(Fate::Unknown(lost.clone()));
            }
        }
        if self.stage == Stage::Lost {
            self.stage = Stage::Looked;
        }
    }

    /// The UIDVALIDITY and the highest UID, when every message landed with
    /// a UID (so that "highest + 1" is a valid UIDNEXT for a later batch).
    pub fn last_uid(&self) -> Option<(u32, u32)> {
        let mut v = None;
        let mut max = None;
        for f in &self.fates {
            let Some(Fate::Landed(at)) = f else {
                return None;
            };
            v = Some(at.uidvalidity?);
            max = max.max(Some(at.uid?));
        }
        Some((v?, max?))
    }

    /// The settle step: journal, report and progress for every message, in
    /// one place. `Begin` gets its `End` only when every message's fate is
    /// known.
    pub fn settle(mut self, books: &mut Books) -> Result<Settled, JournalError> {
        self.looked();
        debug_assert!(matches!(self.stage, Stage::Answered | Stage::Looked));
        let mut resend = Vec::new();
        let mut throttle = None;
        let mut overquota = None;
        let mut open = false;
        let (mut landed, mut missing, mut unknown) = (0, 0, Vec::new());
        let mailbox = self.mailbox.clone();
        for (item, fate) in self.items.into_iter().zip(self.fates) {
            let fate = fate.unwrap_or_else(|| Fate::Unknown("no answer".into()));
            match fate {
                Fate::Landed(at) => {
                    landed += 1;
                    books.landed(&self.work, &mailbox, &item, at);
                }
                Fate::Missing => {
                    missing += 1;
                    if self.work != Work::Earlier {
                        resend.push(item);
                    }
                }
                Fate::Refused {
                    reason,
                    overquota: oq,
                } => {
                    if oq {
                        overquota.get_or_insert_with(|| reason.clone());
                    }
                    books.failed(&mailbox, &item, FailureClass::Refused, reason);
                }
                Fate::NotSent(reason) => {
                    books.failed(&mailbox, &item, FailureClass::NotSent, reason);
                }
                Fate::Throttled { why, wait } => {
                    throttle.get_or_insert((why, wait));
                    if self.work != Work::Earlier {
                        resend.push(item);
                    }
                }
                Fate::Deferred(_) => {
                    open = true;
                    books.report.left_for_next_run += 1;
                    if let Some(m) = item.message() {
                        books.progress.advance(m.bytes.len() as u64);
                    }
                }
                Fate::Unknown(why) | Fate::Lost(why) => {
                    open = true;
                    if self.work == Work::Earlier {
                        books.hold(&mailbox, item.fp);
                        unknown.push(why);
                        continue;
                    }
                    let next = if books.shared.journal.is_some() {
                        UNKNOWN_NEXT_RUN
                    } else {
                        UNKNOWN_NO_JOURNAL
                    };
                    let reason = format!("{why}; {next}");
                    books.failed(&mailbox, &item, FailureClass::Unknown, reason);
                }
            }
        }
        if self.work == Work::Earlier {
            let total = landed + missing + unknown.len();
            let mut note = format!(
                "{mailbox}: an earlier run stopped during a batch of {total} messages; {landed} had landed (now journaled), {missing} had not and will be sent"
            );
            if let Some(why) = unknown.first() {
                note.push_str(&format!(
                    ", {} of unknown fate ({why}): not sent now, the next run looks again",
                    unknown.len()
                ));
            }
            books.report.warnings.push(note);
        }
        if let (Some(j), Some(id)) = (books.shared.journal.as_ref(), self.journal) {
            let mut j = lock(j);
            if !open {
                j.end(id)?;
            }
        }
        Ok(Settled {
            work: self.work,
            mailbox,
            round: self.round,
            resend,
            throttle,
            landed,
            overquota,
        })
    }
}
