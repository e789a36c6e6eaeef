//! Tests for mbox splitting and reading: separators, variants, quoting,
//! Content-Length, MIME-protected From_ lines, preambles and gzip.

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
fn lone_cr_as_the_last_line_is_a_trailing_blank() {
    // Found by fuzzing (fuzz/mbox_splitter): the trailing blank line was cut
    // as two bytes, overflowing on a message that is only `\r`.
    assert_eq!(
        bodies(b"From - Tue Oct 02 00:26:47 2007\n\r"),
        vec![Vec::<u8>::new()]
    );
    assert_eq!(
        bodies(b"From - Tue Oct 02 00:26:47 2007\nS: 1\n\r"),
        vec![b"S: 1\r\n".to_vec()]
    );
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

fn split_v(input: &[u8], v: MboxVariant) -> Vec<RawMboxMessage> {
    MboxSplitter::with_variant(input, v)
        .collect::<io::Result<Vec<_>>>()
        .unwrap()
}

#[test]
fn from_inside_rfc822_part_does_not_split() {
    let input = b"From a Mon Jan  6 09:15:00 2020\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: message/rfc822\n\nFrom b Mon Jan  6 09:15:00 2020\nSubject: inner\n\n--B--\nFrom c\nS: 2\n";
    let msgs = split(input);
    assert_eq!(
        msgs.len(),
        2,
        "inner From_ kept, From c after the closing boundary splits"
    );
    assert_eq!(msgs[1].from_line, b"From c\n");
}

#[test]
fn content_length_consistent_and_not() {
    // mboxcl2: an unquoted From_ line inside a body delimited by Content-Length.
    let good = b"From a Mon Jan  6 09:15:00 2020\nContent-Length: 34\n\nFrom b Mon Jan  6 09:15:00 2020\nx\n\nFrom c Mon Jan  6 09:15:00 2020\nS: 2\n";
    let msgs = split(good);
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0].warnings.is_empty());
    assert!(
        msgs[0]
            .bytes
            .ends_with(b"From b Mon Jan  6 09:15:00 2020\r\nx\r\n")
    );
    let bad = b"From a Mon Jan  6 09:15:00 2020\nContent-Length: 3\n\nbody\n\nFrom c\nS: 2\n";
    let msgs = split(bad);
    assert_eq!(msgs.len(), 2);
    assert!(
        msgs[0].warnings[0].contains("Content-Length 3"),
        "{:?}",
        msgs[0].warnings
    );
    assert_eq!(msgs[0].bytes, b"Content-Length: 3\r\n\r\nbody\r\n");
    assert_eq!(
        split_v(good, MboxVariant::Mboxrd).len(),
        3,
        "mboxrd ignores Content-Length"
    );
}

#[test]
fn variants_and_quoting() {
    let input = b"From a\nS: 1\n\n>From x\n>>From y\n";
    assert_eq!(
        split_v(input, MboxVariant::Mboxrd)[0].bytes,
        b"S: 1\r\n\r\nFrom x\r\n>From y\r\n"
    );
    assert_eq!(
        split_v(input, MboxVariant::Mboxo)[0].bytes,
        b"S: 1\r\n\r\n>From x\r\n>>From y\r\n"
    );
    assert_eq!(
        split_v(input, MboxVariant::Mboxcl2)[0].bytes,
        b"S: 1\r\n\r\n>From x\r\n>>From y\r\n"
    );
}

#[test]
fn preamble_is_reported() {
    let msgs = split(b"junk line\n\nFrom a Mon Jan  6 09:15:00 2020\nS: 1\n");
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].warnings[0].contains("11 bytes"),
        "{:?}",
        msgs[0].warnings
    );
    assert_eq!(msgs[0].offset, 11);
}

#[test]
fn separator_forms_without_blank_line() {
    let input = b"From a\nS: 1\n\nx\nFrom id@xxx Mon Jan 06 09:15:00 +0000 2020\nS: 2\n\ny\nFrom b Sat Sep  1 20:58 EDT 2001\nS: 3\n";
    assert_eq!(split(input).len(), 3);
}

#[test]
fn gzip_mbox_is_streamed() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.mbox.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(
        b"From a Mon Jan  6 09:15:00 2020\nS: 1\n\nFrom b Mon Jan  6 09:15:00 2020\nS: 2\n",
    )
    .unwrap();
    enc.finish().unwrap();
    assert!(looks_like_mbox(&path).unwrap());
    let n = MboxReader::open(&path, &ReadOptions::default())
        .unwrap()
        .count();
    assert_eq!(n, 2);
    let d = crate::source::discover(&[path], crate::source::Format::Auto).unwrap();
    assert_eq!(d.folders[0].folder, ["old"]);
}

#[test]
fn takeout_and_expunged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("All mail.mbox");
    std::fs::write(
        &path,
        b"From 1@xxx Mon Jan 06 09:15:00 +0000 2020\nX-Gmail-Labels: Inbox,Starred,\"A, b\",Opened\nS: 1\n\n\
          From 2@xxx Mon Jan 06 09:15:00 +0000 2020\nX-Gmail-Labels: Chat\nS: 2\n\n\
          From 3@xxx Mon Jan 06 09:15:00 +0000 2020\nX-Mozilla-Status: 0009\nS: 3\n",
    )
    .unwrap();
    let msgs: Vec<Message> = MboxReader::open(&path, &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        msgs[0].targets,
        vec![vec!["INBOX".to_string()], vec!["A, b".to_string()]]
    );
    assert_eq!(msgs[0].bytes, b"S: 1\r\n");
    assert_eq!(msgs[1].skip.as_deref(), Some("Gmail chat transcript"));
    assert_eq!(
        msgs[2].skip.as_deref(),
        Some("deleted in source (X-Mozilla-Status 0x0008)")
    );
    let opts = ReadOptions {
        include_deleted: true,
        takeout: Some(false),
        ..ReadOptions::default()
    };
    let msgs: Vec<Message> = MboxReader::open(&path, &opts)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(msgs[0].targets.is_empty(), "--no-takeout");
    assert!(msgs[2].skip.is_none() && msgs[2].flags.contains(&crate::message::Flag::Deleted));
}
