//! Looking at what the server holds, against a private Dovecot (issue 9
//! item 4): `Session::fetch_hashes` hashes each body as it streams, so a
//! message past the 64 MiB bound on a kept literal can still be looked for
//! (the bound on one kept literal, with its error naming it, is
//! unit-tested in `frame_tests.rs`); and a Gmail Takeout rerun without
//! journal, whose labels put one message in several mailboxes, reads the
//! source's keys once for all of them and fetches bodies only for the
//! look-alikes of one mailbox (the rawlog shows what was asked).

use std::time::Duration;

use mailhaul::fingerprint::Fingerprint;
use mailhaul::imap::{AppendItem, ConnectOptions, Session, TlsMode};
use mailhaul::secret::Secret;

use crate::server_checked::json;
use crate::util::MailhaulCommand;
use crate::util::dovecot::Dovecot;

fn connect(dovecot: &Dovecot) -> Session {
    Session::connect(&ConnectOptions {
        host: "127.0.0.1".into(),
        port: dovecot.tls_port(),
        tls: TlsMode::Implicit,
        user: dovecot.user().into(),
        password: Secret::new(dovecot.password().into()),
        oauth2: false,
        trace: None,
        ca_file: Some(dovecot.ca_file()),
        insecure: false,
        allow_plaintext: false,
        timeout: Some(Duration::from_secs(120)),
        compress: false,
    })
    .unwrap()
}

/// A message of about `size` bytes with CRLF line ends (as stored and
/// fetched back unchanged), numbered lines so that no two are alike.
fn message(size: usize, subject: &str) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
    )
    .into_bytes();
    let mut n = 0u64;
    while m.len() < size {
        m.extend_from_slice(format!("line {n:010} of a large message body\r\n").as_bytes());
        n += 1;
    }
    m
}

#[test]
fn a_70_mb_message_is_hashed_as_it_streams() {
    let dovecot = Dovecot::start().unwrap();
    let mut s = connect(&dovecot);
    s.create("Big").unwrap();
    let big = message(70_000_000, "big");
    let small = message(2_000, "small");
    let mut uids = Vec::new();
    for bytes in [&big, &small] {
        let item = AppendItem {
            flags: &[],
            date: None,
            bytes,
        };
        let appended = s.append("Big", &[item]).unwrap();
        uids.extend(appended.uids);
    }
    assert_eq!(uids.len(), 2, "Dovecot answers APPENDUID");
    let sel = s.select("Big").unwrap();
    assert_eq!(sel.exists, 2);
    let got = s.fetch_hashes(&[uids[1], uids[0]]).unwrap();
    assert_eq!(
        got,
        [
            (uids[0], Fingerprint::of(&big)),
            (uids[1], Fingerprint::of(&small))
        ]
    );
    // Another session hashes it too.
    let mut s = connect(&dovecot);
    s.select("Big").unwrap();
    assert_eq!(
        s.fetch_hashes(&[uids[0]]).unwrap(),
        [(uids[0], Fingerprint::of(&big))]
    );
    s.logout();
}

/// A Takeout entry with `labels` and `body`, and the bytes mailhaul sends
/// for it (no From_ line, no X-Gmail-Labels, CRLF).
fn takeout_entry(n: u32, labels: &str, id: &str, body: &str) -> (String, Vec<u8>) {
    let sent = format!(
        "From: Uma <uma@example.org>\nSubject: message {n}\nMessage-ID: {id}\nDate: Wed, 1 Apr 2020 10:{n:02}:00 +0000\n\n{body}\n"
    );
    let entry = format!(
        "From 16{n}@xxx Wed Apr 01 10:{n:02}:00 +0000 2020\nX-Gmail-Labels: {labels}\n{sent}\n"
    );
    (entry, sent.replace('\n', "\r\n").into_bytes())
}

/// The body FETCHes (`UID FETCH … BODY.PEEK[]`, `BODY.PEEK[TEXT]`) the
/// clients sent.
pub(crate) fn body_commands(dovecot: &Dovecot) -> Vec<String> {
    dovecot
        .client_commands()
        .into_iter()
        .filter(|c| {
            c.contains(" UID FETCH ")
                && (c.contains("BODY.PEEK[]") || c.contains("BODY.PEEK[TEXT]"))
        })
        .collect()
}

/// How many UIDs the body FETCHes asked for, in all.
pub(crate) fn body_uids(dovecot: &Dovecot) -> usize {
    body_commands(dovecot)
        .iter()
        .map(|c| {
            let set = c.split(' ').nth(3).unwrap_or_default();
            set.split(',')
                .map(|r| match r.split_once(':') {
                    Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
                    None => 1,
                })
                .sum::<usize>()
        })
        .sum()
}

/// Six messages labelled Inbox and Work, one Inbox only, and two
/// look-alikes (one Message-ID and size, other bodies) labelled Work, the
/// second already in Work. Without journal, the first upload skips the
/// second look-alike (its body confirms it) and sends the first; a rerun
/// uploads nothing, reads the Takeout mbox's keys once for INBOX and Work,
/// and fetches only the two look-alikes' bodies.
#[test]
fn takeout_rerun_without_journal_reads_bodies_of_look_alikes_only() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = (1..=6)
        .map(|n| takeout_entry(n, "Inbox,Work", &format!("<t{n}@example.org>"), "both"))
        .collect();
    entries.push(takeout_entry(7, "Inbox", "<t7@example.org>", "inbox only"));
    let twin = "<twin@example.org>";
    entries.push(takeout_entry(8, "Work", twin, "twin AAAA"));
    entries.push(takeout_entry(8, "Work", twin, "twin BBBB"));
    assert_eq!(entries[7].1.len(), entries[8].1.len());
    let mbox = dir.path().join("All mail Including Spam and Trash.mbox");
    let text: String = entries.iter().map(|e| e.0.as_str()).collect();
    std::fs::write(&mbox, text).unwrap();

    let mut r = dovecot.reader().unwrap();
    r.ok("CREATE Work").unwrap();
    let a = r.append_raw("Work", &entries[8].1).unwrap();
    assert!(a.is_ok(), "{}", a.line());
    drop(r);
    let upload = || {
        let mut c = MailhaulCommand::upload(&dovecot, &[&mbox]);
        c.args(["--no-journal", "--json"]);
        json(&c.assert_success())
    };
    let first = upload();
    assert_eq!(first["totals"]["uploaded"], 14, "{first}");
    assert_eq!(first["server_check"]["found"], 1, "{first}");
    assert_eq!(first["server_check"]["bodies_hashed"], 1, "{first}");
    let mut r = dovecot.reader().unwrap();
    let work = r.bodies("Work").unwrap();
    assert_eq!(work.len(), 8, "Work");
    for e in &entries[..6].iter().chain(&entries[7..]).collect::<Vec<_>>()[..] {
        assert_eq!(work.iter().filter(|b| **b == e.1).count(), 1, "Work");
    }
    assert_eq!(r.bodies("INBOX").unwrap().len(), 7, "INBOX");
    drop(r);

    let hashed_before = body_uids(&dovecot);
    let again = upload();
    assert_eq!(again["totals"]["uploaded"], 0, "{again}");
    assert_eq!(again["server_check"]["found"], 15, "{again}");
    assert_eq!(
        again["server_check"]["source_keys_read"], 9,
        "one pre-pass for both mailboxes: {again}"
    );
    assert_eq!(again["server_check"]["bodies_hashed"], 2, "{again}");
    assert_eq!(
        body_uids(&dovecot) - hashed_before,
        2,
        "{:#?}",
        dovecot.client_commands()
    );
}
