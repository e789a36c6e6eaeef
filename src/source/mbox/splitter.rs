//! [`MboxSplitter`] cuts an mbox byte stream into messages, one at a time
//! (never the whole file in memory), at From_ separator lines or at a
//! consistent Content-Length, undoing quoting as the variant says and
//! normalizing line ends to CRLF.
//!
//! A `From ` line separates when it is not inside a `message/rfc822` part and
//! it is the first line, follows an empty line or the message's closing MIME
//! boundary, or carries an asctime date (pipermail exports omit the blank
//! line). The empty line before a separator (and at the end of the file)
//! belongs to the mbox format, not to the message. Bytes before the first
//! From_ line are a preamble, counted and reported.

use std::io::{self, BufRead};

use super::mime::MimeTracker;
use super::variant::{MboxVariant, content_length_value, rd_quote_len};
use crate::source::date::parse_from_line;

const NOT_MBOX: &str = "not an mbox file (no From line near the start)";
/// How far a preamble may run before the file is not an mbox.
const MAX_PREAMBLE: u64 = 64 * 1024;
/// A Content-Length above this is not trusted (it would be buffered whole).
const MAX_CONTENT_LENGTH: u64 = 1 << 30;

/// One message as cut from the mbox, before header processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMboxMessage {
    /// Byte offset of the From_ line in the (decompressed) stream.
    pub offset: u64,
    /// Where the message's bytes end in the stream: the next From_ line,
    /// or the end (the range `offset..end` splits into this message alone).
    pub end: u64,
    /// The From_ line, with its line end.
    pub from_line: Vec<u8>,
    /// The message bytes: CRLF line ends, quoting undone.
    pub bytes: Vec<u8>,
    /// Things worth reporting (preamble, untrusted Content-Length).
    pub warnings: Vec<String>,
}

/// Splits an mbox stream into [`RawMboxMessage`]s.
pub struct MboxSplitter<R> {
    reader: R,
    variant: MboxVariant,
    /// Bytes consumed so far (including those read ahead into `pending`).
    offset: u64,
    /// Bytes read ahead and given back, consumed before `reader`.
    pending: Vec<u8>,
    pending_pos: usize,
    /// The separator that starts the next message, with its offset.
    next_from: Option<(u64, Vec<u8>)>,
    preamble: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxSplitter<R> {
    pub fn new(reader: R) -> Self {
        Self::with_variant(reader, MboxVariant::Auto)
    }

    pub fn with_variant(reader: R, variant: MboxVariant) -> Self {
        MboxSplitter {
            reader,
            variant,
            offset: 0,
            pending: Vec::new(),
            pending_pos: 0,
            next_from: None,
            preamble: 0,
            started: false,
            done: false,
        }
    }

    /// Bytes consumed so far (where an error happened).
    pub fn offset(&self) -> u64 {
        self.offset - (self.pending.len() - self.pending_pos) as u64
    }

    /// Bytes before the first From_ line.
    pub fn preamble(&self) -> u64 {
        self.preamble
    }

    /// Appends the next line (with its end) to `out`; 0 at the end.
    fn read_line_into(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        if self.pending_pos < self.pending.len() {
            let rest = &self.pending[self.pending_pos..];
            let n = memchr_nl(rest).map_or(rest.len(), |i| i + 1);
            out.extend_from_slice(&rest[..n]);
            self.pending_pos += n;
            if self.pending_pos == self.pending.len() {
                self.pending.clear();
                self.pending_pos = 0;
            }
            return Ok(n);
        }
        let n = self.reader.read_until(b'\n', out)?;
        self.offset += n as u64;
        Ok(n)
    }

    /// Gives `bytes` back to be read again before anything else.
    fn unread(&mut self, bytes: &[u8]) {
        let mut v = bytes.to_vec();
        v.extend_from_slice(&self.pending[self.pending_pos..]);
        self.pending = v;
        self.pending_pos = 0;
    }

    /// Reads up to `n` bytes into `out`; false when the stream ended first.
    fn read_exact_into(&mut self, n: u64, out: &mut Vec<u8>) -> io::Result<bool> {
        let mut left = n;
        while left > 0 {
            let before = out.len();
            if self.pending_pos < self.pending.len() {
                let take = (self.pending.len() - self.pending_pos).min(left as usize);
                out.extend_from_slice(&self.pending[self.pending_pos..self.pending_pos + take]);
                self.pending_pos += take;
            } else {
                let buf = self.reader.fill_buf()?;
                if buf.is_empty() {
                    return Ok(false);
                }
                let take = buf.len().min(left as usize);
                out.extend_from_slice(&buf[..take]);
                self.reader.consume(take);
                self.offset += take as u64;
            }
            left -= (out.len() - before) as u64;
        }
        Ok(true)
    }

    /// Finds the first From_ line; what comes before is the preamble.
    /// `Ok(false)` for a stream with no non-blank content.
    fn find_first(&mut self) -> io::Result<bool> {
        let mut line = Vec::new();
        let mut blank_only = true;
        loop {
            let start = self.offset();
            line.clear();
            if self.read_line_into(&mut line)? == 0 {
                if blank_only {
                    return Ok(false);
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, NOT_MBOX));
            }
            if line.starts_with(b"From ")
                && (blank_only || parse_from_line(trim_eol(&line)).is_some())
            {
                self.preamble = start;
                self.next_from = Some((start, line));
                return Ok(true);
            }
            blank_only &= is_blank(&line);
            if self.offset() > MAX_PREAMBLE {
                return Err(io::Error::new(io::ErrorKind::InvalidData, NOT_MBOX));
            }
        }
    }

    fn next_message(&mut self) -> io::Result<Option<RawMboxMessage>> {
        let mut warnings = Vec::new();
        if !self.started {
            self.started = true;
            if !self.find_first()? {
                return Ok(None);
            }
            if self.preamble > 0 {
                warnings.push(format!(
                    "{} bytes before the first From_ line (a preamble) are not uploaded",
                    self.preamble
                ));
            }
        }
        let Some((offset, from_line)) = self.next_from.take() else {
            return Ok(None);
        };
        let unquote = self.variant.unquotes();
        let mut bytes = Vec::new();
        let mut mime = MimeTracker::new();
        let mut in_headers = true;
        let mut content_length = None;
        let mut prev_blank = false;
        // Where the last line kept in `bytes` starts.
        let mut last_start = 0;
        loop {
            let start = bytes.len();
            let line_offset = self.offset();
            if self.read_line_into(&mut bytes)? == 0 {
                break;
            }
            let line = &bytes[start..];
            if line.starts_with(b"From ")
                && !mime.protected()
                && (prev_blank || mime.just_closed() || parse_from_line(trim_eol(line)).is_some())
            {
                self.next_from = Some((line_offset, line.to_vec()));
                bytes.truncate(start);
                break;
            }
            prev_blank = is_blank(line);
            last_start = start;
            mime.feed(line);
            if in_headers {
                if prev_blank {
                    in_headers = false;
                } else if self.variant.uses_content_length()
                    && let Some(n) = content_length_value(line)
                {
                    content_length = Some(n);
                }
            }
            if unquote && rd_quote_len(line) > 0 {
                bytes.remove(start);
            }
            crlf_tail(&mut bytes, start);
            if prev_blank && !in_headers && content_length.is_some() {
                let n = content_length.take().unwrap_or(0);
                match self.take_content_length(n, &mut bytes)? {
                    Ok(()) => {
                        return Ok(Some(RawMboxMessage {
                            offset,
                            end: self.end_of_message(),
                            from_line,
                            bytes,
                            warnings,
                        }));
                    }
                    Err(why) => warnings.push(format!(
                        "Content-Length {n} {why}; split at From_ lines instead"
                    )),
                }
            }
        }
        if prev_blank {
            // The blank line is CRLF, or a lone CR at the end of the file.
            bytes.truncate(last_start);
        }
        Ok(Some(RawMboxMessage {
            offset,
            end: self.end_of_message(),
            from_line,
            bytes,
            warnings,
        }))
    }

    /// Where the message just cut ends: at the next separator, or at the
    /// end of the stream.
    fn end_of_message(&self) -> u64 {
        self.next_from.as_ref().map_or(self.offset(), |(at, _)| *at)
    }

    /// True once the message just cut was the stream's last.
    pub fn at_end(&self) -> bool {
        self.started && self.next_from.is_none()
    }

    /// Tries to take the body as `n` bytes: consistent when they are followed
    /// by the end, or by an optional empty line and a From_ line. On success
    /// the body is appended (CRLF-normalized, not unquoted) and the next
    /// separator recorded; otherwise everything read is given back.
    fn take_content_length(
        &mut self,
        n: u64,
        bytes: &mut Vec<u8>,
    ) -> io::Result<Result<(), &'static str>> {
        if n > MAX_CONTENT_LENGTH {
            return Ok(Err("is implausibly large"));
        }
        let mut body = Vec::with_capacity(n as usize);
        if !self.read_exact_into(n, &mut body)? {
            self.unread(&body);
            return Ok(Err("runs past the end of the file"));
        }
        let mut after = Vec::new();
        let mut lines = 0;
        let mut next = None;
        loop {
            let start = after.len();
            let at = self.offset();
            if self.read_line_into(&mut after)? == 0 {
                break;
            }
            lines += 1;
            let line = &after[start..];
            if line.starts_with(b"From ") {
                next = Some((at, line.to_vec()));
                after.truncate(start);
                break;
            }
            if lines > 1 || !is_blank(line) {
                next = None;
                lines = usize::MAX;
                break;
            }
        }
        if lines == usize::MAX {
            let mut back = body;
            back.extend_from_slice(&after);
            self.unread(&back);
            return Ok(Err("does not end at a From_ line"));
        }
        for line in body.split_inclusive(|&b| b == b'\n') {
            crate::message::push_line_crlf(bytes, line);
        }
        self.next_from = next;
        Ok(Ok(()))
    }
}

impl<R: BufRead> Iterator for MboxSplitter<R> {
    type Item = io::Result<RawMboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.next_message().transpose();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }
}

/// Rewrites the line end of the line starting at `start` (the last one in
/// `bytes`) as CRLF; a final line without an end is left as it is.
fn crlf_tail(bytes: &mut Vec<u8>, start: usize) {
    let len = bytes.len();
    if len > start && bytes[len - 1] == b'\n' && (len - start < 2 || bytes[len - 2] != b'\r') {
        bytes.insert(len - 1, b'\r');
    }
}

fn memchr_nl(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

pub(super) fn is_blank(line: &[u8]) -> bool {
    trim_eol(line).is_empty()
}

pub(super) fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}
