//! Resolved settings: turns what the user typed ([`crate::cli`]) into what the
//! pipeline needs — the server URL parsed, the password read from its file,
//! command or environment variable, limits checked. Errors here are
//! configuration errors (exit code 2) and never contain a secret.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::ServerArgs;
use crate::imap::{ConnectOptions, TlsMode};
use crate::secret::Secret;

/// The environment variable holding the password.
pub const PASSWORD_ENV: &str = "MAILHAUL_PASSWORD";

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

/// Reads the password: `--password-file`, else `--password-command`, else the
/// `MAILHAUL_PASSWORD` environment variable. There is no argument form.
pub fn read_password(args: &ServerArgs) -> anyhow::Result<Secret> {
    let password = if let Some(path) = &args.password_file {
        password_from_file(path)?
    } else if let Some(cmd) = &args.password_command {
        password_from_command(cmd)?
    } else if let Some(v) = std::env::var_os(PASSWORD_ENV) {
        v.into_string()
            .map_err(|_| anyhow::anyhow!("{PASSWORD_ENV} is not valid UTF-8"))?
    } else {
        bail!(
            "no password given: use --password-file PATH, --password-command CMD or the {PASSWORD_ENV} environment variable"
        );
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(Secret::new(password))
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

fn password_from_command(cmd: &str) -> anyhow::Result<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run --password-command")?;
    if !out.status.success() {
        // Its stdout is not shown: it may hold part of a secret.
        bail!("--password-command failed ({})", out.status);
    }
    let text = String::from_utf8(out.stdout).context("--password-command printed non-UTF-8")?;
    Ok(strip_line_end(text))
}

/// Builds the connection settings from the server arguments.
pub fn connect_options(args: &ServerArgs) -> anyhow::Result<ConnectOptions> {
    let url = ServerUrl::parse(&args.server)?;
    if let Some(ca) = &args.ca_file {
        std::fs::metadata(ca).with_context(|| format!("cannot read --ca-file {}", ca.display()))?;
    }
    let password = read_password(args)?;
    Ok(ConnectOptions {
        host: url.host,
        port: url.port,
        tls: url.tls,
        user: url.user,
        password,
        ca_file: args.ca_file.clone(),
        insecure: args.insecure,
        allow_plaintext: args.allow_plaintext,
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        compress: !args.no_compress,
    })
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
        assert_eq!(password_from_command("printf 'abc\\n'").unwrap(), "abc");
        assert!(password_from_command("exit 3").is_err());
        let err = password_from_file(&dir.path().join("missing")).unwrap_err();
        assert!(format!("{err:#}").contains("missing"));
    }
}
