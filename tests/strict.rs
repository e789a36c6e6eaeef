//! Strict servers (issue 10): keywords a mailbox cannot keep are left out
//! of the APPEND and reported per mailbox; the messages always land. Played
//! by a proxy in front of Dovecot ([`StrictProxy`]) that drops `\*` from
//! PERMANENTFLAGS and answers an APPEND carrying a keyword with
//! `BAD APPEND Unrecognized flag`, as GNU imap4d does.

use std::path::{Path, PathBuf};

use crate::util::strict_proxy::StrictProxy;
use crate::util::{Dovecot, Fetched, Imap4d, MailhaulCommand};

/// An mbox `letters`: two messages with keywords (Work, $Label1), one without.
fn letters(dir: &Path) -> PathBuf {
    let p = dir.join("letters");
    std::fs::write(
        &p,
        "From a@b Mon Jan  6 09:15:00 2020\nSubject: one\nMessage-ID: <1@x>\nStatus: RO\nX-Keywords: Work $Label1\n\nMARK-1\n\n\
         From a@b Mon Jan  6 09:16:00 2020\nSubject: two\nMessage-ID: <2@x>\nX-Status: F\nX-Keywords: Work\n\nMARK-2\n\n\
         From a@b Mon Jan  6 09:17:00 2020\nSubject: three\nMessage-ID: <3@x>\nStatus: RO\n\nMARK-3\n",
    )
    .unwrap();
    p
}

const DROPPED: &str =
    "letters: 2 messages: keywords $Label1, Work not kept: the server does not allow new keywords";

/// Uploads `letters` through a strict proxy; returns stderr and the
/// (marker, flags) of what landed in `letters`, sorted.
fn upload_through(no_new_keywords: bool) -> (String, Vec<(String, Vec<String>)>, usize) {
    let dovecot = Dovecot::start().unwrap();
    let proxy = StrictProxy::start(dovecot.plain_port(), no_new_keywords);
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    let out = MailhaulCommand::new()
        .arg("upload")
        .arg(&src)
        .server_via(&dovecot, proxy.port())
        .arg("--no-journal")
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let landed = marks_and_flags(dovecot.reader().unwrap().fetch_all("letters").unwrap());
    let refused = proxy.refused.load(std::sync::atomic::Ordering::SeqCst);
    (stderr, landed, refused)
}

/// (marker line, sorted flags) of each fetched message, sorted.
fn marks_and_flags(fetched: Vec<Fetched>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = fetched
        .into_iter()
        .map(|f| {
            let body = String::from_utf8_lossy(&f.body).to_string();
            let mark = body
                .lines()
                .find(|l| l.starts_with("MARK-"))
                .unwrap_or_default()
                .to_string();
            let mut flags = f.flags;
            flags.sort();
            (mark, flags)
        })
        .collect();
    out.sort();
    out
}

fn expected() -> Vec<(String, Vec<String>)> {
    vec![
        ("MARK-1".into(), vec!["\\Seen".into()]),
        ("MARK-2".into(), vec!["\\Flagged".into()]),
        ("MARK-3".into(), vec!["\\Seen".into()]),
    ]
}

/// PERMANENTFLAGS without `\*`: the keywords are left out before sending
/// (the proxy never refuses an APPEND), every message lands once with its
/// system flags, and the report says which keywords were not kept.
#[test]
fn permanentflags_without_wildcard_drops_keywords_before_sending() {
    let (stderr, landed, refused) = upload_through(true);
    assert_eq!(landed, expected(), "{stderr}");
    assert_eq!(refused, 0, "an APPEND carried a keyword: {stderr}");
    assert_eq!(stderr.matches(DROPPED).count(), 1, "{stderr}");
}

/// A server that claims `\*` but refuses an APPEND naming a flag (`BAD
/// APPEND Unrecognized flag`): the refused message is sent again without
/// its keywords, nothing fails, and the drop is reported the same way.
#[test]
fn an_append_refused_for_a_flag_is_sent_again_without_keywords() {
    let (stderr, landed, refused) = upload_through(false);
    assert_eq!(landed, expected(), "{stderr}");
    assert!((1..=2).contains(&refused), "refused {refused}: {stderr}");
    assert_eq!(stderr.matches(DROPPED).count(), 1, "{stderr}");
    assert!(!stderr.contains("refused by the server"), "{stderr}");
}

/// The real strict server, GNU imap4d (private instance): a fresh account
/// (INBOX does not exist yet: APPEND answers TRYCREATE, CREATE INBOX BAD),
/// messages with keywords into INBOX and into a new mailbox. Every message
/// lands once with its system flags; the keywords are reported as not kept.
#[test]
fn imap4d_takes_every_message_and_reports_the_keywords() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    let upload = |extra: &[&str]| upload_to_imap4d(&imap4d, &src, extra);
    let stderr = upload(&["--mailbox", "INBOX"]);
    let dropped = DROPPED.replacen("letters", "INBOX", 1);
    assert_eq!(stderr.matches(&dropped).count(), 1, "{stderr}");
    let stderr = upload(&[]);
    assert_eq!(stderr.matches(DROPPED).count(), 1, "{stderr}");
    let mut reader = imap4d.reader().unwrap();
    for mailbox in ["INBOX", "letters"] {
        assert_eq!(
            marks_and_flags(reader.fetch_all(mailbox).unwrap()),
            expected(),
            "{mailbox}\n--- imap4d.log ---\n{}",
            imap4d.log()
        );
    }
}

/// `mailhaul upload SRC EXTRA` into `imap4d`, which must succeed; its stderr.
fn upload_to_imap4d(imap4d: &Imap4d, src: &Path, extra: &[&str]) -> String {
    let out = MailhaulCommand::new()
        .arg("upload")
        .arg(src)
        .imap4d_via(imap4d, imap4d.port())
        .arg("--no-journal")
        .args(extra)
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}\n--- imap4d.log ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        imap4d.log()
    );
    stderr
}

/// imap4d on a fresh account, messages without keywords into INBOX: the
/// APPEND answers TRYCREATE, CREATE INBOX answers BAD, and SELECT creates
/// it; every message lands once.
#[test]
fn imap4d_creates_inbox_by_select() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("plain");
    std::fs::write(
        &src,
        "From a@b Mon Jan  6 09:15:00 2020\nSubject: one\nStatus: RO\n\nMARK-1\n\n\
         From a@b Mon Jan  6 09:16:00 2020\nSubject: two\nX-Status: F\n\nMARK-2\n",
    )
    .unwrap();
    upload_to_imap4d(&imap4d, &src, &["--mailbox", "INBOX"]);
    let log = imap4d.log();
    assert!(log.contains("[TRYCREATE]"), "{log}");
    assert!(log.contains("BAD CREATE"), "{log}");
    let mut reader = imap4d.reader().unwrap();
    assert_eq!(
        marks_and_flags(reader.fetch_all("INBOX").unwrap()),
        [
            ("MARK-1".to_string(), vec!["\\Seen".to_string()]),
            ("MARK-2".to_string(), vec!["\\Flagged".to_string()]),
        ],
        "{log}"
    );
}
