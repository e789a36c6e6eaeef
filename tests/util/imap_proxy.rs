//! [`LookProxy`]: an IMAP-aware TCP proxy on 127.0.0.1 in front of a real
//! server, for "stored, then the answer lost, then the look fails". On the
//! first connection it forwards everything until the server's `nth` tagged
//! `OK [APPENDUID` (the server has stored that APPEND) and cuts both sides
//! just before it. On later connections, while [`LookProxy::refuse_looks`]
//! is set, it answers every STATUS, SELECT and EXAMINE itself with
//! `NO [UNAVAILABLE]`, as a server whose mailbox index is locked would, and
//! forwards everything else. STARTTLS is hidden so that `imap://` with
//! `--allow-plaintext` stays readable; the client's literals are passed
//! through whole, never read as commands.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::proxy::replace_all;

pub struct LookProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// While set, STATUS/SELECT/EXAMINE after the first connection get `NO [UNAVAILABLE]`.
    pub refuse_looks: Arc<AtomicBool>,
    /// Looks refused so far.
    pub refused: Arc<AtomicUsize>,
    cut: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

const APPENDUID: &[u8] = b"OK [APPENDUID";

impl LookProxy {
    /// Proxies 127.0.0.1:`upstream`, cutting the first connection before
    /// the `nth` (1-based) APPENDUID answer.
    pub fn start(upstream: u16, nth: usize) -> LookProxy {
        LookProxy::cutting_before(upstream, nth, APPENDUID)
    }

    /// [`LookProxy::start`], cutting before the `nth` occurrence of `answer`
    /// (e.g. `OK APPEND` for a server without UIDPLUS).
    pub fn cutting_before(upstream: u16, nth: usize, answer: &'static [u8]) -> LookProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let refuse_looks = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (s, r, n, c) = (
            stop.clone(),
            refuse_looks.clone(),
            refused.clone(),
            cut.clone(),
        );
        let s2c = move |k: usize, from: TcpStream, to: &Mutex<TcpStream>| {
            server_to_client(from, to, (k == 0).then_some((nth, answer)), &c);
        };
        let c2s = move |k: usize, from: TcpStream, to: TcpStream, client: &Mutex<TcpStream>| {
            let refuse = (k != 0).then_some(&*r);
            client_to_server(from, to, client, refuse, &n);
        };
        let accept = serve(listener, upstream, s, s2c, c2s);
        LookProxy {
            port,
            stop,
            refuse_looks,
            refused,
            cut,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// True once the first connection was cut.
    pub fn did_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl Drop for LookProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Server → client: STARTTLS hidden; with `cut_at` (n, answer), stops just
/// before the n-th `answer`.
fn server_to_client(
    mut from: TcpStream,
    to: &Mutex<TcpStream>,
    cut_at: Option<(usize, &[u8])>,
    cut: &AtomicBool,
) {
    let (cut_at, answer) = match cut_at {
        Some((n, answer)) => (Some(n), answer),
        None => (None, APPENDUID),
    };
    // The last bytes already forwarded, so a pattern split across reads is seen.
    let mut tail: Vec<u8> = Vec::new();
    let mut found = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = buf[..n].to_vec();
        replace_all(&mut chunk, b"STARTTLS", b"XXXXXXXX");
        let mut window = tail.clone();
        window.extend_from_slice(&chunk);
        for (i, w) in window.windows(answer.len()).enumerate() {
            if w != answer {
                continue;
            }
            found += 1;
            if Some(found) == cut_at {
                let upto = i.saturating_sub(tail.len());
                let _ = to.lock().unwrap().write_all(&chunk[..upto]);
                cut.store(true, Ordering::SeqCst);
                return;
            }
        }
        if to.lock().unwrap().write_all(&chunk).is_err() {
            return;
        }
        let keep = window.len().min(answer.len() - 1);
        tail = window[window.len() - keep..].to_vec();
    }
}

/// Client → server, command by command (literals passed through whole);
/// with `refuse` set, STATUS/SELECT/EXAMINE are answered here.
fn client_to_server(
    from: TcpStream,
    to: TcpStream,
    client: &Mutex<TcpStream>,
    refuse: Option<&AtomicBool>,
    refused: &AtomicUsize,
) {
    forward_commands(from, to, client, |text| {
        let mut words = text.split_ascii_whitespace();
        let tag = words.next().unwrap_or("*").to_string();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let look = matches!(verb.as_str(), "STATUS" | "SELECT" | "EXAMINE");
        if !(look && refuse.is_some_and(|r| r.load(Ordering::SeqCst))) {
            return None;
        }
        refused.fetch_add(1, Ordering::SeqCst);
        Some(format!(
            "{tag} NO [UNAVAILABLE] mailbox index locked (test proxy)\r\n"
        ))
    });
}

/// Accepts on `listener` until `stop` is set; connects each client (the
/// `k`-th, from 0) to 127.0.0.1:`upstream` and runs `s2c(k, server,
/// client)` and `c2s(k, client, server, client)` on a thread each; the
/// client's writing end is shared, so answers made here reach it too. When
/// either direction ends, both sockets are shut down.
pub fn serve<S, C>(
    listener: TcpListener,
    upstream: u16,
    stop: Arc<AtomicBool>,
    s2c: S,
    c2s: C,
) -> JoinHandle<()>
where
    S: Fn(usize, TcpStream, &Mutex<TcpStream>) + Send + Sync + 'static,
    C: Fn(usize, TcpStream, TcpStream, &Mutex<TcpStream>) + Send + Sync + 'static,
{
    let (s2c, c2s) = (Arc::new(s2c), Arc::new(c2s));
    std::thread::spawn(move || {
        for (k, client) in listener.incoming().enumerate() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let to_client = Arc::new(Mutex::new(client.try_clone().unwrap()));
            let ends = [client.try_clone().unwrap(), server.try_clone().unwrap()];
            let close = ends.each_ref().map(|e| e.try_clone().unwrap());
            let (from_server, w, f) = (server.try_clone().unwrap(), to_client.clone(), s2c.clone());
            std::thread::spawn(move || {
                f(k, from_server, &w);
                for e in close {
                    let _ = e.shutdown(Shutdown::Both);
                }
            });
            let f = c2s.clone();
            std::thread::spawn(move || {
                f(k, client, server, &to_client);
                for e in ends {
                    let _ = e.shutdown(Shutdown::Both);
                }
            });
        }
    })
}

/// Copies client → server command by command, literals passed through
/// whole (never read as commands). `answer` sees each command line: when it
/// returns an answer, that goes to the client and the command is not
/// forwarded (a synchronizing literal it announced is then never sent).
pub fn forward_commands(
    mut from: TcpStream,
    mut to: TcpStream,
    client: &Mutex<TcpStream>,
    mut answer: impl FnMut(&str) -> Option<String>,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut literal_left = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        loop {
            if literal_left > 0 {
                let take = literal_left.min(pending.len());
                if take == 0 {
                    break;
                }
                if to.write_all(&pending[..take]).is_err() {
                    return;
                }
                pending.drain(..take);
                literal_left -= take;
                continue;
            }
            let Some(end) = pending.windows(2).position(|w| w == b"\r\n") else {
                break;
            };
            let line: Vec<u8> = pending.drain(..end + 2).collect();
            if let Some(reply) = answer(&String::from_utf8_lossy(&line)) {
                if client.lock().unwrap().write_all(reply.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
            literal_left = literal_length(&line);
            if to.write_all(&line).is_err() {
                return;
            }
        }
    }
}

/// `n` when `line` ends with a literal announcement `{n}` or `{n+}` (or `~{n}`).
fn literal_length(line: &[u8]) -> usize {
    let text = String::from_utf8_lossy(line);
    let t = text.trim_end_matches("\r\n");
    let Some(open) = t.rfind('{') else { return 0 };
    if !t.ends_with('}') {
        return 0;
    }
    t[open + 1..t.len() - 1]
        .trim_end_matches('+')
        .parse()
        .unwrap_or(0)
}
