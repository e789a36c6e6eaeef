//! mailhaul: upload local mail (mbox, Maildir) into an IMAP server, fast and
//! without losing or doubling a message.
//!
//! Data flows one way (see DESIGN.md): [`source`] reads messages, [`plan`]
//! maps folders to server mailboxes and cuts batches, [`upload`] drives the
//! batches through an [`imap::Session`], and [`report`] turns the outcome
//! into a summary and an exit code. [`cli`] and [`config`] sit at the edge.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod fingerprint;
pub mod imap;
pub mod journal;
pub mod logger;
pub mod message;
pub mod mutf7;
pub mod plan;
mod private_file;
pub mod progress;
pub mod provider;
pub mod report;
pub mod run;
pub mod scan;
pub mod secret;
pub mod source;
pub mod upload;
pub mod verify;

/// Entry points for the fuzz targets in `fuzz/` (not a stable API): the
/// internals they exercise, re-exported without making them public.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::imap::data::{
        capabilities, fetch_uid, internal_date, list_entry, personal_namespace, status, summary,
    };
}
