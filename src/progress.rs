//! Progress on stderr: an indicatif bar (messages, bytes, rate, ETA, the
//! current mailbox) when stderr is a terminal, or newline-delimited JSON
//! events with `--json-progress` for programs. Otherwise every method is a
//! no-op, so callers never branch on it.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// At most this often a JSON progress event (mailbox changes always emit).
const JSON_EVENT_INTERVAL: Duration = Duration::from_millis(250);

/// State of the JSON event stream.
struct JsonEvents {
    total_bytes: u64,
    bytes: Cell<u64>,
    last: Cell<Option<Instant>>,
    mailbox: std::cell::RefCell<String>,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    json: Option<JsonEvents>,
}

impl Progress {
    /// Progress measured in bytes against `total_bytes` (the size of the sources).
    pub fn new(total_bytes: u64, mode: ProgressMode) -> Progress {
        let hidden = Progress {
            bar: None,
            json: None,
        };
        match mode {
            ProgressMode::Hidden => return hidden,
            ProgressMode::Json => {
                return Progress {
                    bar: None,
                    json: Some(JsonEvents {
                        total_bytes,
                        bytes: Cell::new(0),
                        last: Cell::new(None),
                        mailbox: Default::default(),
                    }),
                };
            }
            ProgressMode::Auto if !std::io::stderr().is_terminal() => return hidden,
            ProgressMode::Auto => {}
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        let template = if no_color() {
            "{bar:25} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
        } else {
            "{bar:25.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid progress template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Some(bar),
            json: None,
        }
    }

    /// Shows `messages` done so far and the mailbox being filled.
    pub fn set_status(&self, messages: u64, mailbox: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{messages} msgs → {}",
                crate::report::sanitize(mailbox)
            ));
        }
        if let Some(j) = &self.json {
            let changed = *j.mailbox.borrow() != mailbox;
            let due = j
                .last
                .get()
                .is_none_or(|t| t.elapsed() >= JSON_EVENT_INTERVAL);
            if changed || due {
                *j.mailbox.borrow_mut() = mailbox.to_string();
                j.last.set(Some(Instant::now()));
                emit(serde_json::json!({
                    "event": "progress",
                    "mailbox": mailbox,
                    "messages": messages,
                    "bytes": j.bytes.get(),
                    "total_bytes": j.total_bytes,
                }));
            }
        }
    }

    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            // Sizes after CRLF normalization differ a little from file sizes.
            let len = bar.length().unwrap_or(0);
            bar.set_position((bar.position() + bytes).min(len));
        }
        if let Some(j) = &self.json {
            j.bytes.set(j.bytes.get() + bytes);
        }
    }

    /// Prints a line above the bar (or to stderr when there is no bar).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(j) = &self.json {
            emit(serde_json::json!({
                "event": "done",
                "bytes": j.bytes.get(),
                "total_bytes": j.total_bytes,
            }));
        }
    }
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
