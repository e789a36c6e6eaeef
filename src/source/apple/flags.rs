//! The `flags` integer of an `.emlx` plist, as IMAP flags.
//!
//! Apple has not published the layout. The table below is the one Jamie
//! Zawinski obtained and posted ("emlx flags?", jwz.org blog, 4 July 2005,
//! <https://www.jwz.org/blog/2005/07/04/>), which Thunderbird's Apple Mail
//! importer also uses (mailnews/import/applemail `nsEmlxHelperUtils.h`,
//! `EmlxMetadataMask`, citing the same post):
//!
//! | bit | meaning | IMAP |
//! |---|---|---|
//! | 0 | read | `\Seen` |
//! | 1 | deleted | `\Deleted` |
//! | 2 | answered | `\Answered` |
//! | 3 | encrypted | — |
//! | 4 | flagged | `\Flagged` |
//! | 5 | recent | — (`\Recent` is the server's) |
//! | 6 | draft | `\Draft` |
//! | 7 | initial (no longer used) | — |
//! | 8 | forwarded | `$Forwarded` |
//! | 9 | redirected | — (no common keyword) |
//! | 10–15 | attachment count | — |
//! | 16–22 | priority level | — (the message's own headers carry it) |
//! | 23 | signed | — |
//! | 24 | is junk | `$Junk` |
//! | 25 | is not junk | `$NotJunk` |
//! | 26–28 | font size delta | — |
//! | 29 | junk mail level recorded | — |
//! | 30 | highlight text in table of contents | — |
//!
//! `$Forwarded`, `$Junk` and `$NotJunk` are the keywords of the IANA IMAP
//! keyword registry (RFC 5788), which Apple Mail itself sets on IMAP servers.
//! Bits not in the table (Mail uses some above 31) are ignored.

use crate::message::Flag;

/// The bits that become flags, with their flag.
const BITS: [(u32, fn() -> Flag); 8] = [
    (0, || Flag::Seen),
    (1, || Flag::Deleted),
    (2, || Flag::Answered),
    (4, || Flag::Flagged),
    (6, || Flag::Draft),
    (8, || Flag::Keyword("$Forwarded".into())),
    (24, || Flag::Keyword("$Junk".into())),
    (25, || Flag::Keyword("$NotJunk".into())),
];

/// The IMAP flags an emlx `flags` value carries, in table order.
pub fn flags_from_bits(bits: u64) -> Vec<Flag> {
    BITS.iter()
        .filter(|(bit, _)| bits & (1 << bit) != 0)
        .map(|(_, flag)| flag())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bits() {
        assert!(flags_from_bits(0).is_empty());
        assert_eq!(flags_from_bits(1), [Flag::Seen]);
        assert_eq!(
            flags_from_bits(0b1_0101_0111),
            [
                Flag::Seen,
                Flag::Deleted,
                Flag::Answered,
                Flag::Flagged,
                Flag::Draft,
                Flag::Keyword("$Forwarded".into()),
            ]
        );
        assert_eq!(
            flags_from_bits((1 << 24) | (1 << 25)),
            [
                Flag::Keyword("$Junk".into()),
                Flag::Keyword("$NotJunk".into())
            ]
        );
        // Encrypted, recent, initial, redirected, attachment count 3,
        // priority, signed, font size, junk level, highlight, a high bit.
        let ignored = (1 << 3)
            | (1 << 5)
            | (1 << 7)
            | (1 << 9)
            | (3 << 10)
            | (0x7f << 16)
            | (1 << 23)
            | (7 << 26)
            | (1 << 29)
            | (1 << 30)
            | (1 << 40);
        assert!(flags_from_bits(ignored).is_empty());
    }
}
