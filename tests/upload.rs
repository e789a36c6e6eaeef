//! End-to-end uploads into a real private Dovecot, read back over IMAP with
//! the independent reader: bytes, flags, internal dates and mailboxes; the
//! MULTIAPPEND and serial paths; refusals; TLS and authentication failures.
//!
//! Fixtures are written by the tests from a small message table, so each
//! expectation (the CRLF bytes without client-state headers, the flags, the
//! date) is derived here independently of mailhaul's readers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::util::{Dovecot, DovecotOptions, ImapServer, MailhaulCommand, parse_internal_date};

/// What the server must hold for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expected {
    pub body: Vec<u8>,
    pub flags: Vec<String>,
    pub date: DateTime<FixedOffset>,
}

/// Mailbox (reader's `/` form) → messages in upload order.
pub(crate) type Expectation = BTreeMap<String, Vec<Expected>>;

pub(crate) fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<FixedOffset> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .fixed_offset()
}

pub(crate) fn flags(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// An mbox message: its From_ line date (asctime, UTC), the headers without
/// client-state headers, the client-state headers, and the body as stored
/// after unquoting.
struct MboxMessage {
    asctime: &'static str,
    date: DateTime<FixedOffset>,
    headers: &'static str,
    status: &'static str,
    body: &'static str,
    flags: &'static [&'static str],
}

fn mbox_messages() -> Vec<MboxMessage> {
    vec![
        MboxMessage {
            asctime: "Mon Jan  6 09:15:00 2020",
            date: utc(2020, 1, 6, 9, 15, 0),
            headers: "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: first\nDate: Mon, 6 Jan 2020 10:15:00 +0100\nMessage-ID: <m1@example.org>\n",
            status: "Status: RO\nX-Status: A\n",
            body: "Hello Bob.\n\nFrom here on, a line that mbox had to quote.\n>From a line quoted once already.\n",
            flags: &["\\Seen", "\\Answered"],
        },
        MboxMessage {
            asctime: "Tue Feb 11 23:59:01 2020",
            date: utc(2020, 2, 11, 23, 59, 1),
            headers: "From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: second\nMessage-ID: <m2@example.org>\n",
            status: "Status: O\nX-Status: F\n",
            body: "Unread but flagged.\n",
            flags: &["\\Flagged"],
        },
        MboxMessage {
            asctime: "Sat Dec 31 12:00:00 2011",
            date: utc(2011, 12, 31, 12, 0, 0),
            headers: "From: Carol <carol@example.org>\nTo: alice@example.org\nSubject: third, with a long folded\n header line\nMessage-ID: <m3@example.org>\n",
            status: "",
            body: "No status headers at all.\n",
            flags: &[],
        },
    ]
}

/// Writes `name.mbox` into `dir`; returns its path and what must land.
fn write_mbox(dir: &Path, name: &str) -> (PathBuf, Vec<Expected>) {
    let mut text = String::new();
    let mut expected = Vec::new();
    for m in mbox_messages() {
        text.push_str(&format!("From alice@example.org {}\n", m.asctime));
        text.push_str(m.headers);
        text.push_str(m.status);
        text.push('\n');
        for line in m.body.split_inclusive('\n') {
            // mboxrd quoting: one more '>' before any (>*)From_ line.
            let unquoted = line.trim_start_matches('>');
            if unquoted.starts_with("From ") {
                text.push('>');
            }
            text.push_str(line);
        }
        text.push('\n');
        expected.push(Expected {
            body: crlf(&format!("{}\n{}", m.headers, m.body)),
            flags: flags(m.flags),
            date: m.date,
        });
    }
    let path = dir.join(format!("{name}.mbox"));
    std::fs::write(&path, text).unwrap();
    (path, expected)
}

/// (folder, cur or new, file name, content, flags, internal date)
type MaildirFile = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    DateTime<FixedOffset>,
);

/// Writes a Maildir++ tree (INBOX, Archive, Archive/2019) into `dir/Maildir`.
fn write_maildir(dir: &Path) -> (PathBuf, Expectation) {
    let root = dir.join("Maildir");
    let mut expected = Expectation::new();
    let files: [MaildirFile; 4] = [
        (
            "",
            "cur",
            "1577872800.M1P1.host:2,S",
            "Received: from mx.example.org by mail.example.org; Tue, 7 Jan 2020 10:00:00 +0100\nReceived: from a by b; Tue, 7 Jan 2020 09:59:00 +0100\nFrom: Dave <dave@example.org>\nSubject: seen in inbox\nDate: Tue, 7 Jan 2020 09:58:00 +0100\n\nBody one.\n",
            &["\\Seen"],
            utc(2020, 1, 7, 9, 0, 0),
        ),
        (
            "",
            "new",
            "1577880000.M2P1.host",
            "From: Erin <erin@example.org>\nSubject: new, no date headers\n\nBody two, dated by its file name.\n",
            &[],
            utc(2020, 1, 1, 12, 0, 0),
        ),
        (
            ".Archive",
            "cur",
            "1577880001.M3P1.host:2,RS",
            "From: Frank <frank@example.org>\nSubject: archived\nDate: Wed, 8 Jan 2020 08:00:00 -0500\n\nBody three.\n",
            &["\\Answered", "\\Seen"],
            utc(2020, 1, 8, 13, 0, 0),
        ),
        (
            ".Archive.2019",
            "cur",
            "1577880002.M4P1.host:2,FP",
            "From: Grace <grace@example.org>\nSubject: older\nDate: Sun, 1 Dec 2019 07:30:00 +0000\n\nBody four.\r\nWith CRLF already.\r\n",
            &["\\Flagged", "$Forwarded"],
            utc(2019, 12, 1, 7, 30, 0),
        ),
    ];
    for (folder, sub, file, content, f, date) in files {
        let d = root.join(folder);
        for s in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(d.join(s)).unwrap();
        }
        std::fs::write(d.join(sub).join(file), content).unwrap();
        let mailbox = match folder {
            "" => "INBOX".to_string(),
            f => f.trim_start_matches('.').replace('.', "/"),
        };
        expected.entry(mailbox).or_default().push(Expected {
            body: crlf(content),
            flags: flags(f),
            date,
        });
    }
    (root, expected)
}

/// Reads every mailbox back and compares with `want` (on any server: the
/// reader's names are relative to the personal namespace).
pub(crate) fn assert_server_holds(server: &dyn ImapServer, want: &Expectation) {
    let mut reader = server.reader().unwrap();
    let mailboxes = reader.list_mailboxes().unwrap();
    for (mailbox, expected) in want {
        assert!(
            mailboxes.contains(mailbox),
            "mailbox {mailbox} missing; server has {mailboxes:?}"
        );
        let got: Vec<Expected> = reader
            .fetch_all(mailbox)
            .unwrap()
            .into_iter()
            .map(|f| Expected {
                body: f.body,
                flags: {
                    let mut v = f.flags;
                    v.sort();
                    v
                },
                date: parse_internal_date(&f.internal_date).unwrap(),
            })
            .collect();
        assert_eq!(got.len(), expected.len(), "message count in {mailbox}");
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                g.body == e.body,
                "{mailbox} message {}: body differs\n--- got ---\n{}\n--- want ---\n{}",
                i + 1,
                String::from_utf8_lossy(&g.body),
                String::from_utf8_lossy(&e.body)
            );
            assert_eq!(g.flags, e.flags, "{mailbox} message {}: flags", i + 1);
            assert_eq!(g.date, e.date, "{mailbox} message {}: internal date", i + 1);
        }
    }
}

/// The fixture: an mbox named `letters` plus a Maildir++ tree.
pub(crate) fn fixture(dir: &Path) -> (Vec<PathBuf>, Expectation) {
    let (mbox, mbox_expected) = write_mbox(dir, "letters");
    let (maildir, mut expected) = write_maildir(dir);
    expected.insert("letters".into(), mbox_expected);
    (vec![mbox, maildir], expected)
}

pub(crate) fn batches(expected: &Expectation, size: usize) -> usize {
    expected.values().map(|v| v.len().div_ceil(size)).sum()
}

#[test]
fn multiappend_uploads_mbox_and_maildir_tree_exactly() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sources, expected) = fixture(dir.path());
    let out = MailhaulCommand::upload(&dovecot, &sources)
        .args(["--batch-size", "2"])
        .assert_success();
    assert_server_holds(&dovecot, &expected);
    // One APPEND per batch of at most two messages, per mailbox.
    assert_eq!(dovecot.count_commands("APPEND"), batches(&expected, 2));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("MULTIAPPEND"), "{summary}");
    assert!(summary.contains("7 of 7 messages uploaded"), "{summary}");
}

#[test]
fn serial_fallback_without_multiappend_gives_the_same_mailboxes() {
    let dovecot = Dovecot::start_with(DovecotOptions {
        hide_multiappend: true,
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sources, expected) = fixture(dir.path());
    let out = MailhaulCommand::upload(&dovecot, &sources)
        .args(["--batch-size", "2"])
        .assert_success();
    assert_server_holds(&dovecot, &expected);
    let total: usize = expected.values().map(Vec::len).sum();
    assert_eq!(dovecot.count_commands("APPEND"), total);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("serial APPEND"), "{summary}");
}

#[test]
fn no_multiappend_flag_forces_serial_appends() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sources, expected) = fixture(dir.path());
    MailhaulCommand::upload(&dovecot, &sources)
        .arg("--no-multiappend")
        .assert_success();
    assert_server_holds(&dovecot, &expected);
    let total: usize = expected.values().map(Vec::len).sum();
    assert_eq!(dovecot.count_commands("APPEND"), total);
}

#[test]
fn a_refused_message_is_isolated_and_the_rest_lands() {
    let dovecot = Dovecot::start_with(DovecotOptions {
        max_mail_size: Some(4000),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 1..=5 {
        text.push_str(&format!(
            "From x@example.org Mon Jan  6 09:1{i}:00 2020\nSubject: m{i}\nMessage-ID: <r{i}@example.org>\n\n"
        ));
        if i == 3 {
            text.push_str(&"a big line of text that goes over the limit\n".repeat(200));
        } else {
            text.push_str("small\n");
        }
        text.push('\n');
    }
    let mbox = dir.path().join("mixed.mbox");
    std::fs::write(&mbox, text).unwrap();
    let out = MailhaulCommand::upload(&dovecot, &[&mbox]).assert_exit_code(1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mixed.mbox message 3"), "{stderr}");
    assert!(stderr.contains("LIMIT"), "{stderr}");
    let mut reader = dovecot.reader().unwrap();
    let subjects: Vec<String> = reader
        .fetch_all("mixed")
        .unwrap()
        .iter()
        .map(|f| {
            let body = String::from_utf8_lossy(&f.body);
            body.lines().next().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(
        subjects,
        ["Subject: m1", "Subject: m2", "Subject: m4", "Subject: m5"]
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("4 of 5 messages uploaded"), "{summary}");
}

#[test]
fn an_empty_message_is_reported_not_sent() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("gaps.mbox");
    std::fs::write(
        &mbox,
        "From a@b Mon Jan  6 09:15:00 2020\n\nFrom a@b Mon Jan  6 09:16:00 2020\nSubject: real\n\nbody\n",
    )
    .unwrap();
    let out = MailhaulCommand::upload(&dovecot, &[&mbox]).assert_exit_code(1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gaps.mbox message 1"), "{stderr}");
    assert!(stderr.contains("empty"), "{stderr}");
    let mut reader = dovecot.reader().unwrap();
    assert_eq!(reader.fetch_all("gaps").unwrap().len(), 1);
}

#[test]
fn wrong_password_exits_3_without_showing_it() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mbox, _) = write_mbox(dir.path(), "letters");
    let secret = "not-the-password-7f3a9";
    let out = MailhaulCommand::upload(&dovecot, &[&mbox])
        .env("MAILHAUL_PASSWORD", secret)
        .assert_exit_code(3);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("authentication failed"), "{all}");
    assert!(!all.contains(secret), "the password leaked: {all}");
    assert!(
        !all.contains(dovecot.password()),
        "a password leaked: {all}"
    );
}

/// `--json` prints one document even when the run fails at the login:
/// upload's and verify's, with the conventions and the error.
#[test]
fn a_refused_login_with_json_prints_one_document() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mbox, _) = write_mbox(dir.path(), "letters");
    for (command, kind) in [("upload", "upload"), ("verify", "verify")] {
        let mut c = MailhaulCommand::new();
        c.arg(command)
            .arg(&mbox)
            .server(&dovecot)
            .env("MAILHAUL_PASSWORD", "not-the-password")
            .arg("--json");
        let out = c.assert_exit_code(3);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{command}: {e}: {}", c.explain(&out)));
        assert_eq!(doc["kind"], kind, "{doc}");
        assert_eq!(doc["exit_code"], 3, "{doc}");
        assert_eq!(doc["schema"], 1, "{doc}");
        let error = doc["error"].as_str().unwrap();
        assert!(error.contains("authentication failed"), "{error}");
        assert_eq!(doc.as_object().unwrap().len(), 4, "nothing made up: {doc}");
    }
}

#[test]
fn password_file_and_command_are_read() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mbox, expected) = write_mbox(dir.path(), "letters");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", dovecot.password())).unwrap();
    MailhaulCommand::upload(&dovecot, &[&mbox])
        .env("MAILHAUL_PASSWORD", "wrong")
        .arg("--password-file")
        .arg(&pw)
        .assert_success();
    MailhaulCommand::upload(&dovecot, &[&mbox])
        .env("MAILHAUL_PASSWORD", "wrong")
        .arg("--password-command")
        .arg(format!("cat '{}'", pw.display()))
        .args(["--mailbox", "again"])
        .assert_success();
    let mut want = Expectation::new();
    want.insert("letters".into(), expected.clone());
    want.insert("again".into(), expected);
    assert_server_holds(&dovecot, &want);
}

#[test]
fn an_untrusted_certificate_is_refused_unless_trusted_or_insecure() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mbox, _) = write_mbox(dir.path(), "letters");
    let base = |c: &mut MailhaulCommand| {
        c.arg("upload")
            .arg(&mbox)
            .arg("--server")
            .arg(dovecot.imaps_url())
            .env("MAILHAUL_PASSWORD", dovecot.password())
            .attach(&dovecot);
    };
    let mut c = MailhaulCommand::new();
    base(&mut c);
    let out = c.assert_exit_code(3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");

    let mut c = MailhaulCommand::new();
    base(&mut c);
    let out = c.arg("--insecure").assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--insecure"), "{stderr}");
    assert_eq!(
        dovecot
            .reader()
            .unwrap()
            .fetch_all("letters")
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn starttls_upload_over_the_plain_port() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mbox, expected) = write_mbox(dir.path(), "letters");
    MailhaulCommand::new()
        .arg("upload")
        .arg(&mbox)
        .arg("--server")
        .arg(dovecot.imap_url())
        .arg("--ca-file")
        .arg(dovecot.ca_file())
        .env("MAILHAUL_PASSWORD", dovecot.password())
        .attach(&dovecot)
        .assert_success();
    let mut want = Expectation::new();
    want.insert("letters".into(), expected);
    assert_server_holds(&dovecot, &want);
}

#[test]
fn check_prints_capabilities_and_mode() {
    let dovecot = Dovecot::start().unwrap();
    let out = MailhaulCommand::new()
        .arg("check")
        .server(&dovecot)
        .assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("MULTIAPPEND"), "{stdout}");
    assert!(
        stdout.contains("upload mode: MULTIAPPEND with LITERAL+"),
        "{stdout}"
    );
}

#[test]
fn scan_needs_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let (sources, _) = fixture(dir.path());
    let out = MailhaulCommand::new()
        .arg("scan")
        .args(&sources)
        .assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("letters: 3 messages"), "{stdout}");
    assert!(stdout.contains("INBOX: 2 messages"), "{stdout}");
    assert!(stdout.contains("Archive/2019: 1 message"), "{stdout}");
    assert!(stdout.contains("\\Seen 1"), "{stdout}");
    assert!(stdout.contains("total: 7 messages"), "{stdout}");
}

#[test]
fn json_report_and_json_progress_events() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sources, expected) = fixture(dir.path());
    let empty = dir.path().join("empty-one.mbox");
    std::fs::write(
        &empty,
        "From a@b Mon Jan  6 09:15:00 2020\n\nFrom a@b Mon Jan  6 09:16:00 2020\nSubject: x\n\nbody\n",
    )
    .unwrap();
    let out = MailhaulCommand::upload(&dovecot, &sources)
        .arg(&empty)
        .args(["--json", "--json-progress"])
        .assert_exit_code(1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["kind"], "upload");
    assert_eq!(doc["exit_code"], 1);
    let total: usize = expected.values().map(Vec::len).sum();
    assert_eq!(doc["totals"]["uploaded"], total + 1);
    assert_eq!(doc["totals"]["failed"], 1);
    let failure = &doc["failures"][0];
    assert_eq!(failure["class"], "not-sent");
    assert!(
        failure["origin"]
            .as_str()
            .unwrap()
            .contains("empty-one.mbox message 1"),
        "{failure}"
    );
    let names: Vec<&str> = doc["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"letters") && names.contains(&"INBOX"),
        "{names:?}"
    );

    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l}"))
        })
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "progress" && e["mailbox"] == "letters"),
        "{events:?}"
    );
    assert_eq!(events.last().unwrap()["event"], "done", "{events:?}");
}
