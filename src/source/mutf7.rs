//! Decoding of modified UTF-7 (RFC 3501 §5.1.3), the encoding Maildir++
//! folder names use on disk (`.&AOk-t&AOk-` is "été").

/// Decodes a modified UTF-7 name; `None` when it is not valid modified UTF-7.
pub fn decode_mutf7(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = name;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find('-')?;
        let encoded = &after[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            out.push_str(&decode_utf16_base64(encoded)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Modified base64 (`,` for `/`, no padding) of UTF-16BE.
fn decode_utf16_base64(s: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b',' => 63,
            _ => return None,
        } as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(decode_mutf7("Sent").as_deref(), Some("Sent"));
        assert_eq!(decode_mutf7("&AOk-t&AOk-").as_deref(), Some("été"));
        assert_eq!(decode_mutf7("A&-B").as_deref(), Some("A&B"));
        assert_eq!(
            decode_mutf7("&ZeVnLIqe-").as_deref(),
            Some("\u{65e5}\u{672c}\u{8a9e}")
        );
        assert_eq!(decode_mutf7("&AOk"), None);
        assert_eq!(decode_mutf7("&!!-"), None);
    }
}
