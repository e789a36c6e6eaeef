//! What the subcommands share once their settings are resolved
//! ([`super::settings`]): connecting (with one OAuth2 token refresh) and
//! learning the server's layout.

use crate::config::ServerSettings;
use crate::imap::{ImapError, Session};
use crate::plan::ServerLayout;

use super::{Failure, connection, usage};

pub(super) fn connect(settings: &mut ServerSettings) -> Result<Session, Failure> {
    let session = match Session::connect(&settings.connect) {
        Err(ImapError::Auth(_)) if settings.secret.is_oauth2() => {
            // The token may have expired between the command and the login:
            // ask for a fresh one, once.
            log::info!("token refused; asking the token command for a fresh one");
            settings.refresh_secret().map_err(usage)?;
            Session::connect(&settings.connect).map_err(connection)
        }
        r => r.map_err(connection),
    }?;
    log::info!(
        "logged in; capabilities: {}",
        session.capabilities().0.join(" ")
    );
    Ok(session)
}

/// Learns the server's delimiter, personal namespace and special-use mailboxes.
pub(super) fn server_layout(session: &mut Session) -> Result<ServerLayout, ImapError> {
    let delimiter = session.delimiter()?;
    let namespace = session.personal_namespace()?;
    let mailboxes = session.list_all()?;
    Ok(ServerLayout::from_server(delimiter, namespace, &mailboxes))
}
