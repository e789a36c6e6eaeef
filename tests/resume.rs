//! Never lose, never double (issue 4): uploads through a [`FaultProxy`]
//! that cuts the connection at many points (inside a command, inside a
//! literal, before the tagged OK of a batch, in both directions), and runs
//! killed with SIGKILL; then a rerun without faults. Every message must be
//! on the server exactly once, checked with the independent reader by
//! comparing the multiset of message bytes with the source.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{At, Cut, Dir, Dovecot, DovecotOptions, FaultProxy, MailhaulCommand, Rng};

/// The test mailboxes and how many messages each holds.
const MAILBOXES: &[(&str, usize)] = &[("Alpha", 70), ("Beta", 60), ("Gamma", 50)];

/// One message as sent (CRLF) and as written in the mbox (LF, From_ line).
fn message(mailbox: &str, i: usize, rng: &mut Rng) -> String {
    let lines = 3 + (rng.next() % 120) as usize;
    let mut body = String::new();
    for l in 0..lines {
        body.push_str(&format!(
            "{mailbox} message {i} line {l}: {{{}}} the quick brown fox {}\n",
            rng.next() % 100,
            "x".repeat((rng.next() % 40) as usize)
        ));
    }
    format!(
        "From: Sender {i} <s{i}@example.org>\nTo: r@example.org\nSubject: {mailbox} {i}\nDate: Sat, 01 Feb 2020 10:{:02}:00 +0000\nMessage-ID: <{mailbox}-{i}@example.org>\n\n{body}",
        i % 60
    )
}

/// Writes the mbox files into `dir`; returns, per mailbox, the bytes each
/// message should have on the server, sorted.
fn fixture(dir: &Path) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut rng = Rng(4);
    let mut out = Vec::new();
    for (name, n) in MAILBOXES {
        let mut mbox = String::new();
        let mut expected = Vec::new();
        for i in 0..*n {
            // Alpha holds one exact duplicate: it must land twice.
            let m = if *name == "Alpha" && (i == 6 || i == 7) {
                message(name, 6, &mut Rng(99))
            } else {
                message(name, i, &mut rng)
            };
            mbox.push_str("From sender@example.org Sat Feb  1 10:00:00 2020\n");
            mbox.push_str(&m);
            mbox.push('\n');
            expected.push(m.replace('\n', "\r\n").into_bytes());
        }
        std::fs::write(dir.join(name), mbox).unwrap();
        expected.sort();
        out.push((name.to_string(), expected));
    }
    out
}

struct Setup {
    dovecot: Dovecot,
    _tmp: tempfile::TempDir,
    src: PathBuf,
    expected: Vec<(String, Vec<Vec<u8>>)>,
    work: PathBuf,
}

fn setup() -> Setup {
    let dovecot = Dovecot::start_with(DovecotOptions::default())
        .unwrap_or_else(|e| panic!("starting Dovecot: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let expected = fixture(&src);
    let work = tmp.path().to_path_buf();
    Setup {
        dovecot,
        _tmp: tmp,
        src,
        expected,
        work,
    }
}

impl Setup {
    /// `mailhaul upload` into `prefix/…` with the journal of `case`, through
    /// `proxy` (plain text) or straight to the server (TLS).
    fn upload(&self, case: &str, proxy: Option<&FaultProxy>, extra: &[&str]) -> MailhaulCommand {
        let mut c = MailhaulCommand::new();
        c.arg("upload").arg(&self.src);
        match proxy {
            Some(p) => {
                c.arg("--server")
                    .arg(format!(
                        "imap://{}@127.0.0.1:{}",
                        self.dovecot.user(),
                        p.port()
                    ))
                    .arg("--allow-plaintext")
                    .env("MAILHAUL_PASSWORD", self.dovecot.password())
                    .attach(&self.dovecot);
            }
            None => {
                c.server(&self.dovecot);
            }
        }
        c.arg("--prefix").arg(case);
        if !extra.contains(&"--no-journal") {
            c.arg("--journal")
                .arg(self.work.join(format!("{case}.journal")));
        }
        c.args(["--batch-size", "20", "--timeout", "10", "--quiet"])
            .args(extra);
        c
    }

    /// Every mailbox under `case` holds exactly the source's messages.
    fn assert_exactly_once(&self, case: &str, context: &str) {
        let mut r = self.dovecot.reader().unwrap();
        for (name, want) in &self.expected {
            let mut got: Vec<Vec<u8>> = r
                .fetch_all(&format!("{case}/{name}"))
                .unwrap()
                .into_iter()
                .map(|f| f.body)
                .collect();
            got.sort();
            if got != *want {
                let missing = want.iter().filter(|w| !got.contains(w)).count();
                panic!(
                    "{case}/{name} ({context}): {} messages on the server, {} in the source, {missing} missing",
                    got.len(),
                    want.len()
                );
            }
        }
    }
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// One faulty run through the proxy, then a clean rerun; exactly once after.
fn cut_case(s: &Setup, case: &str, cut: Cut, extra: &[&str]) {
    cut_case_hiding(s, case, cut, extra, &["STARTTLS"]);
}

fn cut_case_hiding(s: &Setup, case: &str, cut: Cut, extra: &[&str], hide: &[&str]) {
    let proxy = FaultProxy::start_hiding(s.dovecot.plain_port(), Some(cut.clone()), hide);
    let first = s.upload(case, Some(&proxy), extra).run();
    assert!(
        matches!(code(&first), Some(0 | 1 | 3)),
        "{case} {cut:?}: unexpected exit {:?}\n{}",
        code(&first),
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(proxy.did_cut(), "{case}: the cut {cut:?} never happened");
    drop(proxy);
    let out = s.upload(case, None, &[]).assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    s.assert_exactly_once(case, &format!("{cut:?} {extra:?}"));
}

fn pattern(dir: Dir, p: &str, nth: usize, delta: usize) -> Cut {
    Cut {
        dir,
        at: At::Pattern {
            pattern: p.as_bytes().to_vec(),
            nth,
            delta,
        },
    }
}

/// Cuts from client to server: in the first APPEND's command line, inside
/// its literals, late in the upload; with reconnection (retries) and without
/// (the rerun resolves the batch left open in the journal).
#[test]
fn cut_client_to_server_then_rerun() {
    let s = setup();
    let cases: Vec<(Cut, &[&str])> = vec![
        (
            pattern(Dir::ClientToServer, " APPEND ", 1, 3),
            &["--retries", "0"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 1, 200),
            &["--retries", "2"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 2, 9000),
            &["--retries", "0"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 4, 30000),
            &["--retries", "2"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 8, 1),
            &["--retries", "1"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 3, 700),
            &["--retries", "0", "--no-multiappend"],
        ),
        (
            pattern(Dir::ClientToServer, " APPEND ", 30, 50),
            &["--retries", "2", "--no-multiappend"],
        ),
        (
            Cut {
                dir: Dir::ClientToServer,
                at: At::Byte(40),
            },
            &["--retries", "1"],
        ),
    ];
    for (i, (cut, extra)) in cases.into_iter().enumerate() {
        cut_case(&s, &format!("c2s{i}"), cut, extra);
    }
}

/// Cuts from server to client just before (or inside) a batch's tagged OK:
/// the batch is stored but the client never hears it. The classic doubling
/// case: the rerun must find those messages and not send them again.
#[test]
fn cut_before_tagged_ok_then_rerun() {
    let s = setup();
    let cases: Vec<(Cut, &[&str])> = vec![
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 1, 0),
            &["--retries", "0"],
        ),
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 2, 4),
            &["--retries", "2"],
        ),
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 5, 0),
            &["--retries", "1"],
        ),
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 9, 0),
            &["--retries", "0"],
        ),
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 3, 0),
            &["--retries", "0", "--no-multiappend"],
        ),
        (
            pattern(Dir::ServerToClient, "OK [APPENDUID", 40, 2),
            &["--retries", "2", "--no-multiappend"],
        ),
        (
            pattern(Dir::ServerToClient, "STATUS", 2, 3),
            &["--retries", "2"],
        ),
    ];
    for (i, (cut, extra)) in cases.into_iter().enumerate() {
        cut_case(&s, &format!("s2c{i}"), cut, extra);
    }
}

/// LITERAL+ hidden, so every literal waits for `+`: cuts just before a
/// continuation arrives (the client waits with the literal unsent) and just
/// after one (the literal is on its way).
#[test]
fn cut_in_continuation_wait_then_rerun() {
    let s = setup();
    let hide = ["STARTTLS", "LITERAL+"];
    let cases: Vec<(Cut, &[&str])> = vec![
        (
            pattern(Dir::ServerToClient, "\r\n+ ", 1, 2),
            &["--retries", "0"],
        ),
        (
            pattern(Dir::ServerToClient, "\r\n+ ", 7, 2),
            &["--retries", "2"],
        ),
        (
            pattern(Dir::ServerToClient, "\r\n+ ", 25, 2),
            &["--retries", "1", "--no-multiappend"],
        ),
        (
            pattern(Dir::ClientToServer, "}\r\n", 12, 3),
            &["--retries", "0"],
        ),
    ];
    for (i, (cut, extra)) in cases.into_iter().enumerate() {
        cut_case_hiding(&s, &format!("cw{i}"), cut, extra, &hide);
    }
}

/// A clean run, then a rerun: everything is skipped as already uploaded.
#[test]
fn rerun_skips_journaled_messages() {
    let s = setup();
    s.upload("again", None, &[]).assert_success();
    let out = s.upload("again", None, &["--json"]).assert_success();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total: usize = MAILBOXES.iter().map(|(_, n)| n).sum();
    assert_eq!(doc["totals"]["uploaded"], 0, "{doc}");
    assert_eq!(doc["totals"]["already_present"], total, "{doc}");
    s.assert_exactly_once("again", "rerun");
}

/// Without a journal, `--skip-existing` finds what a first run uploaded.
#[test]
fn skip_existing_without_journal() {
    let s = setup();
    s.upload("skip", None, &["--no-journal"]).assert_success();
    let out = s
        .upload("skip", None, &["--no-journal", "--skip-existing", "--json"])
        .assert_success();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["totals"]["uploaded"], 0, "{doc}");
    s.assert_exactly_once("skip", "skip-existing");
}

/// A second run on the same journal is refused (exit 2) while the first holds it.
#[test]
fn journal_lock_refuses_a_second_run() {
    let s = setup();
    let path = s.work.join("locked.journal");
    let _held = mailhaul::journal::Journal::open(&path, false).unwrap();
    let out = s.upload("locked", None, &[]).assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another mailhaul run"),
        "{stderr}"
    );
}

/// The mailhaul process SIGKILLed at several moments, then rerun.
#[test]
fn sigkill_at_random_moments_then_rerun() {
    let s = setup();
    let mut killed_running = 0;
    for (i, ms) in [30u64, 120, 250, 400].into_iter().enumerate() {
        let case = format!("kill{i}");
        let mut c = s.upload(&case, None, &[]);
        let mut child = c.spawn();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        s.upload(&case, None, &[]).assert_success();
        s.assert_exactly_once(&case, &format!("killed after {ms} ms"));
    }
    assert!(
        killed_running >= 2,
        "only {killed_running} kills hit a running upload"
    );
}

/// verify: exit 0 after an upload; a deleted message is reported missing
/// and an extra copy doubled (exit 1), with the journal and without.
#[test]
fn verify_reports_missing_and_doubled() {
    let s = setup();
    s.upload("ver", None, &[]).assert_success();
    let verify = |extra: &[&str]| {
        let mut c = MailhaulCommand::new();
        c.arg("verify")
            .arg(&s.src)
            .server(&s.dovecot)
            .args(["--prefix", "ver"])
            .arg("--journal")
            .arg(s.work.join("ver.journal"))
            .args(extra);
        c
    };
    let out = verify(&[]).assert_success();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 missing, 0 doubled"), "{stdout}");

    let mut r = s.dovecot.reader().unwrap();
    let d = r.delimiter().unwrap();
    let beta = format!("ver{d}Beta");
    r.ok(&format!(
        "SELECT {}",
        crate::util::imap_reader::quote(&beta)
    ))
    .unwrap();
    r.ok("STORE 3 +FLAGS (\\Deleted)").unwrap();
    r.ok("EXPUNGE").unwrap();
    let copy = s.expected[0].1[5].clone();
    assert!(r.append_raw("ver/Alpha", &copy).unwrap().is_ok());
    for extra in [&[][..], &["--no-journal"][..]] {
        let out = verify(extra).assert_exit_code(1);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("ver.Alpha: 70 in the source, 71 on the server: 0 missing, 1 doubled")
                || stdout.contains(
                    "ver/Alpha: 70 in the source, 71 on the server: 0 missing, 1 doubled"
                ),
            "{stdout}"
        );
        assert!(
            stdout.contains("Beta: 60 in the source, 59 on the server: 1 missing, 0 doubled"),
            "{stdout}"
        );
        assert!(
            stdout.contains("  missing: ") && stdout.contains("  doubled: UID "),
            "{stdout}"
        );
    }
    // The same findings as JSON, with upload's schema conventions.
    let out = verify(&["--json"]).assert_exit_code(1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["schema"].as_u64(), doc["kind"].as_str()),
        (Some(1), Some("verify"))
    );
    assert_eq!(
        (
            doc["totals"]["missing"].as_u64(),
            doc["totals"]["doubled"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(doc["exit_code"], 1);
    assert!(
        doc["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["doubled"][0]["uid"].is_u64())
    );
}

/// A mailbox recreated between runs (new UIDVALIDITY) holding one of the
/// messages, and another deleted outright: the journal's entries for them
/// are not trusted; the rerun says so, checks the server, and fills both.
#[test]
fn recreated_and_deleted_mailboxes_are_refilled() {
    let s = setup();
    s.upload("uv", None, &[]).assert_success();
    let mut r = s.dovecot.reader().unwrap();
    let d = r.delimiter().unwrap();
    let q = crate::util::imap_reader::quote;
    r.ok(&format!("DELETE {}", q(&format!("uv{d}Alpha"))))
        .unwrap();
    r.ok(&format!("CREATE {}", q(&format!("uv{d}Alpha"))))
        .unwrap();
    let kept = s.expected[0].1[10].clone();
    assert!(r.append_raw("uv/Alpha", &kept).unwrap().is_ok());
    r.ok(&format!("DELETE {}", q(&format!("uv{d}Beta"))))
        .unwrap();
    drop(r);
    let out = s.upload("uv", None, &[]).assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UIDVALIDITY changed"), "{stderr}");
    assert!(stderr.contains("no such mailbox"), "{stderr}");
    s.assert_exactly_once("uv", "after recreate/delete");
}
