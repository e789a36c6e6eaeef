//! One decision per message (issue 9, item 7): `scan`, `upload --dry-run`,
//! `upload` and `verify` agree on what is sent, skipped or refused, against
//! a private Dovecot whose BINARY capability a proxy hides.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::util::{Dovecot, FaultProxy, MailhaulCommand};

/// The APPENDLIMIT the proxy advertises in place of a capability of the
/// same length (Dovecot never advertises one).
const APPENDLIMIT: (&str, &str) = ("THREAD=REFERENCES", "APPENDLIMIT=99999");

/// An mbox `letters` of four messages: an empty one, one with a NUL byte,
/// one ordinary (`MARK-OK`), one over [`APPENDLIMIT`].
fn letters(dir: &Path) -> PathBuf {
    let p = dir.join("letters");
    let big = "x".repeat(100_000);
    std::fs::write(
        &p,
        format!(
            "From a@b Mon Jan  6 09:15:00 2020\n\n\
             From a@b Mon Jan  6 09:16:00 2020\nSubject: nul\nMessage-ID: <nul@x>\n\nzero \0 byte\n\n\
             From a@b Mon Jan  6 09:17:00 2020\nSubject: ok\nMessage-ID: <ok@x>\n\nMARK-OK\n\n\
             From a@b Mon Jan  6 09:18:00 2020\nSubject: big\nMessage-ID: <big@x>\n\n{big}\n"
        ),
    )
    .unwrap();
    p
}

/// A Dovecot, a proxy in front of it hiding BINARY (and STARTTLS, to stay
/// in plain text) and advertising [`APPENDLIMIT`], and `letters` in a
/// temp dir.
fn setup() -> (Dovecot, FaultProxy, tempfile::TempDir, PathBuf) {
    let dovecot = Dovecot::start().unwrap();
    let proxy = FaultProxy::start_rewriting(
        dovecot.plain_port(),
        None,
        &[("STARTTLS", "XXXXXXXX"), ("BINARY", "XXXXXX"), APPENDLIMIT],
    );
    let dir = tempfile::tempdir().unwrap();
    let src = letters(dir.path());
    (dovecot, proxy, dir, src)
}

/// `mailhaul CMD SRC` against the proxy (plain text, BINARY hidden).
fn through(proxy: &FaultProxy, dovecot: &Dovecot, cmd: &str, src: &Path) -> MailhaulCommand {
    let mut c = MailhaulCommand::new();
    c.arg(cmd)
        .arg(src)
        .server_via(dovecot, proxy.port())
        .arg("--no-journal");
    c
}

fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// (origin, mailbox, class, reason) of each entry of a JSON array.
fn refusals(list: &serde_json::Value) -> BTreeSet<[String; 4]> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|f| {
            ["origin", "mailbox", "class", "reason"].map(|k| f[k].as_str().unwrap().to_string())
        })
        .collect()
}

/// The lines of `stderr` that report a message not sent.
fn not_sent_lines(stderr: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(": not sent: "))
        .map(str::to_string)
        .collect()
}

const NUL_REASON: &str =
    "the message contains NUL bytes and the server has no BINARY extension (RFC 3516)";
const BIG_REASON: &str = "bytes is larger than the server's APPENDLIMIT of 99999 bytes";

/// A server without BINARY and with an APPENDLIMIT: the dry run refuses the
/// NUL message, the big one and the empty one, in text and JSON, exactly as
/// the upload then does (Dovecot itself would take the big one: the refusal
/// is the client's). `scan`, knowing no server, refuses only the empty one
/// and says the NUL message depends on the server.
#[test]
fn dry_run_shows_the_refusals_the_upload_makes() {
    let (dovecot, proxy, _dir, src) = setup();

    let out = MailhaulCommand::new()
        .arg("scan")
        .arg(&src)
        .assert_exit_code(1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("letters: 2 messages")
            && stdout.contains(", 1 cannot be sent, 1 depend on the server"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("letters: sent only if the server has BINARY"),
        "{stderr}"
    );

    let dry = through(&proxy, &dovecot, "upload", &src)
        .arg("--dry-run")
        .assert_exit_code(1);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(
        stdout.contains("letters: 1 message") && stdout.contains(", 3 cannot be sent\n"),
        "{stdout}"
    );
    let dry_lines = not_sent_lines(&dry.stderr);
    assert_eq!(dry_lines.len(), 3, "{dry_lines:?}");
    for reason in [NUL_REASON, BIG_REASON] {
        assert!(
            dry_lines.iter().any(|l| l.ends_with(reason)),
            "{reason}: {dry_lines:?}"
        );
    }

    // The JSON pair goes under another prefix: the text upload below must
    // not have filled its mailbox first.
    let dry_json = json(
        &through(&proxy, &dovecot, "upload", &src)
            .args(["--dry-run", "--json", "--prefix", "j"])
            .assert_exit_code(1)
            .stdout,
    );
    assert_eq!(dry_json["schema"], 1);
    assert_eq!(dry_json["mailboxes"][0]["refused"], 3, "{dry_json}");
    let planned = refusals(&dry_json["refusals"]);
    assert_eq!(planned.len(), 3, "{planned:?}");
    assert!(
        planned
            .iter()
            .all(|r| r[1].ends_with("letters") && r[2] == "not-sent"),
        "{planned:?}"
    );
    assert!(planned.iter().any(|r| r[3] == NUL_REASON), "{planned:?}");
    assert_eq!(dovecot.count_commands("APPEND"), 0, "the dry run sent");

    let upload = through(&proxy, &dovecot, "upload", &src).assert_exit_code(1);
    assert_eq!(not_sent_lines(&upload.stderr), dry_lines);
    let report = json(
        &through(&proxy, &dovecot, "upload", &src)
            .args(["--json", "--prefix", "j"])
            .assert_exit_code(1)
            .stdout,
    );
    assert_eq!(refusals(&report["failures"]), planned);

    let held = dovecot.reader().unwrap().fetch_all("letters").unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(
        held.iter()
            .all(|m| String::from_utf8_lossy(&m.body).contains("MARK-OK"))
    );
}

/// verify follows the decision: what the upload refuses is not missing.
/// Through the proxy (no BINARY, an APPENDLIMIT) the NUL and the big
/// message were never sent and verify says so and exits 0; straight to
/// Dovecot (BINARY, no APPENDLIMIT) they would be sent, so there they are
/// missing.
#[test]
fn verify_expects_only_what_the_upload_sends() {
    let (dovecot, proxy, _dir, src) = setup();
    through(&proxy, &dovecot, "upload", &src).assert_exit_code(1);

    let out = through(&proxy, &dovecot, "verify", &src).assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "letters: 1 in the source, 1 on the server: 0 missing, 0 doubled, 0 not in the source; 3 not sent on purpose"
        ),
        "{stdout}"
    );

    let out = MailhaulCommand::new()
        .arg("verify")
        .arg(&src)
        .server(&dovecot)
        .arg("--no-journal")
        .assert_exit_code(1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("letters: 3 in the source, 1 on the server: 2 missing")
            && stdout.contains("1 not sent on purpose"),
        "{stdout}"
    );
}
