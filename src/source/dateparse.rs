//! Date parsing for sources: the asctime date on an mbox From_ line (strict
//! enough to tell a separator from prose) and a tolerant reader for the messy
//! `Date:`/`Received:` values real mail carries (two-digit years, `AM` after
//! a 24-hour time, three-digit or unsigned zones, missing zones, wrong or
//! misspelt weekdays, fractional seconds). Parses what a careful reader can
//! and returns `None` rather than guess a year. Pure functions, no I/O.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses an RFC 2822 date, strictly via chrono first and then with
/// [`parse_loose`].
pub fn parse_rfc2822(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d);
    }
    parse_loose(s)
}

/// A tolerant date reader: weekdays (right, wrong or misspelt) are ignored,
/// comments dropped, day/month/year found by shape in any order
/// (`6 Jan 2020`, `Jan 6 2020`, ctime's `Mon Jan  6 09:15:00 2020`), `AM`/`PM`
/// honoured only where they make sense, zones `+hhmm`, `+hmm`, unsigned
/// `hhmm` after the time, `GMT+2`, or a common name; no zone means UTC.
/// Needs a day, a month name, a year and a time; anything unreadable in
/// between makes the whole value unreadable.
pub fn parse_loose(s: &str) -> Option<DateTime<FixedOffset>> {
    let cleaned = strip_comments(s);
    let tokens: Vec<&str> = cleaned
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let (mut day, mut month, mut year, mut time, mut zone) = (None, None, None, None, None);
    let mut meridiem = None;
    for t in tokens {
        let lower = t.to_ascii_lowercase();
        if t.contains(':') {
            if time.is_some() {
                return None;
            }
            time = Some(parse_time(t)?);
        } else if let Some(m) = month_number(t).or_else(|| full_month(&lower)) {
            if month.is_some() {
                return None;
            }
            month = Some(m);
        } else if lower == "am" || lower == "pm" {
            meridiem = Some(lower == "pm");
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            let n: i32 = t.parse().ok()?;
            if time.is_some() && t.len() == 4 && zone.is_none() && year.is_some() {
                // `22:23:35 0000`: an unsigned numeric zone.
                zone = Some(numeric_zone(b'+', t)?);
            } else if t.len() <= 2 && day.is_none() && (1..=31).contains(&n) {
                day = Some(n as u32);
            } else if year.is_none() && matches!(t.len(), 2..=4) {
                year = Some(expand_year(n, t.len()));
            } else {
                return None;
            }
        } else if zone.is_none() && time.is_some() {
            zone = Some(zone_offset(t)?);
        } else if is_weekday(&lower) || time.is_none() {
            // Weekday names, misspelt ones (`Wen`) and other words before the
            // time carry nothing we need.
        } else {
            return None;
        }
    }
    let (mut h, m, sec) = time?;
    match meridiem {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let naive = NaiveDate::from_ymd_opt(year?, month?, day?)?.and_hms_opt(h, m, sec)?;
    FixedOffset::east_opt(zone.unwrap_or(0))?
        .from_local_datetime(&naive)
        .single()
}

/// Parses the asctime date on an mbox From_ line (`From sender Mon Jan  6
/// 09:15:00 2020`), also with a numeric or named zone after the year or
/// before it (`Mon Jan 06 09:15:00 +0000 2020`), and without seconds. The
/// sender may contain spaces. No zone means UTC. `None` when the line has no
/// such date.
pub fn parse_from_line(line: &[u8]) -> Option<DateTime<FixedOffset>> {
    let rest = line.strip_prefix(b"From ")?;
    parse_asctime(&String::from_utf8_lossy(rest))
}

/// `sender asctime-date [zone]`: the date part of a From_ line. Strict: a
/// weekday followed by a month, then day, time, and a year.
pub fn parse_asctime(rest: &str) -> Option<DateTime<FixedOffset>> {
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let start = (0..tokens.len().saturating_sub(1)).find(|&i| {
        is_weekday(&tokens[i].to_ascii_lowercase()) && month_number(tokens[i + 1]).is_some()
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
            year = Some(expand_year(y, t.len()));
        } else {
            offset = zone_offset(t)?;
        }
    }
    let naive = NaiveDate::from_ymd_opt(year?, month, day)?.and_hms_opt(hour, minute, second)?;
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&naive)
        .single()
}

fn is_weekday(lower: &str) -> bool {
    WEEKDAYS.iter().any(|w| lower.starts_with(w))
}

fn month_number(t: &str) -> Option<u32> {
    let t = t.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == t).map(|i| i as u32 + 1)
}

/// Full (or dotted) English month names: `January`, `Sept.`.
fn full_month(lower: &str) -> Option<u32> {
    let word = lower.trim_end_matches('.');
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.iter()
        .position(|m| m.starts_with(word))
        .map(|i| i as u32 + 1)
}

/// Two-digit years as RFC 5322 §4.3 says (< 50 → 20xx, else 19xx);
/// three-digit years are years since 1900 (old `tm_year` bugs: `103` → 2003).
fn expand_year(y: i32, digits: usize) -> i32 {
    match digits {
        2 if y < 50 => 2000 + y,
        2 => 1900 + y,
        3 => 1900 + y,
        _ => y,
    }
}

/// `h:m[:s[.frac]]`.
fn parse_time(t: &str) -> Option<(u32, u32, u32)> {
    let mut parts = t.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = match parts.next() {
        Some(s) => {
            let whole = s.split_once('.').map_or(s, |(w, frac)| {
                if frac.bytes().all(|b| b.is_ascii_digit()) {
                    w
                } else {
                    "x"
                }
            });
            whole.parse().ok()?
        }
        None => 0,
    };
    (parts.next().is_none() && h < 24 && m < 60 && s < 61).then_some((h, m, s.min(59)))
}

/// `+hhmm`, `-hhmm`, the three-digit `+hmm`/`-hmm` some mailers write.
fn numeric_zone(sign: u8, digits: &str) -> Option<i32> {
    let n: i32 = digits.parse().ok()?;
    let (h, m) = (n / 100, n % 100);
    if h > 14 || m > 59 {
        return None;
    }
    let secs = h * 3600 + m * 60;
    Some(if sign == b'-' { -secs } else { secs })
}

/// Seconds east of UTC for a numeric zone, `GMT+2`/`UTC-0500`, or a zone
/// name; unknown alphabetic names count as UTC, anything else is not a zone.
fn zone_offset(t: &str) -> Option<i32> {
    let b = t.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-'))
        && matches!(b.len(), 4 | 5)
        && b[1..].iter().all(u8::is_ascii_digit)
    {
        return numeric_zone(b[0], &t[1..]);
    }
    let upper = t.to_ascii_uppercase();
    for prefix in ["GMT", "UTC", "UT"] {
        if let Some(rest) = upper.strip_prefix(prefix)
            && let Some(sign) = rest.bytes().next().filter(|c| matches!(c, b'+' | b'-'))
        {
            let digits = &rest[1..];
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let padded = if digits.len() <= 2 {
                format!("{digits}00")
            } else {
                digits.to_string()
            };
            return numeric_zone(sign, &padded);
        }
    }
    if !t.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let hours = match upper.as_str() {
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        "CET" | "MET" | "BST" => 1,
        "CEST" | "MEST" | "EET" => 2,
        "EEST" => 3,
        _ => 0,
    };
    Some(hours * 3600)
}

/// Removes `(comments)`, nested or not; an unclosed one runs to the end.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<DateTime<FixedOffset>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap())
    }

    #[test]
    fn from_line_separators() {
        let cases: [(&[u8], &str); 7] = [
            (
                b"From sender Mon Jan  6 09:15:00 2020",
                "2020-01-06T09:15:00Z",
            ),
            (
                b"From a@b Sat Sep  1 12:30:05 2001 -0400\r\n",
                "2001-09-01T12:30:05-04:00",
            ),
            (
                b"From a@b Sat Sep  1 20:58 EDT 2001\n",
                "2001-09-01T20:58:00-04:00",
            ),
            (
                b"From upi at papat.org  Wed Feb  1 19:06:04 2006",
                "2006-02-01T19:06:04Z",
            ),
            (b"From - Tue Oct 02 00:26:47 2007", "2007-10-02T00:26:47Z"),
            (
                b"From id@xxx Mon Jan 06 09:15:00 +0000 2020",
                "2020-01-06T09:15:00Z",
            ),
            (
                b"From x Mon Jan  6 09:15:00 2020 PST",
                "2020-01-06T09:15:00-08:00",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_from_line(line), at(want), "{:?}", line.escape_ascii());
        }
        assert!(parse_from_line(b"From - Sun 24 Jan 2016 21:57:32").is_none());
        assert!(parse_from_line(b"From here on we go").is_none());
        assert!(parse_from_line(b"From ").is_none());
        assert!(parse_from_line(b"From Monday Jan 6 we meet").is_none());
    }

    #[test]
    fn messy_date_headers() {
        let cases = [
            ("Sat, 07 Jun 2008 04:23:42 +0530", "2008-06-06T22:53:42Z"),
            (" Tue, 13 Jan 98 09:10:37 -0500", "1998-01-13T14:10:37Z"),
            ("Wed, 11 Feb 98 11:51 CST", "1998-02-11T17:51:00Z"),
            ("Mon, 6 Jan 2020 09:15 +0000", "2020-01-06T09:15:00Z"),
            ("Wed Feb  1 19:06:09 2006", "2006-02-01T19:06:09Z"),
            ("Wen, 31 May 2006 10:00:00 +0200", "2006-05-31T08:00:00Z"),
            ("Fri, 6 Jan 2020 09:15:00 +0000", "2020-01-06T09:15:00Z"),
            ("Mon, 6 Jan 2020 15:15:00 PM +0000", "2020-01-06T15:15:00Z"),
            ("Mon, 6 Jan 2020 3:15:00 PM +0000", "2020-01-06T15:15:00Z"),
            ("Mon, 6 Jan 2020 12:05:00 AM +0000", "2020-01-06T00:05:00Z"),
            ("Mon, 6 Jan 2020 09:15:00 -800", "2020-01-06T17:15:00Z"),
            ("Mon, 6 Jan 2020 09:15:00", "2020-01-06T09:15:00Z"),
            ("Tue, 17 Jul 2012 22:23:35.882 0000", "2012-07-17T22:23:35Z"),
            ("6 Jan 103 09:15:00 GMT", "2003-01-06T09:15:00Z"),
            (
                "Monday, January 6, 2020 09:15:00 GMT+2",
                "2020-01-06T07:15:00Z",
            ),
            (
                "Wed, 9 Nov 2011 18:14:52 +0100 (Westeurop\u{e4}ische Normalzeit)",
                "2011-11-09T17:14:52Z",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(parse_rfc2822(s), at(want), "{s}");
        }
        for bad in [
            "TBD",
            "",
            "Tue, 7 Apr 2026 10:00:t <rimap-test@example.test>",
            "Mon, 6 Jan 09:15:00 +0000",
            "Mon, 32 Jan 2020 09:15:00",
            "Mon, 6 Jan 2020 25:15:00",
            "6 7 8 2020 10:00:00",
        ] {
            assert_eq!(parse_rfc2822(bad), None, "{bad}");
        }
    }
}
