//! Command encoding, in one place: tags, atoms, quoted strings and literals,
//! mailbox names (modified UTF-7), flag lists, date-times, APPEND, and
//! authentication: LOGIN, AUTHENTICATE and the SASL messages it carries
//! (PLAIN, OAUTHBEARER, XOAUTH2).
//!
//! Encoding yields [`Fragment`]s, not one buffer (like imap-codec's
//! `Encoded`): a command is lines and literals, and only the connection
//! decides whether it must wait for a `+` continuation before a literal
//! (`Literal { sync: true }`). This module does no I/O.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};

use crate::imap::types::{AppendItem, LiteralMode};
use crate::imap::{ImapError, utf7};
use crate::message::{Flag, is_atom};
use crate::secret::Secret;

/// RFC 7888 §5 (LITERAL-): non-synchronizing literals only up to this size.
pub const LITERAL_MINUS_MAX: usize = 4096;

/// A piece of an encoded command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fragment<'a> {
    /// Protocol text; when a literal follows, it ends with the `{n}\r\n` header.
    Line(Vec<u8>),
    /// Literal bytes. `sync`: the header was `{n}`, so the server's `+`
    /// must be awaited before sending them (RFC 3501 §7.5).
    Literal { data: Cow<'a, [u8]>, sync: bool },
}

/// An encoded command with its tag.
#[derive(Clone, Debug)]
pub struct Command<'a> {
    pub tag: String,
    /// The command's name (`UID FETCH`), for errors about its answer.
    pub name: String,
    pub fragments: Vec<Fragment<'a>>,
}

impl Command<'_> {
    /// All bytes as they go on the wire (for tests and byte counts).
    pub fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in &self.fragments {
            match f {
                Fragment::Line(l) => out.extend_from_slice(l),
                Fragment::Literal { data, .. } => out.extend_from_slice(data),
            }
        }
        out
    }
}

/// Tag generator: `A0001`, `A0002`, …
#[derive(Debug, Default)]
pub struct Tags {
    n: u64,
}

impl Tags {
    pub fn next_tag(&mut self) -> String {
        self.n = self.n.wrapping_add(1);
        format!("A{:04}", self.n)
    }
}

/// Whether a literal of `len` bytes must be synchronizing in `mode`.
pub fn literal_is_sync(mode: LiteralMode, len: usize) -> bool {
    match mode {
        LiteralMode::Plus => false,
        // RFC 7888 §5: LITERAL- allows `{n+}` only for n ≤ 4096.
        LiteralMode::Minus => len > LITERAL_MINUS_MAX,
        LiteralMode::Sync => true,
    }
}

/// Builds a command: text accumulates in a line until a literal cuts it.
#[derive(Debug)]
pub struct Builder<'a> {
    tag: String,
    name: String,
    mode: LiteralMode,
    line: Vec<u8>,
    fragments: Vec<Fragment<'a>>,
}

impl<'a> Builder<'a> {
    /// Starts `TAG NAME`.
    pub fn new(tag: String, name: &str, mode: LiteralMode) -> Builder<'a> {
        let mut line = Vec::with_capacity(128);
        line.extend_from_slice(tag.as_bytes());
        line.push(b' ');
        line.extend_from_slice(name.as_bytes());
        Builder {
            tag,
            name: name.to_string(),
            mode,
            line,
            fragments: Vec::new(),
        }
    }

    /// Raw protocol text (the caller guarantees it is valid there).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.line.extend_from_slice(bytes);
        self
    }

    /// ` ` then raw text.
    pub fn sp_raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.line.push(b' ');
        self.raw(bytes)
    }

    /// A literal with the header matching the literal mode.
    pub fn literal(&mut self, data: Cow<'a, [u8]>) -> &mut Self {
        let sync = literal_is_sync(self.mode, data.len());
        let header = if sync {
            format!("{{{}}}\r\n", data.len())
        } else {
            format!("{{{}+}}\r\n", data.len())
        };
        self.line.extend_from_slice(header.as_bytes());
        let line = std::mem::take(&mut self.line);
        self.fragments.push(Fragment::Line(line));
        self.fragments.push(Fragment::Literal { data, sync });
        self
    }

    /// A `literal8` (RFC 3516 §4.3, `~{n}`) for bytes that may hold NUL;
    /// only for a server that has BINARY.
    pub fn literal8(&mut self, data: Cow<'a, [u8]>) -> &mut Self {
        self.line.push(b'~');
        self.literal(data)
    }

    /// ` ` then an astring (RFC 3501 §9): atom if safe, quoted if possible,
    /// literal otherwise.
    pub fn sp_astring(&mut self, s: Cow<'a, [u8]>) -> &mut Self {
        self.line.push(b' ');
        self.string(s, false)
    }

    /// ` ` then a mailbox name: INBOX case-insensitively as `INBOX` (RFC 3501
    /// §5.1), others in modified UTF-7 (§5.1.3).
    pub fn sp_mailbox(&mut self, name: &str) -> &mut Self {
        let wire = if name.eq_ignore_ascii_case("INBOX") {
            "INBOX".to_string()
        } else {
            utf7::encode(name)
        };
        self.line.push(b' ');
        self.string(Cow::Owned(wire.into_bytes()), false)
    }

    /// ` ` then a LIST pattern: like a mailbox, but `%` and `*` may stay
    /// unquoted (RFC 3501 §9 `list-mailbox`).
    pub fn sp_list_pattern(&mut self, pattern: &str) -> &mut Self {
        self.line.push(b' ');
        let wire = utf7::encode(pattern).into_bytes();
        self.string(Cow::Owned(wire), true)
    }

    fn string(&mut self, s: Cow<'a, [u8]>, list_wildcards: bool) -> &mut Self {
        let atom_ok = std::str::from_utf8(&s).is_ok_and(|t| {
            !t.is_empty()
                && t.split(['%', '*']).all(|p| p.is_empty() || is_atom(p))
                && (list_wildcards || !t.contains(['%', '*']))
                && !t.eq_ignore_ascii_case("NIL")
        });
        if atom_ok {
            self.raw(&s)
        } else if let Some(q) = quoted(&s) {
            self.raw(&q)
        } else {
            self.literal(s)
        }
    }

    /// ` ` then a flag list `(\Seen $Forwarded)`.
    pub fn sp_flags(&mut self, flags: &[Flag]) -> &mut Self {
        self.line.extend_from_slice(b" (");
        for (i, f) in flags.iter().enumerate() {
            if i > 0 {
                self.line.push(b' ');
            }
            self.line.extend_from_slice(f.as_imap().as_bytes());
        }
        self.raw(b")")
    }

    /// ` ` then a date-time (RFC 3501 §9 `date-time`, `2DIGIT` day).
    pub fn sp_date_time(&mut self, d: &DateTime<FixedOffset>) -> &mut Self {
        let s = date_time(d);
        self.sp_raw(s.as_bytes())
    }

    /// Ends the command with CRLF.
    pub fn finish(mut self) -> Command<'a> {
        self.line.extend_from_slice(b"\r\n");
        self.fragments.push(Fragment::Line(self.line));
        Command {
            tag: self.tag,
            name: self.name,
            fragments: self.fragments,
        }
    }
}

/// `"06-Jan-2020 09:15:00 +0000"` with quotes (RFC 3501 §9: `date-day-fixed`
/// is `(SP DIGIT) / 2DIGIT`; we use `2DIGIT`).
pub fn date_time(d: &DateTime<FixedOffset>) -> String {
    d.format("\"%d-%b-%Y %H:%M:%S %z\"").to_string()
}

/// A quoted string, or `None` when `s` needs a literal (RFC 3501 §9:
/// `QUOTED-CHAR` is any 7-bit TEXT-CHAR except CR, LF; `"` and `\` escaped).
pub fn quoted(s: &[u8]) -> Option<Vec<u8>> {
    if s.iter()
        .any(|&b| b == 0 || b == b'\r' || b == b'\n' || b >= 0x80)
    {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    Some(out)
}

/// The commands mailhaul sends besides APPEND and authentication, as
/// values; [`encode`] turns one into bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// A command without arguments: `CAPABILITY`, `NOOP`, `LOGOUT`,
    /// `STARTTLS`, `NAMESPACE`, `COMPRESS DEFLATE`.
    Simple(&'static str),
    /// `LIST reference pattern` (RFC 3501 §6.3.8); with `special_use`,
    /// `RETURN (SPECIAL-USE)` (RFC 6154 §2, needs LIST-EXTENDED, RFC 5258).
    List {
        reference: &'a str,
        pattern: &'a str,
        special_use: bool,
    },
    /// `CREATE mailbox` (RFC 3501 §6.3.3).
    Create(&'a str),
    /// `SELECT mailbox` (RFC 3501 §6.3.1).
    Select(&'a str),
    /// `STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY)` (RFC 3501 §6.3.10).
    Status(&'a str),
    /// `UID FETCH uids items` (RFC 3501 §6.4.8).
    UidFetch { uids: Uids<'a>, items: FetchItems },
    /// `UID COPY uids mailbox` (RFC 3501 §6.4.8, §6.4.7).
    UidCopy { uids: &'a [u32], mailbox: &'a str },
}

/// Which messages a UID command names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uids<'a> {
    /// `n:*`: UID n and above (n at least 1).
    From(u32),
    /// These UIDs, runs written as ranges ([`uid_set`]).
    These(&'a [u32]),
}

/// What a UID FETCH asks for; `BODY.PEEK` leaves `\Seen` alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchItems {
    /// Size, date and Message-ID: enough to recognize a message.
    Summaries,
    /// The bytes only (to be hashed as they stream).
    Bodies,
    /// The text only, the header left out (to be hashed as it streams).
    Texts,
}

impl FetchItems {
    fn wire(self) -> &'static str {
        match self {
            FetchItems::Summaries => {
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
            }
            FetchItems::Bodies => "(UID BODY.PEEK[])",
            FetchItems::Texts => "(UID BODY.PEEK[TEXT])",
        }
    }
}

/// `request` as a command tagged `tag`.
pub fn encode(tag: String, mode: LiteralMode, request: &Request) -> Command<'static> {
    match *request {
        Request::Simple(name) => Builder::new(tag, name, mode).finish(),
        Request::List {
            reference,
            pattern,
            special_use,
        } => {
            let mut b = Builder::new(tag, "LIST", mode);
            b.sp_mailbox(reference);
            b.sp_list_pattern(pattern);
            if special_use {
                b.sp_raw(b"RETURN (SPECIAL-USE)");
            }
            b.finish()
        }
        Request::Create(mailbox) => with_mailbox(tag, "CREATE", mode, mailbox).finish(),
        Request::Select(mailbox) => with_mailbox(tag, "SELECT", mode, mailbox).finish(),
        Request::Status(mailbox) => {
            let mut b = with_mailbox(tag, "STATUS", mode, mailbox);
            b.sp_raw(b"(MESSAGES UIDNEXT UIDVALIDITY)");
            b.finish()
        }
        Request::UidFetch { uids, items } => {
            let mut b = Builder::new(tag, "UID FETCH", mode);
            let set = match uids {
                Uids::From(n) => format!("{}:*", n.max(1)),
                Uids::These(u) => uid_set(u),
            };
            b.sp_raw(set.as_bytes());
            b.sp_raw(items.wire().as_bytes());
            b.finish()
        }
        Request::UidCopy { uids, mailbox } => {
            let mut b = Builder::new(tag, "UID COPY", mode);
            b.sp_raw(uid_set(uids).as_bytes());
            b.sp_mailbox(mailbox);
            b.finish()
        }
    }
}

fn with_mailbox<'a>(tag: String, name: &str, mode: LiteralMode, mailbox: &str) -> Builder<'a> {
    let mut b = Builder::new(tag, name, mode);
    b.sp_mailbox(mailbox);
    b
}

/// `1:3,7` for `[1, 2, 3, 7]` (in the order given; runs of consecutive UIDs
/// become ranges; RFC 3501 §9 `sequence-set`).
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && end.checked_add(1) == Some(uids[i + 1]) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// `TAG APPEND mailbox [flags] [date] literal [flags] [date] literal … CRLF`
/// (RFC 3501 §6.3.11; RFC 3502 §6 for more than one message).
pub fn append<'a>(
    tag: String,
    mailbox: &str,
    items: &[AppendItem<'a>],
    mode: LiteralMode,
) -> Result<Command<'a>, ImapError> {
    append_with(tag, mailbox, items, mode, false)
}

/// [`append`]; with `binary` (the server has BINARY, RFC 3516 §4.4), a
/// message holding NUL bytes goes as a `~{n}` literal8. Without it such a
/// message is refused here: a plain literal must not carry NUL (RFC 3501 §4.3).
pub fn append_with<'a>(
    tag: String,
    mailbox: &str,
    items: &[AppendItem<'a>],
    mode: LiteralMode,
    binary: bool,
) -> Result<Command<'a>, ImapError> {
    check_append(items, binary)?;
    let mut b = Builder::new(tag, "APPEND", mode);
    b.sp_mailbox(mailbox);
    for item in items {
        if !item.flags.is_empty() {
            b.sp_flags(item.flags);
        }
        if let Some(d) = &item.date {
            b.sp_date_time(d);
        }
        b.raw(b" ");
        if item.bytes.contains(&0) {
            b.literal8(Cow::Borrowed(item.bytes));
        } else {
            b.literal(Cow::Borrowed(item.bytes));
        }
    }
    Ok(b.finish())
}

/// Whether `items` can go in one APPEND: at least one, none empty (RFC 3502
/// §6.3.11: a zero-length literal cancels a MULTIAPPEND), NUL bytes only
/// with `binary` (a plain literal must not carry NUL, RFC 3501 §4.3).
pub fn check_append(items: &[AppendItem], binary: bool) -> Result<(), ImapError> {
    if items.is_empty() {
        return Err(ImapError::Unsendable("APPEND without messages".into()));
    }
    for (i, item) in items.iter().enumerate() {
        if item.bytes.is_empty() {
            return Err(ImapError::Unsendable(format!(
                "message {} of the APPEND is empty (0 bytes)",
                i + 1
            )));
        }
        if !binary && item.bytes.contains(&0) {
            return Err(ImapError::Unsendable(format!(
                "message {} holds NUL bytes and the server has no BINARY",
                i + 1
            )));
        }
    }
    Ok(())
}

/// `TAG LOGIN user password` (RFC 3501 §6.2.3), each an astring.
pub fn login(tag: String, user: &str, password: &Secret, mode: LiteralMode) -> Command<'static> {
    let mut b = Builder::new(tag, "LOGIN", mode);
    b.sp_astring(Cow::Owned(user.as_bytes().to_vec()));
    b.sp_astring(Cow::Owned(password.expose().as_bytes().to_vec()));
    b.finish()
}

/// `TAG AUTHENTICATE MECH` (RFC 3501 §6.2.2); with an initial response,
/// `TAG AUTHENTICATE MECH base64` (RFC 4959 §3; `=` when it is empty).
pub fn authenticate(
    tag: String,
    mechanism: &str,
    initial_response: Option<&[u8]>,
) -> Command<'static> {
    let mut b = Builder::new(tag, "AUTHENTICATE", LiteralMode::Sync);
    b.sp_raw(mechanism.as_bytes());
    match initial_response {
        Some([]) => b.sp_raw(b"="),
        Some(ir) => b.sp_raw(base64(ir).as_bytes()),
        None => &mut b,
    };
    b.finish()
}

/// One SASL response line: base64 and CRLF (RFC 3501 §6.2.2).
pub fn sasl_response(data: &[u8]) -> Vec<u8> {
    let mut line = base64(data).into_bytes();
    line.extend_from_slice(b"\r\n");
    line
}

/// Cancels a SASL exchange; the server answers with a tagged BAD (RFC 3501
/// §6.2.2).
pub const SASL_CANCEL: &[u8] = b"*\r\n";

/// SASL PLAIN (RFC 4616 §2): `[authzid] NUL authcid NUL passwd`.
pub fn plain_message(user: &str, password: &Secret) -> Vec<u8> {
    let mut msg = Vec::with_capacity(user.len() + password.expose().len() + 2);
    msg.push(0);
    msg.extend_from_slice(user.as_bytes());
    msg.push(0);
    msg.extend_from_slice(password.expose().as_bytes());
    msg
}

/// SASL OAUTHBEARER (RFC 7628 §3.1):
/// `n,a=USER,^Ahost=HOST^Aport=PORT^Aauth=Bearer TOKEN^A^A`, with `,` and
/// `=` in the user escaped as `=2C` and `=3D` (RFC 5802 saslname).
pub fn oauthbearer_message(user: &str, host: &str, port: u16, token: &Secret) -> Vec<u8> {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!(
        "n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01",
        token.expose()
    )
    .into_bytes()
}

/// XOAUTH2 (Google's and Microsoft's): `user=USER^Aauth=Bearer TOKEN^A^A`.
pub fn xoauth2_message(user: &str, token: &Secret) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes()
}

/// Standard base64 (RFC 4648 §4), as SASL exchanges use (RFC 3501 §6.2.2).
pub fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes a base64 SASL challenge; `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
