//! Outlook OSTs: the PST fixture made into an OST of Outlook 2003–2010 (its
//! header rewritten here) uploads the same messages as the PST; the real
//! OSTs of Outlook 2013+ of pst-extractor 1.12.0 (4 KiB pages, compressed
//! blocks) upload their mail items, compared with readpst's export,
//! pst-extractor's listing and the files the test messages were sent with.

use std::path::Path;
use std::process::Command;

use super::{digest, enron_pst, parse, pst_extractor_file};
use crate::sources::{scan_json, scanned};
use crate::util::{Dovecot, Fetched, ImapReader, MailhaulCommand, parse_internal_date};
use sha2::Digest as _;

/// `pst` made into an OST as Outlook 2003–2010 write them: the same file
/// with the client magic `wMagicClient` "SO" instead of "SM" ([MS-PST]
/// 2.2.2.6), `wVerClient` 12 as in Outlook's OSTs (19 in a PST), and the
/// header's two CRCs recomputed (Unicode header: `dwCRCPartial` at 4 over
/// the 471 bytes from 8, `dwCRCFull` at 524 over the 516 bytes from 8).
/// `wVer` stays 23 (Unicode).
fn ost_of(pst: &Path, ost: &Path) {
    let mut bytes = std::fs::read(pst).unwrap();
    assert_eq!(&bytes[..4], b"!BDN");
    assert_eq!(&bytes[8..14], b"SM\x17\0\x13\0", "a Unicode PST");
    bytes[8..10].copy_from_slice(b"SO");
    bytes[12..14].copy_from_slice(&12_u16.to_le_bytes());
    let partial = pst_crc(&bytes[8..8 + 471]);
    bytes[4..8].copy_from_slice(&partial.to_le_bytes());
    let full = pst_crc(&bytes[8..8 + 516]);
    bytes[524..528].copy_from_slice(&full.to_le_bytes());
    std::fs::write(ost, bytes).unwrap();
}

/// [MS-PST] 5.3's CRC: CRC-32 (reflected, polynomial 0xEDB88320) from 0,
/// without the final inversion.
fn pst_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// An OST of Outlook 2003–2010 (the PST fixture with the OST client magic)
/// uploads the same messages as the PST: each mailbox on a server that got
/// the OST holds byte for byte the messages, flags and internal dates of
/// the same mailbox on a server that got the PST.
#[test]
fn ost_upload_matches_pst() {
    let pst = enron_pst();
    let dir = tempfile::tempdir().unwrap();
    let ost = dir.path().join("enron.ost");
    ost_of(&pst, &ost);
    assert_ne!(std::fs::read(&ost).unwrap(), std::fs::read(&pst).unwrap());

    let from_pst = Dovecot::start().unwrap();
    let from_ost = Dovecot::start().unwrap();
    let out = MailhaulCommand::upload(&from_pst, &[&pst]).assert_success();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("71 of 71 messages uploaded"), "{summary}");
    let out = MailhaulCommand::upload(&from_ost, &[&ost]).assert_success();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("71 of 71 messages uploaded"), "{summary}");

    let mut pst_reader = from_pst.reader().unwrap();
    let mut ost_reader = from_ost.reader().unwrap();
    let mailboxes = pst_reader.list_mailboxes().unwrap();
    assert_eq!(ost_reader.list_mailboxes().unwrap(), mailboxes);
    // The messages of a mailbox with their flags and dates, sorted; None for
    // a name that cannot be examined (the parents of the nested folders).
    let contents = |reader: &mut ImapReader, mailbox: &str| {
        reader.fetch_all(mailbox).ok().map(|fetched| {
            let mut keyed: Vec<_> = fetched
                .into_iter()
                .map(|f: Fetched| (f.body, f.flags, f.internal_date))
                .collect();
            keyed.sort();
            keyed
        })
    };
    let mut total = 0;
    for mailbox in &mailboxes {
        let expected = contents(&mut pst_reader, mailbox);
        let got = contents(&mut ost_reader, mailbox);
        assert!(
            got == expected,
            "{mailbox}: the OST's messages differ from the PST's"
        );
        total += got.map_or(0, |m| m.len());
    }
    assert_eq!(total, 71);
}

/// The mail items of `pstextractortest@outlook.com.ost` (an OST of Outlook
/// 2013+: wVer 36, 4 KiB pages, zlib-compressed blocks) by mailbox, as
/// pst-extractor 1.12.0 lists them (its `example/testdata/output.txt`); the
/// OST's other items are meeting requests/responses and appointments.
const OST_2013_MAIL: [(&str, &str); 8] = [
    ("INBOX", "Get started with OneDrive"),
    ("INBOX", "Welcome to your new Outlook.com account"),
    ("INBOX", "test, no attachment"),
    ("INBOX", "text file attachment"),
    ("INBOX", "jpg attachment"),
    ("INBOX", "pdf attachment"),
    ("INBOX", "text, jpg, pdf attachments"),
    ("Sync Issues", "Synchronization Log:"),
];

/// The same for `pstextractortestpdf@outlook.com.ost`.
const OST_2013_PDF_MAIL: [(&str, &str); 2] = [
    ("INBOX", "single PDF"),
    ("INBOX", "Welcome to your new Outlook.com account"),
];

/// The files the test messages were sent with (pst-extractor 1.12.0's
/// `example/testdata/attachments/`), by name: their SHA-256.
const SENT_ATTACHMENTS: [(&str, &str); 3] = [
    (
        "Clinometer Usage.pdf",
        "36a917a48e7b93f5226a082529e6c3ec663f083d4f9387551303d82379e2e445",
    ),
    (
        "primoz-roglic-of-slovenia-and-team-jumbo-visma-red-leader-news-photo-1628610563.jpg",
        "755560d196b67580846cec91fe4188cb82df0f8ce9913eca450134b8f7989810",
    ),
    (
        "text.txt",
        "479b060322517dbb30f0f10b68bf785d48bb8825276cabde82d54ed773cbcb50",
    ),
];

/// The real OSTs of Outlook 2013+ uploaded to Dovecot and read back: each
/// mailbox holds pst-extractor's mail items of its folder, and each message
/// agrees with readpst's export of the same item (matched by subject):
/// subject, sender, plain-text body, every attachment's name and bytes;
/// flags are the OST's read state, internal dates its delivery times; the
/// attachments of the test messages are the files they were sent with.
#[test]
fn ost_2013_upload_matches_readpst() {
    upload_matches_readpst(
        "pstextractortest@outlook.com.ost",
        &OST_2013_MAIL,
        "8 of 183 messages uploaded",
    );
    upload_matches_readpst(
        "pstextractortestpdf@outlook.com.ost",
        &OST_2013_PDF_MAIL,
        "2 of 162 messages uploaded",
    );
}

fn upload_matches_readpst(name: &str, mail: &[(&str, &str)], uploaded: &str) {
    let ost = pst_extractor_file(name);
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("readpst")
        .args(["-q", "-j", "0", "-M", "-o"])
        .arg(dir.path())
        .arg(&ost)
        .status()
        .expect("readpst (pst-utils) installed by scripts/install-test-deps");
    assert!(status.success(), "readpst failed: {status}");
    let top = dir.path().join(name);
    // readpst's item of `folder` whose subject is `subject`.
    let reference = |folder: &str, subject: &str| -> Vec<u8> {
        let folder = if folder == "INBOX" { "Inbox" } else { folder };
        std::fs::read_dir(top.join(folder))
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .find(|b| parse(b).subject().map(str::trim) == Some(subject))
            .unwrap_or_else(|| panic!("{folder}: {subject:?} not in readpst's export"))
    };

    let dovecot = Dovecot::start().unwrap();
    let out = MailhaulCommand::upload(&dovecot, &[&ost]).assert_success();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains(uploaded), "{name}: {summary}");

    let mut reader = dovecot.reader().unwrap();
    let mut mailboxes: Vec<&str> = mail.iter().map(|(m, _)| *m).collect();
    mailboxes.dedup();
    let mut sent_attachments = 0;
    for mailbox in mailboxes {
        let fetched = reader.fetch_all(mailbox).unwrap();
        let mut subjects: Vec<String> = fetched
            .iter()
            .map(|f| {
                parse(&f.body)
                    .subject()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
            .collect();
        subjects.sort();
        let mut expected: Vec<String> = mail
            .iter()
            .filter(|(m, _)| *m == mailbox)
            .map(|(_, s)| s.to_string())
            .collect();
        expected.sort();
        assert_eq!(subjects, expected, "{name}: {mailbox}");
        for f in fetched {
            let ours = parse(&f.body);
            let subject = ours.subject().unwrap_or_default().trim().to_string();
            let theirs = reference(mailbox, &subject);
            let theirs = parse(&theirs);
            let mut expected = digest(&theirs);
            // The RTF-only sync log has no sender: readpst writes
            // MAILER-DAEMON and names the RTF body rtf-body.rtf (mailhaul:
            // no From, body.rtf); the RTF bytes must agree.
            if expected.from.as_deref() == Some("mailer-daemon") {
                expected.from = None;
                for (name, _) in &mut expected.attachments {
                    if name == "rtf-body.rtf" {
                        *name = "body.rtf".into();
                    }
                }
            }
            let ours_digest = digest(&ours);
            assert_eq!(
                ours_digest, expected,
                "{name}: {mailbox}: {subject:?} differs from readpst"
            );
            for (file, bytes) in &ours_digest.attachments {
                if let Some((_, sha)) = SENT_ATTACHMENTS.iter().find(|(n, _)| n == file) {
                    let got = sha2::Sha256::digest(bytes);
                    let got: String = got.iter().map(|b| format!("{b:02x}")).collect();
                    assert_eq!(&got, sha, "{name}: {subject:?}: {file}");
                    sent_attachments += 1;
                }
            }
            // Read state: readpst's Status "RO" is \Seen.
            let read = theirs.header_raw("Status").is_some_and(|s| s.contains('R'));
            let seen = if read {
                vec!["\\Seen".to_string()]
            } else {
                vec![]
            };
            assert_eq!(f.flags, seen, "{name}: {mailbox}: {subject:?} flags");
            // The internal date is the delivery time: at or up to a minute
            // after the Date readpst writes (the sender's, or the
            // delivery time itself where the OST has no headers).
            let date = parse_internal_date(&f.internal_date).unwrap().timestamp();
            let sent = theirs.date().unwrap().to_timestamp();
            assert!(
                (sent..=sent + 60).contains(&date),
                "{name}: {mailbox}: {subject:?} internal date {} vs Date {sent}",
                f.internal_date
            );
        }
    }
    assert!(sent_attachments > 0, "{name}: no sent attachment checked");
}

/// A scan of the real OST of Outlook 2013+ lists its folders below
/// "Root - Mailbox/IPM_SUBTREE" as pst-extractor does, with their mail
/// items, and nothing above them.
#[test]
fn ost_2013_scan_lists_its_folders() {
    let ost = pst_extractor_file("pstextractortest@outlook.com.ost");
    let scan = scan_json(&[&ost], &[]);
    let mailboxes = scan["mailboxes"].as_array().unwrap();
    assert_eq!(mailboxes.len(), 36, "{scan:#}");
    assert_eq!(scanned(&scan, "INBOX")["messages"], 7, "{scan:#}");
    assert_eq!(scanned(&scan, "Sync Issues")["messages"], 1);
    let names: Vec<&str> = mailboxes
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for name in [
        "Deleted Items",
        "Sent Items",
        "Calendar/United States holidays",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.contains("IPM_SUBTREE") || n.starts_with("Root - "))
    );
    let total: u64 = mailboxes
        .iter()
        .map(|m| m["messages"].as_u64().unwrap())
        .sum();
    assert_eq!(total, OST_2013_MAIL.len() as u64, "{scan:#}");
}

/// A rerun without the journal finds every mail item of an Outlook 2013+
/// OST on the server and sends nothing again: INBOX holds its 7 messages
/// once. ("Get started with OneDrive" folds its DKIM-Signature's `h=` list
/// onto a line starting ` Message-ID:`, once read as its Message-ID: its
/// key never matched the server's, and each rerun sent it again.)
#[test]
fn ost_2013_rerun_without_journal_sends_nothing_again() {
    let ost = pst_extractor_file("pstextractortest@outlook.com.ost");
    let dovecot = Dovecot::start().unwrap();
    let upload = || {
        let out = MailhaulCommand::upload(&dovecot, &[&ost])
            .args(["--no-journal", "--json"])
            .assert_success();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = upload();
    assert_eq!(first["totals"]["uploaded"], 8, "{}", first["totals"]);
    let again = upload();
    assert_eq!(again["totals"]["uploaded"], 0, "{}", again["totals"]);
    assert_eq!(again["totals"]["already_present"], 8, "{}", again["totals"]);
    let held = dovecot.reader().unwrap().fetch_all("INBOX").unwrap();
    assert_eq!(held.len(), 7);
    let dry = MailhaulCommand::upload(&dovecot, &[&ost])
        .args(["--no-journal", "--dry-run"])
        .assert_success();
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(said.contains("would send 0 messages"), "{said}");
}
