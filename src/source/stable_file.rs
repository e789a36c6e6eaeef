//! [`StableFile`]: a source file read while something else may change it
//! (a mail client's sync rewriting an mbox in place, a delivery appending
//! to a spool). It remembers the file as it was opened (length,
//! modification and change times), reads no further than the length at open
//! (mail appended meanwhile is left for the next run), and answers, after
//! each message, whether what was read can still be trusted: [`Look`].
//!
//! The checks are at most one `fstat` per message, none while the reader
//! takes bytes already read when the file was last seen unchanged (a 256
//! KiB buffer holds hundreds of messages); only once the file has been
//! modified since it was opened does a reader need to compare what it read
//! with the file's current bytes ([`StableFile::read_range`]). Files
//! opened later, by another reader (the parts of an archive), are watched
//! by path: [`WatchedPath`].

use std::cell::Cell;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// A file opened for reading, with what it was at open.
#[derive(Debug)]
pub struct StableFile {
    file: File,
    at_open: FileState,
    /// Whether the stream from [`StableFile::stream`] met the end of the
    /// file before the length at open.
    short: Rc<Cell<bool>>,
    /// How many reads the stream has made, and how many it had made when
    /// the file was last seen unchanged: bytes read before that are the
    /// file as it was opened.
    reads: Rc<Cell<u64>>,
    same_at: Cell<Option<u64>>,
}

/// What identifies a file's content at one moment, as `stat` tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileState {
    /// Device and inode: which file a path names.
    id: (u64, u64),
    len: u64,
    mtime: Option<SystemTime>,
    /// The inode change time, which a write moves even when the
    /// modification time is set back.
    ctime: (i64, i64),
}

impl FileState {
    fn of(meta: &Metadata) -> FileState {
        FileState {
            id: (meta.dev(), meta.ino()),
            len: meta.len(),
            mtime: meta.modified().ok(),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// What `now` says about bytes read from `self` (`short`: the reading
    /// met the end before `self.len`).
    fn look(&self, now: &FileState, short: bool) -> Look {
        if short || now.len < self.len || now.id != self.id {
            Look::Rewritten { now: now.len }
        } else if now.mtime != self.mtime || now.ctime != self.ctime {
            Look::Modified
        } else {
            Look::Same
        }
    }
}

/// A file named by its path, as it was when it was first looked at; it is
/// opened (and maybe replaced) by someone else.
#[derive(Clone, Debug)]
pub struct WatchedPath {
    path: PathBuf,
    at_start: FileState,
}

impl WatchedPath {
    pub fn new(path: &Path) -> io::Result<WatchedPath> {
        Ok(WatchedPath {
            path: path.to_path_buf(),
            at_start: FileState::of(&std::fs::metadata(path)?),
        })
    }

    /// Looks at the path now (one `stat`): another file there is
    /// [`Look::Rewritten`].
    pub fn look(&self) -> io::Result<Look> {
        let now = FileState::of(&std::fs::metadata(&self.path)?);
        Ok(self.at_start.look(&now, false))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What a look at the open file says about the bytes read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    /// Not modified since it was opened (it may have grown by appends
    /// written without touching what was read, which the modification
    /// time would show).
    Same,
    /// Modified since it was opened, still at least as long: what was
    /// read must be compared with the file's bytes before it is trusted.
    Modified,
    /// Shorter than at open, or its end came early while reading: it was
    /// truncated or rewritten, what was read cannot be trusted.
    Rewritten { now: u64 },
}

impl StableFile {
    pub fn open(path: &Path) -> io::Result<StableFile> {
        let file = File::open(path)?;
        let at_open = FileState::of(&file.metadata()?);
        Ok(StableFile {
            file,
            at_open,
            short: Rc::new(Cell::new(false)),
            reads: Rc::new(Cell::new(0)),
            same_at: Cell::new(None),
        })
    }

    /// The file's length when it was opened: how much is read.
    pub fn len_at_open(&self) -> u64 {
        self.at_open.len
    }

    /// The modification time at open.
    pub fn mtime_at_open(&self) -> Option<SystemTime> {
        self.at_open.mtime
    }

    /// The file's bytes from the start up to its length at open, read in
    /// order (sharing the file's position; use once).
    pub fn stream(&self) -> io::Result<StableStream> {
        Ok(StableStream {
            file: self.file.try_clone()?,
            left: self.at_open.len,
            short: Rc::clone(&self.short),
            reads: Rc::clone(&self.reads),
        })
    }

    /// Looks at the open file now: one `fstat`, none when the stream has
    /// not read since the file was last seen unchanged (what it hands out
    /// was read while the file was as it was opened).
    pub fn look(&self) -> io::Result<Look> {
        let reads = self.reads.get();
        if self.same_at.get() == Some(reads) {
            return Ok(Look::Same);
        }
        let now = FileState::of(&self.file.metadata()?);
        let look = self.at_open.look(&now, self.short.get());
        if look == Look::Same {
            self.same_at.set(Some(reads));
        }
        Ok(look)
    }

    /// Bytes added after the length at open (left for the next run).
    pub fn appended(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len().saturating_sub(self.at_open.len))
    }

    /// The file's current bytes `start..end` (fewer when it is shorter
    /// now), read without moving the stream.
    pub fn read_range(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let mut out = vec![0; end.saturating_sub(start) as usize];
        let mut got = 0;
        while got < out.len() {
            match self.file.read_at(&mut out[got..], start + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.truncate(got);
        Ok(out)
    }
}

/// Reads the file up to its length at open; notes an early end.
pub struct StableStream {
    file: File,
    left: u64,
    short: Rc<Cell<bool>>,
    reads: Rc<Cell<u64>>,
}

impl Read for StableStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        self.reads.set(self.reads.get() + 1);
        let n = self.file.read(&mut buf[..max])?;
        if n == 0 {
            self.short.set(true);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Changes made to a file under its reader, for tests here and in the
/// readers that use [`StableFile`].
#[cfg(test)]
pub(crate) mod changes {
    use std::io::Write;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    /// Rewrites `path` in place, as a mail client's sync does: the same
    /// inode, truncated and written again.
    pub(crate) fn rewrite_in_place(path: &Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    /// Appends `bytes` to `path`, as a delivery does.
    pub(crate) fn append(path: &Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(bytes).unwrap();
    }

    pub(crate) fn set_mtime(path: &Path, t: SystemTime) {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_modified(t).unwrap();
    }

    /// Moves the modification time on, so that a change is seen however
    /// coarse the clock.
    pub(crate) fn touch_later(path: &Path) {
        set_mtime(path, SystemTime::now() + Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::changes::{append, rewrite_in_place as write, set_mtime};
    use super::*;

    #[test]
    fn an_untouched_file_is_the_same_and_read_to_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = StableFile::open(&path).unwrap();
        let mut got = Vec::new();
        file.stream().unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, b"0123456789");
        assert_eq!(file.look().unwrap(), Look::Same);
        assert_eq!(file.appended().unwrap(), 0);
    }

    #[test]
    fn appended_bytes_are_not_read_and_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"01234").unwrap();
        let file = StableFile::open(&path).unwrap();
        let t = std::fs::metadata(&path).unwrap().modified().unwrap();
        append(&path, b"56789");
        let mut got = Vec::new();
        file.stream().unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, b"01234");
        assert_eq!(file.appended().unwrap(), 5);
        // An append moves the times: what was read is to be compared.
        set_mtime(&path, t + Duration::from_secs(1));
        assert_eq!(file.look().unwrap(), Look::Modified);
        assert_eq!(file.read_range(0, 5).unwrap(), b"01234");
    }

    #[test]
    fn a_file_rewritten_shorter_between_reads_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"first line\nsecond line\n").unwrap();
        let file = StableFile::open(&path).unwrap();
        let mut stream = file.stream().unwrap();
        let mut head = [0; 11];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(file.look().unwrap(), Look::Same);
        write(&path, b"second\n");
        // Nothing read since it was seen unchanged: what was read is the
        // file as it was opened (no fstat).
        assert_eq!(file.look().unwrap(), Look::Same);
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        assert_eq!(file.look().unwrap(), Look::Rewritten { now: 7 });
        // The early end is seen even once the file has grown back.
        write(&path, b"second line\nthird line, longer than before\n");
        assert!(matches!(file.look().unwrap(), Look::Rewritten { .. }));
    }

    #[test]
    fn a_watched_path_sees_a_rewrite_and_a_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.zip");
        std::fs::write(&path, b"0123456789").unwrap();
        let t = std::fs::metadata(&path).unwrap().modified().unwrap();
        let watched = WatchedPath::new(&path).unwrap();
        assert_eq!(watched.look().unwrap(), Look::Same);
        write(&path, b"0123456789");
        set_mtime(&path, t + Duration::from_secs(1));
        assert_eq!(watched.look().unwrap(), Look::Modified);
        let other = dir.path().join("new.zip");
        std::fs::write(&other, b"0123456789").unwrap();
        let watched = WatchedPath::new(&path).unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(watched.look().unwrap(), Look::Rewritten { now: 10 });
    }

    #[test]
    fn a_file_rewritten_at_the_same_length_is_modified_and_its_bytes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"aaaa\nbbbb\n").unwrap();
        let t = std::fs::metadata(&path).unwrap().modified().unwrap();
        let file = StableFile::open(&path).unwrap();
        write(&path, b"bbbb\naaaa\n");
        // Even a rewrite that puts the modification time back is seen (ctime).
        set_mtime(&path, t);
        assert_eq!(file.look().unwrap(), Look::Modified);
        assert_eq!(file.read_range(0, 5).unwrap(), b"bbbb\n");
        assert_eq!(file.read_range(5, 20).unwrap(), b"aaaa\n");
    }
}
