//! Decide: the one place that says, for one message, which mailboxes it goes
//! to and, for each, whether it is sent, skipped on the source's word, or
//! cannot be sent to this server. `scan`, `upload --dry-run`, `verify` and
//! `upload` all ask [`decide`], so a dry run shows the refusals the upload
//! will make and verify expects on the server only what the upload sends.
//!
//! The rules, in order (the first that applies wins, per target mailbox):
//!
//! 1. the source says not to upload it (deleted in Thunderbird, a Takeout
//!    chat): [`Verdict::Skip`];
//! 2. it is empty: [`Refusal::Empty`] (RFC 3502 §6.3.11: a zero-length
//!    literal cancels the command);
//! 3. it is larger than the server's APPENDLIMIT: [`Refusal::OverAppendLimit`]
//!    (RFC 7889: the server would refuse it); where the server advertises
//!    none, larger than its provider's documented cap
//!    ([`crate::provider::Profile`]): [`Refusal::OverProviderLimit`];
//! 4. it carries NUL bytes and the server has no BINARY:
//!    [`Refusal::NulWithoutBinary`] (RFC 3501 §4.3; RFC 3516 literal8 can).
//!
//! What the server is like comes in as [`ServerFacts`]; without a server
//! (`scan`) a rule that depends on it gives [`Verdict::DependsOnServer`].
//! Whether a message is already on the server (journal, server look) is not
//! decided here: it is a later step the upload takes for [`Verdict::Send`]
//! only, so it never repeats these rules. Nothing here does I/O.

use crate::imap::Capabilities;
use crate::message::Message;
use crate::plan::{PlannedFolder, TargetMap};
use crate::provider::SizeCap;
use crate::report::FailureClass;

/// What is known of the server a message would go to. `None` in a field
/// means "not known" (`scan` has no server): rules needing it say so.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// RFC 7889 APPENDLIMIT in bytes, when the server advertises one
    /// (unknown or none: no message is refused for its size).
    pub append_limit: Option<u64>,
    /// RFC 3516 BINARY, when known.
    pub binary: Option<bool>,
    /// The provider's message size cap (`--provider`, or recognised from the
    /// host), used only when no APPENDLIMIT is advertised.
    pub size_cap: Option<SizeCap>,
}

impl ServerFacts {
    /// Nothing known: `scan`, without a server.
    pub fn unknown() -> ServerFacts {
        ServerFacts::default()
    }

    /// From the server's capabilities (after login).
    pub fn of(caps: &Capabilities) -> ServerFacts {
        ServerFacts {
            append_limit: caps.append_limit(),
            binary: Some(caps.has("BINARY")),
            size_cap: None,
        }
    }

    /// With a provider's size cap (from its profile).
    pub fn with_size_cap(self, size_cap: Option<SizeCap>) -> ServerFacts {
        ServerFacts { size_cap, ..self }
    }
}

/// Why a message cannot be sent to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 0 bytes: no IMAP server can store it.
    Empty,
    /// Larger than the server's APPENDLIMIT.
    OverAppendLimit { size: u64, limit: u64 },
    /// Larger than the provider's documented cap (no APPENDLIMIT advertised).
    OverProviderLimit {
        size: u64,
        limit: u64,
        provider: &'static str,
    },
    /// NUL bytes, and the server has no BINARY.
    NulWithoutBinary,
}

impl Refusal {
    /// The reason as the report, the dry run and `--failed-out` give it.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Empty => "empty message (0 bytes); an IMAP server cannot store it".into(),
            Refusal::OverAppendLimit { size, limit } => {
                format!("{size} bytes is larger than the server's APPENDLIMIT of {limit} bytes")
            }
            Refusal::OverProviderLimit {
                size,
                limit,
                provider,
            } => format!(
                "{size} bytes is larger than {provider}'s limit of {limit} bytes per message (not advertised by the server; --provider none sends it anyway)"
            ),
            Refusal::NulWithoutBinary => {
                "the message contains NUL bytes and the server has no BINARY extension (RFC 3516)"
                    .into()
            }
        }
    }

    /// The failure class the report files it under.
    pub fn class(&self) -> FailureClass {
        FailureClass::NotSent
    }

    /// For [`Verdict::DependsOnServer`]: what the server must offer for the
    /// message to be sent.
    pub fn condition(&self) -> &'static str {
        match self {
            Refusal::Empty => "nothing (no server can store it)",
            Refusal::OverAppendLimit { .. } => "an APPENDLIMIT no smaller than its size",
            Refusal::OverProviderLimit { .. } => "a provider taking messages this big",
            Refusal::NulWithoutBinary => "BINARY (RFC 3516), as it contains NUL bytes",
        }
    }
}

/// What happens to a message for one target mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it (unless a later look finds it already there).
    Send,
    /// The source says not to upload it: the reason. Counted as skipped.
    Skip(String),
    /// This server cannot take it. Counted as failed ([`Refusal::class`]).
    CannotSend(Refusal),
    /// Refused or sent depending on what the server is like, which is not
    /// known here (only from [`ServerFacts::unknown`]). The upload, which
    /// always knows its server, never gets it.
    DependsOnServer(Refusal),
}

/// Where `msg` (read from `folder`) goes and what happens to it in each
/// mailbox. Empty when every one of its labels is excluded.
pub fn decide(
    msg: &Message,
    folder: &PlannedFolder,
    map: &TargetMap,
    server: &ServerFacts,
) -> Vec<(String, Verdict)> {
    let verdict = verdict(msg, server);
    targets_of(msg, folder, map)
        .into_iter()
        .map(|mailbox| (mailbox, verdict.clone()))
        .collect()
}

/// The verdict for `msg` on `server` (the same for each of its mailboxes
/// while the facts are the server's, not a mailbox's).
fn verdict(msg: &Message, server: &ServerFacts) -> Verdict {
    if let Some(reason) = &msg.skip {
        return Verdict::Skip(reason.clone());
    }
    if msg.bytes.is_empty() {
        return Verdict::CannotSend(Refusal::Empty);
    }
    let size = msg.bytes.len() as u64;
    if let Some(limit) = server.append_limit
        && size > limit
    {
        return Verdict::CannotSend(Refusal::OverAppendLimit { size, limit });
    }
    if let Some(cap) = server.size_cap
        && server.append_limit.is_none()
        && size > cap.bytes
    {
        return Verdict::CannotSend(Refusal::OverProviderLimit {
            size,
            limit: cap.bytes,
            provider: cap.provider,
        });
    }
    if msg.bytes.contains(&0) {
        match server.binary {
            Some(true) => {}
            Some(false) => return Verdict::CannotSend(Refusal::NulWithoutBinary),
            None => return Verdict::DependsOnServer(Refusal::NulWithoutBinary),
        }
    }
    Verdict::Send
}

/// The mailboxes a message goes to: its own targets (Takeout labels) mapped
/// like folders and filtered by `--include`/`--exclude`, else its folder's
/// mailbox. Empty when every label is excluded.
fn targets_of(msg: &Message, folder: &PlannedFolder, map: &TargetMap) -> Vec<String> {
    if msg.targets.is_empty() {
        return vec![folder.mailbox.clone()];
    }
    let mut out: Vec<String> = Vec::new();
    for t in msg.targets.iter().filter(|t| map.is_included(t)) {
        let name = map.target(t).0;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ServerLayout, TargetOptions};
    use crate::source::{FolderKind, SourceFolder};

    fn message(bytes: &[u8]) -> Message {
        Message::sample("m.mbox", bytes)
    }

    fn map(opts: TargetOptions) -> TargetMap {
        TargetMap::new(&opts, ServerLayout::offline()).unwrap()
    }

    fn folder(mailbox: &str) -> PlannedFolder {
        PlannedFolder {
            source: SourceFolder {
                path: "m.mbox".into(),
                kind: FolderKind::Mbox,
                folder: vec![mailbox.into()],
            },
            mailbox: mailbox.into(),
            notes: Vec::new(),
        }
    }

    fn facts(append_limit: Option<u64>, binary: bool) -> ServerFacts {
        ServerFacts {
            append_limit,
            binary: Some(binary),
            size_cap: None,
        }
    }

    fn one(msg: &Message, server: &ServerFacts) -> Verdict {
        let d = decide(msg, &folder("INBOX"), &map(Default::default()), server);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, "INBOX");
        d[0].1.clone()
    }

    #[test]
    fn an_ordinary_message_is_sent_known_server_or_not() {
        let m = message(b"Subject: x\r\n\r\nhi\r\n");
        assert_eq!(one(&m, &facts(None, false)), Verdict::Send);
        assert_eq!(one(&m, &ServerFacts::unknown()), Verdict::Send);
    }

    #[test]
    fn the_source_skip_comes_first() {
        let mut m = message(b"");
        m.skip = Some("Gmail chat transcript".into());
        for server in [facts(Some(1), false), ServerFacts::unknown()] {
            assert_eq!(
                one(&m, &server),
                Verdict::Skip("Gmail chat transcript".into())
            );
        }
    }

    #[test]
    fn empty_cannot_be_sent_anywhere() {
        let m = message(b"");
        for server in [facts(None, true), ServerFacts::unknown()] {
            assert_eq!(one(&m, &server), Verdict::CannotSend(Refusal::Empty));
        }
        assert_eq!(Refusal::Empty.class(), FailureClass::NotSent);
        assert!(Refusal::Empty.reason().contains("0 bytes"));
    }

    #[test]
    fn over_appendlimit_cannot_be_sent() {
        let m = message(b"12345");
        assert_eq!(
            one(&m, &facts(Some(4), true)),
            Verdict::CannotSend(Refusal::OverAppendLimit { size: 5, limit: 4 })
        );
        assert_eq!(one(&m, &facts(Some(5), true)), Verdict::Send);
        assert_eq!(
            Refusal::OverAppendLimit { size: 5, limit: 4 }.reason(),
            "5 bytes is larger than the server's APPENDLIMIT of 4 bytes"
        );
    }

    #[test]
    fn a_provider_cap_refuses_where_no_appendlimit_is_advertised() {
        let cap = Some(SizeCap {
            bytes: 4,
            provider: "iCloud Mail",
        });
        let m = message(b"12345");
        let over = Verdict::CannotSend(Refusal::OverProviderLimit {
            size: 5,
            limit: 4,
            provider: "iCloud Mail",
        });
        assert_eq!(one(&m, &facts(None, true).with_size_cap(cap)), over);
        // scan --provider: the same refusal without a server.
        assert_eq!(one(&m, &ServerFacts::unknown().with_size_cap(cap)), over);
        // An advertised APPENDLIMIT is the server's own word: it wins.
        assert_eq!(
            one(&m, &facts(Some(5), true).with_size_cap(cap)),
            Verdict::Send
        );
        assert_eq!(
            one(&message(b"1234"), &facts(None, true).with_size_cap(cap)),
            Verdict::Send
        );
        let Verdict::CannotSend(r) = over else {
            unreachable!()
        };
        assert_eq!(
            r.reason(),
            "5 bytes is larger than iCloud Mail's limit of 4 bytes per message (not advertised by the server; --provider none sends it anyway)"
        );
        assert_eq!(r.class(), FailureClass::NotSent);
    }

    #[test]
    fn nul_bytes_need_binary_and_depend_on_an_unknown_server() {
        let m = message(b"a\0b");
        assert_eq!(one(&m, &facts(None, true)), Verdict::Send);
        assert_eq!(
            one(&m, &facts(None, false)),
            Verdict::CannotSend(Refusal::NulWithoutBinary)
        );
        assert_eq!(
            one(&m, &ServerFacts::unknown()),
            Verdict::DependsOnServer(Refusal::NulWithoutBinary)
        );
        assert!(Refusal::NulWithoutBinary.reason().contains("BINARY"));
    }

    #[test]
    fn facts_from_capabilities() {
        let caps = Capabilities(vec!["IMAP4REV1".into(), "APPENDLIMIT=100".into()]);
        assert_eq!(ServerFacts::of(&caps), facts(Some(100), false));
        let caps = Capabilities(vec!["BINARY".into()]);
        assert_eq!(ServerFacts::of(&caps), facts(None, true));
    }

    #[test]
    fn labels_are_mapped_filtered_and_deduplicated() {
        let mut m = message(b"x");
        m.targets = vec![vec!["Work".into()], vec!["Old".into()], vec!["Work".into()]];
        let map = map(TargetOptions {
            exclude: vec!["Old".into()],
            ..Default::default()
        });
        let d = decide(&m, &folder("All"), &map, &facts(None, true));
        assert_eq!(d, [("Work".to_string(), Verdict::Send)]);
        m.targets = vec![vec!["Old".into()]];
        assert!(decide(&m, &folder("All"), &map, &facts(None, true)).is_empty());
        m.targets.clear();
        let d = decide(&m, &folder("All"), &map, &facts(None, true));
        assert_eq!(d, [("All".to_string(), Verdict::Send)]);
    }
}
