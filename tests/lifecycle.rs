//! The batch lifecycle end to end against a private Dovecot (issue 9):
//! a batch stored by the server whose answer is lost, then a look that
//! fails (`NO [UNAVAILABLE]` from [`LookProxy`]) — the run says the fate is
//! unknown and exits non-zero, the rerun looks and stores nothing twice;
//! and a 70 MB message in a batch of unknown fate, settled by the next run
//! from sizes and Message-IDs without reading the body back.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::util::{Dovecot, LookProxy, MailhaulCommand};

/// `n` small messages (the bytes each is sent as), written as an mbox.
fn small(n: usize) -> (String, Vec<Vec<u8>>) {
    small_tagged(n, "")
}

/// [`small`] with `tag` in every Message-ID and body (other messages).
fn small_tagged(n: usize, tag: &str) -> (String, Vec<Vec<u8>>) {
    let mut mbox = String::new();
    let mut sent = Vec::new();
    for i in 1..=n {
        let m = format!(
            "From: a@example.org\nSubject: {i}\nMessage-ID: <{i}{tag}@lifecycle.example.org>\n\nbody {i}{tag} {}\n",
            "z".repeat(i * 31)
        );
        mbox.push_str("From a@example.org Sat Feb  1 10:00:00 2020\n");
        mbox.push_str(&m);
        mbox.push('\n');
        sent.push(m.replace('\n', "\r\n").into_bytes());
    }
    (mbox, sent)
}

/// `mailhaul upload SRC` into `Target` through `proxy` (plain text) or
/// straight to Dovecot (TLS), with `journal`.
fn upload(
    dovecot: &Dovecot,
    src: &Path,
    journal: &Path,
    proxy: Option<&LookProxy>,
    extra: &[&str],
) -> (MailhaulCommand, std::process::Output) {
    let mut c = MailhaulCommand::new();
    c.arg("upload").arg(src);
    match proxy {
        Some(p) => {
            c.arg("--server")
                .arg(format!("imap://{}@127.0.0.1:{}", dovecot.user(), p.port()))
                .arg("--allow-plaintext")
                .env("MAILHAUL_PASSWORD", dovecot.password())
                .attach(dovecot);
        }
        None => {
            c.server(dovecot);
        }
    }
    c.args(["--mailbox", "Target", "--timeout", "20", "--quiet"]);
    if !extra.contains(&"--no-journal") {
        c.arg("--journal").arg(journal);
    }
    c.args(extra);
    let out = c.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", c.explain(&out));
    (c, out)
}

/// The first run, through a [`LookProxy`] that cuts it before the first
/// APPENDUID answer; the cut must have happened.
fn cut_run(
    dovecot: &Dovecot,
    src: &Path,
    journal: &Path,
    extra: &[&str],
) -> (LookProxy, std::process::Output) {
    let proxy = LookProxy::start(dovecot.plain_port(), 1);
    let (c, out) = upload(dovecot, src, journal, Some(&proxy), extra);
    assert!(proxy.did_cut(), "{}", c.explain(&out));
    (proxy, out)
}

/// `Target`'s messages, read back by the independent reader, sorted.
fn on_server(dovecot: &Dovecot) -> Vec<Vec<u8>> {
    let mut got: Vec<Vec<u8>> = dovecot
        .reader()
        .unwrap()
        .fetch_all("Target")
        .unwrap()
        .into_iter()
        .map(|f| f.body)
        .collect();
    got.sort();
    got
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// Stored, answer lost, look refused: fate unknown, exit non-zero, the
/// batch stays open; the rerun (looks working) stores nothing twice.
#[test]
fn stored_then_dropped_with_a_failing_look_is_settled_by_the_rerun() {
    let dovecot = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mbox, sent) = small(10);
    let src: PathBuf = tmp.path().join("box");
    std::fs::write(&src, mbox).unwrap();
    let journal = tmp.path().join("journal");
    let proxy = LookProxy::start(dovecot.plain_port(), 1);
    let (c, first) = upload(
        &dovecot,
        &src,
        &journal,
        Some(&proxy),
        &["--batch-size", "5", "--retries", "2"],
    );
    assert!(proxy.did_cut(), "{}", c.explain(&first));
    assert!(
        proxy.refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "{}",
        c.explain(&first)
    );
    assert_ne!(first.status.code(), Some(0), "{}", c.explain(&first));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("fate unknown"), "{stderr}");
    assert!(stderr.contains("stays open in the journal"), "{stderr}");
    // Whatever landed, landed once.
    let after_first = on_server(&dovecot);
    for m in &sent {
        assert!(after_first.iter().filter(|g| *g == m).count() <= 1);
    }
    assert!(!after_first.is_empty(), "the first batch was stored");
    proxy.refuse_looks.store(false, Ordering::SeqCst);
    let (c, again) = upload(&dovecot, &src, &journal, Some(&proxy), &[]);
    assert_eq!(again.status.code(), Some(0), "{}", c.explain(&again));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("an earlier run stopped"), "{stderr}");
    assert_eq!(on_server(&dovecot), sorted(sent));
}

/// A 70 MB message stored, its answer lost, the run stopped (`--retries
/// 0`, exit 3, the `Begin` left open): the next run settles it by size and
/// Message-ID (no 64 MiB literal to read back), exits 0, and the message is
/// on the server once.
#[test]
fn a_70_mb_message_of_unknown_fate_is_settled_by_the_next_run() {
    let dovecot = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let line = format!("{}\n", "0123456789abcdef".repeat(6));
    let body = line.repeat(70_000_000 / line.len());
    let big = format!(
        "From: a@example.org\nSubject: big\nMessage-ID: <big@lifecycle.example.org>\n\n{body}"
    );
    let (small_mbox, small_sent) = small(2);
    let mut mbox = String::from("From a@example.org Sat Feb  1 10:00:00 2020\n");
    mbox.push_str(&big);
    mbox.push('\n');
    mbox.push_str(&small_mbox);
    let src = tmp.path().join("box");
    std::fs::write(&src, mbox).unwrap();
    let mut sent = small_sent;
    sent.push(big.replace('\n', "\r\n").into_bytes());
    drop(big);
    let journal = tmp.path().join("journal");
    let (proxy, first) = cut_run(
        &dovecot,
        &src,
        &journal,
        &["--batch-size", "1", "--retries", "0"],
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(3), "{stderr}");
    drop(proxy);
    let (c, again) = upload(&dovecot, &src, &journal, None, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", c.explain(&again));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("1 had landed"), "{stderr}");
    let got = on_server(&dovecot);
    assert_eq!(got.len(), 3);
    assert_eq!(got, sorted(sent));
}

/// `--retries 0` after a stored batch lost its answer: exit 3, the fate is
/// unknown; "nothing will be doubled" is said when the next run will look
/// (the batch open in the journal, or the server check), never with
/// `--no-journal --allow-duplicates`.
#[test]
fn retries_zero_says_nothing_will_be_doubled_only_when_true() {
    let dovecot = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], bool); 3] = [
        ("journal", &[], true),
        ("check", &["--no-journal"], true),
        ("blind", &["--no-journal", "--allow-duplicates"], false),
    ];
    for (name, flags, promised) in cases {
        let (mbox, _) = small_tagged(4, name);
        let src = tmp.path().join(name);
        std::fs::write(&src, mbox).unwrap();
        let journal = tmp.path().join(format!("{name}.journal"));
        let mut extra = vec!["--batch-size", "2", "--retries", "0"];
        extra.extend(flags);
        let (_proxy, out) = cut_run(&dovecot, &src, &journal, &extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        assert!(stderr.contains("fate unknown"), "{name}: {stderr}");
        assert_eq!(
            stderr.contains("nothing will be doubled"),
            promised,
            "{name}: {stderr}"
        );
        if !promised {
            assert!(stderr.contains("may store them twice"), "{stderr}");
        }
    }
}
