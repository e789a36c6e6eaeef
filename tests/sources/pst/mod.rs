//! Outlook PST round trip, compared with `readpst` (Debian's pst-utils, the
//! reference reader): `enron.pst` (14 MB, 71 mail items in 7 folders, with
//! Word attachments and transport headers; test data of the npm package
//! pst-extractor 1.12.0, fetched by scripts/install-test-deps, not
//! committed) is uploaded to Dovecot and read back. Each message on the
//! server is matched with readpst's export of the same item by Message-ID:
//! subject, sender, plain-text body and every attachment's name and bytes
//! must agree; each mailbox holds as many messages as readpst's folder; the
//! internal date is the PST's delivery time, the flags its read state.
//! OSTs: [`ost`].

mod ost;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::util::{Dovecot, DovecotOptions, MailhaulCommand, parse_internal_date};

/// A file of pst-extractor 1.12.0's test data, where
/// scripts/install-test-deps put it.
fn pst_extractor_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("MAILHAUL_TEST_FIXTURES").map_or_else(
        || PathBuf::from("/opt/mailhaul-test-fixtures"),
        PathBuf::from,
    );
    let file = dir.join("pst-extractor-1.12.0").join(name);
    assert!(
        file.is_file(),
        "{} missing: run scripts/install-test-deps",
        file.display()
    );
    file
}

pub(super) fn enron_pst() -> PathBuf {
    pst_extractor_file("enron.pst")
}

/// What is compared between readpst's message and the uploaded one.
#[derive(Debug, PartialEq, Eq)]
struct Digest {
    subject: Option<String>,
    from: Option<String>,
    /// The plain-text body with whitespace runs collapsed (readpst and
    /// mailhaul end lines and trim trailing blanks differently).
    text: String,
    /// (file name, bytes) of every attachment, sorted.
    attachments: Vec<(String, Vec<u8>)>,
}

/// An attachment name after its last `'` and up to its first `(`, on both
/// sides alike: readpst writes RFC 2231 `filename*=` values with bare `'`
/// and parentheses (both reserved there), which mail-parser then cuts.
fn comparable_name(name: &str) -> String {
    let name = name.rsplit('\'').next().unwrap_or_default();
    name.split('(').next().unwrap_or_default().to_string()
}

fn digest(m: &Message<'_>) -> Digest {
    let text = m.body_text(0).unwrap_or_default();
    let mut attachments: Vec<(String, Vec<u8>)> = m
        .attachments()
        .map(|a| {
            (
                comparable_name(a.attachment_name().unwrap_or_default()),
                a.contents().to_vec(),
            )
        })
        .collect();
    attachments.sort();
    Digest {
        subject: m.subject().map(str::to_string),
        from: m
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .map(|a| a.to_ascii_lowercase()),
        text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        attachments,
    }
}

fn parse(bytes: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(bytes)
        .expect("a parseable message")
}

/// readpst's messages (`-M`: one file per message, one directory per
/// folder) by folder path below the store's top folder, then by Message-ID.
/// `-j 0`: one process; readpst's parallel jobs (its default) once wrote a
/// garbled body under load (a run of text repeated mid-message), which made
/// the reference, not mailhaul, differ.
fn readpst(pst: &Path, out: &Path) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    let status = Command::new("readpst")
        .args(["-q", "-j", "0", "-M", "-o"])
        .arg(out)
        .arg(pst)
        .status()
        .expect("readpst (pst-utils) installed by scripts/install-test-deps");
    assert!(status.success(), "readpst failed: {status}");
    let top = out.join("Personal folders");
    let mut folders: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&top) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let folder = entry
            .path()
            .parent()
            .unwrap()
            .strip_prefix(&top)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(entry.path()).unwrap();
        let id = parse(&bytes).message_id().unwrap().to_string();
        folders.entry(folder).or_default().insert(id, bytes);
    }
    folders
}

#[test]
fn pst_upload_matches_readpst() {
    let pst = enron_pst();
    let dir = tempfile::tempdir().unwrap();
    let reference = readpst(&pst, dir.path());
    let counts: BTreeMap<&str, usize> = reference
        .iter()
        .map(|(f, m)| (f.as_str(), m.len()))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("lokay-m/MLOKAY (Non-Privileged)", 1),
            ("lokay-m/MLOKAY (Non-Privileged)/Personal", 47),
            ("lokay-m/MLOKAY (Non-Privileged)/Sent Items", 2),
            ("lokay-m/MLOKAY (Non-Privileged)/Systems", 7),
            ("lokay-m/MLOKAY (Non-Privileged)/TW-Commercial Group", 14),
        ]),
        "readpst's folders"
    );

    let dovecot = Dovecot::start_with(DovecotOptions {
        special_use_sent: Some("Sent Messages"),
        special_use_trash: Some("Papierkorb"),
        ..Default::default()
    })
    .unwrap();
    let journal = dir.path().join("pst.journal");
    let out = MailhaulCommand::upload(&dovecot, &[&pst])
        .arg("--journal")
        .arg(&journal)
        .arg("--json-progress")
        .assert_success();
    // Progress counts against the folders' sizes as the PST records them
    // (PidTagMessageSize), close to the 15.6 MiB rebuilt.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let total = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["total_bytes"].as_u64())
        .unwrap_or_else(|| panic!("no progress event with total_bytes:\n{stderr}"));
    assert!(
        (12_000_000..20_000_000).contains(&total),
        "total_bytes {total}"
    );
    // The top-level "Deleted Items" goes to the server's \Trash mailbox; the
    // nested "Sent Items" is a user folder and keeps its name.
    let plan = String::from_utf8_lossy(&out.stderr);
    assert!(
        plan.contains("enron.pst: Deleted Items → Papierkorb"),
        "{plan}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("71 of 71 messages uploaded"), "{summary}");
    // The rebuild is deterministic (boundaries derive from the content), so
    // a second run with the same journal finds every message already there.
    let again = MailhaulCommand::upload(&dovecot, &[&pst])
        .arg("--journal")
        .arg(&journal)
        .arg("--json")
        .assert_success();
    let doc = super::json(&again);
    assert_eq!(doc["totals"]["uploaded"], 0, "{doc:#}");
    assert_eq!(doc["totals"]["already_present"], 71, "{doc:#}");
    // verify reads the PST again, without the journal, and finds every
    // rebuilt message on the server once.
    let verify = MailhaulCommand::new()
        .arg("verify")
        .arg(&pst)
        .server(&dovecot)
        .arg("--no-journal")
        .assert_success();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        report.contains(
            "(Non-Privileged).Personal: 47 in the source, 47 on the server: 0 missing, 0 doubled"
        ) && report.matches(": 0 missing, 0 doubled").count() == 5,
        "{report}"
    );

    let mut reader = dovecot.reader().unwrap();
    let mailboxes = reader.list_mailboxes().unwrap();
    for (folder, messages) in &reference {
        assert!(
            mailboxes.contains(folder),
            "{folder} missing; server has {mailboxes:?}"
        );
        let fetched = reader.fetch_all(folder).unwrap();
        assert_eq!(fetched.len(), messages.len(), "{folder}: message count");
        for f in fetched {
            let ours = parse(&f.body);
            let id = ours.message_id().expect("Message-ID kept").to_string();
            let theirs = messages
                .get(&id)
                .unwrap_or_else(|| panic!("{folder}: {id} not in readpst's folder"));
            assert_eq!(
                digest(&ours),
                digest(&parse(theirs)),
                "{folder}: {id} differs from readpst"
            );
            // Every item of this PST is read (MSGFLAG_READ) and dated by
            // its delivery time, which here equals the first date of the
            // (doubled) Date header as delivered.
            assert_eq!(f.flags, vec!["\\Seen".to_string()], "{folder}: {id}");
            let date = parse_internal_date(&f.internal_date).unwrap();
            let header = ours.header_raw("Date").unwrap().trim();
            let first = mail_parser::MessageParser::default()
                .parse(
                    format!("Date: {}\r\n\r\n", &header[..header.find(" (").unwrap()]).as_bytes(),
                )
                .and_then(|m| m.date().map(|d| d.to_timestamp()))
                .unwrap();
            assert_eq!(date.timestamp(), first, "{folder}: {id} internal date");
        }
    }
}

#[test]
fn pst_scan_reports_folders() {
    let pst = enron_pst();
    let scan = super::scan_json(&[&pst], &[]);
    let total: u64 = scan["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messages"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 71, "{scan:#}");
    // Folder names below "Top of Personal Folders", nothing above it.
    let deleted = super::scanned(&scan, "Deleted Items");
    assert_eq!(deleted["messages"], 0, "{scan:#}");
    assert_eq!(scan["mailboxes"].as_array().unwrap().len(), 7, "{scan:#}");
    let kinds: Vec<&str> = scan["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["pst"; 7], "{scan:#}");

    // In a tree, a PST's folders sit below its path without the extension.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("old")).unwrap();
    std::fs::copy(&pst, dir.path().join("old/archive.pst")).unwrap();
    let tree = super::scan_json(&[dir.path()], &[]);
    let personal = super::scanned(
        &tree,
        "old/archive/lokay-m/MLOKAY (Non-Privileged)/Personal",
    );
    assert_eq!(personal["messages"], 47, "{tree:#}");
}
