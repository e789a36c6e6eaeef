//! Reading server responses: framing first (`frame.rs`, re-exported here
//! as [`read_frame`]), then classification. [`classify`] sorts a frame: continuation request, tagged or untagged status (parsed here,
//! leniently, with the response codes imap-proto does not know — TOOBIG,
//! LIMIT, OVERQUOTA, ALREADYEXISTS — RFC 5530), or untagged data, which is
//! handed whole to imap-proto by [`parse_data`].

use crate::imap::{Code, ImapError};

pub use crate::imap::frame::{MAX_LINE, MAX_LITERAL, read_frame};

/// The kind of a status response (RFC 3501 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    Bye,
    PreAuth,
}

/// A status response, tagged or untagged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub tag: Option<String>,
    pub kind: StatusKind,
    pub code: Option<Code>,
    /// Human-readable text, control characters escaped.
    pub text: String,
}

impl Status {
    /// `Ok(self)` for OK; the typed error for NO and BAD (BYE as `Bye`).
    pub fn into_result(self) -> Result<Status, ImapError> {
        match self.kind {
            StatusKind::Ok | StatusKind::PreAuth => Ok(self),
            StatusKind::No => Err(ImapError::No {
                code: self.code,
                text: self.text,
            }),
            StatusKind::Bad => Err(ImapError::Bad { text: self.text }),
            StatusKind::Bye => Err(ImapError::Bye { text: self.text }),
        }
    }

    /// The arguments of an `Other` code named `name` (e.g. `UIDNEXT`).
    pub fn code_args(&self, name: &str) -> Option<&str> {
        match &self.code {
            Some(Code::Other(s)) => {
                let (k, v) = s.split_once(' ').unwrap_or((s, ""));
                k.eq_ignore_ascii_case(name).then_some(v)
            }
            _ => None,
        }
    }

    /// The capability list of a `[CAPABILITY ...]` code, upper-cased.
    pub fn capabilities(&self) -> Option<Vec<String>> {
        self.code_args("CAPABILITY").map(|v| {
            v.split_ascii_whitespace()
                .map(str::to_ascii_uppercase)
                .collect()
        })
    }
}

/// A classified response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `+ text` (RFC 3501 §7.5).
    Continue(String),
    /// `TAG OK|NO|BAD ...` or `* OK|NO|BAD|BYE|PREAUTH ...`.
    Status(Status),
    /// Any other untagged response, the whole frame (for [`parse_data`]).
    Data(Vec<u8>),
}

/// Sorts a framed response (see the module doc).
pub fn classify(frame: Vec<u8>) -> Result<Response, ImapError> {
    let line_end = frame
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(frame.len());
    let first = trim_crlf(&frame[..line_end]);
    if let Some(rest) = first.strip_prefix(b"+") {
        let text = rest.strip_prefix(b" ").unwrap_or(rest);
        return Ok(Response::Continue(sanitize(text)));
    }
    let (tag, rest) = match first.iter().position(|&b| b == b' ') {
        Some(sp) => (&first[..sp], &first[sp + 1..]),
        None => {
            return Err(ImapError::ServerGarbage(format!(
                "unexpected response {}",
                sanitize(first)
            )));
        }
    };
    let (word, after) = match rest.iter().position(|&b| b == b' ') {
        Some(sp) => (&rest[..sp], &rest[sp + 1..]),
        None => (rest, &b""[..]),
    };
    let kind = match word.to_ascii_uppercase().as_slice() {
        b"OK" => Some(StatusKind::Ok),
        b"NO" => Some(StatusKind::No),
        b"BAD" => Some(StatusKind::Bad),
        b"BYE" if tag == b"*" => Some(StatusKind::Bye),
        b"PREAUTH" if tag == b"*" => Some(StatusKind::PreAuth),
        _ => None,
    };
    match (tag, kind) {
        (b"*", None) => Ok(Response::Data(frame)),
        (_, None) => Err(ImapError::ServerGarbage(format!(
            "unexpected response {}",
            sanitize(first)
        ))),
        (t, Some(kind)) => {
            let (code, text) = split_code(after);
            Ok(Response::Status(Status {
                tag: (t != b"*").then(|| String::from_utf8_lossy(t).into_owned()),
                kind,
                code: code.map(parse_code),
                text: sanitize(text),
            }))
        }
    }
}

fn trim_crlf(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// `[CODE args] text` → (`CODE args`, `text`); lenient about a missing `]`.
fn split_code(s: &[u8]) -> (Option<String>, &[u8]) {
    let Some(inner) = s.strip_prefix(b"[") else {
        return (None, s);
    };
    match inner.iter().position(|&b| b == b']') {
        Some(end) => {
            let text = &inner[end + 1..];
            let text = text.strip_prefix(b" ").unwrap_or(text);
            (Some(sanitize(&inner[..end])), text)
        }
        None => (None, s),
    }
}

/// Parses a response code's content (RFC 3501 §7.1, RFC 4315 §3, RFC 5530 §3).
pub fn parse_code(s: String) -> Code {
    let (name, args) = s.split_once(' ').unwrap_or((&s, ""));
    match name.to_ascii_uppercase().as_str() {
        "TRYCREATE" => Code::TryCreate,
        "TOOBIG" => Code::TooBig,
        "LIMIT" => Code::Limit,
        "OVERQUOTA" => Code::OverQuota,
        "APPENDUID" => match parse_appenduid(args) {
            Some((uid_validity, uids)) => Code::AppendUid { uid_validity, uids },
            None => Code::Other(s),
        },
        _ => Code::Other(s),
    }
}

/// `uidvalidity SP uid-set` (RFC 4315 §4 `resp-code-apnd`).
fn parse_appenduid(args: &str) -> Option<(u32, Vec<u32>)> {
    let mut it = args.split_ascii_whitespace();
    let v = it.next()?.parse().ok()?;
    let set = parse_uid_set(it.next()?)?;
    it.next().is_none().then_some((v, set))
}

/// The most UIDs a uid-set from the server may expand to: an APPENDUID or
/// COPYUID names one per message of a command, far fewer than this.
pub const MAX_UID_SET: usize = 1 << 20;

/// Expands `5:7,9` into `[5, 6, 7, 9]`, in order; a range may be written
/// either way round (RFC 3501 §9 `seq-range`). `None` past [`MAX_UID_SET`]
/// UIDs (`1:4294967295` is 4 billion), before anything is expanded.
pub fn parse_uid_set(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                let (lo, hi) = (a.min(b), a.max(b));
                let count = usize::try_from(hi - lo).ok()?.checked_add(1)?;
                if out.len() + count > MAX_UID_SET {
                    return None;
                }
                out.extend(lo..=hi);
            }
            None if out.len() < MAX_UID_SET => out.push(part.parse().ok()?),
            None => return None,
        }
    }
    (!out.is_empty() && !out.contains(&0)).then_some(out)
}

/// Parses untagged data with imap-proto; the frame must be complete.
pub fn parse_data(frame: &[u8]) -> Result<imap_proto::Response<'_>, ImapError> {
    match imap_proto::Response::parse(frame) {
        Ok((_, r)) => Ok(r),
        Err(_) => {
            let end = frame.len().min(200);
            Err(ImapError::ServerGarbage(format!(
                "cannot parse server data: {}",
                sanitize(&frame[..end])
            )))
        }
    }
}

/// Server text made safe for a terminal: UTF-8 (lossy), control characters
/// escaped (STYLE.md "Secrets and untrusted text").
pub fn sanitize(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
