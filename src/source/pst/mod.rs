//! Outlook PST/OST files (Unicode and ANSI, read with Microsoft's
//! `outlook-pst` crate; see [`store`]): each folder below "Top of Personal
//! Folders" is a source folder, its mail items are rebuilt as MIME messages
//! ([`mime`]) one at a time.
//!
//! - Folders: the PST's hierarchy without the root and the IPM-subtree
//!   level. A top-level Inbox in one of Outlook's languages becomes `INBOX`;
//!   Sent Items, Deleted Items, Drafts, Junk E-mail (localized) keep their
//!   names and reach the server's special-use mailboxes through
//!   `plan::special_use`, the one place that knows those names.
//! - Items whose message class is not `IPM.Note*` (contacts, appointments,
//!   tasks, notes, reports) are skipped with their class as the reason.
//! - Flags ([`props::flags`]): read → `\Seen`, unsent → `\Draft`, follow-up
//!   flag → `\Flagged`, replied → `\Answered`, forwarded → `$Forwarded`.
//! - Internal date: `PidTagMessageDeliveryTime`, else
//!   `PidTagClientSubmitTime`, offered to the date choice as the mail store's
//!   date (first under `auto` and `delivery`).
//! - What could not be rebuilt exactly (no transport headers, an RTF-only
//!   body, links instead of attachments) is a message warning.
//!
//! OST files of Outlook 2003–2010 (`SO` client magic, otherwise a PST's
//! format) are read like PSTs, OSTs of Outlook 2013 and later (`wVer` 36:
//! 4 KiB pages, zlib-compressed blocks) through a Unicode PST view of them
//! (patches of the vendored `outlook-pst`, `vendor/outlook-pst/MAILHAUL.md`);
//! their IPM subtree is found by name ([`store`]).

pub mod envelope;
pub mod mime;
pub mod props;
pub mod rtf_html;
pub mod store;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use self::store::PstStore;
use super::date::DateCandidates;
use super::headers::HeaderMode;
use super::{FolderKind, ReadOptions, SourceError, SourceFolder, build_message};
use crate::message::{Message, Origin};

/// True when `path` starts with the PST/OST header magic `!BDN` ([MS-PST]
/// 2.2.2.6 `dwMagic`).
pub fn is_pst(path: &Path) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut f = fs::File::open(path)?;
    let n = f.read(&mut magic)?;
    Ok(n == 4 && &magic == b"!BDN")
}

/// True for a name ending in `.pst` or `.ost`.
pub fn has_pst_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pst") || e.eq_ignore_ascii_case("ost"))
}

/// Outlook's name for the Inbox in the languages it ships in, lower case.
const INBOX_NAMES: [&str; 14] = [
    "inbox",
    "posteingang",
    "boîte de réception",
    "bandeja de entrada",
    "posta in arrivo",
    "postvak in",
    "inkorgen",
    "caixa de entrada",
    "odebrane",
    "indbakke",
    "innboks",
    "saapuneet",
    "входящие",
    "受信トレイ",
];

/// The folders of the PST at `path`, each named `prefix` + its PST path,
/// and the folders that could not be read, as problems.
pub fn folders(
    path: &Path,
    prefix: &[String],
) -> io::Result<(Vec<SourceFolder>, Vec<SourceError>)> {
    let store = PstStore::open(path).map_err(|e| unreadable(path, e))?;
    let (found, problems) = store.folders().map_err(|e| unreadable(path, e))?;
    let problems = problems
        .into_iter()
        .map(|reason| SourceError {
            origin: Origin {
                path: path.to_path_buf(),
                index: 0,
                offset: None,
            },
            reason,
        })
        .collect();
    let folders = found
        .into_iter()
        .map(|f| SourceFolder {
            path: path.to_path_buf(),
            kind: FolderKind::Pst {
                node: f.node,
                bytes: f.bytes,
            },
            folder: prefix
                .iter()
                .cloned()
                .chain(folder_names(f.names))
                .collect(),
        })
        .collect();
    Ok((folders, problems))
}

/// A PST folder's path as source folder components: a top-level Inbox in
/// any of Outlook's languages is `INBOX` (its subfolders below it); other
/// names stay as they are (special folders are recognized by
/// `plan::special_use`).
fn folder_names(mut names: Vec<String>) -> Vec<String> {
    if names
        .first()
        .is_some_and(|n| INBOX_NAMES.contains(&n.to_lowercase().as_str()))
    {
        names[0] = "INBOX".into();
    }
    names
}

/// The error for a file `outlook-pst` could not open, naming it an OST or a
/// PST by its client magic.
fn unreadable(path: &Path, e: io::Error) -> io::Error {
    let mut head = [0u8; 0xC0];
    let _ = fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
    // wMagicClient: "SM" for a PST, "SO" for an OST.
    let kind = if &head[8..10] == b"SO" { "OST" } else { "PST" };
    let size = fs::metadata(path).map_or(0, |m| m.len());
    match truncation(&head, size) {
        Some(why) => io::Error::other(format!("not a readable {kind} file: {why}")),
        None => io::Error::other(format!("not a readable {kind} file: {e}")),
    }
}

/// Why a file of `size` bytes whose header is `head` is cut short, when its
/// header says it is longer: `ROOT.ibFileEof` ([MS-PST] 2.2.2.5), a u64 at
/// 0xB8 in a Unicode header (`wVer` ≥ 23), a u32 at 0xA8 in an ANSI one.
fn truncation(head: &[u8; 0xC0], size: u64) -> Option<String> {
    let version = u16::from_le_bytes([head[10], head[11]]);
    let eof = match version {
        14 | 15 => u64::from(u32::from_le_bytes(head[0xA8..0xAC].try_into().ok()?)),
        v if v >= 23 => u64::from_le_bytes(head[0xB8..0xC0].try_into().ok()?),
        _ => return None,
    };
    (eof > size).then(|| {
        format!("truncated: the file has {size} bytes, its header says {eof} (an incomplete copy or download?)")
    })
}

/// Reads one PST folder's messages, one item at a time.
pub struct PstReader {
    store: PstStore,
    path: PathBuf,
    /// The folder's path inside the PST, for origins.
    folder: Vec<String>,
    ids: std::vec::IntoIter<u32>,
    index: usize,
    opts: ReadOptions,
}

impl PstReader {
    pub fn open(folder: &SourceFolder, node: u32, opts: &ReadOptions) -> io::Result<PstReader> {
        let store = PstStore::open(&folder.path).map_err(|e| unreadable(&folder.path, e))?;
        let ids = store.message_ids(node)?;
        Ok(PstReader {
            store,
            path: folder.path.clone(),
            folder: folder.folder.clone(),
            ids: ids.into_iter(),
            index: 0,
            opts: opts.clone(),
        })
    }

    fn origin(&self, node: u32) -> Origin {
        let mut path = self.path.clone();
        path.extend(&self.folder);
        path.push(format!("message {} (node {node:#x})", self.index));
        Origin {
            path,
            index: self.index,
            offset: None,
        }
    }
}

impl Iterator for PstReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let node = self.ids.next()?;
        self.index += 1;
        let origin = self.origin(node);
        let item = match self.store.read_item(node) {
            Ok(item) => item,
            Err(e) => {
                return Some(Err(SourceError {
                    origin,
                    reason: format!("unreadable Outlook item: {e}"),
                }));
            }
        };
        Some(Ok(message(origin, &item, &self.opts)))
    }
}

/// The message of one item: rebuilt bytes, flags, the store's date; items
/// that are not mail are marked skipped.
pub fn message(origin: Origin, item: &store::Item, opts: &ReadOptions) -> Message {
    let class = props::text(&item.props, props::MESSAGE_CLASS).unwrap_or_default();
    let rebuilt = mime::rebuild(item);
    let candidates = DateCandidates {
        store_received: props::time(&item.props, props::MESSAGE_DELIVERY_TIME)
            .or_else(|| props::time(&item.props, props::CLIENT_SUBMIT_TIME)),
        ..Default::default()
    };
    let mut msg = build_message(
        origin,
        rebuilt.bytes,
        HeaderMode::DatesOnly,
        candidates,
        props::flags(&item.props),
        rebuilt.warnings,
        opts,
    );
    if !is_mail_class(&class) {
        msg.skip = Some(format!("Outlook item of class {class:?} is not mail"));
    }
    msg
}

/// `IPM.Note` and its subclasses (`IPM.Note.SMIME`, …); an item without a
/// class is taken as mail.
fn is_mail_class(class: &str) -> bool {
    let lower = class.to_ascii_lowercase();
    lower.is_empty() || lower == "ipm.note" || lower.starts_with("ipm.note.")
}

#[cfg(test)]
mod tests {
    use super::props::Value;
    use super::store::Item;
    use super::*;
    use crate::message::{DateSource, Flag};

    fn origin() -> Origin {
        Origin {
            path: PathBuf::from("x.pst/Inbox/message 1"),
            index: 1,
            offset: None,
        }
    }

    #[test]
    fn items_become_messages_or_skips() {
        let mut item = Item::default();
        item.props
            .insert(props::MESSAGE_CLASS, Value::Text("IPM.Note".into()));
        item.props.insert(props::MESSAGE_FLAGS, Value::Int(1));
        item.props.insert(
            props::TRANSPORT_MESSAGE_HEADERS,
            Value::Text("Subject: s\r\nDate: Mon, 1 Jan 2001 00:00:00 +0000\r\n\r\n".into()),
        );
        item.props.insert(
            props::MESSAGE_DELIVERY_TIME,
            Value::Time(126_430_805_910_000_000),
        );
        let m = message(origin(), &item, &ReadOptions::default());
        assert_eq!(m.skip, None);
        assert_eq!(m.flags, vec![Flag::Seen]);
        let date = m.date.unwrap();
        assert_eq!(date.source, DateSource::StoreReceived);
        assert_eq!(date.at.to_rfc3339(), "2001-08-23T22:49:51+00:00");
        assert!(m.bytes.starts_with(b"Subject: s\r\nDate: Mon, 1 Jan 2001"));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);

        // Without a store date the Date header of the rebuilt message counts.
        item.props.remove(&props::MESSAGE_DELIVERY_TIME);
        let m = message(origin(), &item, &ReadOptions::default());
        assert_eq!(m.date.unwrap().source, DateSource::DateHeader);

        item.props
            .insert(props::MESSAGE_CLASS, Value::Text("IPM.Contact".into()));
        let m = message(origin(), &item, &ReadOptions::default());
        assert_eq!(
            m.skip.as_deref(),
            Some("Outlook item of class \"IPM.Contact\" is not mail")
        );
    }

    #[test]
    fn inbox_names() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(folder_names(v(&["Posteingang"])), v(&["INBOX"]));
        assert_eq!(folder_names(v(&["Boîte de réception"])), v(&["INBOX"]));
        assert_eq!(folder_names(v(&["Inbox", "Sub"])), v(&["INBOX", "Sub"]));
        assert_eq!(folder_names(v(&["Work", "Inbox"])), v(&["Work", "Inbox"]));
        assert_eq!(
            folder_names(v(&["Gesendete Elemente"])),
            v(&["Gesendete Elemente"])
        );
    }

    /// A file with `head` as the first bytes of its header, and the error
    /// reading it gives.
    fn open_error(head: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.ost");
        let mut bytes = head.to_vec();
        bytes.resize(4096, 0);
        fs::write(&path, bytes).unwrap();
        folders(&path, &[]).unwrap_err().to_string()
    }

    #[test]
    fn unreadable_files_say_what_they_are() {
        // dwMagic, dwCRCPartial, wMagicClient "SO", wVer 36 (Outlook 2013+),
        // B-tree roots at offset 0: not a B-tree page.
        let err = open_error(b"!BDN\0\0\0\0SO\x24\0");
        assert!(err.starts_with("not a readable OST file: "), "{err}");
        assert!(err.contains("OST (wVer 36): page at 0x0"), "{err}");
        // A damaged OST of the readable format (wVer 23, bad CRC) and a
        // damaged PST say what they are and what the library found.
        let err = open_error(b"!BDN\0\0\0\0SO\x17\0");
        assert!(err.starts_with("not a readable OST file: "), "{err}");
        assert!(err.contains("CRC"), "{err}");
        let err = open_error(b"!BDN\0\0\0\0SM\x17\0");
        assert!(err.starts_with("not a readable PST file: "), "{err}");
    }

    #[test]
    fn truncated_files_say_so() {
        let mut head = [0u8; 0xC0];
        head[..12].copy_from_slice(b"!BDN\0\0\0\0SM\x17\0");
        head[0xB8..0xC0].copy_from_slice(&13_984_768u64.to_le_bytes());
        let why = truncation(&head, 8_000_000).unwrap();
        assert_eq!(
            why,
            "truncated: the file has 8000000 bytes, its header says 13984768 (an incomplete copy or download?)"
        );
        assert_eq!(truncation(&head, 13_984_768), None);
        // ANSI (wVer 14): a u32 at 0xA8.
        head[10] = 14;
        head[0xA8..0xAC].copy_from_slice(&5000u32.to_le_bytes());
        assert!(truncation(&head, 4096).unwrap().contains("says 5000"));
        assert_eq!(truncation(&head, 5000), None);
    }

    #[test]
    fn classes() {
        assert!(is_mail_class("IPM.Note"));
        assert!(is_mail_class("IPM.Note.SMIME.MultipartSigned"));
        assert!(is_mail_class(""));
        assert!(!is_mail_class("IPM.Contact"));
        assert!(!is_mail_class("IPM.Appointment"));
        assert!(!is_mail_class("IPM.Notes"));
    }
}
