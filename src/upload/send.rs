//! Keeping the connection and reading answers: idempotent commands retried
//! over a reopened session (`--retries`, with backoff), and one APPEND
//! answer turned into one [`Fate`] per message (a NO splits a MULTIAPPEND
//! in halves, TRYCREATE creates and retries once). Batches in flight are
//! `window.rs`'s; a message whose answer never came is [`Fate::Lost`],
//! looked for by `recovery.rs`, never guessed at.

use crate::imap::{AppendItem, Appended, Code, ImapError};
use crate::journal::{Before, Landed};
use crate::message::Message;

use super::lifecycle::Fate;
use super::link::Reconnected;
use super::server::MailServer;
use super::slowdown::{Slowdown, classify, classify_text};
use super::{Stop, Uploader, append_item, is_trycreate};

impl Uploader<'_> {
    /// Runs an idempotent command (LIST, STATUS, CREATE, SELECT, FETCH),
    /// reconnecting and running it again when the connection is lost, and
    /// after the pause when it is throttled (both `--retries` times; a
    /// break a throttle caused costs no try while `--max-throttle-wait`
    /// lasts). The inner result is the server's answer (NO/BAD) for the
    /// caller.
    pub(super) fn retrying<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn MailServer) -> Result<T, ImapError>,
    ) -> Result<Result<T, ImapError>, Stop> {
        let mut failures = 0;
        let mut throttles = 0;
        loop {
            match f(self.session.server()) {
                Err(e) if e.is_connection_lost() || self.session.is_broken() => {
                    let why = e.to_string();
                    // A throttle that closed the connection (Yahoo: `NO
                    // [LIMIT]` then BYE) is the provider's pace, not a
                    // lost try: waited out (up to --max-throttle-wait).
                    let throttled = match classify_text(&why) {
                        Some(Slowdown::Throttled { wait, .. }) => {
                            self.shared.pace.throttled(wait).is_ok()
                        }
                        _ => false,
                    };
                    if !throttled {
                        failures += 1;
                    }
                    if failures > self.opts.retries {
                        // The server accepts a login but drops the command
                        // every time: stop rather than loop.
                        return Err(Stop::Connection(format!("{e} ({failures} times in a row)")));
                    }
                    if !self.window.is_empty() {
                        // Batches in flight on the lost session: resolving
                        // them reopens it.
                        self.drain()?;
                        if !self.session.is_broken() {
                            continue;
                        }
                    }
                    if throttled {
                        self.wait_out(&why)?;
                    }
                    if self.reconnect(&why)?.throttled && !throttled {
                        // Refused back in as a throttle: the break was
                        // the provider's pace too.
                        failures -= 1;
                    }
                }
                Err(e) => match classify(&e) {
                    // A throttled look or STATUS: waited out and run again,
                    // `--retries` times (a lasting refusal is an answer).
                    Some(Slowdown::Throttled { wait, why })
                        if throttles < self.opts.retries
                            && self.shared.pace.throttled(wait).is_ok() =>
                    {
                        throttles += 1;
                        self.wait_out(&why)?
                    }
                    _ => return Ok(Err(e)),
                },
                r => return Ok(r),
            }
        }
    }

    /// Opens a new session in place of the broken one ([`super::link::Link::reconnect`]).
    pub(super) fn reconnect(&mut self, why: &str) -> Result<Reconnected, Stop> {
        let leave = self.leave_if_refused();
        let done = self.session.reconnect(
            why,
            self.opts.retries,
            &self.opts.stop,
            &self.shared.pace,
            &leave,
        )?;
        let waited = match done.throttled {
            true => " after the server's throttle",
            false => "",
        };
        self.report.warnings.push(format!(
            "connection lost ({why}); reconnected{waited} (attempt {})",
            done.attempt
        ));
        Ok(done)
    }

    /// A soft throttle (`OK [THROTTLED]`: stored, counted and journaled as
    /// usual): the shared rate goes down, said on the progress; no pause,
    /// nothing sent again.
    fn soft_throttled(&mut self, why: &str) {
        if let Some(rate) = self.shared.pace.soft_throttled() {
            self.progress.slowed(rate, why);
        }
    }

    /// One APPEND command's answer as one outcome per message of `msgs`.
    /// RFC 3502 §6.3.11: a MULTIAPPEND is all or nothing, so a refusal is
    /// resolved by splitting it in halves until the refused messages stand
    /// alone — except OVERQUOTA, which no split can cure. RFC 3501 §6.3.11
    /// TRYCREATE: create the mailbox and retry once (`may_create`).
    pub(super) fn resolve_answer(
        &mut self,
        mailbox: &str,
        msgs: &[&Message],
        result: Result<Appended, ImapError>,
        may_create: bool,
    ) -> Vec<Fate> {
        if let Some(why) = self.session.server().take_throttle_notice() {
            // A refusal that is itself a throttle cuts the rate on its own.
            let refused = result.as_ref().err().and_then(classify);
            if !matches!(refused, Some(Slowdown::Throttled { .. })) {
                self.soft_throttled(&why);
            }
        }
        if may_create && is_trycreate(&result) {
            let _ = super::strict::create(self.session.server(), mailbox); // another batch may have created it
            return self.send_atomic(mailbox, msgs, false);
        }
        match result {
            Ok(a) => {
                let uids = (a.uids.len() == msgs.len()).then_some(a.uids);
                (0..msgs.len())
                    .map(|k| {
                        Fate::Landed(Landed {
                            uidvalidity: a.uid_validity,
                            uid: uids.as_ref().map(|u| u[k]),
                        })
                    })
                    .collect()
            }
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                if let Some(Slowdown::Throttled { wait, why }) = classify(&e) {
                    // Not stored: sent again after the pause, never split.
                    return vec![Fate::Throttled { why, wait }; msgs.len()];
                }
                if let [msg] = msgs
                    && let Some(plain) = self.refused_for_keywords(mailbox, msg, &e)
                {
                    return self.send_atomic(mailbox, &[&plain], may_create);
                }
                let (reason, overquota) = refusal(&e);
                if msgs.len() == 1 || overquota {
                    let mut out = vec![Fate::Refused { reason, overquota }];
                    let rest = "not sent: the server is over quota".to_string();
                    out.resize(msgs.len(), Fate::NotSent(rest));
                    return out;
                }
                let (a, b) = msgs.split_at(msgs.len() / 2);
                let mut out = self.send_atomic(mailbox, a, may_create);
                if out.iter().any(|o| {
                    matches!(
                        o,
                        Fate::Refused {
                            overquota: true,
                            ..
                        }
                    )
                }) {
                    let rest = "not sent: the server is over quota".to_string();
                    out.extend(b.iter().map(|_| Fate::NotSent(rest.clone())));
                } else {
                    out.extend(self.send_atomic(mailbox, b, may_create));
                }
                out
            }
            // Refused before anything was written (cannot be encoded).
            Err(e) if !e.is_connection_lost() && !self.session.is_broken() => {
                vec![Fate::NotSent(e.to_string()); msgs.len()]
            }
            Err(e) => vec![Fate::Lost(e.to_string()); msgs.len()],
        }
    }

    /// One APPEND command for `msgs`, waited for (other commands may be in
    /// flight: their answers are kept for them).
    fn send_atomic(&mut self, mailbox: &str, msgs: &[&Message], may_create: bool) -> Vec<Fate> {
        let items: Vec<AppendItem> = msgs.iter().map(|m| append_item(m)).collect();
        let result = self.session.server().append(mailbox, &items);
        self.resolve_answer(mailbox, msgs, result, may_create)
    }

    /// `mailbox`'s STATUS as a snapshot before a unit is sent (unknown
    /// when the server will not say).
    pub(super) fn status_before(&mut self, mailbox: &str) -> Result<Before, Stop> {
        Ok(match self.retrying(|s| s.status(mailbox))? {
            Ok(st) => Before {
                uidvalidity: st.uid_validity,
                uidnext: st.uid_next,
                messages: st.messages,
            },
            Err(_) => Before::default(),
        })
    }
}

/// A refusal with the meaning of its RFC 5530 code; `true` for OVERQUOTA.
fn refusal(e: &ImapError) -> (String, bool) {
    let code = match e {
        ImapError::No { code, .. } => code.as_ref(),
        _ => None,
    };
    let meaning = match code {
        Some(Code::TooBig) => "the server refuses messages this big (TOOBIG): ",
        Some(Code::Limit) => "a server limit was hit, such as the largest message size (LIMIT): ",
        Some(Code::OverQuota) => "the mailbox or account is over quota (OVERQUOTA): ",
        Some(Code::Other(c)) if c.eq_ignore_ascii_case("CANNOT") => {
            "the server cannot store this message (CANNOT): "
        }
        Some(Code::Other(c)) if c.eq_ignore_ascii_case("PARSE") => {
            "the server could not parse this message (PARSE): "
        }
        Some(Code::Other(c)) if c.eq_ignore_ascii_case("NOPERM") => {
            "no permission to add messages to this mailbox (NOPERM): "
        }
        _ => "",
    };
    (
        format!("{meaning}{e}"),
        matches!(code, Some(Code::OverQuota)),
    )
}
