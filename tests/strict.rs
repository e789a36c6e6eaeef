//! Strict servers (issue 10): keywords a mailbox cannot keep are left out
//! of the APPEND and reported per mailbox; the messages always land. Played
//! by a proxy in front of Dovecot ([`StrictProxy`]) that drops `\*` from
//! PERMANENTFLAGS and answers an APPEND carrying a keyword with
//! `BAD APPEND Unrecognized flag`, as GNU imap4d does.

use std::path::{Path, PathBuf};

use crate::util::strict_proxy::StrictProxy;
use crate::util::{Dovecot, MailhaulCommand};

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
    let mut landed: Vec<(String, Vec<String>)> = dovecot
        .reader()
        .unwrap()
        .fetch_all("letters")
        .unwrap()
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
    landed.sort();
    let refused = proxy.refused.load(std::sync::atomic::Ordering::SeqCst);
    (stderr, landed, refused)
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
