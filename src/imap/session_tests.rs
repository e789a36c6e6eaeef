//! Scripted-peer tests for `Session`: a thread on 127.0.0.1 plays a
//! transcript, checking the exact bytes the client writes (shown escaped
//! on failure), for what no real server does on demand.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone};

use super::*;
use crate::imap::command;
use crate::imap::types::{AppendItem, Appended, LiteralMode};
use crate::message::Flag;
use crate::secret::Secret;

pub(super) enum Step {
    /// Server writes these bytes.
    Send(&'static [u8]),
    /// Server reads exactly these bytes from the client.
    Expect(Vec<u8>),
    /// Server reads until the client closes; nothing more may arrive.
    ExpectEof,
    /// Server closes the connection.
    Close,
}
pub(super) use Step::*;

pub(super) fn exp(b: &[u8]) -> Step {
    Expect(b.to_vec())
}

pub(super) fn peer(script: Vec<Step>) -> (u16, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for step in script {
            match step {
                Send(b) => s.write_all(b).unwrap(),
                Expect(want) => {
                    let mut got = vec![0; want.len()];
                    let mut n = 0;
                    while n < want.len() {
                        match s.read(&mut got[n..]) {
                            Ok(0) | Err(_) => break,
                            Ok(k) => n += k,
                        }
                    }
                    assert_eq!(
                        got[..n].escape_ascii().to_string(),
                        want.escape_ascii().to_string(),
                        "client wrote something else"
                    );
                }
                ExpectEof => {
                    let mut rest = Vec::new();
                    let _ = s.read_to_end(&mut rest);
                    assert_eq!(rest.escape_ascii().to_string(), "", "client wrote more");
                }
                Close => return,
            }
        }
    });
    (port, h)
}

pub(super) fn opts(port: u16) -> ConnectOptions {
    ConnectOptions {
        oauth2: false,
        trace: None,
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::StartTls,
        user: "user".into(),
        password: Secret::new("hunter2".into()),
        ca_file: None,
        insecure: false,
        allow_plaintext: true,
        timeout: Some(Duration::from_secs(5)),
        compress: false,
    }
}

pub(super) const GREETING_PLUS: &[u8] = b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n";
const MULTI_PLUS: &[u8] =
    b"A0002 APPEND INBOX (\\Seen) \"06-Jan-2020 09:15:00 +0000\" {5+}\r\nHello {3+}\r\nabc\r\n";
pub(super) const LOGIN: &[u8] = b"A0001 LOGIN user hunter2\r\n";

fn date() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2020, 1, 6, 9, 15, 0)
        .unwrap()
}

fn items<'a>(flags: &'a [Flag]) -> [AppendItem<'a>; 2] {
    [
        AppendItem {
            flags,
            date: Some(date()),
            bytes: b"Hello",
        },
        AppendItem {
            flags: &[],
            date: None,
            bytes: b"abc",
        },
    ]
}

#[test]
fn login_plain_and_logout() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] Logged in\r\n"),
        exp(b"A0002 LOGOUT\r\n"),
        Send(b"* BYE bye\r\nA0002 OK done\r\n"),
        ExpectEof,
    ]);
    let s = Session::connect(&opts(port)).unwrap();
    assert!(s.capabilities().has("multiappend"));
    assert_eq!(s.capabilities().literal_mode(), LiteralMode::Plus);
    assert!(!format!("{s:?}").contains("hunter2"));
    s.logout();
    h.join().unwrap();
}

#[test]
fn multiappend_literal_plus_one_command() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] ok\r\n"),
        exp(MULTI_PLUS),
        Send(b"* 3 EXISTS\r\n* 2 RECENT\r\n* OK still here\r\nA0002 OK [APPENDUID 42 7:8] Append completed\r\n"),
        ExpectEof,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let flags = [Flag::Seen];
    let r = s.append("inbox", &items(&flags)).unwrap();
    assert_eq!(
        r,
        Appended {
            uid_validity: Some(42),
            uids: vec![7, 8]
        }
    );
    assert_eq!(s.stats().append_commands, 1);
    assert_eq!(
        s.stats().bytes_sent,
        (LOGIN.len() + MULTI_PLUS.len()) as u64
    );
    drop(s);
    h.join().unwrap();
}

#[test]
fn multiappend_sync_literals() {
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 MULTIAPPEND] ok\r\n"),
        exp(b"A0002 APPEND Sent (\\Seen) \"06-Jan-2020 09:15:00 +0000\" {5}\r\n"),
        Send(b"+ go ahead\r\n"),
        exp(b"Hello {3}\r\n"),
        Send(b"* 1 EXISTS\r\n+ \r\n"),
        exp(b"abc\r\n"),
        Send(b"A0002 OK done\r\n"),
        // The second batch is refused before its first literal.
        exp(b"A0003 APPEND Sent (\\Seen) \"06-Jan-2020 09:15:00 +0000\" {5}\r\n"),
        Send(b"A0003 NO [TOOBIG] too big\r\n"),
        exp(b"A0004 NOOP\r\n"),
        Send(b"A0004 OK\r\n"),
        ExpectEof,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let flags = [Flag::Seen];
    assert_eq!(
        s.append("Sent", &items(&flags)).unwrap(),
        Appended::default()
    );
    match s.append("Sent", &items(&flags)) {
        Err(ImapError::No {
            code: Some(Code::TooBig),
            text,
        }) => assert_eq!(text, "too big"),
        other => panic!("{other:?}"),
    }
    s.noop().unwrap();
    assert_eq!(s.stats().append_commands, 2);
    drop(s);
    h.join().unwrap();
}

/// One APPEND per item to INBOX, all written before the first answer is
/// awaited, one result per item in order.
fn pipelined(s: &mut Session, items: &[AppendItem]) -> Vec<Result<Appended, ImapError>> {
    let tags: Vec<_> = items
        .iter()
        .map(|i| s.append_start("INBOX", std::slice::from_ref(i)))
        .collect();
    tags.into_iter()
        .map(|t| t.and_then(|tag| s.append_finish(&tag)))
        .collect()
}

#[test]
fn pipelined_appends_matched_by_tag() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] ok\r\n"),
        exp(b"A0002 APPEND INBOX {1+}\r\na\r\nA0003 APPEND INBOX {1+}\r\nb\r\nA0004 APPEND INBOX {1+}\r\nc\r\n"),
        Send(b"A0003 OK [APPENDUID 9 11] ok\r\n* 1 EXISTS\r\nA0002 NO [LIMIT] too large\r\nA0004 OK [APPENDUID 9 12] ok\r\n"),
        exp(b"A0005 APPEND INBOX {1+}\r\nd\r\nA0006 APPEND INBOX {1+}\r\ne\r\n"),
        Send(b"A0005 OK [APPENDUID 9 13] ok\r\n* BYE going down\r\n"),
        Close,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let it = |b: &'static [u8]| AppendItem {
        flags: &[],
        date: None,
        bytes: b,
    };
    let empty = it(b"");
    let r = pipelined(&mut s, &[it(b"a"), empty, it(b"b"), it(b"c")]);
    assert_eq!(r.len(), 4);
    assert!(
        matches!(
            r[0],
            Err(ImapError::No {
                code: Some(Code::Limit),
                ..
            })
        ),
        "{r:?}"
    );
    assert!(matches!(r[1], Err(ImapError::Unsendable(_))), "{r:?}");
    assert_eq!(r[2].as_ref().unwrap().uids, [11]);
    assert_eq!(r[3].as_ref().unwrap().uids, [12]);
    let r = pipelined(&mut s, &[it(b"d"), it(b"e")]);
    assert_eq!(r[0].as_ref().unwrap().uids, [13]);
    match &r[1] {
        Err(ImapError::ConnectionLost(why)) => assert!(why.contains("going down"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.noop(), Err(ImapError::ConnectionLost(_))));
    assert_eq!(s.stats().append_commands, 5);
    h.join().unwrap();
}

#[test]
fn a_soft_throttle_on_an_ok_or_untagged_is_surfaced_once() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] ok\r\n"),
        exp(b"A0002 APPEND INBOX {1+}\r\na\r\n"),
        // Gmail: stored, the answer says to slow down (no APPENDUID).
        Send(b"A0002 OK [THROTTLED] Slow down.\r\n"),
        exp(b"A0003 APPEND INBOX {1+}\r\nb\r\n"),
        Send(b"A0003 OK [APPENDUID 9 2] ok\r\n"),
        exp(b"A0004 NOOP\r\n"),
        Send(b"* NO [THROTTLED] Too fast.\r\nA0004 OK done\r\n"),
        exp(b"A0005 APPEND INBOX {1+}\r\nc\r\n"),
        // A tagged NO [THROTTLED] is a refusal, not a notice.
        Send(b"A0005 NO [THROTTLED] Refused.\r\n"),
        ExpectEof,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    let it = |b: &'static [u8]| AppendItem {
        flags: &[],
        date: None,
        bytes: b,
    };
    assert_eq!(s.take_throttle_notice(), None);
    assert_eq!(s.append("INBOX", &[it(b"a")]).unwrap(), Appended::default());
    assert_eq!(
        s.take_throttle_notice().as_deref(),
        Some("server said OK [THROTTLED] Slow down.")
    );
    assert_eq!(s.append("INBOX", &[it(b"b")]).unwrap().uids, [2]);
    assert_eq!(s.take_throttle_notice(), None, "taken once");
    s.noop().unwrap();
    assert_eq!(
        s.take_throttle_notice().as_deref(),
        Some("server said NO [THROTTLED] Too fast.")
    );
    let refused = s.append("INBOX", &[it(b"c")]).unwrap_err();
    assert!(refused.to_string().contains("THROTTLED"), "{refused}");
    assert_eq!(s.take_throttle_notice(), None);
    drop(s);
    h.join().unwrap();
}

#[test]
fn auth_failure_hides_password() {
    let ir = crate::imap::command::base64(b"\0user\0hunter2");
    let line = format!("A0001 AUTHENTICATE PLAIN {ir}\r\n");
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready\r\n"),
        Expect(line.into_bytes()),
        Send(b"A0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
        ExpectEof,
    ]);
    let o = opts(port);
    let e = Session::connect(&o).unwrap_err();
    let shown = format!("{e} {e:?} {o:?}");
    assert!(
        matches!(e, ImapError::Auth(ref t) if t == "Authentication failed."),
        "{e:?}"
    );
    assert!(
        !shown.contains("hunter2") && !shown.contains(&ir),
        "{shown}"
    );
    h.join().unwrap();
}

#[test]
fn authenticate_plain_with_continuation() {
    let ir = crate::imap::command::base64(b"\0user\0hunter2");
    let (port, h) = peer(vec![
        Send(b"* OK ready\r\n"),
        exp(b"A0001 CAPABILITY\r\n"),
        Send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0001 OK\r\n"),
        exp(b"A0002 AUTHENTICATE PLAIN\r\n"),
        Send(b"+ \r\n"),
        Expect(format!("{ir}\r\n").into_bytes()),
        Send(b"A0002 OK logged in\r\n"),
        exp(b"A0003 CAPABILITY\r\n"),
        Send(b"* CAPABILITY IMAP4rev1 MULTIAPPEND LITERAL-\r\nA0003 OK\r\n"),
        ExpectEof,
    ]);
    let s = Session::connect(&opts(port)).unwrap();
    assert!(s.capabilities().has("MULTIAPPEND"));
    assert_eq!(s.capabilities().literal_mode(), LiteralMode::Minus);
    drop(s);
    h.join().unwrap();
}

#[test]
fn refusals() {
    // No STARTTLS and no --allow-plaintext: nothing is sent.
    let (port, h) = peer(vec![Send(GREETING_PLUS), ExpectEof]);
    let o = ConnectOptions {
        allow_plaintext: false,
        ..opts(port)
    };
    assert!(matches!(
        Session::connect(&o),
        Err(ImapError::PlaintextRefused)
    ));
    h.join().unwrap();
    // LOGINDISABLED without AUTH=PLAIN.
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] x\r\n"),
        ExpectEof,
    ]);
    assert!(matches!(
        Session::connect(&opts(port)),
        Err(ImapError::Auth(_))
    ));
    h.join().unwrap();
    // A BYE greeting.
    let (port, h) = peer(vec![Send(b"* BYE too many connections\r\n"), ExpectEof]);
    assert!(matches!(
        Session::connect(&opts(port)),
        Err(ImapError::Bye { .. })
    ));
    h.join().unwrap();
}

#[test]
fn list_create_select_fetch() {
    let (port, h) = peer(vec![
        Send(GREETING_PLUS),
        exp(LOGIN),
        Send(b"A0001 OK [CAPABILITY IMAP4rev1 LITERAL+] ok\r\n"),
        exp(b"A0002 LIST \"\" \"\"\r\n"),
        Send(b"* LIST (\\Noselect) \".\" \"\"\r\nA0002 OK\r\n"),
        exp(b"A0003 CREATE Entw&APw-rfe\r\n"),
        Send(b"A0003 NO [ALREADYEXISTS] Mailbox exists\r\n"),
        exp(b"A0004 CREATE x\r\n"),
        Send(b"A0004 NO [TRYCREATE] nope\r\n"),
        exp(b"A0005 SELECT INBOX\r\n"),
        Send(b"* 2 EXISTS\r\n* OK [UIDVALIDITY 5] v\r\n* OK [UIDNEXT 9] n\r\n* OK [PERMANENTFLAGS (\\Seen \\Deleted $Forwarded)] p\r\nA0005 OK [READ-WRITE] ok\r\n"),
        exp(b"A0006 UID FETCH 7 (UID BODY.PEEK[])\r\n"),
        Send(b"* 1 FETCH (UID 7 BODY[] {3}\r\nabc)\r\nA0006 OK\r\n"),
        ExpectEof,
    ]);
    let mut s = Session::connect(&opts(port)).unwrap();
    assert_eq!(s.delimiter().unwrap(), Some('.'));
    s.create("Entwürfe").unwrap();
    assert!(matches!(
        s.create("x"),
        Err(ImapError::No {
            code: Some(Code::TryCreate),
            ..
        })
    ));
    let sel = s.select("Inbox").unwrap();
    assert_eq!(
        sel,
        Selected {
            exists: 2,
            uid_validity: Some(5),
            uid_next: Some(9),
            permanent_flags: Some(vec![
                "\\Seen".into(),
                "\\Deleted".into(),
                "$Forwarded".into()
            ]),
        }
    );
    let f = s.fetch_hashes(&[7]).unwrap();
    assert_eq!(f, [(7, Fingerprint::of(b"abc"))]);
    drop(s);
    h.join().unwrap();
}

#[test]
fn starttls_sent_when_advertised_and_handshake_failure_is_tls() {
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
        exp(b"A0001 STARTTLS\r\n"),
        Send(b"A0001 OK Begin TLS negotiation now\r\n"),
        Close,
    ]);
    let o = ConnectOptions {
        allow_plaintext: false,
        ..opts(port)
    };
    match Session::connect(&o) {
        Err(ImapError::Tls(_)) => {}
        other => panic!("{other:?}"),
    }
    h.join().unwrap();
}

pub(super) fn oauth_opts(port: u16) -> ConnectOptions {
    ConnectOptions {
        oauth2: true,
        user: "me@example.org".into(),
        password: Secret::new("ya29.token".into()),
        ..opts(port)
    }
}

#[test]
fn oauthbearer_with_sasl_ir_sends_the_exact_message() {
    // The port is part of the OAUTHBEARER message, so this peer is built by
    // hand around a listener whose port is known before the script.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let want = format!(
        "A0001 AUTHENTICATE OAUTHBEARER {}\r\n",
        command::base64(
            format!(
                "n,a=me@example.org,\x01host=127.0.0.1\x01port={port}\x01auth=Bearer ya29.token\x01\x01"
            )
            .as_bytes()
        )
    );
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER AUTH=XOAUTH2] hi\r\n")
            .unwrap();
        let mut got = vec![0; want.len()];
        s.read_exact(&mut got).unwrap();
        assert_eq!(
            got.escape_ascii().to_string(),
            want.as_bytes().escape_ascii().to_string()
        );
        s.write_all(b"A0001 OK [CAPABILITY IMAP4rev1 MULTIAPPEND] logged in\r\n")
            .unwrap();
    });
    let s = Session::connect(&oauth_opts(port)).unwrap();
    assert!(s.capabilities().has("MULTIAPPEND"));
    h.join().unwrap();
}

#[test]
fn xoauth2_refused_token_answers_the_error_challenge_and_hides_the_token() {
    let challenge = command::base64(br#"{"status":"401","schemes":"Bearer"}"#);
    let challenge_line: &'static [u8] =
        Box::leak(format!("+ {challenge}\r\n").into_bytes().into_boxed_slice());
    let (port, h) = peer(vec![
        Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\n"),
        exp(b"A0001 AUTHENTICATE XOAUTH2\r\n"),
        Send(b"+ \r\n"),
        Expect(
            format!(
                "{}\r\n",
                command::base64(b"user=me@example.org\x01auth=Bearer ya29.token\x01\x01")
            )
            .into_bytes(),
        ),
        Send(challenge_line),
        exp(b"\r\n"),
        Send(b"A0001 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
    ]);
    let Err(err) = Session::connect(&oauth_opts(port)) else {
        panic!("the server refused, the client accepted")
    };
    h.join().unwrap();
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, ImapError::Auth(_)), "{shown}");
    assert!(shown.contains("status 401"), "{shown}");
    assert!(!shown.contains("ya29"), "token leaked: {shown}");
}

#[test]
fn oauth2_without_a_mechanism_is_an_auth_error() {
    let (port, h) = peer(vec![Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n")]);
    let Err(err) = Session::connect(&oauth_opts(port)) else {
        panic!("the server refused, the client accepted")
    };
    h.join().unwrap();
    assert!(
        matches!(&err, ImapError::Auth(t) if t.contains("OAUTHBEARER")),
        "{err}"
    );
}
