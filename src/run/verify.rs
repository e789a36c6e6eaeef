//! `mailhaul verify`: compares the sources with the server, see
//! [`crate::verify`].

use crate::cli::VerifyArgs;
use crate::config::{Environment, Login};
use crate::report::{ExitStatus, sanitize};
use crate::verify;

use super::settings::VerifySettings;
use super::setup::{connect_and, server_layout};
use super::{Failure, connection};

/// `mailhaul verify`: see [`crate::verify`].
pub(super) fn run_verify(args: &VerifyArgs, env: &Environment) -> Result<ExitStatus, Failure> {
    let settings = VerifySettings::resolve(args, env)?;
    let journal = settings.journal.as_ref().map(|j| j.open()).transpose()?;
    let (mut session, layout) =
        connect_and(&Login::new(&settings.server), server_layout).map_err(connection)?;
    let (plan, map, problems) = settings.sources.plan(layout)?;
    for p in &problems.warnings {
        eprintln!("mailhaul: warning: {}", sanitize(p));
    }
    for line in problems.unreadable_lines() {
        eprintln!("mailhaul: {}", sanitize(&line));
    }
    let (checks, unreadable) = verify::verify(
        &mut session,
        &plan.folders,
        &map,
        &settings.sources.read,
        journal.as_ref(),
        settings.size_cap,
    )
    .map_err(connection)?;
    session.logout();
    let unreadable = unreadable + problems.unreadable.len();
    let status = if checks.iter().all(|c| c.is_exact()) && unreadable == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    };
    if args.json {
        let doc = verify::to_json(&checks, unreadable, status.code());
        println!("{doc:#}");
    } else {
        for c in &checks {
            print!("{}", c.render());
        }
    }
    Ok(status)
}
