//! A loose file met in a directory tree (not in a Maildir, a folder of
//! messages' own listing or an Apple bundle): whether it is a mailbox, a
//! PST or a message, and, when it is not read, how that counts: a file
//! that is no mail (a README, an index) is a warning; one whose name
//! (`.eml`, `.mbox`, `.pst`, a Takeout archive's, …) or magic says mail
//! but that cannot be read is [`Discovery::unreadable`], which fails the
//! run (exit 1) while the rest is uploaded.

use std::path::Path;

use super::discover::{NOT_MBOX, is_ignored_file, problem, tree_folder};
use super::mbox::looks_like_mbox;
use super::{Discovery, FolderKind, SourceFolder, archive, eml, pst};

/// One file in a tree (outside folders of messages): a mailbox, a PST,
/// ignored metadata, or a problem.
pub(super) fn tree_file(path: &Path, rel: &Path, out: &mut Discovery) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if is_ignored_file(&name) {
        return;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if pst::has_pst_extension(path) || pst::is_pst(path).unwrap_or(false) {
        let stem = Path::new(&name.to_string()).with_extension("");
        let prefix = tree_folder(&rel.with_file_name(stem), false);
        match pst::folders(path, &prefix) {
            Ok((folders, problems)) => {
                out.folders.extend(folders);
                out.unreadable.extend(problems);
            }
            Err(e) => out
                .unreadable
                .push(problem(path.into(), &format!("{e}, not uploaded"))),
        }
        return;
    }
    if archive::is_split_zip_part(path).unwrap_or(false) || eml::has_message_extension(path) {
        // A message file outside a folder of messages is one that is not
        // a message (the folder would be one otherwise).
        not_a_message(path, out);
        return;
    }
    if matches!(ext.as_str(), "bz2" | "xz" | "zst") {
        out.problems.push(problem(
            path.into(),
            "compressed file (only .gz is read), not uploaded",
        ));
        return;
    }
    match looks_like_mbox(path) {
        Ok(true) => out.folders.push(SourceFolder {
            path: path.to_path_buf(),
            kind: FolderKind::Mbox,
            folder: tree_folder(rel, false),
        }),
        // Named as a mailbox: mail that cannot be read.
        Ok(false) if is_named_or_shaped_as_mail(path) => out
            .unreadable
            .push(problem(path.into(), &format!("{NOT_MBOX}, not uploaded"))),
        Ok(false) => out
            .problems
            .push(problem(path.into(), &format!("{NOT_MBOX}, not uploaded"))),
        Err(e) => out
            .unreadable
            .push(problem(path.into(), &format!("cannot read: {e}"))),
    }
}

/// Notes a file of an eml folder that is not read as a message: unreadable
/// (it fails the run) when its name or magic says mail, else a warning.
pub(super) fn not_a_message(path: &Path, out: &mut Discovery) {
    let (mail, why) = match eml::file_shape(path) {
        Ok(eml::FileShape::Message) => return,
        _ if archive::is_split_zip_part(path).unwrap_or(false) => {
            (true, format!("{}, not uploaded", archive::SPLIT_ZIP))
        }
        Ok(eml::FileShape::NotMessage(why)) => (
            is_named_or_shaped_as_mail(path),
            format!("not a mail message: {why}, not uploaded"),
        ),
        Ok(eml::FileShape::Mbox) => (
            false,
            "an mbox file among single messages, not uploaded".to_string(),
        ),
        Err(e) => (true, format!("cannot read: {e}")),
    };
    let list = if mail {
        &mut out.unreadable
    } else {
        &mut out.problems
    };
    list.push(problem(path.into(), &why));
}

/// A file whose name (`.eml`, `.msg`, `.emlx`, `.mbox`, `.mbx`, `.pst`,
/// `.ost`, a Takeout archive's) or PST magic says it is mail.
fn is_named_or_shaped_as_mail(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    eml::has_message_extension(path)
        || matches!(ext.as_str(), "emlx" | "mbox" | "mbx")
        || pst::has_pst_extension(path)
        || archive::is_archive_name(path)
        || pst::is_pst(path).unwrap_or(false)
}
