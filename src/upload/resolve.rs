//! Looking instead of guessing: what is already on the server.
//!
//! - [`find_landed`]: a batch whose tagged answer never came (connection
//!   lost, BYE, timeout, a killed run) is resolved by comparing the
//!   mailbox with the STATUS recorded just before the batch: if UIDNEXT has
//!   not moved nothing landed; otherwise the messages from that UID on are
//!   looked at cheaply, size and Message-ID first ([`MailServer::fetch_summaries_from`]),
//!   and bodies are hashed only for the candidates that tie
//!   ([`MailServer::fetch_hashes`]), so a look costs a few bytes per
//!   message whatever their size. Each server message matches at most one
//!   of ours; other deliveries racing into the mailbox cannot fool it. It
//!   first waits for UIDNEXT to settle, the longer the bigger the batch:
//!   the server may still be storing commands the dead connection had in
//!   flight.
//! - [`ServerKey`]: how a message is recognized on the server without its
//!   bytes, for the server check's index (`server_index.rs`) and `verify`.
//! - [`left_out`]: the one test of a FETCH answered in part, for both.
//! - [`match_rewritten`]: the rule for servers that rewrite headers on
//!   store (sizes differ from what was sent): the same Message-ID (without
//!   one, the same internal date) and the same text hash. Used by both of
//!   the above, read only for such candidates of another size.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::fingerprint::{Fingerprint, message_id};
use crate::imap::{ImapError, Summary};
use crate::journal::{Before, Landed};
use crate::message::Message;

use super::server::MailServer;

/// What is known of a message looked for: its fingerprint (SHA-256 of the
/// bytes sent, which the server stores as sent), and when known its size,
/// Message-ID, the fingerprint of its text ([`Fingerprint::of_text`]) and
/// its internal date (seconds), for servers that rewrite headers: see
/// [`match_rewritten`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub fp: Fingerprint,
    pub size: Option<u64>,
    pub message_id: Option<String>,
    pub text: Option<Fingerprint>,
    pub date: Option<i64>,
    /// The internal date's wall-clock time read as UTC (seconds): where
    /// GNU imap4d keeps an APPEND date whose zone it drops
    /// (`11:51 -0600` is stored as `11:51 +0000`).
    pub wall_clock: Option<i64>,
}

impl Wanted {
    pub fn of_bytes(bytes: &[u8]) -> Wanted {
        Wanted {
            fp: Fingerprint::of(bytes),
            size: Some(bytes.len() as u64),
            message_id: message_id(bytes),
            text: Some(Fingerprint::of_text(bytes)),
            date: None,
            wall_clock: None,
        }
    }

    /// What a look needs to find `m` (fingerprint `fp`) on the server.
    pub fn of_message(m: &Message, fp: Fingerprint) -> Wanted {
        Wanted {
            fp,
            size: Some(m.bytes.len() as u64),
            message_id: m.message_id().map(str::to_owned),
            text: Some(Fingerprint::of_text(&m.bytes)),
            date: m.date.map(|d| d.at.timestamp()),
            wall_clock: m.date.map(|d| d.at.naive_local().and_utc().timestamp()),
        }
    }

    /// True when `s` may be this message stored with its header rewritten
    /// (servers like GNU imap4d add header fields on store): another size
    /// and the same Message-ID, or without Message-ID (neither has one) the
    /// same internal date (or its wall-clock time at +0000: imap4d drops
    /// the zone of an APPEND date). Only its text's fingerprint can then tell (the
    /// Message-ID alone is no proof: a mailing-list message received twice,
    /// directly and via the list, shares it with another body).
    fn may_be_rewritten(&self, s: &Summary) -> bool {
        let Some(size) = self.size else { return false };
        if self.text.is_none() || u64::from(s.size) == size {
            return false;
        }
        match (&self.message_id, &s.message_id) {
            (Some(a), Some(b)) => a == b,
            (None, None) => {
                let stored = s.internal_date.map(|d| d.timestamp());
                stored.is_some() && (stored == self.date || stored == self.wall_clock)
            }
            _ => false,
        }
    }

    /// True when `s` may be this message: same size (when known), and no
    /// other Message-ID.
    fn may_be(&self, s: &Summary) -> bool {
        self.size.is_none_or(|n| n == u64::from(s.size))
            && !matches!((&self.message_id, &s.message_id), (Some(a), Some(b)) if a != b)
    }

    /// The size and Message-ID, when both are known.
    fn key(&self) -> Option<(u64, &str)> {
        Some((self.size?, self.message_id.as_deref()?))
    }
}

/// What a look at a mailbox found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Look {
    /// For each message looked for, where it landed, or `None`: not there.
    Found(Vec<Option<Landed>>),
    /// The server's answers do not account for every message it holds
    /// since the snapshot (a FETCH answered in part): no verdict.
    Incomplete(String),
}

/// For each of `wanted`, where it landed in `mailbox` since `before`, or
/// `None` if it is not there. `exclude`: UIDs already accounted for
/// (confirmed earlier in this run or journaled). A look that cannot
/// account for every message the mailbox gained since `before` (its
/// MESSAGES count) gives no verdict ([`Look::Incomplete`]).
pub fn find_landed(
    server: &mut dyn MailServer,
    mailbox: &str,
    before: Before,
    wanted: &[Wanted],
    exclude: &HashSet<u32>,
) -> Result<Look, ImapError> {
    let none = Look::Found(vec![None; wanted.len()]);
    let in_flight = wanted.iter().filter_map(|w| w.size).sum();
    settle_after(server, mailbox, in_flight)?;
    let sel = server.select(mailbox)?;
    if before.uidvalidity.is_some() && sel.uid_validity != before.uidvalidity {
        // The mailbox was recreated since: whatever landed then is gone.
        return Ok(none);
    }
    if before.uidnext.is_some() && sel.uid_next == before.uidnext {
        return Ok(none);
    }
    let all = server.fetch_summaries_from(before.uidnext.unwrap_or(1))?;
    if let Some(why) = before
        .messages
        .and_then(|had| left_out(sel.exists, had, all.len()))
    {
        return Ok(Look::Incomplete(why));
    }
    let summaries: Vec<Summary> = all
        .into_iter()
        .filter(|s| !exclude.contains(&s.uid))
        .collect();
    let mut uids = match match_summaries(wanted, &summaries, |uids| server.fetch_hashes(uids))? {
        Ok(uids) => uids,
        Err(why) => return Ok(Look::Incomplete(why)),
    };
    if let Err(why) = match_rewritten(wanted, &summaries, &mut uids, |uids| {
        server.fetch_text_hashes(uids)
    })? {
        return Ok(Look::Incomplete(why));
    }
    Ok(Look::Found(
        uids.into_iter()
            .map(|uid| {
                uid.map(|uid| Landed {
                    uidvalidity: sel.uid_validity,
                    uid: Some(uid),
                })
            })
            .collect(),
    ))
}

/// Why a FETCH of the UIDs from some point on was answered in part, if it
/// was: the mailbox holds `exists` messages, at most `had` of them before
/// that point, yet the answer described fewer than the rest, even if none
/// was expunged. The one test of an incomplete look, for the recovery
/// ([`Look::Incomplete`]) and the server check alike.
pub fn left_out(exists: u32, had: u32, described: usize) -> Option<String> {
    (u64::from(exists) > u64::from(had) + described as u64).then(|| {
        format!(
            "the server holds {exists} messages, at most {had} of them before the UIDs asked for, but described only {described} of the rest (a FETCH answered in part)"
        )
    })
}

/// Pairs `wanted` with server messages: a size and Message-ID that only one
/// wanted message and only one server message share is a match; any other
/// candidate (same size, Message-ID missing or repeated) is decided by the
/// body's fingerprint, fetched (`hashes`) only for those candidates. The
/// inner `Err`: the hashes did not cover every candidate (no verdict).
pub fn match_summaries(
    wanted: &[Wanted],
    summaries: &[Summary],
    hashes: impl FnOnce(&[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError>,
) -> Result<Result<Vec<Option<u32>>, String>, ImapError> {
    let mut key_count: HashMap<(u64, &str), (usize, usize)> = HashMap::new();
    for w in wanted {
        if let Some(k) = w.key() {
            key_count.entry(k).or_default().0 += 1;
        }
    }
    for s in summaries {
        if let Some(id) = &s.message_id {
            let k = (u64::from(s.size), id.as_str());
            if let Some(c) = key_count.get_mut(&k) {
                c.1 += 1;
            }
        }
    }
    let mut out: Vec<Option<u32>> = vec![None; wanted.len()];
    let mut taken: HashSet<u32> = HashSet::new();
    for (i, w) in wanted.iter().enumerate() {
        let Some(k) = w.key() else { continue };
        if key_count.get(&k) == Some(&(1, 1))
            && let Some(s) = summaries
                .iter()
                .find(|s| s.message_id.as_deref() == Some(k.1) && u64::from(s.size) == k.0)
        {
            out[i] = Some(s.uid);
            taken.insert(s.uid);
        }
    }
    let mut candidates: Vec<u32> = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        for s in summaries.iter().filter(|s| w.may_be(s)) {
            if !taken.contains(&s.uid) && !candidates.contains(&s.uid) {
                candidates.push(s.uid);
            }
        }
    }
    if candidates.is_empty() {
        return Ok(Ok(out));
    }
    candidates.sort_unstable();
    let mut by_fp: HashMap<Fingerprint, Vec<u32>> = HashMap::new();
    let mut hashed = HashSet::new();
    for (uid, fp) in hashes(&candidates)? {
        if candidates.binary_search(&uid).is_ok() && hashed.insert(uid) {
            by_fp.entry(fp).or_default().push(uid);
        }
    }
    if hashed.len() < candidates.len() {
        return Ok(Err(format!(
            "asked for the fingerprints of {} messages, the server gave {}",
            candidates.len(),
            hashed.len()
        )));
    }
    for (i, w) in wanted.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        if let Some(uids) = by_fp.get_mut(&w.fp)
            && let Some(p) = uids.iter().position(|u| !taken.contains(u))
        {
            let uid = uids.remove(p);
            taken.insert(uid);
            out[i] = Some(uid);
        }
    }
    Ok(Ok(out))
}

/// The rule for servers that rewrite headers on store but keep the text
/// (GNU imap4d): a server message with a wanted message's Message-ID (or
/// without one, its internal date) but another size
/// (`Wanted::may_be_rewritten`) is that message when the fingerprint of
/// its text (`BODY[TEXT]`) is the wanted message's
/// ([`Fingerprint::of_text`]). Fills the `None`s of `found` (wanted
/// messages not matched otherwise) from `summaries`, each server message
/// at most once and never one already in `found`. `text_hashes` is asked
/// only for the candidates, and not at all when there are none (servers
/// that store messages as sent never pay). The inner `Err`: the hashes
/// did not cover every candidate (no verdict).
///
/// Without Message-ID the proof is weaker: the same internal date to the
/// second (or imap4d's reading of it: its wall-clock time at +0000) and
/// the same text. It is accepted (sending such messages again
/// on every rerun would double them for certain); a message is lost only
/// if the mailbox already held another one without Message-ID, of the same
/// second and text, that no other source message claims. Bounded: only
/// server messages of that very date (or wall-clock time) are candidates.
pub fn match_rewritten(
    wanted: &[Wanted],
    summaries: &[Summary],
    found: &mut [Option<u32>],
    text_hashes: impl FnOnce(&[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError>,
) -> Result<Result<(), String>, ImapError> {
    let mut taken: HashSet<u32> = found.iter().flatten().copied().collect();
    let mut candidates: Vec<u32> = Vec::new();
    for (w, _) in wanted.iter().zip(found.iter()).filter(|(_, f)| f.is_none()) {
        for s in summaries.iter().filter(|s| w.may_be_rewritten(s)) {
            if !taken.contains(&s.uid) && !candidates.contains(&s.uid) {
                candidates.push(s.uid);
            }
        }
    }
    if candidates.is_empty() {
        return Ok(Ok(()));
    }
    let mut texts: HashMap<u32, Fingerprint> = HashMap::new();
    for (uid, fp) in text_hashes(&candidates)? {
        if candidates.contains(&uid) {
            texts.insert(uid, fp);
        }
    }
    if texts.len() < candidates.len() {
        return Ok(Err(format!(
            "asked for the text fingerprints of {} messages, the server gave {}",
            candidates.len(),
            texts.len()
        )));
    }
    for (w, f) in wanted.iter().zip(found.iter_mut()) {
        if f.is_some() {
            continue;
        }
        let uid = summaries
            .iter()
            .filter(|s| w.may_be_rewritten(s) && !taken.contains(&s.uid))
            .map(|s| s.uid)
            .find(|u| texts.get(u) == w.text.as_ref());
        if let Some(uid) = uid {
            taken.insert(uid);
            *f = Some(uid);
        }
    }
    Ok(Ok(()))
}

/// Pause between two looks at UIDNEXT while waiting for it to settle
/// (unit tests' scripted server stores at once).
const SETTLE_PAUSE: Duration = Duration::from_millis(if cfg!(test) { 1 } else { 200 });
/// UIDNEXT must be the same on this many looks in a row (so unchanged for
/// 600 ms): a loaded server may take a few hundred ms to fsync one batch.
const SETTLE_STABLE_LOOKS: usize = 4;
/// Looks at most this many times more than the stable looks asked for.
const SETTLE_MORE_LOOKS: usize = 26;
/// Bytes in flight per extra stable look (a 200 ms pause): a loaded server
/// is taken to store at least 10 MiB/s, so a batch of 16 MiB whose fate is
/// unknown is given 1.6 s more, a 70 MB message 6.8 s (UIDNEXT moves only
/// once a message is stored whole: a big one being written looks settled).
const SETTLE_BYTES_PER_LOOK: u64 = 2 * 1024 * 1024;
/// At most this many stable looks however big the batch (30 s).
const SETTLE_MAX_STABLE_LOOKS: usize = 150;

/// Waits until `mailbox`'s UIDNEXT stays the same for a while: the server
/// may still be storing what the dead connection had sent (commands in
/// flight, already in its input buffer; under load one save and its fsync
/// can take hundreds of ms) when the new connection looks; judging then
/// would send those messages again.
pub(super) fn settle(server: &mut dyn MailServer, mailbox: &str) -> Result<(), ImapError> {
    settle_after(server, mailbox, 0)
}

/// [`settle`], after a batch of `in_flight` bytes whose fate is unknown:
/// the bigger the batch, the longer UIDNEXT must stay the same.
pub(super) fn settle_after(
    server: &mut dyn MailServer,
    mailbox: &str,
    in_flight: u64,
) -> Result<(), ImapError> {
    let stable = stable_looks(in_flight);
    let mut last = server.status(mailbox)?.uid_next;
    let mut same = 1;
    for _ in 1..stable + SETTLE_MORE_LOOKS {
        std::thread::sleep(SETTLE_PAUSE);
        let now = server.status(mailbox)?.uid_next;
        if now == last {
            same += 1;
            if same >= stable {
                break;
            }
        } else {
            same = 1;
            last = now;
        }
    }
    Ok(())
}

/// How many looks in a row UIDNEXT must stay the same after a batch of
/// `in_flight` bytes.
fn stable_looks(in_flight: u64) -> usize {
    let extra = usize::try_from(in_flight.div_ceil(SETTLE_BYTES_PER_LOOK)).unwrap_or(usize::MAX);
    SETTLE_STABLE_LOOKS
        .saturating_add(extra)
        .min(SETTLE_MAX_STABLE_LOOKS)
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
        match m.message_id() {
            Some(id) => ServerKey::Id(id.to_owned(), size),
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

    /// The key without the size (a server that rewrites headers changes it).
    pub(super) fn sizeless(&self) -> ServerKey {
        match self {
            ServerKey::Id(id, _) => ServerKey::Id(id.clone(), 0),
            ServerKey::Bare(_, date) => ServerKey::Bare(0, *date),
        }
    }

    /// The key the index files a message under: without a Message-ID only
    /// the size (the internal date then narrows the candidates, see
    /// `server_index.rs`).
    pub(super) fn indexed(&self) -> ServerKey {
        match self {
            ServerKey::Id(..) => self.clone(),
            ServerKey::Bare(size, _) => ServerKey::Bare(*size, None),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A server message's summary, without internal date.
    pub(crate) fn summary(uid: u32, size: u32, id: Option<&str>) -> Summary {
        Summary {
            uid,
            size,
            internal_date: None,
            message_id: id.map(String::from),
        }
    }

    fn wanted(bytes: &[u8]) -> Wanted {
        Wanted::of_bytes(bytes)
    }

    /// A batch of unknown fate is given time by its size: 600 ms for a
    /// small one, 1.6 s more per 16 MiB, at most 30 s.
    #[test]
    fn bigger_batches_settle_longer() {
        assert_eq!(stable_looks(0), 4);
        assert_eq!(stable_looks(1), 5);
        assert_eq!(stable_looks(16 * 1024 * 1024), 12);
        assert_eq!(stable_looks(70_000_000), 4 + 34);
        assert_eq!(stable_looks(u64::MAX), SETTLE_MAX_STABLE_LOOKS);
    }

    /// A unique (size, Message-ID) is enough; a repeated one, or none, is
    /// settled by hashes of the candidates only (same size, no other id).
    #[test]
    fn matching_hashes_only_ties() {
        let a = b"Message-ID: <a>\r\n\r\none".to_vec();
        let b1 = b"Message-ID: <b>\r\n\r\ntwo".to_vec();
        let b2 = b"Message-ID: <b>\r\n\r\nTWO".to_vec();
        let n = b"Subject: none\r\n\r\nx".to_vec();
        let sum = |uid: u32, m: &[u8]| Summary {
            uid,
            size: m.len() as u32,
            internal_date: None,
            message_id: message_id(m),
        };
        let other = b"Message-ID: <zz>\r\n\r\nthree".to_vec();
        let server = [
            sum(10, &b2),
            sum(11, &a),
            sum(12, &n),
            sum(13, &b1),
            sum(14, &other),
        ];
        let want = [
            wanted(&a),
            wanted(&b1),
            wanted(&b2),
            wanted(&n),
            wanted(b"gone"),
        ];
        let mut asked = Vec::new();
        let found = match_summaries(&want, &server, |uids| {
            asked = uids.to_vec();
            Ok(vec![
                (10, Fingerprint::of(&b2)),
                (12, Fingerprint::of(&n)),
                (13, Fingerprint::of(&b1)),
            ])
        })
        .unwrap()
        .unwrap();
        assert_eq!(found, [Some(11), Some(13), Some(10), Some(12), None]);
        assert_eq!(asked, [10, 12, 13], "hashes only for the ties");
        let none = match_summaries(&want[..1], &server, |_| panic!("no hashes needed"));
        assert_eq!(none.unwrap(), Ok(vec![Some(11)]));
        // Hashes left out by the server: no verdict rather than "not there".
        let part = match_summaries(&want, &server, |_| Ok(vec![(10, Fingerprint::of(&b2))]));
        assert!(part.unwrap().is_err());
    }

    /// Stored with a header added (another size): a Message-ID's messages
    /// are paired by text, each once; another text with the same
    /// Message-ID is not the message; text hashes are asked for the
    /// other-size candidates only, and not at all when none is left.
    #[test]
    fn rewritten_messages_are_matched_by_text() {
        let added = b"X-Added: 1\r\n";
        let a = b"Message-ID: <l>\r\n\r\nvia list".to_vec();
        let b = b"Message-ID: <l>\r\n\r\ndirectly".to_vec();
        let c = b"Message-ID: <l>\r\n\r\nnever sent".to_vec();
        let stored = |uid: u32, m: &[u8]| {
            let bytes = [&added[..], m].concat();
            (
                Summary {
                    uid,
                    size: bytes.len() as u32,
                    internal_date: None,
                    message_id: message_id(&bytes),
                },
                Fingerprint::of_text(&bytes),
            )
        };
        let server = [stored(5, &c), stored(6, &b), stored(7, &a)];
        let summaries: Vec<Summary> = server.iter().map(|(s, _)| s.clone()).collect();
        let want = [wanted(&a), wanted(&b), wanted(b"Message-ID: <x>\r\n\r\nx")];
        let mut found = vec![None; 3];
        let mut asked = Vec::new();
        let r = match_rewritten(&want, &summaries, &mut found, |uids| {
            asked = uids.to_vec();
            Ok(server.iter().map(|(s, t)| (s.uid, *t)).collect())
        });
        assert_eq!(r.unwrap(), Ok(()));
        assert_eq!(found, [Some(7), Some(6), None]);
        assert_eq!(asked, [5, 6, 7]);
        // Already matched: no candidate, nothing asked.
        let r = match_rewritten(&want, &summaries, &mut found, |_| panic!("asked"));
        assert_eq!(r.unwrap(), Ok(()));
        // Text hashes left out: no verdict.
        let mut found = vec![None; 3];
        let r = match_rewritten(&want, &summaries, &mut found, |_| Ok(Vec::new()));
        assert!(r.unwrap().is_err());
    }

    /// Without Message-ID, a rewritten candidate needs the same internal
    /// date (and no Message-ID either); with one, the same Message-ID; the
    /// same size is never a rewritten candidate (the other rules decide).
    #[test]
    fn rewritten_candidates_need_the_message_id_or_the_date() {
        let bare = b"Subject: s\r\n\r\ntext".to_vec();
        let mut w = wanted(&bare);
        let at = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).map(|d| d.fixed_offset());
        let s = |size: u32, secs: i64, id: Option<&str>| Summary {
            internal_date: at(secs),
            ..summary(1, size, id)
        };
        assert!(!w.may_be_rewritten(&s(99, 100, None)), "no date known");
        w.date = Some(100);
        assert!(w.may_be_rewritten(&s(99, 100, None)));
        assert!(!w.may_be_rewritten(&s(99, 101, None)), "another date");
        // 100 at -0600 (wall clock 100 - 6 h), stored by imap4d as that
        // wall-clock time at +0000.
        w.wall_clock = Some(100 - 6 * 3600);
        assert!(w.may_be_rewritten(&s(99, 100 - 6 * 3600, None)));
        assert!(w.may_be_rewritten(&s(99, 100, None)));
        assert!(!w.may_be_rewritten(&s(99, 100 - 5 * 3600, None)));
        assert!(
            !w.may_be_rewritten(&s(99, 100, Some("<a>"))),
            "a Message-ID"
        );
        assert!(
            !w.may_be_rewritten(&s(bare.len() as u32, 100, None)),
            "same size"
        );
        let w = wanted(b"Message-ID: <a>\r\n\r\ntext");
        assert!(w.may_be_rewritten(&s(99, 5, Some("<a>"))));
        assert!(!w.may_be_rewritten(&s(99, 5, Some("<b>"))));
        assert!(!w.may_be_rewritten(&s(99, 5, None)));
    }
}
