//! Messages that belong in several mailboxes (Gmail Takeout labels): with
//! UIDPLUS, uploaded once into the first and `UID COPY`d into the others
//! using the APPENDUID UID, the copies batched per (source, destination)
//! pair after the folder's batches are answered. Without UIDPLUS each
//! mailbox gets its own APPEND, as before.
//!
//! A copy is journaled like a batch: `Begin` in the destination (its STATUS
//! and the fingerprints) before the COPY, one `Landed` per copy with its
//! COPYUID UID, `End`. A COPY whose answer never came is resolved by looking
//! in the destination, like an APPEND. A copy never made (the first APPEND
//! refused or of unknown fate, the run stopped) leaves the destination
//! without a journal entry, so a rerun uploads it there: nothing is doubled
//! and nothing missed.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::fingerprint::Fingerprint;
use crate::imap::ImapError;
use crate::journal::Landed;
use crate::message::Message;

use super::lifecycle::{Fate, Item, Payload, Unit, Work};
use super::{Stop, Uploader};

/// Most messages in one UID COPY.
const COPY_BATCH: usize = 500;

/// The copies of one run on one connection.
#[derive(Default)]
pub(super) struct Copies {
    /// (first mailbox, fingerprint) → the other mailboxes, per message sent
    /// (in sending order; identical copies share a key).
    wanted: HashMap<(String, Fingerprint), VecDeque<Vec<String>>>,
    /// (source, destination) → copies to make.
    owed: BTreeMap<(String, String), Vec<Item>>,
}

impl Copies {
    pub(super) fn is_empty(&self) -> bool {
        self.wanted.is_empty() && self.owed.is_empty()
    }

    /// A message for `first` also belongs in `others`.
    pub(super) fn want(&mut self, first: &str, fp: Fingerprint, others: &[String]) {
        let q = self.wanted.entry((first.to_string(), fp)).or_default();
        q.push_back(others.to_vec());
    }

    /// `item` landed in `mailbox` at `at`: the copies it is owed are
    /// queued; returns the destinations it cannot be copied to (the server
    /// gave no UID).
    pub(super) fn landed(&mut self, mailbox: &str, item: &Item, at: Landed) -> Vec<String> {
        let Some(others) = self.take_wanted(mailbox, &item.fp) else {
            return Vec::new();
        };
        let (Some(uid), Some(m)) = (at.uid, item.message()) else {
            return others;
        };
        for to in others {
            let owed = Item {
                fp: item.fp,
                size: item.size,
                message_id: item.message_id.clone(),
                payload: Payload::Copy {
                    uid,
                    origin: m.origin.to_string(),
                },
            };
            self.owed
                .entry((mailbox.to_string(), to))
                .or_default()
                .push(owed);
        }
        Vec::new()
    }

    /// The message `fp` did not land in `mailbox`: the destinations whose
    /// copies will not be made.
    pub(super) fn failed(&mut self, mailbox: &str, fp: &Fingerprint) -> Vec<String> {
        self.take_wanted(mailbox, fp).unwrap_or_default()
    }

    fn take_wanted(&mut self, mailbox: &str, fp: &Fingerprint) -> Option<Vec<String>> {
        let key = (mailbox.to_string(), *fp);
        let q = self.wanted.get_mut(&key)?;
        let others = q.pop_front();
        if q.is_empty() {
            self.wanted.remove(&key);
        }
        others
    }
}

impl Uploader<'_> {
    /// True when messages for several mailboxes are uploaded once and copied.
    pub(super) fn copies_by_uid(&self) -> bool {
        self.session.capabilities().has("UIDPLUS")
    }

    /// `msg`, about to be sent to `first`, also belongs in `others`.
    pub(super) fn want_copies(&mut self, first: &str, msg: &Message, others: &[String]) {
        self.copies.want(first, msg.fingerprint(), others);
    }

    /// Waits for every batch in flight, then makes the copies owed.
    pub(super) fn make_copies(&mut self) -> Result<(), Stop> {
        if self.copies.is_empty() {
            return Ok(());
        }
        self.drain()?;
        for ((from, to), mut owed) in std::mem::take(&mut self.copies.owed) {
            while !owed.is_empty() {
                self.check_stop()?;
                let rest = owed.split_off(owed.len().min(COPY_BATCH));
                self.copy_items(&from, &to, owed, 1)?;
                owed = rest;
            }
        }
        Ok(())
    }

    /// One journaled UID COPY of `items` from `from` into `to`, a unit of
    /// the batch lifecycle: `round` counts the tries after lost answers.
    pub(super) fn copy_items(
        &mut self,
        from: &str,
        to: &str,
        items: Vec<Item>,
        round: u32,
    ) -> Result<(), Stop> {
        if items.is_empty() {
            return Ok(());
        }
        let work = Work::Copy {
            from: from.to_string(),
        };
        let unit = Unit::planned(work, to, items, Default::default(), round);
        let Some(mut unit) = self.unless_retries_used_up(unit)? else {
            return Ok(());
        };
        unit.before = self.status_before(to)?;
        unit.begin(self.shared.journal.as_ref())
            .map_err(Stop::Journal)?;
        let uids: Vec<u32> = unit
            .items
            .iter()
            .filter_map(|i| match i.payload {
                Payload::Copy { uid, .. } => Some(uid),
                _ => None,
            })
            .collect();
        let result = match self.retrying(|s| s.select(from))? {
            Ok(_) => self.session.server().uid_copy(&uids, to),
            Err(e) => Err(e),
        };
        unit.sent();
        let fates: Vec<Fate> = match result {
            Ok(copied) => uids
                .iter()
                .map(|&uid| {
                    Fate::Landed(Landed {
                        uidvalidity: copied.uid_validity,
                        uid: copied.dest_of(uid),
                    })
                })
                .collect(),
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                vec![
                    Fate::Refused {
                        reason: format!("UID COPY from {from} refused: {e}"),
                        overquota: false
                    };
                    uids.len()
                ]
            }
            Err(e) => vec![Fate::Lost(format!("{e} while copying")); uids.len()],
        };
        unit.answered(fates);
        self.recover(vec![unit])
    }
}
