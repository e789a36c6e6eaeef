//! COMPRESS=DEFLATE (RFC 4978) end to end: mailhaul uploads through a
//! byte-counting TCP forwarder into a private Dovecot that offers
//! COMPRESS=DEFLATE, once with `--no-compress` and once by default. Both
//! uploads must land byte-exact, and the compressed one must put clearly
//! fewer client bytes on the wire. No timing is asserted.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use crate::util::{Dovecot, DovecotOptions, MailhaulCommand};

/// Forwards 127.0.0.1:(returned port) to `target`, counting client→server bytes.
fn counting_forwarder(target: u16) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
            let (c_in, s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = Arc::clone(&c);
            thread::spawn(move || copy(c_in, s_out, Some(&up)));
            thread::spawn(move || copy(server, client, None));
        }
    });
    (port, count)
}

fn copy(mut from: TcpStream, mut to: TcpStream, count: Option<&AtomicU64>) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(c) = count {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[test]
fn compressed_upload_lands_exactly_and_shrinks_the_wire() {
    let dovecot = Dovecot::start_with(DovecotOptions {
        compress: true,
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut want = Vec::new();
    for i in 0..30 {
        let body = format!(
            "Subject: report {i}\nMessage-ID: <c{i}@example.org>\n\n{}",
            "The nightly build passed on every platform; see the log.\n".repeat(80)
        );
        text.push_str(&format!(
            "From x@example.org Mon Jan  6 09:15:00 2020\n{body}\n"
        ));
        want.push(body.replace('\n', "\r\n").into_bytes());
    }
    let mbox = dir.path().join("reports.mbox");
    std::fs::write(&mbox, text).unwrap();
    let (port, sent) = counting_forwarder(dovecot.tls_port());

    let mut wire = Vec::new();
    for (mailbox, extra) in [("Plain", Some("--no-compress")), ("Deflated", None)] {
        let before = sent.load(Ordering::SeqCst);
        let mut cmd = MailhaulCommand::new();
        cmd.arg("upload")
            .arg(&mbox)
            .args(["--mailbox", mailbox])
            .arg("--server")
            .arg(format!("imaps://{}@127.0.0.1:{port}", dovecot.user()))
            .arg("--ca-file")
            .arg(dovecot.ca_file())
            .env("MAILHAUL_PASSWORD", dovecot.password())
            .attach(&dovecot);
        if let Some(flag) = extra {
            cmd.arg(flag);
        }
        cmd.assert_success();
        wire.push(sent.load(Ordering::SeqCst) - before);
        let got = dovecot.reader().unwrap().fetch_all(mailbox).unwrap();
        let bodies: Vec<Vec<u8>> = got.into_iter().map(|f| f.body).collect();
        assert!(bodies == want, "{mailbox}: bodies differ from the source");
    }
    let (plain, deflated) = (wire[0], wire[1]);
    assert!(
        deflated * 3 < plain,
        "client bytes on the wire: {deflated} with COMPRESS vs {plain} without"
    );
}
