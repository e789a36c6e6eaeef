//! The pace benchmark (issue 10; `scripts/bench-pace`): N small messages
//! uploaded through the provider emulator (`util::provider_proxy` in front
//! of a private Dovecot) at its APPEND cap, with each `--jobs`, printing
//! wall time, the ideal time at the cap (the baseline, from the same
//! figures), their ratio, the throttle answers the emulator gave and the
//! rate the report says it slowed to. Figures only: nothing is asserted
//! about time (`cargo test` does not run it: `test = false`).
//!
//! `cargo test --test pace_bench -- [--messages N] [--jobs 1,4]
//! [--providers yahoo,m365] [--yahoo-rate 25] [--m365-rate 30]
//! [--m365-backoff-ms 5000] [--yahoo-penalty-ms 1000] [--binary PATH] [--logs DIR]` (DIR gets each run's `-v` log)

mod util;

use std::time::{Duration, Instant};

use util::{Dovecot, Limits, MailhaulCommand, Provider, ProviderProxy};

struct Options {
    messages: usize,
    jobs: Vec<usize>,
    providers: Vec<Provider>,
    yahoo_rate: usize,
    m365_rate: usize,
    m365_backoff_ms: u64,
    yahoo_penalty_ms: u64,
    /// Another mailhaul binary than this build's (the "before" figures).
    binary: Option<std::path::PathBuf>,
    /// Where each run's `-v` log goes.
    logs: Option<std::path::PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        messages: 1000,
        jobs: vec![1, 4],
        providers: vec![Provider::Yahoo, Provider::Microsoft365],
        yahoo_rate: 25,
        m365_rate: 30,
        m365_backoff_ms: 5000,
        yahoo_penalty_ms: 1000,
        binary: None,
        logs: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{a} needs a value"))
                .clone()
        };
        match a.as_str() {
            "--messages" => o.messages = value().parse().unwrap(),
            "--jobs" => o.jobs = value().split(',').map(|j| j.parse().unwrap()).collect(),
            "--providers" => {
                o.providers = value()
                    .split(',')
                    .map(|p| match p {
                        "yahoo" => Provider::Yahoo,
                        "m365" => Provider::Microsoft365,
                        other => panic!("unknown provider {other} (yahoo, m365)"),
                    })
                    .collect()
            }
            "--yahoo-rate" => o.yahoo_rate = value().parse().unwrap(),
            "--m365-rate" => o.m365_rate = value().parse().unwrap(),
            "--m365-backoff-ms" => o.m365_backoff_ms = value().parse().unwrap(),
            "--yahoo-penalty-ms" => o.yahoo_penalty_ms = value().parse().unwrap(),
            "--binary" => o.binary = Some(value().into()),
            "--logs" => o.logs = Some(value().into()),
            // What the test harness passes on (`--nocapture`, filters).
            _ => {}
        }
    }
    o
}

/// `n` small messages (about 2 KB: the pace, not the bytes, is measured).
fn mbox(n: usize, tag: &str) -> String {
    let body = format!("{}\n", "p".repeat(79)).repeat(25);
    (0..n)
        .map(|i| {
            format!(
                "From a@example.org Sat Feb  1 10:00:00 2020\nFrom: a@example.org\nSubject: pace {i}\nMessage-ID: <{tag}-{i}@pace.example.org>\n\n{body}\n"
            )
        })
        .collect()
}

fn main() {
    let o = options();
    let dovecot = Dovecot::start().expect("starting Dovecot");
    let dir = tempfile::tempdir().unwrap();
    println!(
        "| provider | cap/s | jobs | messages | time s | ideal s | ratio | throttle answers | stored | exit | report |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for &provider in &o.providers {
        for &jobs in &o.jobs {
            let (name, cap) = match provider {
                Provider::Yahoo => ("yahoo", o.yahoo_rate),
                _ => ("m365", o.m365_rate),
            };
            let limits = Limits {
                appends_per_window: Some((cap, Duration::from_secs(1))),
                backoff_ms: o.m365_backoff_ms,
                penalty: Duration::from_millis(o.yahoo_penalty_ms),
                ..provider.limits()
            };
            let proxy = ProviderProxy::start(dovecot.plain_port(), provider, limits);
            let tag = format!("{name}-j{jobs}");
            let src = dir.path().join(format!("Pace-{tag}"));
            std::fs::write(&src, mbox(o.messages, &tag)).unwrap();
            let mut c = match &o.binary {
                Some(b) => MailhaulCommand::of(b),
                None => MailhaulCommand::new(),
            };
            c.arg("upload")
                .arg(&src)
                .server_via(&dovecot, proxy.port())
                .arg("--json")
                .arg("--jobs")
                .arg(jobs.to_string())
                .arg("--unordered")
                .arg("--journal")
                .arg(dir.path().join(format!("journal-{tag}")));
            if o.logs.is_some() {
                c.arg("-v");
            }
            let started = Instant::now();
            let out = c.run();
            let secs = started.elapsed().as_secs_f64();
            let report: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
            let slowed = report["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str())
                .find(|w| w.contains("slowed to"))
                .and_then(|w| w.split("slowed to ").nth(1))
                .and_then(|w| w.split(" (").next())
                .unwrap_or("-")
                .to_string();
            let counters = proxy.counters();
            // Every message at the cap, none throttled.
            let ideal = o.messages as f64 / cap as f64;
            println!(
                "| {name} | {cap} | {jobs} | {} | {secs:.1} | {ideal:.1} | {:.2} | {} | {} | {} | slowed to {slowed} |",
                o.messages,
                secs / ideal,
                counters.throttled,
                counters.appends,
                out.status.code().map_or("-".into(), |c| c.to_string()),
            );
            if let Some(logs) = &o.logs {
                std::fs::create_dir_all(logs).unwrap();
                std::fs::write(logs.join(format!("{tag}.log")), &out.stderr).unwrap();
            }
            if out.status.code() != Some(0) {
                eprintln!("{}", c.explain(&out));
            }
        }
    }
}
