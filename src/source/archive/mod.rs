//! Google Takeout archives read in place: a `takeout-*.zip` or
//! `takeout-*.tgz` (`.tar.gz`), or the split parts of one export
//! (`takeout-<stamp>-001.zip`, `-002.zip`, … each a complete archive holding
//! some of the files), are never unpacked to disk. The mbox inside
//! (`Takeout/Mail/All mail Including Spam and Trash.mbox`; any `*.mbox`
//! member counts) is streamed straight into the ordinary mbox reader
//! ([`MboxReader::from_stream`]), so labels, flags, dates and the COPY of
//! multi-label messages are exactly those of the unpacked file. Every other
//! member (other Google products) is listed as a note and skipped.
//!
//! This module owns what an archived mbox is ([`ArchivedMbox`]: its pieces
//! in which parts) and how its bytes are chained into one stream; `zip` and
//! `tgz` read one member of one part, `parts` groups split parts and tells an
//! archive by its name and magic, `listing` turns the parts' members into
//! source folders.
//!
//! A member found in several parts under the same name is read as one mbox:
//! its pieces concatenated in part order. Google documents each part as a
//! self-contained archive and keeps a file whole in one part, but should an
//! export ever cut an mbox (or a tar writer continue it in the next volume,
//! GNU `M` entries), the concatenation is the original file; when the pieces
//! are whole mboxes, their concatenation is still a valid mbox. `scan` notes
//! each such member.

mod listing;
mod parts;
mod tgz;
mod zip;

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use self::listing::discover_archives;
pub use self::parts::{SPLIT_ZIP, group_parts, is_archive_name, is_split_zip_part};
use super::ReadOptions;
use super::mbox::{MboxReader, Watch};

/// How one part is packed, told by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    /// A gzip-compressed tar stream (`.tgz`, `.tar.gz`).
    Tgz,
}

impl ArchiveFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::Tgz => "tgz",
        }
    }
}

/// One piece of an archived mbox: the member `index` (its position in the
/// zip's central directory, or among the tar stream's entries) of `part`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub part: PathBuf,
    pub format: ArchiveFormat,
    pub index: usize,
    /// Uncompressed size.
    pub size: u64,
}

/// An mbox inside a Takeout archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedMbox {
    /// The member's name in the archive, e.g. `Takeout/Mail/All mail.mbox`.
    pub name: String,
    /// Its pieces in part order (one, unless the export split it).
    pub pieces: Vec<Piece>,
    /// The member's modification time (the last resort for dates, as an
    /// unpacked file's mtime would be).
    pub mtime: Option<DateTime<Utc>>,
}

impl ArchivedMbox {
    /// The mbox's uncompressed size (what progress counts).
    pub fn size(&self) -> u64 {
        self.pieces.iter().map(|p| p.size).sum()
    }

    /// `takeout-001.zip/Takeout/Mail/All mail.mbox`: the path that names
    /// its messages in reports (the first part's, for a split mbox).
    pub fn display_path(&self) -> PathBuf {
        self.pieces[0].part.join(&self.name)
    }

    /// The kind `scan` shows: `takeout-zip` or `takeout-tgz` (of the first
    /// piece).
    pub fn kind_name(&self) -> String {
        format!("takeout-{}", self.pieces[0].format.as_str())
    }

    /// Opens the mbox as one stream (its pieces chained) and reads it with
    /// the mbox reader, as if it were unpacked.
    pub fn messages(&self, opts: &ReadOptions) -> io::Result<MboxReader> {
        // The first piece is opened now, so that an archive that cannot be
        // read (unsupported compression, damaged) fails the folder at once.
        let first = &self.pieces[0];
        let current = open_piece(first, &self.name)?;
        let reader = BufReader::with_capacity(
            256 * 1024,
            Chain {
                mbox: self.clone(),
                next: 1,
                current: Some(current),
            },
        );
        let mut parts: Vec<&Path> = Vec::new();
        for piece in &self.pieces {
            if !parts.contains(&piece.part.as_path()) {
                parts.push(&piece.part);
            }
        }
        let watch = Watch::archive(&parts)?;
        Ok(
            MboxReader::from_stream(Box::new(reader), &self.display_path(), self.mtime, opts)
                .watched(watch),
        )
    }
}

/// Opens one piece: its uncompressed bytes, checked as they are read (zip:
/// size and CRC-32; tgz: size, and deflate's own checks).
fn open_piece(piece: &Piece, name: &str) -> io::Result<Box<dyn Read>> {
    match piece.format {
        ArchiveFormat::Zip => zip::open_member(&piece.part, piece.index, name),
        ArchiveFormat::Tgz => tgz::open_member(&piece.part, piece.index, name),
    }
}

/// The pieces of an mbox read one after another, each opened only when the
/// one before it is done (one part open at a time).
struct Chain {
    mbox: ArchivedMbox,
    next: usize,
    current: Option<Box<dyn Read>>,
}

impl Read for Chain {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(r) = &mut self.current {
                let n = r.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                self.current = None;
            }
            let Some(piece) = self.mbox.pieces.get(self.next) else {
                return Ok(0);
            };
            self.next += 1;
            let r = open_piece(piece, &self.mbox.name)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", piece.part.display())))?;
            self.current = Some(r);
        }
    }
}

/// A stream that must end exactly after `size` bytes: a member cut short
/// (a truncated download) is an error, not a quietly shorter mbox.
struct ExactSize<R> {
    inner: R,
    left: u64,
    what: &'static str,
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} ends {} bytes early (truncated download?)",
                    self.what, self.left
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R: Read> ExactSize<R> {
    fn new(inner: R, size: u64, what: &'static str) -> Self {
        ExactSize {
            inner,
            left: size,
            what,
        }
    }
}

#[cfg(test)]
mod tests;
