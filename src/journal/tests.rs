//! The journal's records on disk and in memory: reopening, pending
//! batches, holdings, distrust, torn tails, the lock and file modes.

use super::*;

fn fp(n: u8) -> Fingerprint {
    Fingerprint::of(&[n])
}

#[test]
fn entries_survive_reopen_and_pending_batches_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/j.journal");
    let before = Before {
        uidvalidity: Some(5),
        uidnext: Some(1),
        messages: Some(0),
    };
    {
        let mut j = Journal::open(&p, false).unwrap();
        let b = j.begin("INBOX", before, &[fp(1), fp(2)]).unwrap();
        for (i, f) in [fp(1), fp(2)].iter().enumerate() {
            let at = Landed {
                uidvalidity: Some(5),
                uid: Some(i as u32 + 1),
            };
            j.landed("INBOX", f, Some(10 + i as u64), at);
        }
        j.end(b).unwrap();
        j.begin("Sent", before, &[fp(3)]).unwrap();
    }
    let j = Journal::open(&p, false).unwrap();
    assert_eq!(j.entries("INBOX", &fp(2))[0].uid, Some(2));
    assert!(j.entries("Sent", &fp(3)).is_empty());
    let pending = j.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].mailbox.as_str(), pending[0].batch), ("Sent", 2));
    assert_eq!(pending[0].fps, [fp(3)]);
    assert!(j.notes.is_empty());
}

/// Holdings list the UIDs under the current UIDVALIDITY with their
/// sizes; entries without UIDPLUS take the UIDVALIDITY of their `Begin`,
/// so a recreated mailbox shows as stale for them too.
#[test]
fn holdings_and_uidvalidity_from_begin() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    {
        let mut j = Journal::open(&p, false).unwrap();
        let before = |uv| Before {
            uidvalidity: Some(uv),
            uidnext: Some(1),
            messages: Some(0),
        };
        let b = j.begin("INBOX", before(5), &[fp(1), fp(2)]).unwrap();
        for (uid, f) in [(3, fp(2)), (1, fp(1))] {
            let at = Landed {
                uidvalidity: Some(5),
                uid: Some(uid),
            };
            j.landed("INBOX", &f, Some(100 + u64::from(uid)), at);
        }
        j.end(b).unwrap();
        let b = j.begin("Plain", before(9), &[fp(1)]).unwrap();
        let at = Landed {
            uidvalidity: None,
            uid: None,
        };
        j.landed("Plain", &fp(1), None, at);
        j.end(b).unwrap();
    }
    let j = Journal::open(&p, false).unwrap();
    let h = j.holdings("INBOX", Some(5));
    assert_eq!((h.entries, h.current), (2, 2));
    assert_eq!(j.count("INBOX", &fp(1), Some(5)), 1);
    assert_eq!(j.count("INBOX", &fp(1), Some(6)), 0);
    assert_eq!(h.stale_uidvalidity, None);
    assert_eq!(h.uids, [(1, Some(101)), (3, Some(103))]);
    assert!(j.holdings("INBOX", Some(6)).uids.is_empty());
    assert_eq!(j.holdings("INBOX", Some(6)).stale_uidvalidity, Some(5));
    let plain = j.holdings("Plain", Some(9));
    assert_eq!((plain.entries, plain.current, plain.uids.len()), (1, 1, 0));
    assert_eq!(j.holdings("Plain", Some(10)).current, 0);
    assert_eq!(j.holdings("Plain", Some(10)).stale_uidvalidity, Some(9));
    assert_eq!(j.holdings("Nowhere", Some(1)), Holdings::default());
}

#[test]
fn uidvalidity_change_is_detected_and_distrusted() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j"), false).unwrap();
    let at = Landed {
        uidvalidity: Some(5),
        uid: Some(1),
    };
    j.landed("INBOX", &fp(1), None, at);
    j.landed("Sent", &fp(1), None, at);
    assert_eq!(j.stale_uidvalidity("INBOX", 5), None);
    assert_eq!(j.stale_uidvalidity("INBOX", 6), Some(5));
    j.distrust("INBOX");
    assert!(j.entries("INBOX", &fp(1)).is_empty());
    assert_eq!(j.entries("Sent", &fp(1)).len(), 1);
}

#[test]
fn torn_tail_is_dropped_and_later_records_are_readable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    {
        let mut j = Journal::open(&p, false).unwrap();
        let at = Landed {
            uidvalidity: Some(1),
            uid: Some(1),
        };
        j.landed("INBOX", &fp(1), None, at);
        j.sync().unwrap();
    }
    let mut data = std::fs::read(&p).unwrap();
    data.extend_from_slice(b"120 {\"t\":\"landed\",\"mail");
    std::fs::write(&p, &data).unwrap();
    {
        let mut j = Journal::open(&p, false).unwrap();
        assert_eq!(j.notes.len(), 1, "{:?}", j.notes);
        let at = Landed {
            uidvalidity: Some(1),
            uid: Some(2),
        };
        j.landed("INBOX", &fp(2), None, at);
    }
    let j = Journal::open(&p, false).unwrap();
    assert!(j.notes.is_empty());
    assert_eq!(j.entries("INBOX", &fp(1)).len(), 1);
    assert_eq!(j.entries("INBOX", &fp(2)).len(), 1);
}

#[test]
fn second_open_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    let _j = Journal::open(&p, false).unwrap();
    let e = Journal::open(&p, false).unwrap_err();
    assert!(matches!(e, JournalError::Locked { .. }), "{e}");
    assert!(e.to_string().contains("--wait-lock"));
}

#[test]
fn foreign_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mbox");
    std::fs::write(&p, "From a@b Thu Jan  1 00:00:00 2020\n").unwrap();
    assert!(matches!(
        Journal::open(&p, false),
        Err(JournalError::Foreign { .. })
    ));
    assert!(std::fs::read(&p).unwrap().starts_with(b"From "));
}

#[test]
fn journal_lock_and_new_directories_are_private_under_umask_022() {
    use crate::private_file::testing::{mode, usual_umask};
    use std::os::unix::fs::PermissionsExt;
    usual_umask();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state/mailhaul/j.journal");
    drop(Journal::open(&p, false).unwrap());
    assert_eq!(mode(&p), 0o600);
    assert_eq!(
        mode(&dir.path().join("state/mailhaul/j.journal.lock")),
        0o600
    );
    assert_eq!(mode(&dir.path().join("state/mailhaul")), 0o700);
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    // An existing journal left world-readable is narrowed on open.
    let perms = std::fs::Permissions::from_mode(0o644);
    std::fs::set_permissions(&p, perms).unwrap();
    drop(Journal::open(&p, false).unwrap());
    assert_eq!(mode(&p), 0o600);
}

#[test]
fn default_path_is_per_server_and_user() {
    let p = default_path("me/x", "h", 993).unwrap();
    assert!(
        p.ends_with("mailhaul/me_x@h:993.journal"),
        "{}",
        p.display()
    );
}

/// A dry run reads the journal while a run may hold it: no lock taken,
/// nothing created or cut, its entries and open batches as written, and
/// anything written to it refused.
#[test]
fn read_only_reads_without_lock_or_writes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none/j.journal");
    let j = Journal::read_only(&missing).unwrap();
    assert!(j.pending().is_empty() && !j.has_entries("INBOX"));
    drop(j);
    assert!(!missing.parent().unwrap().exists(), "nothing created");

    let p = dir.path().join("j.journal");
    let before = Before {
        uidvalidity: Some(5),
        uidnext: Some(1),
        messages: Some(0),
    };
    let mut held = Journal::open(&p, false).unwrap();
    let b = held.begin("INBOX", before, &[fp(1)]).unwrap();
    let at = Landed {
        uidvalidity: Some(5),
        uid: Some(1),
    };
    held.landed("INBOX", &fp(1), Some(10), at);
    held.end(b).unwrap();
    held.begin("Sent", before, &[fp(2), fp(3)]).unwrap();
    // A torn tail, as a run killed while writing leaves it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap()
        .write_all(b"\x01\x02")
        .unwrap();
    let bytes = std::fs::read(&p).unwrap();

    let mut j = Journal::read_only(&p).unwrap();
    assert_eq!(j.count("INBOX", &fp(1), Some(5)), 1);
    assert_eq!(j.pending().len(), 1);
    assert_eq!(j.pending()[0].fps, [fp(2), fp(3)]);
    assert!(matches!(
        j.begin("INBOX", before, &[fp(4)]),
        Err(JournalError::ReadOnly { .. })
    ));
    drop(j);
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "the file is untouched");
    drop(held);
}
