//! Modified UTF-7 (RFC 3501 5.1.3) for mailbox names, written here
//! independently of mailhaul's own codec.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Modified UTF-7 (RFC 3501 5.1.3) to a String; invalid input is kept as is.
pub fn decode_mutf7(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find('-') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let chunk = &after[..end];
        if chunk.is_empty() {
            out.push('&');
        } else {
            let mut bits = 0u32;
            let mut nbits = 0;
            let mut units = Vec::new();
            for b in chunk.bytes() {
                let Some(v) = B64.iter().position(|x| *x == b) else {
                    out.push_str(&rest[i..i + 2 + end]);
                    units.clear();
                    break;
                };
                bits = (bits << 6) | v as u32;
                nbits += 6;
                if nbits >= 16 {
                    nbits -= 16;
                    units.push((bits >> nbits) as u16);
                    bits &= (1 << nbits) - 1;
                }
            }
            out.push_str(&String::from_utf16_lossy(&units));
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A String to modified UTF-7.
pub fn encode_mutf7(s: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let mut bits = 0u32;
        let mut nbits = 0;
        for u in pending.drain(..) {
            bits = (bits << 16) | u as u32;
            nbits += 16;
            while nbits >= 6 {
                nbits -= 6;
                out.push(B64[((bits >> nbits) & 63) as usize] as char);
            }
        }
        if nbits > 0 {
            out.push(B64[((bits << (6 - nbits)) & 63) as usize] as char);
        }
        out.push('-');
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}
