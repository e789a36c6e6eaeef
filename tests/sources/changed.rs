//! An mbox rewritten in place while it is uploaded, as a mail client's
//! sync or expunge does (the same inode truncated and written again, the
//! first messages dropped): mailhaul never uploads a message spliced from
//! the old and the new content, stops the file with "changed while being
//! read" naming it (exit 1), keeps what it read before, and a rerun
//! finishes with each message once.
//!
//! Deterministic: the upload is slowed (`--max-rate`) and the file is
//! rewritten once the server holds [`REWRITE_AT`] messages; the reader is
//! then at most its queue, its read buffer and a window of batches ahead of
//! the server, far from the end of a file of [`TOTAL`] 2 KiB messages, so
//! it meets the change whatever the timing.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::util::{Dovecot, MailhaulCommand};

const TOTAL: usize = 3000;
const DROPPED: usize = 10;
const REWRITE_AT: usize = 100;

/// Message `i` as the mbox holds it, and as the server must hold it.
fn message(i: usize) -> (String, Vec<u8>) {
    let body: String = (0..24)
        .map(|l| format!("line {l:02} of message {i:04}: {}\n", "x".repeat(48)))
        .collect();
    let text = format!(
        "From: a{i}@example.org\nSubject: message {i:04}\nMessage-ID: <{i}@changed.test>\n\n{body}"
    );
    let mbox = format!("From a{i}@example.org Mon Jan  6 09:15:00 2020\n{text}\n");
    (mbox, text.replace('\n', "\r\n").into_bytes())
}

fn mbox(range: std::ops::Range<usize>) -> String {
    range.map(|i| message(i).0).collect()
}

/// How many messages mailbox `big` holds (0 before it exists).
fn on_server(server: &Dovecot) -> usize {
    let mut reader = server.reader().unwrap();
    let status = reader.command("STATUS big (MESSAGES)").unwrap();
    let text = format!("{:?}", status.untagged);
    text.split("MESSAGES ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn an_mbox_rewritten_in_place_during_the_upload_is_never_spliced() {
    let server = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mbox");
    std::fs::write(&path, mbox(0..TOTAL)).unwrap();
    let journal = dir.path().join("journal");
    let upload = || {
        let mut c = MailhaulCommand::upload(&server, &[&path]);
        c.arg("--journal").arg(&journal);
        c
    };

    let mut child = upload().args(["--max-rate", "400"]).spawn_piped();
    let deadline = Instant::now() + Duration::from_secs(60);
    while on_server(&server) < REWRITE_AT {
        assert!(Instant::now() < deadline, "nothing landed in 60 s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before {REWRITE_AT} messages landed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The client's expunge: the first messages dropped, the file written
    // again in place (O_TRUNC, same inode).
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(mbox(DROPPED..TOTAL).as_bytes()).unwrap();
    drop(file);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    let named = stderr
        .lines()
        .find(|l| l.contains("changed while being read"))
        .unwrap_or_else(|| panic!("no 'changed while being read' in:\n{stderr}"));
    assert!(named.contains(&*path.to_string_lossy()), "{named}");
    assert!(
        named.contains("run again once it is no longer being changed"),
        "{named}"
    );
    // The counts say what was read, not "N of N": the file was not read
    // to its end.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("stopped before the whole source was read"),
        "{stdout}"
    );

    let source: HashMap<Vec<u8>, usize> = (0..TOTAL).map(|i| (message(i).1, i)).collect();
    let landed = |what: &str| -> Vec<usize> {
        let mut got: Vec<usize> = server
            .reader()
            .unwrap()
            .bodies("big")
            .unwrap()
            .iter()
            .map(|b| {
                *source.get(b).unwrap_or_else(|| {
                    panic!(
                        "{what}: a message on the server is none of the source's (spliced?):\n{}",
                        String::from_utf8_lossy(b)
                    )
                })
            })
            .collect();
        got.sort();
        got
    };
    let first = landed("after the rewrite");
    assert!(
        first.len() >= REWRITE_AT && first.len() < TOTAL,
        "the change was not met half-way: {} landed",
        first.len()
    );
    assert!(first.windows(2).all(|w| w[0] < w[1]), "a message twice");

    upload().assert_success();
    let all = landed("after the rerun");
    let mut want: Vec<usize> = first.iter().copied().filter(|&i| i < DROPPED).collect();
    want.extend(DROPPED..TOTAL);
    assert_eq!(
        all, want,
        "each message of the file as it is now once, plus what landed before"
    );
}
