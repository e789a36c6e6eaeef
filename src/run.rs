//! Runs one subcommand: resolves settings ([`crate::config`]), calls the
//! pipeline (source → plan → upload) and prints. Every error is printed once,
//! here, with its context chain, and mapped to an exit status.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::CommandFactory;

use std::io::Write as _;

use crate::cli::{
    CheckArgs, Cli, Command, ConfigAction, ScanArgs, ServerArgs, SourceArgs, TargetArgs,
    UploadArgs, VerifyArgs,
};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::config;
use crate::imap::trace::TraceSink;
use crate::imap::{ImapError, Session};
use crate::journal::{self, Journal};
use crate::plan::{BatchLimits, Plan, PlannedFolder, ServerLayout, TargetMap, TargetOptions};
use crate::progress::{Progress, ProgressMode};
use crate::report::{ExitStatus, sanitize};
use crate::source::{self, ReadOptions};
use crate::upload::{self, UploadMode, UploadOptions};
use crate::verify;

/// A failure that ends the run, with the exit status it maps to.
struct Failure {
    status: ExitStatus,
    error: anyhow::Error,
}

fn usage(error: anyhow::Error) -> Failure {
    Failure {
        status: ExitStatus::Usage,
        error,
    }
}

fn connection(error: ImapError) -> Failure {
    Failure {
        status: ExitStatus::Connection,
        error: anyhow::Error::new(error),
    }
}

pub fn run(cli: Cli) -> ExitStatus {
    let result = match cli.command {
        Command::Upload(args) => run_upload(&args),
        Command::Scan(args) => run_scan(&args),
        Command::Check(args) => run_check(&args),
        Command::Verify(args) => run_verify(&args),
        Command::Generate { dir } => generate(&dir).map_err(usage),
        Command::Config {
            action: ConfigAction::Check { config },
        } => run_config_check(config.as_deref()),
    };
    match result {
        Ok(status) => status,
        Err(f) => {
            eprintln!("mailhaul: error: {}", sanitize(&format!("{:#}", f.error)));
            f.status
        }
    }
}

fn target_options(t: &TargetArgs) -> TargetOptions {
    TargetOptions {
        mailbox: t.mailbox.clone(),
        prefix: t.prefix.clone(),
        maps: t.maps.clone(),
        flatten: t.flatten.clone(),
        special_use: !t.no_special_use,
        include: t.include.clone(),
        exclude: t.exclude.clone(),
    }
}

/// Discovers the sources and plans them against what the server said.
fn plan_sources(
    src: &SourceArgs,
    target: &TargetArgs,
    layout: ServerLayout,
) -> Result<(Plan, TargetMap, Vec<String>), Failure> {
    let discovery = source::discover(&src.sources, src.format).map_err(usage)?;
    let map = TargetMap::new(&target_options(target), layout).map_err(usage)?;
    let problems = discovery.problems.iter().map(|p| p.to_string()).collect();
    Ok((map.plan(&discovery.folders), map, problems))
}

/// Learns the server's delimiter, personal namespace and special-use mailboxes.
fn server_layout(session: &mut Session) -> Result<ServerLayout, ImapError> {
    let delimiter = session.delimiter()?;
    let namespace = session.personal_namespace()?;
    let mailboxes = session.list_all()?;
    Ok(ServerLayout::from_server(delimiter, namespace, &mailboxes))
}

/// Prints the plan (source → mailbox, excluded folders) to stderr.
fn print_plan(plan: &Plan, mode: Option<UploadMode>) {
    match mode {
        Some(mode) => eprintln!("mailhaul: plan ({mode}):"),
        None => eprintln!("mailhaul: plan:"),
    }
    for f in &plan.folders {
        eprintln!(
            "  {} → {}",
            sanitize(&f.source.path.display().to_string()),
            sanitize(&f.mailbox)
        );
    }
    for f in &plan.excluded {
        eprintln!(
            "  {} excluded (--include/--exclude)",
            sanitize(&f.path.display().to_string())
        );
    }
}

fn read_options(src: &SourceArgs) -> ReadOptions {
    let takeout = match (src.takeout, src.no_takeout) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    ReadOptions {
        keep_status_headers: src.keep_status_headers,
        date_policy: src.date_policy,
        mbox_variant: src.mbox_variant,
        include_deleted: src.include_deleted,
        takeout,
        takeout_archive: src.takeout_archive.clone(),
        takeout_chats: src.takeout_chats,
        ..ReadOptions::default()
    }
}

fn connect(args: &ServerArgs) -> Result<Session, Failure> {
    let mut settings = server_settings(args)?;
    connect_with(&mut settings)
}

fn connect_with(settings: &mut config::ServerSettings) -> Result<Session, Failure> {
    let session = match Session::connect(&settings.connect) {
        Err(ImapError::Auth(_)) if settings.secret.is_oauth2() => {
            // The token may have expired between the command and the login:
            // ask for a fresh one, once.
            log::info!("token refused; asking the token command for a fresh one");
            settings.refresh_secret().map_err(usage)?;
            Session::connect(&settings.connect).map_err(connection)
        }
        r => r.map_err(connection),
    }?;
    log::info!(
        "logged in; capabilities: {}",
        session.capabilities().0.join(" ")
    );
    Ok(session)
}

fn server_settings(args: &ServerArgs) -> Result<config::ServerSettings, Failure> {
    let mut settings = config::ServerSettings::resolve(args).map_err(usage)?;
    if settings.connect.trace.is_none() && log::log_enabled!(log::Level::Debug) {
        // -vv: the redacted exchange on stderr.
        settings.connect.trace = Some(TraceSink::new(Box::new(std::io::stderr())));
    }
    log::info!(
        "server {}:{} as {} ({})",
        settings.connect.host,
        settings.connect.port,
        settings.connect.user,
        match settings.connect.tls {
            crate::imap::TlsMode::Implicit => "implicit TLS",
            crate::imap::TlsMode::StartTls => "STARTTLS",
        }
    );
    if settings.connect.insecure {
        eprintln!(
            "mailhaul: warning: --insecure: the server's certificate is not verified; anyone on the path can read your mail and password"
        );
    }
    Ok(settings)
}

/// Opens and locks the journal (`--journal`, else the default for this
/// server and user), unless `--no-journal`. A held lock is a usage error (2).
fn open_journal(
    path: Option<&Path>,
    disabled: bool,
    wait: bool,
    server: &crate::imap::ConnectOptions,
) -> Result<Option<Journal>, Failure> {
    if disabled {
        return Ok(None);
    }
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => journal::default_path(&server.user, &server.host, server.port).ok_or_else(|| {
            usage(anyhow::anyhow!(
                "no place for the journal: set XDG_STATE_HOME or HOME, or use --journal PATH or --no-journal"
            ))
        })?,
    };
    let j = Journal::open(&path, wait).map_err(|e| usage(e.into()))?;
    for note in &j.notes {
        eprintln!("mailhaul: warning: {}", sanitize(note));
    }
    Ok(Some(j))
}

/// SIGINT/SIGTERM set the returned flag (the upload stops before its next
/// command, journals, prints the summary and exits 130); a second signal
/// exits at once with 130 (the journal is synced after every batch).
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals; these are allowed.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

/// `mailhaul config check`: parses the config file and validates every
/// account (server URL, files it names), naming the bad line or field.
fn run_config_check(path: Option<&Path>) -> Result<ExitStatus, Failure> {
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

fn source_bytes(folders: &[PlannedFolder]) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    folders
        .iter()
        .map(|f| {
            let dir_size = |dir: &Path| -> u64 {
                std::fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            };
            match f.source.kind {
                source::FolderKind::Mbox => size(&f.source.path),
                source::FolderKind::Maildir => ["cur", "new"]
                    .iter()
                    .map(|d| dir_size(&f.source.path.join(d)))
                    .sum(),
                source::FolderKind::Eml if f.source.path.is_file() => size(&f.source.path),
                source::FolderKind::Eml => dir_size(&f.source.path),
            }
        })
        .sum()
}

fn run_upload(args: &UploadArgs) -> Result<ExitStatus, Failure> {
    // Read the sources' layout first: a typo in a path should not cost a login.
    source::discover(&args.source.sources, args.source.format).map_err(usage)?;
    let mut settings = server_settings(&args.server)?;
    let mut journal = if args.dry_run {
        None
    } else {
        open_journal(
            args.journal.as_deref(),
            args.no_journal,
            args.wait_lock,
            &settings.connect,
        )?
    };
    let stop = stop_flag();
    let mut session = connect_with(&mut settings)?;
    let layout = server_layout(&mut session).map_err(connection)?;
    let (plan, map, problems) = plan_sources(&args.source, &args.target, layout)?;
    let mode = UploadMode::choose(session.capabilities(), !args.no_multiappend);
    log::info!("upload mode: {mode}");
    if args.dry_run {
        session.logout();
        let mut scan = crate::scan::scan(&plan, &map, &read_options(&args.source));
        scan.warnings.extend(problems);
        return print_scan(&scan, args.json, Some(mode));
    }
    if !args.quiet && !args.json {
        print_plan(&plan, Some(mode));
    }
    let opts = UploadOptions {
        limits: BatchLimits {
            max_messages: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
            max_bytes: args.batch_bytes,
        },
        allow_multiappend: !args.no_multiappend,
        read: read_options(&args.source),
        skip_existing: args.skip_existing,
        retries: args.retries,
        failed_out: args.failed_out.clone(),
        stop,
    };
    let mode = if args.json_progress {
        ProgressMode::Json
    } else if args.quiet || args.json {
        ProgressMode::Hidden
    } else {
        ProgressMode::Auto
    };
    let progress = Progress::new(source_bytes(&plan.folders), mode);
    let reconnect = || Session::connect(&settings.connect);
    let mut report = upload::upload(
        session,
        &reconnect,
        journal.as_mut(),
        &plan.folders,
        &map,
        &opts,
        &progress,
    );
    report.warnings.extend(problems);
    let printed = if args.json {
        let mut out = std::io::stdout();
        serde_json::to_writer_pretty(&mut out, &report.to_json())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        report.print(args.quiet)
    };
    printed.context("cannot write the report").map_err(usage)?;
    Ok(report.exit_status())
}

/// `mailhaul verify`: see [`crate::verify`].
fn run_verify(args: &VerifyArgs) -> Result<ExitStatus, Failure> {
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

fn run_scan(args: &ScanArgs) -> Result<ExitStatus, Failure> {
    let (plan, map, problems) = plan_sources(&args.source, &args.target, ServerLayout::offline())?;
    let mut report = crate::scan::scan(&plan, &map, &read_options(&args.source));
    report.warnings.extend(problems);
    print_scan(&report, args.json, None)
}

/// Prints a scan (for `scan` and `upload --dry-run`); exit 1 when some
/// messages could not be sent.
fn print_scan(
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
    Ok(if report.errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Partial
    })
}

fn run_check(args: &CheckArgs) -> Result<ExitStatus, Failure> {
    let mut session = connect(&args.server)?;
    let caps = session.capabilities().clone();
    let delimiter = session.delimiter().map_err(connection)?;
    let namespace = session.personal_namespace().map_err(connection)?;
    let mailboxes = session.list_all().map_err(connection)?;
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
    session.logout();
    Ok(ExitStatus::Success)
}

/// Writes completions (bash, zsh, fish, elvish, powershell) and the man page.
pub fn generate(dir: &Path) -> anyhow::Result<ExitStatus> {
    for (path, bytes) in generated_files()? {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitStatus::Success)
}

/// The generated files, as (relative path, contents), from the clap definition.
pub fn generated_files() -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    use clap_complete::Shell;
    let mut files = Vec::new();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "mailhaul", &mut out);
        let name = match shell {
            Shell::Bash => "mailhaul.bash",
            Shell::Zsh => "_mailhaul",
            Shell::Fish => "mailhaul.fish",
            Shell::Elvish => "mailhaul.elv",
            _ => "_mailhaul.ps1",
        };
        files.push((Path::new("completions").join(name), out));
    }
    files.push((PathBuf::from("man/mailhaul.1"), man_page()?));
    Ok(files)
}

/// Sections of the man page that the option list cannot carry.
const MAN_EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Every message was uploaded (for scan and check: nothing went wrong).
.TP
\fB1\fR
Some messages could not be uploaded or read; each is named on stderr with the reason.
.TP
\fB2\fR
Usage or configuration error (bad option, unreadable source path or password file).
.TP
\fB3\fR
Connection, TLS or authentication failure, including a connection lost during the upload
and not restored after \fB\-\-retries\fR reconnections.
.TP
\fB130\fR
Interrupted by SIGINT (Ctrl-C) or SIGTERM: the command in flight was allowed to finish, what
landed is journaled, the summary is printed. A second signal exits at once. Run the same
command again to finish.
.SH JOURNAL
Every message confirmed by the server is recorded (SHA-256 of the bytes sent, target mailbox,
UIDVALIDITY, UID) in an append-only journal, synced to disk after each batch; a rerun skips
what is journaled, so a run that stopped for any reason is finished by running it again.
Before each batch the mailbox's STATUS is journaled; a batch whose answer never came is
resolved by reading back the new messages and comparing fingerprints, and only the missing
ones are sent again. If a mailbox's UIDVALIDITY changed, its entries are not trusted and the
server's messages are checked instead. Default location:
\fI$XDG_STATE_HOME/mailhaul/USER@HOST:PORT.journal\fR (else \fI~/.local/state/mailhaul/\fR);
\fB\-\-journal\fR and \fB\-\-no\-journal\fR change that. A lock keeps two runs from using
one journal: the second exits with code 2, or waits with \fB\-\-wait\-lock\fR.
.SH "INTERNAL DATES"
The internal date of a message is taken from, in order: the mbox From_ line; the top-most
Received header (the final delivery hop); the Date header; the Maildir file name's timestamp;
the file's modification time. A date in the future or before 1900 falls through to the next.
.SH FLAGS
Maildir info letters after :2, (also !2, and ;2,): P $Forwarded, R \eAnswered, S \eSeen,
T \eDeleted, D \eDraft, F \eFlagged; a\(enz name keywords from dovecot-keywords.
mbox: Status R gives \eSeen; X-Status A \eAnswered, F \eFlagged, T \eDraft, D \eDeleted;
X-Mozilla-Status bits 0x1 \eSeen, 0x2 \eAnswered, 0x4 \eFlagged, 0x1000 $Forwarded;
X-Keywords and X-Mozilla-Keys give keywords. These client-state headers are removed from the
uploaded message unless \fB\-\-keep\-status\-headers\fR is given; nothing else is changed
except line ends, which are sent as CRLF.
.SH FOLDERS
A single mbox file becomes a mailbox named after the file; a Maildir++ root is INBOX and its
folder .A.B becomes A/B; in a directory of mbox files, each file is a mailbox and directories
are hierarchy. Names are mapped onto the server's hierarchy delimiter; \fB\-\-prefix\fR
puts the tree under a mailbox, \fB\-\-mailbox\fR puts everything into one.
.SH ENVIRONMENT
.TP
\fBMAILHAUL_PASSWORD\fR
The password, when neither \fB\-\-password\-file\fR nor \fB\-\-password\-command\fR is given.
.TP
\fBMAILHAUL_SERVER\fR
The server URL, when \fB\-\-server\fR is not given.
.TP
\fBNO_COLOR\fR
Disables colour in the progress bar.
"#;

/// One man page for the whole tool: the top level, then each subcommand's
/// options, then the sections above.
fn man_page() -> anyhow::Result<Vec<u8>> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("mailhaul {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let sub = sub.clone().bin_name(name);
        let page = clap_mangen::Man::new(sub);
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
    }
    out.extend_from_slice(MAN_EXTRA.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed completions and man page match the current CLI.
    #[test]
    fn generated_files_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, want) in generated_files().unwrap() {
            let have = std::fs::read(root.join(&path)).unwrap_or_default();
            assert!(
                have == want,
                "{} is out of date with the CLI; regenerate with: cargo run -- generate .",
                path.display()
            );
        }
    }
}
