//! Unit tests for `frame.rs`: framing under every chunk split, literals,
//! the bounds on lines, literals and whole responses (small, injected
//! bounds), and `BODY[]` literals hashed as they stream.

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
            Err(ImapError::ConnectionLost(_)) if buf.is_empty() => return out,
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
    assert!(matches!(e, ImapError::ConnectionLost(_)), "{e}");
    let mut r: &[u8] = b"* OK no newline";
    let e = read_frame(&mut r, &mut buf).unwrap_err();
    assert!(matches!(e, ImapError::ConnectionLost(_)), "{e}");
    let huge = format!("* 1 FETCH (BODY[] {{{}}}\r\n", MAX_LITERAL + 1);
    let mut r = huge.as_bytes();
    let e = read_frame(&mut r, &mut buf).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "a literal of {} bytes from the server exceeded the 64 MiB bound on one literal",
            MAX_LITERAL + 1
        )
    );
    // Text ending in a brace that is not a literal header.
    let mut r: &[u8] = b"* OK {x}\r\n* OK {}\r\n";
    read_frame(&mut r, &mut buf).unwrap();
    assert_eq!(buf, b"* OK {x}\r\n");
}

/// Small bounds, so that tests can go past them cheaply.
const SMALL: FrameLimits = FrameLimits {
    line: 64,
    literal: 100,
    total: 160,
};

fn read_small(input: &[u8], hash_bodies: bool) -> Result<(Vec<u8>, Option<HashedBody>), ImapError> {
    let mut r = BufReader::with_capacity(7, input);
    let mut out = Vec::new();
    let h = read_frame_with(&mut r, &mut out, &SMALL, hash_bodies)?;
    Ok((out, h))
}

#[test]
fn every_bound_is_named_in_its_error() {
    let long_line = [b"* OK ".as_slice(), &[b'x'; 80], b"\r\n"].concat();
    assert_eq!(
        read_small(&long_line, false).unwrap_err().to_string(),
        "a response line from the server exceeded the 64 bytes bound on one line"
    );
    let big_literal = b"* OK {101}\r\n";
    assert_eq!(
        read_small(big_literal, false).unwrap_err().to_string(),
        "a literal of 101 bytes from the server exceeded the 100 bytes bound on one literal"
    );
    // Two literals each within the bound, together past the response's.
    let lit = [b'a'; 90];
    let two = [
        b"* OK {90}\r\n".as_slice(),
        &lit,
        b" {90}\r\n",
        &lit,
        b"\r\n",
    ]
    .concat();
    let e = read_small(&two, false).unwrap_err();
    assert!(matches!(e, ImapError::TooLarge { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "one response from the server exceeded the 160 bytes bound on one response"
    );
    assert!(e.is_connection_lost());
    // One of them fits.
    let one = [b"* OK {90}\r\n".as_slice(), &lit, b"\r\n"].concat();
    assert_eq!(read_small(&one, false).unwrap().0, one);
    // A number too long to be a literal header is text, never an overflow.
    let digits = b"* OK {99999999999999999999}\r\n";
    assert_eq!(read_small(digits, false).unwrap().0, digits);
}

#[test]
fn a_body_larger_than_the_literal_bound_is_hashed_as_it_streams() {
    let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    assert!(body.len() > SMALL.literal && body.len() > SMALL.total);
    let input = [
        format!("* 3 FETCH (UID 9 BODY[] {{{}}}\r\n", body.len()).as_bytes(),
        &body,
        b")\r\n* 4 FETCH (UID 10 BODY[] ~{3}\r\na\0b)\r\n",
    ]
    .concat();
    let mut r = BufReader::with_capacity(7, input.as_slice());
    let mut out = Vec::new();
    let h = read_frame_with(&mut r, &mut out, &SMALL, true)
        .unwrap()
        .unwrap();
    assert_eq!(out, b"* 3 FETCH (UID 9 BODY[] {0}\r\n)\r\n");
    assert_eq!((h.len, h.fingerprint), (10_000, Fingerprint::of(&body)));
    assert_eq!(&out[h.at..h.at + 3], b"{0}");
    match crate::imap::response::parse_data(&out).unwrap() {
        imap_proto::Response::Fetch(3, attrs) => assert_eq!(attrs.len(), 2),
        other => panic!("{other:?}"),
    }
    let h = read_frame_with(&mut r, &mut out, &SMALL, true)
        .unwrap()
        .unwrap();
    assert_eq!(out, b"* 4 FETCH (UID 10 BODY[] {0}\r\n)\r\n");
    assert_eq!(h.fingerprint, Fingerprint::of(b"a\0b"));
    // Without hashing the same body is over the bound.
    let e = read_small(&input, false).unwrap_err();
    assert!(matches!(e, ImapError::TooLarge { .. }), "{e}");
    // Other literals are kept even when hashing, and a cut body is a lost
    // connection.
    let header = b"* 1 FETCH (UID 2 BODY[HEADER] {2}\r\nab)\r\n";
    assert_eq!(read_small(header, true).unwrap(), (header.to_vec(), None));
    let cut = read_small(b"* 1 FETCH (UID 2 BODY[] {20}\r\nab", true).unwrap_err();
    assert!(matches!(cut, ImapError::ConnectionLost(_)), "{cut}");
    let two = read_small(b"* 1 FETCH (BODY[] {1}\r\na BODY[] {1}\r\nb)\r\n", true);
    assert!(matches!(two, Err(ImapError::ServerGarbage(_))), "{two:?}");
}
