//! Connection lanes and what a lane the server will not (re)admit leaves
//! to the others. `--jobs` settles to what the server allows: a
//! connection refused at the start by the session cap ("Too many
//! simultaneous connections", DESIGN.md) gives its shares away, and so
//! does a running connection whose reconnection the cap refuses (the
//! provider still counts the dead session, or another client took the
//! slot) while other connections of the run are alive: it hands over its
//! open batches (looked at by the connection that takes them before
//! anything of them is sent again: `recovery.rs`), the batches it had
//! not yet written, and the rest of its shares, and ends without failure.
//! Only the last connection of a run waits and reconnects with backoff
//! (`link.rs`).
//!
//! [`Orphans`] is the hand-over point, one lock for the decision to leave
//! and the decision to stop taking work, so that nothing handed over is
//! left behind: a lane leaves only while another is still live, and a
//! live lane stops only once nothing is queued or on its way.
//!
//! What it does not own: opening connections and merging their reports
//! (`run.rs`), dealing the shares out (`jobs.rs`), recovering a batch
//! (`recovery.rs`).
//!
//! A refusal met while a message's targets are decided hands the message
//! over too (read again from the source by the lane taking over) as long
//! as nothing of it was recorded yet: when its first target mailbox is
//! created. Not handed over (the lane reconnects as before, `--retries`
//! times): a refusal during a mailbox's server check, the keyword policy's
//! SELECT, or a message's presence check (half done, no state to hand
//! over), and on a lane that owes UID COPYs (`copies.rs`).

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::message::Message;
use crate::plan::TargetMap;

use super::jobs::Share;
use super::lifecycle::{Item, Unit};
use super::{Stop, Uploader, lock};

/// The work of a lane that left, for one live lane to take in order.
pub(super) struct LaneWork<'f> {
    /// Batches whose answers were lost: looked at before anything of them
    /// is sent again.
    lost: Vec<Unit>,
    /// Messages known not to be on the server, already fitted, with their round.
    again: Vec<(String, Vec<Item>, u32)>,
    /// Batches read and decided but not yet written.
    fresh: Vec<(String, Vec<Message>)>,
    /// The rest of the share it was reading, then its other shares.
    shares: Vec<Share<'f>>,
    /// Mailboxes it knew to exist (created or listed): the lane taking
    /// over must not take them for new (a CREATE answered ALREADYEXISTS
    /// counts as done).
    existing: Vec<String>,
}

/// Work waiting for a lane.
pub(super) enum Orphan<'f> {
    /// A share of a connection refused at the start.
    Share(Share<'f>),
    /// What a lane that left had not finished.
    Lane(Box<LaneWork<'f>>),
}

/// The hand-over point of one run's lanes.
pub struct Orphans<'f> {
    state: Mutex<Lanes<'f>>,
}

struct Lanes<'f> {
    work: VecDeque<Orphan<'f>>,
    /// Connections still being opened (their shares may yet come here).
    opening: usize,
    /// Lanes uploading; each takes orphaned work when done with its own.
    live: usize,
    /// Lanes that left and have yet to hand their work over.
    leaving: usize,
    /// Connections the server refused (at the start or reconnecting),
    /// and why the first was.
    refused: usize,
    why: Option<String>,
}

impl<'f> Orphans<'f> {
    /// One live lane (the first connection) and `opening` being opened.
    pub fn new(opening: usize) -> Orphans<'f> {
        Orphans {
            state: Mutex::new(Lanes {
                work: VecDeque::new(),
                opening,
                live: 1,
                leaving: 0,
                refused: 0,
                why: None,
            }),
        }
    }

    /// A connection was opened: one more live lane.
    pub fn opened(&self) {
        let mut s = lock(&self.state);
        s.opening -= 1;
        s.live += 1;
    }

    /// A connection could not be opened for another reason than the
    /// session cap (its shares are reported as not uploaded).
    pub fn not_opened(&self) {
        lock(&self.state).opening -= 1;
    }

    /// A connection was refused for `why`: its shares go to the others.
    pub fn refused(&self, shares: &[Share<'f>], why: &str) {
        let mut s = lock(&self.state);
        s.work.extend(shares.iter().copied().map(Orphan::Share));
        s.refused += 1;
        s.why.get_or_insert_with(|| why.to_string());
        s.opening -= 1;
    }

    /// A live lane's reconnection was refused for `why`: true (and the
    /// lane no longer live, its hand-over awaited) when another lane is
    /// live to take its work; false when it is the last one.
    pub(super) fn leave(&self, why: &str) -> bool {
        let mut s = lock(&self.state);
        if s.live < 2 {
            return false;
        }
        s.live -= 1;
        s.leaving += 1;
        s.refused += 1;
        s.why.get_or_insert_with(|| why.to_string());
        true
    }

    /// The work of a lane that left ([`Orphans::leave`]).
    pub(super) fn hand_over(&self, work: LaneWork<'f>) {
        let mut s = lock(&self.state);
        s.leaving -= 1;
        s.work.push_back(Orphan::Lane(Box::new(work)));
    }

    /// The next orphaned work for a lane done with its own; `None` (and
    /// the lane no longer live) once nothing is queued, being opened or
    /// being handed over. Waits meanwhile.
    pub(super) fn next(&self) -> Option<Orphan<'f>> {
        loop {
            {
                let mut s = lock(&self.state);
                if let Some(w) = s.work.pop_front() {
                    return Some(w);
                }
                if s.opening == 0 && s.leaving == 0 {
                    s.live -= 1;
                    return None;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A live lane stopped on an error: it takes no more work.
    pub(super) fn quit(&self) {
        lock(&self.state).live -= 1;
    }

    /// Connections refused, and why the first was.
    pub fn refusals(&self) -> (usize, Option<String>) {
        let s = lock(&self.state);
        (s.refused, s.why.clone())
    }

    /// Mailboxes of work no lane was left to take (every other lane
    /// stopped on an error).
    pub fn left_undone(&self) -> Vec<String> {
        let s = lock(&self.state);
        let mut out: Vec<String> = Vec::new();
        let mut note = |m: &str| {
            if !out.iter().any(|o| o == m) {
                out.push(m.to_string());
            }
        };
        for w in &s.work {
            match w {
                Orphan::Share(sh) => note(&sh.folder.mailbox),
                Orphan::Lane(l) => {
                    l.lost.iter().for_each(|u| note(&u.mailbox));
                    l.again.iter().for_each(|a| note(&a.0));
                    l.fresh.iter().for_each(|f| note(&f.0));
                    l.shares.iter().for_each(|sh| note(&sh.folder.mailbox));
                }
            }
        }
        out
    }
}

/// What a lane leaving had in hand, gathered as its calls return
/// [`Stop::Fewer`].
#[derive(Default)]
pub(super) struct Left {
    pub lost: Vec<Unit>,
    pub again: Vec<(String, Vec<Item>, u32)>,
    pub fresh: Vec<(String, Vec<Message>)>,
    /// Where the share being read stopped ([`super::feed::Feed::next_index`]).
    pub resume: Option<usize>,
}

impl<'a> Uploader<'a> {
    /// Uploads this connection's shares, then orphaned work (shares of
    /// connections the server refused, work of lanes that left), waiting
    /// for every answer. When the server refuses this lane back in
    /// ([`Stop::Fewer`]), what it had not finished goes to the others.
    pub(super) fn run(
        &mut self,
        shares: &[Share<'a>],
        map: &TargetMap,
        orphans: &'a Orphans<'a>,
    ) -> Result<(), Stop> {
        self.orphans = Some(orphans);
        let mut todo: VecDeque<Share<'a>> = shares.iter().copied().collect();
        match self.work_through(&mut todo, map, orphans) {
            Err(Stop::Fewer(why)) => {
                let left = std::mem::take(&mut self.left);
                let mut lost = left.lost;
                lost.extend(self.unanswered());
                orphans.hand_over(LaneWork {
                    lost,
                    again: left.again,
                    fresh: left.fresh,
                    shares: todo.into(),
                    existing: self.existing.iter().cloned().collect(),
                });
                Err(Stop::Fewer(why))
            }
            Err(stop) => {
                orphans.quit();
                Err(stop)
            }
            Ok(()) => Ok(()),
        }
    }

    fn work_through(
        &mut self,
        todo: &mut VecDeque<Share<'a>>,
        map: &TargetMap,
        orphans: &Orphans<'a>,
    ) -> Result<(), Stop> {
        loop {
            while let Some(share) = todo.pop_front() {
                let r = self.folder(&share, map);
                if let (Err(Stop::Fewer(_)), Some(from)) = (&r, self.left.resume.take()) {
                    todo.push_front(Share { from, ..share });
                }
                r?;
            }
            // Every answer in while this lane still counts as live.
            self.drain()?;
            match orphans.next() {
                None => return Ok(()),
                Some(Orphan::Share(s)) => todo.push_back(s),
                Some(Orphan::Lane(w)) => {
                    let LaneWork {
                        lost,
                        again,
                        fresh,
                        shares,
                        existing,
                    } = *w;
                    self.existing.extend(existing);
                    todo.extend(shares);
                    self.take_over(lost, again, fresh)?;
                }
            }
        }
    }

    /// A lane's open batches (looked at first), then what it had not
    /// written. On [`Stop::Fewer`] what is not done is kept in `left`.
    fn take_over(
        &mut self,
        lost: Vec<Unit>,
        again: Vec<(String, Vec<Item>, u32)>,
        fresh: Vec<(String, Vec<Message>)>,
    ) -> Result<(), Stop> {
        if !lost.is_empty() {
            let r = self.recover(lost);
            if r.is_err() {
                self.keep_on_fewer(&r, |l| {
                    l.again.extend(again);
                    l.fresh.extend(fresh);
                });
                return r;
            }
        }
        let mut again = again.into_iter();
        while let Some((mailbox, items, round)) = again.next() {
            let r = self.submit_items(&mailbox, items, round);
            if r.is_err() {
                self.keep_on_fewer(&r, |l| {
                    l.again.extend(again);
                    l.fresh.extend(fresh);
                });
                return r;
            }
        }
        self.submit_all(fresh)
    }

    /// Submits every batch of `batches`; on [`Stop::Fewer`] those not
    /// submitted are kept in `left`.
    pub(super) fn submit_all(&mut self, batches: Vec<(String, Vec<Message>)>) -> Result<(), Stop> {
        let mut batches = batches.into_iter();
        while let Some((mailbox, msgs)) = batches.next() {
            let r = self.submit(&mailbox, msgs, 1);
            if r.is_err() {
                self.keep_on_fewer(&r, |l| l.fresh.extend(batches));
                return r;
            }
        }
        Ok(())
    }

    /// Runs `keep` on what this lane leaves when `r` says it leaves.
    pub(super) fn keep_on_fewer<T>(&mut self, r: &Result<T, Stop>, keep: impl FnOnce(&mut Left)) {
        if let Err(Stop::Fewer(_)) = r {
            keep(&mut self.left);
        }
    }

    /// Runs `f` with leaving forbidden: a refused reconnection inside it
    /// is retried like any other (`f` leaves no state to hand over).
    pub(super) fn without_leaving<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let was = std::mem::replace(&mut self.may_leave, false);
        let r = f(self);
        self.may_leave = was;
        r
    }

    /// Whether a reconnection refused by the session cap (for the reason
    /// given) may end this lane, its work handed over, rather than be
    /// retried: not while a message's targets are decided, nor with UID
    /// COPYs owed; and only while another lane is live ([`Orphans::leave`],
    /// which then counts this lane as leaving).
    pub(super) fn leave_if_refused(&self) -> impl Fn(&str) -> bool + 'a {
        let orphans = self.orphans.filter(|_| self.may_leave && !self.copying);
        move |why| orphans.is_some_and(|o| o.leave(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty<'f>() -> LaneWork<'f> {
        LaneWork {
            lost: Vec::new(),
            again: Vec::new(),
            fresh: Vec::new(),
            shares: Vec::new(),
            existing: vec!["A".into()],
        }
    }

    #[test]
    fn the_last_live_lane_may_not_leave() {
        let o = Orphans::new(0);
        assert!(!o.leave("cap"), "alone: it reconnects instead");
        let o = Orphans::new(1);
        o.opened();
        assert!(o.leave("cap"));
        assert!(!o.leave("cap"), "the other one is now the last");
        assert_eq!(o.refusals(), (1, Some("cap".into())));
    }

    #[test]
    fn a_live_lane_waits_for_the_work_of_one_leaving() {
        let o = Orphans::new(1);
        o.opened();
        assert!(o.leave("cap"));
        std::thread::scope(|s| {
            let taker = s.spawn(|| match o.next() {
                Some(Orphan::Lane(w)) => w.existing.clone(),
                _ => Vec::new(),
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!taker.is_finished(), "it waits for the hand-over");
            o.hand_over(empty());
            assert_eq!(taker.join().unwrap(), ["A"]);
        });
        assert!(o.next().is_none(), "then nothing more: it stops");
        assert!(o.left_undone().is_empty());
    }

    #[test]
    fn work_no_lane_took_is_named() {
        let o = Orphans::new(1);
        o.opened();
        assert!(o.leave("cap"));
        o.quit();
        let mut w = empty();
        w.fresh.push(("B".into(), Vec::new()));
        o.hand_over(w);
        assert_eq!(o.left_undone(), ["B"]);
    }
}
