//! `mailhaul config check`: validates the config file.

use std::path::Path;

use anyhow::Context;

use crate::config;
use crate::report::{ExitStatus, sanitize};

use super::{Failure, usage};

/// `mailhaul config check`: parses the config file and validates every
/// account (server URL, files it names), naming the bad line or field.
pub(super) fn run_config_check(path: Option<&Path>) -> Result<ExitStatus, Failure> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => config::file::default_path()
            .context("cannot find the config file: HOME is not set")
            .map_err(usage)?,
    };
    let file = config::ConfigFile::load(&path, true).map_err(usage)?;
    let mut problems = Vec::new();
    for (name, account) in &file.accounts {
        if let Some(server) = &account.server
            && let Err(e) = config::ServerUrl::parse(server)
        {
            problems.push(format!("[accounts.{name}] server: {e:#}"));
        }
        for (key, p) in [
            ("password_file", &account.password_file),
            ("ca_file", &account.ca_file),
        ] {
            if let Some(p) = p
                && let Err(e) = std::fs::metadata(p)
            {
                problems.push(format!("[accounts.{name}] {key} {}: {e}", p.display()));
            }
        }
        let secrets = [
            account.password_file.is_some(),
            account.password_command.is_some(),
            account.oauth2_token_command.is_some(),
        ];
        if secrets.iter().filter(|s| **s).count() > 1 {
            problems.push(format!(
                "[accounts.{name}]: give only one of password_file, password_command, oauth2_token_command"
            ));
        }
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
            eprintln!("mailhaul: {}: {}", path.display(), sanitize(p));
        }
        Ok(ExitStatus::Usage)
    }
}
