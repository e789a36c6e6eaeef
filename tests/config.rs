//! The config file and precedence, end to end: an account supplies server,
//! credentials and CA; the environment overrides the file and flags override
//! the environment; `mailhaul config check` names the bad line.

use std::path::Path;

use crate::util::{Dovecot, MailhaulCommand};

fn write_config(cmd: &MailhaulCommand, text: &str) {
    let dir = cmd.home().join(".config").join("mailhaul");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn mbox(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("cfg.mbox");
    std::fs::write(
        &p,
        "From a@b Mon Jan  6 09:15:00 2020\nSubject: via config\n\nbody\n",
    )
    .unwrap();
    p
}

fn account(dovecot: &Dovecot, server: &str, pw_file: &Path) -> String {
    format!(
        "default_account = \"test\"\n\n[accounts.test]\nserver = \"{server}\"\npassword_file = \"{}\"\nca_file = \"{}\"\n",
        pw_file.display(),
        dovecot.ca_file().display()
    )
}

#[test]
fn an_account_supplies_server_password_and_ca() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", dovecot.password())).unwrap();
    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, &account(&dovecot, &dovecot.imaps_url(), &pw));
    cmd.arg("upload").arg(mbox(dir.path())).attach(&dovecot);
    cmd.assert_success();
    assert_eq!(dovecot.reader().unwrap().fetch_all("cfg").unwrap().len(), 1);
}

#[test]
fn flags_beat_environment_beat_config() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong_pw = dir.path().join("wrong");
    std::fs::write(&wrong_pw, "not-it\n").unwrap();
    let good_pw = dir.path().join("good");
    std::fs::write(&good_pw, format!("{}\n", dovecot.password())).unwrap();
    // Nothing listens on port 9 of loopback: the config's server is wrong.
    let dead = format!("imaps://{}@127.0.0.1:9", dovecot.user());
    let source = mbox(dir.path());

    // Environment over config: server and password from the environment.
    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, &account(&dovecot, &dead, &wrong_pw));
    cmd.arg("upload")
        .arg(&source)
        .env("MAILHAUL_SERVER", dovecot.imaps_url())
        .env("MAILHAUL_PASSWORD", dovecot.password())
        .attach(&dovecot);
    cmd.assert_success();

    // Flags over environment: --server and --password-file win.
    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, &account(&dovecot, &dead, &wrong_pw));
    cmd.arg("upload")
        .arg(&source)
        .args(["--mailbox", "second"])
        .arg("--server")
        .arg(dovecot.imaps_url())
        .arg("--password-file")
        .arg(&good_pw)
        .env("MAILHAUL_SERVER", &dead)
        .env("MAILHAUL_PASSWORD", "not-it")
        .attach(&dovecot);
    cmd.assert_success();

    // The config alone (wrong server) fails to connect: exit 3.
    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, &account(&dovecot, &dead, &good_pw));
    cmd.arg("upload").arg(&source).attach(&dovecot);
    cmd.assert_exit_code(3);

    let mut reader = dovecot.reader().unwrap();
    assert_eq!(reader.fetch_all("cfg").unwrap().len(), 1);
    assert_eq!(reader.fetch_all("second").unwrap().len(), 1);
}

#[test]
fn config_check_names_the_bad_line_and_unknown_accounts_are_usage_errors() {
    let mut cmd = MailhaulCommand::new();
    write_config(
        &cmd,
        "[accounts.a]\nserver = \"imaps://me@example.org\"\npasword_file = \"/x\"\n",
    );
    let out = cmd.args(["config", "check"]).assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.toml:3:"), "{stderr}");
    assert!(stderr.contains("pasword_file"), "{stderr}");

    let mut cmd = MailhaulCommand::new();
    write_config(
        &cmd,
        "[accounts.a]\nserver = \"imaps://me@example.org\"\n\n[accounts.b]\nserver = \"http://nope\"\n",
    );
    let out = cmd.args(["config", "check"]).assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[accounts.b] server"), "{stderr}");

    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, "[accounts.a]\nserver = \"imaps://me@example.org\"\n");
    let out = cmd.args(["config", "check"]).assert_success();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (1 account: a)"));

    let mut cmd = MailhaulCommand::new();
    write_config(&cmd, "[accounts.a]\nserver = \"imaps://me@example.org\"\n");
    let out = cmd.args(["check", "--account", "zzz"]).assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no account \"zzz\""), "{stderr}");
}

/// Two secret sources in one layer (the config file's account, or the
/// environment) are refused alike by `config check` and by a run, with the
/// same words; between layers the precedence holds, also for both.
#[test]
fn two_secret_sources_in_one_layer_are_refused_by_config_check_and_upload_alike() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "secret\n").unwrap();
    let source = mbox(dir.path());
    // Nothing is contacted: the run stops before connecting.
    let server = "imaps://me@127.0.0.1:9";
    let account = |secrets: &str| {
        format!("default_account = \"a\"\n\n[accounts.a]\nserver = \"{server}\"\n{secrets}")
    };
    let file_and_command = format!(
        "password_file = \"{}\"\npassword_command = \"echo pw\"\n",
        pw.display()
    );
    let command_and_token = "password_command = \"echo pw\"\noauth2_token_command = \"echo t\"\n";
    /// The environment a case sets.
    type Env = &'static [(&'static str, &'static str)];
    let cases: [(&str, String, Env, &str); 3] = [
        (
            "file and command in one account",
            account(&file_and_command),
            &[],
            "[accounts.a]: password_file and password_command given together",
        ),
        (
            "command and token command in one account",
            account(command_and_token),
            &[],
            "[accounts.a]: password_command and oauth2_token_command given together",
        ),
        (
            "password and token in the environment",
            account(""),
            &[
                ("MAILHAUL_PASSWORD", "pw"),
                ("MAILHAUL_OAUTH2_TOKEN", "token"),
            ],
            "environment: MAILHAUL_PASSWORD and MAILHAUL_OAUTH2_TOKEN given together",
        ),
    ];
    for (case, config, env, expected) in cases {
        let mut check = MailhaulCommand::new();
        write_config(&check, &config);
        check.args(["config", "check"]);
        let mut upload = MailhaulCommand::new();
        write_config(&upload, &config);
        upload.arg("upload").arg(&source);
        for (k, v) in env {
            check.env(k, v);
            upload.env(k, v);
        }
        for (what, cmd) in [("config check", &mut check), ("upload", &mut upload)] {
            let out = cmd.assert_exit_code(2);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(expected), "{case}, {what}: {stderr}");
            assert!(!stderr.contains("connect"), "{case}, {what}: {stderr}");
        }
    }

    // Two flags: clap's group refuses them (there is no flag for config check).
    let out = MailhaulCommand::new()
        .arg("upload")
        .arg(&source)
        .args(["--server", server, "--password-command", "echo pw"])
        .arg("--password-file")
        .arg(&pw)
        .assert_exit_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");

    // One source per layer, in different layers: config check is content
    // (a run takes the environment's, see flags_beat_environment_beat_config).
    let mut check = MailhaulCommand::new();
    write_config(
        &check,
        &account(&format!("password_file = \"{}\"\n", pw.display())),
    );
    check
        .args(["config", "check"])
        .env("MAILHAUL_PASSWORD", "pw")
        .assert_success();
}
