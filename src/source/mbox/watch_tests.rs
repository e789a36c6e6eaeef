//! Tests for [`Watch`]: an mbox rewritten, modified or appended to between
//! the reader's messages, driven through [`MboxReader`] on a temp file.

use std::io::Write;
use std::path::Path;

use crate::message::Message;
use crate::source::mbox::MboxReader;
use crate::source::stable_file::changes::{append, rewrite_in_place, touch_later};
use crate::source::{ReadOptions, SourceError};

fn message(n: usize) -> String {
    format!("From a@b Mon Jan  6 09:15:00 2020\nSubject: {n:03}\n\nbody {n:03}\n\n")
}

fn mbox(range: std::ops::Range<usize>) -> Vec<u8> {
    range.map(message).collect::<String>().into_bytes()
}

/// Rewrites `path` in place and moves its modification time on.
fn rewrite(path: &Path, bytes: &[u8]) {
    rewrite_in_place(path, bytes);
    touch_later(path);
}

/// A message of about 100 KB (hex noise, which gzip cannot shrink much),
/// so that a file of a few of them is more than the reader's 256 KiB
/// buffer: it reads again after a change. `upper` changes every body line
/// without changing its length.
fn big_message(n: usize, upper: bool) -> String {
    let mut x = n as u64 + 1;
    let mut out = format!("From a@b Mon Jan  6 09:15:00 2020\nSubject: {n:03}\n\n");
    for _ in 0..1000 {
        let line: String = (0..7)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:016x}", x)
            })
            .collect();
        let line = if upper { line.to_uppercase() } else { line };
        out.push_str(&line[..99]);
        out.push('\n');
    }
    out.push('\n');
    out
}

fn big_mbox(range: std::ops::Range<usize>, upper: bool) -> Vec<u8> {
    range
        .map(|n| big_message(n, upper))
        .collect::<String>()
        .into_bytes()
}

/// What `reader` hands out until it stops: the messages, and the error it
/// stopped with (after which it hands out nothing).
fn read_on(reader: &mut MboxReader) -> (Vec<Message>, Option<SourceError>) {
    let mut messages = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(m) => messages.push(m),
            Err(e) => {
                assert!(reader.next().is_none(), "something after {e}");
                return (messages, Some(e));
            }
        }
    }
    (messages, None)
}

/// The bytes `message` must have to be message `n` of the file as written.
fn as_read(message: &str) -> Vec<u8> {
    let text = message.split_once('\n').unwrap().1;
    text.strip_suffix('\n')
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes()
}

#[test]
fn a_file_rewritten_shorter_stops_with_an_error_after_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mbox");
    std::fs::write(&path, big_mbox(0..8, false)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first.bytes, as_read(&big_message(0, false)));
    // The client drops the first two messages and rewrites the file.
    rewrite(&path, &big_mbox(2..8, false));
    let (read, err) = read_on(&mut reader);
    let err = err.expect("the rewrite is met: the file is more than the reader's buffer");
    for (k, m) in read.iter().enumerate() {
        assert_eq!(m.bytes, as_read(&big_message(k + 1, false)), "message {k}");
    }
    assert_eq!(err.origin.path, path);
    assert_eq!(err.origin.index, read.len() + 2);
    assert!(err.changed_while_read(), "{err}");
    assert!(err.reason.contains("it was rewritten"), "{err}");
    assert!(
        err.reason
            .contains("run again once it is no longer being changed")
    );
}

#[test]
fn a_same_length_rewrite_hands_out_only_messages_the_file_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box");
    std::fs::write(&path, big_mbox(0..8, false)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    // Every body changed in place, same length: what the reader's buffer
    // holds is the old file, what it reads next the new.
    rewrite(&path, &big_mbox(0..8, true));
    let (read, err) = read_on(&mut reader);
    for (k, m) in read.iter().enumerate() {
        let n = k + 1;
        let old = as_read(&big_message(n, false));
        let new = as_read(&big_message(n, true));
        assert!(m.bytes == old || m.bytes == new, "message {n} is spliced");
    }
    // Message 2 spans the end of the first 256 KiB read: part old, part new.
    let err = err.expect("the message read across the change is not handed out");
    assert!(err.reason.contains("no longer what was read"), "{err}");
}

#[test]
fn mail_appended_while_reading_is_left_for_the_next_run_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool");
    std::fs::write(&path, mbox(0..3)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    append(&path, message(3).as_bytes());
    touch_later(&path);
    let rest: Vec<Message> = reader.map(Result::unwrap).collect();
    assert_eq!(rest.len(), 2, "the appended message is not read");
    assert!(rest[0].warnings.is_empty());
    let added = message(3).len();
    assert_eq!(
        rest[1].warnings,
        [format!(
            "{added} bytes were added to the file while it was read; they are left for the next run"
        )]
    );
}

#[test]
fn a_last_message_still_being_written_is_not_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool");
    let mut bytes = mbox(0..2);
    bytes.extend_from_slice(b"From a@b Mon Jan  6 09:15:00 2020\nSubject: 002\n\nhalf of");
    std::fs::write(&path, &bytes).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    append(
        &path,
        b" the body

",
    );
    assert!(reader.next().unwrap().is_ok());
    let err = reader.next().unwrap().unwrap_err();
    assert!(err.reason.contains("still being written"), "{err}");
}

#[test]
fn a_modified_gzip_file_stops_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.mbox.gz");
    let gzip = |range| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&big_mbox(range, false)).unwrap();
        enc.finish().unwrap()
    };
    std::fs::write(&path, gzip(0..8)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    rewrite(&path, &gzip(1..8));
    let (read, err) = read_on(&mut reader);
    assert!(read.len() < 7, "{} read", read.len());
    let err = err.expect("the change is met");
    assert!(err.changed_while_read(), "{err}");
}

#[test]
fn an_unchanged_file_reads_whole_without_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box");
    std::fs::write(&path, mbox(0..4)).unwrap();
    let all: Vec<Message> = MboxReader::open(&path, &ReadOptions::default())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|m| m.warnings.is_empty()));
}
