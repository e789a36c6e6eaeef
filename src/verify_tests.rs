//! Tests of `verify.rs`'s matching and report (split from it to keep it
//! small).

use super::*;
use crate::journal::Landed;

#[test]
fn the_json_report_has_the_schema_and_every_finding() {
    let c = MailboxCheck {
        mailbox: "INBOX".into(),
        source: 3,
        server: 3,
        missing: vec!["m1".into()],
        doubled: vec![(7, "m2".into())],
        extra: vec![9],
        ..Default::default()
    };
    let doc = to_json(&[c], 1, 1);
    assert_eq!(doc["schema"], crate::scan::JSON_SCHEMA);
    assert_eq!(doc["kind"], "verify");
    assert_eq!(doc["mailboxes"][0]["exact"], false);
    assert_eq!(doc["mailboxes"][0]["name"], "INBOX");
    assert_eq!(doc["mailboxes"][0]["doubled"][0]["uid"], 7);
    assert_eq!(doc["totals"]["missing"], 1);
    assert_eq!(doc["totals"]["unreadable"], 1);
    assert_eq!(doc["exit_code"], 1);
}

fn item(n: u8, id: &str) -> SourceItem {
    SourceItem {
        origin: format!("m{n}"),
        fp: Fingerprint::of(&[n]),
        key: ServerKey::Id(id.into(), 10),
        wanted: Wanted {
            fp: Fingerprint::of(&[n]),
            size: Some(10),
            message_id: Some(id.into()),
            text: Some(text(n)),
            date: None,
            wall_clock: None,
        },
    }
}

/// The fingerprint of the text `[n]` (a message with an empty header).
fn text(n: u8) -> Fingerprint {
    Fingerprint::of_text(&[b'\r', b'\n', n])
}

/// [`check`] on a server that stores messages as sent: no text is
/// ever asked for.
fn check(
    mailbox: &str,
    source: &[SourceItem],
    server: &[Summary],
    journal: Option<&Journal>,
    uidvalidity: Option<u32>,
) -> MailboxCheck {
    let mut texts = |uids: &[u32]| -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        panic!("text of {uids:?} asked for")
    };
    super::check(mailbox, source, server, journal, uidvalidity, &mut texts).unwrap()
}

fn summary(uid: u32, id: &str) -> Summary {
    Summary {
        uid,
        size: 10,
        internal_date: None,
        message_id: Some(id.into()),
    }
}

#[test]
fn missing_doubled_and_extra() {
    let source = [item(1, "<a>"), item(2, "<b>"), item(3, "<c>")];
    let server = [
        summary(1, "<a>"),
        summary(2, "<a>"),
        summary(3, "<c>"),
        summary(4, "<z>"),
    ];
    let c = check("INBOX", &source, &server, None, Some(1));
    assert_eq!(c.missing, ["m2"]);
    assert_eq!(c.doubled, [(2, "m1".to_string())]);
    assert_eq!(c.extra, [4]);
    assert!(!c.is_exact());
}

/// A server that rewrites headers (GNU imap4d) stores messages larger
/// than sent: the same Message-ID and text is the message, a second
/// such copy is doubled, another text with that Message-ID is extra;
/// only those candidates' texts are read, once.
#[test]
fn rewritten_copies_are_matched_by_the_uploads_rule() {
    let source = [item(1, "<a>"), item(2, "<b>")];
    let grown = |uid, id: &str| Summary {
        size: 30,
        ..summary(uid, id)
    };
    let server = [
        grown(1, "<a>"),
        grown(2, "<a>"),
        grown(3, "<a>"),
        summary(4, "<b>"),
    ];
    let mut asked: Vec<Vec<u32>> = Vec::new();
    let mut texts = |uids: &[u32]| -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        asked.push(uids.to_vec());
        Ok(uids
            .iter()
            .map(|&u| (u, text(if u == 3 { 9 } else { 1 })))
            .collect())
    };
    let c = super::check("INBOX", &source, &server, None, Some(1), &mut texts).unwrap();
    assert!(c.missing.is_empty(), "{c:?}");
    assert_eq!(c.doubled, [(2, "m1".to_string())]);
    assert_eq!(c.extra, [3]);
    assert_eq!(asked, [vec![1, 2, 3]]);
    // Texts the server does not give: no verdict.
    let mut none = |_: &[u32]| -> Result<Vec<(u32, Fingerprint)>, ImapError> { Ok(Vec::new()) };
    let refused = super::check("INBOX", &source, &server, None, Some(1), &mut none);
    assert!(matches!(refused, Err(ImapError::No { .. })), "{refused:?}");
}

#[test]
fn identical_source_copies_are_expected_twice() {
    let source = [item(1, "<a>"), item(1, "<a>")];
    let server = [summary(1, "<a>"), summary(2, "<a>")];
    assert!(check("INBOX", &source, &server, None, Some(1)).is_exact());
}

#[test]
fn journal_names_the_uid() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j"), false).unwrap();
    let at = |uid| Landed {
        uidvalidity: Some(7),
        uid: Some(uid),
    };
    j.landed("INBOX", &Fingerprint::of(&[1]), None, at(5));
    let source = [item(1, "<a>")];
    // The journaled UID wins over another message with the same key.
    let c = check(
        "INBOX",
        &source,
        &[summary(5, "<a>"), summary(6, "<a>")],
        Some(&j),
        Some(7),
    );
    assert_eq!(c.doubled, [(6, "m1".to_string())], "{c:?}");
    // UID 5 was deleted; UID 6 has the same Message-ID (a re-upload).
    let c = check("INBOX", &source, &[summary(6, "<a>")], Some(&j), Some(7));
    assert!(c.is_exact(), "{c:?}");
    let c = check("INBOX", &source, &[], Some(&j), Some(7));
    assert_eq!(c.missing, ["m1"]);
    // Another UIDVALIDITY: the journal is ignored, the key matches.
    let c = check("INBOX", &source, &[summary(6, "<a>")], Some(&j), Some(8));
    assert!(c.is_exact(), "{c:?}");
}
