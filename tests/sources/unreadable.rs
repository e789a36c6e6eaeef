//! Files recognised as mail that cannot be read, found in a directory
//! beside a good mbox: a truncated PST (the `enron.pst` fixture cut at
//! 8 MB, as an interrupted copy leaves it), a binary file named `.eml`, and
//! the two pieces of a `zip -s` archive (`.z01`, and the `.zip` last piece
//! whose end record names disk 1). `upload` sends the mbox and exits 1,
//! naming each bad file with its reason on stderr and in `--json`; `scan`
//! lists them as problems (exit 1). A README beside them stays a warning.

use std::io::Write as _;
use std::path::Path;

use super::pst::enron_pst;
use super::{Expectation, assert_holds, expect, json, mail, put, utc};
use crate::util::{Dovecot, MailhaulCommand};

/// The two pieces `zip -s` leaves of an archive: the first starts with the
/// spanning signature `PK\7\8`, the last holds the central directory and
/// an end record whose disk numbers are 1.
fn split_zip(first: &Path, last: &Path) {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "Takeout/Mail/All mail Including Spam and Trash.mbox",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    for i in 0..20_000u32 {
        writeln!(zip, "From x@y Mon Jan  6 09:15:00 2020\nSubject: {i}\n").unwrap();
    }
    let mut bytes = zip.finish().unwrap().into_inner();
    let end = bytes.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
    bytes[end + 4..end + 8].copy_from_slice(&[1, 0, 1, 0]);
    let cut = bytes.len() / 2;
    let mut head = b"PK\x07\x08".to_vec();
    head.extend(&bytes[..cut]);
    std::fs::write(first, head).unwrap();
    std::fs::write(last, &bytes[cut..]).unwrap();
}

#[test]
fn mail_files_that_cannot_be_read_fail_the_run_and_the_rest_lands() {
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("mix");
    put(
        &mix.join("box/Inbox"),
        "From alice@example.org Mon Jan  6 09:15:00 2020\n\
         From: Alice <alice@example.org>\n\
         Subject: kept\n\
         \n\
         Still here.\n",
    );
    let pst = std::fs::read(enron_pst()).unwrap();
    put(&mix.join("trunc.pst"), &pst[..8_000_000]);
    let mut photo = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    photo.extend((0..4000u32).map(|i| (i * 131 % 251) as u8));
    put(&mix.join("photo.eml"), &photo);
    split_zip(&mix.join("takeout.z01"), &mix.join("takeout.zip"));
    put(
        &mix.join("README"),
        "my old mail, copied from the old laptop\n",
    );
    let bad = [
        (
            "trunc.pst",
            "not a readable PST file: truncated: the file has 8000000 bytes",
        ),
        ("photo.eml", "not a mail message: binary data"),
        ("takeout.z01", "a part of a split zip archive (zip -s)"),
        (
            "takeout.zip",
            "join the parts first with `zip -s 0 in.zip --out joined.zip`",
        ),
    ];

    let server = Dovecot::start().unwrap();
    let out = MailhaulCommand::upload(&server, &[&mix])
        .arg("--json")
        .assert_exit_code(1);
    let report = json(&out);
    assert_eq!(report["exit_code"], 1, "{report:#}");
    assert_eq!(report["totals"]["uploaded"], 1, "{report:#}");
    let files = report["unreadable_files"].as_array().unwrap();
    assert_eq!(files.len(), bad.len(), "{report:#}");
    for (name, reason) in bad {
        let path = mix.join(name).display().to_string();
        assert!(
            files
                .iter()
                .any(|f| f["path"] == path.as_str()
                    && f["reason"].as_str().unwrap().contains(reason)),
            "{name}: {reason}: {report:#}"
        );
    }
    let mut want = Expectation::new();
    expect(
        &mut want,
        "box/Inbox",
        vec![mail(
            "From: Alice <alice@example.org>\nSubject: kept\n",
            "Still here.\n",
            &[],
            utc(2020, 1, 6, 9, 15, 0),
        )],
    );
    assert_holds(&server, &want);

    // Without --json: each on stderr (not as a warning, the path once),
    // the summary counts them; scan counts them as problems.
    let out = MailhaulCommand::upload(&server, &[&mix]).assert_exit_code(1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (name, reason) in bad {
        let path = mix.join(name).display().to_string();
        let line = stderr
            .lines()
            .find(|l| l.contains(&path))
            .unwrap_or_else(|| panic!("{name} not named on stderr:\n{stderr}"));
        assert!(line.contains(reason), "{line}");
        assert!(!line.contains("warning"), "{line}");
        assert_eq!(line.matches(name).count(), 1, "the path once: {line}");
    }
    assert!(
        stderr.contains("warning: ") && stderr.contains("README: not an mbox file"),
        "{stderr}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("4 source files of mail could not be read (named above)"),
        "{summary}"
    );
    let out = MailhaulCommand::new()
        .args(["scan", "--json"])
        .arg(&mix)
        .assert_exit_code(1);
    let scan = json(&out);
    let errors = scan["errors"].as_array().unwrap();
    for (name, reason) in bad {
        assert!(
            errors.iter().any(|e| {
                let e = e.as_str().unwrap();
                e.contains(name) && e.contains(reason)
            }),
            "{name}: {scan:#}"
        );
    }
    let out = MailhaulCommand::new()
        .arg("scan")
        .arg(&mix)
        .assert_exit_code(1);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("4 problems"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
