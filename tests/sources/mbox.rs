//! mbox round trips: mboxrd quoting (`>From`, `>>From`), mboxcl2 whose body
//! holds an unquoted separator-like line that only Content-Length delimits,
//! a CRLF file, a gzip-compressed file (written here with flate2), and a
//! From_ line inside a message/rfc822 part; then `scan --json` on the same
//! files.

use std::io::Write as _;

use super::{
    Expectation, assert_holds, assert_mailboxes, expect, mail, put, scan_json, scanned, utc,
};
use crate::util::{Dovecot, MailhaulCommand};

#[test]
fn mbox_variants_round_trip() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut want = Expectation::new();

    // mboxrd: every >*From_ line carries one more '>' than the message had.
    put(
        &d.join("rd.mbox"),
        "From alice@example.org Mon Jan  6 09:15:00 2020\n\
         From: Alice <alice@example.org>\n\
         Subject: rd quoting\n\
         Status: RO\n\
         \n\
         >From the start of a line.\n\
         >>From a line the message itself quoted.\n\
         >>>From twice quoted.\n\
         \n\
         From bob@example.org Tue Feb 11 23:59:01 2020\n\
         From: Bob <bob@example.org>\n\
         Subject: flagged\n\
         X-Status: F\n\
         \n\
         Short.\n",
    );
    expect(
        &mut want,
        "rd",
        vec![
            mail(
                "From: Alice <alice@example.org>\nSubject: rd quoting\n",
                "From the start of a line.\n>From a line the message itself quoted.\n>>From twice quoted.\n",
                &["\\Seen"],
                utc(2020, 1, 6, 9, 15, 0),
            ),
            mail(
                "From: Bob <bob@example.org>\nSubject: flagged\n",
                "Short.\n",
                &["\\Flagged"],
                utc(2020, 2, 11, 23, 59, 1),
            ),
        ],
    );

    // mboxcl2: nothing is quoted; the body has a line that would be a
    // separator (after a blank line, with an address and a date) and a
    // '>From' line that must stay as it is.
    let body1 =
        "Line one.\n\nFrom mallory@example.org Wed Feb 12 00:00:00 2020\n>From stays quoted.\n";
    let body2 = "Second body.\n";
    put(
        &d.join("cl2.mbox"),
        format!(
            "From carol@example.org Wed Feb 12 08:00:00 2020\n\
             From: Carol <carol@example.org>\n\
             Subject: cl2 one\n\
             Content-Length: {}\n\
             Status: R\n\
             \n\
             {body1}\n\
             From carol@example.org Thu Mar  5 08:00:00 2020\n\
             From: Carol <carol@example.org>\n\
             Subject: cl2 two\n\
             Content-Length: {}\n\
             X-Status: A\n\
             \n\
             {body2}",
            body1.len(),
            body2.len()
        ),
    );
    expect(
        &mut want,
        "cl2",
        vec![
            mail(
                "From: Carol <carol@example.org>\nSubject: cl2 one\n",
                body1,
                &["\\Seen"],
                utc(2020, 2, 12, 8, 0, 0),
            ),
            mail(
                "From: Carol <carol@example.org>\nSubject: cl2 two\n",
                body2,
                &["\\Answered"],
                utc(2020, 3, 5, 8, 0, 0),
            ),
        ],
    );

    // CRLF file: separators, headers and bodies all end in CRLF.
    put(
        &d.join("crlf.mbox"),
        "From dave@example.org Tue Jan  7 10:00:00 2020\r\n\
         From: Dave <dave@example.org>\r\n\
         Subject: crlf one\r\n\
         Status: RO\r\n\
         \r\n\
         >From quoted in a CRLF file.\r\n\
         \r\n\
         From dave@example.org Wed Jan  8 11:00:00 2020\r\n\
         From: Dave <dave@example.org>\r\n\
         Subject: crlf two\r\n\
         \r\n\
         Plain.\r\n",
    );
    expect(
        &mut want,
        "crlf",
        vec![
            mail(
                "From: Dave <dave@example.org>\nSubject: crlf one\n",
                "From quoted in a CRLF file.\n",
                &["\\Seen"],
                utc(2020, 1, 7, 10, 0, 0),
            ),
            mail(
                "From: Dave <dave@example.org>\nSubject: crlf two\n",
                "Plain.\n",
                &[],
                utc(2020, 1, 8, 11, 0, 0),
            ),
        ],
    );

    // gzip: the same kind of content, compressed; the mailbox is named
    // without .mbox.gz.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"From erin@example.org Thu Jan  9 12:00:00 2020\n\
          From: Erin <erin@example.org>\n\
          Subject: gz one\n\
          X-Status: AF\n\
          Status: RO\n\
          \n\
          Compressed.\n\
          \n\
          From erin@example.org Fri Jan 10 13:00:00 2020\n\
          From: Erin <erin@example.org>\n\
          Subject: gz two\n\
          \n\
          Also compressed.\n",
    )
    .unwrap();
    put(&d.join("packed.mbox.gz"), gz.finish().unwrap());
    expect(
        &mut want,
        "packed",
        vec![
            mail(
                "From: Erin <erin@example.org>\nSubject: gz one\n",
                "Compressed.\n",
                &["\\Answered", "\\Flagged", "\\Seen"],
                utc(2020, 1, 9, 12, 0, 0),
            ),
            mail(
                "From: Erin <erin@example.org>\nSubject: gz two\n",
                "Also compressed.\n",
                &[],
                utc(2020, 1, 10, 13, 0, 0),
            ),
        ],
    );

    // A forwarded message attached as message/rfc822 that starts with its
    // own (unquoted) From_ line after a blank line: not a separator. The
    // next message follows the closing boundary.
    let digest_headers = "From: Frank <frank@example.org>\n\
                          Subject: forwarded\n\
                          MIME-Version: 1.0\n\
                          Content-Type: multipart/mixed; boundary=\"b1\"\n";
    let digest_body = "--b1\n\
                       Content-Type: text/plain\n\
                       \n\
                       See the attached message.\n\
                       \n\
                       --b1\n\
                       Content-Type: message/rfc822\n\
                       \n\
                       From grace@example.org Wed Mar  4 07:00:00 2020\n\
                       From: Grace <grace@example.org>\n\
                       Subject: inner\n\
                       \n\
                       Inner body.\n\
                       --b1--\n";
    put(
        &d.join("digest.mbox"),
        format!(
            "From frank@example.org Thu Mar  5 09:00:00 2020\n{digest_headers}\n{digest_body}\n\
             From frank@example.org Thu Mar  5 10:00:00 2020\n\
             From: Frank <frank@example.org>\n\
             Subject: after the digest\n\
             \n\
             Last.\n"
        ),
    );
    expect(
        &mut want,
        "digest",
        vec![
            mail(digest_headers, digest_body, &[], utc(2020, 3, 5, 9, 0, 0)),
            mail(
                "From: Frank <frank@example.org>\nSubject: after the digest\n",
                "Last.\n",
                &[],
                utc(2020, 3, 5, 10, 0, 0),
            ),
        ],
    );

    let sources = [
        "rd.mbox",
        "cl2.mbox",
        "crlf.mbox",
        "packed.mbox.gz",
        "digest.mbox",
    ]
    .map(|f| d.join(f));
    let out = MailhaulCommand::upload(&dovecot, &sources).assert_success();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("10 of 10 messages uploaded"), "{summary}");
    assert_holds(&dovecot, &want);
    assert_mailboxes(&dovecot, &["rd", "cl2", "crlf", "packed", "digest"]);

    // scan --json on the same files: per mailbox, dates from the From_ line
    // and the flag counts.
    let scan = scan_json(&sources, &[]);
    assert_eq!(scan["errors"].as_array().unwrap().len(), 0, "{scan:#}");
    for name in ["rd", "cl2", "crlf", "packed", "digest"] {
        let m = scanned(&scan, name);
        assert_eq!(m["messages"], 2, "{m:#}");
        assert_eq!(
            m["date_sources"],
            serde_json::json!({"From_ line": 2}),
            "{m:#}"
        );
    }
    assert_eq!(
        scanned(&scan, "packed")["flags"],
        serde_json::json!({"\\Answered": 1, "\\Flagged": 1, "\\Seen": 1})
    );
    assert_eq!(
        scanned(&scan, "cl2")["flags"],
        serde_json::json!({"\\Answered": 1, "\\Seen": 1})
    );
    assert_eq!(scanned(&scan, "digest")["flags"], serde_json::json!({}));
}
