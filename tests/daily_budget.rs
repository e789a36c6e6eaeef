//! `--max-bytes-per-day` as a rolling 24-hour window, end to end against a
//! private Dovecot: the journal says what landed in the last 24 hours, so a
//! rerun right after a stop sends nothing (before, each run had a whole
//! budget of its own), a spent budget stops before connecting, and the
//! time the window has room again is in the output, computed from the
//! journal. The window's passing is played by moving the journal's upload
//! times back a day (its records are the documented on-disk format); with
//! room, the rerun finishes: every message on the server exactly once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::util::{Dovecot, MailhaulCommand};

/// Messages in the source, each about 10.2 KB as sent.
const N: usize = 20;
/// 45K = 46080 bytes: 4 of them fit, not 5.
const LIMIT: &str = "45K";
const LIMIT_BYTES: u64 = 46080;
const FIT: u64 = 4;

fn mbox() -> String {
    let line = format!("{}\n", "z".repeat(99));
    (0..N)
        .map(|i| {
            format!(
                "From a@example.org Sat Feb  1 10:{i:02}:00 2020\nFrom: a@example.org\nSubject: budget {i}\nMessage-ID: <b{i}@budget.example.org>\n\n{}\n",
                line.repeat(100)
            )
        })
        .collect()
}

struct Setup {
    dovecot: Dovecot,
    _dir: tempfile::TempDir,
    src: PathBuf,
    journal: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dovecot = Dovecot::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        let src = dir.path().join("src").join("Box");
        std::fs::write(&src, mbox()).unwrap();
        let journal = dir.path().join("journal");
        Setup {
            dovecot,
            _dir: dir,
            src,
            journal,
        }
    }

    /// `mailhaul upload --json` of the source with `limit`, batches of 3
    /// (so a batch is cut where the budget ends).
    fn upload(&self, limit: &str) -> (MailhaulCommand, Output) {
        let mut c = MailhaulCommand::upload(&self.dovecot, &[&self.src]);
        self.finish(&mut c, limit);
        let out = c.run();
        (c, out)
    }

    fn finish(&self, c: &mut MailhaulCommand, limit: &str) {
        c.arg("--journal")
            .arg(&self.journal)
            .args(["--batch-size", "3", "--timeout", "5", "--json"])
            .args(["--max-bytes-per-day", limit]);
    }

    /// How often each source message is on the server (in order).
    fn copies(&self) -> Vec<usize> {
        let got = self.dovecot.reader().unwrap().bodies("Box").unwrap();
        (0..N)
            .map(|i| {
                let id = format!("Message-ID: <b{i}@budget.example.org>");
                got.iter()
                    .filter(|b| b.windows(id.len()).any(|w| w == id.as_bytes()))
                    .count()
            })
            .collect()
    }

    /// Messages `0..n` on the server once, the others not at all.
    fn assert_landed(&self, n: u64, context: &str) {
        let want: Vec<usize> = (0..N).map(|i| usize::from((i as u64) < n)).collect();
        assert_eq!(self.copies(), want, "{context}");
    }
}

/// The `--json` report; a run after a budget stop must not warn of a batch
/// the stop left open (the stop closes what it never sent).
fn report(c: &MailhaulCommand, out: &Output) -> serde_json::Value {
    let r = report_of(c, out);
    let warnings = r["warnings"].to_string();
    assert!(
        !warnings.contains("an earlier run stopped during a batch"),
        "{}",
        c.explain(out)
    );
    r
}

fn report_of(c: &MailhaulCommand, out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", c.explain(out)))
}

/// The budget's `next_window` as a time, checked to be in the line too.
fn next_window(r: &serde_json::Value) -> DateTime<Utc> {
    let next = r["budget"]["next_window"].as_str().expect("next_window");
    let aborted = r["aborted"].as_str().unwrap_or_default();
    assert!(aborted.contains(next), "{aborted}");
    DateTime::parse_from_rfc3339(next).unwrap().to_utc()
}

/// Moves every upload time in the journal back by `secs`, re-encoding the
/// records (`<len> <json> <16 hex of SHA-256(json)>`).
fn shift_journal(path: &Path, secs: i64) {
    let data = std::fs::read_to_string(path).unwrap();
    let mut lines = data.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let mut shifted = 0;
    for line in lines {
        let (_, rest) = line.split_once(' ').unwrap();
        let (payload, _) = rest.rsplit_once(' ').unwrap();
        let mut v: serde_json::Value = serde_json::from_str(payload).unwrap();
        if let Some(at) = v.get("at").and_then(serde_json::Value::as_i64) {
            v["at"] = (at - secs).into();
            shifted += 1;
        }
        let payload = serde_json::to_string(&v).unwrap();
        let sum: String = Sha256::digest(payload.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.push_str(&format!("{} {payload} {sum}\n", payload.len()));
    }
    assert!(shifted > 0, "no upload times in the journal");
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_rerun_within_24_hours_sends_nothing_and_says_when_there_is_room() {
    let s = Setup::new();
    let before = Utc::now();
    let (c, out) = s.upload(LIMIT);
    let after = Utc::now();
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["totals"]["uploaded"], FIT, "{}", c.explain(&out));
    assert!(r["failures"].as_array().unwrap().is_empty());
    let landed = r["totals"]["bytes"].as_u64().unwrap();
    let b = &r["budget"];
    assert_eq!(b["limit"], LIMIT_BYTES);
    assert_eq!(b["window"], "24h");
    assert_eq!(b["used_in_window"], landed, "{b}");
    assert_eq!(b["left"], LIMIT_BYTES - landed, "{b}");
    let need = b["next_message_bytes"].as_u64().unwrap();
    assert!(need > LIMIT_BYTES - landed && need < 11_000, "{b}");
    let aborted = r["aborted"].as_str().unwrap();
    assert!(
        aborted.contains("--max-bytes-per-day 46080 reached")
            && aborted.contains("landed on this server in the last 24 hours"),
        "{aborted}"
    );
    // Room again when the first upload leaves the window: a day after it.
    let next = next_window(&r);
    let day = chrono::Duration::hours(24);
    let second = chrono::Duration::seconds(1);
    assert!(
        next >= before + day - second && next <= after + day + second,
        "{next}"
    );
    s.assert_landed(FIT, "the first run");

    // At once again: the journal's last 24 hours leave no room for the
    // next message, so nothing is sent (each run used to send a budget).
    let (c, out) = s.upload(LIMIT);
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["totals"]["uploaded"], 0, "{}", c.explain(&out));
    assert_eq!(r["append_commands"], 0, "{}", c.explain(&out));
    assert_eq!(r["budget"]["used_in_window"], landed);
    assert_eq!(next_window(&r), next, "the same evidence, the same time");
    s.assert_landed(FIT, "the rerun sent nothing");

    // A limit below what landed: stopped before connecting (the server
    // named is a socket that never answers: connecting would be exit 3).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut c = MailhaulCommand::new();
    c.arg("upload").arg(&s.src).server_via(&s.dovecot, port);
    s.finish(&mut c, "20K");
    let out = c.run();
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    let aborted = r["aborted"].as_str().unwrap();
    assert!(
        aborted.starts_with("stopped before connecting"),
        "{aborted}"
    );
    assert_eq!(r["budget"]["left"], 0);
    assert_eq!(next_window(&r), next, "the oldest upload leaves then");
    // The human line says the same, in local time and UTC.
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&s.src)
        .server_via(&s.dovecot, port)
        .arg("--journal")
        .arg(&s.journal)
        .args(["--max-bytes-per-day", "20K", "--timeout", "5"]);
    let out = c.run();
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let iso = next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        stderr.contains("stopped early: stopped before connecting")
            && stderr.contains(&format!("({iso})")),
        "{stderr}"
    );
    s.assert_landed(FIT, "nothing sent without connecting");

    // A day later (the journal's times moved back 24 hours): the window
    // is empty again and the same limit sends the next four.
    shift_journal(&s.journal, 24 * 3600);
    let (c, out) = s.upload(LIMIT);
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["totals"]["uploaded"], FIT, "{}", c.explain(&out));
    s.assert_landed(2 * FIT, "a day later");

    // A larger budget finishes: every message exactly once.
    let (c, out) = s.upload("10M");
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["totals"]["uploaded"], N as u64 - 2 * FIT);
    assert_eq!(r["budget"]["next_window"], serde_json::Value::Null);
    s.assert_landed(N as u64, "finished");
}

/// Without a journal only this run counts, and the report says so.
#[test]
fn without_a_journal_the_budget_is_per_run() {
    let s = Setup::new();
    let mut c = MailhaulCommand::upload(&s.dovecot, &[&s.src]);
    c.args(["--no-journal", "--batch-size", "3", "--json"])
        .args(["--max-bytes-per-day", LIMIT]);
    let out = c.run();
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["totals"]["uploaded"], FIT);
    assert_eq!(r["budget"]["window"], "run");
    assert_eq!(r["budget"]["next_window"], serde_json::Value::Null);
    let aborted = r["aborted"].as_str().unwrap();
    assert!(
        aborted.contains("earlier runs are not counted") && aborted.contains("tomorrow"),
        "{aborted}"
    );
    s.assert_landed(FIT, "per run");
}

/// Two connections share one budget: together they stay within it, and
/// reruns at once add nothing beyond what fits.
#[test]
fn connections_share_the_budget() {
    let s = Setup::new();
    std::fs::write(s.src.with_file_name("Other"), mbox()).unwrap();
    let both = |limit: &str| {
        let dir = s.src.parent().unwrap();
        let mut c = MailhaulCommand::upload(&s.dovecot, &[dir]);
        s.finish(&mut c, limit);
        c.args(["--jobs", "2"]);
        let out = c.run();
        assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
        report(&c, &out)
    };
    let r = both(LIMIT);
    let uploaded = r["totals"]["uploaded"].as_u64().unwrap();
    let used = r["budget"]["used_in_window"].as_u64().unwrap();
    // Batches of 3 charged whole: a race may leave one message's room.
    assert!((FIT - 1..=FIT).contains(&uploaded), "{r}");
    assert!(used <= LIMIT_BYTES && used == r["totals"]["bytes"], "{r}");
    let mailboxes: Vec<&str> = r["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(mailboxes, ["Box", "Other"], "{r}");
    // Reruns at once fill the window to what fits (after a race, the one
    // message left), then send nothing.
    let mut total = uploaded;
    for _ in 0..2 {
        let r = both(LIMIT);
        assert!(r["budget"]["used_in_window"].as_u64().unwrap() <= LIMIT_BYTES);
        let more = r["totals"]["uploaded"].as_u64().unwrap();
        total += more;
        if more == 0 {
            assert_eq!(r["append_commands"], 0, "{r}");
            break;
        }
    }
    assert_eq!(total, FIT);
    let mut reader = s.dovecot.reader().unwrap();
    let on_server: usize = reader
        .list_mailboxes()
        .unwrap()
        .iter()
        .filter(|m| *m == "Box" || *m == "Other")
        .map(|m| reader.bodies(m).unwrap().len())
        .sum();
    assert_eq!(on_server as u64, FIT);
}

/// A budget stop's report does not look complete (it said "4 of 4" of a
/// source of 20): the summary says what landed and that the source was
/// not all read, the stop line says only what it knows of what is left,
/// and the JSON says not complete, with the stop's reason.
#[test]
fn a_budget_stop_does_not_look_complete() {
    let s = Setup::new();
    let mut c = MailhaulCommand::upload(&s.dovecot, &[&s.src]);
    c.arg("--journal")
        .arg(&s.journal)
        .args(["--batch-size", "3", "--timeout", "5"])
        .args(["--max-bytes-per-day", LIMIT]);
    let out = c.run();
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        !summary.contains("messages uploaded"),
        "{}",
        c.explain(&out)
    );
    assert!(
        summary.contains(&format!("\n{FIT} uploaded in "))
            && summary.contains(
                "\nstopped before the whole source was read (+): the same command continues\n"
            ),
        "{}",
        c.explain(&out)
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("Box ") && l.contains(&format!(" {FIT}+ "))),
        "{}",
        c.explain(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("read but not landed")
            && stderr.contains("the rest of the source not yet read"),
        "{stderr}"
    );
    assert!(!stderr.contains("sent or ready"), "{stderr}");

    // At once again, as JSON: what landed is skipped, nothing fits.
    let (c, out) = s.upload(LIMIT);
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["stopped_early"], true, "{r}");
    assert_eq!(r["stop_reason"], "quota", "{r}");
    assert_eq!(r["read_all"], false, "{r}");
    assert_eq!(r["mailboxes"][0]["name"], "Box", "{r}");
    assert_eq!(r["mailboxes"][0]["complete"], false, "{r}");
    assert_eq!(r["totals"]["complete"], false, "{r}");
    assert!(r["totals"]["found"].as_u64().unwrap() < N as u64, "{r}");
    s.assert_landed(FIT, "two stops");
}
