//! Messages whose last line has no line break: Courier and GNU imap4d store
//! them with CRLF added, Dovecot as sent. mailhaul adds it before sending
//! (`message::end_with_crlf`), so reruns with the journal and without it
//! find the copy already there on every server, and `verify` counts each
//! message once (on imap4d, which adds header fields too, by upload's rule
//! for rewritten headers).

use std::path::{Path, PathBuf};

use crate::util::{Imap4d, MailhaulCommand, ServerKind};

/// The last line of each message, as the server must end it.
const LAST_LINES: [&str; 2] = [
    "MARK-1 last line has no CRLF\r\n",
    "MARK-2 last line has no LF\r\n",
];

/// `nonl/`: one message with CRLF line ends, one with LF line ends, neither
/// ending its last line.
fn nonl(dir: &Path) -> PathBuf {
    let p = dir.join("nonl");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("1.eml"),
        "Subject: x\r\nMessage-ID: <nonl-1@x>\r\n\r\nMARK-1 last line has no CRLF",
    )
    .unwrap();
    std::fs::write(
        p.join("2.eml"),
        "Subject: y\nMessage-ID: <nonl-2@x>\n\nMARK-2 last line has no LF",
    )
    .unwrap();
    p
}

/// Runs `mailhaul SUBCOMMAND nonl --mailbox NONL --json EXTRA` with
/// `server` (adds the server's flags); its JSON report and exit code.
fn run(
    server: &dyn Fn(&mut MailhaulCommand),
    subcommand: &str,
    src: &Path,
    extra: &[&str],
) -> (serde_json::Value, Option<i32>, String) {
    let mut c = MailhaulCommand::new();
    c.arg(subcommand).arg(src);
    server(&mut c);
    c.args(["--mailbox", "NONL", "--json"]).args(extra);
    let out = c.run();
    let explain = c.explain(&out);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {explain}"));
    (doc, out.status.code(), explain)
}

/// Three uploads with the journal and two without it send each message
/// once; what the server holds ends with the line break mailhaul added.
fn uploads_once(
    dir: &Path,
    server: &dyn Fn(&mut MailhaulCommand),
    bodies: &dyn Fn() -> Vec<Vec<u8>>,
) {
    let src = nonl(dir);
    let journal = dir.join("journal");
    let j = journal.display().to_string();
    let with_journal = ["--journal", j.as_str()];
    let runs: [&[&str]; 5] = [
        &with_journal,
        &with_journal,
        &with_journal,
        &["--no-journal"],
        &["--no-journal"],
    ];
    for (i, extra) in runs.iter().enumerate() {
        let (doc, code, explain) = run(server, "upload", &src, extra);
        assert_eq!(code, Some(0), "run {i}: {explain}");
        let want = if i == 0 { 2 } else { 0 };
        assert_eq!(doc["totals"]["uploaded"], want, "run {i}: {doc}");
        if i > 0 {
            assert_eq!(doc["totals"]["already_present"], 2, "run {i}: {doc}");
        }
    }
    let mut held = bodies();
    assert_eq!(held.len(), 2, "{held:?}");
    held.sort();
    for (body, last) in held.iter().zip(LAST_LINES) {
        let text = String::from_utf8_lossy(body);
        assert!(text.ends_with(last), "{text:?}");
    }
}

/// `verify` (with the journal [`uploads_once`] wrote and without it) finds
/// each message once.
fn verified_once(dir: &Path, server: &dyn Fn(&mut MailhaulCommand)) {
    let src = dir.join("nonl");
    let journal = dir.join("journal");
    let j = journal.display().to_string();
    for extra in [&["--journal", j.as_str()][..], &["--no-journal"][..]] {
        let (doc, code, explain) = run(server, "verify", &src, extra);
        assert_eq!(code, Some(0), "{explain}");
        for finding in ["missing", "doubled", "extra"] {
            assert_eq!(doc["totals"][finding], 0, "{finding}: {doc}");
        }
        assert_eq!(doc["totals"]["server"], 2, "{doc}");
    }
}

fn on(kind: ServerKind) {
    let server = kind.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with = |c: &mut MailhaulCommand| _ = c.server(&*server);
    uploads_once(dir.path(), &with, &|| {
        server.reader().unwrap().bodies("NONL").unwrap()
    });
    verified_once(dir.path(), &with);
}

#[test]
fn courier_keeps_one_copy_of_a_message_without_final_crlf() {
    on(ServerKind::Courier);
}

#[test]
fn dovecot_keeps_one_copy_of_a_message_without_final_crlf() {
    on(ServerKind::Dovecot);
}

#[test]
fn imap4d_keeps_one_copy_of_a_message_without_final_crlf() {
    let imap4d = Imap4d::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with = |c: &mut MailhaulCommand| _ = c.imap4d_via(&imap4d, imap4d.port());
    uploads_once(dir.path(), &with, &|| {
        imap4d.reader().unwrap().bodies("NONL").unwrap()
    });
    verified_once(dir.path(), &with);
}
