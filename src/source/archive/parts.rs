//! Which files are Takeout archives, and which of them are parts of one
//! export. Takeout names the parts of an export
//! `takeout-<stamp>-001.zip`, `-002.zip`, …: files whose names differ only
//! in that trailing number (and share the kind of extension) are one group,
//! read in number order, wherever they lie.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::ArchiveFormat;

const EXTENSIONS: [&str; 3] = [".zip", ".tgz", ".tar.gz"];

/// The archive extension of `path`'s file name (lowercase), if any.
fn extension(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    EXTENSIONS
        .into_iter()
        .find(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// True when the file name ends in `.zip`, `.tgz` or `.tar.gz`.
pub fn is_archive_name(path: &Path) -> bool {
    extension(path).is_some()
}

/// The archive format told by the file's first bytes: `PK\3\4` (or the
/// end record of an empty zip, `PK\5\6`) or gzip's `1f 8b`.
pub(super) fn sniff(path: &Path) -> io::Result<Option<ArchiveFormat>> {
    let head = magic(path, 4)?;
    Ok(
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(ArchiveFormat::Zip)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(ArchiveFormat::Tgz)
        } else {
            None
        },
    )
}

/// What a part of a `zip -s` archive is, and what to do with it.
pub const SPLIT_ZIP: &str = "a part of a split zip archive (zip -s), which mailhaul cannot read \
     in place: join the parts first with `zip -s 0 in.zip --out joined.zip` (in.zip: the \
     .zip part, beside its .z01, .z02, …) and give joined.zip";

/// True for a piece of a spanned (`zip -s`) archive: a `.z01`, `.z02`, …
/// file, or a `.zip` that is the last piece: no local header at its start
/// and an end-of-central-directory record naming a disk number above 0.
pub fn is_split_zip_part(path: &Path) -> io::Result<bool> {
    let numbered = path.extension().is_some_and(|e| {
        let e = e.to_string_lossy();
        e.len() >= 3
            && e[..1].eq_ignore_ascii_case("z")
            && e[1..].bytes().all(|b| b.is_ascii_digit())
    });
    if numbered {
        return Ok(true);
    }
    if extension(path) != Some(".zip") || magic(path, 4)?.starts_with(b"PK\x03\x04") {
        return Ok(false);
    }
    Ok(end_record_disk(path)?.is_some_and(|disk| disk > 0))
}

/// The `number of this disk` of the zip end-of-central-directory record
/// (`PK\5\6`, searched in the last 64 KiB + 22 bytes, the comment's limit).
fn end_record_disk(path: &Path) -> io::Result<Option<u16>> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let back = len.min(65_535 + 22);
    f.seek(SeekFrom::Start(len - back))?;
    let mut tail = Vec::with_capacity(back as usize);
    f.read_to_end(&mut tail)?;
    Ok(tail
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .and_then(|i| tail.get(i + 4..i + 6))
        .map(|d| u16::from_le_bytes([d[0], d[1]])))
}

/// The group a file belongs to and its number in it:
/// `takeout-20261101T000000Z-002.zip` → (`takeout-20261101T000000Z-*.zip`, 2);
/// a name without a part number is a group of its own (number 0).
fn part_key(path: &Path) -> (String, u64) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = extension(path).unwrap_or("");
    let ext_kind = if ext == ".zip" { ".zip" } else { ".tgz" };
    let stem = &name[..name.len() - ext.len()];
    if let Some((prefix, number)) = stem.rsplit_once('-')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = number.parse()
    {
        return (format!("{prefix}-*{ext_kind}"), n);
    }
    (path.to_string_lossy().into_owned(), 0)
}

/// Groups archive files into exports: groups in the order their first
/// file appears in `paths`, each sorted by part number. A path given twice
/// counts once.
pub fn group_parts(paths: &[PathBuf]) -> Vec<Vec<PathBuf>> {
    let mut groups: Vec<(String, Vec<(u64, PathBuf)>)> = Vec::new();
    for path in paths {
        let (key, n) = part_key(path);
        let i = match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        if !groups[i].1.iter().any(|(_, p)| p == path) {
            groups[i].1.push((n, path.clone()));
        }
    }
    groups
        .into_iter()
        .map(|(_, mut parts)| {
            parts.sort();
            parts.into_iter().map(|(_, p)| p).collect()
        })
        .collect()
}

/// Reads the first `n` bytes of `path` (fewer if it is shorter).
fn magic(path: &Path, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path)?
        .take(n as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}
