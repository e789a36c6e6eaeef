//! Servers that rewrite headers on store, without UIDPLUS: the real GNU
//! imap4d (private instance) adds header fields, so a message reads back
//! larger than sent. Reruns with the journal (entries without UIDs) and
//! without it find every message by Message-ID and the hash of its text
//! and send nothing again; messages sharing a Message-ID with other
//! bodies (a list message received directly and via the list) all land.
//! `verify` finds them by the same rule, tells a second copy stored there
//! as doubled, and reports a mailbox imap4d will not open as not
//! verifiable while it checks the others.

use std::path::{Path, PathBuf};

use std::sync::atomic::Ordering;

use crate::util::imap_proxy::LookProxy;
use crate::util::{Imap4d, MailhaulCommand};

const EXPECTED: [&str; 6] = [
    "MARK-1",
    "MARK-2",
    "MARK-3 via the list",
    "MARK-4 directly!!!",
    "MARK-5 a longer third copy",
    "MARK-6 without Message-ID",
];

/// An mbox `letters`: two messages alone, three sharing a Message-ID with
/// other bodies (two of one size, one longer), one without Message-ID.
fn letters(dir: &Path) -> PathBuf {
    let p = dir.join("letters");
    let mut mbox = String::new();
    let messages = [
        ("<one@x>", "MARK-1"),
        ("<two@x>", "MARK-2"),
        ("<list@x>", "MARK-3 via the list"),
        ("<list@x>", "MARK-4 directly!!!"),
        ("<list@x>", "MARK-5 a longer third copy"),
        ("", "MARK-6 without Message-ID"),
    ];
    for (i, (id, body)) in messages.iter().enumerate() {
        let id = if id.is_empty() {
            String::new()
        } else {
            format!("Message-ID: {id}\n")
        };
        mbox.push_str(&format!(
            "From a@b Mon Jan  6 09:1{i}:00 2020\nSubject: {i}\n{id}\n{body}\n\n"
        ));
    }
    std::fs::write(&p, mbox).unwrap();
    p
}

/// `mailhaul upload letters --json EXTRA` into `imap4d`, which must
/// succeed; its JSON report.
fn upload(imap4d: &Imap4d, src: &Path, extra: &[&str]) -> serde_json::Value {
    let out = MailhaulCommand::new()
        .arg("upload")
        .arg(src)
        .imap4d_via(imap4d, imap4d.port())
        .arg("--json")
        .args(extra)
        .assert_success();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The marker line of each message in `letters`, sorted.
fn marks(imap4d: &Imap4d) -> Vec<String> {
    let mut out: Vec<String> = imap4d
        .reader()
        .unwrap()
        .fetch_all("letters")
        .unwrap()
        .into_iter()
        .map(|f| {
            String::from_utf8_lossy(&f.body)
                .lines()
                .find(|l| l.starts_with("MARK-"))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn imap4d_reruns_send_nothing_again_and_list_twins_all_land() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    let journal = dir.path().join("journal");
    let j = journal.display().to_string();
    let first = upload(&imap4d, &src, &["--journal", &j]);
    assert_eq!(first["totals"]["uploaded"], 6, "{first}");
    assert_eq!(marks(&imap4d), EXPECTED);
    // imap4d stores them larger than sent: the size alone finds nothing.
    let log = imap4d.log();
    assert!(!log.contains("UIDPLUS"), "{log}");
    let again = upload(&imap4d, &src, &["--journal", &j]);
    assert_eq!(again["totals"]["uploaded"], 0, "{again}");
    assert_eq!(again["totals"]["already_present"], 6, "{again}");
    let bare = upload(&imap4d, &src, &["--no-journal"]);
    assert_eq!(bare["totals"]["uploaded"], 0, "{bare}");
    assert_eq!(bare["totals"]["already_present"], 6, "{bare}");
    assert_eq!(marks(&imap4d), EXPECTED);
}

/// The answer to the 4th APPEND (a message sharing its Message-ID with
/// the 3rd, stored larger than sent) is lost: the look finds it by its
/// text, nothing is sent twice, nothing is lost.
#[test]
fn imap4d_lost_answer_is_found_by_text() {
    let imap4d = Imap4d::start().unwrap();
    let proxy = LookProxy::cutting_before(imap4d.port(), 4, b"OK APPEND");
    proxy.refuse_looks.store(false, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    let journal = dir.path().join("journal");
    let j = journal.display().to_string();
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&src)
        .imap4d_via(&imap4d, proxy.port())
        .arg("--json")
        .args(["--journal", &j, "--batch-size", "1", "--retries", "2"]);
    let out = c.run();
    let explain = c.explain(&out);
    assert!(proxy.did_cut(), "{explain}");
    assert_eq!(out.status.code(), Some(0), "{explain}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["totals"]["uploaded"], 6, "{explain}");
    assert_eq!(marks(&imap4d), EXPECTED, "{explain}");
}

/// `mailhaul verify SOURCES --json` against `imap4d`: its JSON report and
/// exit code.
fn verify(imap4d: &Imap4d, sources: &[&Path]) -> (serde_json::Value, Option<i32>, String) {
    let mut c = MailhaulCommand::new();
    c.arg("verify")
        .args(sources)
        .imap4d_via(imap4d, imap4d.port())
        .args(["--no-journal", "--json"]);
    let out = c.run();
    let explain = c.explain(&out);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {explain}"));
    (doc, out.status.code(), explain)
}

/// After an upload to imap4d, verify matches every message stored with
/// its header rewritten (exit 0); a second copy appended by another client
/// is doubled (exit 1); a mailbox whose mbox is a directory (`NO SELECT
/// … Is a directory`) is not verifiable (exit 1), and the other mailbox is
/// still checked.
#[test]
fn imap4d_verify_uses_the_rewriting_rule_and_goes_past_a_mailbox_it_cannot_open() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    upload(&imap4d, &src, &["--no-journal"]);
    let (doc, code, explain) = verify(&imap4d, &[&src]);
    assert_eq!(code, Some(0), "{explain}");
    for (finding, n) in [
        ("source", 6),
        ("server", 6),
        ("missing", 0),
        ("doubled", 0),
        ("extra", 0),
    ] {
        assert_eq!(doc["totals"][finding], n, "{finding}: {doc}");
    }

    let mut reader = imap4d.reader().unwrap();
    let first = reader.bodies("letters").unwrap().remove(0);
    let mark = String::from_utf8_lossy(&first).contains("MARK-1");
    assert!(mark, "{}", String::from_utf8_lossy(&first));
    // The copy as mailhaul sent it: imap4d adds its header fields again.
    let sent = "Subject: 0\r\nMessage-ID: <one@x>\r\n\r\nMARK-1\r\n";
    let mut other = imap4d.reader().unwrap();
    let date = Some("06-Jan-2020 09:10:00 +0000");
    let appended = other.append("letters", &[], date, sent.as_bytes()).unwrap();
    assert!(appended.is_ok(), "{}\n{}", appended.line(), imap4d.log());
    let (doc, code, explain) = verify(&imap4d, &[&src]);
    assert_eq!(code, Some(1), "{explain}");
    assert_eq!(doc["totals"]["doubled"], 1, "{doc}");
    assert_eq!(doc["totals"]["missing"], 0, "{doc}");
    assert_eq!(doc["totals"]["extra"], 0, "{doc}");

    let broken = dir.path().join("Broken");
    std::fs::write(
        &broken,
        "From a@b Mon Jan  6 09:10:00 2020\nSubject: b\n\nMARK-B\n",
    )
    .unwrap();
    std::fs::create_dir_all(imap4d.home().join("Broken")).unwrap();
    let (doc, code, explain) = verify(&imap4d, &[&src, &broken]);
    assert_eq!(code, Some(1), "{explain}");
    let mailboxes = doc["mailboxes"].as_array().unwrap();
    let named = |n: &str| {
        mailboxes
            .iter()
            .find(|m| m["name"] == n)
            .unwrap_or_else(|| panic!("{n}: {doc}"))
    };
    let why = named("Broken")["unverifiable"].as_str().unwrap_or_default();
    assert!(why.contains("Is a directory"), "{doc}");
    assert_eq!(
        named("letters")["doubled"].as_array().unwrap().len(),
        1,
        "{doc}"
    );
    assert_eq!(doc["totals"]["unverifiable"], 1, "{doc}");
}

/// imap4d drops the zone of an APPEND date (`11:51 -0600` is stored as
/// `11:51 +0000`): a message without Message-ID, dated in another zone,
/// is still found on reruns without the journal and by verify (by its
/// wall-clock time and text), never sent twice.
#[test]
fn imap4d_finds_a_message_without_message_id_dated_in_another_zone() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("zoned");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("1.eml"),
        "Subject: zoned\r\nDate: Wed, 11 Feb 1998 11:51:00 -0600\r\n\r\nMARK-Z\r\n",
    )
    .unwrap();
    let first = upload(&imap4d, &src, &["--no-journal"]);
    assert_eq!(first["totals"]["uploaded"], 1, "{}", first["totals"]);
    let held = imap4d.reader().unwrap().fetch_all("zoned").unwrap();
    assert_eq!(
        held[0].internal_date, "11-Feb-1998 11:51:00 +0000",
        "imap4d kept the zone"
    );
    for _ in 0..2 {
        let again = upload(&imap4d, &src, &["--no-journal"]);
        assert_eq!(again["totals"]["uploaded"], 0, "{}", again["totals"]);
    }
    assert_eq!(
        imap4d.reader().unwrap().fetch_all("zoned").unwrap().len(),
        1
    );
    let (doc, code, explain) = verify(&imap4d, &[&src]);
    assert_eq!(code, Some(0), "{explain}");
    assert_eq!(doc["totals"]["missing"], 0, "{doc}");
}
