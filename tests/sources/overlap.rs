//! Overlapping source paths (a file and its directory, a directory given
//! twice in two spellings): each message is uploaded once, with a warning
//! naming what was given twice; `scan` (which shares discovery with
//! `verify`) counts each folder once.

use super::{put, scan_json, scanned};
use crate::util::{Dovecot, MailhaulCommand};

fn message(i: usize) -> String {
    format!(
        "From a@example.org Mon Jan  6 09:15:00 2020\nFrom: a@example.org\nSubject: {i}\nMessage-ID: <{i}@overlap.test>\n\nbody {i}\n\n"
    )
}

#[test]
fn overlapping_sources_upload_each_message_once() {
    let server = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dir");
    put(&dir.join("a.mbox"), (0..3).map(message).collect::<String>());
    put(&dir.join("b.mbox"), (3..5).map(message).collect::<String>());
    let a = dir.join("a.mbox");
    let spelled = format!("{}/./", dir.display());

    let scan = scan_json(&[a.as_os_str(), dir.as_os_str(), spelled.as_ref()], &[]);
    assert_eq!(scan["sources"].as_array().unwrap().len(), 2, "{scan:#}");
    assert_eq!(scanned(&scan, "a")["messages"], 3, "{scan:#}");
    assert_eq!(scanned(&scan, "b")["messages"], 2, "{scan:#}");
    // a.mbox under dir, and under ./dir/; ./dir/ the same as dir.
    assert_eq!(scan["warnings"].as_array().unwrap().len(), 3, "{scan:#}");

    let out = MailhaulCommand::upload(&server, &[a.as_os_str(), dir.as_os_str(), spelled.as_ref()])
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: also under {}; read once",
            a.display(),
            dir.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{spelled}: the same as {}; read once",
            dir.display()
        )),
        "{stderr}"
    );
    let mut reader = server.reader().unwrap();
    let mut subjects = Vec::new();
    for mailbox in ["a", "b"] {
        for body in reader.bodies(mailbox).unwrap() {
            let text = String::from_utf8_lossy(&body).into_owned();
            subjects.push(text.lines().nth(1).unwrap().to_string());
        }
    }
    subjects.sort();
    let want: Vec<String> = (0..5).map(|i| format!("Subject: {i}")).collect();
    assert_eq!(subjects, want, "each message once");
}
