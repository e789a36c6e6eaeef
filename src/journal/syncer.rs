//! The journal's syncer: it makes what the journal has written durable
//! (`fdatasync`). Overlapped, on a sync thread of its own while the
//! connection goes on sending, one `fdatasync` covering every record
//! written before it (group commit); before send (`--allow-duplicates`), on
//! the caller's thread when it waits, as no thread hop is worth it then.
//!
//! It owns no records and makes no decisions: the journal writes (write(2))
//! and says how far the file goes ([`Syncer::ask`]); the syncer syncs and
//! says how far is durable ([`Syncer::wait`]). A failed sync is kept for
//! good: after a failed `fdatasync` the kernel may have dropped the dirty
//! pages, so nothing written before it is known to be on disk whatever
//! later syncs say.

use std::fmt;
use std::fs::File;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// What the thread calls to make the file durable: `File::sync_data`, or a
/// test's stand-in.
pub(super) type SyncFn = Box<dyn FnMut(&File) -> io::Result<()> + Send>;

/// When a `Begin` is made durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Written to the file (write(2)) before the batch is sent, so it
    /// survives the process being killed; synced by the sync thread while
    /// the batch travels. A power cut can lose the last batches' records:
    /// a rerun then finds their messages by reading the mailbox (the server
    /// check), so nothing is doubled.
    #[default]
    Overlapped,
    /// Synced before the batch is sent: for `--allow-duplicates`, where the
    /// journal is the only guard against sending a message twice.
    BeforeSend,
}

/// Where the file stands, shared by the journal and the thread.
#[derive(Debug, Default)]
struct Progress {
    /// Bytes of the file the journal has written and asked to be synced.
    asked: u64,
    /// Of those, bytes a completed sync covers.
    durable: u64,
    /// The first sync that failed (kind, text): every later wait fails.
    failed: Option<(io::ErrorKind, String)>,
    /// The journal is closing: sync what was asked, then stop.
    closing: bool,
}

#[derive(Debug, Default)]
struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Progress>) -> MutexGuard<'a, Progress> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }
}

/// Who runs the syncs.
enum Runner {
    /// The sync thread ([`Durability::Overlapped`]).
    Thread(Option<JoinHandle<()>>),
    /// The caller, when it waits ([`Durability::BeforeSend`]).
    Caller(File, SyncFn),
}

/// Makes the journal's file durable, and says how far it is. Dropping it
/// lets the thread sync what was asked and waits for it to end.
pub(super) struct Syncer {
    shared: Arc<Shared>,
    runner: Runner,
}

impl fmt::Debug for Syncer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Syncer")
            .field("progress", &*self.shared.lock())
            .finish_non_exhaustive()
    }
}

impl Syncer {
    /// A syncer for `file` (a handle of its own on the journal's file),
    /// `written` bytes of which are already durable; with
    /// [`Durability::Overlapped`] its thread is started.
    pub fn start(
        file: File,
        written: u64,
        durability: Durability,
        mut sync: SyncFn,
    ) -> io::Result<Syncer> {
        let shared = Arc::new(Shared::default());
        {
            let mut p = shared.lock();
            p.asked = written;
            p.durable = written;
        }
        let runner = match durability {
            Durability::BeforeSend => Runner::Caller(file, sync),
            Durability::Overlapped => {
                let theirs = Arc::clone(&shared);
                let thread = std::thread::Builder::new()
                    .name("journal-sync".into())
                    .spawn(move || {
                        while let Some(upto) = next_sync(&theirs) {
                            sync_upto(&theirs, &file, &mut sync, upto);
                        }
                    })?;
                Runner::Thread(Some(thread))
            }
        };
        Ok(Syncer { shared, runner })
    }

    /// Asks for the file's first `written` bytes to be made durable; does
    /// not wait.
    pub fn ask(&self, written: u64) {
        let mut p = self.shared.lock();
        if written > p.asked {
            p.asked = written;
            self.shared.changed.notify_all();
        }
    }

    /// Waits until the file's first `written` bytes are durable (asking for
    /// them first), or a sync failed.
    pub fn wait(&mut self, written: u64) -> io::Result<()> {
        self.ask(written);
        if let Runner::Caller(file, sync) = &mut self.runner {
            let due = {
                let p = self.shared.lock();
                p.failed.is_none() && p.durable < written
            };
            if due {
                sync_upto(&self.shared, file, sync, written);
            }
        }
        let mut p = self.shared.lock();
        while p.failed.is_none() && p.durable < written {
            p = self.shared.wait(p);
        }
        failure(&p)
    }

    /// A sync that failed, without waiting.
    pub fn failed(&self) -> io::Result<()> {
        failure(&self.shared.lock())
    }
}

/// Runs one sync covering the file's first `upto` bytes, and records how
/// it went.
fn sync_upto(shared: &Shared, file: &File, sync: &mut SyncFn, upto: u64) {
    let result = sync(file);
    let mut p = shared.lock();
    match result {
        Ok(()) => p.durable = p.durable.max(upto),
        Err(e) => p.failed = Some((e.kind(), format!("syncing it failed: {e}"))),
    }
    shared.changed.notify_all();
}

fn failure(p: &Progress) -> io::Result<()> {
    match &p.failed {
        Some((kind, text)) => Err(io::Error::new(*kind, text.clone())),
        None => Ok(()),
    }
}

/// Blocks until there is something to sync, and says up to where; `None`
/// when the thread is to end (closing with nothing left, or failed).
fn next_sync(shared: &Shared) -> Option<u64> {
    let mut p = shared.lock();
    loop {
        if p.failed.is_some() {
            return None;
        }
        if p.asked > p.durable {
            return Some(p.asked);
        }
        if p.closing {
            return None;
        }
        p = shared.wait(p);
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
        if let Runner::Thread(thread) = &mut self.runner
            && let Some(t) = thread.take()
        {
            let _ = t.join();
        }
    }
}
