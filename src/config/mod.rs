//! Configuration: the layers a run's settings come from and the rules that
//! combine them — flags ([`crate::cli`], with the variables clap reads for
//! them), [`Environment`], and the config file ([`mod@file`]); flag >
//! environment > config file > built-in default. Here: the server URL
//! parsed ([`url`]), the secret's source chosen and read ([`secret`]), an
//! account checked ([`account`], shared with `mailhaul config check`), the
//! server settings merged ([`server`]), sessions opened with them, an
//! expired OAuth2 token fetched again ([`login`]). The settings of each subcommand are
//! put together once in `run::settings`. Errors here are configuration
//! errors (exit code 2), except [`SecretCommandFailed`] (the run cannot
//! log in: 3), and never contain a secret.

pub mod account;
pub mod file;
pub mod login;
pub mod secret;
pub mod server;
pub mod url;

pub use account::AccountSettings;
pub use file::{Account, ConfigFile};
pub use login::Login;
pub use secret::{Environment, SecretCommandFailed, SecretSource};
pub use server::ServerSettings;
pub use url::ServerUrl;

/// The environment variable holding the password.
pub const PASSWORD_ENV: &str = "MAILHAUL_PASSWORD";

/// The environment variable holding an OAuth2 access token.
pub const OAUTH2_TOKEN_ENV: &str = "MAILHAUL_OAUTH2_TOKEN";

/// `--timeout` when neither the command line nor the config file sets it.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
