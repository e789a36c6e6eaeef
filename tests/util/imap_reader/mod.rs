//! A minimal IMAP client for verifying what is on the server, independent of
//! the mailhaul library: plain TCP, LOGIN, synchronizing literals, a small
//! parser for the responses it needs (FETCH, LIST) with proper literals.
//!
//! Mailbox names given to and returned by the reader use `/` as the hierarchy
//! separator and are decoded from modified UTF-7 (`Archive/2019`,
//! `Entwürfe`), whatever the server's delimiter is. They are relative to the
//! personal namespace: on a server whose NAMESPACE puts personal mailboxes
//! under `INBOX.` (Courier, Cyrus by default) the server's `INBOX.Archive.2019`
//! is the reader's `Archive/2019`, and `INBOX` stays `INBOX`. So the same
//! expectations hold on Dovecot, Cyrus and Courier.
//!
//! [`parse`] reads the responses (the types and the literal-aware parser),
//! [`mutf7`] converts mailbox names; this file is the client.

mod mutf7;
mod parse;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset};

pub use mutf7::{decode_mutf7, encode_mutf7};
pub use parse::{Response, Untagged, Value};

/// One message as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Flags as the server sent them, e.g. `\Seen`, `$Forwarded`, except
    /// `\Recent` (session state, not stored by the uploader).
    pub flags: Vec<String>,
    /// INTERNALDATE as sent, e.g. `01-Feb-2020 10:00:00 +0100`; see
    /// [`parse_internal_date`].
    pub internal_date: String,
    /// BODY[] bytes.
    pub body: Vec<u8>,
}

pub struct ImapReader {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_tag: u32,
    delimiter: Option<char>,
    /// The personal namespace prefix (`INBOX.` or empty), from NAMESPACE.
    prefix: String,
}

impl ImapReader {
    /// Connect to 127.0.0.1:`port` and LOGIN.
    pub fn login(port: u16, user: &str, password: &str) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        let mut r = ImapReader {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_tag: 1,
            delimiter: None,
            prefix: String::new(),
        };
        let greeting = r.read_line()?;
        if !greeting.starts_with(b"* OK") {
            bail!("bad greeting {:?}", String::from_utf8_lossy(&greeting));
        }
        r.ok(&format!("LOGIN {} {}", quote(user), quote(password)))?;
        let ns = r.command("NAMESPACE")?;
        if ns.is_ok() {
            r.prefix = ns
                .untagged
                .iter()
                .find_map(|u| match u {
                    Untagged::Other(t) => t.strip_prefix("NAMESPACE ").map(personal_prefix),
                    _ => None,
                })
                .unwrap_or_default();
        }
        Ok(r)
    }

    /// The personal namespace prefix the server reported (`INBOX.` on
    /// Courier and Cyrus, empty on Dovecot).
    pub fn namespace_prefix(&self) -> &str {
        &self.prefix
    }

    /// Send a command (without tag and CRLF) and read its response.
    pub fn command(&mut self, cmd: &str) -> Result<Response> {
        let tag = self.send(cmd)?;
        self.read_response(&tag)
    }

    /// Like [`Self::command`], failing unless the status is OK.
    pub fn ok(&mut self, cmd: &str) -> Result<Response> {
        let r = self.command(cmd)?;
        if !r.is_ok() {
            let shown = if cmd.starts_with("LOGIN") {
                "LOGIN ..."
            } else {
                cmd
            };
            bail!("{shown} -> {}", r.line());
        }
        Ok(r)
    }

    /// The capabilities from `CAPABILITY`.
    pub fn capabilities(&mut self) -> Result<Vec<String>> {
        let r = self.ok("CAPABILITY")?;
        for u in &r.untagged {
            if let Untagged::Other(t) = u
                && let Some(rest) = t.strip_prefix("CAPABILITY ")
            {
                return Ok(rest.split_whitespace().map(str::to_string).collect());
            }
        }
        bail!("no CAPABILITY response")
    }

    /// The server's hierarchy delimiter (from `LIST "" ""`).
    pub fn delimiter(&mut self) -> Result<char> {
        if let Some(d) = self.delimiter {
            return Ok(d);
        }
        let r = self.ok(r#"LIST "" """#)?;
        let d = r
            .untagged
            .iter()
            .find_map(|u| match u {
                Untagged::List(v) => v.get(1).and_then(Value::as_text),
                _ => None,
            })
            .and_then(|s| s.chars().next())
            .unwrap_or('/');
        self.delimiter = Some(d);
        Ok(d)
    }

    /// All mailboxes, decoded, with `/` as separator, sorted.
    pub fn list_mailboxes(&mut self) -> Result<Vec<String>> {
        self.list(false)
    }

    /// [`Self::list_mailboxes`] without the names that cannot be selected
    /// (`\Noselect`: a parent that exists only for its children).
    pub fn selectable_mailboxes(&mut self) -> Result<Vec<String>> {
        self.list(true)
    }

    fn list(&mut self, selectable_only: bool) -> Result<Vec<String>> {
        let delim = self.delimiter()?;
        let r = self.ok(r#"LIST "" "*""#)?;
        let mut names = Vec::new();
        for u in &r.untagged {
            if let Untagged::List(v) = u {
                let noselect = matches!(v.first(), Some(Value::List(flags))
                if flags.iter().any(|f| f.as_text().is_some_and(|t| {
                    t.eq_ignore_ascii_case("\\Noselect") || t.eq_ignore_ascii_case("\\NonExistent")
                })));
                if selectable_only && noselect {
                    continue;
                }
                let raw = v
                    .get(2)
                    .and_then(Value::as_text)
                    .context("LIST without name")?;
                names.push(self.local_name(&raw, delim));
            }
        }
        names.sort();
        Ok(names)
    }

    /// The bytes of every message in `mailbox`, in sequence order.
    pub fn bodies(&mut self, mailbox: &str) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .fetch_all(mailbox)?
            .into_iter()
            .map(|f| f.body)
            .collect())
    }

    /// Every message in `mailbox` (EXAMINE, so \Recent/\Seen are untouched),
    /// in sequence order.
    pub fn fetch_all(&mut self, mailbox: &str) -> Result<Vec<Fetched>> {
        let name = self.server_name(mailbox)?;
        let r = self.ok(&format!("EXAMINE {}", quote(&name)))?;
        let exists = r.untagged.iter().any(|u| match u {
            Untagged::Other(t) => t.ends_with(" EXISTS") && !t.starts_with("0 "),
            _ => false,
        });
        if !exists {
            return Ok(Vec::new());
        }
        let r = self.ok("FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])")?;
        let mut out = Vec::new();
        for u in r.untagged {
            if let Untagged::Fetch(_, items) = u {
                out.push(fetched_from(&items)?);
            }
        }
        Ok(out)
    }

    /// APPEND `bytes` to `mailbox` with no flags and no date.
    pub fn append_raw(&mut self, mailbox: &str, bytes: &[u8]) -> Result<Response> {
        self.append(mailbox, &[], None, bytes)
    }

    /// APPEND with flags (e.g. `\Seen`) and an INTERNALDATE
    /// (`01-Feb-2020 10:00:00 +0100`). Uses a synchronizing literal; if the
    /// server refuses the literal (`NO [LIMIT]`), that response is returned.
    pub fn append(
        &mut self,
        mailbox: &str,
        flags: &[&str],
        date: Option<&str>,
        bytes: &[u8],
    ) -> Result<Response> {
        let name = self.server_name(mailbox)?;
        let mut cmd = format!("APPEND {}", quote(&name));
        if !flags.is_empty() {
            cmd.push_str(&format!(" ({})", flags.join(" ")));
        }
        if let Some(d) = date {
            cmd.push_str(&format!(" \"{d}\""));
        }
        cmd.push_str(&format!(" {{{}}}", bytes.len()));
        let tag = self.send(&cmd)?;
        let line = self.read_line()?;
        if line.starts_with(b"+") {
            self.writer.write_all(bytes)?;
            self.writer.write_all(b"\r\n")?;
            self.writer.flush()?;
            return self.read_response(&tag);
        }
        // Tagged refusal of the literal.
        let text = String::from_utf8_lossy(&line);
        let rest = text
            .strip_prefix(&format!("{tag} "))
            .with_context(|| format!("unexpected line {text:?}"))?
            .trim_end();
        let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
        Ok(Response {
            untagged: Vec::new(),
            status: status.to_string(),
            text: text.to_string(),
        })
    }

    /// LOGOUT (also done, ignoring errors, on drop).
    pub fn logout(mut self) -> Result<()> {
        self.ok("LOGOUT").map(|_| ())
    }

    fn local_name(&self, raw: &str, delim: char) -> String {
        let raw = match raw.strip_prefix(&self.prefix) {
            Some(rest) if !self.prefix.is_empty() && !rest.is_empty() => rest,
            _ => raw,
        };
        let decoded = decode_mutf7(raw);
        if delim == '/' {
            decoded
        } else {
            decoded.replace(delim, "/")
        }
    }

    fn server_name(&mut self, name: &str) -> Result<String> {
        let delim = self.delimiter()?;
        let encoded = encode_mutf7(&name.replace('/', &delim.to_string()));
        if name.eq_ignore_ascii_case("INBOX") {
            return Ok(encoded);
        }
        Ok(format!("{}{encoded}", self.prefix))
    }

    fn send(&mut self, cmd: &str) -> Result<String> {
        let tag = format!("R{}", self.next_tag);
        self.next_tag += 1;
        self.writer
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())?;
        self.writer.flush()?;
        Ok(tag)
    }
}

impl Drop for ImapReader {
    fn drop(&mut self) {
        let _ = self.writer.write_all(b"Z LOGOUT\r\n");
    }
}

fn fetched_from(items: &[Value]) -> Result<Fetched> {
    let Some(Value::List(pairs)) = items.first() else {
        bail!("FETCH without a list: {items:?}");
    };
    let mut flags = None;
    let mut date = None;
    let mut body = None;
    for pair in pairs.chunks(2) {
        let [Value::Atom(key), value] = pair else {
            bail!("odd FETCH item {pair:?}");
        };
        match key.to_ascii_uppercase().as_str() {
            "FLAGS" => {
                let Value::List(f) = value else {
                    bail!("FLAGS not a list")
                };
                flags = Some(
                    f.iter()
                        .filter_map(Value::as_text)
                        .filter(|f| !f.eq_ignore_ascii_case("\\Recent"))
                        .collect(),
                );
            }
            "INTERNALDATE" => date = value.as_text(),
            "BODY[]" => {
                body = match value {
                    Value::Str(b) => Some(b.clone()),
                    Value::Nil => Some(Vec::new()),
                    _ => bail!("BODY[] not a string"),
                }
            }
            _ => {}
        }
    }
    Ok(Fetched {
        flags: flags.context("no FLAGS")?,
        internal_date: date.context("no INTERNALDATE")?,
        body: body.context("no BODY[]")?,
    })
}

/// The first personal namespace's prefix from the text after `NAMESPACE `:
/// `(("INBOX." ".")) NIL NIL` gives `INBOX.`, `NIL ...` or `(("" "/"))` gives "".
fn personal_prefix(text: &str) -> String {
    text.strip_prefix("((\"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(prefix, _)| prefix.to_string())
        .unwrap_or_default()
}

/// Parse an IMAP INTERNALDATE (`01-Feb-2020 10:00:00 +0100`, the day may be
/// space-padded).
pub fn parse_internal_date(s: &str) -> Result<DateTime<FixedOffset>> {
    let t = s.trim();
    DateTime::parse_from_str(t, "%d-%b-%Y %H:%M:%S %z")
        .or_else(|_| DateTime::parse_from_str(&format!("0{t}"), "%d-%b-%Y %H:%M:%S %z"))
        .with_context(|| format!("bad INTERNALDATE {s:?}"))
}

/// Quote as an IMAP quoted string.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}
