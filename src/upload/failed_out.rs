//! `--failed-out DIR`: every message that could not be uploaded is written
//! there as `NNNNN.eml` (the bytes that would have been sent), and one line
//! per message goes to `index.tsv` (file, mailbox, origin, class, reason), so
//! nothing is lost even when the server refuses a message. They are whole
//! messages: the directory is 0700 and every file 0600 ([`private_file`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::private_file;

#[derive(Debug)]
pub struct FailedOut {
    dir: PathBuf,
    index: File,
    next: u64,
}

impl FailedOut {
    /// Creates `dir` and its index (appending to an existing index; numbers
    /// continue after the files already there).
    pub fn open(dir: &Path) -> io::Result<FailedOut> {
        private_file::dir(dir)?;
        let index_path = dir.join("index.tsv");
        let fresh = !index_path.exists();
        let mut index =
            private_file::open(&index_path, OpenOptions::new().create(true).append(true))?;
        if fresh {
            writeln!(index, "file\tmailbox\torigin\tclass\treason")?;
        }
        let next = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".eml")?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .map_or(1, |n| n + 1);
        Ok(FailedOut {
            dir: dir.to_path_buf(),
            index,
            next,
        })
    }

    /// Writes one failed message (`bytes` is `None` when the source could
    /// not be read at all: only the index line is written).
    pub fn write(
        &mut self,
        mailbox: &str,
        origin: &str,
        class: &str,
        reason: &str,
        bytes: Option<&[u8]>,
    ) -> io::Result<()> {
        let name = match bytes {
            Some(b) => {
                let name = format!("{:05}.eml", self.next);
                self.next += 1;
                // Never over an earlier run's file: numbers continue after them.
                private_file::open(
                    &self.dir.join(&name),
                    OpenOptions::new().write(true).create_new(true),
                )?
                .write_all(b)?;
                name
            }
            None => String::new(),
        };
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        writeln!(
            self.index,
            "{name}\t{}\t{}\t{class}\t{}",
            clean(mailbox),
            clean(origin),
            clean(reason)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_messages_and_index_and_continues_numbering() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("failed");
        let mut f = FailedOut::open(&out).unwrap();
        f.write(
            "INBOX",
            "a.mbox message 1",
            "refused",
            "NO [TOOBIG]\tx",
            Some(b"hi"),
        )
        .unwrap();
        f.write("INBOX", "b", "unreadable", "gone", None).unwrap();
        drop(f);
        let mut f = FailedOut::open(&out).unwrap();
        f.write("Sent", "c", "refused", "NO", Some(b"yo")).unwrap();
        assert_eq!(std::fs::read(out.join("00001.eml")).unwrap(), b"hi");
        assert_eq!(std::fs::read(out.join("00002.eml")).unwrap(), b"yo");
        let index = std::fs::read_to_string(out.join("index.tsv")).unwrap();
        assert_eq!(index.lines().count(), 4, "{index}");
        assert!(index.contains("00001.eml\tINBOX\ta.mbox message 1\trefused\tNO [TOOBIG] x"));
    }

    #[test]
    fn directory_messages_and_index_are_private_under_umask_022() {
        use crate::private_file::testing::{mode, usual_umask};
        use std::os::unix::fs::PermissionsExt;
        usual_umask();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("failed");
        FailedOut::open(&out)
            .unwrap()
            .write("INBOX", "a", "refused", "NO", Some(b"hi"))
            .unwrap();
        assert_eq!(mode(&out), 0o700);
        assert_eq!(mode(&out.join("index.tsv")), 0o600);
        assert_eq!(mode(&out.join("00001.eml")), 0o600);
        // A directory reused from a run before this fix is narrowed too.
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        FailedOut::open(&out).unwrap();
        assert_eq!(mode(&out), 0o700);
    }
}
