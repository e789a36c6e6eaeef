//! Reading off the send path. Each folder (or share of one, `--unordered`)
//! is read on its own reader thread: opening the source, splitting the
//! mbox, parsing headers and fingerprinting ([`Message::derive`]: SHA-256
//! and Message-ID) happen there, while the connection's thread only
//! decides, writes and reads the socket. The messages come over a queue
//! bounded by messages and by bytes ([`FeedLimits`]), so memory stays flat
//! whatever the reader's lead; a message larger than the byte bound still
//! passes, alone.
//!
//! The reader keeps only the messages its share owns (`jobs.rs`): the
//! others cost no queue traffic and no hashing. Messages and read errors
//! arrive in source order; [`Feed::next_index`] says where the next one
//! would come from, so that a connection the server will not readmit
//! hands the rest of its share over (`handover.rs`).
//!
//! Stopping: dropping the [`Feed`] (the send loop returned, for an
//! interruption or an error that ends the run) tells the reader to stop,
//! empties the queue and joins the thread, which sees the refusal at its
//! next hand-over. No reader outlives its feed. A reader that panics
//! shows up as one unreadable item, so a folder is never taken for
//! complete when it was not read to the end.

use std::collections::VecDeque;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use anyhow::anyhow;

use crate::message::{Message, Origin};
use crate::source::{ReadOptions, SourceError, SourceFolder};

use super::jobs::{Share, part_owns};
use super::lock;

/// One message as read, or why it could not be.
pub(super) type Item = Result<Message, SourceError>;

/// How far a reader may run ahead of its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FeedLimits {
    /// Messages queued.
    pub messages: usize,
    /// Their bytes.
    pub bytes: usize,
}

impl FeedLimits {
    /// 64 messages / 16 MiB: several batches' worth of reading ahead, small
    /// beside the window's 32 MiB in flight.
    pub const DEFAULT: FeedLimits = FeedLimits {
        messages: 64,
        bytes: 16 << 20,
    };

    /// The share of one of `connections` connections, as the window's
    /// byte bound is shared: the total queued stays bounded under `--jobs`.
    pub fn shared_by(self, connections: usize) -> FeedLimits {
        FeedLimits {
            bytes: self.bytes / connections.max(1),
            ..self
        }
    }
}

/// The receiving end: yields the share's messages in source order.
pub(super) struct Feed {
    queue: Arc<Queue>,
    reader: Option<JoinHandle<()>>,
    /// The source index after the last item handed out.
    next: usize,
    /// Set when the source stopped because its file changed under the
    /// reader: the feed's end is not the folder's.
    cut_short: bool,
}

struct Queue {
    state: Mutex<State>,
    /// Signalled on every change: an item in or out, the end, the close.
    changed: Condvar,
    limits: FeedLimits,
    /// The folder, to name a reader's failure.
    origin: Origin,
}

#[derive(Default)]
struct State {
    /// Each item with its size and its index in the source.
    items: VecDeque<(Item, usize, usize)>,
    /// Bytes of the queued messages.
    bytes: usize,
    ended: Ending,
    /// The feed was dropped: the reader stops at its next hand-over.
    closed: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Ending {
    #[default]
    Reading,
    /// The source was read to its end.
    Finished,
    /// The reader thread panicked before the end.
    Failed,
}

impl Feed {
    /// Opens `share`'s folder on a new reader thread and starts reading.
    /// An error is the folder's: it could not be opened at all.
    pub(super) fn open(
        share: &Share,
        read: &ReadOptions,
        limits: FeedLimits,
    ) -> anyhow::Result<Feed> {
        let source: SourceFolder = share.folder.source.clone();
        let read = read.clone();
        let origin = Origin {
            path: source.path.clone(),
            index: 0,
            offset: None,
        };
        let (part, from) = (share.part, share.from);
        Feed::start(origin, part, from, limits, move || source.messages(&read))
    }

    /// True when the feed ended at the folder's end; false when its file
    /// changed under the reader and reading stopped there (the rest of
    /// the folder was not read).
    pub(super) fn read_to_end(&self) -> bool {
        !self.cut_short
    }

    /// The source index (from 0) of the next message this feed would
    /// hand out: the rest of the share starts there.
    pub(super) fn next_index(&self) -> usize {
        self.next
    }

    /// Runs `open` and then its iterator on a new reader thread, keeping
    /// the items `part` owns; returns once `open` has answered.
    fn start<I, F>(
        origin: Origin,
        part: Option<(usize, usize)>,
        from: usize,
        limits: FeedLimits,
        open: F,
    ) -> anyhow::Result<Feed>
    where
        F: FnOnce() -> anyhow::Result<I> + Send + 'static,
        I: Iterator<Item = Item>,
    {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            limits,
            origin,
        });
        let (opened_tx, opened) = sync_channel(1);
        let reader_queue = Arc::clone(&queue);
        let reader = std::thread::Builder::new()
            .name("mailhaul-reader".into())
            .spawn(move || {
                let _end = EndGuard(&reader_queue);
                let messages = match open() {
                    Ok(m) => {
                        let _ = opened_tx.send(Ok(()));
                        m
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                for (index, item) in messages.enumerate() {
                    // A file that changed under this reader stops it: that
                    // is told whichever share the message it stopped at is.
                    let stop = matches!(&item, Err(e) if e.changed_while_read());
                    if (index < from || !part_owns(part, index)) && !stop {
                        continue;
                    }
                    if let Ok(m) = &item {
                        m.derive();
                    }
                    if !reader_queue.push(item, index) {
                        return;
                    }
                }
            })?;
        let feed = Feed {
            queue,
            reader: Some(reader),
            next: from,
            cut_short: false,
        };
        match opened.recv() {
            Ok(Ok(())) => Ok(feed),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(anyhow!("the reader thread failed while opening the folder")),
        }
    }
}

impl Iterator for Feed {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let q = &self.queue;
        let mut st = lock(&q.state);
        loop {
            if let Some((item, size, index)) = st.items.pop_front() {
                st.bytes -= size;
                self.next = index + 1;
                self.cut_short |= matches!(&item, Err(e) if e.changed_while_read());
                q.changed.notify_all();
                return Some(item);
            }
            match st.ended {
                Ending::Reading => st = q.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Ending::Finished => return None,
                Ending::Failed => {
                    st.ended = Ending::Finished;
                    return Some(Err(SourceError {
                        origin: q.origin.clone(),
                        reason: "reading stopped before the end of the folder (the reader thread failed); the rest was not uploaded".into(),
                    }));
                }
            }
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        {
            let mut st = lock(&self.queue.state);
            st.closed = true;
            st.items.clear();
            st.bytes = 0;
            self.queue.changed.notify_all();
        }
        if let Some(reader) = self.reader.take() {
            // A panic has already been reported as an item, or no longer matters.
            let _ = reader.join();
        }
    }
}

impl Queue {
    /// Hands `item` over, waiting while the queue is full. False when the
    /// feed was dropped: the reader is to stop.
    fn push(&self, item: Item, index: usize) -> bool {
        let size = item.as_ref().map_or(0, |m| m.bytes.len());
        let mut st = lock(&self.state);
        while !st.closed && !st.has_room(size, self.limits) {
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.closed {
            return false;
        }
        st.bytes += size;
        st.items.push_back((item, size, index));
        self.changed.notify_all();
        true
    }
}

impl State {
    /// True when a message of `size` bytes may be queued now: within both
    /// bounds, or alone (a message larger than the byte bound must pass).
    fn has_room(&self, size: usize, limits: FeedLimits) -> bool {
        self.items.is_empty()
            || (self.items.len() < limits.messages && self.bytes + size <= limits.bytes)
    }
}

/// Marks the reading ended when the reader thread returns or unwinds.
struct EndGuard<'q>(&'q Queue);

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        st.ended = if std::thread::panicking() {
            Ending::Failed
        } else {
            Ending::Finished
        };
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
