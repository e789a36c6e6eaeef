//! One folder (or a share of one) through the upload: its messages read
//! off the send path (`feed.rs`), each decided once (where it goes, what
//! the server already holds: `plan::decide`, `server_check.rs`) and
//! batched per target mailbox; each batch is submitted as it fills
//! (`window.rs`). When the server will not readmit this connection, what
//! was read and decided but not written, and where reading stopped, are
//! left for another connection (`handover.rs`).

use crate::message::Message;
use crate::plan::{MailboxBatches, PlannedFolder, ServerFacts, TargetMap, Verdict, decide};
use crate::report::FailureClass;
use crate::source::FolderKind;

use super::jobs::Share;
use super::server_check::Presence;
use super::{Stop, Uploader, feed};

impl Uploader<'_> {
    pub(super) fn folder(&mut self, share: &Share, map: &TargetMap) -> Result<(), Stop> {
        let folder = share.folder;
        self.check_stop()?;
        self.progress.set_status(self.done, &folder.mailbox);
        let limits = feed::FeedLimits::DEFAULT.shared_by(self.connections);
        let mut messages = match feed::Feed::open(share, &self.opts.read, limits) {
            Ok(m) => m,
            Err(e) => {
                // Reported once, as the folder's failure (`read_through.rs`).
                self.shared.read_through.through(share);
                if share.speaks_for_folder() {
                    let origin = folder.source.path.display().to_string();
                    self.fail(
                        &folder.mailbox,
                        origin,
                        None,
                        FailureClass::Unreadable,
                        format!("{e:#}"),
                    );
                }
                return Ok(());
            }
        };
        let mut batches = MailboxBatches::new(self.opts.limits);
        let r = self.messages(&mut messages, folder, map, &mut batches);
        if let Err(Stop::Fewer(_)) = &r {
            // The server will not readmit this lane: what it read and
            // decided goes to another, which reads on from here (or from
            // the message being decided, set by `messages`).
            self.left.fresh.extend(batches.finish());
            self.left.resume.get_or_insert(messages.next_index());
        }
        r?;
        self.submit_all(batches.finish())?;
        self.make_copies()?;
        if messages.next_index() == 0 && share.speaks_for_folder() {
            self.empty_folder(folder)?;
        }
        if messages.read_to_end() {
            self.shared.read_through.through(share);
        }
        Ok(())
    }

    /// A folder without messages is still part of the tree: its mailbox
    /// is created (or found) on the server like any other. A Takeout
    /// archive's mbox is no folder (its messages go by their labels).
    fn empty_folder(&mut self, folder: &PlannedFolder) -> Result<(), Stop> {
        if matches!(folder.source.kind, FolderKind::TakeoutArchive(_)) {
            return Ok(());
        }
        if let Some((_, reason)) = self.ensure_mailbox(&folder.mailbox)? {
            self.report.warnings.push(format!(
                "{}: empty folder not made on the server: {reason}",
                folder.mailbox
            ));
        }
        Ok(())
    }

    /// Decides and batches the messages of `feed` (read from `folder`),
    /// submitting each batch as it fills.
    fn messages(
        &mut self,
        feed: &mut feed::Feed,
        folder: &PlannedFolder,
        map: &TargetMap,
        batches: &mut MailboxBatches,
    ) -> Result<(), Stop> {
        let facts = self.facts();
        while let Some(item) = feed.next() {
            let msg = match item {
                Ok(m) => m,
                Err(e) => {
                    let origin = e.origin.to_string();
                    self.fail(
                        &folder.mailbox,
                        origin,
                        None,
                        FailureClass::Unreadable,
                        e.reason,
                    );
                    continue;
                }
            };
            if !msg.targets.is_empty() {
                self.shared.read_through.labelled(&folder.mailbox);
            }
            let accepted = self.without_leaving(|up| up.place(&msg, folder, map, &facts));
            if let Err(Stop::Fewer(_)) = &accepted {
                // Nothing of it recorded (`place`): read again by the lane
                // taking over.
                self.left.resume = Some(feed.next_index() - 1);
            }
            let accepted = accepted?;
            for w in &msg.warnings {
                self.report.warnings.push(format!("{}: {w}", msg.origin));
            }
            let mut full = Vec::new();
            if let [first, others @ ..] = accepted.as_slice()
                && !others.is_empty()
                && self.copies_by_uid()
            {
                // Sent once; copied into the others when it has landed.
                self.copying = true;
                self.want_copies(first, &msg, others);
                full.extend(batches.push(first, msg));
            } else if let Some((last, others)) = accepted.split_last() {
                // Every target but the last gets a copy; the last takes the message.
                for mailbox in others {
                    full.extend(batches.push(mailbox, msg.clone()));
                }
                full.extend(batches.push(last, msg));
            }
            self.submit_all(full)?;
        }
        Ok(())
    }

    /// Decides where `msg` goes: each target's verdict, the server's
    /// mailbox and what it holds; returns the mailboxes it is to be sent
    /// to (the others are reported here).
    fn place(
        &mut self,
        msg: &Message,
        folder: &PlannedFolder,
        map: &TargetMap,
        facts: &ServerFacts,
    ) -> Result<Vec<String>, Stop> {
        let fp = msg.fingerprint();
        let mut accepted = Vec::new();
        let decisions = decide(msg, folder, map, facts);
        let skipped = decisions.iter().any(|(_, v)| matches!(v, Verdict::Skip(_)));
        // Until something of this message is recorded (a verdict reported,
        // a presence check begun), a refused reconnection may end the lane:
        // the lane taking over reads the message again (`handover.rs`).
        let mut recorded = false;
        for (mailbox, verdict) in decisions {
            let refusal = match verdict {
                Verdict::Send => {
                    self.may_leave = !recorded;
                    let r = self.ensure_mailbox(&mailbox);
                    self.may_leave = false;
                    r?
                }
                Verdict::Skip(reason) => {
                    recorded = true;
                    self.report
                        .skipped(&mailbox, msg.origin.to_string(), reason);
                    continue;
                }
                // Never for a connected server; refused on the safe side.
                Verdict::CannotSend(r) | Verdict::DependsOnServer(r) => {
                    Some((r.class(), r.reason()))
                }
            };
            recorded = true;
            if let Some((class, reason)) = refusal {
                let origin = msg.origin.to_string();
                self.fail(&mailbox, origin, Some(&msg.bytes), class, reason);
                self.progress.advance(msg.bytes.len() as u64);
                continue;
            }
            match self.presence(&mailbox, msg, &fp)? {
                Presence::Absent => {}
                Presence::There(why) => {
                    self.report.already_present(
                        &mailbox,
                        msg.origin.to_string(),
                        why.reason().into(),
                    );
                    self.progress.advance(msg.bytes.len() as u64);
                    continue;
                }
                Presence::Unchecked(_) if self.fate_unknown(&mailbox, &fp) => {
                    self.held_back(&mailbox, msg);
                    continue;
                }
                Presence::Unchecked(why) => {
                    let origin = msg.origin.to_string();
                    self.fail(
                        &mailbox,
                        origin,
                        Some(&msg.bytes),
                        FailureClass::NotSent,
                        why,
                    );
                    self.progress.advance(msg.bytes.len() as u64);
                    continue;
                }
            }
            if self.fate_unknown(&mailbox, &fp) {
                self.held_back(&mailbox, msg);
                continue;
            }
            accepted.push(mailbox);
        }
        if skipped {
            self.progress.advance(msg.bytes.len() as u64);
        }
        Ok(accepted)
    }
}
