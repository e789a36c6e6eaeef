//! Progress on stderr: an indicatif bar (bytes, rate, ETA, the current
//! mailbox) when stderr is a terminal, or newline-delimited JSON events with
//! `--json-progress` for programs. Otherwise every method is a no-op, so
//! callers never branch on it.
//!
//! Each connection reports through its own [`Lane`]: with one connection the
//! lane writes on the single bar; with several (`--jobs`) a
//! [`MultiProgress`] shows the total bar and one line per connection, and
//! every JSON event carries its `"connection"` (numbered from 1).

use std::cell::{Cell, RefCell};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, nothing otherwise.
    Auto,
    /// Nothing (`--quiet`, `--json`).
    Hidden,
    /// One JSON object per line on stderr (`--json-progress`).
    Json,
}

/// At most this often a JSON progress event per connection (mailbox
/// changes always emit).
const JSON_EVENT_INTERVAL: Duration = Duration::from_millis(250);

/// The whole run's progress, shared by its connections.
pub struct Progress {
    total_bytes: u64,
    /// Bytes done, over all connections.
    bytes: AtomicU64,
    /// The total bar (also the only one with a single connection).
    bar: Option<ProgressBar>,
    /// Set with several connections on a terminal.
    multi: Option<MultiProgress>,
    json: bool,
}

impl Progress {
    /// Progress measured in bytes against `total_bytes` (the size of the
    /// sources), for `connections` lanes.
    pub fn new(total_bytes: u64, mode: ProgressMode, connections: usize) -> Progress {
        let mut p = Progress {
            total_bytes,
            bytes: AtomicU64::new(0),
            bar: None,
            multi: None,
            json: mode == ProgressMode::Json,
        };
        if mode != ProgressMode::Auto || !std::io::stderr().is_terminal() {
            return p;
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::hidden());
        bar.set_style(style(
            "{bar:25} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            "{bar:25.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        ));
        if connections > 1 {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            p.bar = Some(multi.add(bar));
            p.multi = Some(multi);
        } else {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            p.bar = Some(bar);
        }
        if let Some(bar) = &p.bar {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        p
    }

    /// The lane of connection `connection` (from 1).
    pub fn lane(&self, connection: usize) -> Lane<'_> {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(style("  #{prefix} {msg}", "  {prefix:.cyan} {msg}"));
            bar.set_prefix(connection.to_string());
            bar
        });
        Lane {
            progress: self,
            connection,
            bar,
            last_event: Cell::new(None),
            mailbox: RefCell::new(String::new()),
        }
    }

    /// Prints a line above the bars (or to stderr when there is no bar).
    pub fn println(&self, line: &str) {
        match (&self.multi, &self.bar) {
            (Some(m), _) => m.suspend(|| eprintln!("{line}")),
            (None, Some(bar)) => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
        if self.json {
            emit(serde_json::json!({
                "event": "done",
                "bytes": self.bytes.load(Ordering::Relaxed),
                "total_bytes": self.total_bytes,
            }));
        }
    }
}

/// One connection's view of the progress (used from its own thread).
pub struct Lane<'a> {
    progress: &'a Progress,
    connection: usize,
    /// Its own line, with several connections on a terminal.
    bar: Option<ProgressBar>,
    last_event: Cell<Option<Instant>>,
    mailbox: RefCell<String>,
}

impl Lane<'_> {
    /// Shows `messages` done so far by this connection and the mailbox it fills.
    pub fn set_status(&self, messages: u64, mailbox: &str) {
        let text = format!("{messages} msgs → {}", crate::report::sanitize(mailbox));
        match (&self.bar, &self.progress.bar) {
            (Some(own), _) => own.set_message(text),
            (None, Some(total)) => total.set_message(text),
            _ => {}
        }
        if self.progress.json {
            let changed = *self.mailbox.borrow() != mailbox;
            let due = self
                .last_event
                .get()
                .is_none_or(|t| t.elapsed() >= JSON_EVENT_INTERVAL);
            if changed || due {
                *self.mailbox.borrow_mut() = mailbox.to_string();
                self.last_event.set(Some(Instant::now()));
                emit(serde_json::json!({
                    "event": "progress",
                    "connection": self.connection,
                    "mailbox": mailbox,
                    "messages": messages,
                    "bytes": self.progress.bytes.load(Ordering::Relaxed),
                    "total_bytes": self.progress.total_bytes,
                }));
            }
        }
    }

    /// The run waits `wait` because of `reason` (a throttle's pause):
    /// on the bar, and as `{"event":"waiting","seconds":…,"reason":…}`.
    pub fn waiting(&self, wait: Duration, reason: &str) {
        let text = format!(
            "waiting {:.1} s: {}",
            wait.as_secs_f64(),
            crate::report::sanitize(reason)
        );
        match (&self.bar, &self.progress.bar) {
            (Some(own), _) => own.set_message(text),
            (None, Some(total)) => total.set_message(text),
            _ => {}
        }
        if self.progress.json {
            emit(serde_json::json!({
                "event": "waiting",
                "connection": self.connection,
                "seconds": wait.as_secs_f64(),
                "reason": reason,
            }));
        }
    }

    pub fn advance(&self, bytes: u64) {
        self.progress.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(bar) = &self.progress.bar {
            // Sizes after CRLF normalization differ a little from file sizes.
            let len = bar.length().unwrap_or(0);
            bar.set_position(self.progress.bytes.load(Ordering::Relaxed).min(len));
        }
    }

    /// This connection is done: its line goes away.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A progress style: `plain` under NO_COLOR, else `coloured`.
fn style(plain: &str, coloured: &str) -> ProgressStyle {
    let template = if no_color() { plain } else { coloured };
    ProgressStyle::with_template(template)
        .expect("valid progress template")
        .progress_chars("=> ")
}

/// Writes one event line to stderr (a closed stderr is not an error worth
/// stopping an upload for).
fn emit(event: serde_json::Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{event}");
}

/// NO_COLOR (https://no-color.org): set and non-empty disables colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
