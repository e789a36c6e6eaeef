//! What the subcommands share: reading the options into the library's
//! settings, connecting (with one OAuth2 token refresh), learning the
//! server's layout, planning the sources against it, opening the journal.

use std::path::Path;

use crate::cli::{ServerArgs, SourceArgs, TargetArgs};
use crate::config;
use crate::imap::trace::TraceSink;
use crate::imap::{ImapError, Session};
use crate::journal::{self, Journal};
use crate::plan::{Plan, ServerLayout, TargetMap, TargetOptions};
use crate::report::sanitize;
use crate::source::{self, ReadOptions};

use super::{Failure, connection, usage};

pub(super) fn target_options(t: &TargetArgs) -> TargetOptions {
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
pub(super) fn plan_sources(
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
pub(super) fn server_layout(session: &mut Session) -> Result<ServerLayout, ImapError> {
    let delimiter = session.delimiter()?;
    let namespace = session.personal_namespace()?;
    let mailboxes = session.list_all()?;
    Ok(ServerLayout::from_server(delimiter, namespace, &mailboxes))
}

pub(super) fn read_options(src: &SourceArgs) -> ReadOptions {
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

pub(super) fn connect(args: &ServerArgs) -> Result<Session, Failure> {
    let mut settings = server_settings(args)?;
    connect_with(&mut settings)
}

pub(super) fn connect_with(settings: &mut config::ServerSettings) -> Result<Session, Failure> {
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

pub(super) fn server_settings(args: &ServerArgs) -> Result<config::ServerSettings, Failure> {
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
pub(super) fn open_journal(
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
