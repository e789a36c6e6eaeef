//! [`StrictProxy`]: an IMAP-aware TCP proxy on 127.0.0.1 in front of
//! Dovecot that plays a strict server such as GNU imap4d. It hides
//! STARTTLS, LITERAL+ and MULTIAPPEND (so every APPEND waits for `+`, as on
//! imap4d), can drop `\*` from SELECT's PERMANENTFLAGS (no new keywords),
//! and answers itself, with `BAD APPEND Unrecognized flag` as imap4d does,
//! every APPEND whose flag list carries a keyword; the client, waiting for
//! `+`, then sends no literal.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::imap_proxy::{forward_commands, serve};
use super::proxy::replace_all;

pub struct StrictProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// APPENDs refused for a keyword so far.
    pub refused: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

/// What the server sends, rewritten (same lengths: byte offsets kept).
const REWRITES: &[(&[u8], &[u8])] = &[
    (b"STARTTLS", b"XXXXXXXX"),
    (b"LITERAL+", b"XXXXXXXX"),
    (b"MULTIAPPEND", b"XXXXXXXXXXX"),
];
/// Dovecot ends its PERMANENTFLAGS list with `\*`.
const PERMANENT_WILDCARD: (&[u8], &[u8]) = (b" \\*)]", b")]   ");

impl StrictProxy {
    /// Proxies 127.0.0.1:`upstream`; `no_new_keywords` drops `\*` from
    /// PERMANENTFLAGS (otherwise the server says it keeps any keyword and
    /// only the APPEND refusal tells).
    pub fn start(upstream: u16, no_new_keywords: bool) -> StrictProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let (s, n) = (stop.clone(), refused.clone());
        let s2c = move |_: usize, from: TcpStream, to: &Mutex<TcpStream>| {
            server_to_client(from, to, no_new_keywords);
        };
        let c2s = move |_: usize, from: TcpStream, to: TcpStream, client: &Mutex<TcpStream>| {
            client_to_server(from, to, client, &n);
        };
        let accept = serve(listener, upstream, s, s2c, c2s);
        StrictProxy {
            port,
            stop,
            refused,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for StrictProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Server → client, rewritten. (The test's responses are small: a pattern
/// split across two reads is not a concern here.)
fn server_to_client(mut from: TcpStream, to: &Mutex<TcpStream>, no_new_keywords: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = buf[..n].to_vec();
        for (a, b) in REWRITES {
            replace_all(&mut chunk, a, b);
        }
        if no_new_keywords {
            replace_all(&mut chunk, PERMANENT_WILDCARD.0, PERMANENT_WILDCARD.1);
        }
        if to.lock().unwrap().write_all(&chunk).is_err() {
            return;
        }
    }
}

/// True when `line` is an APPEND whose flag list holds a keyword (a flag
/// without `\`).
fn appends_a_keyword(line: &str) -> bool {
    let mut words = line.split_ascii_whitespace();
    let _tag = words.next();
    if !words
        .next()
        .is_some_and(|v| v.eq_ignore_ascii_case("APPEND"))
    {
        return false;
    }
    let (Some(open), Some(close)) = (line.find('('), line.find(')')) else {
        return false;
    };
    line[open + 1..close]
        .split_ascii_whitespace()
        .any(|f| !f.starts_with('\\'))
}

/// Client → server; APPENDs carrying a keyword answered here.
fn client_to_server(
    from: TcpStream,
    to: TcpStream,
    client: &Mutex<TcpStream>,
    refused: &AtomicUsize,
) {
    forward_commands(from, to, client, |text| {
        if !appends_a_keyword(text) {
            return None;
        }
        refused.fetch_add(1, Ordering::SeqCst);
        let tag = text.split_ascii_whitespace().next().unwrap_or("*");
        Some(format!("{tag} BAD APPEND Unrecognized flag\r\n"))
    });
}
