//! A private Dovecot 2.3 instance per test: its own temp dir, config, ports,
//! self-signed certificate, user and Maildir. Started by [`Dovecot::start`],
//! stopped when the guard is dropped. If Dovecot can't be started the error
//! says why (and includes the Dovecot log) and the test fails: never skip.
//!
//! Layout inside the temp dir:
//!
//! ```text
//! dovecot.conf  passwd  cert.pem  key.pem  dovecot.log
//! run/          base_dir (master.pid, sockets)
//! state/        state_dir
//! home/user/Maildir   the user's mail (owned by the mail user)
//! rawlog/user/  one `*.in`/`*.out` pair per IMAP session (after login)
//! ```

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::imap_reader::ImapReader;

mod config;
mod rawlog;

pub use rawlog::{parse_rawlog_commands, strip_rawlog_timestamps};

/// The system user that owns the test mail (created by `.ci/run`).
pub const MAIL_USER: &str = "mailhaul-test";

/// The capabilities Dovecot 2.3.19 advertises after login with no plugins.
/// `hide_multiappend` sets `imap_capability` to this list minus MULTIAPPEND
/// (`imap_capability` replaces the whole list, plugin ones included, so
/// COMPRESS=DEFLATE is added back when `compress` is on).
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "IMAP4rev1",
    "SASL-IR",
    "LOGIN-REFERRALS",
    "ID",
    "ENABLE",
    "IDLE",
    "SORT",
    "SORT=DISPLAY",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "THREAD=ORDEREDSUBJECT",
    "MULTIAPPEND",
    "URL-PARTIAL",
    "CATENATE",
    "UNSELECT",
    "CHILDREN",
    "NAMESPACE",
    "UIDPLUS",
    "LIST-EXTENDED",
    "I18NLEVEL=1",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "ESORT",
    "SEARCHRES",
    "WITHIN",
    "CONTEXT=SEARCH",
    "LIST-STATUS",
    "BINARY",
    "MOVE",
    "SNIPPET=FUZZY",
    "PREVIEW=FUZZY",
    "PREVIEW",
    "STATUS=SIZE",
    "SAVEDATE",
    "LITERAL+",
    "NOTIFY",
];

const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What to change from a default Dovecot.
#[derive(Debug, Clone, Default)]
pub struct DovecotOptions {
    /// Don't advertise MULTIAPPEND (Dovecot still accepts it).
    pub hide_multiappend: bool,
    /// Refuse APPENDs bigger than this many bytes with `NO [LIMIT]` (quota
    /// plugin, `quota_max_mail_size`; no APPENDLIMIT is advertised).
    pub max_mail_size: Option<u64>,
    /// Offer COMPRESS=DEFLATE (imap_zlib). Note: the rawlog records the
    /// compressed bytes after COMPRESS, so command counting stops there.
    pub compress: bool,
    /// Give the mailbox with this name the `\Sent` special-use attribute
    /// (created on login), e.g. `Sent Messages`, so tests can check that a
    /// source `Sent Items` folder lands in it.
    pub special_use_sent: Option<&'static str>,
    /// With `special_use_sent`: also give this mailbox `\Trash`.
    pub special_use_trash: Option<&'static str>,
    /// Also authenticate OAUTHBEARER and XOAUTH2, through Dovecot's oauth2
    /// passdb asking the RFC 7662 token-introspection endpoint on
    /// `http://127.0.0.1:PORT/introspect` (POST `token=…`), which the test
    /// serves; PLAIN and LOGIN keep the passwd-file password.
    pub oauth2_introspection: Option<u16>,
    /// `mail_max_userip_connections` (stock Dovecot: 10): past it a
    /// login is refused with `NO [UNAVAILABLE] Maximum number of
    /// connections from user+IP exceeded`.
    pub max_userip_connections: Option<u32>,
}

/// A running private Dovecot; stopped on drop.
pub struct Dovecot {
    dir: TempDir,
    conf: PathBuf,
    plain_port: u16,
    tls_port: u16,
    user: String,
    password: String,
    options: DovecotOptions,
}

impl Dovecot {
    /// Start with default options.
    pub fn start() -> Result<Self> {
        Self::start_with(DovecotOptions::default())
    }

    /// Start with `options`. Retries a few times if a picked port was taken
    /// in between by someone else.
    pub fn start_with(options: DovecotOptions) -> Result<Self> {
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(options.clone()) {
                Ok(d) => return Ok(d),
                Err(e) if format!("{e:#}").contains("Address already in use") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn try_start(options: DovecotOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("mailhaul-dovecot-")
            .tempdir()
            .context("creating the Dovecot temp dir")?;
        set_mode(dir.path(), 0o755)?; // the mail user must reach home/ and rawlog/
        let (plain_port, tls_port) = free_ports()?;
        let d = Dovecot {
            conf: dir.path().join("dovecot.conf"),
            dir,
            plain_port,
            tls_port,
            user: "user".to_string(),
            password: random_hex(),
            options,
        };
        d.write_files()?;
        // Output goes to a file: the daemonized master inherits it, so pipes
        // would never reach EOF.
        let startup_log = d.dir.path().join("startup.log");
        let out_file = std::fs::File::create(&startup_log)?;
        let status = Command::new(dovecot_binary())
            .arg("-c")
            .arg(&d.conf)
            .stdin(Stdio::null())
            .stdout(out_file.try_clone()?)
            .stderr(out_file)
            .status()
            .with_context(|| {
                format!("running {} (is dovecot-imapd installed?)", dovecot_binary())
            })?;
        if !status.success() {
            bail!(
                "dovecot -c {} failed ({status}):\n{}\n--- dovecot log ---\n{}",
                d.conf.display(),
                std::fs::read_to_string(&startup_log).unwrap_or_default(),
                d.log()
            );
        }
        d.wait_ready()?;
        Ok(d)
    }

    fn write_files(&self) -> Result<()> {
        let root = self.dir.path();
        for sub in ["run", "state", "home/user/Maildir", "rawlog/user"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        self.make_certificate()?;
        let (uid, gid) = mail_ids()?;
        for sub in ["home", "rawlog"] {
            chown_recursive(&root.join(sub), uid, gid)?;
        }
        let home = root.join("home/user");
        std::fs::write(
            root.join("passwd"),
            format!(
                "{}:{{PLAIN}}{}::::{}\n",
                self.user,
                self.password,
                home.display()
            ),
        )?;
        std::fs::write(&self.conf, self.config(uid, gid)?)?;
        Ok(())
    }

    fn make_certificate(&self) -> Result<()> {
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(self.dir.path().join("key.pem"))
            .arg("-out")
            .arg(self.ca_file())
            .stdin(Stdio::null())
            .output()
            .context("running openssl (is it installed?)")?;
        if !out.status.success() {
            bail!(
                "openssl req failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Poll until the plain port greets, or fail with the log.
    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last_err = String::from("no attempt");
        while Instant::now() < deadline {
            match greet(self.plain_port) {
                Ok(line) if line.starts_with("* OK") && line.contains(&self.instance()) => {
                    // The TLS listener is opened by the same process; check it's there.
                    TcpStream::connect(("127.0.0.1", self.tls_port))
                        .with_context(|| format!("TLS port {} not open", self.tls_port))?;
                    return Ok(());
                }
                Ok(line) => last_err = format!("unexpected greeting {line:?}"),
                Err(e) => last_err = e.to_string(),
            }
            if self.log().contains("Fatal:") {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        bail!(
            "Dovecot did not become ready on 127.0.0.1:{} ({last_err})\n--- {} ---\n{}\n--- dovecot log ---\n{}",
            self.plain_port,
            self.conf.display(),
            std::fs::read_to_string(&self.conf).unwrap_or_default(),
            self.log()
        )
    }

    /// Adds user `name` with `password` (passwd-file, which Dovecot
    /// rereads when it changes), its own Maildir and rawlog directory.
    pub fn add_user(&self, name: &str, password: &str) -> Result<()> {
        let root = self.dir.path();
        let home = root.join("home").join(name);
        for dir in [home.join("Maildir"), root.join("rawlog").join(name)] {
            std::fs::create_dir_all(&dir)?;
        }
        let (uid, gid) = mail_ids()?;
        chown_recursive(&home, uid, gid)?;
        chown_recursive(&root.join("rawlog").join(name), uid, gid)?;
        let mut passwd = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("passwd"))?;
        std::io::Write::write_all(
            &mut passwd,
            format!("{name}:{{PLAIN}}{password}::::{}\n", home.display()).as_bytes(),
        )?;
        Ok(())
    }

    /// A logged-in reader as user `name`.
    pub fn reader_as(&self, name: &str, password: &str) -> Result<ImapReader> {
        ImapReader::login(self.plain_port, name, password).with_context(|| {
            format!(
                "reader login as {name}\n--- dovecot log ---\n{}",
                self.log()
            )
        })
    }

    /// The instance name (the temp dir's name).
    pub fn instance(&self) -> String {
        self.dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }
    /// Port with STARTTLS (and plaintext LOGIN allowed).
    pub fn plain_port(&self) -> u16 {
        self.plain_port
    }
    /// Port with implicit TLS.
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn password(&self) -> &str {
        &self.password
    }
    /// The self-signed server certificate (PEM), for `--ca-file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
    /// `imaps://user@127.0.0.1:PORT`
    pub fn imaps_url(&self) -> String {
        format!("imaps://{}@127.0.0.1:{}", self.user, self.tls_port)
    }
    /// `imap://user@127.0.0.1:PORT` (STARTTLS)
    pub fn imap_url(&self) -> String {
        format!("imap://{}@127.0.0.1:{}", self.user, self.plain_port)
    }
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    pub fn config_path(&self) -> &Path {
        &self.conf
    }
    /// The user's Maildir on disk (for `doveadm`-free inspection).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("home/user/Maildir")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("dovecot.log")
    }
    /// The Dovecot log so far (empty if unreadable).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A logged-in independent IMAP reader on the plain port.
    pub fn reader(&self) -> Result<ImapReader> {
        ImapReader::login(self.plain_port, &self.user, &self.password)
            .with_context(|| format!("reader login\n--- dovecot log ---\n{}", self.log()))
    }

    /// Every command the clients sent after login, in session order (rawlog
    /// `*.in` files sorted by name, i.e. by session start time). Literals are
    /// skipped exactly by their `{N}`/`{N+}` size, so message bodies are never
    /// mistaken for commands; a command that continues after a literal (e.g.
    /// MULTIAPPEND) is one entry whose text keeps the `{N}` markers but not
    /// the literal bytes: `A3 APPEND INBOX (\Seen) {10} (\Flagged) {3}`.
    /// LOGIN/AUTHENTICATE are not included (the rawlog starts after login),
    /// nor anything after COMPRESS DEFLATE (the rawlog holds deflated bytes).
    pub fn client_commands(&self) -> Vec<String> {
        self.session_commands().into_iter().flatten().collect()
    }

    /// Every byte the clients sent after login, literals included.
    pub fn client_bytes(&self) -> Vec<u8> {
        self.session_inputs().concat()
    }

    /// [`Self::client_commands`] grouped by session (one entry per rawlog
    /// `*.in` file, in session start order).
    pub fn session_commands(&self) -> Vec<Vec<String>> {
        self.session_inputs()
            .iter()
            .map(|raw| parse_rawlog_commands(raw))
            .collect()
    }

    /// What each session's client sent (rawlog `*.in` files sorted by name,
    /// i.e. by session start time), timestamps removed.
    fn session_inputs(&self) -> Vec<Vec<u8>> {
        let dir = self.dir.path().join("rawlog").join(&self.user);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "in"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .map(|raw| strip_rawlog_timestamps(&raw))
            .collect()
    }

    /// How many commands with this verb (case-insensitive, e.g. `"APPEND"`)
    /// were sent; a MULTIAPPEND counts once. Exact, see [`Self::client_commands`].
    pub fn count_commands(&self, verb: &str) -> usize {
        self.client_commands()
            .iter()
            .filter(|c| {
                c.split(' ')
                    .nth(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case(verb))
            })
            .count()
    }

    /// SIGTERM to the master (what `doveadm stop` does, minus its ~1 s
    /// polling), wait for it to exit, SIGKILL after 5 s. Without a pid file,
    /// `doveadm -c CONF stop`.
    fn stop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("run/master.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        let Some(pid) = pid else {
            let _ = Command::new("doveadm")
                .arg("-c")
                .arg(&self.conf)
                .arg("stop")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            return;
        };
        let _ = Command::new("kill").arg(pid.to_string()).status();
        // Wait for the master and its children (log, imap-login, ... whose
        // titles carry the instance name) to be gone; SIGKILL leftovers.
        let name = self
            .dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !wait_gone(&name, STOP_TIMEOUT) {
            for p in instance_pids(&name) {
                let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
            }
            if !wait_gone(&name, Duration::from_secs(1)) {
                eprintln!("dovecot instance {name} did not exit");
            }
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn greet(port: u16) -> std::io::Result<String> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    Ok(line)
}

/// Two distinct free ports: bind both on 127.0.0.1:0, then release them.
fn free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

fn random_hex() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

fn dovecot_binary() -> &'static str {
    if Path::new("/usr/sbin/dovecot").exists() {
        "/usr/sbin/dovecot"
    } else {
        "dovecot"
    }
}

fn id(args: &[&str]) -> Result<String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .context("running id")?;
    if !out.status.success() {
        bail!(
            "id {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn is_root() -> Result<bool> {
    Ok(id(&["-u"])? == "0")
}

fn current_user_name() -> Result<String> {
    id(&["-un"])
}

/// uid/gid that own the mail: `mailhaul-test` when root (it must exist; `.ci/run`
/// creates it), else ourselves.
fn mail_ids() -> Result<(u32, u32)> {
    let (uid, gid) = if is_root()? {
        let uid = id(&["-u", MAIL_USER]).with_context(|| {
            format!("user {MAIL_USER} missing: useradd --system --no-create-home {MAIL_USER}")
        })?;
        (uid, id(&["-g", MAIL_USER])?)
    } else {
        (id(&["-u"])?, id(&["-g"])?)
    };
    Ok((uid.parse()?, gid.parse()?))
}

fn chown_recursive(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("chown {}", path.display()))?;
    if path.is_dir() {
        for e in std::fs::read_dir(path)? {
            chown_recursive(&e?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}

fn wait_gone(name: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !instance_pids(name).is_empty() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Live processes whose command line mentions this instance (temp dir name).
pub fn instance_pids(name: &str) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(name))
                && process_alive(*pid)
        })
        .collect()
}

fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie (state Z) has exited; it only waits to be reaped.
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
