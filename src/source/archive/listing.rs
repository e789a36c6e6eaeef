//! Discovery inside Takeout archives: lists the members of each part of an
//! export, gathers the `*.mbox` members (by name, across parts) into
//! [`ArchivedMbox`] source folders, and notes what else the export holds
//! (other Google products: Drive, Photos, …) as not uploaded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};

use super::parts::{SPLIT_ZIP, is_split_zip_part, sniff};
use super::{ArchiveFormat, ArchivedMbox, Piece, tgz, zip};
use crate::source::discover::{mbox_folder_name, problem};
use crate::source::{Discovery, FolderKind, SourceFolder};

/// One member of one part, as listed.
pub(super) struct Member {
    /// Position in the zip's central directory or the tar stream.
    pub index: usize,
    pub name: String,
    /// Uncompressed size.
    pub size: u64,
    /// From the tar header; `None` for zip (the part's mtime is used).
    pub mtime: Option<DateTime<Utc>>,
    /// A file (not a directory or a link).
    pub is_file: bool,
}

/// True for a member that is an mbox: a file named `*.mbox`.
fn is_mbox(m: &Member) -> bool {
    m.is_file && m.name.to_ascii_lowercase().ends_with(".mbox")
}

/// The product a member belongs to: the directory under `Takeout/`.
fn product(name: &str) -> &str {
    let rest = name.strip_prefix("Takeout/").unwrap_or(name);
    rest.split_once('/').map_or(rest, |(dir, _)| dir)
}

/// The part's format and members, and why the listing stopped early (a tgz
/// cut short still yields the members before the cut).
fn list_part(part: &Path) -> anyhow::Result<(ArchiveFormat, Vec<Member>, Option<String>)> {
    let Some(format) = sniff(part).context("cannot read")? else {
        if is_split_zip_part(part).context("cannot read")? {
            bail!("{SPLIT_ZIP}");
        }
        bail!("not a zip or tgz archive (no zip or gzip magic bytes)");
    };
    let context = || format!("cannot list the {} archive", format.as_str());
    let (members, stopped) = match format {
        ArchiveFormat::Zip => (zip::list(part).with_context(context)?, None),
        ArchiveFormat::Tgz => tgz::list(part).with_context(context)?,
    };
    match stopped {
        Some(e) if members.is_empty() => Err(anyhow::Error::new(e).context(context())),
        stopped => Ok((
            format,
            members,
            stopped.map(|e| format!("{}: {e}", context())),
        )),
    }
}

/// Adds the mbox members of one export (`parts`, in part order) to `out`
/// as source folders, and its other members as one note. `strict` (paths
/// the user named): an unreadable part or an export without an mbox is an
/// error; otherwise (found in a tree) a problem, and the rest goes on.
pub fn discover_archives(
    parts: &[PathBuf],
    strict: bool,
    out: &mut Discovery,
) -> anyhow::Result<()> {
    let mut mboxes: Vec<ArchivedMbox> = Vec::new();
    let (mut others, mut products, mut listed) = (0usize, BTreeSet::new(), 0);
    for part in parts {
        let (format, members) = match list_part(part) {
            Ok((format, members, stopped)) => {
                if let Some(why) = stopped {
                    let why = format!("{why}; only the members before it are read");
                    out.problems.push(problem(part.clone(), &why));
                }
                listed += 1;
                (format, members)
            }
            Err(e) if strict => return Err(e.context(part.display().to_string())),
            Err(e) => {
                out.unreadable
                    .push(problem(part.clone(), &format!("{e:#}, not uploaded")));
                continue;
            }
        };
        let part_mtime = std::fs::metadata(part)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        for m in members {
            if !is_mbox(&m) {
                if m.is_file {
                    others += 1;
                    products.insert(product(&m.name).to_string());
                }
                continue;
            }
            let piece = Piece {
                part: part.clone(),
                format,
                index: m.index,
                size: m.size,
            };
            match mboxes.iter_mut().find(|b| b.name == m.name) {
                Some(b) => b.pieces.push(piece),
                None => mboxes.push(ArchivedMbox {
                    name: m.name,
                    pieces: vec![piece],
                    mtime: m.mtime.or(part_mtime),
                }),
            }
        }
    }
    let first = &parts[0];
    if others > 0 {
        let products: Vec<String> = products.into_iter().collect();
        out.problems.push(problem(
            first.clone(),
            &format!(
                "{others} file{} of other Google products ({}) in the archive{}: not mail, not uploaded",
                if others == 1 { "" } else { "s" },
                products.join(", "),
                if parts.len() > 1 { " parts" } else { "" },
            ),
        ));
    }
    // Parts that could not be listed are reported above, each.
    if mboxes.is_empty() && listed > 0 {
        let why = "no mbox in the archive (Takeout keeps mail in Takeout/Mail/*.mbox)";
        if strict {
            return Err(anyhow!("{}: {why}", first.display()));
        }
        out.problems
            .push(problem(first.clone(), &format!("{why}, not uploaded")));
    }
    for mbox in mboxes {
        if mbox.pieces.len() > 1 {
            let parts: Vec<String> = mbox
                .pieces
                .iter()
                .map(|p| p.part.display().to_string())
                .collect();
            out.problems.push(problem(
                mbox.display_path(),
                &format!(
                    "found in {} parts ({}); read as one mbox, pieces in part order",
                    parts.len(),
                    parts.join(", ")
                ),
            ));
        }
        out.folders.push(SourceFolder {
            path: mbox.display_path(),
            folder: vec![mbox_folder_name(
                mbox.name.rsplit('/').next().unwrap_or(&mbox.name),
            )],
            kind: FolderKind::TakeoutArchive(mbox),
        });
    }
    Ok(())
}
