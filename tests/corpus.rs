//! The real-world corpus in `../shared/corpus` (beside the repository, not in
//! it): every mailbox's message count from MANIFEST.md and the per-message
//! facts of MANIFEST-messages.tsv (flags; dates where given) read through the
//! mailhaul library. Not part of plain `cargo test`; run it with
//! `cargo test --test corpus`. A missing corpus is a failure, never a skip.
//!
//! Where the MANIFEST accepts several answers, mailhaul gives:
//! - `coppit/mailarc-2.txt`: **5** (5 acceptable, 4 preferred): the copy
//!   "inside Begin Included Message" has a blank line and an asctime From_
//!   line before it, exactly like a real separator; only a reader guessing
//!   from the prose around it could tell, and guessing wrong would merge
//!   real messages elsewhere.
//! - leading From_ lines of `eml/*` files are removed from the bytes and
//!   their date offered as the delivery date (consistently, for all 13).
//! - dates: From_ line (or top-most Received) first, then the Date header
//!   (DESIGN.md `auto`); a delivery date more than a day before the Date
//!   header is not trusted (`bug505221`'s 1965 placeholder).
//! - Thunderbird `Archives` (`>From` body line): `auto` undoes mboxrd
//!   quoting, so it reads `From (should be escaped).`.
//! - stalwart Maildir++ placeholders: uploaded verbatim, flags parsed leniently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use mailhaul::message::{DateSource, Flag, Message};
use mailhaul::source::{self, Format, ReadOptions};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "corpus missing: {} (MANIFEST.md not found); this test needs ../shared/corpus",
        dir.display()
    );
    dir
}

/// TSV mailbox label → (path under the corpus, folder name in discovery,
/// expected count from MANIFEST.md §1, TSV rows that are not top-level messages).
const MAILBOXES: &[(&str, &str, &str, usize, &[usize])] = &[
    (
        "notmuch-lkml",
        "maildir/notmuch-lkml",
        "notmuch-lkml",
        210,
        &[],
    ),
    (
        "notmuch-default (root)",
        "maildir-tree/notmuch-default",
        "INBOX",
        26,
        &[],
    ),
    (
        "notmuch-default/foo",
        "maildir-tree/notmuch-default",
        "foo",
        5,
        &[],
    ),
    (
        "notmuch-default/foo/baz",
        "maildir-tree/notmuch-default",
        "foo/baz",
        4,
        &[],
    ),
    (
        "notmuch-default/bar",
        "maildir-tree/notmuch-default",
        "bar",
        4,
        &[],
    ),
    (
        "notmuch-default/bar/baz",
        "maildir-tree/notmuch-default",
        "bar/baz",
        4,
        &[],
    ),
    (
        "stalwart-maildirpp-names (INBOX)",
        "maildir/stalwart-maildirpp-names",
        "INBOX",
        2,
        &[],
    ),
    (
        "stalwart-maildirpp-names/My Folder",
        "maildir/stalwart-maildirpp-names",
        "My Folder",
        2,
        &[],
    ),
    (
        "stalwart-maildirpp-names/My Folder/Nested Folder",
        "maildir/stalwart-maildirpp-names",
        "My Folder/Nested Folder",
        2,
        &[],
    ),
    // Rows 6 and 15 are the From_ lines inside message/rfc822 parts.
    (
        "coppit/mailarc-1.txt",
        "mbox/coppit/mailarc-1.txt",
        "mailarc-1",
        14,
        &[6, 15],
    ),
    (
        "coppit/mailarc-1-dos.txt",
        "mbox/coppit/mailarc-1-dos.txt",
        "mailarc-1-dos",
        14,
        &[6, 15],
    ),
    (
        "coppit/mailarc-2.txt",
        "mbox/coppit/mailarc-2.txt",
        "mailarc-2",
        5,
        &[],
    ),
    (
        "coppit/malformed.txt",
        "mbox/coppit/malformed.txt",
        "malformed",
        54,
        &[],
    ),
    (
        "coppit/mailseparators.txt",
        "mbox/coppit/mailseparators.txt",
        "mailseparators",
        3,
        &[],
    ),
    (
        "coppit/newlines_at_beginning.txt",
        "mbox/coppit/newlines_at_beginning.txt",
        "newlines_at_beginning",
        1,
        &[],
    ),
    (
        "coppit/binary_body.txt",
        "mbox/coppit/binary_body.txt",
        "binary_body",
        1,
        &[],
    ),
    (
        "coppit/hessbug.txt",
        "mbox/coppit/hessbug.txt",
        "hessbug",
        1,
        &[],
    ),
    (
        "coppit/vm-emacs.txt",
        "mbox/coppit/vm-emacs.txt",
        "vm-emacs",
        1,
        &[],
    ),
    (
        "coppit/invalid-boundaries.txt",
        "mbox/coppit/invalid-boundaries.txt",
        "invalid-boundaries",
        8,
        &[],
    ),
    (
        "mailutils/teaparty.mbox",
        "mbox/mailutils/teaparty.mbox",
        "teaparty",
        95,
        &[],
    ),
    ("mailutils/mbox1", "mbox/mailutils/mbox1", "mbox1", 5, &[]),
    ("mailutils/mbox2", "mbox/mailutils/mbox2", "mbox2", 5, &[]),
    (
        "mailutils/sieve.mbox",
        "mbox/mailutils/sieve.mbox",
        "sieve",
        3,
        &[],
    ),
    (
        "mailutils/relational.mbox",
        "mbox/mailutils/relational.mbox",
        "relational",
        9,
        &[],
    ),
    (
        "mailutils/bigto.mbox",
        "mbox/mailutils/bigto.mbox",
        "bigto",
        1,
        &[],
    ),
    (
        "mail-box/mbox.win",
        "mbox/mail-box/mbox.win",
        "mbox",
        45,
        &[],
    ),
    ("mime4j/mbox.rlug", "mbox/mime4j/mbox.rlug", "mbox", 5, &[]),
    (
        "Thunderbird Inbox",
        "thunderbird/Local Folders",
        "INBOX",
        3,
        &[],
    ),
    (
        "Thunderbird Archives",
        "thunderbird/Local Folders",
        "Archives",
        2,
        &[],
    ),
    (
        "Thunderbird Archives/2018",
        "thunderbird/Local Folders",
        "Archives/2018",
        2,
        &[],
    ),
    ("eml/thunderbird", "eml/thunderbird", "thunderbird", 22, &[]),
    (
        "eml/stalwart-malformed",
        "eml/stalwart-malformed",
        "stalwart-malformed",
        23,
        &[],
    ),
    (
        "eml/mime4j-testmsgs",
        "eml/mime4j-testmsgs",
        "mime4j-testmsgs",
        33,
        &[],
    ),
];

struct Row {
    file: String,
    envelope: String,
    date_utc: String,
    flags: String,
}

fn rows(corpus: &Path) -> BTreeMap<String, Vec<Row>> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST-messages.tsv")).unwrap();
    let mut out: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        out.entry(f[0].to_string()).or_default().push(Row {
            file: f[1].to_string(),
            envelope: f[3].to_string(),
            date_utc: f[5].to_string(),
            flags: f[6].to_string(),
        });
    }
    out
}

/// The TSV flags column as mailhaul flags: `lenient:` flags count (mailhaul
/// accepts `!`/`;`), keyword letters without dovecot-keywords have no name.
fn expected_flags(col: &str) -> Vec<Flag> {
    let col = col.replace("(new: not \\Seen)", "");
    let mut flags: Vec<Flag> = col
        .split_whitespace()
        .filter(|t| *t != "-" && !t.starts_with("lenient-kw:"))
        .map(|t| {
            let t = t.strip_prefix("lenient:").unwrap_or(t);
            let t = t.strip_prefix("kw:").unwrap_or(t);
            Flag::from_imap(t).unwrap_or_else(|| panic!("bad flag {t:?}"))
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

fn read(folder: &source::SourceFolder) -> Vec<Message> {
    folder
        .messages(&ReadOptions::default())
        .unwrap()
        .map(|m| m.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn corpus_counts_flags_and_dates() {
    let corpus = corpus();
    let rows = rows(&corpus);
    let now = Utc::now();
    let mut failures = Vec::new();
    for &(label, path, name, expected, embedded) in MAILBOXES {
        let found = source::discover(&[corpus.join(path)], Format::Auto).unwrap();
        let Some(folder) = found.folders.iter().find(|f| f.folder.join("/") == name) else {
            failures.push(format!("{label}: no folder {name:?} discovered"));
            continue;
        };
        let msgs = read(folder);
        if msgs.len() != expected {
            failures.push(format!(
                "{label}: {} messages, MANIFEST says {expected}",
                msgs.len()
            ));
            continue;
        }
        let tsv: Vec<&Row> = rows[label]
            .iter()
            .enumerate()
            .filter(|(i, _)| !embedded.contains(&(i + 1)))
            .map(|(_, r)| r)
            .collect();
        assert_eq!(tsv.len(), msgs.len(), "{label}: TSV rows");
        for (i, m) in msgs.iter().enumerate() {
            // mbox rows are in file order; Maildir and eml rows by file name
            // (mailhaul sorts Maildir files by their leading timestamp).
            let row = if folder.kind != source::FolderKind::Mbox {
                let Some(row) = tsv.iter().find(|r| m.origin.path.ends_with(&r.file)) else {
                    failures.push(format!(
                        "{label}: {} not in the TSV",
                        m.origin.path.display()
                    ));
                    continue;
                };
                row
            } else {
                tsv[i]
            };
            let at = format!("{label} #{} ({})", i + 1, row.file);
            if m.flags != expected_flags(&row.flags) {
                failures.push(format!("{at}: flags {:?}, want {:?}", m.flags, row.flags));
            }
            check_date(&at, m, row, now, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A date must be sane, and equal to the Date header or the From_ line date
/// when those are what mailhaul chose (a Received date cannot be checked
/// against the TSV; it only has to be sane).
fn check_date(at: &str, m: &Message, row: &Row, now: DateTime<Utc>, failures: &mut Vec<String>) {
    let Some(d) = m.date else {
        // Only acceptable when nothing offers a date; mtime always exists here.
        failures.push(format!("{at}: no date"));
        return;
    };
    if d.at.timestamp() < -2_208_988_800 || d.at > now + chrono::Duration::days(1) {
        failures.push(format!("{at}: insane date {}", d.at));
    }
    let header: Option<DateTime<FixedOffset>> = DateTime::parse_from_rfc3339(&row.date_utc).ok();
    match d.source {
        DateSource::DateHeader => {
            if let Some(h) = header
                && h != d.at
            {
                failures.push(format!(
                    "{at}: Date header {} read as {}",
                    row.date_utc, d.at
                ));
            }
        }
        DateSource::FromLine
            if !row.envelope.starts_with("cur/") && !row.envelope.starts_with("new/") =>
        {
            let line = format!("From {}", row.envelope);
            // The TSV truncates long envelopes (`MET 200`): only a complete
            // one can be compared. A From_ line without a zone is local
            // time: its wall clock is kept, in the zone of a header that
            // shows the same time (`source/date.rs`), else read as UTC.
            let want = source::date::parse_from_line(line.as_bytes());
            let same_wall_clock = |w: DateTime<FixedOffset>| {
                w.naive_local() == d.at.naive_local()
                    && (w.offset() == d.at.offset() || w.offset().local_minus_utc() == 0)
            };
            if want.is_some_and(|w| !same_wall_clock(w)) {
                failures.push(format!(
                    "{at}: From_ date {:?} read as {}",
                    row.envelope, d.at
                ));
            }
        }
        _ => {}
    }
    if at.starts_with("Thunderbird Inbox #2") && d.at.to_rfc3339() != "2008-06-07T04:23:42+05:30" {
        // MANIFEST: the draft's From_ line shows its Date header's local
        // time, 2008-06-06T22:53:42Z; not 04:23:42 UTC.
        failures.push(format!("{at}: {} is not 2008-06-06T22:53:42Z", d.at));
    }
    if row.file == "bug505221" && d.source != DateSource::DateHeader {
        failures.push(format!(
            "{at}: must use the Date header, not the 1965 From_ line"
        ));
    }
    if row.file.ends_with("mime4j-219-new-date-time-format.msg") {
        // From_ line is truncated in the TSV; the Date header is
        // `Tue, 17 Jul 2012 22:23:35.882 0000`, read tolerantly.
        assert_eq!(d.at.date_naive().to_string(), "2012-07-17", "{at}");
    }
}
