//! The scripted server's side of things for unit tests of the upload
//! (`scripted.rs` is its connection): the mailboxes ([`World`], shared by
//! every connection of a run and by the next run) and the faults it plays
//! ([`Rule`]: a [`Fault`] at the n-th [`Step`], counted over all
//! connections or one mailbox's), with the providers' answers as faults
//! ([`throttle_faults`], [`quota_bye`], [`session_cap_bye`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::imap::{Appended, Code, ImapError};

/// A step of the protocol where a fault can be played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Connect,
    List,
    Create,
    Status,
    Select,
    /// One APPEND command (a MULTIAPPEND counts once).
    Append,
    FetchSummaries,
    FetchHashes,
    UidCopy,
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The connection drops before the command is written.
    LostBefore,
    /// The command is written and carried out (stored), then the
    /// connection drops before the answer.
    LostAfter,
    /// The command is written; the connection drops before the server
    /// carried it out.
    LostUnstored,
    /// Carried out, and no answer before the timeout.
    Timeout,
    /// `NO` (with a response code), nothing done.
    No(Option<Code>),
    /// `BAD`, nothing done.
    Bad,
    /// `* BYE` instead of carrying it out.
    Bye,
    /// Connecting fails (only for [`Step::Connect`]).
    Refused,
    /// A FETCH answered OK with only the first half of what was asked
    /// (only for [`Step::FetchSummaries`] and [`Step::FetchHashes`]).
    Partial,
    /// SIGINT arrives ([`World::stop`] is set); the command is carried out.
    Interrupt,
    /// `NO` with this code and text (a provider's throttle), nothing done.
    NoSaying(Option<Code>, String),
    /// `NO` with this code and text, then `* BYE` and the connection
    /// closed (Yahoo's rate limit), nothing done.
    NoThenBye(Option<Code>, String),
    /// `* BYE` with this text (a provider's quota or session cap).
    ByeSaying(String),
    /// Carried out and answered `OK [THROTTLED]` (Gmail's soft throttle):
    /// stored, without APPENDUID (an answer carries one code).
    SoftThrottled,
}

/// The providers' throttling answers (DESIGN.md), as faults: Gmail's
/// `NO [THROTTLED]`, Microsoft 365's suggested backoff (scaled to 3 ms),
/// Yahoo's `NO [LIMIT] UID Rate limit hit.` then BYE, RFC 5530's
/// `NO [UNAVAILABLE]`.
pub fn throttle_faults() -> Vec<Fault> {
    vec![
        Fault::NoSaying(
            Some(Code::Other("THROTTLED".into())),
            "Too many APPENDs".into(),
        ),
        Fault::NoSaying(
            None,
            "Request is throttled. Suggested Backoff Time: 3 milliseconds".into(),
        ),
        Fault::NoThenBye(Some(Code::Limit), "UID Rate limit hit.".into()),
        Fault::NoSaying(Some(Code::Other("UNAVAILABLE".into())), "try later".into()),
    ]
}

/// The soft throttle's text, as [`crate::imap::Session`] reports it.
pub const SOFT_THROTTLE: &str = "server said OK [THROTTLED] Slow down.";

/// Gmail's session cap, as a fault (a login refused).
pub fn session_cap_bye() -> Fault {
    Fault::ByeSaying("[ALERT] Too many simultaneous connections.".into())
}

/// Gmail's daily upload quota, as a fault.
pub fn quota_bye() -> Fault {
    Fault::ByeSaying("[ALERT] Account exceeded command or bandwidth limits.".into())
}

/// Every fault a command can meet (lost before, after, unstored; a
/// timeout; NO, NO [UNAVAILABLE]; BAD; BYE).
pub fn command_faults() -> Vec<Fault> {
    vec![
        Fault::LostBefore,
        Fault::LostAfter,
        Fault::LostUnstored,
        Fault::Timeout,
        Fault::No(None),
        Fault::No(Some(Code::Other("UNAVAILABLE".into()))),
        Fault::Bad,
        Fault::Bye,
    ]
}

/// Play `fault` at the `nth` (1-based, counted over all connections)
/// occurrence of `step`; `every`: and at every later one. With `mailbox`,
/// only that mailbox's occurrences count.
#[derive(Clone, Debug)]
pub struct Rule {
    pub step: Step,
    pub nth: usize,
    pub fault: Fault,
    pub every: bool,
    pub mailbox: Option<String>,
}

impl Rule {
    pub fn at(step: Step, nth: usize, fault: Fault) -> Rule {
        Rule {
            step,
            nth,
            fault,
            every: false,
            mailbox: None,
        }
    }

    /// The same, counting only `mailbox`'s occurrences of `step`.
    pub fn in_mailbox(self, mailbox: &str) -> Rule {
        Rule {
            mailbox: Some(mailbox.to_string()),
            ..self
        }
    }

    pub fn from(step: Step, nth: usize, fault: Fault) -> Rule {
        Rule {
            every: true,
            ..Rule::at(step, nth, fault)
        }
    }
}

/// One mailbox.
#[derive(Clone, Debug)]
pub struct Mailbox {
    pub uidvalidity: u32,
    pub uidnext: u32,
    /// (UID, bytes), in UID order.
    pub messages: Vec<(u32, Vec<u8>)>,
}

/// The server's state, shared by its connections.
#[derive(Debug, Default)]
pub struct World {
    pub mailboxes: BTreeMap<String, Mailbox>,
    pub rules: Vec<Rule>,
    pub connections: usize,
    /// Every command, as `STEP mailbox`, in order.
    pub log: Vec<String>,
    /// Faults played so far.
    pub played: Vec<(Step, Fault)>,
    /// The run's stop flag (set by [`Fault::Interrupt`]).
    pub stop: Option<Arc<AtomicBool>>,
    /// A header line (with its CRLF) put before every message stored, as
    /// servers that rewrite headers do (GNU imap4d): sizes then differ
    /// from what was sent, the text does not.
    pub added_header: Option<Vec<u8>>,
    /// Messages a killed run had sent that the server stores only once a
    /// command at this step was carried out (a server still storing when
    /// the next run looks).
    pub landing: Option<(Step, String, Vec<Vec<u8>>)>,
    /// APPENDs to any mailbox but this one wait until this many faults
    /// have been played (so that the connections filling them are still
    /// uploading when this one's faults come).
    pub hold_others: Option<(String, usize)>,
    /// Every APPEND waits until this many connections were opened.
    pub hold_until_connections: usize,
    seen: HashMap<(Step, Option<String>), usize>,
}

impl World {
    pub fn shared() -> Arc<Mutex<World>> {
        Arc::new(Mutex::new(World::default()))
    }

    /// The messages of `mailbox`, bytes only.
    pub fn messages(&self, mailbox: &str) -> Vec<Vec<u8>> {
        self.mailboxes
            .get(mailbox)
            .map(|m| m.messages.iter().map(|(_, b)| b.clone()).collect())
            .unwrap_or_default()
    }

    pub(super) fn fault(&mut self, step: Step, what: &str) -> Option<Fault> {
        let mut count = |key| {
            let n = self.seen.entry(key).or_default();
            *n += 1;
            *n
        };
        let n = count((step, None));
        let in_mailbox = count((step, Some(what.to_string())));
        let fault = self
            .rules
            .iter()
            .find(|r| {
                let n = if r.mailbox.as_deref().is_some_and(|m| m == what) {
                    in_mailbox
                } else if r.mailbox.is_some() {
                    return false;
                } else {
                    n
                };
                r.step == step && (r.nth == n || (r.every && n >= r.nth))
            })
            .map(|r| r.fault.clone())?;
        self.played.push((step, fault.clone()));
        Some(fault)
    }

    /// SIGINT: the run's stop flag is set.
    pub(super) fn interrupt(&self) {
        if let Some(stop) = &self.stop {
            stop.store(true, Ordering::SeqCst);
        }
    }

    pub fn create(&mut self, name: &str) {
        let uidvalidity = 1000 + self.mailboxes.len() as u32;
        self.mailboxes.entry(name.to_string()).or_insert(Mailbox {
            uidvalidity,
            uidnext: 1,
            messages: Vec::new(),
        });
    }

    pub(super) fn mailbox(&mut self, name: &str) -> Result<&mut Mailbox, ImapError> {
        self.mailboxes.get_mut(name).ok_or_else(|| ImapError::No {
            code: Some(Code::TryCreate),
            text: format!("{name} does not exist"),
        })
    }

    pub(super) fn store(&mut self, name: &str, items: &[Vec<u8>]) -> Result<Appended, ImapError> {
        let added = self.added_header.clone().unwrap_or_default();
        let mb = self.mailbox(name)?;
        let mut uids = Vec::new();
        for bytes in items {
            uids.push(mb.uidnext);
            mb.messages.push((mb.uidnext, [&added[..], bytes].concat()));
            mb.uidnext += 1;
        }
        Ok(Appended {
            uid_validity: Some(mb.uidvalidity),
            uids,
        })
    }
}
