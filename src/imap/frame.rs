//! Framing server responses, with bounds: [`read_frame`] reads one complete
//! response from a `BufRead` — a line, and whenever the line ends with a
//! literal header `{n}` (`{n+}`, `~{n}`) exactly n bytes plus the following
//! line — like imap-codec's `Fragmentizer`, unlike re-parsing after every
//! line. Classifying and parsing the frame is `response.rs`'s job.
//!
//! Whatever a server sends, one frame holds at most [`FrameLimits::total`]
//! bytes: each line is bounded, each literal is bounded, and so is their sum
//! (a greeting of a dozen 64 MiB literals fails at the second one, before
//! reading it). A literal is given room for exactly its announced size
//! before it is read, so a kept literal costs its size, not twice that.
//!
//! [`read_frame_with`] can also hash a `BODY[]` literal as it streams from
//! the socket instead of keeping it (RFC 3501 §7.4.2 `msg-att-static`):
//! the frame then says `BODY[] {0}`, so that it still parses, and the
//! SHA-256 of the bytes comes beside it. Such a literal has no size bound:
//! memory stays the reader's buffer whatever the message's size.

use std::io::{self, BufRead, Read};

use sha2::{Digest, Sha256};

use crate::fingerprint::Fingerprint;
use crate::imap::ImapError;

/// The largest literal kept from the server.
pub const MAX_LITERAL: usize = 64 << 20;
/// The longest protocol line accepted (without literals).
pub const MAX_LINE: usize = 1 << 20;
/// The most one response may hold, lines and kept literals together: one
/// literal of [`MAX_LITERAL`] and some lines around it.
pub const MAX_RESPONSE: usize = MAX_LITERAL + 16 * MAX_LINE;

/// Bounds on one response (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    pub line: usize,
    pub literal: usize,
    pub total: usize,
}

impl FrameLimits {
    /// The bounds the session reads with.
    pub const STANDARD: FrameLimits = FrameLimits {
        line: MAX_LINE,
        literal: MAX_LITERAL,
        total: MAX_RESPONSE,
    };
}

/// A `BODY[]` literal hashed as it arrived instead of kept in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashedBody {
    /// The literal's size as announced and read.
    pub len: u64,
    /// SHA-256 of its bytes, as [`Fingerprint::of`] over all of them.
    pub fingerprint: Fingerprint,
    /// Where in the frame the `{0}` standing for it starts.
    pub at: usize,
}

/// Reads one complete response (lines and literals) into `out` (cleared
/// first), with [`FrameLimits::STANDARD`]. EOF before the first byte or
/// inside a response is `ConnectionLost`; a bound exceeded is `TooLarge`.
pub fn read_frame<R: BufRead>(r: &mut R, out: &mut Vec<u8>) -> Result<(), ImapError> {
    read_frame_with(r, out, &FrameLimits::STANDARD, false).map(drop)
}

/// [`read_frame`] with `limits`; with `hash_bodies`, a literal following
/// `BODY[]` (or `BODY[TEXT]`) is hashed as it streams and left out of the frame (at most one
/// per response: a FETCH response names each item once).
pub fn read_frame_with<R: BufRead>(
    r: &mut R,
    out: &mut Vec<u8>,
    limits: &FrameLimits,
    hash_bodies: bool,
) -> Result<Option<HashedBody>, ImapError> {
    out.clear();
    let mut hashed = None;
    loop {
        let start = out.len();
        let n = r
            .by_ref()
            .take(limits.line as u64)
            .read_until(b'\n', out)
            .map_err(lost)?;
        if n == 0 || out.last() != Some(&b'\n') {
            if n >= limits.line {
                return Err(too_large("a response line", limits.line, "one line"));
            }
            return Err(ImapError::ConnectionLost(
                "connection closed by server".into(),
            ));
        }
        if out.len() > limits.total {
            return Err(too_large("one response", limits.total, "one response"));
        }
        let line = &out[start..];
        // A continuation request's text is not data and carries no literal.
        if start == 0 && line.starts_with(b"+") {
            return Ok(hashed);
        }
        let Some((len, header)) = literal_header(line) else {
            return Ok(hashed);
        };
        if hash_bodies && follows_body(&line[..header]) {
            if hashed.is_some() {
                return Err(ImapError::ServerGarbage(
                    "two BODY[] literals in one FETCH response".into(),
                ));
            }
            let at = start + header;
            out.truncate(at);
            // `~{n}` (RFC 3516 literal8) becomes a plain `{0}` too.
            if out.last() == Some(&b'~') {
                out.pop();
            }
            let at = out.len();
            out.extend_from_slice(b"{0}\r\n");
            hashed = Some(HashedBody {
                len,
                fingerprint: hash_literal(r, len)?,
                at,
            });
            continue;
        }
        if len > limits.literal as u64 {
            return Err(too_large(
                &format!("a literal of {len} bytes"),
                limits.literal,
                "one literal",
            ));
        }
        let len = len as usize;
        if out.len() + len > limits.total {
            return Err(too_large("one response", limits.total, "one response"));
        }
        out.reserve_exact(len);
        let got = r.by_ref().take(len as u64).read_to_end(out).map_err(lost)?;
        if got < len {
            return Err(ImapError::ConnectionLost(
                "connection closed inside a literal".into(),
            ));
        }
    }
}

/// Reads `len` bytes from `r` into a SHA-256, one buffer at a time.
fn hash_literal<R: BufRead>(r: &mut R, len: u64) -> Result<Fingerprint, ImapError> {
    let mut hasher = Sha256::new();
    let mut left = len;
    while left > 0 {
        let buf = r.fill_buf().map_err(lost)?;
        if buf.is_empty() {
            return Err(ImapError::ConnectionLost(
                "connection closed inside a literal".into(),
            ));
        }
        let k = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        hasher.update(&buf[..k]);
        r.consume(k);
        left -= k as u64;
    }
    Ok(Fingerprint(hasher.finalize().into()))
}

/// True when the text before a literal header ends with `BODY[]` (a whole
/// message, RFC 3501 §7.4.2) or `BODY[TEXT]` (its text, without the
/// header), `~` of a literal8 aside.
fn follows_body(before: &[u8]) -> bool {
    let before = before.strip_suffix(b"~").unwrap_or(before);
    let before = before.strip_suffix(b" ").unwrap_or(before);
    [&b"BODY[]"[..], b"BODY[TEXT]"].iter().any(|item| {
        before.len() >= item.len() && before[before.len() - item.len()..].eq_ignore_ascii_case(item)
    })
}

/// The length announced by a trailing `{n}`, `{n+}` or `~{n}` (RFC 3501
/// §4.3, RFC 7888, RFC 3516), and where its `{` is, if the line ends with
/// one. At most 12 digits, so the number always fits.
fn literal_header(line: &[u8]) -> Option<(u64, usize)> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let body = body.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let inner = &body[open + 1..];
    let digits = inner.strip_suffix(b"+").unwrap_or(inner);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some((n, open))
}

/// `TooLarge` naming the bound: "a response line from the server exceeded
/// the 1 MiB bound on one line".
fn too_large(what: &str, bound: usize, on: &str) -> ImapError {
    ImapError::TooLarge {
        what: format!("{what} from the server"),
        bound: format!("the {} bound on {on}", size(bound)),
    }
}

/// `64 MiB` for whole mebibytes, else bytes.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// An I/O error while reading or writing: a timeout or a broken connection
/// (then a command in flight has an unknown fate), or undecodable bytes
/// under TLS or deflate (the stream is out of step).
pub fn lost(e: io::Error) -> ImapError {
    match e.kind() {
        io::ErrorKind::InvalidData => ImapError::ServerGarbage(e.to_string()),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ImapError::ConnectionLost(format!("timed out ({e})"))
        }
        _ => ImapError::ConnectionLost(e.to_string()),
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
