//! Unit tests for `command.rs`: known answers for every encoding.
use super::*;
use chrono::TimeZone;

fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn date() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2020, 1, 6, 9, 15, 0)
        .unwrap()
}

fn cmd(f: impl FnOnce(&mut Builder<'static>), mode: LiteralMode) -> String {
    let mut b = Builder::new("A0001".into(), "X", mode);
    f(&mut b);
    esc(&b.finish().dump())
}

#[test]
fn tags() {
    let mut t = Tags::default();
    assert_eq!(t.next_tag(), "A0001");
    assert_eq!(t.next_tag(), "A0002");
}

#[test]
fn strings_atom_quoted_literal() {
    let s = |v: &'static [u8]| {
        cmd(
            |b| {
                b.sp_astring(Cow::Borrowed(v));
            },
            LiteralMode::Plus,
        )
    };
    assert_eq!(s(b"user"), "A0001 X user\\r\\n");
    assert_eq!(s(b"two words"), "A0001 X \\\"two words\\\"\\r\\n");
    assert_eq!(s(b"a\"b\\c"), esc(b"A0001 X \"a\\\"b\\\\c\"\r\n"));
    assert_eq!(s(b""), esc(b"A0001 X \"\"\r\n"));
    assert_eq!(s(b"NIL"), esc(b"A0001 X \"NIL\"\r\n"));
    assert_eq!(s(b"p\xc3\xa4ss"), esc(b"A0001 X {5+}\r\np\xc3\xa4ss\r\n"));
    assert_eq!(s(b"a\r\nb"), esc(b"A0001 X {4+}\r\na\r\nb\r\n"));
    let sync = cmd(
        |b| {
            b.sp_astring(Cow::Borrowed(b"\0"));
        },
        LiteralMode::Sync,
    );
    assert_eq!(sync, esc(b"A0001 X {1}\r\n\0\r\n"));
}

#[test]
fn mailboxes_and_patterns() {
    let m = |n: &str| {
        let n = n.to_string();
        cmd(
            move |b| {
                b.sp_mailbox(&n);
            },
            LiteralMode::Sync,
        )
    };
    assert_eq!(m("inbox"), esc(b"A0001 X INBOX\r\n"));
    assert_eq!(m("Entwürfe"), esc(b"A0001 X Entw&APw-rfe\r\n"));
    assert_eq!(m("My Folder"), esc(b"A0001 X \"My Folder\"\r\n"));
    assert_eq!(m("a*b"), esc(b"A0001 X \"a*b\"\r\n"));
    let p = |n: &'static str| {
        cmd(
            move |b| {
                b.sp_list_pattern(n);
            },
            LiteralMode::Sync,
        )
    };
    assert_eq!(p("*"), esc(b"A0001 X *\r\n"));
    assert_eq!(p("INBOX.%"), esc(b"A0001 X INBOX.%\r\n"));
    assert_eq!(p(""), esc(b"A0001 X \"\"\r\n"));
}

#[test]
fn flags_and_dates() {
    let f = vec![Flag::Seen, Flag::Keyword("$Forwarded".into())];
    let out = cmd(
        move |b| {
            b.sp_flags(&f);
        },
        LiteralMode::Plus,
    );
    assert_eq!(out, esc(b"A0001 X (\\Seen $Forwarded)\r\n"));
    assert_eq!(date_time(&date()), "\"06-Jan-2020 09:15:00 +0100\"");
    let neg = FixedOffset::west_opt(5 * 3600 + 1800)
        .unwrap()
        .with_ymd_and_hms(1969, 12, 31, 23, 59, 59)
        .unwrap();
    assert_eq!(date_time(&neg), "\"31-Dec-1969 23:59:59 -0530\"");
}

#[test]
fn multiappend_fragments() {
    let flags = [Flag::Seen];
    let items = [
        AppendItem {
            flags: &flags,
            date: Some(date()),
            bytes: b"Hi\r\n",
        },
        AppendItem {
            flags: &[],
            date: None,
            bytes: b"x",
        },
    ];
    let c = append("A0007".into(), "INBOX", &items, LiteralMode::Plus).unwrap();
    assert_eq!(
        esc(&c.dump()),
        esc(b"A0007 APPEND INBOX (\\Seen) \"06-Jan-2020 09:15:00 +0100\" {4+}\r\nHi\r\n {1+}\r\nx\r\n")
    );
    let c = append("A0008".into(), "Sent", &items, LiteralMode::Sync).unwrap();
    assert_eq!(c.fragments.len(), 5);
    assert_eq!(
        c.fragments[0],
        Fragment::Line(
            b"A0008 APPEND Sent (\\Seen) \"06-Jan-2020 09:15:00 +0100\" {4}\r\n".to_vec()
        )
    );
    assert_eq!(c.fragments[2], Fragment::Line(b" {1}\r\n".to_vec()));
    assert_eq!(c.fragments[4], Fragment::Line(b"\r\n".to_vec()));
}

#[test]
fn literal_minus_threshold() {
    let big = vec![b'a'; LITERAL_MINUS_MAX + 1];
    let small = vec![b'a'; LITERAL_MINUS_MAX];
    let items = [
        AppendItem {
            flags: &[],
            date: None,
            bytes: &small,
        },
        AppendItem {
            flags: &[],
            date: None,
            bytes: &big,
        },
    ];
    let c = append("A1".into(), "INBOX", &items, LiteralMode::Minus).unwrap();
    let d = c.dump();
    assert!(d.starts_with(b"A1 APPEND INBOX {4096+}\r\n"));
    assert!(d.windows(9).any(|w| w == b" {4097}\r\n"));
}

#[test]
fn empty_messages_refused() {
    let items = [AppendItem {
        flags: &[],
        date: None,
        bytes: b"",
    }];
    assert!(matches!(
        append("A1".into(), "INBOX", &items, LiteralMode::Plus),
        Err(ImapError::Unsendable(_))
    ));
    assert!(append("A1".into(), "INBOX", &[], LiteralMode::Plus).is_err());
    let nul = [AppendItem {
        flags: &[],
        date: None,
        bytes: b"a\0b",
    }];
    assert!(append("A1".into(), "INBOX", &nul, LiteralMode::Plus).is_err());
    let c = append_with("A2".into(), "INBOX", &nul, LiteralMode::Plus, true).unwrap();
    assert_eq!(c.dump(), b"A2 APPEND INBOX ~{3+}\r\na\0b\r\n");
}

#[test]
fn base64_known_answers() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
}

#[test]
fn uid_sets_compress_runs() {
    assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
    assert_eq!(uid_set(&[5]), "5");
    assert_eq!(uid_set(&[u32::MAX, 1]), format!("{},1", u32::MAX));
}

#[test]
fn requests() {
    let e = |r: Request| esc(&encode("A1".into(), LiteralMode::Plus, &r).dump());
    assert_eq!(e(Request::Simple("NOOP")), esc(b"A1 NOOP\r\n"));
    assert_eq!(
        e(Request::List {
            reference: "",
            pattern: "*",
            special_use: true
        }),
        esc(b"A1 LIST \"\" * RETURN (SPECIAL-USE)\r\n")
    );
    assert_eq!(
        e(Request::Create("Entwürfe")),
        esc(b"A1 CREATE Entw&APw-rfe\r\n")
    );
    assert_eq!(e(Request::Select("inbox")), esc(b"A1 SELECT INBOX\r\n"));
    assert_eq!(
        e(Request::Status("My Box")),
        esc(b"A1 STATUS \"My Box\" (MESSAGES UIDNEXT UIDVALIDITY)\r\n")
    );
    assert_eq!(
        e(Request::UidFetch {
            uids: Uids::From(0),
            items: FetchItems::Summaries
        }),
        esc(b"A1 UID FETCH 1:* (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n")
    );
    assert_eq!(
        e(Request::UidFetch {
            uids: Uids::These(&[4, 5, 9]),
            items: FetchItems::Bodies
        }),
        esc(b"A1 UID FETCH 4:5,9 (UID BODY.PEEK[])\r\n")
    );
    assert_eq!(
        e(Request::UidCopy {
            uids: &[3],
            mailbox: "Sent"
        }),
        esc(b"A1 UID COPY 3 Sent\r\n")
    );
    let c = encode("A2".into(), LiteralMode::Plus, &Request::Select("x"));
    assert_eq!((c.tag.as_str(), c.name.as_str()), ("A2", "SELECT"));
}

#[test]
fn authentication() {
    let pw = Secret::new("p w".into());
    assert_eq!(
        esc(&login("A1".into(), "me", &pw, LiteralMode::Plus).dump()),
        esc(b"A1 LOGIN me \"p w\"\r\n")
    );
    assert_eq!(
        esc(&authenticate("A1".into(), "PLAIN", None).dump()),
        esc(b"A1 AUTHENTICATE PLAIN\r\n")
    );
    assert_eq!(
        esc(&authenticate("A1".into(), "PLAIN", Some(&plain_message("user", &pw))).dump()),
        esc(b"A1 AUTHENTICATE PLAIN AHVzZXIAcCB3\r\n")
    );
    assert_eq!(
        esc(&authenticate("A1".into(), "X", Some(b"")).dump()),
        esc(b"A1 AUTHENTICATE X =\r\n")
    );
    assert_eq!(sasl_response(b"\x01"), b"AQ==\r\n");
}
