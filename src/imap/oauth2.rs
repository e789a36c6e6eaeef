//! SASL OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's older
//! mechanism) with an access token, for Gmail and Microsoft 365. The token is
//! a [`Secret`]: it goes out base64-encoded in the AUTHENTICATE exchange and
//! nowhere else. On a refused token the server sends a base64 JSON challenge;
//! RFC 7628 §3.2.3 has the client answer it with a dummy response, after
//! which the tagged NO arrives and is returned as [`ImapError::Auth`].

use crate::imap::ImapError;
use crate::imap::command;
use crate::imap::response::{Response, StatusKind};
use crate::imap::session::Session;
use crate::secret::Secret;

/// The mechanism a server offers, preferring the standard one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthMechanism {
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

/// RFC 7628 §3.1: `n,a=USER,^Ahost=HOST^Aport=PORT^Aauth=Bearer TOKEN^A^A`,
/// with `,` and `=` in the user escaped as `=2C` and `=3D` (RFC 5802 saslname).
pub fn oauthbearer_message(user: &str, host: &str, port: u16, token: &Secret) -> Vec<u8> {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!(
        "n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01",
        token.expose()
    )
    .into_bytes()
}

/// XOAUTH2: `user=USER^Aauth=Bearer TOKEN^A^A`.
pub fn xoauth2_message(user: &str, token: &Secret) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes()
}

impl Session {
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
            OAuthMechanism::OAuthBearer => oauthbearer_message(user, host, port, token),
            OAuthMechanism::XOAuth2 => xoauth2_message(user, token),
        };
        let response = command::base64(&message);
        let tag = self.tags.next_tag();
        let mut sent_response = false;
        if self.caps.has("SASL-IR") {
            // RFC 4959 §3: the initial response goes on the command line.
            self.send(format!("{tag} AUTHENTICATE {} {response}\r\n", mech.name()).as_bytes())?;
            sent_response = true;
        } else {
            self.send(format!("{tag} AUTHENTICATE {}\r\n", mech.name()).as_bytes())?;
        }
        let mut error_detail = None;
        loop {
            match self.read()? {
                Response::Continue(challenge) => {
                    if !sent_response {
                        // RFC 3501 §6.2.2: the first, empty challenge.
                        self.send(format!("{response}\r\n").as_bytes())?;
                        sent_response = true;
                    } else {
                        // An error challenge (base64 JSON, RFC 7628 §3.2.2):
                        // answer with the dummy response so the server can
                        // finish with NO.
                        error_detail = Some(decode_error(&challenge));
                        let dummy = match mech {
                            OAuthMechanism::OAuthBearer => "AQ==\r\n",
                            OAuthMechanism::XOAuth2 => "\r\n",
                        };
                        self.send(dummy.as_bytes())?;
                    }
                }
                Response::Status(s) if s.tag.as_deref() == Some(tag.as_str()) => {
                    return match s.kind {
                        StatusKind::Ok => self.after_authentication(s, Vec::new()),
                        _ => Err(ImapError::Auth(match error_detail {
                            Some(d) => format!("{} ({d})", s.text),
                            None => s.text,
                        })),
                    };
                }
                // Untagged data or status during the exchange: nothing to keep.
                _ => {}
            }
        }
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
            oauthbearer_message("a,b=c@example.org", "imap.example.org", 993, &token),
            b"n,a=a=2Cb=3Dc@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer ya29.tok\x01\x01"
        );
        assert_eq!(
            xoauth2_message("me@example.org", &token),
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
