//! The reader's response parser: [`Value`], [`Untagged`] and [`Response`],
//! and the methods that read them off the connection (tagged and untagged
//! lines, lists, quoted strings and literals, including `~{n}` BINARY ones).

use std::io::{BufRead, Read};

use anyhow::{Context, Result, bail};

use super::ImapReader;

/// A parsed response value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Atom(String),
    /// Quoted string or literal.
    Str(Vec<u8>),
    List(Vec<Value>),
    Nil,
}

impl Value {
    pub(super) fn as_text(&self) -> Option<String> {
        match self {
            Value::Atom(a) => Some(a.clone()),
            Value::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Untagged {
    /// `* N FETCH (...)`
    Fetch(u32, Vec<Value>),
    /// `* LIST (...) delim name` values after LIST.
    List(Vec<Value>),
    /// Anything else, raw text after `* ` (e.g. `CAPABILITY IMAP4rev1 ...`).
    Other(String),
}

/// The result of one command.
#[derive(Debug, Clone)]
pub struct Response {
    pub untagged: Vec<Untagged>,
    /// `OK`, `NO` or `BAD`.
    pub status: String,
    /// Text after the status, with response code: `[LIMIT] Mail size ...`.
    pub text: String,
}

impl Response {
    pub fn is_ok(&self) -> bool {
        self.status == "OK"
    }
    /// `status text`, for messages.
    pub fn line(&self) -> String {
        format!("{} {}", self.status, self.text)
    }
}

impl ImapReader {
    pub(super) fn read_line(&mut self) -> Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            bail!("connection closed by server");
        }
        Ok(line)
    }

    pub(super) fn read_response(&mut self, tag: &str) -> Result<Response> {
        let mut untagged = Vec::new();
        loop {
            let word = self.read_word()?;
            if word == "*" {
                untagged.push(self.read_untagged()?);
            } else if word == tag {
                let rest = String::from_utf8_lossy(&self.read_line()?)
                    .trim_end()
                    .to_string();
                let (status, text) = rest.split_once(' ').unwrap_or((&rest, ""));
                return Ok(Response {
                    untagged,
                    status: status.to_string(),
                    text: text.to_string(),
                });
            } else {
                let rest = self.read_line()?;
                bail!(
                    "unexpected response {word} {}",
                    String::from_utf8_lossy(&rest).trim_end()
                );
            }
        }
    }

    fn read_untagged(&mut self) -> Result<Untagged> {
        let first = self.read_word()?;
        if let Ok(n) = first.parse::<u32>() {
            let second = self.read_word()?;
            if second.eq_ignore_ascii_case("FETCH") {
                let values = self.read_values()?;
                return Ok(Untagged::Fetch(n, values));
            }
            let rest = self.rest_of_line()?;
            return Ok(Untagged::Other(format!("{first} {second}{rest}")));
        }
        if first.eq_ignore_ascii_case("LIST") || first.eq_ignore_ascii_case("LSUB") {
            return Ok(Untagged::List(self.read_values()?));
        }
        let rest = self.rest_of_line()?;
        Ok(Untagged::Other(format!("{first}{rest}")))
    }

    /// A word up to a space or line end; the space is consumed, a line end not.
    fn read_word(&mut self) -> Result<String> {
        let mut w = Vec::new();
        loop {
            match self.peek()? {
                b' ' => {
                    self.reader.consume(1);
                    break;
                }
                b'\r' | b'\n' => break,
                b => {
                    w.push(b);
                    self.reader.consume(1);
                }
            }
        }
        Ok(String::from_utf8_lossy(&w).into_owned())
    }

    /// Rest of the line, with a leading space if there was more text.
    fn rest_of_line(&mut self) -> Result<String> {
        let line = self.read_line()?;
        let t = String::from_utf8_lossy(&line).trim_end().to_string();
        Ok(if t.is_empty() { t } else { format!(" {t}") })
    }

    fn peek(&mut self) -> Result<u8> {
        let buf = loop {
            // A socket read with a timeout is not restarted after a signal
            // (signal(7)); try again.
            match self.reader.fill_buf() {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        match buf.first() {
            Some(b) => Ok(*b),
            None => bail!("connection closed by server"),
        }
    }

    fn next(&mut self) -> Result<u8> {
        let b = self.peek()?;
        self.reader.consume(1);
        Ok(b)
    }

    /// Values until CRLF (consumed).
    fn read_values(&mut self) -> Result<Vec<Value>> {
        let mut values = Vec::new();
        loop {
            match self.peek()? {
                b' ' => self.reader.consume(1),
                b'\r' => self.reader.consume(1),
                b'\n' => {
                    self.reader.consume(1);
                    return Ok(values);
                }
                _ => values.push(self.read_value()?),
            }
        }
    }

    fn read_value(&mut self) -> Result<Value> {
        match self.peek()? {
            b'(' => {
                self.reader.consume(1);
                let mut items = Vec::new();
                loop {
                    match self.peek()? {
                        b' ' => self.reader.consume(1),
                        b')' => {
                            self.reader.consume(1);
                            return Ok(Value::List(items));
                        }
                        b'\r' | b'\n' => bail!("line ended inside a list"),
                        _ => items.push(self.read_value()?),
                    }
                }
            }
            b'"' => {
                self.reader.consume(1);
                let mut s = Vec::new();
                loop {
                    match self.next()? {
                        b'"' => return Ok(Value::Str(s)),
                        b'\\' => s.push(self.next()?),
                        b'\r' | b'\n' => bail!("line ended inside a quoted string"),
                        b => s.push(b),
                    }
                }
            }
            b'{' | b'~' => {
                if self.peek()? == b'~' {
                    self.reader.consume(1);
                }
                let header = self.read_line()?;
                let h = String::from_utf8_lossy(&header);
                let n: usize = h
                    .trim_end()
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .trim_end_matches('+')
                    .parse()
                    .with_context(|| format!("bad literal header {h:?}"))?;
                let mut buf = vec![0; n];
                self.reader.read_exact(&mut buf)?;
                Ok(Value::Str(buf))
            }
            _ => {
                // Atom, possibly with a [section] that may contain spaces
                // and parens (BODY[HEADER.FIELDS (A B)]).
                let mut a = Vec::new();
                let mut depth = 0u32;
                loop {
                    let b = self.peek()?;
                    match b {
                        b'[' => depth += 1,
                        b']' => depth = depth.saturating_sub(1),
                        b' ' | b')' | b'(' if depth == 0 => break,
                        b'\r' | b'\n' => break,
                        _ => {}
                    }
                    a.push(b);
                    self.reader.consume(1);
                }
                let a = String::from_utf8_lossy(&a).into_owned();
                Ok(if a.eq_ignore_ascii_case("NIL") {
                    Value::Nil
                } else {
                    Value::Atom(a)
                })
            }
        }
    }
}
