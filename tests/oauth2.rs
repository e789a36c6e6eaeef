//! OAuth2 against a real Dovecot: its oauth2 passdb asks a token-introspection
//! endpoint (RFC 7662) that this file serves on 127.0.0.1, so Dovecot decides
//! which token is valid on every login. The cases: a valid token uploads
//! (OAUTHBEARER, and XOAUTH2 with OAUTHBEARER hidden); a token that expires
//! mid-run is fetched again from `--oauth2-token-command` when the client
//! reconnects, and the run ends with nothing failed (both mechanisms); a failing token command
//! is exit 3. No token ever appears in the output, `-vv` or `--trace`.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::util::cmd::MailhaulCommand;
use crate::util::dovecot::{Dovecot, DovecotOptions};
use crate::util::proxy::{At, Cut, Dir, FaultProxy};

/// The secret part of every token the command prints; never to be seen in
/// any output.
const TOKEN_SECRET: &str = "s3cr3t-9a7d41";

/// The token the command prints on its `n`-th run.
fn token(n: usize) -> String {
    format!("tok{n}-{TOKEN_SECRET}")
}

/// The introspection endpoint: answers `{"active": true, "username": "user"}`
/// while a token has logins left, `{"active": false}` after (expired) or
/// for an unknown token. Records every token it was asked about.
struct Introspection {
    port: u16,
    asked: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Introspection {
    /// `logins`: how many logins each token is good for.
    fn start(user: &str, logins: &[(String, usize)]) -> Introspection {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let left: HashMap<String, usize> = logins.iter().cloned().collect();
        let (asked2, user) = (asked.clone(), user.to_string());
        std::thread::spawn(move || {
            let mut left = left;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Some(token) = posted_token(&stream) else {
                    continue;
                };
                let active = match left.get_mut(&token) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                };
                asked2.lock().unwrap().push((token, active));
                let body = if active {
                    format!(r#"{{"active": true, "username": "{user}"}}"#)
                } else {
                    r#"{"active": false}"#.to_string()
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Introspection { port, asked }
    }

    fn asked(&self) -> Vec<(String, bool)> {
        self.asked.lock().unwrap().clone()
    }
}

/// The `token=` of an `introspection_mode = post` request.
fn posted_token(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8(body).ok()?;
    body.split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(str::to_string)
}

/// A Dovecot with the oauth2 passdb and its endpoint.
fn start(logins: &[(String, usize)]) -> (Dovecot, Introspection) {
    let introspection = Introspection::start("user", logins);
    let dovecot = Dovecot::start_with(DovecotOptions {
        oauth2_introspection: Some(introspection.port),
        ..DovecotOptions::default()
    })
    .unwrap();
    (dovecot, introspection)
}

/// `n` small messages with distinct Message-IDs, as an mbox.
fn write_mbox(dir: &Path, n: usize) -> PathBuf {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "From a@example.org Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: m{i}\nMessage-ID: <m{i}@oauth2.test>\n\nbody {i}\n\n"
        ));
    }
    let path = dir.join("letters.mbox");
    std::fs::write(&path, text).unwrap();
    path
}

/// A token command printing token(1), token(2), … on successive runs,
/// counting its runs in `dir/runs`.
fn token_command(dir: &Path) -> String {
    let script = dir.join("token.sh");
    let runs = dir.join("runs");
    std::fs::write(
        &script,
        format!(
            "n=$(( $(cat '{runs}' 2>/dev/null || echo 0) + 1 ))\necho $n > '{runs}'\nprintf 'tok%s-{TOKEN_SECRET}\\n' $n\n",
            runs = runs.display()
        ),
    )
    .unwrap();
    format!("sh '{}'", script.display())
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(0)
}

/// The Message-IDs in `mailbox`, failing on a doubled one.
fn message_ids(dovecot: &Dovecot, mailbox: &str) -> BTreeSet<String> {
    let mut reader = dovecot.reader().unwrap();
    let mut ids = BTreeSet::new();
    for body in reader.bodies(mailbox).unwrap() {
        let text = String::from_utf8_lossy(&body);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("a Message-ID")
            .to_string();
        assert!(ids.insert(id.clone()), "{id} landed twice");
    }
    ids
}

fn assert_no_token(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN_SECRET),
        "a token appears in {what}:\n{text}"
    );
}

/// `mailhaul upload` through `proxy` (plain text on loopback, so the
/// proxy can cut and rewrite) with the token command.
fn upload(dovecot: &Dovecot, proxy: &FaultProxy, mbox: &Path, command: &str) -> MailhaulCommand {
    let mut c = MailhaulCommand::new();
    c.arg("upload")
        .arg(mbox)
        .arg("--server")
        .arg(format!("imap://user@127.0.0.1:{}", proxy.port()))
        .arg("--allow-plaintext")
        .arg("--oauth2-token-command")
        .arg(command)
        .attach(dovecot);
    c
}

#[test]
fn a_valid_token_uploads_with_oauthbearer_and_xoauth2() {
    let (dovecot, introspection) = start(&[(token(1), 9), (token(2), 9)]);
    let dir = tempfile::tempdir().unwrap();
    let mbox = write_mbox(dir.path(), 5);
    let command = token_command(dir.path());
    let proxy = FaultProxy::start(dovecot.plain_port(), None, true);
    let out = upload(&dovecot, &proxy, &mbox, &command)
        .arg("-vv")
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTHENTICATE OAUTHBEARER"), "{stderr}");
    assert_no_token("stderr with -vv", &stderr);
    assert_no_token("stdout", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(message_ids(&dovecot, "letters").len(), 5);

    // Without AUTH=OAUTHBEARER the client uses XOAUTH2; Dovecot checks it.
    let proxy = FaultProxy::start_hiding(
        dovecot.plain_port(),
        None,
        &["STARTTLS", "AUTH=OAUTHBEARER"],
    );
    let out = upload(&dovecot, &proxy, &mbox, &command)
        .args(["--mailbox", "again", "-vv"])
        .assert_success();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTHENTICATE XOAUTH2"), "{stderr}");
    assert_no_token("stderr with -vv", &stderr);
    assert_eq!(message_ids(&dovecot, "again").len(), 5);
    assert_eq!(
        introspection.asked(),
        vec![(token(1), true), (token(2), true)],
        "one login per run, each asked with its own token"
    );
}

#[test]
fn a_token_expiring_mid_run_is_fetched_again_and_nothing_fails() {
    token_expiring_mid_run(&["STARTTLS"], "OAUTHBEARER");
}

#[test]
fn an_xoauth2_token_expiring_mid_run_is_fetched_again_too() {
    // Dovecot's XOAUTH2 refusal is an error challenge answered with an
    // empty response before the NO: the same refresh follows.
    token_expiring_mid_run(&["STARTTLS", "AUTH=OAUTHBEARER"], "XOAUTH2");
}

/// Token 1 is good for one login: the reconnection after a cut (before the
/// 20th APPEND of 40) finds it expired, as an hour-old Gmail token would
/// be; the proxy hides `hide`, so the client uses `mechanism`.
fn token_expiring_mid_run(hide: &[&str], mechanism: &str) {
    let (dovecot, introspection) = start(&[(token(1), 1), (token(2), 9)]);
    let dir = tempfile::tempdir().unwrap();
    let mbox = write_mbox(dir.path(), 40);
    let command = token_command(dir.path());
    let cut = Cut {
        dir: Dir::ClientToServer,
        at: At::Pattern {
            pattern: b" APPEND ".to_vec(),
            nth: 20,
            delta: 0,
        },
    };
    let proxy = FaultProxy::start_hiding(dovecot.plain_port(), Some(cut), hide);
    let trace = dir.path().join("trace");
    let out = upload(&dovecot, &proxy, &mbox, &command)
        .args(["--no-multiappend", "-vv", "--json", "--trace"])
        .arg(&trace)
        .assert_success();
    assert!(proxy.did_cut(), "the connection was never cut");
    assert_eq!(runs(dir.path()), 2, "the token command ran once per token");
    let asked = introspection.asked();
    assert_eq!(asked.first(), Some(&(token(1), true)), "{asked:?}");
    assert!(asked.contains(&(token(1), false)), "{asked:?}");
    assert_eq!(asked.last(), Some(&(token(2), true)), "{asked:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["failed"], 0, "{report:#}");
    assert_eq!(report["totals"]["uploaded"], 40, "{report:#}");
    assert_eq!(report["failures"], serde_json::json!([]), "{report:#}");
    let want: BTreeSet<String> = (0..40).map(|i| format!("<m{i}@oauth2.test>")).collect();
    assert_eq!(message_ids(&dovecot, "letters"), want);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("asking the token command"), "{stderr}");
    assert_no_token("stderr with -vv", &stderr);
    assert_no_token("the --json report", &String::from_utf8_lossy(&out.stdout));
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.contains(&format!("AUTHENTICATE {mechanism}")),
        "{trace}"
    );
    assert_no_token("the --trace file", &trace);
}

#[test]
fn a_failing_token_command_is_exit_3_without_the_token() {
    let (dovecot, introspection) = start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mbox = write_mbox(dir.path(), 2);
    let proxy = FaultProxy::start(dovecot.plain_port(), None, true);
    // It prints a token and then fails: nothing it printed may be shown.
    let command = format!("echo tok-{TOKEN_SECRET}; exit 7");
    let out = upload(&dovecot, &proxy, &mbox, &command)
        .arg("-vv")
        .assert_exit_code(3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--oauth2-token-command failed"), "{stderr}");
    assert_no_token("stderr", &stderr);
    assert_no_token("stdout", &String::from_utf8_lossy(&out.stdout));
    assert_eq!(proxy.connections(), 0, "no login without a token");
    assert!(introspection.asked().is_empty());
}
