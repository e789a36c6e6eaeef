//! `--jobs N`: which connection uploads what. Folders are grouped by target
//! mailbox (so that a mailbox's messages keep their order, whatever folders
//! feed it), and the groups dealt to the connections largest first, each to
//! the least loaded one (by source bytes). With `--unordered`, a group
//! larger than a fair share is split message by message across every
//! connection (message `i` goes to part `i mod N`): each message is still
//! sent once, but in no particular order.

use std::path::Path;

use crate::plan::PlannedFolder;
use crate::source::FolderKind;

/// One folder (or a part of it) given to one connection.
#[derive(Clone, Copy, Debug)]
pub struct Share<'f> {
    pub folder: &'f PlannedFolder,
    /// `Some((k, n))`: only the messages whose index `i` has `i % n == k`.
    pub part: Option<(usize, usize)>,
    /// Only the messages from this index (from 0) on: the rest of a share
    /// another connection began (`handover.rs`).
    pub from: usize,
}

impl Share<'_> {
    /// True for the share that reports what concerns the whole folder (it
    /// cannot be read at all).
    pub fn speaks_for_folder(&self) -> bool {
        self.part.is_none_or(|(k, _)| k == 0)
    }
}

/// True when the `index`-th message of a folder belongs to `part` (a
/// [`Share::part`]).
pub fn part_owns(part: Option<(usize, usize)>, index: usize) -> bool {
    part.is_none_or(|(k, n)| index % n == k)
}

/// The shares of each connection, in the order it uploads them; at most
/// `jobs` lists, none empty (fewer when there is less to share).
pub fn distribute(folders: &[PlannedFolder], jobs: usize, unordered: bool) -> Vec<Vec<Share<'_>>> {
    let jobs = jobs.max(1);
    // Groups by mailbox, in plan order, with their bytes.
    let mut groups: Vec<(&str, Vec<&PlannedFolder>, u64)> = Vec::new();
    for f in folders {
        let bytes = source_bytes(f);
        match groups.iter_mut().find(|g| g.0 == f.mailbox) {
            Some(g) => {
                g.1.push(f);
                g.2 += bytes;
            }
            None => groups.push((&f.mailbox, vec![f], bytes)),
        }
    }
    let total: u64 = groups.iter().map(|g| g.2).sum();
    let fair = total.div_ceil(jobs as u64);
    // Largest first; the sort is stable, so equal groups keep plan order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.2));
    let mut lanes: Vec<(u64, Vec<Share>)> = vec![(0, Vec::new()); jobs];
    for (_, members, bytes) in groups {
        if unordered && jobs > 1 && bytes > fair {
            for (k, lane) in lanes.iter_mut().enumerate() {
                lane.0 += bytes / jobs as u64;
                lane.1.extend(members.iter().map(|folder| Share {
                    folder,
                    part: Some((k, jobs)),
                    from: 0,
                }));
            }
            continue;
        }
        let lane = lanes
            .iter_mut()
            .min_by_key(|l| l.0)
            .expect("at least one lane");
        lane.0 += bytes;
        lane.1.extend(members.iter().map(|folder| Share {
            folder,
            part: None,
            from: 0,
        }));
    }
    lanes
        .into_iter()
        .map(|l| l.1)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The size of a folder's source files (what the progress bar counts).
pub fn source_bytes(f: &PlannedFolder) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let dir_size = |dir: &Path| -> u64 {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    };
    match f.source.kind {
        FolderKind::Mbox | FolderKind::AppleExport => size(&f.source.path),
        FolderKind::Emlx => crate::source::apple::store_bytes(&f.source.path),
        FolderKind::Pst { bytes, .. } => bytes,
        FolderKind::Maildir => ["cur", "new"]
            .iter()
            .map(|d| dir_size(&f.source.path.join(d)))
            .sum(),
        FolderKind::Eml if f.source.path.is_file() => size(&f.source.path),
        FolderKind::Eml => dir_size(&f.source.path),
        FolderKind::TakeoutArchive(ref mbox) => mbox.size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mbox folders of the given sizes (files written into `dir`).
    fn folders(dir: &Path, spec: &[(&str, &str, usize)]) -> Vec<PlannedFolder> {
        spec.iter()
            .map(|(file, mailbox, size)| {
                let path = dir.join(file);
                std::fs::write(&path, vec![b'x'; *size]).unwrap();
                let path = path.to_path_buf();
                PlannedFolder {
                    source: crate::source::SourceFolder {
                        path,
                        kind: FolderKind::Mbox,
                        folder: vec![mailbox.to_string()],
                    },
                    mailbox: mailbox.to_string(),
                    notes: Vec::new(),
                }
            })
            .collect()
    }

    fn names(lanes: &[Vec<Share>]) -> Vec<Vec<String>> {
        lanes
            .iter()
            .map(|l| {
                l.iter()
                    .map(|s| match s.part {
                        None => s.folder.mailbox.clone(),
                        Some((k, _)) => format!("{}#{k}", s.folder.mailbox),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn largest_first_to_the_least_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(
            dir.path(),
            &[
                ("a", "A", 10),
                ("b", "B", 50),
                ("c", "C", 30),
                ("d", "D", 25),
            ],
        );
        let lanes = distribute(&f, 2, false);
        assert_eq!(names(&lanes), [vec!["B", "A"], vec!["C", "D"]]);
        assert_eq!(names(&distribute(&f, 1, false)), [vec!["B", "C", "D", "A"]]);
    }

    #[test]
    fn folders_of_one_mailbox_stay_together_in_plan_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(
            dir.path(),
            &[("a", "T", 10), ("b", "U", 15), ("c", "T", 10)],
        );
        let lanes = distribute(&f, 3, false);
        assert_eq!(lanes.len(), 2, "no empty lane");
        assert_eq!(names(&lanes), [vec!["T", "T"], vec!["U"]]);
        let paths: Vec<_> = lanes[0]
            .iter()
            .map(|s| s.folder.source.path.clone())
            .collect();
        assert_eq!(paths, [dir.path().join("a"), dir.path().join("c")]);
    }

    #[test]
    fn unordered_splits_only_a_mailbox_above_a_fair_share() {
        let dir = tempfile::tempdir().unwrap();
        let f = folders(dir.path(), &[("big", "Big", 100), ("s", "Small", 5)]);
        assert_eq!(
            names(&distribute(&f, 2, false)),
            [vec!["Big"], vec!["Small"]]
        );
        let lanes = distribute(&f, 2, true);
        assert_eq!(names(&lanes), [vec!["Big#0", "Small"], vec!["Big#1"]]);
        let owned: Vec<usize> = (0..6).filter(|&i| part_owns(lanes[1][0].part, i)).collect();
        assert_eq!(owned, [1, 3, 5]);
        assert!(lanes[0][0].speaks_for_folder() && !lanes[1][0].speaks_for_folder());
    }
}
