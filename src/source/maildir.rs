//! Maildir reading: [`MaildirReader`] lists `cur/` and `new/` (never `tmp/`),
//! sorts the file names by their leading timestamp then name, and reads each
//! file only when the iterator reaches it. Flags come from the file name's
//! info part (`:2,` and the lenient `!2,`/`;2,`), keyword letters from the
//! `dovecot-keywords` file, Courier-IMAP's keywords from
//! `courierimapkeywords/` (`courier_keywords.rs`); headers are neither
//! interpreted nor removed. Only regular files are messages: a FIFO, socket
//! or device in `cur/` or `new/` is left out (reading one would block or
//! never end) and named by discovery.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::courier_keywords::CourierKeywords;
use super::date::{self, DateCandidates};
use super::headers::HeaderMode;
use super::{ReadOptions, SourceError, build_message};
use crate::message::{Flag, Message, Origin, normalize_crlf};

/// One message file in `cur/` or `new/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaildirEntry {
    pub path: PathBuf,
    pub name: String,
    pub in_new: bool,
}

/// Keyword names by letter slot (`a` = 0), from `dovecot-keywords`.
pub type KeywordSlots = Vec<Option<String>>;

/// Reads a Maildir's messages as [`Message`]s, one file at a time.
pub struct MaildirReader {
    entries: std::vec::IntoIter<MaildirEntry>,
    keywords: Option<KeywordSlots>,
    courier: Option<CourierKeywords>,
    opts: ReadOptions,
    index: usize,
}

impl MaildirReader {
    pub fn open(dir: &Path, opts: &ReadOptions) -> io::Result<MaildirReader> {
        Ok(MaildirReader {
            entries: list_messages(dir)?.messages.into_iter(),
            keywords: read_keywords(dir),
            courier: CourierKeywords::read(dir)?,
            opts: opts.clone(),
            index: 0,
        })
    }

    fn read(&self, entry: &MaildirEntry, origin: Origin) -> io::Result<Message> {
        let bytes = fs::read(&entry.path)?;
        let mtime = fs::metadata(&entry.path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        let (mut flags, mut warnings) =
            info_flags(&entry.name, entry.in_new, self.keywords.as_deref());
        for kw in self.courier.iter().flat_map(|c| c.of(&entry.name)) {
            keyword_flag(kw, &mut flags, &mut warnings);
        }
        let candidates = DateCandidates {
            file_name: date::file_name_timestamp(&entry.name),
            mtime,
            ..Default::default()
        };
        Ok(build_message(
            origin,
            normalize_crlf(&bytes),
            HeaderMode::DatesOnly,
            candidates,
            flags,
            warnings,
            &self.opts,
        ))
    }
}

impl Iterator for MaildirReader {
    type Item = Result<Message, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        self.index += 1;
        let origin = Origin {
            path: entry.path.clone(),
            index: self.index,
            offset: None,
        };
        Some(self.read(&entry, origin.clone()).map_err(|e| SourceError {
            origin,
            reason: e.to_string(),
        }))
    }
}

/// What `cur/` and `new/` hold.
#[derive(Debug, Default)]
pub struct Listing {
    /// The message files, in reading order.
    pub messages: Vec<MaildirEntry>,
    /// Files that are not regular files (FIFOs, sockets, devices, broken
    /// links): not messages, not read.
    pub not_regular: Vec<PathBuf>,
}

/// The message files of `cur/` and `new/` (dot-files and directories
/// skipped, files that are not regular set apart), sorted by the leading
/// number of the name, then the name. A missing `new/` is fine.
pub fn list_messages(dir: &Path) -> io::Result<Listing> {
    let mut entries = Vec::new();
    let mut not_regular = Vec::new();
    for (sub, in_new) in [("cur", false), ("new", true)] {
        let read = match fs::read_dir(dir.join(sub)) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound && in_new => continue,
            Err(e) => return Err(e),
        };
        for item in read {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let kind = item.file_type()?;
            if name.starts_with('.') || kind.is_dir() {
                continue;
            }
            // A link counts as what it points to.
            let regular = kind.is_file()
                || (kind.is_symlink() && fs::metadata(item.path()).is_ok_and(|m| m.is_file()));
            if !regular {
                not_regular.push(item.path());
                continue;
            }
            entries.push(MaildirEntry {
                path: item.path(),
                name,
                in_new,
            });
        }
    }
    entries.sort_by_cached_key(|e| (leading_number(&e.name), e.name.clone()));
    not_regular.sort();
    Ok(Listing {
        messages: entries,
        not_regular,
    })
}

fn leading_number(name: &str) -> u64 {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(u64::MAX)
}

/// Keyword slots from `dovecot-keywords` (lines `N name`), `None` without the file.
pub fn read_keywords(dir: &Path) -> Option<KeywordSlots> {
    let text = fs::read_to_string(dir.join("dovecot-keywords")).ok()?;
    Some(parse_keywords(&text))
}

fn parse_keywords(text: &str) -> KeywordSlots {
    let mut slots = vec![None; 26];
    for line in text.lines() {
        if let Some((n, name)) = line.trim().split_once(' ')
            && let Ok(n) = n.parse::<usize>()
            && n < 26
        {
            slots[n] = Some(name.trim().to_string());
        }
    }
    slots
}

/// Flags from the info part of a Maildir file name, plus warnings for
/// keyword letters that cannot be named. Unknown characters are ignored.
pub fn info_flags(
    name: &str,
    in_new: bool,
    keywords: Option<&[Option<String>]>,
) -> (Vec<Flag>, Vec<String>) {
    let _ = in_new; // new/ messages are unseen unless the info says otherwise
    let mut flags = Vec::new();
    let mut warnings = Vec::new();
    let info = [":2,", "!2,", ";2,"]
        .iter()
        .filter_map(|sep| name.rfind(sep).map(|i| i + sep.len()))
        .max()
        .map(|start| &name[start..]);
    for c in info.unwrap_or("").chars() {
        match c {
            'P' => flags.push(Flag::Keyword("$Forwarded".into())),
            'R' => flags.push(Flag::Answered),
            'S' => flags.push(Flag::Seen),
            'T' => flags.push(Flag::Deleted),
            'D' => flags.push(Flag::Draft),
            'F' => flags.push(Flag::Flagged),
            'a'..='z' => {
                let slot = (c as u8 - b'a') as usize;
                match keywords.map(|k| k[slot].as_deref()) {
                    None => warnings.push(format!(
                        "keyword letter '{c}' has no name (no dovecot-keywords): the message is uploaded without that keyword"
                    )),
                    Some(None) => warnings.push(format!(
                        "keyword letter '{c}' is not in dovecot-keywords; not uploaded"
                    )),
                    Some(Some(kw)) => keyword_flag(kw, &mut flags, &mut warnings),
                }
            }
            _ => {}
        }
    }
    (flags, warnings)
}

/// The keyword named `kw` as a flag, or a warning when it cannot be one.
fn keyword_flag(kw: &str, flags: &mut Vec<Flag>, warnings: &mut Vec<String>) {
    match Flag::keyword(kw) {
        Some(f) => flags.push(f),
        None => warnings.push(format!("keyword {kw:?} is not an IMAP atom; not uploaded")),
    }
}

/// True for files beside cur/ and new/ that belong to the Maildir's
/// software rather than being misplaced messages.
pub fn is_maildir_housekeeping(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with("dovecot")
        || name.starts_with("courier")
        || matches!(name, "subscriptions" | "maildirfolder" | "maildirsize")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn kw(s: &str) -> Flag {
        Flag::Keyword(s.into())
    }

    #[test]
    fn info_flags_all_separators() {
        let (f, w) = info_flags("1600000000.M1P2.host,S=1000,W=1030:2,FRS", false, None);
        assert_eq!(f, vec![Flag::Flagged, Flag::Answered, Flag::Seen]);
        assert!(w.is_empty());
        let (f, _) = info_flags("1.M1.host,S=1000;2,TDR", false, None);
        assert_eq!(f, vec![Flag::Deleted, Flag::Draft, Flag::Answered]);
        let (f, _) = info_flags("1.M1.host!2,FP", false, None);
        assert_eq!(f, vec![Flag::Flagged, kw("$Forwarded")]);
        let (f, _) = info_flags("1.M1.host;2,RDF,", true, None);
        assert_eq!(f, vec![Flag::Answered, Flag::Draft, Flag::Flagged]);
        let (f, w) = info_flags("1.M1.host", true, None);
        assert!(f.is_empty() && w.is_empty());
        let (f, _) = info_flags("1.M1.host:2,", true, None);
        assert!(f.is_empty());
    }

    #[test]
    fn keyword_letters() {
        let (f, w) = info_flags("1.x:2,STln", false, None);
        assert_eq!(f, vec![Flag::Seen, Flag::Deleted]);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("'l' has no name"), "{w:?}");
        let slots = parse_keywords("0 $Junk\n1 bad word\n11 Work\n");
        let (f, w) = info_flags("1.x:2,Sabcl", false, Some(&slots));
        assert_eq!(f, vec![Flag::Seen, kw("$Junk"), kw("Work")]);
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn reader_lists_sorts_and_reads() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir(d.join(sub)).unwrap();
        }
        fs::write(d.join("cur/1700000000.b.host:2,S"), b"Subject: b\n\nx\n").unwrap();
        fs::write(
            d.join("new/1600000000.a.host"),
            b"Status: RO\nSubject: a\n\n",
        )
        .unwrap();
        fs::write(d.join("cur/1700000000.a.host:2,a"), b"Subject: c\n").unwrap();
        fs::write(d.join("cur/.hidden"), b"x").unwrap();
        fs::write(d.join("tmp/1.x"), b"x").unwrap();
        fs::write(d.join("dovecot-keywords"), b"0 Work\n").unwrap();
        let msgs: Vec<Message> = MaildirReader::open(d, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let names: Vec<_> = msgs
            .iter()
            .map(|m| {
                m.origin
                    .path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "1600000000.a.host",
                "1700000000.a.host:2,a",
                "1700000000.b.host:2,S"
            ]
        );
        assert!(msgs[0].flags.is_empty(), "new/ without info is unseen");
        assert_eq!(
            msgs[0].bytes, b"Status: RO\r\nSubject: a\r\n\r\n",
            "headers untouched"
        );
        assert_eq!(msgs[1].flags, vec![kw("Work")]);
        assert_eq!(msgs[2].flags, vec![Flag::Seen]);
        assert_eq!(msgs[2].origin.index, 3);
        let d0 = msgs[0].date.unwrap();
        assert_eq!(d0.source, crate::message::DateSource::FileName);
        assert_eq!(d0.at.timestamp(), 1_600_000_000);
    }

    /// Courier-IMAP's `courierimapkeywords/:list` gives the messages their
    /// keywords, as `dovecot-keywords` does.
    #[test]
    fn courier_keywords_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("cur")).unwrap();
        fs::write(d.join("cur/1700000000.a.host:2,S"), b"Subject: a\n\n").unwrap();
        fs::write(d.join("cur/1700000001.b.host:2,"), b"Subject: b\n\n").unwrap();
        fs::create_dir(d.join("courierimapkeywords")).unwrap();
        fs::write(
            d.join("courierimapkeywords/:list"),
            "Work\nbad word\n$Label1\n\n1700000000.a.host:0 1\n1700000001.b.host:2\n",
        )
        .unwrap();
        let msgs: Vec<Message> = MaildirReader::open(d, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(msgs[0].flags, vec![Flag::Seen, kw("Work")]);
        assert!(
            msgs[0].warnings.iter().any(|w| w.contains("\"bad word\"")),
            "{:?}",
            msgs[0].warnings
        );
        assert_eq!(msgs[1].flags, vec![kw("$Label1")]);
    }

    /// A FIFO at `path` (as `mkfifo` makes it).
    pub(crate) fn make_fifo(path: &Path) {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success());
    }

    /// A FIFO in `cur/` is set apart, not read (reading it would block).
    #[test]
    fn a_fifo_is_not_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("cur")).unwrap();
        fs::write(d.join("cur/1700000000.a.host:2,S"), b"Subject: a\n\n").unwrap();
        let fifo = d.join("cur/1700000001.fifo.host:2,");
        make_fifo(&fifo);
        let listing = list_messages(d).unwrap();
        assert_eq!(listing.not_regular, vec![fifo]);
        let msgs: Vec<Message> = MaildirReader::open(d, &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(msgs.len(), 1);
    }

    #[test]
    fn unreadable_file_is_an_error_and_iteration_continues() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("cur")).unwrap();
        fs::write(d.join("cur/1.a"), b"a\n").unwrap();
        fs::write(d.join("cur/2.b"), b"b\n").unwrap();
        let mut reader = MaildirReader::open(d, &ReadOptions::default()).unwrap();
        fs::remove_file(d.join("cur/1.a")).unwrap();
        let first = reader.next().unwrap().unwrap_err();
        assert_eq!(first.origin.index, 1);
        assert_eq!(reader.next().unwrap().unwrap().bytes, b"b\r\n");
        assert!(reader.next().is_none());
    }
}
