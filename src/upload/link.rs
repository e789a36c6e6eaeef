//! The connection an uploader works through, and its replacement: a
//! [`MailServer`] (a real session or, in unit tests, a scripted one) and
//! the [`Connect`] that opens a new one when it breaks, immediately and
//! then with growing pauses, `--retries` times in all; a refusal that is
//! a throttle (Yahoo's penalty BYE) is a pause of the pace, not an
//! attempt; the run's first session too ([`first_session`]: an earlier
//! run's penalty is waited out). The counters it reports sum over the sessions it had. What a
//! broken connection had in flight is not this module's concern: the
//! batch lifecycle looks for it (`recovery.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::imap::{Capabilities, ImapError, SessionStats};

use super::pace::Pace;
use super::server::MailServer;
use super::slowdown::{Slowdown, classify};
use super::{Connect, Stop};

/// First pause before a reconnection after the immediate one; doubles, up to
/// [`MAX_BACKOFF`] (unit tests' scripted server has nothing to wait for).
const FIRST_BACKOFF: Duration = Duration::from_millis(if cfg!(test) { 1 } else { 250 });
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The current session and how to open the next.
pub(super) struct Link<'a> {
    server: Box<dyn MailServer>,
    connect: Connect<'a>,
    /// The counters of the sessions it replaced: the run's totals sum
    /// over reconnections.
    earlier: SessionStats,
}

/// A reconnection that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Reconnected {
    /// The attempt that succeeded (refusals that were throttles not counted).
    pub attempt: u32,
    /// The server refused a connection as a throttle first (Yahoo's
    /// penalty BYE): the break was the provider's pace, not a fault.
    pub throttled: bool,
}

impl<'a> Link<'a> {
    pub fn new(server: Box<dyn MailServer>, connect: Connect<'a>) -> Link<'a> {
        Link {
            server,
            connect,
            earlier: SessionStats::default(),
        }
    }

    /// The session, to send a command.
    pub fn server(&mut self) -> &mut dyn MailServer {
        self.server.as_mut()
    }

    pub fn capabilities(&self) -> &Capabilities {
        self.server.capabilities()
    }

    pub fn is_broken(&self) -> bool {
        self.server.is_broken()
    }

    /// This lane's counters over every session it had.
    pub fn stats(&self) -> SessionStats {
        let now = self.server.stats();
        SessionStats {
            append_commands: self.earlier.append_commands + now.append_commands,
            bytes_sent: self.earlier.bytes_sent + now.bytes_sent,
            bytes_received: self.earlier.bytes_received + now.bytes_received,
        }
    }

    pub fn logout(self) {
        self.server.logout();
    }

    /// Opens a new session in place of the broken one (lost because of
    /// `why`). Stops at once when
    /// `stop` is set or the server refuses the credentials or TLS.
    /// A throttle's pause (`pace`, e.g. Yahoo's penalty after its
    /// rate-limit BYE) is waited out first; a refusal that is a throttle
    /// (a BYE greeting saying `[UNAVAILABLE]`, "rate limit") is a pause,
    /// not an attempt: it lengthens the pace's pause (backoff, up to
    /// `--max-throttle-wait`, after which it counts as an attempt), and
    /// the provider's quota stops the run. A refusal
    /// by the session cap ends the lane ([`Stop::Fewer`]) when `leave`
    /// says other connections carry on; else it is retried like others.
    pub fn reconnect(
        &mut self,
        why: &str,
        retries: u32,
        stop: &AtomicBool,
        pace: &Pace,
        leave: &dyn Fn(&str) -> bool,
    ) -> Result<Reconnected, Stop> {
        let mut last = why.to_string();
        let mut pause = Duration::ZERO;
        let mut throttled = false;
        let mut attempt = 0;
        while attempt < retries {
            attempt += 1;
            let until = std::time::Instant::now() + pause.max(pace.pause_left());
            while std::time::Instant::now() < until {
                if stop.load(Ordering::SeqCst) {
                    return Err(Stop::Interrupted);
                }
                let left = until.saturating_duration_since(std::time::Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(100)));
            }
            if stop.load(Ordering::SeqCst) {
                return Err(Stop::Interrupted);
            }
            pause = if pause.is_zero() {
                FIRST_BACKOFF
            } else {
                (pause * 2).min(MAX_BACKOFF)
            };
            match (self.connect)() {
                Ok(s) => {
                    self.earlier = self.stats();
                    self.server = s;
                    return Ok(Reconnected { attempt, throttled });
                }
                // A login refused for the server's session limit (Dovecot's
                // NO) is the session cap below, not a wrong password.
                Err(e @ (ImapError::Auth(_) | ImapError::Tls(_) | ImapError::PlaintextRefused))
                    if !matches!(classify(&e), Some(Slowdown::TooManySessions(_))) =>
                {
                    return Err(Stop::Connection(format!("{why}; reconnecting failed: {e}")));
                }
                Err(e) => {
                    match classify(&e) {
                        Some(Slowdown::Quota(q)) => {
                            pace.quota_hit(&q);
                            return Err(Stop::Quota(q));
                        }
                        // Waited out before the next try, which this
                        // one does not use up.
                        Some(Slowdown::Throttled { wait, .. }) if pace.throttled(wait).is_ok() => {
                            throttled = true;
                            attempt -= 1;
                            pause = Duration::ZERO;
                        }
                        Some(Slowdown::TooManySessions(cap)) if leave(&cap) => {
                            return Err(Stop::Fewer(cap));
                        }
                        _ => {}
                    }
                    last = e.to_string()
                }
            }
        }
        Err(Stop::Connection(if retries == 0 {
            format!("{why} (--retries 0: not reconnecting)")
        } else {
            format!("{why}; gave up after {retries} reconnection attempts (last: {last})")
        }))
    }
}

/// Why the run's first session could not be opened ([`first_session`]).
#[derive(Debug)]
pub enum FirstRefusal {
    /// The server's answer, for the caller to judge (a wrong password,
    /// the provider's quota, a connection refused).
    Refused(ImapError),
    /// The server still refused as a throttle after the most the run
    /// waits (`--max-throttle-wait`): `why` says how long it waited.
    GaveUp { last: ImapError, why: String },
    /// SIGINT/SIGTERM while waiting.
    Interrupted,
}

/// The run's first session: a refusal that is a throttle (Yahoo's penalty
/// BYE greeting after an earlier run's rate-limit BYE, a login answered
/// `NO [UNAVAILABLE]`; `slowdown.rs` classifies) is waited out as a
/// throttle in the middle of a run is — the suggested time, else the
/// pace's backoff, `max_wait` in all — and `waiting` is told each pause
/// and its reason; then the session is opened again. Any other refusal
/// is returned at once.
pub fn first_session<T>(
    mut connect: impl FnMut() -> Result<T, ImapError>,
    max_wait: Duration,
    stop: &AtomicBool,
    waiting: &dyn Fn(Duration, &str),
) -> Result<T, FirstRefusal> {
    let pace = Pace::new(None, max_wait);
    loop {
        let e = match connect() {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        let Some(Slowdown::Throttled { wait, why }) = classify(&e) else {
            return Err(FirstRefusal::Refused(e));
        };
        let wait = match pace.throttled(wait) {
            Ok(wait) => wait,
            Err(gave_up) => {
                return Err(FirstRefusal::GaveUp {
                    last: e,
                    why: gave_up.0,
                });
            }
        };
        waiting(wait, &why);
        let until = std::time::Instant::now() + wait;
        while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
            if stop.load(Ordering::SeqCst) {
                return Err(FirstRefusal::Interrupted);
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        if stop.load(Ordering::SeqCst) {
            return Err(FirstRefusal::Interrupted);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Mutex;

    use super::*;

    fn penalty() -> ImapError {
        ImapError::Bye {
            text: "[UNAVAILABLE] Rate limit penalty, try again later.".into(),
        }
    }

    /// Yahoo's penalty BYE greeting at the first connection is waited out
    /// (each pause told with its reason), then the session opens.
    #[test]
    fn a_throttled_first_connection_is_waited_out() {
        let tries = Cell::new(0);
        let waits = Mutex::new(Vec::new());
        let session = first_session(
            || {
                tries.set(tries.get() + 1);
                if tries.get() < 3 {
                    Err(penalty())
                } else {
                    Ok(7)
                }
            },
            Duration::from_secs(60),
            &AtomicBool::new(false),
            &|wait, why| waits.lock().unwrap().push((wait, why.to_string())),
        );
        assert_eq!(session.unwrap(), 7);
        assert_eq!(tries.get(), 3);
        let waits = waits.into_inner().unwrap();
        assert_eq!(waits.len(), 2);
        assert!(
            waits
                .iter()
                .all(|(_, why)| why.contains("Rate limit penalty"))
        );
    }

    /// A wrong password is no throttle: returned at once, no pause; a
    /// throttle past `--max-throttle-wait` gives up naming the wait.
    #[test]
    fn other_refusals_and_a_throttle_past_the_most_wait_are_returned() {
        let tries = Cell::new(0);
        let wrong = first_session(
            || -> Result<(), _> {
                tries.set(tries.get() + 1);
                Err(ImapError::Auth(
                    "[AUTHENTICATIONFAILED] Authentication failed.".into(),
                ))
            },
            Duration::from_secs(60),
            &AtomicBool::new(false),
            &|_, _| panic!("no pause for a wrong password"),
        );
        assert!(matches!(
            wrong,
            Err(FirstRefusal::Refused(ImapError::Auth(_)))
        ));
        assert_eq!(tries.get(), 1);

        let gave_up = first_session(
            || -> Result<(), _> { Err(penalty()) },
            Duration::ZERO,
            &AtomicBool::new(false),
            &|_, _| {},
        );
        match gave_up {
            Err(FirstRefusal::GaveUp { last, why }) => {
                assert!(matches!(last, ImapError::Bye { .. }));
                assert!(why.contains("waiting"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
