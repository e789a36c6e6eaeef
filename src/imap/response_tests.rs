//! Unit tests for `response.rs`: framing under every chunk split, literals,
//! continuation requests, status classification and response codes.

use std::io::{BufReader, Read};

use super::*;

/// A reader that hands out at most `chunk` bytes per read.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn frames(input: &[u8], chunk: usize, cap: usize) -> Vec<Vec<u8>> {
    let mut r = BufReader::with_capacity(cap, Chunked { data: input, chunk });
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match read_frame(&mut r, &mut buf) {
            Ok(()) => out.push(buf.clone()),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && buf.is_empty() => return out,
            Err(e) => panic!("{e}: partial {}", buf.escape_ascii()),
        }
    }
}

const STREAM: &[&[u8]] = &[
    b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n",
    b"+ go ahead\r\n",
    b"* 1 FETCH (UID 5 BODY[] {13}\r\nHi {3}\r\nthere FLAGS (\\Seen))\r\n",
    b"* 2 FETCH (BODY[HEADER] {0}\r\n BODY[TEXT] ~{4}\r\na\0\r\n)\r\n",
    b"* LIST () \"/\" {5+}\r\nab}{c\r\n",
    b"A0001 OK [APPENDUID 38505 3955:3957] APPEND completed\r\n",
];

#[test]
fn framing_every_chunk_size() {
    let input: Vec<u8> = STREAM.concat();
    for chunk in 1..=input.len() {
        for cap in [1, 7, 64, 8192] {
            let got = frames(&input, chunk, cap);
            let want: Vec<Vec<u8>> = STREAM.iter().map(|s| s.to_vec()).collect();
            assert_eq!(got, want, "chunk {chunk} cap {cap}");
        }
    }
}

#[test]
fn framing_every_split_point() {
    // Two reads: the split anywhere in the stream.
    let input: Vec<u8> = STREAM.concat();
    for split in 0..input.len() {
        let (a, b) = input.split_at(split);
        let r = a.chain(b);
        let mut r = BufReader::with_capacity(3, r);
        let mut buf = Vec::new();
        for want in STREAM {
            read_frame(&mut r, &mut buf).unwrap();
            assert_eq!(buf.as_slice(), *want, "split {split}");
        }
    }
}

#[test]
fn framing_eof_and_bounds() {
    let mut buf = Vec::new();
    let mut r: &[u8] = b"* 1 FETCH (BODY[] {10}\r\nabc";
    let e = read_frame(&mut r, &mut buf).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    let mut r: &[u8] = b"* OK no newline";
    assert_eq!(
        read_frame(&mut r, &mut buf).unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );
    let huge = format!("* 1 FETCH (BODY[] {{{}}}\r\n", MAX_LITERAL + 1);
    let mut r = huge.as_bytes();
    assert_eq!(
        read_frame(&mut r, &mut buf).unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
    // Text ending in a brace that is not a literal header.
    let mut r: &[u8] = b"* OK {x}\r\n* OK {}\r\n";
    read_frame(&mut r, &mut buf).unwrap();
    assert_eq!(buf, b"* OK {x}\r\n");
}

fn status(line: &[u8]) -> Status {
    match classify(line.to_vec()).unwrap() {
        Response::Status(s) => s,
        other => panic!("not a status: {other:?}"),
    }
}

#[test]
fn classification() {
    assert_eq!(
        classify(b"+ Ready\r\n".to_vec()).unwrap(),
        Response::Continue("Ready".into())
    );
    assert_eq!(
        classify(b"+\r\n".to_vec()).unwrap(),
        Response::Continue(String::new())
    );
    assert!(matches!(
        classify(b"* 3 EXISTS\r\n".to_vec()).unwrap(),
        Response::Data(_)
    ));
    assert!(matches!(
        classify(b"* CAPABILITY IMAP4rev1\r\n".to_vec()).unwrap(),
        Response::Data(_)
    ));
    let s = status(b"A0003 NO [TOOBIG] too big\r\n");
    assert_eq!(s.tag.as_deref(), Some("A0003"));
    assert_eq!(s.kind, StatusKind::No);
    assert_eq!(s.code, Some(Code::TooBig));
    assert_eq!(s.text, "too big");
    let s = status(b"* BYE shutting down\r\n");
    assert_eq!(
        (s.tag, s.kind, s.text.as_str()),
        (None, StatusKind::Bye, "shutting down")
    );
    let s = status(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n");
    assert_eq!(s.kind, StatusKind::PreAuth);
    assert_eq!(s.capabilities().unwrap(), vec!["IMAP4REV1", "IDLE"]);
    let s = status(b"a1 ok\r\n");
    assert_eq!((s.kind, s.text.as_str()), (StatusKind::Ok, ""));
    let s = status(b"A1 BAD \x1b[31mred\r\n");
    assert_eq!(s.text, "\\u{1b}[31mred");
    assert!(classify(b"A1 WHAT\r\n".to_vec()).is_err());
    assert!(classify(b"garbage\r\n".to_vec()).is_err());
}

#[test]
fn codes() {
    let c = |l: &[u8]| status(l).code;
    assert_eq!(
        c(b"A1 NO [TRYCREATE] no mailbox\r\n"),
        Some(Code::TryCreate)
    );
    assert_eq!(
        c(b"A1 NO [LIMIT] quota_max_mail_size\r\n"),
        Some(Code::Limit)
    );
    assert_eq!(c(b"A1 NO [OVERQUOTA] full\r\n"), Some(Code::OverQuota));
    assert_eq!(c(b"A1 NO [toobig] x\r\n"), Some(Code::TooBig));
    assert_eq!(
        c(b"A1 OK [APPENDUID 38505 3955] done\r\n"),
        Some(Code::AppendUid {
            uid_validity: 38505,
            uids: vec![3955]
        })
    );
    assert_eq!(
        c(b"A1 OK [APPENDUID 1 5:7,9,12:11] done\r\n"),
        Some(Code::AppendUid {
            uid_validity: 1,
            uids: vec![5, 6, 7, 9, 11, 12]
        })
    );
    assert_eq!(
        c(b"A1 OK [APPENDUID x 1] d\r\n"),
        Some(Code::Other("APPENDUID x 1".into()))
    );
    assert_eq!(
        c(b"A1 NO [ALREADYEXISTS] exists\r\n"),
        Some(Code::Other("ALREADYEXISTS".into()))
    );
    let s = status(b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    assert_eq!(s.code_args("UIDVALIDITY"), Some("3857529045"));
    let s = status(b"* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n");
    assert_eq!(
        s.code,
        Some(Code::Other("PERMANENTFLAGS (\\Seen \\*)".into()))
    );
    assert_eq!(s.text, "Limited");
}

#[test]
fn uid_sets() {
    assert_eq!(parse_uid_set("5:7"), Some(vec![5, 6, 7]));
    assert_eq!(parse_uid_set("1,3"), Some(vec![1, 3]));
    assert_eq!(parse_uid_set(""), None);
    assert_eq!(parse_uid_set("1:*"), None);
    assert_eq!(parse_uid_set("0"), None);
}

#[test]
fn data_through_imap_proto() {
    let frame = b"* 1 FETCH (UID 5 BODY[] {13}\r\nHi {3}\r\nthere FLAGS (\\Seen))\r\n";
    match parse_data(frame).unwrap() {
        imap_proto::Response::Fetch(1, attrs) => assert_eq!(attrs.len(), 3),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_data(b"* 4 EXISTS\r\n").unwrap(),
        imap_proto::Response::MailboxData(imap_proto::MailboxDatum::Exists(4))
    ));
    assert!(parse_data(b"* FOO (((\r\n").is_err());
}
