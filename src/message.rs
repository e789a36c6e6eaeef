//! The message as it travels from a source to the server: its bytes (already
//! normalized for sending), its IMAP flags, its internal date and where it came
//! from. This module owns the shared vocabulary between `source`, `plan`,
//! `upload` and `report`; it does no I/O.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};

use crate::fingerprint::{self, Fingerprint};

/// An IMAP message flag (RFC 3501 §2.3.2): a system flag or a keyword.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// A keyword such as `$Forwarded`; always a valid IMAP atom (see [`Flag::keyword`]).
    Keyword(String),
}

impl Flag {
    /// A keyword flag, or `None` when `name` is not a valid IMAP atom
    /// (RFC 3501 §9: `atom = 1*ATOM-CHAR`, no `\`, which only system flags carry).
    pub fn keyword(name: &str) -> Option<Flag> {
        if is_atom(name) {
            Some(Flag::Keyword(name.to_string()))
        } else {
            None
        }
    }

    /// The flag as it is written in an IMAP flag list.
    pub fn as_imap(&self) -> &str {
        match self {
            Flag::Seen => "\\Seen",
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Draft => "\\Draft",
            Flag::Keyword(k) => k,
        }
    }

    /// Parses a flag as a server writes it (case-insensitive for system flags).
    pub fn from_imap(s: &str) -> Option<Flag> {
        match s.to_ascii_lowercase().as_str() {
            "\\seen" => Some(Flag::Seen),
            "\\answered" => Some(Flag::Answered),
            "\\flagged" => Some(Flag::Flagged),
            "\\deleted" => Some(Flag::Deleted),
            "\\draft" => Some(Flag::Draft),
            _ if s.starts_with('\\') => None,
            _ => Flag::keyword(s),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_imap())
    }
}

/// True when `s` is an IMAP atom (RFC 3501 §9): non-empty, printable ASCII,
/// none of `(){ %*"\]` and no control characters.
pub fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            (0x21..0x7f).contains(&b)
                && !matches!(
                    b,
                    b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']'
                )
        })
}

/// Where an internal date was taken from, in the order `auto` tries them
/// (see DESIGN.md, "Metadata rules").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateSource {
    /// The received date a mail client recorded in its own store beside
    /// the message (Apple Mail's emlx `date-received`).
    StoreReceived,
    /// The date on the mbox `From ` separator line.
    FromLine,
    /// The top-most `Received:` header (the final hop).
    Received,
    /// The `Date:` header.
    DateHeader,
    /// The timestamp at the start of a Maildir file name.
    FileName,
    /// The file's modification time.
    Mtime,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::StoreReceived => "mail store's received date",
            DateSource::FromLine => "From_ line",
            DateSource::Received => "Received header",
            DateSource::DateHeader => "Date header",
            DateSource::FileName => "file name",
            DateSource::Mtime => "file mtime",
        }
    }
}

/// The internal date chosen for a message, with where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InternalDate {
    pub at: DateTime<FixedOffset>,
    pub source: DateSource,
}

/// Where a message came from, for reports and errors: the file, the message's
/// 1-based position in that file or folder, and its byte offset in an mbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    /// 1-based index of the message within its source folder.
    pub index: usize,
    /// Byte offset of the message's first line in an mbox file.
    pub offset: Option<u64>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(
                f,
                "{} message {} (byte {})",
                self.path.display(),
                self.index,
                off
            ),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// One message ready to be planned and sent.
#[derive(Clone, Debug)]
pub struct Message {
    pub origin: Origin,
    /// The bytes to send: source bytes with line ends normalized to CRLF
    /// (the last line included: [`end_with_crlf`]), mbox quoting undone and
    /// client-state headers removed (unless kept).
    pub bytes: Vec<u8>,
    /// Flags, sorted and without duplicates.
    pub flags: Vec<Flag>,
    /// `None` when no source gave a usable date (the server then uses "now").
    pub date: Option<InternalDate>,
    /// Things worth reporting that did not stop the message (e.g. an
    /// unparseable Date header, keywords that cannot be named).
    pub warnings: Vec<String>,
    /// Folders this message goes to when the source routes message by message
    /// (Gmail Takeout labels); empty means its source folder's mailbox.
    pub targets: Vec<Vec<String>>,
    /// Set when the source says not to upload it (e.g. "deleted in source"):
    /// the reason, counted as skipped rather than failed.
    pub skip: Option<String>,
    /// What [`Message::fingerprint`] and [`Message::message_id`] read off
    /// `bytes`, kept once computed.
    pub derived: Derived,
}

/// Facts read off a message's bytes, each computed at most once: the
/// upload's reader thread computes them (`upload/feed.rs`), so the send
/// loop never hashes. A message's `bytes` do not change once it is built.
#[derive(Clone, Debug, Default)]
pub struct Derived {
    fingerprint: OnceLock<Fingerprint>,
    message_id: OnceLock<Option<String>>,
}

impl Message {
    /// SHA-256 of the bytes as sent (computed once, then kept).
    pub fn fingerprint(&self) -> Fingerprint {
        *self
            .derived
            .fingerprint
            .get_or_init(|| Fingerprint::of(&self.bytes))
    }

    /// The Message-ID header's value (read once, then kept).
    pub fn message_id(&self) -> Option<&str> {
        self.derived
            .message_id
            .get_or_init(|| fingerprint::message_id(&self.bytes))
            .as_deref()
    }

    /// Computes what [`Derived`] keeps, so that later uses cost nothing.
    pub fn derive(&self) {
        self.fingerprint();
        self.message_id();
    }

    /// For unit tests: `bytes` as the first message of `path`, with no
    /// flags, date, warnings or routing.
    #[cfg(test)]
    pub(crate) fn sample(path: &str, bytes: &[u8]) -> Message {
        Message {
            origin: Origin {
                path: path.into(),
                index: 1,
                offset: None,
            },
            bytes: bytes.to_vec(),
            flags: Vec::new(),
            date: None,
            warnings: Vec::new(),
            targets: Vec::new(),
            skip: None,
            derived: Derived::default(),
        }
    }

    /// Sorts and deduplicates `flags` (the representation other modules rely on).
    pub fn normalize_flags(&mut self) {
        self.flags.sort();
        self.flags.dedup();
    }
}

/// Appends `line` to `out` with its line end (LF, CRLF, or none at the end of
/// the input) written as CRLF. A lone CR inside the line is kept as it is.
pub fn push_line_crlf(out: &mut Vec<u8>, line: &[u8]) {
    let body = line
        .strip_suffix(b"\n")
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    match body {
        Some(b) => {
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        None => out.extend_from_slice(line),
    }
}

/// Normalizes every line end in `bytes` to CRLF (bare LF becomes CRLF; CRLF
/// stays; a bare CR not followed by LF is left alone).
pub fn normalize_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        push_line_crlf(&mut out, line);
    }
    out
}

/// Ends a non-empty message whose last line has no line end with CRLF, as
/// servers store it (Courier and GNU imap4d add one; Dovecot keeps the
/// message as sent): the bytes sent, their fingerprint, the journal's size
/// and the server's copy then agree on every server. Called once, where a
/// reader's message is finished (`source::build_message`). A final bare CR
/// or LF is taken as a cut-short CRLF. An empty message stays empty (it
/// cannot be sent).
pub fn end_with_crlf(bytes: &mut Vec<u8>) {
    match bytes.last() {
        None => {}
        Some(b'\r') => bytes.push(b'\n'),
        Some(b'\n') if !bytes.ends_with(b"\r\n") => bytes.insert(bytes.len() - 1, b'\r'),
        Some(b'\n') => {}
        Some(_) => bytes.extend_from_slice(b"\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_line_without_crlf_gets_one() {
        let ended = |b: &[u8]| {
            let mut v = b.to_vec();
            end_with_crlf(&mut v);
            v
        };
        assert_eq!(ended(b"S: x\r\n\r\nlast"), b"S: x\r\n\r\nlast\r\n");
        assert_eq!(ended(b"S: x\r\n\r\nlast\r\n"), b"S: x\r\n\r\nlast\r\n");
        assert_eq!(ended(b"S: x\r\n\r\nlast\n"), b"S: x\r\n\r\nlast\r\n");
        assert_eq!(ended(b"S: x\r\n\r\nlast\r"), b"S: x\r\n\r\nlast\r\n");
        assert_eq!(ended(b"\n"), b"\r\n");
        assert_eq!(ended(b""), b"");
    }

    #[test]
    fn crlf_normalization() {
        assert_eq!(normalize_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert_eq!(normalize_crlf(b"a\rb\n"), b"a\rb\r\n");
        assert_eq!(normalize_crlf(b""), b"");
        assert_eq!(normalize_crlf(b"\n\n"), b"\r\n\r\n");
    }

    #[test]
    fn derived_facts_are_those_of_the_bytes_and_survive_a_clone() {
        let bytes = b"Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n".to_vec();
        let m = Message::sample("x", &bytes);
        m.derive();
        let copy = m.clone();
        assert_eq!(
            copy.derived.fingerprint.get(),
            Some(&Fingerprint::of(&bytes))
        );
        assert_eq!(copy.message_id(), Some("<a@b>"));
        assert_eq!(m.fingerprint(), Fingerprint::of(&bytes));
    }

    #[test]
    fn atoms() {
        assert!(is_atom("$Forwarded"));
        assert!(is_atom("Junk"));
        assert!(!is_atom("two words"));
        assert!(!is_atom("a(b"));
        assert!(!is_atom(""));
        assert!(!is_atom("\\Seen"));
        assert!(!is_atom("naïve"));
    }

    #[test]
    fn flags_round_trip() {
        for f in [
            Flag::Seen,
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Draft,
        ] {
            assert_eq!(Flag::from_imap(f.as_imap()), Some(f.clone()));
        }
        assert_eq!(Flag::from_imap("\\SEEN"), Some(Flag::Seen));
        assert_eq!(Flag::from_imap("\\Recent"), None);
        assert_eq!(
            Flag::from_imap("$Forwarded"),
            Some(Flag::Keyword("$Forwarded".into()))
        );
    }
}
