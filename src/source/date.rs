//! Internal-date choice: parsing the dates a message carries (the mbox From_
//! line's asctime date, RFC 2822 `Received:`/`Date:` values, a Maildir file
//! name's timestamp, the file mtime) and picking the first sane one in the
//! order DESIGN.md "Metadata rules" gives. Pure functions, no I/O.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::message::{DateSource, InternalDate};

/// Everything a message offers as an internal date, unparsed where it is text.
#[derive(Clone, Debug, Default)]
pub struct DateCandidates {
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

/// Picks the internal date: the first candidate that parses and lies between
/// 1900 and `now` + 1 day. Adds a warning when a `Date:` header is present
/// but cannot be parsed.
pub fn choose_date(
    c: &DateCandidates,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Option<InternalDate> {
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
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .map(|d| d.fixed_offset());
    let mtime = c.mtime.map(|d| d.fixed_offset());
    let ordered = [
        (c.from_line, DateSource::FromLine),
        (received, DateSource::Received),
        (date_header, DateSource::DateHeader),
        (file_name, DateSource::FileName),
        (mtime, DateSource::Mtime),
    ];
    let latest = now + Duration::days(1);
    let earliest = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
    ordered.into_iter().find_map(|(at, source)| {
        let at = at?;
        (at >= earliest && at <= latest).then_some(InternalDate { at, source })
    })
}

/// Parses an RFC 2822 date leniently (missing seconds, zone names, two-digit
/// years, comments), via chrono first and then mail-parser.
pub fn parse_rfc2822(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d);
    }
    let Some(d) = mail_parser::DateTime::parse_rfc822(s) else {
        // ctime format (`Wed Feb  1 19:06:09 2006`), as some archivers write.
        return parse_asctime(&format!("- {s}"));
    };
    let offset_secs =
        (d.tz_hour as i32 * 3600 + d.tz_minute as i32 * 60) * if d.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(offset_secs)?;
    let naive = NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)?.and_hms_opt(
        d.hour as u32,
        d.minute as u32,
        d.second as u32,
    )?;
    offset.from_local_datetime(&naive).single()
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses the asctime date on an mbox From_ line (`From sender Mon Jan  6
/// 09:15:00 2020`), also with a numeric or named zone after the year or
/// before it, and without seconds. The sender may contain spaces. No zone
/// means UTC. `None` when the line has no such date.
pub fn parse_from_line(line: &[u8]) -> Option<DateTime<FixedOffset>> {
    let text = String::from_utf8_lossy(line);
    parse_asctime(text.strip_prefix("From ")?)
}

/// `sender asctime-date [zone]`: the date part of a From_ line.
fn parse_asctime(rest: &str) -> Option<DateTime<FixedOffset>> {
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    // The date starts at a weekday followed by a month; the sender is before it.
    let start = (1..tokens.len().saturating_sub(1)).find(|&i| {
        WEEKDAYS.contains(&tokens[i].to_ascii_lowercase().as_str())
            && month_number(tokens[i + 1]).is_some()
    })?;
    let month = month_number(tokens[start + 1])?;
    let mut rest = tokens[start + 2..].iter();
    let day: u32 = rest.next()?.parse().ok()?;
    let (hour, minute, second) = parse_time(rest.next()?)?;
    let mut year = None;
    let mut offset = 0;
    for t in rest {
        if let Some(y) = t
            .parse::<i32>()
            .ok()
            .filter(|_| t.len() == 4 || t.len() == 2)
        {
            if year.is_some() {
                return None;
            }
            year = Some(if t.len() == 2 { two_digit_year(y) } else { y });
        } else {
            offset = zone_offset(t)?;
        }
    }
    let naive = NaiveDate::from_ymd_opt(year?, month, day)?.and_hms_opt(hour, minute, second)?;
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&naive)
        .single()
}

fn month_number(t: &str) -> Option<u32> {
    let t = t.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == t).map(|i| i as u32 + 1)
}

fn two_digit_year(y: i32) -> i32 {
    if y < 50 { 2000 + y } else { 1900 + y }
}

fn parse_time(t: &str) -> Option<(u32, u32, u32)> {
    let mut parts = t.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    parts.next().is_none().then_some((h, m, s))
}

/// Seconds east of UTC for `+hhmm`/`-hhmm` or a common zone name; unknown
/// alphabetic names count as UTC, anything else is not a zone.
fn zone_offset(t: &str) -> Option<i32> {
    let b = t.as_bytes();
    if b.len() == 5 && (b[0] == b'+' || b[0] == b'-') && b[1..].iter().all(u8::is_ascii_digit) {
        let n: i32 = t[1..].parse().ok()?;
        let secs = (n / 100) * 3600 + (n % 100) * 60;
        return Some(if b[0] == b'-' { -secs } else { secs });
    }
    if !t.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let hours = match t.to_ascii_uppercase().as_str() {
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        "CET" => 1,
        "CEST" | "EET" => 2,
        "EEST" => 3,
        _ => 0,
    };
    Some(hours * 3600)
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
    fn from_line_dates() {
        let d = parse_from_line(b"From sender Mon Jan  6 09:15:00 2020").unwrap();
        assert_eq!(d, utc("2020-01-06T09:15:00Z"));
        let d = parse_from_line(b"From a@b Sat Sep  1 12:30:05 2001 -0400\r\n").unwrap();
        assert_eq!(d, utc("2001-09-01T12:30:05-04:00"));
        let d = parse_from_line(b"From a@b Sat Sep  1 20:58 EDT 2001\n").unwrap();
        assert_eq!(d, utc("2001-09-01T20:58:00-04:00"));
        let d = parse_from_line(b"From upi at papat.org  Wed Feb  1 19:06:04 2006").unwrap();
        assert_eq!(d, utc("2006-02-01T19:06:04Z"));
        let d = parse_from_line(b"From - Tue Oct 02 00:26:47 2007").unwrap();
        assert_eq!(d, utc("2007-10-02T00:26:47Z"));
        assert!(parse_from_line(b"From - Sun 24 Jan 2016 21:57:32").is_none());
        assert!(parse_from_line(b"From here on we go").is_none());
        assert!(parse_from_line(b"From ").is_none());
    }

    #[test]
    fn rfc2822_lenient() {
        assert_eq!(
            parse_rfc2822("Sat, 07 Jun 2008 04:23:42 +0530"),
            Some(utc("2008-06-06T22:53:42Z"))
        );
        assert_eq!(
            parse_rfc2822(" Tue, 13 Jan 98 09:10:37 -0500"),
            Some(utc("1998-01-13T14:10:37Z"))
        );
        assert_eq!(
            parse_rfc2822("Mon, 6 Jan 2020 09:15 +0000"),
            Some(utc("2020-01-06T09:15:00Z"))
        );
        assert_eq!(
            parse_rfc2822("Wed Feb  1 19:06:09 2006"),
            Some(utc("2006-02-01T19:06:09Z"))
        );
        assert!(parse_rfc2822("TBD").is_none());
        assert!(parse_rfc2822("").is_none());
    }

    #[test]
    fn choice_order() {
        let mut c = DateCandidates {
            from_line: Some(utc("2020-01-01T00:00:00Z")),
            received: Some("from x by y; Thu, 2 Jan 2020 00:00:00 +0000".into()),
            date_header: Some("Fri, 3 Jan 2020 00:00:00 +0000".into()),
            file_name: Some(1_600_000_000),
            mtime: Some(Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()),
        };
        let mut w = Vec::new();
        let pick = |c: &DateCandidates, w: &mut Vec<String>| choose_date(c, now(), w).unwrap();
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

    #[test]
    fn file_name_timestamps() {
        assert_eq!(
            file_name_timestamp("1600000000.M1P2.host:2,S"),
            Some(1_600_000_000)
        );
        assert_eq!(file_name_timestamp("01:2,"), None);
        assert_eq!(file_name_timestamp("abc.def"), None);
    }
}
