//! Folders of single-message files (`.eml`, `.msg` in RFC 5322 form, or no
//! extension): each directory is a mailbox, each file one message, read only
//! when the iterator reaches it. A leading mbox From_ line (Thunderbird's
//! "Save as" writes one) is removed and its date offered as the delivery
//! date; client-state headers are read as for mbox.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::date::{self, DateCandidates};
use super::headers::HeaderMode;
use super::{ReadOptions, SourceError, build_message};
use crate::message::{Message, Origin, normalize_crlf};

/// What a file in a candidate eml folder looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileShape {
    /// Starts with an RFC 5322 header block (or a From_ line and then
    /// one); a file named `.eml` or `.msg` only needs to be text.
    Message,
    /// Starts with a From_ line followed by another From_ line later: an mbox.
    Mbox,
    /// Not a message, and why.
    NotMessage(&'static str),
}

/// Header fields one of which a file without a message extension must
/// have in its header block to be taken for a message (lower case).
const KNOWN_FIELDS: [&str; 17] = [
    "from",
    "date",
    "subject",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "to",
    "cc",
    "sender",
    "reply-to",
    "in-reply-to",
    "references",
    "content-type",
    "delivered-to",
    "x-mozilla-status",
    "x-gm-thrid",
];

/// True for the extensions that name single-message files.
pub fn has_message_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("eml") || e.eq_ignore_ascii_case("msg"))
}

/// Looks at the first 64 KiB of `path`.
pub fn file_shape(path: &Path) -> io::Result<FileShape> {
    let mut head = Vec::new();
    fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(shape_of(&head, has_message_extension(path)))
}

/// The shape of a file starting with `head`; `named_message`: its name ends
/// in `.eml` or `.msg`.
fn shape_of(head: &[u8], named_message: bool) -> FileShape {
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        let more_separators = lines.clone().any(|l| {
            l.starts_with(b"From ") && date::parse_from_line(l.trim_ascii_end()).is_some()
        });
        if more_separators {
            return FileShape::Mbox;
        }
        let second = lines.clone().next().unwrap_or_default();
        if !is_header_line(second) && !named_message {
            return FileShape::Mbox;
        }
        return header_shape(&head[(first.len() + 1).min(head.len())..], named_message);
    }
    header_shape(head, named_message)
}

/// Whether `bytes` start with a header block (the lines before the first
/// empty one): text, and (unless the name says message) a field first and
/// a known field somewhere in it. A `.msg` of text without any header is
/// still read (mime4j's `malformedHeader-noheader.msg` in the corpus).
fn header_shape(bytes: &[u8], named_message: bool) -> FileShape {
    let mut end = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if matches!(line, b"\n" | b"\r\n") {
            break;
        }
        end += line.len();
    }
    let block = &bytes[..end];
    // NUL and the C0 controls that never appear in mail text (TAB, LF, CR,
    // FF and ESC, for ISO-2022-JP, do).
    if block
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
    {
        return FileShape::NotMessage("binary data (NUL or control bytes) in the header block");
    }
    if named_message {
        return FileShape::Message;
    }
    let mut lines = block.split(|&b| b == b'\n');
    if !is_header_line(lines.next().unwrap_or_default()) {
        return FileShape::NotMessage("no header field at the start");
    }
    let known = block.split(|&b| b == b'\n').any(|l| {
        l.iter().position(|&b| b == b':').is_some_and(|colon| {
            let name = String::from_utf8_lossy(&l[..colon]).to_ascii_lowercase();
            KNOWN_FIELDS.contains(&name.as_str())
        })
    });
    if known {
        FileShape::Message
    } else {
        FileShape::NotMessage(
            "no From, Date, Subject, Message-ID, Received or other mail header field in the header block",
        )
    }
}

/// `name:` with a printable-ASCII field name (RFC 5322 §2.2).
fn is_header_line(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0 && line[..colon].iter().all(|&b| (0x21..0x7f).contains(&b))
}

/// Reads an eml folder's messages (the files `discover` accepted), sorted by name.
pub struct EmlReader {
    files: std::vec::IntoIter<PathBuf>,
    opts: ReadOptions,
    index: usize,
}

impl EmlReader {
    /// Reads the message files of a directory, or the one file `path` is.
    pub fn open(path: &Path, opts: &ReadOptions) -> io::Result<EmlReader> {
        let files = if fs::metadata(path)?.is_file() {
            vec![path.to_path_buf()]
        } else {
            message_files(path)?
        };
        Ok(EmlReader {
            files: files.into_iter(),
            opts: opts.clone(),
            index: 0,
        })
    }
}

/// The files of `dir` that are messages, sorted by name.
pub fn message_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        if file_shape(&entry.path())? == FileShape::Message {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Builds the message of one file.
pub fn read_file(path: &Path, index: usize, opts: &ReadOptions) -> io::Result<Message> {
    let raw = fs::read(path)?;
    let mtime = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from);
    let (from_line, body) = if raw.starts_with(b"From ") {
        let end = raw
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| i + 1);
        (Some(&raw[..end]), &raw[end..])
    } else {
        (None, &raw[..])
    };
    let candidates = DateCandidates {
        from_line: from_line.and_then(|l| date::parse_from_line(l.trim_ascii_end())),
        mtime,
        ..Default::default()
    };
    let origin = Origin {
        path: path.to_path_buf(),
        index,
        offset: None,
    };
    let mode = HeaderMode::Eml {
        keep: opts.keep_status_headers,
    };
    Ok(build_message(
        origin,
        normalize_crlf(body),
        mode,
        candidates,
        Vec::new(),
        Vec::new(),
        opts,
    ))
}

impl Iterator for EmlReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.files.next()?;
        self.index += 1;
        Some(
            read_file(&path, self.index, &self.opts).map_err(|e| SourceError {
                origin: Origin {
                    path,
                    index: self.index,
                    offset: None,
                },
                reason: e.to_string(),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{DateSource, Flag};

    #[test]
    fn shapes_and_reading() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("a.eml"), b"no header at all\n").unwrap();
        fs::write(
            d.join("b"),
            b"From - Mon Jan  6 09:15:00 2020\r\nX-Mozilla-Status: 1003\r\nSubject: b\r\n\r\nx\r\n",
        )
        .unwrap();
        fs::write(d.join("c"), b"Subject: c\n\nFrom me\n").unwrap();
        fs::write(d.join("notes.txt"), b"hello world\n").unwrap();
        fs::write(
            d.join("box"),
            b"From a Mon Jan  6 09:15:00 2020\nS: 1\n\nFrom b Mon Jan  6 09:15:00 2020\nS: 2\n",
        )
        .unwrap();
        let shape = |n: &str| file_shape(&d.join(n)).unwrap();
        assert_eq!(shape("a.eml"), FileShape::Message);
        assert_eq!(shape("b"), FileShape::Message);
        assert_eq!(shape("c"), FileShape::Message);
        assert!(matches!(shape("notes.txt"), FileShape::NotMessage(_)));
        assert_eq!(shape("box"), FileShape::Mbox);
        let msgs: Vec<Message> = EmlReader::open(d, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1].bytes, b"Subject: b\r\n\r\nx\r\n");
        assert_eq!(
            msgs[1].flags,
            vec![
                Flag::Seen,
                Flag::Answered,
                Flag::Keyword("$Forwarded".into())
            ]
        );
        assert_eq!(msgs[1].date.unwrap().source, DateSource::FromLine);
        assert_eq!(msgs[2].bytes, b"Subject: c\r\n\r\nFrom me\r\n");
    }

    #[test]
    fn only_header_blocks_are_messages() {
        let not = |why: &'static str| move |s: FileShape| matches!(s, FileShape::NotMessage(w) if w.contains(why));
        // The last piece of a `zip -s` archive: deflate data whose first
        // line happens to look like a field (`-:b7…`).
        let mut piece = b"-:b7\x12\x00\x9c\x01PK".to_vec();
        piece.extend((0..2000u32).map(|i| (i * 7 % 256) as u8));
        assert!(not("binary data")(shape_of(&piece, false)));
        assert!(not("binary data")(shape_of(&piece, true)));
        // Text that starts with a field but names no mail header.
        assert!(not("no From, Date")(shape_of(
            b"Name: value\nOther: x\n\nbody\n",
            false
        )));
        assert!(not("no header field")(shape_of(
            b"Dear reader,\nFrom: me\n",
            false
        )));
        // Mail, with or without a From_ line; a known field anywhere in the block.
        assert_eq!(
            shape_of(b"X-A: 1\nMessage-ID: <a@b>\n\nx\n", false),
            FileShape::Message
        );
        assert_eq!(
            shape_of(
                b"From - Mon Jan  6 09:15:00 2020\r\nSubject: b\r\n\r\nx\r\n",
                false
            ),
            FileShape::Message
        );
        assert_eq!(
            shape_of(b"Content-Type: text/plain\n\n\x00body\n", false),
            FileShape::Message
        );
        // A named message of text without a header is still read (the
        // corpus's mime4j `malformedHeader-noheader.msg`).
        assert_eq!(
            shape_of(b"This is a message with no header\n", true),
            FileShape::Message
        );
        // ESC (ISO-2022-JP) is text.
        assert_eq!(
            shape_of(b"Subject: \x1b$B;d\x1b(B\n\n", false),
            FileShape::Message
        );
    }
}
