//! HTML de-encapsulated from RTF ([MS-OXRTFEX] 2.1.3.1): Outlook often keeps
//! an HTML message only as RTF marked `\fromhtml1`, the original HTML being
//! the text outside `\htmlrtf` … `\htmlrtf0` runs plus the `{\*\htmltag …}`
//! groups. This reads that text back: `\par`/`\line` become CRLF, `\tab` a
//! tab, `\'hh` the byte in the document's ANSI code page (`\ansicpgN`), and
//! `\uN` an HTML character reference (valid whatever the charset label).
//! Font, color and style tables and other `\*` destinations are skipped.

/// The HTML and the code page its bytes are in, or `None` when `rtf` is not
/// encapsulated HTML.
pub fn html_from_rtf(rtf: &str) -> Option<(Vec<u8>, i32)> {
    if !rtf.contains("\\fromhtml") {
        return None;
    }
    let b = rtf.as_bytes();
    let mut out = Vec::new();
    let mut codepage = 1252;
    // Per group: (skipped destination, inside \htmlrtf).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let (mut skip, mut suppressed) = (false, false);
    // Characters still to drop after a \uN (its \ucN fallback).
    let mut fallback = 0usize;
    let mut uc = 1usize;
    let mut i = 0;
    let emit = |out: &mut Vec<u8>, bytes: &[u8], skip: bool, suppressed: bool| {
        if !skip && !suppressed {
            out.extend_from_slice(bytes);
        }
    };
    while i < b.len() {
        match b[i] {
            b'{' => {
                stack.push((skip, suppressed));
                i += 1;
                // `{\*\dest` is an optional destination: skipped unless it
                // is an HTML tag.
                if b[i..].starts_with(b"\\*\\") {
                    let word = control_word(&b[i + 3..]).0;
                    if word == "htmltag" {
                        // A tag of the original HTML: always part of it.
                        suppressed = false;
                    } else {
                        skip = true;
                    }
                }
            }
            b'}' => {
                (skip, suppressed) = stack.pop().unwrap_or((false, false));
                i += 1;
            }
            b'\\' => {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                match next {
                    b'\\' | b'{' | b'}' => {
                        if fallback > 0 {
                            fallback -= 1;
                        } else {
                            emit(&mut out, &[next], skip, suppressed);
                        }
                        i += 2;
                    }
                    b'\'' => {
                        let hex = std::str::from_utf8(b.get(i + 2..i + 4).unwrap_or_default())
                            .ok()
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        if fallback > 0 {
                            fallback -= 1;
                        } else if let Some(byte) = hex {
                            emit(&mut out, &[byte], skip, suppressed);
                        }
                        i += 4;
                    }
                    b'~' => {
                        emit(&mut out, b"&nbsp;", skip, suppressed);
                        i += 2;
                    }
                    b'\r' | b'\n' => {
                        emit(&mut out, b"\r\n", skip, suppressed);
                        i += 2;
                    }
                    c if c.is_ascii_alphabetic() => {
                        let (word, param, len) = control_word(&b[i + 1..]);
                        i += 1 + len;
                        match word.as_str() {
                            "htmlrtf" => suppressed = param != Some(0),
                            "ansicpg" => codepage = param.unwrap_or(1252),
                            "uc" => uc = param.unwrap_or(1).max(0) as usize,
                            "u" => {
                                let mut n = param.unwrap_or(0);
                                if n < 0 {
                                    n += 65536;
                                }
                                emit(&mut out, format!("&#{n};").as_bytes(), skip, suppressed);
                                fallback = uc;
                            }
                            "par" | "line" => emit(&mut out, b"\r\n", skip, suppressed),
                            "tab" => emit(&mut out, b"\t", skip, suppressed),
                            "fonttbl" | "colortbl" | "stylesheet" | "info" | "pict" | "object"
                            | "header" | "footer" => skip = true,
                            _ => {}
                        }
                    }
                    _ => i += 2,
                }
            }
            b'\r' | b'\n' => i += 1,
            c => {
                if fallback > 0 {
                    fallback -= 1;
                } else {
                    emit(&mut out, &[c], skip, suppressed);
                }
                i += 1;
            }
        }
    }
    Some((out, codepage))
}

/// A control word at the start of `s` (after the backslash): its name, its
/// numeric parameter, and how many bytes it takes including one delimiting
/// space.
fn control_word(s: &[u8]) -> (String, Option<i32>, usize) {
    let name_len = s.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let name = String::from_utf8_lossy(&s[..name_len]).into_owned();
    let mut len = name_len;
    let digits_start = len;
    if s.get(len) == Some(&b'-') {
        len += 1;
    }
    len += s[len..].iter().take_while(|c| c.is_ascii_digit()).count();
    let param = std::str::from_utf8(&s[digits_start..len])
        .ok()
        .and_then(|p| p.parse().ok());
    if s.get(len) == Some(&b' ') {
        len += 1;
    }
    (name, param, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulated_html_is_recovered() {
        // Shaped like the example of [MS-OXRTFEX] 3.1.
        let rtf = "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl\r\n\
            {\\f0\\fswiss Arial;}}\r\n\
            {\\*\\htmltag19 <html>}\r\n\
            {\\*\\htmltag34 <head>}\r\n\
            {\\*\\htmltag41 </head>}\r\n\
            {\\*\\htmltag50 <body>}\\htmlrtf \\pard\\plain\\htmlrtf0 \r\n\
            {\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Caf\\'e9 \\{x\\} \\u8364?\r\n\
            {\\*\\htmltag72 </p>}\\htmlrtf }\\htmlrtf0 \\par\r\n\
            {\\*\\htmltag58 </body>}\r\n\
            {\\*\\htmltag27 </html>}}";
        let (html, cp) = html_from_rtf(rtf).unwrap();
        assert_eq!(cp, 1252);
        assert_eq!(
            html,
            b"<html><head></head><body><p>Caf\xe9 {x} &#8364;</p>\r\n</body></html>".to_vec()
        );
        assert_eq!(html_from_rtf("{\\rtf1\\ansi\\fromtext x}"), None);
    }
}
