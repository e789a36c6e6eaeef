//! UID COPY (RFC 3501 §6.4.7, §6.4.8) with the COPYUID answer of UIDPLUS
//! (RFC 4315 §3): the UIDs the copies got in the destination, so that a
//! message uploaded once can be journaled in every mailbox it was copied to.

use crate::imap::ImapError;
use crate::imap::error::Code;
use crate::imap::exec::Keep;
use crate::imap::response::parse_uid_set;
use crate::imap::session::Session;

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
        let mut b = self.builder("UID COPY");
        b.sp_raw(uid_set(uids).as_bytes());
        b.sp_mailbox(mailbox);
        let done = self.run(b.finish(), Keep::NOTHING)?.ok()?;
        Ok(match &done.status.code {
            Some(Code::Other(c)) => parse_copyuid(c).unwrap_or_default(),
            _ => Copied::default(),
        })
    }
}

/// `1:3,7` for `[1, 2, 3, 7]` (in the order given; runs of consecutive UIDs
/// become ranges).
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && end.checked_add(1) == Some(uids[i + 1]) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
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
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[u32::MAX, 1]), format!("{},1", u32::MAX));
    }

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
