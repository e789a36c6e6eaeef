//! Header processing on an arbitrary message: finding the header block,
//! reading and removing client-state fields in every mode, Takeout label
//! parsing, and choosing the internal date from what was read.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use mailhaul::source::date::{DateCandidates, DatePolicy, choose_date_with};
use mailhaul::source::headers::{HeaderMode, process_headers};
use mailhaul::source::takeout;

fuzz_target!(|data: &[u8]| {
    let Some((&opts, msg)) = data.split_first() else {
        return;
    };
    let keep = opts & 1 != 0;
    let mode = match (opts >> 1) % 4 {
        0 => HeaderMode::DatesOnly,
        1 => HeaderMode::Mbox {
            keep,
            takeout: false,
        },
        2 => HeaderMode::Mbox {
            keep,
            takeout: true,
        },
        _ => HeaderMode::Eml { keep },
    };
    let mut bytes = msg.to_vec();
    let facts = process_headers(&mut bytes, mode);
    if keep || mode == HeaderMode::DatesOnly {
        assert_eq!(bytes, msg, "nothing removed when keeping");
    } else {
        assert!(bytes.len() <= msg.len());
    }
    if let Some(labels) = &facts.gmail_labels {
        let parsed = takeout::parse_labels(labels);
        let _ = takeout::route(&parsed, "Archive", opts & 64 != 0);
    }
    let candidates = DateCandidates {
        received: facts.received,
        date_header: facts.date,
        ..Default::default()
    };
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    for policy in [
        DatePolicy::Auto,
        DatePolicy::Delivery,
        DatePolicy::Header,
        DatePolicy::Mtime,
    ] {
        let _ = choose_date_with(policy, &candidates, now, &mut Vec::new());
    }
});
