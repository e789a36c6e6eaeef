//! Where the password or OAuth2 token comes from, and reading it. Three
//! layers may name a source: the flags (`--password-file`,
//! `--password-command`, `--oauth2-token-command`), the environment
//! (`MAILHAUL_PASSWORD`, `MAILHAUL_OAUTH2_TOKEN`) and the config file's
//! account (`password_file`, `password_command`, `oauth2_token_command`).
//! Two sources in one layer are an error (which one was meant?); between
//! layers the flag beats the environment, which beats the config file.
//! Every layer is judged by [`one_source`], whether for a run or for
//! `mailhaul config check`, so the two always agree.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use super::{OAUTH2_TOKEN_ENV, PASSWORD_ENV};
use crate::cli::ServerArgs;
use crate::secret::Secret;

/// Where the secret comes from, after the layers were weighed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    PasswordFile(PathBuf),
    PasswordCommand(String),
    /// The password in `MAILHAUL_PASSWORD`.
    PasswordEnv(Secret),
    /// An OAuth2 access token printed by a command (run again on expiry).
    OAuth2Command(String),
    /// An OAuth2 access token in `MAILHAUL_OAUTH2_TOKEN`.
    OAuth2Env(Secret),
}

/// The variables mailhaul reads itself, captured once per run (clap reads
/// `MAILHAUL_SERVER`, `MAILHAUL_ACCOUNT` and `MAILHAUL_CONFIG` with their
/// flags). An empty variable counts as unset.
#[derive(Clone, Default)]
pub struct Environment {
    pub password: Option<OsString>,
    pub oauth2_token: Option<OsString>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        Environment {
            password: var(PASSWORD_ENV),
            oauth2_token: var(OAUTH2_TOKEN_ENV),
        }
    }

    /// The environment's secret: `MAILHAUL_PASSWORD` or
    /// `MAILHAUL_OAUTH2_TOKEN`, not both.
    pub fn secret(&self) -> anyhow::Result<Option<SecretSource>> {
        let value = |name: &str, v: &Option<OsString>| -> anyhow::Result<Option<Secret>> {
            v.clone()
                .map(|v| {
                    v.into_string()
                        .map(Secret::new)
                        .map_err(|_| anyhow::anyhow!("{name} is not valid UTF-8"))
                })
                .transpose()
        };
        one_source(
            "environment",
            [
                (
                    PASSWORD_ENV,
                    value(PASSWORD_ENV, &self.password)?.map(SecretSource::PasswordEnv),
                ),
                (
                    OAUTH2_TOKEN_ENV,
                    value(OAUTH2_TOKEN_ENV, &self.oauth2_token)?.map(SecretSource::OAuth2Env),
                ),
            ],
        )
    }
}

/// Of one layer's candidates (name, the source if given), the one given;
/// none is `None`, two or more an error naming them.
pub fn one_source<const N: usize>(
    layer: &str,
    candidates: [(&str, Option<SecretSource>); N],
) -> anyhow::Result<Option<SecretSource>> {
    let names: Vec<&str> = candidates.iter().map(|(n, _)| *n).collect();
    let given: Vec<(&str, SecretSource)> = candidates
        .into_iter()
        .filter_map(|(n, s)| Some((n, s?)))
        .collect();
    match <[_; 1]>::try_from(given) {
        Ok([(_, source)]) => Ok(Some(source)),
        Err(given) if given.is_empty() => Ok(None),
        Err(given) => {
            let given: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
            bail!(
                "{layer}: {} given together; give only one of {}",
                given.join(" and "),
                names.join(", ")
            )
        }
    }
}

impl SecretSource {
    /// The flags' secret (clap's `secret` group allows one already).
    pub fn from_flags(args: &ServerArgs) -> anyhow::Result<Option<SecretSource>> {
        one_source(
            "command line",
            [
                (
                    "--password-file",
                    args.password_file.clone().map(SecretSource::PasswordFile),
                ),
                (
                    "--password-command",
                    args.password_command
                        .clone()
                        .map(SecretSource::PasswordCommand),
                ),
                (
                    "--oauth2-token-command",
                    args.oauth2_token_command
                        .clone()
                        .map(SecretSource::OAuth2Command),
                ),
            ],
        )
    }

    /// The first layer's secret: flags, else environment, else account.
    pub fn choose(
        flags: Option<SecretSource>,
        env: Option<SecretSource>,
        account: Option<SecretSource>,
    ) -> anyhow::Result<SecretSource> {
        match flags.or(env).or(account) {
            Some(s) => Ok(s),
            None => bail!(
                "no password given: use --password-file PATH, --password-command CMD, --oauth2-token-command CMD, the {PASSWORD_ENV} or {OAUTH2_TOKEN_ENV} environment variable, or an account in the config file"
            ),
        }
    }

    pub fn is_oauth2(&self) -> bool {
        matches!(
            self,
            SecretSource::OAuth2Command(_) | SecretSource::OAuth2Env(_)
        )
    }

    /// Reads the secret (runs the command again each time).
    pub fn read(&self) -> anyhow::Result<Secret> {
        let value = match self {
            SecretSource::PasswordFile(p) => password_from_file(p)?,
            SecretSource::PasswordCommand(c) => secret_from_command(c, "--password-command")?,
            SecretSource::OAuth2Command(c) => secret_from_command(c, "--oauth2-token-command")?,
            SecretSource::PasswordEnv(s) | SecretSource::OAuth2Env(s) => s.expose().to_string(),
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

/// A password or token command that gave no secret: the run cannot log in
/// (exit 3, like a refused password), which is not a mistake in the
/// settings (exit 2). What the command printed on stdout is never shown: it
/// may hold part of a secret; its stderr went to the terminal.
#[derive(Debug)]
pub struct SecretCommandFailed {
    option: &'static str,
    why: String,
}

impl std::fmt::Display for SecretCommandFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.option, self.why)
    }
}

impl std::error::Error for SecretCommandFailed {}

impl SecretCommandFailed {
    /// The option that named the command (`--password-command`).
    pub fn option(&self) -> &'static str {
        self.option
    }

    /// Why it gave no secret.
    pub fn why(&self) -> &str {
        &self.why
    }
}

fn secret_from_command(cmd: &str, option: &'static str) -> Result<String, SecretCommandFailed> {
    let failed = |why: String| SecretCommandFailed { option, why };
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| failed(format!("cannot run sh: {e}")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "{} (its messages, if any, are above)",
            out.status
        )));
    }
    let text = String::from_utf8(out.stdout).map_err(|_| failed("it printed non-UTF-8".into()))?;
    Ok(strip_line_end(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> Option<SecretSource> {
        Some(SecretSource::PasswordFile(p.into()))
    }

    #[test]
    fn one_source_per_layer() {
        assert_eq!(one_source("x", [("a", None), ("b", None)]).unwrap(), None);
        assert_eq!(
            one_source("x", [("a", None), ("b", file("/p"))]).unwrap(),
            file("/p")
        );
        let err = one_source("[accounts.w]", [("a", file("/p")), ("b", file("/q"))])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "[accounts.w]: a and b given together; give only one of a, b"
        );
    }

    #[test]
    fn both_environment_secrets_are_an_error_and_one_is_read() {
        let env = Environment {
            password: Some("pw".into()),
            oauth2_token: Some("tok".into()),
        };
        let err = env.secret().unwrap_err().to_string();
        assert!(
            err.contains("MAILHAUL_PASSWORD and MAILHAUL_OAUTH2_TOKEN"),
            "{err}"
        );
        let env = Environment {
            oauth2_token: Some("tok".into()),
            ..Environment::default()
        };
        let source = env.secret().unwrap().unwrap();
        assert!(source.is_oauth2());
        assert_eq!(source.read().unwrap().expose(), "tok");
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_account() {
        let env = Some(SecretSource::PasswordEnv(Secret::new("e".into())));
        let chosen = SecretSource::choose(file("/flag"), env.clone(), file("/acct")).unwrap();
        assert_eq!(Some(chosen), file("/flag"));
        let chosen = SecretSource::choose(None, env.clone(), file("/acct")).unwrap();
        assert_eq!(Some(chosen), env);
        let chosen = SecretSource::choose(None, None, file("/acct")).unwrap();
        assert_eq!(Some(chosen), file("/acct"));
        assert!(SecretSource::choose(None, None, None).is_err());
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
