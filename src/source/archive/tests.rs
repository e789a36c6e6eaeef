//! Takeout archives built here (zip stored and deflated, tgz, split parts)
//! must read exactly like the unpacked mbox; damaged and unsupported
//! archives are reported with the member and the reason.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::*;
use crate::source::{Discovery, FolderKind, Format, SourceFolder, discover};

const MBOX_NAME: &str = "Takeout/Mail/All mail Including Spam and Trash.mbox";

/// A Takeout mbox: labels, an unread message, a chat, a quoted From line.
fn takeout_mbox() -> Vec<u8> {
    let mut out = Vec::new();
    for (n, labels) in [
        (1, "Inbox,Unread"),
        (2, "Sent,Opened"),
        (3, "Work/Projects,Inbox,Starred,Opened"),
        (4, "Chat,Opened"),
        (5, "Archived,Opened"),
    ] {
        write!(
            out,
            "From 16{n}@xxx Wed Apr 01 0{n}:00:00 +0000 2020\nX-GM-THRID: 16{n}\n\
             X-Gmail-Labels: {labels}\nSubject: m{n}\n\n>From quoted {n}.\nBody {n}.\n\n"
        )
        .unwrap();
    }
    out
}

/// Files of a Takeout export: the mbox and other products' files.
fn files(mbox: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![
        ("Takeout/archive_browser.html".into(), b"<html/>".to_vec()),
        ("Takeout/Drive/notes.txt".into(), b"not mail".to_vec()),
        (MBOX_NAME.into(), mbox.to_vec()),
        (
            "Takeout/Mail/User Settings/Labels.json".into(),
            b"{}".to_vec(),
        ),
    ]
}

fn write_zip(path: &Path, files: &[(String, Vec<u8>)], method: ::zip::CompressionMethod) {
    let mut w = ::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = ::zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in files {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn write_tgz(path: &Path, files: &[(String, Vec<u8>)]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_600_000_000);
        b.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// Every message of a folder as (bytes, flags, date, targets, skip).
type Read = (Vec<u8>, String, String, Vec<Vec<String>>, Option<String>);

fn read(folder: &SourceFolder) -> Vec<Read> {
    let opts = ReadOptions::default();
    folder
        .messages(&opts)
        .unwrap()
        .map(|m| {
            let m = m.unwrap();
            (
                m.bytes,
                format!("{:?}", m.flags),
                format!("{:?}", m.date),
                m.targets,
                m.skip,
            )
        })
        .collect()
}

/// The same mbox unpacked beside the archives, read as today.
fn unpacked(dir: &Path, mbox: &[u8]) -> Vec<Read> {
    let path = dir.join("All mail Including Spam and Trash.mbox");
    std::fs::write(&path, mbox).unwrap();
    let d = discover(&[path], Format::Auto).unwrap();
    read(&d.folders[0])
}

fn only_archive(d: &Discovery) -> &ArchivedMbox {
    assert_eq!(d.folders.len(), 1, "{:?}", d.folders);
    match &d.folders[0].kind {
        FolderKind::TakeoutArchive(m) => m,
        other => panic!("not an archive: {other:?}"),
    }
}

#[test]
fn zip_and_tgz_read_like_the_unpacked_mbox() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = takeout_mbox();
    let want = unpacked(dir.path(), &mbox);
    assert_eq!(want.len(), 5);
    assert_eq!(want[2].3.len(), 2, "two labels: two targets");
    let stored = dir.path().join("takeout-stored.zip");
    write_zip(&stored, &files(&mbox), ::zip::CompressionMethod::Stored);
    let deflated = dir.path().join("takeout-20261101T000000Z-001.zip");
    write_zip(&deflated, &files(&mbox), ::zip::CompressionMethod::Deflated);
    let tgz = dir.path().join("takeout-20261101T000000Z-001.tgz");
    write_tgz(&tgz, &files(&mbox));
    for (path, kind) in [(&stored, "zip"), (&deflated, "zip"), (&tgz, "tgz")] {
        let d = discover(std::slice::from_ref(path), Format::Auto).unwrap();
        let m = only_archive(&d);
        assert_eq!(d.folders[0].folder, ["All mail Including Spam and Trash"]);
        assert_eq!(d.folders[0].path, path.join(MBOX_NAME));
        assert_eq!(d.folders[0].kind.name(), format!("takeout-{kind}"));
        assert_eq!(m.size(), mbox.len() as u64);
        assert_eq!(read(&d.folders[0]), want, "{}", path.display());
        // The other products are a note, not mail.
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        let note = &d.problems[0].reason;
        assert!(
            note.starts_with("3 files of other Google products"),
            "{note}"
        );
        assert!(note.contains("Drive, Mail, archive_browser.html"), "{note}");
    }
}

#[test]
fn split_parts_are_read_together_in_part_order() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = takeout_mbox();
    let want = unpacked(dir.path(), &mbox);
    let part = |n: u32, ext: &str| {
        dir.path()
            .join(format!("takeout-20261101T000000Z-00{n}.{ext}"))
    };
    // The mbox wholly in part 2, other products in part 1.
    let all = files(&mbox);
    write_zip(
        &part(1, "zip"),
        &all[..2],
        ::zip::CompressionMethod::Deflated,
    );
    write_zip(
        &part(2, "zip"),
        &all[2..],
        ::zip::CompressionMethod::Deflated,
    );
    // The mbox cut in the middle of a message, its pieces in two tgz parts.
    let cut = mbox.len() / 2 + 3;
    let piece = |bytes: &[u8]| vec![(MBOX_NAME.to_string(), bytes.to_vec())];
    write_tgz(&part(1, "tgz"), &piece(&mbox[..cut]));
    write_tgz(&part(2, "tgz"), &piece(&mbox[cut..]));

    // Given out of order; each export is one group.
    let given = [
        part(2, "zip"),
        part(2, "tgz"),
        part(1, "zip"),
        part(1, "tgz"),
    ];
    let d = discover(&given, Format::Auto).unwrap();
    assert_eq!(d.folders.len(), 2, "{:?}", d.folders);
    for f in &d.folders {
        assert_eq!(read(f), want, "{}", f.path.display());
    }
    let FolderKind::TakeoutArchive(tgz) = &d.folders[1].kind else {
        panic!()
    };
    let parts: Vec<&PathBuf> = tgz.pieces.iter().map(|p| &p.part).collect();
    assert_eq!(parts, [&part(1, "tgz"), &part(2, "tgz")]);
    assert!(
        d.problems
            .iter()
            .any(|p| p.reason.starts_with("found in 2 parts")),
        "{:?}",
        d.problems
    );

    // Found together in a directory: the same two exports.
    let tree = discover(&[dir.path().to_path_buf()], Format::Auto).unwrap();
    let archives: Vec<_> = tree
        .folders
        .iter()
        .filter(|f| matches!(f.kind, FolderKind::TakeoutArchive(_)))
        .collect();
    assert_eq!(archives.len(), 2, "{:?}", tree.folders);
    assert!(archives.iter().all(|f| read(f) == want));
}

#[test]
fn part_names_group() {
    let p = |s: &str| PathBuf::from(s);
    let groups = group_parts(&[
        p("a/takeout-X-002.zip"),
        p("b/other.zip"),
        p("a/takeout-X-001.zip"),
        p("a/takeout-X-001.tgz"),
        p("a/takeout-X-002.zip"),
    ]);
    assert_eq!(
        groups,
        [
            vec![p("a/takeout-X-001.zip"), p("a/takeout-X-002.zip")],
            vec![p("b/other.zip")],
            vec![p("a/takeout-X-001.tgz")],
        ]
    );
    assert!(is_archive_name(&p("T.TAR.GZ")) && !is_archive_name(&p("box.mbox.gz")));
}

/// Offsets of the zip's local and central headers (signatures PK 3 4, PK 1 2).
fn headers(zip: &[u8], sig: &[u8; 4]) -> Vec<usize> {
    zip.windows(4)
        .enumerate()
        .filter(|(_, w)| w == sig)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn damaged_and_unsupported_archives_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = takeout_mbox();
    let one = vec![(MBOX_NAME.to_string(), mbox.clone())];
    let open_error = |path: &Path| -> String {
        let d = match discover(&[path.to_path_buf()], Format::TakeoutArchive) {
            Err(e) => return format!("{e:#}"),
            Ok(d) => d,
        };
        let mut messages = match d.folders[0].messages(&ReadOptions::default()) {
            Err(e) => return format!("{e:#}"),
            Ok(m) => m,
        };
        match messages.find_map(Result::err) {
            Some(e) => e.to_string(),
            None => panic!("{} read without an error", path.display()),
        }
    };

    // Deflate64 (method 9) in both headers: named, with what to do.
    let path = dir.path().join("d64.zip");
    write_zip(&path, &one, ::zip::CompressionMethod::Stored);
    let mut bytes = std::fs::read(&path).unwrap();
    let local = headers(&bytes, b"PK\x03\x04")[0];
    let central = headers(&bytes, b"PK\x01\x02")[0];
    bytes[local + 8] = 9;
    bytes[central + 10] = 9;
    std::fs::write(&path, &bytes).unwrap();
    let e = open_error(&path);
    assert!(e.contains("cannot open"), "{e}");
    assert!(e.contains("Deflate64 (9) is not read"), "{e}");
    assert!(e.contains(MBOX_NAME), "{e}");

    // A flipped byte in a stored member: the CRC catches it, with the
    // message and the position where reading stopped.
    let path = dir.path().join("crc.zip");
    write_zip(&path, &one, ::zip::CompressionMethod::Stored);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = headers(&bytes, b"PK\x03\x04")[0] + 30 + MBOX_NAME.len() + 100;
    bytes[at] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let e = open_error(&path);
    assert!(e.contains("CRC-32 mismatch"), "{e}");
    assert!(e.contains("crc.zip/Takeout/Mail/"), "{e}");

    // A tgz cut short (an interrupted download): what comes before the
    // cut is read, then the error names the member and the position.
    let path = dir.path().join("cut.tgz");
    let long: Vec<u8> = (0..40).flat_map(|_| takeout_mbox()).collect();
    write_tgz(&path, &[(MBOX_NAME.to_string(), long)]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let d = discover(std::slice::from_ref(&path), Format::Auto).unwrap();
    assert!(
        d.problems[0]
            .reason
            .ends_with("only the members before it are read"),
        "{:?}",
        d.problems
    );
    let results: Vec<_> = d.folders[0]
        .messages(&ReadOptions::default())
        .unwrap()
        .collect();
    let ok = results.iter().take_while(|r| r.is_ok()).count();
    assert!(
        ok > 5 && ok == results.len() - 1,
        "{ok} of {}",
        results.len()
    );
    let e = results.last().unwrap().as_ref().unwrap_err();
    assert!(e.origin.offset.is_some(), "{e}");
    assert!(e.to_string().contains("cut.tgz/Takeout/Mail/"), "{e}");

    // Not an archive at all, and an archive without mail.
    let path = dir.path().join("fake.zip");
    std::fs::write(&path, b"From x Mon Jan  6 09:15:00 2020\n\nhi\n").unwrap();
    let e = discover(&[path], Format::Auto).unwrap_err();
    assert!(
        format!("{e:#}").contains("not a zip or tgz archive"),
        "{e:#}"
    );
    let path = dir.path().join("photos.zip");
    write_zip(
        &path,
        &files(&mbox)[..2],
        ::zip::CompressionMethod::Deflated,
    );
    let e = discover(&[path], Format::Auto).unwrap_err();
    assert!(format!("{e:#}").contains("no mbox in the archive"), "{e:#}");
}

#[test]
fn archives_in_a_tree_and_forced_format() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = takeout_mbox();
    let tree = dir.path().join("downloads");
    std::fs::create_dir(&tree).unwrap();
    // In a tree an archive without mail is a problem, not an error, and
    // the mbox beside it is still found.
    write_zip(
        &tree.join("photos.zip"),
        &files(&mbox)[..2],
        ::zip::CompressionMethod::Deflated,
    );
    std::fs::write(
        tree.join("old.mbox"),
        b"From a@b Mon Jan  6 09:15:00 2020\n\nhi\n",
    )
    .unwrap();
    let d = discover(std::slice::from_ref(&tree), Format::Auto).unwrap();
    let kinds: Vec<String> = d.folders.iter().map(|f| f.kind.name()).collect();
    assert_eq!(kinds, ["mbox"]);
    assert!(
        d.problems
            .iter()
            .any(|p| p.reason.contains("no mbox in the archive")),
        "{:?}",
        d.problems
    );
    // --format takeout-zip: any file is an archive (told by its magic),
    // and a directory must hold one.
    let odd = dir.path().join("export.bin");
    write_tgz(&odd, &files(&mbox));
    let d = discover(std::slice::from_ref(&odd), Format::TakeoutArchive).unwrap();
    assert_eq!(only_archive(&d).pieces[0].format, ArchiveFormat::Tgz);
    let d = discover(std::slice::from_ref(&tree), Format::TakeoutArchive).unwrap();
    assert!(d.folders.is_empty(), "old.mbox is not an archive");
    assert!(
        d.problems[1].reason.contains("no mbox in the archive"),
        "{:?}",
        d.problems
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = discover(&[empty], Format::TakeoutArchive).unwrap_err();
    assert!(
        format!("{e:#}").contains("no .zip, .tgz or .tar.gz file"),
        "{e:#}"
    );
}

#[test]
fn an_archive_modified_while_its_mbox_is_read_stops_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-001.zip");
    let zip_files = files(&takeout_mbox());
    write_zip(&path, &zip_files, ::zip::CompressionMethod::Deflated);
    let d = discover(std::slice::from_ref(&path), Format::Auto).unwrap();
    let mut messages = only_archive(&d).messages(&ReadOptions::default()).unwrap();
    assert!(messages.next().unwrap().is_ok());
    // Downloaded again over the same name while it is read.
    write_zip(&path, &zip_files, ::zip::CompressionMethod::Stored);
    crate::source::stable_file::changes::touch_later(&path);
    let err = messages.next().unwrap().unwrap_err();
    assert!(err.changed_while_read(), "{err}");
    assert!(err.reason.contains("takeout-001.zip"), "{err}");
    assert!(messages.next().is_none());
}
