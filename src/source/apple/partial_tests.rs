//! Tests of partial-message reassembly (split from `partial.rs`).

use super::*;

/// A partial message shaped as Mail writes one: alternative → (plain,
/// mixed → (html, three stripped attachments in 7bit, base64 and
/// quoted-printable)).
const PARTIAL: &str = "From: a@example.org\n\
Content-Type: multipart/alternative;\n\tboundary=\"Apple-Mail=_OUTER\"\n\
Subject: three attachments\n\
\n\
\n\
--Apple-Mail=_OUTER\n\
Content-Transfer-Encoding: 7bit\n\
Content-Type: text/plain;\n\tcharset=us-ascii\n\
\n\
See attached.\n\
\n\
--Apple-Mail=_OUTER\n\
Content-Type: multipart/mixed;\n\tboundary=\"Apple-Mail=_INNER\"\n\
\n\
\n\
--Apple-Mail=_INNER\n\
Content-Type: text/html; charset=us-ascii\n\
\n\
<p>See attached.</p>\n\
--Apple-Mail=_INNER\n\
Content-Transfer-Encoding: 7bit\n\
Content-Disposition: attachment;\n\tfilename=notes.txt\n\
Content-Type: text/plain;\n\tname=notes.txt\n\
X-Apple-Content-Length: 12\n\
\n\
\n\
--Apple-Mail=_INNER\n\
Content-Transfer-Encoding: base64\n\
Content-Disposition: attachment;\n\tfilename=\"data.bin\"\n\
Content-Type: application/octet-stream;\n\tname=\"data.bin\"\n\
X-Apple-Content-Length: 400\n\
\n\
\n\
--Apple-Mail=_INNER\n\
Content-Transfer-Encoding: quoted-printable\n\
Content-Type: text/plain; charset=utf-8\n\
X-Apple-Content-Length: 99\n\
\n\
\n\
--Apple-Mail=_INNER--\n\
\n\
--Apple-Mail=_OUTER--\n";

fn crlf(s: &str) -> Vec<u8> {
    normalize_crlf(s.as_bytes())
}

/// Writes the partial message's attachments beside `Messages/7.partial.emlx`.
fn store(dir: &Path, parts: &[(&str, &str, &[u8])]) -> PathBuf {
    let emlx = dir.join("Data/Messages/7.partial.emlx");
    fs::create_dir_all(emlx.parent().unwrap()).unwrap();
    for (section, name, bytes) in parts {
        let d = dir.join("Data/Attachments/7").join(section);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(name), bytes).unwrap();
    }
    emlx
}

fn binary() -> Vec<u8> {
    (0..300u32).map(|i| (i * 7 % 256) as u8).collect()
}

const UNICODE: &str = "Grüße = regards\nA line that is much longer than seventy-six characters, so it needs soft breaks.\ntrailing space \n";

#[test]
fn sections_are_imap_part_numbers() {
    let msg = crlf(PARTIAL);
    let mut found = Vec::new();
    walk(&msg, (0, msg.len()), &[], true, &mut found, 0);
    let got: Vec<_> = found
        .iter()
        .map(|s| {
            (
                s.section.as_str(),
                s.encoding.as_str(),
                s.file_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2.2", "7bit", Some("notes.txt")),
            ("2.3", "base64", Some("data.bin")),
            ("2.4", "quoted-printable", None),
        ]
    );
    for s in &found {
        assert!(msg[s.marker.0..s.marker.1].starts_with(b"X-Apple-Content-Length: "));
        assert_eq!(s.body.0, s.body.1, "the stripped body is empty");
    }
}

#[test]
fn single_part_and_attached_message_numbers() {
    let single = crlf(
        "Subject: pdf\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\nX-Apple-Content-Length: 10\n\n",
    );
    let mut found = Vec::new();
    walk(&single, (0, single.len()), &[], true, &mut found, 0);
    assert_eq!(found[0].section, "1");

    let attached = crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\ninner\n--c\nContent-Type: image/png\nContent-Transfer-Encoding: base64\nX-Apple-Content-Length: 5\n\n\n--c--\n--b--\n",
    );
    let mut found = Vec::new();
    walk(&attached, (0, attached.len()), &[], true, &mut found, 0);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].section, "2.2");
}

#[test]
fn reassembled_parts_decode_to_the_attachment_files() {
    let dir = tempfile::tempdir().unwrap();
    let bin = binary();
    let emlx = store(
        dir.path(),
        &[
            ("2.2", "notes.txt", b"hello\nworld\n"),
            ("2.3", "data.bin", &bin),
            ("2.4", "Mail Attachment.txt", UNICODE.as_bytes()),
        ],
    );
    let out = reassemble(&crlf(PARTIAL), &emlx).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(!text.to_ascii_lowercase().contains(MARKER), "{text}");
    assert!(text.contains("name=notes.txt\r\n\r\nhello\r\nworld\r\n\r\n--Apple-Mail=_INNER\r\n"));
    assert!(out.split(|&b| b == b'\n').all(|l| l.len() <= 78), "{text}");

    let parsed = mail_parser::MessageParser::default().parse(&out).unwrap();
    let attachments: Vec<Vec<u8>> = parsed
        .attachments()
        .map(|a| a.contents().to_vec())
        .collect();
    let want = [
        b"hello\r\nworld\r\n".to_vec(),
        bin,
        normalize_crlf(UNICODE.as_bytes()),
    ];
    assert_eq!(attachments, want);
    assert_eq!(parsed.body_text(0).unwrap().trim(), "See attached.");
}

#[test]
fn a_missing_part_names_the_part_and_where_it_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let emlx = store(
        dir.path(),
        &[("2.2", "notes.txt", b"hello\n"), ("2.4", "q.txt", b"q\n")],
    );
    let e = reassemble(&crlf(PARTIAL), &emlx).unwrap_err();
    assert!(e.contains("part 2.3 (data.bin) is missing"), "{e}");
    assert!(e.contains("Attachments/7/2.3"), "{e}");
    assert!(e.contains("7.2.3.emlxpart"), "{e}");
    // Two files and none named as the part names it: ambiguous, also missing.
    let d = dir.path().join("Data/Attachments/7/2.3");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("a"), b"a").unwrap();
    fs::write(d.join("b"), b"b").unwrap();
    assert!(reassemble(&crlf(PARTIAL), &emlx).is_err());
}

#[test]
fn mail_2_emlxpart_files_hold_the_encoded_body() {
    let dir = tempfile::tempdir().unwrap();
    let emlx = store(dir.path(), &[("2.2", "notes.txt", b"hello\n")]);
    let messages = emlx.parent().unwrap();
    fs::write(messages.join("7.2.3.emlxpart"), b"AAEC\nAwQ=\n").unwrap();
    fs::write(messages.join("7.2.4.emlxpart"), b"caf=C3=A9\n").unwrap();
    let out = reassemble(&crlf(PARTIAL), &emlx).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("\r\n\r\nAAEC\r\nAwQ=\r\n--Apple-Mail=_INNER\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\n\r\ncaf=C3=A9\r\n--Apple-Mail=_INNER--"),
        "{text}"
    );
}

#[test]
fn a_partial_without_stripped_parts_is_unchanged() {
    let msg = crlf("Subject: small\n\nbody\n");
    assert_eq!(
        reassemble(&msg, Path::new("Messages/1.partial.emlx")).unwrap(),
        msg
    );
}

#[test]
fn parameters() {
    assert_eq!(
        param("attachment; filename=\"a b.pdf\"", "filename").as_deref(),
        Some("a b.pdf")
    );
    assert_eq!(
        param("text/plain; \tname=x.txt; \tx-unix-mode=0644", "name").as_deref(),
        Some("x.txt")
    );
    assert_eq!(param("attachment; filename=x.txt", "name"), None);
    assert_eq!(param("text/plain", "name"), None);
}

#[test]
fn quoted_printable_encoding() {
    assert_eq!(quoted_printable(b"a=b \n"), b"a=3Db=20\r\n");
    assert_eq!(quoted_printable("é\tx".as_bytes()), b"=C3=A9\tx");
    let long = quoted_printable(&[b'x'; 200]);
    let lines: Vec<&[u8]> = long.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.len() <= 77));
    assert!(lines[0].ends_with(b"=\r"));
}
