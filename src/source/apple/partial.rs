//! Reassembling a `.partial.emlx`: Mail stores such a message without the
//! content of its attachments. Each stripped MIME part keeps its headers,
//! gains `X-Apple-Content-Length: <size>` and has an empty body; the
//! attachment itself is a file in `../Attachments/<message number>/<part>/`
//! beside the `Messages` directory, `<part>` being the part's IMAP section
//! number (RFC 3501 §6.4.5: `2`, `2.1`, …; `1` for a message that is not
//! multipart), the file named as the part names it (Mail localizes the
//! name of an unnamed one, so a directory holding one file is taken as is).
//! This layout is described, and handled the same way, by
//! qqilihq/partial-emlx-converter on GitHub (`src/converter.ts`). Mail 2
//! (Mac OS X 10.4) kept the part instead as `N.<part>.emlxpart` beside the
//! message, holding the part's body still encoded (liquidinvestigations/
//! hoover-snoop2 puts such a file back as the part's payload as is): that
//! file is used when the `Attachments/` one is absent.
//!
//! The file holds the decoded attachment: it is encoded back with the
//! part's `Content-Transfer-Encoding` (base64 in 76-character lines,
//! quoted-printable, else as is with CRLF line ends) and the
//! `X-Apple-Content-Length` marker removed, so the uploaded message is
//! complete. The bytes of a base64 or quoted-printable part may differ
//! from what the sender wrote (line length); the content is the same. A
//! missing file makes the message an error naming the part and where it
//! was looked for: nothing incomplete is uploaded.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::emlx::message_number;
use crate::message::normalize_crlf;
use crate::source::headers::{header_block_len, name_and_value, split_fields};
use crate::source::mbox::boundary_param;

/// The header Mail adds to a part whose content it stored elsewhere.
const MARKER: &str = "x-apple-content-length";

/// Nesting deeper than this is not followed (a hostile or broken message).
const MAX_DEPTH: usize = 32;

/// One stripped part, as byte ranges of the message.
#[derive(Debug, PartialEq, Eq)]
struct Stripped {
    /// IMAP section number, e.g. `2.2`.
    section: String,
    /// The `X-Apple-Content-Length` field with its line end.
    marker: (usize, usize),
    /// The (empty) body to replace.
    body: (usize, usize),
    /// `Content-Transfer-Encoding`, lowercase; empty when absent.
    encoding: String,
    /// The file name the part declares (`filename=` or `name=`).
    file_name: Option<String>,
}

/// The complete message for the CRLF bytes `msg` of the partial file `emlx`.
pub fn reassemble(msg: &[u8], emlx: &Path) -> Result<Vec<u8>, String> {
    let mut stripped = Vec::new();
    walk(msg, (0, msg.len()), &[], true, &mut stripped, 0);
    if stripped.is_empty() {
        return Ok(msg.to_vec());
    }
    let number = message_number(emlx).ok_or("no message number in the file name")?;
    let mut out = Vec::with_capacity(msg.len());
    let mut pos = 0;
    for part in &stripped {
        let body = read_part(emlx, number, part)?;
        out.extend_from_slice(&msg[pos..part.marker.0]);
        out.extend_from_slice(&msg[part.marker.1..part.body.0]);
        out.extend_from_slice(&body);
        if part.body.1 < msg.len() && !msg[part.body.1..].starts_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        pos = part.body.1;
    }
    out.extend_from_slice(&msg[pos..]);
    Ok(out)
}

/// The part's body, encoded as the part says: from the attachment file in
/// `<emlx dir>/../Attachments/<number>/<section>/`, else from Mail 2's
/// `<number>.<section>.emlxpart` beside the message.
fn read_part(emlx: &Path, number: u64, part: &Stripped) -> Result<Vec<u8>, String> {
    let messages = emlx.parent().unwrap_or(Path::new("."));
    let data = messages.parent().unwrap_or(Path::new(".."));
    let part_dir = data
        .join("Attachments")
        .join(number.to_string())
        .join(&part.section);
    if let Some(file) = attachment_file(&part_dir, part.file_name.as_deref()) {
        let content =
            fs::read(&file).map_err(|e| format!("partial message: {}: {e}", file.display()))?;
        return Ok(encode(&content, &part.encoding));
    }
    let emlxpart = messages.join(format!("{number}.{}.emlxpart", part.section));
    if let Ok(encoded) = fs::read(&emlxpart) {
        let body = normalize_crlf(&encoded);
        return Ok(body.strip_suffix(b"\r\n").unwrap_or(&body).to_vec());
    }
    let name = part.file_name.as_deref().unwrap_or("unnamed");
    Err(format!(
        "partial message: attachment part {} ({name}) is missing: no such file in {} (nor {})",
        part.section,
        part_dir.display(),
        emlxpart.display()
    ))
}

/// The file the part names in `part_dir`, else the one file there.
fn attachment_file(part_dir: &Path, name: Option<&str>) -> Option<PathBuf> {
    if let Some(named) = name.map(|n| part_dir.join(n)).filter(|p| p.is_file()) {
        return Some(named);
    }
    let mut files: Vec<PathBuf> = fs::read_dir(part_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    (files.len() == 1).then(|| files.remove(0))
}

/// Finds the stripped parts of the entity at `range`. `message` is true for
/// the top level and a `message/rfc822` part's content: a message that is
/// not multipart has its body as part `<section>.1`.
fn walk(
    msg: &[u8],
    range: (usize, usize),
    section: &[u32],
    message: bool,
    out: &mut Vec<Stripped>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let head = Head::parse(msg, range);
    if let Some(marker) = head.marker {
        let mut number = section.to_vec();
        if message {
            number.push(1);
        }
        out.push(Stripped {
            section: number
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("."),
            marker,
            body: (head.body_start, range.1),
            encoding: head.encoding,
            file_name: head.file_name,
        });
        return;
    }
    if let Some(boundary) = head.boundary {
        for (i, part) in parts(msg, (head.body_start, range.1), &boundary)
            .into_iter()
            .enumerate()
        {
            let mut number = section.to_vec();
            number.push(i as u32 + 1);
            walk(msg, part, &number, false, out, depth + 1);
        }
    } else if head.mime_type == "message/rfc822" && !message {
        walk(
            msg,
            (head.body_start, range.1),
            section,
            true,
            out,
            depth + 1,
        );
    }
}

/// What the header block of an entity says.
#[derive(Debug, Default)]
struct Head {
    mime_type: String,
    boundary: Option<Vec<u8>>,
    encoding: String,
    file_name: Option<String>,
    marker: Option<(usize, usize)>,
    body_start: usize,
}

impl Head {
    fn parse(msg: &[u8], (start, end): (usize, usize)) -> Head {
        let entity = &msg[start..end];
        let hlen = header_block_len(entity);
        let blank = match &entity[hlen..] {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            _ => 0,
        };
        let mut head = Head {
            mime_type: "text/plain".into(),
            body_start: start + hlen + blank,
            ..Head::default()
        };
        let (mut disposition_name, mut type_name) = (None, None);
        for field in split_fields(&entity[..hlen]) {
            let (name, value) = name_and_value(field);
            match name.to_ascii_lowercase().as_str() {
                "content-type" => {
                    let lower = value.to_ascii_lowercase();
                    head.mime_type = lower.split(';').next().unwrap_or("").trim().to_string();
                    if head.mime_type.starts_with("multipart/") {
                        head.boundary = boundary_param(lower.as_bytes(), value.as_bytes());
                    }
                    type_name = param(&value, "name");
                }
                "content-disposition" => disposition_name = param(&value, "filename"),
                "content-transfer-encoding" => head.encoding = value.trim().to_ascii_lowercase(),
                MARKER => {
                    let at = field.as_ptr() as usize - msg.as_ptr() as usize;
                    head.marker = Some((at, at + field.len()));
                }
                _ => {}
            }
        }
        head.file_name = disposition_name.or(type_name);
        head
    }
}

/// The parts of a multipart body at `range`: each from after its delimiter
/// line to before the line end that precedes the next one (RFC 2046 §5.1.1:
/// that CRLF belongs to the delimiter). An unclosed last part runs to the end.
fn parts(msg: &[u8], (start, end): (usize, usize), boundary: &[u8]) -> Vec<(usize, usize)> {
    let delimiter = [b"--", boundary].concat();
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut pos = start;
    for line in msg[start..end].split_inclusive(|&b| b == b'\n') {
        let text = line.trim_ascii_end();
        if let Some(rest) = text.strip_prefix(delimiter.as_slice()) {
            let close = rest.starts_with(b"--");
            if close || rest.trim_ascii().is_empty() {
                if let Some(s) = current {
                    let eol = if msg[..pos].ends_with(b"\r\n") { 2 } else { 1 };
                    parts.push((s, pos.saturating_sub(eol).max(s)));
                }
                if close {
                    return parts;
                }
                current = Some(pos + line.len());
            }
        }
        pos += line.len();
    }
    if let Some(s) = current {
        parts.push((s, end));
    }
    parts
}

/// A `name=value` parameter of a header value (quoted or not), RFC 2045 §5.1.
fn param(value: &str, name: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let key = format!("{name}=");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&key) {
        let at = from + i;
        from = at + key.len();
        let before = lower[..at].trim_end();
        if !(before.ends_with(';')) {
            continue;
        }
        let rest = &value[from..];
        let found = match rest.strip_prefix('"') {
            Some(q) => q.split('"').next().unwrap_or(""),
            None => rest.split([';', ' ', '\t']).next().unwrap_or(""),
        };
        return (!found.is_empty()).then(|| found.to_string());
    }
    None
}

/// The attachment as the part's transfer encoding wants it, CRLF line ends.
fn encode(content: &[u8], encoding: &str) -> Vec<u8> {
    match encoding {
        "base64" => {
            let text = base64::engine::general_purpose::STANDARD.encode(content);
            let lines: Vec<&[u8]> = text.as_bytes().chunks(76).collect();
            lines.join(&b"\r\n"[..])
        }
        "quoted-printable" => quoted_printable(content),
        _ => normalize_crlf(content),
    }
}

/// Quoted-printable (RFC 2045 §6.7): line breaks kept as CRLF, lines at
/// most 76 characters with soft breaks, `=`, controls, 8-bit bytes and
/// whitespace at a line end as `=XX`.
fn quoted_printable(content: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(content.len() + content.len() / 8);
    for line in content.split_inclusive(|&b| b == b'\n') {
        let (text, eol) = match line.strip_suffix(b"\n") {
            Some(t) => (t.strip_suffix(b"\r").unwrap_or(t), true),
            None => (line, false),
        };
        let mut width = 0;
        for (i, &b) in text.iter().enumerate() {
            let at_end = i + 1 == text.len();
            let literal =
                (b == b' ' || b == b'\t') && !at_end || (33..=126).contains(&b) && b != b'=';
            let size = if literal { 1 } else { 3 };
            if width + size > 75 {
                out.extend_from_slice(b"=\r\n");
                width = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'=', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
            width += size;
        }
        if eol {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

#[cfg(test)]
#[path = "partial_tests.rs"]
mod tests;
