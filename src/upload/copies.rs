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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::fingerprint::Fingerprint;
use crate::imap::{Copied, ImapError};
use crate::journal::{Before, Landed};
use crate::message::Message;
use crate::report::FailureClass;

use super::resolve::find_landed;
use super::{Stop, Uploader};

/// Most messages in one UID COPY.
const COPY_BATCH: usize = 500;

/// One message owed to a destination, uploaded at `uid` in the source.
#[derive(Clone, Debug)]
struct Owed {
    uid: u32,
    fp: Fingerprint,
    origin: String,
    size: u64,
}

/// The copies of one run on one connection.
#[derive(Default)]
pub(super) struct Copies {
    /// (first mailbox, fingerprint) → the other mailboxes, per message sent
    /// (in sending order; identical copies share a key).
    wanted: HashMap<(String, Fingerprint), VecDeque<Vec<String>>>,
    /// (source, destination) → copies to make.
    owed: BTreeMap<(String, String), Vec<Owed>>,
}

impl Copies {
    pub(super) fn is_empty(&self) -> bool {
        self.wanted.is_empty() && self.owed.is_empty()
    }
}

impl Uploader<'_> {
    /// True when messages for several mailboxes are uploaded once and copied.
    pub(super) fn copies_by_uid(&self) -> bool {
        self.session.capabilities().has("UIDPLUS")
    }

    /// `msg`, about to be sent to `first`, also belongs in `others`.
    pub(super) fn want_copies(&mut self, first: &str, msg: &Message, others: &[String]) {
        let key = (first.to_string(), Fingerprint::of(&msg.bytes));
        let q = self.copies.wanted.entry(key).or_default();
        q.push_back(others.to_vec());
    }

    /// `m` landed in `mailbox`: the copies it is owed, if any.
    pub(super) fn landed_for_copies(
        &mut self,
        mailbox: &str,
        m: &Message,
        fp: &Fingerprint,
        at: Landed,
    ) {
        let Some(others) = self.take_wanted(mailbox, fp) else {
            return;
        };
        let origin = m.origin.to_string();
        match at.uid {
            Some(uid) => {
                for to in others {
                    let owed = Owed {
                        uid,
                        fp: *fp,
                        origin: origin.clone(),
                        size: m.bytes.len() as u64,
                    };
                    self.copies
                        .owed
                        .entry((mailbox.to_string(), to))
                        .or_default()
                        .push(owed);
                }
            }
            None => {
                // No APPENDUID after all: nothing to copy from.
                for to in others {
                    let reason = "the server gave no UID for the uploaded message, so it could not be copied here; run the same command again to upload it".to_string();
                    self.fail(
                        &to,
                        origin.clone(),
                        Some(&m.bytes),
                        FailureClass::NotSent,
                        reason,
                    );
                }
            }
        }
    }

    /// `m` did not land in `mailbox`: neither are its copies made.
    pub(super) fn failed_for_copies(
        &mut self,
        mailbox: &str,
        m: &Message,
        class: FailureClass,
        reason: &str,
    ) {
        if self.copies.wanted.is_empty() {
            return;
        }
        let fp = Fingerprint::of(&m.bytes);
        if let Some(others) = self.take_wanted(mailbox, &fp) {
            for to in others {
                let why = format!("not copied: it did not land in {mailbox} ({reason})");
                self.fail(&to, m.origin.to_string(), Some(&m.bytes), class, why);
            }
        }
    }

    fn take_wanted(&mut self, mailbox: &str, fp: &Fingerprint) -> Option<Vec<String>> {
        let key = (mailbox.to_string(), *fp);
        let q = self.copies.wanted.get_mut(&key)?;
        let others = q.pop_front();
        if q.is_empty() {
            self.copies.wanted.remove(&key);
        }
        others
    }

    /// Waits for every batch in flight, then makes the copies owed.
    pub(super) fn make_copies(&mut self) -> Result<(), Stop> {
        if self.copies.is_empty() {
            return Ok(());
        }
        self.drain()?;
        for ((from, to), owed) in std::mem::take(&mut self.copies.owed) {
            for chunk in owed.chunks(COPY_BATCH) {
                self.check_stop()?;
                self.copy_chunk(&from, &to, chunk)?;
            }
        }
        Ok(())
    }

    /// One journaled UID COPY of `owed` from `from` into `to`.
    fn copy_chunk(&mut self, from: &str, to: &str, owed: &[Owed]) -> Result<(), Stop> {
        let before = match self.retrying(|s| s.status(to))? {
            Ok(st) => Before {
                uidvalidity: st.uid_validity,
                uidnext: st.uid_next,
                messages: st.messages,
            },
            Err(_) => Before::default(),
        };
        let fps: Vec<Fingerprint> = owed.iter().map(|o| o.fp).collect();
        let batch = match self.journal() {
            Some(mut j) => Some(j.begin(to, before, &fps).map_err(Stop::Journal)?),
            None => None,
        };
        let uids: Vec<u32> = owed.iter().map(|o| o.uid).collect();
        let result = match self.retrying(|s| s.select(from))? {
            Ok(_) => self.session.uid_copy(&uids, to),
            Err(e) => Err(e),
        };
        match result {
            Ok(copied) => {
                for o in owed {
                    self.copied(to, o, &copied);
                }
            }
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                for o in owed {
                    let reason = format!("UID COPY from {from} refused: {e}");
                    self.fail(to, o.origin.clone(), None, FailureClass::Refused, reason);
                }
            }
            Err(e) => {
                // Its fate is unknown: reconnect and look.
                let why = e.to_string();
                self.reconnect(&why)?;
                let wanted: Vec<_> = owed.iter().map(|o| (o.fp, None, o.size as usize)).collect();
                let exclude: HashSet<u32> = match self.journal() {
                    Some(j) => j.uids(to, before.uidvalidity),
                    None => HashSet::new(),
                };
                match self.retrying(|s| find_landed(s, to, before, &wanted, &exclude))? {
                    Ok(found) => {
                        for (o, at) in owed.iter().zip(found) {
                            match at {
                                Some(at) => self.copy_landed(to, o, at),
                                None => {
                                    let reason =
                                        format!("{why} while copying; the next run will upload it");
                                    self.fail(
                                        to,
                                        o.origin.clone(),
                                        None,
                                        FailureClass::Unknown,
                                        reason,
                                    );
                                }
                            }
                        }
                    }
                    Err(e) => {
                        for o in owed {
                            let reason = format!(
                                "{why} while copying; could not check whether it landed: {e}"
                            );
                            self.fail(to, o.origin.clone(), None, FailureClass::Unknown, reason);
                        }
                        return Ok(()); // the `Begin` stays open: the next run looks
                    }
                }
            }
        }
        if let (Some(mut j), Some(id)) = (self.journal(), batch) {
            j.end(id).map_err(Stop::Journal)?;
        }
        Ok(())
    }

    fn copied(&mut self, to: &str, o: &Owed, copied: &Copied) {
        let at = Landed {
            uidvalidity: copied.uid_validity,
            uid: copied.dest_of(o.uid),
        };
        self.copy_landed(to, o, at);
    }

    fn copy_landed(&mut self, to: &str, o: &Owed, at: Landed) {
        if let Some(mut j) = self.journal() {
            j.landed(to, &o.fp, Some(o.size), at);
        }
        self.report.uploaded(to, o.size);
        self.report.copies += 1;
        self.done += 1;
        self.progress.set_status(self.done, to);
    }
}
