//! Which shares of the source a run got through, so that a run that stops
//! early never reports counts that look complete. A share is through when
//! every message of it was read (`feed.rs` reached its end) and handed to
//! the batches in flight (`folder.rs`): from then on each of its messages
//! is counted in the report, whatever stops the run (settled, failed as
//! of unknown fate, or left for the next run). A share the run did not get
//! through marks its mailbox as not read to its end, and the report as
//! stopped before the whole source was read: the counts say what was
//! read, not what the source holds (counting the rest would mean reading
//! it: an mbox has no count short of that).
//!
//! Takeout labels send a message to mailboxes its folder does not name;
//! once a run has met such a message, a share not got through may have
//! held messages for any mailbox, so every one is marked. A folder whose
//! messages all went by their labels is no mailbox of its own: its empty
//! row leaves the report ([`ReadThrough::forget_label_folders`]).
//!
//! What it does not own: the shares (`jobs.rs`), the report's wording
//! (`report.rs`).

use std::collections::HashSet;
use std::sync::Mutex;

use crate::report::Report;
use crate::source::FolderKind;

use super::jobs::Share;
use super::lock;

/// A share by its folder (the plan's own, by address: each planned folder
/// is one value the shares point into) and its part.
type ShareKey = (usize, Option<(usize, usize)>);

fn key(share: &Share) -> ShareKey {
    (std::ptr::from_ref(share.folder) as usize, share.part)
}

/// The shares got through, shared by the run's connections.
#[derive(Default)]
pub(super) struct ReadThrough {
    through: Mutex<HashSet<ShareKey>>,
    /// Folders (by their own mailbox) a message with Takeout labels was
    /// read from.
    labelled: Mutex<HashSet<String>>,
}

impl ReadThrough {
    /// Every message of `share` was read and is counted from now on (or
    /// its folder could not be read at all: reported as such).
    pub(super) fn through(&self, share: &Share) {
        lock(&self.through).insert(key(share));
    }

    /// A message was read from the folder of `mailbox` whose labels
    /// choose its mailboxes.
    pub(super) fn labelled(&self, mailbox: &str) {
        let mut set = lock(&self.labelled);
        if !set.contains(mailbox) {
            set.insert(mailbox.to_string());
        }
    }

    /// Drops from `report` the rows of folders whose messages went by their
    /// labels and none to the folder's own mailbox (a Takeout mbox is
    /// not a mailbox): nothing was created, found or sent there.
    pub(super) fn forget_label_folders(&self, report: &mut Report) {
        let set = lock(&self.labelled);
        report
            .mailboxes
            .retain(|m| !(set.contains(&m.name) && m.is_untouched()));
    }

    /// Marks in `report` the mailboxes of the shares of `lanes` (every
    /// share the run was dealt) not got through.
    pub(super) fn mark(&self, lanes: &[Vec<Share>], report: &mut Report) {
        let through = lock(&self.through);
        let missed: Vec<&Share> = lanes
            .iter()
            .flatten()
            .filter(|s| !through.contains(&key(s)))
            .collect();
        if missed.is_empty() {
            return;
        }
        let any_mailbox = !lock(&self.labelled).is_empty()
            || missed
                .iter()
                .any(|s| matches!(s.folder.source.kind, FolderKind::TakeoutArchive(_)));
        let mailboxes: Vec<String> = if any_mailbox {
            report.mailboxes.iter().map(|m| m.name.clone()).collect()
        } else {
            missed.iter().map(|s| s.folder.mailbox.clone()).collect()
        };
        for m in mailboxes {
            report.unfinished(&m);
        }
        // Even with no mailbox in the report yet.
        report.unread = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannedFolder;
    use crate::source::SourceFolder;

    fn folder(mailbox: &str, kind: FolderKind) -> PlannedFolder {
        PlannedFolder {
            source: SourceFolder {
                path: format!("{mailbox}.mbox").into(),
                kind,
                folder: vec![mailbox.into()],
            },
            mailbox: mailbox.into(),
            notes: Vec::new(),
        }
    }

    fn share(folder: &PlannedFolder, part: Option<(usize, usize)>) -> Share<'_> {
        Share {
            folder,
            part,
            from: 0,
        }
    }

    /// Only the mailboxes of shares not got through are marked; a split
    /// folder is through when every part is, whichever lane resumed it.
    #[test]
    fn the_shares_not_got_through_mark_their_mailboxes() {
        let (a, b, c) = (
            folder("A", FolderKind::Mbox),
            folder("B", FolderKind::Maildir),
            folder("C", FolderKind::Mbox),
        );
        let lanes = vec![
            vec![share(&a, None), share(&c, Some((0, 2)))],
            vec![share(&b, None), share(&c, Some((1, 2)))],
        ];
        let read = ReadThrough::default();
        read.through(&share(&a, None));
        read.through(&Share {
            from: 40,
            ..share(&c, Some((0, 2)))
        });
        let mut report = Report::default();
        for f in [&a, &b, &c] {
            report.mailbox(&f.mailbox);
        }
        read.mark(&lanes, &mut report);
        let marked: Vec<(&str, bool)> = report
            .mailboxes
            .iter()
            .map(|m| (m.name.as_str(), m.unfinished))
            .collect();
        assert_eq!(marked, [("A", false), ("B", true), ("C", true)]);
        assert!(report.unread);

        read.through(&share(&b, None));
        read.through(&share(&c, Some((1, 2))));
        let mut report = Report::default();
        read.mark(&lanes, &mut report);
        assert!(!report.unread, "{report:#?}");
    }

    /// Once a labelled (Takeout) message was read, a share not got
    /// through may have held messages for any mailbox.
    #[test]
    fn after_labels_every_mailbox_is_marked() {
        let (a, b) = (folder("A", FolderKind::Mbox), folder("B", FolderKind::Mbox));
        let lanes = vec![vec![share(&a, None), share(&b, None)]];
        let read = ReadThrough::default();
        read.through(&share(&a, None));
        read.labelled("A");
        let mut report = Report::default();
        report.mailbox("A");
        report.mailbox("Label");
        read.mark(&lanes, &mut report);
        assert!(report.mailboxes.iter().all(|m| m.unfinished), "{report:#?}");
    }
}
