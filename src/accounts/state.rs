//! Which accounts of a batch are complete, kept between runs so that
//! rerunning the same command retries exactly the others. One file per
//! accounts list, beside the journals:
//! `$XDG_STATE_HOME/mailhaul/batch-<hash of the list's path>.state` (0600,
//! written whole and renamed into place, so a killed run leaves the old or
//! the new file, never half of one).
//!
//! A completed account is trusted on a rerun only while its evidence holds
//! ([`Evidence`]): its sources unchanged (count, sizes and times of their
//! files), the options that say how they are read and where they go
//! unchanged (a new `prefix` column or `--map` is new work), and its
//! journal still there, no shorter than when it completed. Otherwise the
//! account runs again, and its journal makes that cheap.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::private_file;

/// What says a completed account is still complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// A digest of the source files' paths, sizes and modification times.
    pub sources: String,
    /// The journal's length when the account completed.
    pub journal_len: u64,
    /// A digest of the options that say how the sources are read and
    /// where their messages go (empty in a state file from before: never
    /// confirmed, so such an account runs once more).
    #[serde(default)]
    pub placement: String,
}

impl Evidence {
    /// The evidence for `sources`, read and placed as `placement` says
    /// (the account's reading and target options, spelled out), and
    /// `journal`, as they are now; `None` when the journal is missing.
    pub fn now(sources: &[PathBuf], placement: &str, journal: &Path) -> Option<Evidence> {
        let journal_len = std::fs::metadata(journal).ok()?.len();
        Some(Evidence {
            sources: sources_digest(sources),
            journal_len,
            placement: hex(&Sha256::digest(placement.as_bytes())[..16]),
        })
    }

    /// `recorded` still holds now: same sources read and placed the same
    /// way, journal not shorter.
    pub fn confirms(&self, recorded: &Evidence) -> bool {
        self.sources == recorded.sources
            && self.placement == recorded.placement
            && self.journal_len >= recorded.journal_len
    }
}

/// Every file under `sources`, in order, with its metadata (unreadable
/// entries left out).
fn source_files(sources: &[PathBuf]) -> impl Iterator<Item = (PathBuf, std::fs::Metadata)> {
    sources.iter().flat_map(|s| {
        walkdir::WalkDir::new(s)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.path().to_path_buf(), e.metadata().ok()?)))
            .filter(|(_, m)| m.is_file())
    })
}

/// The bytes of every file under `sources` (what a batch's progress measures
/// before the accounts are planned).
pub fn sources_size(sources: &[PathBuf]) -> u64 {
    source_files(sources).map(|(_, m)| m.len()).sum()
}

/// A digest of every file under `sources` (path, size, mtime), in order.
fn sources_digest(sources: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    for (path, meta) in source_files(sources) {
        {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            h.update(path.as_os_str().as_encoded_bytes());
            h.update(format!("\0{}\0{mtime}\0", meta.len()).as_bytes());
        }
    }
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The completed accounts of one list, by account name (`user@host:port`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BatchState {
    pub complete: BTreeMap<String, Evidence>,
}

impl BatchState {
    /// The state file of the list at `list`, beside the journals; `None`
    /// when neither XDG_STATE_HOME nor HOME is set.
    pub fn default_path(list: &Path) -> Option<PathBuf> {
        let list = std::fs::canonicalize(list).unwrap_or_else(|_| list.to_path_buf());
        // The journals' directory: where the default journal of any account goes.
        let dir = crate::journal::default_path("batch", "localhost", 0)?
            .parent()?
            .to_path_buf();
        let digest = Sha256::digest(list.as_os_str().as_encoded_bytes());
        Some(dir.join(format!("batch-{}.state", hex(&digest[..8]))))
    }

    /// Reads `path`; a missing file is an empty state.
    pub fn load(path: &Path) -> anyhow::Result<BatchState> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not a batch state file ({e}); remove it to start over",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BatchState::default()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the state to `path` (0600): a new file renamed over the old.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            private_file::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("state.new");
        let mut f = private_file::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_holds_until_a_source_its_placement_or_the_journal_changes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.mbox");
        let journal = dir.path().join("j");
        let now = |placement: &str| Evidence::now(std::slice::from_ref(&src), placement, &journal);
        std::fs::write(&src, "From x\n\nbody\n").unwrap();
        assert_eq!(now("p"), None);
        std::fs::write(&journal, "1234").unwrap();
        let recorded = now("p").unwrap();
        std::fs::write(&journal, "123456").unwrap();
        assert!(now("p").unwrap().confirms(&recorded));
        assert!(!now("prefix Old").unwrap().confirms(&recorded));
        std::fs::write(&journal, "1").unwrap();
        assert!(!now("p").unwrap().confirms(&recorded));
        std::fs::write(&src, "From x\n\nbody, longer\n").unwrap();
        std::fs::write(&journal, "123456").unwrap();
        assert!(!now("p").unwrap().confirms(&recorded));
        // A state file from before placements were recorded.
        let old = Evidence {
            placement: String::new(),
            ..now("p").unwrap()
        };
        assert!(!now("p").unwrap().confirms(&old));
    }

    #[test]
    fn the_state_is_saved_private_and_read_back() {
        crate::private_file::testing::usual_umask();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/batch-x.state");
        assert!(BatchState::load(&path).unwrap().complete.is_empty());
        let mut s = BatchState::default();
        s.complete.insert(
            "a@h:993".into(),
            Evidence {
                sources: "ab".into(),
                journal_len: 3,
                placement: "cd".into(),
            },
        );
        s.save(&path).unwrap();
        assert_eq!(crate::private_file::testing::mode(&path), 0o600);
        let back = BatchState::load(&path).unwrap();
        assert_eq!(back.complete["a@h:993"].journal_len, 3);
        std::fs::write(&path, "nonsense").unwrap();
        assert!(BatchState::load(&path).is_err());
    }
}
