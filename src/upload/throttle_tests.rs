//! The providers' throttles, quota and session-cap answers played by the
//! scripted server (`scripted.rs`: [`throttle_faults`], [`quota_bye`]) at
//! each step of the batch lifecycle, for MULTIAPPEND and serial APPEND,
//! with and without a journal: a throttle is waited out and what it
//! refused is sent again (nothing failed, everything stored once); one
//! that never ends gives up after `--max-throttle-wait` and reports the
//! messages not sent, once each; the quota stops the run cleanly (exit 4,
//! nothing failed) and the rerun finishes exactly once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::journal::Journal;
use crate::report::{ExitStatus, FailureClass, Report};

use super::lifecycle_tests::{MULTI, SERIAL, Setup, TARGET, check, rerun_completes, run, source};
use super::scripted::{Fault, Rule, Step, World, quota_bye, throttle_faults};

/// Every message of `sent` stored exactly once.
fn stored_once(case: &str, world: &Arc<Mutex<World>>, sent: &[Vec<u8>]) {
    let stored = world.lock().unwrap().messages(TARGET);
    for (i, bytes) in sent.iter().enumerate() {
        let n = stored.iter().filter(|s| *s == bytes).count();
        assert_eq!(n, 1, "{case}: message {i} stored {n} times");
    }
}

/// What one run left.
struct Played {
    report: Report,
    world: Arc<Mutex<World>>,
    sent: Vec<Vec<u8>>,
    setup: Setup,
    src: std::path::PathBuf,
    journal: Option<std::path::PathBuf>,
    _tmp: tempfile::TempDir,
}

impl Played {
    /// A clean rerun finishes, everything once ([`rerun_completes`]).
    fn rerun(&self, case: &str) {
        rerun_completes(case, &self.world, &self.src, &self.setup, &self.sent);
    }
}

/// One run with `rules`: the invariants, and what it left.
fn play(
    case: &str,
    caps: &'static str,
    rules: Vec<Rule>,
    journaled: bool,
    setup: impl Fn(&mut Setup),
) -> Played {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path(), 7);
    let world = World::shared();
    world.lock().unwrap().rules = rules;
    let journal = journaled.then(|| tmp.path().join("journal"));
    let mut s = Setup::new(caps, journal.clone(), 2, 3);
    setup(&mut s);
    let report = run(&world, &src, &s);
    let unknown = check(case, &world, &sent, &report, journal.as_deref());
    assert!(unknown.is_empty(), "{case}: {unknown:?}");
    Played {
        report,
        world,
        sent,
        setup: s,
        src,
        journal,
        _tmp: tmp,
    }
}

#[test]
fn every_throttle_at_every_append_is_waited_out() {
    for caps in [MULTI, SERIAL] {
        for fault in throttle_faults() {
            for nth in [1, 2, 3] {
                for journaled in [true, false] {
                    let case = format!("APPEND #{nth} {fault:?} {caps} journal={journaled}");
                    // Throttled, and again at the first resend.
                    let rules = vec![
                        Rule::at(Step::Append, nth, fault.clone()),
                        Rule::at(Step::Append, nth + 1, fault.clone()),
                    ];
                    let Played {
                        report,
                        world,
                        sent,
                        ..
                    } = play(&case, caps, rules, journaled, |_| {});
                    assert!(report.failures.is_empty(), "{case}: {report:#?}");
                    assert_eq!(report.exit_status(), ExitStatus::Success, "{case}");
                    stored_once(&case, &world, &sent);
                    let played = world.lock().unwrap().played.len();
                    assert_eq!(played, 2, "{case}: both throttles played");
                    assert!(
                        report
                            .warnings
                            .iter()
                            .any(|w| w.contains("throttled the upload")),
                        "{case}: {:?}",
                        report.warnings
                    );
                }
            }
        }
    }
}

#[test]
fn a_soft_throttle_lands_the_message_and_slows_the_rate() {
    for caps in [MULTI, SERIAL] {
        for journaled in [true, false] {
            let case = format!("OK [THROTTLED] from APPEND #2 {caps} journal={journaled}");
            let clean = play(&format!("{case} (clean)"), caps, vec![], journaled, |_| {});
            let rules = vec![Rule::from(Step::Append, 2, Fault::SoftThrottled)];
            let Played {
                report,
                world,
                sent,
                ..
            } = play(&case, caps, rules, journaled, |_| {});
            assert!(report.failures.is_empty(), "{case}: {report:#?}");
            assert_eq!(report.exit_status(), ExitStatus::Success, "{case}");
            assert_eq!(report.totals().uploaded as usize, sent.len(), "{case}");
            stored_once(&case, &world, &sent);
            // Stored the first time: nothing sent again, no pause.
            let appends = |w: &Arc<Mutex<World>>| {
                let w = w.lock().unwrap();
                w.log.iter().filter(|l| l.starts_with("Append")).count()
            };
            assert_eq!(appends(&world), appends(&clean.world), "{case}");
            let stored = world.lock().unwrap().messages(TARGET).len();
            assert_eq!(stored, sent.len(), "{case}: resent");
            let summary = report
                .warnings
                .iter()
                .find(|w| w.contains("asked to slow down"))
                .unwrap_or_else(|| panic!("{case}: {:?}", report.warnings));
            assert!(summary.contains("messages/s"), "{case}: {summary}");
            assert!(!summary.contains("waited"), "{case}: {summary}");
        }
    }
}

#[test]
fn throttles_at_other_steps_keep_the_invariants() {
    let steps = [
        (Step::List, 1),
        (Step::Create, 1),
        (Step::Status, 1),
        (Step::Select, 1),
        (Step::FetchSummaries, 1),
        (Step::Connect, 2),
    ];
    for caps in [MULTI, SERIAL] {
        for (step, nth) in steps {
            for fault in throttle_faults().into_iter().chain([quota_bye()]) {
                let case = format!("{step:?} #{nth} {fault:?} {caps}");
                // A stored batch whose answer was lost first, so that the
                // look (STATUS, SELECT, FETCH) and the reconnect happen.
                let rules = vec![
                    Rule::at(Step::Append, 1, Fault::LostAfter),
                    Rule::at(step, nth, fault.clone()),
                ];
                play(&case, caps, rules, true, |_| {}).rerun(&case);
            }
        }
    }
}

#[test]
fn a_throttle_that_never_ends_gives_up_after_the_longest_wait() {
    for caps in [MULTI, SERIAL] {
        let case = format!("throttled for ever {caps}");
        let fault = throttle_faults().remove(0);
        let rules = vec![Rule::from(Step::Append, 1, fault)];
        let played = play(&case, caps, rules, true, |s| {
            s.max_throttle_wait = Duration::from_millis(30);
        });
        let (report, world, sent) = (&played.report, &played.world, &played.sent);
        assert_eq!(report.failures.len(), sent.len(), "{case}: {report:#?}");
        for f in &report.failures {
            assert_eq!(f.class, FailureClass::NotSent, "{case}");
            assert!(f.reason.contains("kept throttling"), "{case}: {}", f.reason);
        }
        assert!(world.lock().unwrap().messages(TARGET).is_empty());
        played.rerun(&case);
    }
}

#[test]
fn the_quota_bye_stops_cleanly_and_the_rerun_finishes_once() {
    for caps in [MULTI, SERIAL] {
        for nth in [1, 2, 3] {
            for journaled in [true, false] {
                let case = format!("quota at APPEND #{nth} {caps} journal={journaled}");
                let rules = vec![
                    Rule::at(Step::Append, nth, quota_bye()),
                    // The account is locked: a login would be refused.
                    Rule::from(Step::Connect, 2, quota_bye()),
                ];
                let played = play(&case, caps, rules, journaled, |_| {});
                let (report, world) = (&played.report, &played.world);
                assert!(report.failures.is_empty(), "{case}: {report:#?}");
                assert_eq!(
                    report.exit_status(),
                    ExitStatus::Quota,
                    "{case}: {report:#?}"
                );
                assert_eq!(report.exit_status().code(), 4);
                let aborted = report.aborted.clone().unwrap_or_default();
                assert!(aborted.contains("bandwidth limits"), "{case}: {aborted}");
                let connections = world.lock().unwrap().connections;
                assert_eq!(connections, 1, "{case}: no login into the locked account");
                assert!(report.warnings.is_empty(), "{case}: {:?}", report.warnings);
                if let Some(j) = &played.journal {
                    // Only the unit of the command the BYE answered stays
                    // open: what was never written is not looked for.
                    let open = Journal::open(j, false).unwrap().pending();
                    assert_eq!(open.len(), 1, "{case}: {open:?}");
                }
                played.rerun(&case);
            }
        }
    }
}

/// Yahoo's penalty: a connection broken before its answer was read (the
/// rate-limit answer lost with the write), then refused back in with
/// `* BYE [UNAVAILABLE] Rate limit penalty` — four times for the same
/// message, more breaks than `--retries 2` allows. The refusals are the
/// provider's pace: the pause is waited out, the breaks cost no try, the
/// message lands; without them the same breaks fail it. The APPEND count
/// sums over the connections.
#[test]
fn breaks_refused_back_in_as_throttles_cost_no_try() {
    let penalty = || Fault::ByeSaying("[UNAVAILABLE] Rate limit penalty, try again later.".into());
    for caps in [MULTI, SERIAL] {
        for throttled in [true, false] {
            let case = format!("4 breaks, penalty BYE at reconnection: {throttled}, {caps}");
            let mut rules: Vec<Rule> = (2..=5)
                .map(|n| Rule::at(Step::Append, n, Fault::LostUnstored))
                .collect();
            if throttled {
                rules.extend([2, 4, 6, 8].map(|n| Rule::at(Step::Connect, n, penalty())));
            }
            let played = play(&case, caps, rules, true, |_| {});
            let (report, world, sent) = (&played.report, &played.world, &played.sent);
            let appends = world
                .lock()
                .unwrap()
                .log
                .iter()
                .filter(|l| l.starts_with("Append"))
                .count();
            assert_eq!(report.append_commands as usize, appends, "{case}");
            if !throttled {
                assert!(
                    report.failures.iter().any(|f| f.reason.contains("broke")),
                    "{case}: {report:#?}"
                );
                continue;
            }
            assert!(report.failures.is_empty(), "{case}: {report:#?}");
            assert_eq!(report.exit_status(), ExitStatus::Success, "{case}");
            stored_once(&case, world, sent);
            assert_eq!(world.lock().unwrap().connections, 9, "{case}");
            assert!(
                report
                    .warnings
                    .iter()
                    .any(|w| w.contains("after the server's throttle")),
                "{case}: {:?}",
                report.warnings
            );
        }
    }
}

/// Yahoo's rate limit (`NO [LIMIT]` then BYE) met by STATUS and SELECT
/// (the looks and checks around the APPENDs), more often than `--retries 2`
/// allows: a break the provider's pace caused costs no try; the run
/// finishes, everything stored once. A break without a throttle still does.
#[test]
fn throttle_breaks_of_looks_and_checks_cost_no_try() {
    let limit = || Fault::NoThenBye(None, "[LIMIT] UID Rate limit hit.".into());
    for caps in [MULTI, SERIAL] {
        for throttled in [true, false] {
            let case = format!("4 STATUS breaks, throttle: {throttled}, {caps}");
            let fault = if throttled {
                limit()
            } else {
                Fault::LostBefore
            };
            let rules: Vec<Rule> = (1..=4)
                .map(|n| Rule::at(Step::Status, n, fault.clone()))
                .collect();
            let played = play(&case, caps, rules, true, |_| {});
            let (report, world, sent) = (&played.report, &played.world, &played.sent);
            if !throttled {
                assert_ne!(report.exit_status(), ExitStatus::Success, "{case}");
                continue;
            }
            assert!(report.failures.is_empty(), "{case}: {report:#?}");
            assert!(report.aborted.is_none(), "{case}: {report:#?}");
            assert_eq!(report.exit_status(), ExitStatus::Success, "{case}");
            stored_once(&case, world, sent);
        }
    }
}
