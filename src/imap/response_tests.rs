//! Unit tests for `response.rs`: continuation requests, status
//! classification, response codes and uid-sets.

use super::*;

fn status(line: &[u8]) -> Status {
    match classify(line.to_vec()).unwrap() {
        Response::Status(s) => s,
        other => panic!("not a status: {other:?}"),
    }
}

#[test]
fn classification() {
    assert_eq!(
        classify(b"+ Ready\r\n".to_vec()).unwrap(),
        Response::Continue("Ready".into())
    );
    assert_eq!(
        classify(b"+\r\n".to_vec()).unwrap(),
        Response::Continue(String::new())
    );
    assert!(matches!(
        classify(b"* 3 EXISTS\r\n".to_vec()).unwrap(),
        Response::Data(_)
    ));
    assert!(matches!(
        classify(b"* CAPABILITY IMAP4rev1\r\n".to_vec()).unwrap(),
        Response::Data(_)
    ));
    let s = status(b"A0003 NO [TOOBIG] too big\r\n");
    assert_eq!(s.tag.as_deref(), Some("A0003"));
    assert_eq!(s.kind, StatusKind::No);
    assert_eq!(s.code, Some(Code::TooBig));
    assert_eq!(s.text, "too big");
    let s = status(b"* BYE shutting down\r\n");
    assert_eq!(
        (s.tag, s.kind, s.text.as_str()),
        (None, StatusKind::Bye, "shutting down")
    );
    let s = status(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n");
    assert_eq!(s.kind, StatusKind::PreAuth);
    assert_eq!(s.capabilities().unwrap(), vec!["IMAP4REV1", "IDLE"]);
    let s = status(b"a1 ok\r\n");
    assert_eq!((s.kind, s.text.as_str()), (StatusKind::Ok, ""));
    let s = status(b"A1 BAD \x1b[31mred\r\n");
    assert_eq!(s.text, "\\u{1b}[31mred");
    assert!(classify(b"A1 WHAT\r\n".to_vec()).is_err());
    assert!(classify(b"garbage\r\n".to_vec()).is_err());
}

#[test]
fn codes() {
    let c = |l: &[u8]| status(l).code;
    assert_eq!(
        c(b"A1 NO [TRYCREATE] no mailbox\r\n"),
        Some(Code::TryCreate)
    );
    assert_eq!(
        c(b"A1 NO [LIMIT] quota_max_mail_size\r\n"),
        Some(Code::Limit)
    );
    assert_eq!(c(b"A1 NO [OVERQUOTA] full\r\n"), Some(Code::OverQuota));
    assert_eq!(c(b"A1 NO [toobig] x\r\n"), Some(Code::TooBig));
    assert_eq!(
        c(b"A1 OK [APPENDUID 38505 3955] done\r\n"),
        Some(Code::AppendUid {
            uid_validity: 38505,
            uids: vec![3955]
        })
    );
    assert_eq!(
        c(b"A1 OK [APPENDUID 1 5:7,9,12:11] done\r\n"),
        Some(Code::AppendUid {
            uid_validity: 1,
            uids: vec![5, 6, 7, 9, 11, 12]
        })
    );
    assert_eq!(
        c(b"A1 OK [APPENDUID x 1] d\r\n"),
        Some(Code::Other("APPENDUID x 1".into()))
    );
    assert_eq!(
        c(b"A1 NO [ALREADYEXISTS] exists\r\n"),
        Some(Code::Other("ALREADYEXISTS".into()))
    );
    let s = status(b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    assert_eq!(s.code_args("UIDVALIDITY"), Some("3857529045"));
    let s = status(b"* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n");
    assert_eq!(
        s.code,
        Some(Code::Other("PERMANENTFLAGS (\\Seen \\*)".into()))
    );
    assert_eq!(s.text, "Limited");
}

#[test]
fn uid_sets() {
    assert_eq!(parse_uid_set("5:7"), Some(vec![5, 6, 7]));
    assert_eq!(parse_uid_set("1,3"), Some(vec![1, 3]));
    assert_eq!(parse_uid_set(""), None);
    assert_eq!(parse_uid_set("1:*"), None);
    assert_eq!(parse_uid_set("0"), None);
    // Server numbers at the edge: the largest UID, and ranges that would
    // expand past the bound, are answered without overflow or allocation.
    assert_eq!(parse_uid_set("4294967295"), Some(vec![u32::MAX]));
    assert_eq!(
        parse_uid_set("4294967294:4294967295"),
        Some(vec![u32::MAX - 1, u32::MAX])
    );
    assert_eq!(parse_uid_set("1:4294967295"), None);
    assert_eq!(parse_uid_set("4294967296"), None);
    let many = vec!["1:1000"; MAX_UID_SET / 1000 + 1].join(",");
    assert_eq!(parse_uid_set(&many), None);
    assert_eq!(
        status(b"A1 OK [APPENDUID 4294967295 4294967295] done\r\n").code,
        Some(Code::AppendUid {
            uid_validity: u32::MAX,
            uids: vec![u32::MAX]
        })
    );
    assert_eq!(
        status(b"A1 OK [APPENDUID 1 1:4294967295] done\r\n").code,
        Some(Code::Other("APPENDUID 1 1:4294967295".into()))
    );
}

#[test]
fn data_through_imap_proto() {
    let frame = b"* 1 FETCH (UID 5 BODY[] {13}\r\nHi {3}\r\nthere FLAGS (\\Seen))\r\n";
    match parse_data(frame).unwrap() {
        imap_proto::Response::Fetch(1, attrs) => assert_eq!(attrs.len(), 3),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_data(b"* 4 EXISTS\r\n").unwrap(),
        imap_proto::Response::MailboxData(imap_proto::MailboxDatum::Exists(4))
    ));
    assert!(parse_data(b"* FOO (((\r\n").is_err());
}
