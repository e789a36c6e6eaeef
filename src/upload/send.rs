//! Keeping the connection and reading answers: idempotent commands retried
//! over a reopened session (`--retries`, with backoff), one APPEND answer
//! turned into one outcome per message (a NO splits a MULTIAPPEND in
//! halves, TRYCREATE creates and retries once), the journal and report
//! entries of a message, and batches left open by an earlier run. Batches
//! in flight are `window.rs`'s; a message whose answer never came is not
//! guessed at but looked for ([`super::resolve::find_landed`]).

use std::collections::HashSet;
use std::time::Duration;

use crate::fingerprint::Fingerprint;
use crate::imap::{AppendItem, Appended, Code, ImapError, Session};
use crate::journal::{Before, Landed};
use crate::message::Message;
use crate::report::FailureClass;

use super::resolve::find_landed;
use super::{Stop, Uploader, append_item, is_trycreate};

/// What happened to one message of a batch.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    Landed(Landed),
    /// NO/BAD for this message alone; `overquota`: RFC 5530 OVERQUOTA.
    Refused {
        reason: String,
        overquota: bool,
    },
    /// No answer came: the connection broke or went out of step.
    Unknown(String),
    /// Not sent because the run is stopping (over quota).
    NotSent(String),
}

/// First pause before a reconnection after the immediate one; doubles, up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Uploader<'_> {
    /// Runs an idempotent command (LIST, STATUS, CREATE, SELECT, FETCH),
    /// reconnecting and running it again when the connection is lost. The
    /// inner result is the server's answer (NO/BAD) for the caller.
    pub(super) fn retrying<T>(
        &mut self,
        mut f: impl FnMut(&mut Session) -> Result<T, ImapError>,
    ) -> Result<Result<T, ImapError>, Stop> {
        let mut failures = 0;
        loop {
            match f(&mut self.session) {
                Err(e) if is_lost(&e) || self.session.is_broken() => {
                    failures += 1;
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
                    self.reconnect(&e.to_string())?
                }
                r => return Ok(r),
            }
        }
    }

    /// Opens a new session in place of the broken one: immediately, then
    /// with growing pauses, `--retries` times in all.
    pub(super) fn reconnect(&mut self, why: &str) -> Result<(), Stop> {
        let mut last = why.to_string();
        let mut pause = Duration::ZERO;
        for attempt in 1..=self.opts.retries {
            self.check_stop()?;
            std::thread::sleep(pause);
            pause = if pause.is_zero() {
                FIRST_BACKOFF
            } else {
                (pause * 2).min(MAX_BACKOFF)
            };
            match (self.connect)() {
                Ok(s) => {
                    self.report.warnings.push(format!(
                        "connection lost ({why}); reconnected (attempt {attempt})"
                    ));
                    let old = std::mem::replace(&mut self.session, s);
                    drop(old);
                    return Ok(());
                }
                Err(e @ (ImapError::Auth(_) | ImapError::Tls(_) | ImapError::PlaintextRefused)) => {
                    return Err(Stop::Connection(format!("{why}; reconnecting failed: {e}")));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(Stop::Connection(if self.opts.retries == 0 {
            format!("{why} (--retries 0: not reconnecting)")
        } else {
            format!(
                "{why}; gave up after {} reconnection attempts (last: {last})",
                self.opts.retries
            )
        }))
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
    ) -> Vec<Outcome> {
        if may_create && is_trycreate(&result) {
            let _ = self.session.create(mailbox); // another batch may have created it
            return self.send_atomic(mailbox, msgs, false);
        }
        match result {
            Ok(a) => {
                let uids = (a.uids.len() == msgs.len()).then_some(a.uids);
                (0..msgs.len())
                    .map(|k| {
                        Outcome::Landed(Landed {
                            uidvalidity: a.uid_validity,
                            uid: uids.as_ref().map(|u| u[k]),
                        })
                    })
                    .collect()
            }
            Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                let (reason, overquota) = refusal(&e);
                if msgs.len() == 1 || overquota {
                    let mut out = vec![Outcome::Refused { reason, overquota }];
                    let rest = "not sent: the server is over quota".to_string();
                    out.resize(msgs.len(), Outcome::NotSent(rest));
                    return out;
                }
                let (a, b) = msgs.split_at(msgs.len() / 2);
                let mut out = self.send_atomic(mailbox, a, may_create);
                if out.iter().any(|o| {
                    matches!(
                        o,
                        Outcome::Refused {
                            overquota: true,
                            ..
                        }
                    )
                }) {
                    let rest = "not sent: the server is over quota".to_string();
                    out.extend(b.iter().map(|_| Outcome::NotSent(rest.clone())));
                } else {
                    out.extend(self.send_atomic(mailbox, b, may_create));
                }
                out
            }
            // Refused before anything was written (cannot be encoded).
            Err(e) if !is_lost(&e) && !self.session.is_broken() => {
                vec![Outcome::NotSent(e.to_string()); msgs.len()]
            }
            Err(e) => vec![Outcome::Unknown(e.to_string()); msgs.len()],
        }
    }

    /// One APPEND command for `msgs`, waited for (other commands may be in
    /// flight: their answers are kept for them).
    fn send_atomic(&mut self, mailbox: &str, msgs: &[&Message], may_create: bool) -> Vec<Outcome> {
        let items: Vec<AppendItem> = msgs.iter().map(|m| append_item(m)).collect();
        let result = self.session.append(mailbox, &items);
        self.resolve_answer(mailbox, msgs, result, may_create)
    }

    pub(super) fn landed(&mut self, mailbox: &str, m: &Message, fp: &Fingerprint, at: Landed) {
        if let Some(mut j) = self.journal() {
            j.landed(mailbox, fp, Some(m.bytes.len() as u64), at);
        }
        self.report.uploaded(mailbox, m.bytes.len() as u64);
        self.done += 1;
        self.progress.advance(m.bytes.len() as u64);
        self.progress.set_status(self.done, mailbox);
        self.landed_for_copies(mailbox, m, fp, at);
    }

    pub(super) fn fail_msg(
        &mut self,
        mailbox: &str,
        m: &Message,
        class: FailureClass,
        reason: String,
    ) {
        self.failed_for_copies(mailbox, m, class, &reason);
        let origin = m.origin.to_string();
        self.fail(mailbox, origin, Some(&m.bytes), class, reason);
        self.progress.advance(m.bytes.len() as u64);
    }

    /// Batches of unknown fate left in the journal by an earlier run (killed,
    /// or its connection lost for good): look at the server and journal what
    /// landed, before anything new is sent.
    pub(super) fn resolve_pending(&mut self) -> Result<(), Stop> {
        let Some(pending) = self.journal().map(|j| j.pending()) else {
            return Ok(());
        };
        for p in pending {
            let mut found = Vec::new();
            if self.existing.contains(&p.mailbox) {
                let exclude: HashSet<u32> = match self.journal() {
                    Some(j) => j.uids(&p.mailbox, p.uidvalidity),
                    None => HashSet::new(),
                };
                let wanted: Vec<_> = p.fps.iter().map(|fp| (*fp, None, 0)).collect();
                let before = Before {
                    uidvalidity: p.uidvalidity,
                    uidnext: p.uidnext,
                    messages: p.messages,
                };
                match self.retrying(|s| find_landed(s, &p.mailbox, before, &wanted, &exclude))? {
                    Ok(f) => found = f,
                    Err(e) => {
                        self.report.warnings.push(format!(
                            "{}: cannot check a batch left open by an earlier run ({e}); its messages may be sent again",
                            p.mailbox
                        ));
                    }
                }
            }
            let landed = found.iter().flatten().count();
            if let Some(mut j) = self.journal() {
                for (fp, at) in p.fps.iter().zip(&found) {
                    if let Some(at) = at {
                        j.landed(&p.mailbox, fp, None, *at);
                    }
                }
                j.end(p.batch).map_err(Stop::Journal)?;
            }
            self.report.warnings.push(format!(
                "{}: an earlier run stopped during a batch of {} messages; {landed} of them had landed and are journaled, the rest will be sent",
                p.mailbox,
                p.fps.len()
            ));
        }
        Ok(())
    }
}

/// The connection is gone or out of step: a command's fate is unknown.
fn is_lost(e: &ImapError) -> bool {
    e.is_connection_lost()
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
