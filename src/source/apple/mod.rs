//! Apple Mail, in the two shapes users have:
//!
//! - **Exports** (`Mailbox → Export Mailbox…`): a directory `Work.mbox`
//!   holding a file `mbox` (an ordinary mbox, read by [`crate::source::mbox`])
//!   is the mailbox `Work`; `table_of_contents` and `Info.plist` beside it
//!   are Mail's metadata and are not read; any other file in a bundle is
//!   reported as a problem (so a directory named `X.mbox` that is not Mail's
//!   loses nothing silently). A bundle inside a bundle is a
//!   child mailbox: `A.mbox/B.mbox/mbox` is `A/B`.
//! - **Mail's own store** (`~/Library/Mail/V*/<account>/X.mbox/<uuid>/Data/
//!   …/Messages/N.emlx`): each `.emlx` file is one message (`emlx.rs` has the
//!   file format), with flags (`flags.rs` has the bit table and its source)
//!   and a received date in a plist after the message. A `.partial.emlx`
//!   lacks its attachments, which Mail keeps in `../Attachments/N/<part>/`
//!   (Mail 2: `N.<part>.emlxpart` beside it); `partial.rs` puts them back, or
//!   reports the message when one is missing.
//!
//! Folder names come from the `X.mbox` bundles only. The directories around
//! them are not levels: the export folder, `V10`, `Mailboxes` (On My Mac)
//! and each account's UUID directory (an opaque name nobody wants as a
//! mailbox; the same mailbox name in two accounts therefore lands in one
//! mailbox: give one account directory at a time, with `--prefix`, to keep
//! accounts apart). `.imapmbox` directories (old Mail versions' caches of
//! IMAP accounts, whose mail is still on that server) are reported and
//! skipped unless `--apple-imap-caches` asks for them.
//!
//! `--format apple` names both shapes (they cannot be confused: a bundle
//! holds an `mbox` file or `.emlx` files); `--format auto` recognizes
//! bundles, a store root (it holds `MailData/`), directories of `.emlx`
//! files and single `.emlx` files. `scan` shows the two kinds as
//! `apple-export` and `apple-emlx`.

mod discover;
mod emlx;
mod flags;
mod partial;
mod plist;

pub use self::discover::{claims_dir, claims_file, discover_path, discover_tree};
pub use self::emlx::{EmlxReader, store_bytes};
pub use self::flags::flags_from_bits;

/// The extension of a mailbox bundle (export or store).
const BUNDLE_EXT: &str = ".mbox";
/// The extension of an old-style IMAP cache bundle.
const IMAP_CACHE_EXT: &str = ".imapmbox";

/// `N.emlx` or `N.partial.emlx` (any case of the extension).
fn is_emlx_name(name: &str) -> bool {
    name.len() > 5 && name.to_ascii_lowercase().ends_with(".emlx") && !name.starts_with('.')
}
