//! The `.emlx` file and [`EmlxReader`], which reads a store mailbox's
//! messages one file at a time.
//!
//! An `.emlx` file is: a line holding the message's length in bytes as a
//! decimal number (Mail pads it with spaces), exactly that many bytes of
//! RFC 822 message, then an XML property list with Mail's metadata
//! (`flags`, see [`super::flags`]; `date-received` and `date-last-viewed`
//! in seconds since 1970; `remote-id`, …). The message bytes are sent as
//! stored (line ends as CRLF); the internal date is `date-received` when
//! present (then the usual order, DESIGN.md "Metadata rules").
//!
//! A mailbox's files are found anywhere below its bundle (`<uuid>/Data/9/
//! 8/Messages/` in current Mail, `Messages/` in old ones), child bundles
//! and `Attachments/` excluded, and read in the order of their message
//! number (the file name's digits, which Mail hands out in arrival order).
//! When both `N.emlx` and `N.partial.emlx` exist, the complete one is read.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use walkdir::WalkDir;

use super::{BUNDLE_EXT, IMAP_CACHE_EXT, flags, is_emlx_name, partial, plist};
use crate::message::{Message, Origin, normalize_crlf};
use crate::source::date::DateCandidates;
use crate::source::headers::HeaderMode;
use crate::source::{ReadOptions, SourceError, build_message};

/// Reads the messages of a store mailbox (or the one `.emlx` file given).
pub struct EmlxReader {
    files: std::vec::IntoIter<PathBuf>,
    opts: ReadOptions,
    index: usize,
}

impl EmlxReader {
    pub fn open(path: &Path, opts: &ReadOptions) -> io::Result<EmlxReader> {
        let files = if fs::metadata(path)?.is_file() {
            vec![path.to_path_buf()]
        } else {
            list_messages(path)?
        };
        Ok(EmlxReader {
            files: files.into_iter(),
            opts: opts.clone(),
            index: 0,
        })
    }
}

impl Iterator for EmlxReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.files.next()?;
        self.index += 1;
        let origin = Origin {
            path,
            index: self.index,
            offset: None,
        };
        Some(
            read_file(&origin, &self.opts).map_err(|reason| SourceError {
                origin: origin.clone(),
                reason,
            }),
        )
    }
}

/// The `.emlx` files at or below `dir`, child bundles, caches, hidden
/// directories and `Attachments/` left out, in directory order.
pub(super) fn walk_messages(dir: &Path) -> impl Iterator<Item = walkdir::Result<PathBuf>> {
    WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || is_message_dir(e.path()))
        .filter_map(|e| match e {
            Ok(e) if e.file_type().is_file() && is_emlx_name(&e.file_name().to_string_lossy()) => {
                Some(Ok(e.into_path()))
            }
            Ok(_) => None,
            Err(err) => Some(Err(err)),
        })
}

/// A directory inside a bundle that may hold its messages.
fn is_message_dir(dir: &Path) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with(BUNDLE_EXT)
        || name.ends_with(IMAP_CACHE_EXT)
        || name == "attachments")
}

/// The mailbox's message files sorted by message number; a partial copy
/// beside the complete one is left out.
fn list_messages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = walk_messages(dir).collect::<walkdir::Result<Vec<_>>>()?;
    // Keys computed per comparison: cached keys would copy every path twice.
    files.sort_by(|a, b| {
        let (na, nb) = (message_number(a), message_number(b));
        na.cmp(&nb)
            .then_with(|| a.parent().cmp(&b.parent()))
            .then_with(|| is_partial(a).cmp(&is_partial(b)))
            .then_with(|| a.cmp(b))
    });
    files.dedup_by(|later, kept| {
        message_number(later).is_some()
            && message_number(later) == message_number(kept)
            && later.parent() == kept.parent()
    });
    Ok(files)
}

/// What the progress bar counts for a store mailbox: its `.emlx` files' sizes.
pub fn store_bytes(path: &Path) -> u64 {
    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if path.is_file() {
        return size(path);
    }
    walk_messages(path).flatten().map(|p| size(&p)).sum()
}

/// The number a file name starts with (`123` for `123.partial.emlx`).
pub(super) fn message_number(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_string_lossy();
    name.split('.').next()?.parse().ok()
}

fn is_partial(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy()
            .to_ascii_lowercase()
            .ends_with(".partial.emlx")
    })
}

/// One `.emlx` file's parts: the message bytes as stored and the plist text.
#[derive(Debug, PartialEq, Eq)]
pub struct EmlxParts<'a> {
    pub message: &'a [u8],
    pub plist: &'a [u8],
}

/// Splits an `.emlx` file at its byte count. Errors name the position.
pub fn split(raw: &[u8]) -> Result<EmlxParts<'_>, String> {
    let head = &raw[..raw.len().min(64)];
    let line_end = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("byte 0: no byte count line (not an .emlx file)")?;
    let count = std::str::from_utf8(&raw[..line_end])
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<usize>().ok())
        .ok_or_else(|| {
            format!(
                "byte 0: first line {:?} is not a byte count (not an .emlx file)",
                String::from_utf8_lossy(&raw[..line_end])
            )
        })?;
    let rest = &raw[line_end + 1..];
    if count > rest.len() {
        return Err(format!(
            "byte {}: the byte count line says {count} bytes of message, but only {} follow (truncated file)",
            line_end + 1,
            rest.len()
        ));
    }
    Ok(EmlxParts {
        message: &rest[..count],
        plist: &rest[count..],
    })
}

/// Builds the message of one `.emlx` file.
fn read_file(origin: &Origin, opts: &ReadOptions) -> Result<Message, String> {
    let path = &origin.path;
    let raw = fs::read(path).map_err(|e| e.to_string())?;
    let parts = split(&raw)?;
    let plist = String::from_utf8_lossy(parts.plist);
    let mut warnings = Vec::new();
    let bits = plist::number(&plist, "flags");
    if bits.is_none() {
        warnings.push("no flags in the .emlx metadata; uploaded without flags".to_string());
    }
    let flags = bits
        .and_then(|b| u64::try_from(b).ok())
        .map(flags::flags_from_bits)
        .unwrap_or_default();
    let store_received = plist::number(&plist, "date-received")
        .and_then(|s| i64::try_from(s).ok())
        .filter(|&s| s > 0) // 0: Mail's "never", as for date-last-viewed
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .map(|d| d.fixed_offset());
    let mut bytes = normalize_crlf(parts.message);
    if is_partial(path) {
        bytes = partial::reassemble(&bytes, path)?;
    }
    let candidates = DateCandidates {
        store_received,
        mtime: fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from),
        ..Default::default()
    };
    Ok(build_message(
        origin.clone(),
        bytes,
        HeaderMode::DatesOnly,
        candidates,
        flags,
        warnings,
        opts,
    ))
}

#[cfg(test)]
#[path = "emlx_tests.rs"]
mod tests;
