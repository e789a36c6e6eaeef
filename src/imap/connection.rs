//! The byte pipe under a session: TCP (with `TCP_NODELAY`, timeouts) or TLS
//! via native-tls, the STARTTLS upgrade, a buffered framing reader and a
//! write path that sends a command's pieces in one `write_all` + flush.
//!
//! Why one write: a command, its literal and the closing CRLF written as
//! separate small writes stall ~40 ms per message on delayed ACKs (see
//! DESIGN.md). This module knows bytes and frames, not commands: waiting
//! for `+` and matching tags is `session.rs`'s job. After COMPRESS DEFLATE
//! (RFC 4978) the stream is wrapped by [`crate::imap::compress::Deflate`].

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufReader, IoSlice, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use native_tls::{Certificate, HandshakeError, TlsConnector, TlsStream};

use crate::imap::ImapError;
use crate::imap::compress::Deflate;
use crate::imap::frame::{self, FrameLimits, HashedBody, lost};
use crate::imap::response::{self, Response};
use crate::imap::trace::Tracer;

/// A plain or TLS stream, possibly deflated (RFC 4978) on top.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Deflate(Box<Deflate<Stream>>),
}

impl Stream {
    fn is_tls(&self) -> bool {
        match self {
            Stream::Plain(_) => false,
            Stream::Tls(_) => true,
            Stream::Deflate(d) => d.get_ref().is_tls(),
        }
    }

    /// The TCP stream under TLS and deflate.
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
            Stream::Deflate(d) => d.get_ref().tcp(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Deflate(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Deflate(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write_vectored(bufs),
            Stream::Tls(s) => s.write_vectored(bufs),
            Stream::Deflate(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Deflate(s) => s.flush(),
        }
    }
}

/// How to verify the server's certificate.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Extra trusted root (PEM): a private CA or a self-signed certificate.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate and host name.
    pub insecure: bool,
}

/// An open connection: a buffered reader over the stream, writes go through
/// [`Connection::send`].
pub struct Connection {
    reader: BufReader<Stream>,
    frame: Vec<u8>,
    bytes_sent: u64,
    /// Bytes of responses read (after decompression), for the cost of looks.
    bytes_received: u64,
    tracer: Option<Tracer>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.reader.get_ref() {
            Stream::Plain(_) => "plain",
            Stream::Tls(_) => "tls",
            Stream::Deflate(d) if d.get_ref().is_tls() => "tls+deflate",
            Stream::Deflate(_) => "plain+deflate",
        };
        f.debug_struct("Connection")
            .field("stream", &kind)
            .field("bytes_sent", &self.bytes_sent)
            .finish()
    }
}

impl Connection {
    /// Opens TCP to `host:port` (each resolved address in turn, `timeout`
    /// per attempt and for every later read and write), then TLS when `tls`.
    pub fn connect(
        host: &str,
        port: u16,
        tls: Option<&TlsOptions>,
        timeout: Option<Duration>,
    ) -> Result<Connection, ImapError> {
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| ImapError::CannotConnect(format!("cannot resolve {host}: {e}")))?;
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            let r = match timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match r {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                // The address only when the name is not it already.
                Err(e) if addr.to_string() == format!("{host}:{port}") => {
                    last = Some(e.to_string());
                }
                Err(e) => last = Some(format!("{addr}: {e}")),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            ImapError::CannotConnect(format!(
                "cannot connect to {host}:{port}: {}",
                last.unwrap_or_else(|| "no address".into())
            ))
        })?;
        let io = |e: io::Error| ImapError::ConnectionLost(e.to_string());
        tcp.set_nodelay(true).map_err(io)?;
        tcp.set_read_timeout(timeout).map_err(io)?;
        tcp.set_write_timeout(timeout).map_err(io)?;
        let stream = match tls {
            Some(opts) => Stream::Tls(Box::new(handshake(host, tcp, opts)?)),
            None => Stream::Plain(tcp),
        };
        Ok(Connection::from_stream(stream))
    }

    fn from_stream(stream: Stream) -> Connection {
        Connection {
            reader: BufReader::with_capacity(64 * 1024, stream),
            frame: Vec::with_capacity(4096),
            bytes_sent: 0,
            bytes_received: 0,
            tracer: None,
        }
    }

    /// Records this connection's traffic (redacted) from now on.
    pub fn set_tracer(&mut self, tracer: Tracer) {
        self.tracer = Some(tracer);
    }

    /// Upgrades a plain connection after the server's OK to STARTTLS.
    pub fn starttls(self, host: &str, opts: &TlsOptions) -> Result<Connection, ImapError> {
        // RFC 3501 §6.2.1 / RFC 2595 §3.1: anything the server sent after its
        // OK and before the handshake would be a plaintext injection.
        if !self.reader.buffer().is_empty() {
            return Err(ImapError::ServerGarbage(
                "server sent data after its STARTTLS OK (possible injection)".into(),
            ));
        }
        let bytes_sent = self.bytes_sent;
        let tracer = self.tracer;
        match self.reader.into_inner() {
            Stream::Plain(tcp) => {
                let tls = handshake(host, tcp, opts)?;
                let mut c = Connection::from_stream(Stream::Tls(Box::new(tls)));
                c.bytes_sent = bytes_sent;
                c.tracer = tracer;
                Ok(c)
            }
            _ => Err(ImapError::Tls(
                "STARTTLS on a connection that already has TLS".into(),
            )),
        }
    }

    /// Switches to deflate both ways (RFC 4978), after the server's OK to
    /// COMPRESS. Bytes the reader already buffered are compressed ones.
    /// Called once per connection ([`Session::connect`] asks once).
    ///
    /// [`Session::connect`]: crate::imap::Session::connect
    pub fn compress(self) -> Connection {
        let pending = self.reader.buffer().to_vec();
        let bytes_sent = self.bytes_sent;
        let tracer = self.tracer;
        let stream = Stream::Deflate(Box::new(Deflate::new(self.reader.into_inner(), &pending)));
        let mut c = Connection::from_stream(stream);
        c.bytes_sent = bytes_sent;
        c.tracer = tracer;
        c
    }

    /// Writes `bytes` in one go and flushes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), ImapError> {
        if let Some(t) = &mut self.tracer {
            t.client(bytes);
        }
        let s = self.reader.get_mut();
        s.write_all(bytes).and_then(|()| s.flush()).map_err(lost)?;
        self.bytes_sent += bytes.len() as u64;
        Ok(())
    }

    /// Writes `parts` back to back and flushes: small pieces (command
    /// lines, small literals) are gathered into runs, large literals go
    /// straight from the caller's memory, all in one vectored write on plain
    /// TCP. No copy of the big bytes, no small separate segments (TCP_NODELAY
    /// is on), and few TLS records.
    pub fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), ImapError> {
        if let Some(t) = &mut self.tracer {
            for p in parts {
                t.client(p); // a streaming reader: pieces in order = the whole
            }
        }
        let mut runs: Vec<Vec<u8>> = Vec::new();
        // (is a gathered run, index into runs or parts)
        let mut order: Vec<(bool, usize)> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if p.len() >= GATHER_BELOW {
                order.push((false, i));
            } else {
                match order.last() {
                    Some((true, r)) => runs[*r].extend_from_slice(p),
                    _ => {
                        order.push((true, runs.len()));
                        runs.push(p.to_vec());
                    }
                }
            }
        }
        let segments: Vec<&[u8]> = order
            .iter()
            .map(|&(run, i)| if run { &runs[i][..] } else { parts[i] })
            .collect();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let s = self.reader.get_mut();
        write_all_vectored(s, &segments)
            .and_then(|()| s.flush())
            .map_err(lost)?;
        self.bytes_sent += total as u64;
        Ok(())
    }

    /// Reads and classifies the next complete response.
    pub fn read(&mut self) -> Result<Response, ImapError> {
        self.read_with(&FrameLimits::STANDARD, false)
            .map(|(r, _)| r)
    }

    /// Reads and classifies the next complete response within `limits`;
    /// with `hash_bodies` a `BODY[]` literal is hashed as it streams
    /// instead of kept (see `frame.rs`).
    pub fn read_with(
        &mut self,
        limits: &FrameLimits,
        hash_bodies: bool,
    ) -> Result<(Response, Option<HashedBody>), ImapError> {
        let hashed =
            frame::read_frame_with(&mut self.reader, &mut self.frame, limits, hash_bodies)?;
        self.bytes_received += self.frame.len() as u64 + hashed.as_ref().map_or(0, |h| h.len);
        if let Some(t) = &mut self.tracer {
            t.server(&traced(&self.frame, hashed.as_ref()));
        }
        let r = response::classify(std::mem::take(&mut self.frame))?;
        Ok((r, hashed))
    }

    /// Bounds every later read to `timeout` (the last reads of a
    /// connection whose write failed: what the server said before it
    /// closed, `closing.rs`).
    pub fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), ImapError> {
        self.reader
            .get_ref()
            .tcp()
            .set_read_timeout(Some(timeout))
            .map_err(lost)
    }

    /// Bytes written so far.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }

    /// Bytes of responses read so far on this connection.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }
}

/// The frame as the trace shows it: a hashed body by its size, not `{0}`.
fn traced<'a>(frame: &'a [u8], hashed: Option<&HashedBody>) -> Cow<'a, [u8]> {
    match hashed {
        Some(h) => {
            let mut shown = frame[..h.at].to_vec();
            shown.extend_from_slice(format!("<{} bytes, hashed>", h.len).as_bytes());
            shown.extend_from_slice(&frame[h.at + "{0}".len()..]);
            Cow::Owned(shown)
        }
        None => Cow::Borrowed(frame),
    }
}

/// Pieces smaller than this are gathered before writing (a TLS record).
const GATHER_BELOW: usize = 16 * 1024;

/// `write_all` for several buffers (`Write::write_all_vectored` is unstable).
/// TLS and deflate streams write one buffer per call; they buffer inside.
fn write_all_vectored(w: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match w.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Builds the connector for `opts`: certificates verified unless `insecure`.
pub fn connector(opts: &TlsOptions) -> Result<TlsConnector, ImapError> {
    let mut b = TlsConnector::builder();
    if let Some(path) = &opts.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| ImapError::Tls(format!("reading CA file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            ImapError::Tls(format!(
                "CA file {} is not a PEM certificate: {e}",
                path.display()
            ))
        })?;
        b.add_root_certificate(cert);
    }
    if opts.insecure {
        b.danger_accept_invalid_certs(true);
        b.danger_accept_invalid_hostnames(true);
    }
    b.build()
        .map_err(|e| ImapError::Tls(format!("setting up TLS: {e}")))
}

fn handshake(
    host: &str,
    tcp: TcpStream,
    opts: &TlsOptions,
) -> Result<TlsStream<TcpStream>, ImapError> {
    let c = connector(opts)?;
    match c.connect(host, tcp) {
        Ok(s) => Ok(s),
        Err(HandshakeError::Failure(e)) => {
            Err(ImapError::Tls(describe_tls_error(host, &e.to_string())))
        }
        Err(HandshakeError::WouldBlock(_)) => Err(ImapError::Tls(format!(
            "TLS handshake with {host} timed out"
        ))),
    }
}

/// A readable message for a handshake failure, with the way out when the
/// certificate is the problem.
fn describe_tls_error(host: &str, e: &str) -> String {
    let lower = e.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("verify") || lower.contains("hostname") {
        format!(
            "certificate verify failed for {host}: {e} (use --ca-file PEM to trust a private CA, or --insecure)"
        )
    } else {
        format!("TLS handshake with {host} failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_hashed_body_is_traced_by_its_size() {
        let frame = b"* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\n";
        let h = HashedBody {
            len: 70_000_000,
            fingerprint: crate::fingerprint::Fingerprint::of(b""),
            at: 24,
        };
        assert_eq!(
            traced(frame, Some(&h)).escape_ascii().to_string(),
            "* 1 FETCH (UID 7 BODY[] <70000000 bytes, hashed>\\r\\n)\\r\\n"
        );
        assert_eq!(&*traced(frame, None), frame);
    }

    #[test]
    fn cert_hint() {
        let m = describe_tls_error(
            "h",
            "error:0A000086:SSL routines::certificate verify failed",
        );
        assert!(m.contains("--ca-file") && m.contains("--insecure"), "{m}");
        assert!(!describe_tls_error("h", "unexpected eof").contains("--insecure"));
    }

    #[test]
    fn bad_ca_file() {
        let opts = TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            insecure: false,
        };
        assert!(matches!(connector(&opts), Err(ImapError::Tls(_))));
    }

    #[test]
    fn eof_is_connection_lost() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"* OK hi\r\n").unwrap();
        });
        let mut c =
            Connection::connect("127.0.0.1", port, None, Some(Duration::from_secs(5))).unwrap();
        assert!(matches!(c.read().unwrap(), Response::Status(_)));
        t.join().unwrap();
        assert!(matches!(c.read(), Err(ImapError::ConnectionLost(_))));
    }
}
