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

impl Code {
    /// Gmail's `[THROTTLED]` (DESIGN.md, "Throttling as seen in the wild"):
    /// on a NO the command was refused for the pace; on an OK, or untagged
    /// while a command runs, it was carried out and the client is asked to
    /// slow down.
    pub fn is_throttled(&self) -> bool {
        matches!(self, Code::Other(c) if c.eq_ignore_ascii_case("THROTTLED"))
    }
}

#[derive(Debug)]
pub enum ImapError {
    /// The connection broke or timed out; an in-flight command's fate is unknown.
    ConnectionLost(String),
    /// No connection was opened: the name did not resolve, or no address
    /// accepted TCP. Nothing was sent.
    CannotConnect(String),
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
    /// The server sent something the client cannot understand or follow
    /// (unparsable data, an unknown tag, a stray `+`): the exchange is out
    /// of step, the connection cannot be used any more, and a command in
    /// flight has an unknown fate.
    ServerGarbage(String),
    /// The server's answer went past one of the client's bounds (see
    /// `response.rs` and `exec.rs`): `what` exceeded `bound`. The rest of
    /// the answer was not read, so the connection is out of step as with
    /// [`ImapError::ServerGarbage`].
    TooLarge { what: String, bound: String },
    /// The client refused to encode a command (an empty message, NUL bytes
    /// without BINARY, an APPEND without messages): nothing was written,
    /// the command was not sent, and the connection is fine.
    Unsendable(String),
}

impl ImapError {
    /// True when the connection can no longer be used: it broke or timed
    /// out (or never opened), the server said BYE, or the exchange is out of step (garbage,
    /// a bound exceeded). A refusal (NO, BAD) or a command the client would
    /// not send leaves the connection usable.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            ImapError::ConnectionLost(_)
                | ImapError::CannotConnect(_)
                | ImapError::Bye { .. }
                | ImapError::ServerGarbage(_)
                | ImapError::TooLarge { .. }
        )
    }

    /// True when a command that was written may or may not have taken
    /// effect: its answer was not seen because the connection was lost
    /// ([`ImapError::is_connection_lost`]). NO and BAD say it did not;
    /// [`ImapError::Unsendable`] says it was never sent.
    pub fn fate_unknown(&self) -> bool {
        self.is_connection_lost()
    }
}

impl fmt::Display for ImapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImapError::ConnectionLost(s) => write!(f, "connection lost: {s}"),
            ImapError::CannotConnect(s) => write!(f, "{s}"),
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
            ImapError::ServerGarbage(s) => write!(f, "protocol error: {s}"),
            ImapError::TooLarge { what, bound } => write!(f, "{what} exceeded {bound}"),
            ImapError::Unsendable(s) => write!(f, "not sent: {s}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_and_refusals_are_told_apart() {
        let lost = [
            ImapError::ConnectionLost("reset".into()),
            ImapError::Bye { text: "bye".into() },
            ImapError::ServerGarbage("stray +".into()),
            ImapError::TooLarge {
                what: "one response".into(),
                bound: "80 MiB".into(),
            },
        ];
        for e in &lost {
            assert!(e.is_connection_lost() && e.fate_unknown(), "{e}");
        }
        let never = ImapError::CannotConnect("cannot connect to h:1: refused".into());
        assert!(never.is_connection_lost());
        assert_eq!(never.to_string(), "cannot connect to h:1: refused");
        let usable = [
            ImapError::Unsendable("message 1 of the APPEND is empty".into()),
            ImapError::No {
                code: None,
                text: "no".into(),
            },
            ImapError::Bad { text: "bad".into() },
        ];
        for e in &usable {
            assert!(!e.is_connection_lost() && !e.fate_unknown(), "{e}");
        }
    }
}
