//! Server refusals and misbehaviour that Dovecot won't produce on demand,
//! played by [`FakeImap`]: NO in the middle of a MULTIAPPEND, BYE mid-batch,
//! a batch stored but never answered, a refused continuation (TOOBIG),
//! OVERQUOTA, garbage instead of an answer, NUL bytes with and without
//! BINARY. mailhaul must never panic, never double, and say what happened.

use std::path::Path;
use std::process::Output;

use crate::util::{FakeImap, Fault, MailhaulCommand, assert_exit};

const CAPS: &str = "LITERAL+ MULTIAPPEND UIDPLUS AUTH=PLAIN";

/// Ten messages; number 4 contains `REFUSE-ME`.
fn source(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let mut mbox = String::new();
    let mut want = Vec::new();
    for i in 1..=10 {
        let mark = if i == 4 { "REFUSE-ME" } else { "fine" };
        let m = format!(
            "From: a@example.org\nSubject: {i}\nMessage-ID: <{i}@example.org>\n\nbody {i} {mark} {}\n",
            "y".repeat(i * 50)
        );
        mbox.push_str("From a@example.org Sat Feb  1 10:00:00 2020\n");
        mbox.push_str(&m);
        mbox.push('\n');
        want.push(m.replace('\n', "\r\n").into_bytes());
    }
    let p = dir.join("box");
    std::fs::write(&p, mbox).unwrap();
    (p, want)
}

fn run(peer: &FakeImap, src: &Path, journal: &Path, extra: &[&str]) -> Output {
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(src)
        .arg("--server")
        .arg(format!("imap://user@127.0.0.1:{}", peer.port()))
        .arg("--allow-plaintext")
        .env("MAILHAUL_PASSWORD", "secret")
        .args([
            "--mailbox",
            "Target",
            "--batch-size",
            "5",
            "--timeout",
            "5",
            "--quiet",
        ])
        .arg("--journal")
        .arg(journal)
        .args(extra);
    let out = c.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", c.explain(&out));
    out
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn contains(m: &[u8], s: &str) -> bool {
    m.windows(s.len()).any(|w| w == s.as_bytes())
}

/// NO for any APPEND that carries message 4: the batch is split until
/// message 4 stands alone; everything else lands once; exit 1.
#[test]
fn no_mid_multiappend_isolates_the_refused_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(
        CAPS,
        |c| {
            if c.messages.iter().any(|m| contains(m, "REFUSE-ME")) {
                Fault::Respond("NO [CANNOT] bad message".into())
            } else {
                Fault::Accept
            }
        },
        |_, _| None,
    );
    let out = run(&peer, &src, &tmp.path().join("j"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("message 4") && stderr.contains("CANNOT"),
        "{stderr}"
    );
    let mut expected = want.clone();
    expected.remove(3);
    assert_eq!(sorted(peer.messages("Target")), sorted(expected));
}

/// BYE in the middle of the second batch: reconnect, look, resend; exit 0.
#[test]
fn bye_mid_batch_reconnects_and_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(CAPS, Fault::on_nth(2, Fault::Bye), |_, _| None);
    let out = run(&peer, &src, &tmp.path().join("j"), &[]);
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
    assert!(peer.state.lock().unwrap().logins >= 2);
}

/// The server stores a batch and the connection drops before the answer:
/// the uploader finds the batch by reading back and does not send it again.
#[test]
fn stored_but_unanswered_batch_is_not_doubled() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(CAPS, Fault::on_nth(1, Fault::StoreThenDrop), |_, _| None);
    let out = run(&peer, &src, &tmp.path().join("j"), &[]);
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
    assert_eq!(peer.state.lock().unwrap().appends, 2);
}

/// Garbage instead of an answer: no panic; resolved by looking; exit 0.
#[test]
fn garbage_answer_is_survived() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(
        CAPS,
        |c| {
            if c.nth == 1 {
                Fault::Garbage(
                    b"\x00\xff)( * {99999999999}\r\n+ + +\r\nA9 OK [APPENDUID x\r\n".to_vec(),
                )
            } else {
                Fault::Accept
            }
        },
        |_, _| None,
    );
    let out = run(&peer, &src, &tmp.path().join("j"), &[]);
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
}

/// Synchronizing literals; the server refuses the continuation of message 4
/// with `NO [TOOBIG]`: reported with its meaning, the rest lands; exit 1.
#[test]
fn refused_continuation_toobig_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, mut want) = source(tmp.path());
    let peer = FakeImap::start(
        "MULTIAPPEND UIDPLUS AUTH=PLAIN",
        |_| Fault::Accept,
        |_, n| (n == want_len(4)).then(|| "NO [TOOBIG] message too large".to_string()),
    );
    let out = run(&peer, &src, &tmp.path().join("j"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refuses messages this big (TOOBIG)"),
        "{stderr}"
    );
    want.remove(3);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
}

/// The size of message `i` of [`source`] as sent.
fn want_len(i: usize) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    source(tmp.path()).1[i - 1].len()
}

/// OVERQUOTA on the second batch: the run stops at once (no more APPENDs),
/// says why, exit 1; a rerun once there is room finishes without doubling.
#[test]
fn overquota_stops_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let full = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let f = full.clone();
    let peer = FakeImap::start(
        CAPS,
        move |c| {
            if c.nth >= 2 && f.load(std::sync::atomic::Ordering::SeqCst) {
                Fault::Respond("NO [OVERQUOTA] quota exceeded".into())
            } else {
                Fault::Accept
            }
        },
        |_, _| None,
    );
    let journal = tmp.path().join("j");
    let out = run(&peer, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("over quota"), "{stderr}");
    assert_eq!(
        peer.state.lock().unwrap().appends,
        2,
        "kept sending after OVERQUOTA"
    );
    full.store(false, std::sync::atomic::Ordering::SeqCst);
    let out = run(&peer, &src, &journal, &[]);
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
}

/// NUL bytes: a `~{n}` literal8 with BINARY, reported and not sent without;
/// `--failed-out` keeps the refused message.
#[test]
fn nul_bytes_need_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("nul");
    std::fs::write(
        &src,
        "From a@b Sat Feb  1 10:00:00 2020\nSubject: nul\n\nzero \0 byte\n",
    )
    .unwrap();
    let plain = FakeImap::start(CAPS, |_| Fault::Accept, |_, _| None);
    let failed = tmp.path().join("failed");
    let out = run(
        &plain,
        &src,
        &tmp.path().join("j1"),
        &["--failed-out", failed.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BINARY"));
    assert!(plain.messages("Target").is_empty());
    let index = std::fs::read_to_string(failed.join("index.tsv")).unwrap();
    assert!(
        index.contains("00001.eml") && index.contains("NUL"),
        "{index}"
    );
    assert!(contains(
        &std::fs::read(failed.join("00001.eml")).unwrap(),
        "zero \0 byte"
    ));

    let binary = FakeImap::start(&format!("{CAPS} BINARY"), |_| Fault::Accept, |_, _| None);
    let out = run(&binary, &src, &tmp.path().join("j2"), &[]);
    assert_exit(&out, 0);
    assert_eq!(binary.messages("Target").len(), 1);
    let headers = binary.state.lock().unwrap().literal_headers.clone();
    assert!(headers.iter().any(|h| h.starts_with("~{")), "{headers:?}");
}

/// SIGTERM during an upload: the APPEND in flight finishes, the summary is
/// printed, exit 130; a rerun finishes without doubling.
#[test]
fn sigterm_stops_cleanly_with_130() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let slow = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let s2 = slow.clone();
    let peer = FakeImap::start(
        CAPS,
        move |_| {
            if s2.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(150));
            }
            Fault::Accept
        },
        |_, _| None,
    );
    let journal = tmp.path().join("j");
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&src)
        .arg("--server")
        .arg(format!("imap://user@127.0.0.1:{}", peer.port()))
        .arg("--allow-plaintext")
        .env("MAILHAUL_PASSWORD", "secret")
        .args(["--mailbox", "Target", "--batch-size", "1", "--timeout", "5"])
        .arg("--journal")
        .arg(&journal);
    let child = c.spawn_piped();
    // Wait until a few APPENDs went through, then SIGTERM.
    while peer.state.lock().unwrap().appends < 3 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill(2) on the pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // What landed, and that the rest was not read: no "N of N".
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(" uploaded in ")
            && !summary.contains("messages uploaded")
            && summary.contains("stopped before the whole source was read"),
        "{summary}"
    );
    let stored = peer.messages("Target").len();
    assert!((3..10).contains(&stored), "{stored}");
    slow.store(false, std::sync::atomic::Ordering::SeqCst);
    let out = run(&peer, &src, &journal, &[]);
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
}
