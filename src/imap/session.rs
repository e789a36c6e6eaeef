//! An authenticated IMAP session and the commands mailhaul sends.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::imap::ImapError;
use crate::message::Flag;
use crate::secret::Secret;

/// How TLS is used on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// `imaps://`: TLS from the first byte (default port 993).
    Implicit,
    /// `imap://`: plain TCP upgraded with STARTTLS (default port 143).
    StartTls,
}

/// Everything needed to open and authenticate a session.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: Secret,
    /// Extra trusted CA / self-signed certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// With `TlsMode::StartTls`: authenticate even when the server has no STARTTLS.
    pub allow_plaintext: bool,
    /// Read and write timeout.
    pub timeout: Option<Duration>,
}

/// Literal flavour the server allows (RFC 7888).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiteralMode {
    /// `{n}`: wait for `+` before the bytes.
    Sync,
    /// LITERAL+: `{n+}` for any size.
    Plus,
    /// LITERAL-: `{n+}` only for n ≤ 4096, else synchronizing.
    Minus,
}

/// The server's capabilities (upper-cased atoms).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities(pub Vec<String>);

impl Capabilities {
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    pub fn literal_mode(&self) -> LiteralMode {
        if self.has("LITERAL+") {
            LiteralMode::Plus
        } else if self.has("LITERAL-") {
            LiteralMode::Minus
        } else {
            LiteralMode::Sync
        }
    }

    /// `APPENDLIMIT=n` (RFC 7889), when advertised with a value.
    pub fn append_limit(&self) -> Option<u64> {
        self.0.iter().find_map(|c| {
            let (k, v) = c.split_once('=')?;
            k.eq_ignore_ascii_case("APPENDLIMIT")
                .then(|| v.parse().ok())
                .flatten()
        })
    }
}

/// One message of an APPEND command.
#[derive(Clone, Copy, Debug)]
pub struct AppendItem<'a> {
    pub flags: &'a [Flag],
    pub date: Option<DateTime<FixedOffset>>,
    pub bytes: &'a [u8],
}

/// What a successful APPEND told us (RFC 4315 APPENDUID when the server has UIDPLUS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    pub uid_validity: Option<u32>,
    /// One UID per appended message, in order (empty without UIDPLUS).
    pub uids: Vec<u32>,
}

/// A LIST response line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// Decoded name (modified UTF-7 undone).
    pub name: String,
    pub delimiter: Option<char>,
    pub attributes: Vec<String>,
}

pub struct Session {
    _private: (),
}

impl Session {
    /// Connects, sets up TLS, reads capabilities, authenticates and reads the
    /// capabilities again.
    pub fn connect(opts: &ConnectOptions) -> Result<Session, ImapError> {
        let _ = opts;
        todo!()
    }
}

/// Counters of what a session sent (for the summary and the tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub append_commands: u64,
    pub bytes_sent: u64,
}

impl Session {
    pub fn capabilities(&self) -> &Capabilities {
        todo!()
    }
    pub fn list(&mut self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>, ImapError> {
        let _ = (reference, pattern);
        todo!()
    }
    pub fn delimiter(&mut self) -> Result<Option<char>, ImapError> {
        todo!()
    }
    pub fn create(&mut self, mailbox: &str) -> Result<(), ImapError> {
        let _ = mailbox;
        todo!()
    }
    pub fn append(&mut self, mailbox: &str, items: &[AppendItem]) -> Result<Appended, ImapError> {
        let _ = (mailbox, items);
        todo!()
    }
    pub fn append_pipelined(
        &mut self,
        mailbox: &str,
        items: &[AppendItem],
    ) -> Vec<Result<Appended, ImapError>> {
        let _ = (mailbox, items);
        todo!()
    }
    pub fn stats(&self) -> SessionStats {
        todo!()
    }
    pub fn logout(self) {}
}
