//! The journal: an append-only file of what landed on the server, so that a
//! rerun skips it and a killed run can be resolved. One journal per
//! server+user, by default `$XDG_STATE_HOME/mailhaul/USER@HOST:PORT.journal`.
//!
//! A batch is journaled in three steps: `Begin` (the mailbox's STATUS and
//! the batch's fingerprints, written to the file before anything is sent),
//! one `Landed` per message that the tagged OK confirmed (with its
//! APPENDUID, its size and, when its bytes were uploaded, the time:
//! `uploads.rs`), and `End` (both buffered, written with the next batch's
//! `Begin`). A `Begin` without `End` on the next run is a batch of unknown
//! fate: the uploader resolves it by looking at the server before sending
//! anything ([`Journal::pending`]).
//!
//! Durability: a record is written (write(2)) before the batch it announces
//! is sent, so it survives the process being killed (SIGKILL, a crash); only
//! an OS crash or a power cut loses what is not yet synced. The `fdatasync`
//! runs on the journal's sync thread (`syncer.rs`) while the batch
//! travels, one sync for every record written before it
//! ([`Durability::Overlapped`]). A power cut can thus cost the last batches'
//! records, never a record before a synced one (the file is a prefix), and
//! doubles nothing: a rerun reads every mailbox whose messages the journal
//! cannot account for (`upload/server_check.rs`). With `--allow-duplicates`
//! that check is off and the journal is the only guard, so each `Begin` is
//! synced before its batch is sent ([`Durability::BeforeSend`]). A failed
//! sync is never swallowed: it fails the next [`Journal::begin`],
//! [`Journal::end`] or [`Journal::sync`] (and every one after), which
//! stops the run; [`Journal::sync`] and drop wait for the thread.
//!
//! Entries are keyed by (mailbox, fingerprint); a fingerprint can land more
//! than once when the source holds identical copies, so each key keeps a list.
//! This module does no IMAP: it is told what happened and remembers it.
//!
//! The journal is a cache, not the last word: it names no server (a URL can
//! be spelled many ways, and two servers can look alike), its entries are
//! bound to what a server can confirm instead: mailbox, UIDVALIDITY (from
//! APPENDUID, else from the STATUS of the `Begin` before it), UID and the
//! size as sent. The uploader checks those against the server before it
//! trusts them ([`Journal::holdings`]) and [`Journal::distrust`]s a mailbox
//! whose entries do not hold there.
//!
//! The journal, its lock and the directories made for them are private to
//! their owner (`crate::private_file`): they name servers and mailboxes.

#[cfg(test)]
mod durability_tests;
mod lock;
mod record;
mod syncer;
mod uploads;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use lock::{Lock, LockError};
pub use record::Record;
pub use syncer::Durability;
pub use uploads::{Upload, unix_seconds};

use crate::fingerprint::Fingerprint;
use crate::private_file;

use syncer::{SyncFn, Syncer};

/// Where a journaled message is on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landed {
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
}

/// What the journal says a mailbox holds, to be checked against the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Journal entries for the mailbox, under any UIDVALIDITY, with a UID or not.
    pub entries: usize,
    /// Of `entries`: those under the current UIDVALIDITY, with a UID or not.
    pub current: usize,
    /// A UIDVALIDITY of entries that is not the mailbox's current one: the
    /// mailbox was recreated since (or this is another server).
    pub stale_uidvalidity: Option<u32>,
    /// Journaled UIDs under the current UIDVALIDITY, ascending, each with
    /// the message's size as sent where the journal knows it.
    pub uids: Vec<(u32, Option<u64>)>,
}

/// One mailbox's entries.
#[derive(Debug, Default)]
struct MailboxEntries {
    by_fp: HashMap<Fingerprint, Vec<Landed>>,
    /// The size as sent of the message at (UIDVALIDITY, UID), where known.
    sizes: HashMap<(u32, u32), Option<u64>>,
}

/// A batch begun but not ended by an earlier run: its fate is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub batch: u64,
    pub mailbox: String,
    pub uidvalidity: Option<u32>,
    pub uidnext: Option<u32>,
    pub messages: Option<u32>,
    pub fps: Vec<Fingerprint>,
    /// The messages' sizes and Message-IDs, in order, when the journal
    /// recorded them (empty for journals of older versions).
    pub keys: Vec<(u64, Option<String>)>,
}

/// The state of a mailbox's STATUS before a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Before {
    pub uidvalidity: Option<u32>,
    pub uidnext: Option<u32>,
    pub messages: Option<u32>,
}

#[derive(Debug)]
pub enum JournalError {
    /// Another run holds the journal's lock.
    Locked {
        path: PathBuf,
        pid: Option<u32>,
    },
    /// The file is not a journal.
    Foreign {
        path: PathBuf,
        why: String,
    },
    Io {
        path: PathBuf,
        error: io::Error,
    },
    /// Something was to be written to a journal opened read only.
    ReadOnly {
        path: PathBuf,
    },
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Locked { path, pid } => {
                write!(
                    f,
                    "the journal {} is in use by another mailhaul run",
                    path.display()
                )?;
                if let Some(pid) = pid {
                    write!(f, " (pid {pid})")?;
                }
                write!(f, "; wait for it, or use --wait-lock")
            }
            JournalError::Foreign { path, why } => write!(f, "{}: {why}", path.display()),
            JournalError::Io { path, error } => write!(f, "journal {}: {error}", path.display()),
            JournalError::ReadOnly { path } => {
                write!(f, "journal {}: opened read only", path.display())
            }
        }
    }
}

impl std::error::Error for JournalError {}

/// What a journal opened for writing holds: its file, its sync thread and
/// its lock (dropped in that order: the thread joined before the lock is
/// released).
#[derive(Debug)]
struct Writer {
    file: File,
    /// Makes what is written durable.
    syncer: Syncer,
    _lock: Lock,
}

/// An open journal: locked and written to, or read only
/// ([`Journal::read_only`]: `upload --dry-run`).
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// `None` when read only: nothing can be written.
    writer: Option<Writer>,
    landed: HashMap<String, MailboxEntries>,
    /// Each mailbox's UIDVALIDITY as its last `Begin` saw it: that of the
    /// entries after it which carry none (no UIDPLUS).
    begun_uidvalidity: HashMap<String, u32>,
    pending: BTreeMap<u64, Pending>,
    /// Uploads with their times, in the order written (`uploads.rs`).
    uploads: Vec<Upload>,
    next_batch: u64,
    /// Records not yet written to the file.
    buf: Vec<u8>,
    /// Bytes of the file written so far (its length).
    written: u64,
    /// When a `Begin` is made durable.
    durability: Durability,
    /// Why the journal cannot be trusted to keep anything more: a failed
    /// write or sync (kind, text). Every later call fails with it.
    fault: Option<(io::ErrorKind, String)>,
    /// The fault was returned to a caller (else drop logs it).
    fault_told: bool,
    /// What opening found worth saying (a torn tail dropped).
    pub notes: Vec<String>,
}

impl Journal {
    /// Opens (creating) the journal at `path` and locks it; `wait`: block
    /// while another run holds the lock. A torn tail is cut off. Each
    /// `Begin` is synced while its batch travels ([`Durability::Overlapped`]).
    pub fn open(path: &Path, wait: bool) -> Result<Journal, JournalError> {
        Journal::open_with(path, wait, Durability::default())
    }

    /// [`Journal::open`], with `durability` saying when a `Begin` is synced.
    pub fn open_with(
        path: &Path,
        wait: bool,
        durability: Durability,
    ) -> Result<Journal, JournalError> {
        Journal::open_syncing(path, wait, durability, Box::new(|f: &File| f.sync_data()))
    }

    /// [`Journal::open_with`], the file made durable by `sync`.
    fn open_syncing(
        path: &Path,
        wait: bool,
        durability: Durability,
        sync: SyncFn,
    ) -> Result<Journal, JournalError> {
        let io_err = |error| JournalError::Io {
            path: path.to_path_buf(),
            error,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_file::create_dir_all(dir).map_err(io_err)?;
        }
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock = Lock::acquire(Path::new(&lock_name), wait).map_err(|e| match e {
            LockError::Held { pid, .. } => JournalError::Locked {
                path: path.to_path_buf(),
                pid,
            },
            LockError::Io { path, error } => JournalError::Io { path, error },
        })?;
        let (data, decoded) = read_records(path)?;
        let mut notes = Vec::new();
        let file = private_file::open(path, OpenOptions::new().create(true).append(true))
            .map_err(io_err)?;
        if decoded.valid_len < data.len() {
            notes.push(format!(
                "journal {}: dropped a torn or damaged tail of {} bytes (a run was interrupted while writing)",
                path.display(),
                data.len() - decoded.valid_len
            ));
        }
        if decoded.valid_len < data.len() || data.len() < record::MAGIC.len() {
            file.set_len(decoded.valid_len as u64).map_err(io_err)?;
        }
        let written = decoded.valid_len as u64;
        let syncer = file
            .try_clone()
            .and_then(|own| Syncer::start(own, written, durability, sync))
            .map_err(io_err)?;
        let writer = Writer {
            file,
            syncer,
            _lock: lock,
        };
        let mut j = Journal::new(path, Some(writer), written, durability);
        j.notes = notes;
        if decoded.valid_len == 0 {
            j.buf.extend_from_slice(record::MAGIC);
            j.sync()?;
        }
        for r in decoded.records {
            j.apply(r);
        }
        Ok(j)
    }

    /// A journal of no records yet, `written` bytes long.
    fn new(path: &Path, writer: Option<Writer>, written: u64, durability: Durability) -> Journal {
        Journal {
            path: path.to_path_buf(),
            writer,
            landed: HashMap::new(),
            begun_uidvalidity: HashMap::new(),
            pending: BTreeMap::new(),
            uploads: Vec::new(),
            next_batch: 1,
            buf: Vec::new(),
            written,
            durability,
            fault: None,
            fault_told: false,
            notes: Vec::new(),
        }
    }

    /// Reads the journal at `path` without locking or writing anything
    /// (no file or directory is created, a torn tail is only skipped):
    /// what a dry run needs to know of it. A missing file is an empty
    /// journal. Anything written to it fails ([`JournalError::ReadOnly`]).
    pub fn read_only(path: &Path) -> Result<Journal, JournalError> {
        let (_, decoded) = read_records(path)?;
        let written = decoded.valid_len as u64;
        let mut j = Journal::new(path, None, written, Durability::default());
        for r in decoded.records {
            j.apply(r);
        }
        Ok(j)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn apply(&mut self, r: Record) {
        match r {
            Record::Begin {
                batch,
                mailbox,
                uidvalidity,
                uidnext,
                messages,
                fps,
                sizes,
                ids,
            } => {
                self.next_batch = self.next_batch.max(batch + 1);
                if let Some(uv) = uidvalidity {
                    self.begun_uidvalidity.insert(mailbox.clone(), uv);
                }
                let fps: Vec<Fingerprint> = fps
                    .iter()
                    .filter_map(|f| Fingerprint::from_hex(f))
                    .collect();
                let keys = if sizes.len() == fps.len() && ids.len() == fps.len() {
                    sizes.into_iter().zip(ids).collect()
                } else {
                    Vec::new()
                };
                self.pending.insert(
                    batch,
                    Pending {
                        batch,
                        mailbox,
                        uidvalidity,
                        uidnext,
                        messages,
                        fps,
                        keys,
                    },
                );
            }
            Record::Landed {
                mailbox,
                fp,
                uidvalidity,
                uid,
                size,
                at,
            } => {
                if let (Some(at), Some(bytes)) = (at, size) {
                    self.uploads.push(Upload { at, bytes });
                }
                if let Some(fp) = Fingerprint::from_hex(&fp) {
                    let uidvalidity =
                        uidvalidity.or_else(|| self.begun_uidvalidity.get(&mailbox).copied());
                    let m = self.landed.entry(mailbox).or_default();
                    if let (Some(uv), Some(uid)) = (uidvalidity, uid) {
                        m.sizes.insert((uv, uid), size);
                    }
                    m.by_fp
                        .entry(fp)
                        .or_default()
                        .push(Landed { uidvalidity, uid });
                }
            }
            Record::End { batch } => {
                self.pending.remove(&batch);
            }
        }
    }

    fn write(&mut self, r: Record) {
        self.buf.extend(record::encode(&r));
        self.apply(r);
    }

    /// Writes what is buffered and waits until everything written is
    /// durable (synced by the sync thread).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.write_out()?;
        let Some(w) = &mut self.writer else {
            return Ok(());
        };
        let r = w.syncer.wait(self.written);
        self.faulty(r)
    }

    /// Writes what is buffered to the file (write(2)): from here it survives
    /// the process being killed. Asks the syncer to make it durable.
    fn write_out(&mut self) -> Result<(), JournalError> {
        self.healthy()?;
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(w) = &mut self.writer else {
            self.buf.clear();
            return Err(JournalError::ReadOnly {
                path: self.path.clone(),
            });
        };
        let r = w.file.write_all(&self.buf);
        if r.is_ok() {
            self.written += self.buf.len() as u64;
            w.syncer.ask(self.written);
        }
        self.buf.clear();
        self.faulty(r)
    }

    /// Fails when a write or a sync has failed (the sync thread's failure
    /// seen here first).
    fn healthy(&mut self) -> Result<(), JournalError> {
        let r = self.writer.as_ref().map_or(Ok(()), |w| w.syncer.failed());
        self.faulty(r)
    }

    /// Keeps a failure as the journal's fault (the first one stays), and
    /// returns it, or the fault kept earlier, as a [`JournalError`].
    fn faulty(&mut self, r: io::Result<()>) -> Result<(), JournalError> {
        if let Err(e) = r
            && self.fault.is_none()
        {
            self.fault = Some((e.kind(), e.to_string()));
        }
        match &self.fault {
            None => Ok(()),
            Some((kind, text)) => {
                self.fault_told = true;
                Err(JournalError::Io {
                    path: self.path.clone(),
                    error: io::Error::new(*kind, text.clone()),
                })
            }
        }
    }

    /// How often `fp` is journaled as landed in `mailbox` while its
    /// UIDVALIDITY was `uidvalidity` (entries under another one were made in
    /// an earlier incarnation of the mailbox, or on another server).
    pub fn count(&self, mailbox: &str, fp: &Fingerprint, uidvalidity: Option<u32>) -> usize {
        self.entries(mailbox, fp)
            .iter()
            .filter(|l| l.uidvalidity == uidvalidity)
            .count()
    }

    /// Where `fp` is journaled as landed in `mailbox`.
    pub fn entries(&self, mailbox: &str, fp: &Fingerprint) -> &[Landed] {
        self.landed
            .get(mailbox)
            .and_then(|m| m.by_fp.get(fp))
            .map_or(&[], Vec::as_slice)
    }

    fn all_entries(&self, mailbox: &str) -> impl Iterator<Item = &Landed> {
        self.landed
            .get(mailbox)
            .into_iter()
            .flat_map(|m| m.by_fp.values().flatten())
    }

    /// The UIDVALIDITY values recorded for `mailbox` that differ from `now`:
    /// entries under them point at UIDs that no longer mean anything.
    pub fn stale_uidvalidity(&self, mailbox: &str, now: u32) -> Option<u32> {
        self.all_entries(mailbox)
            .find_map(|l| l.uidvalidity.filter(|&u| u != now))
    }

    /// True when any message is journaled for `mailbox`.
    pub fn has_entries(&self, mailbox: &str) -> bool {
        self.landed
            .get(mailbox)
            .is_some_and(|m| !m.by_fp.is_empty())
    }

    /// Every mailbox the journal holds landed messages for, sorted.
    pub fn mailboxes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .landed
            .iter()
            .filter(|(_, m)| !m.by_fp.is_empty())
            .map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// UIDs journaled in `mailbox` under `uidvalidity`.
    pub fn uids(&self, mailbox: &str, uidvalidity: Option<u32>) -> std::collections::HashSet<u32> {
        self.all_entries(mailbox)
            .filter(|l| l.uidvalidity == uidvalidity)
            .filter_map(|l| l.uid)
            .collect()
    }

    /// What the journal says `mailbox` holds, given its UIDVALIDITY `now`
    /// on the server.
    pub fn holdings(&self, mailbox: &str, now: Option<u32>) -> Holdings {
        let entries = self.all_entries(mailbox).count();
        let current = self
            .all_entries(mailbox)
            .filter(|l| l.uidvalidity == now)
            .count();
        let stale_uidvalidity = now.and_then(|now| self.stale_uidvalidity(mailbox, now));
        let mut uids: Vec<(u32, Option<u64>)> = match (now, self.landed.get(mailbox)) {
            (Some(now), Some(m)) => m
                .sizes
                .iter()
                .filter(|((uv, _), _)| *uv == now)
                .map(|(&(_, uid), &size)| (uid, size))
                .collect(),
            _ => Vec::new(),
        };
        uids.sort_unstable();
        Holdings {
            entries,
            current,
            stale_uidvalidity,
            uids,
        }
    }

    /// Forgets every entry of `mailbox` (its UIDVALIDITY changed, or the
    /// server does not hold what they say); the file keeps them, the
    /// caller re-learns from the server.
    pub fn distrust(&mut self, mailbox: &str) {
        self.landed.remove(mailbox);
    }

    /// Batches of unknown fate left by earlier runs.
    pub fn pending(&self) -> Vec<Pending> {
        self.pending.values().cloned().collect()
    }

    /// Records a batch about to be sent and writes it to the file (with
    /// what was buffered before it); returns its id. It is synced while the
    /// batch travels, or before this returns with
    /// [`Durability::BeforeSend`].
    pub fn begin(
        &mut self,
        mailbox: &str,
        before: Before,
        fps: &[Fingerprint],
    ) -> Result<u64, JournalError> {
        self.begin_with_keys(mailbox, before, fps, &[])
    }

    /// [`Journal::begin`] with each message's size and Message-ID (`keys`,
    /// in the order of `fps`), so that a later run can look for the batch's
    /// messages without reading bodies.
    pub fn begin_with_keys(
        &mut self,
        mailbox: &str,
        before: Before,
        fps: &[Fingerprint],
        keys: &[(u64, Option<String>)],
    ) -> Result<u64, JournalError> {
        let batch = self.next_batch;
        let (sizes, ids) = keys.iter().cloned().unzip();
        self.write(Record::Begin {
            batch,
            mailbox: mailbox.to_string(),
            uidvalidity: before.uidvalidity,
            uidnext: before.uidnext,
            messages: before.messages,
            fps: fps.iter().map(Fingerprint::to_hex).collect(),
            sizes,
            ids,
        });
        match self.durability {
            Durability::Overlapped => self.write_out()?,
            Durability::BeforeSend => self.sync()?,
        }
        Ok(batch)
    }

    /// Records one landed message (buffered until [`Journal::end`] or
    /// [`Journal::sync`]). `size`: its size as sent (`None` only when not
    /// known), which lets a later run spot-check the UID on the server.
    /// No time is recorded: a message copied, not uploaded
    /// ([`Journal::uploaded`] records one).
    pub fn landed(&mut self, mailbox: &str, fp: &Fingerprint, size: Option<u64>, at: Landed) {
        self.write(Record::Landed {
            mailbox: mailbox.to_string(),
            fp: fp.to_hex(),
            uidvalidity: at.uidvalidity,
            uid: at.uid,
            size,
            at: None,
        });
    }

    /// Settles a batch. Written with the next [`Journal::begin`] (or
    /// [`Journal::sync`], or on drop), so no batch is sent before the
    /// previous one's records are in the file. Lost by a power cut, the
    /// batch is merely resolved by looking. Fails when a sync has failed.
    pub fn end(&mut self, batch: u64) -> Result<(), JournalError> {
        self.healthy()?;
        self.write(Record::End { batch });
        Ok(())
    }
}

impl Drop for Journal {
    /// Writes what is buffered and waits for the sync thread; a failure no
    /// caller was told of is logged.
    fn drop(&mut self) {
        let told = self.fault_told;
        if let Err(e) = self.sync()
            && !told
        {
            log::error!("{e}");
        }
    }
}

/// The bytes of the journal at `path` (none when it does not exist) and
/// the records they hold.
fn read_records(path: &Path) -> Result<(Vec<u8>, record::Decoded), JournalError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => {
            return Err(JournalError::Io {
                path: path.to_path_buf(),
                error,
            });
        }
    };
    let decoded = record::decode(&data).map_err(|why| JournalError::Foreign {
        path: path.to_path_buf(),
        why,
    })?;
    Ok((data, decoded))
}

/// The default journal for a server and user: under `$XDG_STATE_HOME/mailhaul/`
/// (else `~/.local/state/mailhaul/`), named after user, host and port.
pub fn default_path(user: &str, host: &str, port: u16) -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    let name: String = format!("{user}@{host}:{port}")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "@.:-_+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(state.join("mailhaul").join(format!("{name}.journal")))
}

#[cfg(test)]
mod tests;
