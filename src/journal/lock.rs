//! The journal's lock: `flock(2)` on `<journal>.lock`, held for the whole
//! run. The kernel drops it when the process dies, however it dies, so a
//! killed run never leaves a stale lock behind (an O_EXCL pid file would).
//! The file also holds the pid of the holder, for the error message only.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::private_file;

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    file: File,
    pub path: PathBuf,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its pid, if it wrote one).
    Held {
        path: PathBuf,
        pid: Option<u32>,
    },
    Io {
        path: PathBuf,
        error: io::Error,
    },
}

impl Lock {
    /// Takes the lock; with `wait`, blocks until the holder releases it.
    pub fn acquire(path: &Path, wait: bool) -> Result<Lock, LockError> {
        let io_err = |error| LockError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut file = private_file::open(
            path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .map_err(io_err)?;
        let op = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: flock on a valid, open file descriptor owned by `file`.
            let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
            if rc == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(LockError::Held {
                        path: path.to_path_buf(),
                        pid: text.trim().parse().ok(),
                    });
                }
                _ => return Err(io_err(e)),
            }
        }
        file.set_len(0).map_err(io_err)?;
        file.rewind().map_err(io_err)?;
        write!(file, "{}", std::process::id()).map_err(io_err)?;
        Ok(Lock {
            file,
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.lock");
        let first = Lock::acquire(&p, false).unwrap();
        match Lock::acquire(&p, false) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(first);
        Lock::acquire(&p, false).unwrap();
    }

    #[test]
    fn waiting_holder_gets_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.lock");
        let first = Lock::acquire(&p, false).unwrap();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || Lock::acquire(&p2, true).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(first);
        assert!(waiter.join().unwrap());
    }
}
