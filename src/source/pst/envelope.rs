//! The header block of a rebuilt Outlook item: the transport headers as
//! delivered (`PidTagTransportMessageHeaders`) without the fields that
//! describe the original body structure (`Content-Type`,
//! `Content-Transfer-Encoding`, `MIME-Version`: [`super::mime`] writes its
//! own), or, when the PST kept none, headers synthesized from the MAPI
//! properties: Date (submit, else delivery time), From (sent-representing,
//! else sender), To/Cc/Bcc from the recipient table, Subject, Message-ID,
//! In-Reply-To, References. Non-ASCII text becomes RFC 2047 encoded words.
//! Pure functions, no I/O.

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};

use super::props::{self, Props};
use super::store::Item;
use crate::source::headers::{header_block_len, split_fields};

/// Header fields that describe the original body structure, replaced by ours.
fn is_content_field(field: &[u8]) -> bool {
    let name = field
        .iter()
        .position(|&b| b == b':')
        .map_or(field, |i| &field[..i]);
    let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "content-type" | "content-transfer-encoding" | "mime-version"
    )
}

/// The delivered header block without its content fields, CRLF-terminated.
pub fn delivered_headers(text: &str, out: &mut Vec<u8>) {
    let crlf = crate::message::normalize_crlf(text.as_bytes());
    let end = header_block_len(&crlf);
    for field in split_fields(&crlf[..end]) {
        let field = field.trim_ascii_end();
        if field.is_empty() || is_content_field(field) {
            continue;
        }
        out.extend_from_slice(field);
        out.extend_from_slice(b"\r\n");
    }
}

pub fn synthesized_headers(item: &Item, out: &mut Vec<u8>) {
    let p = &item.props;
    let mut line = |name: &str, value: String| {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    };
    let date = props::time(p, props::CLIENT_SUBMIT_TIME)
        .or_else(|| props::time(p, props::MESSAGE_DELIVERY_TIME));
    if let Some(d) = date {
        line("Date", rfc5322_date(d));
    }
    if let Some(from) = sender(p) {
        line("From", from);
    }
    for (kind, name) in [(1, "To"), (2, "Cc"), (3, "Bcc")] {
        let list: Vec<String> = item
            .recipients
            .iter()
            .filter(|r| props::int(r, props::RECIPIENT_TYPE) == Some(kind))
            .filter_map(|r| {
                let smtp = smtp_address(
                    r,
                    props::SMTP_ADDRESS,
                    props::ADDRTYPE,
                    props::EMAIL_ADDRESS,
                );
                mailbox(props::text(r, props::DISPLAY_NAME), smtp)
            })
            .collect();
        if !list.is_empty() {
            line(name, list.join(",\r\n "));
        }
    }
    if let Some(s) = props::subject(p) {
        line("Subject", encode_text(&s));
    }
    for (id, name) in [
        (props::INTERNET_MESSAGE_ID, "Message-ID"),
        (props::IN_REPLY_TO_ID, "In-Reply-To"),
        (props::INTERNET_REFERENCES, "References"),
    ] {
        if let Some(v) = props::text(p, id) {
            line(name, v);
        }
    }
}

/// `Thu, 23 Aug 2001 22:49:51 +0000`.
pub fn rfc5322_date(d: DateTime<FixedOffset>) -> String {
    d.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// The address of a sender or recipient: the SMTP-address property, else
/// the e-mail address when its type is SMTP (or it looks like one).
fn smtp_address(p: &Props, smtp: u16, addrtype: u16, email: u16) -> Option<String> {
    props::text(p, smtp).or_else(|| {
        let address = props::text(p, email)?;
        let is_smtp = props::text(p, addrtype).is_some_and(|t| t.eq_ignore_ascii_case("SMTP"));
        (is_smtp || (address.contains('@') && !address.starts_with('/'))).then_some(address)
    })
}

fn sender(p: &Props) -> Option<String> {
    let representing = smtp_address(
        p,
        props::SENT_REPRESENTING_SMTP_ADDRESS,
        props::SENT_REPRESENTING_ADDRTYPE,
        props::SENT_REPRESENTING_EMAIL,
    );
    let name = props::text(p, props::SENT_REPRESENTING_NAME);
    if representing.is_some() || name.is_some() {
        return mailbox(name, representing);
    }
    let address = smtp_address(
        p,
        props::SENDER_SMTP_ADDRESS,
        props::SENDER_ADDRTYPE,
        props::SENDER_EMAIL,
    );
    mailbox(props::text(p, props::SENDER_NAME), address)
}

/// `Name <addr>`; a name without an address becomes an empty group
/// (`Name:;`, RFC 5322 §3.4) so the header stays valid.
fn mailbox(name: Option<String>, address: Option<String>) -> Option<String> {
    let name = name.filter(|n| Some(n) != address.as_ref());
    match (name, address) {
        (Some(n), Some(a)) => Some(format!("{} <{a}>", phrase(&n))),
        (None, Some(a)) => Some(a),
        (Some(n), None) => Some(format!("{}:;", phrase(&n))),
        (None, None) => None,
    }
}

/// A display name as an RFC 5322 phrase: atoms as they are, ASCII with
/// specials quoted, anything else as RFC 2047 encoded words.
fn phrase(name: &str) -> String {
    if !name.is_ascii() {
        return encode_words(name);
    }
    let atom = |c: char| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(atom) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Unstructured header text: as it is when ASCII, else encoded words.
fn encode_text(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        encode_words(s)
    }
}

/// RFC 2047 `B` words in UTF-8, each under the 75-character limit, split on
/// character boundaries and folded onto continuation lines.
fn encode_words(s: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}
