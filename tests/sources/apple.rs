//! Apple Mail round trips (issue 12). The fixtures are written here the way
//! Mail writes them: an export (`Mailbox → Export Mailbox…`: `X.mbox`
//! bundles holding `mbox`, `table_of_contents` and `Info.plist`, a child
//! mailbox as a bundle inside its parent) and a `~/Library/Mail/V10` store
//! (`MailData/`, an account's UUID directory, `X.mbox/<uuid>/Data/…/
//! Messages/N.emlx` with the byte count line and the plist of flags and
//! `date-received`, a `.partial.emlx` whose attachments are in
//! `Data/Attachments/N/<part>/`, another whose part is missing, and an
//! `.imapmbox` cache that is skipped).

use std::path::Path;

use base64::Engine as _;

use super::{
    Expectation, assert_holds, assert_mailboxes, expect, json, mail, put, scan_json, scanned, utc,
};
use crate::upload::{Expected, crlf, flags};
use crate::util::{Dovecot, MailhaulCommand};

/// An `.emlx` file: the byte count padded to ten columns as Mail pads it,
/// the message, and the plist (keys in Mail's alphabetical order).
fn emlx(message: &[u8], flag_bits: u64, received: Option<i64>) -> Vec<u8> {
    let mut plist = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" ",
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
        "<plist version=\"1.0\">\n<dict>\n",
        "\t<key>color</key>\n\t<string>000000</string>\n",
        "\t<key>date-last-viewed</key>\n\t<integer>0</integer>\n",
    ));
    if let Some(r) = received {
        plist += &format!("\t<key>date-received</key>\n\t<integer>{r}</integer>\n");
    }
    plist += &format!(
        "\t<key>flags</key>\n\t<integer>{flag_bits}</integer>\n\
         \t<key>remote-id</key>\n\t<string>4711</string>\n</dict>\n</plist>\n"
    );
    let mut out = format!("{:<10}\n", message.len()).into_bytes();
    out.extend_from_slice(message);
    out.extend_from_slice(plist.as_bytes());
    out
}

/// The bits of the emlx `flags` value (jwz's table, see src/source/apple/flags.rs).
const READ: u64 = 1;
const DELETED: u64 = 1 << 1;
const ANSWERED: u64 = 1 << 2;
const FLAGGED: u64 = 1 << 4;
const DRAFT: u64 = 1 << 6;
const FORWARDED: u64 = 1 << 8;
const JUNK: u64 = 1 << 24;
/// Bits mailhaul must ignore: attachment count 2, priority 3, "not junk
/// level recorded", and a bit above 32 as current Mail sets.
const NOISE: u64 = (2 << 10) | (3 << 16) | (1 << 29) | (1 << 33);

fn seconds(d: chrono::DateTime<chrono::FixedOffset>) -> i64 {
    d.timestamp()
}

/// A message with a text part and two attachments, complete (as sent) and
/// as Mail's partial copy (attachment bodies stripped, marked with
/// X-Apple-Content-Length), plus the attachment files by IMAP part number.
struct Partial {
    complete: String,
    partial: String,
    files: Vec<(&'static str, &'static str, Vec<u8>)>,
}

fn partial_message(subject: &str) -> Partial {
    let notes = "Minutes of the meeting.\nNext one on Friday.\n".to_string();
    let image: Vec<u8> = (0..600u32).map(|i| (i * 31 % 251) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
    let wrapped: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let head = format!(
        "From: Una <una@example.org>\nTo: me@example.org\nSubject: {subject}\n\
         Date: Tue, 2 Mar 2021 09:00:00 +0100\nMime-Version: 1.0 (Mac OS X Mail 14.0)\n\
         Content-Type: multipart/mixed;\n\tboundary=\"Apple-Mail=_5D6E\"\n\n\n\
         --Apple-Mail=_5D6E\nContent-Transfer-Encoding: 7bit\n\
         Content-Type: text/plain;\n\tcharset=us-ascii\n\nTwo files attached.\n\n"
    );
    let notes_head = "--Apple-Mail=_5D6E\nContent-Transfer-Encoding: 7bit\n\
         Content-Disposition: attachment;\n\tfilename=notes.txt\n\
         Content-Type: text/plain;\n\tname=notes.txt\n";
    let image_head = "--Apple-Mail=_5D6E\nContent-Transfer-Encoding: base64\n\
         Content-Disposition: inline;\n\tfilename=\"chart.png\"\n\
         Content-Type: image/png;\n\tname=\"chart.png\"\n";
    let tail = "--Apple-Mail=_5D6E--\n";
    let complete = format!(
        "{head}{notes_head}\n{notes}\n{image_head}\n{}\n{tail}",
        wrapped.join("\n")
    );
    let partial = format!(
        "{head}{notes_head}X-Apple-Content-Length: {}\n\n\n{image_head}X-Apple-Content-Length: {}\n\n\n{tail}",
        notes.len(),
        b64.len()
    );
    Partial {
        complete,
        partial,
        files: vec![
            ("2", "notes.txt", notes.into_bytes()),
            ("3", "chart.png", image),
        ],
    }
}

/// The scan's source folders as (mailbox, kind), sorted.
fn kinds(scan: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = scan["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap().to_string();
            (text("mailbox"), text("kind"))
        })
        .collect();
    v.sort();
    v
}

/// A store mailbox's `Data` directory (`<bundle>/<uuid>/Data`).
fn data_dir(bundle: &Path) -> std::path::PathBuf {
    bundle.join("8C2D51A0-3B7E-4F4C-9D55-0A9A1C5D2E11/Data")
}

#[test]
fn apple_mail_store_flags_dates_partials_and_folders() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let v10 = dir.path().join("Mail/V10");
    put(&v10.join("MailData/Envelope Index"), b"SQLite format 3\0");
    put(
        &v10.join("MailData/Signatures/AllSignatures.plist"),
        b"<plist/>",
    );
    let account = v10.join("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
    let inbox = data_dir(&account.join("INBOX.mbox"));
    put(&account.join("INBOX.mbox/Info.plist"), b"<plist/>");
    let mut want = Expectation::new();

    let received = utc(2021, 3, 1, 8, 0, 0);
    let one = "From: Ada <ada@example.org>\nSubject: read and flagged\n\
               Date: Mon, 1 Mar 2021 08:59:00 +0100\n";
    let one_body = "First.\nFrom here on, lines start with From.\n";
    put(
        &inbox.join("1/Messages/101.emlx"),
        emlx(
            format!("{one}\n{one_body}").as_bytes(),
            READ | FLAGGED | NOISE,
            Some(seconds(received)),
        ),
    );
    // CRLF as stored stays CRLF; the plist date wins over the Date header.
    let two = "From: Bo <bo@example.org>\r\nSubject: answered, forwarded, junk\r\n\
               Date: Sun, 28 Feb 2021 22:00:00 -0500\r\n";
    put(
        &inbox.join("1/Messages/102.emlx"),
        emlx(
            format!("{two}\r\nSecond.\r\n").as_bytes(),
            ANSWERED | FORWARDED | JUNK,
            Some(seconds(utc(2021, 3, 1, 3, 30, 0))),
        ),
    );
    // A partial message: reassembled from Attachments/103/{2,3}/.
    let p = partial_message("partial, reassembled");
    put(
        &inbox.join("1/Messages/103.partial.emlx"),
        emlx(
            p.partial.as_bytes(),
            READ | DELETED,
            Some(seconds(utc(2021, 3, 2, 8, 0, 1))),
        ),
    );
    for (part, name, bytes) in &p.files {
        put(
            &inbox.join("1/Attachments/103").join(part).join(name),
            bytes,
        );
    }
    // A partial message whose chart.png was never downloaded: reported.
    let lost = partial_message("partial, a part missing");
    let lost_path = inbox.join("1/Messages/104.partial.emlx");
    put(
        &lost_path,
        emlx(lost.partial.as_bytes(), 0, Some(1_614_700_000)),
    );
    let (part, name, bytes) = &lost.files[0];
    put(
        &inbox.join("1/Attachments/104").join(part).join(name),
        bytes,
    );

    expect(
        &mut want,
        "INBOX",
        vec![
            mail(one, one_body, &["\\Flagged", "\\Seen"], received),
            Expected {
                body: format!("{two}\r\nSecond.\r\n").into_bytes(),
                flags: flags(&["$Forwarded", "$Junk", "\\Answered"]),
                date: utc(2021, 3, 1, 3, 30, 0),
            },
            Expected {
                body: crlf(&p.complete),
                flags: flags(&["\\Deleted", "\\Seen"]),
                date: utc(2021, 3, 2, 8, 0, 1),
            },
        ],
    );

    // Archive has no messages of its own; Archive/2019 uses the old
    // Messages/ directly under the bundle and has no date-received, so the
    // top-most Received header dates it. A draft.
    put(&account.join("Archive.mbox/Info.plist"), b"<plist/>");
    let y2019 = account.join("Archive.mbox/2019.mbox");
    let three = "Received: from mx.example.org by imap.example.org; Fri, 6 Dec 2019 10:00:00 +0000\n\
                 From: Cy <cy@example.org>\nSubject: old draft\nDate: Fri, 6 Dec 2019 09:58:00 +0000\n";
    put(
        &y2019.join("Messages/7.emlx"),
        emlx(format!("{three}\nDraft.\n").as_bytes(), DRAFT, None),
    );
    expect(
        &mut want,
        "Archive/2019",
        vec![mail(
            three,
            "Draft.\n",
            &["\\Draft"],
            utc(2019, 12, 6, 10, 0, 0),
        )],
    );
    // On My Mac mailboxes live in V10/Mailboxes.
    let local = data_dir(&v10.join("Mailboxes/Receipts.mbox"));
    let four =
        "From: Shop <shop@example.org>\nSubject: receipt\nDate: Wed, 3 Mar 2021 12:00:00 +0000\n";
    put(
        &local.join("Messages/5.emlx"),
        emlx(
            format!("{four}\nPaid.\n").as_bytes(),
            READ,
            Some(seconds(utc(2021, 3, 3, 12, 0, 5))),
        ),
    );
    expect(
        &mut want,
        "Receipts",
        vec![mail(
            four,
            "Paid.\n",
            &["\\Seen"],
            utc(2021, 3, 3, 12, 0, 5),
        )],
    );
    // An old-style IMAP cache: skipped and said so.
    let cache = v10.join("IMAP-me@imap.example.org/Cache.imapmbox/Messages/1.emlx");
    put(&cache, emlx(b"Subject: cached\n\nx\n", READ, None));

    let out = MailhaulCommand::upload(&dovecot, &[&v10])
        .arg("--json")
        .assert_exit_code(1);
    let report = json(&out);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report:#}");
    let failure = failures[0].to_string();
    assert!(
        failure.contains("104.partial.emlx")
            && failure.contains("part 3 (chart.png) is missing")
            && failure.contains("Attachments/104/3"),
        "{report:#}"
    );
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("Cache.imapmbox") && warnings.contains("--apple-imap-caches"),
        "{report:#}"
    );
    assert_holds(&dovecot, &want);
    // Archive exists as the parent Dovecot creates for Archive/2019.
    assert_mailboxes(&dovecot, &["Archive", "Archive/2019", "Receipts"]);

    // scan names the kind and where the dates came from.
    let scan = MailhaulCommand::new()
        .args(["scan", "--json"])
        .arg(&v10)
        .assert_exit_code(1);
    let scan = json(&scan);
    assert_eq!(
        kinds(&scan),
        [
            ("Archive/2019".to_string(), "apple-emlx".to_string()),
            ("INBOX".into(), "apple-emlx".into()),
            ("Receipts".into(), "apple-emlx".into()),
        ]
    );
    assert_eq!(
        scanned(&scan, "INBOX")["date_sources"],
        serde_json::json!({"mail store's received date": 3})
    );
    assert_eq!(
        scanned(&scan, "Archive/2019")["date_sources"],
        serde_json::json!({"Received header": 1})
    );
}

#[test]
fn apple_mail_export_bundles() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("Export");
    let mut want = Expectation::new();
    let work =
        "From: Dee <dee@example.org>\nSubject: work one\nDate: Thu, 4 Mar 2021 10:00:00 +0000\n";
    let work2 =
        "From: Eve <eve@example.org>\nSubject: work two\nDate: Thu, 4 Mar 2021 11:00:00 +0000\n";
    put(
        &export.join("Work.mbox/mbox"),
        format!(
            "From dee@example.org Thu Mar  4 10:00:05 2021\n{work}\nHello.\n>From the quoted line.\n\n\
             From eve@example.org Thu Mar  4 11:00:05 2021\n{work2}\nAgain.\n"
        ),
    );
    put(
        &export.join("Work.mbox/table_of_contents"),
        b"\x00\x00\x00\x02toc",
    );
    put(
        &export.join("Work.mbox/Info.plist"),
        b"<?xml version=\"1.0\"?><plist><dict/></plist>\n",
    );
    let client =
        "From: Flo <flo@example.org>\nSubject: client\nDate: Fri, 5 Mar 2021 10:00:00 +0000\n";
    put(
        &export.join("Work.mbox/Clients.mbox/mbox"),
        format!("From flo@example.org Fri Mar  5 10:00:07 2021\n{client}\nClient mail.\n"),
    );
    put(
        &export.join("Work.mbox/Clients.mbox/table_of_contents"),
        b"",
    );
    expect(
        &mut want,
        "Work",
        vec![
            mail(
                work,
                "Hello.\nFrom the quoted line.\n",
                &[],
                utc(2021, 3, 4, 10, 0, 5),
            ),
            mail(work2, "Again.\n", &[], utc(2021, 3, 4, 11, 0, 5)),
        ],
    );
    expect(
        &mut want,
        "Work/Clients",
        vec![mail(
            client,
            "Client mail.\n",
            &[],
            utc(2021, 3, 5, 10, 0, 7),
        )],
    );

    let scan = scan_json(&[&export], &[]);
    assert_eq!(
        kinds(&scan),
        [
            ("Work".to_string(), "apple-export".to_string()),
            ("Work/Clients".into(), "apple-export".into()),
        ]
    );
    let names: Vec<&str> = scan["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Work", "Work/Clients"], "{scan:#}");
    assert!(scan["warnings"].as_array().unwrap().is_empty(), "{scan:#}");

    MailhaulCommand::upload(&dovecot, &[&export]).assert_success();
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["Work", "Work/Clients"]);
}
