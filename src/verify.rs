//! `mailhaul verify`: is every source message on the server exactly once?
//!
//! Per target mailbox, the server's messages are read cheaply (UID, size,
//! internal date, Message-ID: [`crate::imap::Summary`]) and matched with the
//! source messages: first through the journal (a journaled UID under the
//! mailbox's current UIDVALIDITY names the very message), then by
//! Message-ID and size (size and internal date without a Message-ID), each
//! server message matching at most one source message. What is left over:
//! source messages are **missing**; server messages that look like a source
//! message are **doubled**; others are **extra** (on the server, not in the
//! source: someone else's mail, not an error).
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
use crate::upload::resolve::ServerKey;

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
        let (server, uidvalidity) = if existing.contains(mailbox) {
            let sel = session.select(mailbox)?;
            let all = if sel.exists > 0 {
                session.fetch_summaries()?
            } else {
                Vec::new()
            };
            (all, sel.uid_validity)
        } else {
            (Vec::new(), None)
        };
        let mut c = check(mailbox, items, &server, journal, uidvalidity);
        c.not_sent = *not_sent;
        checks.push(c);
    }
    Ok((checks, unreadable))
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
}

/// Matches `source` with `server` for `mailbox` (`uidvalidity`: the
/// mailbox's current one, to trust journal entries).
pub fn check(
    mailbox: &str,
    source: &[SourceItem],
    server: &[Summary],
    journal: Option<&Journal>,
    uidvalidity: Option<u32>,
) -> MailboxCheck {
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
    for item in unmatched {
        match by_key.get_mut(&item.key).filter(|v| !v.is_empty()) {
            Some(uids) => {
                used.insert(uids.remove(0));
            }
            None => out.missing.push(item.origin.clone()),
        }
    }
    for (uid, key) in &keys {
        if used.contains(uid) {
            continue;
        }
        match source_keys.get(key) {
            Some(origin) => out.doubled.push((*uid, origin.to_string())),
            None => out.extra.push(*uid),
        }
    }
    out
}

impl MailboxCheck {
    /// True when every source message is there exactly once.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty() && self.doubled.is_empty()
    }

    /// Lines for stdout: a summary line, then each finding.
    pub fn render(&self) -> String {
        let mut s = String::new();
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
            "unreadable": unreadable,
        },
        "exit_code": exit_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Landed;

    #[test]
    fn the_json_report_has_the_schema_and_every_finding() {
        let c = MailboxCheck {
            mailbox: "INBOX".into(),
            source: 3,
            server: 3,
            missing: vec!["m1".into()],
            doubled: vec![(7, "m2".into())],
            extra: vec![9],
            ..Default::default()
        };
        let doc = to_json(&[c], 1, 1);
        assert_eq!(doc["schema"], crate::scan::JSON_SCHEMA);
        assert_eq!(doc["kind"], "verify");
        assert_eq!(doc["mailboxes"][0]["exact"], false);
        assert_eq!(doc["mailboxes"][0]["name"], "INBOX");
        assert_eq!(doc["mailboxes"][0]["doubled"][0]["uid"], 7);
        assert_eq!(doc["totals"]["missing"], 1);
        assert_eq!(doc["totals"]["unreadable"], 1);
        assert_eq!(doc["exit_code"], 1);
    }

    fn item(n: u8, id: &str) -> SourceItem {
        SourceItem {
            origin: format!("m{n}"),
            fp: Fingerprint::of(&[n]),
            key: ServerKey::Id(id.into(), 10),
        }
    }

    fn summary(uid: u32, id: &str) -> Summary {
        Summary {
            uid,
            size: 10,
            internal_date: None,
            message_id: Some(id.into()),
        }
    }

    #[test]
    fn missing_doubled_and_extra() {
        let source = [item(1, "<a>"), item(2, "<b>"), item(3, "<c>")];
        let server = [
            summary(1, "<a>"),
            summary(2, "<a>"),
            summary(3, "<c>"),
            summary(4, "<z>"),
        ];
        let c = check("INBOX", &source, &server, None, Some(1));
        assert_eq!(c.missing, ["m2"]);
        assert_eq!(c.doubled, [(2, "m1".to_string())]);
        assert_eq!(c.extra, [4]);
        assert!(!c.is_exact());
    }

    #[test]
    fn identical_source_copies_are_expected_twice() {
        let source = [item(1, "<a>"), item(1, "<a>")];
        let server = [summary(1, "<a>"), summary(2, "<a>")];
        assert!(check("INBOX", &source, &server, None, Some(1)).is_exact());
    }

    #[test]
    fn journal_names_the_uid() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j"), false).unwrap();
        let at = |uid| Landed {
            uidvalidity: Some(7),
            uid: Some(uid),
        };
        j.landed("INBOX", &Fingerprint::of(&[1]), None, at(5));
        let source = [item(1, "<a>")];
        // The journaled UID wins over another message with the same key.
        let c = check(
            "INBOX",
            &source,
            &[summary(5, "<a>"), summary(6, "<a>")],
            Some(&j),
            Some(7),
        );
        assert_eq!(c.doubled, [(6, "m1".to_string())], "{c:?}");
        // UID 5 was deleted; UID 6 has the same Message-ID (a re-upload).
        let c = check("INBOX", &source, &[summary(6, "<a>")], Some(&j), Some(7));
        assert!(c.is_exact(), "{c:?}");
        let c = check("INBOX", &source, &[], Some(&j), Some(7));
        assert_eq!(c.missing, ["m1"]);
        // Another UIDVALIDITY: the journal is ignored, the key matches.
        let c = check("INBOX", &source, &[summary(6, "<a>")], Some(&j), Some(8));
        assert!(c.is_exact(), "{c:?}");
    }
}
