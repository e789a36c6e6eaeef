//! System helpers shared by the Cyrus and Courier guards: free ports, random
//! passwords, the self-signed certificate, the mail user's ids, sessions
//! (start in a new session, stop every process of it, wait until all are gone),
//! readiness by greeting, and a tiny syslog catcher for servers that log
//! nowhere else (Cyrus).
//!
//! The Dovecot guard keeps its own copies of a few of these on purpose: it is
//! also changed on other branches, and this file lets the new guards share
//! code without touching it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Where `scripts/install-test-deps` unpacks the Cyrus and Courier server
/// packages: `$MAILHAUL_TEST_SERVERS`, else `/opt/mailhaul-test-servers`.
pub fn servers_dir() -> PathBuf {
    std::env::var_os("MAILHAUL_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/mailhaul-test-servers"))
}

/// A file that must exist (unpacked server binary, support package tool),
/// with the fix in the error.
pub fn require(path: &Path, from: &str) -> Result<PathBuf> {
    if path.exists() {
        Ok(path.to_path_buf())
    } else {
        bail!(
            "{} is missing ({from}); run scripts/install-test-deps",
            path.display()
        )
    }
}

/// Two distinct free ports: bind both on 127.0.0.1:0, then release them.
pub fn free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// 16 hex digits, different on every call.
pub fn random_hex() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

/// The first line the server sends on 127.0.0.1:`port`.
pub fn greet(port: u16) -> std::io::Result<String> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    Ok(line)
}

/// Writes `dir/cert.pem` and `dir/key.pem`: a self-signed certificate for
/// localhost and 127.0.0.1.
pub fn make_certificate(dir: &Path) -> Result<()> {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
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

/// Runs a command, failing with its output unless it succeeds.
pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// uid and gid of a system user.
pub fn user_ids(user: &str) -> Result<(u32, u32)> {
    let uid = run(Command::new("id").args(["-u", user]))
        .with_context(|| format!("system user {user} missing; run scripts/install-test-deps"))?;
    let gid = run(Command::new("id").args(["-g", user]))?;
    Ok((uid.trim().parse()?, gid.trim().parse()?))
}

/// The guards that need root (mount namespaces, `cyrus` user) say so.
pub fn require_root(what: &str) -> Result<()> {
    if run(Command::new("id").arg("-u"))?.trim() != "0" {
        bail!("{what} needs root (private mount namespace, service users)");
    }
    Ok(())
}

pub fn chown_recursive(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("chown {}", path.display()))?;
    if path.is_dir() {
        for e in std::fs::read_dir(path)? {
            chown_recursive(&e?.path(), uid, gid)?;
        }
    }
    Ok(())
}

pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}

/// A command run in a new session (`setsid(1)`, which execs without forking
/// because a child of ours is no group leader): the child's pid is the
/// session id every process it starts keeps, even those that make their own
/// process group (couriertcpd does), so [`stop_session`] finds them all.
pub fn in_new_session(program: &str) -> Command {
    let mut c = Command::new("setsid");
    c.arg(program);
    c
}

/// Live (not zombie) processes of session `sid`.
pub fn session_pids(sid: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the command name: state ppid pgrp session ...
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let f: Vec<&str> = rest.split_whitespace().take(4).collect();
            f.len() == 4 && f[0] != "Z" && f[3] == sid.to_string()
        })
        .collect()
}

fn signal(pids: &[u32], sig: &str) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(sig)
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// Stops every process of the session led by `child` (started with
/// [`in_new_session`]): SIGTERM, wait up to `timeout` for all to exit,
/// SIGKILL what is left. Reaps `child`.
pub fn stop_session(child: &mut Child, timeout: Duration) {
    let sid = child.id();
    signal(&session_pids(sid), "-TERM");
    let deadline = Instant::now() + timeout;
    loop {
        let _ = child.try_wait();
        let left = session_pids(sid);
        if left.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            signal(&left, "-KILL");
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.wait();
}

/// A syslog receiver on a unix datagram socket: every message is appended
/// (one line each) to a log file. Servers that log only through syslog(3)
/// (Cyrus) are run in a mount namespace where `/dev/log` points here.
pub struct SyslogCatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyslogCatcher {
    /// Binds `socket` (mode 0666: the server runs as a service user) and
    /// starts the thread writing to `log`.
    pub fn start(socket: &Path, log: &Path) -> Result<Self> {
        let sock = UnixDatagram::bind(socket)
            .with_context(|| format!("binding the syslog socket {}", socket.display()))?;
        set_mode(socket, 0o666)?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("creating {}", log.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while !flag.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let msg = buf[..n].strip_suffix(b"\n").unwrap_or(&buf[..n]);
                    let _ = out.write_all(msg);
                    let _ = out.write_all(b"\n");
                }
            }
        });
        Ok(SyslogCatcher {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SyslogCatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a file for an error message ("" when missing).
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
