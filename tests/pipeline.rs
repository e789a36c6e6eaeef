//! Batches in flight (several MULTIAPPENDs on the wire before the first
//! answer), played by [`FakeImap`]: a NO for the middle batch splits only
//! that batch; a BYE or a dropped connection with several batches in flight
//! is resolved by looking, nothing lost, nothing doubled.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use crate::util::{FakeImap, Fault, MailhaulCommand, assert_exit};

const CAPS: &str = "LITERAL+ MULTIAPPEND UIDPLUS AUTH=PLAIN";

/// Ten messages; number 5 contains `REFUSE-ME`.
fn source(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let mut mbox = String::new();
    let mut want = Vec::new();
    for i in 1..=10 {
        let mark = if i == 5 { "REFUSE-ME" } else { "fine" };
        let m = format!(
            "From: a@example.org\nSubject: {i}\nMessage-ID: <{i}@example.org>\n\nbody {i} {mark}\n"
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

fn run(peer: &FakeImap, src: &Path, journal: &Path) -> Output {
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(src)
        .arg("--server")
        .arg(format!("imap://user@127.0.0.1:{}", peer.port()))
        .arg("--allow-plaintext")
        .env("MAILHAUL_PASSWORD", "secret")
        .args(["--mailbox", "Target", "--batch-size", "3", "--timeout", "5"])
        .arg("--quiet")
        .arg("--journal")
        .arg(journal);
    let out = c.run();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        c.explain(&out)
    );
    out
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn contains(m: &[u8], s: &str) -> bool {
    m.windows(s.len()).any(|w| w == s.as_bytes())
}

/// Batches [1,2,3] [4,5,6] [7,8,9] [10] all go out before any answer; the
/// middle one is refused (message 5): only it is split, the others land
/// as sent, and message 5 alone is reported.
#[test]
fn no_for_the_middle_batch_splits_only_that_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let sizes = Arc::new(Mutex::new(BTreeMap::new()));
    let seen = sizes.clone();
    let peer = FakeImap::start(
        CAPS,
        move |c| {
            // (The peer may ask twice per command: keyed by its number.)
            seen.lock().unwrap().insert(c.nth, c.messages.len());
            if c.messages.iter().any(|m| contains(m, "REFUSE-ME")) {
                Fault::Respond("NO [CANNOT] bad message".into())
            } else {
                Fault::Accept
            }
        },
        |_, _| None,
    );
    let out = run(&peer, &src, &tmp.path().join("j"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CANNOT"), "{stderr}");
    let mut expected = want.clone();
    expected.remove(4);
    assert_eq!(sorted(peer.messages("Target")), sorted(expected));
    // The four batches as written, then the middle one's halves: [4] [5,6]
    // → [5] [6].
    let sizes: Vec<usize> = sizes.lock().unwrap().values().copied().collect();
    assert_eq!(sizes[..4], [3, 3, 3, 1], "{sizes:?}");
    assert_eq!(sizes[4..].iter().sum::<usize>(), 1 + 2 + 1 + 1, "{sizes:?}");
}

/// BYE on the second of four batches in flight: the second, third and
/// fourth are of unknown fate; reconnect, look, resend; each message once.
#[test]
fn bye_with_several_batches_in_flight_finishes_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(CAPS, Fault::on_nth(2, Fault::Bye), |_, _| None);
    let out = run(&peer, &src, &tmp.path().join("j"));
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
    assert!(peer.state.lock().unwrap().logins >= 2);
}

/// The second batch is stored and the connection dropped before its answer,
/// with the third and fourth already written: the second is found by
/// looking (not sent again), the others are sent again; each message once.
#[test]
fn stored_batch_among_several_in_flight_is_not_doubled() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, want) = source(tmp.path());
    let peer = FakeImap::start(CAPS, Fault::on_nth(2, Fault::StoreThenDrop), |_, _| None);
    let out = run(&peer, &src, &tmp.path().join("j"));
    assert_exit(&out, 0);
    assert_eq!(sorted(peer.messages("Target")), sorted(want));
}
