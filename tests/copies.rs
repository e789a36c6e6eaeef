//! A Gmail Takeout message with several labels is uploaded once and copied
//! (UID COPY with the APPENDUID UID) into its other mailboxes; the copies
//! are journaled, so a rerun neither doubles nor misses them.

use crate::util::{Dovecot, FaultProxy, MailhaulCommand};

/// One Takeout entry: its labels and a body marker found nowhere else.
fn entry(n: u32, labels: &str, marker: &str) -> String {
    format!(
        "From 16{n}@xxx Wed Apr 01 0{n}:00:00 +0000 2020\nX-GM-THRID: 16{n}\nX-Gmail-Labels: {labels}\nFrom: Uma <uma@example.org>\nSubject: message {n}\nMessage-ID: <takeout-{n}@example.org>\nDate: Wed, 1 Apr 2020 0{n}:00:00 +0000\n\n{marker}\n\n"
    )
}

/// How many times `needle` occurs in `hay`.
pub(crate) fn count(hay: &[u8], needle: &str) -> usize {
    hay.windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

#[test]
fn takeout_labels_are_copied_not_sent_again() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("All mail Including Spam and Trash.mbox");
    let text = [
        entry(1, "Inbox,Work,\"Travel, 2019\"", "MARKER-THREE-LABELS"),
        entry(2, "Inbox", "MARKER-INBOX-ONLY"),
        entry(3, "Work,\"Travel, 2019\",Opened", "MARKER-TWO-LABELS"),
    ]
    .concat();
    std::fs::write(&mbox, text).unwrap();
    let journal = dir.path().join("j");
    let upload = || {
        let mut c = MailhaulCommand::upload(&dovecot, &[&mbox]);
        c.arg("--journal").arg(&journal).arg("--quiet");
        c.assert_success()
    };
    upload();

    let holds = |mailbox: &str, want: &[&str]| {
        let mut r = dovecot.reader().unwrap();
        let bodies: Vec<Vec<u8>> = r
            .fetch_all(mailbox)
            .unwrap()
            .into_iter()
            .map(|f| f.body)
            .collect();
        assert_eq!(bodies.len(), want.len(), "{mailbox}");
        for marker in want {
            let n: usize = bodies.iter().map(|b| count(b, marker)).sum();
            assert_eq!(n, 1, "{mailbox} holds {marker} {n} times");
        }
    };
    let check = || {
        holds("INBOX", &["MARKER-THREE-LABELS", "MARKER-INBOX-ONLY"]);
        holds("Work", &["MARKER-THREE-LABELS", "MARKER-TWO-LABELS"]);
        holds(
            "Travel, 2019",
            &["MARKER-THREE-LABELS", "MARKER-TWO-LABELS"],
        );
    };
    check();
    let sent = dovecot.client_bytes();
    for marker in ["MARKER-THREE-LABELS", "MARKER-TWO-LABELS"] {
        assert_eq!(count(&sent, marker), 1, "{marker} sent once");
    }
    let copies = || {
        dovecot
            .client_commands()
            .iter()
            .filter(|c| c.to_ascii_uppercase().contains(" UID COPY "))
            .count()
    };
    assert!(copies() >= 1, "{:?}", dovecot.client_commands());

    // A rerun: nothing sent, nothing copied, nothing doubled.
    let (appends, copied) = (dovecot.count_commands("APPEND"), copies());
    upload();
    assert_eq!(dovecot.count_commands("APPEND"), appends);
    assert_eq!(copies(), copied);
    check();
}

/// A rerun after the copies were lost (the journal cut back to before
/// them): the missing ones are made, nothing doubled.
#[test]
fn copies_missing_from_the_journal_are_made_on_rerun() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("Takeout.mbox");
    std::fs::write(&mbox, entry(1, "Inbox,Work", "MARKER-A")).unwrap();
    let journal = dir.path().join("j");
    let mut first = MailhaulCommand::upload(&dovecot, &[&mbox]);
    first
        .arg("--journal")
        .arg(&journal)
        .args(["--quiet", "--include", "INBOX"]);
    first.assert_success();
    let mut rerun = MailhaulCommand::upload(&dovecot, &[&mbox]);
    rerun.arg("--journal").arg(&journal).arg("--quiet");
    rerun.assert_success();
    let mut r = dovecot.reader().unwrap();
    for mailbox in ["INBOX", "Work"] {
        let n: usize = r
            .fetch_all(mailbox)
            .unwrap()
            .iter()
            .map(|f| count(&f.body, "MARKER-A"))
            .sum();
        assert_eq!(n, 1, "{mailbox}");
    }
}

/// Without UIDPLUS (hidden by a proxy) there is no UID to copy: each
/// mailbox gets its own APPEND, as before; each exactly once, no COPY.
#[test]
fn without_uidplus_each_label_is_appended() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("Takeout.mbox");
    std::fs::write(&mbox, entry(1, "Inbox,Work,\"Travel, 2019\"", "MARKER-B")).unwrap();
    let proxy = FaultProxy::start_hiding(dovecot.plain_port(), None, &["STARTTLS", "UIDPLUS"]);
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&mbox)
        .server_via(&dovecot, proxy.port())
        .arg("--journal")
        .arg(dir.path().join("j"))
        .arg("--quiet");
    c.assert_success();
    let mut r = dovecot.reader().unwrap();
    for mailbox in ["INBOX", "Work", "Travel, 2019"] {
        let n: usize = r
            .fetch_all(mailbox)
            .unwrap()
            .iter()
            .map(|f| count(&f.body, "MARKER-B"))
            .sum();
        assert_eq!(n, 1, "{mailbox}");
    }
    assert_eq!(count(&dovecot.client_bytes(), "MARKER-B"), 3);
    assert!(
        !dovecot
            .client_commands()
            .iter()
            .any(|c| c.to_ascii_uppercase().contains(" COPY ")),
        "{:?}",
        dovecot.client_commands()
    );
}
