//! Each subcommand's settings, resolved once from what the user typed
//! ([`crate::cli`]), the [`Environment`] and the config file, before
//! anything else happens (ripgrep's `LowArgs` → `HiArgs`). The pipeline
//! never sees clap's types, and no fact is decided twice: the sources are
//! discovered here and the discovery is passed on; [`UploadOptions`] is
//! built in [`UploadSettings::resolve`] and nowhere else.
//!
//! Resolving may touch the system, in this order: the sources are
//! discovered first (a typo in a path should not cost a password command
//! or a login), then the server settings are resolved (the secret read,
//! the `--trace` file created), then the journal's place is chosen. The
//! journal is opened (and locked) by the subcommand, before it connects.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::cli::{ScanArgs, ServerArgs, SourceArgs, TargetArgs, UploadArgs, VerifyArgs};
use crate::config::{ConfigFile, Environment, SecretCommandFailed, ServerSettings};
use crate::imap::trace::TraceSink;
use crate::imap::{ConnectOptions, TlsMode};
use crate::journal::{self, Durability, Journal};
use crate::plan::{BatchLimits, Plan, ServerLayout, TargetMap, TargetOptions};
use crate::progress::ProgressMode;
use crate::provider::{Profile, ProviderChoice, SizeCap};
use crate::report::{ExitStatus, UnreadableFile, sanitize};
use crate::source::{self, Discovery, ReadOptions};
use crate::upload::{Throttle, UploadOptions};

use super::{Failure, usage};

/// What is read and where it goes: for `scan`, `upload` and `verify`.
pub(super) struct SourceSettings {
    /// The folders found under the SOURCE paths, and the files skipped.
    pub discovery: Discovery,
    pub read: ReadOptions,
    pub target: TargetOptions,
}

impl SourceSettings {
    fn resolve(src: &SourceArgs, target: &TargetArgs) -> Result<SourceSettings, Failure> {
        let discover = source::DiscoverOptions {
            apple_imap_caches: src.apple_imap_caches,
        };
        let discovery = source::discover_with(&src.sources, src.format, discover).map_err(usage)?;
        let takeout = match (src.takeout, src.no_takeout) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        Ok(SourceSettings {
            discovery,
            read: ReadOptions {
                keep_status_headers: src.keep_status_headers,
                date_policy: src.date_policy,
                mbox_variant: src.mbox_variant,
                include_deleted: src.include_deleted,
                takeout,
                takeout_archive: src.takeout_archive.clone(),
                takeout_chats: src.takeout_chats,
                ..ReadOptions::default()
            },
            target: TargetOptions {
                mailbox: target.mailbox.clone(),
                prefix: target.prefix.clone(),
                maps: target.maps.clone(),
                flatten: target.flatten.clone(),
                special_use: !target.no_special_use,
                include: target.include.clone(),
                exclude: target.exclude.clone(),
            },
        })
    }

    /// Plans the discovered folders against the server's layout; with the
    /// discovery's problems.
    pub fn plan(&self, layout: ServerLayout) -> Result<(Plan, TargetMap, SourceProblems), Failure> {
        let map = TargetMap::new(&self.target, layout).map_err(usage)?;
        let problems = SourceProblems {
            warnings: self
                .discovery
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect(),
            unreadable: self
                .discovery
                .unreadable
                .iter()
                .map(|p| UnreadableFile {
                    path: p.origin.path.display().to_string(),
                    reason: p.reason.clone(),
                })
                .collect(),
        };
        Ok((map.plan(&self.discovery.folders), map, problems))
    }
}

/// What discovery saw and will not upload, as a run reports it.
#[derive(Debug, Default)]
pub struct SourceProblems {
    /// Files that are no mail, and other notes: warnings.
    pub warnings: Vec<String>,
    /// Files recognised as mail that cannot be read: they fail the run
    /// (exit 1), the rest is still uploaded.
    pub unreadable: Vec<UnreadableFile>,
}

impl SourceProblems {
    /// `path: reason` lines of the unreadable files, as `scan` lists its
    /// problems.
    pub fn unreadable_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.unreadable.iter().map(UnreadableFile::line)
    }
}

/// The server settings with what the run adds: the config file read (the
/// default one only if it exists), `-vv`'s trace on stderr, the log line,
/// the `--insecure` warning. For `check`, `upload` and `verify`.
pub(super) fn resolve_server(
    args: &ServerArgs,
    env: &Environment,
) -> Result<ServerSettings, Failure> {
    let config = ConfigFile::for_run(args.config.as_deref()).map_err(usage)?;
    let mut settings = ServerSettings::resolve(args, env, &config).map_err(|error| {
        // A password or token command that failed: no login possible (3).
        match error.downcast_ref::<SecretCommandFailed>() {
            Some(_) => Failure {
                status: ExitStatus::Connection,
                error,
            },
            None => usage(error),
        }
    })?;
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
            TlsMode::Implicit => "implicit TLS",
            TlsMode::StartTls => "STARTTLS",
        }
    );
    if settings.connect.insecure {
        eprintln!(
            "mailhaul: warning: --insecure: the server's certificate is not verified; anyone on the path can read your mail and password"
        );
    }
    Ok(settings)
}

/// The provider profile for a run: `--provider`, else recognised from the
/// server's host name (`None` for `--provider none` or an unknown host).
pub(super) fn resolve_profile(
    choice: Option<ProviderChoice>,
    host: Option<&str>,
) -> Option<&'static Profile> {
    let profile = Profile::choose(choice, host);
    if let Some(p) = profile {
        log::info!(
            "provider profile: {} ({})",
            p.title,
            if choice.is_some() {
                "--provider"
            } else {
                "recognised from the host name"
            }
        );
    }
    profile
}

/// `--jobs` within the provider's session cap: more sessions than it
/// allows would be refused ("Too many simultaneous connections").
fn jobs_within(jobs: usize, profile: Option<&Profile>) -> usize {
    match profile.and_then(|p| p.session_cap.map(|c| (p, c.value))) {
        Some((p, cap)) if jobs > cap => {
            eprintln!(
                "mailhaul: warning: --jobs {jobs} lowered to {cap}: {} allows {cap} sessions at once (--provider none to keep {jobs})",
                p.title
            );
            cap
        }
        _ => jobs,
    }
}

/// Where the journal is and how its lock is taken.
pub(super) struct JournalSettings {
    pub path: PathBuf,
    /// `--wait-lock`: wait while another run holds it.
    pub wait: bool,
    /// Synced before each batch is sent with `--allow-duplicates` (the
    /// journal is then the only guard against doubling), else while it travels.
    pub durability: Durability,
}

impl JournalSettings {
    /// `--journal PATH`, else the default for this server and user; `None`
    /// with `--no-journal`.
    fn resolve(
        path: Option<&Path>,
        disabled: bool,
        wait: bool,
        server: &ConnectOptions,
    ) -> Result<Option<JournalSettings>, Failure> {
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
        Ok(Some(JournalSettings {
            path,
            wait,
            durability: Durability::default(),
        }))
    }

    /// Opens and locks the journal; a held lock is a usage error (2).
    pub fn open(&self) -> Result<Journal, Failure> {
        let j = Journal::open_with(&self.path, self.wait, self.durability)
            .map_err(|e| usage(e.into()))?;
        for note in &j.notes {
            eprintln!("mailhaul: warning: {}", sanitize(note));
        }
        Ok(j)
    }
}

/// `mailhaul scan`.
pub(super) struct ScanSettings {
    pub sources: SourceSettings,
    pub json: bool,
    /// `--provider`'s message size cap.
    pub size_cap: Option<SizeCap>,
}

impl ScanSettings {
    pub fn resolve(args: &ScanArgs) -> Result<ScanSettings, Failure> {
        Ok(ScanSettings {
            sources: SourceSettings::resolve(&args.source, &args.target)?,
            json: args.json,
            size_cap: resolve_profile(args.provider, None).and_then(Profile::size_cap),
        })
    }
}

/// `mailhaul verify`.
pub(super) struct VerifySettings {
    pub sources: SourceSettings,
    pub server: ServerSettings,
    pub journal: Option<JournalSettings>,
    /// The provider's message size cap: what the upload refused is not expected.
    pub size_cap: Option<SizeCap>,
}

impl VerifySettings {
    pub fn resolve(args: &VerifyArgs, env: &Environment) -> Result<VerifySettings, Failure> {
        let sources = SourceSettings::resolve(&args.source, &args.target)?;
        let server = resolve_server(&args.server, env)?;
        let journal = JournalSettings::resolve(
            args.journal.as_deref(),
            args.no_journal,
            false,
            &server.connect,
        )?;
        let size_cap = resolve_profile(args.server.provider, Some(&server.connect.host))
            .and_then(Profile::size_cap);
        Ok(VerifySettings {
            sources,
            server,
            journal,
            size_cap,
        })
    }
}

/// `mailhaul upload`.
pub(super) struct UploadSettings {
    pub sources: SourceSettings,
    pub server: ServerSettings,
    /// `None` with `--no-journal` or `--dry-run`.
    pub journal: Option<JournalSettings>,
    pub dry_run: bool,
    /// `--json`: the report as one JSON document on stdout.
    pub json: bool,
    /// `--quiet`: no plan, no summary.
    pub quiet: bool,
    pub progress: ProgressMode,
    /// What the upload engine is told; its `stop` flag is the one the
    /// signal handlers set.
    pub upload: UploadOptions,
}

impl UploadSettings {
    pub fn resolve(args: &UploadArgs, env: &Environment) -> Result<UploadSettings, Failure> {
        let sources = SourceSettings::resolve(&args.source, &args.target)?;
        let server = resolve_server(&args.server, env)?;
        let journal = if args.dry_run {
            None
        } else {
            JournalSettings::resolve(
                args.journal.as_deref(),
                args.no_journal,
                args.wait_lock,
                &server.connect,
            )?
            .map(|j| JournalSettings {
                durability: if args.allow_duplicates {
                    Durability::BeforeSend
                } else {
                    Durability::Overlapped
                },
                ..j
            })
        };
        let profile = resolve_profile(args.server.provider, Some(&server.connect.host));
        let throttle = Throttle::new(args.max_rate, args.max_bytes_rate);
        let limits = BatchLimits {
            max_messages: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
            max_bytes: args.batch_bytes,
        };
        let upload = UploadOptions {
            limits: throttle.as_ref().map_or(limits, |t| t.cap(limits)),
            allow_multiappend: !args.no_multiappend,
            read: sources.read.clone(),
            allow_duplicates: args.allow_duplicates,
            retries: args.retries,
            failed_out: args.failed_out.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            throttle: throttle.map(Arc::new),
            jobs: jobs_within(args.jobs, profile),
            unordered: args.unordered,
            // Explicit flags win over the profile's defaults.
            max_bytes_per_day: args
                .max_bytes_per_day
                .or_else(|| profile?.bytes_per_day.map(|l| l.value)),
            session_cap: profile.and_then(|p| p.session_cap.map(|l| l.value)),
            size_cap: profile.and_then(Profile::size_cap),
            max_throttle_wait: std::time::Duration::from_secs(args.max_throttle_wait),
            start_rate: None,
        };
        let progress = ProgressMode::of_flags(args.json_progress, args.quiet || args.json);
        Ok(UploadSettings {
            sources,
            server,
            journal,
            dry_run: args.dry_run,
            json: args.json,
            quiet: args.quiet,
            progress,
            upload,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    /// A source, a password file and an empty config file in `dir`, and
    /// `mailhaul upload` over them with `extra` flags.
    fn upload_args(dir: &Path, extra: &[&str]) -> UploadArgs {
        let mbox = dir.join("a.mbox");
        std::fs::write(
            &mbox,
            "From a@b Mon Jan  6 09:15:00 2020\nSubject: x\n\nbody\n",
        )
        .unwrap();
        std::fs::write(dir.join("pw"), "secret\n").unwrap();
        std::fs::write(dir.join("config.toml"), "").unwrap();
        let path = |name: &str| dir.join(name).display().to_string();
        let mut argv = vec![
            "mailhaul".to_string(),
            "upload".into(),
            path("a.mbox"),
            "--server".into(),
            "imaps://me@127.0.0.1:9".into(),
            "--config".into(),
            path("config.toml"),
            "--journal".into(),
            path("j.journal"),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        if !extra.contains(&"--password-command") {
            argv.extend(["--password-file".into(), path("pw")]);
        }
        match Cli::parse_from(argv).command {
            Command::Upload(args) => *args,
            other => panic!("not an upload: {other:?}"),
        }
    }

    fn resolve(args: &UploadArgs, env: &Environment) -> Result<UploadSettings, String> {
        UploadSettings::resolve(args, env).map_err(|f| format!("{:#}", f.error))
    }

    #[test]
    fn upload_settings_are_resolved_once_from_every_flag() {
        let dir = tempfile::tempdir().unwrap();
        let args = upload_args(
            dir.path(),
            &[
                "--max-rate",
                "2",
                "--batch-size",
                "50",
                "-j",
                "3",
                "--retries",
                "7",
            ],
        );
        let s = resolve(&args, &Environment::default()).unwrap();
        assert_eq!(s.sources.discovery.folders.len(), 1);
        assert_eq!(s.server.connect.port, 9);
        assert_eq!(s.server.connect.password.expose(), "secret");
        assert_eq!(
            s.journal.as_ref().map(|j| j.path.clone()),
            Some(dir.path().join("j.journal"))
        );
        // The throttle caps a batch at one second's worth.
        assert_eq!(s.upload.limits.max_messages, 2);
        assert!(s.upload.throttle.is_some());
        assert_eq!((s.upload.jobs, s.upload.retries), (3, 7));
        assert_eq!(s.progress, ProgressMode::Auto);

        let args = upload_args(dir.path(), &["--dry-run", "--json"]);
        let s = resolve(&args, &Environment::default()).unwrap();
        assert!(s.journal.is_none() && s.dry_run);
        assert_eq!(s.progress, ProgressMode::Hidden);
    }

    #[test]
    fn the_provider_profile_gives_defaults_and_explicit_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let gmail = |extra: &[&str]| {
            let mut args = upload_args(dir.path(), extra);
            args.server.server = Some("imaps://me@imap.gmail.com".into());
            resolve(&args, &Environment::default()).unwrap().upload
        };
        // Recognised from the host: Gmail's daily budget and session cap.
        let u = gmail(&["-j", "20"]);
        assert_eq!(u.max_bytes_per_day, Some(500_000_000));
        assert_eq!((u.session_cap, u.jobs), (Some(15), 15));
        assert_eq!(u.size_cap, None, "Gmail advertises APPENDLIMIT");
        // An explicit flag wins over the profile.
        let u = gmail(&["--max-bytes-per-day", "100M", "-j", "4"]);
        assert_eq!((u.max_bytes_per_day, u.jobs), (Some(100 << 20), 4));
        // --provider none: no profile at all.
        let u = gmail(&["--provider", "none", "-j", "20"]);
        assert_eq!(
            (u.max_bytes_per_day, u.session_cap, u.jobs),
            (None, None, 20)
        );
        // --provider on an unknown host (an emulator, a tunnel).
        let args = upload_args(dir.path(), &["--provider", "icloud"]);
        let u = resolve(&args, &Environment::default()).unwrap().upload;
        assert_eq!(u.size_cap.map(|c| c.bytes), Some(20 << 20));
        let args = upload_args(dir.path(), &[]);
        let u = resolve(&args, &Environment::default()).unwrap().upload;
        assert_eq!(
            (u.size_cap, u.max_bytes_per_day, u.session_cap),
            (None, None, None)
        );
    }

    #[test]
    fn the_environment_is_judged_even_when_a_flag_gives_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let args = upload_args(dir.path(), &[]);
        let env = Environment {
            password: Some("pw".into()),
            oauth2_token: Some("token".into()),
        };
        let err = resolve(&args, &env).err().unwrap();
        assert!(err.contains("given together"), "{err}");
        // One variable under a flag: the flag's secret is used.
        let env = Environment {
            password: Some("from-env".into()),
            ..Environment::default()
        };
        let s = resolve(&args, &env).unwrap();
        assert_eq!(s.server.connect.password.expose(), "secret");
    }

    #[test]
    fn a_missing_source_is_reported_before_the_password_command_runs() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let command = format!("touch {}; echo pw", marker.display());
        let mut args = upload_args(dir.path(), &["--password-command", &command]);
        args.source.sources = vec![dir.path().join("missing.mbox")];
        let err = resolve(&args, &Environment::default()).err().unwrap();
        assert!(err.contains("missing.mbox"), "{err}");
        assert!(!marker.exists(), "the password command ran");
    }
}
