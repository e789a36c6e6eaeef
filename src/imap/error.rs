//! Typed IMAP errors: the caller decides on them (CREATE on TRYCREATE, split a
//! batch on NO, reconnect on a lost connection, exit 3 on authentication).

use std::fmt;

/// A response code from `[...]` in a status response (RFC 3501 §7.1, RFC 5530).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    TryCreate,
    /// RFC 4469/5530: the message is larger than the server accepts.
    TooBig,
    /// RFC 5530: a server limit (Dovecot uses it for quota_max_mail_size).
    Limit,
    /// RFC 5530: the user's quota is exceeded.
    OverQuota,
    /// RFC 4315: `APPENDUID uidvalidity uid-set`, the UIDs in append order.
    AppendUid {
        uid_validity: u32,
        uids: Vec<u32>,
    },
    /// Any other code, verbatim (atom and arguments).
    Other(String),
}

#[derive(Debug)]
pub enum ImapError {
    /// The connection broke or timed out; an in-flight command's fate is unknown.
    ConnectionLost(String),
    /// TLS could not be set up (handshake, certificate).
    Tls(String),
    /// The server refused the credentials, or no usable mechanism exists.
    Auth(String),
    /// Refusing to send credentials without TLS (no `--allow-plaintext`).
    PlaintextRefused,
    /// Tagged NO.
    No { code: Option<Code>, text: String },
    /// Tagged BAD.
    Bad { text: String },
    /// Untagged BYE: the server is closing the connection.
    Bye { text: String },
    /// The server said something we cannot understand.
    Protocol(String),
}

impl fmt::Display for ImapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImapError::ConnectionLost(s) => write!(f, "connection lost: {s}"),
            ImapError::Tls(s) => write!(f, "TLS: {s}"),
            ImapError::Auth(s) => write!(f, "authentication failed: {s}"),
            ImapError::PlaintextRefused => write!(
                f,
                "the server offers no TLS (STARTTLS); refusing to send credentials in plaintext (use --allow-plaintext to override)"
            ),
            ImapError::No {
                code: Some(c),
                text,
            } => write!(f, "NO [{}] {text}", code_name(c)),
            ImapError::No { code: None, text } => write!(f, "NO {text}"),
            ImapError::Bad { text } => write!(f, "BAD {text}"),
            ImapError::Bye { text } => write!(f, "BYE {text}"),
            ImapError::Protocol(s) => write!(f, "protocol error: {s}"),
        }
    }
}

impl std::error::Error for ImapError {}

/// The code as the server spelled it (without arguments for known codes).
pub fn code_name(c: &Code) -> String {
    match c {
        Code::TryCreate => "TRYCREATE".into(),
        Code::TooBig => "TOOBIG".into(),
        Code::Limit => "LIMIT".into(),
        Code::OverQuota => "OVERQUOTA".into(),
        Code::AppendUid { .. } => "APPENDUID".into(),
        Code::Other(s) => s.clone(),
    }
}
