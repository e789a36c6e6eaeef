//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
//!
//! Printable US-ASCII (0x20..=0x7e) stands for itself except `&`, which is
//! written `&-`. Every other run of characters is UTF-16BE, encoded with a
//! modified base64 (`,` instead of `/`, no padding) between `&` and `-`.
//! This module only converts names: the IMAP client uses it for names on
//! the wire (quoting them is `imap::command`'s job), and `source` for
//! Maildir++ folder names, which are stored on disk in the same encoding.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a UTF-8 mailbox name as modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut run);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut out, &mut run);
    out
}

/// Writes a pending run of UTF-16 units as `&base64-`.
fn flush(out: &mut String, run: &mut Vec<u16>) {
    if run.is_empty() {
        return;
    }
    let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1; // RFC 3501 §5.1.3: no "=" padding
        for i in 0..digits {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out.push('-');
    run.clear();
}

/// Decodes a modified UTF-7 mailbox name; `Err` names what is malformed.
pub fn decode(name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let end = after
            .find('-')
            .ok_or_else(|| format!("unterminated '&' shift in {name:?}"))?;
        let b64 = &after[..end];
        if b64.is_empty() {
            out.push('&');
        } else {
            out.push_str(&decode_run(b64).map_err(|e| format!("{e} in {name:?}"))?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn decode_run(b64: &str) -> Result<String, String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut bytes = Vec::with_capacity(b64.len());
    for c in b64.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| format!("invalid base64 character {:?}", c as char))?;
        bits = (bits << 6) | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    if bytes.len() % 2 != 0 {
        return Err("odd number of UTF-16 bytes".into());
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| "invalid UTF-16".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_plus_plus_names_on_disk() {
        assert_eq!(decode("Sent").as_deref(), Ok("Sent"));
        assert_eq!(decode("&AOk-t&AOk-").as_deref(), Ok("été"));
        assert_eq!(decode("A&-B").as_deref(), Ok("A&B"));
        assert_eq!(
            decode("&ZeVnLIqe-").as_deref(),
            Ok("\u{65e5}\u{672c}\u{8a9e}")
        );
        assert!(decode("&AOk").is_err());
        assert!(decode("&!!-").is_err());
    }

    #[test]
    fn known_answers() {
        let cases = [
            ("INBOX", "INBOX"),
            ("&", "&-"),
            ("A&B", "A&-B"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("台北", "&U,BTFw-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Gelöschte Elemente", "Gel&APY-schte Elemente"),
            ("", ""),
            ("😀", "&2D3eAA-"),
        ];
        for (plain, wire) in cases {
            assert_eq!(encode(plain), wire, "encode {plain:?}");
            assert_eq!(decode(wire).unwrap(), plain, "decode {wire:?}");
        }
    }

    #[test]
    fn round_trips() {
        for s in [
            "a&b&&c",
            "Ünïcödé & more",
            "日本語/テスト",
            "tab\tand\u{7f}del",
            "x-y",
        ] {
            assert_eq!(decode(&encode(s)).unwrap(), s);
        }
    }

    #[test]
    fn malformed() {
        assert!(decode("&U,BTFw").is_err());
        assert!(decode("&!!-").is_err());
        assert!(decode("&AP-").is_err()); // one byte only
    }
}
