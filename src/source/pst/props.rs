//! MAPI property tags a PST message is rebuilt from ([MS-OXPROPS] names,
//! ids without their type half), the property values kept from a PST (a
//! small copy of what `outlook-pst` read, so the rebuild is testable without
//! a PST) and the readers that turn them into text, bytes, times and flags.
//! No I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use outlook_pst::ltp::prop_context::PropertyValue;

use crate::message::Flag;

pub const MESSAGE_CLASS: u16 = 0x001A;
pub const SUBJECT: u16 = 0x0037;
pub const CLIENT_SUBMIT_TIME: u16 = 0x0039;
pub const SENT_REPRESENTING_NAME: u16 = 0x0042;
pub const SENT_REPRESENTING_ADDRTYPE: u16 = 0x0064;
pub const SENT_REPRESENTING_EMAIL: u16 = 0x0065;
pub const TRANSPORT_MESSAGE_HEADERS: u16 = 0x007D;
pub const SENDER_NAME: u16 = 0x0C1A;
pub const SENDER_ADDRTYPE: u16 = 0x0C1E;
pub const SENDER_EMAIL: u16 = 0x0C1F;
pub const RECIPIENT_TYPE: u16 = 0x0C15;
pub const MESSAGE_DELIVERY_TIME: u16 = 0x0E06;
pub const MESSAGE_FLAGS: u16 = 0x0E07;
pub const MESSAGE_SIZE: u16 = 0x0E08;
pub const BODY: u16 = 0x1000;
pub const RTF_COMPRESSED: u16 = 0x1009;
pub const HTML: u16 = 0x1013;
pub const INTERNET_MESSAGE_ID: u16 = 0x1035;
pub const INTERNET_REFERENCES: u16 = 0x1039;
pub const IN_REPLY_TO_ID: u16 = 0x1042;
pub const LAST_VERB_EXECUTED: u16 = 0x1081;
pub const FLAG_STATUS: u16 = 0x1090;
pub const DISPLAY_NAME: u16 = 0x3001;
pub const ADDRTYPE: u16 = 0x3002;
pub const EMAIL_ADDRESS: u16 = 0x3003;
pub const CONTAINER_CLASS: u16 = 0x3613;
pub const ATTACH_DATA: u16 = 0x3701;
pub const ATTACH_FILENAME: u16 = 0x3704;
pub const ATTACH_METHOD: u16 = 0x3705;
pub const ATTACH_LONG_FILENAME: u16 = 0x3707;
pub const ATTACH_MIME_TAG: u16 = 0x370E;
pub const ATTACH_CONTENT_ID: u16 = 0x3712;
pub const SMTP_ADDRESS: u16 = 0x39FE;
pub const INTERNET_CODEPAGE: u16 = 0x3FDE;
pub const MESSAGE_CODEPAGE: u16 = 0x3FFD;
pub const SENDER_SMTP_ADDRESS: u16 = 0x5D01;
pub const SENT_REPRESENTING_SMTP_ADDRESS: u16 = 0x5D02;

/// `PidTagMessageFlags` bits ([MS-OXCMSG] 2.2.1.6).
const MSGFLAG_READ: i32 = 0x0001;
const MSGFLAG_UNSENT: i32 = 0x0008;
/// `PidTagFlagStatus` value `followupFlagged` ([MS-OXOFLAG] 2.2.1.1).
const FOLLOWUP_FLAGGED: i32 = 2;
/// `PidTagLastVerbExecuted` values ([MS-OXOMSG] 2.2.1.33).
const NOTEIVERB_REPLYTOSENDER: i32 = 102;
const NOTEIVERB_REPLYTOALL: i32 = 103;
const NOTEIVERB_FORWARD: i32 = 104;

/// A property value the rebuild uses; other types are not kept.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `PtypString` (UTF-16 in the file).
    Text(String),
    /// `PtypString8`: bytes in the store's or message's code page.
    Text8(Vec<u8>),
    Binary(Vec<u8>),
    Int(i32),
    /// `PtypTime`: 100 ns ticks since 1601-01-01 UTC.
    Time(i64),
    Bool(bool),
}

impl Value {
    /// The value kept from what `outlook-pst` read, if the rebuild uses its type.
    pub fn from_pst(v: &PropertyValue) -> Option<Value> {
        Some(match v {
            PropertyValue::Unicode(s) => Value::Text(String::from_utf16_lossy(s.buffer())),
            PropertyValue::String8(s) => Value::Text8(s.buffer().to_vec()),
            PropertyValue::Binary(b) => Value::Binary(b.buffer().to_vec()),
            PropertyValue::Integer32(i) => Value::Int(*i),
            PropertyValue::Integer16(i) => Value::Int(i32::from(*i)),
            PropertyValue::Time(t) => Value::Time(*t),
            PropertyValue::Boolean(b) => Value::Bool(*b),
            _ => return None,
        })
    }
}

/// One object's properties (message, recipient row, attachment).
pub type Props = BTreeMap<u16, Value>;

/// Text of a string property: UTF-16 for `PtypString`; `PtypString8` in the
/// object's code page (`PidTagMessageCodepage`, else
/// `PidTagInternetCodepage`, else Windows-1252).
pub fn text(props: &Props, id: u16) -> Option<String> {
    let s = match props.get(&id)? {
        Value::Text(v) => v.clone(),
        Value::Text8(v) => {
            let cp = int(props, MESSAGE_CODEPAGE)
                .or_else(|| int(props, INTERNET_CODEPAGE))
                .unwrap_or(1252);
            decode8(v, cp)
        }
        _ => return None,
    };
    let s = s.trim_end_matches('\0').to_string();
    (!s.is_empty()).then_some(s)
}

/// 8-bit text in a Windows code page, decoded with mail-parser's charset
/// tables; Windows-1252 where it has none.
fn decode8(bytes: &[u8], codepage: i32) -> String {
    match mail_parser::decoders::charsets::map::charset_decoder(charset(codepage).as_bytes()) {
        Some(decode) => decode(bytes),
        None => bytes.iter().map(|&b| cp1252(b)).collect(),
    }
}

/// Windows-1252 byte to char (the 0x80–0x9F range mapped as Windows does;
/// the five undefined bytes kept as the C1 controls Windows maps them to).
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Bytes of a binary property.
pub fn binary(props: &Props, id: u16) -> Option<&[u8]> {
    match props.get(&id)? {
        Value::Binary(v) => Some(v),
        _ => None,
    }
}

pub fn int(props: &Props, id: u16) -> Option<i32> {
    match props.get(&id)? {
        Value::Int(v) => Some(*v),
        _ => None,
    }
}

/// A `PtypTime` (100 ns ticks since 1601-01-01 UTC) as a date.
pub fn time(props: &Props, id: u16) -> Option<DateTime<FixedOffset>> {
    let Value::Time(ticks) = props.get(&id)? else {
        return None;
    };
    filetime(*ticks)
}

/// FILETIME ticks to a UTC date; `None` for 0 and out-of-range values.
pub fn filetime(ticks: i64) -> Option<DateTime<FixedOffset>> {
    const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;
    if ticks <= 0 {
        return None;
    }
    let since_unix = ticks - UNIX_EPOCH_TICKS;
    let secs = since_unix.div_euclid(10_000_000);
    let nanos = since_unix.rem_euclid(10_000_000) * 100;
    Utc.timestamp_opt(secs, nanos as u32)
        .single()
        .map(|d| d.fixed_offset())
}

/// The subject without the prefix marker Outlook stores in `PidTagSubject`
/// (a 0x01 character and one character giving the prefix length).
pub fn subject(props: &Props) -> Option<String> {
    let s = text(props, SUBJECT)?;
    Some(match s.strip_prefix('\u{1}') {
        Some(rest) => rest.chars().skip(1).collect(),
        None => s,
    })
}

/// IMAP flags from the message's state: read (`MSGFLAG_READ` → `\Seen`),
/// unsent (`MSGFLAG_UNSENT` → `\Draft`), follow-up flag (`PidTagFlagStatus`
/// = followupFlagged → `\Flagged`), last verb (reply → `\Answered`, forward
/// → `$Forwarded`).
pub fn flags(props: &Props) -> Vec<Flag> {
    let mut out = Vec::new();
    let message_flags = int(props, MESSAGE_FLAGS).unwrap_or(0);
    if message_flags & MSGFLAG_READ != 0 {
        out.push(Flag::Seen);
    }
    if message_flags & MSGFLAG_UNSENT != 0 {
        out.push(Flag::Draft);
    }
    if int(props, FLAG_STATUS) == Some(FOLLOWUP_FLAGGED) {
        out.push(Flag::Flagged);
    }
    match int(props, LAST_VERB_EXECUTED) {
        Some(NOTEIVERB_REPLYTOSENDER | NOTEIVERB_REPLYTOALL) => out.push(Flag::Answered),
        Some(NOTEIVERB_FORWARD) => out.push(Flag::Keyword("$Forwarded".into())),
        _ => {}
    }
    out
}

/// The MIME charset name of a Windows code page ([MS-OXCMAIL] uses
/// `PidTagInternetCodepage` for the bodies' charset).
pub fn charset(codepage: i32) -> String {
    match codepage {
        65001 => "utf-8".into(),
        20127 => "us-ascii".into(),
        28591..=28599 => format!("iso-8859-{}", codepage - 28590),
        28603 => "iso-8859-13".into(),
        28605 => "iso-8859-15".into(),
        932 => "shift_jis".into(),
        936 => "gb2312".into(),
        949 => "ks_c_5601-1987".into(),
        950 => "big5".into(),
        20866 => "koi8-r".into(),
        21866 => "koi8-u".into(),
        50220..=50222 => "iso-2022-jp".into(),
        51932 => "euc-jp".into(),
        54936 => "gb18030".into(),
        cp => format!("windows-{cp}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_subjects_and_flags() {
        let d = filetime(126_430_805_910_000_000).unwrap();
        assert_eq!(d.to_rfc3339(), "2001-08-23T22:49:51+00:00");
        assert_eq!(filetime(0), None);
        let mut p = Props::new();
        p.insert(MESSAGE_FLAGS, Value::Int(0x11));
        p.insert(FLAG_STATUS, Value::Int(2));
        p.insert(LAST_VERB_EXECUTED, Value::Int(104));
        assert_eq!(
            flags(&p),
            vec![
                Flag::Seen,
                Flag::Flagged,
                Flag::Keyword("$Forwarded".into())
            ]
        );
        p.insert(MESSAGE_FLAGS, Value::Int(0x08));
        p.insert(FLAG_STATUS, Value::Int(1));
        p.insert(LAST_VERB_EXECUTED, Value::Int(103));
        assert_eq!(flags(&p), vec![Flag::Draft, Flag::Answered]);
        assert_eq!(charset(1252), "windows-1252");
        assert_eq!(charset(28592), "iso-8859-2");
        assert_eq!(cp1252(0x80), '€');
        let mut p = Props::new();
        p.insert(SUBJECT, Value::Text8(b"\xcf\xf0\xe8\xe2\xe5\xf2".to_vec()));
        p.insert(MESSAGE_CODEPAGE, Value::Int(1251));
        assert_eq!(text(&p, SUBJECT).as_deref(), Some("Привет"));
        p.insert(MESSAGE_CODEPAGE, Value::Int(1252));
        p.insert(SUBJECT, Value::Text8(b"caf\xe9 \x80".to_vec()));
        assert_eq!(text(&p, SUBJECT).as_deref(), Some("café €"));
        assert_eq!(cp1252(b'a'), 'a');
    }
}
