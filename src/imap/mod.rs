//! The IMAP client: a blocking connection (plain TCP upgraded with STARTTLS,
//! or implicit TLS via native-tls), command encoding, a framing response
//! reader, and a [`Session`] offering what mailhaul needs: capabilities,
//! authentication, LIST/CREATE/SELECT/STATUS, APPEND (single, MULTIAPPEND,
//! pipelined serial), UID COPY and FETCH for verification. It knows nothing about mbox
//! or Maildir: it is given mailbox names (UTF-8, server delimiter) and
//! message bytes ready to send.

mod append;
mod auth;
pub mod command;
pub mod compress;
pub mod connection;
mod copy;
pub(crate) mod data;
pub mod error;
mod exec;
pub mod frame;
pub mod response;
pub mod session;
pub mod trace;
pub mod types;

/// Modified UTF-7 lives beside the modules that need it (`source` reads
/// Maildir++ names with it); the client keeps its old path to it.
pub use crate::mutf7 as utf7;
pub use copy::Copied;
pub use error::{Code, ImapError};
pub use session::Session;
pub use types::{
    AppendItem, Appended, Capabilities, ConnectOptions, Fetched, ListEntry, LiteralMode,
    MailboxStatus, Selected, SessionStats, Summary, TlsMode,
};
