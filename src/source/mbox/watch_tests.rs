//! Tests for [`Watch`]: an mbox rewritten, modified or appended to between
//! the reader's messages, driven through [`MboxReader`] on a temp file.

use std::io::Write;
use std::path::Path;

use crate::message::Message;
use crate::source::ReadOptions;
use crate::source::mbox::MboxReader;
use crate::source::stable_file::changes::{append, rewrite_in_place, touch_later};

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

fn subject(m: &Message) -> String {
    String::from_utf8_lossy(&m.bytes[..12]).into_owned()
}

#[test]
fn a_file_rewritten_shorter_stops_with_an_error_after_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mbox");
    std::fs::write(&path, mbox(0..6)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert_eq!(subject(&first), "Subject: 000");
    // The client drops the first two messages and rewrites the file.
    rewrite(&path, &mbox(2..6));
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.origin.path, path);
    assert_eq!(err.origin.index, 2);
    assert!(err.reason.starts_with("changed while being read"), "{err}");
    assert!(
        err.reason
            .contains("run again once it is no longer being changed")
    );
    assert!(
        reader.next().is_none(),
        "nothing after the change is handed out"
    );
}

#[test]
fn a_same_length_rewrite_hands_out_only_messages_the_file_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box");
    std::fs::write(&path, mbox(0..6)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(subject(&reader.next().unwrap().unwrap()), "Subject: 000");
    // Message 3 is changed in place, same length: the reader's buffer
    // still holds the old bytes, the file the new.
    let changed = String::from_utf8(mbox(0..6))
        .unwrap()
        .replace("body 003", "BODY 003");
    rewrite(&path, changed.as_bytes());
    assert_eq!(subject(&reader.next().unwrap().unwrap()), "Subject: 001");
    assert_eq!(subject(&reader.next().unwrap().unwrap()), "Subject: 002");
    let err = reader.next().unwrap().unwrap_err();
    assert_eq!(err.origin.index, 4);
    assert!(err.reason.contains("no longer what was read"), "{err}");
    assert!(reader.next().is_none());
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
        enc.write_all(&mbox(range)).unwrap();
        enc.finish().unwrap()
    };
    std::fs::write(&path, gzip(0..4)).unwrap();
    let mut reader = MboxReader::open(&path, &ReadOptions::default()).unwrap();
    assert!(reader.next().unwrap().is_ok());
    rewrite(&path, &gzip(1..4));
    let err = reader.next().unwrap().unwrap_err();
    assert!(err.reason.starts_with("changed while being read"), "{err}");
    assert!(reader.next().is_none());
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
