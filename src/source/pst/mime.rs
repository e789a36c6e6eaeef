//! Rebuilds an Outlook item as an RFC 5322 / MIME message (RFC 2045–2049).
//!
//! Headers: the transport headers as delivered (`PidTagTransportMessageHeaders`)
//! when the PST kept them, with `Content-Type`, `Content-Transfer-Encoding` and
//! `MIME-Version` replaced by the structure built here; otherwise headers
//! synthesized from the MAPI properties (a warning says so).
//!
//! Body: `multipart/mixed` when there are attachments, around the text: plain
//! (`PidTagBody`) and HTML (`PidTagHtml`) as `multipart/alternative` when both
//! exist, the HTML with the inline images it references (`cid:`) as
//! `multipart/related`. RTF (`PidTagRtfCompressed`, decompressed per
//! [MS-OXRTFCP]) that encapsulates HTML gives the HTML body when there is
//! no `PidTagHtml` ([`rtf_html`]); other RTF, when it is the only body, is
//! attached as `body.rtf` (a warning says so). Attachments by
//! value keep their file name and MIME type; embedded messages become
//! `message/rfc822` parts. Every part is 7bit text or base64, so the result is
//! 7-bit clean but for non-ASCII header text kept from the PST (UTF-8).
//! Lines end in CRLF. Pure functions, no I/O.

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};

use super::props::{self, Props, Value};
use super::rtf_html;
use super::store::{AttachmentContent, Item, ItemAttachment};
use crate::source::headers::{header_block_len, split_fields};

/// A message built from an item, with what had to be approximated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub bytes: Vec<u8>,
    pub warnings: Vec<String>,
}

/// One MIME entity: its content header lines (without CRLF) and encoded body.
enum Part {
    Leaf {
        headers: Vec<String>,
        body: Vec<u8>,
    },
    Multi {
        subtype: &'static str,
        parts: Vec<Part>,
    },
}

/// Rebuilds `item` as a message.
pub fn rebuild(item: &Item) -> Rebuilt {
    let mut warnings = item.warnings.clone();
    let mut out = Vec::new();
    match props::text(&item.props, props::TRANSPORT_MESSAGE_HEADERS) {
        Some(headers) => delivered_headers(&headers, &mut out),
        None => {
            synthesized_headers(item, &mut out);
            warnings.push(
                "no transport headers in the PST: headers rebuilt from MAPI properties".into(),
            );
        }
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    let body = body_part(item, &mut warnings);
    write_part(&body, &mut out, 0);
    Rebuilt {
        bytes: out,
        warnings,
    }
}

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
fn delivered_headers(text: &str, out: &mut Vec<u8>) {
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

fn synthesized_headers(item: &Item, out: &mut Vec<u8>) {
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

/// The text bodies and attachments as one entity: `mixed` around the text
/// and the attachments; the text `alternative` of plain and HTML; the HTML
/// `related` with the attachments its `cid:` references point at.
fn body_part(item: &Item, warnings: &mut Vec<String>) -> Part {
    let p = &item.props;
    let plain = plain_body(p);
    let mut html = html_source(p);
    let mut attachments = Vec::new();
    if let Some(rtf) = props::binary(p, props::RTF_COMPRESSED) {
        match compressed_rtf::decompress_rtf(rtf) {
            Ok(rtf) if html.is_none() && rtf.contains("\\fromhtml") => {
                html = rtf_html::html_from_rtf(&rtf).map(|(h, cp)| (h, props::charset(cp)));
            }
            Ok(rtf) if plain.is_none() && html.is_none() => {
                warnings.push("only an RTF body in the PST: attached as body.rtf".into());
                attachments.push(leaf(
                    vec![
                        "Content-Type: application/rtf; name=\"body.rtf\"".into(),
                        "Content-Disposition: attachment; filename=\"body.rtf\"".into(),
                    ],
                    rtf.as_bytes(),
                ));
            }
            Ok(rtf) if html.is_none() && !rtf.contains("\\fromtext") => warnings
                .push("formatted (RTF) body given as its plain-text version (PidTagBody)".into()),
            Ok(_) => {}
            Err(e) => warnings.push(format!("compressed RTF body unreadable, left out: {e}")),
        }
    }
    let mut related = Vec::new();
    for (i, a) in item.attachments.iter().enumerate() {
        let Some(part) = attachment_part(a, i + 1, warnings) else {
            continue;
        };
        let cid = props::text(&a.props, props::ATTACH_CONTENT_ID);
        let referenced = cid.zip(html.as_ref()).is_some_and(|(cid, (h, _))| {
            let needle = format!("cid:{}", cid.trim_matches(['<', '>']));
            h.windows(needle.len()).any(|w| w == needle.as_bytes())
        });
        if referenced {
            related.push(part);
        } else {
            attachments.push(part);
        }
    }
    let html = html.map(|(bytes, charset)| {
        let leaf = text_leaf("text/html", &charset, &bytes);
        if related.is_empty() {
            leaf
        } else {
            Part::Multi {
                subtype: "related",
                parts: std::iter::once(leaf).chain(related).collect(),
            }
        }
    });
    let mut alternatives: Vec<Part> = plain.into_iter().chain(html).collect();
    let text = match alternatives.len() {
        0 if attachments.is_empty() => Some(text_leaf("text/plain", "us-ascii", b"")),
        0 => None,
        1 => alternatives.pop(),
        _ => Some(Part::Multi {
            subtype: "alternative",
            parts: alternatives,
        }),
    };
    if attachments.is_empty() {
        return text.expect("a text part when there are no attachments");
    }
    Part::Multi {
        subtype: "mixed",
        parts: text.into_iter().chain(attachments).collect(),
    }
}

/// `PidTagBody`: UTF-16 text as UTF-8; 8-bit text as it is, labeled with
/// the message's code page.
fn plain_body(p: &Props) -> Option<Part> {
    match p.get(&props::BODY)? {
        Value::Text(s) if !s.trim_end_matches('\0').is_empty() => Some(text_leaf(
            "text/plain",
            "utf-8",
            s.trim_end_matches('\0').as_bytes(),
        )),
        Value::Text8(b) if !b.is_empty() => {
            let cp = props::int(p, props::MESSAGE_CODEPAGE)
                .or_else(|| props::int(p, props::INTERNET_CODEPAGE))
                .unwrap_or(1252);
            Some(text_leaf("text/plain", &props::charset(cp), b))
        }
        _ => None,
    }
}

/// `PidTagHtml`: bytes in the internet code page (or a string), with the
/// charset they are in.
fn html_source(p: &Props) -> Option<(Vec<u8>, String)> {
    match p.get(&props::HTML)? {
        Value::Binary(b) | Value::Text8(b) if !b.is_empty() => {
            let cp = props::int(p, props::INTERNET_CODEPAGE).unwrap_or(65001);
            Some((b.clone(), props::charset(cp)))
        }
        Value::Text(s) if !s.is_empty() => Some((s.as_bytes().to_vec(), "utf-8".into())),
        _ => None,
    }
}

/// A text part: 7bit when it is ASCII with short lines, else base64.
fn text_leaf(mime: &str, charset: &str, text: &[u8]) -> Part {
    let ct = format!("Content-Type: {mime}; charset=\"{charset}\"");
    let normalized = crate::message::normalize_crlf(text);
    let is_7bit = normalized.is_ascii()
        && !normalized.contains(&0)
        && normalized.split(|&b| b == b'\n').all(|l| l.len() < 998)
        && !normalized
            .windows(2)
            .enumerate()
            .any(|(i, w)| w[0] == b'\r' && w[1] != b'\n' && i + 1 < normalized.len());
    if is_7bit {
        let mut body = normalized;
        if !body.is_empty() && !body.ends_with(b"\r\n") {
            body.extend_from_slice(b"\r\n");
        }
        Part::Leaf {
            headers: vec![ct, "Content-Transfer-Encoding: 7bit".into()],
            body,
        }
    } else {
        leaf(vec![ct], text)
    }
}

/// A base64 leaf with the given content headers.
fn leaf(mut headers: Vec<String>, data: &[u8]) -> Part {
    headers.push("Content-Transfer-Encoding: base64".into());
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut body = Vec::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
    Part::Leaf { headers, body }
}

fn attachment_part(a: &ItemAttachment, n: usize, warnings: &mut Vec<String>) -> Option<Part> {
    let p = &a.props;
    let name = props::text(p, props::ATTACH_LONG_FILENAME)
        .or_else(|| props::text(p, props::ATTACH_FILENAME))
        .or_else(|| props::text(p, props::DISPLAY_NAME));
    match &a.content {
        AttachmentContent::Bytes(data) => {
            let name = name.unwrap_or_else(|| format!("attachment-{n}"));
            let mime = props::text(p, props::ATTACH_MIME_TAG)
                .filter(|m| m.contains('/') && m.is_ascii())
                .unwrap_or_else(|| mime_of(&name).to_string());
            let cid = props::text(p, props::ATTACH_CONTENT_ID);
            let disposition = if cid.is_some() {
                "inline"
            } else {
                "attachment"
            };
            let mut headers = vec![
                format!("Content-Type: {mime}; {}", param("name", &name)),
                format!(
                    "Content-Disposition: {disposition}; {}",
                    param("filename", &name)
                ),
            ];
            if let Some(cid) = cid {
                headers.push(format!("Content-ID: <{}>", cid.trim_matches(['<', '>'])));
            }
            Some(leaf(headers, data))
        }
        AttachmentContent::Message(inner) => {
            let rebuilt = rebuild(inner);
            warnings.extend(
                rebuilt
                    .warnings
                    .iter()
                    .map(|w| format!("embedded message {n}: {w}")),
            );
            let encoding = if rebuilt.bytes.is_ascii() {
                "7bit"
            } else {
                "8bit"
            };
            let mut body = rebuilt.bytes;
            if !body.ends_with(b"\r\n") {
                body.extend_from_slice(b"\r\n");
            }
            Some(Part::Leaf {
                headers: vec![
                    "Content-Type: message/rfc822".into(),
                    "Content-Disposition: attachment".into(),
                    format!("Content-Transfer-Encoding: {encoding}"),
                ],
                body,
            })
        }
        AttachmentContent::None => {
            let name = name.unwrap_or_else(|| format!("attachment {n}"));
            warnings.push(format!(
                "attachment {name:?} is a link, not stored in the PST: left out"
            ));
            None
        }
    }
}

/// `name="value"` for ASCII names, else the RFC 2231 `name*=utf-8''…` form.
fn param(key: &str, value: &str) -> String {
    if value.is_ascii() && !value.contains(['"', '\\', '\r', '\n']) {
        return format!("{key}=\"{value}\"");
    }
    let mut encoded = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{key}*=utf-8''{encoded}")
}

/// A MIME type from a file name's extension, for attachments without
/// `PidTagAttachMimeTag`.
fn mime_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map_or("", |(_, e)| e)
        .to_ascii_lowercase();
    match ext.as_str() {
        "txt" => "text/plain",
        "htm" | "html" => "text/html",
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "ppt" => "application/vnd.ms-powerpoint",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "rtf" => "application/rtf",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// Writes a part's content headers, a blank line and its body. A multipart
/// gets a boundary derived from its content, made longer until no line of
/// the content starts with it.
fn write_part(part: &Part, out: &mut Vec<u8>, depth: usize) {
    match part {
        Part::Leaf { headers, body } => {
            for h in headers {
                out.extend_from_slice(h.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
        }
        Part::Multi { subtype, parts } => {
            let mut children = Vec::new();
            for p in parts {
                let mut bytes = Vec::new();
                write_part(p, &mut bytes, depth + 1);
                children.push(bytes);
            }
            let boundary = boundary(&children, depth);
            out.extend_from_slice(
                format!("Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n")
                    .as_bytes(),
            );
            for child in children {
                out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                out.extend_from_slice(&child);
                if !child.ends_with(b"\r\n") {
                    out.extend_from_slice(b"\r\n");
                }
            }
            out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        }
    }
}

fn boundary(children: &[Vec<u8>], depth: usize) -> String {
    let mut hash = Sha256::new();
    for c in children {
        hash.update(c);
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut len = 16;
    loop {
        let candidate = format!("=_pst{depth}_{}", &hex[..len.min(hex.len())]);
        let marker = format!("--{candidate}");
        let clash = children.iter().any(|c| {
            c.split(|&b| b == b'\n')
                .any(|l| l.starts_with(marker.as_bytes()))
        });
        if !clash || len >= hex.len() {
            return candidate;
        }
        len += 8;
    }
}

#[cfg(test)]
#[path = "mime_tests.rs"]
mod tests;
