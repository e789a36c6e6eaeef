//! [`FakeImap`]: a small scripted IMAP server on 127.0.0.1 for what no real
//! server does on demand (NO in the middle of a MULTIAPPEND, BYE mid-batch,
//! a refused continuation, TOOBIG, OVERQUOTA, garbage). It speaks just
//! enough IMAP for mailhaul (LOGIN/AUTHENTICATE, CAPABILITY, LIST, CREATE,
//! STATUS, SELECT, UID FETCH, APPEND with any literals, LOGOUT), stores
//! appended messages per mailbox, and asks a hook what to do with each APPEND.
//!
//! [`HostilePeer`]: a server that sends whatever a test script writes (huge
//! greetings, floods of untagged data), for the bounds a client must keep
//! against any server, and [`peak_rss_kib`] to measure what they cost.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What the hook sees of an APPEND.
#[derive(Debug, Clone)]
pub struct AppendCtx {
    /// 1-based count of APPEND commands received, over all connections.
    pub nth: usize,
    pub mailbox: String,
    /// The messages' bytes read so far (all of them, except for `on_literal`).
    pub messages: Vec<Vec<u8>>,
}

/// What to do with an APPEND.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Store and answer OK [APPENDUID] (the default).
    Accept,
    /// Answer this tagged status (e.g. `NO [OVERQUOTA] quota`); store nothing.
    Respond(String),
    /// Send `* BYE …` and close; store nothing.
    Bye,
    /// Store, then close without answering.
    StoreThenDrop,
    /// Send these bytes instead of an answer, then close; store nothing.
    Garbage(Vec<u8>),
}

type Hook = dyn Fn(&AppendCtx) -> Fault + Send + Sync;
type LiteralHook = dyn Fn(&AppendCtx, usize) -> Option<String> + Send + Sync;

#[derive(Default)]
pub struct State {
    pub mailboxes: BTreeMap<String, Vec<Vec<u8>>>,
    pub appends: usize,
    pub logins: usize,
    /// Literal headers seen (`{n}`, `{n+}`, `~{n+}` …), in order.
    pub literal_headers: Vec<String>,
}

pub struct FakeImap {
    acceptor: Acceptor,
    pub state: Arc<Mutex<State>>,
}

/// Accepts connections on 127.0.0.1 until dropped, serving each on its own
/// thread.
struct Acceptor {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Acceptor {
    fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Acceptor {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let sp = stop.clone();
        let serve = Arc::new(serve);
        std::thread::spawn(move || {
            for c in l.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(c) = c else { continue };
                let serve = serve.clone();
                std::thread::spawn(move || serve(c));
            }
        });
        Acceptor { port, stop }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Fault {
    /// A hook answering the `n`-th APPEND with `fault` and accepting the rest.
    pub fn on_nth(n: usize, fault: Fault) -> impl Fn(&AppendCtx) -> Fault + Send + Sync + 'static {
        move |c| {
            if c.nth == n {
                fault.clone()
            } else {
                Fault::Accept
            }
        }
    }
}

/// Panics with the process's stderr unless it exited with `code`.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl FakeImap {
    /// `caps`: the capability list (without IMAP4rev1). `hook` decides each
    /// APPEND; `on_literal` may refuse a synchronizing literal (answer the
    /// tagged status instead of `+`).
    pub fn start(
        caps: &str,
        hook: impl Fn(&AppendCtx) -> Fault + Send + Sync + 'static,
        on_literal: impl Fn(&AppendCtx, usize) -> Option<String> + Send + Sync + 'static,
    ) -> FakeImap {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let caps = format!("IMAP4rev1 {caps}");
        let hook: Arc<Hook> = Arc::new(hook);
        let on_literal: Arc<LiteralHook> = Arc::new(on_literal);
        let acceptor = Acceptor::start(move |c| {
            let _ = serve(c, &st, &caps, &*hook, &*on_literal);
        });
        FakeImap { acceptor, state }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port
    }

    /// The messages stored in `mailbox`.
    pub fn messages(&self, mailbox: &str) -> Vec<Vec<u8>> {
        let s = self.state.lock().unwrap();
        s.mailboxes.get(mailbox).cloned().unwrap_or_default()
    }
}

/// `{n}` / `{n+}` / `~{n}` at the end of a line: (n, synchronizing).
fn literal_at_end(line: &str) -> Option<(usize, bool, String)> {
    let body = line.strip_suffix('}')?;
    let open = body.rfind('{')?;
    let inner = &body[open + 1..];
    let (digits, sync) = match inner.strip_suffix('+') {
        Some(d) => (d, false),
        None => (inner, true),
    };
    let start = if open > 0 && &body[open - 1..open] == "~" {
        open - 1
    } else {
        open
    };
    Some((digits.parse().ok()?, sync, line[start..].to_string()))
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').to_string()
}

fn serve(
    c: TcpStream,
    st: &Mutex<State>,
    caps: &str,
    hook: &Hook,
    on_literal: &LiteralHook,
) -> std::io::Result<()> {
    let mut w = c.try_clone()?;
    let mut r = BufReader::new(c);
    write!(w, "* OK [CAPABILITY {caps}] fake ready\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        let mut raw = Vec::new();
        if r.read_until(b'\n', &mut raw)? == 0 {
            return Ok(());
        }
        line.push_str(String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']));
        let (tag, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let tag = tag.to_string();
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with("APPEND ") {
            let after = &rest[7..];
            let (mailbox, _) = after.split_once(' ').unwrap_or((after, ""));
            let mut ctx = AppendCtx {
                nth: 0,
                mailbox: unquote(mailbox),
                messages: Vec::new(),
            };
            {
                let mut s = st.lock().unwrap();
                s.appends += 1;
                ctx.nth = s.appends;
            }
            let mut cur = rest.to_string();
            let mut refused = None;
            while let Some((n, sync, header)) = literal_at_end(&cur) {
                st.lock().unwrap().literal_headers.push(header);
                if sync {
                    if let Some(status) = on_literal(&ctx, n) {
                        refused = Some(status);
                        break;
                    }
                    write!(w, "+ go ahead\r\n")?;
                }
                let mut buf = vec![0; n];
                r.read_exact(&mut buf)?;
                ctx.messages.push(buf);
                let mut more = Vec::new();
                r.read_until(b'\n', &mut more)?;
                cur = String::from_utf8_lossy(&more)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
            }
            if let Some(status) = refused {
                write!(w, "{tag} {status}\r\n")?;
                continue;
            }
            match hook(&ctx) {
                Fault::Accept | Fault::StoreThenDrop => {
                    let fault = hook(&ctx);
                    let mut s = st.lock().unwrap();
                    let mb = s.mailboxes.entry(ctx.mailbox.clone()).or_default();
                    let first = mb.len() + 1;
                    let n = ctx.messages.len();
                    mb.extend(ctx.messages);
                    drop(s);
                    if matches!(fault, Fault::StoreThenDrop) {
                        return Ok(());
                    }
                    let set = if n == 1 {
                        first.to_string()
                    } else {
                        format!("{first}:{}", first + n - 1)
                    };
                    write!(w, "{tag} OK [APPENDUID 1 {set}] done\r\n")?;
                }
                Fault::Respond(status) => write!(w, "{tag} {status}\r\n")?,
                Fault::Bye => {
                    write!(w, "* BYE going away\r\n")?;
                    return Ok(());
                }
                Fault::Garbage(bytes) => {
                    w.write_all(&bytes)?;
                    return Ok(());
                }
            }
            continue;
        }
        let word = upper.split(' ').next().unwrap_or("").to_string();
        match word.as_str() {
            "CAPABILITY" => write!(w, "* CAPABILITY {caps}\r\n{tag} OK done\r\n")?,
            "LOGIN" => {
                st.lock().unwrap().logins += 1;
                write!(w, "{tag} OK logged in\r\n")?
            }
            "AUTHENTICATE" => {
                if !upper.contains("PLAIN ") {
                    write!(w, "+ \r\n")?;
                    let mut skip = Vec::new();
                    r.read_until(b'\n', &mut skip)?;
                }
                st.lock().unwrap().logins += 1;
                write!(w, "{tag} OK logged in\r\n")?
            }
            "LIST" => {
                if rest.ends_with("\"\"") && rest.matches("\"\"").count() == 2 {
                    write!(w, "* LIST (\\Noselect) \"/\" \"\"\r\n")?;
                } else {
                    let names: Vec<String> = st.lock().unwrap().mailboxes.keys().cloned().collect();
                    write!(w, "* LIST () \"/\" INBOX\r\n")?;
                    for n in names.iter().filter(|n| *n != "INBOX") {
                        write!(w, "* LIST () \"/\" \"{n}\"\r\n")?;
                    }
                }
                write!(w, "{tag} OK done\r\n")?
            }
            "CREATE" => {
                let name = unquote(rest[7..].trim());
                st.lock().unwrap().mailboxes.entry(name).or_default();
                write!(w, "{tag} OK created\r\n")?
            }
            "STATUS" | "SELECT" | "EXAMINE" => {
                let arg = rest[word.len() + 1..].trim();
                let name = unquote(arg.split(" (").next().unwrap_or(arg));
                let n = st
                    .lock()
                    .unwrap()
                    .mailboxes
                    .get(&name)
                    .map_or(0, |m| m.len());
                if word == "STATUS" {
                    write!(
                        w,
                        "* STATUS \"{name}\" (MESSAGES {n} UIDNEXT {} UIDVALIDITY 1)\r\n",
                        n + 1
                    )?;
                } else {
                    write!(
                        w,
                        "* {n} EXISTS\r\n* OK [UIDVALIDITY 1] v\r\n* OK [UIDNEXT {}] n\r\n",
                        n + 1
                    )?;
                }
                write!(w, "{tag} OK done\r\n")?
            }
            "UID" => {
                // UID FETCH set (...) on the last selected mailbox: we keep it
                // simple and answer for every mailbox named in the state
                // (tests use one), with every attribute mailhaul asks for
                // (a summary's RFC822.SIZE, a body's BODY[]).
                let set = rest.split_whitespace().nth(2).unwrap_or("1:*").to_string();
                let all: Vec<Vec<u8>> = {
                    let s = st.lock().unwrap();
                    s.mailboxes
                        .values()
                        .find(|m| !m.is_empty())
                        .cloned()
                        .unwrap_or_default()
                };
                for (i, m) in all.iter().enumerate() {
                    if !in_uid_set(&set, i + 1, all.len()) {
                        continue;
                    }
                    write!(
                        w,
                        "* {} FETCH (UID {} RFC822.SIZE {} FLAGS () INTERNALDATE \"01-Jan-2020 00:00:00 +0000\" BODY[] {{{}}}\r\n",
                        i + 1,
                        i + 1,
                        m.len(),
                        m.len()
                    )?;
                    w.write_all(m)?;
                    write!(w, ")\r\n")?;
                }
                write!(w, "{tag} OK done\r\n")?
            }
            "LOGOUT" => {
                write!(w, "* BYE bye\r\n{tag} OK done\r\n")?;
                return Ok(());
            }
            _ => write!(w, "{tag} OK whatever\r\n")?,
        }
    }
}

/// True when `uid` is in the RFC 3501 sequence set `set` (`*` is `max`).
fn in_uid_set(set: &str, uid: usize, max: usize) -> bool {
    let num = |s: &str| if s == "*" { Some(max) } else { s.parse().ok() };
    set.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => match (num(a), num(b)) {
            (Some(a), Some(b)) => (a.min(b)..=a.max(b)).contains(&uid),
            _ => false,
        },
        None => num(part) == Some(uid),
    })
}

/// Writes a hostile greeting (all of it, literals included) to the client.
type Greeting = dyn Fn(&mut TcpStream) -> std::io::Result<()> + Send + Sync;
/// Answers one command line (`tag`, the rest upper-cased) on the client.
type Answer = dyn Fn(&str, &str, &mut TcpStream) -> std::io::Result<()> + Send + Sync;

/// A scripted server that writes what the test says: `greeting` first,
/// then `answer` for each command line the client sends (commands with
/// literals are not understood). Everything is streamed as it is written,
/// so gigabytes cost the test nothing.
pub struct HostilePeer {
    acceptor: Acceptor,
}

impl HostilePeer {
    pub fn start(
        greeting: impl Fn(&mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
        answer: impl Fn(&str, &str, &mut TcpStream) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> HostilePeer {
        let greeting: Box<Greeting> = Box::new(greeting);
        let answer: Box<Answer> = Box::new(answer);
        let acceptor = Acceptor::start(move |c| {
            let _ = play(c, &*greeting, &*answer);
        });
        HostilePeer { acceptor }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port
    }
}

fn play(mut c: TcpStream, greeting: &Greeting, answer: &Answer) -> std::io::Result<()> {
    greeting(&mut c)?;
    let mut r = BufReader::new(c.try_clone()?);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if r.read_until(b'\n', &mut raw)? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\r', '\n']);
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        answer(tag, &rest.to_ascii_uppercase(), &mut c)?;
    }
}

/// Writes `len` bytes of `x` in 1 MiB pieces (a literal's contents).
pub fn write_filler(w: &mut impl Write, len: usize) -> std::io::Result<()> {
    let piece = vec![b'x'; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(piece.len());
        w.write_all(&piece[..n])?;
        left -= n;
    }
    Ok(())
}

/// The peak resident set (`VmHWM`, KiB) of a running process, from /proc.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
