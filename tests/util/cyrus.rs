//! A private Cyrus IMAP 3.6 instance per test: its own temp dir, imapd.conf,
//! cyrus.conf, ports, self-signed certificate, sasldb user with a random
//! password. Started by [`Cyrus::start`], stopped (every process of its session)
//! when the guard is dropped. If Cyrus can't be started the error says why,
//! with its logs, and the test fails: never skip.
//!
//! The imapd binary comes from the cyrus-imapd package unpacked by
//! `scripts/install-test-deps` into `$MAILHAUL_TEST_SERVERS/cyrus` (default
//! `/opt/mailhaul-test-servers`): it conflicts with dovecot-imapd, so only
//! its support packages (cyrus-common: master, ctl_cyrusdb; sasl2-bin:
//! saslpasswd2) are installed. Needs root: master drops to the `cyrus` user.
//!
//! Cyrus logs only through syslog(3), and there is no syslog daemon here. So
//! master runs in a private mount namespace (`unshare --mount`) whose `/dev`
//! is a small private copy (null, zero, full, random, urandom) with `log`
//! pointing at a socket in the temp dir, where a [`SyslogCatcher`] thread
//! writes `cyrus.log`. Errors quote it and `master.log` (master's stderr).
//!
//! The namespace is the default one: personal mailboxes under `INBOX.` with
//! `.` as delimiter (`altnamespace: no`, `unixhierarchysep: no`); INBOX is
//! created at first login (`autocreate_quota: 0`). Mailboxes are stored by
//! name (`mailbox_legacy_dirs: yes`), not by their unique id: Debian's
//! Cyrus 3.6 makes ids with `rand()`, and every imapd freshly forked by
//! master repeats its sequence, so two users' mailboxes created by two
//! fresh processes got one id and one directory: the second's INBOX
//! autocreation emptied the first's, whose APPENDs Cyrus had confirmed
//! with APPENDUID (tests/servers.rs `cyrus_mailboxes_of_two_fresh_processes_are_apart`).
//! The greeting names the
//! instance (`servername` is the temp dir's name), so readiness can't be
//! fooled by another test's server that got the same port.
//!
//! Layout inside the temp dir:
//!
//! ```text
//! imapd.conf  cyrus.conf  start.sh  cert.pem  key.pem  sasldb2
//! conf/       configdirectory (db log msg proc ... owned by cyrus:mail)
//! part/       partition-default (the mail)
//! dev/        /dev inside the namespace; dev/log -> syslog.sock
//! cyrus.log   syslog lines       master.log   master's stdout/stderr
//! ```

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::imap_reader::ImapReader;
use super::sys::{self, SyslogCatcher};

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const MASTER: &str = "/usr/lib/cyrus/bin/master";
const CTL_CYRUSDB: &str = "/usr/lib/cyrus/bin/ctl_cyrusdb";

/// A running private Cyrus; stopped on drop.
pub struct Cyrus {
    // Field order matters for drop: the session is stopped in `Drop`,
    // then the catcher thread, then the directory goes.
    child: Option<Child>,
    _catcher: SyslogCatcher,
    dir: TempDir,
    plain_port: u16,
    tls_port: u16,
    user: String,
    password: String,
}

impl Cyrus {
    /// Start a Cyrus. Retries a few times if a picked port was taken in
    /// between by someone else.
    pub fn start() -> Result<Self> {
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start() {
                Ok(c) => return Ok(c),
                Err(e) if format!("{e:#}").contains("ddress already in use") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn try_start() -> Result<Self> {
        sys::require_root("Cyrus")?;
        let imapd = sys::require(
            &sys::servers_dir().join("cyrus/usr/lib/cyrus/bin/imapd"),
            "cyrus-imapd unpacked",
        )?;
        sys::require(Path::new(MASTER), "package cyrus-common")?;
        let dir = tempfile::Builder::new()
            .prefix("mailhaul-cyrus-")
            .tempdir()
            .context("creating the Cyrus temp dir")?;
        sys::set_mode(dir.path(), 0o755)?; // the cyrus user must reach conf/ and part/
        let root = dir.path().to_path_buf();
        let (plain_port, tls_port) = sys::free_ports()?;
        // Lower case: Cyrus takes the SASL realm from servername, lower-cased.
        let name = instance_name(&root).to_ascii_lowercase();
        let password = sys::random_hex();
        write_files(&root, &imapd, &name, plain_port, tls_port)?;
        add_sasl_user(&root, &name, "user", &password)?;
        let (uid, gid) = sys::user_ids("cyrus")?;
        for f in ["conf", "part", "sasldb2", "key.pem"] {
            sys::chown_recursive(&root.join(f), uid, gid)?;
        }
        let catcher = SyslogCatcher::start(&root.join("syslog.sock"), &root.join("cyrus.log"))?;
        let log = std::fs::File::create(root.join("master.log"))?;
        let child = sys::in_new_session("unshare")
            .args(["--mount", "--propagation", "private", "--", "/bin/sh"])
            .arg(root.join("start.sh"))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("running unshare (util-linux)")?;
        let mut c = Cyrus {
            child: Some(child),
            _catcher: catcher,
            dir,
            plain_port,
            tls_port,
            user: "user".into(),
            password,
        };
        c.wait_ready(&name)?;
        Ok(c)
    }

    /// Adds user `user` with `password` to the sasldb (its INBOX is
    /// created at its first login).
    pub fn add_user(&self, user: &str, password: &str) -> Result<()> {
        let root = self.dir.path();
        add_sasl_user(
            root,
            &instance_name(root).to_ascii_lowercase(),
            user,
            password,
        )
    }

    /// Poll until the plain port greets with this instance's name, or fail
    /// with the logs.
    fn wait_ready(&mut self, name: &str) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last_err = String::from("no attempt");
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                last_err = format!("master exited ({status})");
                break;
            }
            match sys::greet(self.plain_port) {
                Ok(line) if line.starts_with("* OK") && line.contains(name) => {
                    TcpStream::connect(("127.0.0.1", self.tls_port))
                        .with_context(|| format!("TLS port {} not open", self.tls_port))?;
                    return Ok(());
                }
                Ok(line) => last_err = format!("unexpected greeting {line:?}"),
                Err(e) => last_err = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let root = self.dir.path();
        bail!(
            "Cyrus did not become ready on 127.0.0.1:{} ({last_err})\n--- imapd.conf ---\n{}\n--- cyrus.conf ---\n{}\n{}",
            self.plain_port,
            sys::read_lossy(&root.join("imapd.conf")),
            sys::read_lossy(&root.join("cyrus.conf")),
            self.log()
        )
    }

    /// The session of every process of this instance.
    pub fn sid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }
    pub fn plain_port(&self) -> u16 {
        self.plain_port
    }
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn password(&self) -> &str {
        &self.password
    }
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// master's own output, then the syslog lines.
    pub fn log_paths(&self) -> Vec<PathBuf> {
        vec![
            self.dir.path().join("master.log"),
            self.dir.path().join("cyrus.log"),
        ]
    }
    pub fn log(&self) -> String {
        let mut s = String::new();
        for p in self.log_paths() {
            let _ = writeln!(s, "--- {} ---\n{}", p.display(), sys::read_lossy(&p));
        }
        s
    }
    /// A logged-in independent IMAP reader on the plain port.
    pub fn reader(&self) -> Result<ImapReader> {
        ImapReader::login(self.plain_port, &self.user, &self.password)
            .with_context(|| format!("reader login (Cyrus)\n{}", self.log()))
    }
}

impl Drop for Cyrus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sys::stop_session(&mut child, STOP_TIMEOUT);
        }
    }
}

fn instance_name(root: &Path) -> String {
    root.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_files(root: &Path, imapd: &Path, name: &str, plain: u16, tls: u16) -> Result<()> {
    for sub in [
        "db", "log", "msg", "proc", "ptclient", "quota", "sieve", "socket", "sync", "user", "lock",
    ] {
        std::fs::create_dir_all(root.join("conf").join(sub))?;
    }
    std::fs::create_dir_all(root.join("part"))?;
    std::fs::create_dir_all(root.join("dev"))?;
    sys::make_certificate(root)?;
    let r = root.display();
    let conf = format!(
        "# Private test instance written by tests/util/cyrus.rs\n\
         configdirectory: {r}/conf\n\
         partition-default: {r}/part\n\
         proc_path: {r}/conf/proc\n\
         mboxname_lockpath: {r}/conf/lock\n\
         idlesocket: {r}/conf/socket/idle\n\
         notifysocket: {r}/conf/socket/notify\n\
         lmtpsocket: {r}/conf/socket/lmtp\n\
         sievedir: {r}/conf/sieve\n\
         servername: {name}\n\
         syslog_prefix: cyrus-{name}\n\
         sasl_pwcheck_method: auxprop\n\
         sasl_auxprop_plugin: sasldb\n\
         sasl_sasldb_path: {r}/sasldb2\n\
         sasl_mech_list: PLAIN LOGIN\n\
         allowplaintext: yes\n\
         altnamespace: no\n\
         unixhierarchysep: no\n\
         autocreate_quota: 0\n\
         mailbox_legacy_dirs: yes\n\
         tls_server_cert: {r}/cert.pem\n\
         tls_server_key: {r}/key.pem\n"
    );
    std::fs::write(root.join("imapd.conf"), conf)?;
    let i = imapd.display();
    let cyrus_conf = format!(
        "# Private test instance written by tests/util/cyrus.rs\n\
         START {{\n  recover cmd=\"{CTL_CYRUSDB} -r -C {r}/imapd.conf\"\n}}\n\
         SERVICES {{\n  \
           imap cmd=\"{i} -C {r}/imapd.conf\" listen=\"127.0.0.1:{plain}\" prefork=0\n  \
           imaps cmd=\"{i} -s -C {r}/imapd.conf\" listen=\"127.0.0.1:{tls}\" prefork=0\n\
         }}\n\
         EVENTS {{\n}}\n"
    );
    std::fs::write(root.join("cyrus.conf"), cyrus_conf)?;
    // Inside the namespace: a private /dev whose `log` is our syslog socket.
    let script = format!(
        "# Run by tests/util/cyrus.rs inside `unshare --mount --propagation private`.\n\
         set -e\n\
         for n in null zero full random urandom; do\n  \
           : > {r}/dev/$n\n  \
           mount --bind /dev/$n {r}/dev/$n\n\
         done\n\
         ln -s {r}/syslog.sock {r}/dev/log\n\
         mount --rbind {r}/dev /dev\n\
         exec {MASTER} -C {r}/imapd.conf -M {r}/cyrus.conf -p {r}/master.pid\n"
    );
    std::fs::write(root.join("start.sh"), script)?;
    Ok(())
}

/// `saslpasswd2 -c` of `user` in realm `realm` into `root`/sasldb2.
fn add_sasl_user(root: &Path, realm: &str, user: &str, password: &str) -> Result<()> {
    let mut p = Command::new("saslpasswd2")
        .args(["-p", "-c", "-f"])
        .arg(root.join("sasldb2"))
        .args(["-u", realm, user])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running saslpasswd2 (package sasl2-bin)")?;
    std::io::Write::write_all(p.stdin.as_mut().expect("piped"), password.as_bytes())?;
    let out = p.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "saslpasswd2 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
