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
}

/// How the header block of a message is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderMode {
    /// Maildir: read dates only; nothing is interpreted or removed.
    DatesOnly,
    /// mbox: read client-state flags; remove those headers unless `keep`.
    Mbox { keep: bool },
}

/// Reads the header block of `msg` and, for [`HeaderMode::Mbox`] without
/// `keep`, removes the client-state fields (with their continuation lines)
/// from `msg` in place.
pub fn process_headers(msg: &mut Vec<u8>, mode: HeaderMode) -> HeaderFacts {
    let mut facts = HeaderFacts::default();
    let header_end = header_block_len(msg);
    let mut kept: Vec<u8> = Vec::new();
    let mut removed_any = false;
    for field in split_fields(&msg[..header_end]) {
        let (name, value) = name_and_value(field);
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "date" if facts.date.is_none() => facts.date = Some(value.clone()),
            "received" if facts.received.is_none() => facts.received = Some(value.clone()),
            _ => {}
        }
        let is_state = matches!(mode, HeaderMode::Mbox { .. }) && CLIENT_STATE.contains(&&*lname);
        if is_state {
            read_state_flags(&lname, &value, &mut facts);
        }
        if is_state && mode == (HeaderMode::Mbox { keep: false }) {
            removed_any = true;
        } else {
            kept.extend_from_slice(field);
        }
    }
    if removed_any {
        kept.extend_from_slice(&msg[header_end..]);
        *msg = kept;
    }
    facts
}

/// Length of the header block: everything before the first empty line (a
/// line that is only a line end). The whole message when there is none.
fn header_block_len(msg: &[u8]) -> usize {
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
fn split_fields(block: &[u8]) -> Vec<&[u8]> {
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
fn name_and_value(field: &[u8]) -> (String, String) {
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
                    // Expunged in Thunderbird: upload as deleted rather than live.
                    (0x8, Flag::Deleted),
                    (0x1000, Flag::Keyword("$Forwarded".into())),
                ];
                for (bit, flag) in map {
                    if bits & bit != 0 {
                        facts.flags.push(flag);
                    }
                }
            }
            Err(_) if value.is_empty() => {}
            Err(_) => facts.warnings.push(format!(
                "X-Mozilla-Status {value:?} is not hexadecimal; ignored"
            )),
        },
        "x-keywords" | "x-mozilla-keys" => {
            for word in value.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
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

    const MBOX: HeaderMode = HeaderMode::Mbox { keep: false };

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
        let f = process_headers(&mut m, HeaderMode::Mbox { keep: true });
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
