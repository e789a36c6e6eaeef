//! Throttles and parallel connections (issue 5): `--max-rate` and
//! `--max-bytes-rate` still upload everything exactly once (no timing is
//! asserted); `--jobs N` spreads mailboxes over N sessions, keeping each
//! mailbox's order, and `--unordered` splits one mailbox; a cut connection
//! among several is resolved (with a rerun), nothing lost or doubled.

use std::path::{Path, PathBuf};

use crate::util::{At, Cut, Dir, Dovecot, DovecotOptions, FaultProxy, MailhaulCommand};

/// Writes one mbox per (name, count) into `dir`; returns, per mailbox, the
/// bytes each message must have on the server, in source order.
fn fixture(dir: &Path, boxes: &[(&str, usize)]) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut out = Vec::new();
    for (name, n) in boxes {
        let mut mbox = String::new();
        let mut expected = Vec::new();
        for i in 0..*n {
            let body: String = (0..(3 + i % 17))
                .map(|l| format!("{name} {i} line {l} {}\n", "y".repeat(i % 50)))
                .collect();
            let m = format!(
                "From: s{i}@example.org\nSubject: {name} {i}\nMessage-ID: <{name}-{i}@example.org>\n\n{body}"
            );
            mbox.push_str("From s@example.org Sat Feb  1 10:00:00 2020\n");
            mbox.push_str(&m);
            mbox.push('\n');
            expected.push(m.replace('\n', "\r\n").into_bytes());
        }
        std::fs::write(dir.join(name), mbox).unwrap();
        out.push((name.to_string(), expected));
    }
    out
}

struct Setup {
    dovecot: Dovecot,
    _tmp: tempfile::TempDir,
    src: PathBuf,
    journal: PathBuf,
    expected: Vec<(String, Vec<Vec<u8>>)>,
}

fn setup(boxes: &[(&str, usize)]) -> Setup {
    let dovecot = Dovecot::start_with(DovecotOptions::default())
        .unwrap_or_else(|e| panic!("starting Dovecot: {e:#}"));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let expected = fixture(&src, boxes);
    let journal = tmp.path().join("j");
    Setup {
        dovecot,
        _tmp: tmp,
        src,
        journal,
        expected,
    }
}

impl Setup {
    fn upload(&self, proxy: Option<&FaultProxy>, extra: &[&str]) -> MailhaulCommand {
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
        c.arg("--journal")
            .arg(&self.journal)
            .args(["--batch-size", "10", "--timeout", "10", "--quiet"])
            .args(extra);
        c
    }

    /// Every mailbox holds exactly its source messages; in source order
    /// unless `any_order`.
    fn assert_exactly_once(&self, any_order: bool, context: &str) {
        let mut r = self.dovecot.reader().unwrap();
        for (name, want) in &self.expected {
            let mut got = r.bodies(name).unwrap();
            let mut want = want.clone();
            if any_order {
                got.sort();
                want.sort();
            }
            assert!(
                got == want,
                "{name} ({context}): {} messages on the server, {} in the source, {} missing, order kept: {}",
                got.len(),
                want.len(),
                want.iter().filter(|w| !got.contains(w)).count(),
                !any_order
            );
        }
    }

    /// How many sessions sent at least one APPEND.
    fn appending_sessions(&self) -> usize {
        self.dovecot
            .session_commands()
            .iter()
            .filter(|s| s.iter().any(|c| c.split(' ').nth(1) == Some("APPEND")))
            .count()
    }
}

/// A tiny rate on both limits: everything lands once, in order.
#[test]
fn throttled_upload_lands_everything_once() {
    let s = setup(&[("Slow", 25)]);
    s.upload(None, &["--max-rate", "40", "--max-bytes-rate", "32K"])
        .assert_success();
    s.assert_exactly_once(false, "throttled");
    let rerun = s.upload(None, &["--max-rate", "40"]).assert_success();
    assert!(!String::from_utf8_lossy(&rerun.stderr).contains("panicked"));
    s.assert_exactly_once(false, "throttled, rerun");
}

/// Five mailboxes over three connections: each message once, each
/// mailbox in source order, and more than one session appended.
#[test]
fn jobs_spread_mailboxes_and_keep_their_order() {
    let s = setup(&[
        ("Alpha", 40),
        ("Beta", 30),
        ("Gamma", 25),
        ("Delta", 12),
        ("Epsilon", 3),
    ]);
    s.upload(None, &["--jobs", "3"]).assert_success();
    s.assert_exactly_once(false, "--jobs 3");
    assert!(
        s.appending_sessions() >= 2,
        "{:?}",
        s.dovecot.session_commands()
    );
    // A rerun sends nothing; its progress events say which connection.
    let appends = s.dovecot.count_commands("APPEND");
    let out = s
        .upload(None, &["--jobs", "3", "--json-progress"])
        .assert_success();
    assert_eq!(s.dovecot.count_commands("APPEND"), appends);
    let connections: std::collections::BTreeSet<u64> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "progress")
        .filter_map(|e| e["connection"].as_u64())
        .collect();
    assert_eq!(connections.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    s.assert_exactly_once(false, "--jobs 3, rerun");
}

/// One mailbox split over two connections: each message once.
#[test]
fn unordered_splits_one_mailbox_exactly_once() {
    let s = setup(&[("Huge", 60)]);
    s.upload(None, &["--jobs", "2", "--unordered"])
        .assert_success();
    s.assert_exactly_once(true, "--jobs 2 --unordered");
    assert!(s.appending_sessions() >= 2);
}

/// The first of two connections is cut before the tagged OK of its second
/// batch, without reconnecting (the journal keeps the batch open) and with
/// reconnecting; a rerun then finishes: each message once, order kept
/// where no batch had to be sent again.
#[test]
fn jobs_cut_connection_then_rerun_exactly_once() {
    for (retries, case) in [("0", "no-retry"), ("3", "retry")] {
        let s = setup(&[("Alpha", 40), ("Beta", 35), ("Gamma", 20)]);
        let cut = Cut {
            dir: Dir::ServerToClient,
            at: At::Pattern {
                pattern: b"OK [APPENDUID".to_vec(),
                nth: 2,
                delta: 0,
            },
        };
        let proxy = FaultProxy::start(s.dovecot.plain_port(), Some(cut), true);
        let first = s
            .upload(Some(&proxy), &["--jobs", "2", "--retries", retries])
            .run();
        assert!(
            matches!(first.status.code(), Some(0 | 1 | 3)),
            "{case}: exit {:?}\n{}",
            first.status.code(),
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(proxy.did_cut(), "{case}: no cut");
        drop(proxy);
        s.upload(None, &["--jobs", "2"]).assert_success();
        s.assert_exactly_once(true, case);
    }
}

/// SIGINT while two throttled connections upload: both stop, exit 130;
/// a rerun finishes, each message once.
#[test]
fn interrupt_stops_every_connection() {
    let s = setup(&[("Alpha", 30), ("Beta", 30)]);
    let mut child = s.upload(None, &["--jobs", "2", "--max-rate", "8"]).spawn();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: kill(2) on the pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    s.upload(None, &["--jobs", "2"]).assert_success();
    s.assert_exactly_once(false, "interrupted, rerun");
}

/// An interrupted run's report does not look complete: the JSON says it
/// stopped early and which mailboxes were not read to their end (their
/// `found` is what was read), the summary says "N uploaded" and that the
/// source was not all read, never "N of N". A rerun finishes, each once.
#[test]
fn an_interrupted_run_does_not_look_complete() {
    let s = setup(&[("Alpha", 30), ("Beta", 30)]);
    let interrupted = |extra: &[&str]| {
        // As `Setup::upload`, without `--quiet`: the summary is printed.
        let mut c = MailhaulCommand::new();
        c.arg("upload").arg(&s.src).server(&s.dovecot);
        c.arg("--journal")
            .arg(&s.journal)
            .args(["--batch-size", "10", "--timeout", "10", "--max-rate", "8"])
            .args(extra);
        let child = c.spawn_piped();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        // SAFETY: kill(2) on the pid of our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", c.explain(&out));
        (c, out)
    };
    let (c, out) = interrupted(&["--json"]);
    let r: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", c.explain(&out)));
    assert_eq!(r["stopped_early"], true, "{r}");
    assert_eq!(r["stop_reason"], "interrupted", "{r}");
    assert_eq!(r["read_all"], false, "{r}");
    assert_eq!(r["totals"]["complete"], false, "{r}");
    let found = r["totals"]["found"].as_u64().unwrap();
    assert!(found < 60, "{r}");
    let unfinished: Vec<&str> = r["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["complete"] == false)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(!unfinished.is_empty(), "{r}");

    // Again, with the human summary: what the journal has is skipped,
    // more is sent, and the run is interrupted again.
    let (c, out) = interrupted(&[]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        !summary.contains("messages uploaded"),
        "{}",
        c.explain(&out)
    );
    assert!(summary.contains(" uploaded in "), "{}", c.explain(&out));
    assert!(
        summary
            .contains("stopped before the whole source was read (+): the same command continues"),
        "{}",
        c.explain(&out)
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("total ") && l.contains("+ ")),
        "{}",
        c.explain(&out)
    );

    let out = s.upload(None, &["--json"]).assert_success();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["stopped_early"].clone(), r["read_all"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(r["totals"]["found"], 60, "{r}");
    s.assert_exactly_once(false, "interrupted twice, rerun");
}

/// `--skip-existing` with one mailbox split over two connections: the
/// source holds a message twice (one in each connection's share) and the
/// server once already; one more copy is uploaded, not none.
#[test]
fn skip_existing_counts_copies_across_connections() {
    let s = setup(&[("Dup", 20)]);
    let (_, want) = &s.expected[0];
    // Messages 3 and 14 (different shares) made identical in the source.
    let text = std::fs::read_to_string(s.src.join("Dup")).unwrap();
    let entries: Vec<&str> = text.split("From s@example.org ").skip(1).collect();
    let mut mbox = String::new();
    for (i, e) in entries.iter().enumerate() {
        mbox.push_str("From s@example.org ");
        mbox.push_str(if i == 14 { entries[3] } else { e });
    }
    std::fs::write(s.src.join("Dup"), mbox).unwrap();
    let mut expected = want.clone();
    expected[14] = expected[3].clone();
    expected.sort();
    let mut r = s.dovecot.reader().unwrap();
    r.ok("CREATE Dup").unwrap();
    r.append_raw("Dup", &want[3]).unwrap();
    drop(r);
    s.upload(
        None,
        &[
            "--jobs",
            "2",
            "--unordered",
            "--skip-existing",
            "--no-journal",
        ],
    )
    .assert_success();
    let mut got: Vec<Vec<u8>> = s
        .dovecot
        .reader()
        .unwrap()
        .fetch_all("Dup")
        .unwrap()
        .into_iter()
        .map(|f| f.body)
        .collect();
    got.sort();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}
