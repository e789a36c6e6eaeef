//! The mbox splitter and message building on arbitrary file contents:
//! `MboxSplitter` (From_ lines, Content-Length, mboxrd unquoting, MIME
//! tracking) for every variant, then `MboxReader` (header processing,
//! dates, Takeout labels). Nothing may panic or hang.
#![no_main]

use std::io::{BufRead, BufReader, Cursor};
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mailhaul::source::ReadOptions;
use mailhaul::source::mbox::{MboxReader, MboxSplitter, MboxVariant};

const VARIANTS: [MboxVariant; 5] = [
    MboxVariant::Auto,
    MboxVariant::Mboxo,
    MboxVariant::Mboxrd,
    MboxVariant::Mboxcl,
    MboxVariant::Mboxcl2,
];

fuzz_target!(|data: &[u8]| {
    // Byte 0: variant and options; byte 1: read buffer size.
    let (opts, cap, file) = match data {
        [o, c, rest @ ..] => (*o, usize::from(*c) + 1, rest),
        _ => return,
    };
    let variant = VARIANTS[usize::from(opts & 7) % VARIANTS.len()];

    let mut last = None;
    let reader = BufReader::with_capacity(cap, Cursor::new(file));
    for raw in MboxSplitter::with_variant(reader, variant) {
        let Ok(raw) = raw else { break };
        assert!(raw.from_line.starts_with(b"From "));
        assert!(raw.offset < file.len() as u64);
        assert!(last.is_none_or(|l| raw.offset > l), "offsets increase");
        last = Some(raw.offset);
        assert!(raw.bytes.len() <= 2 * file.len());
    }

    let read = ReadOptions {
        mbox_variant: variant,
        keep_status_headers: opts & 8 != 0,
        include_deleted: opts & 16 != 0,
        takeout: [None, Some(true), Some(false)][usize::from(opts >> 5) % 3],
        ..ReadOptions::default()
    };
    let stream: Box<dyn BufRead> =
        Box::new(BufReader::with_capacity(cap, Cursor::new(file.to_vec())));
    for m in MboxReader::from_stream(stream, Path::new("fuzz.mbox"), None, &read) {
        let Ok(m) = m else { break };
        assert!(m.bytes.len() <= 2 * file.len());
    }
});
