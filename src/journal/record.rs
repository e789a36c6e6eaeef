//! The journal's on-disk records. The file starts with [`MAGIC`]; then each
//! record is one line:
//!
//! ```text
//! <payload length, decimal> SP <payload: JSON> SP <16 hex digits: SHA-256 of the payload, truncated> LF
//! ```
//!
//! The length and the checksum make a torn write (a crash, a full disk, a
//! power cut) detectable at any byte: the reader stops at the first record
//! that does not check out, and the journal drops everything from there.
//! JSON keeps the file readable with `less` and open to new fields.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// First line of every journal file (format version 1).
pub const MAGIC: &[u8] = b"mailhaul-journal 1\n";

/// Longest payload accepted when reading (a record is small; a bigger
/// length is garbage).
const MAX_PAYLOAD: usize = 16 << 20;

/// What one line of the journal says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Record {
    /// A batch is about to be sent to `mailbox`, whose STATUS was this just
    /// before. Written before the first byte goes out (and synced while the
    /// batch travels), so that a killed run leaves enough behind to resolve
    /// the batch by looking.
    Begin {
        batch: u64,
        mailbox: String,
        uidvalidity: Option<u32>,
        uidnext: Option<u32>,
        messages: Option<u32>,
        /// Fingerprints (hex) of the batch's messages, in order.
        fps: Vec<String>,
        /// Their sizes in bytes, in order, so that a look can find them by
        /// size and Message-ID without reading bodies (absent in journals
        /// of older versions).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sizes: Vec<u64>,
        /// Their Message-IDs, in order (absent in older journals).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ids: Vec<Option<String>>,
    },
    /// One message is on the server (tagged OK, or found by looking).
    /// Without UIDPLUS `uidvalidity` and `uid` are null; the mailbox's
    /// UIDVALIDITY is then the one of the `Begin` before it.
    Landed {
        mailbox: String,
        fp: String,
        uidvalidity: Option<u32>,
        uid: Option<u32>,
        /// The message's size as sent (what the server's RFC822.SIZE says
        /// of it), for spot-checking a journaled UID. Absent in records
        /// written before it existed, and when it was not known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
        /// When its bytes were uploaded (Unix time, seconds), for the daily
        /// budget's 24-hour window (`upload/budget.rs`). Absent for a UID
        /// COPY (no bytes sent) and in records written before it existed:
        /// those count as outside the window.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u64>,
    },
    /// The batch's fate is settled: every message landed, was refused, or
    /// will be sent again in a later batch.
    End { batch: u64 },
}

/// One record as bytes, ready to append.
pub fn encode(r: &Record) -> Vec<u8> {
    let payload = serde_json::to_vec(r).expect("records always serialize");
    let mut out = Vec::with_capacity(payload.len() + 32);
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(&payload);
    out.push(b' ');
    out.extend_from_slice(checksum(&payload).as_bytes());
    out.push(b'\n');
    out
}

fn checksum(payload: &[u8]) -> String {
    Sha256::digest(payload)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The records of a journal file's contents, and the length of the valid
/// prefix (everything after it is a torn or damaged tail to drop).
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    pub records: Vec<Record>,
    pub valid_len: usize,
}

/// Reads records after the magic line. An empty input is an empty journal;
/// an input that does not start with the magic (or a prefix of it, from a
/// torn first write) is not a journal: `Err`.
pub fn decode(data: &[u8]) -> Result<Decoded, String> {
    if data.len() < MAGIC.len() {
        if MAGIC.starts_with(data) {
            return Ok(Decoded {
                records: Vec::new(),
                valid_len: 0,
            });
        }
        return Err("not a mailhaul journal".into());
    }
    if !data.starts_with(MAGIC) {
        return Err("not a mailhaul journal (or a newer format)".into());
    }
    let mut pos = MAGIC.len();
    let mut records = Vec::new();
    while let Some((r, next)) = decode_one(data, pos) {
        records.push(r);
        pos = next;
    }
    Ok(Decoded {
        records,
        valid_len: pos,
    })
}

/// The record at `pos` and the offset after it, if it is whole and checks out.
fn decode_one(data: &[u8], pos: usize) -> Option<(Record, usize)> {
    let rest = &data[pos..];
    let sp = rest.iter().take(12).position(|&b| b == b' ')?;
    let digits = std::str::from_utf8(&rest[..sp]).ok()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = digits.parse().ok().filter(|&n| n <= MAX_PAYLOAD)?;
    let start = sp + 1;
    let end = start.checked_add(len)?;
    let tail = rest.get(end..end + 18)?;
    if tail[0] != b' ' || tail[17] != b'\n' {
        return None;
    }
    let payload = &rest[start..end];
    if tail[1..17] != *checksum(payload).as_bytes() {
        return None;
    }
    let r = serde_json::from_slice(payload).ok()?;
    Some((r, pos + end + 18))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Record> {
        vec![
            Record::Begin {
                batch: 1,
                mailbox: "Archive/2019 \"quoted\"\n".into(),
                uidvalidity: Some(7),
                uidnext: Some(10),
                messages: Some(9),
                fps: vec!["ab".repeat(32), "cd".repeat(32)],
                sizes: vec![10, 20],
                ids: vec![Some("<a@b>".into()), None],
            },
            Record::Landed {
                mailbox: "INBOX".into(),
                fp: "ab".repeat(32),
                uidvalidity: Some(7),
                uid: Some(10),
                size: Some(1234),
                at: Some(1_764_000_000),
            },
            Record::End { batch: 1 },
        ]
    }

    fn file(records: &[Record]) -> Vec<u8> {
        let mut data = MAGIC.to_vec();
        for r in records {
            data.extend(encode(r));
        }
        data
    }

    #[test]
    fn round_trip() {
        let data = file(&sample());
        let d = decode(&data).unwrap();
        assert_eq!(d.records, sample());
        assert_eq!(d.valid_len, data.len());
    }

    /// A crash can cut the file at any byte: every cut yields exactly the
    /// records that were whole before it, and never an error or a panic.
    #[test]
    fn torn_at_every_byte() {
        let records = sample();
        let data = file(&records);
        let mut ends = vec![MAGIC.len()];
        for r in &records {
            ends.push(ends.last().unwrap() + encode(r).len());
        }
        for cut in 0..=data.len() {
            let d = decode(&data[..cut]).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count().saturating_sub(1);
            assert_eq!(d.records, records[..whole], "cut at {cut}");
            let want_len = if cut < MAGIC.len() { 0 } else { ends[whole] };
            assert_eq!(d.valid_len, want_len, "cut at {cut}");
        }
    }

    /// A flipped byte anywhere in the last record drops that record only.
    #[test]
    fn damaged_last_record_is_dropped() {
        let records = sample();
        let data = file(&records);
        let last = encode(records.last().unwrap()).len();
        for i in data.len() - last..data.len() {
            let mut bad = data.clone();
            bad[i] ^= 0x20;
            let d = decode(&bad).unwrap();
            assert_eq!(d.records, records[..2], "byte {i}");
            assert_eq!(d.valid_len, data.len() - last);
        }
    }

    /// A `Landed` written before the size and the time existed still
    /// reads, as `None`; one without them is written without the fields.
    #[test]
    fn landed_without_size_reads_as_before() {
        let old = br#"{"t":"landed","mailbox":"INBOX","fp":"ab","uidvalidity":null,"uid":null}"#;
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(format!("{} ", old.len()).as_bytes());
        data.extend_from_slice(old);
        data.push(b' ');
        data.extend_from_slice(checksum(old).as_bytes());
        data.push(b'\n');
        let d = decode(&data).unwrap();
        let want = Record::Landed {
            mailbox: "INBOX".into(),
            fp: "ab".into(),
            uidvalidity: None,
            uid: None,
            size: None,
            at: None,
        };
        assert_eq!(d.records, std::slice::from_ref(&want));
        assert_eq!(encode(&want), data[MAGIC.len()..]);
    }

    #[test]
    fn foreign_files_are_refused() {
        assert!(decode(b"From me Thu Jan  1 00:00:00 2020\n").is_err());
        assert!(decode(b"x").is_err());
        assert_eq!(decode(b"mailhaul-jo").unwrap().valid_len, 0);
    }
}
