//! What the journal knows of when bytes went to the server: each `Landed`
//! record of an uploaded message carries its time and size, and the
//! journal keeps them as [`Upload`]s, oldest first, for the daily budget's
//! rolling 24-hour window (`upload/budget.rs`: the window's arithmetic is
//! there, not here). A UID COPY sends no message bytes and records no time;
//! journals of older versions have no times either: neither counts.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Journal, Landed, Record};
use crate::fingerprint::Fingerprint;

/// Message bytes that landed on the server at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upload {
    /// Unix time, seconds.
    pub at: u64,
    pub bytes: u64,
}

/// `t` as Unix time in seconds (0 before 1970: a clock that wrong counts
/// as long ago).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Journal {
    /// Records one landed message whose bytes were uploaded at `when`
    /// (buffered like [`Journal::landed`]): counted in the daily budget's
    /// window from then.
    pub fn uploaded(
        &mut self,
        mailbox: &str,
        fp: &Fingerprint,
        size: u64,
        at: Landed,
        when: SystemTime,
    ) {
        self.write(Record::Landed {
            mailbox: mailbox.to_string(),
            fp: fp.to_hex(),
            uidvalidity: at.uidvalidity,
            uid: at.uid,
            size: Some(size),
            at: Some(unix_seconds(when)),
        });
    }

    /// Every upload the journal records a time for, in the order written
    /// (earlier runs' and this run's).
    pub fn uploads(&self) -> &[Upload] {
        &self.uploads
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn uploads_are_read_back_with_their_times_and_copies_have_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let at = |uid| Landed {
            uidvalidity: Some(1),
            uid: Some(uid),
        };
        let when = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        {
            let mut j = Journal::open(&path, false).unwrap();
            j.uploaded("INBOX", &Fingerprint::of(b"a"), 100, at(1), when);
            // A copy: no bytes sent, no time.
            j.landed("Other", &Fingerprint::of(b"a"), Some(100), at(1));
            j.uploaded(
                "INBOX",
                &Fingerprint::of(b"b"),
                7,
                at(2),
                when + Duration::from_secs(5),
            );
            assert_eq!(j.uploads().len(), 2, "this run's, as written");
        }
        let j = Journal::open(&path, false).unwrap();
        assert_eq!(
            j.uploads(),
            [
                Upload {
                    at: 1_764_000_000,
                    bytes: 100
                },
                Upload {
                    at: 1_764_000_005,
                    bytes: 7
                }
            ]
        );
        assert_eq!(j.count("INBOX", &Fingerprint::of(b"b"), Some(1)), 1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
