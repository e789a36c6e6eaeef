//! Running one command on a [`Session`]: write its fragments (batched into
//! as few writes as the literals allow), wait for `+` before each
//! synchronizing literal, collect untagged responses, return the tagged one.
//!
//! Split from `session.rs` to keep files small; the state machine of
//! connecting and the public commands live there, APPEND in `append.rs`.

use crate::imap::ImapError;
use crate::imap::command::{Builder, Command, Fragment};
use crate::imap::response::{Response, Status, StatusKind};
use crate::imap::session::Session;

/// A command's outcome: the tagged status and what arrived untagged.
pub(super) struct Done {
    pub(super) status: Status,
    pub(super) data: Vec<Vec<u8>>,
    pub(super) untagged: Vec<Status>,
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
        }
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
    /// A builder with the next tag and the server's literal mode.
    pub(super) fn builder<'a>(&mut self, name: &str) -> Builder<'a> {
        Builder::new(self.tags.next_tag(), name, self.caps.literal_mode())
    }

    /// A command without arguments, which must succeed.
    pub(super) fn simple(&mut self, name: &str) -> Result<Done, ImapError> {
        let b = self.builder(name);
        self.run(b.finish())?.ok()
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

    /// Writes `parts` back to back; a failure makes the session unusable.
    pub(super) fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), ImapError> {
        self.check_usable()?;
        let r = self.conn.send_parts(parts);
        self.note_error(r)
    }

    /// Reads one response; an untagged BYE is remembered, and a lost
    /// connection after it says so.
    pub(super) fn read(&mut self) -> Result<Response, ImapError> {
        self.check_usable()?;
        let r = self.conn.read();
        let r = self.note_error(r)?;
        if let Response::Status(s) = &r
            && s.tag.is_none()
            && s.kind == StatusKind::Bye
        {
            self.bye = Some(s.text.clone());
        }
        Ok(r)
    }

    fn note_error<T>(&mut self, r: Result<T, ImapError>) -> Result<T, ImapError> {
        match r {
            Err(ImapError::ConnectionLost(why)) => {
                let why = match &self.bye {
                    Some(text) => format!("server said BYE ({text}); {why}"),
                    None => why,
                };
                self.broken = Some(why.clone());
                Err(ImapError::ConnectionLost(why))
            }
            other => other,
        }
    }

    /// Sends `cmd` and reads until its tagged response. Tagged answers of
    /// APPENDs still in flight ([`Session::append_start`]) that arrive
    /// meanwhile are kept for [`Session::append_finish`].
    pub(super) fn run(&mut self, cmd: Command<'_>) -> Result<Done, ImapError> {
        let mut done = Done::empty();
        if let Some(status) = self.write_command(&cmd, &mut done)? {
            done.status = status;
            return Ok(done);
        }
        loop {
            match self.read()? {
                Response::Status(s) if s.tag.as_deref() == Some(cmd.tag.as_str()) => {
                    done.status = s;
                    return Ok(done);
                }
                r => self.untagged(r, &cmd.tag, &mut done)?,
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
                    if let Some(status) = self.await_continuation(&cmd.tag, done)? {
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
        tag: &str,
        done: &mut Done,
    ) -> Result<Option<Status>, ImapError> {
        loop {
            match self.read()? {
                Response::Continue(_) => return Ok(None),
                Response::Status(s) if s.tag.as_deref() == Some(tag) => return Ok(Some(s)),
                r => self.untagged(r, tag, done)?,
            }
        }
    }

    /// Files an untagged response; a stray continuation or another tag is a
    /// protocol error (the session cannot know what it answers).
    fn untagged(&mut self, r: Response, tag: &str, done: &mut Done) -> Result<(), ImapError> {
        match r {
            Response::Data(d) => done.data.push(d),
            Response::Status(s) if s.tag.is_none() => done.untagged.push(s),
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
