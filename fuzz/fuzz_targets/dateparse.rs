//! The date readers on arbitrary text: RFC 2822 (strict, then loose), the
//! asctime date of an mbox From_ line, IMAP INTERNALDATE, Maildir file-name
//! timestamps, and the internal-date choice between them.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use mailhaul::fuzzing;
use mailhaul::source::date::{DateCandidates, DatePolicy, choose_date_with, file_name_timestamp};
use mailhaul::source::dateparse::{parse_asctime, parse_from_line, parse_loose, parse_rfc2822};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let rfc = parse_rfc2822(&s);
    let _ = parse_loose(&s);
    let _ = parse_asctime(&s);
    let mut line = b"From ".to_vec();
    line.extend_from_slice(data);
    let from_line = parse_from_line(&line);
    let _ = fuzzing::internal_date(&s);
    let candidates = DateCandidates {
        from_line,
        received: Some(format!("from x; {s}")),
        date_header: rfc.is_some().then(|| s.to_string()),
        file_name: file_name_timestamp(&s),
        mtime: None,
    };
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    for policy in [DatePolicy::Auto, DatePolicy::Delivery, DatePolicy::Header] {
        let _ = choose_date_with(policy, &candidates, now, &mut Vec::new());
    }
});
