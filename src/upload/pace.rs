//! The account's pace, shared by its connections: an adaptive rate that
//! learns the provider's limit, the pause after a throttle (at least the
//! time the server suggested, else an exponential backoff with jitter:
//! 1 s, 2 s, 4 s … up to 60 s), the give-up rule, and the provider's quota
//! stop that every connection obeys (the daily byte budget,
//! `--max-bytes-per-day`, is `budget.rs`).
//!
//! The rate (AIMD with a learned ceiling): a throttle is one event however
//! many answers say it — the answers to APPENDs written before the cut or
//! during its pause are the same event, and a refusal before anything
//! landed since the pause first only lengthens the pause (the provider's
//! penalty was not over); a throttle of anything but an APPEND only
//! pauses. An event sets the ceiling to the pace it was met at: what
//! landed of the APPENDs written in the seconds before the refused one
//! (counted when written, however late the answers were read), when that
//! is clearly less than the rate — the provider's pace, measured: sending
//! resumes at 95% of it; else the rate, halved (or, met again while
//! probing past the ceiling, 95% of it). Landed messages bring the rate
//! back to 95% of the ceiling within seconds, then past it: by 15% per
//! second while the ceiling is only a measure (it may be low), else by
//! 0.5% of it per second after 30 s without a throttle (doubled each time
//! it is met again), to find a raised limit. A soft throttle — Gmail's
//! `OK [THROTTLED]`, the message stored — halves the rate without a pause.
//!
//! The give-up rule: throttled messages are never failed while the run may
//! still wait; it may wait [`UploadOptions::max_throttle_wait`] in all
//! (default 1 hour), after which what the server still throttles is
//! reported as not sent (the journal lets a later run send it).
//!
//! The arithmetic ([`PaceState`]) is given the time, so it is tested
//! without clocks; [`Pace`] supplies the real one.
//!
//! [`UploadOptions::max_throttle_wait`]: super::UploadOptions::max_throttle_wait

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::throttle::Bucket;

/// The first pause after a throttle without a suggested time; doubles up
/// to [`MAX_BACKOFF`] while throttles follow each other (unit tests'
/// scripted server has nothing to wait for: [`TEST_BACKOFF`]).
const FIRST_BACKOFF: Duration = Duration::from_millis(1000);
const MAX_BACKOFF: Duration = Duration::from_millis(60_000);
/// The first and the longest backoff under `cfg(test)`.
const TEST_BACKOFF: (Duration, Duration) = (Duration::from_millis(2), Duration::from_millis(50));
/// The slowest the adaptive rate goes: one message every 5 s.
const MIN_RATE: f64 = 0.2;
/// Above this the adaptive rate is no limit at all.
const MAX_RATE: f64 = 1000.0;
/// The multiplicative decrease: a throttle whose pace was not measured
/// (nothing landed to measure it by) cuts the rate to this share.
const DECREASE: f64 = 0.5;
/// The rate is brought back to this share of the ceiling (the pace a
/// throttle was last met at)…
const NEAR: f64 = 0.95;
/// …closing this share of the gap per second of landed messages…
const APPROACH: f64 = 1.0;
/// …and grows past it (the increase that finds the limit, or a raised
/// one): by this share of the rate per second at once while the ceiling
/// is only a measure of what landed (it may be low)…
const FIRST_PROBE: f64 = 0.15;
/// …else slower, once calm for [`HOLD`] (doubled each time the ceiling
/// is met again).
const PROBE: f64 = 0.005;
const HOLD: Duration = Duration::from_secs(30);
/// How far back landed messages are counted to measure the pace the
/// provider accepted.
const MEASURE: Duration = Duration::from_secs(3);

/// Why the run gave up waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct GaveUp(pub String);

/// The pace's state at a given time.
#[derive(Debug)]
pub(super) struct PaceState {
    /// The adaptive rate (messages per second), once a throttle was met.
    rate: Option<f64>,
    bucket: Option<Bucket>,
    /// The pace a throttle was last met at (the provider's, as learned).
    ceiling: Option<f64>,
    /// Times the ceiling was met again when probing past it.
    confirmed: u32,
    /// When messages were sent in the last second.
    sent: VecDeque<Duration>,
    /// When messages landed in the last [`MEASURE`], and how many.
    landed_at: VecDeque<(Duration, usize)>,
    /// Nothing is sent before then.
    resume_at: Duration,
    /// When the rate was last cut.
    last_cut: Option<Duration>,
    /// The first write after the last pause (what is measured starts then:
    /// reconnecting and looking after a pause send nothing).
    resumed: Option<Duration>,
    /// Messages landed since the last pause was set.
    landed_since_pause: usize,
    /// The last pause was lengthened without a cut.
    lengthened: bool,
    /// Throttles in a row (reset by a landed message).
    in_a_row: u32,
    /// The first and the longest backoff.
    backoff: (Duration, Duration),
    /// Throttle pauses so far, and their total.
    pub throttles: u32,
    /// Throttle pauses said so far.
    logged: u32,
    pub waited: Duration,
    /// Soft throttles that cut the rate (nothing refused, no pause).
    pub soft: u32,
    /// Every throttling answer, and every soft one, whether or not it
    /// began an event of its own (for the summary).
    answers: u32,
    soft_answers: u32,
    max_wait: Duration,
    /// The provider's quota stopped the run.
    quota: Option<String>,
}

impl PaceState {
    pub fn new(start_rate: Option<f64>, max_wait: Duration) -> PaceState {
        PaceState {
            rate: start_rate,
            bucket: start_rate.map(|r| Bucket::paced(r, Duration::ZERO)),
            ceiling: None,
            confirmed: 0,
            sent: VecDeque::new(),
            landed_at: VecDeque::new(),
            resume_at: Duration::ZERO,
            last_cut: None,
            resumed: None,
            landed_since_pause: 0,
            lengthened: false,
            in_a_row: 0,
            backoff: match cfg!(test) {
                true => TEST_BACKOFF,
                false => (FIRST_BACKOFF, MAX_BACKOFF),
            },
            throttles: 0,
            answers: 0,
            soft_answers: 0,
            logged: 0,
            waited: Duration::ZERO,
            soft: 0,
            max_wait,
            quota: None,
        }
    }

    /// The wait before `n` messages may be written at `now` (and their
    /// sending recorded at the end of it).
    pub fn before_send(&mut self, now: Duration, n: usize) -> Duration {
        let pause = self.resume_at.saturating_sub(now);
        let paced = self
            .bucket
            .as_mut()
            .map_or(Duration::ZERO, |b| b.take(now + pause, n as f64));
        let wait = pause + paced;
        let at = now + wait;
        self.resumed.get_or_insert(at);
        for _ in 0..n {
            self.sent.push_back(at);
        }
        while self
            .sent
            .front()
            .is_some_and(|t| at.saturating_sub(*t) > Duration::from_secs(1))
        {
            self.sent.pop_front();
        }
        wait
    }

    /// `n` messages landed: the rate grows back to just under the
    /// ceiling, quickly, then (after a calm [`HOLD`]) past it, slowly.
    /// Their requests were written at `written` (the measure of the
    /// provider's pace counts them then, however late the answers were
    /// read).
    pub fn landed(&mut self, now: Duration, written: Duration, n: usize) {
        if n == 0 {
            return;
        }
        self.in_a_row = 0;
        self.landed_since_pause += n;
        self.landed_at.push_back((written, n));
        while self
            .landed_at
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > MEASURE.saturating_mul(2))
        {
            self.landed_at.pop_front();
        }
        let Some(r) = self.rate else { return };
        // The seconds of sending these messages took at the rate.
        let dt = n as f64 / r;
        let grown = match self.ceiling {
            Some(c) if r < NEAR * c => {
                let gap = (NEAR * c - r) * (-dt * APPROACH).exp();
                // Within a hundredth of the ceiling: there.
                NEAR * c - if gap < c / 100.0 { 0.0 } else { gap }
            }
            Some(c) => {
                // Calm since the last pause ended.
                let calm = now.saturating_sub(self.resume_at);
                match self.confirmed {
                    0 => r + r * FIRST_PROBE * dt,
                    k if calm < HOLD.saturating_mul(1 << (k - 1).min(8)) => r,
                    _ => r + c * PROBE * dt,
                }
            }
            None => r + r * PROBE * dt,
        };
        if grown >= MAX_RATE {
            self.rate = None;
            self.bucket = None;
        } else {
            self.rate = Some(grown);
            if let Some(b) = &mut self.bucket {
                b.set_rate(grown, now);
            }
        }
    }

    /// A throttle answer at `now` to an APPEND written at `sent_at`: the
    /// rate is cut once per event (the answers to requests written before
    /// the last cut or before its pause ended are the same event) and
    /// nothing is sent for the suggested time or the backoff. A throttle
    /// of anything else (`None`: a STATUS, a login refused during the
    /// provider's penalty) only pauses: the pace of APPENDs was not what
    /// it refused. Returns the wait from `now`, or why the run gives up.
    pub fn throttled(
        &mut self,
        now: Duration,
        sent_at: Option<Duration>,
        suggested: Option<Duration>,
        jitter: f64,
    ) -> Result<Duration, GaveUp> {
        self.answers = self.answers.saturating_add(1);
        let same_event = match (sent_at, self.last_cut) {
            (Some(sent), Some(cut)) => sent < cut.max(self.resume_at),
            (Some(_), None) => false,
            (None, _) => now < self.resume_at,
        };
        if same_event {
            return Ok(self.resume_at.saturating_sub(now));
        }
        let (first, longest) = self.backoff;
        let backoff = first
            .saturating_mul(1 << self.in_a_row.min(6))
            .min(longest)
            .mul_f64(0.75 + jitter.clamp(0.0, 1.0) / 2.0);
        let wait = suggested.map_or(backoff, |s| s.max(Duration::from_millis(1)));
        if self.waited + wait > self.max_wait {
            return Err(GaveUp(format!(
                "the server kept throttling after {:.0} s of waiting in all (the most this run waits)",
                self.waited.as_secs_f64()
            )));
        }
        self.in_a_row += 1;
        self.throttles += 1;
        self.waited += wait;
        // Refused again before anything landed since the last pause: the
        // provider's pause is not over (the rate was never tried): a
        // longer pause, the same rate.
        // (Once: refused again, the rate is cut all the same.)
        let rate = match (self.landed_since_pause, self.rate) {
            _ if sent_at.is_none() => self.rate,
            (0, Some(r)) if self.last_cut.is_some() && !self.lengthened => {
                self.lengthened = true;
                Some(r)
            }
            _ => {
                self.lengthened = false;
                Some(self.cut(now, sent_at.unwrap_or(now), false))
            }
        };
        self.landed_since_pause = 0;
        self.resumed = None;
        self.resume_at = self.resume_at.max(now + wait);
        if let Some(r) = rate {
            self.bucket = Some(Bucket::paced(r, self.resume_at));
        }
        Ok(self.resume_at - now)
    }

    /// The pace the provider accepted over the last [`MEASURE`] of
    /// sending (since the last pause); what landed in less than a second
    /// of it, or (before any rate: everything sent at once) in the last
    /// second: the provider took that much in a second, and no more.
    /// `to` is when the refused request was written.
    fn accepted(&self, to: Duration) -> Option<f64> {
        let from = to
            .saturating_sub(MEASURE)
            .max(self.resumed.unwrap_or(self.resume_at));
        let span = to.saturating_sub(from).as_secs_f64();
        let since = |from: Duration| -> usize {
            let n = self
                .landed_at
                .iter()
                .filter(|(t, _)| *t >= from && *t <= to);
            n.map(|(_, n)| n).sum()
        };
        match (self.rate, span >= 1.0) {
            (None, _) => Some(since(to.saturating_sub(Duration::from_secs(1))) as f64),
            (Some(_), true) => Some(since(from) as f64 / span),
            // Less than a second since the pause: what landed in it is
            // what the provider took in a second (at least).
            (Some(_), false) => Some(since(from) as f64),
        }
        .filter(|a| *a > 0.0)
    }

    /// The decrease at `now`, for a new throttle event: the pace it was
    /// met at becomes the ceiling. That pace is what landed in the last
    /// seconds when less than the rate (the provider's own, measured):
    /// sending resumes just under it (after a pause, the provider's window
    /// is empty; a `soft` throttle has none, and cuts deeper to drain
    /// it); else the rate (or what went out in the last second), cut.
    /// Returns the new rate.
    fn cut(&mut self, now: Duration, written: Duration, soft: bool) -> f64 {
        let sending = self.rate.unwrap_or(self.sent.len().max(1) as f64);
        let measured = self.accepted(written).filter(|a| *a < sending * 0.8);
        let met = measured.unwrap_or(sending);
        // Met again near it (probing past it), or measured in a second
        // of sending everything at once: the ceiling is the provider's,
        // probe later next time.
        let again = measured.is_none() && self.ceiling.is_some_and(|c| met >= NEAR * c * 0.97);
        let blast = measured.is_some() && self.rate.is_none();
        self.confirmed += u32::from(again || blast);
        // Met while probing: the rate had passed the provider's pace by
        // the time its answer was read.
        let ceiling = if again { NEAR * met } else { met };
        let rate = match (measured.is_some() || again) && !soft {
            true => NEAR * ceiling,
            false => met * DECREASE,
        };
        let rate = rate.max(MIN_RATE);
        self.ceiling = Some(ceiling);
        self.last_cut = Some(now);
        self.rate = Some(rate);
        rate
    }

    /// A soft throttle at `now` (the message was stored; the server asks
    /// to slow down): the rate is cut as for a throttle (once a second),
    /// without a pause, a backoff or a resend. Returns the new rate when
    /// it was cut.
    pub fn soft_throttled(&mut self, now: Duration) -> Option<f64> {
        self.soft_answers = self.soft_answers.saturating_add(1);
        if self
            .last_cut
            .is_some_and(|t| now.saturating_sub(t) < Duration::from_secs(1))
        {
            return None;
        }
        let cut = self.cut(now, now, true);
        let from = now.max(self.resume_at);
        match &mut self.bucket {
            Some(b) => b.set_rate(cut, from),
            None => self.bucket = Some(Bucket::paced(cut, from)),
        }
        self.soft += 1;
        Some(cut)
    }

    /// The summary line: throttling answers, pauses, time waited, the
    /// rate reached; `None` when the server never throttled.
    pub fn summary(&self) -> Option<String> {
        let s = self;
        let rate = s
            .rate()
            .map_or("no limit".to_string(), |r| format!("{r:.1} messages/s"));
        let times = |n: u32| crate::report::plural(n.into(), "time", "times");
        let soft = match s.soft_answers.max(s.soft) {
            0 => String::new(),
            n => format!(
                "asked to slow down {} (OK [THROTTLED], the messages stored) and ",
                times(n)
            ),
        };
        match (s.throttles, s.soft) {
            (0, 0) => None,
            (0, _) => Some(format!(
                "the server {soft}the upload slowed to {rate} (nothing failed for it)"
            )),
            (n, _) => Some(format!(
                "the server {soft}throttled the upload {} in {}; waited {:.1} s in all and slowed to {rate} (nothing failed for it)",
                times(s.answers.max(n)),
                crate::report::plural(n.into(), "pause", "pauses"),
                s.waited.as_secs_f64()
            )),
        }
    }

    /// Says (`-v`) a new pause: the rate and the ceiling it resumes at.
    fn log_event(&mut self, now: Duration) {
        if self.throttles == self.logged {
            return;
        }
        self.logged = self.throttles;
        log::info!(
            "throttled at {:.1} s: paused until {:.1} s, then {:.1} messages/s (the provider's pace as learned: {:.1})",
            now.as_secs_f64(),
            self.resume_at.as_secs_f64(),
            self.rate.unwrap_or(0.0),
            self.ceiling.unwrap_or(0.0)
        );
    }

    /// The same with the real backoff (simulations under `cfg(test)`).
    #[cfg(test)]
    pub fn with_real_backoff(self) -> PaceState {
        PaceState {
            backoff: (FIRST_BACKOFF, MAX_BACKOFF),
            ..self
        }
    }

    /// The adaptive rate, when there is one.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

/// [`PaceState`] on the real clock, shared by the connections.
#[derive(Debug)]
pub(super) struct Pace {
    started: Instant,
    state: Mutex<PaceState>,
}

impl Pace {
    pub fn new(start_rate: Option<f64>, max_wait: Duration) -> Pace {
        Pace {
            started: Instant::now(),
            state: Mutex::new(PaceState::new(start_rate, max_wait)),
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PaceState> {
        super::lock(&self.state)
    }

    pub fn before_send(&self, n: usize) -> Duration {
        let now = self.now();
        let wait = self.state().before_send(now, n);
        // Unit tests' scripted server has nothing to wait for: the pace's
        // arithmetic is the same, its waits a hundredth.
        if cfg!(test) { wait / 100 } else { wait }
    }

    /// `n` messages of a batch written at `written` landed.
    pub fn landed(&self, n: usize, written: Option<Instant>) {
        if n > 0 {
            let now = self.now();
            let written = written.map_or(now, |w| w.saturating_duration_since(self.started));
            self.state().landed(now, written, n);
        }
    }

    /// A throttle answer to a request of unknown age
    /// ([`PaceState::throttled`]).
    pub fn throttled(&self, suggested: Option<Duration>) -> Result<Duration, GaveUp> {
        let now = self.now();
        let mut s = self.state();
        let r = s.throttled(now, None, suggested, jitter());
        s.log_event(now);
        r
    }

    /// A throttle answer to a request written at `sent`: one written
    /// before the last cut is the same event ([`PaceState::throttled`]).
    pub fn throttled_since(
        &self,
        sent: Instant,
        suggested: Option<Duration>,
    ) -> Result<Duration, GaveUp> {
        let now = self.now();
        let sent_at = sent.saturating_duration_since(self.started);
        let mut s = self.state();
        let r = s.throttled(now, Some(sent_at), suggested, jitter());
        s.log_event(now);
        r
    }

    /// A soft throttle ([`PaceState::soft_throttled`]): the new rate when
    /// it was cut.
    pub fn soft_throttled(&self) -> Option<f64> {
        let now = self.now();
        self.state().soft_throttled(now)
    }

    /// How long until sending may resume (after a throttle's pause).
    pub fn pause_left(&self) -> Duration {
        let now = self.now();
        self.state().resume_at.saturating_sub(now)
    }

    /// The provider's quota stopped the run (every connection stops).
    pub fn quota_hit(&self, why: &str) {
        self.state().quota.get_or_insert_with(|| why.to_string());
    }

    /// Why the provider's quota stopped the run, once it did.
    pub fn quota(&self) -> Option<String> {
        self.state().quota.clone()
    }

    /// Messages per APPEND unit while a rate is learned: a quarter
    /// second's worth, so a throttle is heard (its answer read) within a
    /// second or so, with the window's batches in flight.
    pub fn unit_cap(&self) -> Option<usize> {
        self.state()
            .rate()
            .map(|r| (r / 4.0).ceil().max(1.0) as usize)
    }

    /// One line for the report when the server throttled the run.
    pub fn summary(&self) -> Option<String> {
        self.state().summary()
    }
}

/// A number in [0, 1) that differs between calls (jitter, so that
/// connections throttled together do not come back together).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() % 10_000) as f64 / 10_000.0
}
