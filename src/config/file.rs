//! The config file (TOML): named accounts with their server, credentials
//! source and connection defaults, so cron jobs and scripts say
//! `--account work` instead of repeating options. This module reads and
//! validates the file; [`super`] merges it under the command line
//! (flag > environment > config file > built-in default).
//!
//! ```toml
//! default_account = "work"
//!
//! [accounts.work]
//! server = "imaps://me@mail.example.org"
//! password_file = "~/.config/mailhaul/work.pw"
//! ca_file = "/etc/ssl/private-ca.pem"
//! timeout = 60
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where it was read from (named in errors).
    #[serde(skip)]
    pub path: PathBuf,
    /// The account used when `--account` is not given.
    pub default_account: Option<String>,
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
}

/// One `[accounts.NAME]` table. Every field is optional; the command line
/// overrides each one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub server: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_command: Option<String>,
    pub oauth2_token_command: Option<String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub allow_plaintext: bool,
    /// Seconds.
    pub timeout: Option<u64>,
}

/// `$XDG_CONFIG_HOME/mailhaul/config.toml`, else `~/.config/mailhaul/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mailhaul").join("config.toml"))
}

/// Expands a leading `~/` with HOME (config files are written by hand).
fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

impl ConfigFile {
    /// Parses `text`; errors name the file, line and column.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<ConfigFile> {
        let mut file: ConfigFile = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            anyhow::anyhow!("{}{place}: {}", path.display(), e.message())
        })?;
        file.path = path.to_path_buf();
        for account in file.accounts.values_mut() {
            account.password_file = account.password_file.as_deref().map(expand_home);
            account.ca_file = account.ca_file.as_deref().map(expand_home);
        }
        if let Some(name) = &file.default_account
            && !file.accounts.contains_key(name)
        {
            bail!(
                "{}: default_account {name:?} is not an [accounts.{name}] table",
                path.display()
            );
        }
        Ok(file)
    }

    /// Reads the file at `path`; with `required` false a missing file is an
    /// empty config (the default path need not exist).
    pub fn load(path: &Path, required: bool) -> anyhow::Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => ConfigFile::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(ConfigFile {
                path: path.to_path_buf(),
                ..ConfigFile::default()
            }),
            Err(e) => Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        }
    }

    /// The config file a run reads: `--config PATH` (which must exist),
    /// else the default path if there is a file there, else none.
    pub fn for_run(explicit: Option<&Path>) -> anyhow::Result<ConfigFile> {
        match explicit {
            Some(p) => ConfigFile::load(p, true),
            None => match default_path() {
                Some(p) => ConfigFile::load(&p, false),
                None => Ok(ConfigFile {
                    path: PathBuf::from("config.toml"),
                    ..ConfigFile::default()
                }),
            },
        }
    }

    /// The account named `name`, else the default account, else none; with
    /// its name.
    pub fn account(&self, name: Option<&str>) -> anyhow::Result<Option<(&str, &Account)>> {
        let path = &self.path;
        match name.or(self.default_account.as_deref()) {
            None => Ok(None),
            Some(n) => match self.accounts.get_key_value(n) {
                Some((n, a)) => Ok(Some((n.as_str(), a))),
                None => {
                    let known: Vec<&str> = self.accounts.keys().map(String::as_str).collect();
                    bail!(
                        "no account {n:?} in {} (accounts: {})",
                        path.display(),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
default_account = "work"

[accounts.work]
server = "imaps://me@mail.example.org"
password_file = "/run/secrets/pw"
timeout = 30

[accounts.home]
server = "imap://me@127.0.0.1:1143"
allow_plaintext = true
"#;

    #[test]
    fn parses_accounts_and_default() {
        let c = ConfigFile::parse(GOOD, Path::new("c.toml")).unwrap();
        let (name, work) = c.account(None).unwrap().unwrap();
        assert_eq!((name, work.timeout), ("work", Some(30)));
        let (_, home) = c.account(Some("home")).unwrap().unwrap();
        assert!(home.allow_plaintext);
        let err = c.account(Some("nope")).unwrap_err();
        assert!(format!("{err}").contains("home, work"), "{err}");
    }

    #[test]
    fn errors_name_the_line() {
        let text = "[accounts.a]\nserver = \"imaps://x@y\"\npasword_file = \"/p\"\n";
        let err = ConfigFile::parse(text, Path::new("c.toml")).unwrap_err();
        let msg = format!("{err}");
        assert!(msg.starts_with("c.toml:3:"), "{msg}");
        assert!(msg.contains("pasword_file"), "{msg}");
        let err = ConfigFile::parse("default_account = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(format!("{err}").contains("default_account"));
        let err = ConfigFile::parse("[accounts.a]\ntimeout = \"soon\"\n", Path::new("c.toml"))
            .unwrap_err();
        assert!(format!("{err}").starts_with("c.toml:2:"), "{err}");
    }
}
