//! The server settings of a run: how to connect and where the secret comes
//! from, merged from the flags (with the variables clap reads for them),
//! [`Environment`] and the config file's account — flag > environment >
//! config file > built-in default.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::account::AccountSettings;
use super::secret::{Environment, SecretSource};
use super::{ConfigFile, DEFAULT_TIMEOUT_SECS, ServerUrl};
use crate::cli::ServerArgs;
use crate::imap::ConnectOptions;
use crate::imap::trace::TraceSink;
use crate::private_file;

/// The resolved server settings: how to connect, and where the secret
/// comes from (so an expired OAuth2 token can be fetched again, see
/// [`super::Login`]).
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub connect: ConnectOptions,
    pub secret: SecretSource,
}

impl ServerSettings {
    /// Merges the command line over the environment over the config file's
    /// account (checked as `config check` checks it), then reads the secret.
    pub fn resolve(
        args: &ServerArgs,
        env: &Environment,
        config: &ConfigFile,
    ) -> anyhow::Result<ServerSettings> {
        let account = match config.account(args.account.as_deref())? {
            Some((name, account)) => AccountSettings::check(name, account).map_err(|problems| {
                anyhow::anyhow!("{}: {}", config.path.display(), problems.join("; "))
            })?,
            None => AccountSettings::default(),
        };
        let url = match &args.server {
            Some(server) => ServerUrl::parse(server)?,
            None => account.server.clone().context(
                "no server given: use --server URL, MAILHAUL_SERVER, or --account NAME with a config file",
            )?,
        };
        if let Some(ca) = &args.ca_file {
            std::fs::metadata(ca)
                .with_context(|| format!("cannot read --ca-file {}", ca.display()))?;
        }
        // Every layer is judged, even one a higher layer overrides: a
        // conflict there is a mistake `config check` reports too.
        let secret = SecretSource::choose(
            SecretSource::from_flags(args)?,
            env.secret()?,
            account.secret.clone(),
        )?;
        let timeout = args
            .timeout
            .or(account.timeout)
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        Ok(ServerSettings {
            connect: ConnectOptions {
                host: url.host,
                port: url.port,
                tls: url.tls,
                user: url.user,
                password: secret.read()?,
                oauth2: secret.is_oauth2(),
                compress: !args.no_compress,
                trace: match &args.trace {
                    Some(path) => Some(trace_file(path)?),
                    None => None,
                },
                ca_file: args.ca_file.clone().or(account.ca_file),
                insecure: args.insecure || account.insecure,
                allow_plaintext: args.allow_plaintext || account.allow_plaintext,
                timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            },
            secret,
        })
    }
}

/// Opens `--trace FILE` (created or truncated, readable by the owner only:
/// it names mailboxes and servers even with the secrets taken out; an
/// existing file is made private first, see [`private_file`]).
fn trace_file(path: &Path) -> anyhow::Result<TraceSink> {
    let file = private_file::create(path)
        .with_context(|| format!("cannot create --trace file {}", path.display()))?;
    Ok(TraceSink::new(Box::new(std::io::BufWriter::new(file))))
}
