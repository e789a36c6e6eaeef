//! Batches: cuts a mailbox's message stream into APPEND commands bounded by
//! message count and bytes, and keeps several mailboxes' batches at once for
//! sources that route message by message, without ever holding more than one
//! batch's bytes.

use crate::message::Message;

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

    fn msg(size: usize) -> Message {
        Message::sample("x", &vec![b'x'; size])
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
