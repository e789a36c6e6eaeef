//! Yahoo's rate limit against a plain default upload (the tester's setup):
//! the emulator answers the APPEND past its window `NO [LIMIT] UID Rate
//! limit hit.`, sends `* BYE` and closes while mailhaul is still writing
//! pipelined APPENDs (LITERAL+), so mailhaul's write fails before it read
//! the answer; reconnections inside the penalty are refused with `* BYE
//! [UNAVAILABLE] Rate limit penalty`. Every break is the provider's pace:
//! nothing fails, every message lands exactly once, and the report's
//! APPEND count sums over the reconnections.

use std::time::Duration;

use crate::util::{Dovecot, Limits, MailhaulCommand, Provider, ProviderProxy};

const N: usize = 300;

/// 300 messages, most of them ordinary 20 KB ones, every tenth small.
fn mbox() -> String {
    let line = format!("{}\n", "y".repeat(79));
    let mut out = String::new();
    for i in 0..N {
        let body = if i % 10 == 0 {
            format!("small body {i}\n")
        } else {
            line.repeat(20_000 / line.len())
        };
        out.push_str(&format!(
            "From a@example.org Sat Feb  1 10:00:00 2020\nFrom: a@example.org\nSubject: y {i}\nMessage-ID: <y{i}@penalty.example.org>\n\n{body}\n"
        ));
    }
    out
}

#[test]
fn yahoo_rate_limit_breaks_are_waited_out_and_nothing_fails() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, mbox()).unwrap();
    // As tests/throttles.rs `throttling()`: 10 APPENDs per 500 ms.
    let limits = Limits {
        appends_per_window: Some((10, Duration::from_millis(500))),
        backoff_ms: 300,
        penalty: Duration::from_millis(600),
        ..Provider::Yahoo.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Yahoo, limits);
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&src)
        .server_via(&dovecot, proxy.port())
        .arg("--json")
        .arg("--journal")
        .arg(dir.path().join("journal"));
    let out = c.run();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", c.explain(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert!(
        report["failures"].as_array().unwrap().is_empty(),
        "{}",
        c.explain(&out)
    );
    let counters = proxy.counters();
    assert!(
        counters.throttled > 0,
        "the emulator never throttled: {counters:?}\n{}",
        c.explain(&out)
    );
    assert!(counters.violations.is_empty(), "{:?}", counters.violations);

    let got = dovecot.reader().unwrap().fetch_all("Box").unwrap();
    for i in 0..N {
        let needle = format!("Message-ID: <y{i}@penalty.example.org>");
        let copies = got
            .iter()
            .filter(|f| f.body.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .count();
        assert_eq!(copies, 1, "message {i} landed {copies} times");
    }
    assert_eq!(got.len(), N, "nothing else in Box");

    // One message per APPEND (Yahoo has no MULTIAPPEND): every APPEND the
    // emulator stored or throttled was counted, over all connections.
    let appends = report["append_commands"].as_u64().unwrap() as usize;
    assert!(
        appends >= counters.appends + counters.throttled,
        "{appends} APPEND commands reported, the emulator answered {} + {} throttled",
        counters.appends,
        counters.throttled
    );
    assert_eq!(counters.appends, N, "the emulator stored each once");
}

/// A run started while Yahoo's penalty is on (an earlier run was killed
/// right after its rate-limit BYE): the penalty's BYE greeting at the first
/// connection is waited out as in the middle of a run, the progress says
/// so, and the run then uploads everything.
#[test]
fn a_run_started_during_the_penalty_waits_it_out() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(
        &src,
        "From a@example.org Sat Feb  1 10:00:00 2020\nFrom: a@example.org\nSubject: after the penalty\nMessage-ID: <late@penalty.example.org>\n\nbody\n",
    )
    .unwrap();
    let limits = Limits {
        penalty: Duration::from_millis(1500),
        ..Provider::Yahoo.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Yahoo, limits);
    proxy.penalize();
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(&src)
        .server_via(&dovecot, proxy.port())
        .arg("--json")
        .arg("--json-progress");
    let out = c.run();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", c.explain(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", c.explain(&out));
    assert_eq!(report["exit_code"], 0);
    let counters = proxy.counters();
    assert!(
        counters.refused_locked >= 1,
        "the penalty refused no connection: {counters:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let waiting: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["event"] == "waiting")
        .collect();
    assert!(
        waiting
            .iter()
            .any(|e| e["reason"].as_str().unwrap().contains("Rate limit penalty")),
        "no waiting event naming the penalty: {}",
        c.explain(&out)
    );
    assert_eq!(counters.appends, 1, "{}", c.explain(&out));
    assert_eq!(dovecot.reader().unwrap().fetch_all("Box").unwrap().len(), 1);
}
