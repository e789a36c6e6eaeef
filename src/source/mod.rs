//! Sources: finds the mailboxes under the paths the user gave and reads their
//! messages, one at a time, into [`Message`]s (bytes normalized, flags and
//! internal date chosen). A source knows nothing about IMAP or the server:
//! folder names here are the user's hierarchy as path components; `plan`
//! maps them onto the server.
//!
//! Streaming: a folder's messages come from an iterator that reads one
//! message at a time, so memory is bounded by the largest message, never by
//! the size of the mailbox.

pub mod apple;
pub mod archive;
mod courier_keywords;
pub mod date;
pub mod dateparse;
pub mod discover;
pub mod eml;
pub mod headers;
mod loose_file;
pub mod maildir;
pub mod mbox;
mod overlap;
pub mod pst;
pub mod stable_file;
pub mod takeout;

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use anyhow::Context;

use crate::message::{Flag, Message, Origin};

use self::date::DateCandidates;
pub use self::date::DatePolicy;
use self::headers::HeaderMode;
pub use self::mbox::MboxVariant;

/// What kind of source a path is; `Auto` detects it (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Detect from the files.
    Auto,
    /// A single mbox file.
    Mbox,
    /// A directory tree of mbox files: each file a mailbox, directories are hierarchy.
    MboxTree,
    /// A single Maildir (cur/ and new/).
    Maildir,
    /// A Maildir++ tree: the root is INBOX, `.A.B` is A/B.
    #[value(name = "maildir++", alias = "maildirpp")]
    MaildirPlusPlus,
    /// A directory of single-message files (.eml, .msg), or one such file.
    Eml,
    /// An Outlook .pst (Unicode or ANSI) or .ost file; its folders are the mailboxes.
    Pst,
    /// Apple Mail: exported `X.mbox` bundles, or Mail's own store
    /// (`~/Library/Mail/V*`, `.emlx` files), or one `.emlx` file.
    Apple,
    /// A Google Takeout .zip or .tgz (or its split parts, or a directory of
    /// them): the mbox inside read in place, never unpacked. Either name
    /// reads either packing (told by the magic bytes).
    #[value(name = "takeout-zip", alias = "takeout-tgz")]
    TakeoutArchive,
}

/// How a folder's messages are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// One file holding many messages (mbox, Thunderbird, Gmail Takeout, `.gz`).
    Mbox,
    /// A Maildir: one-message files in cur/ and new/.
    Maildir,
    /// One-message files (`.eml`, `.msg`, or no extension): a directory of
    /// them, or a single such file.
    Eml,
    /// A folder inside an Outlook PST file (`path`), by its node id, with
    /// the size of its messages as the PST records them.
    Pst { node: u32, bytes: u64 },
    /// The `mbox` file inside an Apple Mail export bundle (`X.mbox/mbox`).
    AppleExport,
    /// An Apple Mail store mailbox (the `X.mbox` directory, its `.emlx`
    /// files below it), or one `.emlx` file.
    Emlx,
    /// An mbox inside a Google Takeout archive (zip or tgz), read in place.
    TakeoutArchive(archive::ArchivedMbox),
}

impl FolderKind {
    /// The kind's name as `scan` shows it.
    pub fn name(&self) -> String {
        match self {
            FolderKind::Mbox => "mbox".into(),
            FolderKind::Maildir => "maildir".into(),
            FolderKind::Eml => "eml".into(),
            FolderKind::AppleExport => "apple-export".into(),
            FolderKind::Emlx => "apple-emlx".into(),
            FolderKind::TakeoutArchive(m) => m.kind_name(),
            FolderKind::Pst { .. } => "pst".into(),
        }
    }
}

/// One source mailbox: where it is, how it is stored and which folder it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFolder {
    /// The mbox file, or the Maildir directory (the one holding cur/ and new/).
    pub path: PathBuf,
    pub kind: FolderKind,
    /// Hierarchy components, e.g. `["Archive", "2020"]`; `["INBOX"]` for the inbox.
    /// Never empty.
    pub folder: Vec<String>,
}

/// Options that change what is read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Keep mbox client-state headers (Status, X-Status, …) instead of removing them.
    pub keep_status_headers: bool,
    /// "Now", for the sanity check that a date is not in the future.
    pub now: DateTime<Utc>,
    /// Which date becomes the internal date.
    pub date_policy: DatePolicy,
    /// How mbox files are split and unquoted.
    pub mbox_variant: MboxVariant,
    /// Upload messages a client marked expunged (Thunderbird 0x0008) with
    /// `\Deleted` instead of skipping them.
    pub include_deleted: bool,
    /// Gmail Takeout handling: `None` detects it from the first message.
    pub takeout: Option<bool>,
    /// Mailbox for Takeout messages without a folder label.
    pub takeout_archive: String,
    /// Upload Takeout chat transcripts instead of skipping them.
    pub takeout_chats: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            keep_status_headers: false,
            now: Utc::now(),
            date_policy: DatePolicy::Auto,
            mbox_variant: MboxVariant::Auto,
            include_deleted: false,
            takeout: None,
            takeout_archive: "Archive".into(),
            takeout_chats: false,
        }
    }
}

/// A message, or a file, that could not be read; named for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub origin: Origin,
    pub reason: String,
}

impl SourceError {
    /// True when the file changed under its reader, which stopped there
    /// (`mbox/watch.rs`): a stop of the whole file, wherever it happened,
    /// not a fault of the message it names.
    pub fn changed_while_read(&self) -> bool {
        self.reason.starts_with(mbox::CHANGED)
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// What discovery found: the folders to read, and files it saw but will not
/// upload: `problems` (e.g. loose files beside cur/ and new/, files that
/// are no mail) are warnings; `unreadable` are files it recognised as mail
/// (by their magic or a mail extension) but cannot read, which fail the
/// run (exit 1) while the rest is still uploaded.
#[derive(Debug, Default)]
pub struct Discovery {
    pub folders: Vec<SourceFolder>,
    pub problems: Vec<SourceError>,
    pub unreadable: Vec<SourceError>,
}

pub type MessageIter = Box<dyn Iterator<Item = Result<Message, SourceError>>>;

/// Options that change what discovery finds.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscoverOptions {
    /// Read Apple Mail's `.imapmbox` server caches too (skipped by default).
    pub apple_imap_caches: bool,
}

/// Finds the source folders under `paths`. A path that does not exist or whose
/// kind cannot be detected is an error naming the path. A folder that more
/// than one path leads to is found once, with a warning (`overlap.rs`).
pub fn discover(paths: &[PathBuf], format: Format) -> anyhow::Result<Discovery> {
    discover_with(paths, format, DiscoverOptions::default())
}

/// [`discover()`] with options.
pub fn discover_with(
    paths: &[PathBuf],
    format: Format,
    opts: DiscoverOptions,
) -> anyhow::Result<Discovery> {
    let mut out = Discovery::default();
    // Split parts of one Takeout export are read together, whichever of
    // them comes first.
    let archives: Vec<PathBuf> = paths
        .iter()
        .filter(|p| discover::is_given_archive(p, format))
        .cloned()
        .collect();
    let groups = archive::group_parts(&archives);
    let mut done = vec![false; groups.len()];
    let mut overlap = overlap::Overlap::default();
    for path in paths {
        let from = overlap::Overlap::mark(&out);
        match groups.iter().position(|g| g.contains(path)) {
            Some(i) if !done[i] => {
                done[i] = true;
                archive::discover_archives(&groups[i], true, &mut out)?;
            }
            Some(_) => {}
            None => discover::discover_path(path, format, opts, &mut out)?,
        }
        overlap.admit(path, &mut out, from);
    }
    Ok(out)
}

impl SourceFolder {
    /// Where the folder is, for plans and errors: its path, and for a
    /// folder inside a PST also the folder's name there.
    pub fn location(&self) -> String {
        match &self.kind {
            FolderKind::Pst { .. } => format!("{}: {}", self.path.display(), self.folder.join("/")),
            _ => self.path.display().to_string(),
        }
    }

    /// Opens the folder and returns its messages in source order.
    pub fn messages(&self, opts: &ReadOptions) -> anyhow::Result<MessageIter> {
        let context = || format!("{}: cannot open", self.path.display());
        let iter: MessageIter = match &self.kind {
            FolderKind::Mbox | FolderKind::AppleExport => {
                Box::new(mbox::MboxReader::open(&self.path, opts).with_context(context)?)
            }
            FolderKind::Emlx => {
                Box::new(apple::EmlxReader::open(&self.path, opts).with_context(context)?)
            }
            FolderKind::Eml => {
                Box::new(eml::EmlReader::open(&self.path, opts).with_context(context)?)
            }
            FolderKind::Maildir => {
                Box::new(maildir::MaildirReader::open(&self.path, opts).with_context(context)?)
            }
            FolderKind::Pst { node, .. } => {
                Box::new(pst::PstReader::open(self, *node, opts).with_context(context)?)
            }
            FolderKind::TakeoutArchive(mbox) => {
                Box::new(mbox.messages(opts).with_context(context)?)
            }
        };
        Ok(iter)
    }
}

/// Finishes a message read by a reader: reads (and for mbox removes) the
/// header facts, ends its last line with CRLF (as servers store it),
/// chooses the internal date, and normalizes the flags. Every reader's
/// message passes here: the bytes it leaves are those sent, fingerprinted,
/// journaled and compared.
pub(crate) fn build_message(
    origin: Origin,
    mut bytes: Vec<u8>,
    mode: HeaderMode,
    mut candidates: DateCandidates,
    mut flags: Vec<Flag>,
    mut warnings: Vec<String>,
    opts: &ReadOptions,
) -> Message {
    let takeout = matches!(mode, HeaderMode::Mbox { takeout: true, .. });
    let facts = headers::process_headers(&mut bytes, mode);
    crate::message::end_with_crlf(&mut bytes);
    flags.extend(facts.flags);
    warnings.extend(facts.warnings);
    let mut skip = None;
    if facts.expunged {
        if opts.include_deleted {
            flags.push(Flag::Deleted);
        } else {
            skip = Some("deleted in source (X-Mozilla-Status 0x0008)".to_string());
        }
    }
    let mut targets = Vec::new();
    if takeout {
        let labels = facts
            .gmail_labels
            .as_deref()
            .map(takeout::parse_labels)
            .unwrap_or_default();
        let routing = takeout::route(&labels, &opts.takeout_archive, opts.takeout_chats);
        flags.extend(routing.flags);
        targets = routing.targets;
        skip = skip.or(routing.skip);
    }
    candidates.received = facts.received;
    candidates.date_header = facts.date;
    let date = date::choose_date_with(opts.date_policy, &candidates, opts.now, &mut warnings);
    let mut message = Message {
        origin,
        bytes,
        flags,
        date,
        warnings,
        targets,
        skip,
        derived: Default::default(),
    };
    message.normalize_flags();
    message
}
