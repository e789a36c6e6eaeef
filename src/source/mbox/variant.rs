//! mbox variants (mboxo, mboxrd, mboxcl, mboxcl2; see qmail's mbox(5)) and
//! the per-line rules that differ between them: `>From ` unquoting and the
//! `Content-Length` header.

/// How an mbox file is split and unquoted (`--mbox-variant`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MboxVariant {
    /// Detect per message: a Content-Length that points exactly at the next
    /// From_ line (or the end) is trusted, as mboxcl2 writes it; otherwise
    /// split at From_ lines and undo mboxrd quoting.
    #[default]
    Auto,
    /// From_ lines split; `>From ` quoting is ambiguous, so nothing is unquoted.
    Mboxo,
    /// From_ lines split; `>From `, `>>From ` … lose one `>`.
    Mboxrd,
    /// Content-Length delimits bodies; `>From ` quoting is left as it is.
    Mboxcl,
    /// Content-Length delimits bodies; nothing is quoted.
    Mboxcl2,
}

impl MboxVariant {
    /// Whether a consistent Content-Length header delimits the body.
    pub fn uses_content_length(self) -> bool {
        matches!(
            self,
            MboxVariant::Auto | MboxVariant::Mboxcl | MboxVariant::Mboxcl2
        )
    }

    /// Whether `>+From ` lines lose one `>` (outside Content-Length bodies).
    pub fn unquotes(self) -> bool {
        matches!(self, MboxVariant::Auto | MboxVariant::Mboxrd)
    }
}

/// Length of the mboxrd quote to remove: 1 when `line` is `>+From `, else 0.
pub fn rd_quote_len(line: &[u8]) -> usize {
    if line.first() != Some(&b'>') {
        return 0;
    }
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    usize::from(line[quotes..].starts_with(b"From "))
}

/// The value of a `Content-Length:` header line (`None` for other lines or a
/// value that is not a plain decimal number).
pub fn content_length_value(line: &[u8]) -> Option<u64> {
    const NAME: &[u8] = b"content-length:";
    if line.len() <= NAME.len() || !line[..NAME.len()].eq_ignore_ascii_case(NAME) {
        return None;
    }
    let value = std::str::from_utf8(&line[NAME.len()..]).ok()?.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_rules() {
        assert_eq!(rd_quote_len(b">From me\n"), 1);
        assert_eq!(rd_quote_len(b">>From you\n"), 1);
        assert_eq!(rd_quote_len(b"> From not\n"), 0);
        assert_eq!(rd_quote_len(b">Fromage\n"), 0);
        assert_eq!(rd_quote_len(b"From x\n"), 0);
        assert!(MboxVariant::Mboxrd.unquotes() && MboxVariant::Auto.unquotes());
        assert!(!MboxVariant::Mboxo.unquotes() && !MboxVariant::Mboxcl2.unquotes());
        assert!(MboxVariant::Mboxcl.uses_content_length());
        assert!(!MboxVariant::Mboxrd.uses_content_length());
    }

    #[test]
    fn content_length_header() {
        assert_eq!(content_length_value(b"Content-Length: 42\r\n"), Some(42));
        assert_eq!(content_length_value(b"content-length:7\n"), Some(7));
        assert_eq!(content_length_value(b"Content-Length: x\n"), None);
        assert_eq!(content_length_value(b"Content-Type: text/plain\n"), None);
    }
}
