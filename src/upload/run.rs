//! The run: the first connection learns the mailboxes and resolves what an
//! earlier run left open, then each connection (`--jobs`) uploads its
//! shares on its own thread with its own session; their reports are merged
//! into one. A connection the server refuses (its session cap), at the
//! start or when reconnecting, hands its work to the others ([`Orphans`],
//! `handover.rs`). The journal, `--failed-out`, the count of identical copies
//! and what was read of the server's mailboxes are shared, each behind one
//! lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use crate::imap::{ImapError, Session};
use crate::journal::Journal;
use crate::plan::{PlannedFolder, TargetMap};
use crate::progress::Progress;
use crate::report::{FailureClass, Report};

use super::budget::{Budget, stop_line};
use super::failed_out::FailedOut;
use super::handover::Orphans;
use super::jobs::{Share, distribute};
use super::slowdown::{Slowdown, classify};
use super::source_keys::SourceKeys;
use super::{Connect, MailServer, Shared, Stop, UploadMode, UploadOptions, Uploader, lock};

/// Uploads every planned folder over `opts.jobs` connections (`session`
/// is the first; the others are opened with `connect`); the outcome of
/// each message is in the returned report. Sessions are logged out at the end.
pub fn upload(
    session: Session,
    connect: &(dyn Fn() -> Result<Session, ImapError> + Sync),
    journal: Option<Journal>,
    folders: &[PlannedFolder],
    map: &TargetMap,
    opts: &UploadOptions,
    progress: &Progress,
) -> Report {
    upload_to(
        Box::new(session),
        &boxed(connect),
        journal,
        folders,
        map,
        opts,
        progress,
    )
}

/// `connect`, its sessions as [`MailServer`]s.
pub(super) fn boxed<'a>(
    connect: &'a (dyn Fn() -> Result<Session, ImapError> + Sync),
) -> impl Fn() -> Result<Box<dyn MailServer>, ImapError> + Sync + 'a {
    move || connect().map(|s| Box::new(s) as Box<dyn MailServer>)
}

/// [`upload`] through any [`MailServer`] (a scripted one in unit tests).
pub fn upload_to(
    session: Box<dyn MailServer>,
    connect: Connect<'_>,
    journal: Option<Journal>,
    folders: &[PlannedFolder],
    map: &TargetMap,
    opts: &UploadOptions,
    progress: &Progress,
) -> Report {
    let started = std::time::Instant::now();
    let mode = UploadMode::choose(session.capabilities(), opts.allow_multiappend);
    let mut report = Report {
        mode: mode.to_string(),
        ..Default::default()
    };
    for f in folders {
        report.mailbox(&f.mailbox);
        for note in &f.notes {
            report.warnings.push(note.clone());
        }
    }
    let failed_out = match &opts.failed_out {
        None => None,
        Some(dir) => match FailedOut::open(dir) {
            Ok(f) => Some(Mutex::new(f)),
            Err(e) => {
                report.aborted = Some(format!("--failed-out {}: {e}", dir.display()));
                for f in folders {
                    report.unfinished(&f.mailbox);
                }
                report.unread = true;
                return report;
            }
        },
    };
    let shared = Shared::new(journal, failed_out, folders, map, opts);
    let lanes = distribute(folders, opts.jobs, opts.unordered);
    let connections = lanes.len().max(1);
    let orphans = Orphans::new(connections - 1);
    let mut first = Uploader::new(
        session,
        connect,
        opts,
        &shared,
        progress.lane(1),
        connections,
    );
    let reports = match first.prepare() {
        Err(stop) => vec![first.finish(Err(stop))],
        Ok(()) if lanes.len() <= 1 => {
            let result = first.run(lanes.first().map_or(&[], Vec::as_slice), map, &orphans);
            vec![first.finish(result)]
        }
        Ok(()) => std::thread::scope(|scope| {
            let existing = first.existing.clone();
            let others: Vec<_> = lanes[1..]
                .iter()
                .enumerate()
                .map(|(i, shares)| {
                    let existing = existing.clone();
                    let (shared, orphans) = (&shared, &orphans);
                    scope.spawn(move || {
                        let lane = progress.lane(i + 2);
                        match connect() {
                            Err(e) if refused_session(&e) => {
                                lane.finish();
                                orphans.refused(shares, &e.to_string());
                                Report::default()
                            }
                            Ok(session) => {
                                orphans.opened();
                                let mut up = Uploader::new(
                                    session,
                                    connect,
                                    opts,
                                    shared,
                                    lane,
                                    connections,
                                );
                                up.existing = existing;
                                let result = up.run(shares, map, orphans);
                                up.finish(result)
                            }
                            Err(e) => {
                                orphans.not_opened();
                                lane.finish();
                                not_connected(i + 2, shares, &e.to_string())
                            }
                        }
                    })
                })
                .collect();
            let result = first.run(&lanes[0], map, &orphans);
            let mut reports = vec![first.finish(result)];
            for h in others {
                reports.push(h.join().unwrap_or_else(|_| Report {
                    aborted: Some(
                        "a connection's thread failed; run the same command again to finish".into(),
                    ),
                    ..Default::default()
                }));
            }
            reports
        }),
    };
    for r in reports {
        report.merge(r);
    }
    shared.read_through.mark(&lanes, &mut report);
    shared.read_through.forget_label_folders(&mut report);
    if let (refused @ 1.., Some(why)) = orphans.refusals() {
        report.warnings.push(format!(
            "the server allowed {} of {connections} connections ({why}); the others' work was finished by those",
            connections.saturating_sub(refused).max(1)
        ));
    }
    let undone = orphans.left_undone();
    if !undone.is_empty() {
        // Every lane that could take it stopped on an error.
        report.connection_lost = true;
        report.aborted.get_or_insert(format!(
            "a connection the server refused left work that no other could finish ({}); run the same command again to finish (what may have landed is looked for first)",
            undone.join(", ")
        ));
    }
    super::recovery::report_unmet(&shared, &mut report);
    if let Some(line) = shared.pace.summary() {
        report.warnings.push(line);
    }
    if let Some(j) = &shared.journal
        && let Err(e) = lock(j).sync()
    {
        report.warnings.push(e.to_string());
    }
    report.budget = shared
        .budget
        .figures(shared.journal.as_ref().map(lock).as_deref());
    if let Some(why) = report.quota_stop.clone() {
        report.aborted = Some(stop_line(&report, &why));
    }
    report.elapsed = started.elapsed();
    progress.finish();
    report
}

impl Shared {
    /// What the connections of a run over `folders` share, nothing met yet.
    pub(super) fn new(
        journal: Option<Journal>,
        failed_out: Option<Mutex<FailedOut>>,
        folders: &[PlannedFolder],
        map: &TargetMap,
        opts: &UploadOptions,
    ) -> Shared {
        Shared {
            failed_out,
            seen: Mutex::new(HashMap::new()),
            on_server: Mutex::new(HashMap::new()),
            checking: Mutex::new(()),
            source_keys: Mutex::new(SourceKeys::new(folders, map, &opts.read)),
            waited: AtomicBool::new(false),
            unsettled: Mutex::new(HashMap::new()),
            pace: super::pace::Pace::new(opts.start_rate, opts.max_throttle_wait),
            budget: Budget::new(opts.max_bytes_per_day, journal.as_ref()),
            read_through: Default::default(),
            journal: journal.map(Mutex::new),
        }
    }
}

/// The provider's daily quota, when `e` (a login's error) says it: an
/// account an earlier run used up stays locked until the provider's day
/// ends, and Gmail answers every login with the quota's BYE until then.
pub fn quota_refusal(e: &ImapError) -> Option<String> {
    match classify(e) {
        Some(Slowdown::Quota(why)) => Some(why),
        _ => None,
    }
}

/// The report of a run whose first login the provider's quota refused
/// ([`quota_refusal`]): nothing sent, the quota's one stop line, exit 4 —
/// as when the quota stops a run that was sending.
pub fn refused_by_quota(why: String, journal: Option<&Journal>, limit: Option<u64>) -> Report {
    let mut report = Report {
        budget: Budget::new(limit, journal).figures(journal),
        quota_stop: Some(why),
        // Nothing of the source was read.
        unread: true,
        ..Default::default()
    };
    report.aborted = report
        .quota_stop
        .as_deref()
        .map(|why| stop_line(&report, why));
    report
}

/// True when a connection past the first was refused by the server's
/// session cap (Gmail's "Too many simultaneous connections" BYE, Dovecot's
/// "Maximum number of connections from user+IP exceeded" NO to the login:
/// `slowdown.rs`), or dropped or throttled when connecting while the first
/// one works: its share goes to the connections the server allowed. Any
/// other authentication failure, and TLS failures, are not that.
fn refused_session(e: &ImapError) -> bool {
    matches!(
        classify(e),
        Some(Slowdown::TooManySessions(_) | Slowdown::Throttled { .. })
    ) || e.is_connection_lost()
}

/// The report of a connection that could not be opened: its shares are
/// left for the next run.
fn not_connected(connection: usize, shares: &[Share], why: &str) -> Report {
    let mailboxes: Vec<&str> = shares.iter().map(|s| s.folder.mailbox.as_str()).collect();
    Report {
        connection_lost: true,
        aborted: Some(format!(
            "connection {connection} could not be opened ({why}), so {} was not uploaded; run the same command again to finish (nothing will be doubled)",
            mailboxes.join(", ")
        )),
        ..Default::default()
    }
}

impl Uploader<'_> {
    /// What a rerun will do with what this connection left: "nothing will
    /// be doubled" only when every message of unknown fate will be looked
    /// for before it is sent again: its batch is open in the journal, or the
    /// server check reads the mailbox (not with `--allow-duplicates`).
    fn rerun_promise(&self) -> &'static str {
        let unknown = self
            .report
            .failures
            .iter()
            .any(|f| f.class == FailureClass::Unknown);
        match (
            unknown,
            self.shared.journal.is_some(),
            self.opts.allow_duplicates,
        ) {
            (false, _, _) => "(nothing will be doubled)",
            (true, true, _) => {
                "(messages of unknown fate stay open in the journal and are looked for first: nothing will be doubled)"
            }
            (true, false, false) => {
                "(messages of unknown fate are looked for on the server by the next run's check: nothing will be doubled)"
            }
            (true, false, true) => {
                "(careful: with --no-journal and --allow-duplicates a rerun cannot tell whether the messages of unknown fate landed, and may store them twice)"
            }
        }
    }

    /// Ends this connection's part: answers still coming collected, the
    /// reason to stop in the report, the session logged out.
    pub(super) fn finish(mut self, result: Result<(), Stop>) -> Report {
        if result.is_err() {
            self.abandon();
        }
        if let Some(mut j) = self.journal()
            && let Err(e) = j.sync()
        {
            self.report.warnings.push(e.to_string());
        }
        match result {
            Ok(()) => {}
            Err(Stop::Connection(why)) => {
                self.report.connection_lost = true;
                let promise = self.rerun_promise();
                self.report.aborted = Some(format!(
                    "{why}; run the same command again to finish {promise}"
                ));
            }
            Err(Stop::Interrupted) => {
                self.report.interrupted = true;
                self.report.aborted = Some(
                    "interrupted; what landed is journaled: run the same command again to finish"
                        .into(),
                );
            }
            Err(Stop::OverQuota(why)) => {
                self.report.aborted = Some(format!(
                    "the server says the account is over quota ({why}); stopped instead of sending more. Free space or raise the quota, then run the same command again"
                ));
            }
            Err(Stop::Quota(why)) => {
                // One line for the whole run, written in `upload_to`.
                self.report.quota_stop = Some(why);
            }
            Err(Stop::Fewer(why)) => {
                // Its work went to the others; one warning for the run
                // is written in `upload_to`.
                log::info!("a connection ends: {why}; the others finish its work");
            }
            Err(Stop::Journal(e)) => {
                self.report.aborted = Some(format!("cannot write the journal: {e}"));
            }
        }
        self.report.append_commands = self.session.stats().append_commands;
        self.progress.finish();
        self.session.logout();
        self.report
    }
}
