//! Discovery: decides what each user-given path is (an mbox file, a tree of
//! mbox files, a Maildir, a Maildir++ tree, Apple Mail bundles and stores,
//! which [`super::apple`] reads) and names its folders as hierarchy
//! components. Files seen but not uploaded become problems.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use walkdir::WalkDir;

use super::apple;
use super::archive;
use super::eml;
use super::loose_file;
use super::maildir::{self, is_maildir_housekeeping};
use super::mbox::looks_like_mbox;
use super::pst;
use super::{DiscoverOptions, Discovery, FolderKind, Format, SourceError, SourceFolder};
use crate::message::Origin;

pub(super) const NOT_MBOX: &str = "not an mbox file (does not start with a From line)";

/// Adds the folders (and problems) found at `path` to `out`; a directory
/// in which nothing at all was found is a problem of its own (a warning:
/// the path may be a typo, or the mail not there yet).
pub(super) fn discover_path(
    path: &Path,
    format: Format,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let before = (out.folders.len(), out.problems.len(), out.unreadable.len());
    discover_kind(path, format, opts, out)?;
    let after = (out.folders.len(), out.problems.len(), out.unreadable.len());
    if before == after && path.is_dir() {
        out.problems.push(problem(
            path.to_path_buf(),
            "no mail found in this directory",
        ));
    }
    Ok(())
}

/// [`discover_path`] by the kind `path` is (or `format` says).
fn discover_kind(
    path: &Path,
    format: Format,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let meta = fs::metadata(path)
        .with_context(|| format!("{}: cannot read source path", path.display()))?;
    let is_maildir = path.join("cur").is_dir();
    match format {
        Format::Auto | Format::Pst if meta.is_file() && is_pst(path)? => pst_file(path, &[], out),
        Format::Pst => bail!("{}: not a PST file (--format pst)", path.display()),
        Format::Apple => apple::discover_path(path, opts, out),
        Format::Auto if meta.is_file() && apple::claims_file(path) => {
            apple::discover_path(path, opts, out)
        }
        Format::Auto if meta.is_dir() && !is_maildir && apple::claims_dir(path) => {
            apple::discover_tree(path, opts, out)
        }
        Format::Auto if meta.is_file() && is_split_zip_part(path)? => {
            bail!("{}: {}", path.display(), archive::SPLIT_ZIP)
        }
        Format::Auto if meta.is_file() && is_single_message(path)? => single_message(path, out),
        Format::Auto if meta.is_file() => single_mbox(path, true, out),
        Format::Auto if is_maildir => maildir_root(path, true, out),
        Format::Auto if meta.is_dir() => mbox_tree(path, opts, out),
        Format::Auto => bail!("{}: neither a file nor a directory", path.display()),
        Format::Mbox if meta.is_file() => single_mbox(path, false, out),
        Format::Mbox => bail!("{}: not a file (--format mbox)", path.display()),
        Format::TakeoutArchive if meta.is_file() => {
            archive::discover_archives(&[path.to_path_buf()], true, out)
        }
        Format::TakeoutArchive => archives_in_tree(path, out),
        _ if !meta.is_dir() => bail!("{}: not a directory (--format {format:?})", path.display()),
        Format::MboxTree => mbox_tree(path, opts, out),
        Format::Maildir => {
            let folder = vec![maildir_name(path, false)];
            add_maildir(path, folder, out)
        }
        Format::MaildirPlusPlus => {
            add_maildir(path, vec!["INBOX".into()], out)?;
            add_children(plus_plus_children(path)?, out)
        }
        Format::Eml if meta.is_file() => single_message(path, out),
        Format::Eml => {
            let folder = Some(vec![maildir_name(path, false)]);
            walk_dir(path, path, folder, opts, out)
        }
    }
}

fn is_pst(path: &Path) -> anyhow::Result<bool> {
    pst::is_pst(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn is_split_zip_part(path: &Path) -> anyhow::Result<bool> {
    archive::is_split_zip_part(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// The folders of a PST file, named below `prefix`.
fn pst_file(path: &Path, prefix: &[String], out: &mut Discovery) -> anyhow::Result<()> {
    let (folders, problems) =
        pst::folders(path, prefix).with_context(|| format!("{}", path.display()))?;
    out.folders.extend(folders);
    out.unreadable.extend(problems);
    Ok(())
}

/// A path given on the command line that is read as a Takeout archive (or
/// a part of one): with `--format takeout-zip` any file, with `auto` a
/// file named `.zip`, `.tgz` or `.tar.gz`.
pub(super) fn is_given_archive(path: &Path, format: Format) -> bool {
    let is_file = || fs::metadata(path).is_ok_and(|m| m.is_file());
    match format {
        Format::Auto => archive::is_archive_name(path) && is_file(),
        Format::TakeoutArchive => is_file(),
        _ => false,
    }
}

/// `--format takeout-zip` on a directory: every archive under it,
/// split parts grouped (an error when there is none).
fn archives_in_tree(root: &Path, out: &mut Discovery) -> anyhow::Result<()> {
    let files: Vec<PathBuf> = WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && archive::is_archive_name(e.path()))
        .map(|e| e.into_path())
        .collect();
    if files.is_empty() {
        bail!(
            "{}: no .zip, .tgz or .tar.gz file (--format takeout-zip)",
            root.display()
        );
    }
    for group in archive::group_parts(&files) {
        archive::discover_archives(&group, false, out)?;
    }
    Ok(())
}

/// A file given on the command line that holds one message (RFC 5322
/// headers first, no From_ line): an `.eml` export. One named `.eml` or
/// `.msg` that is no message is an error saying why.
fn is_single_message(path: &Path) -> anyhow::Result<bool> {
    let shape =
        eml::file_shape(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if let eml::FileShape::NotMessage(why) = shape
        && eml::has_message_extension(path)
    {
        bail!("{}: not a mail message: {why}", path.display());
    }
    Ok(shape == eml::FileShape::Message
        && !looks_like_mbox(path).with_context(|| format!("{}: cannot read", path.display()))?)
}

/// One message file: it goes to INBOX (or where `--mailbox` says).
fn single_message(path: &Path, out: &mut Discovery) -> anyhow::Result<()> {
    out.folders.push(SourceFolder {
        path: path.to_path_buf(),
        kind: FolderKind::Eml,
        folder: vec!["INBOX".into()],
    });
    Ok(())
}

fn single_mbox(path: &Path, check: bool, out: &mut Discovery) -> anyhow::Result<()> {
    if check
        && !looks_like_mbox(path).with_context(|| format!("{}: cannot read", path.display()))?
    {
        bail!("{}: {NOT_MBOX}", path.display());
    }
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "INBOX".into());
    out.folders.push(SourceFolder {
        path: path.to_path_buf(),
        kind: FolderKind::Mbox,
        folder: vec![mbox_folder_name(&name)],
    });
    Ok(())
}

/// The folder an mbox file given by itself (or found in an archive) is:
/// its name without `.gz` and the extension, `INBOX` for any case of inbox.
pub(crate) fn mbox_folder_name(file_name: &str) -> String {
    let name = strip_suffix_ci(file_name, &[".gz"]);
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
    inbox_or(stem)
}

/// A Maildir found by detection: with `.A.B` children it is a Maildir++ root;
/// otherwise plain subdirectories holding cur/ are children (notmuch-style).
fn maildir_root(path: &Path, auto: bool, out: &mut Discovery) -> anyhow::Result<()> {
    let mut children = plus_plus_children(path)?;
    if children.is_empty() && auto {
        children = nested_children(path);
    }
    let folder = vec![maildir_name(path, !children.is_empty())];
    add_maildir(path, folder, out)?;
    add_children(children, out)
}

fn add_children(children: Vec<(PathBuf, Vec<String>)>, out: &mut Discovery) -> anyhow::Result<()> {
    for (dir, folder) in children {
        add_maildir(&dir, folder, out)?;
    }
    Ok(())
}

/// `INBOX` for a tree root or a directory named `Maildir`, else the directory name.
fn maildir_name(path: &Path, is_root: bool) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| {
            let canon = fs::canonicalize(path).ok()?;
            canon.file_name().map(|n| n.to_string_lossy().into_owned())
        });
    match name {
        Some(n) if !is_root && !n.eq_ignore_ascii_case("maildir") => inbox_or(n),
        _ => "INBOX".into(),
    }
}

fn add_maildir(dir: &Path, folder: Vec<String>, out: &mut Discovery) -> anyhow::Result<()> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("{}: cannot list directory", dir.display()))?;
    let mut loose = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_file()) && !is_maildir_housekeeping(&name) {
            loose.push(entry.path());
        }
    }
    loose.sort();
    out.problems.extend(loose.into_iter().map(|path| {
        problem(
            path,
            "not a Maildir message (not in cur/ or new/), not uploaded",
        )
    }));
    // A FIFO, socket or device among the messages is not read (it would
    // block or never end): named here, left out by the reader.
    if let Ok(listing) = maildir::list_messages(dir) {
        out.problems
            .extend(listing.not_regular.into_iter().map(|path| {
                problem(
                    path,
                    "not a regular file (a FIFO, socket or device), not read",
                )
            }));
    }
    out.folders.push(SourceFolder {
        path: dir.to_path_buf(),
        kind: FolderKind::Maildir,
        folder,
    });
    Ok(())
}

/// Maildir++ children: `.A.B` directories holding cur/, named `["A", "B"]`
/// with modified UTF-7 decoded.
fn plus_plus_children(root: &Path) -> anyhow::Result<Vec<(PathBuf, Vec<String>)>> {
    let entries =
        fs::read_dir(root).with_context(|| format!("{}: cannot list directory", root.display()))?;
    let mut children = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else {
            continue;
        };
        if rest.is_empty() || rest == "." || !entry.path().join("cur").is_dir() {
            continue;
        }
        children.push((entry.path(), plus_plus_folder(rest)));
    }
    children.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(children)
}

/// `A.B` (without the leading dot) → `["A", "B"]`, each decoded from modified UTF-7.
pub fn plus_plus_folder(name: &str) -> Vec<String> {
    name.split('.')
        .filter(|c| !c.is_empty())
        .map(|c| crate::mutf7::decode(c).unwrap_or_else(|_| c.to_string()))
        .collect()
}

/// Plain (not hidden) subdirectories at any depth that hold cur/, named by
/// their relative path.
fn nested_children(root: &Path) -> Vec<(PathBuf, Vec<String>)> {
    WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_dir()
                && !name.starts_with('.')
                && !matches!(&*name, "cur" | "new" | "tmp")
        })
        .flatten()
        .filter(|e| e.path().join("cur").is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            let folder = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (e.path().to_path_buf(), folder)
        })
        .collect()
}

/// A directory tree: mbox files (each a mailbox; `X.sbd` directories are
/// hierarchy, `.msf` indexes ignored), folders of `.eml` files, and Maildirs
/// (with their fs-layout or Maildir++ children) anywhere inside.
fn mbox_tree(root: &Path, opts: DiscoverOptions, out: &mut Discovery) -> anyhow::Result<()> {
    if is_eml_folder(root)? {
        let name = maildir_name(root, false);
        return walk_dir(root, root, Some(vec![name]), opts, out);
    }
    walk_dir(root, root, None, opts, out)
}

/// Reads one directory of a tree. `eml_folder` is its folder name when it
/// is a folder of single-message files.
fn walk_dir(
    root: &Path,
    dir: &Path,
    eml_folder: Option<Vec<String>>,
    opts: DiscoverOptions,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list directory", dir.display()))?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    let is_eml = eml_folder.is_some();
    if let Some(folder) = eml_folder {
        for e in &entries {
            if e.file_type().is_ok_and(|t| t.is_file())
                && !is_ignored_file(&e.file_name().to_string_lossy())
            {
                loose_file::not_a_message(&e.path(), out);
            }
        }
        out.folders.push(SourceFolder {
            path: dir.to_path_buf(),
            kind: FolderKind::Eml,
            folder,
        });
    }
    // Takeout archives (split parts together) are read in place.
    let (archives, entries): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
        !is_eml && e.file_type().is_ok_and(|t| t.is_file()) && archive::is_archive_name(&e.path())
    });
    let archives: Vec<PathBuf> = archives.iter().map(|e| e.path()).collect();
    for group in archive::group_parts(&archives) {
        archive::discover_archives(&group, false, out)?;
    }
    for e in entries {
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let Ok(ty) = e.file_type() else { continue };
        if ty.is_dir() {
            if path.join("cur").is_dir() {
                let prefix = tree_folder(rel, true);
                add_maildir(&path, prefix.clone(), out)?;
                let mut children = plus_plus_children(&path)?;
                if children.is_empty() {
                    children = nested_children(&path);
                }
                let children = children
                    .into_iter()
                    .map(|(p, f)| (p, prefix.iter().cloned().chain(f).collect()));
                add_children(children.collect(), out)?;
            } else if apple::claims_dir(&path) {
                apple::discover_tree(&path, opts, out)?;
            } else if is_eml_folder(&path)? {
                walk_dir(root, &path, Some(tree_folder(rel, true)), opts, out)?;
            } else {
                walk_dir(root, &path, None, opts, out)?;
            }
        } else if ty.is_file() && !is_eml {
            loose_file::tree_file(&path, rel, out);
        }
    }
    Ok(())
}

/// Server and client metadata that is never mail.
pub(super) fn is_ignored_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".msf") || is_maildir_housekeeping(name)
}

/// A directory without cur/ is a folder of single-message files when any of
/// its files has a message extension, or when more of its files start with
/// a header than look like mbox files (start with a From_ line).
fn is_eml_folder(dir: &Path) -> anyhow::Result<bool> {
    if dir.join("cur").is_dir() {
        return Ok(false);
    }
    let (mut messages, mut mboxes) = (0, 0);
    let entries =
        fs::read_dir(dir).with_context(|| format!("{}: cannot list directory", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || is_ignored_file(&name)
            || !e.file_type().is_ok_and(|t| t.is_file())
        {
            continue;
        }
        let shape = eml::file_shape(&e.path());
        if eml::has_message_extension(&e.path())
            && !matches!(shape, Ok(eml::FileShape::NotMessage(_)))
        {
            return Ok(true);
        }
        // A file without a message extension that starts with a From_ line
        // is an mbox, even with one message (a Thunderbird folder holding a
        // single message looks like a saved .eml otherwise); the same rule
        // as for a file given on the command line.
        match shape {
            Ok(eml::FileShape::Message) if !looks_like_mbox(&e.path()).unwrap_or(false) => {
                messages += 1
            }
            Ok(eml::FileShape::Message | eml::FileShape::Mbox) => mboxes += 1,
            _ => {}
        }
    }
    Ok(messages > 0 && messages > mboxes)
}

/// Folder components for a file (or, with `dir`, a directory) at `rel` in
/// a tree: `.sbd` stripped from directories, `.gz`, `.mbox`, `.mbx` from files.
pub(super) fn tree_folder(rel: &Path, dir: bool) -> Vec<String> {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.len() - 1;
    let mut folder: Vec<String> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            if i == last && !dir {
                let p = strip_suffix_ci(&p, &[".gz"]);
                strip_suffix_ci(p, &[".mbox", ".mbx"]).to_string()
            } else {
                strip_suffix_ci(&p, &[".sbd"]).to_string()
            }
        })
        .collect();
    if folder.len() == 1 {
        folder[0] = inbox_or(std::mem::take(&mut folder[0]));
    }
    folder
}

fn strip_suffix_ci<'a>(s: &'a str, suffixes: &[&str]) -> &'a str {
    for suf in suffixes {
        if s.len() > suf.len() && s.to_ascii_lowercase().ends_with(suf) {
            return &s[..s.len() - suf.len()];
        }
    }
    s
}

pub(crate) fn inbox_or(name: String) -> String {
    if name.eq_ignore_ascii_case("inbox") {
        "INBOX".into()
    } else {
        name
    }
}

pub(crate) fn problem(path: PathBuf, reason: &str) -> SourceError {
    SourceError {
        origin: Origin {
            path,
            index: 0,
            offset: None,
        },
        reason: reason.to_string(),
    }
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
