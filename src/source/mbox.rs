//! mbox reading: [`MboxSplitter`] cuts a byte stream into messages at From_
//! separator lines, one message at a time (never the whole file in memory),
//! undoing mboxrd `>From ` quoting and normalizing line ends to CRLF;
//! [`MboxReader`] turns those into [`Message`]s with flags and a date.
//!
//! A separator is a line starting with `From ` at the start of the file or
//! after an empty line, or anywhere when it carries an asctime date (the
//! pipermail exports that omit the blank line). The empty line before a
//! separator (and at the end of the file) belongs to the mbox format, not to
//! the message.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::date::{self, DateCandidates};
use super::headers::HeaderMode;
use super::{ReadOptions, SourceError, build_message};
use crate::message::{Message, Origin, push_line_crlf};

const NOT_MBOX: &str = "not an mbox file (does not start with a From line)";

/// One message as cut from the mbox, before header processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMboxMessage {
    /// Byte offset of the From_ line in the file.
    pub offset: u64,
    /// The From_ line, with its line end.
    pub from_line: Vec<u8>,
    /// The message bytes: CRLF line ends, quoting undone.
    pub bytes: Vec<u8>,
}

/// Splits an mbox stream into [`RawMboxMessage`]s.
pub struct MboxSplitter<R> {
    reader: R,
    /// Bytes consumed so far.
    offset: u64,
    /// The separator that starts the next message, with its offset.
    next_from: Option<(u64, Vec<u8>)>,
    started: bool,
    done: bool,
}

impl<R: BufRead> MboxSplitter<R> {
    pub fn new(reader: R) -> Self {
        MboxSplitter {
            reader,
            offset: 0,
            next_from: None,
            started: false,
            done: false,
        }
    }

    /// Bytes consumed so far (where an error happened).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_line(&mut self, line: &mut Vec<u8>) -> io::Result<usize> {
        line.clear();
        let n = self.reader.read_until(b'\n', line)?;
        self.offset += n as u64;
        Ok(n)
    }

    /// Finds the first From_ line, skipping leading empty lines. `Ok(false)`
    /// for an empty (or all-blank) stream.
    fn find_first(&mut self) -> io::Result<bool> {
        let mut line = Vec::new();
        loop {
            let start = self.offset;
            if self.read_line(&mut line)? == 0 {
                return Ok(false);
            }
            if is_blank(&line) {
                continue;
            }
            if line.starts_with(b"From ") {
                self.next_from = Some((start, line));
                return Ok(true);
            }
            return Err(io::Error::new(io::ErrorKind::InvalidData, NOT_MBOX));
        }
    }

    fn next_message(&mut self) -> io::Result<Option<RawMboxMessage>> {
        if !self.started {
            self.started = true;
            if !self.find_first()? {
                return Ok(None);
            }
        }
        let Some((offset, from_line)) = self.next_from.take() else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        let mut line = Vec::new();
        let mut prev_blank = false;
        loop {
            let start = self.offset;
            if self.read_line(&mut line)? == 0 {
                break;
            }
            if line.starts_with(b"From ")
                && (prev_blank || date::parse_from_line(trim_eol(&line)).is_some())
            {
                self.next_from = Some((start, std::mem::take(&mut line)));
                break;
            }
            prev_blank = is_blank(&line);
            push_line_crlf(&mut bytes, unquote(&line));
        }
        if prev_blank {
            bytes.truncate(bytes.len() - 2);
        }
        Ok(Some(RawMboxMessage {
            offset,
            from_line,
            bytes,
        }))
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

/// Reads an mbox file's messages as [`Message`]s.
pub struct MboxReader {
    splitter: MboxSplitter<BufReader<File>>,
    path: PathBuf,
    opts: ReadOptions,
    mtime: Option<DateTime<Utc>>,
    index: usize,
}

impl MboxReader {
    pub fn open(path: &Path, opts: &ReadOptions) -> io::Result<MboxReader> {
        let file = File::open(path)?;
        let mtime = file.metadata()?.modified().ok().map(DateTime::<Utc>::from);
        Ok(MboxReader {
            splitter: MboxSplitter::new(BufReader::new(file)),
            path: path.to_path_buf(),
            opts: opts.clone(),
            mtime,
            index: 0,
        })
    }
}

impl Iterator for MboxReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.splitter.next()?;
        self.index += 1;
        Some(match raw {
            Ok(raw) => {
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
                };
                Ok(build_message(
                    origin,
                    raw.bytes,
                    mode,
                    candidates,
                    Vec::new(),
                    Vec::new(),
                    &self.opts,
                ))
            }
            Err(e) => Err(SourceError {
                origin: Origin {
                    path: self.path.clone(),
                    index: self.index,
                    offset: Some(self.splitter.offset()),
                },
                reason: e.to_string(),
            }),
        })
    }
}

/// True when the file is empty or its first non-empty line is a From_ line.
pub fn looks_like_mbox(path: &Path) -> io::Result<bool> {
    let mut reader = BufReader::new(File::open(path)?.take(64 * 1024));
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

fn is_blank(line: &[u8]) -> bool {
    trim_eol(line).is_empty()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// mboxrd: a line matching `^>+From ` loses one `>`.
fn unquote(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<RawMboxMessage> {
        MboxSplitter::new(input)
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    fn bodies(input: &[u8]) -> Vec<Vec<u8>> {
        split(input).into_iter().map(|m| m.bytes).collect()
    }

    #[test]
    fn blank_line_rule_and_trailing_blank_removed() {
        let input =
            b"From a Mon Jan  6 09:15:00 2020\nSubject: 1\n\nbody\n\nFrom b\nSubject: 2\n\nx\n\n";
        let msgs = split(input);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].bytes, b"Subject: 1\r\n\r\nbody\r\n");
        assert_eq!(msgs[1].bytes, b"Subject: 2\r\n\r\nx\r\n");
        assert_eq!(msgs[1].from_line, b"From b\n");
    }

    #[test]
    fn from_inside_body_without_blank_is_not_a_separator() {
        let input = b"From a Mon Jan  6 09:15:00 2020\nS: 1\n\nline\nFrom here on\nend\n";
        assert_eq!(
            bodies(input),
            vec![b"S: 1\r\n\r\nline\r\nFrom here on\r\nend\r\n".to_vec()]
        );
    }

    #[test]
    fn asctime_from_line_without_blank_is_a_separator() {
        let input = b"From a Mon Jan  6 09:15:00 2020\nS: 1\n\nbody\nFrom b@c  Tue Jan  7 09:15:00 2020\nS: 2\n";
        assert_eq!(
            bodies(input),
            vec![b"S: 1\r\n\r\nbody\r\n".to_vec(), b"S: 2\r\n".to_vec()]
        );
    }

    #[test]
    fn crlf_input_and_no_trailing_newline() {
        let input = b"From a\r\nS: 1\r\n\r\nb\r\n\r\nFrom b\r\nS: 2\r\n\r\nlast";
        assert_eq!(
            bodies(input),
            vec![b"S: 1\r\n\r\nb\r\n".to_vec(), b"S: 2\r\n\r\nlast".to_vec()]
        );
    }

    #[test]
    fn only_one_trailing_blank_line_removed() {
        assert_eq!(
            bodies(b"From a\nS: 1\n\nb\n\n\n"),
            vec![b"S: 1\r\n\r\nb\r\n\r\n".to_vec()]
        );
    }

    #[test]
    fn empty_message_is_still_yielded() {
        let input = b"From a\n\nFrom b\nS: 2\n";
        assert_eq!(bodies(input), vec![Vec::new(), b"S: 2\r\n".to_vec()]);
    }

    #[test]
    fn empty_and_blank_files_have_no_messages() {
        assert!(split(b"").is_empty());
        assert!(split(b"\n\n").is_empty());
    }

    #[test]
    fn not_mbox_is_an_error() {
        let r: Vec<_> = MboxSplitter::new(&b"Subject: x\n\nbody\n"[..]).collect();
        assert_eq!(r.len(), 1);
        assert!(r[0].as_ref().unwrap_err().to_string().contains("From line"));
    }

    #[test]
    fn unquoting() {
        let input = b"From a\nS: 1\n\n>From me\n>>From you\n> From not\n>Fromage\n";
        assert_eq!(
            bodies(input),
            vec![b"S: 1\r\n\r\nFrom me\r\n>From you\r\n> From not\r\n>Fromage\r\n".to_vec()]
        );
    }

    #[test]
    fn offsets_and_leading_blank_lines() {
        let input = b"\nFrom a\nS: 1\n\nFrom b\nS: 2\n";
        let offsets: Vec<u64> = split(input).iter().map(|m| m.offset).collect();
        assert_eq!(offsets, vec![1, 14]);
        assert_eq!(&input[14..20], b"From b");
    }

    #[test]
    fn reader_builds_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(
            &path,
            b"From x Sat Sep  1 20:58 EDT 2001\nStatus: RO\nX-Status: A\nSubject: a\n\nhi\n\n\
              From y Mon Jan  6 09:15:00 2020\nSubject: b\n\n",
        )
        .unwrap();
        let msgs: Vec<Message> = MboxReader::open(&path, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].bytes, b"Subject: a\r\n\r\nhi\r\n");
        assert_eq!(
            msgs[0].flags,
            vec![crate::message::Flag::Seen, crate::message::Flag::Answered]
        );
        let d = msgs[0].date.unwrap();
        assert_eq!(d.source, crate::message::DateSource::FromLine);
        assert_eq!(d.at.to_rfc3339(), "2001-09-01T20:58:00-04:00");
        assert_eq!(msgs[1].origin.index, 2);
        assert_eq!(msgs[1].origin.offset, Some(72));
        assert_eq!(msgs[1].bytes, b"Subject: b\r\n");
    }
}
