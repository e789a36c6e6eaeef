//! UID COPY units (Gmail Takeout labels: uploaded once, copied by UID into
//! the other mailboxes) against the scripted server: every fault at the
//! copy, and a copy whose fate cannot be checked. The harness is
//! `lifecycle_tests.rs`'s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::imap::Code;
use crate::journal::Journal;
use crate::report::FailureClass;

use super::lifecycle_tests::{MULTI, Setup, run};
use super::scripted::{Fault, Rule, Step, World, command_faults};

/// `n` Gmail Takeout messages, each labelled Inbox and Work: uploaded once
/// into one and copied by UID into the other.
fn source_with_labels(dir: &Path, n: usize) -> PathBuf {
    let mut mbox = String::new();
    for i in 1..=n {
        mbox.push_str(&format!(
            "From 16{i}@xxx Wed Apr 01 0{i}:00:00 +0000 2020\nX-Gmail-Labels: Inbox,Work\nFrom: u@example.org\nSubject: {i}\nMessage-ID: <label-{i}@example.org>\n\nbody {i}\n\n"
        ));
    }
    let path = dir.join("All mail Including Spam and Trash.mbox");
    std::fs::write(&path, mbox).unwrap();
    path
}

/// Every mailbox holds each Message-ID at most once; the counts.
fn per_mailbox(world: &Arc<Mutex<World>>) -> Vec<(String, usize)> {
    let w = world.lock().unwrap();
    w.mailboxes
        .iter()
        .map(|(name, mb)| {
            let mut ids: Vec<String> = mb
                .messages
                .iter()
                .map(|(_, b)| crate::fingerprint::message_id(b).unwrap())
                .collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "{name} holds a message twice");
            (name.clone(), n)
        })
        .collect()
}

/// Every fault at the UID COPY of a unit of copies: each copy counted once
/// (landed, refused, or of unknown fate and left open), never made twice;
/// the rerun completes every mailbox.
#[test]
fn uid_copy_faults_count_once_and_never_double() {
    for fault in command_faults() {
        for journaled in [true, false] {
            let case = format!("{fault:?} journal={journaled}");
            let tmp = tempfile::tempdir().unwrap();
            let src = source_with_labels(tmp.path(), 4);
            let world = World::shared();
            world.lock().unwrap().rules = vec![Rule::at(Step::UidCopy, 1, fault.clone())];
            let journal = journaled.then(|| tmp.path().join("journal"));
            let setup = Setup::new(MULTI, journal.clone(), 2, 10);
            let report = run(&world, &src, &setup);
            let t = report.totals();
            assert_eq!(
                (t.found, t.uploaded + t.failed),
                (8, 8),
                "{case}: {report:#?}"
            );
            let counts = per_mailbox(&world);
            assert_eq!(counts.len(), 2, "{case}: {counts:?}");
            let held: usize = counts.iter().map(|c| c.1).sum();
            let refused = matches!(fault, Fault::No(_) | Fault::Bad);
            assert_eq!(held as u64, t.uploaded, "{case}: {counts:?} {report:#?}");
            assert_eq!(t.failed, if refused { 4 } else { 0 }, "{case}: {report:#?}");
            assert_eq!(report.copies, if refused { 0 } else { 4 }, "{case}");
            world.lock().unwrap().rules.clear();
            if let Some(j) = &journal {
                assert!(
                    Journal::open(j, false).unwrap().pending().is_empty(),
                    "{case}"
                );
                let again = run(&world, &src, &setup);
                assert!(again.failures.is_empty(), "{case}: {again:#?}");
                let counts = per_mailbox(&world);
                assert!(counts.iter().all(|c| c.1 == 4), "{case}: {counts:?}");
            }
        }
    }
}

/// A UID COPY made, its answer lost, and the look refused: the copies are of
/// unknown fate (not made again), their unit stays open; the rerun finds them.
#[test]
fn uid_copy_of_unknown_fate_stays_open() {
    let tmp = tempfile::tempdir().unwrap();
    let src = source_with_labels(tmp.path(), 4);
    let world = World::shared();
    world.lock().unwrap().rules = vec![
        Rule::at(Step::UidCopy, 1, Fault::LostAfter),
        Rule::from(
            Step::Select,
            2,
            Fault::No(Some(Code::Other("UNAVAILABLE".into()))),
        ),
    ];
    let jpath = tmp.path().join("journal");
    let setup = Setup::new(MULTI, Some(jpath.clone()), 2, 10);
    let report = run(&world, &src, &setup);
    let unknown = report
        .failures
        .iter()
        .filter(|f| f.class == FailureClass::Unknown)
        .count();
    assert_eq!(unknown, 4, "{report:#?}");
    assert_eq!(report.totals().found, 8);
    assert!(per_mailbox(&world).iter().all(|c| c.1 == 4));
    assert_eq!(Journal::open(&jpath, false).unwrap().pending().len(), 1);
    world.lock().unwrap().rules.clear();
    let again = run(&world, &src, &setup);
    assert!(again.failures.is_empty(), "{again:#?}");
    assert!(per_mailbox(&world).iter().all(|c| c.1 == 4));
    assert!(Journal::open(&jpath, false).unwrap().pending().is_empty());
}
