//! [`Watch`]: an mbox file (plain or `.gz`) read while a mail client may
//! rewrite it in place (a sync or an expunge truncates and rewrites the
//! same inode) or a delivery may append to it. Reading stops at the length
//! the file had when it was opened; after each message the file is looked
//! at ([`StableFile`]) and a message is handed out only when it is what
//! the file holds: never one spliced from the old and the new content.
//!
//! A plain file modified since it was opened has each message compared
//! with its bytes in the file now (re-read and split again); a `.gz`
//! cannot be compared that way, so any modification stops it, as it stops
//! an mbox read out of a Takeout archive whose part changed. Either way
//! the stop is an error naming the file and the message where reading
//! stopped; what was handed out before stays good.

use std::io::{self, BufRead, BufReader, Cursor};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::is_gzip;
use super::splitter::{MboxSplitter, RawMboxMessage};
use super::variant::MboxVariant;
use crate::source::stable_file::{Look, StableFile, WatchedPath};

/// How every reason a watched file gives for stopping begins
/// ([`crate::source::SourceError::changed_while_read`]).
pub(crate) const CHANGED: &str = "changed while being read";
const RUN_AGAIN: &str = "run again once it is no longer being changed";

/// The reason when the file cannot be looked at.
fn cannot_tell(e: &io::Error) -> String {
    format!("{CHANGED} or not, cannot tell ({e}); {RUN_AGAIN}")
}

/// The file an mbox is read from, watched.
pub(crate) struct Watch {
    what: Watched,
}

enum Watched {
    /// An mbox file, opened here (plain or `.gz`).
    Mbox {
        file: StableFile,
        gzip: bool,
        variant: MboxVariant,
    },
    /// The parts of an archive an mbox is read out of (opened by the
    /// archive's reader): compressed, so any modification stops it.
    Archive(Vec<WatchedPath>),
}

impl Watch {
    /// Opens `path`; with the stream of its (decompressed) bytes up to its
    /// length at open.
    pub(super) fn open(path: &Path, variant: MboxVariant) -> io::Result<(Watch, Box<dyn BufRead>)> {
        let file = StableFile::open(path)?;
        let stream = file.stream()?;
        let gzip = is_gzip(path);
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::read::MultiGzDecoder::new(stream),
            ))
        } else {
            Box::new(BufReader::with_capacity(256 * 1024, stream))
        };
        let what = Watched::Mbox {
            file,
            gzip,
            variant,
        };
        Ok((Watch { what }, reader))
    }

    /// Watches the archive `parts` an mbox is read out of, as they are now.
    pub(crate) fn archive(parts: &[&Path]) -> io::Result<Watch> {
        let parts = parts
            .iter()
            .map(|p| WatchedPath::new(p))
            .collect::<io::Result<_>>()?;
        Ok(Watch {
            what: Watched::Archive(parts),
        })
    }

    pub(super) fn mtime_at_open(&self) -> Option<DateTime<Utc>> {
        match &self.what {
            Watched::Mbox { file, .. } => file.mtime_at_open().map(DateTime::<Utc>::from),
            Watched::Archive(_) => None,
        }
    }

    /// Whether `raw`, just cut, may be handed out: `Err` with the reason
    /// when the file changed under it; `Ok` with a note for the report
    /// when it is the `last` and mail was appended meanwhile.
    pub(super) fn trust(&self, raw: &RawMboxMessage, last: bool) -> Result<Option<String>, String> {
        let Watched::Mbox {
            file,
            gzip,
            variant,
        } = &self.what
        else {
            return match self.changed_or_unknown() {
                Some(reason) => Err(reason),
                None => Ok(None),
            };
        };
        match file.look() {
            Err(e) => return Err(cannot_tell(&e)),
            Ok(Look::Same) => {}
            Ok(look @ Look::Rewritten { .. }) => return Err(self.reason(look)),
            Ok(Look::Modified) if *gzip => return Err(self.reason(Look::Modified)),
            Ok(Look::Modified) => {
                if !is_in_file(file, *variant, raw) {
                    return Err(self.reason(Look::Modified));
                }
            }
        }
        if !last {
            return Ok(None);
        }
        appended(file, *gzip, raw)
    }

    /// The reason to give when reading stopped for another error, if the
    /// file changed (its garbage is then no fault of the file).
    pub(super) fn changed(&self) -> Option<String> {
        match &self.what {
            Watched::Mbox { file, .. } => match file.look() {
                Ok(Look::Same) | Err(_) => None,
                Ok(look) => Some(self.reason(look)),
            },
            Watched::Archive(_) => self.changed_or_unknown(),
        }
    }

    /// For an archive: the reason when a part changed or cannot be looked at.
    fn changed_or_unknown(&self) -> Option<String> {
        let Watched::Archive(parts) = &self.what else {
            return None;
        };
        parts.iter().find_map(|part| match part.look() {
            Ok(Look::Same) => None,
            Ok(_) => Some(format!(
                "{CHANGED} ({} was modified or replaced; an archive cannot be compared); reading stopped here, the messages before it were read; {RUN_AGAIN}",
                part.path().display()
            )),
            Err(e) => Some(cannot_tell(&e)),
        })
    }

    fn reason(&self, look: Look) -> String {
        let (len, gzip) = match &self.what {
            Watched::Mbox { file, gzip, .. } => (file.len_at_open(), *gzip),
            Watched::Archive(_) => (0, true),
        };
        let what = match look {
            Look::Rewritten { now } => {
                format!("it was rewritten: {now} bytes now, {len} when reading began")
            }
            _ if gzip => "it was modified (a compressed file cannot be compared)".into(),
            _ => "it was modified and this message is no longer what was read".into(),
        };
        format!(
            "{CHANGED} ({what}); reading stopped here, the messages before it were read; {RUN_AGAIN}"
        )
    }
}

/// True when the file's bytes where `raw` was read split into the same
/// message now.
fn is_in_file(file: &StableFile, variant: MboxVariant, raw: &RawMboxMessage) -> bool {
    let Ok(bytes) = file.read_range(raw.offset, raw.end) else {
        return false;
    };
    let mut again = MboxSplitter::with_variant(Cursor::new(bytes), variant);
    matches!(again.next(), Some(Ok(m)) if m.bytes == raw.bytes && m.from_line == raw.from_line)
}

/// After the last message: mail appended since the file was opened is
/// left for the next run (a note). Bytes after the length at open that
/// do not start a message mean the last one was still being written.
fn appended(file: &StableFile, gzip: bool, raw: &RawMboxMessage) -> Result<Option<String>, String> {
    let added = file.appended().unwrap_or(0);
    if added == 0 {
        return Ok(None);
    }
    if !gzip {
        let at = file.len_at_open();
        let next = file.read_range(at, at + 7).unwrap_or_default();
        let starts = [&b"From "[..], b"\nFrom ", b"\r\nFrom "];
        if !starts.iter().any(|s| next.starts_with(s)) && raw.end == at {
            return Err(format!(
                "{CHANGED} (it grew by {added} bytes that continue this message: it was still being written); reading stopped here, the messages before it were read; {RUN_AGAIN}"
            ));
        }
    }
    Ok(Some(format!(
        "{added} bytes were added to the file while it was read; they are left for the next run"
    )))
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
