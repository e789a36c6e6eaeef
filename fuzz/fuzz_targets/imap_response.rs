//! The IMAP response reader on arbitrary server bytes: framing
//! (`read_frame`), classification (`classify`, response codes, APPENDUID
//! uid-sets) and untagged data (imap-proto via `parse_data` and the
//! `imap::data` extractors). Nothing may panic or hang.
#![no_main]

use std::io::{BufReader, Cursor};

use libfuzzer_sys::fuzz_target;
use mailhaul::fuzzing;
use mailhaul::imap::response::{Response, classify, parse_data, read_frame};

fuzz_target!(|data: &[u8]| {
    // The first byte sets the read buffer's size, so that lines and literals
    // straddle refills at every offset.
    let (cap, stream) = match data.split_first() {
        Some((&c, rest)) => (usize::from(c) + 1, rest),
        None => (1, data),
    };
    let mut reader = BufReader::with_capacity(cap, Cursor::new(stream));
    let mut frame = Vec::new();
    let mut consumed = 0;
    let mut untagged = Vec::new();
    while read_frame(&mut reader, &mut frame).is_ok() {
        // Framing neither loses nor invents bytes, and makes progress.
        assert!(!frame.is_empty() && frame.ends_with(b"\n"));
        assert_eq!(&stream[consumed..consumed + frame.len()], &frame[..]);
        consumed += frame.len();
        match classify(frame.clone()) {
            Ok(Response::Status(s)) => {
                let _ = s.capabilities();
                let _ = s.code_args("UIDNEXT");
                let _ = s.into_result();
            }
            Ok(Response::Data(d)) => {
                let _ = parse_data(&d);
                let _ = fuzzing::list_entry(&d);
                let _ = fuzzing::summary(&d);
                let _ = fuzzing::personal_namespace(&d);
                let _ = fuzzing::fetch_uid(&d);
                untagged.push(d);
            }
            Ok(Response::Continue(_)) | Err(_) => {}
        }
    }
    let _ = fuzzing::capabilities(&untagged);
    let _ = fuzzing::status(&untagged);
    let _ = fuzzing::internal_date(&String::from_utf8_lossy(stream));
});
