//! `upload --dry-run` asks the upload's own presence check (issue 9, item
//! 7): after a complete upload, a dry run with the journal, with a fresh
//! one and without one says every message is already there and sends
//! nothing; with two messages added to the source and a new folder it
//! says exactly what the upload then sends; batches an interrupted run
//! left open are named, not resolved. Against a private Dovecot; every dry
//! run leaves the server's mailboxes and the journal byte for byte as they
//! were, and creates no file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mailhaul::journal::{Before, Journal};

use crate::util::{Dovecot, MailhaulCommand};

/// Maildir++ folders of the source and their message counts (60 in all).
const FOLDERS: &[(&str, &str, usize)] = &[("", "INBOX", 40), (".Work", "Work", 20)];
const TOTAL: u64 = 60;

/// Message `i` of `mailbox`. INBOX 10 and 11 are the same message (it
/// must land twice); INBOX 20 and 21 share a Message-ID and size with
/// other bodies (told apart by body hash).
fn message(mailbox: &str, i: usize) -> String {
    let (id, body) = match (mailbox, i) {
        ("INBOX", 10 | 11) => ("<dup@example.org>".to_string(), "twice".to_string()),
        ("INBOX", 20 | 21) => ("<twin@example.org>".to_string(), format!("twin {i}")),
        _ => (
            format!("<{mailbox}-{i}@example.org>"),
            format!("{mailbox} {i} {}", "y".repeat(i)),
        ),
    };
    let n = if id == "<dup@example.org>" { 10 } else { i };
    format!(
        "From: s{n}@example.org\nTo: r@example.org\nSubject: {mailbox} {n}\nDate: Sat, 01 Feb 2020 10:{:02}:00 +0000\nMessage-ID: {id}\n\n{body}\n",
        n % 60
    )
}

fn write_message(maildir: &Path, dir: &str, name: &str, text: &str) {
    let d = maildir.join(dir);
    for s in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(d.join(s)).unwrap();
    }
    std::fs::write(d.join("cur").join(format!("{name}:2,S")), text).unwrap();
}

fn source(root: &Path) -> PathBuf {
    let maildir = root.join("Maildir");
    for (dir, mailbox, n) in FOLDERS {
        for i in 0..*n {
            write_message(
                &maildir,
                dir,
                &format!("{}.M{i}P1.host", 1_580_551_200 + i),
                &message(mailbox, i),
            );
        }
    }
    maildir
}

/// `mailhaul upload MAILDIR` into `dovecot` with `extra`.
fn upload(dovecot: &Dovecot, maildir: &Path, extra: &[&str]) -> MailhaulCommand {
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(maildir)
        .server(dovecot)
        .args(["--batch-size", "10"])
        .args(extra);
    c
}

/// The user's mail on disk, file by file (the message files keyed by
/// name without the `new`/`cur` directory and an empty `:2,`: Dovecot
/// moving a file out of `new` only ends its \Recent), without Dovecot's
/// index caches, which a read may fill.
fn server_files(dovecot: &Dovecot) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("dovecot.index") || name.starts_with("dovecot.list.index") {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            let rel = rel.replace("/new/", "/msg/").replace("/cur/", "/msg/");
            let rel = rel.strip_suffix(":2,").unwrap_or(&rel).to_string();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
    let mut out = BTreeMap::new();
    let root = dovecot.maildir();
    walk(&root, &root, &mut out);
    out
}

/// A Dovecot into which the source (in the temp dir) was uploaded in
/// full, with the journal it wrote.
fn uploaded_once() -> (Dovecot, tempfile::TempDir, PathBuf, PathBuf) {
    let dovecot = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let maildir = source(tmp.path());
    let journal = tmp.path().join("j.journal");
    let j = journal.to_str().unwrap();
    upload(&dovecot, &maildir, &["--journal", j, "--quiet"]).assert_success();
    (dovecot, tmp, maildir, journal)
}

/// Uploads with `journal`; the messages it sent.
fn uploaded(dovecot: &Dovecot, maildir: &Path, journal: &str) -> u64 {
    let out = upload(dovecot, maildir, &["--journal", journal, "--json"]).assert_success();
    let report = json(&out.stdout);
    report["totals"]["uploaded"]
        .as_u64()
        .unwrap_or_else(|| panic!("{report}"))
}

fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

/// Runs a dry run (`--json` and not), checks that it changed nothing on
/// the server nor in `journal` (and created no file there when it did not
/// exist) and sent nothing; returns (text, JSON).
fn dry_run(dovecot: &Dovecot, maildir: &Path, journal: &[&str]) -> (String, serde_json::Value) {
    let before = server_files(dovecot);
    assert!(before.len() > TOTAL as usize, "{before:?}");
    let journal_file = journal.get(1).map(PathBuf::from);
    let journal_bytes = journal_file.as_ref().map(|p| std::fs::read(p).ok());
    let commands = dovecot.client_commands().len();
    let out = upload(dovecot, maildir, journal)
        .arg("--dry-run")
        .assert_success();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let doc = json(
        &upload(dovecot, maildir, journal)
            .args(["--dry-run", "--json"])
            .assert_success()
            .stdout,
    );
    assert_eq!(
        server_files(dovecot),
        before,
        "the dry run changed the server's mail"
    );
    if let (Some(p), Some(bytes)) = (&journal_file, journal_bytes) {
        assert_eq!(
            std::fs::read(p).ok(),
            bytes,
            "the dry run changed the journal"
        );
        let mut lock = p.as_os_str().to_owned();
        lock.push(".lock");
        if bytes.is_none() {
            assert!(!Path::new(&lock).exists(), "the dry run made a lock file");
        }
    }
    let written: Vec<String> = dovecot.client_commands()[commands..]
        .iter()
        .filter(|c| {
            let verb = c.split(' ').nth(1).unwrap_or("").to_ascii_uppercase();
            [
                "APPEND", "CREATE", "STORE", "COPY", "MOVE", "EXPUNGE", "DELETE", "RENAME",
            ]
            .contains(&verb.as_str())
                || c.to_ascii_uppercase().contains(" UID COPY ")
                || c.to_ascii_uppercase().contains(" UID STORE ")
        })
        .cloned()
        .collect();
    assert!(written.is_empty(), "the dry run wrote: {written:?}");
    (text, doc)
}

/// After a complete upload, a dry run with the journal, with a fresh
/// journal and with `--no-journal` each says all 60 are already there
/// (from the journal, then found by the server check) and would send 0.
#[test]
fn after_a_complete_upload_the_dry_run_finds_everything_there() {
    let (dovecot, tmp, maildir, journal) = uploaded_once();
    let j = journal.to_str().unwrap();

    let (text, doc) = dry_run(&dovecot, &maildir, &["--journal", j]);
    assert!(
        text.contains("INBOX: 0 messages, 0 B, no dates, 40 already there (journal)"),
        "{text}"
    );
    assert!(
        text.contains("Work: 0 messages, 0 B, no dates, 20 already there (journal)"),
        "{text}"
    );
    assert!(
        text.contains("upload would send 0 messages (0 B), 60 already there (journal)"),
        "{text}"
    );
    assert!(!text.contains("cannot be sent"), "{text}");
    let a = &doc["against_server"];
    assert_eq!(
        (a["would_send"].as_u64(), a["already_uploaded"].as_u64()),
        (Some(0), Some(TOTAL)),
        "{doc}"
    );
    assert_eq!(a["already_there"].as_u64(), Some(TOTAL), "{doc}");
    // The journal accounts for everything: spot checks, no message read.
    assert_eq!(
        a["server_check"]["messages_read"].as_u64(),
        Some(0),
        "{doc}"
    );
    assert!(
        a["server_check"]["spot_checked"].as_u64() > Some(0),
        "{doc}"
    );
    assert_eq!(
        doc["mailboxes"][0]["already_uploaded"].as_u64(),
        Some(40),
        "{doc}"
    );

    let fresh = tmp.path().join("fresh/none.journal");
    let fresh = fresh.to_str().unwrap();
    for without in [vec!["--journal", fresh], vec!["--no-journal"]] {
        let (text, doc) = dry_run(&dovecot, &maildir, &without);
        assert!(
            text.contains("INBOX: 0 messages, 0 B, no dates, 40 already there (server)"),
            "{without:?}: {text}"
        );
        assert!(
            text.contains("upload would send 0 messages (0 B), 60 already there (server)"),
            "{without:?}: {text}"
        );
        let a = &doc["against_server"];
        assert_eq!(
            (a["would_send"].as_u64(), a["already_on_server"].as_u64()),
            (Some(0), Some(TOTAL)),
            "{doc}"
        );
        // No journal: every message's size and Message-ID read once.
        assert_eq!(
            a["server_check"]["messages_read"].as_u64(),
            Some(TOTAL),
            "{doc}"
        );
    }
    assert!(
        !tmp.path().join("fresh").exists(),
        "the dry run made the journal's directory"
    );

    // The upload agrees: it sends nothing.
    assert_eq!(uploaded(&dovecot, &maildir, fresh), 0);
}

/// Two messages added to Work and a new folder of one: the dry run (with
/// the journal and without) would send 3, Work's 2 and the new folder's
/// one (not created), and the upload then sends exactly those. A batch
/// an interrupted run left open in the journal is named, not resolved.
#[test]
fn the_dry_run_counts_what_the_upload_then_sends() {
    let (dovecot, _tmp, maildir, journal) = uploaded_once();
    let j = journal.to_str().unwrap();
    for i in [20, 21] {
        write_message(
            &maildir,
            ".Work",
            &format!("1600000000.M{i}P1.host"),
            &message("Work", i),
        );
    }
    write_message(
        &maildir,
        ".Later",
        "1600000000.M1P1.host",
        &message("Later", 1),
    );

    for args in [vec!["--journal", j], vec!["--no-journal"]] {
        let (text, doc) = dry_run(&dovecot, &maildir, &args);
        assert!(text.contains("Work: 2 messages,"), "{args:?}: {text}");
        assert!(text.contains(", 20 already there ("), "{args:?}: {text}");
        assert!(text.contains("Later: 1 message,"), "{args:?}: {text}");
        assert!(
            text.contains("upload would send 3 messages ("),
            "{args:?}: {text}"
        );
        assert_eq!(
            doc["against_server"]["would_send"].as_u64(),
            Some(3),
            "{doc}"
        );
        assert_eq!(
            doc["against_server"]["already_there"].as_u64(),
            Some(TOTAL),
            "{doc}"
        );
    }
    assert!(
        !dovecot
            .reader()
            .unwrap()
            .list_mailboxes()
            .unwrap()
            .iter()
            .any(|m| m == "Later"),
        "the dry run created a mailbox"
    );

    // An interrupted run's open batch: named, not resolved (the file stays
    // as it is, checked by `dry_run`).
    {
        let mut jj = Journal::open(&journal, false).unwrap();
        let fp = mailhaul::fingerprint::Fingerprint::of(
            message("Work", 20).replace('\n', "\r\n").as_bytes(),
        );
        jj.begin("Work", Before::default(), &[fp]).unwrap();
    }
    let (text, doc) = dry_run(&dovecot, &maildir, &["--journal", j]);
    assert!(
        text.contains("the journal holds 1 open batch (1 message, in Work) of an interrupted run: the upload looks for them on the server first"),
        "{text}"
    );
    assert_eq!(
        doc["against_server"]["open_batches"]["batches"].as_u64(),
        Some(1),
        "{doc}"
    );
    assert_eq!(
        doc["against_server"]["would_send"].as_u64(),
        Some(3),
        "{doc}"
    );

    assert_eq!(uploaded(&dovecot, &maildir, j), 3);
    let (text, _) = dry_run(&dovecot, &maildir, &["--journal", j]);
    assert!(
        text.contains("upload would send 0 messages (0 B), 63 already there (journal)"),
        "{text}"
    );
}
