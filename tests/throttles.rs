//! Provider throttles (issue 10) end to end, through the provider emulator
//! ([`ProviderProxy`] in front of a private Dovecot). First the emulator
//! itself, spoken to by the independent reader: each provider's
//! capabilities and throttle answers, with their texts. Then mailhaul
//! through each provider's emulation, with its throttles scaled down (a
//! window of 10 APPENDs per 500 ms): every sendable message lands exactly
//! once with its flags and date (read back by the reader), the oversized
//! one is reported once, no throttled message is reported failed; the
//! daily quota stops cleanly with exit 4 and the rerun after the reset
//! finishes exactly once; `--jobs 4` against a 3-session cap settles to 3.

use std::io::Write as _;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::util::{
    Dovecot, DovecotOptions, ImapReader, Limits, MailhaulCommand, Provider, ProviderProxy,
};

fn reader(dovecot: &Dovecot, proxy: &ProviderProxy) -> anyhow::Result<ImapReader> {
    ImapReader::login(proxy.port(), dovecot.user(), dovecot.password())
}

fn message(i: usize) -> Vec<u8> {
    format!("From: a@example.org\r\nSubject: {i}\r\nMessage-ID: <{i}@emulator.example.org>\r\n\r\nbody {i}\r\n").into_bytes()
}

#[test]
fn the_emulator_shows_each_providers_capabilities() {
    let dovecot = Dovecot::start().unwrap();
    for (provider, want, not) in [
        (
            Provider::Gmail,
            vec!["LITERAL-", "APPENDLIMIT=35651584"],
            vec!["LITERAL+"],
        ),
        (
            Provider::Microsoft365,
            vec!["LITERAL+"],
            vec!["APPENDLIMIT"],
        ),
        (
            Provider::Yahoo,
            vec!["LITERAL+", "APPENDLIMIT=41697280"],
            vec![],
        ),
        (Provider::ICloud, vec![], vec!["LITERAL", "APPENDLIMIT"]),
    ] {
        let proxy = ProviderProxy::start(dovecot.plain_port(), provider, provider.limits());
        let caps = reader(&dovecot, &proxy).unwrap().capabilities().unwrap();
        assert!(
            !caps.iter().any(|c| c == "MULTIAPPEND"),
            "{provider:?}: {caps:?}"
        );
        assert!(!caps.iter().any(|c| c.starts_with("STARTTLS")), "{caps:?}");
        for w in want {
            assert!(
                caps.iter().any(|c| c == w),
                "{provider:?} lacks {w}: {caps:?}"
            );
        }
        for n in not {
            assert!(
                !caps.iter().any(|c| c.starts_with(n)),
                "{provider:?} has {n}: {caps:?}"
            );
        }
    }
}

#[test]
fn the_emulator_throttles_locks_and_caps_sessions() {
    let dovecot = Dovecot::start().unwrap();
    // Gmail: 2 APPENDs per second, then NO [THROTTLED]; a budget of 3
    // messages, then the quota BYE and a locked account until reset.
    let limits = Limits {
        appends_per_window: Some((2, Duration::from_secs(1))),
        bytes_budget: Some(3 * message(1).len() as u64),
        sessions: Some(1),
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(1)).unwrap().is_ok());
    assert!(r.append_raw("INBOX", &message(2)).unwrap().is_ok());
    let third = r.append_raw("INBOX", &message(3)).unwrap();
    assert_eq!(third.status, "NO", "{}", third.line());
    assert!(third.text.starts_with("[THROTTLED]"), "{}", third.line());
    // The session cap: a second login is refused with Gmail's BYE.
    let second = reader(&dovecot, &proxy);
    assert!(second.is_err(), "a second session past the cap of 1");
    assert_eq!(proxy.counters().sessions_refused, 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(r.append_raw("INBOX", &message(3)).unwrap().is_ok());
    // Over the budget: BYE, the account locked.
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        r.append_raw("INBOX", &message(4)).is_err(),
        "BYE ends the session"
    );
    drop(r);
    std::thread::sleep(Duration::from_millis(100));
    assert!(reader(&dovecot, &proxy).is_err(), "locked until the reset");
    proxy.reset();
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(4)).unwrap().is_ok());
    let c = proxy.counters();
    assert_eq!((c.appends, c.throttled, c.byes), (4, 1, 3), "{c:?}");
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert_eq!(dovecot.reader().unwrap().bodies("INBOX").unwrap().len(), 4);
}

#[test]
fn the_emulator_plays_microsoft_and_yahoo_texts() {
    let dovecot = Dovecot::start().unwrap();
    let limits = Limits {
        appends_per_window: Some((1, Duration::from_secs(5))),
        backoff_ms: 300,
        ..Provider::Microsoft365.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Microsoft365, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(1)).unwrap().is_ok());
    let no = r.append_raw("INBOX", &message(2)).unwrap();
    assert_eq!(
        no.line(),
        "NO Request is throttled. Suggested Backoff Time: 300 milliseconds"
    );
    let limits = Limits {
        appends_per_window: Some((1, Duration::from_secs(5))),
        penalty: Duration::from_millis(500),
        ..Provider::Yahoo.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Yahoo, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(3)).unwrap().is_ok());
    let no = r.append_raw("INBOX", &message(4)).unwrap();
    assert_eq!(no.line(), "NO [LIMIT] UID Rate limit hit.");
    // Then BYE; reconnecting inside the penalty is refused.
    assert!(r.command("NOOP").is_err(), "closed after the BYE");
    assert!(reader(&dovecot, &proxy).is_err(), "inside the penalty");
    std::thread::sleep(Duration::from_millis(600));
    assert!(reader(&dovecot, &proxy).is_ok(), "after the penalty");
    assert_eq!(proxy.counters().refused_locked, 1);
}

/// The size cap the end-to-end tests give every provider (scaled down
/// from 20–40 MB so the oversized message stays small).
const CAP: u64 = 1_500_000;
/// Messages per source; 3 of them ~1 MB, one over [`CAP`].
const N: usize = 60;
const BIG: [usize; 3] = [10, 30, 50];
const OVERSIZED: usize = 45;

/// An mbox of [`N`] messages for `mailbox` tag `tag`: message `i` is
/// dated 10:`i` on 1 Feb 2020 and `\Seen` when `i % 3 == 0`.
fn mbox(tag: &str) -> String {
    mbox_with(tag, true, true)
}

/// [`mbox`], the oversized message left out unless `oversized`.
fn mbox_of(tag: &str, oversized: bool) -> String {
    mbox_with(tag, oversized, true)
}

/// [`mbox`], the oversized message left out unless `oversized`, the big
/// ones small unless `big`.
fn mbox_with(tag: &str, oversized: bool, big: bool) -> String {
    let mut out = String::new();
    for i in 0..N {
        if i == OVERSIZED && !oversized {
            continue;
        }
        let body = if big && BIG.contains(&i) {
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678\n"
                .repeat(1_000_000 / 75)
        } else if i == OVERSIZED {
            "x".repeat(75)
                .repeat(CAP as usize / 75 + 100)
                .replace(&"x".repeat(75), &format!("{}\n", "x".repeat(74)))
        } else {
            format!("body {i}\n")
        };
        let status = if i % 3 == 0 { "RO" } else { "O" };
        out.push_str(&format!(
            "From a@example.org Sat Feb  1 10:{i:02}:00 2020\nFrom: a@example.org\nSubject: {tag} {i}\nMessage-ID: <{tag}{i}@throttle.example.org>\nStatus: {status}\n\n{body}\n"
        ));
    }
    out
}

/// `mailhaul upload` of `src` through `proxy` into mailboxes named after
/// the source files, with `--json-progress`.
fn upload(
    dovecot: &Dovecot,
    proxy: &ProviderProxy,
    src: &Path,
    journal: &Path,
    extra: &[&str],
) -> (MailhaulCommand, Output) {
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(src)
        .server_via(dovecot, proxy.port())
        .args(["--timeout", "20", "--json-progress", "--json"])
        .arg("--journal")
        .arg(journal)
        .args(extra);
    let out = c.run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", c.explain(&out));
    (c, out)
}

/// Checks `mailbox` holds every sendable message of source `tag` exactly
/// once, with its flags and date, and not the oversized one.
fn assert_landed_once(dovecot: &Dovecot, mailbox: &str, tag: &str) {
    let got = dovecot.reader().unwrap().fetch_all(mailbox).unwrap();
    for i in 0..N {
        let needle = format!("Message-ID: <{tag}{i}@throttle.example.org>");
        let copies: Vec<_> = got
            .iter()
            .filter(|f| f.body.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .collect();
        if i == OVERSIZED {
            assert!(copies.is_empty(), "{mailbox}: the oversized message landed");
            continue;
        }
        assert_eq!(
            copies.len(),
            1,
            "{mailbox}: message {i} landed {} times",
            copies.len()
        );
        let f = copies[0];
        assert_eq!(
            f.flags.iter().any(|f| f == "\\Seen"),
            i % 3 == 0,
            "{mailbox} {i}: {:?}",
            f.flags
        );
        assert!(
            f.internal_date
                .starts_with(&format!("01-Feb-2020 10:{i:02}:00")),
            "{mailbox} {i}: {}",
            f.internal_date
        );
    }
    assert_eq!(got.len(), N - 1, "{mailbox}: nothing else");
}

/// The `--json` report.
fn report(c: &MailhaulCommand, out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", c.explain(out)))
}

/// The `--json` report, which must list no failure.
fn report_without_failures(c: &MailhaulCommand, out: &Output) -> serde_json::Value {
    let r = report(c, out);
    let failures = r["failures"].as_array().unwrap();
    assert!(failures.is_empty(), "{}", c.explain(out));
    r
}

/// The run failed only the oversized message, once, and waited (said so).
fn assert_only_oversized_failed(c: &MailhaulCommand, out: &Output) {
    let r = report(c, out);
    let failures = r["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{}", c.explain(out));
    let origin = failures[0]["origin"].as_str().unwrap_or_default();
    assert!(!origin.is_empty());
    assert_eq!(out.status.code(), Some(1), "{}", c.explain(out));
}

/// True when `--json-progress` said the run waited.
fn said_waiting(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .any(|l| l.contains(r#""event":"waiting""#) && l.contains(r#""reason""#))
}

/// A 10-per-500-ms window (20 APPENDs/s), the test's size cap.
fn throttling(provider: Provider) -> Limits {
    Limits {
        appends_per_window: Some((10, Duration::from_millis(500))),
        size_cap: CAP,
        backoff_ms: 300,
        penalty: Duration::from_millis(600),
        ..provider.limits()
    }
}

fn throttled_run(provider: Provider) {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox("b")).unwrap();
    let proxy = ProviderProxy::start(dovecot.plain_port(), provider, throttling(provider));
    let started = Instant::now();
    let (c, out) = upload(&dovecot, &proxy, &src, &dir.path().join("journal"), &[]);
    let took = started.elapsed();
    assert_only_oversized_failed(&c, &out);
    assert_landed_once(&dovecot, "Box", "b");
    let counters = proxy.counters();
    assert!(
        counters.throttled > 0,
        "{provider:?} never throttled: {counters:?}"
    );
    assert!(said_waiting(&out), "{}", c.explain(&out));
    assert!(counters.violations.is_empty(), "{:?}", counters.violations);
    // 59 messages at 20/s take 3 s: a small factor of it.
    assert!(took < Duration::from_secs(20), "{provider:?} took {took:?}");
}

#[test]
fn gmail_throttles_are_waited_out() {
    throttled_run(Provider::Gmail);
}

#[test]
fn microsoft_365_backoff_is_waited_out() {
    throttled_run(Provider::Microsoft365);
}

#[test]
fn yahoo_rate_limit_bye_is_waited_out_past_the_penalty() {
    throttled_run(Provider::Yahoo);
}

#[test]
fn gmails_soft_throttle_lands_every_message_and_slows_the_client_down() {
    // Gmail's soft throttle: past 20 APPENDs per 500 ms (40/s) the message
    // is stored and answered `OK [THROTTLED]`. mailhaul counts it as
    // landed, sends nothing again, and slows below the limit.
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    let n = 4 * N;
    let mut mbox = String::new();
    for i in 0..n {
        mbox.push_str(&format!(
            "From a@example.org Sat Feb  1 10:00:00 2020\nFrom: a@example.org\nSubject: soft {i}\nMessage-ID: <soft{i}@throttle.example.org>\n\nbody {i}\n\n"
        ));
    }
    std::fs::write(&src, mbox).unwrap();
    let window = Duration::from_millis(500);
    let limits = Limits {
        soft_rate: Some((20, window)),
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let journal = dir.path().join("journal");
    // Small batches, so that the client still has most to send when the
    // first answers come back (serial APPENDs are pipelined a window ahead).
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &["--batch-size", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    let r = report_without_failures(&c, &out);
    assert_eq!(r["totals"]["uploaded"], n, "{}", c.explain(&out));
    let got = dovecot.reader().unwrap().fetch_all("Box").unwrap();
    assert_eq!(got.len(), n, "every message exactly once");
    let counters = proxy.counters();
    assert_eq!(counters.appends, n, "nothing sent again: {counters:?}");
    assert_eq!(counters.throttled, 0, "{counters:?}");
    let first = *counters
        .soft_at
        .first()
        .expect("the client went past the soft limit");
    // After the first soft throttle (and the answers already on their way),
    // the client stays under the limit: no more soft throttles.
    let late: Vec<_> = counters
        .soft_at
        .iter()
        .filter(|t| t.duration_since(first) > Duration::from_millis(1500))
        .collect();
    assert!(
        late.is_empty(),
        "{} of {} soft throttles after the slowdown",
        late.len(),
        counters.soft
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(r#""event":"slowed""#) && l.contains("THROTTLED")),
        "{}",
        c.explain(&out)
    );
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("asked to slow down"), "{warnings}");
    // The rerun finds everything journaled.
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_eq!(proxy.counters().appends, n, "the rerun sent nothing");
}

#[test]
fn icloud_refuses_the_oversized_message_when_announced() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox("c")).unwrap();
    let limits = Limits {
        size_cap: CAP,
        soft_every: Some(7),
        ..Provider::ICloud.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::ICloud, limits);
    let (c, out) = upload(&dovecot, &proxy, &src, &dir.path().join("journal"), &[]);
    assert_only_oversized_failed(&c, &out);
    assert_landed_once(&dovecot, "Box", "c");
    let counters = proxy.counters();
    assert_eq!(counters.oversized, 1, "{counters:?}");
    assert!(
        counters.soft > 0 && counters.violations.is_empty(),
        "{counters:?}"
    );
}

#[test]
fn the_daily_quota_stops_cleanly_and_the_rerun_after_the_reset_finishes() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox_of("q", false)).unwrap();
    let journal = dir.path().join("journal");
    let limits = Limits {
        bytes_budget: Some(2_200_000),
        ..throttling(Provider::Gmail)
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report_without_failures(&c, &out);
    // One clear line (with --json: "aborted"), no storm of warnings.
    let aborted = r["aborted"].as_str().unwrap_or_default();
    assert!(
        aborted.contains("bandwidth limits") && aborted.contains("landed in this run"),
        "{aborted}"
    );
    assert!(aborted.contains("nothing failed"), "{aborted}");
    let warnings = r["warnings"].to_string();
    assert!(
        !warnings.contains("connection lost") && !warnings.contains("reconnect"),
        "{warnings}"
    );
    let counters = proxy.counters();
    assert_eq!(
        counters.refused_locked, 0,
        "no login into the locked account: {counters:?}"
    );
    assert_eq!(counters.byes, 1, "{counters:?}");
    // Before the provider's day ends the account stays locked: every login
    // gets the quota's BYE. A rerun (an hourly timer) prints the same stop
    // line, sends nothing and exits 4; so do `check` and a batch account.
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report_without_failures(&c, &out);
    let again = r["aborted"].as_str().unwrap_or_default();
    assert!(
        again.contains("stopped by the provider's upload limit")
            && again.contains("bandwidth limits")
            && again.contains("nothing failed: 0 messages"),
        "{again}"
    );
    assert_eq!(r["totals"]["uploaded"], 0, "{}", c.explain(&out));
    let mut check = MailhaulCommand::new();
    check.arg("check").server_via(&dovecot, proxy.port());
    let out = check.run();
    assert_eq!(out.status.code(), Some(4), "{}", check.explain(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("daily quota: used up") && said.contains("bandwidth limits"),
        "{said}"
    );
    let (c, out) = locked_batch(&dovecot, &proxy, &src, dir.path());
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let r = report(&c, &out);
    assert_eq!(r["accounts"][0]["status"], "quota", "{r}");
    assert_eq!(r["totals"]["failed"], 0, "{r}");
    let counters = proxy.counters();
    assert_eq!(counters.refused_locked, 3, "{counters:?}");
    // The provider's day ends; the same command finishes, nothing twice.
    proxy.reset();
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_landed_once(&dovecot, "Box", "q");
    // The stop closed in the journal what it never wrote: no batch of an
    // earlier run to warn about.
    let warnings = report(&c, &out)["warnings"].to_string();
    assert!(
        !warnings.contains("an earlier run stopped during a batch"),
        "{warnings}"
    );
}

/// `mailhaul batch --json` of one account: `src` through `proxy`.
fn locked_batch(
    dovecot: &Dovecot,
    proxy: &ProviderProxy,
    src: &Path,
    dir: &Path,
) -> (MailhaulCommand, Output) {
    let pw = dir.join("pw");
    std::fs::write(&pw, format!("{}\n", dovecot.password())).unwrap();
    let list = dir.join("accounts.csv");
    std::fs::write(
        &list,
        format!(
            "source,server,password_file\n{},imap://{}@127.0.0.1:{},{}\n",
            src.display(),
            dovecot.user(),
            proxy.port(),
            pw.display()
        ),
    )
    .unwrap();
    let mut c = MailhaulCommand::new();
    c.arg("batch")
        .arg(&list)
        .arg("--json")
        .args(["--allow-plaintext", "--timeout", "20"])
        .env("XDG_STATE_HOME", dir.join("state"))
        .attach(dovecot);
    let out = c.run();
    (c, out)
}

#[test]
fn the_max_bytes_per_day_budget_stops_with_exit_4() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox_of("d", false)).unwrap();
    let journal = dir.path().join("journal");
    let proxy = ProviderProxy::start(
        dovecot.plain_port(),
        Provider::Gmail,
        throttling(Provider::Gmail),
    );
    let (c, out) = upload(
        &dovecot,
        &proxy,
        &src,
        &journal,
        &["--max-bytes-per-day", "1500K"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", c.explain(&out));
    let aborted = report(&c, &out)["aborted"].to_string();
    assert!(
        aborted.contains("--max-bytes-per-day 1536000 reached"),
        "{aborted}"
    );
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_landed_once(&dovecot, "Box", "d");
    let warnings = report(&c, &out)["warnings"].to_string();
    assert!(
        !warnings.contains("an earlier run stopped during a batch"),
        "{warnings}"
    );
}

/// A source folder `src` under `dir` with one mbox per tag ([`mbox_with`],
/// small messages, the oversized one left out), each its own mailbox.
fn mailboxes(dir: &Path, tags: &[&str]) -> std::path::PathBuf {
    let src = dir.join("src");
    std::fs::create_dir(&src).unwrap();
    for t in tags {
        std::fs::write(src.join(t), mbox_with(t, false, false)).unwrap();
    }
    src
}

#[test]
fn jobs_above_the_session_cap_settle_to_the_cap() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["s1", "s2", "s3", "s4", "s5"];
    let src = mailboxes(dir.path(), &tags);
    let limits = Limits {
        sessions: Some(3),
        size_cap: CAP,
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let (c, out) = upload(
        &dovecot,
        &proxy,
        &src,
        &dir.path().join("journal"),
        &["--jobs", "4"],
    );
    let r = report(&c, &out);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    for t in tags {
        assert_landed_once(&dovecot, t, t);
    }
    let counters = proxy.counters();
    assert_eq!(counters.max_sessions, 3, "{counters:?}");
    assert!(counters.sessions_refused >= 1, "{counters:?}");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("allowed 3 of 4 connections"),
        "{warnings}"
    );
}

#[test]
fn jobs_above_dovecots_connection_limit_settle_to_the_limit() {
    // Stock Dovecot refuses a login past mail_max_userip_connections with
    // `NO [UNAVAILABLE] Maximum number of connections from user+IP
    // exceeded`: a refused extra session, not a wrong password.
    let dovecot = Dovecot::start_with(DovecotOptions {
        // One: the first connection stays logged in for the whole run, so
        // every other one is refused however the lanes are timed.
        max_userip_connections: Some(1),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["m1", "m2", "m3", "m4", "m5"];
    let src = mailboxes(dir.path(), &tags);
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&src)
        .server(&dovecot)
        .args(["--jobs", "4", "--json"])
        .arg("--journal")
        .arg(dir.path().join("journal"));
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    let r = report_without_failures(&c, &out);
    for t in tags {
        assert_landed_once(&dovecot, t, t);
    }
    let warnings = r["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", c.explain(&out));
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains("allowed 1 of 4 connections")
            && warning.contains("Maximum number of connections"),
        "{warning}"
    );
}

#[test]
fn a_connection_refused_back_by_the_session_cap_leaves_its_work_to_the_others() {
    // `--jobs 3` against a cap of 3: one connection is cut mid-run (its
    // last APPEND stored, the answer never sent) and the provider still
    // counts its session, so reconnecting is refused with Gmail's BYE.
    // The other two look at its open batch and finish its mailbox.
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tags = ["k1", "k2", "k3"];
    let src = mailboxes(dir.path(), &tags);
    let limits = Limits {
        sessions: Some(3),
        cut_at_append: Some(40),
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let journal = dir.path().join("journal");
    let (c, out) = upload(
        &dovecot,
        &proxy,
        &src,
        &journal,
        &["--jobs", "3", "--batch-size", "5"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    let r = report_without_failures(&c, &out);
    for t in tags {
        assert_landed_once(&dovecot, t, t);
    }
    let counters = proxy.counters();
    assert_eq!(counters.cut, 1, "{counters:?}");
    assert!(counters.sessions_refused >= 1, "{counters:?}");
    assert_eq!(counters.max_sessions, 3, "{counters:?}");
    let warnings = r["warnings"].to_string();
    assert_eq!(
        warnings.matches("allowed 2 of 3 connections").count(),
        1,
        "{warnings}"
    );
    assert!(
        warnings.contains("Too many simultaneous connections"),
        "{warnings}"
    );
    // Nothing else to say (the mailbox the others took over is known to
    // exist, its journal entries kept).
    assert_eq!(r["warnings"].as_array().unwrap().len(), 1, "{warnings}");
    // Everything is journaled: the rerun sends nothing.
    let appends = counters.appends;
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &["--jobs", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_eq!(proxy.counters().appends, appends, "the rerun sent nothing");
}

#[test]
fn max_rate_under_gmails_window_is_never_throttled() {
    // The issue: `--max-rate 15` (75% of a 20-per-second window) still
    // burst 44 APPENDs into one window. Each APPEND now waits its turn.
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox_with("r", false, false)).unwrap();
    let limits = Limits {
        appends_per_window: Some((20, Duration::from_secs(1))),
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let journal = dir.path().join("journal");
    let (c, out) = upload(&dovecot, &proxy, &src, &journal, &["--max-rate", "15"]);
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_landed_once(&dovecot, "Box", "r");
    let counters = proxy.counters();
    assert_eq!(counters.throttled, 0, "{counters:?}");
    assert_eq!(counters.appends, N - 1, "{counters:?}");
}

/// A peer playing Microsoft 365 after a login it accepted: every command
/// of the first `bad_sessions` sessions is answered `BAD User is
/// authenticated but not connected.`; later sessions answer LIST. Counts
/// the logins.
fn not_connected_peer(bad_sessions: usize) -> (crate::util::peer::HostilePeer, Arc<AtomicUsize>) {
    let logins = Arc::new(AtomicUsize::new(0));
    let seen = logins.clone();
    let peer = crate::util::peer::HostilePeer::start(
        |c| c.write_all(b"* OK [CAPABILITY IMAP4rev1] Microsoft Exchange\r\n"),
        move |tag, command, c| {
            let reply = if command.starts_with("LOGIN") {
                seen.fetch_add(1, Ordering::SeqCst);
                format!("{tag} OK LOGIN completed.\r\n")
            } else if command.starts_with("LOGOUT") {
                format!("* BYE\r\n{tag} OK LOGOUT completed.\r\n")
            } else if seen.load(Ordering::SeqCst) <= bad_sessions {
                format!("{tag} BAD User is authenticated but not connected.\r\n")
            } else if command.starts_with("CAPABILITY") {
                format!("* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed.\r\n")
            } else if command.starts_with("LIST") {
                format!("* LIST (\\HasNoChildren) \"/\" INBOX\r\n{tag} OK LIST completed.\r\n")
            } else {
                format!("{tag} OK done\r\n")
            };
            c.write_all(reply.as_bytes())
        },
    );
    (peer, logins)
}

/// `mailhaul check` against `port` (plaintext, any password).
fn check_at(port: u16) -> (MailhaulCommand, Output) {
    let mut c = MailhaulCommand::new();
    c.arg("check")
        .arg("--server")
        .arg(format!("imap://ann@127.0.0.1:{port}"))
        .arg("--allow-plaintext")
        .env("MAILHAUL_PASSWORD", "pw");
    let out = c.run();
    (c, out)
}

#[test]
fn microsoft_365_not_connected_twice_is_exit_3_with_its_causes() {
    let (peer, logins) = not_connected_peer(usize::MAX);
    let (c, out) = check_at(peer.port());
    assert_eq!(out.status.code(), Some(3), "{}", c.explain(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for part in [
        "User is authenticated but not connected",
        "the password is wrong",
        "IMAP is turned off",
        "IMAP scope",
    ] {
        assert!(stderr.contains(part), "{part:?} missing: {stderr}");
    }
    assert_eq!(
        logins.load(Ordering::SeqCst),
        2,
        "one more session, no more"
    );
}

#[test]
fn microsoft_365_not_connected_once_is_passed_by_one_more_session() {
    let (peer, logins) = not_connected_peer(1);
    let (c, out) = check_at(peer.port());
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_eq!(logins.load(Ordering::SeqCst), 2);
}
