//! Resolved settings: turns what the user typed ([`crate::cli`]) into what the
//! pipeline needs — the server URL parsed, the password read from its file,
//! command or environment variable, limits checked. Errors here are
//! configuration errors (exit code 2) and never contain a secret.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::ServerArgs;
use crate::imap::trace::TraceSink;
use crate::imap::{ConnectOptions, TlsMode};
use crate::private_file;
use crate::secret::Secret;

pub mod file;

pub use file::{Account, ConfigFile};

/// The environment variable holding the password.
pub const PASSWORD_ENV: &str = "MAILHAUL_PASSWORD";

/// The environment variable holding an OAuth2 access token.
pub const OAUTH2_TOKEN_ENV: &str = "MAILHAUL_OAUTH2_TOKEN";

/// `--timeout` when neither the command line nor the config file sets it.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// A parsed `--server` URL (no password: URLs end up in shell history and `ps`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    pub tls: TlsMode,
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl ServerUrl {
    /// Parses `imaps://user@host[:port]` or `imap://user@host[:port]`. The user
    /// may be percent-encoded (`user%40example.com@host`) or contain `@`
    /// itself (the last `@` separates the host).
    pub fn parse(url: &str) -> anyhow::Result<ServerUrl> {
        let (tls, rest, default_port) = if let Some(r) = url.strip_prefix("imaps://") {
            (TlsMode::Implicit, r, 993)
        } else if let Some(r) = url.strip_prefix("imap://") {
            (TlsMode::StartTls, r, 143)
        } else {
            bail!(
                "--server must start with imaps:// (TLS) or imap:// (STARTTLS), e.g. imaps://me@mail.example.org"
            );
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let Some((userinfo, hostport)) = rest.rsplit_once('@') else {
            bail!("--server needs a user name: imaps://USER@HOST[:PORT]");
        };
        if userinfo.contains(':') {
            // Do not echo the URL: the part after ':' is probably a password.
            bail!(
                "--server must not contain a password (user:password@…); use --password-file, --password-command or {PASSWORD_ENV}"
            );
        }
        let user = percent_decode(userinfo).context("--server: bad %-escape in the user name")?;
        if user.is_empty() {
            bail!("--server needs a user name: imaps://USER@HOST[:PORT]");
        }
        let (host, port) = split_host_port(hostport)?;
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .with_context(|| format!("--server: {p:?} is not a port number"))?,
            None => default_port,
        };
        if host.is_empty() || host.contains('/') {
            bail!("--server: {host:?} is not a host name");
        }
        Ok(ServerUrl {
            tls,
            user,
            host: host.to_string(),
            port,
        })
    }
}

fn split_host_port(s: &str) -> anyhow::Result<(&str, Option<&str>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .context("--server: unclosed [ in an IPv6 address")?;
        return match after {
            "" => Ok((host, None)),
            p => Ok((
                host,
                Some(
                    p.strip_prefix(':')
                        .context("--server: expected :PORT after ]")?,
                ),
            )),
        };
    }
    Ok(match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

fn percent_decode(s: &str) -> anyhow::Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).context("truncated escape")?;
            out.push(u8::from_str_radix(hex, 16).context("not hex")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("not UTF-8")
}

/// Where the secret comes from, after flags, environment and config file
/// were weighed (flag > environment > config file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    PasswordFile(PathBuf),
    PasswordCommand(String),
    PasswordEnv,
    /// An OAuth2 access token printed by a command (run again on expiry).
    OAuth2Command(String),
    /// An OAuth2 access token in `MAILHAUL_OAUTH2_TOKEN`.
    OAuth2Env,
}

impl SecretSource {
    fn choose(args: &ServerArgs, account: Option<&Account>) -> anyhow::Result<SecretSource> {
        let env_set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if let Some(p) = &args.password_file {
            return Ok(SecretSource::PasswordFile(p.clone()));
        }
        if let Some(c) = &args.password_command {
            return Ok(SecretSource::PasswordCommand(c.clone()));
        }
        if let Some(c) = &args.oauth2_token_command {
            return Ok(SecretSource::OAuth2Command(c.clone()));
        }
        if env_set(PASSWORD_ENV) {
            return Ok(SecretSource::PasswordEnv);
        }
        if env_set(OAUTH2_TOKEN_ENV) {
            return Ok(SecretSource::OAuth2Env);
        }
        if let Some(a) = account {
            if let Some(p) = &a.password_file {
                return Ok(SecretSource::PasswordFile(p.clone()));
            }
            if let Some(c) = &a.password_command {
                return Ok(SecretSource::PasswordCommand(c.clone()));
            }
            if let Some(c) = &a.oauth2_token_command {
                return Ok(SecretSource::OAuth2Command(c.clone()));
            }
        }
        bail!(
            "no password given: use --password-file PATH, --password-command CMD, --oauth2-token-command CMD, the {PASSWORD_ENV} or {OAUTH2_TOKEN_ENV} environment variable, or an account in the config file"
        )
    }

    pub fn is_oauth2(&self) -> bool {
        matches!(
            self,
            SecretSource::OAuth2Command(_) | SecretSource::OAuth2Env
        )
    }

    /// Reads the secret (runs the command again each time).
    pub fn read(&self) -> anyhow::Result<Secret> {
        let env = |name: &str| {
            std::env::var_os(name)
                .unwrap_or_default()
                .into_string()
                .map_err(|_| anyhow::anyhow!("{name} is not valid UTF-8"))
        };
        let value = match self {
            SecretSource::PasswordFile(p) => password_from_file(p)?,
            SecretSource::PasswordCommand(c) => secret_from_command(c, "--password-command")?,
            SecretSource::OAuth2Command(c) => secret_from_command(c, "--oauth2-token-command")?,
            SecretSource::PasswordEnv => env(PASSWORD_ENV)?,
            SecretSource::OAuth2Env => env(OAUTH2_TOKEN_ENV)?,
        };
        if value.is_empty() {
            bail!("the password or token is empty");
        }
        Ok(Secret::new(value))
    }
}

fn strip_line_end(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

fn password_from_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read password file {}", path.display()))?;
    // The first line is the password; nothing else in the file is used.
    let first = text.split_inclusive('\n').next().unwrap_or("").to_string();
    Ok(strip_line_end(first))
}

fn secret_from_command(cmd: &str, option: &str) -> anyhow::Result<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {option}"))?;
    if !out.status.success() {
        // Its stdout is not shown: it may hold part of a secret.
        bail!("{option} failed ({})", out.status);
    }
    let text =
        String::from_utf8(out.stdout).with_context(|| format!("{option} printed non-UTF-8"))?;
    Ok(strip_line_end(text))
}

/// Opens `--trace FILE` (created or truncated, readable by the owner only:
/// it names mailboxes and servers even with the secrets taken out; an
/// existing file is made private first, see [`private_file`]).
fn trace_file(path: &Path) -> anyhow::Result<TraceSink> {
    let file = private_file::create(path)
        .with_context(|| format!("cannot create --trace file {}", path.display()))?;
    Ok(TraceSink::new(Box::new(std::io::BufWriter::new(file))))
}

/// The resolved server settings: how to connect, and where the secret
/// comes from (so an expired OAuth2 token can be fetched again).
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub connect: ConnectOptions,
    pub secret: SecretSource,
}

impl ServerSettings {
    /// Merges the command line (and its environment variables) over the
    /// config file's account, then reads the secret.
    pub fn resolve(args: &ServerArgs) -> anyhow::Result<ServerSettings> {
        let (config, path) = match &args.config {
            Some(p) => (ConfigFile::load(p, true)?, p.clone()),
            None => match file::default_path() {
                Some(p) => (ConfigFile::load(&p, false)?, p),
                None => (ConfigFile::default(), PathBuf::from("config.toml")),
            },
        };
        let account = config.account(args.account.as_deref(), &path)?;
        let server = args
            .server
            .clone()
            .or_else(|| account.and_then(|a| a.server.clone()))
            .context("no server given: use --server URL, MAILHAUL_SERVER, or --account NAME with a config file")?;
        let url = ServerUrl::parse(&server)?;
        let ca_file = args
            .ca_file
            .clone()
            .or_else(|| account.and_then(|a| a.ca_file.clone()));
        if let Some(ca) = &ca_file {
            std::fs::metadata(ca)
                .with_context(|| format!("cannot read --ca-file {}", ca.display()))?;
        }
        let secret = SecretSource::choose(args, account)?;
        let timeout = args
            .timeout
            .or_else(|| account.and_then(|a| a.timeout))
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
                ca_file,
                insecure: args.insecure || account.is_some_and(|a| a.insecure),
                allow_plaintext: args.allow_plaintext || account.is_some_and(|a| a.allow_plaintext),
                timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            },
            secret,
        })
    }

    /// Reads the secret again (an OAuth2 token command prints a fresh token).
    pub fn refresh_secret(&mut self) -> anyhow::Result<()> {
        self.connect.password = self.secret.read()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ServerUrl::parse("imaps://me@mail.example.org").unwrap();
        assert_eq!(
            u,
            ServerUrl {
                tls: TlsMode::Implicit,
                user: "me".into(),
                host: "mail.example.org".into(),
                port: 993
            }
        );
        let u = ServerUrl::parse("imap://me%40example.org@127.0.0.1:1143").unwrap();
        assert_eq!(
            (u.tls, u.user.as_str(), u.port),
            (TlsMode::StartTls, "me@example.org", 1143)
        );
        let u = ServerUrl::parse("imaps://a@b.org@[::1]:994/").unwrap();
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port),
            ("a@b.org", "::1", 994)
        );
        assert!(ServerUrl::parse("http://me@x").is_err());
        assert!(ServerUrl::parse("imaps://x").is_err());
        assert!(ServerUrl::parse("imaps://me@x:0").is_err());
        assert!(ServerUrl::parse("imaps://me@x:99999").is_err());
    }

    #[test]
    fn password_in_url_is_refused_without_echo() {
        let err = ServerUrl::parse("imaps://me:s3cret@x").unwrap_err();
        assert!(!format!("{err:#}").contains("s3cret"));
    }

    #[test]
    fn password_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "pa ss\r\nignored\n").unwrap();
        assert_eq!(password_from_file(&file).unwrap(), "pa ss");
        assert_eq!(secret_from_command("printf 'abc\\n'", "x").unwrap(), "abc");
        assert!(secret_from_command("exit 3", "x").is_err());
        let err = password_from_file(&dir.path().join("missing")).unwrap_err();
        assert!(format!("{err:#}").contains("missing"));
    }
}
