//! Progress on stderr: an indicatif bar (bytes, rate, ETA, the current
//! mailbox) when stderr is a terminal, or newline-delimited JSON events with
//! `--json-progress` for programs. Otherwise every method is a no-op, so
//! callers never branch on it.
//!
//! Each connection reports through its own [`Lane`]: with one connection the
//! lane writes on the single bar; with several (`--jobs`) a
//! [`MultiProgress`] shows the total bar and one line per connection, and
//! every JSON event carries its `"connection"` (numbered from 1).
//!
//! `mailhaul batch` runs many accounts at once: a [`BatchProgress`] shows a
//! total line (accounts done, messages, bytes, ETA) and gives each running
//! account a [`Progress`] of its own line, whose bytes and messages also
//! count in the total and whose JSON events carry its `"account"`.

use std::cell::{Cell, RefCell};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

impl ProgressMode {
    /// `--json-progress` wins; otherwise hidden when the output is quiet
    /// or JSON (`--quiet`, `--json`), else a bar on a terminal.
    pub fn of_flags(json_progress: bool, hidden: bool) -> ProgressMode {
        if json_progress {
            ProgressMode::Json
        } else if hidden {
            ProgressMode::Hidden
        } else {
            ProgressMode::Auto
        }
    }
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
    /// Inside a batch: the account's name (in JSON events) and the totals.
    account: Option<(String, Arc<BatchTotals>)>,
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
            account: None,
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
            messages: Cell::new(0),
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
            self.emit(serde_json::json!({
                "event": "done",
                "bytes": self.bytes.load(Ordering::Relaxed),
                "total_bytes": self.total_bytes,
            }));
        }
    }

    /// Writes a JSON event, with the account inside a batch.
    fn emit(&self, mut event: serde_json::Value) {
        if let (Some((name, _)), Some(map)) = (&self.account, event.as_object_mut()) {
            map.insert("account".into(), name.clone().into());
        }
        emit(event);
    }
}

/// The run waits `wait` before its first session because the server
/// refused it as a throttle (`reason`): a line on stderr with `Auto` (no
/// bar is shown yet), the lane's `waiting` event (connection 1) with
/// `Json`, nothing when hidden.
pub fn waiting_to_connect(mode: ProgressMode, wait: Duration, reason: &str) {
    let seconds = wait.as_secs_f64();
    match mode {
        ProgressMode::Auto => eprintln!(
            "mailhaul: the server refused the connection as a throttle ({}): waiting {seconds:.1} s before connecting again",
            crate::report::sanitize(reason)
        ),
        ProgressMode::Json => emit(serde_json::json!({
            "event": "waiting",
            "seconds": seconds,
            "connection": 1,
            "reason": reason,
        })),
        ProgressMode::Hidden => {}
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
    /// Messages reported so far (inside a batch, the total grows by the difference).
    messages: Cell<u64>,
}

impl Lane<'_> {
    /// Shows `messages` done so far by this connection and the mailbox it fills.
    pub fn set_status(&self, messages: u64, mailbox: &str) {
        if let Some((_, totals)) = &self.progress.account {
            let more = messages.saturating_sub(self.messages.replace(messages));
            totals.messages.fetch_add(more, Ordering::Relaxed);
            totals.show();
        }
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
                self.progress.emit(serde_json::json!({
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
        let text = format!("waiting {:.1} s", wait.as_secs_f64());
        let seconds = wait.as_secs_f64();
        self.pace_event(
            text,
            reason,
            serde_json::json!({"event": "waiting", "seconds": seconds}),
        );
    }

    /// The run slows to `rate` messages per second because of `reason` (a
    /// soft throttle: nothing refused, no pause): on the bar, and as
    /// `{"event":"slowed","rate":…,"reason":…}`.
    pub fn slowed(&self, rate: f64, reason: &str) {
        let text = format!("slowing to {rate:.1} msgs/s");
        self.pace_event(
            text,
            reason,
            serde_json::json!({"event": "slowed", "rate": rate}),
        );
    }

    /// `what` the pace does and why, on the bar; `event` (with the
    /// connection and the reason added) as JSON.
    fn pace_event(&self, what: String, reason: &str, mut event: serde_json::Value) {
        let text = format!("{what}: {}", crate::report::sanitize(reason));
        match (&self.bar, &self.progress.bar) {
            (Some(own), _) => own.set_message(text),
            (None, Some(total)) => total.set_message(text),
            _ => {}
        }
        if self.progress.json
            && let Some(map) = event.as_object_mut()
        {
            map.insert("connection".into(), self.connection.into());
            map.insert("reason".into(), reason.into());
            emit(event);
        }
    }

    pub fn advance(&self, bytes: u64) {
        self.progress.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(bar) = &self.progress.bar {
            // Sizes after CRLF normalization differ a little from file sizes.
            let len = bar.length().unwrap_or(0);
            bar.set_position(self.progress.bytes.load(Ordering::Relaxed).min(len));
        }
        if let Some((_, totals)) = &self.progress.account {
            totals.bytes.fetch_add(bytes, Ordering::Relaxed);
            totals.show();
        }
    }

    /// This connection is done: its line goes away.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What a batch's accounts add up to, shared by their [`Progress`].
struct BatchTotals {
    accounts: usize,
    done: AtomicUsize,
    messages: AtomicU64,
    bytes: AtomicU64,
    /// The total line, on a terminal.
    bar: Option<ProgressBar>,
}

impl BatchTotals {
    fn show(&self) {
        if let Some(bar) = &self.bar {
            let len = bar.length().unwrap_or(0);
            bar.set_position(self.bytes.load(Ordering::Relaxed).min(len));
            bar.set_message(format!(
                "{}/{} accounts, {} msgs",
                self.done.load(Ordering::Relaxed),
                self.accounts,
                self.messages.load(Ordering::Relaxed)
            ));
        }
    }
}

/// `mailhaul batch`'s progress: the total line and one line per running
/// account (a terminal), or JSON events carrying the account.
pub struct BatchProgress {
    totals: Arc<BatchTotals>,
    multi: Option<MultiProgress>,
    json: bool,
}

impl BatchProgress {
    /// Progress over `accounts` accounts whose sources hold `total_bytes`.
    pub fn new(total_bytes: u64, accounts: usize, mode: ProgressMode) -> BatchProgress {
        let multi = (mode == ProgressMode::Auto && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let bar = multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total_bytes));
            bar.set_style(style(
                "{bar:25} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
                "{bar:25.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            ));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let totals = Arc::new(BatchTotals {
            accounts,
            done: AtomicUsize::new(0),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            bar,
        });
        totals.show();
        BatchProgress {
            totals,
            multi,
            json: mode == ProgressMode::Json,
        }
    }

    /// The progress of account `name` (its sources hold `total_bytes`): its
    /// own line, gone when its upload finishes.
    pub fn account(&self, name: &str, total_bytes: u64) -> Progress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total_bytes));
            bar.set_style(style(
                "  {prefix:30!} {bar:15} {bytes}/{total_bytes} {msg}",
                "  {prefix:30!.cyan} {bar:15.cyan/blue} {bytes}/{total_bytes} {msg}",
            ));
            bar.set_prefix(crate::report::sanitize(name));
            bar
        });
        Progress {
            total_bytes,
            bytes: AtomicU64::new(0),
            bar,
            multi: None,
            json: self.json,
            account: Some((name.to_string(), Arc::clone(&self.totals))),
        }
    }

    /// Account `name` ended with `exit_code`.
    pub fn account_done(&self, name: &str, exit_code: u8) {
        self.totals.done.fetch_add(1, Ordering::Relaxed);
        self.totals.show();
        if self.json {
            emit(serde_json::json!({
                "event": "account-done",
                "account": name,
                "exit_code": exit_code,
                "accounts_done": self.totals.done.load(Ordering::Relaxed),
                "accounts": self.totals.accounts,
            }));
        }
    }

    /// Prints a line above the bars (or to stderr when there is none).
    pub fn println(&self, line: &str) {
        match &self.multi {
            Some(m) => m.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.totals.bar {
            bar.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
        if self.json {
            emit(serde_json::json!({
                "event": "batch-done",
                "accounts": self.totals.accounts,
                "messages": self.totals.messages.load(Ordering::Relaxed),
                "bytes": self.totals.bytes.load(Ordering::Relaxed),
            }));
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
