//! The server check (`server_check.rs`) against the scripted server: a
//! rerun without journal into a mailbox that holds part of the source,
//! with the FETCH of what it holds answered in part (once: read again;
//! every time: no verdict, nothing sent), look-alikes (one Message-ID and
//! size, other bodies) of which the server holds only the second (in one
//! folder, or in two folders mapped into one mailbox), keys unique on both
//! sides claimed without reading a body (the key pre-pass, and when it is
//! not run at all), and a server still storing a killed run's batch while
//! the check reads.

use std::sync::{Arc, Mutex};

use crate::report::{FailureClass, Report};

use super::lifecycle_tests::{MULTI, Setup, TARGET, planned, run, run_folders, source, write_mbox};
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

/// The body FETCHes the server was asked for (whole bodies or texts).
fn body_fetches(world: &Arc<Mutex<World>>) -> usize {
    let w = world.lock().unwrap();
    w.log
        .iter()
        .filter(|l| l.starts_with("FetchHashes"))
        .count()
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
    // Only the look-alikes' candidate (6's copy) had its body read; 1 and
    // 2, unique in the source and on the server, were claimed on the key.
    assert_eq!(report.server_check.bodies_hashed, 1, "{report:#?}");
    assert_eq!(body_fetches(&world), 1);
    assert_eq!(report.server_check.source_keys_read, 7, "{report:#?}");
}

/// Keys unique in the source and on the server: a rerun without journal
/// claims them without asking for a single body, after one key pre-pass
/// over the source; what is not there is sent.
#[test]
fn unique_keys_are_claimed_without_reading_bodies() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = world_holding(&sent, &[0, 1, 3, 6]);
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1; 7], "{report:#?}");
    assert_eq!(report.server_check.found, 4, "{report:#?}");
    assert_eq!(report.totals().uploaded, 3, "{report:#?}");
    assert_eq!(body_fetches(&world), 0, "{:?}", world.lock().unwrap().log);
    assert_eq!(report.server_check.bodies_hashed, 0, "{report:#?}");
    assert_eq!(report.server_check.source_keys_read, 7, "{report:#?}");
}

/// The look-alikes are in two folders mapped into one mailbox (as
/// `--map`/`--flatten` do), the server holds the second folder's: the key
/// pre-pass reads both folders, so the first folder's message, met first,
/// does not take the other's copy on the key.
#[test]
fn look_alikes_in_two_folders_of_one_mailbox() {
    let tmp = tempfile::tempdir().unwrap();
    let msg = |b: &str| {
        format!("From: a@example.org\nSubject: s\nMessage-ID: <t@example.org>\n\nbody {b}\n")
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let (a, mut sent) = write_mbox(&a, &[msg("A"), msg("1")]);
    let (b, sent_b) = write_mbox(&b, &[msg("B")]);
    sent.extend(sent_b);
    assert_eq!(sent[0].len(), sent[2].len());
    let world = world_holding(&sent, &[2]);
    let folders = [planned(&a, TARGET), planned(&b, TARGET)];
    let report = run_folders(&world, &folders, &Setup::new(MULTI, None, 2, 3));
    assert_eq!(copies(&world, &sent), [1, 1, 1], "{report:#?}");
    assert_eq!(report.server_check.found, 1, "{report:#?}");
    assert_eq!(report.totals().uploaded, 2, "{report:#?}");
    assert_eq!(report.server_check.source_keys_read, 3, "{report:#?}");
}

/// No key pre-pass where it would cost more than it spares: a mailbox
/// holding one of 40 source messages (beyond the journal), or one new
/// message delivered since a journaled run; that one message's body is
/// hashed instead (where a source message may be it).
#[test]
fn a_few_unaccounted_messages_are_hashed_rather_than_the_source_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 40);
    let world = world_holding(&sent, &[0]);
    let report = run(&world, &src, &Setup::new(MULTI, None, 2, 10));
    assert_eq!(copies(&world, &sent), [1; 40], "{report:#?}");
    assert_eq!(report.server_check.found, 1, "{report:#?}");
    assert_eq!(report.server_check.source_keys_read, 0, "{report:#?}");
    assert!(report.server_check.bodies_hashed >= 1, "{report:#?}");

    let world = World::shared();
    let journal = tmp.path().join("journal");
    let first = run(
        &world,
        &src,
        &Setup::new(MULTI, Some(journal.clone()), 2, 10),
    );
    assert_eq!(first.totals().uploaded, 40, "{first:#?}");
    let new_mail = b"Message-ID: <new@example.org>\r\n\r\nnew mail\r\n".to_vec();
    {
        let mut w = world.lock().unwrap();
        let mb = w.mailboxes.get_mut(TARGET).unwrap();
        mb.messages.push((mb.uidnext, new_mail));
        mb.uidnext += 1;
    }
    let again = run(&world, &src, &Setup::new(MULTI, Some(journal), 2, 10));
    assert_eq!(again.totals().uploaded, 0, "{again:#?}");
    assert_eq!(again.server_check.messages_read, 1, "{again:#?}");
    assert_eq!(again.server_check.source_keys_read, 0, "{again:#?}");
}

/// No key pre-pass where it buys nothing: a new mailbox, a rerun whose
/// journal accounts for everything, `--allow-duplicates`.
#[test]
fn no_key_pre_pass_where_nothing_is_unaccounted() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = World::shared();
    let journal = tmp.path().join("journal");
    let first = run(
        &world,
        &src,
        &Setup::new(MULTI, Some(journal.clone()), 2, 3),
    );
    assert_eq!(first.totals().uploaded, 7, "{first:#?}");
    assert_eq!(first.server_check.source_keys_read, 0, "{first:#?}");
    let again = run(&world, &src, &Setup::new(MULTI, Some(journal), 2, 3));
    assert_eq!(again.totals().uploaded, 0, "{again:#?}");
    assert_eq!(again.server_check.source_keys_read, 0, "{again:#?}");
    let mut setup = Setup::new(MULTI, None, 2, 3);
    setup.allow_duplicates = true;
    let doubled = run(&world, &src, &setup);
    assert_eq!(doubled.totals().uploaded, 7, "{doubled:#?}");
    assert_eq!(doubled.server_check.source_keys_read, 0, "{doubled:#?}");
    assert_eq!(copies(&world, &sent), [2; 7]);
    assert_eq!(body_fetches(&world), 0);
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
