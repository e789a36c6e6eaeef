//! The server check (`server_check.rs`) against the scripted server: a
//! rerun without journal into a mailbox that holds part of the source,
//! with the FETCH of what it holds answered in part (once: read again;
//! every time: no verdict, nothing sent), look-alikes (one Message-ID and
//! size, other bodies) of which the server holds only the second, and a
//! server still storing a killed run's batch while the check reads.

use std::sync::{Arc, Mutex};

use crate::report::{FailureClass, Report};

use super::lifecycle_tests::{MULTI, Setup, TARGET, run, source};
use super::scripted::{Fault, Mailbox, Rule, Step, World};

/// A world whose Target holds `held` of `sent` (as a killed run left it).
fn world_holding(sent: &[Vec<u8>], held: &[usize]) -> Arc<Mutex<World>> {
    let world = World::shared();
    let mut w = world.lock().unwrap();
    let mut mb = Mailbox {
        uidvalidity: 7,
        uidnext: 1,
        messages: Vec::new(),
    };
    for &i in held {
        mb.messages.push((mb.uidnext, sent[i].clone()));
        mb.uidnext += 1;
    }
    w.mailboxes.insert(TARGET.into(), mb);
    drop(w);
    world
}

/// How often each of `sent` is on the server.
fn copies(world: &Arc<Mutex<World>>, sent: &[Vec<u8>]) -> Vec<usize> {
    let stored = world.lock().unwrap().messages(TARGET);
    sent.iter()
        .map(|m| stored.iter().filter(|s| *s == m).count())
        .collect()
}

fn not_sent(report: &Report) -> usize {
    report
        .failures
        .iter()
        .filter(|f| f.class == FailureClass::NotSent)
        .count()
}

/// The summaries FETCH answered in part once: read again, and the rerun
/// completes exactly once.
#[test]
fn a_read_answered_in_part_once_is_read_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = world_holding(&sent, &[0, 1, 2, 3]);
    world.lock().unwrap().rules = vec![Rule::at(Step::FetchSummaries, 1, Fault::Partial)];
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1; 7], "{report:#?}");
    assert_eq!(report.server_check.found, 4, "{report:#?}");
    assert!(report.failures.is_empty(), "{report:#?}");
}

/// Answered in part every time: no verdict for the mailbox; nothing of it
/// is sent (what is there would be doubled), every message is reported
/// not sent with the reason, and the run exits non-zero.
#[test]
fn a_read_answered_in_part_gives_no_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = world_holding(&sent, &[0, 1, 2, 3]);
    world.lock().unwrap().rules = vec![Rule::from(Step::FetchSummaries, 1, Fault::Partial)];
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1, 1, 1, 1, 0, 0, 0], "{report:#?}");
    assert_eq!(not_sent(&report), 7, "{report:#?}");
    assert!(
        report.failures[0]
            .reason
            .contains("not sent, to avoid storing it twice"),
        "{report:#?}"
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("answered in part")),
        "{:?}",
        report.warnings
    );
    assert_ne!(report.exit_status().code(), 0);
    // Once the server answers in full, the next run completes.
    world.lock().unwrap().rules.clear();
    let again = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1; 7], "{again:#?}");
    assert!(again.failures.is_empty(), "{again:#?}");
}

/// Messages 5 and 6 of the source share a Message-ID and a size, not a
/// body; the server holds 6 only (and 1-2). 5, met first, must not take
/// 6's copy on the key: it is sent, 6 is found.
#[test]
fn a_look_alike_met_first_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    assert_eq!(sent[4].len(), sent[5].len());
    let world = world_holding(&sent, &[0, 1, 5]);
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1; 7], "{report:#?}");
    assert_eq!(report.server_check.found, 3, "{report:#?}");
    assert_eq!(report.totals().uploaded, 4, "{report:#?}");
}

/// The bodies' FETCH answered in part every time: a message whose
/// candidate's hash never came is neither sent nor skipped (said so); the
/// others are decided.
#[test]
fn hashes_answered_in_part_give_no_verdict_for_their_candidates() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = world_holding(&sent, &[0, 1, 2, 3]);
    world.lock().unwrap().rules = vec![Rule::from(Step::FetchHashes, 1, Fault::Partial)];
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    // Nothing doubled; what is not on the server is sent.
    assert_eq!(copies(&world, &sent), [1; 7], "{report:#?}");
    // Of those it holds, some could not be confirmed: not sent, said so.
    assert!(not_sent(&report) > 0, "{report:#?}");
    assert_eq!(
        report.server_check.found as usize + not_sent(&report),
        4,
        "{report:#?}"
    );
}

/// The server stores a killed run's last batch (message 3) just after the
/// check read the mailbox: UIDNEXT moved, so the check waits for it to
/// settle and reads again; message 3 is found, not sent a second time.
#[test]
fn a_mailbox_still_being_stored_is_read_again_once_settled() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = world_holding(&sent, &[0, 1]);
    world.lock().unwrap().landing =
        Some((Step::FetchSummaries, TARGET.into(), vec![sent[2].clone()]));
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1; 7], "{report:#?}");
    assert_eq!(report.server_check.found, 3, "{report:#?}");
    assert!(report.failures.is_empty(), "{report:#?}");
}
