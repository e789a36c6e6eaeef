//! Tests of source discovery (split from `discover.rs` to keep it small).

use super::*;
use crate::source::discover;

fn folders(d: &Discovery) -> Vec<(String, FolderKind)> {
    d.folders
        .iter()
        .map(|f| (f.folder.join("/"), f.kind.clone()))
        .collect()
}

fn maildir(dir: &Path) {
    fs::create_dir_all(dir.join("cur")).unwrap();
    fs::create_dir_all(dir.join("new")).unwrap();
}

#[test]
fn maildir_plus_plus_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mail");
    maildir(&root);
    maildir(&root.join(".Sent"));
    maildir(&root.join(".A.B"));
    maildir(&root.join(".&AOk-t&AOk-"));
    fs::create_dir(root.join(".NotAFolder")).unwrap();
    fs::write(root.join("dovecot-uidlist"), b"").unwrap();
    fs::write(root.join("subscriptions"), b"").unwrap();
    fs::write(root.join("01:2,"), b"Subject: x\n").unwrap();
    let d = discover(std::slice::from_ref(&root), Format::Auto).unwrap();
    assert_eq!(
        folders(&d),
        [
            ("INBOX".into(), FolderKind::Maildir),
            ("A/B".into(), FolderKind::Maildir),
            ("Sent".into(), FolderKind::Maildir),
            ("été".into(), FolderKind::Maildir),
        ]
    );
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].origin.path, root.join("01:2,"));
    assert!(d.problems[0].reason.contains("not in cur/ or new/"));
}

#[test]
fn single_maildir_names() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("Work");
    maildir(&work);
    let md = tmp.path().join("Maildir");
    maildir(&md);
    let d = discover(&[work, md], Format::Auto).unwrap();
    assert_eq!(
        folders(&d),
        [
            ("Work".into(), FolderKind::Maildir),
            ("INBOX".into(), FolderKind::Maildir)
        ]
    );
}

#[test]
fn nested_plain_maildirs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("notmuch");
    maildir(&root);
    maildir(&root.join("foo"));
    maildir(&root.join("foo/baz"));
    let d = discover(&[root], Format::Auto).unwrap();
    let names: Vec<_> = folders(&d).into_iter().map(|f| f.0).collect();
    assert_eq!(names, ["INBOX", "foo", "foo/baz"]);
}

#[test]
fn mbox_file_and_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fs::write(t.join("Inbox"), b"\nFrom a\n\n").unwrap();
    fs::write(t.join("Archive.mbox"), b"From a\n\n").unwrap();
    fs::create_dir(t.join("Archive.sbd")).unwrap();
    fs::write(t.join("Archive.sbd/2018"), b"").unwrap();
    fs::write(t.join("Archive.msf"), b"// mork").unwrap();
    fs::write(t.join(".hidden"), b"x").unwrap();
    fs::write(t.join("notes.txt"), b"hello\n").unwrap();
    fs::write(t.join("old.gz"), b"\x1f\x8b").unwrap();
    let d = discover(&[t.to_path_buf()], Format::Auto).unwrap();
    let names: Vec<_> = folders(&d).into_iter().map(|f| f.0).collect();
    assert_eq!(names, ["Archive", "Archive/2018", "INBOX"]);
    assert!(d.folders.iter().all(|f| f.kind == FolderKind::Mbox));
    let problems: Vec<_> = d
        .problems
        .iter()
        .map(|p| {
            p.origin
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(problems, ["notes.txt", "old.gz"]);

    let single = discover(&[t.join("Archive.mbox")], Format::Auto).unwrap();
    assert_eq!(single.folders[0].folder, ["Archive"]);
    let inbox = discover(&[t.join("Inbox")], Format::Auto).unwrap();
    assert_eq!(inbox.folders[0].folder, ["INBOX"]);
}

#[test]
fn errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let e = discover(std::slice::from_ref(&missing), Format::Auto).unwrap_err();
    assert!(format!("{e:#}").contains("nope"), "{e:#}");
    let text = tmp.path().join("notes.txt");
    fs::write(&text, b"hello\n").unwrap();
    let e = discover(std::slice::from_ref(&text), Format::Auto).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("notes.txt") && msg.contains("not an mbox file"),
        "{msg}"
    );
}

#[test]
fn format_forces_the_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mail");
    maildir(&root);
    maildir(&root.join(".Sent"));
    let d = discover(std::slice::from_ref(&root), Format::Maildir).unwrap();
    assert_eq!(folders(&d), [("mail".into(), FolderKind::Maildir)]);
    let d = discover(std::slice::from_ref(&root), Format::MaildirPlusPlus).unwrap();
    assert_eq!(d.folders.len(), 2);
    assert!(discover(&[root], Format::Mbox).is_err());
}

#[test]
fn plus_plus_names() {
    assert_eq!(plus_plus_folder("Sent"), ["Sent"]);
    assert_eq!(plus_plus_folder("A.B"), ["A", "B"]);
    assert_eq!(plus_plus_folder("&AOk-t&AOk-"), ["été"]);
}

#[test]
fn a_single_eml_file_is_one_message_for_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.eml");
    std::fs::write(&file, "From: a@example.org\nSubject: one\n\nbody\n").unwrap();
    let d = discover(std::slice::from_ref(&file), Format::Auto).unwrap();
    assert_eq!(folders(&d), [("INBOX".into(), FolderKind::Eml)]);
    let msgs: Vec<_> = d.folders[0]
        .messages(&crate::source::ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].bytes.starts_with(b"From: a@example.org\r\n"));
}

#[test]
fn one_message_mbox_files_in_a_tree_are_mboxes_not_eml() {
    // Thunderbird folders holding a single message: a From_ line, then
    // headers. They are mailboxes, not a folder of .eml files.
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let one = b"From - Mon Jan  6 10:00:00 2020\nX-Mozilla-Status: 0001\nSubject: x\n\nbody\n";
    fs::write(t.join("Work"), one).unwrap();
    fs::write(t.join("Personal"), one).unwrap();
    fs::create_dir(t.join("Work.sbd")).unwrap();
    fs::write(t.join("Work.sbd/Clients"), one).unwrap();
    let d = discover(&[t.to_path_buf()], Format::Auto).unwrap();
    assert_eq!(
        folders(&d),
        [
            ("Personal".into(), FolderKind::Mbox),
            ("Work".into(), FolderKind::Mbox),
            ("Work/Clients".into(), FolderKind::Mbox),
        ]
    );
}
