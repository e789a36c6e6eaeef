//! Shared helpers for the integration tests. Not every test module uses
//! every helper, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod cmd;
pub mod courier;
pub mod cyrus;
pub mod dovecot;
pub mod imap4d;
pub mod imap_proxy;
pub mod imap_reader;
pub mod peer;
pub mod provider_proxy;
pub mod proxy;
pub mod rng;
pub mod server;
pub mod strict_proxy;
pub mod sys;

pub use cmd::MailhaulCommand;
pub use courier::Courier;
pub use cyrus::Cyrus;
pub use dovecot::{Dovecot, DovecotOptions};
pub use imap_proxy::LookProxy;
pub use imap_reader::{Fetched, ImapReader, parse_internal_date};
pub use imap4d::Imap4d;
pub use peer::{AppendCtx, FakeImap, Fault, assert_exit};
pub use provider_proxy::{Limits, Provider, ProviderProxy};
pub use proxy::{At, Cut, Dir, FaultProxy};
pub use rng::Rng;
pub use server::{ImapServer, ServerKind};
