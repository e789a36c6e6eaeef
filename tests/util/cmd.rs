//! [`MailhaulCommand`]: runs the mailhaul binary in an isolated environment
//! (no `MAILHAUL_*` variables from the caller, HOME in a fresh temp dir) and,
//! when an assertion fails, prints the command, status, stdout, stderr and the
//! server's logs if one is attached (Dovecot, Cyrus or Courier: any
//! [`ImapServer`]).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use super::imap4d::Imap4d;
use super::server::ImapServer;

pub struct MailhaulCommand {
    cmd: Command,
    home: TempDir,
    /// The attached server's log files.
    server_logs: Vec<PathBuf>,
}

impl Default for MailhaulCommand {
    fn default() -> Self {
        Self::new()
    }
}

impl MailhaulCommand {
    /// `mailhaul` with a clean environment: `MAILHAUL_*` removed, HOME set to
    /// a new temp dir (also the working directory).
    pub fn new() -> Self {
        Self::of(Path::new(env!("CARGO_BIN_EXE_mailhaul")))
    }

    /// [`MailhaulCommand::new`] running the binary at `program` (another
    /// build, for a benchmark's "before" figures).
    pub fn of(program: &Path) -> Self {
        let home = tempfile::Builder::new()
            .prefix("mailhaul-home-")
            .tempdir()
            .expect("creating HOME temp dir");
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("MAILHAUL_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("NO_COLOR", "1")
            .current_dir(home.path())
            .stdin(Stdio::null());
        MailhaulCommand {
            cmd,
            home,
            server_logs: Vec::new(),
        }
    }

    /// `mailhaul upload SOURCES... --server imaps://user@127.0.0.1:PORT
    /// --ca-file CERT` with `MAILHAUL_PASSWORD` set, log attached.
    pub fn upload<S: AsRef<OsStr>>(server: &dyn ImapServer, sources: &[S]) -> Self {
        let mut c = Self::new();
        c.arg("upload").args(sources).server(server);
        c
    }

    /// Add `--server`, `--ca-file`, the password env var and attach the log.
    pub fn server(&mut self, server: &dyn ImapServer) -> &mut Self {
        self.arg("--server")
            .arg(server.imaps_url())
            .arg("--ca-file")
            .arg(server.ca_file())
            .env("MAILHAUL_PASSWORD", server.password())
            .attach(server)
    }

    /// Add `--server imap://USER@127.0.0.1:PORT --allow-plaintext` for a
    /// proxy on `port` in front of `server`, the password env var, and
    /// attach the server's log.
    pub fn server_via(&mut self, server: &dyn ImapServer, port: u16) -> &mut Self {
        self.arg("--server")
            .arg(format!("imap://{}@127.0.0.1:{port}", server.user()))
            .arg("--allow-plaintext")
            .env("MAILHAUL_PASSWORD", server.password())
            .attach(server)
    }

    /// Add `--server imap://USER@127.0.0.1:PORT --allow-plaintext` for
    /// `imap4d` (plain only) or a proxy in front of it on `port`, the
    /// password env var, and attach its log.
    pub fn imap4d_via(&mut self, imap4d: &Imap4d, port: u16) -> &mut Self {
        self.arg("--server")
            .arg(format!("imap://{}@127.0.0.1:{port}", imap4d.user()))
            .arg("--allow-plaintext")
            .env("MAILHAUL_PASSWORD", imap4d.password());
        self.server_logs = vec![imap4d.log_path()];
        self
    }

    /// Print this server's logs on failure.
    pub fn attach(&mut self, server: &dyn ImapServer) -> &mut Self {
        self.server_logs = server.log_paths();
        self
    }

    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Self {
        self.cmd.args(args);
        self
    }

    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, k: K, v: V) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }

    /// The HOME (and default working) directory of the command.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Run and return the output, whatever the status.
    pub fn run(&mut self) -> Output {
        self.cmd
            .output()
            .unwrap_or_else(|e| panic!("could not run {:?}: {e}", self.cmd))
    }

    /// Start without waiting (stdout and stderr discarded), e.g. to kill it.
    pub fn spawn(&mut self) -> std::process::Child {
        self.cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {:?}: {e}", self.cmd))
    }

    /// Start without waiting, stdout and stderr captured (`wait_with_output`).
    pub fn spawn_piped(&mut self) -> std::process::Child {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {:?}: {e}", self.cmd))
    }

    /// Run; panic with the full picture unless the exit status is 0.
    pub fn assert_success(&mut self) -> Output {
        self.assert_exit_code(0)
    }

    /// Run; panic with the full picture unless the exit code is `code`.
    pub fn assert_exit_code(&mut self, code: i32) -> Output {
        let out = self.run();
        if out.status.code() != Some(code) {
            panic!("expected exit code {code}\n{}", self.explain(&out));
        }
        out
    }

    /// Run; panic unless it failed (nonzero exit).
    pub fn assert_failure(&mut self) -> Output {
        let out = self.run();
        if out.status.success() {
            panic!("expected failure\n{}", self.explain(&out));
        }
        out
    }

    /// Command, status, stdout, stderr and the server's logs, for a panic message.
    pub fn explain(&self, out: &Output) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "command: {:?}", self.cmd);
        let _ = writeln!(s, "status: {}", out.status);
        let _ = writeln!(
            s,
            "--- stdout ---\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let _ = writeln!(
            s,
            "--- stderr ---\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for log in &self.server_logs {
            let text = std::fs::read_to_string(log)
                .unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()));
            let _ = writeln!(s, "--- {} ---\n{text}", log.display());
        }
        s
    }
}
