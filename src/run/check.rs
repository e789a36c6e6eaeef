//! `mailhaul check`: connects and says what the server offers
//! (capabilities, upload mode, delimiter, namespace, special-use mailboxes)
//! and the provider profile that applies, with its limits and their sources;
//! as text, or with `--json` as one document. Exit 0; 4 when the provider's
//! daily quota refuses the login (the account is locked until the quota
//! resets); 3 for any other failure to connect or log in.

use crate::cli::CheckArgs;
use crate::config::{Environment, Login};
use crate::imap::Capabilities;
use crate::provider::Profile;
use crate::report::{ExitStatus, sanitize};
use crate::upload::UploadMode;

use super::settings::{resolve_profile, resolve_server};
use super::setup::connect_and;
use super::{Failure, connection};

/// What `check` found, said once as text or as JSON.
struct Findings {
    caps: Capabilities,
    delimiter: Option<char>,
    /// The personal namespace's prefix.
    namespace: Option<String>,
    /// (attribute, mailbox) of every special-use mailbox LIST gave.
    special_use: Vec<(String, String)>,
    profile: Option<&'static Profile>,
}

pub(super) fn run_check(args: &CheckArgs, env: &Environment) -> Result<ExitStatus, Failure> {
    let settings = resolve_server(&args.server, env)?;
    let profile = resolve_profile(args.server.provider, Some(&settings.connect.host));
    let first =
        |s: &mut crate::imap::Session| Ok((s.delimiter()?, s.personal_namespace()?, s.list_all()?));
    let (session, (delimiter, namespace, mailboxes)) = match connect_and(
        &Login::new(&settings),
        first,
    ) {
        Ok(s) => s,
        Err(e) => match crate::upload::quota_refusal(&e) {
            Some(why) => {
                let line = format!(
                    "the server refused the login ({}); uploads continue once the provider's quota resets (Gmail: within 24 hours)",
                    sanitize(&why)
                );
                if args.json {
                    print_json(serde_json::json!({
                        "kind": "check",
                        "daily_quota_used_up": line,
                        "exit_code": ExitStatus::Quota.code(),
                    }));
                } else {
                    println!("daily quota: used up: {line}");
                }
                return Ok(ExitStatus::Quota);
            }
            None => return Err(connection(e)),
        },
    };
    let special_use = mailboxes
        .iter()
        .flat_map(|m| {
            m.attributes
                .iter()
                .filter(|a| crate::plan::special_use::Role::from_attribute(a).is_some())
                .map(move |a| (a.to_string(), m.name.clone()))
        })
        .collect();
    let found = Findings {
        caps: session.capabilities().clone(),
        delimiter,
        namespace: namespace.map(|(prefix, _)| prefix),
        special_use,
        profile,
    };
    session.logout();
    if args.json {
        print_json(found.to_json());
    } else {
        for line in found.lines() {
            println!("{line}");
        }
    }
    Ok(ExitStatus::Success)
}

fn print_json(mut doc: serde_json::Value) {
    doc["schema"] = crate::scan::JSON_SCHEMA.into();
    println!("{doc}");
}

impl Findings {
    fn mode(&self) -> UploadMode {
        UploadMode::choose(&self.caps, true)
    }

    /// The profile's size cap gives way to an advertised APPENDLIMIT.
    fn cap_overridden(&self) -> Option<(u64, u64)> {
        let cap = self.profile?.message_size_cap?;
        Some((self.caps.append_limit()?, cap.value))
    }

    fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("capabilities: {}", sanitize(&self.caps.0.join(" "))),
            format!("upload mode: {}", self.mode()),
            format!(
                "hierarchy delimiter: {}",
                self.delimiter
                    .map_or("none (flat)".to_string(), |d| format!("{d:?}"))
            ),
            // Courier and Cyrus (default namespace) put personal mailboxes
            // under `INBOX.`: new mailboxes are created there.
            format!(
                "personal namespace: {}",
                self.namespace
                    .as_ref()
                    .map_or("not advertised".to_string(), |p| sanitize(&format!(
                        "{p:?}"
                    )))
            ),
            format!(
                "special-use mailboxes: {}",
                if self.special_use.is_empty() {
                    "none".to_string()
                } else {
                    let each: Vec<String> = self
                        .special_use
                        .iter()
                        .map(|(a, m)| format!("{a} {m}"))
                        .collect();
                    sanitize(&each.join(", "))
                }
            ),
            format!(
                "APPENDLIMIT: {}",
                self.caps
                    .append_limit()
                    .map_or("not advertised".to_string(), |n| format!("{n} bytes"))
            ),
        ];
        if !self.caps.has("UIDPLUS") {
            out.push("warning: no UIDPLUS: uploads cannot be matched to server UIDs".into());
        }
        match self.profile {
            Some(p) => {
                out.extend(p.describe());
                if let Some((limit, cap)) = self.cap_overridden() {
                    out.push(format!(
                        "  the server advertises APPENDLIMIT {limit}: it is used instead of the profile's {cap}"
                    ));
                }
            }
            None => out.push("provider: none (no profile; --provider NAME to choose one)".into()),
        }
        out
    }

    fn to_json(&self) -> serde_json::Value {
        let mut profile = self.profile.map(Profile::to_json);
        if let (Some(p), Some((limit, _))) = (profile.as_mut(), self.cap_overridden()) {
            p["message_size_cap_overridden_by_appendlimit"] = limit.into();
        }
        serde_json::json!({
            "kind": "check",
            "capabilities": self.caps.0,
            "upload_mode": self.mode().to_string(),
            "delimiter": self.delimiter.map(String::from),
            "personal_namespace": self.namespace,
            "special_use": self
                .special_use
                .iter()
                .map(|(a, m)| serde_json::json!({ "attribute": a, "mailbox": m }))
                .collect::<Vec<_>>(),
            "append_limit": self.caps.append_limit(),
            "uidplus": self.caps.has("UIDPLUS"),
            "provider": profile,
            "exit_code": ExitStatus::Success.code(),
        })
    }
}
