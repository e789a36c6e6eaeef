//! The adaptive pace (`pace.rs`) on a simulated clock against simulated
//! providers: a cap of APPENDs per sliding second (as the emulator in
//! tests/util/provider_proxy.rs and the providers count), answers read
//! late (a window of batches in flight), Microsoft 365's suggested
//! backoff during which everything is refused, Yahoo's penalty after each
//! refusal; and the arithmetic of one event.

use std::collections::VecDeque;
use std::time::Duration;

use super::pace::PaceState;

fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// How a simulated provider throttles.
#[derive(Clone, Copy)]
enum Style {
    /// Microsoft 365: `Suggested Backoff Time`, all refused until it ends.
    Backoff(Duration),
    /// Yahoo: refused, then a penalty, no time suggested.
    Penalty(Duration),
}

/// A provider accepting `cap` APPENDs in any second.
struct Provider {
    cap: usize,
    style: Style,
    accepted: VecDeque<Duration>,
    until: Duration,
    throttles: usize,
}

impl Provider {
    fn new(cap: usize, style: Style) -> Provider {
        Provider {
            cap,
            style,
            accepted: VecDeque::new(),
            until: Duration::ZERO,
            throttles: 0,
        }
    }

    /// Whether an APPEND arriving at `now` is accepted.
    fn append(&mut self, now: Duration) -> bool {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > s(1.0))
        {
            self.accepted.pop_front();
        }
        let penalized = now < self.until;
        if penalized || self.accepted.len() >= self.cap {
            self.throttles += 1;
            match self.style {
                Style::Backoff(b) if !penalized => self.until = now + b,
                Style::Penalty(p) => self.until = now + p,
                Style::Backoff(_) => {}
            }
            return false;
        }
        self.accepted.push_back(now);
        true
    }
}

/// What one simulated upload took.
#[derive(Debug)]
struct Run {
    secs: f64,
    throttles: usize,
    rate: f64,
}

/// `n` messages sent as fast as the pace lets them (none before the
/// pause after a throttle ends), each answered `lag` after it was written
/// and the answers read in order, as the window reads them (at most
/// [`IN_FLIGHT`] unanswered); refused ones are sent again.
fn upload(n: usize, mut provider: Provider, lag: Duration) -> Run {
    let mut p = PaceState::new(None, Duration::from_secs(3600)).with_real_backoff();
    let mut in_flight: VecDeque<(Duration, bool)> = VecDeque::new();
    let (mut now, mut to_send, mut landed) = (Duration::ZERO, n, 0);
    while landed < n {
        let next = match to_send {
            0 => None,
            _ if in_flight.len() >= IN_FLIGHT => None,
            _ => Some(now + p.before_send(now, 1)),
        };
        // The answers read before that send (all of them when none is left).
        while let Some(&(sent, ok)) = in_flight.front() {
            let at = sent + lag;
            if next.is_some_and(|t| at > t) {
                break;
            }
            in_flight.pop_front();
            now = now.max(at);
            if ok {
                p.landed(now, sent, 1);
                landed += 1;
                continue;
            }
            to_send += 1;
            let suggested = match provider.style {
                Style::Backoff(b) => Some(b),
                Style::Penalty(_) => None,
            };
            p.throttled(now, Some(sent), suggested, 0.5).unwrap();
        }
        if let Some(t) = next {
            now = now.max(t) + s(0.001);
            let ok = provider.append(now);
            in_flight.push_back((now, ok));
            to_send -= 1;
        }
    }
    Run {
        secs: now.as_secs_f64(),
        throttles: provider.throttles,
        rate: p.rate().unwrap_or(f64::INFINITY),
    }
}

/// Serial APPEND's window: 3 batches of at most 100 (`window.rs`).
const IN_FLIGHT: usize = 300;
const M365: Style = Style::Backoff(Duration::from_secs(5));
const YAHOO: Style = Style::Penalty(Duration::from_secs(1));

#[test]
fn the_rate_converges_to_the_providers_pace() {
    for (cap, style, name) in [(30, M365, "Microsoft 365"), (25, YAHOO, "Yahoo")] {
        for lag in [s(0.01), s(1.0), s(2.0)] {
            let n = 1000;
            let run = upload(n, Provider::new(cap, style), lag);
            let ideal = n as f64 / cap as f64;
            // Within 1.3 times the time the cap allows, settled under it.
            assert!(
                run.secs <= 1.3 * ideal,
                "{name}, answers {lag:?} late: {run:?}, ideal {ideal:.1} s"
            );
            assert!(run.rate <= cap as f64, "{name}, {lag:?}: {run:?}");
            assert!(run.throttles > 0, "never throttled: {run:?}");
        }
    }
}

#[test]
fn answers_to_requests_written_before_the_cut_are_the_same_event() {
    let mut p = PaceState::new(Some(40.0), Duration::from_secs(3600));
    p.throttled(s(10.0), Some(s(9.5)), Some(s(2.0)), 0.0)
        .unwrap();
    let cut = p.rate().unwrap();
    assert!(cut < 40.0, "{cut}");
    // Written before the cut, answered after the pause: no second cut, no pause.
    assert_eq!(
        p.throttled(s(13.0), Some(s(9.9)), Some(s(2.0)), 0.0),
        Ok(Duration::ZERO)
    );
    assert_eq!((p.rate(), p.throttles), (Some(cut), 1));
    // Written after the pause, once messages landed again: a new event.
    p.landed(s(12.5), s(12.4), 10);
    let before = p.rate().unwrap();
    p.throttled(s(14.0), Some(s(12.9)), Some(s(2.0)), 0.0)
        .unwrap();
    assert!(p.rate().unwrap() < before, "{:?} {before}", p.rate());
    assert_eq!(p.throttles, 2);
    // Refused at once after that pause, nothing landed: the provider's
    // pause is longer; a pause again, the rate kept.
    let kept = p.rate();
    p.throttled(s(16.1), Some(s(16.05)), None, 0.0).unwrap();
    assert_eq!((p.rate(), p.throttles), (kept, 3));
    // The summary counts every answer, and the pauses they made.
    let line = p.summary().unwrap();
    assert!(
        line.contains("throttled the upload 4 times in 3 pauses"),
        "{line}"
    );
    p.soft_throttled(s(30.0));
    p.soft_throttled(s(30.1));
    let line = p.summary().unwrap();
    assert!(line.contains("asked to slow down 2 times"), "{line}");
}

#[test]
fn a_throttle_resumes_just_under_the_pace_that_landed() {
    let mut p = PaceState::new(Some(100.0), Duration::from_secs(3600));
    // 100/s sent for 3 s, 25/s of it landed (the rest refused, say).
    for i in 0..75 {
        p.landed(s(i as f64 / 25.0), s(i as f64 / 25.0), 1);
    }
    let before = p.rate().unwrap();
    p.throttled(s(3.0), Some(s(2.9)), Some(s(1.0)), 0.0)
        .unwrap();
    let rate = p.rate().unwrap();
    assert!(before >= 100.0, "{before}");
    assert!(rate > 22.0 && rate < 25.0, "{rate}");
}

#[test]
fn a_throttle_halves_an_unmeasured_rate_once_per_pause() {
    let mut p = PaceState::new(Some(10.0), Duration::from_secs(3600));
    let w = p
        .throttled(s(1.0), Some(s(0.9)), Some(s(5.0)), 0.0)
        .unwrap();
    assert_eq!(w, s(5.0), "the suggested time");
    assert_eq!(p.rate(), Some(5.0));
    // Other answers of the same burst: the same pause, no further cut.
    assert_eq!(p.throttled(s(2.0), None, None, 0.0).unwrap(), s(4.0));
    assert_eq!(p.rate(), Some(5.0));
    // Nothing is sent before the pause ends, then at the new rate.
    assert_eq!(p.before_send(s(3.0), 1), s(3.0) + s(0.2));
}

#[test]
fn a_soft_throttle_halves_the_rate_without_a_pause() {
    let mut p = PaceState::new(Some(10.0), Duration::from_secs(3600));
    assert_eq!(p.soft_throttled(s(1.0)), Some(5.0));
    // Other soft throttles of the same second: the same event.
    assert_eq!(p.soft_throttled(s(1.5)), None);
    assert_eq!(p.rate(), Some(5.0));
    // No pause and no backoff: the next message waits only its turn
    // at the new rate.
    assert_eq!(p.before_send(s(2.0), 1), Duration::ZERO);
    assert_eq!(p.before_send(s(2.0), 1), s(0.2));
    assert_eq!((p.throttles, p.waited, p.soft), (0, Duration::ZERO, 1));
    assert_eq!(p.soft_throttled(s(2.5)), Some(2.5));
    // Before any rate was learned: half of what went out in the last second.
    let mut q = PaceState::new(None, Duration::from_secs(3600));
    for _ in 0..40 {
        q.before_send(s(0.5), 1);
    }
    assert_eq!(q.soft_throttled(s(0.9)), Some(20.0));
}

#[test]
fn a_throttle_of_no_append_only_pauses() {
    let mut p = PaceState::new(Some(10.0), Duration::from_secs(3600));
    assert_eq!(p.throttled(s(1.0), None, Some(s(2.0)), 0.0), Ok(s(2.0)));
    assert_eq!((p.rate(), p.throttles), (Some(10.0), 1));
    // Within the pause: the same pause.
    assert_eq!(p.throttled(s(2.0), None, None, 0.0), Ok(s(1.0)));
    assert_eq!(p.before_send(s(2.0), 1), s(1.1));
}

#[test]
fn backoff_doubles_with_jitter_and_resets_when_messages_land() {
    const FIRST_BACKOFF: Duration = Duration::from_secs(1);
    let mut p = PaceState::new(None, Duration::from_secs(3600)).with_real_backoff();
    let first = p.throttled(s(0.0), None, None, 0.5).unwrap();
    assert_eq!(first, FIRST_BACKOFF);
    let second = p.throttled(s(10.0), None, None, 0.5).unwrap();
    assert_eq!(second, FIRST_BACKOFF * 2);
    let low = p.throttled(s(20.0), None, None, 0.0).unwrap();
    assert_eq!(low, FIRST_BACKOFF * 4 * 3 / 4);
    p.landed(s(30.0), s(29.0), 1);
    assert_eq!(
        p.throttled(s(40.0), None, None, 0.5).unwrap(),
        FIRST_BACKOFF
    );
}

#[test]
fn the_run_gives_up_after_its_longest_wait() {
    let mut p = PaceState::new(None, s(10.0));
    assert!(p.throttled(s(0.0), None, Some(s(6.0)), 0.0).is_ok());
    let gave_up = p.throttled(s(7.0), None, Some(s(6.0)), 0.0);
    assert!(gave_up.is_err(), "{gave_up:?}");
}
