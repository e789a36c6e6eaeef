//! A private GNU Mailutils imap4d per test: its own temp dir, config, port
//! and virtual-domain user with a random password, mbox mailboxes in the
//! user's home. Started by [`Imap4d::start`], stopped (its whole session)
//! when the guard is dropped. If it can't be started the error says why,
//! with its log, and the test fails: never skip.
//!
//! imap4d comes from the mailutils-imap4d package unpacked by
//! `scripts/install-test-deps` into `$MAILHAUL_TEST_SERVERS/imap4d`
//! (default `/opt/mailhaul-test-servers`): it provides `imap-server` and so
//! conflicts with dovecot-imapd; only its libraries (libmailutils9,
//! mailutils-common, libgsasl18) are installed.
//!
//! It runs as a daemon in the foreground (a child per session) on
//! 127.0.0.1 with a plain listener only (no TLS: tests connect with
//! `--allow-plaintext`). Users come from the
//! `virtdomain` module: `passwd-dir/example.org` holds a passwd line with a
//! crypt(3) hash, the login is `user@example.org`, checked by `generic`
//! authentication. Its transcript (every command and answer) goes to
//! `imap4d.log`.
//!
//! What makes it a strict server: PERMANENTFLAGS lists the system flags
//! only (no `\*`), an APPEND carrying a keyword is answered `BAD APPEND
//! Unrecognized flag`, and on a fresh account APPEND to INBOX answers
//! TRYCREATE while `CREATE INBOX` answers BAD (SELECT creates it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::imap_reader::ImapReader;
use super::sys;

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const DOMAIN: &str = "example.org";

/// A running private imap4d; stopped on drop.
pub struct Imap4d {
    child: Option<Child>,
    dir: TempDir,
    port: u16,
    user: String,
    password: String,
}

impl Imap4d {
    pub fn start() -> Result<Self> {
        let binary = sys::servers_dir().join("imap4d/usr/sbin/imap4d");
        sys::require(&binary, "mailutils-imap4d unpacked")?;
        let dir = tempfile::Builder::new()
            .prefix("mailhaul-imap4d-")
            .tempdir()
            .context("creating the imap4d temp dir")?;
        let root = dir.path().to_path_buf();
        let (port, _) = sys::free_ports()?;
        let password = sys::random_hex();
        let home = root.join("home/user");
        std::fs::create_dir_all(&home)?;
        std::fs::create_dir_all(root.join("vd"))?;
        let hash = sys::run(Command::new("openssl").args(["passwd", "-6", &password]))
            .context("openssl passwd")?;
        let (uid, gid) = (nix_id("-u")?, nix_id("-g")?);
        std::fs::write(
            root.join("vd").join(DOMAIN),
            format!(
                "user:{}:{uid}:{gid}::{}:/bin/sh\n",
                hash.trim(),
                home.display()
            ),
        )?;
        std::fs::write(
            root.join("imap4d.conf"),
            format!(
                "mode daemon;\nforeground true;\npidfile \"{root}/imap4d.pid\";\n\
                 server 127.0.0.1:{port} {{\n  transcript true;\n  tls-mode false;\n}};\n\
                 tls-mode false;\nlogin-disabled false;\n\
                 auth {{\n  authentication generic;\n  authorization virtdomain;\n}};\n\
                 virtdomain {{\n  passwd-dir \"{root}/vd\";\n}};\n\
                 logging {{\n  syslog false;\n}};\n",
                root = root.display()
            ),
        )?;
        let log = std::fs::File::create(root.join("imap4d.log"))?;
        let child = sys::in_new_session(binary.to_str().context("binary path")?)
            .arg(format!(
                "--config-file={}",
                root.join("imap4d.conf").display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting imap4d")?;
        let mut s = Imap4d {
            child: Some(child),
            dir,
            port,
            user: format!("user@{DOMAIN}"),
            password,
        };
        s.wait_ready()?;
        Ok(s)
    }

    /// Polls until the port greets as imap4d does.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last_err = String::from("no attempt");
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                last_err = format!("imap4d exited ({status})");
                break;
            }
            match sys::greet(self.port) {
                Ok(line) if line.starts_with("* OK IMAP4rev1") => return Ok(()),
                Ok(line) => last_err = format!("unexpected greeting {line:?}"),
                Err(e) => last_err = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        bail!(
            "imap4d did not become ready on 127.0.0.1:{} ({last_err})\n--- imap4d.log ---\n{}",
            self.port,
            self.log()
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn password(&self) -> &str {
        &self.password
    }
    /// The user's home, where its mailboxes are mbox files.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home/user")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("imap4d.log")
    }
    pub fn log(&self) -> String {
        sys::read_lossy(&self.log_path())
    }
    /// A logged-in independent IMAP reader.
    pub fn reader(&self) -> Result<ImapReader> {
        ImapReader::login(self.port, &self.user, &self.password)
            .with_context(|| format!("reader login\n--- imap4d.log ---\n{}", self.log()))
    }
}

impl Drop for Imap4d {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sys::stop_session(&mut child, STOP_TIMEOUT);
        }
    }
}

/// This process's user or group id (`id -u` / `id -g`): the mailboxes
/// are owned by whoever runs the tests.
fn nix_id(flag: &str) -> Result<u32> {
    sys::run(Command::new("id").arg(flag))?
        .trim()
        .parse()
        .context("id")
}
