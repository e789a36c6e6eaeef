//! A running connection whose reconnection the session cap refuses, played
//! by the scripted server (`scripted.rs`) under `--jobs 3`: its open batch
//! is looked at by a live connection before anything of it is sent again,
//! its unsent work and the rest of its mailbox are finished by the others,
//! and the run ends without failure, with one warning. The last connection
//! left still reconnects with backoff (`--retries`) and fails as before.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::fingerprint::Fingerprint;
use crate::journal::Journal;
use crate::plan::{BatchLimits, PlannedFolder, ServerLayout, TargetMap, TargetOptions};
use crate::progress::{Progress, ProgressMode};
use crate::report::{ExitStatus, Report};
use crate::source::{FolderKind, ReadOptions, SourceFolder};

use super::lifecycle_tests::{MULTI, SERIAL};
use super::scripted::{Fault, Rule, ScriptedServer, Step, World, session_cap_bye};
use super::server::MailServer;
use super::{UploadOptions, upload_to};

/// Messages per mailbox.
const N: usize = 12;
/// One mbox per mailbox of `mailboxes` under `dir`; the bytes each
/// message is sent as, per mailbox.
fn sources(dir: &Path, mailboxes: &[&str]) -> Vec<(PlannedFolder, Vec<Vec<u8>>)> {
    mailboxes
        .iter()
        .map(|mb| {
            let mut mbox = String::new();
            let mut sent = Vec::new();
            for i in 0..N {
                let m = format!(
                    "From: a@example.org\nSubject: {mb} {i}\nMessage-ID: <{mb}{i}@example.org>\n\nbody {mb} {i}\n"
                );
                mbox.push_str("From a@example.org Sat Feb  1 10:00:00 2020\n");
                mbox.push_str(&m);
                mbox.push('\n');
                sent.push(m.replace('\n', "\r\n").into_bytes());
            }
            let path: PathBuf = dir.join(mb);
            std::fs::write(&path, mbox).unwrap();
            let folder = PlannedFolder {
                source: SourceFolder {
                    path,
                    kind: FolderKind::Mbox,
                    folder: vec![mb.to_string()],
                },
                mailbox: mb.to_string(),
                notes: Vec::new(),
            };
            (folder, sent)
        })
        .collect()
}

/// One `--jobs 3` run (batches of 3) of `folders` into `world`.
fn run(
    world: &Arc<Mutex<World>>,
    caps: &'static str,
    folders: &[PlannedFolder],
    journal: &Path,
) -> Report {
    let map = TargetMap::new(&TargetOptions::default(), ServerLayout::offline()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let opts = UploadOptions {
        limits: BatchLimits {
            max_messages: 3,
            max_bytes: 1 << 20,
        },
        allow_multiappend: true,
        read: ReadOptions::default(),
        allow_duplicates: false,
        retries: 2,
        failed_out: None,
        stop,
        throttle: None,
        jobs: 3,
        unordered: false,
        max_bytes_per_day: None,
        max_throttle_wait: super::DEFAULT_MAX_THROTTLE_WAIT,
        start_rate: None,
        session_cap: None,
        size_cap: None,
    };
    let progress = Progress::new(0, ProgressMode::Hidden, 3);
    let connect =
        || ScriptedServer::connect(world, caps).map(|s| Box::new(s) as Box<dyn MailServer>);
    let journal = Journal::open(journal, false).unwrap();
    let first = connect().unwrap_or_else(|e| panic!("first connection: {e}"));
    upload_to(
        first,
        &connect,
        Some(journal),
        folders,
        &map,
        &opts,
        &progress,
    )
}

/// Every message of every mailbox stored exactly once, nothing else.
fn stored_once(case: &str, world: &Arc<Mutex<World>>, all: &[(PlannedFolder, Vec<Vec<u8>>)]) {
    let w = world.lock().unwrap();
    for (folder, sent) in all {
        let stored = w.messages(&folder.mailbox);
        for (i, bytes) in sent.iter().enumerate() {
            let n = stored.iter().filter(|s| *s == bytes).count();
            assert_eq!(
                n, 1,
                "{case}: {} message {i} stored {n} times",
                folder.mailbox
            );
        }
        assert_eq!(stored.len(), sent.len(), "{case}: {}", folder.mailbox);
    }
}

/// One `--jobs 3` run of `mailboxes` in which `breaking`'s connection
/// breaks by `fault` at its `nth` APPEND, while the three are uploading,
/// and the server admits no new session from then on (it still counts the
/// dead one): every message lands and is journaled once, nothing fails,
/// one warning.
fn refused_back(caps: &'static str, mailboxes: &[&str], breaking: &str, nth: usize, fault: Fault) {
    let case = format!("{caps}, APPEND #{nth} to {breaking} {fault:?}");
    let tmp = tempfile::tempdir().unwrap();
    let all = sources(tmp.path(), mailboxes);
    let folders: Vec<PlannedFolder> = all.iter().map(|(f, _)| f.clone()).collect();
    let world = World::shared();
    {
        let mut w = world.lock().unwrap();
        w.rules = vec![
            Rule::at(Step::Append, nth, fault).in_mailbox(breaking),
            Rule::from(Step::Connect, 4, session_cap_bye()),
        ];
        // The others wait until the connection broke and was refused back
        // in: they are still uploading then.
        w.hold_others = Some((breaking.into(), 2));
        // And it breaks once the three are open.
        w.hold_until_connections = 3;
    }
    let journal = tmp.path().join("journal");
    let report = run(&world, caps, &folders, &journal);
    assert!(report.failures.is_empty(), "{case}: {report:#?}");
    assert!(report.aborted.is_none(), "{case}: {report:#?}");
    // The share resumed by another lane counts as read to its end.
    assert!(!report.unread, "{case}: {report:#?}");
    assert_eq!(report.exit_status(), ExitStatus::Success, "{case}");
    let total = N * mailboxes.len();
    assert_eq!(report.totals().uploaded as usize, total, "{case}");
    stored_once(&case, &world, &all);
    {
        let w = world.lock().unwrap();
        // The refusal came when reconnecting, not at the start.
        let refused = w.log.iter().rposition(|l| l == "Connect").unwrap();
        let first = format!("Append {breaking}");
        let first = w.log.iter().position(|l| *l == first).unwrap();
        assert!(refused > first, "{case}: {:?}", w.log);
        assert_eq!(w.connections, 4, "{case}: one refused reconnection");
    }
    let lines: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("allowed 2 of 3 connections"))
        .collect();
    assert_eq!(lines.len(), 1, "{case}: {:?}", report.warnings);
    // Nothing else to say: a mailbox created by the lane that left is
    // known to exist to the lane taking over (its journal kept).
    assert_eq!(report.warnings.len(), 1, "{case}: {:?}", report.warnings);
    assert!(
        lines[0].contains("Too many simultaneous connections"),
        "{case}"
    );
    let j = Journal::open(&journal, false).unwrap();
    assert!(j.pending().is_empty(), "{case}: a batch left open");
    for (folder, sent) in &all {
        for bytes in sent {
            let n = j.entries(&folder.mailbox, &Fingerprint::of(bytes)).len();
            assert_eq!(n, 1, "{case}: journaled {n} times");
        }
    }
}

#[test]
fn a_connection_refused_back_by_the_session_cap_hands_its_work_over() {
    for caps in [MULTI, SERIAL] {
        // B's connection breaks at its second APPEND (after the server
        // stored what it was sent, or before).
        for fault in [Fault::LostAfter, Fault::LostUnstored] {
            refused_back(caps, &["A", "B", "C"], "B", 2, fault);
        }
    }
}

#[test]
fn a_connection_refused_back_between_mailboxes_hands_the_next_one_over() {
    // Four mailboxes over three connections: the first uploads A, then D.
    // Its last APPEND to A breaks it; CREATE D finds it broken, and the
    // reconnection is refused: D goes to the others from its first message.
    for (caps, last) in [(MULTI, N / 3), (SERIAL, N)] {
        refused_back(caps, &["A", "B", "C", "D"], "A", last, Fault::LostAfter);
    }
}

#[test]
fn the_last_connection_refused_back_still_retries_and_fails_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let all = sources(tmp.path(), &["A"]);
    // One mailbox: one connection.
    let folders = vec![all[0].0.clone()];
    let world = World::shared();
    world.lock().unwrap().rules = vec![
        Rule::at(Step::Append, 2, Fault::LostAfter),
        Rule::from(Step::Connect, 2, session_cap_bye()),
    ];
    let report = run(&world, SERIAL, &folders, &tmp.path().join("journal"));
    assert!(report.connection_lost, "{report:#?}");
    let aborted = report.aborted.clone().unwrap_or_default();
    assert!(
        aborted.contains("gave up after 2 reconnection attempts"),
        "{aborted}"
    );
    assert_eq!(world.lock().unwrap().connections, 3, "--retries 2");
    assert!(!report.warnings.iter().any(|w| w.contains("allowed")));
    // Lost for good before A was read to its end: the report says so.
    assert!(
        report.mailboxes[0].unfinished && report.unread,
        "{report:#?}"
    );
    assert!(report.totals().found < N as u64, "{report:#?}");
    let summary = report.summary();
    assert!(
        !summary.contains("messages uploaded")
            && summary.contains("stopped before the whole source was read"),
        "{summary}"
    );
    assert_eq!(report.to_json()["stop_reason"], "connection");
}
