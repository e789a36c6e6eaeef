//! Round trips from what mail clients leave behind: a folder of `.eml` files
//! and a single `.eml` file; a Thunderbird profile (`X.sbd/` subfolders,
//! `.msf` indexes, `X-Mozilla-Status` flags, expunged messages skipped and
//! counted, or uploaded with `\Deleted` on `--include-deleted`); a Gmail
//! Takeout mbox (labels to mailboxes, Unread/Starred to flags, chats skipped).

use super::{
    Expectation, assert_holds, assert_mailboxes, expect, json, mail, put, scan_json, scanned,
    tally, utc,
};
use crate::util::{Dovecot, MailhaulCommand};

#[test]
fn eml_folder_and_single_eml_file() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut want = Expectation::new();

    // A folder of .eml files is a mailbox named after the folder. The second
    // was saved by Thunderbird: a leading From_ line (removed, its date is
    // the delivery date) and X-Mozilla-Status (read into flags, removed).
    let saved = dir.path().join("Saved");
    let a = "From: Nia <nia@example.org>\nSubject: eml a\nDate: Wed, 4 Mar 2020 07:00:00 +0100\n";
    put(&saved.join("a.eml"), format!("{a}\nFirst file.\n"));
    let b = "From: Oz <oz@example.org>\nSubject: eml b\nDate: Tue, 3 Mar 2020 09:58:00 +0000\n";
    put(
        &saved.join("b.eml"),
        format!(
            "From - Tue Mar  3 10:00:00 2020\r\n{}X-Mozilla-Status: 0005\r\nX-Mozilla-Status2: 00000000\r\n\r\nSecond file.\r\n",
            b.replace('\n', "\r\n")
        ),
    );
    expect(
        &mut want,
        "Saved",
        vec![
            mail(a, "First file.\n", &[], utc(2020, 3, 4, 6, 0, 0)),
            mail(
                b,
                "Second file.\n",
                &["\\Flagged", "\\Seen"],
                utc(2020, 3, 3, 10, 0, 0),
            ),
        ],
    );
    // A single .eml file given on the command line goes to INBOX.
    let single = dir.path().join("note.eml");
    let c =
        "From: Pat <pat@example.org>\nSubject: single file\nDate: Thu, 5 Mar 2020 12:00:00 +0000\n";
    put(&single, format!("{c}\nAlone.\n"));
    expect(
        &mut want,
        "INBOX",
        vec![mail(c, "Alone.\n", &[], utc(2020, 3, 5, 12, 0, 0))],
    );

    MailhaulCommand::upload(&dovecot, &[&saved, &single]).assert_success();
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Saved"]);
}

/// A Thunderbird "Local Folders" directory: `Inbox` (with one expunged
/// message), `Projects` and `Projects.sbd/Alpha`, each with a `.msf` index.
/// Returns the profile directory and what lands without --include-deleted.
fn thunderbird_profile(root: &std::path::Path) -> (std::path::PathBuf, Expectation) {
    let profile = root.join("Local Folders");
    let mut want = Expectation::new();
    let h1 =
        "From: Quinn <quinn@example.org>\nSubject: tb seen\nDate: Mon, 6 Jan 2020 09:00:00 +0000\n";
    let h2 =
        "From: Rae <rae@example.org>\nSubject: tb expunged\nDate: Tue, 7 Jan 2020 09:00:00 +0000\n";
    let h3 = "From: Sam <sam@example.org>\nSubject: tb forwarded\nDate: Wed, 8 Jan 2020 09:00:00 +0000\n";
    let h4 = "From: Tess <tess@example.org>\nSubject: tb replied\nDate: Thu, 9 Jan 2020 09:00:00 +0000\n";
    put(
        &profile.join("Inbox"),
        format!(
            "From - Mon Jan  6 10:00:00 2020\nX-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\nX-Mozilla-Keys: $label1\n{h1}\nSeen.\n\n\
             From - Tue Jan  7 10:00:00 2020\nX-Mozilla-Status: 0009\nX-Mozilla-Status2: 00000000\n{h2}\nExpunged.\n"
        ),
    );
    put(
        &profile.join("Inbox.msf"),
        "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n",
    );
    put(
        &profile.join("Projects"),
        format!("From - Wed Jan  8 10:00:00 2020\nX-Mozilla-Status: 1005\n{h3}\nForwarded.\n"),
    );
    put(&profile.join("Projects.msf"), "// mork\n");
    put(
        &profile.join("Projects.sbd/Alpha"),
        format!("From - Thu Jan  9 10:00:00 2020\nX-Mozilla-Status: 0003\n{h4}\nReplied.\n"),
    );
    put(&profile.join("Projects.sbd/Alpha.msf"), "// mork\n");
    expect(
        &mut want,
        "INBOX",
        vec![mail(
            h1,
            "Seen.\n",
            &["$label1", "\\Seen"],
            utc(2020, 1, 6, 10, 0, 0),
        )],
    );
    expect(
        &mut want,
        "Projects",
        vec![mail(
            h3,
            "Forwarded.\n",
            &["$Forwarded", "\\Flagged", "\\Seen"],
            utc(2020, 1, 8, 10, 0, 0),
        )],
    );
    expect(
        &mut want,
        "Projects/Alpha",
        vec![mail(
            h4,
            "Replied.\n",
            &["\\Answered", "\\Seen"],
            utc(2020, 1, 9, 10, 0, 0),
        )],
    );
    // The expunged message, for --include-deleted.
    expect(
        &mut want,
        "expunged-too",
        vec![
            mail(
                h1,
                "Seen.\n",
                &["$label1", "\\Seen"],
                utc(2020, 1, 6, 10, 0, 0),
            ),
            mail(
                h2,
                "Expunged.\n",
                &["\\Deleted", "\\Seen"],
                utc(2020, 1, 7, 10, 0, 0),
            ),
        ],
    );
    (profile, want)
}

#[test]
fn thunderbird_profile_round_trip() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (profile, mut want) = thunderbird_profile(dir.path());
    let with_deleted = want.remove("expunged-too").unwrap();

    let out = MailhaulCommand::upload(&dovecot, &[&profile])
        .arg("--json")
        .assert_success();
    let report = json(&out);
    assert_eq!(report["totals"]["uploaded"], 3, "{report:#}");
    assert_eq!(report["totals"]["skipped"], 1, "{report:#}");
    assert_eq!(tally(&report, "INBOX")["skipped"], 1, "{report:#}");
    let skips = report["skips"].as_array().unwrap();
    assert_eq!(skips.len(), 1, "{report:#}");
    assert!(
        skips[0]["reason"]
            .as_str()
            .unwrap()
            .contains("deleted in source"),
        "{report:#}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(".msf"),
        "an .msf index was reported"
    );
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Projects", "Projects/Alpha"]);

    // The human summary says it too.
    let out = MailhaulCommand::new()
        .arg("scan")
        .arg(&profile)
        .assert_success();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INBOX: 1 message"), "{text}");
    assert!(text.contains("1 skipped"), "{text}");

    // --include-deleted uploads the expunged message with \Deleted.
    MailhaulCommand::upload(&dovecot, &[profile.join("Inbox")])
        .args(["--include-deleted", "--mailbox", "expunged-too"])
        .assert_success();
    want.insert("expunged-too".into(), with_deleted);
    assert_holds(&dovecot, &want);

    // scan --json: per mailbox flags, skipped count, dates from the From_ line.
    let scan = scan_json(&[&profile], &[]);
    let inbox = scanned(&scan, "INBOX");
    assert_eq!(inbox["skipped"], 1, "{inbox:#}");
    assert_eq!(
        inbox["flags"],
        serde_json::json!({"$label1": 1, "\\Seen": 1})
    );
    assert_eq!(inbox["date_sources"], serde_json::json!({"From_ line": 1}));
    assert_eq!(
        scanned(&scan, "Projects")["flags"],
        serde_json::json!({"$Forwarded": 1, "\\Flagged": 1, "\\Seen": 1})
    );
}

/// The Gmail Takeout fixture: the text of an mbox as Takeout writes it
/// (inbox unread, sent, two labels and starred, a chat, no folder label)
/// and what its upload must leave on the server. Also read from archives
/// (`archive`).
pub(crate) fn takeout_fixture() -> (String, Expectation) {
    let m = |n: u32, subject: &str| {
        format!(
            "X-GM-THRID: 16{n}\nFrom: Uma <uma@example.org>\nSubject: {subject}\nDate: Wed, 1 Apr 2020 0{n}:00:00 +0000\n"
        )
    };
    let (h1, h2, h3, h4, h5) = (
        m(1, "inbox unread"),
        m(2, "sent"),
        m(3, "two labels, starred"),
        m(4, "chat"),
        m(5, "no folder label"),
    );
    let entry = |n: u32, h: &str, labels: &str| {
        let mut lines = h.lines();
        let thrid = lines.next().unwrap();
        let rest: String = lines.map(|l| format!("{l}\n")).collect();
        format!(
            "From 16{n}@xxx Wed Apr 01 0{n}:00:00 +0000 2020\n{thrid}\nX-Gmail-Labels: {labels}\n{rest}\nBody {n}.\n\n"
        )
    };
    let text = [
        entry(1, &h1, "Inbox,Unread,Category Updates"),
        entry(2, &h2, "Sent,Opened"),
        entry(3, &h3, "Work/Projects,Inbox,Starred,Important,Opened"),
        entry(4, &h4, "Chat,Opened"),
        entry(5, &h5, "Archived,Opened"),
    ]
    .concat();
    let at = |n| utc(2020, 4, 1, n, 0, 0);
    let mut want = Expectation::new();
    expect(
        &mut want,
        "INBOX",
        vec![
            mail(&h1, "Body 1.\n", &[], at(1)),
            mail(&h3, "Body 3.\n", &["\\Flagged", "\\Seen"], at(3)),
        ],
    );
    expect(
        &mut want,
        "Sent",
        vec![mail(&h2, "Body 2.\n", &["\\Seen"], at(2))],
    );
    expect(
        &mut want,
        "Work/Projects",
        vec![mail(&h3, "Body 3.\n", &["\\Flagged", "\\Seen"], at(3))],
    );
    expect(
        &mut want,
        "Archive",
        vec![mail(&h5, "Body 5.\n", &["\\Seen"], at(5))],
    );
    (text, want)
}

#[test]
fn gmail_takeout_round_trip() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("All mail Including Spam and Trash.mbox");
    let (text, want) = takeout_fixture();
    put(&mbox, text);
    let out = MailhaulCommand::upload(&dovecot, &[&mbox])
        .arg("--json")
        .assert_success();
    let report = json(&out);
    assert_eq!(report["totals"]["skipped"], 1, "{report:#}");
    assert!(
        report["skips"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("chat"),
        "{report:#}"
    );
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Sent", "Work", "Work/Projects", "Archive"]);

    let scan = scan_json(&[&mbox], &[]);
    assert_eq!(scanned(&scan, "INBOX")["messages"], 2, "{scan:#}");
    assert_eq!(
        scanned(&scan, "INBOX")["flags"],
        serde_json::json!({"\\Flagged": 1, "\\Seen": 1})
    );
    assert_eq!(scanned(&scan, "Work/Projects")["messages"], 1, "{scan:#}");
    assert_eq!(
        scanned(&scan, "Archive")["date_sources"],
        serde_json::json!({"From_ line": 1})
    );
}
