//! The source's side of the server check's cheap look: how often each
//! Message-ID occurs among the source messages the plan sends to a target
//! mailbox, known before any of them is claimed.
//!
//! The source is streamed: when a message comes, a look-alike (the same
//! Message-ID and size, another body) may still be to come, and a server
//! copy claimed on the key alone could be that one's (the first would be
//! skipped, lost). Knowing the whole source's Message-IDs for the mailbox
//! first lets the index (`server_index.rs`) claim a server message on its
//! key alone when its Message-ID is on no other source message for that
//! mailbox and no other server message it holds beyond the journal: no
//! body is read for it. Everything else is still decided by body hash.
//!
//! The key pre-pass reads the folders that may feed the mailbox (those
//! planned into it, and every folder whose messages name their own
//! mailboxes: Takeout labels, one message in several mailboxes) through
//! the same reader and the same [`decide()`] as the upload, and keeps counts
//! only: per mailbox, a 64-bit hash of each Message-ID and whether it was
//! met once or more (two Message-IDs with one hash count as repeated: the
//! safe side). A folder is read once per run, whichever mailbox asked
//! first; the counts of every mailbox it feeds are kept. A folder that
//! cannot be read in full (or a pass interrupted) leaves its mailboxes
//! without counts: every claim there is decided by body hash, as before.
//!
//! Only asked for when a mailbox holds messages the journal cannot account
//! for (`server_check.rs`), enough of them to pay for the read
//! ([`Uploader::learn_source_keys`]): an empty
//! or new mailbox, a journal that accounts for everything (or all but a
//! few new messages) and `--allow-duplicates` never read the source twice.
//! The source is taken not to change during the run (a look-alike added
//! between the pass and the upload would not be counted).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::plan::{PlannedFolder, ServerFacts, TargetMap, Verdict, decide};
use crate::source::{FolderKind, ReadOptions};

use super::jobs::source_bytes;
use super::server_index::ServerIndex;
use super::{Uploader, lock};

impl Uploader<'_> {
    /// The key pre-pass for a mailbox just checked: the source's Message-IDs for
    /// `mailbox` given to its index, so that a key unique on both sides is
    /// claimed without reading its body; only when the bodies it may
    /// spare are worth the read ([`worth_a_pre_pass`]). Its cost goes into
    /// the report.
    pub(super) fn learn_source_keys(&mut self, mailbox: &str, index: &mut ServerIndex) {
        let spared = index.bytes_claimable_by_key();
        if spared == 0 {
            return;
        }
        let facts = self.facts();
        let shared = self.shared;
        let cost = {
            let mut keys = lock(&shared.source_keys);
            if !worth_a_pre_pass(spared, keys.unread_bytes(mailbox)) {
                return;
            }
            let (counts, cost) = keys.of_mailbox(mailbox, &facts, &self.opts.stop);
            if let Some(counts) = counts {
                index.know_source(|id| counts.once(id));
            }
            cost
        };
        let check = &mut self.report.server_check;
        check.source_keys_read += cost.messages;
        check.source_keys_seconds += cost.seconds;
    }
}

/// Source bytes the key pre-pass may read per server byte it may spare.
/// Reading the source is many times cheaper per byte than fetching bodies
/// (`scripts/bench --rerun-check`, loopback: the pre-pass read the mbox at
/// about 1 GB/s, the check fetched bodies at about 150 MB/s; over the
/// Internet the gap is wider, and providers cap IMAP downloads), but a
/// mailbox that only gained a few messages since the journal (new mail)
/// is not worth a read of a large source: those few bodies are hashed.
const SOURCE_BYTES_PER_SPARED_BYTE: u64 = 16;

/// True when a key pre-pass that must read `unread` source bytes may spare
/// reading enough of the server's bodies (`spared` bytes) to pay for it.
/// Nothing left to read (folders read by an earlier pass) is always worth it.
fn worth_a_pre_pass(spared: u64, unread: u64) -> bool {
    spared.saturating_mul(SOURCE_BYTES_PER_SPARED_BYTE) >= unread
}

/// How often each Message-ID occurs among the source messages sent to one
/// mailbox: once, or more (by a 64-bit hash of it).
#[derive(Debug, Default)]
pub(super) struct IdCounts(HashMap<u64, bool>);

impl IdCounts {
    fn add(&mut self, id: &str) {
        self.0
            .entry(id_hash(id))
            .and_modify(|repeated| *repeated = true)
            .or_insert(false);
    }

    /// True when exactly one source message for the mailbox has `id`.
    pub fn once(&self, id: &str) -> bool {
        self.0.get(&id_hash(id)) == Some(&false)
    }
}

fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// What one pre-pass cost.
#[derive(Debug, Default, PartialEq)]
pub(super) struct PassCost {
    /// Source messages read.
    pub messages: u64,
    pub seconds: f64,
}

/// The run's source as the pre-pass reads it, and the counts read so far.
#[derive(Debug)]
pub(super) struct SourceKeys {
    folders: Vec<PlannedFolder>,
    map: TargetMap,
    read: ReadOptions,
    /// Folders read in full by a pre-pass.
    done: Vec<bool>,
    counts: HashMap<String, IdCounts>,
    /// Mailboxes a folder that could not be read in full may feed: no
    /// counts for them.
    unknown: HashSet<String>,
    /// A folder that names its messages' mailboxes could not be read in
    /// full: no counts for any mailbox.
    all_unknown: bool,
}

impl SourceKeys {
    pub fn new(folders: &[PlannedFolder], map: &TargetMap, read: &ReadOptions) -> SourceKeys {
        SourceKeys {
            folders: folders.to_vec(),
            map: map.clone(),
            read: read.clone(),
            done: vec![false; folders.len()],
            counts: HashMap::new(),
            unknown: HashSet::new(),
            all_unknown: false,
        }
    }

    /// The Message-ID counts of `mailbox`, reading first the folders that
    /// may feed it and were not read yet; `None` when one of them could
    /// not be read in full (or `stop` was set meanwhile). `facts`: the
    /// server's, as the upload decides with them.
    pub fn of_mailbox(
        &mut self,
        mailbox: &str,
        facts: &ServerFacts,
        stop: &AtomicBool,
    ) -> (Option<&IdCounts>, PassCost) {
        let started = Instant::now();
        let mut cost = PassCost::default();
        let mut complete = true;
        for i in 0..self.folders.len() {
            if self.done[i] || !self.may_feed(i, mailbox) {
                continue;
            }
            if stop.load(Ordering::SeqCst) {
                complete = false;
                break;
            }
            let (read, whole) = self.read_folder(i, facts, stop);
            cost.messages += read;
            if whole {
                self.done[i] = true;
            } else if stop.load(Ordering::SeqCst) {
                complete = false;
            } else if routes_by_message(&self.folders[i], &self.read) {
                self.all_unknown = true;
            } else {
                self.unknown.insert(self.folders[i].mailbox.clone());
            }
        }
        cost.seconds = started.elapsed().as_secs_f64();
        if !complete || self.all_unknown || self.unknown.contains(mailbox) {
            return (None, cost);
        }
        // A mailbox no Send message goes to has empty counts.
        let counts = self.counts.entry(mailbox.to_string()).or_default();
        (Some(counts), cost)
    }

    /// The bytes of the source files a pre-pass for `mailbox` would read
    /// (folders read by an earlier pass are not read again).
    pub fn unread_bytes(&self, mailbox: &str) -> u64 {
        (0..self.folders.len())
            .filter(|&i| !self.done[i] && self.may_feed(i, mailbox))
            .map(|i| source_bytes(&self.folders[i]))
            .sum()
    }

    /// True when folder `i`'s messages may be sent to `mailbox`.
    fn may_feed(&self, i: usize, mailbox: &str) -> bool {
        let f = &self.folders[i];
        f.mailbox == mailbox || routes_by_message(f, &self.read)
    }

    /// Counts the Message-IDs of folder `i`'s messages in each mailbox
    /// [`decide()`] sends them to. Returns the messages read and whether the
    /// folder was read in full.
    fn read_folder(&mut self, i: usize, facts: &ServerFacts, stop: &AtomicBool) -> (u64, bool) {
        let folder = &self.folders[i];
        let Ok(messages) = folder.source.messages(&self.read) else {
            return (0, false);
        };
        let mut read = 0;
        for item in messages {
            if stop.load(Ordering::SeqCst) {
                return (read, false);
            }
            let Ok(msg) = item else {
                return (read, false);
            };
            read += 1;
            let Some(id) = msg.message_id() else {
                // Without Message-ID a claim always needs the body hash.
                continue;
            };
            for (mailbox, verdict) in decide(&msg, folder, &self.map, facts) {
                if verdict == Verdict::Send {
                    self.counts.entry(mailbox).or_default().add(id);
                }
            }
        }
        (read, true)
    }
}

/// True when `folder`'s messages may name their own mailboxes (Gmail
/// Takeout labels, detected by the mbox reader from a file's first message
/// unless `--takeout`/`--no-takeout` said): it may feed any mailbox.
fn routes_by_message(folder: &PlannedFolder, read: &ReadOptions) -> bool {
    read.takeout != Some(false)
        && matches!(
            folder.source.kind,
            FolderKind::Mbox | FolderKind::AppleExport | FolderKind::TakeoutArchive(_)
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ServerLayout, TargetOptions};
    use crate::source::SourceFolder;

    fn folder(path: &std::path::Path, kind: FolderKind, mailbox: &str) -> PlannedFolder {
        PlannedFolder {
            source: SourceFolder {
                path: path.to_path_buf(),
                kind,
                folder: vec![mailbox.into()],
            },
            mailbox: mailbox.into(),
            notes: Vec::new(),
        }
    }

    fn eml_dir(dir: &std::path::Path, ids: &[&str]) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let m = format!(
                "From: a@example.org\r\nMessage-ID: {id}\r\nSubject: {i}\r\n\r\nbody {i}\r\n"
            );
            std::fs::write(dir.join(format!("{i}.eml")), m).unwrap();
        }
        dir.to_path_buf()
    }

    fn facts() -> ServerFacts {
        ServerFacts {
            append_limit: None,
            binary: Some(true),
            size_cap: None,
        }
    }

    /// Two folders mapped into one mailbox count as one source: a
    /// Message-ID met once in each is repeated there. A folder is read
    /// once per run, only when a mailbox it feeds asks.
    #[test]
    fn a_pre_pass_needs_enough_to_spare() {
        assert!(worth_a_pre_pass(1 << 20, 16 << 20));
        assert!(!worth_a_pre_pass(1 << 20, (16 << 20) + 1));
        assert!(worth_a_pre_pass(1, 0), "folders already read");
    }

    #[test]
    fn folders_mapped_into_one_mailbox_count_together() {
        let tmp = tempfile::tempdir().unwrap();
        let a = eml_dir(&tmp.path().join("a"), &["<x>", "<y>"]);
        let b = eml_dir(&tmp.path().join("b"), &["<x>", "<z>"]);
        let c = eml_dir(&tmp.path().join("c"), &["<w>"]);
        let folders = [
            folder(&a, FolderKind::Eml, "All"),
            folder(&b, FolderKind::Eml, "All"),
            folder(&c, FolderKind::Eml, "Other"),
        ];
        let map = TargetMap::new(&TargetOptions::default(), ServerLayout::offline()).unwrap();
        let mut keys = SourceKeys::new(&folders, &map, &ReadOptions::default());
        let stop = AtomicBool::new(false);
        let (counts, cost) = keys.of_mailbox("All", &facts(), &stop);
        let counts = counts.unwrap();
        assert!(!counts.once("<x>"), "in both folders");
        assert!(counts.once("<y>") && counts.once("<z>"));
        assert!(!counts.once("<w>"), "another mailbox's");
        assert_eq!(cost.messages, 4, "folder c is not read for All");
        assert_eq!(keys.unread_bytes("All"), 0, "a and b are read");
        assert!(keys.unread_bytes("Other") > 0);
        let (_, again) = keys.of_mailbox("All", &facts(), &stop);
        assert_eq!(again.messages, 0, "read once per run");
        let (other, cost) = keys.of_mailbox("Other", &facts(), &stop);
        assert!(other.unwrap().once("<w>"));
        assert_eq!(cost.messages, 1);
    }

    /// A folder that cannot be read leaves its mailbox without counts
    /// (every claim by body hash); an interrupted pass gives none either.
    #[test]
    fn an_unreadable_folder_or_a_stop_gives_no_counts() {
        let tmp = tempfile::tempdir().unwrap();
        let a = eml_dir(&tmp.path().join("a"), &["<x>"]);
        let folders = [
            folder(&a, FolderKind::Eml, "All"),
            folder(&tmp.path().join("gone"), FolderKind::Maildir, "All"),
        ];
        let map = TargetMap::new(&TargetOptions::default(), ServerLayout::offline()).unwrap();
        let mut keys = SourceKeys::new(&folders, &map, &ReadOptions::default());
        let stop = AtomicBool::new(false);
        assert!(keys.of_mailbox("All", &facts(), &stop).0.is_none());
        let mut keys = SourceKeys::new(&folders[..1], &map, &ReadOptions::default());
        let stop = AtomicBool::new(true);
        assert!(keys.of_mailbox("All", &facts(), &stop).0.is_none());
        let stop = AtomicBool::new(false);
        assert!(
            keys.of_mailbox("All", &facts(), &stop)
                .0
                .unwrap()
                .once("<x>")
        );
    }

    /// Takeout labels put one message in several mailboxes: an mbox that
    /// names its messages' mailboxes feeds any mailbox, and a message
    /// counts in each of its labels' mailboxes (skipped ones, like chats,
    /// in none).
    #[test]
    fn takeout_labels_count_in_each_mailbox() {
        let tmp = tempfile::tempdir().unwrap();
        let mbox = tmp.path().join("All mail.mbox");
        let msg = |labels: &str, id: &str| {
            format!(
                "From 1@xxx Sat Feb  1 10:00:00 2020\nX-Gmail-Labels: {labels}\nMessage-ID: {id}\nSubject: s\n\nbody {id}\n\n"
            )
        };
        let text = [
            msg("Inbox,Work", "<a>"),
            msg("Work", "<b>"),
            msg("Inbox", "<b>"),
            msg("Chat", "<c>"),
        ]
        .concat();
        std::fs::write(&mbox, text).unwrap();
        let folders = [folder(&mbox, FolderKind::Mbox, "All mail")];
        let map = TargetMap::new(&TargetOptions::default(), ServerLayout::offline()).unwrap();
        let mut keys = SourceKeys::new(&folders, &map, &ReadOptions::default());
        let stop = AtomicBool::new(false);
        let (work, cost) = keys.of_mailbox("Work", &facts(), &stop);
        let work = work.unwrap();
        assert!(work.once("<a>") && work.once("<b>"));
        assert_eq!(cost.messages, 4);
        let (inbox, cost) = keys.of_mailbox("INBOX", &facts(), &stop);
        let inbox = inbox.unwrap();
        assert!(inbox.once("<a>") && inbox.once("<b>") && !inbox.once("<c>"));
        assert_eq!(cost.messages, 0, "counted by the first pass");
    }
}
