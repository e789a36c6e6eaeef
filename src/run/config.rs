//! `mailhaul config check`: validates the config file with the rules a run
//! applies ([`AccountSettings::check`] for every account, and the
//! environment's secret variables), so that what it calls ok a run accepts.

use std::path::Path;

use anyhow::Context;

use crate::config::{self, AccountSettings, ConfigFile, Environment};
use crate::report::{ExitStatus, sanitize};

use super::{Failure, usage};

/// `mailhaul config check`: parses the config file and checks every
/// account (server URL, files it names, one secret source), naming the bad
/// line or field; also two secret variables set at once.
pub(super) fn run_config_check(
    path: Option<&Path>,
    env: &Environment,
) -> Result<ExitStatus, Failure> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => config::file::default_path()
            .context("cannot find the config file: HOME is not set")
            .map_err(usage)?,
    };
    let file = ConfigFile::load(&path, true).map_err(usage)?;
    let mut problems = Vec::new();
    for (name, account) in &file.accounts {
        if let Err(p) = AccountSettings::check(name, account) {
            problems.extend(p.into_iter().map(|p| format!("{}: {p}", path.display())));
        }
    }
    if let Err(e) = env.secret() {
        problems.push(e.to_string());
    }
    if problems.is_empty() {
        let names: Vec<&str> = file.accounts.keys().map(String::as_str).collect();
        println!(
            "{}: ok ({} account{}{}{})",
            path.display(),
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            if names.is_empty() { "" } else { ": " },
            names.join(", ")
        );
        Ok(ExitStatus::Success)
    } else {
        for p in &problems {
            eprintln!("mailhaul: {}", sanitize(p));
        }
        Ok(ExitStatus::Usage)
    }
}
