//! The account's pace, shared by its connections: an adaptive rate that
//! learns the provider's limit (AIMD, as TCP does: each throttle halves the
//! rate, each landed message raises it a little, so it settles just under
//! what the provider allows), the pause after a throttle (at least the time
//! the server suggested, else an exponential backoff with jitter: 1 s,
//! 2 s, 4 s … up to 60 s), the give-up rule, and the provider's quota
//! stop that every connection obeys (the daily byte budget,
//! `--max-bytes-per-day`, is `budget.rs`).
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
/// scripted server has nothing to wait for).
const FIRST_BACKOFF: Duration = Duration::from_millis(if cfg!(test) { 2 } else { 1000 });
const MAX_BACKOFF: Duration = Duration::from_millis(if cfg!(test) { 50 } else { 60_000 });
/// The slowest the adaptive rate goes: one message every 5 s.
const MIN_RATE: f64 = 0.2;
/// Above this the adaptive rate is no limit at all.
const MAX_RATE: f64 = 1000.0;
/// Additive increase: per second of landed messages, the rate grows by
/// this share of the rate it was cut to.
const INCREASE: f64 = 0.1;

/// Why the run gave up waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct GaveUp(pub String);

/// The pace's state at a given time.
#[derive(Debug)]
pub(super) struct PaceState {
    /// The adaptive rate (messages per second), once a throttle was met.
    rate: Option<f64>,
    bucket: Option<Bucket>,
    /// What one second of landed messages adds to the rate.
    step: f64,
    /// When messages were sent in the last second.
    sent: VecDeque<Duration>,
    /// Nothing is sent before then.
    resume_at: Duration,
    /// When the rate was last cut.
    last_cut: Option<Duration>,
    /// Throttles in a row (reset by a landed message).
    in_a_row: u32,
    /// Throttle pauses so far, and their total.
    pub throttles: u32,
    pub waited: Duration,
    max_wait: Duration,
    /// The provider's quota stopped the run.
    quota: Option<String>,
}

impl PaceState {
    pub fn new(start_rate: Option<f64>, max_wait: Duration) -> PaceState {
        PaceState {
            rate: start_rate,
            bucket: start_rate.map(|r| Bucket::paced(r, Duration::ZERO)),
            step: start_rate.map_or(MIN_RATE * INCREASE, |r| r * INCREASE),
            sent: VecDeque::new(),
            resume_at: Duration::ZERO,
            last_cut: None,
            in_a_row: 0,
            throttles: 0,
            waited: Duration::ZERO,
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

    /// `n` messages landed: the rate grows (additive increase).
    pub fn landed(&mut self, now: Duration, n: usize) {
        self.in_a_row = 0;
        let Some(r) = self.rate else { return };
        let grown = r + self.step * n as f64 / r;
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

    /// A throttle answer at `now`: the rate is halved (once per pause:
    /// the answers of messages sent before it count as the same event)
    /// and nothing is sent for the suggested time or the backoff. Returns
    /// the wait from `now`, or why the run gives up.
    pub fn throttled(
        &mut self,
        now: Duration,
        suggested: Option<Duration>,
        jitter: f64,
    ) -> Result<Duration, GaveUp> {
        if now < self.resume_at {
            return Ok(self.resume_at - now);
        }
        // One cut per second at most: what was sent before the cut is
        // still in the provider's window and may be throttled too.
        let recent_cut = self
            .last_cut
            .is_some_and(|t| now.saturating_sub(t) < Duration::from_secs(1));
        let cut = if recent_cut {
            self.rate.unwrap_or(MIN_RATE)
        } else {
            let measured = self.sent.len().max(1) as f64;
            let cut = (self.rate.unwrap_or(measured) / 2.0).max(MIN_RATE);
            self.last_cut = Some(now);
            self.rate = Some(cut);
            self.step = self.step.max(cut * INCREASE);
            cut
        };
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << self.in_a_row.min(6))
            .min(MAX_BACKOFF)
            .mul_f64(0.75 + jitter.clamp(0.0, 1.0) / 2.0);
        self.in_a_row += 1;
        let wait = suggested.map_or(backoff, |s| s.max(Duration::from_millis(1)));
        if self.waited + wait > self.max_wait {
            return Err(GaveUp(format!(
                "the server kept throttling after {:.0} s of waiting in all (the most this run waits)",
                self.waited.as_secs_f64()
            )));
        }
        self.throttles += 1;
        self.waited += wait;
        self.resume_at = now + wait;
        self.bucket = Some(Bucket::paced(cut, self.resume_at));
        Ok(wait)
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

    pub fn landed(&self, n: usize) {
        if n > 0 {
            let now = self.now();
            self.state().landed(now, n);
        }
    }

    pub fn throttled(&self, suggested: Option<Duration>) -> Result<Duration, GaveUp> {
        let now = self.now();
        self.state().throttled(now, suggested, jitter())
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

    /// Messages per APPEND unit while a rate is learned: one second's
    /// worth, so a throttle is heard within a second or so.
    pub fn unit_cap(&self) -> Option<usize> {
        self.state().rate().map(|r| r.ceil().max(1.0) as usize)
    }

    /// One line for the report when the server throttled the run.
    pub fn summary(&self) -> Option<String> {
        let s = self.state();
        (s.throttles > 0).then(|| {
            let rate = s
                .rate()
                .map_or("no limit".to_string(), |r| format!("{r:.1} messages/s"));
            format!(
                "the server throttled the upload {} times; waited {:.1} s in all and slowed to {rate} (nothing failed for it)",
                s.throttles,
                s.waited.as_secs_f64()
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    /// A provider accepting `limit` messages per second, and a sender that
    /// sends as fast as the pace allows for `secs` seconds: the messages
    /// throttled and the rate reached.
    fn simulate(limit: f64, secs: f64) -> (u32, usize, f64) {
        let mut p = PaceState::new(None, Duration::from_secs(3600));
        let (mut now, mut sent, mut throttled) = (s(0.0), 0usize, 0u32);
        let mut window: VecDeque<Duration> = VecDeque::new();
        while now < s(secs) {
            now += p.before_send(now, 1).max(s(0.001));
            while window.front().is_some_and(|t| now - *t >= s(1.0)) {
                window.pop_front();
            }
            if window.len() as f64 >= limit {
                throttled += 1;
                p.throttled(now, None, 0.5).unwrap();
            } else {
                window.push_back(now);
                sent += 1;
                p.landed(now, 1);
            }
        }
        (throttled, sent, p.rate().unwrap_or(MAX_RATE))
    }

    #[test]
    fn the_rate_converges_under_the_providers_pace() {
        let (throttled, sent, rate) = simulate(20.0, 60.0);
        // Most of the 60 s at more than half the provider's pace, with
        // only a few throttles once the rate is learned.
        assert!(sent > 20 * 60 / 2, "sent {sent}");
        assert!(throttled < 40, "throttled {throttled} times");
        assert!(rate > 5.0 && rate <= 21.0, "rate {rate}");
    }

    #[test]
    fn a_throttle_halves_the_rate_once_per_pause() {
        let mut p = PaceState::new(Some(10.0), Duration::from_secs(3600));
        let w = p.throttled(s(1.0), Some(s(5.0)), 0.0).unwrap();
        assert_eq!(w, s(5.0), "the suggested time");
        assert_eq!(p.rate(), Some(5.0));
        // Other answers of the same burst: the same pause, no further cut.
        assert_eq!(p.throttled(s(2.0), None, 0.0).unwrap(), s(4.0));
        assert_eq!(p.rate(), Some(5.0));
        // Nothing is sent before the pause ends, then at the new rate.
        assert_eq!(p.before_send(s(3.0), 1), s(3.0) + s(0.2));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_resets_when_messages_land() {
        let mut p = PaceState::new(None, Duration::from_secs(3600));
        let first = p.throttled(s(0.0), None, 0.5).unwrap();
        assert_eq!(first, FIRST_BACKOFF);
        let second = p.throttled(s(10.0), None, 0.5).unwrap();
        assert_eq!(second, FIRST_BACKOFF * 2);
        let low = p.throttled(s(20.0), None, 0.0).unwrap();
        assert_eq!(low, FIRST_BACKOFF * 4 * 3 / 4);
        p.landed(s(30.0), 1);
        assert_eq!(p.throttled(s(40.0), None, 0.5).unwrap(), FIRST_BACKOFF);
    }

    #[test]
    fn the_run_gives_up_after_its_longest_wait() {
        let mut p = PaceState::new(None, s(10.0));
        assert!(p.throttled(s(0.0), Some(s(6.0)), 0.0).is_ok());
        let gave_up = p.throttled(s(7.0), Some(s(6.0)), 0.0);
        assert!(gave_up.is_err(), "{gave_up:?}");
    }
}
