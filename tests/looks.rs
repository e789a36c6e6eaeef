//! Looking at what the server holds, through the library against a private
//! Dovecot: `Session::fetch_hashes` hashes each body as it streams, so a
//! message past the 64 MiB bound on a kept literal can still be looked for
//! (issue 9 item 4). (The bound on one kept literal, with its error naming
//! it, is unit-tested in `frame_tests.rs`.)

use std::time::Duration;

use mailhaul::fingerprint::Fingerprint;
use mailhaul::imap::{AppendItem, ConnectOptions, Session, TlsMode};
use mailhaul::secret::Secret;

use crate::util::dovecot::Dovecot;

fn connect(dovecot: &Dovecot) -> Session {
    Session::connect(&ConnectOptions {
        host: "127.0.0.1".into(),
        port: dovecot.tls_port(),
        tls: TlsMode::Implicit,
        user: dovecot.user().into(),
        password: Secret::new(dovecot.password().into()),
        oauth2: false,
        trace: None,
        ca_file: Some(dovecot.ca_file()),
        insecure: false,
        allow_plaintext: false,
        timeout: Some(Duration::from_secs(120)),
        compress: false,
    })
    .unwrap()
}

/// A message of about `size` bytes with CRLF line ends (as stored and
/// fetched back unchanged), numbered lines so that no two are alike.
fn message(size: usize, subject: &str) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
    )
    .into_bytes();
    let mut n = 0u64;
    while m.len() < size {
        m.extend_from_slice(format!("line {n:010} of a large message body\r\n").as_bytes());
        n += 1;
    }
    m
}

#[test]
fn a_70_mb_message_is_hashed_as_it_streams() {
    let dovecot = Dovecot::start().unwrap();
    let mut s = connect(&dovecot);
    s.create("Big").unwrap();
    let big = message(70_000_000, "big");
    let small = message(2_000, "small");
    let mut uids = Vec::new();
    for bytes in [&big, &small] {
        let item = AppendItem {
            flags: &[],
            date: None,
            bytes,
        };
        let appended = s.append("Big", &[item]).unwrap();
        uids.extend(appended.uids);
    }
    assert_eq!(uids.len(), 2, "Dovecot answers APPENDUID");
    let sel = s.select("Big").unwrap();
    assert_eq!(sel.exists, 2);
    let got = s.fetch_hashes(&[uids[1], uids[0]]).unwrap();
    assert_eq!(
        got,
        [
            (uids[0], Fingerprint::of(&big)),
            (uids[1], Fingerprint::of(&small))
        ]
    );
    // Another session hashes it too.
    let mut s = connect(&dovecot);
    s.select("Big").unwrap();
    assert_eq!(
        s.fetch_hashes(&[uids[0]]).unwrap(),
        [(uids[0], Fingerprint::of(&big))]
    );
    s.logout();
}
