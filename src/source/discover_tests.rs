//! Tests of source discovery (split from `discover.rs` to keep it small).

use super::*;
use crate::source::discover;

fn folders(d: &Discovery) -> Vec<(String, FolderKind)> {
    d.folders
        .iter()
        .map(|f| (f.folder.join("/"), f.kind.clone()))
        .collect()
}

/// The file names of `problems`.
fn names_of(problems: &[SourceError]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            p.origin
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
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
    assert_eq!(names_of(&d.problems), ["notes.txt"]);
    // A gzip that cannot be read may be mail: it fails the run.
    assert_eq!(names_of(&d.unreadable), ["old.gz"]);

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

/// The last piece of a `zip -s` archive: no local header at its start,
/// deflate-like bytes (`-:b7…`, a line that looks like a field), and an
/// end record naming disk 1.
fn last_split_piece() -> Vec<u8> {
    let mut bytes = b"-:b7\x12\x00\x9c\x01".to_vec();
    bytes.extend((0..3000u32).map(|i| (i * 131 % 251) as u8));
    bytes.extend(b"PK\x05\x06\x01\x00\x00\x00\x01\x00\x01\x00");
    bytes.extend([0u8; 10]);
    bytes
}

#[test]
fn files_named_or_shaped_as_mail_that_cannot_be_read_fail_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fs::create_dir(t.join("box")).unwrap();
    fs::write(
        t.join("box/Inbox"),
        b"From a Mon Jan  6 09:15:00 2020\nSubject: a\n\nx\n",
    )
    .unwrap();
    // A PST cut short: its header says how long it should be.
    let mut pst = b"!BDN\0\0\0\0SM\x17\0".to_vec();
    pst.resize(0xB8, 0);
    pst.extend(1_000_000u64.to_le_bytes());
    pst.resize(4096, 0);
    fs::write(t.join("trunc.pst"), &pst).unwrap();
    let mut binary = b"\x89PNG\r\n\x1a\n\x00\x00".to_vec();
    binary.extend([7u8; 100]);
    fs::write(t.join("photo.eml"), &binary).unwrap();
    fs::write(t.join("export.z01"), b"PK\x07\x08PK\x03\x04").unwrap();
    fs::write(t.join("README"), b"my old mail\n").unwrap();
    fs::write(t.join("MANIFEST.md"), b"# files\n").unwrap();
    fs::write(t.join("Inbox.msf"), b"// mork").unwrap();
    let d = discover(&[t.to_path_buf()], Format::Auto).unwrap();
    assert_eq!(folders(&d), [("box/Inbox".into(), FolderKind::Mbox)]);
    assert_eq!(
        names_of(&d.unreadable),
        ["export.z01", "photo.eml", "trunc.pst"]
    );
    let reasons: Vec<&str> = d.unreadable.iter().map(|p| p.reason.as_str()).collect();
    assert!(
        reasons[0].contains("split zip archive (zip -s)") && reasons[0].contains("zip -s 0"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("not a mail message: binary data"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with(
            "not a readable PST file: truncated: the file has 4096 bytes, its header says 1000000"
        ),
        "{reasons:?}"
    );
    assert!(
        !reasons[2].contains("trunc.pst"),
        "the path only once: {reasons:?}"
    );
    // Files that are no mail stay warnings.
    assert_eq!(names_of(&d.problems), ["MANIFEST.md", "README"]);

    // Given by itself, each is an error (exit 2) saying the same.
    for (name, says) in [
        ("trunc.pst", "truncated"),
        ("photo.eml", "not a mail message: binary data"),
        ("export.z01", "zip -s 0"),
    ] {
        let e = discover(&[t.join(name)], Format::Auto).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains(name) && e.contains(says), "{e}");
        assert_eq!(e.matches(name).count(), 1, "{e}");
    }
}

#[test]
fn a_binary_file_is_no_message_and_a_split_zip_piece_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let split = tmp.path().join("split");
    fs::create_dir(&split).unwrap();
    fs::write(split.join("takeout.z01"), b"PK\x07\x08PK\x03\x04rest").unwrap();
    fs::write(split.join("takeout.zip"), last_split_piece()).unwrap();
    let d = discover(std::slice::from_ref(&split), Format::Auto).unwrap();
    assert!(d.folders.is_empty(), "{:?}", d.folders);
    assert_eq!(names_of(&d.unreadable), ["takeout.zip", "takeout.z01"]);
    assert!(
        d.unreadable
            .iter()
            .all(|p| p.reason.contains("split zip archive")),
        "{:?}",
        d.unreadable
    );
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let e = discover(&[split.join("takeout.zip")], Format::Auto).unwrap_err();
    assert!(
        format!("{e:#}").contains("zip -s 0 in.zip --out joined.zip"),
        "{e:#}"
    );

    // A binary file without a name that says mail, among messages: a
    // warning naming why, and the messages are still read.
    let eml = tmp.path().join("saved");
    fs::create_dir(&eml).unwrap();
    fs::write(eml.join("a.eml"), b"From: a@b\nSubject: a\n\nx\n").unwrap();
    fs::write(eml.join("blob"), last_split_piece()).unwrap();
    let d = discover(std::slice::from_ref(&eml), Format::Auto).unwrap();
    assert_eq!(folders(&d), [("saved".into(), FolderKind::Eml)]);
    assert!(d.unreadable.is_empty(), "{:?}", d.unreadable);
    assert_eq!(names_of(&d.problems), ["blob"]);
    assert!(
        d.problems[0].reason.contains("binary data"),
        "{:?}",
        d.problems
    );
    let msgs = d.folders[0]
        .messages(&crate::source::ReadOptions::default())
        .unwrap();
    assert_eq!(msgs.count(), 1);
}

/// A FIFO among a Maildir's messages is named as not read (reading it
/// would hang `scan`).
#[test]
fn a_fifo_in_a_maildir_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mail");
    maildir(&root);
    crate::source::maildir::tests::make_fifo(&root.join("new/1700000000.fifo.host"));
    let d = discover(&[root], Format::Auto).unwrap();
    assert_eq!(names_of(&d.problems), ["1700000000.fifo.host"]);
    assert!(d.problems[0].reason.contains("not a regular file"));
}

/// An empty directory as a source is no error, but says that it holds no mail.
#[test]
fn an_empty_directory_says_no_mail_was_found() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let d = discover(std::slice::from_ref(&empty), Format::Auto).unwrap();
    assert!(d.folders.is_empty());
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].origin.path, empty);
    assert!(d.problems[0].reason.contains("no mail found"));
    // An empty Maildir is a folder (its mailbox is made): no such warning.
    maildir(&tmp.path().join("md"));
    let d = discover(&[tmp.path().join("md")], Format::Auto).unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
}
