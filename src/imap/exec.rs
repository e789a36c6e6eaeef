//! Running one command on a [`Session`]: write its fragments (batched into
//! as few writes as the literals allow), wait for `+` before each
//! synchronizing literal, collect untagged responses, return the tagged one.
//!
//! What arrives untagged is kept only when the command asked for it
//! ([`Keep`]), within a [`Budget`] of responses and bytes: the EXISTS,
//! RECENT, EXPUNGE and FETCH FLAGS a server pushes on its own are dropped
//! as they arrive (only the latest EXISTS count is remembered), so a long
//! session never grows, and no server can make one command's answer hold
//! more than its budget. Each response is itself bounded by `frame.rs`.
//!
//! [`Session`] is defined here with its core (send, read, run); connecting
//! and the public commands are in `session.rs`, APPEND in `append.rs`,
//! authentication in `auth.rs`, UID COPY in `copy.rs`: each adds methods
//! and imports `Session` from here, so no file imports another's back.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::fingerprint::Fingerprint;
use crate::imap::ImapError;
use crate::imap::command::{self, Command, Fragment, Request, Tags};
use crate::imap::connection::Connection;
use crate::imap::data;
use crate::imap::frame::{self, FrameLimits, HashedBody};
use crate::imap::response::{Response, Status, StatusKind};
use crate::imap::types::Capabilities;

/// An authenticated session. `Debug` shows no credentials (none are kept).
pub struct Session {
    pub(super) conn: Connection,
    pub(super) caps: Capabilities,
    pub(super) tags: Tags,
    pub(super) append_commands: u64,
    /// Text of an untagged BYE, if one arrived.
    pub(super) bye: Option<String>,
    /// Set once the connection is unusable.
    pub(super) broken: Option<String>,
    /// Tags of APPENDs written by [`Session::append_start`] whose tagged
    /// answer was not yet handed out by [`Session::append_finish`].
    pub(super) in_flight: HashSet<String>,
    /// Tagged answers of in-flight commands read while waiting for another.
    pub(super) answered: HashMap<String, Status>,
    /// The latest soft throttle seen ([`Session::take_throttle_notice`]).
    pub(super) throttle_notice: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("conn", &self.conn)
            .field("caps", &self.caps)
            .field("broken", &self.broken)
            .finish()
    }
}

/// How much untagged data one command may keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Budget {
    pub(super) responses: usize,
    pub(super) bytes: usize,
}

impl Budget {
    /// LIST, STATUS, CAPABILITY, NAMESPACE, SELECT: far more than any
    /// account has mailboxes.
    pub(super) const STANDARD: Budget = Budget {
        responses: 1_000_000,
        bytes: 64 << 20,
    };
    /// A FETCH of every message's size and Message-ID: a summary is some
    /// 150 bytes, so about 1.7 million messages.
    pub(super) const LISTING: Budget = Budget {
        responses: 4_000_000,
        bytes: 256 << 20,
    };
}

/// What a command keeps of the untagged responses to it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Keep {
    /// Untagged data kept, by the word naming it (`LIST`, `FETCH`, …).
    pub(super) data: &'static [&'static str],
    /// Keep untagged status responses that carry a code (`* OK [UIDNEXT 9]`).
    pub(super) codes: bool,
    /// Hash `BODY[]` literals as they stream instead of keeping them; the
    /// (UID, fingerprint) pairs go to [`Done::hashes`].
    pub(super) hash_bodies: bool,
    pub(super) budget: Budget,
}

impl Keep {
    /// Nothing but the tagged status (and the EXISTS count).
    pub(super) const NOTHING: Keep = Keep::data(&[]);

    /// Untagged data named by one of `words`.
    pub(super) const fn data(words: &'static [&'static str]) -> Keep {
        Keep {
            data: words,
            codes: false,
            hash_bodies: false,
            budget: Budget::STANDARD,
        }
    }
}

/// A command's outcome: the tagged status and what arrived untagged that
/// the command keeps.
#[derive(Debug)]
pub(super) struct Done {
    pub(super) status: Status,
    pub(super) data: Vec<Vec<u8>>,
    pub(super) untagged: Vec<Status>,
    /// The latest `* n EXISTS` (RFC 3501 §7.3.1).
    pub(super) exists: Option<u32>,
    /// With [`Keep::hash_bodies`]: each FETCH response's UID and body hash.
    pub(super) hashes: Vec<(u32, Fingerprint)>,
    kept_bytes: usize,
}

impl Done {
    /// Nothing yet (status OK until the tagged one arrives).
    pub(super) fn empty() -> Done {
        Done {
            status: Status {
                tag: None,
                kind: StatusKind::Ok,
                code: None,
                text: String::new(),
            },
            data: Vec::new(),
            untagged: Vec::new(),
            exists: None,
            hashes: Vec::new(),
            kept_bytes: 0,
        }
    }

    /// Counts one more kept response of `bytes` against `keep`'s budget.
    fn charge(&mut self, bytes: usize, keep: &Keep, command: &str) -> Result<(), ImapError> {
        self.kept_bytes += bytes;
        let kept = self.data.len() + self.untagged.len() + self.hashes.len() + 1;
        let what = || format!("the server's answer to {command}");
        if kept > keep.budget.responses {
            return Err(ImapError::TooLarge {
                what: what(),
                bound: format!("{} untagged responses", keep.budget.responses),
            });
        }
        if self.kept_bytes > keep.budget.bytes {
            return Err(ImapError::TooLarge {
                what: what(),
                bound: format!("{} of untagged data", frame::size(keep.budget.bytes)),
            });
        }
        Ok(())
    }

    /// OK → `Ok(self)`, NO/BAD → the typed error.
    pub(super) fn ok(self) -> Result<Done, ImapError> {
        match self.status.kind {
            StatusKind::Ok => Ok(self),
            _ => Err(self.status.into_result().unwrap_err()),
        }
    }
}

impl Session {
    /// `request` encoded with the next tag and the server's literal mode.
    pub(super) fn command(&mut self, request: &Request) -> Command<'static> {
        command::encode(self.tags.next_tag(), self.caps.literal_mode(), request)
    }

    /// A command without arguments, which must succeed.
    pub(super) fn simple(&mut self, name: &'static str, keep: Keep) -> Result<Done, ImapError> {
        let cmd = self.command(&Request::Simple(name));
        self.run(cmd, keep)?.ok()
    }

    /// Fails fast once the connection is unusable.
    pub(super) fn check_usable(&self) -> Result<(), ImapError> {
        match &self.broken {
            Some(why) => Err(ImapError::ConnectionLost(why.clone())),
            None => Ok(()),
        }
    }

    /// Writes `bytes` in one go; a failure makes the session unusable.
    pub(super) fn send(&mut self, bytes: &[u8]) -> Result<(), ImapError> {
        self.send_parts(&[bytes])
    }

    /// Writes `parts` back to back; a failure makes the session unusable,
    /// after what the server said before it closed was read (`closing.rs`).
    pub(super) fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), ImapError> {
        self.check_usable()?;
        let r = self.conn.send_parts(parts);
        if r.is_err() {
            self.read_before_close();
        }
        self.note_error(r)
    }

    /// Reads one response; an untagged BYE is remembered, and a lost
    /// connection after it says so.
    pub(super) fn read(&mut self) -> Result<Response, ImapError> {
        self.read_hashing(false).map(|(r, _)| r)
    }

    /// [`Session::read`]; with `hash_bodies` a `BODY[]` literal is hashed as
    /// it streams instead of kept (see `frame.rs`).
    fn read_hashing(
        &mut self,
        hash_bodies: bool,
    ) -> Result<(Response, Option<HashedBody>), ImapError> {
        self.check_usable()?;
        let r = self.conn.read_with(&FrameLimits::STANDARD, hash_bodies);
        let (r, hashed) = self.note_error(r)?;
        if let Response::Status(s) = &r {
            if s.tag.is_none() && s.kind == StatusKind::Bye {
                self.bye = Some(s.text.clone());
            }
            if is_soft_throttle(s) {
                self.throttle_notice = Some(format!(
                    "server said {} [THROTTLED] {}",
                    kind_word(s.kind),
                    s.text
                ));
            }
        }
        Ok((r, hashed))
    }

    /// The latest soft throttle the server sent since the last call: a
    /// tagged OK carrying `[THROTTLED]` (the command was carried out), or
    /// an untagged OK/NO carrying it while a command ran. Nothing was
    /// refused; the server asks the client to slow down.
    pub fn take_throttle_notice(&mut self) -> Option<String> {
        self.throttle_notice.take()
    }

    /// A lost connection makes the session unusable, and so does an
    /// exchange out of step (garbage, a bound exceeded).
    pub(super) fn note_error<T>(&mut self, r: Result<T, ImapError>) -> Result<T, ImapError> {
        match r {
            Err(ImapError::ConnectionLost(why)) => {
                let why = match &self.bye {
                    // Said once (a reason noted twice keeps one).
                    Some(text) if !why.starts_with("server said BYE") => {
                        format!("server said BYE ({text}); {why}")
                    }
                    _ => why,
                };
                self.broken = Some(why.clone());
                Err(ImapError::ConnectionLost(why))
            }
            Err(e) if e.is_connection_lost() => {
                self.broken.get_or_insert_with(|| e.to_string());
                Err(e)
            }
            other => other,
        }
    }

    /// Sends `cmd` and reads until its tagged response. Tagged answers of
    /// APPENDs still in flight ([`Session::append_start`]) that arrive
    /// meanwhile are kept for [`Session::append_finish`].
    pub(super) fn run(&mut self, cmd: Command<'_>, keep: Keep) -> Result<Done, ImapError> {
        let r = self.run_unchecked(&cmd, &keep);
        self.note_error(r)
    }

    fn run_unchecked(&mut self, cmd: &Command<'_>, keep: &Keep) -> Result<Done, ImapError> {
        let mut done = Done::empty();
        if let Some(status) = self.write_command(cmd, &mut done)? {
            done.status = status;
            return Ok(done);
        }
        loop {
            match self.read_hashing(keep.hash_bodies)? {
                (Response::Status(s), _) if s.tag.as_deref() == Some(cmd.tag.as_str()) => {
                    done.status = s;
                    return Ok(done);
                }
                (r, hashed) => self.untagged(r, hashed, cmd, keep, &mut done)?,
            }
        }
    }

    /// Writes `cmd`: everything up to a synchronizing literal in one
    /// vectored write (lines and literals straight from where they are, no
    /// copy into one buffer), then waits for `+` before that literal.
    ///
    /// RFC 3501 §7.5: before a synchronizing literal the server answers `+`
    /// or, refusing, the tagged NO/BAD; then nothing more is sent and that
    /// status (`Some`) is the command's outcome. Only the command being
    /// written can be waiting for a `+`, so other commands may be in flight.
    pub(super) fn write_command(
        &mut self,
        cmd: &Command<'_>,
        done: &mut Done,
    ) -> Result<Option<Status>, ImapError> {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(cmd.fragments.len());
        for frag in &cmd.fragments {
            match frag {
                Fragment::Line(l) => parts.push(l),
                Fragment::Literal { data, sync: false } => parts.push(data),
                Fragment::Literal { data, sync: true } => {
                    self.send_parts(&parts)?;
                    parts.clear();
                    if let Some(status) = self.await_continuation(cmd, done)? {
                        return Ok(Some(status));
                    }
                    parts.push(data);
                }
            }
        }
        self.send_parts(&parts)?;
        Ok(None)
    }

    /// Reads until `+` (→ `None`) or this command's tagged status (→ `Some`).
    fn await_continuation(
        &mut self,
        cmd: &Command<'_>,
        done: &mut Done,
    ) -> Result<Option<Status>, ImapError> {
        loop {
            match self.read()? {
                Response::Continue(_) => return Ok(None),
                Response::Status(s) if s.tag.as_deref() == Some(cmd.tag.as_str()) => {
                    return Ok(Some(s));
                }
                r => self.untagged(r, None, cmd, &Keep::NOTHING, done)?,
            }
        }
    }

    /// Files an untagged response as `keep` says; a stray continuation or
    /// another tag is server garbage (the session cannot know what it
    /// answers).
    fn untagged(
        &mut self,
        r: Response,
        hashed: Option<HashedBody>,
        cmd: &Command<'_>,
        keep: &Keep,
        done: &mut Done,
    ) -> Result<(), ImapError> {
        let tag = cmd.tag.as_str();
        match r {
            Response::Data(d) => {
                if let Some(n) = exists(&d) {
                    done.exists = Some(n);
                } else if let Some(h) = hashed {
                    if let Some(uid) = data::fetch_uid(&d) {
                        done.charge(d.len(), keep, &cmd.name)?;
                        done.hashes.push((uid, h.fingerprint));
                    }
                } else if keep
                    .data
                    .iter()
                    .any(|w| data_word(&d).eq_ignore_ascii_case(w.as_bytes()))
                {
                    done.charge(d.len(), keep, &cmd.name)?;
                    done.data.push(d);
                }
            }
            Response::Status(s) if s.tag.is_none() => {
                if keep.codes && s.code.is_some() {
                    done.charge(s.text.len() + 64, keep, &cmd.name)?;
                    done.untagged.push(s);
                }
            }
            Response::Status(s) if self.in_flight.contains(s.tag.as_deref().unwrap_or("")) => {
                let t = s.tag.clone().unwrap_or_default();
                self.answered.insert(t, s);
            }
            Response::Status(s) => {
                return Err(ImapError::ServerGarbage(format!(
                    "response for tag {} while waiting for {tag}",
                    s.tag.unwrap_or_default()
                )));
            }
            Response::Continue(text) => {
                return Err(ImapError::ServerGarbage(format!(
                    "unexpected continuation request \"+ {text}\" for {tag}"
                )));
            }
        }
        Ok(())
    }
}

/// A status that asks to slow down without refusing anything: `[THROTTLED]`
/// on a tagged OK, or on an untagged OK or NO (a tagged NO is a refusal:
/// the caller gets it as an error).
fn is_soft_throttle(s: &Status) -> bool {
    let soft = matches!(
        (&s.tag, s.kind),
        (Some(_), StatusKind::Ok) | (None, StatusKind::Ok | StatusKind::No)
    );
    soft && s.code.as_ref().is_some_and(crate::imap::Code::is_throttled)
}

/// The status word as the server wrote it.
fn kind_word(kind: StatusKind) -> &'static str {
    match kind {
        StatusKind::Ok => "OK",
        StatusKind::No => "NO",
        StatusKind::Bad => "BAD",
        StatusKind::Bye => "BYE",
        StatusKind::PreAuth => "PREAUTH",
    }
}

/// The word naming untagged data: `LIST` in `* LIST ...`, `FETCH` in
/// `* 3 FETCH ...` (RFC 3501 §7: `message-data` starts with a number).
fn data_word(frame: &[u8]) -> &[u8] {
    let line = frame.strip_prefix(b"* ").unwrap_or(frame);
    let mut words = line.split(|&b| b == b' ' || b == b'\r' || b == b'\n');
    let first = words.next().unwrap_or_default();
    if !first.is_empty() && first.iter().all(u8::is_ascii_digit) {
        words.next().unwrap_or_default()
    } else {
        first
    }
}

/// `n` of `* n EXISTS`, when it is one and `n` fits a u32.
fn exists(frame: &[u8]) -> Option<u32> {
    if !data_word(frame).eq_ignore_ascii_case(b"EXISTS") {
        return None;
    }
    let line = frame.strip_prefix(b"* ")?;
    let n = line.split(|&b| b == b' ').next()?;
    std::str::from_utf8(n).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_names_its_bound() {
        let small = Keep {
            budget: Budget {
                responses: 2,
                bytes: 1 << 20,
            },
            ..Keep::data(&["LIST"])
        };
        let mut done = Done::empty();
        for _ in 0..2 {
            done.charge(10, &small, "LIST").unwrap();
            done.data.push(b"* LIST () \"/\" x\r\n".to_vec());
        }
        let e = done.charge(10, &small, "LIST").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server's answer to LIST exceeded 2 untagged responses"
        );
        let mut done = Done::empty();
        done.charge(64 << 20, &Keep::data(&["FETCH"]), "UID FETCH")
            .unwrap();
        let e = done
            .charge(1, &Keep::data(&["FETCH"]), "UID FETCH")
            .unwrap_err();
        assert!(e.is_connection_lost());
        assert_eq!(
            e.to_string(),
            "the server's answer to UID FETCH exceeded 64 MiB of untagged data"
        );
    }

    #[test]
    fn data_words_and_exists() {
        assert_eq!(data_word(b"* LIST () \"/\" x\r\n"), b"LIST");
        assert_eq!(data_word(b"* 12 FETCH (FLAGS ())\r\n"), b"FETCH");
        assert_eq!(data_word(b"* CAPABILITY\r\n"), b"CAPABILITY");
        assert_eq!(exists(b"* 12 exists\r\n"), Some(12));
        assert_eq!(exists(b"* 4294967295 EXISTS\r\n"), Some(u32::MAX));
        assert_eq!(exists(b"* 4294967296 EXISTS\r\n"), None);
        assert_eq!(exists(b"* 3 RECENT\r\n"), None);
    }
}
