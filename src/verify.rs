//! `mailhaul verify`: is every source message on the server exactly once?
//!
//! Per target mailbox, the server's messages are read cheaply (UID, size,
//! internal date, Message-ID: [`crate::imap::Summary`]) and matched with the
//! source messages: first through the journal (a journaled UID under the
//! mailbox's current UIDVALIDITY names the very message), then by
//! Message-ID and size (size and internal date without a Message-ID), then,
//! on servers that rewrite headers on store (GNU imap4d), by upload's own
//! rule for them ([`match_rewritten`]: the same Message-ID with another
//! size and the same text), each server message matching at most one
//! source message. What is left over: source messages are **missing**;
//! server messages that look like a source message (by key, or by the
//! same rule) are **doubled**; others are **extra** (on the server, not in
//! the source: someone else's mail, not an error). A mailbox the server
//! will not open or list (imap4d's `NO SELECT … Is a directory`) is
//! **not verifiable**: reported, a problem for the exit code, and the
//! other mailboxes are checked.
//!
//! Only what the upload sends is expected: [`crate::plan::decide()`], with this
//! server's facts, says which messages go where; those it skips or cannot
//! send are counted as not sent, never as missing.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::fingerprint::Fingerprint;
use crate::imap::{ImapError, Session, Summary};
use crate::journal::Journal;
use crate::plan::{PlannedFolder, ServerFacts, TargetMap, Verdict, decide};
use crate::provider::SizeCap;
use crate::report::sanitize;
use crate::source::ReadOptions;
use crate::upload::resolve::{ServerKey, Wanted, match_rewritten};

/// The text fingerprints of server messages by UID ([`Session::fetch_text_hashes`]
/// of the selected mailbox), for [`match_rewritten`].
pub type TextHashes<'a> = dyn FnMut(&[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> + 'a;

/// Reads every planned folder and every target mailbox, and checks each
/// mailbox. Unreadable sources are printed to stderr and counted.
pub fn verify(
    session: &mut Session,
    folders: &[PlannedFolder],
    map: &TargetMap,
    read: &ReadOptions,
    journal: Option<&Journal>,
    size_cap: Option<SizeCap>,
) -> Result<(Vec<MailboxCheck>, usize), ImapError> {
    let facts = ServerFacts::of(session.capabilities()).with_size_cap(size_cap);
    let mut per: Vec<Expected> = Vec::new();
    let mut unreadable = 0;
    for folder in folders {
        let messages = match folder.source.messages(read) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("mailhaul: {}", sanitize(&format!("{e:#}")));
                unreadable += 1;
                continue;
            }
        };
        for item in messages {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("mailhaul: {}: {}", e.origin, sanitize(&e.reason));
                    unreadable += 1;
                    continue;
                }
            };
            let item = SourceItem {
                origin: msg.origin.to_string(),
                fp: msg.fingerprint(),
                key: ServerKey::of_message(&msg),
                wanted: Wanted::of_message(&msg, msg.fingerprint()),
            };
            for (mailbox, verdict) in decide(&msg, folder, map, &facts) {
                let i = match per.iter().position(|p| p.mailbox == mailbox) {
                    Some(i) => i,
                    None => {
                        per.push(Expected {
                            mailbox,
                            items: Vec::new(),
                            not_sent: 0,
                        });
                        per.len() - 1
                    }
                };
                match verdict {
                    Verdict::Send => per[i].items.push(item.clone()),
                    // Never uploaded on purpose.
                    Verdict::Skip(_) | Verdict::CannotSend(_) | Verdict::DependsOnServer(_) => {
                        per[i].not_sent += 1
                    }
                }
            }
        }
    }
    let existing: HashSet<String> = session.list("", "*")?.into_iter().map(|e| e.name).collect();
    let mut checks = Vec::new();
    for Expected {
        mailbox,
        items,
        not_sent,
    } in &per
    {
        let read = if existing.contains(mailbox) {
            session.select(mailbox).and_then(|sel| {
                let all = if sel.exists > 0 {
                    session.fetch_summaries()?
                } else {
                    Vec::new()
                };
                Ok((all, sel.uid_validity))
            })
        } else {
            Ok((Vec::new(), None))
        };
        let mut c = match read {
            Ok((server, uidvalidity)) => {
                let mut texts = |uids: &[u32]| session.fetch_text_hashes(uids);
                let checked = check(mailbox, items, &server, journal, uidvalidity, &mut texts);
                checked.or_else(|e| unverifiable(mailbox, items, e))?
            }
            Err(e) => unverifiable(mailbox, items, e)?,
        };
        c.not_sent = *not_sent;
        checks.push(c);
    }
    Ok((checks, unreadable))
}

/// The check of a mailbox the server refused to open or read (`e`, a NO or
/// BAD): not verifiable. A lost connection ends the verify.
fn unverifiable(
    mailbox: &str,
    items: &[SourceItem],
    e: ImapError,
) -> Result<MailboxCheck, ImapError> {
    if !matches!(e, ImapError::No { .. } | ImapError::Bad { .. }) {
        return Err(e);
    }
    Ok(MailboxCheck {
        mailbox: mailbox.to_string(),
        source: items.len(),
        unverifiable: Some(e.to_string()),
        ..Default::default()
    })
}

/// What one mailbox should hold, by the decision.
struct Expected {
    mailbox: String,
    /// The messages the upload sends there.
    items: Vec<SourceItem>,
    /// Messages meant for it that the upload skips or cannot send.
    not_sent: usize,
}

/// A source message as verify needs it.
#[derive(Clone, Debug)]
pub struct SourceItem {
    pub origin: String,
    pub fp: Fingerprint,
    pub key: ServerKey,
    /// What upload's rule for rewritten headers needs ([`match_rewritten`]).
    pub wanted: Wanted,
}

/// The findings for one mailbox.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MailboxCheck {
    pub mailbox: String,
    pub source: usize,
    pub server: usize,
    /// Source messages the upload skips or cannot send (not in `source`).
    pub not_sent: usize,
    /// Origins of source messages not found, with why.
    pub missing: Vec<String>,
    /// UIDs of server messages that are second (or later) copies, with the
    /// source message they copy.
    pub doubled: Vec<(u32, String)>,
    /// UIDs of server messages matching no source message.
    pub extra: Vec<u32>,
    /// Why the mailbox could not be read (the server's refusal): nothing
    /// in it was checked.
    pub unverifiable: Option<String>,
}

/// Matches `source` with `server` for `mailbox` (`uidvalidity`: the
/// mailbox's current one, to trust journal entries; `texts`: the text
/// fingerprints of server messages, asked only for the candidates of
/// [`match_rewritten`]).
pub fn check(
    mailbox: &str,
    source: &[SourceItem],
    server: &[Summary],
    journal: Option<&Journal>,
    uidvalidity: Option<u32>,
    texts: &mut TextHashes<'_>,
) -> Result<MailboxCheck, ImapError> {
    let mut out = MailboxCheck {
        mailbox: mailbox.to_string(),
        source: source.len(),
        server: server.len(),
        ..Default::default()
    };
    let on_server: HashSet<u32> = server.iter().map(|s| s.uid).collect();
    let mut used: HashSet<u32> = HashSet::new();
    let mut unmatched: Vec<&SourceItem> = Vec::new();
    let mut occurrence: HashMap<Fingerprint, usize> = HashMap::new();
    for item in source {
        let k = occurrence.entry(item.fp).or_default();
        let nth = *k;
        *k += 1;
        let journaled = journal
            .map(|j| j.entries(mailbox, &item.fp))
            .unwrap_or_default()
            .iter()
            .filter(|l| l.uidvalidity.is_some() && l.uidvalidity == uidvalidity)
            .filter_map(|l| l.uid)
            .nth(nth);
        match journaled {
            Some(uid) if on_server.contains(&uid) && used.insert(uid) => {}
            // Not journaled, or its UID is gone (deleted, or moved and
            // re-uploaded): look for it by key.
            _ => unmatched.push(item),
        }
    }
    let mut by_key: HashMap<&ServerKey, Vec<u32>> = HashMap::new();
    let keys: Vec<(u32, ServerKey)> = server
        .iter()
        .map(|s| (s.uid, ServerKey::of_summary(s)))
        .collect();
    for (uid, key) in &keys {
        if !used.contains(uid) {
            by_key.entry(key).or_default().push(*uid);
        }
    }
    let mut source_keys: HashMap<&ServerKey, &str> = HashMap::new();
    for item in source {
        source_keys.entry(&item.key).or_insert(&item.origin);
    }
    let mut unfound: Vec<&SourceItem> = Vec::new();
    for item in unmatched {
        match by_key.get_mut(&item.key).filter(|v| !v.is_empty()) {
            Some(uids) => {
                used.insert(uids.remove(0));
            }
            None => unfound.push(item),
        }
    }
    let mut texts = TextCache::new(texts);
    let found = rewritten(&unfound, server, &used, &mut texts)?;
    for (item, uid) in unfound.iter().zip(found) {
        match uid {
            Some(uid) => _ = used.insert(uid),
            None => out.missing.push(item.origin.clone()),
        }
    }
    // Further copies stored rewritten: found by the same rule, pass by pass
    // (a pass finds at most one per source message).
    let all: Vec<&SourceItem> = source.iter().collect();
    let mut doubled_rewritten: HashMap<u32, &str> = HashMap::new();
    loop {
        let found = rewritten(&all, server, &used, &mut texts)?;
        let mut more = false;
        for (item, uid) in all.iter().zip(found) {
            if let Some(uid) = uid {
                used.insert(uid);
                doubled_rewritten.insert(uid, &item.origin);
                more = true;
            }
        }
        if !more {
            break;
        }
    }
    for (uid, key) in &keys {
        if let Some(origin) = doubled_rewritten.get(uid) {
            out.doubled.push((*uid, origin.to_string()));
            continue;
        }
        if used.contains(uid) {
            continue;
        }
        match source_keys.get(key) {
            Some(origin) => out.doubled.push((*uid, origin.to_string())),
            None => out.extra.push(*uid),
        }
    }
    Ok(out)
}

/// The server messages among those not `used` that `items` are, stored
/// with their headers rewritten ([`match_rewritten`], upload's rule): one
/// UID or `None` per item. Text hashes the server did not give are a
/// refusal (no verdict for the mailbox).
fn rewritten(
    items: &[&SourceItem],
    server: &[Summary],
    used: &HashSet<u32>,
    texts: &mut TextCache<'_, '_>,
) -> Result<Vec<Option<u32>>, ImapError> {
    let wanted: Vec<Wanted> = items.iter().map(|i| i.wanted.clone()).collect();
    let left: Vec<Summary> = server
        .iter()
        .filter(|s| !used.contains(&s.uid))
        .cloned()
        .collect();
    let mut found = vec![None; items.len()];
    match_rewritten(&wanted, &left, &mut found, |uids| texts.get(uids))?.map_err(|text| {
        ImapError::No {
            code: None,
            text: format!("cannot read the text of server messages ({text})"),
        }
    })?;
    Ok(found)
}

/// Text fingerprints read once per mailbox, however many passes ask.
struct TextCache<'f, 'a> {
    read: &'f mut TextHashes<'a>,
    known: HashMap<u32, Fingerprint>,
}

impl<'f, 'a> TextCache<'f, 'a> {
    fn new(read: &'f mut TextHashes<'a>) -> Self {
        TextCache {
            read,
            known: HashMap::new(),
        }
    }

    fn get(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        let unknown: Vec<u32> = uids
            .iter()
            .copied()
            .filter(|u| !self.known.contains_key(u))
            .collect();
        if !unknown.is_empty() {
            self.known.extend((self.read)(&unknown)?);
        }
        Ok(uids
            .iter()
            .filter_map(|u| self.known.get(u).map(|fp| (*u, *fp)))
            .collect())
    }
}

impl MailboxCheck {
    /// True when every source message is there exactly once.
    pub fn is_exact(&self) -> bool {
        self.unverifiable.is_none() && self.missing.is_empty() && self.doubled.is_empty()
    }

    /// Lines for stdout: a summary line, then each finding.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(why) = &self.unverifiable {
            let _ = writeln!(
                s,
                "{}: {} in the source: not verifiable, the server would not read it ({})",
                sanitize(&self.mailbox),
                self.source,
                sanitize(why)
            );
            return s;
        }
        let not_sent = if self.not_sent > 0 {
            format!(
                "; {} not sent on purpose (skipped or cannot be sent)",
                self.not_sent
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{}: {} in the source, {} on the server: {} missing, {} doubled, {} not in the source{not_sent}",
            sanitize(&self.mailbox),
            self.source,
            self.server,
            self.missing.len(),
            self.doubled.len(),
            self.extra.len()
        );
        for m in &self.missing {
            let _ = writeln!(s, "  missing: {}", sanitize(m));
        }
        for (uid, origin) in &self.doubled {
            let _ = writeln!(
                s,
                "  doubled: UID {uid} is another copy of {}",
                sanitize(origin)
            );
        }
        for uid in &self.extra {
            let _ = writeln!(s, "  not in the source: UID {uid}");
        }
        s
    }

    /// The findings as JSON: counts, and each missing, doubled and extra message.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.mailbox,
            "mailbox": self.mailbox,
            "source": self.source,
            "server": self.server,
            "not_sent": self.not_sent,
            "exact": self.is_exact(),
            "missing": self.missing,
            "doubled": self.doubled.iter().map(|(uid, origin)| serde_json::json!({"uid": uid, "copy_of": origin})).collect::<Vec<_>>(),
            "extra": self.extra,
            "unverifiable": self.unverifiable,
        })
    }
}

/// `verify --json`: the checks per mailbox, totals and the exit code, with
/// the schema version and `"kind"` as upload's and scan's reports have.
pub fn to_json(checks: &[MailboxCheck], unreadable: usize, exit_code: u8) -> serde_json::Value {
    let sum = |f: fn(&MailboxCheck) -> usize| checks.iter().map(f).sum::<usize>();
    serde_json::json!({
        "schema": crate::scan::JSON_SCHEMA,
        "kind": "verify",
        "mailboxes": checks.iter().map(MailboxCheck::to_json).collect::<Vec<_>>(),
        "totals": {
            "source": sum(|c| c.source),
            "server": sum(|c| c.server),
            "not_sent": sum(|c| c.not_sent),
            "missing": sum(|c| c.missing.len()),
            "doubled": sum(|c| c.doubled.len()),
            "extra": sum(|c| c.extra.len()),
            "unverifiable": checks.iter().filter(|c| c.unverifiable.is_some()).count(),
            "unreadable": unreadable,
        },
        "exit_code": exit_code,
    })
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
