//! The `--server` URL: `imaps://user@host[:port]` or `imap://user@host[:port]`,
//! parsed into TLS mode, user, host and port. It never carries a password
//! (URLs end up in shell history and `ps`), and an error never echoes one.

use anyhow::{Context, bail};

use super::PASSWORD_ENV;
use crate::imap::TlsMode;

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
}
