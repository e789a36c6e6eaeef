//! The daily byte budget (`--max-bytes-per-day`, else the provider's daily
//! upload limit: Gmail's 500 MB) as its name says: a rolling 24-hour
//! window per account. The bytes that landed on this server in the last
//! 24 hours come from the journal (one per server and user; each upload
//! recorded with its time: `journal/uploads.rs`), so a run started every
//! hour sends only what the window has room for, and a run the budget
//! stops says when enough of the window expires for the next run to send
//! its next message, computed from the journal's times, not guessed.
//!
//! A run charges a batch's bytes before it is sent, all or nothing; a
//! batch larger than what is left is cut so that the messages that fit
//! go, and the first that does not is the one the next run needs room
//! for. With nothing left at the start, the run stops before connecting.
//! Without a journal (`--no-journal`) earlier runs are unknown: only this
//! run's bytes count (a per-run budget), and when to run again is a guess.
//!
//! What it does not own: the provider's own quota answer (`slowdown.rs`
//! recognises it, `pace.rs` stops every connection for it).
//!
//! The arithmetic ([`used_at`], [`next_room`], [`BudgetState`]) is given
//! the time, so it is tested without clocks; [`Budget`] supplies the real one.

use std::sync::Mutex;
use std::time::SystemTime;

use chrono::{DateTime, Local, SecondsFormat, Utc};
use serde::Serialize;

use crate::journal::{Journal, Upload, unix_seconds};
use crate::report::{Report, human_bytes as mb};

/// The window: 24 hours, in seconds.
pub const WINDOW_SECS: u64 = 24 * 60 * 60;

/// True when `u` is inside the window ending at `now` (uploaded after
/// now − 24 h; a time ahead of the clock counts too).
fn in_window(u: &Upload, now: u64) -> bool {
    u.at.saturating_add(WINDOW_SECS) > now
}

/// The bytes of `uploads` inside the window ending at `now`.
pub fn used_at(uploads: &[Upload], now: u64) -> u64 {
    uploads
        .iter()
        .filter(|u| in_window(u, now))
        .map(|u| u.bytes)
        .sum()
}

/// The earliest time from `now` at which `need` more bytes fit under
/// `limit` as `uploads` leave the window; `None` when they never do
/// (`need` is more than the whole budget).
pub fn next_room(uploads: &[Upload], limit: u64, need: u64, now: u64) -> Option<u64> {
    if need > limit {
        return None;
    }
    let mut live: Vec<&Upload> = uploads.iter().filter(|u| in_window(u, now)).collect();
    live.sort_by_key(|u| u.at);
    let mut used: u64 = live.iter().map(|u| u.bytes).sum();
    if used.saturating_add(need) <= limit {
        return Some(now);
    }
    for u in live {
        used -= u.bytes;
        if used + need <= limit {
            return Some(u.at + WINDOW_SECS);
        }
    }
    // Unreachable: with the window empty, `need` ≤ `limit` fits.
    Some(now)
}

/// Why the budget stopped the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Exhausted {
    pub limit: u64,
    /// The bytes the next message needs (1 when not known: the run
    /// stopped before it read anything).
    pub need: u64,
}

impl Exhausted {
    /// The reason a stop carries (`Stop::Quota`).
    pub fn why(&self) -> String {
        format!("--max-bytes-per-day {} reached", self.limit)
    }
}

/// The budget at a given time.
#[derive(Debug)]
pub(super) struct BudgetState {
    limit: u64,
    /// Earlier runs' uploads still in the window at the start (from the
    /// journal), then what this run charged, when it charged it.
    uploads: Vec<Upload>,
    /// The earlier runs' uploads are known (a journal).
    journaled: bool,
    /// Bytes this run charged.
    charged: u64,
    /// The budget stopped the run (every connection stops).
    stopped: Option<Exhausted>,
}

impl BudgetState {
    /// `limit` bytes per 24 hours, `earlier` the journal's uploads
    /// (`None`: no journal, a per-run budget), at `now`.
    pub fn new(limit: u64, earlier: Option<&[Upload]>, now: u64) -> BudgetState {
        BudgetState {
            limit,
            uploads: earlier
                .unwrap_or_default()
                .iter()
                .filter(|u| in_window(u, now))
                .copied()
                .collect(),
            journaled: earlier.is_some(),
            charged: 0,
            stopped: None,
        }
    }

    /// What may still be sent at `now`.
    pub fn left(&self, now: u64) -> u64 {
        self.limit.saturating_sub(used_at(&self.uploads, now))
    }

    /// How many of the messages of `sizes`, in order, fit at `now`.
    pub fn fitting(&self, now: u64, sizes: impl IntoIterator<Item = u64>) -> usize {
        if self.stopped.is_some() {
            return 0;
        }
        let mut left = self.left(now);
        sizes
            .into_iter()
            .take_while(|&s| {
                let fits = s <= left;
                left = left.saturating_sub(s);
                fits
            })
            .count()
    }

    /// Charges a batch of `bytes` at `now` (all or nothing); `Err` (and
    /// the run stopped) when it does not fit.
    pub fn charge(&mut self, now: u64, bytes: u64) -> Result<(), Exhausted> {
        if let Some(s) = &self.stopped {
            return Err(s.clone());
        }
        if bytes > self.left(now) {
            return Err(self.stop(bytes));
        }
        self.uploads.push(Upload { at: now, bytes });
        self.charged += bytes;
        Ok(())
    }

    /// Stops the run: the next message needs `need` bytes (the first stop
    /// is kept).
    pub fn stop(&mut self, need: u64) -> Exhausted {
        self.stopped
            .get_or_insert(Exhausted {
                limit: self.limit,
                need: need.max(1),
            })
            .clone()
    }

    /// The figures at `now`: from `journal` (what landed, this run's
    /// included) when there is one, else this run's charges.
    pub fn figures(&self, journal: Option<&[Upload]>, now: u64) -> BudgetFigures {
        let (window, used) = match journal.filter(|_| self.journaled) {
            Some(uploads) => ("24h", used_at(uploads, now)),
            None => ("run", self.charged),
        };
        let next = match (&self.stopped, journal.filter(|_| self.journaled)) {
            (Some(s), Some(uploads)) => Next::At(next_room(uploads, self.limit, s.need, now)),
            (Some(_), None) => Next::Tomorrow,
            (None, _) => Next::NotStopped,
        };
        BudgetFigures::new(self.limit, window, used, self.stopped.as_ref(), next)
    }
}

/// When the next run can send, as the report says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    NotStopped,
    /// Not known (no journal): a day from now at the latest.
    Tomorrow,
    /// From the journal's times; `None`: never (the message is larger
    /// than the whole budget).
    At(Option<u64>),
}

/// The budget in the report (`--json`: `"budget"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetFigures {
    /// Bytes per 24 hours.
    pub limit: u64,
    /// `"24h"`: the last 24 hours, from the journal; `"run"`: this run
    /// only (`--no-journal`).
    pub window: &'static str,
    /// Bytes uploaded in the window: landed, as the journal says (this
    /// run's included), or sent in this run.
    pub used_in_window: u64,
    pub left: u64,
    /// When the budget stopped the run: the time (ISO 8601, UTC) from which
    /// enough of the window has expired for the next message; `null`
    /// otherwise, without a journal, or when the message is larger than
    /// the whole budget.
    pub next_window: Option<String>,
    /// The bytes the next message needs, when the budget stopped the run.
    pub next_message_bytes: Option<u64>,
    #[serde(skip)]
    next: Next,
}

impl BudgetFigures {
    fn new(
        limit: u64,
        window: &'static str,
        used: u64,
        stopped: Option<&Exhausted>,
        next: Next,
    ) -> BudgetFigures {
        let next_window = match next {
            Next::At(Some(t)) => Some(iso_utc(t)),
            _ => None,
        };
        BudgetFigures {
            limit,
            window,
            used_in_window: used,
            left: limit.saturating_sub(used),
            next_window,
            // 1 stands for "not known".
            next_message_bytes: stopped.map(|s| s.need).filter(|&n| n > 1),
            next,
        }
    }

    /// The summary's line.
    pub fn line(&self) -> String {
        let over = match self.window {
            "24h" => "uploaded in the last 24 hours",
            _ => "uploaded in this run (no journal)",
        };
        format!(
            "daily budget: {} of {} {over}; {} left",
            mb(self.used_in_window),
            mb(self.limit),
            mb(self.left)
        )
    }

    /// What the budget's stop line says of the budget and of when to run
    /// again.
    fn stop_parts(&self) -> (String, String) {
        let need = match self.next_message_bytes {
            Some(n) => format!(", the next message needs {}", mb(n)),
            None => String::new(),
        };
        let used = match self.window {
            "24h" => format!(
                "{} landed on this server in the last 24 hours{need}",
                mb(self.used_in_window)
            ),
            _ => format!(
                "{} sent in this run{need}; with --no-journal earlier runs are not counted",
                mb(self.used_in_window)
            ),
        };
        let when = match self.next {
            Next::At(Some(t)) => {
                let what = if self.next_message_bytes.is_some() {
                    "for it"
                } else {
                    "again"
                };
                format!(
                    "the 24-hour window has room {what} from {}: run the same command then (a timer may run it every hour: see the README)",
                    local_and_utc(t)
                )
            }
            Next::At(None) => format!(
                "the next message is larger than the whole budget of {}: raise --max-bytes-per-day to send it",
                mb(self.limit)
            ),
            Next::Tomorrow | Next::NotStopped => {
                "run the same command again tomorrow (a timer does it: see the README)".to_string()
            }
        };
        (used, when)
    }
}

/// [`BudgetState`] on the real clock, shared by the connections; no state
/// without a limit.
#[derive(Debug)]
pub(super) struct Budget {
    state: Option<Mutex<BudgetState>>,
}

fn now() -> u64 {
    unix_seconds(SystemTime::now())
}

impl Budget {
    /// `limit` bytes per 24 hours, earlier runs' uploads from `journal`.
    pub fn new(limit: Option<u64>, journal: Option<&Journal>) -> Budget {
        Budget {
            state: limit
                .map(|l| Mutex::new(BudgetState::new(l, journal.map(Journal::uploads), now()))),
        }
    }

    fn state(&self) -> Option<std::sync::MutexGuard<'_, BudgetState>> {
        self.state.as_ref().map(super::lock)
    }

    /// How many of the messages of `sizes`, in order, fit now.
    pub fn fitting(&self, sizes: impl IntoIterator<Item = u64>) -> usize {
        match self.state() {
            Some(s) => s.fitting(now(), sizes),
            None => sizes.into_iter().count(),
        }
    }

    /// Charges a batch of `bytes`; `Err(why)` (the run stopped) when it
    /// does not fit.
    pub fn charge(&self, bytes: u64) -> Result<(), String> {
        match self.state() {
            Some(mut s) => s.charge(now(), bytes).map_err(|e| e.why()),
            None => Ok(()),
        }
    }

    /// Stops the run for a message of `need` bytes that does not fit.
    pub fn stop(&self, need: u64) -> String {
        self.state()
            .map_or_else(String::new, |mut s| s.stop(need).why())
    }

    /// The report's figures now (`journal`: the run's journal, this run's
    /// uploads recorded in it).
    pub fn figures(&self, journal: Option<&Journal>) -> Option<BudgetFigures> {
        self.state()
            .map(|s| s.figures(journal.map(Journal::uploads), now()))
    }
}

/// The report of a run that stops before connecting: the journal says the
/// last 24 hours used the whole budget. `None`: there is room (or no
/// limit, or no journal to tell).
pub fn spent_before_start(journal: Option<&Journal>, limit: Option<u64>) -> Option<Report> {
    let journal = journal?;
    let mut state = BudgetState::new(limit?, Some(journal.uploads()), now());
    if state.left(now()) > 0 {
        return None;
    }
    let why = state.stop(1).why();
    let mut report = Report {
        quota_stop: Some(why.clone()),
        budget: Some(state.figures(Some(journal.uploads()), now())),
        // Nothing of the source was read.
        unread: true,
        ..Default::default()
    };
    report.aborted = Some(stop_line(&report, &why));
    Some(report)
}

/// The one line a quota stop prints: what limit was hit, how much landed,
/// and when to run again: for the budget, from the journal's times; for
/// the provider's own answer, within a day (its window is its own).
pub(super) fn stop_line(report: &Report, why: &str) -> String {
    let t = report.totals();
    // Only what is known: what was read and did not land, and whether
    // the source was read to its end (how much of it is left, not).
    let mut left = match report.left_for_next_run {
        0 => String::new(),
        n => format!(", {n} read but not landed (not sent, or sent without an answer)"),
    };
    if report.unread {
        left.push_str(", the rest of the source not yet read");
    }
    let failed = match report.failures.len() {
        0 => "nothing failed".to_string(),
        n => format!("{n} failed for other reasons (listed above)"),
    };
    let landed = format!(
        "{failed}: {} ({}) landed in this run{left}",
        crate::report::plural(t.uploaded, "message", "messages"),
        mb(t.bytes)
    );
    let next = "the journal makes the next run continue where this one stopped";
    match report
        .budget
        .as_ref()
        .filter(|_| why.starts_with("--max-bytes-per-day"))
    {
        Some(b) => {
            let (used, when) = b.stop_parts();
            // The next message not known: the journal left no room at the
            // start, before anything was read.
            let before = if b.next_message_bytes.is_none() {
                " before connecting"
            } else {
                ""
            };
            format!(
                "stopped{before} by the daily upload budget ({why}: {used}); {landed}; {when}; {next}"
            )
        }
        None => {
            let seen = match &report.budget {
                Some(b) if b.window == "24h" => format!(
                    " ({} landed here in the last 24 hours, as the journal says)",
                    mb(b.used_in_window)
                ),
                _ => String::new(),
            };
            format!(
                "stopped by the provider's upload limit ({why}); {landed}{seen}; the provider's limit resets within 24 hours (Gmail: a rolling day): run the same command again then (a timer does it: see the README); {next}"
            )
        }
    }
}

/// Unix time `t` as ISO 8601 in UTC, to the second.
fn iso_utc(t: u64) -> String {
    utc(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn utc(t: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(t).unwrap_or(i64::MAX), 0).unwrap_or_default()
}

/// Unix time `t` in the local time zone, then in UTC.
fn local_and_utc(t: u64) -> String {
    format!(
        "{} ({})",
        utc(t).with_timezone(&Local).format("%Y-%m-%d %H:%M:%S %:z"),
        iso_utc(t)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_764_000_000;
    const H: u64 = 3600;

    fn up(at: u64, bytes: u64) -> Upload {
        Upload { at, bytes }
    }

    #[test]
    fn the_window_holds_the_last_24_hours() {
        let ups = [up(T0, 100), up(T0 + H, 50)];
        assert_eq!(used_at(&ups, T0), 150, "a time ahead counts");
        assert_eq!(used_at(&ups, T0 + H), 150);
        assert_eq!(used_at(&ups, T0 + WINDOW_SECS - 1), 150);
        assert_eq!(used_at(&ups, T0 + WINDOW_SECS), 50, "gone after 24 h");
        assert_eq!(used_at(&ups, T0 + H + WINDOW_SECS), 0);
    }

    #[test]
    fn the_next_room_is_when_enough_has_expired() {
        let ups = [up(T0 + 2 * H, 300), up(T0, 500), up(T0 + 5 * H, 200)];
        let now = T0 + 6 * H;
        // 1000 used of 1000: 100 more fit once the oldest (500) expires.
        assert_eq!(next_room(&ups, 1000, 100, now), Some(T0 + WINDOW_SECS));
        // 600 need the two oldest gone.
        assert_eq!(
            next_room(&ups, 1000, 600, now),
            Some(T0 + 2 * H + WINDOW_SECS)
        );
        assert_eq!(
            next_room(&ups, 1000, 1000, now),
            Some(T0 + 5 * H + WINDOW_SECS)
        );
        assert_eq!(next_room(&ups, 1000, 1001, now), None, "never");
        // Room now: now.
        assert_eq!(next_room(&ups, 2000, 1000, now), Some(now));
        // What already left the window does not count.
        let later = T0 + WINDOW_SECS + 3 * H;
        assert_eq!(next_room(&ups, 1000, 500, later), Some(later));
    }

    /// An hourly run: each sends what the window has room for, and
    /// the day never carries more than the budget.
    #[test]
    fn hourly_runs_stay_within_the_budget() {
        let mut journal: Vec<Upload> = Vec::new();
        let (limit, size) = (1000, 90);
        for hour in 0..72 {
            let now = T0 + hour * H;
            let mut b = BudgetState::new(limit, Some(&journal), now);
            while b.charge(now, size).is_ok() {
                journal.push(up(now, size));
            }
            assert!(used_at(&journal, now) <= limit, "hour {hour}");
            let f = b.figures(Some(&journal), now);
            let next = f.next_window.unwrap();
            // The next run at that time has room for the message.
            let at = DateTime::parse_from_rfc3339(&next).unwrap().timestamp() as u64;
            assert!(at > now, "hour {hour}: {next}");
            let b = BudgetState::new(limit, Some(&journal), at);
            assert!(b.left(at) >= size, "hour {hour}");
        }
        // 11 messages a day (990 bytes), on the first hour of each day.
        assert_eq!(journal.len(), 33);
        assert!(
            journal
                .iter()
                .all(|u| (u.at - T0).is_multiple_of(WINDOW_SECS))
        );
    }

    #[test]
    fn a_batch_too_big_is_cut_to_what_fits_and_the_stop_holds() {
        let mut b = BudgetState::new(1000, Some(&[up(T0, 400)]), T0 + H);
        assert_eq!(b.left(T0 + H), 600);
        assert_eq!(b.fitting(T0 + H, [200, 300, 200, 50]), 2);
        assert!(b.charge(T0 + H, 500).is_ok());
        let over = b.charge(T0 + H, 200).unwrap_err();
        assert_eq!(over.why(), "--max-bytes-per-day 1000 reached");
        assert_eq!(over.need, 200);
        // Stopped for good, even where a message would fit now.
        assert_eq!(b.charge(T0 + 2 * H, 1), Err(over));
        assert_eq!(b.fitting(T0 + 2 * H, [1]), 0);
        let f = b.figures(Some(&[up(T0, 400), up(T0 + H, 500)]), T0 + 2 * H);
        assert_eq!((f.used_in_window, f.left), (900, 100));
        // The summary's line fits 80 columns at Gmail's sizes too.
        let gmail = BudgetState::new(500_000_000, Some(&[up(T0, 499_999_999)]), T0);
        let line = gmail.figures(Some(&[up(T0, 499_999_999)]), T0).line();
        assert!(line.chars().count() <= 80, "{line}");
        assert!(line.contains("476.8 MiB of 476.8 MiB"), "{line}");
        assert_eq!(f.next_message_bytes, Some(200));
        assert_eq!(f.next_window.as_deref(), Some("2025-11-25T16:00:00Z"));
    }

    #[test]
    fn without_a_journal_the_budget_is_per_run() {
        let mut b = BudgetState::new(1000, None, T0);
        assert!(b.charge(T0, 1000).is_ok());
        assert!(b.charge(T0, 1).is_err());
        let f = b.figures(None, T0);
        assert_eq!((f.window, f.used_in_window, f.left), ("run", 1000, 0));
        assert_eq!(
            f.line(),
            "daily budget: 1000 B of 1000 B uploaded in this run (no journal); 0 B left"
        );
        assert_eq!(f.next_window, None);
        let mut r = Report {
            quota_stop: Some(b.stop(1).why()),
            budget: Some(f),
            ..Default::default()
        };
        r.uploaded("INBOX", 1000);
        let line = stop_line(&r, r.quota_stop.as_deref().unwrap());
        assert!(line.contains("earlier runs are not counted"), "{line}");
        assert!(line.contains("again tomorrow"), "{line}");
    }

    #[test]
    fn the_stop_line_names_the_limit_what_landed_and_when() {
        let journal = [up(T0, 700), up(T0 + H, 250)];
        let mut b = BudgetState::new(1000, Some(&journal), T0 + H);
        assert!(b.charge(T0 + H, 100).is_err());
        let mut r = Report {
            budget: Some(b.figures(Some(&journal), T0 + H)),
            ..Default::default()
        };
        r.uploaded("INBOX", 250);
        let line = stop_line(&r, "--max-bytes-per-day 1000 reached");
        assert!(
            line.contains("--max-bytes-per-day 1000 reached: 950 B landed on this server in the last 24 hours, the next message needs 100 B"),
            "{line}"
        );
        assert!(
            line.contains("1 message (250 B) landed in this run"),
            "{line}"
        );
        assert!(
            !line.contains("left") && !line.contains("not yet read"),
            "{line}"
        );
        // Only what is known of what is left: what was read and did not
        // land, and that the rest was not read (not how much it is).
        r.left_for_next_run = 3;
        r.unfinished("INBOX");
        let line = stop_line(&r, "--max-bytes-per-day 1000 reached");
        assert!(
            line.contains("landed in this run, 3 read but not landed (not sent, or sent without an answer), the rest of the source not yet read;"),
            "{line}"
        );
        assert!(line.contains("(2025-11-25T16:00:00Z)"), "{line}");
        // The provider's own answer keeps its "within 24 hours".
        let bye = stop_line(&r, "[ALERT] Account exceeded command or bandwidth limits.");
        assert!(bye.contains("within 24 hours"), "{bye}");
        assert!(bye.contains("landed here in the last 24 hours"), "{bye}");
    }
}
