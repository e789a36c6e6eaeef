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

/// Learns the server's delimiter, personal namespace and special-use mailboxes.
pub(super) fn server_layout(session: &mut Session) -> Result<ServerLayout, ImapError> {
    let delimiter = session.delimiter()?;
    let namespace = session.personal_namespace()?;
    let mailboxes = session.list_all()?;
    Ok(ServerLayout::from_server(delimiter, namespace, &mailboxes))
}
