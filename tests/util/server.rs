//! [`ImapServer`]: what an end-to-end test needs from a private server,
//! whichever it is (Dovecot, Cyrus or Courier), and [`ServerKind`] to start
//! one by name, so the same test runs against all three.
//!
//! The reader each server hands out speaks in the same terms everywhere:
//! mailbox names `/`-separated and relative to the personal namespace
//! (`INBOX`, `letters`, `Archive/2019`, never `INBOX.letters`), see
//! [`super::imap_reader`]; so one expectation fits every server.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::courier::Courier;
use super::cyrus::Cyrus;
use super::dovecot::Dovecot;
use super::imap_reader::ImapReader;

/// The three real servers the suite runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    Dovecot,
    Cyrus,
    Courier,
}

impl ServerKind {
    pub const ALL: [ServerKind; 3] = [ServerKind::Dovecot, ServerKind::Cyrus, ServerKind::Courier];

    /// Start a private instance with default settings.
    pub fn start(self) -> Result<Box<dyn ImapServer>> {
        Ok(match self {
            ServerKind::Dovecot => Box::new(Dovecot::start()?),
            ServerKind::Cyrus => Box::new(Cyrus::start()?),
            ServerKind::Courier => Box::new(Courier::start()?),
        })
    }
}

/// A running private IMAP server on 127.0.0.1 with one user.
pub trait ImapServer {
    fn kind(&self) -> ServerKind;
    /// Port with STARTTLS (plaintext LOGIN allowed, for the reader).
    fn plain_port(&self) -> u16;
    /// Port with implicit TLS.
    fn tls_port(&self) -> u16;
    fn user(&self) -> &str;
    fn password(&self) -> &str;
    /// The self-signed server certificate (PEM), for `--ca-file`.
    fn ca_file(&self) -> PathBuf;
    /// The files worth showing when something fails.
    fn log_paths(&self) -> Vec<PathBuf>;
    /// Everything the server logged so far.
    fn log(&self) -> String;

    /// `imaps://user@127.0.0.1:PORT`
    fn imaps_url(&self) -> String {
        format!("imaps://{}@127.0.0.1:{}", self.user(), self.tls_port())
    }
    /// `imap://user@127.0.0.1:PORT` (STARTTLS)
    fn imap_url(&self) -> String {
        format!("imap://{}@127.0.0.1:{}", self.user(), self.plain_port())
    }
    /// A logged-in independent IMAP reader on the plain port.
    fn reader(&self) -> Result<ImapReader> {
        ImapReader::login(self.plain_port(), self.user(), self.password())
            .with_context(|| format!("reader login ({:?})\n{}", self.kind(), self.log()))
    }
}

impl ImapServer for Dovecot {
    fn kind(&self) -> ServerKind {
        ServerKind::Dovecot
    }
    fn plain_port(&self) -> u16 {
        Dovecot::plain_port(self)
    }
    fn tls_port(&self) -> u16 {
        Dovecot::tls_port(self)
    }
    fn user(&self) -> &str {
        Dovecot::user(self)
    }
    fn password(&self) -> &str {
        Dovecot::password(self)
    }
    fn ca_file(&self) -> PathBuf {
        Dovecot::ca_file(self)
    }
    fn log_paths(&self) -> Vec<PathBuf> {
        vec![Dovecot::log_path(self)]
    }
    fn log(&self) -> String {
        format!("--- dovecot log ---\n{}", Dovecot::log(self))
    }
}

impl ImapServer for Cyrus {
    fn kind(&self) -> ServerKind {
        ServerKind::Cyrus
    }
    fn plain_port(&self) -> u16 {
        Cyrus::plain_port(self)
    }
    fn tls_port(&self) -> u16 {
        Cyrus::tls_port(self)
    }
    fn user(&self) -> &str {
        Cyrus::user(self)
    }
    fn password(&self) -> &str {
        Cyrus::password(self)
    }
    fn ca_file(&self) -> PathBuf {
        Cyrus::ca_file(self)
    }
    fn log_paths(&self) -> Vec<PathBuf> {
        Cyrus::log_paths(self)
    }
    fn log(&self) -> String {
        Cyrus::log(self)
    }
}

impl ImapServer for Courier {
    fn kind(&self) -> ServerKind {
        ServerKind::Courier
    }
    fn plain_port(&self) -> u16 {
        Courier::plain_port(self)
    }
    fn tls_port(&self) -> u16 {
        Courier::tls_port(self)
    }
    fn user(&self) -> &str {
        Courier::user(self)
    }
    fn password(&self) -> &str {
        Courier::password(self)
    }
    fn ca_file(&self) -> PathBuf {
        Courier::ca_file(self)
    }
    fn log_paths(&self) -> Vec<PathBuf> {
        vec![Courier::log_path(self)]
    }
    fn log(&self) -> String {
        format!("--- courier.log ---\n{}", Courier::log(self))
    }
}
