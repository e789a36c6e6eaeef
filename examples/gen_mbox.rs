//! Writes a deterministic mbox of about the requested size (MiB, default
//! 1024) to the given path, for `scripts/bench-scan`: realistic headers,
//! ~70-byte body lines, some `>From ` and blank-line-then-`From` bodies.
//! Usage: `cargo run --release --example gen_mbox -- OUT [MIB]`.

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_mbox OUT [MIB]");
    let mib: u64 = args.next().map_or(1024, |s| s.parse().expect("MIB"));
    let target = mib * 1024 * 1024;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut written = 0u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut n = 0u64;
    let text = b"The quick brown fox jumps over the lazy dog while mailhaul scans mbox ";
    while written < target {
        n += 1;
        let day = 1 + n % 28;
        let mut msg = Vec::with_capacity(8192);
        write!(
            msg,
            "From sender{}@example.com Mon Jan {day:2} 09:{:02}:00 2020\n\
             Return-Path: <sender{}@example.com>\n\
             Received: from mx.example.com by mail.example.org; Mon, {day} Jan 2020 09:{:02}:01 +0000\n\
             From: Sender {} <sender{}@example.com>\nTo: user@example.org\n\
             Subject: message {n}\nDate: Mon, {day} Jan 2020 09:{:02}:00 +0000\n\
             Message-ID: <{n}@example.com>\nStatus: RO\nX-Status: A\n\n",
            n % 97,
            n % 60,
            n % 97,
            n % 60,
            n % 97,
            n % 97,
            n % 60
        )?;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let lines = 20 + seed % 100;
        for i in 0..lines {
            match i % 37 {
                5 => msg.extend_from_slice(b">From the archive, quoted\n"),
                9 => msg.extend_from_slice(b"\n"),
                _ => {
                    msg.extend_from_slice(&text[(i as usize % 7)..]);
                    msg.push(b'\n');
                }
            }
        }
        msg.push(b'\n');
        w.write_all(&msg)?;
        written += msg.len() as u64;
    }
    w.flush()?;
    eprintln!("{n} messages, {written} bytes");
    Ok(())
}
