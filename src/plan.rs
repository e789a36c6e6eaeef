//! Plan: decides where each source folder goes on the server and cuts the
//! message stream into APPEND batches. It maps folder paths onto the server's
//! hierarchy delimiter (`--mailbox`, `--prefix`, INBOX), and bounds batches by
//! count and bytes. It does no I/O: `upload` feeds it messages and sends what
//! it returns.

use crate::message::Message;
use crate::source::SourceFolder;

/// Maps source folder paths to server mailbox names.
#[derive(Clone, Debug)]
pub struct TargetMap {
    /// `--mailbox`: everything goes here (components split on `/`).
    pub single: Option<Vec<String>>,
    /// `--prefix`: the mirrored tree goes under this (components split on `/`).
    pub prefix: Vec<String>,
    /// The server's hierarchy delimiter (from LIST); `None` for a flat server.
    pub delimiter: Option<char>,
}

/// A source folder with the mailbox its messages go to.
#[derive(Clone, Debug)]
pub struct PlannedFolder {
    pub source: SourceFolder,
    /// The full server name (UTF-8, with the server's delimiter).
    pub mailbox: String,
    /// Why the name differs from the source name, if it does.
    pub notes: Vec<String>,
}

/// Splits a user-given mailbox path on `/` (the separator on the command line,
/// whatever the server uses), ignoring empty parts.
pub fn split_user_path(s: &str) -> Vec<String> {
    s.split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl TargetMap {
    pub fn new(mailbox: Option<&str>, prefix: Option<&str>, delimiter: Option<char>) -> TargetMap {
        TargetMap {
            single: mailbox.map(split_user_path).filter(|p| !p.is_empty()),
            prefix: prefix.map(split_user_path).unwrap_or_default(),
            delimiter,
        }
    }

    /// The server name for a source folder, and notes on any change made to
    /// fit the server (a delimiter inside a folder name).
    pub fn target(&self, folder: &[String]) -> (String, Vec<String>) {
        let components: Vec<String> = match &self.single {
            Some(single) => single.clone(),
            None => self.prefix.iter().chain(folder).cloned().collect(),
        };
        let mut notes = Vec::new();
        let parts: Vec<String> = components
            .iter()
            .map(|c| match self.delimiter {
                Some(d) if c.contains(d) => {
                    let fixed = c.replace(d, "_");
                    notes.push(format!(
                        "folder name {c:?} contains the server's hierarchy delimiter {d:?}; uploaded as {fixed:?}"
                    ));
                    fixed
                }
                _ => c.clone(),
            })
            .collect();
        let mut name = match self.delimiter {
            Some(d) => parts.join(&d.to_string()),
            None => parts.join("_"),
        };
        if parts.len() == 1 && name.eq_ignore_ascii_case("INBOX") {
            name = "INBOX".into();
        }
        (name, notes)
    }

    /// The mailboxes a message goes to: its own targets (Takeout labels)
    /// mapped like folders, else its folder's mailbox.
    pub fn targets_of(&self, msg: &Message, folder: &PlannedFolder) -> Vec<String> {
        if msg.targets.is_empty() {
            return vec![folder.mailbox.clone()];
        }
        let mut out: Vec<String> = Vec::new();
        for t in &msg.targets {
            let name = self.target(t).0;
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Plans every folder.
    pub fn plan(&self, folders: &[SourceFolder]) -> Vec<PlannedFolder> {
        folders
            .iter()
            .map(|f| {
                let (mailbox, notes) = self.target(&f.folder);
                PlannedFolder {
                    source: f.clone(),
                    mailbox,
                    notes,
                }
            })
            .collect()
    }
}

/// Limits for one APPEND command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_messages: usize,
    pub max_bytes: u64,
}

/// Collects messages into batches bounded by [`BatchLimits`]. A message larger
/// than `max_bytes` on its own forms a batch of one.
#[derive(Debug)]
pub struct BatchBuilder {
    limits: BatchLimits,
    pending: Vec<Message>,
    /// Bytes of the messages in `pending`.
    pub pending_bytes: u64,
}

impl BatchBuilder {
    pub fn new(limits: BatchLimits) -> BatchBuilder {
        BatchBuilder {
            limits,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Adds a message; returns a full batch when one is ready to send (the
    /// batch before this message, if the message would not fit).
    pub fn push(&mut self, msg: Message) -> Option<Vec<Message>> {
        let size = msg.bytes.len() as u64;
        let out = if !self.pending.is_empty()
            && self.pending_bytes.saturating_add(size) > self.limits.max_bytes
        {
            self.take()
        } else {
            None
        };
        self.pending_bytes += size;
        self.pending.push(msg);
        if out.is_none() && self.pending.len() >= self.limits.max_messages {
            return self.take();
        }
        out
    }

    /// The last, partial batch.
    pub fn finish(&mut self) -> Option<Vec<Message>> {
        self.take()
    }

    fn take(&mut self) -> Option<Vec<Message>> {
        if self.pending.is_empty() {
            return None;
        }
        self.pending_bytes = 0;
        Some(std::mem::take(&mut self.pending))
    }
}

/// Batches for several mailboxes at once, for sources that route message by
/// message (Gmail Takeout). Order within each mailbox is kept; the bytes held
/// across all mailboxes stay within one batch's byte limit.
#[derive(Debug)]
pub struct MailboxBatches {
    limits: BatchLimits,
    builders: Vec<(String, BatchBuilder)>,
}

impl MailboxBatches {
    pub fn new(limits: BatchLimits) -> MailboxBatches {
        MailboxBatches {
            limits,
            builders: Vec::new(),
        }
    }

    /// Adds a message for `mailbox`; returns the batches ready to send.
    pub fn push(&mut self, mailbox: &str, msg: Message) -> Vec<(String, Vec<Message>)> {
        let i = match self.builders.iter().position(|(m, _)| m == mailbox) {
            Some(i) => i,
            None => {
                self.builders
                    .push((mailbox.to_string(), BatchBuilder::new(self.limits)));
                self.builders.len() - 1
            }
        };
        let mut ready = Vec::new();
        if let Some(batch) = self.builders[i].1.push(msg) {
            ready.push((mailbox.to_string(), batch));
        }
        let held: u64 = self.builders.iter().map(|(_, b)| b.pending_bytes).sum();
        if held > self.limits.max_bytes {
            ready.extend(self.finish());
        }
        ready
    }

    /// Every partial batch, in the order the mailboxes were first seen.
    pub fn finish(&mut self) -> Vec<(String, Vec<Message>)> {
        self.builders
            .iter_mut()
            .filter_map(|(m, b)| Some((m.clone(), b.finish()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Origin;

    fn names(map: &TargetMap, folder: &[&str]) -> String {
        let f: Vec<String> = folder.iter().map(|s| s.to_string()).collect();
        map.target(&f).0
    }

    #[test]
    fn mapping() {
        let m = TargetMap::new(None, None, Some('.'));
        assert_eq!(names(&m, &["inbox"]), "INBOX");
        assert_eq!(names(&m, &["Archive", "2019"]), "Archive.2019");
        let m = TargetMap::new(None, Some("Old/Mail"), Some('/'));
        assert_eq!(names(&m, &["INBOX"]), "Old/Mail/INBOX");
        assert_eq!(names(&m, &["Sent"]), "Old/Mail/Sent");
        let m = TargetMap::new(Some("Imported/2020"), Some("ignored"), Some('.'));
        assert_eq!(names(&m, &["Sent"]), "Imported.2020");
    }

    #[test]
    fn delimiter_inside_a_name_is_replaced_and_noted() {
        let m = TargetMap::new(None, None, Some('.'));
        let (name, notes) = m.target(&["v1.2 notes".to_string()]);
        assert_eq!(name, "v1_2 notes");
        assert_eq!(notes.len(), 1);
    }

    fn msg(size: usize) -> Message {
        Message {
            origin: Origin {
                path: "x".into(),
                index: 1,
                offset: None,
            },
            bytes: vec![b'x'; size],
            flags: vec![],
            date: None,
            warnings: vec![],
            targets: vec![],
            skip: None,
        }
    }

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let mut b = BatchBuilder::new(BatchLimits {
            max_messages: 3,
            max_bytes: 100,
        });
        let mut sizes = Vec::new();
        for s in [10, 10, 10, 10, 60, 50, 200, 5] {
            if let Some(batch) = b.push(msg(s)) {
                sizes.push(batch.iter().map(|m| m.bytes.len()).collect::<Vec<_>>());
            }
        }
        if let Some(batch) = b.finish() {
            sizes.push(batch.iter().map(|m| m.bytes.len()).collect());
        }
        assert_eq!(
            sizes,
            vec![vec![10, 10, 10], vec![10, 60], vec![50], vec![200], vec![5]]
        );
        assert!(b.finish().is_none());
    }

    #[test]
    fn mailbox_batches_keep_order_and_bound_held_bytes() {
        let mut b = MailboxBatches::new(BatchLimits {
            max_messages: 2,
            max_bytes: 100,
        });
        let mut out = Vec::new();
        for (mb, size) in [("A", 10), ("B", 20), ("A", 11), ("B", 80), ("A", 12)] {
            out.extend(b.push(mb, msg(size)));
        }
        out.extend(b.finish());
        let got: Vec<(String, Vec<usize>)> = out
            .into_iter()
            .map(|(m, v)| (m, v.iter().map(|m| m.bytes.len()).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A".to_string(), vec![10, 11]),
                ("B".to_string(), vec![20, 80]),
                ("A".to_string(), vec![12]),
            ]
        );
    }
}
