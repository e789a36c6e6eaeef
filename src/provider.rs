//! Provider profiles: what the big mail providers limit that their servers
//! do not advertise (a session cap, a daily upload budget, a message size
//! cap without APPENDLIMIT), recognised from the server's host name or
//! chosen with `--provider`. A profile only supplies defaults: explicit
//! flags win (`run/settings.rs`), and an advertised APPENDLIMIT wins over a
//! profile's size cap ([`crate::plan::ServerFacts`]).
//!
//! Every number carries its source ([`Limit::source`]): a public page of
//! the provider, printed by `mailhaul check`. Where no provider publishes a number there is none
//! here: a guess would be presented as a fact by `mailhaul check`.
//!
//! What it does not own: reacting to throttle answers and quota BYEs
//! (`upload/`), which works with or without a profile.

use std::fmt;

use clap::ValueEnum;

/// One limit of a provider and where the number comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit<T> {
    pub value: T,
    /// The provider's public page that says so (a URL and what it says).
    pub source: &'static str,
}

/// What mailhaul knows about one provider.
#[derive(Debug, PartialEq)]
pub struct Profile {
    /// The `--provider` name.
    pub name: &'static str,
    /// How reports name it.
    pub title: &'static str,
    /// IMAP host names that mean this provider (compared without case).
    pub hosts: &'static [&'static str],
    /// Simultaneous IMAP sessions per account: caps `--jobs`.
    pub session_cap: Option<Limit<usize>>,
    /// IMAP upload budget per day, in bytes: the default of `--max-bytes-per-day`.
    pub bytes_per_day: Option<Limit<u64>>,
    /// Largest message, in bytes, where the server does not advertise
    /// APPENDLIMIT (RFC 7889): bigger ones are refused before sending.
    pub message_size_cap: Option<Limit<u64>>,
    /// What the server advertises itself, as seen in its published
    /// capability strings (said by `check`, never used to decide: the
    /// session's CAPABILITY does).
    pub advertises: &'static str,
    /// Special-use mailboxes (RFC 6154) as the provider usually names them
    /// (said by `check`; the server's own LIST decides where mail goes).
    pub special_use: &'static [(&'static str, &'static str)],
    /// What else a user should know.
    pub notes: &'static [&'static str],
}

const MIB: u64 = 1 << 20;

const GMAIL_BANDWIDTH: &str = "https://support.google.com/a/answer/1071518 (Gmail bandwidth limits: upload via IMAP 500 MB per day)";
const ICLOUD_LIMITS: &str = "https://support.apple.com/en-us/102198 (iCloud Mail: incoming and outgoing messages up to 20 MB)";

/// The known providers.
pub static PROFILES: &[Profile] = &[
    Profile {
        name: "gmail",
        title: "Gmail",
        hosts: &["imap.gmail.com", "imap.googlemail.com"],
        session_cap: Some(Limit {
            value: 15,
            source: "https://support.google.com/mail/answer/7126229 (Gmail IMAP troubleshooting: \"Too many simultaneous connections\", 15 per account)",
        }),
        bytes_per_day: Some(Limit {
            value: 500 * 1000 * 1000,
            source: GMAIL_BANDWIDTH,
        }),
        message_size_cap: None,
        advertises: "APPENDLIMIT=35651584, LITERAL-, UIDPLUS, COMPRESS; no MULTIAPPEND",
        special_use: &[
            ("\\Sent", "[Gmail]/Sent Mail"),
            ("\\Drafts", "[Gmail]/Drafts"),
            ("\\Trash", "[Gmail]/Trash"),
            ("\\Junk", "[Gmail]/Spam"),
            ("\\All", "[Gmail]/All Mail"),
        ],
        notes: &[
            "mailboxes are labels: a message uploaded into several mailboxes is one message with several labels",
            "past the daily upload budget Gmail answers \"* BYE [ALERT] Account exceeded command or bandwidth limits\" until the next day",
            "sign in with an app password or OAuth2 (--oauth2-token-command)",
        ],
    },
    Profile {
        name: "microsoft365",
        title: "Microsoft 365 / Outlook.com",
        hosts: &[
            "outlook.office365.com",
            "imap-mail.outlook.com",
            "outlook.office.com",
        ],
        session_cap: Some(Limit {
            value: 20,
            source: "https://learn.microsoft.com/en-us/archive/blogs/exchangedev/exchange-online-throttling-and-limits-faq (maximum concurrent IMAP connections: 20)",
        }),
        bytes_per_day: None,
        message_size_cap: Some(Limit {
            value: 35 * MIB,
            source: "https://learn.microsoft.com/en-us/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#message-limits (35 MB per message; the server advertises no APPENDLIMIT)",
        }),
        advertises: "LITERAL+, UIDPLUS; no MULTIAPPEND, no APPENDLIMIT",
        special_use: &[
            ("\\Sent", "Sent Items"),
            ("\\Drafts", "Drafts"),
            ("\\Trash", "Deleted Items"),
            ("\\Junk", "Junk Email"),
            ("\\Archive", "Archive"),
        ],
        notes: &[
            "throttles with \"NO Request is throttled. Suggested Backoff Time: N milliseconds\"",
            "a tenant admin can raise the message size limit up to 150 MB: --provider none then sends bigger messages",
            "basic authentication is off for most tenants: use --oauth2-token-command",
        ],
    },
    Profile {
        name: "yahoo",
        title: "Yahoo Mail",
        hosts: &["imap.mail.yahoo.com"],
        session_cap: None,
        bytes_per_day: None,
        message_size_cap: None,
        advertises: "APPENDLIMIT=41697280, LITERAL+, UIDPLUS; no MULTIAPPEND",
        special_use: &[
            ("\\Sent", "Sent"),
            ("\\Drafts", "Draft"),
            ("\\Trash", "Trash"),
            ("\\Junk", "Bulk"),
            ("\\Archive", "Archive"),
        ],
        notes: &[
            "throttles with \"NO [LIMIT] ... Rate limit hit\" and then closes the connection (BYE)",
            "sign in with an app password",
        ],
    },
    Profile {
        name: "icloud",
        title: "iCloud Mail",
        hosts: &["imap.mail.me.com"],
        session_cap: None,
        bytes_per_day: None,
        message_size_cap: Some(Limit {
            value: 20 * MIB,
            source: ICLOUD_LIMITS,
        }),
        advertises: "UIDPLUS; no MULTIAPPEND, no LITERAL+, no APPENDLIMIT",
        special_use: &[
            ("\\Sent", "Sent Messages"),
            ("\\Drafts", "Drafts"),
            ("\\Trash", "Deleted Messages"),
            ("\\Junk", "Junk"),
            ("\\Archive", "Archive"),
        ],
        notes: &[
            "no LITERAL+: every message waits one round trip for the server's \"+\"",
            "sign in with an app-specific password",
        ],
    },
    Profile {
        name: "fastmail",
        title: "Fastmail",
        hosts: &["imap.fastmail.com"],
        session_cap: None,
        bytes_per_day: None,
        message_size_cap: None,
        advertises: "not recorded here: see the capabilities line above",
        special_use: &[
            ("\\Sent", "Sent"),
            ("\\Drafts", "Drafts"),
            ("\\Trash", "Trash"),
            ("\\Junk", "Spam"),
            ("\\Archive", "Archive"),
        ],
        notes: &["sign in with an app password"],
    },
];

/// `--provider`: a known provider, or `none` for no profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProviderChoice {
    Gmail,
    #[value(alias = "outlook", alias = "office365")]
    Microsoft365,
    Yahoo,
    Icloud,
    Fastmail,
    /// No profile, whatever the host name.
    None,
}

impl Profile {
    /// The profile named `name` (a `--provider` value).
    pub fn by_name(name: &str) -> Option<&'static Profile> {
        PROFILES.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The profile whose IMAP host is `host` (case and a trailing dot ignored).
    pub fn by_host(host: &str) -> Option<&'static Profile> {
        let host = host.trim_end_matches('.');
        PROFILES
            .iter()
            .find(|p| p.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }

    /// The profile for a run: `--provider` if given (`none`: no profile),
    /// else the one recognised from `host` (`None` in `scan`).
    pub fn choose(choice: Option<ProviderChoice>, host: Option<&str>) -> Option<&'static Profile> {
        let name = match choice {
            Some(ProviderChoice::None) => return None,
            Some(c) => c.to_possible_value()?.get_name().to_string(),
            None => return host.and_then(Profile::by_host),
        };
        Profile::by_name(&name)
    }

    /// The size cap as [`crate::plan::ServerFacts`] takes it.
    pub fn size_cap(&self) -> Option<SizeCap> {
        self.message_size_cap.map(|l| SizeCap {
            bytes: l.value,
            provider: self.title,
        })
    }

    /// The lines `mailhaul check` prints (and the README quotes).
    pub fn describe(&self) -> Vec<String> {
        fn line<T: fmt::Display>(what: &str, l: &Option<Limit<T>>, none: &str) -> String {
            match l {
                Some(l) => format!("{what}: {} (source: {})", l.value, l.source),
                None => format!("{what}: {none}"),
            }
        }
        let mut out = vec![
            format!("provider: {} (--provider {})", self.title, self.name),
            format!("  advertises: {}", self.advertises),
            line(
                "  sessions at once (caps --jobs)",
                &self.session_cap,
                "no published limit",
            ),
            line(
                "  upload bytes per day (--max-bytes-per-day)",
                &self.bytes_per_day,
                "no published limit",
            ),
            line(
                "  largest message in bytes (refused before sending)",
                &self.message_size_cap,
                "as advertised by APPENDLIMIT",
            ),
        ];
        let names: Vec<String> = self
            .special_use
            .iter()
            .map(|(role, name)| format!("{role} {name}"))
            .collect();
        out.push(format!(
            "  its usual special-use names (the server's LIST decides): {}",
            names.join(", ")
        ));
        out.extend(self.notes.iter().map(|n| format!("  note: {n}")));
        out
    }

    /// The same as [`Profile::describe`], as JSON (`check --json`).
    pub fn to_json(&self) -> serde_json::Value {
        fn limit<T: serde::Serialize>(l: &Option<Limit<T>>) -> serde_json::Value {
            match l {
                Some(l) => serde_json::json!({ "value": l.value, "source": l.source }),
                None => serde_json::Value::Null,
            }
        }
        serde_json::json!({
            "name": self.name,
            "title": self.title,
            "advertises": self.advertises,
            "session_cap": limit(&self.session_cap),
            "bytes_per_day": limit(&self.bytes_per_day),
            "message_size_cap": limit(&self.message_size_cap),
            "special_use": self
                .special_use
                .iter()
                .map(|(role, name)| serde_json::json!({ "attribute": role, "mailbox": name }))
                .collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

/// A provider's message size cap, for servers that do not advertise one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeCap {
    pub bytes: u64,
    /// The provider's title, for the refusal's reason.
    pub provider: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_recognised_without_case_or_trailing_dot() {
        let name = |h: &str| Profile::by_host(h).map(|p| p.name);
        assert_eq!(name("imap.gmail.com"), Some("gmail"));
        assert_eq!(name("IMAP.Gmail.com."), Some("gmail"));
        assert_eq!(name("outlook.office365.com"), Some("microsoft365"));
        assert_eq!(name("imap-mail.outlook.com"), Some("microsoft365"));
        assert_eq!(name("imap.mail.yahoo.com"), Some("yahoo"));
        assert_eq!(name("imap.mail.me.com"), Some("icloud"));
        assert_eq!(name("imap.fastmail.com"), Some("fastmail"));
        assert_eq!(name("127.0.0.1"), None);
        assert_eq!(name("gmail.com.example.org"), None);
        assert_eq!(name("mail.example.org"), None);
    }

    #[test]
    fn provider_flag_wins_over_the_host_and_none_turns_profiles_off() {
        let chosen = |c, h| Profile::choose(c, h).map(|p| p.name);
        assert_eq!(chosen(None, Some("imap.gmail.com")), Some("gmail"));
        assert_eq!(
            chosen(Some(ProviderChoice::Icloud), Some("imap.gmail.com")),
            Some("icloud")
        );
        assert_eq!(
            chosen(Some(ProviderChoice::Microsoft365), Some("127.0.0.1")),
            Some("microsoft365")
        );
        assert_eq!(
            chosen(Some(ProviderChoice::None), Some("imap.gmail.com")),
            None
        );
        assert_eq!(chosen(None, None), None);
        // Every choice but none names a profile.
        for c in ProviderChoice::value_variants() {
            assert_eq!(
                Profile::choose(Some(*c), None).is_none(),
                *c == ProviderChoice::None,
                "{c:?}"
            );
        }
    }

    #[test]
    fn every_number_cites_its_source() {
        for p in PROFILES {
            let sources = [
                p.session_cap.map(|l| l.source),
                p.bytes_per_day.map(|l| l.source),
                p.message_size_cap.map(|l| l.source),
            ];
            for s in sources.into_iter().flatten() {
                assert!(s.starts_with("https://"), "{}: {s}", p.name);
            }
        }
        let gmail = Profile::by_name("gmail").unwrap();
        assert_eq!(gmail.bytes_per_day.unwrap().value, 500_000_000);
        assert_eq!(gmail.session_cap.unwrap().value, 15);
        let icloud = Profile::by_name("icloud").unwrap();
        assert_eq!(
            icloud.size_cap(),
            Some(SizeCap {
                bytes: 20 << 20,
                provider: "iCloud Mail"
            })
        );
        assert!(Profile::by_name("gmail").unwrap().size_cap().is_none());
    }

    #[test]
    fn describe_says_every_limit() {
        let lines = Profile::by_name("microsoft365")
            .unwrap()
            .describe()
            .join("\n");
        assert!(lines.contains("largest message in bytes (refused before sending): 36700160"));
        assert!(lines.contains("sessions at once (caps --jobs): 20"));
        assert!(lines.contains("upload bytes per day (--max-bytes-per-day): no published limit"));
        assert!(lines.contains("\\Trash Deleted Items"));
    }
}
