//! Target names: maps a source folder path (components such as
//! `["Archive", "2019"]`) to the full server mailbox name. In order:
//! `--include`/`--exclude` decide whether the folder goes at all; `--mailbox`
//! sends everything to one place; `--map` renames a subtree; a folder playing
//! a special-use role goes to the server's mailbox with that attribute;
//! `--prefix` and `--flatten` shape the rest; the server's delimiter joins the
//! components and its personal namespace prefix (e.g. `INBOX.`) goes in front.

use std::collections::HashMap;

use anyhow::{Context, bail};
use globset::{GlobSet, GlobSetBuilder};

use crate::imap::ListEntry;
use crate::plan::special_use::Role;

/// What the user asked for (from the command line).
#[derive(Clone, Debug, Default)]
pub struct TargetOptions {
    pub mailbox: Option<String>,
    pub prefix: Option<String>,
    /// `SOURCE=TARGET` pairs, paths written with `/`.
    pub maps: Vec<String>,
    /// Join the hierarchy into one level with this separator.
    pub flatten: Option<String>,
    pub special_use: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// What the server told us about its names.
#[derive(Clone, Debug, Default)]
pub struct ServerLayout {
    /// Hierarchy delimiter; `None` for a flat server.
    pub delimiter: Option<char>,
    /// Personal namespace prefix (RFC 2342), e.g. `INBOX.`; usually empty.
    pub namespace_prefix: String,
    /// The server's mailbox for each special-use role it has.
    pub special: HashMap<Role, String>,
}

impl ServerLayout {
    /// For `scan`: no server, hierarchy shown with `/`.
    pub fn offline() -> ServerLayout {
        ServerLayout {
            delimiter: Some('/'),
            ..Default::default()
        }
    }

    /// From the server's LIST and NAMESPACE answers.
    pub fn from_server(
        delimiter: Option<char>,
        namespace: Option<(String, Option<char>)>,
        mailboxes: &[ListEntry],
    ) -> ServerLayout {
        let mut special = HashMap::new();
        for entry in mailboxes {
            for attr in &entry.attributes {
                if let Some(role) = Role::from_attribute(attr) {
                    special.entry(role).or_insert_with(|| entry.name.clone());
                }
            }
        }
        let (namespace_prefix, ns_delimiter) = namespace.unwrap_or_default();
        ServerLayout {
            delimiter: delimiter.or(ns_delimiter),
            namespace_prefix,
            special,
        }
    }
}

/// Splits a user-given mailbox path on `/` (the separator on the command line,
/// whatever the server uses), ignoring empty parts.
pub fn split_user_path(s: &str) -> Vec<String> {
    s.split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Maps source folder paths to server mailbox names.
#[derive(Clone, Debug)]
pub struct TargetMap {
    single: Option<Vec<String>>,
    prefix: Vec<String>,
    maps: Vec<(Vec<String>, Vec<String>)>,
    flatten: Option<String>,
    special_use: bool,
    include: Option<GlobSet>,
    exclude: GlobSet,
    layout: ServerLayout,
}

fn glob_set(patterns: &[String], option: &str) -> anyhow::Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .with_context(|| format!("{option} {p:?} is not a valid glob"))?;
        b.add(glob);
    }
    b.build()
        .with_context(|| format!("{option}: cannot build the patterns"))
}

impl TargetMap {
    /// True under `--mailbox`: every folder goes into one mailbox, as asked.
    pub fn is_single(&self) -> bool {
        self.single.is_some()
    }

    pub fn new(opts: &TargetOptions, layout: ServerLayout) -> anyhow::Result<TargetMap> {
        let mut maps = Vec::new();
        for m in &opts.maps {
            let Some((from, to)) = m.split_once('=') else {
                bail!("--map {m:?} must be SOURCE=TARGET");
            };
            let (from, to) = (split_user_path(from), split_user_path(to));
            if from.is_empty() || to.is_empty() {
                bail!("--map {m:?}: both SOURCE and TARGET must name a folder");
            }
            maps.push((from, to));
        }
        // Longest source path first, so the most specific --map wins.
        maps.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        Ok(TargetMap {
            single: opts
                .mailbox
                .as_deref()
                .map(split_user_path)
                .filter(|p| !p.is_empty()),
            prefix: opts
                .prefix
                .as_deref()
                .map(split_user_path)
                .unwrap_or_default(),
            maps,
            flatten: opts.flatten.clone(),
            special_use: opts.special_use,
            include: if opts.include.is_empty() {
                None
            } else {
                Some(glob_set(&opts.include, "--include")?)
            },
            exclude: glob_set(&opts.exclude, "--exclude")?,
            layout,
        })
    }

    /// True when `--include`/`--exclude` let this source folder through
    /// (patterns match the folder path written with `/`).
    pub fn is_included(&self, folder: &[String]) -> bool {
        let path = folder.join("/");
        self.include.as_ref().is_none_or(|g| g.is_match(&path)) && !self.exclude.is_match(&path)
    }

    /// The server name for a source folder, and notes on any change made to
    /// fit the server (a delimiter inside a folder name).
    pub fn target(&self, folder: &[String]) -> (String, Vec<String>) {
        if let Some(single) = &self.single {
            return self.join(single);
        }
        let mut components = self.apply_maps(folder);
        if self.special_use && self.prefix.is_empty() {
            let leaf = match components.as_slice() {
                [one] => Some(one),
                [inbox, one] if inbox.eq_ignore_ascii_case("INBOX") => Some(one),
                _ => None,
            };
            let role = leaf.and_then(|l| Role::of_folder_name(l));
            if let Some(name) = role.and_then(|r| self.layout.special.get(&r)) {
                return (name.clone(), Vec::new());
            }
        }
        components = self.prefix.iter().cloned().chain(components).collect();
        let inbox_only = components.len() == 1 && components[0].eq_ignore_ascii_case("INBOX");
        if let Some(sep) = self.flatten.as_ref().filter(|_| !inbox_only) {
            components = vec![components.join(sep)];
        }
        self.join(&components)
    }

    fn apply_maps(&self, folder: &[String]) -> Vec<String> {
        for (from, to) in &self.maps {
            let matches = folder.len() >= from.len()
                && from.iter().zip(folder).all(|(a, b)| {
                    a == b || (a.eq_ignore_ascii_case("INBOX") && b.eq_ignore_ascii_case("INBOX"))
                });
            if matches {
                return to.iter().chain(&folder[from.len()..]).cloned().collect();
            }
        }
        folder.to_vec()
    }

    /// Joins components with the server's delimiter, replacing a delimiter
    /// inside a component (noted), then adds the namespace prefix.
    fn join(&self, components: &[String]) -> (String, Vec<String>) {
        let mut notes = Vec::new();
        let sep = self.layout.delimiter;
        let parts: Vec<String> = components
            .iter()
            .map(|c| match sep {
                Some(d) if c.contains(d) => {
                    let fixed = c.replace(d, "_");
                    notes.push(format!(
                        "folder name {c:?} contains the server's hierarchy delimiter {d:?}; uploaded as {fixed:?}"
                    ));
                    fixed
                }
                _ => c.clone(),
            })
            .collect();
        let name = parts.join(&sep.map_or("_".to_string(), String::from));
        if parts.len() == 1 && name.eq_ignore_ascii_case("INBOX") {
            return ("INBOX".into(), notes);
        }
        let ns = &self.layout.namespace_prefix;
        let already = name.len() >= ns.len()
            && name.is_char_boundary(ns.len())
            && name[..ns.len()].eq_ignore_ascii_case(ns);
        if ns.is_empty() || already {
            (name, notes)
        } else {
            (format!("{ns}{name}"), notes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(opts: TargetOptions, layout: ServerLayout) -> TargetMap {
        TargetMap::new(&opts, layout).unwrap()
    }

    fn dot() -> ServerLayout {
        ServerLayout {
            delimiter: Some('.'),
            ..Default::default()
        }
    }

    fn name(m: &TargetMap, folder: &[&str]) -> String {
        let f: Vec<String> = folder.iter().map(|s| s.to_string()).collect();
        m.target(&f).0
    }

    #[test]
    fn mapping() {
        let m = map(TargetOptions::default(), dot());
        assert_eq!(name(&m, &["inbox"]), "INBOX");
        assert_eq!(name(&m, &["Archive", "2019"]), "Archive.2019");
        let slash = ServerLayout {
            delimiter: Some('/'),
            ..Default::default()
        };
        let m = map(
            TargetOptions {
                prefix: Some("Old/Mail".into()),
                ..Default::default()
            },
            slash,
        );
        assert_eq!(name(&m, &["INBOX"]), "Old/Mail/INBOX");
        assert_eq!(name(&m, &["Sent"]), "Old/Mail/Sent");
        let m = map(
            TargetOptions {
                mailbox: Some("Imported/2020".into()),
                prefix: Some("ignored".into()),
                ..Default::default()
            },
            dot(),
        );
        assert_eq!(name(&m, &["Sent"]), "Imported.2020");
    }

    #[test]
    fn delimiter_inside_a_name_is_replaced_and_noted() {
        let m = map(TargetOptions::default(), dot());
        let (name, notes) = m.target(&["v1.2 notes".to_string()]);
        assert_eq!(name, "v1_2 notes");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn namespace_prefix_goes_in_front_except_for_inbox() {
        let layout = ServerLayout {
            delimiter: Some('.'),
            namespace_prefix: "INBOX.".into(),
            ..Default::default()
        };
        let m = map(TargetOptions::default(), layout);
        assert_eq!(name(&m, &["Sent"]), "INBOX.Sent");
        assert_eq!(name(&m, &["INBOX"]), "INBOX");
        assert_eq!(name(&m, &["INBOX", "Work"]), "INBOX.Work");
        assert_eq!(name(&m, &["A", "B"]), "INBOX.A.B");
    }

    #[test]
    fn special_use_and_maps_and_flatten() {
        let mut layout = dot();
        layout.special.insert(Role::Sent, "Sent Messages".into());
        let opts = TargetOptions {
            special_use: true,
            maps: vec!["Old Stuff=Archive/Old".into(), "Old Stuff/Keep=Kept".into()],
            ..Default::default()
        };
        let m = map(opts.clone(), layout.clone());
        assert_eq!(name(&m, &["Gesendet"]), "Sent Messages");
        assert_eq!(name(&m, &["INBOX", "Sent Items"]), "Sent Messages");
        // No \Drafts on the server: the source name stays.
        assert_eq!(name(&m, &["Drafts"]), "Drafts");
        assert_eq!(name(&m, &["Old Stuff", "x"]), "Archive.Old.x");
        assert_eq!(name(&m, &["Old Stuff", "Keep", "y"]), "Kept.y");
        let m = map(
            TargetOptions {
                special_use: false,
                ..opts
            },
            layout.clone(),
        );
        assert_eq!(name(&m, &["Gesendet"]), "Gesendet");
        let m = map(
            TargetOptions {
                flatten: Some("-".into()),
                ..Default::default()
            },
            layout,
        );
        assert_eq!(name(&m, &["A", "B", "C"]), "A-B-C");
        assert_eq!(name(&m, &["INBOX"]), "INBOX");
    }

    #[test]
    fn include_and_exclude_globs() {
        let m = map(
            TargetOptions {
                include: vec!["Archive/**".into(), "INBOX".into()],
                exclude: vec!["Archive/Old*".into()],
                ..Default::default()
            },
            dot(),
        );
        let inc = |f: &[&str]| m.is_included(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(inc(&["INBOX"]));
        assert!(inc(&["Archive", "2019"]));
        assert!(!inc(&["Archive", "Old 2001"]));
        assert!(!inc(&["Sent"]));
        assert!(
            TargetMap::new(
                &TargetOptions {
                    maps: vec!["nothing".into()],
                    ..Default::default()
                },
                dot()
            )
            .is_err()
        );
    }
}
