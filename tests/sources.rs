//! Round trips per source kind (issue 3, "Tests"): every fixture is written
//! by the test itself from literal text, so what must land on the server
//! (CRLF bytes without the client-state headers, flags, internal date,
//! mailbox) is stated here, independently of mailhaul's readers. Each test
//! function starts one private Dovecot and uploads several fixtures into it,
//! then reads everything back with the independent reader.
//!
//! - [`mbox`]: mboxrd quoting, mboxcl2 Content-Length, CRLF, gzip, a From_
//!   line inside a message/rfc822 part.
//! - [`maildir`]: `!2,`/`;2,` separators, `dovecot-keywords`, fs-layout trees.
//! - [`apple`]: Apple Mail exports (X.mbox bundles) and .emlx stores.
//! - [`clients`]: `.eml` folders and files, Thunderbird profiles, Gmail Takeout.
//! - [`archive`]: the Takeout fixture as downloaded: zip and tgz, split parts.
//! - [`pst`]: an Outlook PST compared with readpst's export of it.
//! - [`unreadable`]: files recognised as mail that cannot be read fail the
//!   run (exit 1) while the rest lands.
//! - [`mapping`]: `--date`, special-use, `--map`, `--flatten`,
//!   `--include`/`--exclude`.
//! - [`changed`]: an mbox rewritten in place during the upload: never a
//!   spliced message, exit 1 naming it, the rerun completes.
//! - [`overlap`]: overlapping source paths upload each message once.

mod apple;
mod archive;
mod changed;
mod clients;
mod maildir;
mod mapping;
mod mbox;
mod overlap;
mod pst;
mod unreadable;

use std::path::Path;
use std::process::Output;

use chrono::{DateTime, FixedOffset};

pub(crate) use crate::upload::{Expectation, Expected, crlf, flags, utc};
use crate::util::{ImapServer, MailhaulCommand, parse_internal_date};

/// Writes `bytes` to `path`, creating the parent directories.
pub(crate) fn put(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// What one message must look like on the server: `headers` (LF or CRLF,
/// without the client-state headers the source carried), an empty line and
/// `body`, all with CRLF line ends.
pub(crate) fn mail(
    headers: &str,
    body: &str,
    flag_list: &[&str],
    date: DateTime<FixedOffset>,
) -> Expected {
    Expected {
        body: crlf(&format!("{headers}\n{body}")),
        flags: flags(flag_list),
        date,
    }
}

/// Adds `messages` to `mailbox` in `want`.
pub(crate) fn expect(want: &mut Expectation, mailbox: &str, messages: Vec<Expected>) {
    want.entry(mailbox.to_string())
        .or_default()
        .extend(messages);
}

/// Reads back every mailbox of `want` and compares its messages as a
/// multiset (sorted by bytes): how the uploader ordered or copied them is
/// not the point here, that each lands exactly once with its flags and
/// date is.
pub(crate) fn assert_holds(server: &dyn ImapServer, want: &Expectation) {
    let mut reader = server.reader().unwrap();
    let mailboxes = reader.list_mailboxes().unwrap();
    for (mailbox, expected) in want {
        assert!(
            mailboxes.contains(mailbox),
            "mailbox {mailbox} missing; server has {mailboxes:?}"
        );
        let mut got: Vec<Expected> = reader
            .fetch_all(mailbox)
            .unwrap()
            .into_iter()
            .map(|f| Expected {
                body: f.body,
                flags: {
                    let mut v = f.flags;
                    v.sort();
                    v
                },
                date: parse_internal_date(&f.internal_date).unwrap(),
            })
            .collect();
        let mut expected = expected.clone();
        got.sort_by(|a, b| a.body.cmp(&b.body));
        expected.sort_by(|a, b| a.body.cmp(&b.body));
        let shown = |v: &[Expected]| -> Vec<String> {
            v.iter()
                .map(|e| String::from_utf8_lossy(&e.body).into_owned())
                .collect()
        };
        assert_eq!(
            shown(&got),
            shown(&expected),
            "{mailbox}: message bytes (sorted)"
        );
        for (g, e) in got.iter().zip(&expected) {
            let what = String::from_utf8_lossy(&e.body);
            assert_eq!(g.flags, e.flags, "{mailbox}: flags of\n{what}");
            assert_eq!(g.date, e.date, "{mailbox}: internal date of\n{what}");
        }
    }
}

/// The server's mailboxes are exactly `want` (plus INBOX, which always exists).
pub(crate) fn assert_mailboxes(server: &dyn ImapServer, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    if !want.iter().any(|m| m == "INBOX") {
        want.push("INBOX".into());
    }
    want.sort();
    let got = server.reader().unwrap().list_mailboxes().unwrap();
    assert_eq!(got, want, "mailboxes on the server");
}

/// stdout parsed as one JSON document.
pub(crate) fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `mailhaul scan --json SOURCES... ARGS...`, which must succeed.
pub(crate) fn scan_json<S: AsRef<std::ffi::OsStr>>(
    sources: &[S],
    args: &[&str],
) -> serde_json::Value {
    let out = MailhaulCommand::new()
        .arg("scan")
        .arg("--json")
        .args(sources)
        .args(args)
        .assert_success();
    json(&out)
}

/// The scan's entry for the mailbox `name`.
pub(crate) fn scanned<'a>(scan: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    scan["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no mailbox {name} in the scan:\n{scan:#}"))
}

/// The upload report's `mailboxes` entry for `name`.
pub(crate) fn tally<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no mailbox {name} in the report:\n{report:#}"))
}
