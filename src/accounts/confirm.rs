//! The server's word on an account the batch state says is complete. The
//! state file, the journal and the sources are only the client's memory:
//! before such an account is skipped, one session asks the server about
//! every mailbox the journal holds messages for — STATUS (MESSAGES UIDNEXT
//! UIDVALIDITY) and the upload's own spot check of a few journaled UIDs by
//! size (`upload::spots`, `upload::spot_fault`: one rule
//! for both). The account is skipped only when every mailbox holds:
//!
//! - it is there (STATUS answered);
//! - its UIDVALIDITY is the one the journal's entries were made under;
//! - it holds at least as many messages as the journal says landed there;
//! - the spot-checked UIDs hold messages of the journaled sizes.
//!
//! Anything else (a mailbox deleted or recreated, fewer messages, another
//! server at the same name, an answer that never came) makes it run as a
//! normal upload, whose server check then finds what is missing and sends
//! it; the reason goes into the report. [`judge`] is the decision, with no
//! I/O; [`ask`] gathers the server's answers for it.

use crate::imap::{ImapError, MailboxStatus, Summary};
use crate::journal::{Holdings, Journal};
use crate::upload::{MailServer, spot_fault, spots};

/// What the journal says of one mailbox and what the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxAnswer {
    pub mailbox: String,
    /// STATUS, or why it failed.
    pub status: Result<MailboxStatus, String>,
    /// The journal's entries for it, seen under the server's UIDVALIDITY.
    pub holdings: Holdings,
    /// The journaled UIDs spot-checked, with their journaled sizes.
    pub spots: Vec<(u32, Option<u64>)>,
    /// The server's summaries of `spots`, or why it gave none.
    pub found: Result<Vec<Summary>, String>,
}

/// The server's answers for an account, or why they could not all be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answers {
    pub mailboxes: Vec<MailboxAnswer>,
    /// Batches an earlier run left open in the journal.
    pub open_batches: usize,
}

/// What the batch does with an account complete in an earlier run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The server holds what the journal says: skip it.
    Confirmed,
    /// Run it again (a normal upload), because of this.
    Rerun(String),
}

/// Skip or rerun, from the journal's facts and the server's answers.
pub fn judge(answers: &Answers) -> Verdict {
    if answers.open_batches > 0 {
        return Verdict::Rerun(format!(
            "the journal holds {} batches of unknown fate",
            answers.open_batches
        ));
    }
    for m in &answers.mailboxes {
        if let Some(why) = mailbox_fault(m) {
            return Verdict::Rerun(format!("{}: {why}", m.mailbox));
        }
    }
    Verdict::Confirmed
}

/// Why `m` does not hold what the journal says, if it doesn't.
fn mailbox_fault(m: &MailboxAnswer) -> Option<String> {
    let status = match &m.status {
        Ok(s) => s,
        Err(e) => return Some(format!("not on the server (STATUS: {e})")),
    };
    let h = &m.holdings;
    if h.current == 0 {
        return Some(match (h.stale_uidvalidity, status.uid_validity) {
            (Some(was), Some(now)) => format!(
                "UIDVALIDITY changed ({was} → {now}): the mailbox was recreated, or this is another server"
            ),
            _ => format!(
                "no journal entry is under its UIDVALIDITY ({})",
                status
                    .uid_validity
                    .map_or_else(|| "none given".to_string(), |u| u.to_string())
            ),
        });
    }
    match status.messages {
        None => return Some("STATUS gave no MESSAGES".into()),
        Some(n) if u64::from(n) < h.current as u64 => {
            return Some(format!(
                "holds {n} messages, the journal says {} landed there",
                h.current
            ));
        }
        Some(_) => {}
    }
    if m.spots.is_empty() {
        return None;
    }
    match &m.found {
        Err(e) => Some(format!("cannot spot-check its journaled UIDs ({e})")),
        Ok(found) => spot_fault(&m.spots, found),
    }
}

/// Asks `server` about every mailbox `journal` holds messages for: STATUS,
/// then the spot check of its journaled UIDs under the server's
/// UIDVALIDITY. A NO is an answer (recorded for [`judge`]); a lost
/// connection is an error.
pub fn ask(server: &mut dyn MailServer, journal: &Journal) -> Result<Answers, ImapError> {
    let mut mailboxes = Vec::new();
    for mailbox in journal.mailboxes() {
        let status = match server.status(mailbox) {
            Ok(s) => s,
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                mailboxes.push(MailboxAnswer {
                    mailbox: mailbox.to_string(),
                    status: Err(e.to_string()),
                    holdings: Holdings::default(),
                    spots: Vec::new(),
                    found: Ok(Vec::new()),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let holdings = journal.holdings(mailbox, status.uid_validity);
        let spots = spots(&holdings.uids);
        let found = if spots.is_empty() {
            Ok(Vec::new())
        } else {
            let uids: Vec<u32> = spots.iter().map(|&(uid, _)| uid).collect();
            match server
                .select(mailbox)
                .and_then(|_| server.fetch_summaries_of(&uids))
            {
                Ok(f) => Ok(f),
                Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => Err(e.to_string()),
                Err(e) => return Err(e),
            }
        };
        mailboxes.push(MailboxAnswer {
            mailbox: mailbox.to_string(),
            status: Ok(status),
            holdings,
            spots,
            found,
        });
    }
    Ok(Answers {
        mailboxes,
        open_batches: journal.pending().len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(uid: u32, size: u32) -> Summary {
        crate::upload::resolve::tests::summary(uid, size, None)
    }

    /// INBOX as the journal wrote it: 3 messages under UIDVALIDITY 7,
    /// UIDs 1..=3 of 10, 20 and 30 bytes, and the server agreeing.
    fn inbox() -> MailboxAnswer {
        let uids = vec![(1, Some(10)), (2, Some(20)), (3, Some(30))];
        MailboxAnswer {
            mailbox: "INBOX".into(),
            status: Ok(MailboxStatus {
                messages: Some(3),
                uid_validity: Some(7),
                uid_next: Some(4),
            }),
            holdings: Holdings {
                entries: 3,
                current: 3,
                stale_uidvalidity: None,
                uids: uids.clone(),
            },
            spots: uids,
            found: Ok(vec![summary(1, 10), summary(2, 20), summary(3, 30)]),
        }
    }

    fn one(m: MailboxAnswer) -> Answers {
        Answers {
            mailboxes: vec![m],
            open_batches: 0,
        }
    }

    fn reason(answers: &Answers) -> String {
        match judge(answers) {
            Verdict::Rerun(why) => why,
            Verdict::Confirmed => panic!("confirmed: {answers:?}"),
        }
    }

    #[test]
    fn a_server_that_holds_what_the_journal_says_confirms_it() {
        assert_eq!(judge(&one(inbox())), Verdict::Confirmed);
        // More messages than journaled (mail arrived since): still confirmed.
        let mut more = inbox();
        if let Ok(s) = &mut more.status {
            s.messages = Some(9);
        }
        assert_eq!(judge(&one(more)), Verdict::Confirmed);
        // Journal entries without UIDs (no UIDPLUS): nothing to spot-check,
        // STATUS decides.
        let mut no_uids = inbox();
        no_uids.holdings.uids.clear();
        no_uids.spots.clear();
        no_uids.found = Ok(Vec::new());
        assert_eq!(judge(&one(no_uids)), Verdict::Confirmed);
    }

    #[test]
    fn a_deleted_mailbox_is_rerun() {
        let mut gone = inbox();
        gone.status = Err("NO Mailbox doesn't exist: INBOX".into());
        assert!(reason(&one(gone)).starts_with("INBOX: not on the server (STATUS: NO"));
    }

    #[test]
    fn a_recreated_mailbox_is_rerun() {
        let mut recreated = inbox();
        recreated.holdings = Holdings {
            entries: 3,
            current: 0,
            stale_uidvalidity: Some(7),
            uids: Vec::new(),
        };
        if let Ok(s) = &mut recreated.status {
            s.uid_validity = Some(8);
        }
        assert!(reason(&one(recreated)).contains("UIDVALIDITY changed (7 → 8)"));
    }

    #[test]
    fn fewer_messages_than_journaled_is_rerun() {
        let mut fewer = inbox();
        if let Ok(s) = &mut fewer.status {
            s.messages = Some(2);
        }
        assert!(reason(&one(fewer)).contains("holds 2 messages, the journal says 3"));
        let mut empty = inbox();
        if let Ok(s) = &mut empty.status {
            s.messages = None;
        }
        assert!(reason(&one(empty)).contains("no MESSAGES"));
    }

    #[test]
    fn a_failed_spot_check_is_rerun() {
        let mut resized = inbox();
        resized.found = Ok(vec![summary(1, 10), summary(2, 20), summary(3, 31)]);
        assert!(reason(&one(resized)).contains("UID 3 holds 31 bytes"));
        let mut none = inbox();
        none.found = Ok(Vec::new());
        assert!(reason(&one(none)).contains("none of the spot-checked journaled UIDs"));
        let mut refused = inbox();
        refused.found = Err("NO no".into());
        assert!(reason(&one(refused)).contains("cannot spot-check"));
    }

    #[test]
    fn open_batches_are_rerun_and_the_first_fault_named() {
        let mut open = one(inbox());
        open.open_batches = 2;
        assert!(reason(&open).contains("2 batches of unknown fate"));
        // Nothing landed (every message skipped by the source): nothing to confirm.
        let nothing = Answers {
            mailboxes: Vec::new(),
            open_batches: 0,
        };
        assert_eq!(judge(&nothing), Verdict::Confirmed);
        // The first mailbox at fault names the reason.
        let mut gone = inbox();
        gone.mailbox = "Sent".into();
        gone.status = Err("NO gone".into());
        let two = Answers {
            mailboxes: vec![inbox(), gone],
            open_batches: 0,
        };
        assert!(reason(&two).starts_with("Sent: not on the server"));
    }
}
