//! Keeping the link busy: batches in flight. A batch is journaled
//! (`Begin`), written (one MULTIAPPEND, or one APPEND per message) and put
//! at the back of the window without waiting for its answer; the window is
//! bounded by batches and bytes ([`WindowLimits`]) and is completed from
//! the front, in order. Each batch's answers are handled on their own: a NO
//! splits only that batch, TRYCREATE retries only that batch. A batch counts
//! as done only after its tagged answers and its journal records.
//!
//! Each batch is a [`Unit`] of the batch lifecycle (`lifecycle.rs`), settled
//! in its one settle step. A lost answer makes every batch in flight of
//! unknown fate: the window is drained and the batches are recovered
//! together (`recovery.rs`: reopen, look once per mailbox from the earliest
//! snapshot, send again only what is missing).
//!
//! Snapshots cost no round trip once a mailbox has had a batch confirmed
//! with APPENDUID: what is appended after that answer gets a higher UID, so
//! "last UID + 1" is a valid UIDNEXT before any later batch. Otherwise the
//! earliest in-flight batch's snapshot of the mailbox is reused, and only
//! a mailbox met with nothing of it in flight costs a STATUS.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::imap::{AppendItem, ImapError};
use crate::journal::Before;
use crate::message::Message;

use super::lifecycle::{Fate, Item, Stage, Unit, Work};
use super::{Stop, UploadMode, Uploader, append_item};

/// How much may be in flight at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimits {
    /// Batches written but not answered (MULTIAPPEND: commands).
    pub batches: usize,
    /// Their message bytes (kept in memory until answered).
    pub bytes: u64,
}

impl WindowLimits {
    /// MULTIAPPEND: 4 batches / 32 MiB (a few round trips' worth, and the
    /// memory bound); serial APPEND: 3 batches (≤ 300 commands) / 8 MiB.
    pub fn for_mode(mode: UploadMode) -> WindowLimits {
        match mode {
            UploadMode::MultiAppend(_) => WindowLimits {
                batches: 4,
                bytes: 32 << 20,
            },
            UploadMode::Serial(_) => WindowLimits {
                batches: 3,
                bytes: 8 << 20,
            },
        }
    }

    /// The share of one of `connections` connections: the bytes in flight
    /// stay bounded whatever `--jobs` is (a batch alone may still exceed it).
    pub fn shared_by(self, connections: usize) -> WindowLimits {
        WindowLimits {
            bytes: self.bytes / connections.max(1) as u64,
            ..self
        }
    }
}

/// A batch journaled and written, answers pending.
pub(super) struct InFlight {
    unit: Unit,
    bytes: u64,
    /// When its first command was written (a throttle answer to it
    /// belongs to the pace's event of that time, `pace.rs`).
    written: Instant,
    /// Tags of its commands with the messages each carries (start..end);
    /// an `Err` when the command could not be written.
    commands: Vec<(Result<String, ImapError>, usize, usize)>,
}

/// The batches in flight, oldest first.
#[derive(Default)]
pub(super) struct Window {
    batches: VecDeque<InFlight>,
    bytes: u64,
    /// Per mailbox, a snapshot valid for any batch sent from now on (from
    /// the last APPENDUID), when known.
    next_before: HashMap<String, Before>,
    /// UIDs confirmed in this run, per mailbox (excluded when looking).
    pub(super) confirmed: HashMap<String, HashSet<u32>>,
}

impl Window {
    pub(super) fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    fn pop(&mut self) -> Option<InFlight> {
        let b = self.batches.pop_front()?;
        self.bytes -= b.bytes;
        Some(b)
    }
}

impl Uploader<'_> {
    /// Journals and writes `msgs` for `mailbox` (after making room in the
    /// window); its answers are handled when it reaches the front.
    pub(super) fn submit(
        &mut self,
        mailbox: &str,
        msgs: Vec<Message>,
        round: u32,
    ) -> Result<(), Stop> {
        // The keyword policy may reconnect; a refusal there does not end
        // the lane (`handover.rs`).
        let msgs = self.without_leaving(|up| up.fit_keywords(mailbox, msgs));
        let items = msgs?.into_iter().map(Item::of_message).collect();
        self.submit_items(mailbox, items, round)
    }

    /// [`Uploader::submit`] for messages already made items (sent again
    /// after a recovery: `round` counts the tries).
    pub(super) fn submit_items(
        &mut self,
        mailbox: &str,
        items: Vec<Item>,
        round: u32,
    ) -> Result<(), Stop> {
        if items.is_empty() {
            return Ok(());
        }
        self.check_stop()?;
        if let (UploadMode::Serial(_), Some(cap)) = (self.mode, self.shared.pace.unit_cap())
            && items.len() > cap
        {
            // A rate is being learned: units of a quarter second's worth, so that
            // a throttle is heard before much more is written.
            let mut items = items;
            while !items.is_empty() {
                let rest = items.split_off(cap.min(items.len()));
                let r = self.submit_items(mailbox, items, round);
                if r.is_err() {
                    self.keep_on_fewer(&r, |l| l.again.push((mailbox.into(), rest, round)));
                    return r;
                }
                items = rest;
            }
            return Ok(());
        }
        let fit = self
            .shared
            .budget
            .fitting(items.iter().map(Item::size_or_zero));
        if fit < items.len() {
            // The day's budget has room for the first `fit` messages: they
            // go, the rest waits for the next run (`budget.rs`).
            let mut items = items;
            let rest = items.split_off(fit);
            let r = self.submit_items(mailbox, items, round);
            if r.is_err() {
                // Leaving: the lane taking over meets the budget in turn.
                self.keep_on_fewer(&r, |l| l.again.push((mailbox.into(), rest, round)));
                return r;
            }
            let why = self.shared.budget.stop(rest[0].size_or_zero());
            return Err(self.left_for_next_run(&rest, why));
        }
        let unit = Unit::planned(Work::Append, mailbox, items, Before::default(), round);
        let Some(mut unit) = self.unless_retries_used_up(unit)? else {
            return Ok(());
        };
        match self.ready_to_send(&unit) {
            Ok(before) => unit.before = before,
            Err(stop) => {
                if let Stop::Fewer(_) = stop {
                    // Not begun: the lane that takes over sends it.
                    self.left.again.push((unit.mailbox, unit.items, unit.round));
                }
                return Err(stop);
            }
        }
        let bytes: u64 = unit.items.iter().filter_map(|i| i.size).sum();
        let multi = matches!(self.mode, UploadMode::MultiAppend(_));
        unit.begin(self.shared.journal.as_ref())
            .map_err(Stop::Journal)?;
        let units: Vec<(usize, usize)> = match self.mode {
            UploadMode::MultiAppend(_) => vec![(0, unit.items.len())],
            UploadMode::Serial(_) => (0..unit.items.len()).map(|i| (i, i + 1)).collect(),
        };
        let mut commands = Vec::with_capacity(units.len());
        let mut written = None;
        let mut stopped = None;
        for (start, end) in units {
            if !multi {
                // Serial: each APPEND waits for its own turn (no burst).
                let size = unit.items[start].size_or_zero();
                if let Err(stop) = self.pace_wait(1, size) {
                    let why = "not sent: the run stopped";
                    for (s, e) in (start..unit.items.len()).map(|i| (i, i + 1)) {
                        commands.push((Err(ImapError::Unsendable(why.into())), s, e));
                    }
                    stopped = Some(stop);
                    break;
                }
            }
            let items: Vec<AppendItem> = unit.items[start..end]
                .iter()
                .filter_map(Item::message)
                .map(append_item)
                .collect();
            written.get_or_insert_with(Instant::now);
            commands.push((
                self.session.server().append_start(mailbox, &items),
                start,
                end,
            ));
        }
        unit.sent();
        self.window.bytes += bytes;
        self.window.batches.push_back(InFlight {
            unit,
            bytes,
            written: written.unwrap_or_else(Instant::now),
            commands,
        });
        stopped.map_or(Ok(()), Err)
    }

    /// Before `unit` (planned) is journaled and written: earlier batches'
    /// lost answers recovered, room in the window, the provider's quota and
    /// the day's budget, the pace (MULTIAPPEND), and the mailbox's snapshot.
    fn ready_to_send(&mut self, unit: &Unit) -> Result<Before, Stop> {
        let mailbox = unit.mailbox.as_str();
        if self.session.is_broken() {
            // A batch in flight lost its answer: recover it (reconnecting)
            // before this one is journaled and written.
            self.drain()?;
            self.check_stop()?;
        }
        let bytes: u64 = unit.items.iter().filter_map(|i| i.size).sum();
        let limits = WindowLimits::for_mode(self.mode).shared_by(self.connections);
        while !self.window.is_empty()
            && (self.window.batches.len() >= limits.batches
                || self.window.bytes + bytes > limits.bytes)
        {
            self.complete_front()?;
        }
        let charged = match self.shared.pace.quota() {
            Some(why) => Err(why),
            None => self.shared.budget.charge(bytes),
        };
        if let Err(why) = charged {
            // The provider's quota was hit on another connection, or the
            // day's budget is spent: not sent, left for the next run.
            return Err(self.left_for_next_run(&unit.items, why));
        }
        if matches!(self.mode, UploadMode::MultiAppend(_)) {
            self.pace_wait(unit.items.len(), bytes)?;
        }
        self.snapshot(mailbox)
    }

    /// The batches in flight when this lane leaves (`handover.rs`): their
    /// answers read where they came, the others lost, for the lane that
    /// takes over to look at.
    pub(super) fn unanswered(&mut self) -> Vec<Unit> {
        let mut out = Vec::new();
        while let Some(mut b) = self.window.pop() {
            let fates = self.answers(&mut b);
            b.unit.answered(fates);
            out.push(b.unit);
        }
        out
    }

    /// `items` are not sent: the provider's quota or the daily budget
    /// (`why`) stopped the run; the next run sends them.
    fn left_for_next_run(&mut self, items: &[Item], why: String) -> Stop {
        self.report.left_for_next_run += items.len() as u64;
        for i in items {
            self.progress.advance(i.size_or_zero());
        }
        Stop::Quota(why)
    }

    /// Completes every batch in flight.
    pub(super) fn drain(&mut self) -> Result<(), Stop> {
        while !self.window.is_empty() {
            self.complete_front()?;
        }
        Ok(())
    }

    /// After the run stopped: collects the answers still coming without
    /// reconnecting; what stays unknown is reported and left open in the
    /// journal for the next run to resolve by looking.
    pub(super) fn abandon(&mut self) {
        while let Some(mut b) = self.window.pop() {
            let fates = self.answers(&mut b);
            b.unit.answered(fates);
            b.unit.unknown("the run stopped before it could look");
            let _ = self.settle(b.unit);
        }
    }

    /// A snapshot of `mailbox` valid for a batch about to be sent.
    fn snapshot(&mut self, mailbox: &str) -> Result<Before, Stop> {
        if let Some(b) = self.window.next_before.get(mailbox) {
            return Ok(*b);
        }
        if let Some(b) = self
            .window
            .batches
            .iter()
            .find(|b| b.unit.mailbox == mailbox)
        {
            return Ok(b.unit.before);
        }
        self.status_before(mailbox)
    }

    /// The answers of a batch's commands, one fate per message; a NO
    /// splits the batch (MULTIAPPEND), TRYCREATE creates and retries once.
    fn answers(&mut self, b: &mut InFlight) -> Vec<Fate> {
        let mut out = Vec::with_capacity(b.unit.items.len());
        for (started, start, end) in std::mem::take(&mut b.commands) {
            if started.as_ref().is_err_and(ImapError::is_connection_lost) {
                b.unit.not_written(start..end);
            }
            let result = started.and_then(|tag| self.session.server().append_finish(&tag));
            let msgs: Vec<&Message> = b.unit.items[start..end]
                .iter()
                .filter_map(Item::message)
                .collect();
            let mailbox = b.unit.mailbox.clone();
            out.extend(self.resolve_answer(&mailbox, &msgs, result, true));
        }
        out
    }

    /// Completes the oldest batch: its answers, journal records, report.
    /// A lost answer makes every batch in flight of unknown fate: they are
    /// recovered together ([`Uploader::recover`]).
    fn complete_front(&mut self) -> Result<(), Stop> {
        let Some(mut b) = self.window.pop() else {
            return Ok(());
        };
        let fates = self.answers(&mut b);
        b.unit.answered(fates);
        if b.unit.stage() == Stage::Lost {
            let written = b.written;
            let mut lost = vec![b.unit];
            while let Some(mut b) = self.window.pop() {
                let fates = self.answers(&mut b);
                b.unit.answered(fates);
                lost.push(b.unit);
            }
            for u in &lost {
                self.window.next_before.remove(&u.mailbox);
            }
            return self.recover_written(lost, Some(written));
        }
        // RFC 4315: what is appended after this answer gets a higher UID.
        let next = b.unit.last_uid().and_then(|(v, max)| {
            Some(Before {
                uidvalidity: Some(v),
                uidnext: Some(max.checked_add(1)?),
                messages: None,
            })
        });
        match next {
            Some(next) => self.window.next_before.insert(b.unit.mailbox.clone(), next),
            None => self.window.next_before.remove(&b.unit.mailbox),
        };
        let settled = self.settle(b.unit)?;
        if let Some(why) = settled.overquota {
            return Err(Stop::OverQuota(why));
        }
        self.shared.pace.landed(settled.landed, Some(b.written));
        if let Some((why, wait)) = settled.throttle {
            return self.after_throttle(
                b.written,
                &settled.mailbox,
                settled.resend,
                settled.round,
                &why,
                wait,
            );
        }
        Ok(())
    }

    /// Messages a throttle refused: the pace slows down, the run waits the
    /// pause out, and they are sent again (the same round: a throttle is
    /// no lost connection). When the run gives up waiting they are
    /// reported as not sent.
    fn after_throttle(
        &mut self,
        written: Instant,
        mailbox: &str,
        items: Vec<Item>,
        round: u32,
        why: &str,
        wait: Option<Duration>,
    ) -> Result<(), Stop> {
        match self.shared.pace.throttled_since(written, wait) {
            Ok(_) => {
                self.wait_out(why)?;
                self.submit_items(mailbox, items, round)
            }
            Err(gave_up) => {
                let unit = Unit::planned(Work::Append, mailbox, items, Before::default(), round);
                self.settle_not_sent(unit, format!("{why}; not sent: {}", gave_up.0))
            }
        }
    }

    /// Sleeps until the pace lets `msgs` messages of `bytes` bytes go
    /// (`--max-rate`, `--max-bytes-rate` and the adaptive rate).
    fn pace_wait(&mut self, msgs: usize, bytes: u64) -> Result<(), Stop> {
        if let Some(t) = &self.opts.throttle
            && !t.wait(msgs, bytes, &self.opts.stop)
        {
            return Err(Stop::Interrupted);
        }
        let wait = self.shared.pace.before_send(msgs);
        self.sleep(wait)
    }

    /// Waits out the pause after a throttle, saying so (progress and
    /// `--json-progress`: `{"event":"waiting","seconds":…,"reason":…}`).
    pub(super) fn wait_out(&mut self, why: &str) -> Result<(), Stop> {
        let left = self.shared.pace.pause_left();
        if !left.is_zero() {
            self.progress.waiting(left, why);
        }
        self.sleep(left)
    }

    /// Sleeps `d`, looking at the stop flag (SIGINT) ten times a second.
    pub(super) fn sleep(&self, d: Duration) -> Result<(), Stop> {
        let until = Instant::now() + d;
        loop {
            self.check_stop()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}
