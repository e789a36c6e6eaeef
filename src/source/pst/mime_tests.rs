use super::*;
use crate::source::pst::props::Value;
use mail_parser::MimeHeaders;

fn props(list: &[(u16, Value)]) -> Props {
    list.iter().cloned().collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("a parseable message")
}

#[test]
fn delivered_headers_kept_content_fields_replaced() {
    let item = Item {
        props: props(&[
            (
                props::TRANSPORT_MESSAGE_HEADERS,
                text(
                    "Received: from a by b;\r\n Mon, 1 Jan 2001 10:00:00 +0000\r\nFrom: A <a@x.org>\r\n\
                     Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"zz\"\r\n\r\n",
                ),
            ),
            (props::BODY, text("plain ünïcode\r\nline 2")),
            (props::HTML, Value::Binary(b"<p>html</p>".to_vec())),
            (props::INTERNET_CODEPAGE, Value::Int(65001)),
        ]),
        ..Default::default()
    };
    let r = rebuild(&item);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let s = String::from_utf8_lossy(&r.bytes);
    assert!(s.starts_with("Received: from a by b;\r\n Mon, 1 Jan 2001 10:00:00 +0000\r\nFrom: A <a@x.org>\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="));
    assert!(!s.contains("boundary=\"zz\""));
    assert_eq!(s.matches("MIME-Version").count(), 1);
    let m = parse(&r.bytes);
    assert_eq!(m.body_text(0).as_deref(), Some("plain ünïcode\r\nline 2"));
    assert_eq!(m.body_html(0).as_deref(), Some("<p>html</p>"));
    assert!(r.bytes.iter().all(|b| b.is_ascii()));
}

#[test]
fn synthesized_headers_attachments_and_embedded_message() {
    let recipient = |kind: i32, name: &str, addr: &str| {
        props(&[
            (props::RECIPIENT_TYPE, Value::Int(kind)),
            (props::DISPLAY_NAME, text(name)),
            (props::ADDRTYPE, text("SMTP")),
            (props::EMAIL_ADDRESS, text(addr)),
        ])
    };
    let embedded = Item {
        props: props(&[
            (props::SUBJECT, text("inner")),
            (props::BODY, text("inner body")),
        ]),
        ..Default::default()
    };
    let item = Item {
        props: props(&[
            (props::SUBJECT, text("\u{1}\u{4}RE: Grüße")),
            (
                props::CLIENT_SUBMIT_TIME,
                Value::Time(126_430_805_910_000_000),
            ),
            (props::SENT_REPRESENTING_NAME, text("Doe, John")),
            (props::SENT_REPRESENTING_ADDRTYPE, text("SMTP")),
            (props::SENT_REPRESENTING_EMAIL, text("john@x.org")),
            (props::INTERNET_MESSAGE_ID, text("<id@x.org>")),
            (props::BODY, Value::Text8(b"caf\xe9".to_vec())),
            (props::MESSAGE_CODEPAGE, Value::Int(1252)),
        ]),
        recipients: vec![
            recipient(1, "Ann", "ann@x.org"),
            recipient(2, "Bob Ü", "bob@x.org"),
            props(&[
                (props::RECIPIENT_TYPE, Value::Int(1)),
                (props::DISPLAY_NAME, text("Exchange Only")),
                (props::ADDRTYPE, text("EX")),
                (props::EMAIL_ADDRESS, text("/o=ORG/cn=x")),
            ]),
        ],
        attachments: vec![
            ItemAttachment {
                props: props(&[
                    (props::ATTACH_LONG_FILENAME, text("résumé.pdf")),
                    (props::ATTACH_METHOD, Value::Int(1)),
                ]),
                content: AttachmentContent::Bytes(vec![0, 1, 2, 255]),
            },
            ItemAttachment {
                props: props(&[(props::ATTACH_METHOD, Value::Int(5))]),
                content: AttachmentContent::Message(Box::new(embedded)),
            },
            ItemAttachment {
                props: props(&[(props::DISPLAY_NAME, text("link.doc"))]),
                content: AttachmentContent::None,
            },
        ],
        warnings: Vec::new(),
    };
    let r = rebuild(&item);
    assert!(r.warnings[0].starts_with("no transport headers"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("\"link.doc\" is a link"))
    );
    let m = parse(&r.bytes);
    assert_eq!(m.subject(), Some("RE: Grüße"));
    assert_eq!(m.message_id(), Some("id@x.org"));
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Doe, John"));
    assert_eq!(from.address(), Some("john@x.org"));
    let to: Vec<_> = m.to().unwrap().iter().map(|a| a.address()).collect();
    assert_eq!(to, vec![Some("ann@x.org")]);
    assert_eq!(m.cc().unwrap().first().unwrap().name(), Some("Bob Ü"));
    assert!(String::from_utf8_lossy(&r.bytes).contains("Exchange Only:;"));
    assert_eq!(m.date().unwrap().to_rfc3339(), "2001-08-23T22:49:51Z");
    assert_eq!(m.body_text(0).as_deref(), Some("café"));
    let att = m.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some("résumé.pdf"));
    assert_eq!(att.contents(), &[0, 1, 2, 255]);
    assert_eq!(att.content_type().unwrap().subtype(), Some("pdf"));
    let inner = m.attachment(1).unwrap().message().expect("message/rfc822");
    assert_eq!(inner.subject(), Some("inner"));
    assert_eq!(inner.body_text(0).as_deref(), Some("inner body"));
}

#[test]
fn rtf_only_body_is_attached() {
    let rtf = "{\\rtf1\\ansi Hello {\\b bold}}";
    let compressed = compressed_rtf::compress_rtf(rtf).unwrap();
    let item = Item {
        props: props(&[
            (props::TRANSPORT_MESSAGE_HEADERS, text("Subject: r\r\n\r\n")),
            (props::RTF_COMPRESSED, Value::Binary(compressed)),
        ]),
        ..Default::default()
    };
    let r = rebuild(&item);
    assert_eq!(
        r.warnings,
        vec!["only an RTF body in the PST: attached as body.rtf".to_string()]
    );
    let m = parse(&r.bytes);
    let att = m.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some("body.rtf"));
    assert_eq!(att.contents(), rtf.as_bytes());
}

#[test]
fn empty_item_is_still_a_message() {
    let r = rebuild(&Item::default());
    let s = String::from_utf8(r.bytes).unwrap();
    assert_eq!(
        s,
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\
         Content-Transfer-Encoding: 7bit\r\n\r\n"
    );
}

#[test]
fn html_from_rtf_with_inline_image_is_related() {
    let rtf = "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 {\\*\\htmltag <p>}Hi \
               {\\*\\htmltag <img src=\"cid:logo@x\">}{\\*\\htmltag </p>}}";
    let attachment = |name: &str, cid: Option<&str>| {
        let mut p = props(&[(props::ATTACH_LONG_FILENAME, text(name))]);
        if let Some(cid) = cid {
            p.insert(props::ATTACH_CONTENT_ID, text(cid));
        }
        ItemAttachment {
            props: p,
            content: AttachmentContent::Bytes(name.as_bytes().to_vec()),
        }
    };
    let item = Item {
        props: props(&[
            (props::TRANSPORT_MESSAGE_HEADERS, text("Subject: h\r\n\r\n")),
            (props::BODY, text("Hi")),
            (
                props::RTF_COMPRESSED,
                Value::Binary(compressed_rtf::compress_rtf(rtf).unwrap()),
            ),
        ]),
        attachments: vec![
            attachment("logo.png", Some("logo@x")),
            attachment("report.pdf", None),
        ],
        ..Default::default()
    };
    let r = rebuild(&item);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let s = String::from_utf8_lossy(&r.bytes);
    let order: Vec<&str> = s
        .lines()
        .filter_map(|l| l.strip_prefix("Content-Type: "))
        .map(|l| l.split(';').next().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "application/pdf"
        ]
    );
    let m = parse(&r.bytes);
    assert_eq!(
        m.body_html(0).as_deref(),
        Some("<p>Hi <img src=\"cid:logo@x\"></p>")
    );
    assert!(s.contains("Content-ID: <logo@x>"));
}
