//! Internal-date choice: parsing the dates a message carries (the mbox From_
//! line's asctime date, RFC 2822 `Received:`/`Date:` values, a Maildir file
//! name's timestamp, the file mtime) and picking the first sane one in the
//! order DESIGN.md "Metadata rules" gives. Pure functions, no I/O.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};

pub use super::dateparse::{parse_from_line, parse_rfc2822};
use crate::message::{DateSource, InternalDate};

/// Which date becomes the internal date (`--date`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DatePolicy {
    /// Delivery time (a mail store's received date, From_ line, top-most
    /// Received), then Date header, then Maildir file name, then file mtime;
    /// insane dates fall through.
    #[default]
    Auto,
    /// Delivery time first (mail store's received date, From_ line,
    /// Received), then as `auto`.
    Delivery,
    /// The Date header first, then as `auto`.
    Header,
    /// The file's modification time first, then as `auto`.
    Mtime,
    /// No date: the server stamps the time of upload.
    Now,
}

/// Everything a message offers as an internal date, unparsed where it is text.
#[derive(Clone, Debug, Default)]
pub struct DateCandidates {
    /// The received date the mail client's store records (emlx `date-received`).
    pub store_received: Option<DateTime<FixedOffset>>,
    /// The date parsed from the mbox From_ line.
    pub from_line: Option<DateTime<FixedOffset>>,
    /// The raw value of the top-most `Received:` header.
    pub received: Option<String>,
    /// The raw value of the `Date:` header.
    pub date_header: Option<String>,
    /// Unix seconds from the start of a Maildir file name.
    pub file_name: Option<i64>,
    /// The file's modification time.
    pub mtime: Option<DateTime<Utc>>,
}

/// Picks the internal date with the `auto` policy (see [`choose_date_with`]).
pub fn choose_date(
    c: &DateCandidates,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Option<InternalDate> {
    choose_date_with(DatePolicy::Auto, c, now, warnings)
}

/// Picks the internal date: the policy's preferred source, then the `auto`
/// order; the first candidate that parses and lies between 1900 and `now` +
/// 1 day wins (valid dates before 1970 are kept). Adds a warning when a
/// `Date:` header is present but cannot be parsed.
///
/// Under `auto`, a delivery date (From_ line, Received) more than a day
/// *before* the Date header is inconsistent (mail cannot arrive before it was
/// written; Thunderbird writes the placeholder `From - Mon Jan 1 00:00:00
/// 1965`), so the Date header wins and a warning says so.
pub fn choose_date_with(
    policy: DatePolicy,
    c: &DateCandidates,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Option<InternalDate> {
    if policy == DatePolicy::Now {
        return None;
    }
    let received = c.received.as_deref().and_then(|r| {
        let after = r.rsplit_once(';').map(|(_, d)| d)?;
        parse_rfc2822(after)
    });
    let date_header = c.date_header.as_deref().and_then(|d| {
        let parsed = parse_rfc2822(d);
        if parsed.is_none() {
            warnings.push(format!("unparseable Date header {:?}", d.trim()));
        }
        parsed
    });
    let file_name = c
        .file_name
        .filter(|&s| s >= FILE_NAME_EARLIEST)
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .map(|d| d.fixed_offset());
    let mtime = c.mtime.map(|d| d.fixed_offset());
    let latest = now + Duration::days(1);
    let earliest = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
    let sane = |d: Option<DateTime<FixedOffset>>| d.filter(|at| *at >= earliest && *at <= latest);
    let mut store_received = sane(c.store_received);
    let from_line = c
        .from_line
        .map(|f| in_writers_zone(f, &[received, date_header]));
    let (mut from_line, mut received) = (sane(from_line), sane(received));
    let date_header = sane(date_header);
    if let Some(written) = date_header {
        for (delivery, what) in [
            (&mut store_received, "mail store's received"),
            (&mut from_line, "From_ line"),
            (&mut received, "Received"),
        ] {
            if delivery.is_some_and(|d| d < written - Duration::days(1)) {
                warnings.push(format!(
                    "{what} date is more than a day before the Date header; not used"
                ));
                *delivery = None;
            }
        }
    }
    let mut ordered = vec![
        (store_received, DateSource::StoreReceived),
        (from_line, DateSource::FromLine),
        (received, DateSource::Received),
        (date_header, DateSource::DateHeader),
        (sane(file_name), DateSource::FileName),
        (sane(mtime), DateSource::Mtime),
    ];
    let first: &[DateSource] = match policy {
        DatePolicy::Header => &[DateSource::DateHeader],
        DatePolicy::Mtime => &[DateSource::Mtime],
        DatePolicy::Delivery => &[
            DateSource::StoreReceived,
            DateSource::FromLine,
            DateSource::Received,
        ],
        DatePolicy::Auto | DatePolicy::Now => &[],
    };
    ordered.sort_by_key(|(_, source)| !first.contains(source));
    ordered
        .into_iter()
        .find_map(|(at, source)| Some(InternalDate { at: at?, source }))
}

/// The earliest a Maildir file name's timestamp may say (1980-01-01, long
/// before Maildir existed): a leading number below it is a counter or a
/// name like `1.M1.h`, not a delivery time, and the next date source is
/// used (a later one than now + 1 day is refused as every date is).
const FILE_NAME_EARLIEST: i64 = 315_532_800;

/// How close a header's local time must be to a From_ line's to lend it
/// its zone.
const SAME_WALL_CLOCK: i64 = 15 * 60;

/// A From_ line's date carries no zone (asctime): it is the local time of
/// the machine that wrote it, read as UTC by the parser. When a header
/// written with a zone shows the same wall-clock time (within 15 minutes),
/// the From_ line was written in that zone: the top-most `Received:` (the
/// final hop, usually the same machine) first, then the `Date:` header (a
/// sender in the same zone, e.g. Thunderbird's own drafts and sent mail).
/// A From_ line with a zone of its own, or with no such header, is kept.
fn in_writers_zone(
    from_line: DateTime<FixedOffset>,
    zoned: &[Option<DateTime<FixedOffset>>],
) -> DateTime<FixedOffset> {
    if from_line.offset().local_minus_utc() != 0 {
        return from_line;
    }
    let wall = from_line.naive_local();
    zoned
        .iter()
        .flatten()
        .filter(|h| h.offset().local_minus_utc() != 0)
        .find(|h| (h.naive_local() - wall).num_seconds().abs() <= SAME_WALL_CLOCK)
        .and_then(|h| h.offset().from_local_datetime(&wall).single())
        .unwrap_or(from_line)
}

/// The Unix timestamp at the start of a Maildir file name (digits before the
/// first `.`), if any.
pub fn file_name_timestamp(name: &str) -> Option<i64> {
    let (digits, _) = name.split_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&s| s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn policies() {
        let c = DateCandidates {
            from_line: Some(utc("2020-01-04T00:00:00Z")),
            date_header: Some("Fri, 3 Jan 2020 00:00:00 +0000".into()),
            mtime: Some(Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()),
            ..Default::default()
        };
        let pick = |p| choose_date_with(p, &c, now(), &mut Vec::new()).map(|d| d.source);
        assert_eq!(pick(DatePolicy::Auto), Some(DateSource::FromLine));
        assert_eq!(pick(DatePolicy::Delivery), Some(DateSource::FromLine));
        assert_eq!(pick(DatePolicy::Header), Some(DateSource::DateHeader));
        assert_eq!(pick(DatePolicy::Mtime), Some(DateSource::Mtime));
        assert_eq!(pick(DatePolicy::Now), None);
        let only_from = DateCandidates {
            from_line: c.from_line,
            ..Default::default()
        };
        let d = choose_date_with(DatePolicy::Header, &only_from, now(), &mut Vec::new());
        assert_eq!(d.unwrap().source, DateSource::FromLine, "falls through");
    }

    #[test]
    fn delivery_before_date_header_is_not_trusted() {
        let c = DateCandidates {
            from_line: Some(utc("1965-01-01T00:00:00Z")),
            date_header: Some("Tue, 9 Dec 2008 16:49:02 +0200".into()),
            ..Default::default()
        };
        let mut w = Vec::new();
        let d = choose_date(&c, now(), &mut w).unwrap();
        assert_eq!(d.source, DateSource::DateHeader);
        assert_eq!(d.at, utc("2008-12-09T14:49:02Z"));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn choice_order() {
        let mut c = DateCandidates {
            store_received: Some(utc("2020-01-03T13:00:00Z")),
            from_line: Some(utc("2020-01-03T12:00:00Z")),
            received: Some("from x by y; Thu, 2 Jan 2020 00:00:00 +0000".into()),
            date_header: Some("Fri, 3 Jan 2020 00:00:00 +0000".into()),
            file_name: Some(1_600_000_000),
            mtime: Some(Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()),
        };
        let mut w = Vec::new();
        let pick = |c: &DateCandidates, w: &mut Vec<String>| choose_date(c, now(), w).unwrap();
        assert_eq!(pick(&c, &mut w).source, DateSource::StoreReceived);
        c.store_received = None;
        assert_eq!(pick(&c, &mut w).source, DateSource::FromLine);
        c.from_line = None;
        let d = pick(&c, &mut w);
        assert_eq!(
            (d.source, d.at),
            (DateSource::Received, utc("2020-01-02T00:00:00Z"))
        );
        c.received = Some("from x by y (no date)".into());
        assert_eq!(pick(&c, &mut w).source, DateSource::DateHeader);
        c.date_header = Some("TBD".into());
        assert_eq!(pick(&c, &mut w).source, DateSource::FileName);
        assert_eq!(w.len(), 1, "unparseable Date header warns: {w:?}");
        c.file_name = None;
        assert_eq!(pick(&c, &mut w).source, DateSource::Mtime);
        c.mtime = None;
        assert!(choose_date(&c, now(), &mut w).is_none());
    }

    #[test]
    fn future_and_absurd_fall_through() {
        let c = DateCandidates {
            from_line: Some(utc("2030-01-01T00:00:00Z")),
            received: Some("by y; Mon, 1 Jan 1801 00:00:00 +0000".into()),
            date_header: Some("Sat, 1 Jun 2024 12:00:00 +0000".into()),
            ..Default::default()
        };
        let d = choose_date(&c, now(), &mut Vec::new()).unwrap();
        assert_eq!(d.source, DateSource::DateHeader, "within the 1-day slack");
        let pre_1970 = DateCandidates {
            from_line: Some(utc("1965-01-01T00:00:00Z")),
            ..Default::default()
        };
        let d = choose_date(&pre_1970, now(), &mut Vec::new()).unwrap();
        assert_eq!(d.source, DateSource::FromLine);
    }

    /// Thunderbird's draft (corpus MANIFEST, Thunderbird Inbox msg 2):
    /// `From - Sat Jun 07 04:23:42 2008` beside `Date: Sat, 07 Jun 2008
    /// 04:23:42 +0530` is 2008-06-06T22:53:42Z, not 04:23:42 UTC.
    #[test]
    fn a_from_line_takes_the_zone_of_a_header_with_its_wall_clock() {
        let from = |s: &str| parse_from_line(s.as_bytes());
        let mut w = Vec::new();
        let c = DateCandidates {
            from_line: from("From - Sat Jun 07 04:23:42 2008"),
            date_header: Some("Sat, 07 Jun 2008 04:23:42 +0530".into()),
            ..Default::default()
        };
        let d = choose_date(&c, now(), &mut w).unwrap();
        assert_eq!(d.source, DateSource::FromLine);
        assert_eq!(d.at, utc("2008-06-06T22:53:42Z"));
        assert_eq!(d.at.offset().local_minus_utc(), 5 * 3600 + 1800);
        // The final hop's Received (a few seconds before) comes first.
        let c = DateCandidates {
            from_line: from("From a@b Tue Jan 13 09:10:40 1998"),
            received: Some("from x by y; Tue, 13 Jan 1998 09:10:37 -0500".into()),
            date_header: Some("Tue, 13 Jan 1998 09:10:30 +0100".into()),
            ..Default::default()
        };
        assert_eq!(
            choose_date(&c, now(), &mut w).unwrap().at,
            utc("1998-01-13T14:10:40Z")
        );
        // No header near its wall clock, or a zone of its own: kept.
        for (line, date) in [
            (
                "From a@b Tue Jan 13 09:10:40 1998",
                "Tue, 13 Jan 1998 03:00:00 -0500",
            ),
            (
                "From a@b Tue Jan 13 09:10:40 1998 -0400",
                "Tue, 13 Jan 1998 09:10:37 -0500",
            ),
        ] {
            let c = DateCandidates {
                from_line: from(line),
                date_header: Some(date.into()),
                ..Default::default()
            };
            assert_eq!(
                choose_date(&c, now(), &mut w).unwrap().at,
                from(line).unwrap(),
                "{line}"
            );
        }
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn file_name_timestamps() {
        assert_eq!(
            file_name_timestamp("1600000000.M1P2.host:2,S"),
            Some(1_600_000_000)
        );
        assert_eq!(file_name_timestamp("01:2,"), None);
        assert_eq!(file_name_timestamp("abc.def"), None);
    }

    /// `1.M1.h` is no delivery in 1970, and a name from the future is no
    /// delivery either: the file's mtime is used.
    #[test]
    fn an_implausible_file_name_timestamp_falls_through() {
        let mtime = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
        let far = now() + Duration::days(400);
        for name in [
            "1.M1.h",
            "315532799.M1.h",
            &format!("{}.M1.h", far.timestamp()),
        ] {
            let c = DateCandidates {
                file_name: file_name_timestamp(name),
                mtime: Some(mtime),
                ..Default::default()
            };
            let d = choose_date(&c, now(), &mut Vec::new()).unwrap();
            assert_eq!(d.source, DateSource::Mtime, "{name}");
            assert_eq!(d.at, mtime.fixed_offset(), "{name}");
        }
        let c = DateCandidates {
            file_name: file_name_timestamp("315532800.M1.h"),
            mtime: Some(mtime),
            ..Default::default()
        };
        let d = choose_date(&c, now(), &mut Vec::new()).unwrap();
        assert_eq!(d.source, DateSource::FileName);
    }
}
