//! The IMAP client: a blocking connection (plain TCP upgraded with STARTTLS,
//! or implicit TLS via native-tls) and a [`Session`] offering what mailhaul
//! needs: capabilities, authentication, LIST/CREATE/SELECT/STATUS, APPEND
//! (single, MULTIAPPEND, several in flight), UID COPY, and FETCH of sizes,
//! Message-IDs and body hashes. It knows nothing about mbox or Maildir: it
//! is given mailbox names (UTF-8, server delimiter) and message bytes ready
//! to send.
//!
//! The map, from the commands down to bytes; each file imports only files
//! below it (no circle):
//!
//! - `session.rs` (connecting, LIST…FETCH, COMPRESS), `auth.rs` (LOGIN,
//!   SASL with a round limit), `append.rs`, `copy.rs`: the commands, each
//!   adding methods to [`Session`].
//! - `exec.rs`: [`Session`] itself and running one command: writing its
//!   fragments, reading to its tagged answer, keeping the untagged data it
//!   asked for within a budget; `closing.rs`: what the server said before
//!   it closed, read when a write fails.
//! - `command.rs`: every command encoded ([`command::Request`], APPEND,
//!   LOGIN, AUTHENTICATE and its SASL messages), as fragments.
//! - `data.rs`: untagged data parsed (imap-proto) into `types.rs` values.
//! - `connection.rs` (the byte pipe; `compress.rs` deflate under it,
//!   `trace.rs` a redacted record of it), `response.rs` (a frame
//!   classified), `frame.rs` (framing with bounds; `BODY[]` hashed as it
//!   streams).
//! - `types.rs`: the values handed in and out; `error.rs`: [`ImapError`],
//!   which tells a lost connection, server garbage, a bound exceeded and a
//!   client refusal from NO, BAD and BYE.

mod append;
mod auth;
mod closing;
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
    AppendItem, Appended, Capabilities, ConnectOptions, ListEntry, LiteralMode, MailboxStatus,
    Selected, SessionStats, Summary, TlsMode,
};
