//! Files that hold mail or name servers are the owner's alone (issue 9,
//! item 6): an upload under umask 022 into a real Dovecot, with a refused
//! message for `--failed-out`, a `--trace` file left world-readable by an
//! earlier run, and the default journal; every mode is read back.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Dovecot, DovecotOptions, MailhaulCommand};

/// The permission bits in octal, as `ls -l` users read them.
fn mode(path: &Path) -> String {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:04o}", meta.permissions().mode() & 0o777)
}

#[test]
fn journal_lock_trace_and_failed_out_are_private_under_umask_022() {
    // The child inherits the umask; 022 is the usual one (plain files 0644).
    // SAFETY: umask has no preconditions; other tests expect 022 anyway.
    unsafe { libc::umask(0o022) };
    let dovecot = Dovecot::start_with(DovecotOptions {
        max_mail_size: Some(2000),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("private.mbox");
    let big = "a line that helps the message over the server's limit\n".repeat(60);
    std::fs::write(
        &mbox,
        format!(
            "From a@b Mon Jan  6 09:15:00 2020\nSubject: small\n\nsmall\n\nFrom a@b Mon Jan  6 09:16:00 2020\nSubject: big\n\n{big}\n"
        ),
    )
    .unwrap();
    let trace = dir.path().join("imap.trace");
    std::fs::write(&trace, "an earlier run's trace\n").unwrap();
    std::fs::set_permissions(&trace, std::fs::Permissions::from_mode(0o644)).unwrap();
    let failed = dir.path().join("failed");

    let mut cmd = MailhaulCommand::upload(&dovecot, &[&mbox]);
    cmd.arg("--trace")
        .arg(&trace)
        .arg("--failed-out")
        .arg(&failed);
    let out = cmd.assert_exit_code(1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("private.mbox message 2"), "{stderr}");

    assert_eq!(mode(&trace), "0600", "an existing --trace file is narrowed");
    assert_eq!(mode(&failed), "0700");
    assert_eq!(mode(&failed.join("index.tsv")), "0600");
    assert_eq!(mode(&failed.join("00001.eml")), "0600");
    let state = cmd.home().join(".local").join("state");
    for d in [state.clone(), state.join("mailhaul")] {
        assert_eq!(mode(&d), "0700", "{}", d.display());
    }
    let journals: Vec<_> = std::fs::read_dir(state.join("mailhaul"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 2, "journal and lock: {journals:?}");
    for f in &journals {
        assert_eq!(mode(f), "0600", "{}", f.display());
    }
}
