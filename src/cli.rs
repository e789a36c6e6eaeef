//! The command line as the user typed it (clap derive). Nothing here touches
//! the system: [`crate::config`] turns these values into resolved settings
//! (credentials read, URL parsed), and the rest of the program never sees
//! [`Cli`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::provider::ProviderChoice;
use crate::source::{DatePolicy, Format, MboxVariant};

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  everything was uploaded (or, for scan/check, nothing went wrong)
  1  some messages could not be uploaded or read (see the summary)
  2  usage or configuration error
  3  connection, TLS or authentication failure (also: lost for good during the upload)
  4  stopped by the provider's daily quota or --max-bytes-per-day, nothing failed; run again later
     (check: the provider's quota refused the login, the account is locked until it resets)
  130  interrupted (SIGINT/SIGTERM); what landed is journaled, run again to finish";

const BATCH_HELP: &str = "\
The accounts list is a CSV file with a header row. Columns: source (paths,
several separated by |), server (imaps://user@host[:port]), one of
password_file, password_command, password_env (a variable's name) or
oauth2_token_command, and optionally prefix, mailbox, ca_file. Relative
paths are relative to the list's directory.

Upload options after the list apply to every account, e.g.
  mailhaul batch accounts.csv --accounts 8 --jobs 2 --max-rate 20
(batch options first; --server, secrets, --journal, --json, --quiet are not
upload options here). Each account keeps its default journal; the state of
the batch (which accounts are complete) is kept beside the journals. An
account complete before is skipped only once the server confirms it (one
session: STATUS and a spot check of journaled UIDs per mailbox); otherwise
it is uploaded again and the report says why. --dry-run prints per account
what `upload --dry-run` would (already there, would send), writing nothing.

Exit codes:
  0  every account is complete
  1  some accounts or messages failed (listed; the same command retries them)
  2  a mistake in the list or the options (nothing was sent)
  4  the accounts not complete were stopped by their daily quota, nothing
     failed: the same command continues them once the quota has room
  130  interrupted (SIGINT/SIGTERM); the same command resumes every account";

/// `mailhaul --version`: the version and what this build can do.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nsources: mbox (mboxo, mboxrd, mboxcl, mboxcl2, .gz), Maildir, Maildir++, eml, Thunderbird, Gmail Takeout (.mbox, or .zip/.tgz read in place, split parts too), Apple Mail (exports, .emlx stores), Outlook PST and OST",
    "\nprotocol: MULTIAPPEND, LITERAL+, LITERAL-, UIDPLUS, BINARY, COMPRESS=DEFLATE, SPECIAL-USE, NAMESPACE",
    "\nauthentication: PLAIN (SASL-IR), LOGIN, OAUTHBEARER, XOAUTH2",
    "\ntls: native-tls (system OpenSSL), STARTTLS and implicit TLS"
);

/// Upload local mail (mbox, Maildir, .eml, Thunderbird, Gmail Takeout, Apple
/// Mail, Outlook PST/OST) into an IMAP server, fast, keeping flags and
/// dates, without losing or doubling a message.
#[derive(Debug, Parser)]
#[command(
    name = "mailhaul",
    version,
    long_version = LONG_VERSION,
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More output on stderr: -v says what mailhaul decides (connection,
    /// capabilities, mode, mailboxes, batches); -vv also shows the IMAP
    /// exchange with credentials and message bodies redacted.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload messages from SOURCE paths into the server.
    #[command(after_help = EXIT_CODES_HELP)]
    Upload(Box<UploadArgs>),
    /// Show what upload would do, without any network access.
    #[command(after_help = EXIT_CODES_HELP)]
    Scan(ScanArgs),
    /// Connect, authenticate and show the capabilities and the upload mode.
    #[command(after_help = EXIT_CODES_HELP)]
    Check(CheckArgs),
    /// Compare SOURCE with the server: list messages missing, present more
    /// than once, or on the server but not in the source (journal first,
    /// else Message-ID and size, else Message-ID and text where the server
    /// rewrote headers). Exit 0 only when every message is there exactly
    /// once and every mailbox could be read, 1 otherwise.
    #[command(after_help = EXIT_CODES_HELP)]
    Verify(Box<VerifyArgs>),
    /// Upload many accounts listed in a CSV file, several at a time, with a
    /// report per account; rerunning the same command retries exactly the
    /// accounts not complete.
    #[command(after_help = BATCH_HELP)]
    Batch(BatchArgs),
    /// Work with the config file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Write shell completions and the man page into DIR (for packagers).
    #[command(hide = true)]
    Generate {
        /// Output directory; `completions/` and `man/` are created inside it.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the config file: syntax (with the line), accounts, the files they name.
    Check {
        /// Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml].
        #[arg(long, value_name = "PATH", env = "MAILHAUL_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Where the messages come from and how they are read.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// mbox files (also .gz, Thunderbird, Gmail Takeout), Takeout .zip/.tgz
    /// archives (split parts given together), Maildirs, Maildir++ trees,
    /// folders of .eml files, Apple Mail exports and stores (X.mbox bundles,
    /// .emlx files), Outlook .pst files, or directories holding any of these.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,

    /// Source format; detected from the files by default.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,

    /// Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...)
    /// instead of removing them once their meaning is carried by IMAP flags.
    #[arg(long)]
    pub keep_status_headers: bool,

    /// Which date becomes each message's internal date: auto (delivery time
    /// from the From_ line or Received, then Date header, file name, mtime),
    /// or one of those first; now lets the server stamp the upload time.
    #[arg(long = "date", value_enum, value_name = "POLICY", default_value_t = DatePolicy::Auto)]
    pub date_policy: DatePolicy,

    /// How mbox files are split: auto trusts a Content-Length that ends at a
    /// From_ line and otherwise undoes mboxrd quoting.
    #[arg(long, value_enum, value_name = "VARIANT", default_value_t = MboxVariant::Auto)]
    pub mbox_variant: MboxVariant,

    /// Upload messages a client marked expunged (X-Mozilla-Status 0x0008)
    /// with \Deleted instead of skipping them.
    #[arg(long)]
    pub include_deleted: bool,

    /// Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message);
    /// detected from the first message by default.
    #[arg(long, conflicts_with = "no_takeout")]
    pub takeout: bool,

    /// Never treat mbox files as Gmail Takeout.
    #[arg(long)]
    pub no_takeout: bool,

    /// Also read Apple Mail's .imapmbox directories (old Mail versions'
    /// caches of IMAP accounts), which are reported and skipped by default.
    #[arg(long)]
    pub apple_imap_caches: bool,

    /// Mailbox for Takeout messages that have no folder label.
    #[arg(long, value_name = "NAME", default_value = "Archive")]
    pub takeout_archive: String,

    /// Upload Gmail chat transcripts (label Chat) into Chats instead of
    /// skipping them.
    #[arg(long)]
    pub takeout_chats: bool,
}

/// Where the messages go on the server.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Put every message into this one mailbox instead of mirroring folders.
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,

    /// Put the mirrored folder tree under this mailbox (hierarchy with `/`).
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,

    /// Rename a source folder (and its subfolders): `--map 'Old Mail=Archive/Old'`.
    /// Paths use `/`; repeatable; the longest matching SOURCE wins.
    #[arg(long = "map", value_name = "SOURCE=TARGET")]
    pub maps: Vec<String>,

    /// Put every folder at the top level, joining its path with SEP (default `_`).
    #[arg(long, value_name = "SEP", num_args = 0..=1, default_missing_value = "_")]
    pub flatten: Option<String>,

    /// Upload only source folders whose path (with `/`) matches GLOB; repeatable.
    /// `*` stays within one level, `**` crosses levels.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Leave out source folders whose path (with `/`) matches GLOB; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Keep Sent, Drafts, Trash, Junk and Archive folders under their own
    /// names instead of uploading into the server's special-use mailboxes.
    #[arg(long)]
    pub no_special_use: bool,
}

/// How to reach and log in to the server. There is deliberately no option
/// that takes a password as an argument.
#[derive(Debug, Args)]
#[allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)] // `[:port]` and scope URLs in the help text
pub struct ServerArgs {
    /// imaps://user@host[:port] (implicit TLS, default port 993) or
    /// imap://user@host[:port] (STARTTLS, default port 143).
    #[arg(long, value_name = "URL", env = "MAILHAUL_SERVER")]
    pub server: Option<String>,

    /// Use this account from the config file (server, credentials, options).
    #[arg(long, value_name = "NAME", env = "MAILHAUL_ACCOUNT")]
    pub account: Option<String>,

    /// Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml].
    #[arg(long, value_name = "PATH", env = "MAILHAUL_CONFIG")]
    pub config: Option<PathBuf>,

    /// Read the password from this file (first line; trailing newline removed).
    #[arg(long, value_name = "PATH", group = "secret")]
    pub password_file: Option<PathBuf>,

    /// Run this shell command and use its output as the password.
    #[arg(long, value_name = "CMD", group = "secret")]
    pub password_command: Option<String>,

    /// Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or
    /// XOAUTH2, for Gmail and Microsoft 365); run again whenever the server
    /// refuses the token (an expired one, at a reconnection).
    ///
    /// The token needs
    /// the scope https://mail.google.com/ (Gmail) or
    /// https://outlook.office.com/IMAP.AccessAsUser.All (Microsoft 365).
    /// Examples: 'mutt_oauth2.py ~/.config/mailhaul/gmail.tokens', 'oauth2ms',
    /// 'gcloud auth application-default print-access-token'. A failing
    /// command is exit 3.
    #[arg(long, value_name = "CMD", group = "secret")]
    pub oauth2_token_command: Option<String>,

    /// Trust this PEM certificate (a private CA or a self-signed server certificate).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Do not verify the server's certificate (prints a warning).
    #[arg(long)]
    pub insecure: bool,

    /// With imap://, log in even if the server offers no STARTTLS.
    #[arg(long)]
    pub allow_plaintext: bool,

    /// Write the IMAP exchange to FILE: commands, responses and literal sizes,
    /// with credentials and message bodies redacted.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it.
    #[arg(long)]
    pub no_compress: bool,

    /// Network read/write timeout in seconds [default: 120].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// Apply this provider's limits (sessions, bytes per day, message size);
    /// recognised from the host name by default (imap.gmail.com, ...);
    /// `none` applies no profile. `mailhaul check` shows them.
    #[arg(long, value_enum, value_name = "NAME")]
    pub provider: Option<ProviderChoice>,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub server: ServerArgs,

    /// Most messages in one MULTIAPPEND command.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,

    /// Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted).
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_size)]
    pub batch_bytes: u64,

    /// Send one APPEND per message even when the server has MULTIAPPEND.
    #[arg(long)]
    pub no_multiappend: bool,

    /// Upload over N connections in parallel; mailboxes are shared out
    /// among them (largest first), each mailbox's order kept.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub jobs: usize,

    /// With --jobs: a mailbox larger than a fair share may be split across
    /// connections; its messages then land in any order (each still once).
    #[arg(long)]
    pub unordered: bool,

    /// Send at most this many messages per second, over all connections
    /// (decimals accepted), evenly spaced (no bursts); batches are cut to
    /// one second's worth. Throttles are waited out without it too (the
    /// rate adapts to the provider's); see --max-bytes-rate.
    #[arg(long, value_name = "MSGS_PER_S", value_parser = parse_rate)]
    pub max_rate: Option<f64>,

    /// Send at most this many message bytes per second, over all connections
    /// (suffixes K, M, G accepted). Gmail: about 500 MB per day via IMAP as
    /// documented by Google (check current limits), i.e. --max-bytes-rate 5K
    /// for a long upload; Microsoft 365 throttles per user too.
    #[arg(long, value_name = "BYTES_PER_S", value_parser = parse_size)]
    pub max_bytes_rate: Option<u64>,

    /// Upload at most this many message bytes to this account in any 24
    /// hours (suffixes K, M, G accepted): what landed in the last 24 hours,
    /// as the journal says, counts, so the same command may run as often
    /// as you like (README: an hourly systemd timer or cron job). When no
    /// room is left the run stops cleanly with exit code 4, as when the
    /// provider's daily quota is hit (Gmail: about 500 MB of IMAP upload
    /// per day, the default for Gmail), and says from when the 24 hours have
    /// room again; the journal continues where the run stopped. With
    /// --no-journal only this run's bytes count.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_bytes_per_day: Option<u64>,

    /// The longest the run waits out the server's throttles in all
    /// (seconds); what the server still throttles after that is reported
    /// as not sent. Throttled messages are never failed before.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub max_throttle_wait: u64,

    /// The journal of what was uploaded (default: one per server and user
    /// under $XDG_STATE_HOME/mailhaul/, else ~/.local/state/mailhaul/).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    /// Keep no journal: a rerun then finds what is already there by reading
    /// the target mailboxes (slower than the journal, never doubled unless
    /// --allow-duplicates), and --max-bytes-per-day counts this run's bytes
    /// only (earlier runs are unknown). The last of --journal and
    /// --no-journal wins.
    #[arg(long, overrides_with = "journal")]
    pub no_journal: bool,

    /// Wait while another run holds the journal, instead of exiting with code 2.
    #[arg(long)]
    pub wait_lock: bool,

    /// Send messages even when the target mailbox already holds them. By
    /// default every existing target mailbox is checked before anything is
    /// sent into it: what the journal cannot account for is read (size and
    /// Message-ID, else internal date; the body hash where a Message-ID is
    /// missing or not unique in the source or the mailbox) and messages
    /// already there are skipped. The journal's own entries are still
    /// spot-checked against the server, never trusted blindly.
    #[arg(long)]
    pub allow_duplicates: bool,

    /// The default, kept as a no-op alias: what is already on the server is
    /// skipped without it (it only cancels an earlier --allow-duplicates).
    #[arg(long, overrides_with = "allow_duplicates")]
    pub skip_existing: bool,

    /// Reconnections tried after a lost connection, BYE or timeout (with backoff).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// Write every message that could not be uploaded into DIR (one .eml
    /// each, plus index.tsv with the reason).
    #[arg(long, value_name = "DIR")]
    pub failed_out: Option<PathBuf>,

    /// Connect and print the full plan with the server's names, the messages it
    /// would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how
    /// many are already there (journal, server check) and would not be sent; send,
    /// create and write nothing (the journal is only read).
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Print the report as one JSON document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Write progress as newline-delimited JSON events on stderr.
    #[arg(long)]
    pub json_progress: bool,

    /// No progress bar and no summary; errors are still printed.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Refuse what this provider would refuse (its message size cap), as
    /// upload does; no provider by default (scan knows no server).
    #[arg(long, value_enum, value_name = "NAME")]
    pub provider: Option<ProviderChoice>,

    /// Print the scan as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub server: ServerArgs,

    /// The journal written by upload (default: the one for this server and user).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    /// Ignore the journal: match by Message-ID and size only.
    #[arg(long, overrides_with = "journal")]
    pub no_journal: bool,

    /// Print the findings as one JSON document on stdout (the schema of
    /// upload's and scan's JSON: "schema", "kind", totals, "exit_code").
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The accounts list (CSV with a header row; see below).
    #[arg(value_name = "ACCOUNTS.csv", required_unless_present = "merge_reports")]
    pub list: Option<PathBuf>,

    /// Check the list and the options without connecting; exit 2 on mistakes.
    #[arg(long)]
    pub check: bool,

    /// Connect and print per account what `mailhaul upload --dry-run`
    /// finds: how many messages are already there (journal, server check)
    /// and how many would be sent; send, create and write nothing (the
    /// journals are only read, the batch state is left as it is).
    #[arg(long, short = 'n', conflicts_with = "check")]
    pub dry_run: bool,

    /// Accounts uploaded at the same time.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub accounts: usize,

    /// Most connections to one server (host:port) over all running
    /// accounts (each account opens --jobs); providers limit this, e.g.
    /// Gmail to 15.
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections_per_server: Option<usize>,

    /// Trust this PEM certificate for accounts without a ca_file column.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Where the batch keeps which accounts are complete [default:
    /// $XDG_STATE_HOME/mailhaul/batch-HASH.state, beside the journals].
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,

    /// Write progress as newline-delimited JSON events on stderr, each
    /// carrying its account.
    #[arg(long)]
    pub json_progress: bool,

    /// No progress and no table; errors are still printed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Merge the JSON reports of several shards into one (no upload).
    #[arg(long, value_name = "REPORT.json", num_args = 1.., conflicts_with_all = ["list", "check", "dry_run"])]
    pub merge_reports: Vec<PathBuf>,

    /// Upload options for every account (after the list): --jobs,
    /// --batch-size, --max-rate, --retries, --skip-existing, --format, …
    #[arg(
        value_name = "UPLOAD OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub upload: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub server: ServerArgs,

    /// Print what was found as one JSON document on stdout (the same
    /// schema conventions as upload's report: "schema", "kind", "exit_code").
    #[arg(long)]
    pub json: bool,
}

/// Parses a byte count with an optional K/M/G (binary) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 16M)"))?;
    match n.checked_mul(mult) {
        Some(0) => Err("size must be at least 1 byte".into()),
        Some(v) => Ok(v),
        None => Err(format!("{s:?} is too large")),
    }
}

/// Parses a positive rate (messages per second, decimals accepted).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("{s:?} is not a positive rate (e.g. 10 or 0.5)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
        assert!(parse_size("5T").is_err());
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("inf").is_err());
    }
}
