//! Header-block handling for source messages: finds the header block (up to
//! the first empty line; a whitespace-only line is a continuation), reads the
//! `Date:` and top-most `Received:` values, and for mbox messages reads the
//! client-state headers (Status, X-Status, X-Mozilla-*, X-Keywords, …) into
//! flags and removes them unless asked to keep them (DESIGN.md, "Metadata
//! rules" and the client-state header paragraph).

use crate::message::Flag;

/// Headers whose meaning moves into IMAP flags (or that describe the mbox
/// storage), removed from mbox messages by default.
const CLIENT_STATE: [&str; 10] = [
    "status",
    "x-status",
    "x-keywords",
    "x-uid",
    "x-imap",
    "x-imapbase",
    "x-mozilla-status",
    "x-mozilla-status2",
    "x-mozilla-keys",
    "content-length",
];

/// What the header block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    /// Flags from client-state headers (mbox only).
    pub flags: Vec<Flag>,
    pub warnings: Vec<String>,
    /// The unfolded value of the first `Date:` header.
    pub date: Option<String>,
    /// The unfolded value of the first (top-most) `Received:` header.
    pub received: Option<String>,
    /// `X-Mozilla-Status` has the expunged bit (0x0008).
    pub expunged: bool,
    /// The raw `X-Gmail-Labels` value (Takeout mode only).
    pub gmail_labels: Option<String>,
}

/// How the header block of a message is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderMode {
    /// Maildir: read dates only; nothing is interpreted or removed.
    DatesOnly,
    /// mbox: read client-state flags; remove those headers unless `keep`.
    /// With `takeout`, `X-Gmail-Labels` is read and (being client state whose
    /// meaning moves into mailboxes and flags) removed too unless `keep`.
    Mbox { keep: bool, takeout: bool },
    /// A single-message file: client-state flags read and removed as for
    /// mbox (Thunderbird saves them into .eml files), but `Content-Length`
    /// is not mbox framing here and stays.
    Eml { keep: bool },
}

impl HeaderMode {
    fn keep(self) -> bool {
        match self {
            HeaderMode::DatesOnly => true,
            HeaderMode::Mbox { keep, .. } | HeaderMode::Eml { keep } => keep,
        }
    }

    /// Whether the (lowercase) field is client state read in this mode.
    fn is_state(self, lname: &str) -> bool {
        match self {
            HeaderMode::DatesOnly => false,
            HeaderMode::Mbox { takeout, .. } => {
                CLIENT_STATE.contains(&lname) || (takeout && lname == "x-gmail-labels")
            }
            HeaderMode::Eml { .. } => CLIENT_STATE.contains(&lname) && lname != "content-length",
        }
    }
}

/// Reads the header block of `msg` and, for [`HeaderMode::Mbox`] without
/// `keep`, removes the client-state fields (with their continuation lines)
/// from `msg` in place.
pub fn process_headers(msg: &mut Vec<u8>, mode: HeaderMode) -> HeaderFacts {
    let mut facts = HeaderFacts::default();
    let header_end = header_block_len(msg);
    // Byte ranges of removed fields; the message is rebuilt only if any.
    let mut removed: Vec<(usize, usize)> = Vec::new();
    let base = msg.as_ptr() as usize;
    for field in split_fields(&msg[..header_end]) {
        // Fast path: most fields matter to nobody; look at the name only.
        let raw_name = field
            .iter()
            .position(|&b| b == b':')
            .map_or(&field[..0], |i| &field[..i]);
        if !is_interesting(raw_name) {
            continue;
        }
        let (name, value) = name_and_value(field);
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "date" if facts.date.is_none() => facts.date = Some(value.clone()),
            "received" if facts.received.is_none() => facts.received = Some(value.clone()),
            _ => {}
        }
        if mode != HeaderMode::DatesOnly && matches!(lname.as_str(), "x-label" | "x-evolution") {
            read_state_flags(&lname, &value, &mut facts);
        }
        let is_state = mode.is_state(&lname);
        if is_state {
            read_state_flags(&lname, &value, &mut facts);
        }
        if is_state && !mode.keep() {
            let start = field.as_ptr() as usize - base;
            removed.push((start, start + field.len()));
        }
    }
    if !removed.is_empty() {
        let mut kept = Vec::with_capacity(msg.len());
        let mut pos = 0;
        for (start, end) in removed {
            kept.extend_from_slice(&msg[pos..start]);
            pos = end;
        }
        kept.extend_from_slice(&msg[pos..]);
        *msg = kept;
    }
    facts
}

/// Whether a field name is one this module reads (cheap, no allocation).
fn is_interesting(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 5] = [
        b"date",
        b"received",
        b"x-label",
        b"x-evolution",
        b"x-gmail-labels",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
        || CLIENT_STATE
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

/// Length of the header block: everything before the first empty line (a
/// line that is only a line end). The whole message when there is none.
pub(crate) fn header_block_len(msg: &[u8]) -> usize {
    let mut pos = 0;
    for line in msg.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            return pos;
        }
        pos += line.len();
    }
    pos
}

/// Splits a header block into fields, each with its continuation lines
/// (lines starting with space or tab).
pub(crate) fn split_fields(block: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in block.split_inclusive(|&b| b == b'\n') {
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation && pos > start {
            fields.push(&block[start..pos]);
            start = pos;
        }
        pos += line.len();
    }
    if pos > start {
        fields.push(&block[start..pos]);
    }
    fields
}

/// The field name (empty when there is no colon) and its unfolded value.
pub(crate) fn name_and_value(field: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(field);
    match text.split_once(':') {
        Some((name, value)) if !name.contains(['\n', ' ', '\t']) => {
            let unfolded: String = value
                .split(['\r', '\n'])
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (name.to_string(), unfolded.trim().to_string())
        }
        _ => (String::new(), String::new()),
    }
}

fn read_state_flags(lname: &str, value: &str, facts: &mut HeaderFacts) {
    match lname {
        "status" if value.contains('R') => facts.flags.push(Flag::Seen),
        "x-status" => {
            for c in value.chars() {
                match c {
                    'A' => facts.flags.push(Flag::Answered),
                    'F' => facts.flags.push(Flag::Flagged),
                    'T' => facts.flags.push(Flag::Draft),
                    'D' => facts.flags.push(Flag::Deleted),
                    _ => {}
                }
            }
        }
        "x-mozilla-status" => match u32::from_str_radix(value, 16) {
            Ok(bits) => {
                let map = [
                    (0x1, Flag::Seen),
                    (0x2, Flag::Answered),
                    (0x4, Flag::Flagged),
                    (0x1000, Flag::Keyword("$Forwarded".into())),
                ];
                for (bit, flag) in map {
                    if bits & bit != 0 {
                        facts.flags.push(flag);
                    }
                }
                // Expunged in Thunderbird: skipped (or \Deleted) by the caller.
                facts.expunged |= bits & 0x8 != 0;
            }
            Err(_) if value.is_empty() => {}
            Err(_) => facts.warnings.push(format!(
                "X-Mozilla-Status {value:?} is not hexadecimal; ignored"
            )),
        },
        "x-gmail-labels" => facts.gmail_labels = Some(value.to_string()),
        // Evolution: `X-Evolution: uid-flags`, flags hex (camel-folder-summary.h).
        "x-evolution" => {
            let bits = value
                .split_once('-')
                .and_then(|(_, f)| u32::from_str_radix(f.trim(), 16).ok());
            match bits {
                Some(bits) => {
                    let map = [
                        (0x1, Flag::Answered),
                        (0x2, Flag::Deleted),
                        (0x4, Flag::Draft),
                        (0x8, Flag::Flagged),
                        (0x10, Flag::Seen),
                    ];
                    for (bit, flag) in map {
                        if bits & bit != 0 {
                            facts.flags.push(flag);
                        }
                    }
                }
                None => facts
                    .warnings
                    .push(format!("X-Evolution {value:?} is not uid-flags; ignored")),
            }
        }
        "x-keywords" | "x-mozilla-keys" | "x-label" => {
            let seps: &[char] = if lname == "x-label" {
                &[',']
            } else {
                &[',', ' ', '\t']
            };
            for word in value.split(seps).map(str::trim).filter(|w| !w.is_empty()) {
                match Flag::keyword(word) {
                    Some(f) => facts.flags.push(f),
                    None => facts.warnings.push(format!(
                        "keyword {word:?} is not an IMAP atom; not uploaded"
                    )),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MBOX: HeaderMode = HeaderMode::Mbox {
        keep: false,
        takeout: false,
    };

    #[test]
    fn strips_client_state_with_folded_lines() {
        let mut m = b"From: a\r\nStatus: RO\r\nX-Keywords: Junk,\r\n NonJunk\r\nSubject: s\r\nContent-Length: 5\r\n\r\nStatus: R\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(m, b"From: a\r\nSubject: s\r\n\r\nStatus: R\r\n");
        assert_eq!(
            f.flags,
            vec![
                Flag::Seen,
                Flag::Keyword("Junk".into()),
                Flag::Keyword("NonJunk".into())
            ]
        );
    }

    #[test]
    fn keep_option_keeps_bytes_but_reads_flags() {
        let orig = b"Status: RO\r\nX-Status: AF\r\n\r\nbody\r\n".to_vec();
        let mut m = orig.clone();
        let f = process_headers(
            &mut m,
            HeaderMode::Mbox {
                keep: true,
                takeout: false,
            },
        );
        assert_eq!(m, orig);
        assert_eq!(f.flags, vec![Flag::Seen, Flag::Answered, Flag::Flagged]);
    }

    #[test]
    fn status_and_x_status() {
        let mut m = b"Status: O\r\nX-Status: $$$$\r\n\r\n".to_vec();
        assert!(process_headers(&mut m, MBOX).flags.is_empty());
        let mut m = b"Status: RO\r\nX-Status: TD\r\n\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(f.flags, vec![Flag::Seen, Flag::Draft, Flag::Deleted]);
        assert_eq!(m, b"\r\n");
    }

    #[test]
    fn mozilla_status_and_keys() {
        let mut m = b"X-Mozilla-Status: 1013\r\nX-Mozilla-Status2: 00000000\r\nX-Mozilla-Keys: $label4 bad\"word                \r\n\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(
            f.flags,
            vec![
                Flag::Seen,
                Flag::Answered,
                Flag::Keyword("$Forwarded".into()),
                Flag::Keyword("$label4".into())
            ]
        );
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(m, b"\r\n");
    }

    #[test]
    fn expunged_is_not_a_flag() {
        let mut m = b"X-Mozilla-Status: 0009\r\n\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(f.flags, vec![Flag::Seen]);
        assert!(f.expunged);
        let mut m = b"X-Mozilla-Status: 0010\r\n\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert!(
            f.flags.is_empty() && !f.expunged,
            "0x10 (HasRe) is not a flag"
        );
    }

    #[test]
    fn other_client_headers() {
        let mut m =
            b"X-Label: work, to do\r\nX-Evolution: 00000abc-0019\r\nX-Gmail-Labels: Inbox\r\n\r\n"
                .to_vec();
        let orig = m.clone();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(
            m, orig,
            "X-Label, X-Evolution kept; X-Gmail-Labels only read in Takeout"
        );
        assert_eq!(
            f.flags,
            vec![
                Flag::Keyword("work".into()),
                Flag::Answered,
                Flag::Flagged,
                Flag::Seen
            ]
        );
        assert_eq!(
            f.warnings.len(),
            1,
            "\"to do\" is not an atom: {:?}",
            f.warnings
        );
        assert_eq!(f.gmail_labels, None);
        let f = process_headers(
            &mut m,
            HeaderMode::Mbox {
                keep: false,
                takeout: true,
            },
        );
        assert_eq!(f.gmail_labels.as_deref(), Some("Inbox"));
        assert!(!m.windows(14).any(|w| w == b"X-Gmail-Labels"));
        let mut m = b"X-Evolution: junk\r\n\r\n".to_vec();
        assert_eq!(process_headers(&mut m, MBOX).warnings.len(), 1);
    }

    #[test]
    fn eml_mode_keeps_content_length() {
        let mut m = b"Content-Length: 3\r\nStatus: RO\r\n\r\nabc".to_vec();
        let f = process_headers(&mut m, HeaderMode::Eml { keep: false });
        assert_eq!(m, b"Content-Length: 3\r\n\r\nabc");
        assert_eq!(f.flags, vec![Flag::Seen]);
    }

    #[test]
    fn whitespace_only_line_is_a_continuation() {
        let mut m = b"Date: Mon, 6 Jan 2020 09:15:00 +0000\r\nX-Mozilla-Keys: \r\n    \r\n\r\nX-Status: A\r\n".to_vec();
        let f = process_headers(&mut m, MBOX);
        assert_eq!(
            m,
            b"Date: Mon, 6 Jan 2020 09:15:00 +0000\r\n\r\nX-Status: A\r\n"
        );
        assert!(f.flags.is_empty(), "body X-Status is not a header");
        assert_eq!(f.date.as_deref(), Some("Mon, 6 Jan 2020 09:15:00 +0000"));
    }

    #[test]
    fn maildir_mode_reads_dates_only() {
        let orig = b"Received: from a\r\n by b; Mon, 6 Jan 2020 09:15:00 +0000\r\nReceived: from c; Sun, 5 Jan 2020 00:00:00 +0000\r\nStatus: RO\r\n\r\n".to_vec();
        let mut m = orig.clone();
        let f = process_headers(&mut m, HeaderMode::DatesOnly);
        assert_eq!(m, orig);
        assert!(f.flags.is_empty());
        assert_eq!(
            f.received.as_deref(),
            Some("from a  by b; Mon, 6 Jan 2020 09:15:00 +0000")
        );
    }
}
