//! Logging in, again and again, with the run's secret: the first session
//! and every reconnection of every connection go through one [`Login`].
//! An OAuth2 access token expires (Gmail's and Microsoft's after about an
//! hour), and a long run reconnects after that: when the server refuses the
//! token, `--oauth2-token-command` is run again and the login retried once
//! with what it prints. Connections that fail together run the command
//! once: a connection that finds the token already replaced since it tried
//! just retries with the new one.

use std::sync::Mutex;

use super::secret::SecretSource;
use super::server::ServerSettings;
use crate::imap::{ConnectOptions, ImapError, Session};
use crate::secret::Secret;

/// How a run opens its sessions; shared by its connections (`Sync`).
pub struct Login {
    options: ConnectOptions,
    source: SecretSource,
    /// The newest secret: the one read when the settings were resolved,
    /// until a refused token makes the command print another.
    current: Mutex<Secret>,
}

impl Login {
    /// From the resolved settings (their trace sink is shared, not copied).
    pub fn new(settings: &ServerSettings) -> Login {
        Login {
            options: settings.connect.clone(),
            source: settings.secret.clone(),
            current: Mutex::new(settings.connect.password.clone()),
        }
    }

    /// A new authenticated session; a refused token from a command is
    /// fetched again and tried once more. A command that fails then is an
    /// [`ImapError::Auth`] naming the option, never showing its output.
    pub fn connect(&self) -> Result<Session, ImapError> {
        let tried = self.secret();
        match self.connect_with(&tried) {
            Err(ImapError::Auth(why)) if self.refreshable() => {
                log::info!("token refused ({why}); asking the token command for a fresh one");
                let fresh = self.refresh(&tried)?;
                self.connect_with(&fresh)
            }
            r => r,
        }
    }

    /// Only a command can print a different token; a token in the
    /// environment is what it is.
    fn refreshable(&self) -> bool {
        matches!(&self.source, SecretSource::OAuth2Command(_))
    }

    fn secret(&self) -> Secret {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The token after `refused`: the one another connection already
    /// fetched, else a new one from the command (run under the lock, so
    /// connections refused together run it once).
    fn refresh(&self, refused: &Secret) -> Result<Secret, ImapError> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *current == *refused {
            *current = self
                .source
                .read()
                .map_err(|e| ImapError::Auth(format!("the token was refused and then {e:#}")))?;
        }
        Ok(current.clone())
    }

    fn connect_with(&self, secret: &Secret) -> Result<Session, ImapError> {
        let mut options = self.options.clone();
        options.password = secret.clone();
        Session::connect(&options)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::imap::TlsMode;

    /// Settings whose token command prints `tok<n>` on its n-th run,
    /// counting runs in `dir/runs`.
    fn settings(dir: &std::path::Path) -> ServerSettings {
        let runs = dir.join("runs");
        let command = format!(
            "n=$(( $(cat '{r}' 2>/dev/null || echo 0) + 1 )); echo $n > '{r}'; echo tok$n",
            r = runs.display()
        );
        let source = SecretSource::OAuth2Command(command);
        ServerSettings {
            connect: ConnectOptions {
                host: "127.0.0.1".into(),
                port: 9,
                tls: TlsMode::StartTls,
                user: "user".into(),
                password: source.read().unwrap(),
                oauth2: true,
                trace: None,
                ca_file: None,
                insecure: false,
                allow_plaintext: true,
                timeout: Some(Duration::from_secs(1)),
                compress: false,
            },
            secret: source,
        }
    }

    #[test]
    fn a_refused_token_is_fetched_once_for_all_connections_refused_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let login = Login::new(&settings);
        let first = login.secret();
        assert_eq!(first.expose(), "tok1");
        // Two connections refused with tok1: the command runs once.
        assert_eq!(login.refresh(&first).unwrap().expose(), "tok2");
        assert_eq!(login.refresh(&first).unwrap().expose(), "tok2");
        // tok2 refused in its turn (a later expiry): run again.
        let second = login.secret();
        assert_eq!(login.refresh(&second).unwrap().expose(), "tok3");
        let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap();
        assert_eq!(runs.trim(), "3");
    }

    #[test]
    fn only_a_command_can_give_another_token() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path());
        assert!(Login::new(&settings).refreshable());
        settings.secret = SecretSource::OAuth2Env(Secret::new("fixed".into()));
        assert!(!Login::new(&settings).refreshable());
    }

    #[test]
    fn a_failing_command_at_a_reconnection_is_an_auth_error_without_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path());
        settings.secret = SecretSource::OAuth2Command("echo tok-leak; exit 1".into());
        let login = Login::new(&settings);
        let err = login.refresh(&login.secret()).unwrap_err();
        assert!(matches!(err, ImapError::Auth(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("--oauth2-token-command failed"), "{text}");
        assert!(!text.contains("tok-leak"), "{text}");
    }
}
