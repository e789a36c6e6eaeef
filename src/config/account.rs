//! One config-file account, checked: its server URL parsed, the files it
//! names readable, at most one secret source. `mailhaul config check`
//! reports every problem of every account; a run using an account refuses
//! it for the same problems, found by the same [`AccountSettings::check`].

use std::path::PathBuf;

use super::secret::{SecretSource, one_source};
use super::{Account, ServerUrl};

/// An account whose fields passed the checks.
#[derive(Clone, Debug, Default)]
pub struct AccountSettings {
    pub server: Option<ServerUrl>,
    pub secret: Option<SecretSource>,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    pub allow_plaintext: bool,
    /// Seconds.
    pub timeout: Option<u64>,
}

impl AccountSettings {
    /// Checks `[accounts.NAME]`; the error lists every problem found, each
    /// naming the account and the field.
    pub fn check(name: &str, account: &Account) -> Result<AccountSettings, Vec<String>> {
        let mut problems = Vec::new();
        let table = format!("[accounts.{name}]");
        let server = match account.server.as_deref().map(ServerUrl::parse).transpose() {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{table} server: {e:#}"));
                None
            }
        };
        for (key, p) in [
            ("password_file", &account.password_file),
            ("ca_file", &account.ca_file),
        ] {
            if let Some(p) = p
                && let Err(e) = std::fs::metadata(p)
            {
                problems.push(format!("{table} {key} {}: {e}", p.display()));
            }
        }
        let secret = one_source(
            &table,
            [
                (
                    "password_file",
                    account
                        .password_file
                        .clone()
                        .map(SecretSource::PasswordFile),
                ),
                (
                    "password_command",
                    account
                        .password_command
                        .clone()
                        .map(SecretSource::PasswordCommand),
                ),
                (
                    "oauth2_token_command",
                    account
                        .oauth2_token_command
                        .clone()
                        .map(SecretSource::OAuth2Command),
                ),
            ],
        )
        .unwrap_or_else(|e| {
            problems.push(e.to_string());
            None
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(AccountSettings {
            server,
            secret,
            ca_file: account.ca_file.clone(),
            insecure: account.insecure,
            allow_plaintext: account.allow_plaintext,
            timeout: account.timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named() {
        let account = Account {
            server: Some("http://x".into()),
            password_file: Some("/nonexistent/pw".into()),
            password_command: Some("echo pw".into()),
            ..Account::default()
        };
        let problems = AccountSettings::check("w", &account).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("[accounts.w] server: "));
        assert!(problems[1].starts_with("[accounts.w] password_file /nonexistent/pw: "));
        assert_eq!(
            problems[2],
            "[accounts.w]: password_file and password_command given together; give only one of password_file, password_command, oauth2_token_command"
        );
    }

    #[test]
    fn a_good_account_is_parsed() {
        let account = Account {
            server: Some("imap://me@127.0.0.1:1143".into()),
            oauth2_token_command: Some("echo tok".into()),
            timeout: Some(5),
            ..Account::default()
        };
        let a = AccountSettings::check("w", &account).unwrap();
        assert_eq!(a.server.unwrap().port, 1143);
        assert!(a.secret.unwrap().is_oauth2());
        assert_eq!(a.timeout, Some(5));
    }
}
