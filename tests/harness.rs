//! Smoke tests of the test harness (tests/util): no mailhaul binary involved.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;

use crate::util::dovecot::{DEFAULT_CAPABILITIES, parse_rawlog_commands, strip_rawlog_timestamps};
use crate::util::imap_reader::{decode_mutf7, encode_mutf7};
use crate::util::{Dovecot, DovecotOptions, parse_internal_date};

const MESSAGE: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: Bob <bob@example.org>\r\n\
Subject: harness round trip\r\n\
Date: Sat, 01 Feb 2020 10:00:00 +0100\r\n\
Message-ID: <harness-1@example.org>\r\n\
\r\n\
Hello Bob,\r\n\
a line with {3}\r\n\
and a binary-ish tail: \t end.\r\n";

fn start(options: DovecotOptions) -> Dovecot {
    Dovecot::start_with(options).unwrap_or_else(|e| panic!("starting Dovecot: {e:#}"))
}

#[test]
fn append_and_read_back() {
    let d = start(DovecotOptions::default());
    let mut r = d.reader().unwrap();
    let date = "01-Feb-2020 10:00:00 +0100";
    let resp = r
        .append(
            "INBOX",
            &[r"\Seen", r"\Flagged", "$Forwarded"],
            Some(date),
            MESSAGE,
        )
        .unwrap();
    assert!(resp.is_ok(), "{}", resp.line());
    r.append_raw("INBOX", b"Subject: second\r\n\r\nbody\r\n")
        .unwrap();

    let got = r.fetch_all("INBOX").unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, MESSAGE);
    let mut flags = got[0].flags.clone();
    flags.sort();
    assert_eq!(flags, ["$Forwarded", r"\Flagged", r"\Seen"]);
    // Maildir keeps only the instant (file mtime): Dovecot answers in its
    // own time zone, so compare instants, not the raw strings.
    assert_eq!(
        parse_internal_date(&got[0].internal_date).unwrap(),
        parse_internal_date(date).unwrap(),
        "{}",
        got[0].internal_date
    );
    assert!(got[1].flags.is_empty(), "{:?}", got[1].flags);
    // The message files are on disk, owned by the mail user.
    assert!(d.maildir().join("cur").exists() || d.maildir().join("new").exists());
}

#[test]
fn mailboxes_with_hierarchy_and_non_ascii_names() {
    let d = start(DovecotOptions::default());
    let mut r = d.reader().unwrap();
    for name in ["Archive", "Archive/2019", "Entwürfe & Co"] {
        let server = encode_mutf7(&name.replace('/', &r.delimiter().unwrap().to_string()));
        r.ok(&format!("CREATE \"{server}\"")).unwrap();
    }
    r.append_raw("Archive/2019", b"Subject: old\r\n\r\nx\r\n")
        .unwrap();
    assert_eq!(
        r.list_mailboxes().unwrap(),
        ["Archive", "Archive/2019", "Entwürfe & Co", "INBOX"]
    );
    assert_eq!(r.fetch_all("Archive/2019").unwrap().len(), 1);
    assert!(r.fetch_all("Archive").unwrap().is_empty());
}

#[test]
fn default_advertises_multiappend_and_hidden_does_not() {
    let d = start(DovecotOptions::default());
    let caps = d.reader().unwrap().capabilities().unwrap();
    assert_eq!(caps, DEFAULT_CAPABILITIES, "Dovecot's default list changed");

    let d = start(DovecotOptions {
        hide_multiappend: true,
        ..Default::default()
    });
    let mut r = d.reader().unwrap();
    let caps = r.capabilities().unwrap();
    assert!(!caps.iter().any(|c| c == "MULTIAPPEND"), "{caps:?}");
    assert!(caps.iter().any(|c| c == "UIDPLUS"), "{caps:?}");
    // Still accepted when hidden.
    let resp = r.command("APPEND INBOX {3+}\r\nabc {3+}\r\ndef").unwrap();
    assert!(resp.is_ok(), "{}", resp.line());
    assert_eq!(r.fetch_all("INBOX").unwrap().len(), 2);
}

#[test]
fn compress_is_advertised_when_asked() {
    let d = start(DovecotOptions::default());
    let caps = d.reader().unwrap().capabilities().unwrap();
    assert!(!caps.iter().any(|c| c == "COMPRESS=DEFLATE"), "{caps:?}");

    for hide_multiappend in [false, true] {
        let d = start(DovecotOptions {
            compress: true,
            hide_multiappend,
            ..Default::default()
        });
        let caps = d.reader().unwrap().capabilities().unwrap();
        assert!(caps.iter().any(|c| c == "COMPRESS=DEFLATE"), "{caps:?}");
        assert_eq!(caps.iter().any(|c| c == "MULTIAPPEND"), !hide_multiappend);
    }
}

#[test]
fn max_mail_size_refuses_bigger_appends_with_limit() {
    let d = start(DovecotOptions {
        max_mail_size: Some(1000),
        ..Default::default()
    });
    let mut r = d.reader().unwrap();
    let small = r.append_raw("INBOX", &[b'a'; 500]).unwrap();
    assert!(small.is_ok(), "{}", small.line());
    let big = r.append_raw("INBOX", &[b'b'; 5000]).unwrap();
    assert_eq!(big.status, "NO", "{}", big.line());
    assert!(big.text.starts_with("[LIMIT]"), "{}", big.line());
    // The connection is still usable and only the small message is stored.
    assert_eq!(r.fetch_all("INBOX").unwrap().len(), 1);
}

#[test]
fn rawlog_counts_append_commands_not_literal_contents() {
    let d = start(DovecotOptions::default());
    let mut r = d.reader().unwrap();
    // A body that looks like a command must not be counted.
    r.append_raw("INBOX", b"X1 APPEND INBOX {3}\r\nR9 APPEND x\r\n")
        .unwrap();
    r.append("INBOX", &[r"\Seen"], None, MESSAGE).unwrap();
    // One MULTIAPPEND with two messages counts as one APPEND command.
    let resp = r
        .command("APPEND INBOX (\\Seen) {3+}\r\nabc {3+}\r\ndef")
        .unwrap();
    assert!(resp.is_ok(), "{}", resp.line());
    r.capabilities().unwrap();
    drop(r);

    assert_eq!(d.count_commands("APPEND"), 3, "{:#?}", d.client_commands());
    assert_eq!(d.count_commands("append"), 3);
    assert_eq!(d.count_commands("CAPABILITY"), 1);
    let commands = d.client_commands();
    assert!(
        commands
            .iter()
            .any(|c| c.ends_with(r"APPEND INBOX (\Seen) {3+} {3+}")),
        "{commands:#?}"
    );
    assert!(
        !commands
            .iter()
            .any(|c| c.starts_with("X1") || c.contains("LOGIN"))
    );
}

#[test]
fn rawlog_parser_units() {
    let raw = b"1700000000.123456 A1 APPEND INBOX {5}\n\
1700000000.123456 ab\r\n\
1700000000.123456 c (\\Seen) {2+}\n\
1700000000.123456 xy\r\n\
1700000000.2 A2 NOOP\r\n";
    let stream = strip_rawlog_timestamps(raw);
    assert!(stream.starts_with(b"A1 APPEND INBOX {5}\nab\r\nc"));
    assert_eq!(
        parse_rawlog_commands(&stream),
        [r"A1 APPEND INBOX {5} (\Seen) {2+}", "A2 NOOP"]
    );
}

#[test]
fn mutf7_round_trip() {
    for (plain, encoded) in [
        ("INBOX", "INBOX"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("A & B", "A &- B"),
        ("日本語", "&ZeVnLIqe-"),
        ("😀", "&2D3eAA-"),
    ] {
        assert_eq!(encode_mutf7(plain), encoded);
        assert_eq!(decode_mutf7(encoded), plain);
    }
}

#[test]
fn internal_date_parsing() {
    let d = parse_internal_date(" 1-Jan-2021 00:00:01 -0500").unwrap();
    assert_eq!(d.to_rfc3339(), "2021-01-01T00:00:01-05:00");
    assert!(parse_internal_date("yesterday").is_err());
}

fn tls_greeting(d: &Dovecot, domain: &str) -> Result<String, String> {
    let pem = std::fs::read(d.ca_file()).unwrap();
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", d.tls_port())).unwrap();
    let tls = connector.connect(domain, tcp).map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(tls).read_line(&mut line).unwrap();
    Ok(line)
}

#[test]
fn tls_port_serves_the_generated_certificate() {
    let d = start(DovecotOptions::default());
    for domain in ["localhost", "127.0.0.1"] {
        let greeting = tls_greeting(&d, domain).unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting:?}");
        assert!(!greeting.contains("STARTTLS"), "{greeting:?}");
    }
    // Another instance's certificate is not trusted for this one.
    let other = start(DovecotOptions::default());
    let pem = std::fs::read(other.ca_file()).unwrap();
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", d.tls_port())).unwrap();
    assert!(connector.connect("localhost", tcp).is_err());
}

#[test]
fn plain_port_offers_starttls() {
    let d = start(DovecotOptions::default());
    let tcp = TcpStream::connect(("127.0.0.1", d.plain_port())).unwrap();
    let mut line = String::new();
    BufReader::new(tcp).read_line(&mut line).unwrap();
    assert!(line.contains("STARTTLS"), "{line:?}");
}

#[test]
fn drop_stops_the_server() {
    let d = start(DovecotOptions::default());
    let name = d.dir().file_name().unwrap().to_string_lossy().into_owned();
    drop(d);
    // No process of this instance is left (the port itself may already be
    // reused by a parallel test's server, so it isn't checked).
    let left = crate::util::dovecot::instance_pids(&name);
    assert!(left.is_empty(), "{left:?}");
}
