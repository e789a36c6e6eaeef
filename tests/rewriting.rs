//! Servers that rewrite headers on store, without UIDPLUS: the real GNU
//! imap4d (private instance) adds header fields, so a message reads back
//! larger than sent. Reruns with the journal (entries without UIDs) and
//! without it find every message by Message-ID and the hash of its text
//! and send nothing again; messages sharing a Message-ID with other
//! bodies (a list message received directly and via the list) all land.

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
