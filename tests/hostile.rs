//! A hostile or broken server against `mailhaul check`, played by
//! [`HostilePeer`]: whatever it sends, the client's memory stays bounded
//! (one response's lines and literals together; untagged data a command
//! did not ask for is not kept) and a bound exceeded fails with an error
//! naming it. Peak memory is read from /proc (`VmHWM`) while the client
//! waits in the middle of the hostile answer.

use std::process::Output;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use crate::util::cmd::MailhaulCommand;
use crate::util::peer::{HostilePeer, peak_rss_kib, write_filler};

const LITERAL: usize = 64 << 20;

/// `mailhaul check` against `peer` over plain TCP, the secret in `env`.
fn check(peer: &HostilePeer, env: &str, secret: &str) -> MailhaulCommand {
    let mut c = MailhaulCommand::new();
    c.arg("check")
        .arg("--server")
        .arg(format!("imap://user@127.0.0.1:{}", peer.port()))
        .args(["--allow-plaintext", "--timeout", "60"])
        .env(env, secret);
    c
}

/// Runs `mailhaul check` against `peer`; when the peer has reached its
/// pause (`at`), reads the client's peak memory (MiB) and lets the peer go
/// on (`go`). The peak and the finished run.
fn check_through_pause(peer: &HostilePeer, at: Receiver<()>, go: Sender<()>) -> (u64, Output) {
    let child = check(peer, "MAILHAUL_PASSWORD", "secret").spawn_piped();
    at.recv_timeout(Duration::from_secs(60))
        .expect("the peer reaches its pause");
    let peak = peak_when_waiting(child.id());
    go.send(()).unwrap();
    (peak, child.wait_with_output().unwrap())
}

/// Waits until the process sleeps (it has read all it was sent and waits
/// for more), then returns its peak resident set in MiB.
fn peak_when_waiting(pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sleeping_twice = 0;
    while sleeping_twice < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if status.contains("State:\tS") {
            sleeping_twice += 1;
        } else {
            sleeping_twice = 0;
        }
    }
    peak_rss_kib(pid).expect("VmHWM of the running client") >> 10
}

/// A pause the peer makes in its script: it says it got there, and waits
/// for the test to let it go on.
struct Pause {
    reached: Sender<()>,
    go: Mutex<Receiver<()>>,
}

impl Pause {
    fn new() -> (Pause, Receiver<()>, Sender<()>) {
        let (reached, at) = channel();
        let (go, wait) = channel();
        let p = Pause {
            reached,
            go: Mutex::new(wait),
        };
        (p, at, go)
    }

    fn here(&self) {
        let _ = self.reached.send(());
        let _ = self
            .go
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(120));
    }
}

/// A greeting of twelve 64 MiB literals: the client holds one literal at a
/// time at most and fails on the second with the bound on one response.
#[test]
fn greeting_of_many_big_literals_fails_on_the_response_bound() {
    let (pause, at, go) = Pause::new();
    let peer = HostilePeer::start(
        move |c| {
            use std::io::Write;
            write!(c, "* OK [CAPABILITY IMAP4rev1] {{{LITERAL}}}\r\n")?;
            write_filler(c, LITERAL)?;
            pause.here();
            for _ in 1..12 {
                write!(c, " {{{LITERAL}}}\r\n")?;
                write_filler(c, LITERAL)?;
            }
            write!(c, "\r\n")
        },
        |_, _, _| Ok(()),
    );
    let (peak, out) = check_through_pause(&peer, at, go);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("one response from the server exceeded the 80 MiB bound on one response"),
        "{stderr}"
    );
    // One literal, held once (not a doubled buffer), plus the program.
    assert!(
        peak < 64 + 40,
        "peak RSS {peak} MiB holding one 64 MiB literal"
    );
}

/// A million `* 1 EXISTS` before the answer to LIST: none of them is kept,
/// memory stays flat, and the command succeeds.
#[test]
fn flood_of_exists_is_not_kept() {
    let (pause, at, go) = Pause::new();
    let peer = HostilePeer::start(
        |c| {
            use std::io::Write;
            write!(c, "* OK [CAPABILITY IMAP4rev1] hi\r\n")
        },
        move |tag, cmd, c| {
            use std::io::Write;
            if cmd == "LIST \"\" \"\"" {
                let flood = b"* 1 EXISTS\r\n".repeat(10_000);
                for _ in 0..100 {
                    c.write_all(&flood)?;
                }
                pause.here();
                write!(c, "* LIST () \"/\" \"\"\r\n")?;
            }
            if cmd.starts_with("LOGIN") || cmd == "CAPABILITY" {
                write!(c, "* CAPABILITY IMAP4rev1\r\n")?;
            }
            if cmd.starts_with("LOGOUT") {
                write!(c, "* BYE bye\r\n")?;
            }
            write!(c, "{tag} OK done\r\n")
        },
    );
    let (peak, out) = check_through_pause(&peer, at, go);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("hierarchy delimiter: '/'"), "{stdout}");
    assert!(peak < 32, "peak RSS {peak} MiB after a million EXISTS");
}

/// A server answering every OAUTHBEARER response with another challenge:
/// the client answers four challenges, then cancels with `*` and fails
/// with an error saying so, instead of answering forever.
#[test]
fn endless_sasl_challenges_are_cancelled() {
    #[derive(Default)]
    struct Seen {
        tag: String,
        /// Responses the client sent in each exchange.
        responses: Vec<usize>,
        cancels: usize,
    }
    let seen = std::sync::Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    let peer = HostilePeer::start(
        |c| {
            use std::io::Write;
            write!(c, "* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] hi\r\n")
        },
        move |tag, cmd, c| {
            use std::io::Write;
            let mut s = s.lock().unwrap();
            if cmd.starts_with("AUTHENTICATE") {
                s.tag = tag.to_string();
                s.responses.push(0);
                write!(c, "+ \r\n")
            } else if tag == "*" {
                s.cancels += 1;
                write!(c, "{} BAD cancelled\r\n", s.tag)
            } else {
                // `e30=` is base64 `{}`: an error challenge, again and again.
                *s.responses.last_mut().unwrap() += 1;
                write!(c, "+ e30=\r\n")
            }
        },
    );
    let out = check(&peer, "MAILHAUL_OAUTH2_TOKEN", "ya29.hostile").assert_failure();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exchange went on past 4 challenge(s); the client cancelled it"),
        "{stderr}"
    );
    assert!(!stderr.contains("ya29"), "{stderr}");
    let s = seen.lock().unwrap();
    // The token and three dummy responses, then `*`, in each exchange (a
    // refused token is asked for once more: two exchanges).
    assert!(!s.responses.is_empty());
    assert!(s.responses.iter().all(|&n| n == 4), "{:?}", s.responses);
    assert_eq!(s.cancels, s.responses.len(), "the client sent no `*`");
}
