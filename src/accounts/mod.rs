//! Many accounts in one command (`mailhaul batch`): the accounts list
//! ([`list`], a CSV), running them side by side under per-server
//! connection caps ([`schedule`]), the per-account and total report
//! ([`report`]; for `--dry-run`, [`dry_run`]), which accounts are already complete ([`state`]) and
//! the server's word on them before they are skipped ([`confirm`]).
//! Each account's upload is the single-account engine ([`crate::upload`])
//! with its own connections, journal and lock; `run::batch` wires them.

pub mod confirm;
pub mod dry_run;
pub mod list;
pub mod report;
pub mod schedule;
pub mod state;

pub use list::{Account, ListError, SecretColumn};
pub use report::{AccountOutcome, AccountStatus, BatchReport, ServerConfirmation};
pub use state::{BatchState, Evidence};
