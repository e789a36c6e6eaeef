//! An in-memory IMAP server for unit tests of the upload: mailboxes with
//! UIDVALIDITY, UIDNEXT and stored messages ([`World`], shared by every
//! connection of a run and by the next run), reached through
//! [`ScriptedServer`], a [`MailServer`] that plays scripted faults ([`Rule`])
//! at any step: the connection lost before the command is written, or
//! after it was written and carried out (stored) but before the answer, or
//! written and never carried out; NO, BAD, BYE; a timeout; the connection
//! refused; a FETCH answered in part; SIGINT; the providers' throttles,
//! quota and session-cap answers ([`throttle_faults`], [`quota_bye`]). The lifecycle's tests run the whole upload against it, with no
//! socket and no sleep but the recovery's own.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::fingerprint::{Fingerprint, message_id};
use crate::imap::{
    AppendItem, Appended, Capabilities, Code, Copied, ImapError, ListEntry, MailboxStatus,
    Selected, SessionStats, Summary,
};

use super::server::MailServer;

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

    fn fault(&mut self, step: Step, what: &str) -> Option<Fault> {
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
    fn interrupt(&self) {
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

    fn mailbox(&mut self, name: &str) -> Result<&mut Mailbox, ImapError> {
        self.mailboxes.get_mut(name).ok_or_else(|| ImapError::No {
            code: Some(Code::TryCreate),
            text: format!("{name} does not exist"),
        })
    }

    fn store(&mut self, name: &str, items: &[Vec<u8>]) -> Result<Appended, ImapError> {
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

/// An answer kept for `append_finish`.
enum Answer {
    Ready(Result<Appended, ImapError>),
    /// The connection broke before it came.
    Never(String),
}

/// One connection to a [`World`].
pub struct ScriptedServer {
    world: Arc<Mutex<World>>,
    caps: Capabilities,
    broken: bool,
    selected: Option<String>,
    next_tag: u32,
    answers: HashMap<String, Answer>,
    appends: u64,
    /// The last command was answered in part ([`Fault::Partial`]).
    partial: bool,
    /// A soft throttle not yet taken ([`Fault::SoftThrottled`]).
    notice: Option<String>,
}

impl ScriptedServer {
    /// Connects (or fails, by a [`Step::Connect`] rule).
    pub fn connect(world: &Arc<Mutex<World>>, caps: &str) -> Result<ScriptedServer, ImapError> {
        {
            let mut w = world.lock().unwrap();
            w.connections += 1;
            w.log.push("Connect".into());
            match w.fault(Step::Connect, "") {
                None => {}
                Some(Fault::Interrupt) => w.interrupt(),
                Some(Fault::ByeSaying(text)) => return Err(ImapError::Bye { text }),
                Some(_) => return Err(ImapError::ConnectionLost("connection refused".into())),
            }
        }
        Ok(ScriptedServer {
            world: Arc::clone(world),
            caps: Capabilities(caps.split(' ').map(String::from).collect()),
            broken: false,
            selected: None,
            next_tag: 0,
            answers: HashMap::new(),
            appends: 0,
            partial: false,
            notice: None,
        })
    }

    /// Runs one command at `step`: its fault, if any, then `run`.
    fn command<T>(
        &mut self,
        step: Step,
        what: &str,
        run: impl FnOnce(&mut World) -> Result<T, ImapError>,
    ) -> Result<T, ImapError> {
        if self.broken {
            return Err(ImapError::ConnectionLost("the connection is closed".into()));
        }
        while step == Step::Append && self.held(what) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut w = self.world.lock().unwrap();
        w.log.push(format!("{step:?} {what}"));
        let lost = |why: &str| ImapError::ConnectionLost(why.into());
        let fault = w.fault(step, what);
        self.partial = fault == Some(Fault::Partial);
        if fault == Some(Fault::Interrupt) {
            w.interrupt();
        }
        let out = match fault {
            None | Some(Fault::Refused | Fault::Partial | Fault::Interrupt) => run(&mut w),
            Some(Fault::LostBefore) | Some(Fault::LostUnstored) => {
                self.broken = true;
                Err(lost("connection reset"))
            }
            Some(Fault::LostAfter) => {
                let _ = run(&mut w);
                self.broken = true;
                Err(lost("connection reset"))
            }
            Some(Fault::Timeout) => {
                let _ = run(&mut w);
                self.broken = true;
                Err(lost("timed out"))
            }
            Some(Fault::No(code)) => Err(ImapError::No {
                code,
                text: "scripted refusal".into(),
            }),
            Some(Fault::Bad) => Err(ImapError::Bad {
                text: "scripted".into(),
            }),
            Some(Fault::Bye) => {
                self.broken = true;
                Err(ImapError::Bye {
                    text: "scripted shutdown".into(),
                })
            }
            Some(Fault::NoSaying(code, text)) => Err(ImapError::No { code, text }),
            Some(Fault::NoThenBye(code, text)) => {
                self.broken = true;
                Err(ImapError::No { code, text })
            }
            Some(Fault::ByeSaying(text)) => {
                self.broken = true;
                Err(ImapError::Bye { text })
            }
            Some(Fault::SoftThrottled) => {
                self.notice = Some(SOFT_THROTTLE.into());
                run(&mut w)
            }
        };
        if w.landing.as_ref().is_some_and(|l| l.0 == step)
            && let Some((_, mailbox, items)) = w.landing.take()
        {
            let _ = w.store(&mailbox, &items);
        }
        out
    }

    /// True while an APPEND to `mailbox` waits ([`World::hold_others`],
    /// [`World::hold_until_connections`]).
    fn held(&self, mailbox: &str) -> bool {
        let w = self.world.lock().unwrap();
        w.connections < w.hold_until_connections
            || w.hold_others
                .as_ref()
                .is_some_and(|(m, n)| m != mailbox && w.played.len() < *n)
    }

    /// `hash` of each of these UIDs' stored bytes (one FETCH).
    fn hashed(
        &mut self,
        uids: &[u32],
        hash: fn(&[u8]) -> Fingerprint,
    ) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        let name = self.selected();
        let all = self.command(Step::FetchHashes, &name, |w| {
            let mb = w.mailbox(&name)?;
            Ok(mb
                .messages
                .iter()
                .filter(|(uid, _)| uids.contains(uid))
                .map(|(uid, b)| (*uid, hash(b)))
                .collect())
        })?;
        Ok(self.answered(all))
    }

    fn selected(&self) -> String {
        self.selected.clone().unwrap_or_default()
    }

    /// The summaries of the selected mailbox's messages whose UID is `wanted`.
    fn summaries(&mut self, wanted: impl Fn(u32) -> bool) -> Result<Vec<Summary>, ImapError> {
        let name = self.selected();
        let all = self.command(Step::FetchSummaries, &name, |w| {
            let mb = w.mailbox(&name)?;
            Ok(mb
                .messages
                .iter()
                .filter(|(uid, _)| wanted(*uid))
                .map(|(uid, b)| Summary {
                    uid: *uid,
                    size: b.len() as u32,
                    internal_date: None,
                    message_id: message_id(b),
                })
                .collect())
        })?;
        Ok(self.answered(all))
    }

    /// `all`, or its first half when the command was answered in part.
    fn answered<T>(&self, mut all: Vec<T>) -> Vec<T> {
        if self.partial {
            all.truncate(all.len() / 2);
        }
        all
    }
}

impl MailServer for ScriptedServer {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    fn is_broken(&self) -> bool {
        self.broken
    }
    fn stats(&self) -> SessionStats {
        SessionStats {
            append_commands: self.appends,
            ..SessionStats::default()
        }
    }
    fn list(&mut self, _reference: &str, _pattern: &str) -> Result<Vec<ListEntry>, ImapError> {
        self.command(Step::List, "*", |w| {
            Ok(w.mailboxes
                .keys()
                .map(|name| ListEntry {
                    name: name.clone(),
                    delimiter: Some('/'),
                    attributes: Vec::new(),
                })
                .collect())
        })
    }
    fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        self.command(Step::Create, mailbox, |w| {
            w.create(mailbox);
            Ok(())
        })
    }
    fn status(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError> {
        self.command(Step::Status, mailbox, |w| {
            let mb = w.mailbox(mailbox)?;
            Ok(MailboxStatus {
                messages: Some(mb.messages.len() as u32),
                uid_validity: Some(mb.uidvalidity),
                uid_next: Some(mb.uidnext),
            })
        })
    }
    fn select(&mut self, mailbox: &str) -> Result<Selected, ImapError> {
        let sel = self.command(Step::Select, mailbox, |w| {
            let mb = w.mailbox(mailbox)?;
            Ok(Selected {
                exists: mb.messages.len() as u32,
                uid_validity: Some(mb.uidvalidity),
                uid_next: Some(mb.uidnext),
                permanent_flags: None,
            })
        })?;
        self.selected = Some(mailbox.to_string());
        Ok(sel)
    }
    fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError> {
        let tag = self.append_start(mailbox, items)?;
        self.append_finish(&tag)
    }
    fn append_start(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<String, ImapError> {
        if items.iter().any(|i| i.bytes.is_empty()) {
            return Err(ImapError::Unsendable("empty message".into()));
        }
        let bytes: Vec<Vec<u8>> = items.iter().map(|i| i.bytes.to_vec()).collect();
        let uidplus = self.caps.has("UIDPLUS");
        let soft_before = self.notice.is_some();
        let result = self.command(Step::Append, mailbox, |w| {
            let mut a = w.store(mailbox, &bytes)?;
            if !uidplus {
                a = Appended::default();
            }
            Ok(a)
        });
        // An OK carrying [THROTTLED] carries no APPENDUID (one code).
        let result = match result {
            Ok(_) if !soft_before && self.notice.is_some() => Ok(Appended::default()),
            r => r,
        };
        if let Err(ImapError::ConnectionLost(why)) = &result
            && why == "the connection is closed"
        {
            // Never written: nothing is in flight for it.
            return Err(result.unwrap_err());
        }
        self.appends += 1;
        self.next_tag += 1;
        let tag = format!("S{}", self.next_tag);
        let answer = match result {
            Err(e @ (ImapError::ConnectionLost(_) | ImapError::Bye { .. })) => {
                Answer::Never(e.to_string())
            }
            r => Answer::Ready(r),
        };
        self.answers.insert(tag.clone(), answer);
        Ok(tag)
    }
    fn append_finish(&mut self, tag: &str) -> Result<Appended, ImapError> {
        match self.answers.remove(tag) {
            Some(Answer::Ready(r)) => r,
            Some(Answer::Never(why)) => Err(ImapError::ConnectionLost(why)),
            None => Err(ImapError::ConnectionLost(format!("no command {tag}"))),
        }
    }
    fn fetch_summaries_from(&mut self, from: u32) -> Result<Vec<Summary>, ImapError> {
        self.summaries(|uid| uid >= from)
    }
    fn fetch_summaries_of(&mut self, uids: &[u32]) -> Result<Vec<Summary>, ImapError> {
        self.summaries(|uid| uids.contains(&uid))
    }
    fn fetch_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        self.hashed(uids, Fingerprint::of)
    }
    fn fetch_text_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        self.hashed(uids, Fingerprint::of_text)
    }
    fn uid_copy(&mut self, uids: &[u32], mailbox: &str) -> Result<Copied, ImapError> {
        let from = self.selected();
        self.command(Step::UidCopy, mailbox, |w| {
            let bytes: Vec<(u32, Vec<u8>)> = w
                .mailbox(&from)?
                .messages
                .iter()
                .filter(|(uid, _)| uids.contains(uid))
                .cloned()
                .collect();
            let items: Vec<Vec<u8>> = bytes.iter().map(|(_, b)| b.clone()).collect();
            let a = w.store(mailbox, &items)?;
            Ok(Copied {
                uid_validity: a.uid_validity,
                uids: bytes.iter().map(|(u, _)| *u).zip(a.uids).collect(),
            })
        })
    }
    fn take_throttle_notice(&mut self) -> Option<String> {
        self.notice.take()
    }
    fn logout(self: Box<Self>) {}
}
