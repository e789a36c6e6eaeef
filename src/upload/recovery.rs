//! The recovery of units whose answers were lost, written once for every
//! kind of unit ([`super::lifecycle`]): APPEND batches in flight when the
//! connection broke, a UID COPY without answer, batches an earlier run left
//! open in the journal. Reconnect if the session is broken, look at each
//! mailbox once from the earliest snapshot of its lost units
//! ([`find_landed`]: sizes and Message-IDs, bodies hashed only for ties),
//! settle every unit, and send again what is missing, in order.
//!
//! Nothing is settled without evidence: when reconnecting fails, or the
//! look fails (STATUS/SELECT/FETCH answered NO, `--retries 0`), the lost
//! messages become of unknown fate and their units stay open in the
//! journal for the next run; they are never sent again blindly.

use std::collections::HashSet;

use crate::fingerprint::Fingerprint;
use crate::journal::Before;
use crate::report::{FailureClass, Report};

use super::books::Books;
use super::lifecycle::{Fate, Stage, Unit, Work};
use super::resolve::{Look, find_landed};
use super::slowdown::{Slowdown, classify_text};
use super::{Shared, Stop, Uploader, lock};

impl<'a> Uploader<'a> {
    /// The journal, report and progress, for one settle step.
    pub(super) fn books(&mut self) -> Books<'_, 'a> {
        Books {
            shared: self.shared,
            report: &mut self.report,
            progress: &self.progress,
            done: &mut self.done,
            copies: &mut self.copies,
            confirmed: &mut self.window.confirmed,
        }
    }

    /// Settles `unit`; `Err(OverQuota)` when the server said so.
    pub(super) fn settle(&mut self, unit: Unit) -> Result<super::lifecycle::Settled, Stop> {
        unit.settle(&mut self.books()).map_err(Stop::Journal)
    }

    /// `units` (oldest first), some of whose messages' answers were lost:
    /// reconnect if need be, look, settle them all, send again what is
    /// missing.
    pub(super) fn recover(&mut self, units: Vec<Unit>) -> Result<(), Stop> {
        self.recover_written(units, None)
    }

    /// [`Uploader::recover`] for units the window wrote, the first of them
    /// at `written`: a throttle among them (or the break one caused) is
    /// the pace's event of that time (`pace.rs`); of an unknown time, it
    /// only pauses.
    pub(super) fn recover_written(
        &mut self,
        mut units: Vec<Unit>,
        written: Option<std::time::Instant>,
    ) -> Result<(), Stop> {
        let throttled_now = |pace: &super::pace::Pace, wait| match written {
            Some(w) => pace.throttled_since(w, wait),
            None => pace.throttled(wait),
        };
        // What was answered before the break counts for the pace's measure
        // before the throttle that broke it (the rest once looked for).
        let answered: Vec<usize> = units.iter().map(Unit::answered_landed).collect();
        self.shared.pace.landed(answered.iter().sum(), written);
        let why = units
            .iter()
            .find_map(|u| u.lost_reason().map(str::to_string))
            .unwrap_or_default();
        let mut stop = None;
        // A throttle that closed the connection (Yahoo: `NO [LIMIT]` then
        // BYE) costs no retry; the provider's quota stops the run at once,
        // without reconnecting into the locked account.
        let mut throttled = false;
        match classify_text(&why) {
            Some(Slowdown::Quota(q)) => {
                self.shared.pace.quota_hit(&q);
                for u in &mut units {
                    u.defer(&q);
                }
                stop = Some(Stop::Quota(q));
            }
            Some(Slowdown::Throttled { wait, .. }) => {
                throttled = throttled_now(&self.shared.pace, wait).is_ok();
            }
            _ => {}
        }
        if stop.is_none() && units.iter().any(|u| u.stage() == Stage::Lost) {
            let reconnected = if self.session.is_broken() {
                // The throttle's pause is waited out (and said) first.
                let paused = if throttled {
                    self.wait_out(&why)
                } else {
                    Ok(())
                };
                paused.and_then(|()| self.reconnect(&why)).map(|r| {
                    // Refused back in as a throttle (Yahoo's penalty BYE
                    // after a break whose answer never came): the break
                    // was the provider's pace, not a lost try.
                    throttled |= r.throttled;
                })
            } else {
                Ok(())
            };
            match reconnected.and_then(|()| self.look_for_lost(&mut units)) {
                Ok(()) => {}
                Err(Stop::Fewer(why)) => {
                    // The server will not readmit this lane: another one
                    // looks at these units before anything of them is
                    // sent again (`handover.rs`).
                    self.left.lost.extend(units);
                    return Err(Stop::Fewer(why));
                }
                Err(Stop::Quota(q)) => {
                    // Refused back in by the quota: the next run looks.
                    for u in &mut units {
                        u.defer(&q);
                    }
                    stop = Some(Stop::Quota(q));
                }
                Err(s) => {
                    let reason = match &s {
                        Stop::Connection(w) => format!("could not look: {w}"),
                        _ => "the run stopped before it could look".to_string(),
                    };
                    for u in &mut units {
                        u.unknown(&reason);
                    }
                    stop = Some(s);
                }
            }
        }
        let mut again = Vec::new();
        let mut overquota = None;
        for (u, early) in units.into_iter().zip(answered) {
            let s = self.settle(u)?;
            self.shared
                .pace
                .landed(s.landed.saturating_sub(early), written);
            // A throttle refusal among them is the same event as the
            // throttle that broke the connection: one pause, not two.
            if s.throttle.is_some() && !throttled {
                let wait = s.throttle.as_ref().and_then(|t| t.1);
                throttled = throttled_now(&self.shared.pace, wait).is_ok();
            }
            if let Some(why) = &s.overquota {
                overquota.get_or_insert(why.clone());
            }
            again.push(s);
        }
        if let Some(halt) = stop.or(overquota.map(Stop::OverQuota)) {
            if matches!(halt, Stop::Quota(_)) {
                // Known not to be there: the next run sends them.
                for s in again {
                    self.report.left_for_next_run += s.resend.len() as u64;
                    for i in &s.resend {
                        self.progress.advance(i.size_or_zero());
                    }
                }
                return Err(halt);
            }
            // Known not to be there, and not to be sent now: said so.
            for s in again {
                let unit = Unit::planned(s.work, &s.mailbox, s.resend, Before::default(), s.round);
                let why = "not sent again: the run stopped (it is not on the server)";
                self.settle_not_sent(unit, why.to_string())?;
            }
            return Err(halt);
        }
        if throttled {
            self.wait_out(&why)?;
        }
        let mut again = again.into_iter();
        while let Some(s) = again.next() {
            let round = if throttled { s.round } else { s.round + 1 };
            let r = match s.work {
                Work::Append => self.submit_items(&s.mailbox, s.resend, round),
                Work::Copy { from } => self.copy_items(&from, &s.mailbox, s.resend, s.round + 1),
                Work::Earlier => Ok(()),
            };
            if r.is_err() {
                self.keep_on_fewer(&r, |l| {
                    // Only an APPEND lane leaves (`handover.rs`).
                    for s in again.filter(|s| s.work == Work::Append) {
                        let round = if throttled { s.round } else { s.round + 1 };
                        l.again.push((s.mailbox, s.resend, round));
                    }
                });
                return r;
            }
        }
        Ok(())
    }

    /// Looks at each mailbox of `units` once, from the earliest snapshot of
    /// its lost units, and gives every lost message its verdict; a mailbox
    /// that cannot be looked at leaves its lost messages of unknown fate.
    fn look_for_lost(&mut self, units: &mut [Unit]) -> Result<(), Stop> {
        let mut mailboxes: Vec<String> = Vec::new();
        for u in units.iter().filter(|u| u.stage() == Stage::Lost) {
            if !mailboxes.contains(&u.mailbox) {
                mailboxes.push(u.mailbox.clone());
            }
        }
        for mb in mailboxes {
            let mine: Vec<usize> = (0..units.len())
                .filter(|&i| units[i].stage() == Stage::Lost && units[i].mailbox == mb)
                .collect();
            let before = earliest(mine.iter().map(|&i| units[i].before));
            let mut wanted = Vec::new();
            let mut places = Vec::new();
            for &i in &mine {
                for (k, item) in units[i].lost() {
                    wanted.push(item.wanted());
                    places.push((i, k));
                }
            }
            let mut exclude: HashSet<u32> =
                self.window.confirmed.get(&mb).cloned().unwrap_or_default();
            if let Some(j) = self.journal() {
                exclude.extend(j.uids(&mb, before.uidvalidity));
            }
            let looked = self.retrying(|s| find_landed(s, &mb, before, &wanted, &exclude))?;
            let looked = match looked {
                Ok(Look::Found(found)) => Ok(found),
                Ok(Look::Incomplete(why)) => Err(why),
                Err(e) => Err(e.to_string()),
            };
            match looked {
                Ok(found) => {
                    for ((i, k), at) in places.into_iter().zip(found) {
                        units[i].found(k, at);
                    }
                    for &i in &mine {
                        units[i].looked();
                    }
                }
                Err(e) => {
                    let why = format!("could not check whether it landed: {e}");
                    self.report.warnings.push(format!(
                        "{mb}: cannot look whether a batch of unknown fate landed ({e}); it stays open in the journal"
                    ));
                    for &i in &mine {
                        units[i].unknown(&why);
                    }
                }
            }
        }
        Ok(())
    }

    /// `unit`, unless it is to be sent once more than `--retries` allows
    /// after lost connections: then it is settled as not sent (it was
    /// looked for and is not on the server).
    pub(super) fn unless_retries_used_up(&mut self, unit: Unit) -> Result<Option<Unit>, Stop> {
        if unit.round <= self.opts.retries + 1 {
            return Ok(Some(unit));
        }
        let reason = format!(
            "the connection broke {} times while sending it (it is not on the server)",
            unit.round - 1
        );
        self.settle_not_sent(unit, reason)?;
        Ok(None)
    }

    /// Settles a unit that will not be sent, every message for `reason`.
    pub(super) fn settle_not_sent(&mut self, mut unit: Unit, reason: String) -> Result<(), Stop> {
        if unit.items.is_empty() {
            return Ok(());
        }
        let n = unit.items.len();
        unit.answered(vec![Fate::NotSent(reason); n]);
        self.settle(unit).map(drop)
    }

    /// Batches of unknown fate left in the journal by an earlier run
    /// (killed, or its connection lost for good): looked for and settled
    /// before anything is sent. What cannot be checked stays open and is
    /// held back from this run ([`Uploader::fate_unknown`]).
    pub(super) fn resolve_earlier(&mut self) -> Result<(), Stop> {
        let Some(pending) = self.journal().map(|j| j.pending()) else {
            return Ok(());
        };
        let units: Vec<Unit> = pending
            .into_iter()
            .map(|p| {
                let exists = self.existing.contains(&p.mailbox);
                Unit::earlier(p, exists)
            })
            .collect();
        if units.is_empty() {
            return Ok(());
        }
        self.recover(units)
    }

    /// True (and one copy used up) when `fp` belongs to a batch an earlier
    /// run left open whose fate could not be checked now: sending it could
    /// store it twice, so it is reported of unknown fate instead.
    pub(super) fn fate_unknown(&mut self, mailbox: &str, fp: &Fingerprint) -> bool {
        let mut held = lock(&self.shared.unsettled);
        let key = (mailbox.to_string(), *fp);
        match held.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Reports a message held back by [`Uploader::fate_unknown`].
    pub(super) fn held_back(&mut self, mailbox: &str, msg: &crate::message::Message) {
        self.fail(
            mailbox,
            msg.origin.to_string(),
            Some(&msg.bytes),
            FailureClass::Unknown,
            HELD_BACK.to_string(),
        );
        self.progress.advance(msg.bytes.len() as u64);
    }
}

/// Why a message of an earlier run's unchecked batch is not sent.
const HELD_BACK: &str = "an earlier run sent it and its batch could not be checked on the server; not sent again: it stays open in the journal and the next run looks again";

/// The messages of earlier runs' unchecked batches that no connection met
/// in this run's sources: each reported once, of unknown fate, so that the
/// run does not end as if all were well.
pub(super) fn report_unmet(shared: &Shared, report: &mut Report) {
    for ((mailbox, fp), n) in lock(&shared.unsettled).drain() {
        for _ in 0..n {
            let origin = format!(
                "message {} of a batch an earlier run left open (not met in this run's sources)",
                &fp.to_hex()[..16]
            );
            report.failed(&mailbox, origin, FailureClass::Unknown, HELD_BACK.into());
        }
    }
}

/// The earliest of snapshots (lowest UIDNEXT; unknown counts as earliest).
fn earliest(befores: impl Iterator<Item = Before>) -> Before {
    befores
        .min_by_key(|b| b.uidnext.map_or(0, u64::from))
        .unwrap_or_default()
}
