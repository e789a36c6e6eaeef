//! Keeping the link busy: batches in flight. A batch is journaled
//! (`Begin`), written (one MULTIAPPEND, or one APPEND per message) and put
//! at the back of the window without waiting for its answer; the window is
//! bounded by batches and bytes ([`WindowLimits`]) and is completed from
//! the front, in order. Each batch's answers are handled on their own: a NO
//! splits only that batch, TRYCREATE retries only that batch. A batch counts
//! as done only after its tagged answers and its journal records.
//!
//! A lost connection makes every batch in flight of unknown fate: the
//! window is drained, the session reopened, and each mailbox is looked at
//! once from the earliest snapshot ([`Before`]) of its lost batches, which
//! precedes all of them; only what is missing is sent again.
//!
//! Snapshots cost no round trip once a mailbox has had a batch confirmed
//! with APPENDUID: what is appended after that answer gets a higher UID, so
//! "last UID + 1" is a valid UIDNEXT before any later batch. Otherwise the
//! earliest in-flight batch's snapshot of the mailbox is reused, and only
//! a mailbox met with nothing of it in flight costs a STATUS.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::fingerprint::Fingerprint;
use crate::imap::{AppendItem, ImapError};
use crate::journal::{Before, Landed};
use crate::message::Message;
use crate::report::FailureClass;

use super::resolve::find_landed;
use super::send::Outcome;
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
    mailbox: String,
    msgs: Vec<Message>,
    fps: Vec<Fingerprint>,
    before: Before,
    batch_id: Option<u64>,
    round: u32,
    bytes: u64,
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
    confirmed: HashMap<String, HashSet<u32>>,
}

impl Window {
    pub(super) fn is_empty(&self) -> bool {
        self.batches.is_empty()
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
        if msgs.is_empty() {
            return Ok(());
        }
        self.check_stop()?;
        if round > self.opts.retries + 1 {
            for m in &msgs {
                let reason = format!(
                    "the connection broke {} times while sending this batch; not sent",
                    round - 1
                );
                self.fail_msg(mailbox, m, FailureClass::Unknown, reason);
            }
            return Ok(());
        }
        let bytes: u64 = msgs.iter().map(|m| m.bytes.len() as u64).sum();
        let limits = WindowLimits::for_mode(self.mode).shared_by(self.connections);
        while !self.window.is_empty()
            && (self.window.batches.len() >= limits.batches
                || self.window.bytes + bytes > limits.bytes)
        {
            self.complete_front()?;
        }
        if let Some(t) = &self.opts.throttle
            && !t.wait(msgs.len(), bytes, &self.opts.stop)
        {
            return Err(Stop::Interrupted);
        }
        let before = self.snapshot(mailbox)?;
        let fps: Vec<Fingerprint> = msgs.iter().map(Message::fingerprint).collect();
        let batch_id = match self.journal() {
            Some(mut j) => Some(j.begin(mailbox, before, &fps).map_err(Stop::Journal)?),
            None => None,
        };
        let units: Vec<(usize, usize)> = match self.mode {
            UploadMode::MultiAppend(_) => vec![(0, msgs.len())],
            UploadMode::Serial(_) => (0..msgs.len()).map(|i| (i, i + 1)).collect(),
        };
        let mut commands = Vec::with_capacity(units.len());
        for (start, end) in units {
            let items: Vec<AppendItem> = msgs[start..end].iter().map(append_item).collect();
            commands.push((self.session.append_start(mailbox, &items), start, end));
        }
        self.window.bytes += bytes;
        self.window.batches.push_back(InFlight {
            mailbox: mailbox.to_string(),
            msgs,
            fps,
            before,
            batch_id,
            round,
            bytes,
            commands,
        });
        Ok(())
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
        while let Some(mut b) = self.window.batches.pop_front() {
            self.window.bytes -= b.bytes;
            let outcomes = self.answers(&mut b);
            let mut unknown = false;
            for (k, o) in outcomes.into_iter().enumerate() {
                if let Outcome::Unknown(why) = o {
                    unknown = true;
                    let reason = format!(
                        "{why} before the server answered; the next run will look whether it landed"
                    );
                    self.fail_msg(&b.mailbox, &b.msgs[k], FailureClass::Unknown, reason);
                } else {
                    let _ = self.settle_one(&b, k, o);
                }
            }
            if !unknown && let (Some(mut j), Some(id)) = (self.journal(), b.batch_id) {
                let _ = j.end(id);
            }
        }
    }

    /// A snapshot of `mailbox` valid for a batch about to be sent.
    fn snapshot(&mut self, mailbox: &str) -> Result<Before, Stop> {
        if let Some(b) = self.window.next_before.get(mailbox) {
            return Ok(*b);
        }
        if let Some(b) = self.window.batches.iter().find(|b| b.mailbox == mailbox) {
            return Ok(b.before);
        }
        Ok(match self.retrying(|s| s.status(mailbox))? {
            Ok(st) => Before {
                uidvalidity: st.uid_validity,
                uidnext: st.uid_next,
                messages: st.messages,
            },
            Err(_) => Before::default(),
        })
    }

    /// The answers of a batch's commands, one outcome per message; a NO
    /// splits the batch (MULTIAPPEND), TRYCREATE creates and retries once.
    fn answers(&mut self, b: &mut InFlight) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(b.msgs.len());
        for (started, start, end) in std::mem::take(&mut b.commands) {
            let result = started.and_then(|tag| self.session.append_finish(&tag));
            let msgs: Vec<&Message> = b.msgs[start..end].iter().collect();
            out.extend(self.resolve_answer(&b.mailbox, &msgs, result, true));
        }
        out
    }

    /// Completes the oldest batch: its answers, journal records, report.
    fn complete_front(&mut self) -> Result<(), Stop> {
        let Some(mut b) = self.window.batches.pop_front() else {
            return Ok(());
        };
        self.window.bytes -= b.bytes;
        let outcomes = self.answers(&mut b);
        if outcomes.iter().any(|o| matches!(o, Outcome::Unknown(_))) {
            let mut lost = vec![(b, outcomes)];
            while let Some(mut b) = self.window.batches.pop_front() {
                self.window.bytes -= b.bytes;
                let o = self.answers(&mut b);
                lost.push((b, o));
            }
            return self.recover(lost);
        }
        let mut overquota = None;
        let mut uids = Some(Vec::new());
        let mut uidvalidity = None;
        for (k, o) in outcomes.into_iter().enumerate() {
            match &o {
                Outcome::Landed(at) => {
                    uidvalidity = at.uidvalidity;
                    match (&mut uids, at.uid) {
                        (Some(v), Some(u)) => v.push(u),
                        _ => uids = None,
                    }
                }
                _ => uids = None,
            }
            if let Some(why) = self.settle_one(&b, k, o) {
                overquota.get_or_insert(why);
            }
        }
        match (uids.and_then(|v| v.into_iter().max()), uidvalidity) {
            (Some(max), Some(v)) => {
                let next = Before {
                    uidvalidity: Some(v),
                    uidnext: Some(max + 1),
                    messages: None,
                };
                self.window.next_before.insert(b.mailbox.clone(), next);
            }
            _ => {
                self.window.next_before.remove(&b.mailbox);
            }
        }
        if let (Some(mut j), Some(id)) = (self.journal(), b.batch_id) {
            j.end(id).map_err(Stop::Journal)?;
        }
        match overquota {
            Some(why) => Err(Stop::OverQuota(why)),
            None => Ok(()),
        }
    }

    /// Reports (and journals) one message's known outcome; `Some` when the
    /// server said OVERQUOTA.
    fn settle_one(&mut self, b: &InFlight, k: usize, o: Outcome) -> Option<String> {
        let m = &b.msgs[k];
        match o {
            Outcome::Landed(at) => {
                if let Some(u) = at.uid {
                    self.window
                        .confirmed
                        .entry(b.mailbox.clone())
                        .or_default()
                        .insert(u);
                }
                self.landed(&b.mailbox, m, &b.fps[k], at);
                None
            }
            Outcome::Refused { reason, overquota } => {
                let oq = overquota.then(|| reason.clone());
                self.fail_msg(&b.mailbox, m, FailureClass::Refused, reason);
                oq
            }
            Outcome::NotSent(reason) => {
                self.fail_msg(&b.mailbox, m, FailureClass::NotSent, reason);
                None
            }
            Outcome::Unknown(_) => None,
        }
    }

    /// The connection broke with `lost` in flight (oldest first): reopen,
    /// look once per mailbox from the earliest snapshot, journal what
    /// landed, send the rest again in the same order.
    fn recover(&mut self, lost: Vec<(InFlight, Vec<Outcome>)>) -> Result<(), Stop> {
        let why = lost
            .iter()
            .flat_map(|(_, o)| o)
            .find_map(|o| match o {
                Outcome::Unknown(w) => Some(w.clone()),
                _ => None,
            })
            .unwrap_or_default();
        // Known outcomes first (what was answered before the break).
        let mut unknown: Vec<(usize, usize)> = Vec::new();
        for (bi, (b, outcomes)) in lost.iter().enumerate() {
            for (k, o) in outcomes.iter().enumerate() {
                match o {
                    Outcome::Unknown(_) => unknown.push((bi, k)),
                    o => {
                        let _ = self.settle_one(b, k, o.clone());
                    }
                }
            }
        }
        for (b, _) in &lost {
            self.window.next_before.remove(&b.mailbox);
        }
        if let Err(stop) = self.reconnect(&why) {
            for &(bi, k) in &unknown {
                let reason = format!(
                    "{why} before the server answered; the next run will look whether it landed"
                );
                let b = &lost[bi].0;
                self.fail_msg(&b.mailbox, &b.msgs[k], FailureClass::Unknown, reason);
            }
            return Err(stop); // the `Begin`s stay open: the next run resolves them
        }
        let mut found: HashMap<(usize, usize), Landed> = HashMap::new();
        let mut mailboxes: Vec<&str> = Vec::new();
        for &(bi, _) in &unknown {
            let mb = lost[bi].0.mailbox.as_str();
            if !mailboxes.contains(&mb) {
                mailboxes.push(mb);
            }
        }
        let mut unchecked: HashSet<(usize, usize)> = HashSet::new();
        for mb in mailboxes {
            let mine: Vec<(usize, usize)> = unknown
                .iter()
                .copied()
                .filter(|&(bi, _)| lost[bi].0.mailbox == mb)
                .collect();
            let before = earliest(mine.iter().map(|&(bi, _)| lost[bi].0.before));
            let wanted: Vec<_> = mine
                .iter()
                .map(|&(bi, k)| {
                    let m = &lost[bi].0.msgs[k];
                    (
                        lost[bi].0.fps[k],
                        m.message_id().map(str::to_owned),
                        m.bytes.len(),
                    )
                })
                .collect();
            let mut exclude = self.window.confirmed.get(mb).cloned().unwrap_or_default();
            if let Some(j) = self.journal() {
                exclude.extend(j.uids(mb, before.uidvalidity));
            }
            match self.retrying(|s| find_landed(s, mb, before, &wanted, &exclude))? {
                Ok(at) => {
                    for (key, at) in mine.iter().zip(at) {
                        if let Some(at) = at {
                            found.insert(*key, at);
                        }
                    }
                }
                Err(e) => {
                    // Cannot look: sending again could double it.
                    for &(bi, k) in &mine {
                        let b = &lost[bi].0;
                        let reason = format!("{why}; could not check whether it landed: {e}");
                        self.fail_msg(&b.mailbox, &b.msgs[k], FailureClass::Unknown, reason);
                        unchecked.insert((bi, k));
                    }
                }
            }
        }
        let mut again: Vec<(String, Vec<Message>, u32)> = Vec::new();
        for (bi, (b, outcomes)) in lost.into_iter().enumerate() {
            let mut resend = Vec::new();
            for (k, (m, o)) in b.msgs.iter().zip(&outcomes).enumerate() {
                if !matches!(o, Outcome::Unknown(_)) || unchecked.contains(&(bi, k)) {
                    continue;
                }
                match found.remove(&(bi, k)) {
                    Some(at) => {
                        let _ = self.settle_one(&b, k, Outcome::Landed(at));
                    }
                    None => resend.push(m.clone()),
                }
            }
            if let (Some(mut j), Some(id)) = (self.journal(), b.batch_id) {
                j.end(id).map_err(Stop::Journal)?;
            }
            again.push((b.mailbox, resend, b.round + 1));
        }
        for (mailbox, msgs, round) in again {
            self.submit(&mailbox, msgs, round)?;
        }
        Ok(())
    }
}

/// The earliest of snapshots (lowest UIDNEXT; unknown counts as earliest).
fn earliest(befores: impl Iterator<Item = Before>) -> Before {
    befores
        .min_by_key(|b| b.uidnext.map_or(0, u64::from))
        .unwrap_or_default()
}
