//! Protocol trace (`--trace FILE`, and `-vv` on stderr): every command line
//! the client sends and every response line the server sends, with the
//! secrets and the mail taken out. Literal contents (message bodies, a LOGIN
//! password sent as a literal) are replaced by their size; LOGIN and
//! AUTHENTICATE lines and the SASL responses that follow them are redacted.
//!
//! The trace sees the bytes as [`super::connection::Connection`] writes and
//! reads them (before compression, after TLS), so it shows what was really
//! sent, in order, with one small parser per direction that knows where
//! literals start and end.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where trace lines go, shared by every connection of a run.
#[derive(Clone)]
pub struct TraceSink {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    started: Instant,
    next_connection: Arc<AtomicU32>,
}

impl fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TraceSink")
    }
}

impl TraceSink {
    pub fn new(out: Box<dyn Write + Send>) -> TraceSink {
        TraceSink {
            out: Arc::new(Mutex::new(out)),
            started: Instant::now(),
            next_connection: Arc::new(AtomicU32::new(1)),
        }
    }

    /// A tracer for the next connection (numbered 1, 2, … in the trace).
    pub fn next_connection(&self) -> Tracer {
        self.connection(self.next_connection.fetch_add(1, Ordering::Relaxed))
    }

    /// A tracer for one connection, its lines marked with `conn`.
    pub fn connection(&self, conn: u32) -> Tracer {
        Tracer {
            sink: self.clone(),
            conn,
            client: LineSplitter::default(),
            server_tag_of_auth: None,
            command: None,
        }
    }

    fn write(&self, conn: u32, dir: &str, line: &str) {
        let at = self.started.elapsed().as_secs_f64();
        if let Ok(mut out) = self.out.lock() {
            // A trace that cannot be written must not stop an upload.
            let _ = writeln!(out, "{at:9.3} #{conn} {dir} {line}");
            let _ = out.flush();
        }
    }
}

/// Splits a byte stream into lines, skipping the literal bytes each line
/// announces (`{n}`, `{n+}`, `~{n}` at its end).
#[derive(Debug, Default)]
struct LineSplitter {
    partial: Vec<u8>,
    skip: u64,
}

/// One line out of a [`LineSplitter`]: its text (without CRLF) and the size
/// of the literal it announces, if any.
struct Line {
    text: Vec<u8>,
    literal: Option<u64>,
}

impl LineSplitter {
    fn feed(&mut self, mut bytes: &[u8], mut each: impl FnMut(Line)) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len() as u64);
                self.skip -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.partial.extend_from_slice(&bytes[..i]);
                    bytes = &bytes[i + 1..];
                    let mut text = std::mem::take(&mut self.partial);
                    if text.last() == Some(&b'\r') {
                        text.pop();
                    }
                    let literal = literal_size(&text);
                    self.skip = literal.unwrap_or(0);
                    each(Line { text, literal });
                }
                None => {
                    self.partial.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
    }
}

/// `n` when `line` ends with a literal announcement `{n}`, `{n+}` or `~{n}`.
fn literal_size(line: &[u8]) -> Option<u64> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The per-connection trace state.
pub struct Tracer {
    sink: TraceSink,
    conn: u32,
    client: LineSplitter,
    /// The tag of an AUTHENTICATE in progress: client lines until its tagged
    /// answer are SASL responses (credentials).
    server_tag_of_auth: Option<String>,
    /// The command whose line continues after a literal, upper-cased.
    command: Option<String>,
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracer(#{})", self.conn)
    }
}

impl Tracer {
    /// Bytes the client wrote.
    pub fn client(&mut self, bytes: &[u8]) {
        let mut lines = Vec::new();
        self.client.feed(bytes, |l| lines.push(l));
        for line in lines {
            let shown = self.redact_client_line(&line);
            self.command = line.literal.and(self.command.take().or_else(|| {
                // The command name, for the line's continuation after its literal.
                command_of(&line.text)
            }));
            self.sink.write(self.conn, "C:", &shown);
        }
    }

    /// One complete response frame the server sent (literals included).
    pub fn server(&mut self, frame: &[u8]) {
        let mut splitter = LineSplitter::default();
        let mut shown = String::new();
        splitter.feed(frame, |l| {
            if !shown.is_empty() {
                shown.push_str(" …");
            }
            shown.push_str(&printable(&l.text));
            if let Some(n) = l.literal {
                shown.push_str(&format!(" <{n} bytes>"));
            }
        });
        if let Some(tag) = &self.server_tag_of_auth
            && frame.starts_with(format!("{tag} ").as_bytes())
        {
            self.server_tag_of_auth = None;
        }
        self.sink.write(self.conn, "S:", &shown);
    }

    fn redact_client_line(&mut self, line: &Line) -> String {
        let literal = line
            .literal
            .map(|n| format!(" <{n} bytes>"))
            .unwrap_or_default();
        if let Some(cmd) = &self.command {
            // The rest of a command after a literal.
            return if is_secret_command(cmd) {
                format!("<redacted>{literal}")
            } else {
                format!("{}{literal}", printable(&line.text))
            };
        }
        if self.server_tag_of_auth.is_some() {
            return "<redacted SASL response>".into();
        }
        let words: Vec<&[u8]> = line.text.splitn(4, |&b| b == b' ').collect();
        match words.as_slice() {
            [tag, cmd, ..] if cmd.eq_ignore_ascii_case(b"AUTHENTICATE") => {
                self.server_tag_of_auth = Some(String::from_utf8_lossy(tag).into_owned());
                let mech = words.get(2).map(|m| printable(m)).unwrap_or_default();
                let ir = if words.len() > 3 { " <redacted>" } else { "" };
                format!("{} AUTHENTICATE {mech}{ir}", printable(tag))
            }
            [tag, cmd, ..] if cmd.eq_ignore_ascii_case(b"LOGIN") => {
                format!("{} LOGIN <redacted>{literal}", printable(tag))
            }
            _ => format!("{}{literal}", printable(&line.text)),
        }
    }
}

fn command_of(line: &[u8]) -> Option<String> {
    let mut words = line.split(|&b| b == b' ');
    let _tag = words.next()?;
    Some(String::from_utf8_lossy(words.next()?).to_ascii_uppercase())
}

fn is_secret_command(cmd: &str) -> bool {
    matches!(cmd, "LOGIN" | "AUTHENTICATE")
}

/// Text for the trace: control characters escaped.
fn printable(b: &[u8]) -> String {
    super::response::sanitize(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink collecting lines in memory.
    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<u8>>>);

    impl Write for Collect {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn trace(client: &[&[u8]], server: &[&[u8]]) -> String {
        let c = Collect::default();
        let sink = TraceSink::new(Box::new(c.clone()));
        let mut t = sink.connection(1);
        for (i, chunk) in client.iter().enumerate() {
            t.client(chunk);
            if let Some(s) = server.get(i) {
                t.server(s);
            }
        }
        let text = String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
        // Drop the timestamps.
        text.lines()
            .map(|l| l.split_once('#').unwrap().1)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn literals_are_sizes_and_bodies_never_appear() {
        let t = trace(
            &[b"A1 APPEND INBOX (\\Seen) {11+}\r\nSecret body {5+}\r\nhello\r\n"],
            &[b"* 3 EXISTS\r\n", b"A1 OK [APPENDUID 7 1:2] done\r\n"],
        );
        assert_eq!(
            t,
            "1 C: A1 APPEND INBOX (\\Seen) {11+} <11 bytes>\n1 C:  {5+} <5 bytes>\n1 C: \n1 S: * 3 EXISTS"
        );
        assert!(!t.contains("Secret") && !t.contains("hello"));
    }

    #[test]
    fn chunks_split_anywhere_give_the_same_trace() {
        let whole: &[u8] = b"A1 APPEND X {4}\r\nbody\r\nA2 NOOP\r\n";
        let want = trace(&[whole], &[]);
        for cut in 0..whole.len() {
            let got = trace(&[&whole[..cut], &whole[cut..]], &[]);
            assert_eq!(got, want, "cut at {cut}");
        }
        assert!(!want.contains("body"));
    }

    #[test]
    fn credentials_are_redacted() {
        let t = trace(
            &[
                b"A1 LOGIN user hunter2\r\n",
                b"A2 LOGIN {4}\r\nuser \"hunter2\"\r\n",
                b"A3 AUTHENTICATE PLAIN AGh1bnRlcjI=\r\n",
                b"A4 AUTHENTICATE XOAUTH2\r\n",
                b"dXNlcj1tZQF0b2tlbg==\r\n",
                b"A5 NOOP\r\n",
            ],
            &[
                b"A1 NO bad\r\n",
                b"A2 NO bad\r\n",
                b"A3 NO bad\r\n",
                b"+ \r\n",
                b"A4 NO token\r\n",
                b"A5 OK\r\n",
            ],
        );
        for secret in ["hunter2", "AGh1bnRlcjI", "dXNlcj1", "user \""] {
            assert!(!t.contains(secret), "{secret} in\n{t}");
        }
        assert!(t.contains("A3 AUTHENTICATE PLAIN <redacted>"), "{t}");
        assert!(t.contains("<redacted SASL response>"), "{t}");
        assert!(t.contains("C: A5 NOOP"), "{t}");
    }

    #[test]
    fn literal_sizes() {
        assert_eq!(literal_size(b"A1 APPEND X {12}"), Some(12));
        assert_eq!(literal_size(b"A1 APPEND X {12+}"), Some(12));
        assert_eq!(literal_size(b"A1 APPEND X ~{3}"), Some(3));
        assert_eq!(literal_size(b"* OK {not}"), None);
        assert_eq!(literal_size(b"* OK"), None);
    }
}
