//! An in-memory IMAP server for unit tests of the upload: mailboxes with
//! UIDVALIDITY, UIDNEXT and stored messages ([`World`], shared by every
//! connection of a run and by the next run: `scripted_world.rs`), reached
//! through [`ScriptedServer`], a [`MailServer`] that plays scripted faults ([`Rule`])
//! at any step: the connection lost before the command is written, or
//! after it was written and carried out (stored) but before the answer, or
//! written and never carried out; NO, BAD, BYE; a timeout; the connection
//! refused; a FETCH answered in part; SIGINT; the providers' throttles,
//! quota and session-cap answers ([`throttle_faults`], [`quota_bye`]). The lifecycle's tests run the whole upload against it, with no
//! socket and no sleep but the recovery's own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fingerprint::{Fingerprint, message_id};
use crate::imap::{
    AppendItem, Appended, Capabilities, Copied, ImapError, ListEntry, MailboxStatus, Selected,
    SessionStats, Summary,
};

use super::server::MailServer;

pub use super::scripted_world::{
    Fault, Mailbox, Rule, SOFT_THROTTLE, Step, World, command_faults, quota_bye, session_cap_bye,
    throttle_faults,
};

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
