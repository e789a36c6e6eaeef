//! UID COPY (RFC 3501 §6.4.7, §6.4.8) with the COPYUID answer of UIDPLUS
//! (RFC 4315 §3): the UIDs the copies got in the destination, so that a
//! message uploaded once can be journaled in every mailbox it was copied to.

use crate::imap::ImapError;
use crate::imap::command::Request;
use crate::imap::error::Code;
use crate::imap::exec::Keep;
use crate::imap::exec::Session;
use crate::imap::response::parse_uid_set;

/// What a successful COPY told us.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// The destination's UIDVALIDITY (from COPYUID).
    pub uid_validity: Option<u32>,
    /// (source UID, destination UID) pairs; empty without COPYUID.
    pub uids: Vec<(u32, u32)>,
}

impl Copied {
    /// The destination UID of the copy of `source`, when known.
    pub fn dest_of(&self, source: u32) -> Option<u32> {
        self.uids.iter().find(|p| p.0 == source).map(|p| p.1)
    }
}

impl Session {
    /// `UID COPY uids mailbox` from the selected mailbox.
    pub fn uid_copy(&mut self, uids: &[u32], mailbox: &str) -> Result<Copied, ImapError> {
        let cmd = self.command(&Request::UidCopy { uids, mailbox });
        let done = self.run(cmd, Keep::NOTHING)?.ok()?;
        Ok(match &done.status.code {
            Some(Code::Other(c)) => parse_copyuid(c).unwrap_or_default(),
            _ => Copied::default(),
        })
    }
}

/// `COPYUID uidvalidity source-set dest-set` (RFC 4315 §3): the sets pair
/// up in order.
fn parse_copyuid(code: &str) -> Option<Copied> {
    let mut it = code.split_ascii_whitespace();
    if !it.next()?.eq_ignore_ascii_case("COPYUID") {
        return None;
    }
    let uid_validity = it.next()?.parse().ok()?;
    let from = parse_uid_set(it.next()?)?;
    let to = parse_uid_set(it.next()?)?;
    (from.len() == to.len() && it.next().is_none()).then(|| Copied {
        uid_validity: Some(uid_validity),
        uids: from.into_iter().zip(to).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copyuid_pairs_source_and_destination() {
        let c = parse_copyuid("COPYUID 38505 304,319:320 3956:3958").unwrap();
        assert_eq!(c.uid_validity, Some(38505));
        assert_eq!(c.dest_of(319), Some(3957));
        assert_eq!(c.dest_of(1), None);
        assert!(parse_copyuid("COPYUID 1 1:2 5").is_none());
        assert!(parse_copyuid("APPENDUID 1 1").is_none());
    }
}
