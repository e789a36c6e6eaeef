//! Plan: decides where each source folder goes on the server and cuts the
//! message stream into APPEND batches. [`target`] maps folder paths onto the
//! server's names (delimiter, namespace, special-use, `--map`, `--prefix`,
//! `--include`/`--exclude`); [`decide`](mod@decide) says per message where it goes and
//! whether it is sent, skipped or cannot be sent (for `scan`, the dry run,
//! `verify` and `upload` alike); [`batch`] bounds batches by count and bytes. It
//! does no I/O: `run` gives it what the server said, `upload` feeds it
//! messages and sends what it returns.

pub mod batch;
pub mod decide;
pub mod special_use;
pub mod target;

pub use batch::{BatchBuilder, BatchLimits, MailboxBatches};
pub use decide::{Refusal, ServerFacts, Verdict, decide};
pub use target::{ServerLayout, TargetMap, TargetOptions, split_user_path};

use crate::source::SourceFolder;

/// A source folder with the mailbox its messages go to.
#[derive(Clone, Debug)]
pub struct PlannedFolder {
    pub source: SourceFolder,
    /// The full server name (UTF-8, with the server's delimiter).
    pub mailbox: String,
    /// Why the name differs from the source name, if it does.
    pub notes: Vec<String>,
}

/// Every source folder, planned or left out by `--include`/`--exclude`.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub folders: Vec<PlannedFolder>,
    pub excluded: Vec<SourceFolder>,
}

impl TargetMap {
    /// Plans every folder.
    pub fn plan(&self, folders: &[SourceFolder]) -> Plan {
        let mut plan = Plan::default();
        for f in folders {
            if !self.is_included(&f.folder) {
                plan.excluded.push(f.clone());
                continue;
            }
            let (mailbox, notes) = self.target(&f.folder);
            plan.folders.push(PlannedFolder {
                source: f.clone(),
                mailbox,
                notes,
            });
        }
        if !self.is_single() {
            note_merges(&mut plan.folders);
        }
        plan
    }
}

/// Says, on each, which source folders go into one mailbox (`inbox.mbox`
/// beside a Maildir's INBOX, `a.b` flattened beside `a_b`, `Sent Items`
/// and `Sent` both the server's Sent): never a silent merge. Not said
/// under `--mailbox`, which asks for one.
fn note_merges(folders: &mut [PlannedFolder]) {
    let mut by_mailbox: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, f) in folders.iter().enumerate() {
        by_mailbox.entry(f.mailbox.as_str()).or_default().push(i);
    }
    let merges: Vec<(String, Vec<usize>)> = by_mailbox
        .into_iter()
        .filter(|(_, ix)| ix.len() > 1)
        .map(|(m, ix)| (m.to_string(), ix))
        .collect();
    for (mailbox, ix) in merges {
        let paths: Vec<String> = ix
            .iter()
            .map(|&i| folders[i].source.path.display().to_string())
            .collect();
        let note = format!(
            "{mailbox}: the messages of {} go into this one mailbox",
            paths.join(", ")
        );
        for i in ix {
            folders[i].notes.push(note.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FolderKind;

    fn folder(path: &str, name: &[&str]) -> SourceFolder {
        SourceFolder {
            path: path.into(),
            kind: FolderKind::Mbox,
            folder: name.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn planned(opts: TargetOptions) -> Plan {
        let layout = ServerLayout {
            delimiter: Some('/'),
            ..Default::default()
        };
        TargetMap::new(&opts, layout).unwrap().plan(&[
            folder("m/inbox.mbox", &["inbox"]),
            folder("m/Maildir", &["INBOX"]),
            folder("m/Work.mbox", &["Work"]),
        ])
    }

    #[test]
    fn folders_merged_into_one_mailbox_are_said_on_each() {
        let plan = planned(TargetOptions::default());
        let notes: Vec<&Vec<String>> = plan.folders.iter().map(|f| &f.notes).collect();
        let want = "INBOX: the messages of m/inbox.mbox, m/Maildir go into this one mailbox";
        assert_eq!(notes[0], &[want]);
        assert_eq!(notes[1], &[want]);
        assert!(notes[2].is_empty(), "{notes:?}");
        // Asked for with --mailbox: not said.
        let plan = planned(TargetOptions {
            mailbox: Some("All".into()),
            ..Default::default()
        });
        assert!(plan.folders.iter().all(|f| f.notes.is_empty()));
    }
}
