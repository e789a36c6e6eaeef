//! One account of `mailhaul batch` as a `mailhaul upload`: its row and the
//! batch's upload options become the [`UploadArgs`] that `upload` would
//! parse (in-process, through clap, so every option means what it means
//! there, defaults included), and its secret's environment. The upload
//! options are judged once, before any account runs.

use std::ffi::OsString;
use std::path::Path;

use clap::Parser;

use crate::accounts::{Account, SecretColumn};
use crate::cli::{Cli, Command, UploadArgs};
use crate::config::{Environment, SecretCommandFailed};

use super::Failure;

/// Options each row (or the batch itself) decides, not allowed among the
/// upload options given to every account.
const PER_ACCOUNT: &[&str] = &[
    "--server",
    "--account",
    "--password-file",
    "--password-command",
    "--oauth2-token-command",
    "--mailbox",
    "--prefix",
    "--journal",
    "--no-journal",
    "--trace",
    "--failed-out",
];

/// `batch`'s own options: given after an upload option they would be taken
/// for one.
const BATCH_OWN: &[&str] = &[
    "--check",
    "--dry-run",
    "-n",
    "--accounts",
    "--max-connections-per-server",
    "--state",
    "--merge-reports",
    "--ca-file",
    "--json",
    "--json-progress",
    "--quiet",
    "-q",
];

/// The upload options given to every account, checked.
pub(super) struct SharedOptions {
    options: Vec<OsString>,
    /// `--ca-file` of the batch, for rows without a ca_file.
    ca_file: Option<std::path::PathBuf>,
}

impl SharedOptions {
    /// Refuses per-account and misplaced batch options, and anything
    /// `upload` itself would refuse.
    pub fn new(options: Vec<OsString>, ca_file: Option<&Path>) -> anyhow::Result<SharedOptions> {
        for o in &options {
            let o = o.to_string_lossy();
            let name = o.split('=').next().unwrap_or_default();
            if PER_ACCOUNT.contains(&name) {
                anyhow::bail!(
                    "{name} cannot be given to every account: it is a column of the list or set by batch"
                );
            }
            if BATCH_OWN.contains(&name) {
                anyhow::bail!(
                    "{name} is a batch option: put it before the upload options (right after the list)"
                );
            }
        }
        let shared = SharedOptions {
            options,
            ca_file: ca_file.map(Path::to_path_buf),
        };
        // Parsed once with a stand-in account: a mistake shows before any row runs.
        let probe = format!("imaps://probe@{}", "localhost");
        shared
            .parse(&[OsString::from("/")], &probe, None, None, None)
            .map_err(|e| anyhow::anyhow!("upload options: {}", first_line(&e)))?;
        Ok(shared)
    }

    /// How `account`'s sources are read and where their messages go (its
    /// reading and target options, spelled out): part of the evidence
    /// that a completed account is still complete (`accounts/state.rs`).
    pub fn placement(&self, account: &Account) -> String {
        self.upload_args(account)
            .map(|a| format!("{:?}\n{:?}", a.source, a.target))
            .unwrap_or_default()
    }

    /// The `upload` arguments of `account`.
    pub fn upload_args(&self, account: &Account) -> anyhow::Result<UploadArgs> {
        let sources: Vec<OsString> = account.sources.iter().map(OsString::from).collect();
        let ca = account.ca_file.as_deref().or(self.ca_file.as_deref());
        let secret = match &account.secret {
            SecretColumn::File(f) => Some(("--password-file", OsString::from(f))),
            SecretColumn::Command(c) => Some(("--password-command", OsString::from(c))),
            SecretColumn::OAuth2Command(c) => Some(("--oauth2-token-command", OsString::from(c))),
            SecretColumn::Env(_) => None,
        };
        self.parse(
            &sources,
            &account.server,
            secret,
            ca,
            Some((account.prefix.as_deref(), account.mailbox.as_deref())),
        )
        .map_err(|e| anyhow::anyhow!("{}", first_line(&e)))
    }

    fn parse(
        &self,
        sources: &[OsString],
        server: &str,
        secret: Option<(&str, OsString)>,
        ca_file: Option<&Path>,
        target: Option<(Option<&str>, Option<&str>)>,
    ) -> Result<UploadArgs, clap::Error> {
        // `--flag=value`: a row's value that starts with `-` stays a value.
        let pair = |flag: &str, value: &std::ffi::OsStr| {
            let mut o = OsString::from(format!("{flag}="));
            o.push(value);
            o
        };
        let mut argv: Vec<OsString> = vec![
            "mailhaul".into(),
            "upload".into(),
            "--quiet".into(),
            pair("--server", server.as_ref()),
        ];
        if let Some((flag, value)) = secret {
            argv.push(pair(flag, &value));
        }
        if let Some(ca) = ca_file {
            argv.push(pair("--ca-file", ca.as_os_str()));
        }
        let (prefix, mailbox) = target.unwrap_or_default();
        if let Some(p) = prefix {
            argv.push(pair("--prefix", p.as_ref()));
        }
        if let Some(m) = mailbox {
            argv.push(pair("--mailbox", m.as_ref()));
        }
        argv.extend(self.options.iter().cloned());
        argv.push("--".into());
        argv.extend(sources.iter().cloned());
        match Cli::try_parse_from(argv)?.command {
            Command::Upload(args) => Ok(*args),
            _ => unreachable!("the argv names upload"),
        }
    }
}

/// The environment an account's secret is read from: with a password_env
/// column, that variable as the password; otherwise none (the process's
/// MAILHAUL_PASSWORD is not one account's password).
pub(super) fn account_env(account: &Account) -> anyhow::Result<Environment> {
    match &account.secret {
        SecretColumn::Env(name) => {
            let value = std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| anyhow::anyhow!("password_env {name} is not set"))?;
            Ok(Environment {
                password: Some(value),
                oauth2_token: None,
            })
        }
        _ => Ok(Environment::default()),
    }
}

/// A failure of an account's settings in the list's terms: a secret
/// command that failed is named by its column (`password_command`), not
/// by the upload option the row became.
pub(super) fn in_list_terms(f: Failure) -> Failure {
    let Some(failed) = f.error.downcast_ref::<SecretCommandFailed>() else {
        return f;
    };
    let column = failed.option().trim_start_matches("--").replace('-', "_");
    let error = anyhow::anyhow!("the {column} column's command failed: {}", failed.why());
    Failure { error, ..f }
}

/// clap's message without its usage lines.
fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::list;

    fn account(dir: &Path, extra: &str) -> Account {
        std::fs::write(dir.join("a.mbox"), "").unwrap();
        std::fs::write(dir.join("pw"), "x\n").unwrap();
        let text =
            format!("source,server,password_file,prefix\na.mbox,imaps://ann@h:1993,pw,{extra}\n");
        list::parse(&text, dir).unwrap().remove(0)
    }

    #[test]
    fn a_row_and_the_shared_options_make_an_upload() {
        let dir = tempfile::tempdir().unwrap();
        let a = account(dir.path(), "-Old");
        let shared = SharedOptions::new(
            ["--jobs", "3", "--max-rate", "5"]
                .map(OsString::from)
                .to_vec(),
            Some(Path::new("/ca.pem")),
        )
        .unwrap();
        let args = shared.upload_args(&a).unwrap();
        assert_eq!(args.jobs, 3);
        assert_eq!(args.max_rate, Some(5.0));
        assert_eq!(args.target.prefix.as_deref(), Some("-Old"));
        assert_eq!(args.server.ca_file.as_deref(), Some(Path::new("/ca.pem")));
        assert_eq!(args.server.password_file, Some(dir.path().join("pw")));
        assert_eq!(args.source.sources, vec![dir.path().join("a.mbox")]);
    }

    #[test]
    fn per_account_and_unknown_options_are_refused_up_front() {
        for bad in [
            &["--journal", "/x"][..],
            &["--json"],
            &["--jobs", "0"],
            &["--nope"],
            &["--accounts", "3"],
        ] {
            let opts = bad.iter().map(OsString::from).collect();
            let err = SharedOptions::new(opts, None).err().unwrap().to_string();
            assert!(!err.is_empty(), "{bad:?}");
        }
        let opts = vec![OsString::from("--accounts")];
        let err = SharedOptions::new(opts, None).err().unwrap().to_string();
        assert!(err.contains("before the upload options"), "{err}");
    }

    #[test]
    fn password_env_names_a_variable() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = account(dir.path(), "");
        a.secret = SecretColumn::Env("MAILHAUL_TEST_UNSET_VARIABLE".into());
        let err = account_env(&a).err().unwrap().to_string();
        assert_eq!(err, "password_env MAILHAUL_TEST_UNSET_VARIABLE is not set");
        a.secret = SecretColumn::Env("PATH".into());
        assert!(account_env(&a).unwrap().password.is_some());
    }
}
