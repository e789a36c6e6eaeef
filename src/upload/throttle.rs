//! `--max-rate` and `--max-bytes-rate`: token buckets consulted before each
//! batch is written, shared by every connection (`--jobs`), for providers
//! that limit uploads.
//!
//! The message bucket holds one message (no burst: serial APPENDs are
//! spaced evenly, each waiting for its own token, so a provider counting
//! APPENDs per window never sees more than the rate — `--max-rate 15`
//! once let 44 through in one of Gmail's windows when a second's worth
//! went out at once); the byte bucket holds one second's worth. Both
//! refill at the rate. A batch takes its whole cost at once, which may
//! drive a bucket into debt (a 100-message MULTIAPPEND at 10 messages/s);
//! the sender then waits until the debt is paid, so the average rate holds
//! whatever the batch size. Batches are also cut to about one second's
//! worth ([`Throttle::cap`]), so that the upload is a steady trickle rather
//! than a burst and a long pause. The arithmetic ([`Bucket::take`]) is given the
//! time, so it is tested without clocks; [`Throttle::wait`] supplies the
//! real one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::plan::BatchLimits;

/// One rate limit: `rate` units per second, bursts up to its capacity.
#[derive(Clone, Debug)]
pub struct Bucket {
    rate: f64,
    capacity: f64,
    /// May be negative: a debt to wait off.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    last: Duration,
}

impl Bucket {
    /// A full bucket at time zero; `rate` must be positive.
    pub fn new(rate: f64) -> Bucket {
        let capacity = rate.max(1.0);
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            last: Duration::ZERO,
        }
    }

    /// A bucket without burst (capacity one unit), empty at `now`: the
    /// first unit waits a full interval (the adaptive pace after a pause).
    pub fn paced(rate: f64, now: Duration) -> Bucket {
        Bucket {
            rate,
            capacity: 1.0,
            tokens: 0.0,
            last: now,
        }
    }

    /// The same bucket at another rate from `now` on.
    pub fn set_rate(&mut self, rate: f64, now: Duration) {
        self.take(now, 0.0);
        self.rate = rate;
    }

    /// Takes `cost` units at time `now` (since the bucket's time zero) and
    /// returns how long the caller must wait before sending them.
    pub fn take(&mut self, now: Duration, cost: f64) -> Duration {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.tokens -= cost;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// The limits of one run, shared by its connections.
#[derive(Debug)]
pub struct Throttle {
    started: Instant,
    msgs_per_s: Option<f64>,
    bytes_per_s: Option<u64>,
    /// (messages per second, bytes per second).
    buckets: Mutex<(Option<Bucket>, Option<Bucket>)>,
}

/// How often a wait looks at the stop flag (SIGINT).
const STOP_POLL: Duration = Duration::from_millis(100);

impl Throttle {
    /// `None` when neither limit is set.
    pub fn new(msgs_per_s: Option<f64>, bytes_per_s: Option<u64>) -> Option<Throttle> {
        if msgs_per_s.is_none() && bytes_per_s.is_none() {
            return None;
        }
        Some(Throttle {
            started: Instant::now(),
            msgs_per_s,
            bytes_per_s,
            buckets: Mutex::new((
                msgs_per_s.map(|r| Bucket {
                    capacity: 1.0,
                    tokens: 1.0,
                    ..Bucket::new(r)
                }),
                bytes_per_s.map(|b| Bucket::new(b as f64)),
            )),
        })
    }

    /// `limits` cut to one second's worth of the rates (at least one
    /// message; a larger message still goes alone).
    pub fn cap(&self, limits: BatchLimits) -> BatchLimits {
        BatchLimits {
            max_messages: match self.msgs_per_s {
                Some(r) => limits.max_messages.min(r.ceil() as usize).max(1),
                None => limits.max_messages,
            },
            max_bytes: match self.bytes_per_s {
                Some(b) => limits.max_bytes.min(b),
                None => limits.max_bytes,
            },
        }
    }

    /// The message rate, if limited.
    pub fn msgs_per_s(&self) -> Option<f64> {
        self.msgs_per_s
    }

    /// The wait before sending `msgs` messages of `bytes` bytes at `now`:
    /// the longer of the two buckets' waits (both are charged).
    pub fn reserve(&self, now: Duration, msgs: usize, bytes: u64) -> Duration {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let by_count =
            b.0.as_mut()
                .map_or(Duration::ZERO, |b| b.take(now, msgs as f64));
        let by_bytes =
            b.1.as_mut()
                .map_or(Duration::ZERO, |b| b.take(now, bytes as f64));
        by_count.max(by_bytes)
    }

    /// Reserves and sleeps until `msgs`/`bytes` may be sent; `false` when
    /// `stop` was set meanwhile.
    pub fn wait(&self, msgs: usize, bytes: u64, stop: &AtomicBool) -> bool {
        let until = Instant::now() + self.reserve(self.started.elapsed(), msgs, bytes);
        loop {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(STOP_POLL));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    fn close(a: Duration, b: f64) -> bool {
        (a.as_secs_f64() - b).abs() < 1e-9
    }

    #[test]
    fn a_full_bucket_lets_one_second_through_then_waits() {
        let mut b = Bucket::new(10.0);
        assert_eq!(b.take(s(0.0), 10.0), Duration::ZERO);
        // Empty now: one more costs a tenth of a second.
        assert!(close(b.take(s(0.0), 1.0), 0.1));
    }

    #[test]
    fn a_big_batch_runs_into_debt_and_waits_it_off() {
        let mut b = Bucket::new(10.0);
        // 100 messages at 10/s with 10 in the bucket: 9 s of debt.
        assert!(close(b.take(s(0.0), 100.0), 9.0));
        // Having waited the 9 s, the bucket is at zero: the next 10 cost 1 s.
        assert!(close(b.take(s(9.0), 10.0), 1.0));
    }

    #[test]
    fn refill_is_capped_at_one_second() {
        let mut b = Bucket::new(5.0);
        b.take(s(0.0), 5.0);
        // An hour idle refills 5, not 18,000.
        assert_eq!(b.take(s(3600.0), 5.0), Duration::ZERO);
        assert!(close(b.take(s(3600.0), 5.0), 1.0));
    }

    #[test]
    fn slow_rates_keep_a_burst_of_one() {
        let mut b = Bucket::new(0.5);
        assert_eq!(b.take(s(0.0), 1.0), Duration::ZERO);
        assert!(close(b.take(s(0.0), 1.0), 2.0));
    }

    #[test]
    fn messages_are_spaced_without_a_burst() {
        // --max-rate 15 against a window of one second: one message at
        // once, then one every 1/15 s — never more than 16 in any second.
        let t = Throttle::new(Some(15.0), None).unwrap();
        let mut at = Duration::ZERO;
        let mut times = Vec::new();
        for _ in 0..60 {
            at += t.reserve(at, 1, 0);
            times.push(at);
        }
        for (i, t0) in times.iter().enumerate() {
            let within = times[i..].iter().filter(|t| **t - *t0 < s(1.0)).count();
            assert!(within <= 15, "{within} sent within a second from {t0:?}");
        }
        assert!(close(times[59], 59.0 / 15.0));
    }

    #[test]
    fn the_stricter_limit_decides_and_both_are_charged() {
        let t = Throttle::new(Some(100.0), Some(1000)).unwrap();
        // 10 messages of 3000 bytes: 2 s of byte debt, 0.09 s of message debt.
        assert!(close(t.reserve(s(0.0), 10, 3000), 2.0));
        // 2 s later the byte bucket is at zero, the message bucket full.
        assert!(close(t.reserve(s(2.0), 1, 0), 0.0));
        assert!(close(t.reserve(s(2.0), 0, 500), 0.5));
        assert!(Throttle::new(None, None).is_none());
    }

    #[test]
    fn batches_are_cut_to_one_seconds_worth() {
        let limits = BatchLimits {
            max_messages: 100,
            max_bytes: 16 << 20,
        };
        let capped = |m, b| Throttle::new(m, b).unwrap().cap(limits);
        assert_eq!(capped(Some(2.5), None).max_messages, 3);
        assert_eq!(capped(Some(0.1), None).max_messages, 1);
        assert_eq!(capped(Some(1000.0), None).max_messages, 100);
        assert_eq!(capped(None, Some(5 << 10)).max_bytes, 5 << 10);
        assert_eq!(capped(None, Some(1 << 30)).max_bytes, 16 << 20);
    }

    #[test]
    fn a_stopped_run_does_not_wait() {
        let t = Throttle::new(Some(0.001), None).unwrap();
        let stop = AtomicBool::new(true);
        assert!(!t.wait(1000, 0, &stop));
    }
}
