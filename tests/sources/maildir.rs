//! Maildir round trips: a Maildir++ tree whose file names use the `!2,` and
//! `;2,` info separators (systems where `:` is not allowed) and keyword
//! letters named by `dovecot-keywords`, with server-side metadata beside
//! cur/ that must be ignored; and an fs-layout tree (nested directories each
//! with cur/, one of them without new/ and tmp/).

use super::{
    Expectation, assert_holds, assert_mailboxes, expect, mail, put, scan_json, scanned, utc,
};
use crate::util::{Dovecot, MailhaulCommand};

#[test]
fn maildir_separators_keywords_and_fs_layout() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut want = Expectation::new();

    // Maildir++: root is INBOX, .Lists is Lists. Dates from the Date header
    // (no From_ line, no Received).
    let pp = dir.path().join("pp");
    put(&pp.join("dovecot-keywords"), "0 Work\n1 $Important\n");
    put(&pp.join("dovecot-uidlist"), "3 V1 N3\n");
    put(&pp.join("subscriptions"), "Lists\n");
    put(&pp.join("tmp/.keep"), "");
    let one = "From: Hank <hank@example.org>\nSubject: bang separator\nDate: Wed, 1 Apr 2020 10:00:00 +0200\n";
    put(
        &pp.join("cur/1585728000.M1P1.host!2,S"),
        format!("{one}\nBody one.\n"),
    );
    let two = "From: Ivy <ivy@example.org>\nSubject: semicolon separator\nDate: Thu, 2 Apr 2020 11:30:00 +0000\n";
    put(
        &pp.join("cur/1585826000.M2P1.host;2,FRa"),
        format!("{two}\nBody two.\n"),
    );
    let three = "From: Jo <jo@example.org>\nSubject: colon, keywords b and a\nDate: Mon, 4 May 2020 08:00:00 -0400\n";
    put(
        &pp.join(".Lists/cur/1588593600.M3P1.host:2,Sab"),
        format!("{three}\r\nBody three, CRLF.\r\n"),
    );
    put(&pp.join(".Lists/maildirfolder"), "");
    put(
        &pp.join(".Lists/dovecot-keywords"),
        "0 Work\n1 $Important\n",
    );
    expect(
        &mut want,
        "INBOX",
        vec![
            mail(one, "Body one.\n", &["\\Seen"], utc(2020, 4, 1, 8, 0, 0)),
            mail(
                two,
                "Body two.\n",
                &["\\Answered", "\\Flagged", "Work"],
                utc(2020, 4, 2, 11, 30, 0),
            ),
        ],
    );
    expect(
        &mut want,
        "Lists",
        vec![mail(
            three,
            "Body three, CRLF.\n",
            &["$Important", "\\Seen", "Work"],
            utc(2020, 5, 4, 12, 0, 0),
        )],
    );

    // fs layout: nested directories with cur/; the folder names are the
    // relative paths. Projects/Alpha has cur/ only. Mapped away from INBOX so
    // the two trees stay apart.
    let fs = dir.path().join("fs");
    let four =
        "From: Kim <kim@example.org>\nSubject: fs root\nDate: Tue, 5 May 2020 09:00:00 +0000\n";
    put(
        &fs.join("new/1588669200.M4P1.host"),
        format!("{four}\nRoot.\n"),
    );
    put(&fs.join("cur/.keep"), "");
    put(&fs.join("tmp/.keep"), "");
    let five =
        "From: Lee <lee@example.org>\nSubject: fs child\nDate: Tue, 5 May 2020 10:00:00 +0000\n";
    put(
        &fs.join("Projects/cur/1588672800.M5P1.host:2,T"),
        format!("{five}\nChild.\n"),
    );
    put(&fs.join("Projects/new/.keep"), "");
    let six = "From: Max <max@example.org>\nSubject: fs grandchild\nDate: Tue, 5 May 2020 11:00:00 +0000\n";
    put(
        &fs.join("Projects/Alpha/cur/1588676400.M6P1.host:2,D"),
        format!("{six}\nGrandchild.\n"),
    );
    expect(
        &mut want,
        "fs-root",
        vec![mail(four, "Root.\n", &[], utc(2020, 5, 5, 9, 0, 0))],
    );
    expect(
        &mut want,
        "Projects",
        vec![mail(
            five,
            "Child.\n",
            &["\\Deleted"],
            utc(2020, 5, 5, 10, 0, 0),
        )],
    );
    expect(
        &mut want,
        "Projects/Alpha",
        vec![mail(
            six,
            "Grandchild.\n",
            &["\\Draft"],
            utc(2020, 5, 5, 11, 0, 0),
        )],
    );

    let out = MailhaulCommand::upload(&dovecot, &[&pp]).assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for metadata in [
        "dovecot-keywords",
        "dovecot-uidlist",
        "subscriptions",
        "maildirfolder",
    ] {
        assert!(!stderr.contains(metadata), "{metadata} reported:\n{stderr}");
    }
    MailhaulCommand::upload(&dovecot, &[&fs])
        .args(["--map", "INBOX=fs-root"])
        .assert_success();
    assert_holds(&dovecot, &want);
    assert_mailboxes(
        &dovecot,
        &["Lists", "fs-root", "Projects", "Projects/Alpha"],
    );

    // scan --json: keywords counted by name, dates from the Date header.
    let scan = scan_json(&[&pp], &[]);
    let inbox = scanned(&scan, "INBOX");
    assert_eq!(
        inbox["flags"],
        serde_json::json!({"\\Answered": 1, "\\Flagged": 1, "\\Seen": 1, "Work": 1})
    );
    assert_eq!(inbox["date_sources"], serde_json::json!({"Date header": 2}));
    assert_eq!(
        scanned(&scan, "Lists")["flags"],
        serde_json::json!({"$Important": 1, "\\Seen": 1, "Work": 1})
    );
}
