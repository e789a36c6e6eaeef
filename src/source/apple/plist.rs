//! Reads a value from the XML property list after an `.emlx` message
//! (`<plist><dict><key>flags</key><integer>8623750272</integer>…`). Only the
//! top-level scalar values mailhaul uses are looked up, by key; a full plist
//! parser (and a dependency) would buy nothing here.

/// The number after `<key>key</key>`: an `<integer>` or a `<real>`
/// (truncated toward zero). `None` when the key is absent or its value is
/// not a number.
pub fn number(plist: &str, key: &str) -> Option<i128> {
    let tag = format!("<key>{key}</key>");
    let after = &plist[plist.find(&tag)? + tag.len()..];
    let after = after.trim_start();
    for elem in ["integer", "real"] {
        let open = format!("<{elem}>");
        let Some(rest) = after.strip_prefix(open.as_str()) else {
            continue;
        };
        let text = rest[..rest.find(&format!("</{elem}>"))?].trim();
        return match elem {
            "integer" => text.parse().ok(),
            _ => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i128),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>color</key>
	<string>000000</string>
	<key>date-last-viewed</key>
	<integer>0</integer>
	<key>date-received</key>
	<integer>1555588849</integer>
	<key>flags</key>
	<integer>8623750272</integer>
	<key>sent</key>
	<real>1555588800.75</real>
	<key>subject</key>
	<string>flags</string>
</dict>
</plist>
"#;

    #[test]
    fn integers_and_reals_by_key() {
        assert_eq!(number(PLIST, "flags"), Some(8_623_750_272));
        assert_eq!(number(PLIST, "date-received"), Some(1_555_588_849));
        assert_eq!(number(PLIST, "sent"), Some(1_555_588_800));
        assert_eq!(number(PLIST, "subject"), None, "a string is not a number");
        assert_eq!(number(PLIST, "remote-id"), None);
        assert_eq!(
            number("<key>flags</key><integer>x</integer>", "flags"),
            None
        );
        assert_eq!(number("<key>flags</key><integer>12", "flags"), None);
    }
}
