//! [`Overlap`]: source paths that name the same mail twice (`dir/a.mbox`
//! and `dir`, `dir` and `./dir/`, one file given twice, a symlink and its
//! target). Each discovered folder is known by the file or directory it
//! is read from (device and inode) and, for a folder inside a file (a PST
//! folder, an mbox in a Takeout archive), its place there; a folder already
//! found through an earlier path is dropped, with one warning per pair of
//! overlapping paths, so that nothing is read (and uploaded) twice; a file
//! that cannot be read is reported once.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Discovery, FolderKind, SourceError, SourceFolder};
use crate::message::Origin;

/// What makes a folder the same folder however its path is spelled.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Identity {
    dev: u64,
    ino: u64,
    kind: String,
    inner: String,
}

/// The folders found so far, by identity, with the given path that found them.
#[derive(Debug, Default)]
pub(super) struct Overlap {
    seen: HashMap<Identity, usize>,
    given: Vec<PathBuf>,
}

impl Overlap {
    /// Where `out` stands before the next given path is discovered.
    pub(super) fn mark(out: &Discovery) -> (usize, usize) {
        (out.folders.len(), out.unreadable.len())
    }

    /// Keeps the folders and unreadable files `given` added to `out`
    /// (since `from`, a [`Overlap::mark`]) that no earlier path found;
    /// warns once per earlier path it overlaps.
    pub(super) fn admit(&mut self, given: &Path, out: &mut Discovery, from: (usize, usize)) {
        let me = self.given.len();
        self.given.push(given.to_path_buf());
        let mut overlaps = Vec::new();
        for folder in out.folders.split_off(from.0) {
            if self.is_new(identity(&folder), me, &folder.path, &mut overlaps) {
                out.folders.push(folder);
            }
        }
        for bad in out.unreadable.split_off(from.1) {
            let id = file_identity(&bad.origin.path, "unreadable", String::new());
            if self.is_new(id, me, &bad.origin.path, &mut overlaps) {
                out.unreadable.push(bad);
            }
        }
        for (earlier, paths) in overlaps {
            out.problems
                .push(self.warning(&self.given[earlier], given, &paths));
        }
    }

    /// True when `id` was not found before (it is then recorded as found
    /// by given path `me`); otherwise `path` joins the overlap with the
    /// given path that found it. Without an identity, always new.
    fn is_new(
        &mut self,
        id: Option<Identity>,
        me: usize,
        path: &Path,
        overlaps: &mut Vec<(usize, Vec<PathBuf>)>,
    ) -> bool {
        let Some(id) = id else {
            return true;
        };
        let Some(&earlier) = self.seen.get(&id) else {
            self.seen.insert(id, me);
            return true;
        };
        match overlaps.iter_mut().find(|(e, _)| *e == earlier) {
            Some((_, paths)) => paths.push(path.to_path_buf()),
            None => overlaps.push((earlier, vec![path.to_path_buf()])),
        }
        false
    }

    /// The warning for `later` finding `paths` that `earlier` found already.
    fn warning(&self, earlier: &Path, later: &Path, paths: &[PathBuf]) -> SourceError {
        let (a, b) = (canonical(earlier), canonical(later));
        let (path, reason) = if a == b && earlier.as_os_str() != later.as_os_str() {
            (
                later,
                format!("the same as {}; read once", earlier.display()),
            )
        } else if a == b {
            (later, "given twice; read once".to_string())
        } else if b.starts_with(&a) {
            (
                later,
                format!("also under {}; read once", earlier.display()),
            )
        } else if a.starts_with(&b) {
            (
                earlier,
                format!("also under {}; read once", later.display()),
            )
        } else {
            let n = paths.len();
            let folders = if n == 1 { "folder" } else { "folders" };
            let e_g = paths[0].display();
            let reason = format!(
                "{n} {folders} also found under {} (the same files, e.g. {e_g}); read once",
                earlier.display()
            );
            (later, reason)
        };
        SourceError {
            origin: Origin {
                path: path.to_path_buf(),
                index: 0,
                offset: None,
            },
            reason,
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The folder's identity; none when its file cannot be looked at (it is
/// then kept: reading it reports the problem).
fn identity(folder: &SourceFolder) -> Option<Identity> {
    let (file, inner) = match &folder.kind {
        FolderKind::Pst { node, .. } => (folder.path.as_path(), node.to_string()),
        FolderKind::TakeoutArchive(mbox) => {
            (mbox.pieces.first()?.part.as_path(), mbox.name.clone())
        }
        _ => (folder.path.as_path(), String::new()),
    };
    file_identity(file, &folder.kind.name(), inner)
}

fn file_identity(file: &Path, kind: &str, inner: String) -> Option<Identity> {
    let meta = fs::metadata(file).ok()?;
    Some(Identity {
        dev: meta.dev(),
        ino: meta.ino(),
        kind: kind.to_string(),
        inner,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::source::{Format, discover};

    fn mbox(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"From a@b Mon Jan  6 09:15:00 2020\nS: 1\n\nx\n").unwrap();
    }

    /// A warning as discovery gives it: `path: what other; read once`.
    fn line(path: &Path, what: &str, other: &Path) -> String {
        format!("{}: {what} {}; read once", path.display(), other.display())
    }

    fn found(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
        let d = discover(paths, Format::Auto).unwrap();
        let folders = d.folders.iter().map(|f| f.path.clone()).collect();
        (folders, d.problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_file_also_under_a_given_directory_is_read_once_either_way_round() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dir");
        mbox(&dir.join("a.mbox"));
        mbox(&dir.join("b.mbox"));
        let a = dir.join("a.mbox");
        let (folders, warnings) = found(&[a.clone(), dir.clone()]);
        assert_eq!(folders, [a.clone(), dir.join("b.mbox")]);
        assert_eq!(warnings, [line(&a, "also under", &dir)]);
        let (folders, warnings) = found(&[dir.clone(), a.clone()]);
        assert_eq!(folders, [a.clone(), dir.join("b.mbox")]);
        assert_eq!(warnings, [line(&a, "also under", &dir)]);
    }

    #[test]
    fn a_directory_or_file_given_twice_is_read_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dir");
        mbox(&dir.join("a.mbox"));
        mbox(&dir.join("sub/c.mbox"));
        let spelled = PathBuf::from(format!("{}/./", dir.display()));
        let (folders, warnings) = found(&[dir.clone(), spelled.clone()]);
        assert_eq!(folders.len(), 2);
        assert_eq!(warnings, [line(&spelled, "the same as", &dir)]);
        let a = dir.join("a.mbox");
        let (folders, warnings) = found(&[a.clone(), a.clone()]);
        assert_eq!(folders, std::slice::from_ref(&a));
        assert_eq!(
            warnings,
            [format!("{}: given twice; read once", a.display())]
        );
    }

    #[test]
    fn a_symlink_to_a_given_file_is_the_same_file() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.mbox");
        mbox(&a);
        let other = tmp.path().join("elsewhere");
        std::fs::create_dir(&other).unwrap();
        let link = other.join("link.mbox");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let (folders, warnings) = found(&[a.clone(), link.clone()]);
        assert_eq!(folders, std::slice::from_ref(&a));
        assert_eq!(warnings, [line(&link, "the same as", &a)]);
    }

    #[test]
    fn a_file_that_cannot_be_read_is_reported_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dir");
        mbox(&dir.join("a.mbox"));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend((0..4000u32).map(|i| (i * 131 % 251) as u8));
        std::fs::write(dir.join("photo.eml"), png).unwrap();
        let spelled = PathBuf::from(format!("{}/./", dir.display()));
        let d = discover(&[dir.clone(), spelled], Format::Auto).unwrap();
        assert_eq!(d.folders.len(), 1);
        let bad: Vec<_> = d.unreadable.iter().map(|e| e.origin.path.clone()).collect();
        assert_eq!(bad, [dir.join("photo.eml")]);
    }

    #[test]
    fn separate_files_with_the_same_name_are_both_read() {
        let tmp = tempfile::tempdir().unwrap();
        let x = tmp.path().join("x/a.mbox");
        let y = tmp.path().join("y/a.mbox");
        mbox(&x);
        mbox(&y);
        let (folders, warnings) = found(&[x.clone(), y.clone()]);
        assert_eq!(folders, [x, y]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
