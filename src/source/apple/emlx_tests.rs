//! Tests of `.emlx` reading (split from `emlx.rs` to keep it small).

use super::*;
use crate::message::{DateSource, Flag};

/// An `.emlx` file as Mail writes it: the padded byte count, the message,
/// the plist with `flags` and `date-received`.
pub(crate) fn emlx(message: &str, flags: u64, received: Option<i64>) -> Vec<u8> {
    let mut plist = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n",
    );
    if let Some(r) = received {
        plist += &format!("\t<key>date-received</key>\n\t<integer>{r}</integer>\n");
    }
    plist += &format!("\t<key>flags</key>\n\t<integer>{flags}</integer>\n</dict>\n</plist>\n");
    format!("{:<10}\n{message}{plist}", message.len()).into_bytes()
}

fn read_all(path: &Path) -> Vec<Result<Message, SourceError>> {
    EmlxReader::open(path, &ReadOptions::default())
        .unwrap()
        .collect()
}

#[test]
fn split_at_the_byte_count() {
    let raw = emlx("Subject: x\n\nbody\n", 0, None);
    let parts = split(&raw).unwrap();
    assert_eq!(parts.message, b"Subject: x\n\nbody\n");
    assert!(parts.plist.starts_with(b"<?xml"));
    assert_eq!(split(b"5\nabcde").unwrap().plist, b"");

    let e = split(b"Subject: not emlx\n\n").unwrap_err();
    assert!(
        e.starts_with("byte 0:") && e.contains("not a byte count"),
        "{e}"
    );
    let e = split(b"100\nshort").unwrap_err();
    assert!(
        e.starts_with("byte 4:") && e.contains("only 5 follow"),
        "{e}"
    );
    assert!(split(b"no line end at all").is_err());
}

#[test]
fn flags_date_and_bytes_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let msgs = dir.path().join("Messages");
    fs::create_dir(&msgs).unwrap();
    let text = "Date: Mon, 6 Jan 2020 09:00:00 +0000\nSubject: one\n\nBody\nFrom here\n";
    // read, answered, forwarded, received 2020-01-06T10:00:00Z.
    fs::write(
        msgs.join("12.emlx"),
        emlx(text, 1 | 4 | (1 << 8), Some(1_578_304_800)),
    )
    .unwrap();
    let got = read_all(&msgs.join("12.emlx"));
    let m = got[0].as_ref().unwrap();
    assert_eq!(
        m.bytes,
        b"Date: Mon, 6 Jan 2020 09:00:00 +0000\r\nSubject: one\r\n\r\nBody\r\nFrom here\r\n"
    );
    assert_eq!(
        m.flags,
        [
            Flag::Seen,
            Flag::Answered,
            Flag::Keyword("$Forwarded".into())
        ]
    );
    let date = m.date.unwrap();
    assert_eq!(date.source, DateSource::StoreReceived);
    assert_eq!(date.at.timestamp(), 1_578_304_800);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn without_plist_the_message_still_goes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("3.emlx");
    let text = "Date: Mon, 6 Jan 2020 09:00:00 +0000\n\nx\n";
    fs::write(&path, format!("{}\n{text}", text.len())).unwrap();
    let got = read_all(&path);
    let m = got[0].as_ref().unwrap();
    assert!(m.flags.is_empty());
    assert_eq!(m.date.unwrap().source, DateSource::DateHeader);
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
}

#[test]
fn mailbox_order_skips_children_and_prefers_complete_copies() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("INBOX.mbox");
    let deep = bundle.join("UUID/Data/1/Messages");
    let shallow = bundle.join("UUID/Data/Messages");
    for d in [&deep, &shallow, &bundle.join("Child.mbox/Messages")] {
        fs::create_dir_all(d).unwrap();
    }
    let m = |s: &str| emlx(&format!("Subject: {s}\n\n{s}\n"), 0, None);
    fs::write(deep.join("10.emlx"), m("ten")).unwrap();
    fs::write(deep.join("10.partial.emlx"), m("ten partial")).unwrap();
    fs::write(shallow.join("9.partial.emlx"), m("nine")).unwrap();
    fs::write(shallow.join("100.emlx"), m("hundred")).unwrap();
    fs::write(shallow.join(".hidden.emlx"), m("hidden")).unwrap();
    fs::write(bundle.join("Child.mbox/Messages/1.emlx"), m("child")).unwrap();
    fs::create_dir_all(bundle.join("UUID/Data/Attachments/9/2")).unwrap();
    fs::write(bundle.join("UUID/Data/Attachments/9/2/x.emlx"), m("no")).unwrap();
    let names: Vec<String> = read_all(&bundle)
        .into_iter()
        .map(|r| {
            let m = r.unwrap();
            String::from_utf8_lossy(&m.bytes)
                .lines()
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        ["Subject: nine", "Subject: ten", "Subject: hundred"],
        "number order; complete 10 over its partial copy"
    );
    assert!(store_bytes(&bundle) > 0);
}

#[test]
fn a_broken_file_is_an_error_and_the_next_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let msgs = dir.path().join("A.mbox/Messages");
    fs::create_dir_all(&msgs).unwrap();
    fs::write(msgs.join("1.emlx"), b"999\nSubject: cut\n").unwrap();
    fs::write(msgs.join("2.emlx"), emlx("Subject: ok\n\nok\n", 0, None)).unwrap();
    let got = read_all(&dir.path().join("A.mbox"));
    let e = got[0].as_ref().unwrap_err();
    assert_eq!(e.origin.path, msgs.join("1.emlx"));
    assert!(e.reason.contains("truncated"), "{}", e.reason);
    assert!(got[1].is_ok());
    assert_eq!(got[1].as_ref().unwrap().origin.index, 2);
}

#[test]
fn a_zero_date_received_is_no_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("8.emlx");
    let text = "Date: Mon, 6 Jan 2020 09:00:00 +0000\n\nx\n";
    fs::write(&path, emlx(text, 1, Some(0))).unwrap();
    let got = read_all(&path);
    let m = got[0].as_ref().unwrap();
    assert_eq!(m.date.unwrap().source, DateSource::DateHeader);
    assert_eq!(m.flags, [Flag::Seen]);
}
