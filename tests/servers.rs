//! The same end-to-end checks against the three real servers, each started
//! privately on 127.0.0.1: Dovecot (MULTIAPPEND, no namespace prefix), Cyrus
//! (MULTIAPPEND, `INBOX.` namespace, space-padded INTERNALDATE day, adds
//! LOGINDISABLED after login) and Courier (no MULTIAPPEND and no LITERAL+:
//! the serial path with synchronizing literals, for real; `INBOX.`
//! namespace). One round trip per server (an mbox and a Maildir++ tree with
//! a `Sent` folder: bytes, flags, internal dates, every folder in its
//! mailbox, the mode in the summary) and one `mailhaul check` over STARTTLS.

use std::path::Path;

use crate::upload::{Expectation, Expected, assert_server_holds, crlf, fixture, flags, utc};
use crate::util::{Courier, Cyrus, MailhaulCommand, ServerKind, parse_internal_date};

/// What each server is expected to be like.
struct Traits {
    mode: &'static str,
    namespace_prefix: &'static str,
    multiappend: bool,
}

fn traits(kind: ServerKind) -> Traits {
    match kind {
        ServerKind::Dovecot => Traits {
            mode: "MULTIAPPEND with LITERAL+",
            namespace_prefix: "",
            multiappend: true,
        },
        ServerKind::Cyrus => Traits {
            mode: "MULTIAPPEND with LITERAL+",
            namespace_prefix: "INBOX.",
            multiappend: true,
        },
        ServerKind::Courier => Traits {
            mode: "serial APPEND with synchronizing literals",
            namespace_prefix: "INBOX.",
            multiappend: false,
        },
    }
}

/// Adds a `.Sent` folder to the Maildir++ tree written by [`fixture`]: on a
/// server with an `INBOX.` personal namespace it must land in `INBOX.Sent`.
fn add_sent_folder(maildir: &Path, want: &mut Expectation) {
    let sent = maildir.join(".Sent");
    for s in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(sent.join(s)).unwrap();
    }
    let content = "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: sent by me\nDate: Thu, 2 Jan 2020 08:05:00 +0000\nMessage-ID: <s1@example.org>\n\nSent mail has no Received header.\n";
    std::fs::write(sent.join("cur/1577952300.M5P1.host:2,S"), content).unwrap();
    want.entry("Sent".into()).or_default().push(Expected {
        body: crlf(content),
        flags: flags(&["\\Seen"]),
        date: utc(2020, 1, 2, 8, 5, 0),
    });
}

fn round_trip(kind: ServerKind) {
    let server = kind.start().unwrap();
    let t = traits(kind);
    let dir = tempfile::tempdir().unwrap();
    let (sources, mut expected) = fixture(dir.path());
    add_sent_folder(&sources[1], &mut expected);
    let total: usize = expected.values().map(Vec::len).sum();
    let out = MailhaulCommand::upload(&*server, &sources)
        .args(["--batch-size", "2"])
        .assert_success();
    assert_server_holds(&*server, &expected);

    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("mode: {}", t.mode)),
        "{kind:?}: {summary}"
    );
    assert!(
        summary.contains(&format!("{total} of {total} messages uploaded")),
        "{kind:?}: {summary}"
    );
    let mut reader = server.reader().unwrap();
    assert_eq!(reader.namespace_prefix(), t.namespace_prefix, "{kind:?}");
    let mut want: Vec<String> = expected.keys().cloned().collect();
    want.push("Archive".into()); // holds a message and is the parent of Archive/2019
    want.sort();
    want.dedup();
    assert_eq!(reader.list_mailboxes().unwrap(), want, "{kind:?}");
}

#[test]
fn round_trip_dovecot() {
    round_trip(ServerKind::Dovecot);
}

#[test]
fn round_trip_cyrus() {
    round_trip(ServerKind::Cyrus);
}

#[test]
fn round_trip_courier() {
    round_trip(ServerKind::Courier);
}

/// `mailhaul check` over STARTTLS (imap://): capabilities and mode.
fn check(kind: ServerKind) {
    let server = kind.start().unwrap();
    let t = traits(kind);
    let out = MailhaulCommand::new()
        .arg("check")
        .arg("--server")
        .arg(server.imap_url())
        .arg("--ca-file")
        .arg(server.ca_file())
        .env("MAILHAUL_PASSWORD", server.password())
        .attach(&*server)
        .assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let caps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("capabilities: "))
        .unwrap_or_else(|| panic!("{kind:?}: no capabilities line\n{stdout}"));
    let caps: Vec<&str> = caps.split_whitespace().collect();
    assert!(caps.contains(&"IMAP4REV1"), "{kind:?}: {stdout}");
    assert!(caps.contains(&"UIDPLUS"), "{kind:?}: {stdout}");
    assert_eq!(
        caps.contains(&"MULTIAPPEND"),
        t.multiappend,
        "{kind:?}: {stdout}"
    );
    assert!(
        stdout.contains(&format!("upload mode: {}\n", t.mode)),
        "{kind:?}: {stdout}"
    );
    assert!(
        stdout.contains("hierarchy delimiter: '.'") || kind == ServerKind::Dovecot,
        "{kind:?}: {stdout}"
    );
    assert!(
        stdout.contains(&format!("personal namespace: {:?}\n", t.namespace_prefix)),
        "{kind:?}: {stdout}"
    );
    assert!(
        stdout.contains("special-use mailboxes: "),
        "{kind:?}: {stdout}"
    );
    if kind == ServerKind::Cyrus {
        // Cyrus adds LOGINDISABLED once logged in; the capabilities shown
        // are the ones re-read after login.
        assert!(caps.contains(&"LOGINDISABLED"), "{stdout}");
        assert!(stdout.contains("APPENDLIMIT: 4294967295 bytes"), "{stdout}");
    }
}

#[test]
fn check_dovecot() {
    check(ServerKind::Dovecot);
}

#[test]
fn check_cyrus() {
    check(ServerKind::Cyrus);
}

#[test]
fn check_courier() {
    check(ServerKind::Courier);
}

#[test]
fn cyrus_internal_date_day_is_space_padded_and_parsed() {
    let cyrus = Cyrus::start().unwrap();
    let mut r = cyrus.reader().unwrap();
    let msg = b"From: a@example.org\r\nSubject: padded\r\n\r\nx\r\n";
    let resp = r
        .append("INBOX", &[], Some("01-Feb-2020 10:00:00 +0100"), msg)
        .unwrap();
    assert!(resp.is_ok(), "{}", resp.line());
    let got = r.fetch_all("INBOX").unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].internal_date.starts_with(" 1-Feb-2020"), "{got:?}");
    assert_eq!(
        parse_internal_date(&got[0].internal_date).unwrap(),
        parse_internal_date("01-Feb-2020 10:00:00 +0100").unwrap()
    );
}

#[test]
fn guards_stop_every_process_on_drop() {
    let cyrus = Cyrus::start().unwrap();
    let courier = Courier::start().unwrap();
    let groups = [cyrus.sid(), courier.sid()];
    // Sessions running at drop time must go too.
    let _r1 = cyrus.reader().unwrap();
    let _r2 = courier.reader().unwrap();
    for g in groups {
        assert!(!crate::util::sys::session_pids(g).is_empty());
    }
    drop(cyrus);
    drop(courier);
    for g in groups {
        assert_eq!(crate::util::sys::session_pids(g), Vec::<u32>::new());
    }
}

/// The Cyrus harness keeps two users' mailboxes apart when they are made
/// by two imapd processes freshly forked at once (two sessions open side
/// by side): Debian's Cyrus 3.6 gives both the same unique id, which
/// stored by id (its default) is one directory, so the second INBOX's
/// autocreation empties the first (`tests/util/cyrus.rs`). Each user then
/// reads back only its own message.
#[test]
fn cyrus_mailboxes_of_two_fresh_processes_are_apart() {
    use crate::util::imap_reader::ImapReader;
    let cyrus = Cyrus::start().unwrap_or_else(|e| panic!("starting Cyrus: {e:#}"));
    let date = Some("01-Feb-2020 10:00:00 +0000");
    let users = ["fresh-a", "fresh-b"];
    for u in users {
        cyrus.add_user(u, "pw").unwrap();
    }
    // Both sessions open at once: the second needs a process of its own.
    let mut sessions: Vec<ImapReader> = users
        .iter()
        .map(|u| ImapReader::login(cyrus.plain_port(), u, "pw").unwrap())
        .collect();
    for (r, u) in sessions.iter_mut().zip(users) {
        let msg = format!("Message-ID: <{u}@x>\r\n\r\nfor {u}\r\n");
        r.append("INBOX", &[], date, msg.as_bytes()).unwrap();
    }
    for r in sessions {
        r.logout().unwrap();
    }
    for u in users {
        let mut r = ImapReader::login(cyrus.plain_port(), u, "pw").unwrap();
        let bodies: Vec<String> = r
            .fetch_all("INBOX")
            .unwrap()
            .iter()
            .map(|f| String::from_utf8_lossy(&f.body).into_owned())
            .collect();
        assert_eq!(
            bodies,
            [format!("Message-ID: <{u}@x>\r\n\r\nfor {u}\r\n")],
            "{u}'s INBOX\n{}",
            cyrus.log()
        );
    }
}
