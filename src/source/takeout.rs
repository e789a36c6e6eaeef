//! Gmail Takeout: an mbox whose messages carry `X-Gmail-Labels`. Labels are
//! parsed (quoted labels with commas, RFC 2047 encoded words) and turned into
//! per-message target folders and flags: `Inbox` → INBOX, `Sent`, `Drafts`,
//! `Spam` → Junk, `Trash`, user labels with `/` as hierarchy; system labels
//! (`Important`, `Starred`, `Unread`, `Opened`, `Archived`, `Category …`)
//! are not mailboxes; a message without a folder label goes to the archive
//! mailbox; chat transcripts are skipped unless asked for.

use crate::message::Flag;

/// What a message's labels say about where it goes and how it is flagged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// Target folders as hierarchy components, without duplicates.
    pub targets: Vec<Vec<String>>,
    pub flags: Vec<Flag>,
    pub skip: Option<String>,
}

/// Labels that are Gmail state, not mailboxes (compared case-insensitively).
const NOT_MAILBOXES: [&str; 8] = [
    "important",
    "starred",
    "unread",
    "opened",
    "archived",
    "muted",
    "sent mail",
    "all mail",
];

/// Routes a message from its decoded labels.
pub fn route(labels: &[String], archive: &str, chats: bool) -> Routing {
    let mut r = Routing::default();
    let has = |name: &str| labels.iter().any(|l| l.eq_ignore_ascii_case(name));
    if has("Chat") && !chats {
        r.skip = Some("Gmail chat transcript".into());
    }
    if !has("Unread") {
        r.flags.push(Flag::Seen);
    }
    if has("Starred") {
        r.flags.push(Flag::Flagged);
    }
    if has("Drafts") {
        r.flags.push(Flag::Draft);
    }
    // Gmail hides trashed and spam messages from every label view, so those
    // two are the only place such a message goes.
    for (label, target) in [("Trash", "Trash"), ("Spam", "Junk")] {
        if has(label) {
            r.targets.push(vec![target.to_string()]);
            return r;
        }
    }
    for label in labels {
        let lower = label.to_ascii_lowercase();
        let target: Vec<String> = match lower.as_str() {
            "inbox" => vec!["INBOX".into()],
            "sent" => vec!["Sent".into()],
            "drafts" => vec!["Drafts".into()],
            "chat" => vec!["Chats".into()],
            _ if NOT_MAILBOXES.contains(&lower.as_str()) || lower.starts_with("category ") => {
                continue;
            }
            _ => label
                .split('/')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        };
        if !target.is_empty() && !r.targets.contains(&target) {
            r.targets.push(target);
        }
    }
    if r.targets.is_empty() {
        r.targets.push(vec![archive.to_string()]);
    }
    r
}

/// Splits an `X-Gmail-Labels` value on commas outside double quotes and
/// encoded words, unquotes, and decodes RFC 2047 encoded words.
pub fn parse_labels(value: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped, mut in_word) = (false, false, false);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '=' if chars.peek() == Some(&'?') => {
                in_word = true;
                cur.push(c);
            }
            '?' if in_word && chars.peek() == Some(&'=') => {
                // `?=` ends the word unless it is the `?Q?=41` kind of start.
                cur.push(c);
                if cur.matches('?').count() >= 4 {
                    in_word = false;
                }
            }
            ',' if !quoted && !in_word => labels.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    labels.push(cur);
    labels
        .into_iter()
        .map(|l| decode_words(l.trim()))
        .filter(|l| !l.is_empty())
        .collect()
}

/// Decodes the RFC 2047 encoded words in `s` (UTF-8, US-ASCII and Latin-1;
/// a word in another charset, or malformed, is left as it is). Whitespace
/// between two encoded words is dropped.
pub fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        let decoded = parse_word(from);
        if !(last_was_word && decoded.is_some() && before.trim().is_empty()) {
            out.push_str(before);
        }
        match decoded {
            Some((text, len)) => {
                out.push_str(&text);
                rest = &from[len..];
                last_was_word = true;
            }
            None => {
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `=?charset?enc?text?=` at the start of `s`: the decoded text and the
/// word's length.
fn parse_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (enc, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    let len = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
    let bytes = match enc {
        "B" | "b" => base64(text)?,
        "Q" | "q" => q_decode(text)?,
        _ => return None,
    };
    let charset = charset.split('*').next()?.to_ascii_lowercase();
    let text = match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8(bytes).ok()?,
        "iso-8859-1" | "latin1" | "windows-1252" => bytes.iter().map(|&b| b as char).collect(),
        _ => return None,
    };
    Some((text, len))
}

fn q_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Base64 of an RFC 2047 `B` encoded word (padding optional in the wild).
fn base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn label_parsing() {
        assert_eq!(
            parse_labels("Inbox,Important,\"Work, old\",Category Updates,Opened"),
            v(&[
                "Inbox",
                "Important",
                "Work, old",
                "Category Updates",
                "Opened"
            ])
        );
        assert_eq!(
            parse_labels("=?UTF-8?Q?Caf=C3=A9,_bar?=,=?UTF-8?B?w6l0w6k=?=,x"),
            v(&["Café, bar", "été", "x"])
        );
        assert_eq!(parse_labels("a\\b, \"q\\\"x\" ,,"), v(&["a\\b", "q\"x"]));
        assert_eq!(
            decode_words("=?ISO-8859-1?Q?f=FCr?= =?UTF-8?Q?_x?="),
            "für x"
        );
        assert_eq!(decode_words("=?KOI8-R?Q?x?="), "=?KOI8-R?Q?x?=");
    }

    #[test]
    fn routing() {
        let r = route(
            &v(&["Inbox", "Important", "Starred", "Opened"]),
            "Archive",
            false,
        );
        assert_eq!(r.targets, vec![v(&["INBOX"])]);
        assert_eq!(r.flags, vec![Flag::Seen, Flag::Flagged]);
        let r = route(
            &v(&["Sent", "Work/2020", "Inbox", "Unread"]),
            "Archive",
            false,
        );
        assert_eq!(
            r.targets,
            vec![v(&["Sent"]), v(&["Work", "2020"]), v(&["INBOX"])]
        );
        assert!(r.flags.is_empty());
        let r = route(
            &v(&["Archived", "Category Promotions", "Opened"]),
            "All",
            false,
        );
        assert_eq!(r.targets, vec![v(&["All"])]);
        let r = route(&v(&["Spam", "Inbox"]), "Archive", false);
        assert_eq!(r.targets, vec![v(&["Junk"])]);
        let r = route(&v(&["Trash", "Work"]), "Archive", false);
        assert_eq!(r.targets, vec![v(&["Trash"])]);
        let r = route(&v(&["Drafts"]), "Archive", false);
        assert_eq!(r.targets, vec![v(&["Drafts"])]);
        assert!(r.flags.contains(&Flag::Draft));
        let r = route(&v(&["Chat", "Opened"]), "Archive", false);
        assert_eq!(r.skip.as_deref(), Some("Gmail chat transcript"));
        let r = route(&v(&["Chat"]), "Archive", true);
        assert_eq!((r.skip, r.targets), (None, vec![v(&["Chats"])]));
    }
}
