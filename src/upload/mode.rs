//! The upload mode: MULTIAPPEND (RFC 3502) when the server advertises it,
//! else serial APPENDs, with the literal flavour the server allows (RFC 7888).

use std::fmt;

use crate::imap::{Capabilities, LiteralMode};

/// How messages go to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadMode {
    /// One APPEND command per batch (RFC 3502).
    MultiAppend(LiteralMode),
    /// One APPEND command per message.
    Serial(LiteralMode),
}

impl UploadMode {
    /// MULTIAPPEND only when advertised: Courier stores the first message of
    /// an unadvertised MULTIAPPEND and then answers NO (DESIGN.md).
    pub fn choose(caps: &Capabilities, allow_multiappend: bool) -> UploadMode {
        let literals = caps.literal_mode();
        if allow_multiappend && caps.has("MULTIAPPEND") {
            UploadMode::MultiAppend(literals)
        } else {
            UploadMode::Serial(literals)
        }
    }
}

impl fmt::Display for UploadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literals = |m: &LiteralMode| match m {
            LiteralMode::Plus => "LITERAL+",
            LiteralMode::Minus => "LITERAL- (non-synchronizing up to 4096 bytes)",
            LiteralMode::Sync => "synchronizing literals",
        };
        match self {
            UploadMode::MultiAppend(m) => write!(f, "MULTIAPPEND with {}", literals(m)),
            UploadMode::Serial(LiteralMode::Sync) => {
                write!(f, "serial APPEND with synchronizing literals")
            }
            UploadMode::Serial(m) => write!(f, "serial APPEND, pipelined with {}", literals(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_choice() {
        let caps = |s: &str| Capabilities(s.split(' ').map(String::from).collect());
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 MULTIAPPEND LITERAL+"), true),
            UploadMode::MultiAppend(LiteralMode::Plus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 MULTIAPPEND LITERAL+"), false),
            UploadMode::Serial(LiteralMode::Plus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 LITERAL-"), true),
            UploadMode::Serial(LiteralMode::Minus)
        );
        assert_eq!(
            UploadMode::choose(&caps("IMAP4rev1 UIDPLUS"), true).to_string(),
            "serial APPEND with synchronizing literals"
        );
    }
}
