//! Untagged data turned into mailhaul's small structs: CAPABILITY, LIST,
//! NAMESPACE, STATUS and FETCH (EXISTS is counted as it arrives, `exec.rs`). imap-proto does the parsing; this module picks
//! out what the session needs and decodes names (modified UTF-7) and dates.
//! Frames that imap-proto cannot parse are skipped here (the tagged status
//! decides success), except CAPABILITY, which has a lenient fallback.

use chrono::{DateTime, FixedOffset};
use imap_proto::{AttributeValue, Capability, MailboxDatum, NameAttribute, StatusAttribute};

use crate::imap::response::parse_data;
use crate::imap::types::{ListEntry, MailboxStatus, Summary};
use crate::imap::utf7;

/// The capability list from `* CAPABILITY ...` data, upper-cased.
pub fn capabilities(frames: &[Vec<u8>]) -> Option<Vec<String>> {
    frames.iter().find_map(|f| match parse_data(f) {
        Ok(imap_proto::Response::Capabilities(caps)) => Some(
            caps.iter()
                .map(|c| match c {
                    Capability::Imap4rev1 => "IMAP4REV1".to_string(),
                    Capability::Auth(m) => format!("AUTH={}", m.to_ascii_uppercase()),
                    Capability::Atom(a) => a.to_ascii_uppercase(),
                })
                .collect(),
        ),
        _ => {
            // Lenient: RFC 3501 §7.2.1 `capability-data`, split by spaces.
            let line = std::str::from_utf8(f).ok()?.trim_end();
            let rest = line
                .get(..13)?
                .eq_ignore_ascii_case("* CAPABILITY ")
                .then(|| &line[13..])?;
            Some(
                rest.split_ascii_whitespace()
                    .map(str::to_ascii_uppercase)
                    .collect(),
            )
        }
    })
}

/// The first personal namespace from `* NAMESPACE (("prefix" "delim") ...) ...`
/// (RFC 2342 §5): the prefix (decoded from modified UTF-7) and delimiter.
pub fn personal_namespace(frame: &[u8]) -> Option<(String, Option<char>)> {
    let line = std::str::from_utf8(frame).ok()?.trim_end();
    let rest = line
        .get(..12)?
        .eq_ignore_ascii_case("* NAMESPACE ")
        .then(|| &line[12..])?;
    let rest = rest.strip_prefix("((")?;
    let (prefix, rest) = quoted_string(rest)?;
    let rest = rest.trim_start();
    let delimiter = if rest.get(..3).is_some_and(|n| n.eq_ignore_ascii_case("NIL")) {
        None
    } else {
        quoted_string(rest)?.0.chars().next()
    };
    let prefix = utf7::decode(&prefix).unwrap_or(prefix);
    Some((prefix, delimiter))
}

/// A quoted string at the start of `s` (RFC 3501 §9 `quoted`), unescaped,
/// and the rest of `s`.
fn quoted_string(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 2..])),
            c => out.push(c),
        }
    }
    None
}

/// A `* LIST` line as a [`ListEntry`].
pub fn list_entry(frame: &[u8]) -> Option<ListEntry> {
    let Ok(imap_proto::Response::MailboxData(MailboxDatum::List(l))) = parse_data(frame) else {
        return None;
    };
    let attributes = l
        .name_attributes
        .iter()
        .map(|a| match a {
            NameAttribute::NoInferiors => "\\Noinferiors".to_string(),
            NameAttribute::NoSelect => "\\Noselect".into(),
            NameAttribute::Marked => "\\Marked".into(),
            NameAttribute::Unmarked => "\\Unmarked".into(),
            NameAttribute::All => "\\All".into(),
            NameAttribute::Archive => "\\Archive".into(),
            NameAttribute::Drafts => "\\Drafts".into(),
            NameAttribute::Flagged => "\\Flagged".into(),
            NameAttribute::Junk => "\\Junk".into(),
            NameAttribute::Sent => "\\Sent".into(),
            NameAttribute::Trash => "\\Trash".into(),
            NameAttribute::Extension(e) => e.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    // A name that is not valid modified UTF-7 is kept as the server sent it.
    let name = utf7::decode(&l.name).unwrap_or_else(|_| l.name.to_string());
    Some(ListEntry {
        name,
        delimiter: l.delimiter.as_ref().and_then(|d| d.chars().next()),
        attributes,
    })
}

/// The `* STATUS` answer.
pub fn status(frames: &[Vec<u8>]) -> Option<MailboxStatus> {
    frames.iter().find_map(|f| match parse_data(f) {
        Ok(imap_proto::Response::MailboxData(MailboxDatum::Status { status, .. })) => {
            let mut s = MailboxStatus::default();
            for a in status {
                match a {
                    StatusAttribute::Messages(n) => s.messages = Some(n),
                    StatusAttribute::UidNext(n) => s.uid_next = Some(n),
                    StatusAttribute::UidValidity(n) => s.uid_validity = Some(n),
                    _ => {}
                }
            }
            Some(s)
        }
        _ => None,
    })
}

/// The UID of a `* n FETCH (... UID u ...)` answer.
pub fn fetch_uid(frame: &[u8]) -> Option<u32> {
    let Ok(imap_proto::Response::Fetch(_, attrs)) = parse_data(frame) else {
        return None;
    };
    attrs.iter().find_map(|a| match a {
        AttributeValue::Uid(u) => Some(*u),
        _ => None,
    })
}

/// A `* n FETCH (UID RFC822.SIZE INTERNALDATE BODY[HEADER.FIELDS (MESSAGE-ID)])`
/// answer; `None` for anything else (or a FETCH without UID or size).
pub fn summary(frame: &[u8]) -> Option<Summary> {
    let Ok(imap_proto::Response::Fetch(_, attrs)) = parse_data(frame) else {
        return None;
    };
    let (mut uid, mut size, mut date, mut message_id) = (None, None, None, None);
    for a in attrs {
        match a {
            AttributeValue::Uid(u) => uid = Some(u),
            AttributeValue::Rfc822Size(n) => size = Some(n),
            AttributeValue::InternalDate(d) => date = internal_date(&d),
            AttributeValue::BodySection { data: Some(d), .. } => {
                message_id = crate::fingerprint::message_id(&d)
            }
            _ => {}
        }
    }
    Some(Summary {
        uid: uid?,
        size: size?,
        internal_date: date,
        message_id,
    })
}

/// RFC 3501 §9 `date-time` content, day padded with a zero or a space
/// (Cyrus writes ` 1-Jan-2010`).
pub fn internal_date(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(s.trim(), "%d-%b-%Y %H:%M:%S %z").ok()
}

#[cfg(test)]
mod namespace_tests {
    use super::*;

    #[test]
    fn personal_namespace_prefix_and_delimiter() {
        assert_eq!(
            personal_namespace(b"* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\"))\r\n"),
            Some(("INBOX.".to_string(), Some('.')))
        );
        assert_eq!(
            personal_namespace(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
            Some((String::new(), Some('/')))
        );
        assert_eq!(
            personal_namespace(b"* namespace ((\"\" NIL)) NIL NIL\r\n"),
            Some((String::new(), None))
        );
        assert_eq!(personal_namespace(b"* NAMESPACE NIL NIL NIL\r\n"), None);
        assert_eq!(personal_namespace(b"* LIST () \"/\" INBOX\r\n"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let f = b"* 3 FETCH (UID 9 RFC822.SIZE 1234 INTERNALDATE \"01-Jan-2010 10:00:00 +0000\" BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n";
        let s = summary(f).unwrap();
        assert_eq!((s.uid, s.size), (9, 1234));
        assert_eq!(s.message_id.as_deref(), Some("<a@b>"));
        assert!(s.internal_date.is_some());
        let f =
            b"* 4 FETCH (UID 10 RFC822.SIZE 5 BODY[HEADER.FIELDS (MESSAGE-ID)] {2}\r\n\r\n)\r\n";
        assert_eq!(summary(f).unwrap().message_id, None);
        assert_eq!(summary(b"* 4 FETCH (FLAGS ())\r\n"), None);
    }

    #[test]
    fn dates() {
        let a = internal_date(" 1-Jan-2010 10:00:00 +0000").unwrap();
        let b = internal_date("01-Jan-2010 10:00:00 +0000").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            internal_date("17-Jul-1996 02:44:25 -0700")
                .unwrap()
                .to_rfc3339(),
            "1996-07-17T02:44:25-07:00"
        );
        assert!(internal_date("yesterday").is_none());
    }

    #[test]
    fn capability_data() {
        let f =
            vec![b"* CAPABILITY IMAP4rev1 LITERAL+ AUTH=plain APPENDLIMIT=35651584\r\n".to_vec()];
        assert_eq!(
            capabilities(&f).unwrap(),
            [
                "IMAP4REV1",
                "LITERAL+",
                "AUTH=PLAIN",
                "APPENDLIMIT=35651584"
            ]
        );
    }

    #[test]
    fn list_lines() {
        let e = list_entry(b"* LIST (\\HasNoChildren \\Drafts) \".\" Entw&APw-rfe\r\n").unwrap();
        assert_eq!(e.name, "Entwürfe");
        assert_eq!(e.delimiter, Some('.'));
        assert_eq!(e.attributes, ["\\HasNoChildren", "\\Drafts"]);
        let e = list_entry(b"* LIST (\\Noselect) \"/\" \"\"\r\n").unwrap();
        assert_eq!((e.name.as_str(), e.delimiter), ("", Some('/')));
        let e = list_entry(b"* LIST () NIL INBOX\r\n").unwrap();
        assert_eq!(e.delimiter, None);
    }

    #[test]
    fn status_answer() {
        let f = vec![b"* STATUS INBOX (MESSAGES 3 UIDNEXT 9 UIDVALIDITY 77)\r\n".to_vec()];
        let s = status(&f).unwrap();
        assert_eq!(
            (s.messages, s.uid_next, s.uid_validity),
            (Some(3), Some(9), Some(77))
        );
    }
}
