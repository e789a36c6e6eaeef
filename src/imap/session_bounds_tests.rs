//! Scripted-peer tests of the bounds a hostile or broken server meets:
//! pushed untagged data not kept, SASL rounds, bodies hashed as they stream,
//! an exchange out of step making the session unusable.

use super::tests::{GREETING_PLUS, LOGIN, exp, oauth_opts, opts, peer};
use super::tests::{Step, Step::*};
use super::*;
use crate::imap::auth::MAX_SASL_ROUNDS;
use crate::imap::command;

fn leak(b: Vec<u8>) -> &'static [u8] {
    Box::leak(b.into_boxed_slice())
}

const LOGGED_IN: &[u8] = b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] ok\r\n";

#[test]
fn pushed_untagged_data_is_not_kept_only_the_latest_exists() {
    let mut flood = Vec::new();
    for n in 1..=100_000u32 {
        flood.extend_from_slice(format!("* {n} EXISTS\r\n* {n} RECENT\r\n").as_bytes());
        flood.extend_from_slice(format!("* {n} FETCH (FLAGS (\\Seen))\r\n").as_bytes());
    }
    flood.extend_from_slice(b"* 1 EXPUNGE\r\n* 4294967296 EXISTS\r\nA0002 OK done\r\n");
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(LOGGED_IN),
        exp(b"A0002 NOOP\r\n"),
        Send(leak(flood)),
        exp(b"A0003 LIST \"\" \"\"\r\n"),
        Send(b"* 7 EXISTS\r\n* LIST () \"/\" \"\"\r\n* OK [ALERT] hi\r\nA0003 OK\r\n"),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let cmd = s.command(&Request::Simple("NOOP"));
    let done = s.run(cmd, Keep::NOTHING).unwrap();
    // A number past u32 is not an EXISTS count; the one before it is.
    assert_eq!(done.exists, Some(100_000));
    assert!(done.data.is_empty() && done.untagged.is_empty());
    let cmd = s.command(&Request::List {
        reference: "",
        pattern: "",
        special_use: false,
    });
    let done = s.run(cmd, Keep::data(&["LIST"])).unwrap();
    assert_eq!((done.data.len(), done.untagged.len()), (1, 0));
    assert_eq!(done.exists, Some(7));
    drop(s);
    h.join().unwrap();
}

#[test]
fn an_endless_sasl_exchange_is_cancelled_after_the_round_limit() {
    let message = command::sasl_response(b"user=me@example.org\x01auth=Bearer ya29.token\x01\x01");
    let mut script = vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\n"),
        exp(b"A0001 AUTHENTICATE XOAUTH2\r\n"),
        Send(b"+ \r\n"),
        Step::Expect(message),
    ];
    for _ in 1..MAX_SASL_ROUNDS {
        script.push(Send(b"+ e30=\r\n"));
        script.push(exp(b"\r\n"));
    }
    script.push(Send(b"+ e30=\r\n"));
    script.push(exp(b"*\r\n"));
    script.push(Send(b"A0001 BAD [CLIENTBUG] cancelled\r\n"));
    script.push(ExpectEof);
    let (port, h) = peer(script);
    let err = Session::connect(&oauth_opts(port)).unwrap_err();
    h.join().unwrap();
    assert!(matches!(err, ImapError::Auth(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "authentication failed: the server's XOAUTH2 exchange went on past 4 challenge(s); the client cancelled it"
    );
    assert!(!format!("{err:?}").contains("ya29"));
}

#[test]
fn plain_answers_one_challenge_only() {
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"),
        exp(b"A0001 AUTHENTICATE PLAIN\r\n"),
        Send(b"+ \r\n"),
        exp(b"AHVzZXIAaHVudGVyMg==\r\n"),
        Send(b"+ more?\r\n"),
        exp(b"*\r\n"),
        Send(b"+ again\r\n"),
        ExpectEof,
    ]);
    let err = Session::connect(&opts(port)).unwrap_err();
    h.join().unwrap();
    assert!(matches!(err, ImapError::ServerGarbage(_)), "{err}");
}

#[test]
fn bodies_are_hashed_as_they_stream_one_per_uid_asked() {
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut answer = Vec::new();
    answer.extend_from_slice(b"* 1 FETCH (FLAGS (\\Seen))\r\n");
    for uid in [7, 9, 7] {
        answer.extend_from_slice(
            format!("* {uid} FETCH (UID {uid} BODY[] {{{}}}\r\n", body.len()).as_bytes(),
        );
        answer.extend_from_slice(&body);
        answer.extend_from_slice(b")\r\n");
    }
    answer.extend_from_slice(b"* 3 FETCH (UID 8 BODY[] {2}\r\nhi)\r\nA0002 OK done\r\n");
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(LOGGED_IN),
        exp(b"A0002 UID FETCH 7,9 (UID BODY.PEEK[])\r\n"),
        Send(leak(answer)),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let got = s.fetch_hashes(&[7, 9]).unwrap();
    let fp = Fingerprint::of(&body);
    assert_eq!(got, [(7, fp), (9, fp)]);
    drop(s);
    h.join().unwrap();
}

/// `BODY[TEXT]` is hashed as it streams, like `BODY[]`.
#[test]
fn text_hashes_stream() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(LOGGED_IN),
        exp(b"A0002 UID FETCH 4 (UID BODY.PEEK[TEXT])\r\n"),
        Send(b"* 1 FETCH (UID 4 BODY[TEXT] {6}\r\nbody\r\n)\r\nA0002 OK done\r\n"),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let got = s.fetch_text_hashes(&[4]).unwrap();
    assert_eq!(got, [(4, Fingerprint::of(b"body\r\n"))]);
    drop(s);
    h.join().unwrap();
}

#[test]
fn garbage_leaves_the_session_unusable() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(LOGGED_IN),
        exp(b"A0002 NOOP\r\n"),
        Send(b"+ what\r\n"),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let e = s.noop().unwrap_err();
    assert!(
        matches!(e, ImapError::ServerGarbage(_)) && e.fate_unknown(),
        "{e}"
    );
    assert!(s.is_broken());
    assert!(matches!(s.noop(), Err(ImapError::ConnectionLost(_))));
    h.join().unwrap();
}

/// Yahoo's rate limit met while pipelining: the server refuses the first
/// APPEND, says BYE and closes while the client still writes the second
/// (16 MiB, LITERAL+). The write fails; what the server said before it
/// closed is read all the same: the first APPEND's answer is the refusal
/// (not a lost connection), and the lost connection's reason is the BYE.
#[test]
fn what_the_server_said_before_it_closed_is_read_after_a_failed_write() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(LOGGED_IN),
        exp(b"A0002 APPEND INBOX {5+}\r\nHello\r\n"),
        Send(b"A0002 NO [LIMIT] UID Rate limit hit.\r\n* BYE Rate limit hit; closing.\r\n"),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let item = |bytes| crate::imap::AppendItem {
        flags: &[],
        date: None,
        bytes,
    };
    let first = s.append_start("INBOX", &[item(b"Hello")]).unwrap();
    let big = vec![b'x'; 16 << 20];
    let second = s.append_start("INBOX", &[item(&big)]);
    let e = second.unwrap_err();
    assert!(e.is_connection_lost(), "{e}");
    assert!(e.to_string().contains("BYE (Rate limit hit"), "{e}");
    match s.append_finish(&first) {
        Err(ImapError::No { code, text }) => {
            assert_eq!(code, Some(crate::imap::Code::Limit));
            assert_eq!(text, "UID Rate limit hit.");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.is_broken());
    assert_eq!(s.stats().append_commands, 2);
    h.join().unwrap();
}
