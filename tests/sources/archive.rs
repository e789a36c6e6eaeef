//! The Takeout fixture ([`super::clients::takeout_fixture`]) as downloaded,
//! never unpacked: a zip export in two parts found in a directory (the mbox
//! whole in the second part, other products' files in both), and a tgz
//! export in two parts given on the command line, its mbox cut in the middle
//! of a message across them. Each goes to its own Dovecot, and each server
//! must then hold exactly what uploading the unpacked mbox leaves: the same
//! mailboxes, bytes, flags and internal dates, multi-label messages sent
//! once and copied.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use super::clients::takeout_fixture;
use super::{assert_holds, json, put, scan_json};
use crate::copies::count;
use crate::util::{Dovecot, MailhaulCommand, parse_internal_date};

const MBOX: &str = "Takeout/Mail/All mail Including Spam and Trash.mbox";

fn write_zip(path: &Path, files: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn write_tgz(path: &Path, files: &[(&str, &[u8])]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    let mut b = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// A message as read back: bytes, sorted flags, internal date.
type Stored = (Vec<u8>, Vec<String>, chrono::DateTime<chrono::FixedOffset>);

/// Every mailbox of a server with its messages, sorted by bytes (`None`
/// for a mailbox that cannot be selected, like `Work` above `Work/Projects`).
fn contents(server: &Dovecot) -> BTreeMap<String, Option<Vec<Stored>>> {
    let mut reader = server.reader().unwrap();
    let mut out = BTreeMap::new();
    for mailbox in reader.list_mailboxes().unwrap() {
        let messages = reader.fetch_all(&mailbox).ok().map(|fetched| {
            let mut messages: Vec<Stored> = fetched
                .into_iter()
                .map(|f| {
                    let mut flags = f.flags;
                    flags.sort();
                    (
                        f.body,
                        flags,
                        parse_internal_date(&f.internal_date).unwrap(),
                    )
                })
                .collect();
            messages.sort();
            messages
        });
        out.insert(mailbox, messages);
    }
    out
}

#[test]
fn takeout_archives_upload_like_the_unpacked_mbox() {
    let (text, want) = takeout_fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // The reference: the unpacked mbox, as uploaded today.
    let mbox = d.join("unpacked/All mail Including Spam and Trash.mbox");
    put(&mbox, &text);
    let unpacked = Dovecot::start().unwrap();
    MailhaulCommand::upload(&unpacked, &[&mbox])
        .arg("--quiet")
        .assert_success();
    let reference = contents(&unpacked);
    assert_eq!(
        reference.keys().collect::<Vec<_>>(),
        ["Archive", "INBOX", "Sent", "Work", "Work/Projects"]
    );
    assert_eq!(reference["INBOX"].as_ref().map(Vec::len), Some(2));

    // A zip export in two parts, found together in a directory.
    let zips = d.join("zips");
    std::fs::create_dir(&zips).unwrap();
    write_zip(
        &zips.join("takeout-20261101T000000Z-001.zip"),
        &[
            ("Takeout/archive_browser.html", b"<html/>"),
            ("Takeout/Drive/notes.txt", b"not mail"),
        ],
    );
    write_zip(
        &zips.join("takeout-20261101T000000Z-002.zip"),
        &[
            (MBOX, text.as_bytes()),
            ("Takeout/Mail/User Settings/Labels.json", b"{}"),
        ],
    );
    let zipped = Dovecot::start().unwrap();
    let report = json(
        &MailhaulCommand::upload(&zipped, &[&zips])
            .arg("--json")
            .assert_success(),
    );
    assert_eq!(report["totals"]["skipped"], 1, "the chat: {report:#}");
    assert_holds(&zipped, &want);
    assert_eq!(contents(&zipped), reference, "zip vs unpacked");
    // The message with two folder labels was sent once and copied.
    assert_eq!(count(&zipped.client_bytes(), "Subject: two labels"), 1);
    assert!(
        zipped
            .client_commands()
            .iter()
            .any(|c| c.to_ascii_uppercase().contains(" UID COPY ")),
        "{:?}",
        zipped.client_commands()
    );

    // A tgz export in two parts given on the command line (out of order),
    // the mbox cut in the middle of a message across them.
    let cut = text.len() / 2;
    let (head, tail) = text.as_bytes().split_at(cut);
    let tgz1 = d.join("takeout-20261101T000000Z-001.tgz");
    let tgz2 = d.join("takeout-20261101T000000Z-002.tgz");
    write_tgz(&tgz1, &[("Takeout/Drive/notes.txt", b"x"), (MBOX, head)]);
    write_tgz(&tgz2, &[(MBOX, tail)]);
    let tarred = Dovecot::start().unwrap();
    MailhaulCommand::upload(&tarred, &[&tgz2, &tgz1])
        .arg("--quiet")
        .assert_success();
    assert_eq!(contents(&tarred), reference, "split tgz vs unpacked");

    // scan names the kind and notes what is not mail.
    let scan = scan_json(&[&zips], &[]);
    assert_eq!(scan["sources"][0]["kind"], "takeout-zip", "{scan:#}");
    let warnings = scan["warnings"].to_string();
    assert!(
        warnings.contains("3 files of other Google products (Drive, Mail, archive_browser.html)"),
        "{scan:#}"
    );
    let scan = scan_json(&[&tgz1, &tgz2], &["--format", "takeout-tgz"]);
    assert_eq!(scan["sources"][0]["kind"], "takeout-tgz", "{scan:#}");
    assert!(
        scan["warnings"].to_string().contains("found in 2 parts"),
        "{scan:#}"
    );
}
