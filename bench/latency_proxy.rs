//! Latency proxy for the benchmark (`bench/bench.py`): listens on 127.0.0.1,
//! forwards every connection to a target port and delays each direction by a
//! fixed one-way delay (RTT/2), preserving byte order. Kernel netem is not
//! available here, so this models a long fat link: unlimited bandwidth, fixed
//! delay. Not part of mailhaul itself (built as a Cargo example).
//!
//! Usage: `latency_proxy TARGET_PORT ONE_WAY_DELAY_MS [FROM=TO ...]` —
//! prints the listening port on stdout, then serves until killed. Each
//! `FROM=TO` (same length) is replaced in what the server sends, to present
//! a provider's capabilities with Dovecot behind: `MULTIAPPEND=XXXXXXXXXXX
//! LITERAL+=XXXXXXXX` is iCloud or Courier (synchronizing literals only),
//! `MULTIAPPEND=XXXXXXXXXXX LITERAL+=LITERAL-` is Gmail (RFC 7888 LITERAL-:
//! non-synchronizing only up to 4096 bytes). The replacement is made per
//! chunk read: capability lines are short and arrive whole on loopback, and
//! an upload receives no message text in which a word could be hit.
//!
//! Per direction, one thread reads as soon as bytes arrive and queues them
//! with a deadline (now + delay); a second thread writes each chunk when its
//! deadline passes. Deadlines are monotone and the queue is FIFO, so order is
//! kept; reading never waits for the delay, so the client's window is never
//! the limit (the proxy buffers what is "on the wire").

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: latency_proxy TARGET_PORT ONE_WAY_DELAY_MS [FROM=TO ...]");
        std::process::exit(2);
    }
    let target: u16 = args[1].parse().expect("TARGET_PORT");
    let delay = Duration::from_micros((args[2].parse::<f64>().expect("delay ms") * 1000.0) as u64);
    let rewrites: Vec<(Vec<u8>, Vec<u8>)> = args[3..]
        .iter()
        .map(|a| {
            let (from, to) = a.split_once('=').expect("FROM=TO");
            assert_eq!(from.len(), to.len(), "{a}: FROM and TO differ in length");
            (from.as_bytes().to_vec(), to.as_bytes().to_vec())
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", listener.local_addr().expect("addr").port());
    std::io::stdout().flush().ok();
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let rewrites = rewrites.clone();
        thread::spawn(move || {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (c2, s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let a = thread::spawn(move || pump(client, server, delay, &[]));
            pump(s2, c2, delay, &rewrites);
            let _ = a.join();
        });
    }
}

/// Copies `src` to `dst`, each chunk delayed by `delay` and rewritten;
/// EOF is delayed too.
fn pump(mut src: TcpStream, mut dst: TcpStream, delay: Duration, rewrites: &[(Vec<u8>, Vec<u8>)]) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = thread::spawn(move || {
        while let Ok((deadline, data)) = rx.recv() {
            let now = Instant::now();
            if deadline > now {
                thread::sleep(deadline - now);
            }
            if data.is_empty() {
                let _ = dst.shutdown(Shutdown::Write);
                return;
            }
            if dst.write_all(&data).is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf).unwrap_or(0);
        let at = Instant::now() + delay;
        let mut chunk = buf[..n].to_vec();
        for (from, to) in rewrites {
            replace_all(&mut chunk, from, to);
        }
        if tx.send((at, chunk)).is_err() || n == 0 {
            break;
        }
    }
    drop(tx);
    let _ = writer.join();
}

/// Replaces every `from` in `data` by `to` (the same length).
fn replace_all(data: &mut [u8], from: &[u8], to: &[u8]) {
    let mut i = 0;
    while i + from.len() <= data.len() {
        if data[i..i + from.len()] == *from {
            data[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}
