//! Files and directories only their owner may read: the journal and its
//! lock, the `--trace` file, `--failed-out`'s directory, messages and index.
//! They name servers and mailboxes or hold whole messages, so every one of
//! them is opened or created here: files 0600, directories 0700, whatever the
//! umask (which narrows the mode given to open(2) and mkdir(2), never widens
//! it, so the mode is also set explicitly). One that already exists with
//! another mode is made private if it is ours, and refused with an error
//! saying why if it is someone else's and others can read it.
//!
//! What this module does not touch: directories that merely contain ours
//! (`--journal /tmp/x.journal` leaves `/tmp` as it is).

use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every file opened here: read and write for the owner only.
pub const FILE_MODE: u32 = 0o600;

/// The mode of every directory created or reused here.
pub const DIR_MODE: u32 = 0o700;

/// Opens `path` as `options` say (read, write, append, create,
/// create_new): a file it creates is 0600; an existing one is made 0600, or
/// refused when it belongs to another user and others can read it. Not with
/// `truncate`: a refused file must keep its contents; see [`create`].
pub fn open(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options.mode(FILE_MODE).open(path)?;
    make_private(path, &file.metadata()?, FILE_MODE, |p| {
        file.set_permissions(p)
    })?;
    Ok(file)
}

/// Creates `path` for writing, or empties an existing file once it is
/// private (see [`open`]).
pub fn create(path: &Path) -> io::Result<File> {
    let file = open(path, OpenOptions::new().write(true).create(true))?;
    file.set_len(0)?;
    Ok(file)
}

/// Creates `path` and its missing parents, each one created 0700.
/// Directories that already exist are left as they are: they may be shared
/// (`/tmp`, a home directory).
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        create_dir_all(parent)?;
    }
    match fs::DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => fs::set_permissions(path, Permissions::from_mode(DIR_MODE)),
        // Created meanwhile by another run: not ours to change.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// A directory of our own at `path`: created 0700 (with its missing
/// parents, see [`create_dir_all`]), or an existing one made 0700, or
/// refused when it belongs to another user and others can read it.
pub fn dir(path: &Path) -> io::Result<()> {
    create_dir_all(path)?;
    make_private(path, &fs::metadata(path)?, DIR_MODE, |p| {
        fs::set_permissions(path, p)
    })
}

/// Gives an existing file or directory (`meta`) the mode `private`, through
/// `set`. Someone else's is not changed: it is refused if others can read it
/// and accepted as it is if they cannot.
fn make_private(
    path: &Path,
    meta: &fs::Metadata,
    private: u32,
    set: impl FnOnce(Permissions) -> io::Result<()>,
) -> io::Result<()> {
    let mode = meta.mode() & 0o777;
    if mode == private {
        return Ok(());
    }
    let open_to_others = mode & 0o077 != 0;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ours = meta.uid() == unsafe { libc::geteuid() };
    if !ours {
        return if open_to_others {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} has mode {mode:04o} (others can read it) and belongs to another user (uid {}): not changing it; remove it or give another path",
                    path.display(),
                    meta.uid()
                ),
            ))
        } else {
            Ok(())
        };
    }
    set(Permissions::from_mode(private)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} has mode {mode:04o} and cannot be made {private:04o}: {e}",
                path.display()
            ),
        )
    })
}

/// For the tests of the modules that create private files.
#[cfg(test)]
pub(crate) mod testing {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Sets the usual umask, under which plain creation gives 0644 and 0755.
    pub fn usual_umask() {
        // SAFETY: umask has no preconditions; 022 is what the other tests
        // of this process expect anyway.
        unsafe { libc::umask(0o022) };
    }

    /// The permission bits of `path`.
    pub fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o777
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::testing::{mode, usual_umask};
    use super::*;

    #[test]
    fn new_files_and_directories_are_private_under_umask_022() {
        usual_umask();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state").join("mailhaul");
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&tmp.path().join("state")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("j");
        let mut f = open(&file, OpenOptions::new().append(true).create(true)).unwrap();
        f.write_all(b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        // A plain file made beside it shows what the umask alone gives.
        fs::write(dir.join("plain"), b"").unwrap();
        assert_eq!(mode(&dir.join("plain")), 0o644);
    }

    #[test]
    fn existing_directories_are_left_alone_by_create_dir_all_but_narrowed_by_dir() {
        usual_umask();
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, Permissions::from_mode(0o755)).unwrap();
        create_dir_all(&shared.join("ours")).unwrap();
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(mode(&shared.join("ours")), 0o700);
        dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o700);
    }

    #[test]
    fn an_existing_file_of_ours_is_narrowed_and_keeps_its_contents() {
        usual_umask();
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("trace");
        fs::write(&file, b"old").unwrap();
        fs::set_permissions(&file, Permissions::from_mode(0o666)).unwrap();
        open(&file, OpenOptions::new().append(true)).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).unwrap(), b"old");
        fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        create(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).unwrap(), b"");
    }

    #[test]
    fn someone_elses_readable_file_is_refused_and_a_private_one_accepted() {
        let never = |_| -> io::Result<()> { panic!("someone else's file was changed") };
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            // /etc/passwd: root's, 0644.
            let passwd = Path::new("/etc/passwd");
            let err = make_private(passwd, &fs::metadata(passwd).unwrap(), FILE_MODE, never);
            assert!(err.unwrap_err().to_string().contains("another user"));
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
        let with_mode = |m: u32| {
            fs::set_permissions(&file, Permissions::from_mode(m)).unwrap();
            fs::metadata(&file).unwrap()
        };
        let err = make_private(&file, &with_mode(0o644), FILE_MODE, never).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mode 0644") && text.contains("another user (uid 65534)"),
            "{text}"
        );
        make_private(&file, &with_mode(0o400), FILE_MODE, never).unwrap();
    }

    #[test]
    fn a_failed_narrowing_of_our_own_file_is_an_error_naming_the_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        let meta = fs::metadata(&file).unwrap();
        let err = make_private(&file, &meta, FILE_MODE, |_| {
            Err(io::Error::from_raw_os_error(libc::EROFS))
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mode 0644") && text.contains("0600"),
            "{text}"
        );
    }
}
