//! What a server said before it closed, read after a write to it failed.
//!
//! A server that refuses a pipelined command and closes (Yahoo: `NO [LIMIT]
//! UID Rate limit hit.`, then `* BYE`, then close) leaves the client
//! writing the next commands into a closed socket: the write fails
//! (EPIPE, reset) before the client has read a word of the answer. The
//! answer is still in the socket's receive buffer; [`Session::read_before_close`]
//! reads it, bounded in responses and time, so that the tagged answers of
//! commands in flight reach their callers and the BYE's text becomes the
//! lost connection's reason (a throttle, a quota, a session cap is then
//! classified as one, `upload/slowdown.rs`).

use std::time::{Duration, Instant};

use crate::imap::exec::Session;
use crate::imap::frame::FrameLimits;
use crate::imap::response::{Response, StatusKind};

/// How long the reads after a failed write may take in all, and each.
const READ_FOR: Duration = Duration::from_millis(500);
const EACH_READ: Duration = Duration::from_millis(200);
/// How many responses are read at most.
const MAX_RESPONSES: usize = 1024;

impl Session {
    /// After a failed write: reads what the server already sent until the
    /// stream ends, goes quiet or the bounds are reached. Tagged answers of
    /// commands in flight are kept for [`Session::append_finish`], an
    /// untagged BYE is remembered; everything else is dropped.
    pub(super) fn read_before_close(&mut self) {
        if self.broken.is_some() || self.conn.set_read_timeout(EACH_READ).is_err() {
            return;
        }
        let started = Instant::now();
        for _ in 0..MAX_RESPONSES {
            if started.elapsed() >= READ_FOR {
                return;
            }
            let Ok((r, _)) = self.conn.read_with(&FrameLimits::STANDARD, false) else {
                return;
            };
            let Response::Status(s) = r else { continue };
            match s.tag.clone() {
                None if s.kind == StatusKind::Bye => self.bye = Some(s.text),
                Some(t) if self.in_flight.contains(&t) => {
                    self.answered.insert(t, s);
                }
                _ => {}
            }
        }
    }
}
