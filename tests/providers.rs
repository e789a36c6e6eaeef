//! Provider profiles (issue 10): `check` prints the profile and its limits;
//! a profile's size cap (iCloud: 20 MiB, not advertised) refuses an
//! oversized message before sending, with one reason in `scan --provider`,
//! `upload --dry-run`, `upload` and `verify`. Against a private Dovecot,
//! the profile chosen with `--provider` (the host is 127.0.0.1).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::util::{Dovecot, MailhaulCommand};

/// The reason every command gives for the big message.
const REASON: &str = "bytes is larger than iCloud Mail's limit of 20971520 bytes per message (not advertised by the server; --provider none sends it anyway)";

/// An mbox `letters`: one small message (`MARK-OK`), one of 21 MiB.
fn letters(dir: &Path) -> PathBuf {
    let p = dir.join("letters");
    let big = "x".repeat(21 << 20);
    std::fs::write(
        &p,
        format!(
            "From a@b Mon Jan  6 09:17:00 2020\nSubject: ok\nMessage-ID: <ok@x>\n\nMARK-OK\n\n\
             From a@b Mon Jan  6 09:18:00 2020\nSubject: big\nMessage-ID: <big@x>\n\n{big}\n"
        ),
    )
    .unwrap();
    p
}

/// The lines of `stderr` naming the size cap.
fn cap_lines(stderr: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(REASON))
        .map(str::to_string)
        .collect()
}

#[test]
fn check_prints_the_profile_and_its_limits() {
    let dovecot = Dovecot::start().unwrap();
    let out = MailhaulCommand::new()
        .arg("check")
        .server(&dovecot)
        .args(["--provider", "icloud"])
        .assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "provider: iCloud Mail (--provider icloud)",
        "  largest message in bytes (refused before sending): 20971520 (source: https://support.apple.com/en-us/102198",
        "  sessions at once (caps --jobs): no published limit",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    let out = MailhaulCommand::new()
        .arg("check")
        .server(&dovecot)
        .assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("provider: none (no profile; --provider NAME to choose one)"),
        "{stdout}"
    );

    // The same findings as one JSON document.
    let out = MailhaulCommand::new()
        .arg("check")
        .server(&dovecot)
        .args(["--provider", "icloud", "--json"])
        .assert_success();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(doc["kind"], "check", "{doc}");
    assert_eq!(doc["schema"], 1, "{doc}");
    assert_eq!(doc["exit_code"], 0, "{doc}");
    assert_eq!(doc["uidplus"], true, "{doc}");
    assert!(
        doc["capabilities"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c.as_str() == Some("IMAP4REV1"))),
        "{doc}"
    );
    assert!(
        doc["upload_mode"]
            .as_str()
            .is_some_and(|m| m.contains("MULTIAPPEND")),
        "{doc}"
    );
    assert_eq!(doc["provider"]["name"], "icloud", "{doc}");
    assert_eq!(
        doc["provider"]["message_size_cap"]["value"], 20_971_520,
        "{doc}"
    );
    assert!(doc["provider"]["session_cap"].is_null(), "{doc}");
}

#[test]
fn a_provider_size_cap_refuses_once_with_one_reason_everywhere() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    let run = |cmd: &str, extra: &[&str]| {
        let mut c = MailhaulCommand::new();
        c.arg(cmd).arg(&src).args(extra);
        if cmd != "scan" {
            c.server(&dovecot).arg("--no-journal");
        }
        c
    };

    let scan = run("scan", &["--provider", "icloud"]).assert_exit_code(1);
    let lines = cap_lines(&scan.stderr);
    assert_eq!(lines.len(), 1, "{lines:?}");
    // Without a profile, scan knows no cap.
    let plain = run("scan", &[]).assert_success();
    assert!(cap_lines(&plain.stderr).is_empty());

    let dry = run("upload", &["--provider", "icloud", "--dry-run"]).assert_exit_code(1);
    assert_eq!(cap_lines(&dry.stderr).len(), 1, "{:?}", dry.stderr);
    assert_eq!(dovecot.count_commands("APPEND"), 0, "the dry run sent");

    let upload = run("upload", &["--provider", "icloud"]).assert_exit_code(1);
    let upload_lines = cap_lines(&upload.stderr);
    assert_eq!(upload_lines.len(), 1, "{upload_lines:?}");
    assert_eq!(cap_lines(&dry.stderr), upload_lines);
    // Only the small message was sent.
    assert_eq!(dovecot.count_commands("APPEND"), 1);
    let held = dovecot.reader().unwrap().fetch_all("letters").unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(String::from_utf8_lossy(&held[0].body).contains("MARK-OK"));

    // verify expects on the server only what the upload sends.
    let out = run("verify", &["--provider", "icloud"]).assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 not sent on purpose"), "{stdout}");
}
