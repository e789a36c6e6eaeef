//! Sending one batch, and keeping the connection: journal `Begin` (with the
//! mailbox's STATUS), the APPEND command(s), one result per message, journal
//! `End`. A message whose result never came (connection lost, BYE, timeout,
//! an answer we cannot read) is not guessed at: the session is reopened
//! (`--retries`, with backoff) and the mailbox is looked at
//! ([`super::resolve::find_landed`]); only what is missing is sent again.

use std::collections::HashSet;
use std::time::Duration;

use crate::fingerprint::{Fingerprint, message_id};
use crate::imap::{AppendItem, Code, ImapError, Session};
use crate::journal::{Before, Landed};
use crate::message::Message;
use crate::report::FailureClass;

use super::resolve::find_landed;
use super::{Stop, UploadMode, Uploader, append_item, is_trycreate};

/// What happened to one message of a batch.
#[derive(Clone, Debug)]
enum Outcome {
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
                    self.reconnect(&e.to_string())?
                }
                r => return Ok(r),
            }
        }
    }

    /// Opens a new session in place of the broken one: immediately, then
    /// with growing pauses, `--retries` times in all.
    fn reconnect(&mut self, why: &str) -> Result<(), Stop> {
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

    /// Sends one batch for `mailbox` until every message has landed, been
    /// refused, or the run stops.
    pub(super) fn send(&mut self, mailbox: &str, batch: &[Message]) -> Result<(), Stop> {
        let fps: Vec<Fingerprint> = batch.iter().map(|m| Fingerprint::of(&m.bytes)).collect();
        let mut todo: Vec<usize> = (0..batch.len()).collect();
        let mut rounds = 0;
        while !todo.is_empty() {
            self.check_stop()?;
            rounds += 1;
            if rounds > self.opts.retries + 1 {
                for &i in &todo {
                    let reason = format!(
                        "the connection broke {} times while sending this batch; not sent",
                        rounds - 1
                    );
                    self.fail_msg(mailbox, &batch[i], FailureClass::Unknown, reason);
                }
                return Ok(());
            }
            let before = match self.retrying(|s| s.status(mailbox))? {
                Ok(st) => Before {
                    uidvalidity: st.uid_validity,
                    uidnext: st.uid_next,
                    messages: st.messages,
                },
                Err(_) => Before::default(),
            };
            let todo_fps: Vec<Fingerprint> = todo.iter().map(|&i| fps[i]).collect();
            let batch_id = match self.journal.as_deref_mut() {
                Some(j) => Some(j.begin(mailbox, before, &todo_fps).map_err(Stop::Journal)?),
                None => None,
            };
            let msgs: Vec<&Message> = todo.iter().map(|&i| &batch[i]).collect();
            let outcomes = match self.mode {
                UploadMode::MultiAppend(_) => self.send_atomic(mailbox, &msgs),
                UploadMode::Serial(_) => self.send_serial(mailbox, &msgs),
            };
            let mut unknown = Vec::new();
            let mut overquota = None;
            let mut confirmed = HashSet::new();
            for (k, outcome) in outcomes.into_iter().enumerate() {
                let i = todo[k];
                match outcome {
                    Outcome::Landed(at) => {
                        confirmed.extend(at.uid);
                        self.landed(mailbox, &batch[i], &fps[i], at);
                    }
                    Outcome::Refused {
                        reason,
                        overquota: oq,
                    } => {
                        if oq {
                            overquota.get_or_insert(reason.clone());
                        }
                        self.fail_msg(mailbox, &batch[i], FailureClass::Refused, reason);
                    }
                    Outcome::NotSent(reason) => {
                        self.fail_msg(mailbox, &batch[i], FailureClass::NotSent, reason)
                    }
                    Outcome::Unknown(why) => unknown.push((i, why)),
                }
            }
            todo.clear();
            if let Some((_, why)) = unknown.first() {
                let why = why.clone();
                if let Err(stop) = self.reconnect(&why) {
                    for (i, _) in &unknown {
                        let reason = format!(
                            "{why} before the server answered; the next run will look whether it landed"
                        );
                        self.fail_msg(mailbox, &batch[*i], FailureClass::Unknown, reason);
                    }
                    return Err(stop); // `Begin` stays open: the next run resolves it
                }
                let wanted: Vec<_> = unknown
                    .iter()
                    .map(|(i, _)| (fps[*i], message_id(&batch[*i].bytes), batch[*i].bytes.len()))
                    .collect();
                let found = {
                    match self.retrying(|s| find_landed(s, mailbox, before, &wanted, &confirmed))? {
                        Ok(found) => found,
                        Err(e) => {
                            // Cannot look: sending again could double it.
                            for (i, _) in &unknown {
                                let reason =
                                    format!("{why}; could not check whether it landed: {e}");
                                self.fail_msg(mailbox, &batch[*i], FailureClass::Unknown, reason);
                            }
                            Vec::new()
                        }
                    }
                };
                for ((i, _), at) in unknown.iter().zip(found) {
                    match at {
                        Some(at) => self.landed(mailbox, &batch[*i], &fps[*i], at),
                        None => todo.push(*i),
                    }
                }
            }
            if let (Some(j), Some(id)) = (self.journal.as_deref_mut(), batch_id) {
                j.end(id).map_err(Stop::Journal)?;
            }
            if let Some(why) = overquota {
                for &i in &todo {
                    let reason = "not sent: the server is over quota".to_string();
                    self.fail_msg(mailbox, &batch[i], FailureClass::NotSent, reason);
                }
                return Err(Stop::OverQuota(why));
            }
        }
        Ok(())
    }

    /// One APPEND command for the batch (MULTIAPPEND when more than one
    /// message). RFC 3502 §6.3.11: all or nothing, so a refusal is resolved
    /// by splitting the batch in halves until the refused messages stand
    /// alone — except OVERQUOTA, which no split can cure.
    fn send_atomic(&mut self, mailbox: &str, batch: &[&Message]) -> Vec<Outcome> {
        let items: Vec<AppendItem> = batch.iter().map(|m| append_item(m)).collect();
        let mut result = self.session.append(mailbox, &items);
        if is_trycreate(&result) && self.session.create(mailbox).is_ok() {
            // RFC 3501 §6.3.11: TRYCREATE — create the mailbox and retry once.
            result = self.session.append(mailbox, &items);
        }
        match result {
            Ok(a) => {
                let uids = (a.uids.len() == batch.len()).then_some(a.uids);
                (0..batch.len())
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
                if batch.len() == 1 || overquota {
                    let mut out = vec![Outcome::Refused { reason, overquota }];
                    let rest = "not sent: the server is over quota".to_string();
                    out.resize(batch.len(), Outcome::NotSent(rest));
                    return out;
                }
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut out = self.send_atomic(mailbox, a);
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
                    out.extend(self.send_atomic(mailbox, b));
                }
                out
            }
            Err(e) => vec![Outcome::Unknown(e.to_string()); batch.len()],
        }
    }

    /// One APPEND per message, pipelined by the session when literals allow.
    fn send_serial(&mut self, mailbox: &str, batch: &[&Message]) -> Vec<Outcome> {
        let items: Vec<AppendItem> = batch.iter().map(|m| append_item(m)).collect();
        let mut results = self.session.append_pipelined(mailbox, &items);
        if results.iter().any(is_trycreate) && self.session.create(mailbox).is_ok() {
            let retry: Vec<usize> = (0..results.len())
                .filter(|&i| is_trycreate(&results[i]))
                .collect();
            let again: Vec<AppendItem> = retry.iter().map(|&i| items[i]).collect();
            for (i, r) in retry
                .into_iter()
                .zip(self.session.append_pipelined(mailbox, &again))
            {
                results[i] = r;
            }
        }
        results
            .into_iter()
            .map(|r| match r {
                Ok(a) => Outcome::Landed(Landed {
                    uidvalidity: a.uid_validity,
                    uid: a.uids.first().copied(),
                }),
                Err(e @ (ImapError::No { .. } | ImapError::Bad { .. })) => {
                    let (reason, overquota) = refusal(&e);
                    Outcome::Refused { reason, overquota }
                }
                Err(e) => Outcome::Unknown(e.to_string()),
            })
            .collect()
    }

    fn landed(&mut self, mailbox: &str, m: &Message, fp: &Fingerprint, at: Landed) {
        if let Some(j) = self.journal.as_deref_mut() {
            j.landed(mailbox, fp, at);
        }
        self.report.uploaded(mailbox, m.bytes.len() as u64);
        self.done += 1;
        self.progress.advance(m.bytes.len() as u64);
        self.progress.set_status(self.done, mailbox);
    }

    fn fail_msg(&mut self, mailbox: &str, m: &Message, class: FailureClass, reason: String) {
        let origin = m.origin.to_string();
        self.fail(mailbox, origin, Some(&m.bytes), class, reason);
        self.progress.advance(m.bytes.len() as u64);
    }

    /// Batches of unknown fate left in the journal by an earlier run (killed,
    /// or its connection lost for good): look at the server and journal what
    /// landed, before anything new is sent.
    pub(super) fn resolve_pending(&mut self) -> Result<(), Stop> {
        let Some(pending) = self.journal.as_deref().map(|j| j.pending()) else {
            return Ok(());
        };
        for p in pending {
            let mut found = Vec::new();
            if self.existing.contains(&p.mailbox) {
                let exclude: HashSet<u32> = match self.journal.as_deref() {
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
            if let Some(j) = self.journal.as_deref_mut() {
                for (fp, at) in p.fps.iter().zip(&found) {
                    if let Some(at) = at {
                        j.landed(&p.mailbox, fp, *at);
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
    matches!(
        e,
        ImapError::ConnectionLost(_) | ImapError::Bye { .. } | ImapError::Protocol(_)
    )
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
