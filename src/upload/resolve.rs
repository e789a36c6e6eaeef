//! Looking instead of guessing: what is already on the server.
//!
//! - [`find_landed`]: a batch whose tagged answer never came (connection
//!   lost, BYE, timeout, a killed run) is resolved by comparing the
//!   mailbox with the STATUS recorded just before the batch: if UIDNEXT has
//!   not moved nothing landed; otherwise the messages from that UID on are
//!   read back and matched by fingerprint (then by Message-ID and size, in
//!   case the server rewrote bytes), each server message matching at most
//!   one of ours. Other deliveries racing into the mailbox cannot fool it.
//!   It first waits for UIDNEXT to settle: the server may still be storing
//!   commands the dead connection had in flight.
//! - [`ServerIndex`]: the server-checked resume (`server_check.rs`): the
//!   messages of a mailbox the journal cannot account for, by Message-ID
//!   and size (without Message-ID: size and internal date); where that
//!   does not tell them apart, by body hash, read only then.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::fingerprint::{Fingerprint, message_id};
use crate::imap::{ImapError, Session, Summary};
use crate::journal::{Before, Landed};
use crate::message::Message;

/// For each of `wanted` (fingerprint, Message-ID, size), where it landed in
/// `mailbox` since `before`, or `None` if it is not there. `exclude`: UIDs
/// already accounted for (confirmed earlier in the same batch or journaled).
pub fn find_landed(
    session: &mut Session,
    mailbox: &str,
    before: Before,
    wanted: &[(Fingerprint, Option<String>, usize)],
    exclude: &HashSet<u32>,
) -> Result<Vec<Option<Landed>>, ImapError> {
    let none = vec![None; wanted.len()];
    settle(session, mailbox)?;
    let sel = session.select(mailbox)?;
    if before.uidvalidity.is_some() && sel.uid_validity != before.uidvalidity {
        // The mailbox was recreated since: whatever landed then is gone.
        return Ok(none);
    }
    if before.uidnext.is_some() && sel.uid_next == before.uidnext {
        return Ok(none);
    }
    let fetched = session.fetch_from(before.uidnext.unwrap_or(1))?;
    let mut by_fp: HashMap<Fingerprint, Vec<u32>> = HashMap::new();
    let mut by_id: HashMap<(String, usize), Vec<u32>> = HashMap::new();
    for f in fetched.iter().filter(|f| !exclude.contains(&f.uid)) {
        by_fp
            .entry(Fingerprint::of(&f.body))
            .or_default()
            .push(f.uid);
        if let Some(id) = message_id(&f.body) {
            by_id.entry((id, f.body.len())).or_default().push(f.uid);
        }
    }
    let mut taken = HashSet::new();
    let mut take = |uids: Option<&mut Vec<u32>>| -> Option<u32> {
        let uids = uids?;
        let i = uids.iter().position(|u| !taken.contains(u))?;
        let uid = uids.remove(i);
        taken.insert(uid);
        Some(uid)
    };
    let mut out = Vec::with_capacity(wanted.len());
    for (fp, id, len) in wanted {
        let uid = take(by_fp.get_mut(fp)).or_else(|| {
            id.as_ref()
                .and_then(|id| take(by_id.get_mut(&(id.clone(), *len))))
        });
        out.push(uid.map(|uid| Landed {
            uidvalidity: sel.uid_validity,
            uid: Some(uid),
        }));
    }
    Ok(out)
}

/// Pause between two looks at UIDNEXT while waiting for it to settle.
const SETTLE_PAUSE: Duration = Duration::from_millis(150);
/// Looks at most this many times.
const SETTLE_LOOKS: usize = 20;

/// Waits until `mailbox`'s UIDNEXT is the same on two looks in a row: the
/// server may still be storing what the dead connection had sent (commands
/// in flight, already in its input buffer) when the new connection looks;
/// judging then would send those messages again.
fn settle(session: &mut Session, mailbox: &str) -> Result<(), ImapError> {
    let mut last = session.status(mailbox)?.uid_next;
    for _ in 1..SETTLE_LOOKS {
        std::thread::sleep(SETTLE_PAUSE);
        let now = session.status(mailbox)?.uid_next;
        if now == last {
            break;
        }
        last = now;
    }
    Ok(())
}

/// How a message is recognized on the server without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// Message-ID and size.
    Id(String, u64),
    /// No Message-ID: size and internal date (seconds since the epoch).
    Bare(u64, Option<i64>),
}

impl ServerKey {
    pub fn of_message(m: &Message) -> ServerKey {
        let size = m.bytes.len() as u64;
        match message_id(&m.bytes) {
            Some(id) => ServerKey::Id(id, size),
            None => ServerKey::Bare(size, m.date.map(|d| d.at.timestamp())),
        }
    }

    pub fn of_summary(s: &Summary) -> ServerKey {
        let size = u64::from(s.size);
        match &s.message_id {
            Some(id) => ServerKey::Id(id.clone(), size),
            None => ServerKey::Bare(size, s.internal_date.map(|d| d.timestamp())),
        }
    }

    /// The key the index files a message under: without a Message-ID only
    /// the size (the internal date then narrows the candidates, see
    /// [`ServerIndex`]).
    fn indexed(&self) -> ServerKey {
        match self {
            ServerKey::Id(..) => self.clone(),
            ServerKey::Bare(size, _) => ServerKey::Bare(*size, None),
        }
    }
}

/// Server messages, by [`ServerKey`], each claimed by at most one source
/// message:
///
/// - with a Message-ID: a Message-ID and size one server message holds is
///   claimed on the key alone; one several hold is claimed only by the
///   source message whose fingerprint matches a body hash;
/// - without: the one server message of that size whose internal date is
///   the source message's date is claimed on that; when none or several
///   match (the source has no date, or the first run chose another), the
///   body hashes of the candidates decide.
///
/// Hashes are read only when needed ([`ServerIndex::needs_hashes`], then
/// [`ServerIndex::add_hashes`]).
#[derive(Debug, Default)]
pub struct ServerIndex {
    /// Unclaimed UIDs per indexed key, ascending.
    by_key: HashMap<ServerKey, Vec<u32>>,
    /// Keys several server messages share (Message-ID and size; without
    /// Message-ID, size and internal date), as read: once a tie, always
    /// told apart by hash.
    repeated: HashSet<ServerKey>,
    /// Internal date (seconds) of each server message without Message-ID.
    dates: HashMap<u32, Option<i64>>,
    /// Body hashes read so far.
    hashes: HashMap<u32, Fingerprint>,
}

impl ServerIndex {
    pub fn from_summaries(all: &[Summary]) -> ServerIndex {
        let mut ix = ServerIndex::default();
        let mut seen = HashSet::new();
        for s in all {
            let key = ServerKey::of_summary(s);
            if let ServerKey::Bare(_, date) = key {
                ix.dates.insert(s.uid, date);
            }
            ix.by_key.entry(key.indexed()).or_default().push(s.uid);
            if !seen.insert(key.clone()) {
                ix.repeated.insert(key);
            }
        }
        for uids in ix.by_key.values_mut() {
            uids.sort_unstable();
        }
        ix
    }

    /// Server messages not claimed yet.
    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The unclaimed server messages that may be the source message with
    /// `key`, and whether their body hashes must decide.
    fn candidates(&self, key: &ServerKey) -> (Vec<u32>, bool) {
        let indexed = key.indexed();
        let Some(uids) = self.by_key.get(&indexed) else {
            return (Vec::new(), false);
        };
        match key {
            ServerKey::Id(..) => (uids.clone(), self.repeated.contains(&indexed)),
            ServerKey::Bare(_, date) => {
                let dated: Vec<u32> = match date {
                    Some(_) => uids
                        .iter()
                        .copied()
                        .filter(|u| self.dates.get(u) == Some(date))
                        .collect(),
                    None => Vec::new(),
                };
                match dated.len() {
                    0 => (uids.clone(), true),
                    1 if !self.repeated.contains(key) => (dated, false),
                    _ => (dated, true),
                }
            }
        }
    }

    /// The UIDs whose body hash must be read before a message with `key`
    /// can be claimed (empty: none).
    pub fn needs_hashes(&self, key: &ServerKey) -> Vec<u32> {
        match self.candidates(key) {
            (uids, true) => uids
                .into_iter()
                .filter(|u| !self.hashes.contains_key(u))
                .collect(),
            (_, false) => Vec::new(),
        }
    }

    /// The body hashes of `asked`; an asked UID not answered is gone from
    /// the server (expunged since) and forgotten.
    pub fn add_hashes(&mut self, asked: &[u32], got: Vec<(u32, Fingerprint)>) {
        self.hashes.extend(got);
        let gone: HashSet<u32> = asked
            .iter()
            .copied()
            .filter(|u| !self.hashes.contains_key(u))
            .collect();
        if !gone.is_empty() {
            for uids in self.by_key.values_mut() {
                uids.retain(|u| !gone.contains(u));
            }
        }
    }

    /// Claims the server message that is the source message with `key` and
    /// fingerprint `fp`: its UID, or `None` when the server has none (left).
    /// Call after the hashes [`ServerIndex::needs_hashes`] names are added;
    /// candidates whose hashes are missing are never claimed (sending again
    /// may double, guessing may lose).
    pub fn claim(&mut self, key: &ServerKey, fp: &Fingerprint) -> Option<u32> {
        let (candidates, by_hash) = self.candidates(key);
        let uid = if by_hash {
            candidates
                .into_iter()
                .find(|u| self.hashes.get(u) == Some(fp))?
        } else {
            *candidates.first()?
        };
        let uids = self.by_key.get_mut(&key.indexed())?;
        uids.retain(|&u| u != uid);
        Some(uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(uid: u32, size: u32, id: Option<&str>) -> Summary {
        Summary {
            uid,
            size,
            internal_date: None,
            message_id: id.map(String::from),
        }
    }

    fn fp(n: u8) -> Fingerprint {
        Fingerprint::of(&[n])
    }

    /// A unique Message-ID+size is claimed on the key, once.
    #[test]
    fn unique_key_is_claimed_once_without_hashes() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 11, Some("<a>")),
        ]);
        let a = ServerKey::Id("<a>".into(), 10);
        assert!(ix.needs_hashes(&a).is_empty());
        assert_eq!(ix.claim(&a, &fp(9)), Some(1));
        assert_eq!(ix.claim(&a, &fp(9)), None);
        assert_eq!(ix.claim(&ServerKey::Id("<b>".into(), 10), &fp(9)), None);
        assert_eq!(ix.len(), 1);
    }

    /// A Message-ID+size two server messages share is told apart by body
    /// hash: each source message claims only the one with its own body.
    #[test]
    fn repeated_ids_are_told_apart_by_hash() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 10, Some("<a>")),
        ]);
        let a = ServerKey::Id("<a>".into(), 10);
        assert_eq!(ix.needs_hashes(&a), [1, 2]);
        assert_eq!(ix.claim(&a, &fp(2)), None, "no hashes yet: no claim");
        ix.add_hashes(&[1, 2], vec![(1, fp(1)), (2, fp(2))]);
        assert!(ix.needs_hashes(&a).is_empty());
        assert_eq!(ix.claim(&a, &fp(3)), None, "another body with the same key");
        assert_eq!(ix.claim(&a, &fp(2)), Some(2));
        assert_eq!(ix.claim(&a, &fp(1)), Some(1));
        assert_eq!(ix.claim(&a, &fp(1)), None);
        assert!(ix.is_empty());
    }

    /// Without Message-ID: the one message of that size and internal date
    /// is claimed on that; several of that size and date, or none of that
    /// date (the source has no date, or another was chosen), are told
    /// apart by hash; an asked UID not answered is gone.
    #[test]
    fn bare_messages_by_date_then_hash() {
        let dated = |uid, size, secs| Summary {
            internal_date: chrono::DateTime::from_timestamp(secs, 0).map(|d| d.fixed_offset()),
            ..summary(uid, size, None)
        };
        let mut ix = ServerIndex::from_summaries(&[
            dated(1, 7, 100),
            dated(2, 7, 200),
            dated(3, 7, 200),
            dated(4, 9, 300),
        ]);
        assert!(ix.needs_hashes(&ServerKey::Bare(7, Some(100))).is_empty());
        assert_eq!(ix.claim(&ServerKey::Bare(7, Some(100)), &fp(9)), Some(1));
        let twins = ServerKey::Bare(7, Some(200));
        assert_eq!(ix.needs_hashes(&twins), [2, 3]);
        ix.add_hashes(&[2, 3], vec![(3, fp(3))]);
        assert_eq!(ix.claim(&twins, &fp(2)), None, "UID 2 is gone");
        assert_eq!(ix.claim(&twins, &fp(3)), Some(3));
        let undated = ServerKey::Bare(9, None);
        assert_eq!(ix.needs_hashes(&undated), [4]);
        ix.add_hashes(&[4], vec![(4, fp(4))]);
        assert_eq!(ix.claim(&ServerKey::Bare(9, Some(1)), &fp(4)), Some(4));
        assert!(ix.is_empty());
    }
}
