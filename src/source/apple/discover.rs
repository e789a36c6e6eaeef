//! Finding Apple Mail mailboxes: `X.mbox` bundles (an export's `mbox` file,
//! or a store's `.emlx` files below the bundle), nested bundles as
//! hierarchy, Mail's store root (`V*`, recognized by its `MailData`
//! directory) and `.imapmbox` server caches (skipped unless asked for).
//! Only bundles are folder levels: the directories around them (the export
//! folder, `V10`, an account's UUID directory, `Mailboxes`) are not.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{BUNDLE_EXT, IMAP_CACHE_EXT, is_emlx_name};
use crate::source::discover::{inbox_or, problem};
use crate::source::{DiscoverOptions, Discovery, FolderKind, SourceFolder};

/// A bundle's files besides its mail: Mail's metadata, never read.
const BUNDLE_METADATA: [&str; 3] = ["mbox", "table_of_contents", "Info.plist"];

/// Directories of Mail's store that never hold mailboxes.
const NOT_MAILBOXES: [&str; 3] = ["MailData", "Attachments", "Signatures"];

/// True for a directory Apple discovery should read in place of the
/// generic tree walk: a bundle, a server cache, Mail's store root, or a
/// directory holding `.emlx` files.
pub fn claims_dir(dir: &Path) -> bool {
    let name = file_name(dir);
    bundle_name(&name).is_some()
        || cache_name(&name).is_some()
        || dir.join("MailData").is_dir()
        || has_emlx_file(dir)
}

/// The `mbox` file of an export bundle given on its own (`Work.mbox/mbox`):
/// the mailbox is the bundle's, not `mbox`.
fn export_file(path: &Path) -> Option<SourceFolder> {
    if file_name(path) != "mbox" {
        return None;
    }
    let parent = path.parent().map(file_name)?;
    let mailbox = bundle_name(&parent)?;
    Some(SourceFolder {
        path: path.to_path_buf(),
        kind: FolderKind::AppleExport,
        folder: vec![inbox_or(mailbox.to_string())],
    })
}

/// True for a file Apple discovery reads: a `.emlx` message, or an
/// export bundle's `mbox`.
pub fn claims_file(path: &Path) -> bool {
    is_emlx_file(path) || export_file(path).is_some()
}

/// A file read as one Apple Mail message.
fn is_emlx_file(path: &Path) -> bool {
    is_emlx_name(&file_name(path))
}

/// `--format apple`: a `.emlx` file, a bundle, or a tree holding bundles.
/// Finding nothing is an error naming the path.
pub fn discover_path(
    path: &Path,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let meta = fs::metadata(path)
        .with_context(|| format!("{}: cannot read source path", path.display()))?;
    if meta.is_file() {
        if let Some(export) = export_file(path) {
            out.folders.push(export);
            return Ok(());
        }
        if !is_emlx_file(path) {
            bail!(
                "{}: neither an .emlx file nor an export's X.mbox/mbox (--format apple)",
                path.display()
            );
        }
        single_file(path, out);
        return Ok(());
    }
    let before = (out.folders.len(), out.problems.len());
    discover_tree(path, opts, out)?;
    if (out.folders.len(), out.problems.len()) == before {
        bail!(
            "{}: no Apple Mail mailboxes (X.mbox bundles or .emlx files) found (--format apple)",
            path.display()
        );
    }
    Ok(())
}

/// One `.emlx` file given on the command line: a message for INBOX.
fn single_file(path: &Path, out: &mut Discovery) {
    out.folders.push(SourceFolder {
        path: path.to_path_buf(),
        kind: FolderKind::Emlx,
        folder: vec!["INBOX".into()],
    });
}

/// Reads `dir` (a bundle, a cache, or a directory above them) into `out`.
pub fn discover_tree(dir: &Path, opts: DiscoverOptions, out: &mut Discovery) -> anyhow::Result<()> {
    let name = file_name(dir);
    if let Some(mailbox) = bundle_name(&name) {
        return bundle(dir, vec![inbox_or(mailbox.to_string())], opts, out);
    }
    if let Some(mailbox) = cache_name(&name) {
        return cache(dir, Vec::new(), mailbox, opts, out);
    }
    if has_emlx_file(dir) {
        out.folders.push(SourceFolder {
            path: dir.to_path_buf(),
            kind: FolderKind::Emlx,
            folder: vec![loose_folder_name(dir)],
        });
        return Ok(());
    }
    for child in subdirs(dir)? {
        let child_name = file_name(&child);
        if NOT_MAILBOXES.contains(&child_name.as_str()) {
            continue;
        }
        discover_tree(&child, opts, out)?;
    }
    Ok(())
}

/// One bundle `folder`: its export `mbox` file, its store messages, then
/// its child bundles.
fn bundle(
    dir: &Path,
    folder: Vec<String>,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let mbox = dir.join("mbox");
    if mbox.is_file() {
        out.folders.push(SourceFolder {
            path: mbox,
            kind: FolderKind::AppleExport,
            folder: folder.clone(),
        });
    }
    report_strangers(dir, out);
    let children = subdirs(dir)?;
    let holds_messages = children
        .iter()
        .filter(|c| bundle_name(&file_name(c)).is_none() && cache_name(&file_name(c)).is_none())
        .any(|c| emlx_below(c))
        || has_emlx_file(dir);
    if holds_messages {
        out.folders.push(SourceFolder {
            path: dir.to_path_buf(),
            kind: FolderKind::Emlx,
            folder: folder.clone(),
        });
    }
    for child in children {
        let name = file_name(&child);
        if let Some(sub) = bundle_name(&name) {
            let mut f = folder.clone();
            f.push(sub.to_string());
            bundle(&child, f, opts, out)?;
        } else if let Some(sub) = cache_name(&name) {
            cache(&child, folder.clone(), sub, opts, out)?;
        }
    }
    Ok(())
}

/// An `.imapmbox` server cache: a bundle with `--apple-imap-caches`, else a problem.
fn cache(
    dir: &Path,
    parent: Vec<String>,
    mailbox: &str,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    if !opts.apple_imap_caches {
        out.problems.push(problem(
            dir.to_path_buf(),
            "Apple Mail server cache (.imapmbox), not uploaded (--apple-imap-caches reads it)",
        ));
        return Ok(());
    }
    let mut folder = parent;
    folder.push(mailbox.to_string());
    if folder.len() == 1 {
        folder[0] = inbox_or(std::mem::take(&mut folder[0]));
    }
    bundle(dir, folder, opts, out)
}

/// Files in a bundle that are neither its mail nor Mail's metadata are
/// problems: a directory named `X.mbox` that is not Mail's would otherwise
/// lose them silently.
fn report_strangers(dir: &Path, out: &mut Discovery) {
    let mut strangers: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !(name.starts_with('.')
                || is_emlx_name(&name)
                || BUNDLE_METADATA.contains(&name.as_str()))
        })
        .map(|e| e.path())
        .collect();
    strangers.sort();
    for path in strangers {
        out.problems.push(problem(
            path,
            "not Apple Mail data (a file in an X.mbox bundle other than mbox, table_of_contents, Info.plist), not uploaded",
        ));
    }
}

/// `Work` for `Work.mbox` (any case of the extension).
fn bundle_name(name: &str) -> Option<&str> {
    strip_ext(name, BUNDLE_EXT)
}

/// `INBOX` for `INBOX.imapmbox`.
fn cache_name(name: &str) -> Option<&str> {
    strip_ext(name, IMAP_CACHE_EXT)
}

fn strip_ext<'a>(name: &'a str, ext: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(ext.len())?;
    (cut > 0 && name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(ext))
        .then(|| &name[..cut])
}

/// A directory of `.emlx` files outside any bundle is named after the
/// nearest enclosing `X.mbox` (the user pointed inside a bundle), else
/// after itself.
fn loose_folder_name(dir: &Path) -> String {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let from_bundle = canon
        .ancestors()
        .find_map(|a| bundle_name(&file_name(a)).map(str::to_string));
    inbox_or(from_bundle.unwrap_or_else(|| file_name(&canon)))
}

/// True when any `.emlx` file lies at or below `dir`, child bundles and
/// caches excluded (stops at the first).
fn emlx_below(dir: &Path) -> bool {
    super::emlx::walk_messages(dir).next().is_some()
}

/// True when `dir` itself holds a `.emlx` file.
fn has_emlx_file(dir: &Path) -> bool {
    fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        e.file_type().is_ok_and(|t| t.is_file()) && is_emlx_name(&e.file_name().to_string_lossy())
    })
}

/// The subdirectories of `dir`, hidden ones left out, sorted by name.
fn subdirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list directory", dir.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| {
            let canon = fs::canonicalize(path).ok()?;
            canon.file_name().map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Format, discover, discover_with};

    fn put(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn folders(d: &Discovery) -> Vec<(String, FolderKind)> {
        d.folders
            .iter()
            .map(|f| (f.folder.join("/"), f.kind.clone()))
            .collect()
    }

    const MBOX: &[u8] = b"From a@b Mon Jan  6 09:15:00 2020\nSubject: x\n\nx\n";
    const EMLX: &[u8] = b"13\nSubject: x\n\n";

    #[test]
    fn export_bundles_are_mailboxes_and_metadata_is_not_mail() {
        let tmp = tempfile::tempdir().unwrap();
        let export = tmp.path().join("Export");
        put(&export.join("Work.mbox/mbox"), MBOX);
        put(&export.join("Work.mbox/table_of_contents"), b"\x00\x01toc");
        put(&export.join("Work.mbox/Info.plist"), b"<?xml?>");
        put(&export.join("Work.mbox/Clients.mbox/mbox"), MBOX);
        put(
            &export.join("Work.mbox/Clients.mbox/table_of_contents"),
            b"",
        );
        put(&export.join("Inbox.mbox/mbox"), MBOX);
        put(&export.join("Inbox.mbox/.DS_Store"), b"\0");
        let d = discover(std::slice::from_ref(&export), Format::Auto).unwrap();
        assert_eq!(
            folders(&d),
            [
                ("INBOX".into(), FolderKind::AppleExport),
                ("Work".into(), FolderKind::AppleExport),
                ("Work/Clients".into(), FolderKind::AppleExport),
            ]
        );
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.folders[1].path, export.join("Work.mbox/mbox"));
        // One bundle given directly, and a bundle deep in a generic tree.
        for format in [Format::Auto, Format::Apple] {
            let file = discover(&[export.join("Work.mbox/Clients.mbox/mbox")], format).unwrap();
            assert_eq!(
                folders(&file),
                [("Clients".into(), FolderKind::AppleExport)]
            );
        }
        let one = discover(&[export.join("Work.mbox")], Format::Auto).unwrap();
        assert_eq!(one.folders.len(), 2);
        assert_eq!(one.folders[0].folder, ["Work"]);
        let d = discover(&[tmp.path().to_path_buf()], Format::Auto).unwrap();
        assert_eq!(d.folders.len(), 3);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        // A file Mail does not write is reported, not dropped silently.
        put(&export.join("Work.mbox/Sent"), MBOX);
        let d = discover(std::slice::from_ref(&export), Format::Auto).unwrap();
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert_eq!(d.problems[0].origin.path, export.join("Work.mbox/Sent"));
    }

    #[test]
    fn store_tree_names_come_from_bundles_only() {
        let tmp = tempfile::tempdir().unwrap();
        let v10 = tmp.path().join("V10");
        put(&v10.join("MailData/Envelope Index"), b"SQLite format 3\0");
        let acct = v10.join("0A1B2C3D-0000-4000-8000-000000000001");
        put(&acct.join("INBOX.mbox/U1/Data/1/Messages/1.emlx"), EMLX);
        put(&acct.join("INBOX.mbox/U1/Info.plist"), b"");
        put(&acct.join("Archive.mbox/Info.plist"), b"");
        put(
            &acct.join("Archive.mbox/2020.mbox/U2/Data/Messages/5.emlx"),
            EMLX,
        );
        put(
            &v10.join("Mailboxes/Local.mbox/U3/Data/Messages/9.partial.emlx"),
            EMLX,
        );
        put(&v10.join("Old/INBOX.imapmbox/Messages/3.emlx"), EMLX);
        let d = discover(std::slice::from_ref(&v10), Format::Auto).unwrap();
        assert_eq!(
            folders(&d),
            [
                ("Archive/2020".into(), FolderKind::Emlx),
                ("INBOX".into(), FolderKind::Emlx),
                ("Local".into(), FolderKind::Emlx),
            ]
        );
        assert_eq!(d.folders[1].path, acct.join("INBOX.mbox"));
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert!(d.problems[0].reason.contains(".imapmbox"));

        let opts = DiscoverOptions {
            apple_imap_caches: true,
        };
        let d = discover_with(std::slice::from_ref(&v10), Format::Apple, opts).unwrap();
        assert_eq!(d.folders.len(), 4);
        assert!(d.problems.is_empty());
        assert!(d.folders.iter().filter(|f| f.folder == ["INBOX"]).count() == 2);
    }

    #[test]
    fn emlx_files_and_format_apple() {
        let tmp = tempfile::tempdir().unwrap();
        let msgs = tmp.path().join("Work.mbox/U/Data/Messages");
        put(&msgs.join("4.emlx"), EMLX);
        let d = discover(&[msgs.join("4.emlx")], Format::Auto).unwrap();
        assert_eq!(folders(&d), [("INBOX".into(), FolderKind::Emlx)]);
        let d = discover(std::slice::from_ref(&msgs), Format::Auto).unwrap();
        assert_eq!(folders(&d), [("Work".into(), FolderKind::Emlx)]);
        let plain = tmp.path().join("plain");
        put(&plain.join("notes.txt"), b"hello\n");
        let e = discover(std::slice::from_ref(&plain), Format::Apple).unwrap_err();
        assert!(
            format!("{e:#}").contains("no Apple Mail mailboxes"),
            "{e:#}"
        );
        let e = discover(&[plain.join("notes.txt")], Format::Apple).unwrap_err();
        assert!(format!("{e:#}").contains("neither an .emlx file"), "{e:#}");
    }
}
