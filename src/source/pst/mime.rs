//! Rebuilds an Outlook item as an RFC 5322 / MIME message (RFC 2045–2049).
//!
//! Headers ([`super::envelope`]): the transport headers as delivered
//! (`PidTagTransportMessageHeaders`) when the PST kept them, with
//! `Content-Type`, `Content-Transfer-Encoding` and `MIME-Version` replaced by
//! the structure built here; otherwise headers synthesized from the MAPI
//! properties (a warning says so).
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
use sha2::{Digest, Sha256};

use super::envelope;
use super::props::{self, Props, Value};
use super::rtf_html;
use super::store::{AttachmentContent, Item, ItemAttachment};

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
        Some(headers) => envelope::delivered_headers(&headers, &mut out),
        None => {
            envelope::synthesized_headers(item, &mut out);
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
