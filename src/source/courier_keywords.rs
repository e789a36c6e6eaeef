//! Courier-IMAP's keywords of a Maildir, kept in its `courierimapkeywords/`
//! directory (Courier's README.imapkeywords): the file `:list` names the
//! keywords, one per line, then after a blank line says which message has
//! which, `base:0 2` (`base` is the message's file name without its
//! `:2,` info, the numbers index the names); other files there are updates
//! of one message, named `base` or `.N.base`, each holding that message's
//! keyword names one per line, and they supersede `:list` (the highest `N`
//! wins; a plain `base` counts below any `.N.base`). Dovecot's letters and
//! `dovecot-keywords` are `maildir.rs`'s; this module only reads.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

/// The keyword names of each message, by its base name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CourierKeywords {
    by_base: HashMap<String, Vec<String>>,
}

/// The directory Courier-IMAP keeps keywords in.
pub const DIR: &str = "courierimapkeywords";

impl CourierKeywords {
    /// The keywords of the Maildir `dir`; `None` without a
    /// `courierimapkeywords/` directory.
    pub fn read(dir: &Path) -> io::Result<Option<CourierKeywords>> {
        let kw_dir = dir.join(DIR);
        let entries = match fs::read_dir(&kw_dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut found = match fs::read_to_string(kw_dir.join(":list")) {
            Ok(text) => parse_list(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => CourierKeywords::default(),
            Err(e) => return Err(e),
        };
        // Updates: per base name, the highest N (a plain name is -1).
        let mut updates: HashMap<String, (i64, Vec<String>)> = HashMap::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ":list" || !entry.file_type()?.is_file() {
                continue;
            }
            let Some((n, base)) = update_name(&name) else {
                continue;
            };
            if updates.get(base).is_some_and(|(m, _)| *m >= n) {
                continue;
            }
            let text = fs::read_to_string(entry.path())?;
            let names = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            updates.insert(base.to_string(), (n, names));
        }
        for (base, (_, names)) in updates {
            found.by_base.insert(base, names);
        }
        Ok(Some(found))
    }

    /// The keyword names of the message file `file_name` (its info part,
    /// `:2,…`, is not part of the name Courier keys on).
    pub fn of(&self, file_name: &str) -> &[String] {
        let base = file_name.split(':').next().unwrap_or(file_name);
        self.by_base.get(base).map_or(&[], Vec::as_slice)
    }
}

/// `.N.base` → (N, base); `base` → (-1, base); Courier's own temporary
/// and lock files (other dot names) → `None`.
fn update_name(name: &str) -> Option<(i64, &str)> {
    let Some(rest) = name.strip_prefix('.') else {
        return Some((-1, name));
    };
    let (n, base) = rest.split_once('.')?;
    let n = n.parse().ok()?;
    (!base.is_empty()).then_some((n, base))
}

/// `:list`: keyword names up to the first blank line, then `base:i j …`.
fn parse_list(text: &str) -> CourierKeywords {
    let mut lines = text.lines();
    let names: Vec<&str> = lines
        .by_ref()
        .map(str::trim_end)
        .take_while(|l| !l.is_empty())
        .collect();
    let mut by_base = HashMap::new();
    for line in lines {
        let Some((base, indexes)) = line.trim_end().rsplit_once(':') else {
            continue;
        };
        let keywords: Vec<String> = indexes
            .split_whitespace()
            .filter_map(|i| names.get(i.parse::<usize>().ok()?))
            .map(|n| n.to_string())
            .collect();
        if !keywords.is_empty() {
            by_base.insert(base.to_string(), keywords);
        }
    }
    CourierKeywords { by_base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_each_messages_keywords() {
        let k = parse_list("Work\n$Label1\nTodo\n\n1600000000.M1P2.h:0 2\n1600000001.M2P2.h:1\n");
        assert_eq!(k.of("1600000000.M1P2.h:2,S"), ["Work", "Todo"]);
        assert_eq!(k.of("1600000001.M2P2.h"), ["$Label1"]);
        assert!(k.of("1600000002.M3P2.h:2,").is_empty());
    }

    #[test]
    fn a_message_file_supersedes_the_list_and_the_highest_n_wins() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(CourierKeywords::read(dir.path()).unwrap(), None);
        let kw = dir.path().join(DIR);
        fs::create_dir(&kw).unwrap();
        fs::write(kw.join(":list"), "Old\nKept\n\na:0\nb:1\n").unwrap();
        fs::write(kw.join("a"), "Plain\n").unwrap();
        fs::write(kw.join(".3.a"), "Newer\nToo\n").unwrap();
        fs::write(kw.join(".2.a"), "Older\n").unwrap();
        let k = CourierKeywords::read(dir.path()).unwrap().unwrap();
        assert_eq!(k.of("a:2,S"), ["Newer", "Too"]);
        assert_eq!(k.of("b:2,"), ["Kept"]);
    }
}
