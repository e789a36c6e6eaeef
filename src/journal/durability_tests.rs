//! When the journal's records reach the file and the disk: a `Begin` is in
//! the file before `begin` returns and synced by the sync thread meanwhile
//! (or before it returns with `--allow-duplicates`); a failed sync fails
//! the calls after it; drop waits for the thread. The sync is a stand-in
//! that can hold, slow down and fail, and reports each attempt.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::syncer::SyncFn;
use super::*;

/// How long a test waits for the sync thread before it calls it stuck.
const STUCK: Duration = Duration::from_secs(10);

/// A stand-in for `fdatasync`: waits while `hold` is set (at most
/// [`STUCK`]), then `delay`, then fails while `fail` is set; reports each
/// attempt as (the file's length then, succeeded).
#[derive(Clone, Default)]
struct FakeSync {
    hold: Arc<AtomicBool>,
    fail: Arc<AtomicBool>,
    delay: Duration,
}

impl FakeSync {
    /// Each sync `ms` slower: what waits for one is seen waiting.
    fn slowed(ms: u64) -> FakeSync {
        FakeSync {
            delay: Duration::from_millis(ms),
            ..FakeSync::default()
        }
    }

    /// The journal at `p`, synced by this stand-in; and its reports.
    fn open(&self, p: &Path, durability: Durability) -> (Journal, Receiver<(u64, bool)>) {
        let (sync, synced) = self.hook();
        let j = Journal::open_syncing(p, false, durability, sync).unwrap();
        (j, synced)
    }

    fn hook(&self) -> (SyncFn, Receiver<(u64, bool)>) {
        let (tx, rx) = mpsc::channel();
        let this = self.clone();
        let sync = move |f: &File| {
            let until = Instant::now() + STUCK;
            while this.hold.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(this.delay);
            let len = f.metadata()?.len();
            let ok = !this.fail.load(Ordering::SeqCst);
            let _ = tx.send((len, ok));
            if ok {
                Ok(())
            } else {
                Err(io::Error::other("injected EIO"))
            }
        };
        (Box::new(sync), rx)
    }
}

fn fp(n: u8) -> Fingerprint {
    Fingerprint::of(&[n])
}

fn before() -> Before {
    Before {
        uidvalidity: Some(7),
        uidnext: Some(1),
        messages: Some(0),
    }
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

/// The records in the file at `p`, read through a handle of its own.
fn records_in(p: &Path) -> Vec<Record> {
    record::decode(&std::fs::read(p).unwrap()).unwrap().records
}

/// A `Begin` is in the file when `begin` returns, though its sync has not
/// completed (held); once released, one sync covers every `Begin` written
/// while it was held (group commit).
#[test]
fn begin_is_in_the_file_before_its_sync_completes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let fake = FakeSync::default();
    let (mut j, synced) = fake.open(&p, Durability::Overlapped);
    assert_eq!(synced.try_iter().last(), Some((file_len(&p), true)));
    fake.hold.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let batches: Vec<u64> = (1..=3)
        .map(|n| j.begin("INBOX", before(), &[fp(n)]).unwrap())
        .collect();
    assert!(started.elapsed() < STUCK, "begin waited for the sync");
    assert!(synced.try_recv().is_err(), "a sync completed while held");
    let begun: Vec<u64> = records_in(&p)
        .into_iter()
        .filter_map(|r| match r {
            Record::Begin { batch, .. } => Some(batch),
            _ => None,
        })
        .collect();
    assert_eq!(begun, batches);
    fake.hold.store(false, Ordering::SeqCst);
    j.sync().unwrap();
    let attempts: Vec<(u64, bool)> = synced.try_iter().collect();
    assert_eq!(attempts.last(), Some(&(file_len(&p), true)));
    assert!(attempts.len() <= 2, "one sync per begin: {attempts:?}");
}

/// A sync that fails on the thread fails the next journal call, and every
/// one after (nothing written before it is known to be on disk).
#[test]
fn failed_sync_fails_the_next_calls() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let fake = FakeSync::default();
    let (mut j, synced) = fake.open(&p, Durability::Overlapped);
    fake.fail.store(true, Ordering::SeqCst);
    let b = j.begin("INBOX", before(), &[fp(1)]).unwrap();
    let failed = std::iter::from_fn(|| synced.recv_timeout(STUCK).ok()).find(|&(_, ok)| !ok);
    assert!(failed.is_some(), "the sync thread never tried");
    // The stand-in reports before the thread records its failure.
    let until = Instant::now() + STUCK;
    while j.writer.as_ref().unwrap().syncer.failed().is_ok() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    let e = j.end(b).unwrap_err();
    assert!(matches!(e, JournalError::Io { .. }), "{e}");
    assert!(e.to_string().contains("injected EIO"), "{e}");
    fake.fail.store(false, Ordering::SeqCst);
    assert!(j.begin("INBOX", before(), &[fp(2)]).is_err());
    assert!(j.sync().unwrap_err().to_string().contains("injected EIO"));
}

/// Drop writes what is buffered and waits until the sync thread has made
/// all of it durable.
#[test]
fn drop_waits_for_the_sync_thread() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let (mut j, synced) = FakeSync::slowed(100).open(&p, Durability::Overlapped);
    let b = j.begin("INBOX", before(), &[fp(1)]).unwrap();
    let at = Landed {
        uidvalidity: Some(7),
        uid: Some(1),
    };
    j.landed("INBOX", &fp(1), Some(10), at);
    j.end(b).unwrap();
    drop(j);
    assert_eq!(synced.try_iter().last(), Some((file_len(&p), true)));
    assert!(matches!(records_in(&p).last(), Some(Record::End { batch }) if *batch == b));
}

/// With `--allow-duplicates` the journal is the only guard: `begin`
/// returns only once its `Begin` is synced.
#[test]
fn before_send_syncs_before_begin_returns() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let (mut j, synced) = FakeSync::slowed(50).open(&p, Durability::BeforeSend);
    let _ = synced.try_iter().count();
    j.begin("INBOX", before(), &[fp(1)]).unwrap();
    assert_eq!(synced.try_iter().last(), Some((file_len(&p), true)));
}

/// Before send, a failed sync fails the `begin` itself: its batch is not
/// sent.
#[test]
fn before_send_sync_failure_fails_begin() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let fake = FakeSync::default();
    let (mut j, _synced) = fake.open(&p, Durability::BeforeSend);
    fake.fail.store(true, Ordering::SeqCst);
    let e = j.begin("INBOX", before(), &[fp(1)]).unwrap_err();
    assert!(e.to_string().contains("injected EIO"), "{e}");
}
