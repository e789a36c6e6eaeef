//! Many accounts in one command (`mailhaul batch`): the accounts list
//! ([`list`], a CSV), running them side by side under per-server
//! connection caps ([`schedule`]), the per-account and total report
//! ([`report`]) and which accounts are already complete ([`state`]).
//! Each account's upload is the single-account engine ([`crate::upload`])
//! with its own connections, journal and lock; `run::batch` wires them.

pub mod list;
pub mod report;
pub mod schedule;
pub mod state;

pub use list::{Account, ListError, SecretColumn};
pub use report::{AccountOutcome, AccountStatus, BatchReport};
pub use state::{BatchState, Evidence};
