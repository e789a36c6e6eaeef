//! The server check's index (`server_check.rs`): the messages of a target
//! mailbox the journal cannot account for, by [`ServerKey`], each claimed
//! by at most one source message. Split from `resolve.rs`, which keeps the
//! looks themselves and the key.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::fingerprint::Fingerprint;
use crate::imap::Summary;

use super::resolve::ServerKey;

/// Server messages, by [`ServerKey`], each claimed by at most one source
/// message: the key (Message-ID and size; without Message-ID, size and
/// internal date) names the candidates, the body hash decides. The source
/// is streamed, so when a message comes its look-alike (same key, another
/// body) may still be to come, and the server copy may be that one's:
/// claiming it on the key would skip a message the server does not hold.
///
/// The key alone decides only where that cannot happen: once the source's
/// Message-IDs for the mailbox are known ([`ServerIndex::know_source`],
/// `source_keys.rs`), a server message whose Message-ID is on no other
/// message the mailbox holds beyond the journal, and on exactly one source
/// message for it, is that message's when the sizes agree: claimed without
/// reading its body. (The Message-ID, not the Message-ID and size, must be
/// unique on both sides: a server that rewrites headers stores a message
/// under another size, which could be a look-alike's.) The risk left is
/// the one any key carries: a message the server held before, not from
/// this source, with the Message-ID and the size of a source message the
/// server does not hold.
///
/// Without Message-ID, the candidates are the server messages of that size
/// whose internal date is the source message's date, or all of that size
/// when none has it (the source has no date, or the first run chose
/// another).
///
/// Hashes are read in batches, in UID order from the first one needed
/// ([`ServerIndex::needs_hashes`], then [`ServerIndex::add_hashes`]): a
/// rerun meets the server's messages in the order it sent them, so one
/// FETCH serves many source messages. Messages claimed on the key are left
/// out of the batches.
#[derive(Debug, Default)]
pub struct ServerIndex {
    /// Unclaimed UIDs per indexed key, ascending.
    by_key: HashMap<ServerKey, Vec<u32>>,
    /// Size of each unclaimed server message, in UID order (for batches).
    sizes: BTreeMap<u32, u32>,
    /// Internal date (seconds) of each server message without Message-ID.
    dates: HashMap<u32, Option<i64>>,
    /// Body hashes read so far.
    hashes: HashMap<u32, Fingerprint>,
    /// UIDs asked for whose hash the server did not give, twice: expunged
    /// since, or a FETCH answered in part; a source message that may be
    /// one of them is neither claimed nor said to be absent.
    unanswered: HashSet<u32>,
    /// The server messages by [`ServerKey::sizeless`]: where a server that
    /// rewrites headers keeps a message under another size
    /// ([`ServerIndex::unclaimed_alike`]).
    alike: HashMap<ServerKey, Vec<Summary>>,
    /// Server messages to be claimed on their key alone, without a body
    /// hash ([`ServerIndex::know_source`]).
    alone: HashSet<u32>,
}

/// Hashes read in one FETCH: at most this many messages…
const HASH_BATCH_MESSAGES: usize = 256;
/// …and, past the first, this many bytes.
const HASH_BATCH_BYTES: u64 = 16 << 20;

/// What [`ServerIndex::claim`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The server holds it: this UID, now claimed.
    There(u32),
    /// The server holds no unclaimed message with its body.
    Absent,
    /// A candidate's hash could not be read: no verdict.
    Unknown,
}

impl ServerIndex {
    pub fn from_summaries(all: &[Summary]) -> ServerIndex {
        let mut ix = ServerIndex::default();
        for s in all {
            let key = ServerKey::of_summary(s);
            if let ServerKey::Bare(_, date) = key {
                ix.dates.insert(s.uid, date);
            }
            ix.by_key.entry(key.indexed()).or_default().push(s.uid);
            ix.alike.entry(key.sizeless()).or_default().push(s.clone());
            ix.sizes.insert(s.uid, s.size);
        }
        for uids in ix.by_key.values_mut() {
            uids.sort_unstable();
        }
        ix
    }

    /// Server messages not claimed yet.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// The bytes of the server messages whose Message-ID no other one here
    /// has: at most what knowing the source's Message-IDs
    /// ([`ServerIndex::know_source`]) spares reading (0: the key pre-pass
    /// would buy nothing).
    pub fn bytes_claimable_by_key(&self) -> u64 {
        self.alike
            .iter()
            .filter_map(|(k, v)| match (k, v.as_slice()) {
                (ServerKey::Id(..), [s]) => Some(u64::from(s.size)),
                _ => None,
            })
            .sum()
    }

    /// Learns which Message-IDs occur on exactly one source message for
    /// this mailbox (`once`): each server message whose Message-ID is
    /// among them and on no other server message here is to be claimed on
    /// its key alone.
    pub fn know_source(&mut self, once: impl Fn(&str) -> bool) {
        for (key, summaries) in &self.alike {
            if let (ServerKey::Id(id, _), [s]) = (key, summaries.as_slice())
                && once(id)
            {
                self.alone.insert(s.uid);
            }
        }
    }

    /// The unclaimed server messages that may be the source message with
    /// `key`.
    fn candidates(&self, key: &ServerKey) -> Vec<u32> {
        let Some(uids) = self.by_key.get(&key.indexed()) else {
            return Vec::new();
        };
        match key {
            ServerKey::Id(..) => uids.clone(),
            ServerKey::Bare(_, date) => {
                let dated: Vec<u32> = match date {
                    Some(_) => uids
                        .iter()
                        .copied()
                        .filter(|u| self.dates.get(u) == Some(date))
                        .collect(),
                    None => Vec::new(),
                };
                if dated.is_empty() {
                    uids.clone()
                } else {
                    dated
                }
            }
        }
    }

    /// The UIDs whose body hash to read before a message with `key` can be
    /// claimed (empty: none): its candidates not hashed yet, then the
    /// unclaimed unhashed messages after them in UID order, up to a batch.
    pub fn needs_hashes(&self, key: &ServerKey) -> Vec<u32> {
        let mut need: Vec<u32> = self
            .candidates(key)
            .into_iter()
            .filter(|u| !self.hashed_or_alone(*u))
            .collect();
        let Some(&first) = need.first() else {
            return need;
        };
        let mut bytes: u64 = need
            .iter()
            .map(|u| u64::from(self.sizes.get(u).copied().unwrap_or(0)))
            .sum();
        for (&uid, &size) in self.sizes.range(first + 1..) {
            if need.len() >= HASH_BATCH_MESSAGES || bytes >= HASH_BATCH_BYTES {
                break;
            }
            if self.hashed_or_alone(uid) || need.contains(&uid) {
                continue;
            }
            need.push(uid);
            bytes += u64::from(size);
        }
        need.sort_unstable();
        need
    }

    /// True when `uid`'s body hash is read (or was asked for twice in
    /// vain), or is not needed: claimed on its key alone.
    fn hashed_or_alone(&self, uid: u32) -> bool {
        self.hashes.contains_key(&uid)
            || self.unanswered.contains(&uid)
            || self.alone.contains(&uid)
    }

    /// The body hashes the server gave; UIDs of `asked` it left out are
    /// returned (ask once more, then [`ServerIndex::unanswered`]).
    pub fn add_hashes(&mut self, asked: &[u32], got: Vec<(u32, Fingerprint)>) -> Vec<u32> {
        self.hashes.extend(got);
        asked
            .iter()
            .copied()
            .filter(|u| !self.hashes.contains_key(u))
            .collect()
    }

    /// `uids` were asked for twice and not answered.
    pub fn unanswered(&mut self, uids: &[u32]) {
        self.unanswered.extend(uids);
    }

    /// Claims the server message that is the source message with `key` and
    /// fingerprint `fp`: the candidate to be claimed on its key alone
    /// ([`ServerIndex::know_source`]), else a candidate whose body hash is
    /// `fp`. Call after the hashes [`ServerIndex::needs_hashes`] names are
    /// added.
    pub fn claim(&mut self, key: &ServerKey, fp: &Fingerprint) -> Claim {
        let candidates = self.candidates(key);
        let alone = match candidates.as_slice() {
            [uid] if self.alone.contains(uid) => Some(*uid),
            _ => None,
        };
        let Some(uid) = alone.or_else(|| {
            candidates
                .iter()
                .copied()
                .find(|u| self.hashes.get(u) == Some(fp))
        }) else {
            return if candidates.iter().any(|u| !self.hashes.contains_key(u)) {
                Claim::Unknown
            } else {
                Claim::Absent
            };
        };
        if let Some(uids) = self.by_key.get_mut(&key.indexed()) {
            uids.retain(|&u| u != uid);
        }
        self.sizes.remove(&uid);
        Claim::There(uid)
    }

    /// The unclaimed server messages with the Message-ID of `key` (without
    /// one: its internal date, or that date's `wall_clock` time at +0000,
    /// as imap4d stores it), whatever their size: the candidates of
    /// [`match_rewritten`](super::resolve::match_rewritten) (none for a key without either).
    pub fn unclaimed_alike(&self, key: &ServerKey, wall_clock: Option<i64>) -> Vec<Summary> {
        let mut keys = vec![key.sizeless()];
        match key {
            ServerKey::Bare(_, None) => return Vec::new(),
            ServerKey::Bare(_, date) if wall_clock.is_some() && wall_clock != *date => {
                keys.push(ServerKey::Bare(0, wall_clock));
            }
            _ => {}
        }
        keys.iter()
            .filter_map(|k| self.alike.get(k))
            .flatten()
            .filter(|s| self.sizes.contains_key(&s.uid))
            .cloned()
            .collect()
    }

    /// Claims `s` (one of [`ServerIndex::unclaimed_alike`], matched by
    /// [`match_rewritten`](super::resolve::match_rewritten)).
    pub fn claim_summary(&mut self, s: &Summary) {
        if let Some(uids) = self.by_key.get_mut(&ServerKey::of_summary(s).indexed()) {
            uids.retain(|&u| u != s.uid);
        }
        self.sizes.remove(&s.uid);
    }
}

#[cfg(test)]
mod tests {
    use super::super::resolve::tests::summary;
    use super::*;

    fn fp(n: u8) -> Fingerprint {
        Fingerprint::of(&[n])
    }

    /// Hashes `ix` needs for `key` from `bodies` (UID → fingerprint), as
    /// the server would answer them; returns what was asked.
    fn hash_for(ix: &mut ServerIndex, key: &ServerKey, bodies: &[(u32, Fingerprint)]) -> Vec<u32> {
        let need = ix.needs_hashes(key);
        let got = bodies
            .iter()
            .filter(|b| need.contains(&b.0))
            .copied()
            .collect();
        assert!(ix.add_hashes(&need, got).is_empty());
        need
    }

    /// A unique Message-ID+size names the candidate, its body confirms it:
    /// claimed once, by the message with that body only.
    #[test]
    fn unique_key_is_confirmed_by_hash() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 11, Some("<a>")),
        ]);
        let a = ServerKey::Id("<a>".into(), 10);
        assert_eq!(
            ix.claim(&a, &fp(1)),
            Claim::Unknown,
            "no hash yet: no verdict"
        );
        // The first hash read takes the next UIDs along.
        assert_eq!(hash_for(&mut ix, &a, &[(1, fp(1)), (2, fp(2))]), [1, 2]);
        assert!(ix.needs_hashes(&a).is_empty());
        assert_eq!(ix.claim(&a, &fp(9)), Claim::Absent, "a look-alike");
        assert_eq!(ix.claim(&a, &fp(1)), Claim::There(1));
        assert_eq!(ix.claim(&a, &fp(1)), Claim::Absent);
        assert_eq!(
            ix.claim(&ServerKey::Id("<b>".into(), 10), &fp(1)),
            Claim::Absent
        );
        assert_eq!(ix.len(), 1);
    }

    /// Look-alikes (one Message-ID and size, other bodies) when the server
    /// holds only the second: the first, met first, does not take its copy.
    #[test]
    fn a_look_alike_met_first_is_not_skipped() {
        let mut ix = ServerIndex::from_summaries(&[summary(5, 10, Some("<a>"))]);
        let a = ServerKey::Id("<a>".into(), 10);
        hash_for(&mut ix, &a, &[(5, fp(2))]);
        assert_eq!(ix.claim(&a, &fp(1)), Claim::Absent, "the first is sent");
        assert_eq!(ix.claim(&a, &fp(2)), Claim::There(5), "the second is there");
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
        assert_eq!(
            ix.claim(&a, &fp(2)),
            Claim::Unknown,
            "no hashes yet: no claim"
        );
        assert!(
            ix.add_hashes(&[1, 2], vec![(1, fp(1)), (2, fp(2))])
                .is_empty()
        );
        assert!(ix.needs_hashes(&a).is_empty());
        assert_eq!(
            ix.claim(&a, &fp(3)),
            Claim::Absent,
            "another body with the same key"
        );
        assert_eq!(ix.claim(&a, &fp(2)), Claim::There(2));
        assert_eq!(ix.claim(&a, &fp(1)), Claim::There(1));
        assert_eq!(ix.claim(&a, &fp(1)), Claim::Absent);
        assert!(ix.is_empty());
    }

    /// Without Message-ID: the messages of that size and internal date are
    /// the candidates (all of that size when none has the date); a UID the
    /// server does not answer for leaves its look-alikes without verdict.
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
        assert_eq!(
            ix.needs_hashes(&ServerKey::Bare(7, Some(100))),
            [1, 2, 3, 4]
        );
        let twins = ServerKey::Bare(7, Some(200));
        assert_eq!(ix.needs_hashes(&twins), [2, 3, 4]);
        assert_eq!(
            ix.add_hashes(&[1, 2, 3, 4], vec![(1, fp(1)), (3, fp(3)), (4, fp(4))]),
            [2]
        );
        assert_eq!(
            ix.claim(&ServerKey::Bare(7, Some(100)), &fp(1)),
            Claim::There(1)
        );
        ix.unanswered(&[2]);
        assert!(ix.needs_hashes(&twins).is_empty());
        assert_eq!(ix.claim(&twins, &fp(2)), Claim::Unknown, "UID 2 unanswered");
        assert_eq!(ix.claim(&twins, &fp(3)), Claim::There(3));
        assert_eq!(
            ix.claim(&ServerKey::Bare(9, Some(1)), &fp(4)),
            Claim::There(4)
        );
        assert_eq!(ix.len(), 1);
    }

    /// A batch of hashes runs in UID order from the first needed, bounded
    /// by count and by bytes.
    #[test]
    fn hashes_are_read_in_batches() {
        let many: Vec<Summary> = (1..=300)
            .map(|u| summary(u, 10, Some(&format!("<{u}>"))))
            .collect();
        let ix = ServerIndex::from_summaries(&many);
        let need = ix.needs_hashes(&ServerKey::Id("<10>".into(), 10));
        assert_eq!(need.len(), HASH_BATCH_MESSAGES);
        assert_eq!((need[0], need[need.len() - 1]), (10, 265));
        let big = [
            summary(1, 20 << 20, Some("<1>")),
            summary(2, 10, Some("<2>")),
        ];
        let ix = ServerIndex::from_summaries(&big);
        assert_eq!(ix.needs_hashes(&ServerKey::Id("<1>".into(), 20 << 20)), [1]);
    }

    /// Once the source's Message-IDs are known: a Message-ID once in the
    /// source and once here is claimed on its key without a hash, and left
    /// out of other messages' hash batches; one twice in the source, or
    /// twice here (under two sizes: a server that rewrites headers may
    /// keep a look-alike under this one's size), still needs the body.
    #[test]
    fn keys_unique_on_both_sides_need_no_body() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 10, Some("<b>")),
            summary(3, 10, Some("<c>")),
            summary(4, 12, Some("<c>")),
            summary(5, 10, Some("<d>")),
        ]);
        assert_eq!(ix.bytes_claimable_by_key(), 30, "<a>, <b>, <d>");
        ix.know_source(|id| id != "<b>");
        let a = ServerKey::Id("<a>".into(), 10);
        assert!(ix.needs_hashes(&a).is_empty());
        assert_eq!(ix.claim(&a, &fp(9)), Claim::There(1), "no body read");
        assert_eq!(ix.claim(&a, &fp(9)), Claim::Absent, "claimed once");
        let b = ServerKey::Id("<b>".into(), 10);
        assert_eq!(
            hash_for(&mut ix, &b, &[(2, fp(2)), (3, fp(3)), (4, fp(4))]),
            [2, 3, 4]
        );
        assert_eq!(ix.claim(&b, &fp(1)), Claim::Absent, "a look-alike of 2");
        assert_eq!(ix.claim(&b, &fp(2)), Claim::There(2));
        let c = ServerKey::Id("<c>".into(), 10);
        assert_eq!(ix.claim(&c, &fp(9)), Claim::Absent, "hashed: not this body");
        let d = ServerKey::Id("<d>".into(), 10);
        assert!(ix.needs_hashes(&d).is_empty());
        assert_eq!(ix.claim(&d, &fp(9)), Claim::There(5));
        // Unknown source (no pre-pass): every claim needs its body.
        let ix = ServerIndex::from_summaries(&[summary(1, 10, Some("<a>"))]);
        assert_eq!(ix.needs_hashes(&a), [1]);
        // Nothing unique here: the pre-pass would buy nothing.
        let twice = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 11, Some("<a>")),
            summary(3, 10, None),
        ]);
        assert_eq!(twice.bytes_claimable_by_key(), 0);
    }
}
