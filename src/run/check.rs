//! `mailhaul check`: connects and prints what the server offers
//! (capabilities, upload mode, delimiter, namespace, special-use mailboxes)
//! and the provider profile that applies, with its limits and their sources.
//! Exit 0; 4 when the provider's daily quota refuses the login (the
//! account is locked until the quota resets); 3 for any other failure to
//! connect or log in.

use crate::cli::CheckArgs;
use crate::config::{Environment, Login};
use crate::report::{ExitStatus, sanitize};
use crate::upload::UploadMode;

use super::settings::{resolve_profile, resolve_server};
use super::setup::connect_and;
use super::{Failure, connection};

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
                println!(
                    "daily quota: used up: the server refused the login ({}); uploads continue once the provider's quota resets (Gmail: within 24 hours)",
                    sanitize(&why)
                );
                return Ok(ExitStatus::Quota);
            }
            None => return Err(connection(e)),
        },
    };
    let caps = session.capabilities().clone();
    println!("capabilities: {}", sanitize(&caps.0.join(" ")));
    println!("upload mode: {}", UploadMode::choose(&caps, true));
    println!(
        "hierarchy delimiter: {}",
        delimiter.map_or("none (flat)".to_string(), |d| format!("{d:?}"))
    );
    // Courier and Cyrus (default namespace) put personal mailboxes under
    // `INBOX.`: new mailboxes are created there.
    println!(
        "personal namespace: {}",
        namespace.map_or("not advertised".to_string(), |(p, _)| sanitize(&format!(
            "{p:?}"
        )))
    );
    let special: Vec<String> = mailboxes
        .iter()
        .flat_map(|m| {
            m.attributes
                .iter()
                .filter(|a| crate::plan::special_use::Role::from_attribute(a).is_some())
                .map(move |a| format!("{a} {}", m.name))
        })
        .collect();
    println!(
        "special-use mailboxes: {}",
        if special.is_empty() {
            "none".to_string()
        } else {
            sanitize(&special.join(", "))
        }
    );
    println!(
        "APPENDLIMIT: {}",
        caps.append_limit()
            .map_or("not advertised".to_string(), |n| format!("{n} bytes"))
    );
    if !caps.has("UIDPLUS") {
        println!("warning: no UIDPLUS: uploads cannot be matched to server UIDs");
    }
    match profile {
        Some(p) => {
            for line in p.describe() {
                println!("{line}");
            }
            if let (Some(cap), Some(limit)) = (p.message_size_cap, caps.append_limit()) {
                println!(
                    "  the server advertises APPENDLIMIT {limit}: it is used instead of the profile's {}",
                    cap.value
                );
            }
        }
        None => println!("provider: none (no profile; --provider NAME to choose one)"),
    }
    session.logout();
    Ok(ExitStatus::Success)
}
