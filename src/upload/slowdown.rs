//! What a provider's answer says about pace, decided in one place: a
//! throttle (wait, then send again what was refused), the daily quota
//! (stop cleanly until tomorrow), or the session cap (fewer connections).
//! The texts are the providers' own (DESIGN.md, "Throttling as seen in
//! the wild"): Gmail `NO [THROTTLED]`, `* BYE [ALERT] Too many simultaneous
//! connections.` and `* BYE [ALERT] Account exceeded command or bandwidth
//! limits.`; Microsoft 365 `NO Request is throttled. Suggested Backoff
//! Time: N milliseconds`; Yahoo `NO [LIMIT] UID Rate limit hit.` then BYE;
//! and RFC 5530's `[UNAVAILABLE]` (a temporary failure, tried again later).
//! Gmail's `[THROTTLED]` on an OK (or untagged while a command runs) is a
//! soft throttle: nothing was refused, the rate goes down
//! ([`crate::imap::Session::take_throttle_notice`] surfaces it).
//!
//! What it does not own: the waiting and the adaptive rate (`pace.rs`),
//! what becomes of the refused messages (`send.rs`, `lifecycle.rs`).

use std::time::Duration;

use crate::imap::{Code, ImapError};

/// What an answer asks of the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Slowdown {
    /// Slow down; what was refused is sent again after `wait` (when the
    /// server suggested one) or a backoff.
    Throttled { wait: Option<Duration>, why: String },
    /// The account's upload quota for the day is used up: stop cleanly.
    Quota(String),
    /// No more sessions at once: carry on with fewer connections.
    TooManySessions(String),
}

/// An APPEND's (or a login's) error, classified; `None` for every other
/// refusal or loss.
pub(super) fn classify(e: &ImapError) -> Option<Slowdown> {
    match e {
        ImapError::No { code, text } => {
            let why = e.to_string();
            match code {
                Some(c) if c.is_throttled() => Some(Slowdown::Throttled { wait: None, why }),
                Some(Code::Other(c)) if c.eq_ignore_ascii_case("UNAVAILABLE") => {
                    Some(Slowdown::Throttled { wait: None, why })
                }
                // Yahoo: `NO [LIMIT] UID Rate limit hit.` (Dovecot's size
                // limit is a [LIMIT] too: told apart by the text).
                Some(Code::Limit) if text.to_ascii_lowercase().contains("rate limit") => {
                    Some(Slowdown::Throttled { wait: None, why })
                }
                _ => classify_text(&why),
            }
        }
        _ => classify_text(&e.to_string()),
    }
}

/// A reason (a BYE's text, a lost connection's reason, a NO's text)
/// classified by the providers' words.
pub(super) fn classify_text(text: &str) -> Option<Slowdown> {
    let lower = text.to_ascii_lowercase();
    let why = text.to_string();
    if lower.contains("exceeded command or bandwidth limits") {
        return Some(Slowdown::Quota(why));
    }
    if SESSION_CAPS.iter().any(|t| lower.contains(t)) {
        return Some(Slowdown::TooManySessions(why));
    }
    let throttled = lower.contains("[throttled]")
        || lower.contains("request is throttled")
        || lower.contains("rate limit")
        || lower.contains("[unavailable]");
    throttled.then(|| Slowdown::Throttled {
        wait: suggested_backoff(&lower),
        why,
    })
}

/// A server's refusal of one more session at once, lower-case. A login
/// answer (NO to LOGIN/AUTHENTICATE) for all but Gmail's BYE: judged so
/// only for connections past the first (`run.rs`), where the same
/// credentials just worked, so a wrong password is never taken for it.
const SESSION_CAPS: &[&str] = &[
    // Gmail: `* BYE [ALERT] Too many simultaneous connections.`
    "too many simultaneous connections",
    // Dovecot (mail_max_userip_connections, 10 by default): `NO
    // [UNAVAILABLE] Maximum number of connections from user+IP exceeded
    // (mail_max_userip_connections=10)`; Courier's MAXPERIP refusal says
    // "Maximum number of connections" too.
    "maximum number of connections",
    // Cyrus (maxlogins_per_user, maxlogins_per_host; imapd.c
    // checklimits): `NO Too many open connections (3 of 3 for user)`.
    "too many open connections",
];

/// Microsoft 365: "Suggested Backoff Time: 5000 milliseconds".
fn suggested_backoff(lower: &str) -> Option<Duration> {
    let at = lower.find("suggested backoff time:")? + "suggested backoff time:".len();
    let rest = lower[at..].trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    Some(if unit.starts_with("ms") || unit.starts_with("milli") {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no(code: Option<Code>, text: &str) -> ImapError {
        ImapError::No {
            code,
            text: text.into(),
        }
    }

    #[test]
    fn each_providers_throttle_is_recognised() {
        let gmail = classify(&no(Some(Code::Other("THROTTLED".into())), "slow down"));
        assert!(matches!(
            gmail,
            Some(Slowdown::Throttled { wait: None, .. })
        ));
        let m365 = classify(&no(
            None,
            "Request is throttled. Suggested Backoff Time: 5000 milliseconds",
        ));
        assert!(matches!(
            m365,
            Some(Slowdown::Throttled { wait: Some(w), .. }) if w == Duration::from_millis(5000)
        ));
        let yahoo = classify(&no(Some(Code::Limit), "UID Rate limit hit."));
        assert!(matches!(yahoo, Some(Slowdown::Throttled { .. })));
        let unavailable = classify(&no(Some(Code::Other("UNAVAILABLE".into())), "later"));
        assert!(matches!(unavailable, Some(Slowdown::Throttled { .. })));
    }

    #[test]
    fn quota_and_session_cap_byes_are_recognised() {
        let quota = ImapError::Bye {
            text: "[ALERT] Account exceeded command or bandwidth limits.".into(),
        };
        assert!(matches!(classify(&quota), Some(Slowdown::Quota(_))));
        let lost = "server said BYE ([ALERT] Too many simultaneous connections.); closed";
        assert!(matches!(
            classify_text(lost),
            Some(Slowdown::TooManySessions(_))
        ));
    }

    #[test]
    fn each_servers_session_limit_at_login_is_recognised() {
        for text in [
            "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
            "Too many open connections (3 of 3 for ann)",
        ] {
            let e = ImapError::Auth(text.into());
            assert!(
                matches!(classify(&e), Some(Slowdown::TooManySessions(_))),
                "{text}"
            );
        }
        let wrong = ImapError::Auth("[AUTHENTICATIONFAILED] Authentication failed.".into());
        assert_eq!(classify(&wrong), None);
    }

    #[test]
    fn other_refusals_are_not_throttles() {
        // Dovecot's quota_max_mail_size and RFC 5530 OVERQUOTA are refusals.
        let size = no(
            Some(Code::Limit),
            "Mail size is larger than the maximum size",
        );
        assert_eq!(classify(&size), None);
        assert_eq!(classify(&no(Some(Code::OverQuota), "Quota exceeded")), None);
        assert_eq!(classify(&no(None, "scripted refusal")), None);
        assert_eq!(
            classify(&ImapError::ConnectionLost("connection reset".into())),
            None
        );
    }
}
