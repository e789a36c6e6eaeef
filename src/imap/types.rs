//! The values the client hands out and takes in: connection options,
//! capabilities, what APPEND, LIST, SELECT, STATUS and FETCH return. Plain
//! data with no I/O, so that `session.rs`, `command.rs`, `exec.rs` and
//! `data.rs` all depend on this file and not on each other.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

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
    /// The password, or with `oauth2` the OAuth2 access token.
    pub password: Secret,
    /// Authenticate with OAUTHBEARER / XOAUTH2 using `password` as the token.
    pub oauth2: bool,
    /// Record the protocol exchange (redacted) here (`--trace`, `-vv`).
    pub trace: Option<crate::imap::trace::TraceSink>,
    /// Extra trusted CA / self-signed certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// With `TlsMode::StartTls`: authenticate even when the server has no STARTTLS.
    pub allow_plaintext: bool,
    /// Read and write timeout.
    pub timeout: Option<Duration>,
    /// COMPRESS=DEFLATE (RFC 4978) after login when the server offers it.
    pub compress: bool,
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

/// What SELECT reported (RFC 3501 §6.3.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selected {
    pub exists: u32,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<u32>,
    /// The `[PERMANENTFLAGS (...)]` list as the server wrote it (`\*`: new
    /// keywords may be created); `None` when the server sent none, which
    /// RFC 3501 §6.3.1 says means every flag can be kept.
    pub permanent_flags: Option<Vec<String>>,
}

/// What STATUS reported (RFC 3501 §6.3.10).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: Option<u32>,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<u32>,
}

/// What `--skip-existing` and `verify` read of a server message: enough to
/// recognize it without downloading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub uid: u32,
    /// RFC822.SIZE: the message's size in bytes (CRLF line ends).
    pub size: u32,
    pub internal_date: Option<DateTime<FixedOffset>>,
    /// The Message-ID header's value, trimmed; `None` when absent.
    pub message_id: Option<String>,
}

/// Counters for the benchmark and the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// APPEND commands sent (a MULTIAPPEND counts once).
    pub append_commands: u64,
    /// Bytes written to the connection (before TLS).
    pub bytes_sent: u64,
    /// Bytes of responses read (after decompression, bodies hashed as they
    /// streamed included), for the cost of the server check's looks.
    pub bytes_received: u64,
}
