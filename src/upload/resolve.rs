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
//! - [`ServerIndex`]: `--skip-existing` (and a mailbox whose UIDVALIDITY
//!   changed): Message-ID and size, or size and internal date for messages
//!   without a Message-ID, of everything in a mailbox.

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
}

/// The messages of one mailbox, counted by [`ServerKey`].
#[derive(Debug, Default)]
pub struct ServerIndex {
    counts: HashMap<ServerKey, usize>,
}

impl ServerIndex {
    /// Reads `mailbox` (selects it).
    pub fn read(session: &mut Session, mailbox: &str) -> Result<ServerIndex, ImapError> {
        let sel = session.select(mailbox)?;
        if sel.exists == 0 {
            return Ok(ServerIndex::default());
        }
        Ok(ServerIndex::from_summaries(&session.fetch_summaries()?))
    }

    pub fn from_summaries(all: &[Summary]) -> ServerIndex {
        let mut counts = HashMap::new();
        for s in all {
            *counts.entry(ServerKey::of_summary(s)).or_default() += 1;
        }
        ServerIndex { counts }
    }

    /// True (and one copy used up) when the server has `key`.
    pub fn take(&mut self, key: &ServerKey) -> bool {
        match self.counts.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
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

    #[test]
    fn index_counts_copies() {
        let mut ix = ServerIndex::from_summaries(&[
            summary(1, 10, Some("<a>")),
            summary(2, 10, Some("<a>")),
            summary(3, 7, None),
        ]);
        let a = ServerKey::Id("<a>".into(), 10);
        assert!(ix.take(&a));
        assert!(ix.take(&a));
        assert!(!ix.take(&a));
        assert!(!ix.take(&ServerKey::Id("<a>".into(), 11)));
        assert!(ix.take(&ServerKey::Bare(7, None)));
    }
}
