//! The IMAP client: a blocking connection (plain TCP upgraded with STARTTLS,
//! or implicit TLS via native-tls) and a [`Session`] offering what mailhaul
//! needs: capabilities, authentication, LIST/CREATE/SELECT/STATUS, APPEND
//! (single, MULTIAPPEND, several in flight), UID COPY, and FETCH of sizes,
//! Message-IDs and body hashes. It knows nothing about mbox or Maildir: it
//! is given mailbox names (UTF-8, server delimiter) and message bytes ready
//! to send.
//!
//! The map, from values down to bytes (each file depends only on those
//! below it, `session` and its command files aside):
//!
//! - `types.rs`: the values handed in and out (options, capabilities,
//!   what APPEND, LIST, SELECT, STATUS and FETCH return); no I/O.
//! - `error.rs`: [`ImapError`], which separates a lost connection, server
//!   garbage, a bound exceeded, a client refusal, and NO/BAD/BYE.
//! - `session.rs` (connecting, LIST…FETCH), `auth.rs` (LOGIN, SASL with a
//!   round limit), `append.rs`, `copy.rs`, `compress.rs`: the commands.
//! - `exec.rs`: running one command; what untagged data it keeps, bounded.
//! - `command.rs`: every command encoded, as fragments (lines, literals).
//! - `data.rs`: untagged data parsed (imap-proto) into `types.rs` values.
//! - `response.rs`: a frame classified (continuation, status, data).
//! - `frame.rs`: framing with bounds; `BODY[]` hashed as it streams.
//! - `connection.rs`, `trace.rs`: the byte pipe and its redacted trace.

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
