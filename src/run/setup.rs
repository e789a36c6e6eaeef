//! What the subcommands share once their settings are resolved
//! ([`super::settings`]): connecting (a refused OAuth2 token fetched again) and
//! learning the server's layout.

use crate::config::Login;
use crate::imap::{ImapError, Session};
use crate::plan::ServerLayout;

/// The run's first session, through the [`Login`] its reconnections use
/// too (a refused OAuth2 token is fetched again there). The error is the
/// server's, for the caller to judge (the provider's quota is not a
/// failure to connect).
pub(super) fn connect(login: &Login) -> Result<Session, ImapError> {
    let session = login.connect()?;
    log::info!(
        "logged in; capabilities: {}",
        session.capabilities().0.join(" ")
    );
    Ok(session)
}

/// Microsoft 365's answer to the first commands after a login it accepted
/// but cannot serve, lower-case: `BAD User is authenticated but not
/// connected.` Usually a wrong password, IMAP turned off for the mailbox,
/// or an OAuth2 token without the IMAP scope; sometimes passing (issue
/// threads of imapsync, node-imap, MailKit, email-oauth2-proxy).
const NOT_CONNECTED: &str = "user is authenticated but not connected";

/// The pause before the one more session that answer gets.
const NOT_CONNECTED_PAUSE: std::time::Duration = std::time::Duration::from_secs(3);

fn not_connected(e: &ImapError) -> bool {
    match e {
        ImapError::Bad { text } | ImapError::Auth(text) => {
            text.to_ascii_lowercase().contains(NOT_CONNECTED)
        }
        _ => false,
    }
}

/// [`connect`], then `learn` (the run's first commands) on the session.
/// Microsoft 365's "User is authenticated but not connected" there gets one
/// more session after a pause; a second time it is an authentication
/// failure (exit 3) naming its usual causes.
pub(super) fn connect_and<T>(
    login: &Login,
    learn: impl Fn(&mut Session) -> Result<T, ImapError>,
) -> Result<(Session, T), ImapError> {
    let mut tries = 0;
    loop {
        // Within the login itself (its CAPABILITY), or on the first commands.
        let e = match connect(login) {
            Err(e) if not_connected(&e) => e,
            Err(e) => return Err(e),
            Ok(mut session) => match learn(&mut session) {
                Ok(t) => return Ok((session, t)),
                Err(e) if not_connected(&e) => {
                    session.logout();
                    e
                }
                Err(e) => return Err(e),
            },
        };
        tries += 1;
        if tries == 2 {
            return Err(ImapError::Auth(format!(
                "the server accepted the login but answered \"{e}\" twice; Microsoft 365 says this when the password is wrong, IMAP is turned off for the mailbox, or the OAuth2 token lacks the IMAP scope (https://outlook.office.com/IMAP.AccessAsUser.All): check those, then run the same command again"
            )));
        }
        log::warn!(
            "the server answered \"{e}\" after the login; one more session in {NOT_CONNECTED_PAUSE:?}"
        );
        std::thread::sleep(NOT_CONNECTED_PAUSE);
    }
}

/// Learns the server's delimiter, personal namespace and special-use mailboxes.
pub(super) fn server_layout(session: &mut Session) -> Result<ServerLayout, ImapError> {
    let delimiter = session.delimiter()?;
    let namespace = session.personal_namespace()?;
    let mailboxes = session.list_all()?;
    Ok(ServerLayout::from_server(delimiter, namespace, &mailboxes))
}
