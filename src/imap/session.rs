//! An authenticated IMAP session and the commands mailhaul sends.
//!
//! [`Session::connect`] walks the states of RFC 3501 §3: greeting, STARTTLS
//! (never a silent plaintext fallback), authentication, capabilities re-read
//! after each step (Dovecot shows MULTIAPPEND only after login). Commands are
//! encoded by `command.rs` into fragments; [`Session`] sends them, waits for
//! `+` only before synchronizing literals, and matches tagged responses.
//! Untagged data is parsed by `data.rs`. A lost connection (or BYE) makes
//! the session unusable: every later call fails with `ConnectionLost`, and
//! the caller reconnects and resolves what was in flight.

use std::collections::{HashMap, HashSet};

use crate::fingerprint::Fingerprint;
use crate::imap::command::{FetchItems, Request, Tags, Uids};
use crate::imap::connection::{Connection, TlsOptions};
use crate::imap::data;
pub use crate::imap::exec::Session;
use crate::imap::exec::{Budget, Keep};
use crate::imap::response::{Response, StatusKind};
use crate::imap::types::{
    Capabilities, ConnectOptions, ListEntry, MailboxStatus, Selected, SessionStats, Summary,
    TlsMode,
};
use crate::imap::{Code, ImapError};

impl Session {
    /// Connects, sets up TLS, reads capabilities, authenticates and reads the
    /// capabilities again.
    pub fn connect(opts: &ConnectOptions) -> Result<Session, ImapError> {
        let tls = TlsOptions {
            ca_file: opts.ca_file.clone(),
            insecure: opts.insecure,
        };
        let implicit = (opts.tls == TlsMode::Implicit).then_some(&tls);
        let mut conn = Connection::connect(&opts.host, opts.port, implicit, opts.timeout)?;
        if let Some(sink) = &opts.trace {
            conn.set_tracer(sink.next_connection());
        }
        let mut s = Session {
            conn,
            caps: Capabilities::default(),
            tags: Tags::default(),
            append_commands: 0,
            bye: None,
            broken: None,
            in_flight: HashSet::new(),
            answered: HashMap::new(),
            throttle_notice: None,
        };
        // RFC 3501 §7.1.4/§7.1.5: the greeting is OK, PREAUTH or BYE.
        let greeting = match s.read()? {
            Response::Status(g) if g.tag.is_none() => g,
            other => {
                return Err(ImapError::ServerGarbage(format!(
                    "unexpected greeting {other:?}"
                )));
            }
        };
        let preauth = match greeting.kind {
            StatusKind::Ok => false,
            StatusKind::PreAuth => true,
            StatusKind::Bye => {
                return Err(ImapError::Bye {
                    text: greeting.text,
                });
            }
            _ => {
                return Err(ImapError::ServerGarbage(format!(
                    "unexpected greeting {}",
                    greeting.text
                )));
            }
        };
        match greeting.capabilities() {
            Some(c) => s.caps = Capabilities(c),
            None => s.refresh_capabilities()?,
        }
        if opts.tls == TlsMode::StartTls && !opts.allow_plaintext {
            // RFC 3501 §6.2.1: STARTTLS exists only before authentication;
            // a PREAUTH plaintext session would carry the mail in clear.
            if preauth || !s.caps.has("STARTTLS") {
                return Err(ImapError::PlaintextRefused);
            }
        }
        if opts.tls == TlsMode::StartTls && !preauth && s.caps.has("STARTTLS") {
            s.simple("STARTTLS", Keep::NOTHING)?;
            s = s.upgrade(&opts.host, &tls)?;
            // RFC 3501 §6.2.1: discard capabilities learned before TLS.
            s.refresh_capabilities()?;
        }
        if !preauth && opts.oauth2 {
            s.authenticate_oauth2(&opts.user, &opts.password, &opts.host, opts.port)?;
        } else if !preauth {
            s.authenticate(&opts.user, &opts.password)?;
        }
        if opts.compress && s.caps.has("COMPRESS=DEFLATE") {
            s = s.start_compression()?;
        }
        Ok(s)
    }

    fn upgrade(self, host: &str, tls: &TlsOptions) -> Result<Session, ImapError> {
        let conn = self.conn.starttls(host, tls)?;
        Ok(Session {
            conn,
            caps: Capabilities::default(),
            ..self
        })
    }

    /// RFC 4978 §3: `COMPRESS DEFLATE`; after the tagged OK both directions
    /// are deflated. A NO (e.g. compression already active at the TLS
    /// layer) leaves the session as it was.
    fn start_compression(mut self) -> Result<Session, ImapError> {
        match self.simple("COMPRESS DEFLATE", Keep::NOTHING) {
            Ok(_) => {}
            Err(ImapError::No { .. }) => return Ok(self),
            Err(e) => return Err(e),
        }
        let conn = self.conn.compress();
        Ok(Session { conn, ..self })
    }

    /// Sends CAPABILITY and stores the answer.
    pub fn refresh_capabilities(&mut self) -> Result<(), ImapError> {
        let done = self.simple("CAPABILITY", Keep::data(&["CAPABILITY"]))?;
        self.caps = Capabilities(
            data::capabilities(&done.data)
                .ok_or_else(|| ImapError::ServerGarbage("no CAPABILITY in the answer".into()))?,
        );
        Ok(())
    }

    /// True once the connection is unusable (lost, BYE, out of step).
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    pub fn stats(&self) -> SessionStats {
        SessionStats {
            append_commands: self.append_commands,
            bytes_sent: self.conn.bytes_sent(),
            bytes_received: self.conn.bytes_received(),
        }
    }

    /// LIST (RFC 3501 §6.3.8); names decoded from modified UTF-7.
    pub fn list(&mut self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>, ImapError> {
        let cmd = self.command(&Request::List {
            reference,
            pattern,
            special_use: false,
        });
        let done = self.run(cmd, Keep::data(&["LIST"]))?.ok()?;
        Ok(done
            .data
            .iter()
            .filter_map(|d| data::list_entry(d))
            .collect())
    }

    /// Every mailbox with its attributes; with SPECIAL-USE (RFC 6154 §2)
    /// asks for the special-use attributes explicitly (`RETURN (SPECIAL-USE)`
    /// needs LIST-EXTENDED, RFC 5258), else relies on a plain LIST carrying them.
    pub fn list_all(&mut self) -> Result<Vec<ListEntry>, ImapError> {
        if !(self.caps.has("SPECIAL-USE") && self.caps.has("LIST-EXTENDED")) {
            return self.list("", "*");
        }
        let cmd = self.command(&Request::List {
            reference: "",
            pattern: "*",
            special_use: true,
        });
        let done = self.run(cmd, Keep::data(&["LIST"]))?.ok()?;
        Ok(done
            .data
            .iter()
            .filter_map(|d| data::list_entry(d))
            .collect())
    }

    /// The personal namespace's prefix and delimiter (RFC 2342), e.g.
    /// `("INBOX.", Some('.'))` on Courier and Cyrus; `None` without NAMESPACE.
    pub fn personal_namespace(&mut self) -> Result<Option<(String, Option<char>)>, ImapError> {
        if !self.caps.has("NAMESPACE") {
            return Ok(None);
        }
        let done = self.simple("NAMESPACE", Keep::data(&["NAMESPACE"]))?;
        Ok(done.data.iter().find_map(|d| data::personal_namespace(d)))
    }

    /// The hierarchy delimiter, from `LIST "" ""` (RFC 3501 §6.3.8).
    pub fn delimiter(&mut self) -> Result<Option<char>, ImapError> {
        Ok(self.list("", "")?.into_iter().find_map(|e| e.delimiter))
    }

    /// CREATE (RFC 3501 §6.3.3); `NO [ALREADYEXISTS]` (RFC 5530) counts as done.
    pub fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        let cmd = self.command(&Request::Create(mailbox));
        match self.run(cmd, Keep::NOTHING)?.ok() {
            Err(ImapError::No {
                code: Some(Code::Other(c)),
                ..
            }) if c.eq_ignore_ascii_case("ALREADYEXISTS") => Ok(()),
            r => r.map(drop),
        }
    }

    /// SELECT (RFC 3501 §6.3.1).
    pub fn select(&mut self, mailbox: &str) -> Result<Selected, ImapError> {
        let cmd = self.command(&Request::Select(mailbox));
        let keep = Keep {
            codes: true,
            ..Keep::NOTHING
        };
        let done = self.run(cmd, keep)?.ok()?;
        let num = |name: &str| {
            done.untagged
                .iter()
                .find_map(|s| s.code_args(name).and_then(|v| v.trim().parse().ok()))
        };
        let permanent_flags = done.untagged.iter().find_map(|s| {
            let list = s.code_args("PERMANENTFLAGS")?;
            let list = list.trim().trim_start_matches('(').trim_end_matches(')');
            Some(list.split_ascii_whitespace().map(String::from).collect())
        });
        Ok(Selected {
            exists: done.exists.unwrap_or(0),
            uid_validity: num("UIDVALIDITY"),
            uid_next: num("UIDNEXT"),
            permanent_flags,
        })
    }

    /// STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY) (RFC 3501 §6.3.10).
    pub fn status(&mut self, mailbox: &str) -> Result<MailboxStatus, ImapError> {
        let cmd = self.command(&Request::Status(mailbox));
        let done = self.run(cmd, Keep::data(&["STATUS"]))?.ok()?;
        Ok(data::status(&done.data).unwrap_or_default())
    }

    /// UNSELECT (RFC 3691) when the server offers it: back to the
    /// authenticated state without expunging (CLOSE would). Without it,
    /// nothing is sent.
    pub fn unselect(&mut self) -> Result<(), ImapError> {
        if !self.caps.has("UNSELECT") {
            return Ok(());
        }
        self.simple("UNSELECT", Keep::NOTHING).map(drop)
    }

    /// NOOP: lets the server report, and checks the connection.
    pub fn noop(&mut self) -> Result<(), ImapError> {
        self.simple("NOOP", Keep::NOTHING).map(drop)
    }

    /// `UID FETCH uids (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS
    /// (MESSAGE-ID)])` on the selected mailbox.
    fn summaries(&mut self, uids: Uids<'_>) -> Result<Vec<Summary>, ImapError> {
        let cmd = self.command(&Request::UidFetch {
            uids,
            items: FetchItems::Summaries,
        });
        let keep = Keep {
            budget: Budget::LISTING,
            ..Keep::data(&["FETCH"])
        };
        let done = self.run(cmd, keep)?.ok()?;
        Ok(done.data.iter().filter_map(|d| data::summary(d)).collect())
    }

    /// The summaries of every message in the selected mailbox (`1:*`).
    pub fn fetch_summaries(&mut self) -> Result<Vec<Summary>, ImapError> {
        self.fetch_summaries_from(1)
    }

    /// The summaries of the messages with a UID of at least `from` (`from:*`;
    /// RFC 3501 §6.4.8: it also names the highest UID when that is below
    /// `from`, filtered out here).
    pub fn fetch_summaries_from(&mut self, from: u32) -> Result<Vec<Summary>, ImapError> {
        let all = self.summaries(Uids::From(from))?;
        Ok(all.into_iter().filter(|s| s.uid >= from).collect())
    }

    /// The summaries of these UIDs (those that no longer exist are absent).
    pub fn fetch_summaries_of(&mut self, uids: &[u32]) -> Result<Vec<Summary>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let all = self.summaries(Uids::These(uids))?;
        Ok(all.into_iter().filter(|s| uids.contains(&s.uid)).collect())
    }

    /// `UID FETCH uids (UID BODY.PEEK[])` on the selected mailbox, one
    /// command: each message's [`Fingerprint`] (SHA-256 of its bytes as
    /// stored), to tell apart messages whose size and Message-ID are alike.
    /// Bodies are hashed as they stream from the socket (`frame.rs`), so
    /// a message of any size can be looked at and memory does not depend on
    /// it. At most one pair per UID asked for, in the server's order; a UID
    /// the server does not answer for (expunged) is left out.
    pub fn fetch_hashes(&mut self, uids: &[u32]) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        self.hashed(uids, FetchItems::Bodies)
    }

    /// [`Session::fetch_hashes`] of the messages' text only (`UID FETCH
    /// uids (UID BODY.PEEK[TEXT])`, see [`crate::fingerprint::text_of`]):
    /// what a server that rewrites headers on store keeps as sent.
    pub fn fetch_text_hashes(
        &mut self,
        uids: &[u32],
    ) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        self.hashed(uids, FetchItems::Texts)
    }

    /// One UID FETCH of `items` (a body or its text), hashed as it streams.
    fn hashed(
        &mut self,
        uids: &[u32],
        items: FetchItems,
    ) -> Result<Vec<(u32, Fingerprint)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let cmd = self.command(&Request::UidFetch {
            uids: Uids::These(uids),
            items,
        });
        let keep = Keep {
            hash_bodies: true,
            ..Keep::NOTHING
        };
        let done = self.run(cmd, keep)?.ok()?;
        let mut wanted: HashSet<u32> = uids.iter().copied().collect();
        Ok(done
            .hashes
            .into_iter()
            .filter(|(uid, _)| wanted.remove(uid))
            .collect())
    }

    /// LOGOUT, best effort (RFC 3501 §6.1.3).
    pub fn logout(mut self) {
        if self.broken.is_none() {
            let _ = self.simple("LOGOUT", Keep::NOTHING);
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "session_bounds_tests.rs"]
mod bounds_tests;
