//! The identity of a message's content: SHA-256 of the bytes exactly as they
//! are sent (line ends normalized, client-state headers removed), and the
//! Message-ID header. The journal keys on the fingerprint; server-side checks
//! (the upload's server check, `verify`) compare what they can read back cheaply.
//!
//! SHA-256 rather than BLAKE3: pure Rust with no build script, and a user can
//! check a fingerprint by hand with `sha256sum`. Hashing is far cheaper than
//! the network either way.

use std::fmt;

use sha2::{Digest, Sha256};

/// SHA-256 of a message's bytes as sent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(bytes).into())
    }

    /// The fingerprint of a message's text ([`text_of`]): what a server that
    /// rewrites headers on store still holds as sent.
    pub fn of_text(bytes: &[u8]) -> Fingerprint {
        Fingerprint::of(text_of(bytes))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<Fingerprint> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Fingerprint(out))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The Message-ID header's value (trimmed, unfolded), if the header block has one.
pub fn message_id(bytes: &[u8]) -> Option<String> {
    let end = find(bytes, b"\r\n\r\n")
        .or_else(|| find(bytes, b"\n\n"))
        .unwrap_or(bytes.len());
    let head = &bytes[..end];
    let mut lines = head.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        // A line starting with white space continues the field before it
        // (RFC 5322 §2.2.3): DKIM-Signature's `h=…:Message-ID:…` list
        // folded onto one is not a Message-ID field.
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if !line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"message-id")
        {
            continue;
        }
        let mut value = line[colon + 1..].to_vec();
        while let Some(next) = lines.peek() {
            if next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                value.extend_from_slice(next);
                lines.next();
            } else {
                break;
            }
        }
        let v = String::from_utf8_lossy(&value).trim().to_string();
        return (!v.is_empty()).then_some(v);
    }
    None
}

/// The text of a message as sent (CRLF line ends): the bytes after the first
/// empty line, what IMAP's `BODY[TEXT]` names (RFC 3501 §6.4.5); empty
/// when there is no empty line.
pub fn text_of(bytes: &[u8]) -> &[u8] {
    if let Some(rest) = bytes.strip_prefix(b"\r\n") {
        return rest;
    }
    find(bytes, b"\r\n\r\n").map_or(&[], |at| &bytes[at + 4..])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let f = Fingerprint::of(b"abc");
        assert_eq!(
            f.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Fingerprint::from_hex(&f.to_hex()), Some(f));
        assert_eq!(Fingerprint::from_hex("zz"), None);
    }

    #[test]
    fn a_folded_line_naming_message_id_is_not_the_field() {
        let head = b"DKIM-Signature: v=1; h=From:To:Subject:Date:\r\n Message-ID:Content-Type; i=a@b;\r\n bh=x=;\r\nSubject: s\r\nMessage-ID:\r\n <real@x>\r\n\r\nbody\r\n";
        assert_eq!(message_id(head).as_deref(), Some("<real@x>"));
        let only_folded = b"DKIM-Signature: v=1;\r\n\tMessage-ID: <no@x>\r\n\r\nbody\r\n";
        assert_eq!(message_id(only_folded), None);
        assert_eq!(
            message_id(b"Message-Id : <obs@x>\r\n\r\n").as_deref(),
            Some("<obs@x>")
        );
    }

    #[test]
    fn text_is_after_the_first_empty_line() {
        assert_eq!(
            text_of(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore"),
            b"body\r\n\r\nmore"
        );
        assert_eq!(text_of(b"\r\nbody"), b"body");
        assert_eq!(text_of(b"A: 1\r\n"), b"");
        assert_eq!(
            Fingerprint::of_text(b"X-Added: 1\r\nA: 1\r\n\r\nsame"),
            Fingerprint::of_text(b"A: 1\r\n\r\nsame")
        );
    }

    #[test]
    fn message_ids() {
        assert_eq!(
            message_id(b"Subject: x\r\nMessage-Id:\r\n <a@b>\r\n\r\nMessage-ID: <no>\r\n")
                .as_deref(),
            Some("<a@b>")
        );
        assert_eq!(
            message_id(b"Subject: x\r\n\r\nMessage-ID: <body>\r\n"),
            None
        );
    }
}
