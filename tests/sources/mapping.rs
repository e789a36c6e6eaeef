//! Where and when messages land: `--date header|delivery|now` changing the
//! INTERNALDATE; special-use (a source `Sent Items` folder into the server's
//! `\Sent` mailbox named `Sent Messages`, Takeout's `Sent` label too, and
//! `--no-special-use` keeping it apart); `--map`, `--flatten`, `--include`
//! and `--exclude` against the real server; the folder tree rebuilt with
//! its empty folders, a Takeout mbox not taken for a folder.

use chrono::{DurationRound as _, TimeDelta, Utc};

use super::{
    Expectation, assert_holds, assert_mailboxes, expect, json, mail, put, scan_json, scanned, utc,
};
use crate::util::{Dovecot, DovecotOptions, MailhaulCommand, parse_internal_date};

#[test]
fn date_policy_changes_the_internal_date() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("dated.mbox");
    // From_ line 09:15, top-most Received 09:10, Date header 08:00 (UTC).
    let headers = "Received: from mx.example.org by mail.example.org; Mon, 6 Jan 2020 10:10:00 +0100\n\
                   From: Vic <vic@example.org>\n\
                   Subject: three dates\n\
                   Date: Mon, 6 Jan 2020 08:00:00 +0000\n";
    put(
        &mbox,
        format!("From vic@example.org Mon Jan  6 09:15:00 2020\n{headers}\nBody.\n"),
    );
    let mut want = Expectation::new();
    for (policy, date) in [
        ("header", utc(2020, 1, 6, 8, 0, 0)),
        ("delivery", utc(2020, 1, 6, 9, 15, 0)),
        ("auto", utc(2020, 1, 6, 9, 15, 0)),
    ] {
        let mailbox = format!("by-{policy}");
        MailhaulCommand::upload(&dovecot, &[&mbox])
            .args(["--date", policy, "--mailbox", &mailbox])
            .assert_success();
        expect(
            &mut want,
            &mailbox,
            vec![mail(headers, "Body.\n", &[], date)],
        );
    }
    // --date now: the server stamps the upload time, which is not before the
    // start of the run (INTERNALDATE has whole seconds).
    let before = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap();
    MailhaulCommand::upload(&dovecot, &[&mbox])
        .args(["--date", "now", "--mailbox", "by-now"])
        .assert_success();
    assert_holds(&dovecot, &want);
    let now = dovecot.reader().unwrap().fetch_all("by-now").unwrap();
    assert_eq!(now.len(), 1);
    let stamped = parse_internal_date(&now[0].internal_date).unwrap();
    assert!(
        stamped >= before,
        "{stamped} is before the run started ({before})"
    );

    // scan --json names the source of each date.
    for (policy, source) in [
        ("header", "Date header"),
        ("delivery", "From_ line"),
        ("now", "none (server's time)"),
    ] {
        let scan = scan_json(&[&mbox], &["--date", policy]);
        assert_eq!(
            scanned(&scan, "dated")["date_sources"],
            serde_json::json!({ source: 1 }),
            "--date {policy}"
        );
    }
}

#[test]
fn special_use_sent_under_another_name() {
    let dovecot = Dovecot::start_with(DovecotOptions {
        special_use_sent: Some("Sent Messages"),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // An mbox tree with a `Sent Items` file (Outlook's name) and a Takeout
    // mbox whose message carries the `Sent` label.
    let tree = dir.path().join("tree");
    let sent = "From: Wes <wes@example.org>\nSubject: sent from outlook\n";
    put(
        &tree.join("Sent Items"),
        format!("From wes@example.org Thu Apr  2 10:00:00 2020\n{sent}Status: RO\n\nSent.\n"),
    );
    let takeout = dir.path().join("takeout.mbox");
    let gsent = "From: Wes <wes@example.org>\nSubject: sent from gmail\n";
    put(
        &takeout,
        format!(
            "From 1@xxx Thu Apr 02 11:00:00 +0000 2020\nX-Gmail-Labels: Sent,Opened\n{gsent}\nGmail.\n"
        ),
    );
    let sent_items = mail(sent, "Sent.\n", &["\\Seen"], utc(2020, 4, 2, 10, 0, 0));
    let gmail_sent = mail(gsent, "Gmail.\n", &["\\Seen"], utc(2020, 4, 2, 11, 0, 0));

    let out = MailhaulCommand::upload(&dovecot, &[&tree, &takeout]).assert_success();
    let plan = String::from_utf8_lossy(&out.stderr);
    assert!(plan.contains("→ Sent Messages"), "{plan}");
    let mut want = Expectation::new();
    expect(
        &mut want,
        "Sent Messages",
        vec![sent_items.clone(), gmail_sent.clone()],
    );
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Sent Messages"]);

    // --no-special-use keeps the source names.
    MailhaulCommand::upload(&dovecot, &[&tree, &takeout])
        .arg("--no-special-use")
        .assert_success();
    expect(&mut want, "Sent Items", vec![sent_items]);
    expect(&mut want, "Sent", vec![gmail_sent]);
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Sent Messages", "Sent Items", "Sent"]);
}

#[test]
fn map_flatten_include_exclude() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A Thunderbird-style tree: Work, Work/Clients, Work/Old, Personal.
    let tree = dir.path().join("tree");
    let mut sample = std::collections::BTreeMap::new();
    for (i, (file, folder)) in [
        ("Work", "Work"),
        ("Work.sbd/Clients", "Work/Clients"),
        ("Work.sbd/Old", "Work/Old"),
        ("Personal", "Personal"),
    ]
    .into_iter()
    .enumerate()
    {
        let headers = format!("From: Xan <xan@example.org>\nSubject: in {folder}\n");
        put(
            &tree.join(file),
            format!("From xan@example.org Mon May  4 1{i}:00:00 2020\n{headers}\nIn {folder}.\n"),
        );
        let hour = 10 + u32::try_from(i).unwrap();
        sample.insert(
            folder,
            mail(
                &headers,
                &format!("In {folder}.\n"),
                &[],
                utc(2020, 5, 4, hour, 0, 0),
            ),
        );
    }
    let one = |folder: &str| vec![sample[folder].clone()];

    // --map renames a subtree; --exclude leaves Work/Old out.
    let out = MailhaulCommand::upload(&dovecot, &[&tree])
        .args(["--map", "Work=Job", "--exclude", "Work/Old"])
        .assert_success();
    let plan = String::from_utf8_lossy(&out.stderr);
    assert!(plan.contains("excluded"), "{plan}");
    let mut want = Expectation::new();
    expect(&mut want, "Job", one("Work"));
    expect(&mut want, "Job/Clients", one("Work/Clients"));
    expect(&mut want, "Personal", one("Personal"));
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Job", "Job/Clients", "Personal"]);

    // --flatten joins the path with `_`; --include `Work/*` takes the two
    // children and neither Work itself nor Personal.
    MailhaulCommand::upload(&dovecot, &[&tree])
        .args(["--flatten", "--include", "Work/*"])
        .assert_success();
    expect(&mut want, "Work_Clients", one("Work/Clients"));
    expect(&mut want, "Work_Old", one("Work/Old"));
    assert_holds(&dovecot, &want);
    assert_mailboxes(
        &dovecot,
        &["Job", "Job/Clients", "Personal", "Work_Clients", "Work_Old"],
    );
}

/// The names of the mailbox rows of a scan or upload JSON report.
fn rows(doc: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = doc["mailboxes"]
        .as_array()
        .unwrap_or_else(|| panic!("no mailboxes in {doc}"))
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// A folder without messages is part of the tree and made on the server;
/// the mbox of a Takeout export is not a folder (its messages go by their
/// labels): neither a mailbox on the server nor a row of the reports.
#[test]
fn empty_folders_are_made_and_a_takeout_mbox_is_no_folder() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    for sub in ["", ".Empty", ".Empty.Deeper", ".Full"] {
        for leaf in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(sub).join(leaf)).unwrap();
        }
    }
    put(
        &md.join(".Full/cur/1.x:2,S"),
        "From: a@example.org\nSubject: x\nMessage-ID: <full@x>\n\nhi\n",
    );
    let out = MailhaulCommand::upload(&dovecot, &[&md])
        .arg("--json")
        .assert_success();
    assert_eq!(json(&out)["totals"]["uploaded"], 1);
    assert_mailboxes(&dovecot, &["Empty", "Empty/Deeper", "Full"]);

    let takeout = dir
        .path()
        .join("Takeout/Mail/All mail Including Spam and Trash.mbox");
    put(
        &takeout,
        "From 1@xxx Sat Feb 01 10:00:00 +0000 2020\nX-Gmail-Labels: Inbox,Work\nFrom: a@example.org\nSubject: one\nMessage-ID: <1@x>\n\nhello\n\n\
         From 2@xxx Sat Feb 01 10:00:00 +0000 2020\nX-Gmail-Labels: Sent\nFrom: a@example.org\nSubject: two\nMessage-ID: <2@x>\n\nhello 2\n",
    );
    let scan = scan_json(&[&takeout], &[]);
    assert_eq!(rows(&scan), ["INBOX", "Sent", "Work"], "{scan:#}");
    let out = MailhaulCommand::upload(&dovecot, &[&takeout])
        .arg("--json")
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], 3, "{doc:#}");
    assert_eq!(rows(&doc), ["INBOX", "Sent", "Work"], "{doc:#}");
    assert_mailboxes(&dovecot, &["Empty", "Empty/Deeper", "Full", "Sent", "Work"]);
}
