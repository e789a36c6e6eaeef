//! Authentication on a [`Session`]: AUTHENTICATE PLAIN when offered, else
//! LOGIN, or with an OAuth2 access token OAUTHBEARER (RFC 7628) or XOAUTH2
//! (Google's and Microsoft's older mechanism), for Gmail and Microsoft 365.
//! The messages are encoded by `command.rs`; this file runs the exchange.
//!
//! A SASL exchange (RFC 3501 §6.2.2) is bounded: the client answers at most
//! [`MAX_SASL_ROUNDS`] challenges, then cancels with `*` and fails, so a
//! server answering `+` forever costs four lines, not an endless loop. On a
//! refused token the server sends a base64 JSON challenge; RFC 7628 §3.2.3
//! has the client answer it with a dummy response, after which the tagged
//! NO arrives and is returned as [`ImapError::Auth`]. Credentials are
//! [`Secret`]s and go out base64-encoded in the exchange and nowhere else.

use crate::imap::ImapError;
use crate::imap::command::{self, SASL_CANCEL};
use crate::imap::data;
use crate::imap::exec::Keep;
use crate::imap::exec::Session;
use crate::imap::response::{Response, Status, StatusKind};
use crate::imap::types::Capabilities;
use crate::secret::Secret;

/// The most challenges answered in one SASL exchange: PLAIN needs one,
/// OAUTHBEARER two (the empty one and an error challenge).
pub const MAX_SASL_ROUNDS: usize = 4;

/// The OAuth2 mechanism a server offers, preferring the standard one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OAuthMechanism {
    OAuthBearer,
    XOAuth2,
}

impl OAuthMechanism {
    fn name(self) -> &'static str {
        match self {
            OAuthMechanism::OAuthBearer => "OAUTHBEARER",
            OAuthMechanism::XOAuth2 => "XOAUTH2",
        }
    }
}

impl Session {
    /// AUTHENTICATE PLAIN when offered, else LOGIN; then the capabilities
    /// again (from the OK's `[CAPABILITY]` code when present).
    pub(super) fn authenticate(&mut self, user: &str, password: &Secret) -> Result<(), ImapError> {
        if self.caps.has("AUTH=PLAIN") {
            let message = command::plain_message(user, password);
            // PLAIN has one response: any later challenge is answered with a cancel.
            return self.sasl("PLAIN", &message, |_| None);
        }
        if self.caps.has("LOGINDISABLED") {
            // RFC 3501 §6.2.3: the client MUST NOT send LOGIN.
            return Err(ImapError::Auth(
                "server disables LOGIN and offers no AUTH=PLAIN".into(),
            ));
        }
        let tag = self.tags.next_tag();
        let cmd = command::login(tag, user, password, self.caps.literal_mode());
        let done = self.run(cmd, Keep::data(&["CAPABILITY"]))?;
        match done.status.kind {
            StatusKind::Ok => self.after_authentication(done.status, done.data),
            StatusKind::No => Err(ImapError::Auth(done.status.text)),
            _ => Err(done.status.into_result().unwrap_err()),
        }
    }

    /// Authenticates with an OAuth2 access token.
    pub(super) fn authenticate_oauth2(
        &mut self,
        user: &str,
        token: &Secret,
        host: &str,
        port: u16,
    ) -> Result<(), ImapError> {
        let mech = if self.caps.has("AUTH=OAUTHBEARER") {
            OAuthMechanism::OAuthBearer
        } else if self.caps.has("AUTH=XOAUTH2") {
            OAuthMechanism::XOAuth2
        } else {
            return Err(ImapError::Auth(
                "the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2".into(),
            ));
        };
        let message = match mech {
            OAuthMechanism::OAuthBearer => command::oauthbearer_message(user, host, port, token),
            OAuthMechanism::XOAuth2 => command::xoauth2_message(user, token),
        };
        // An error challenge (base64 JSON, RFC 7628 §3.2.2) is answered with
        // the dummy response so that the server can finish with NO.
        let dummy: &[u8] = match mech {
            OAuthMechanism::OAuthBearer => b"\x01",
            OAuthMechanism::XOAuth2 => b"",
        };
        self.sasl(mech.name(), &message, |_| Some(dummy.to_vec()))
    }

    /// One SASL exchange (RFC 3501 §6.2.2): `message` as the initial
    /// response (SASL-IR, RFC 4959) or as the answer to the first
    /// challenge; later challenges are answered by `then` (`None`: cancel).
    /// After [`MAX_SASL_ROUNDS`] answers the exchange is cancelled with `*`.
    /// A NO is [`ImapError::Auth`], with what an error challenge said.
    fn sasl(
        &mut self,
        mechanism: &str,
        message: &[u8],
        mut then: impl FnMut(&str) -> Option<Vec<u8>>,
    ) -> Result<(), ImapError> {
        let tag = self.tags.next_tag();
        let initial = self.caps.has("SASL-IR");
        let cmd = command::authenticate(tag.clone(), mechanism, initial.then_some(message));
        self.send(&cmd.dump())?;
        let mut sent_message = initial;
        let mut rounds = 0;
        let mut detail = None;
        let mut capabilities = None;
        loop {
            match self.read()? {
                Response::Continue(challenge) => {
                    rounds += 1;
                    let answer = if !sent_message {
                        sent_message = true;
                        Some(message.to_vec())
                    } else {
                        detail = Some(decode_error(&challenge));
                        then(&challenge)
                    };
                    match answer {
                        Some(a) if rounds <= MAX_SASL_ROUNDS => {
                            self.send(&command::sasl_response(&a))?
                        }
                        _ => return self.sasl_cancel(&tag, mechanism, rounds),
                    }
                }
                Response::Status(s) if s.tag.as_deref() == Some(tag.as_str()) => {
                    return match s.kind {
                        StatusKind::Ok => {
                            self.after_authentication(s, capabilities.into_iter().collect())
                        }
                        _ => Err(ImapError::Auth(match detail {
                            Some(d) => format!("{} ({d})", s.text),
                            None => s.text,
                        })),
                    };
                }
                // Only the latest CAPABILITY is kept; nothing else is needed.
                Response::Data(d) if data::capabilities(std::slice::from_ref(&d)).is_some() => {
                    capabilities = Some(d)
                }
                Response::Data(_) | Response::Status(_) => {}
            }
        }
    }

    /// Sends `*` and reads up to the tagged answer (RFC 3501 §6.2.2: BAD);
    /// always an error.
    fn sasl_cancel(&mut self, tag: &str, mechanism: &str, rounds: usize) -> Result<(), ImapError> {
        self.send(SASL_CANCEL)?;
        loop {
            match self.read()? {
                Response::Status(s) if s.tag.as_deref() == Some(tag) => break,
                Response::Continue(_) => {
                    let e = ImapError::ServerGarbage(format!(
                        "the server went on challenging after the client cancelled {mechanism}"
                    ));
                    return self.note_error(Err(e));
                }
                _ => {}
            }
        }
        Err(ImapError::Auth(format!(
            "the server's {mechanism} exchange went on past {} challenge(s); the client cancelled it",
            rounds - 1
        )))
    }

    /// RFC 3501 §6.2: capabilities may change after authentication; take
    /// them from the tagged OK's code or untagged data, else ask again.
    pub(super) fn after_authentication(
        &mut self,
        status: Status,
        data: Vec<Vec<u8>>,
    ) -> Result<(), ImapError> {
        match status.capabilities().or_else(|| data::capabilities(&data)) {
            Some(c) => self.caps = Capabilities(c),
            None => self.refresh_capabilities()?,
        }
        Ok(())
    }
}

/// The `status` of a JSON error challenge, e.g. `"401"` for an expired token.
fn decode_error(challenge: &str) -> String {
    let bytes = command::base64_decode(challenge.trim()).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => match v.get("status").and_then(|s| s.as_str()) {
            Some(status) => format!("token refused, status {status}"),
            None => "token refused".into(),
        },
        Err(_) => "token refused".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_messages() {
        let token = Secret::new("ya29.tok".into());
        assert_eq!(
            command::oauthbearer_message("a,b=c@example.org", "imap.example.org", 993, &token),
            b"n,a=a=2Cb=3Dc@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer ya29.tok\x01\x01"
        );
        assert_eq!(
            command::xoauth2_message("me@example.org", &token),
            b"user=me@example.org\x01auth=Bearer ya29.tok\x01\x01"
        );
    }

    #[test]
    fn error_challenge_status() {
        let challenge = command::base64(br#"{"status":"401","schemes":"bearer"}"#);
        assert_eq!(decode_error(&challenge), "token refused, status 401");
        assert_eq!(decode_error("!!"), "token refused");
    }
}
