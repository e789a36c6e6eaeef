//! `--trace FILE` and `-v`/`-vv` against a real Dovecot: the exchange is
//! recorded in order, and neither the password nor any message body ever
//! appears in it.

use std::os::unix::fs::PermissionsExt;

use crate::util::{Dovecot, MailhaulCommand};

const BODY_MARKER: &str = "this-body-text-must-not-be-traced";

fn mbox(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("traced.mbox");
    let mut text = String::new();
    for i in 0..3 {
        text.push_str(&format!(
            "From a@b Mon Jan  6 09:15:00 2020\nSubject: s{i}\n\n{BODY_MARKER} {i}\n\n"
        ));
    }
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn trace_file_records_the_exchange_without_secrets_or_bodies() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("imap.trace");
    MailhaulCommand::upload(&dovecot, &[mbox(dir.path())])
        .arg("--trace")
        .arg(&trace)
        .assert_success();
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.contains("C: ") && text.contains("S: "),
        "both directions: {text}"
    );
    assert!(text.contains("AUTHENTICATE PLAIN <redacted>"), "{text}");
    assert!(text.contains(" APPEND traced "), "{text}");
    assert!(text.contains("OK [APPENDUID"), "{text}");
    assert!(
        !text.contains(dovecot.password()),
        "password in trace:\n{text}"
    );
    assert!(
        !text.contains(BODY_MARKER),
        "message body in trace:\n{text}"
    );
    let mode = std::fs::metadata(&trace).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn verbose_levels() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = mbox(dir.path());
    let out = MailhaulCommand::upload(&dovecot, &[&source])
        .arg("-v")
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mailhaul: info: upload mode: MULTIAPPEND"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(" C: "),
        "-v must not show the exchange: {stderr}"
    );

    let out = MailhaulCommand::upload(&dovecot, &[&source])
        .args(["-vv", "--mailbox", "again"])
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(" C: ") && stderr.contains("APPEND again"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(dovecot.password()),
        "password on stderr:\n{stderr}"
    );
    assert!(!stderr.contains(BODY_MARKER), "body on stderr:\n{stderr}");
}
