//! mbox reading: [`MboxSplitter`] (in `splitter`) cuts a byte stream into
//! messages; [`MboxReader`] opens a file (plain, or gzip-compressed `.gz`
//! read as a stream) and turns each cut into a [`Message`] with flags, a date
//! and, for Gmail Takeout files, per-message target folders, handing out
//! only what the file still holds when it changes under the reader
//! (`Watch`, in `watch.rs`).

mod mime;
mod splitter;
mod variant;
mod watch;

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub(crate) use self::mime::boundary_param;
pub use self::splitter::{MboxSplitter, RawMboxMessage};
use self::splitter::{is_blank, trim_eol};
pub use self::variant::MboxVariant;
pub(crate) use self::watch::{CHANGED, Watch};
use super::date::{self, DateCandidates};
use super::headers::HeaderMode;
use super::{ReadOptions, SourceError, build_message};
use crate::message::{Message, Origin};

/// Reads an mbox file's messages as [`Message`]s.
pub struct MboxReader {
    splitter: MboxSplitter<Box<dyn BufRead>>,
    path: PathBuf,
    opts: ReadOptions,
    mtime: Option<DateTime<Utc>>,
    index: usize,
    /// What is read, watched for changes under the reader: the file, or
    /// the parts of the archive the stream comes out of.
    watch: Option<Watch>,
    /// Set once the file changed under the reader: nothing more is read.
    stopped: bool,
}

/// True when `path` names a gzip-compressed file (`.gz`).
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

impl MboxReader {
    /// Opens the file and reads it up to its length at open, stopping
    /// with an error if it is rewritten meanwhile (`watch.rs`).
    pub fn open(path: &Path, opts: &ReadOptions) -> io::Result<MboxReader> {
        let (watch, reader) = Watch::open(path, opts.mbox_variant)?;
        let mtime = watch.mtime_at_open();
        Ok(MboxReader::from_stream(reader, path, mtime, opts).watched(watch))
    }

    /// Reads an already opened (decompressed) stream; `path` and `mtime`
    /// only label the messages and date them as a last resort.
    pub fn from_stream(
        reader: Box<dyn BufRead>,
        path: &Path,
        mtime: Option<DateTime<Utc>>,
        opts: &ReadOptions,
    ) -> MboxReader {
        MboxReader {
            splitter: MboxSplitter::with_variant(reader, opts.mbox_variant),
            path: path.to_path_buf(),
            opts: opts.clone(),
            mtime,
            index: 0,
            watch: None,
            stopped: false,
        }
    }

    /// Watches what the stream is read from (the file, an archive's
    /// parts), which [`MboxReader::from_stream`] does not.
    pub(crate) fn watched(mut self, watch: Watch) -> MboxReader {
        self.watch = Some(watch);
        self
    }

    /// The error that stops the file at the message starting at `offset`.
    fn stop(&mut self, offset: u64, reason: String) -> SourceError {
        self.stopped = true;
        SourceError {
            origin: Origin {
                path: self.path.clone(),
                index: self.index,
                offset: Some(offset),
            },
            reason,
        }
    }

    fn build(&mut self, raw: RawMboxMessage) -> Message {
        if self.opts.takeout.is_none() {
            // Takeout is decided by the file's first message.
            self.opts.takeout = Some(has_header(&raw.bytes, b"x-gmail-labels:"));
        }
        let origin = Origin {
            path: self.path.clone(),
            index: self.index,
            offset: Some(raw.offset),
        };
        let candidates = DateCandidates {
            from_line: date::parse_from_line(trim_eol(&raw.from_line)),
            mtime: self.mtime,
            ..Default::default()
        };
        let mode = HeaderMode::Mbox {
            keep: self.opts.keep_status_headers,
            takeout: self.opts.takeout == Some(true),
        };
        build_message(
            origin,
            raw.bytes,
            mode,
            candidates,
            Vec::new(),
            raw.warnings,
            &self.opts,
        )
    }
}

impl Iterator for MboxReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped {
            return None;
        }
        let raw = self.splitter.next()?;
        self.index += 1;
        let last = self.splitter.at_end();
        Some(match raw {
            Ok(raw) => match self.watch.as_ref().map(|w| w.trust(&raw, last)) {
                Some(Err(changed)) => Err(self.stop(raw.offset, changed)),
                Some(Ok(note)) => {
                    let mut message = self.build(raw);
                    message.warnings.extend(note);
                    Ok(message)
                }
                None => Ok(self.build(raw)),
            },
            Err(e) => {
                // A file rewritten under the reader may read as garbage:
                // the change is the reason, not what it left.
                let reason = match self.watch.as_ref().and_then(Watch::changed) {
                    Some(changed) => changed,
                    None => e.to_string(),
                };
                let offset = self.splitter.offset();
                Err(self.stop(offset, reason))
            }
        })
    }
}

/// True when the header block of `msg` has a field named `name` (lowercase,
/// with the colon).
pub fn has_header(msg: &[u8], name: &[u8]) -> bool {
    for line in msg.split_inclusive(|&b| b == b'\n') {
        if is_blank(line) {
            return false;
        }
        if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
            return true;
        }
    }
    false
}

/// True when the file is empty or, after blank lines, starts with a From_
/// line (gzip files are looked at decompressed).
pub fn looks_like_mbox(path: &Path) -> io::Result<bool> {
    let (_, reader) = Watch::open(path, MboxVariant::Auto)?;
    let mut reader = reader.take(64 * 1024);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(true);
        }
        if !is_blank(&line) {
            return Ok(line.starts_with(b"From "));
        }
    }
}

#[cfg(test)]
mod tests;
