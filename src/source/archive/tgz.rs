//! The tgz side of Takeout archives: a gzip-compressed tar stream, read
//! front to back (gzip has no index). Listing walks the entries' headers
//! (the `tar` crate: ustar, GNU long names, pax paths), inflating and
//! discarding their data; opening a member walks again up to its header and
//! hands over the stream itself, positioned at the member's data, limited
//! to its size. The `tar` crate reads headers lazily and unbuffered, so once
//! it has yielded an entry the stream below is exactly at that entry's data.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use chrono::DateTime;
use flate2::read::MultiGzDecoder;

use super::ExactSize;
use super::listing::Member;

type Stream = BufReader<MultiGzDecoder<BufReader<File>>>;

fn open_stream(part: &Path) -> io::Result<Stream> {
    let file = BufReader::with_capacity(64 * 1024, File::open(part)?);
    Ok(BufReader::with_capacity(
        256 * 1024,
        MultiGzDecoder::new(file),
    ))
}

/// A regular file, or the continuation of one from an earlier volume
/// (GNU multi-volume `M`), whose data is the next piece of that file.
fn is_file_data(entry_type: tar::EntryType) -> bool {
    entry_type.is_file() || entry_type.as_byte() == b'M'
}

/// The members of one tgz part, in stream order, and the error that
/// stopped the listing early (a truncated or damaged part), if any: the
/// members before it can still be read.
pub(super) fn list(part: &Path) -> io::Result<(Vec<Member>, Option<io::Error>)> {
    let mut stream = open_stream(part)?;
    let mut archive = tar::Archive::new(&mut stream);
    let mut members = Vec::new();
    for (index, entry) in archive.entries()?.enumerate() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return Ok((members, Some(e))),
        };
        let header = entry.header();
        members.push(Member {
            index,
            name: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
            size: entry.size(),
            mtime: header
                .mtime()
                .ok()
                .and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0)),
            is_file: is_file_data(header.entry_type()),
        });
    }
    Ok((members, None))
}

/// Opens member `index` of `part`, which must still be named `name`.
pub(super) fn open_member(part: &Path, index: usize, name: &str) -> io::Result<Box<dyn Read>> {
    let mut stream = open_stream(part)?;
    let size = {
        let mut archive = tar::Archive::new(&mut stream);
        let entry = archive.entries()?.nth(index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("member {index} ({name}) is missing: the archive changed"),
            )
        })??;
        if String::from_utf8_lossy(&entry.path_bytes()) != name {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("member {index} is no longer {name}: the archive changed"),
            ));
        }
        entry.size()
    };
    Ok(Box::new(ExactSize::new(stream, size, "tar member")))
}
