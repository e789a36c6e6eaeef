//! [`FaultProxy`]: a TCP proxy on 127.0.0.1 in front of a real server that
//! cuts the first connection at a chosen point, in either direction: after
//! N bytes, or at the n-th occurrence of a byte pattern (plus an offset),
//! e.g. just before the server's n-th `OK [APPENDUID`. Later connections
//! (the client reconnecting) pass untouched. A cut closes both sides at once,
//! as a dropped link or a killed server would.
//!
//! `strip_starttls` hides STARTTLS from the server's capabilities, so that
//! `imap://` with `--allow-plaintext` stays in clear text and patterns can be
//! seen on the wire; [`FaultProxy::start_hiding`] hides others (LITERAL+, to
//! force synchronizing literals and so continuation waits);
//! [`FaultProxy::start_rewriting`] replaces them (an APPENDLIMIT for Dovecot).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Which way the bytes flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ClientToServer,
    ServerToClient,
}

/// Where the cut falls in its direction's byte stream.
#[derive(Clone, Debug)]
pub enum At {
    /// After exactly this many bytes.
    Byte(usize),
    /// At the start of the `nth` (1-based) occurrence of `pattern`, plus `delta`.
    Pattern {
        pattern: Vec<u8>,
        nth: usize,
        delta: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Cut {
    pub dir: Dir,
    pub at: At,
}

pub struct FaultProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    cut_happened: Arc<AtomicBool>,
    /// Bytes forwarded on the first connection, per direction (c2s, s2c).
    pub forwarded: Arc<Mutex<(usize, usize)>>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Proxies 127.0.0.1:`upstream`, cutting the first connection at `cut`.
    pub fn start(upstream: u16, cut: Option<Cut>, strip_starttls: bool) -> FaultProxy {
        let hide: &[&str] = if strip_starttls { &["STARTTLS"] } else { &[] };
        FaultProxy::start_hiding(upstream, cut, hide)
    }

    /// Like [`FaultProxy::start`], hiding these capabilities from the client
    /// (each replaced by as many `X`s, so byte offsets stay the same).
    pub fn start_hiding(upstream: u16, cut: Option<Cut>, hide: &[&str]) -> FaultProxy {
        let xs: Vec<String> = hide.iter().map(|h| "X".repeat(h.len())).collect();
        let rewrites: Vec<(&str, &str)> = hide
            .iter()
            .copied()
            .zip(xs.iter().map(String::as_str))
            .collect();
        FaultProxy::start_rewriting(upstream, cut, &rewrites)
    }

    /// Like [`FaultProxy::start`], replacing each `(from, to)` of the same
    /// length in what the server sends, e.g. a capability by
    /// `APPENDLIMIT=99999`, one Dovecot never advertises.
    pub fn start_rewriting(
        upstream: u16,
        cut: Option<Cut>,
        rewrites: &[(&str, &str)],
    ) -> FaultProxy {
        let hide: Vec<(Vec<u8>, Vec<u8>)> = rewrites
            .iter()
            .map(|(from, to)| {
                assert_eq!(
                    from.len(),
                    to.len(),
                    "{from:?} → {to:?}: not the same length"
                );
                (from.as_bytes().to_vec(), to.as_bytes().to_vec())
            })
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let cut_happened = Arc::new(AtomicBool::new(false));
        let forwarded = Arc::new(Mutex::new((0, 0)));
        let (s, c, h, f) = (
            stop.clone(),
            connections.clone(),
            cut_happened.clone(),
            forwarded.clone(),
        );
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let n = c.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let cut = if n == 0 { cut.clone() } else { None };
                let first = n == 0;
                for dir in [Dir::ClientToServer, Dir::ServerToClient] {
                    let (from, to) = match dir {
                        Dir::ClientToServer => (client.try_clone(), server.try_clone()),
                        Dir::ServerToClient => (server.try_clone(), client.try_clone()),
                    };
                    let (Ok(from), Ok(to)) = (from, to) else {
                        continue;
                    };
                    let others = [client.try_clone().ok(), server.try_clone().ok()];
                    let cut = cut.clone().filter(|c| c.dir == dir);
                    let (h, f) = (h.clone(), f.clone());
                    let hide = if dir == Dir::ServerToClient {
                        hide.clone()
                    } else {
                        Vec::new()
                    };
                    std::thread::spawn(move || {
                        let sent = pump(from, to, cut, &hide, &h);
                        if first {
                            let mut g = f.lock().unwrap();
                            match dir {
                                Dir::ClientToServer => g.0 = sent,
                                Dir::ServerToClient => g.1 = sent,
                            }
                        }
                        for s in others.into_iter().flatten() {
                            let _ = s.shutdown(Shutdown::Both);
                        }
                    });
                }
            }
        });
        FaultProxy {
            port,
            stop,
            connections,
            cut_happened,
            forwarded,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// True once the cut was made.
    pub fn did_cut(&self) -> bool {
        self.cut_happened.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Copies `from` → `to` until EOF or the cut; returns the bytes forwarded.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    cut: Option<Cut>,
    hide: &[(Vec<u8>, Vec<u8>)],
    cut_happened: &AtomicBool,
) -> usize {
    let mut seen: Vec<u8> = Vec::new();
    let mut forwarded = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return forwarded,
            Ok(n) => n,
        };
        let mut chunk = buf[..n].to_vec();
        for (from, to) in hide {
            replace_all(&mut chunk, from, to);
        }
        seen.extend_from_slice(&chunk);
        let limit = cut.as_ref().and_then(|c| cut_position(&c.at, &seen));
        match limit {
            Some(pos) if pos <= seen.len() => {
                let upto = pos.max(forwarded);
                let _ = to.write_all(&seen[forwarded..upto]);
                cut_happened.store(true, Ordering::SeqCst);
                return upto;
            }
            _ => {
                if to.write_all(&chunk).is_err() {
                    return forwarded;
                }
                forwarded += chunk.len();
            }
        }
    }
}

fn cut_position(at: &At, seen: &[u8]) -> Option<usize> {
    match at {
        At::Byte(n) => Some(*n),
        At::Pattern {
            pattern,
            nth,
            delta,
        } => {
            let mut count = 0;
            let mut i = 0;
            while i + pattern.len() <= seen.len() {
                if seen[i..].starts_with(pattern) {
                    count += 1;
                    if count == *nth {
                        return Some(i + delta);
                    }
                }
                i += 1;
            }
            None
        }
    }
}

/// Replaces every `from` in `data` with `to` (of the same length).
pub fn replace_all(data: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= data.len() {
        if &data[i..i + from.len()] == from {
            data[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}
