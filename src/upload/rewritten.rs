//! The server check on servers that rewrite headers on store (GNU imap4d
//! adds header fields, so a message's size there is not the size sent):
//! a source message the server check's index cannot claim by Message-ID
//! and size is looked for among the index's messages with its Message-ID
//! (without one: its internal date) and another size, by the fingerprint
//! of its text ([`match_rewritten`],
//! the one rule shared with the look after a lost batch). Servers that
//! store messages as sent never get here with a candidate, so never pay.

use crate::fingerprint::Fingerprint;
use crate::imap::ImapError;
use crate::message::Message;

use super::resolve::{ServerKey, Wanted, match_rewritten};
use super::server_index::Claim;
use super::{Stop, Uploader, lock};

impl Uploader<'_> {
    /// Whether `msg` (`key`, fingerprint `fp`) is on the server in
    /// `mailbox` with its header rewritten (the server message is then
    /// claimed). Text hashes are read only for its Message-ID's (or
    /// date's) other-size server messages; when they cannot be read, no
    /// verdict ([`Claim::Unknown`]: not sent, as when a body hash is
    /// missing).
    pub(super) fn found_rewritten(
        &mut self,
        mailbox: &str,
        msg: &Message,
        key: &ServerKey,
        fp: &Fingerprint,
    ) -> Result<Claim, Stop> {
        let shared = self.shared;
        let wanted = [Wanted::of_message(msg, *fp)];
        let summaries = match lock(&shared.on_server).get(mailbox) {
            Some(c) => c.index.unclaimed_alike(key, wanted[0].wall_clock),
            None => return Ok(Claim::Absent),
        };
        if summaries.is_empty() {
            return Ok(Claim::Absent);
        }
        let mut found = [None];
        let mut stop = None;
        let matched = match_rewritten(&wanted, &summaries, &mut found, |uids| {
            let read = self.costed(|u| {
                u.retrying(|s| {
                    s.select(mailbox)?;
                    s.fetch_text_hashes(uids)
                })
            });
            match read {
                Ok(Ok(h)) => {
                    self.report.server_check.bodies_hashed += h.len() as u64;
                    Ok(h)
                }
                Ok(Err(e)) => Err(e),
                Err(e) => {
                    stop = Some(e);
                    Err(ImapError::ConnectionLost("the run stopped".into()))
                }
            }
        });
        if let Some(e) = stop {
            return Err(e);
        }
        let why = match matched {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(why),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = why {
            self.report.warnings.push(format!(
                "{mailbox}: cannot read the text of server messages to tell {} from them ({why})",
                msg.origin
            ));
            return Ok(Claim::Unknown);
        }
        let Some(uid) = found[0] else {
            return Ok(Claim::Absent);
        };
        if let Some(c) = lock(&shared.on_server).get_mut(mailbox)
            && let Some(s) = summaries.iter().find(|s| s.uid == uid)
        {
            c.index.claim_summary(s);
        }
        Ok(Claim::There(uid))
    }
}
