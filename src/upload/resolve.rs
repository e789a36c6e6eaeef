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
//!   and size; where that does not tell them apart (no Message-ID, or
//!   several server messages share it) by body hash, read only then.

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
    /// the size, as an internal date is no identity (the source may have
    /// none, the server then chose its own); the body hash decides.
    fn indexed(&self) -> ServerKey {
        match self {
            ServerKey::Id(..) => self.clone(),
            ServerKey::Bare(size, _) => ServerKey::Bare(*size, None),
        }
    }
}

/// Server messages, by [`ServerKey`], each claimed by at most one source
/// message. A key held by one server message with a Message-ID is claimed
/// on the key alone; a key without Message-ID, or held by several server
/// messages, is claimed only by a message whose fingerprint matches the
/// server message's body hash ([`ServerIndex::needs_hashes`], then
/// [`ServerIndex::add_hashes`]).
#[derive(Debug, Default)]
pub struct ServerIndex {
    /// Unclaimed UIDs per key, ascending.
    by_key: HashMap<ServerKey, Vec<u32>>,
    /// Keys told apart by body hash.
    ambiguous: HashSet<ServerKey>,
    /// Body hashes read so far.
    hashes: HashMap<u32, Fingerprint>,
}

impl ServerIndex {
    pub fn from_summaries(all: &[Summary]) -> ServerIndex {
        let mut ix = ServerIndex::default();
        for s in all {
            ix.by_key
                .entry(ServerKey::of_summary(s).indexed())
                .or_default()
                .push(s.uid);
        }
        for (key, uids) in &mut ix.by_key {
            uids.sort_unstable();
            if uids.len() > 1 || matches!(key, ServerKey::Bare(..)) {
                ix.ambiguous.insert(key.clone());
            }
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

    /// The UIDs whose body hash must be read before a message with `key`
    /// can be claimed (empty: none).
    pub fn needs_hashes(&self, key: &ServerKey) -> Vec<u32> {
        let key = key.indexed();
        if !self.ambiguous.contains(&key) {
            return Vec::new();
        }
        self.by_key.get(&key).map_or_else(Vec::new, |uids| {
            uids.iter()
                .copied()
                .filter(|u| !self.hashes.contains_key(u))
                .collect()
        })
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
    /// an ambiguous key whose hashes are missing is never claimed (sending
    /// again may double, guessing may lose).
    pub fn claim(&mut self, key: &ServerKey, fp: &Fingerprint) -> Option<u32> {
        let key = key.indexed();
        let uids = self.by_key.get_mut(&key)?;
        let i = if self.ambiguous.contains(&key) {
            uids.iter().position(|u| self.hashes.get(u) == Some(fp))?
        } else if uids.is_empty() {
            return None;
        } else {
            0
        };
        Some(uids.remove(i))
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

    /// A Message-ID+size two server messages share, and messages without
    /// Message-ID (whatever their dates), are told apart by body hash: each
    /// source message claims only the one with its own body.
    #[test]
    fn repeated_or_missing_ids_are_told_apart_by_hash() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 10, Some("<a>")),
            summary(3, 7, None),
            summary(4, 7, None),
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

        let bare = ServerKey::Bare(7, Some(1_000));
        assert_eq!(ix.needs_hashes(&bare), [3, 4]);
        // UID 3 was expunged meanwhile: not answered, forgotten.
        ix.add_hashes(&[3, 4], vec![(4, fp(7))]);
        assert_eq!(ix.claim(&ServerKey::Bare(7, None), &fp(7)), Some(4));
        assert!(ix.is_empty());
    }
}
