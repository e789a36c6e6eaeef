//! `mailhaul verify`: compares the sources with the server, see
//! [`crate::verify`].

use crate::cli::VerifyArgs;
use crate::report::{ExitStatus, sanitize};
use crate::source;
use crate::verify;

use super::setup::{
    connect_with, open_journal, plan_sources, read_options, server_layout, server_settings,
};
use super::{Failure, connection, usage};

/// `mailhaul verify`: see [`crate::verify`].
pub(super) fn run_verify(args: &VerifyArgs) -> Result<ExitStatus, Failure> {
    source::discover(&args.source.sources, args.source.format).map_err(usage)?;
    let mut settings = server_settings(&args.server)?;
    let journal = open_journal(
        args.journal.as_deref(),
        args.no_journal,
        false,
        &settings.connect,
    )?;
    let mut session = connect_with(&mut settings)?;
    let layout = server_layout(&mut session).map_err(connection)?;
    let (plan, map, problems) = plan_sources(&args.source, &args.target, layout)?;
    for p in &problems {
        eprintln!("mailhaul: warning: {}", sanitize(p));
    }
    let (checks, unreadable) = verify::verify(
        &mut session,
        &plan.folders,
        &map,
        &read_options(&args.source),
        journal.as_ref(),
    )
    .map_err(connection)?;
    let mut exact = true;
    for c in &checks {
        print!("{}", c.render());
        exact &= c.is_exact();
    }
    session.logout();
    Ok(if exact && unreadable == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}
