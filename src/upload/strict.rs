//! Strict servers: what a server cannot keep is left out so that the
//! message itself always goes.
//!
//! - **Keywords.** A mailbox whose SELECT answers `PERMANENTFLAGS` without
//!   `\*` keeps only the keywords listed there (RFC 3501 §6.3.1, §7.1);
//!   GNU imap4d refuses a whole APPEND carrying another one (`BAD APPEND
//!   Unrecognized flag`). Before a batch is written ([`Uploader::fit_keywords`],
//!   the one filter applied before APPEND) a keyword the mailbox cannot keep
//!   is mapped to the server's spelling of it where there is one
//!   ([`EQUIVALENTS`], e.g. `$Forwarded` → `Forwarded`) and dropped
//!   otherwise; the drop is reported once per mailbox
//!   ([`crate::report::KeywordsDropped`]). The mailbox is selected only when
//!   a message for it carries a keyword. A server that does not say so in
//!   PERMANENTFLAGS but refuses an APPEND naming a flag
//!   ([`Uploader::refused_for_keywords`]) gets the message again without its
//!   keywords.
//! - **INBOX.** imap4d on a fresh account answers APPEND to INBOX with
//!   TRYCREATE (after the command's name: [`asks_to_create`]) and `CREATE
//!   INBOX` with BAD; SELECT creates it ([`create`]). Each SELECT made here
//!   is followed by UNSELECT where offered: imap4d stores an APPEND into the
//!   mailbox its session has selected without flags, and only the first.
//!
//! System flags are left alone: every server here keeps them.

use std::collections::HashMap;

use crate::imap::ImapError;
use crate::message::{Flag, Message};

use super::server::MailServer;
use super::{Stop, Uploader};

/// Keywords with the same meaning under two spellings: the `$` form of
/// RFC 5788's registry and the bare form older servers and clients use.
pub(super) const EQUIVALENTS: &[(&str, &str)] = &[
    ("$Forwarded", "Forwarded"),
    ("$Junk", "Junk"),
    ("$NotJunk", "NotJunk"),
    ("$NotJunk", "NonJunk"),
    ("$MDNSent", "MDNSent"),
];

/// Which keywords one mailbox keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum KeywordPolicy {
    /// Any keyword (`\*` in PERMANENTFLAGS, or no PERMANENTFLAGS at all).
    Any,
    /// Only these (as the server spells them).
    Only(Vec<String>),
}

impl KeywordPolicy {
    /// From SELECT's PERMANENTFLAGS (`None`: the server sent none, and
    /// RFC 3501 §6.3.1 says every flag can then be kept).
    pub(super) fn of(permanent_flags: Option<&[String]>) -> KeywordPolicy {
        match permanent_flags {
            Some(flags) if !flags.iter().any(|f| f == "\\*") => KeywordPolicy::Only(
                flags
                    .iter()
                    .filter(|f| !f.starts_with('\\'))
                    .cloned()
                    .collect(),
            ),
            _ => KeywordPolicy::Any,
        }
    }

    /// The server's spelling of `keyword` when it keeps it (itself, or an
    /// equivalent), else `None`.
    fn keeps(&self, keyword: &str) -> Option<String> {
        let allowed = match self {
            KeywordPolicy::Any => return Some(keyword.to_string()),
            KeywordPolicy::Only(allowed) => allowed,
        };
        let find = |k: &str| allowed.iter().find(|a| a.eq_ignore_ascii_case(k)).cloned();
        find(keyword).or_else(|| {
            EQUIVALENTS
                .iter()
                .filter_map(|&(a, b)| {
                    if a.eq_ignore_ascii_case(keyword) {
                        Some(b)
                    } else if b.eq_ignore_ascii_case(keyword) {
                        Some(a)
                    } else {
                        None
                    }
                })
                .find_map(find)
        })
    }

    /// `flags` as this mailbox keeps them, and the keywords left out.
    pub(super) fn fit(&self, flags: &[Flag]) -> (Vec<Flag>, Vec<String>) {
        let mut kept = Vec::with_capacity(flags.len());
        let mut dropped = Vec::new();
        for f in flags {
            match f {
                Flag::Keyword(k) => match self.keeps(k) {
                    Some(name) => {
                        let flag = Flag::Keyword(name);
                        if !kept.contains(&flag) {
                            kept.push(flag);
                        }
                    }
                    None => dropped.push(k.clone()),
                },
                system => kept.push(system.clone()),
            }
        }
        (kept, dropped)
    }
}

/// The keyword policies this connection has learnt, per mailbox.
#[derive(Default)]
pub(super) struct Keywords {
    policies: HashMap<String, KeywordPolicy>,
}

fn has_keywords(m: &Message) -> bool {
    m.flags.iter().any(|f| matches!(f, Flag::Keyword(_)))
}

/// True for INBOX, whose name is case-insensitive (RFC 3501 §5.1).
fn is_inbox(mailbox: &str) -> bool {
    mailbox.eq_ignore_ascii_case("INBOX")
}

/// True for a NO whose text carries `[TRYCREATE]` after the command's
/// name, where imap4d puts it (`NO APPEND [TRYCREATE] failed`) rather than
/// first (RFC 3501 §7.1), so the code is not parsed as one.
pub(super) fn asks_to_create(e: &ImapError) -> bool {
    matches!(e, ImapError::No { text, .. } if text.to_ascii_uppercase().contains("[TRYCREATE]"))
}

/// CREATE `mailbox`; for INBOX, which some servers create only on SELECT
/// (imap4d: `BAD` to `CREATE INBOX`), SELECT when CREATE is refused.
pub(super) fn create(s: &mut dyn MailServer, mailbox: &str) -> Result<(), ImapError> {
    match s.create(mailbox) {
        Err(e) if is_inbox(mailbox) && !e.is_connection_lost() && !s.is_broken() => {
            match s.select(mailbox) {
                Ok(_) => s.unselect(),
                Err(_) => Err(e),
            }
        }
        r => r,
    }
}

impl Uploader<'_> {
    /// `msgs` for `mailbox` without the keywords it cannot keep (mapped
    /// where it keeps an equivalent); what was left out is reported.
    pub(super) fn fit_keywords(
        &mut self,
        mailbox: &str,
        mut msgs: Vec<Message>,
    ) -> Result<Vec<Message>, Stop> {
        if !msgs.iter().any(has_keywords) {
            return Ok(msgs);
        }
        let policy = match self.keywords.policies.get(mailbox) {
            Some(p) => p.clone(),
            None => {
                // An unanswered SELECT tells nothing: keywords are sent,
                // and a refusal naming them still saves the message.
                let selected = self.retrying(|s| {
                    let sel = s.select(mailbox);
                    if sel.is_ok() {
                        s.unselect()?;
                    }
                    sel
                })?;
                let p = match selected {
                    Ok(sel) => KeywordPolicy::of(sel.permanent_flags.as_deref()),
                    Err(_) => KeywordPolicy::Any,
                };
                if p != KeywordPolicy::Any {
                    log::info!("{mailbox}: keeps only the keywords {p:?}");
                }
                self.keywords
                    .policies
                    .insert(mailbox.to_string(), p.clone());
                p
            }
        };
        if policy == KeywordPolicy::Any {
            return Ok(msgs);
        }
        for m in msgs.iter_mut().filter(|m| has_keywords(m)) {
            let (kept, dropped) = policy.fit(&m.flags);
            m.flags = kept;
            self.report.keywords_dropped(mailbox, &dropped);
        }
        Ok(msgs)
    }

    /// When `msg` was refused by an answer naming a flag (imap4d: `BAD
    /// APPEND Unrecognized flag`) and carries keywords: the mailbox is taken
    /// to keep none from now on, and `msg` without them is returned, to be
    /// sent again.
    pub(super) fn refused_for_keywords(
        &mut self,
        mailbox: &str,
        msg: &Message,
        refusal: &ImapError,
    ) -> Option<Message> {
        let text = match refusal {
            ImapError::No { text, .. } | ImapError::Bad { text, .. } => text.to_ascii_lowercase(),
            _ => return None,
        };
        if !has_keywords(msg) || !(text.contains("flag") || text.contains("keyword")) {
            return None;
        }
        let policy = KeywordPolicy::Only(Vec::new());
        let (kept, dropped) = policy.fit(&msg.flags);
        self.keywords.policies.insert(mailbox.to_string(), policy);
        self.report.keywords_dropped(mailbox, &dropped);
        Some(Message {
            flags: kept,
            ..msg.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(k: &str) -> Flag {
        Flag::Keyword(k.into())
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn trycreate_is_recognised_after_the_command_name() {
        let no = |text: &str| ImapError::No {
            code: None,
            text: text.into(),
        };
        assert!(asks_to_create(&no("APPEND [TRYCREATE] failed")));
        assert!(!asks_to_create(&no("APPEND failed")));
        assert!(!asks_to_create(&ImapError::Bad {
            text: "[TRYCREATE]".into()
        }));
    }

    #[test]
    fn permanentflags_with_the_wildcard_or_none_keep_everything() {
        assert_eq!(KeywordPolicy::of(None), KeywordPolicy::Any);
        let with_star = strings(&["\\Seen", "\\*"]);
        assert_eq!(KeywordPolicy::of(Some(&with_star)), KeywordPolicy::Any);
        let flags = vec![Flag::Seen, kw("Work"), kw("$Forwarded")];
        assert_eq!(KeywordPolicy::Any.fit(&flags), (flags.clone(), vec![]));
    }

    #[test]
    fn keywords_a_strict_mailbox_cannot_keep_are_dropped_system_flags_kept() {
        // imap4d's list: system flags only.
        let imap4d = strings(&["\\Answered", "\\Deleted", "\\Seen"]);
        let p = KeywordPolicy::of(Some(&imap4d));
        assert_eq!(p, KeywordPolicy::Only(vec![]));
        let flags = vec![Flag::Seen, kw("Work"), Flag::Flagged, kw("$Label1")];
        assert_eq!(
            p.fit(&flags),
            (
                vec![Flag::Seen, Flag::Flagged],
                strings(&["Work", "$Label1"])
            )
        );
    }

    #[test]
    fn listed_keywords_are_kept_in_the_servers_spelling_and_equivalents_mapped() {
        let listed = strings(&["\\Seen", "work", "Forwarded", "$Junk"]);
        let p = KeywordPolicy::of(Some(&listed));
        let flags = vec![kw("Work"), kw("$Forwarded"), kw("Junk"), kw("Private")];
        assert_eq!(
            p.fit(&flags),
            (
                vec![kw("work"), kw("Forwarded"), kw("$Junk")],
                strings(&["Private"])
            )
        );
        // Two spellings of one keyword become one flag.
        let flags = vec![kw("$Forwarded"), kw("forwarded")];
        assert_eq!(p.fit(&flags), (vec![kw("Forwarded")], vec![]));
    }
}
