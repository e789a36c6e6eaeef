//! A private Courier IMAP 5.0 instance per test: its own temp dir, config,
//! ports, self-signed certificate, userdb user with a random password and
//! Maildir. Started by [`Courier::start`], stopped (every process of its session)
//! when the guard is dropped. If Courier can't be started the error says
//! why, with its log, and the test fails: never skip.
//!
//! imapd and imaplogin come from the courier-imap package unpacked by
//! `scripts/install-test-deps` into `$MAILHAUL_TEST_SERVERS/courier`
//! (default `/opt/mailhaul-test-servers`): it conflicts with dovecot-imapd,
//! so only its support packages (courier-base: couriertcpd, couriertls,
//! maildirmake; courier-authdaemon; courier-authlib-userdb: makeuserdb) are
//! installed. The settings are the package's own defaults (its
//! `etc/courier/imapd` and `imapd-ssl` are sourced), so the capabilities are
//! a stock Courier's: no MULTIAPPEND, no LITERAL+, personal namespace `INBOX.`.
//!
//! authdaemond, makeuserdb and imapd read fixed paths (/etc/courier,
//! /run/courier), so everything runs in a private mount namespace (`unshare
//! --mount --propagation private`, needs root) with `etc/` bind-mounted over
//! /etc/courier and `run/` over /run/courier. Everything the servers print
//! (authdaemond, couriertcpd, imapd's INFO lines) goes to `courier.log`.
//!
//! Layout inside the temp dir:
//!
//! ```text
//! start.sh  cert.pem  key.pem  courier.log
//! etc/      /etc/courier: authdaemonrc, userdb(.dat), imapd.pem, dhparams.pem
//! run/      /run/courier: authdaemon/socket
//! home/user/Maildir   the user's mail (owned by the mail user)
//! ```

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::dovecot::MAIL_USER;
use super::imap_reader::ImapReader;
use super::sys;

const START_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const AUTHDAEMOND: &str = "/usr/lib/courier/courier-authlib/authdaemond";

/// A running private Courier; stopped on drop.
pub struct Courier {
    child: Option<Child>,
    dir: TempDir,
    plain_port: u16,
    tls_port: u16,
    user: String,
    password: String,
}

impl Courier {
    /// Start a Courier. Retries a few times if a picked port was taken in
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
        sys::require_root("Courier")?;
        let pkg = sys::servers_dir().join("courier");
        sys::require(&pkg.join("usr/bin/imapd"), "courier-imap unpacked")?;
        sys::require(Path::new(AUTHDAEMOND), "package courier-authdaemon")?;
        let dir = tempfile::Builder::new()
            .prefix("mailhaul-courier-")
            .tempdir()
            .context("creating the Courier temp dir")?;
        sys::set_mode(dir.path(), 0o755)?; // the mail user must reach home/
        let root = dir.path().to_path_buf();
        let (plain_port, tls_port) = sys::free_ports()?;
        let password = sys::random_hex();
        write_files(&root, &pkg, &password, plain_port, tls_port)?;
        let log = std::fs::File::create(root.join("courier.log"))?;
        let child = sys::in_new_session("unshare")
            .args(["--mount", "--propagation", "private", "--", "/bin/sh"])
            .arg(root.join("start.sh"))
            .env_clear() // like the init script's `env -i`
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("running unshare (util-linux)")?;
        let mut c = Courier {
            child: Some(child),
            dir,
            plain_port,
            tls_port,
            user: "user".into(),
            password,
        };
        c.wait_ready()?;
        Ok(c)
    }

    /// Poll until authdaemond's socket exists, both couriertcpd of this
    /// instance still run (Courier's greeting can't name the instance; a
    /// couriertcpd that lost its port exits) and the plain port greets.
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let socket = self.dir.path().join("run/authdaemon/socket");
        let mut last_err = String::from("no attempt");
        while Instant::now() < deadline {
            let Some(child) = self.child.as_mut() else {
                break;
            };
            if let Ok(Some(status)) = child.try_wait() {
                last_err = format!("start.sh exited ({status})");
                break;
            }
            let sid = child.id();
            if self.log().contains("ddress already in use") {
                last_err = "Address already in use".into();
                break;
            }
            let tcpds = sys::session_pids(sid)
                .into_iter()
                .filter(|p| {
                    std::fs::read(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("couriertcpd"))
                })
                .count();
            if !socket.exists() {
                last_err = format!("no {}", socket.display());
            } else if tcpds < 2 {
                last_err = format!("{tcpds} of 2 couriertcpd running");
            } else {
                match sys::greet(self.plain_port) {
                    Ok(line) if line.starts_with("* OK") && line.contains("Courier-IMAP") => {
                        TcpStream::connect(("127.0.0.1", self.tls_port))
                            .with_context(|| format!("TLS port {} not open", self.tls_port))?;
                        return Ok(());
                    }
                    Ok(line) => last_err = format!("unexpected greeting {line:?}"),
                    Err(e) => last_err = e.to_string(),
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        bail!(
            "Courier did not become ready on 127.0.0.1:{} ({last_err})\n--- start.sh ---\n{}\n--- courier.log ---\n{}",
            self.plain_port,
            sys::read_lossy(&self.dir.path().join("start.sh")),
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
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("home/user/Maildir")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("courier.log")
    }
    pub fn log(&self) -> String {
        sys::read_lossy(&self.log_path())
    }
    /// A logged-in independent IMAP reader on the plain port.
    pub fn reader(&self) -> Result<ImapReader> {
        ImapReader::login(self.plain_port, &self.user, &self.password)
            .with_context(|| format!("reader login\n--- courier.log ---\n{}", self.log()))
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sys::stop_session(&mut child, STOP_TIMEOUT);
        }
    }
}

fn write_files(root: &Path, pkg: &Path, password: &str, plain: u16, tls: u16) -> Result<()> {
    let etc = root.join("etc");
    for sub in ["etc/shared", "run/authdaemon", "home/user"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    sys::make_certificate(root)?;
    // couriertls wants key and certificate in one PEM.
    let mut pem = std::fs::read(root.join("key.pem"))?;
    pem.extend(std::fs::read(root.join("cert.pem"))?);
    std::fs::write(etc.join("imapd.pem"), pem)?;
    sys::set_mode(&etc.join("imapd.pem"), 0o600)?;
    // The RFC 7919 group (instant; generating parameters takes seconds).
    let dh = sys::run(Command::new("certtool").args(["--get-dh-params", "--sec-param", "medium"]))
        .context("certtool (package gnutls-bin)")?;
    let dh = dh
        .find("-----BEGIN DH PARAMETERS-----")
        .map(|i| dh[i..].to_string())
        .context("no DH parameters from certtool")?;
    std::fs::write(etc.join("dhparams.pem"), dh)?;
    std::fs::write(
        etc.join("authdaemonrc"),
        "authmodulelist=\"authuserdb\"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=\"\"\nLOGGEROPTS=\"\"\n",
    )?;
    let maildir = root.join("home/user/Maildir");
    sys::run(Command::new("maildirmake").arg(&maildir)).context("maildirmake (courier-base)")?;
    let (uid, gid) = sys::user_ids(MAIL_USER)?;
    sys::chown_recursive(&root.join("home"), uid, gid)?;
    let crypt = sys::run(Command::new("openssl").args(["passwd", "-1", password]))?;
    std::fs::write(
        etc.join("userdb"),
        format!(
            "user\tuid={uid}|gid={gid}|home={}|mail={}|systempw={}\n",
            root.join("home/user").display(),
            maildir.display(),
            crypt.trim()
        ),
    )?;
    sys::set_mode(&etc.join("userdb"), 0o600)?;
    // couriertls runs as `courier` for STARTTLS: it must read the key.
    let (cuid, cgid) = sys::user_ids("courier")?;
    sys::chown_recursive(&root.join("run"), cuid, cgid)?;
    sys::chown_recursive(&etc.join("imapd.pem"), cuid, cgid)?;
    let r = root.display();
    let p = pkg.display();
    let tcpd = "/usr/sbin/couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=40";
    let login = format!("{p}/usr/lib/courier/courier/imaplogin {p}/usr/bin/imapd Maildir");
    let script = format!(
        "# Run by tests/util/courier.rs inside `unshare --mount --propagation private`.\n\
         set -e\n\
         mkdir -p /etc/courier /run/courier\n\
         mount --bind {r}/etc /etc/courier\n\
         mount --bind {r}/run /run/courier\n\
         makeuserdb\n\
         # The package's default settings, with this instance's files.\n\
         set -a\n\
         . {p}/etc/courier/imapd\n\
         . {p}/etc/courier/imapd-ssl\n\
         TLS_CERTFILE=/etc/courier/imapd.pem\n\
         TLS_DHPARAMS=/etc/courier/dhparams.pem\n\
         set +a\n\
         unset TLS_CACHEFILE\n\
         [ -n \"$TLS_STARTTLS_PROTOCOL\" ] || unset TLS_STARTTLS_PROTOCOL\n\
         {AUTHDAEMOND} &\n\
         IMAP_STARTTLS=YES {tcpd} {plain} {login} &\n\
         IMAP_STARTTLS=NO IMAP_TLS=1 {tcpd} {tls} /usr/bin/couriertls -server -tcpd -user=courier {login} &\n\
         wait\n"
    );
    std::fs::write(root.join("start.sh"), script)?;
    Ok(())
}
