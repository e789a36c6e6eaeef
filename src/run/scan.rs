//! `mailhaul scan` (no server) and the printing of a scan, shared with
//! `upload --dry-run`.

use std::io::Write as _;

use anyhow::Context;

use crate::cli::ScanArgs;
use crate::plan::{ServerFacts, ServerLayout};
use crate::report::{ExitStatus, sanitize};
use crate::upload::UploadMode;

use super::settings::ScanSettings;
use super::{Failure, usage};

pub(super) fn run_scan(args: &ScanArgs) -> Result<ExitStatus, Failure> {
    let settings = ScanSettings::resolve(args)?;
    let sources = &settings.sources;
    let (plan, map, problems) = sources.plan(ServerLayout::offline())?;
    let mut report = crate::scan::scan(
        &plan,
        &map,
        &sources.read,
        &ServerFacts::unknown().with_size_cap(settings.size_cap),
    );
    report.errors.extend(problems.unreadable_lines());
    report.warnings.extend(problems.warnings);
    print_scan(&report, settings.json, None)
}

/// Prints a scan (for `scan` and `upload --dry-run`); exit 1 when some
/// messages could not be sent.
pub(super) fn print_scan(
    report: &crate::scan::ScanReport,
    json: bool,
    mode: Option<UploadMode>,
) -> Result<ExitStatus, Failure> {
    let mut out = std::io::stdout();
    let written = if json {
        let mut doc = report.to_json();
        if let Some(mode) = mode {
            doc["mode"] = serde_json::Value::String(mode.to_string());
        }
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        if let Some(mode) = mode {
            println!("upload mode: {mode}");
        }
        out.write_all(report.render().as_bytes())
    };
    written.context("cannot write the scan").map_err(usage)?;
    if !json {
        for e in &report.errors {
            eprintln!("mailhaul: {}", sanitize(e));
        }
        for w in &report.warnings {
            eprintln!("mailhaul: warning: {}", sanitize(w));
        }
    }
    Ok(report.exit_status())
}
