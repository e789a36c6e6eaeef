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
        plan
    }
}
