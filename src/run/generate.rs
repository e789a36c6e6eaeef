//! `mailhaul generate DIR`: shell completions and the man page, from the
//! clap definition (the committed copies are checked by a unit test).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::report::ExitStatus;

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
\fB4\fR
Stopped by the provider's upload quota (Gmail: "Account exceeded command or bandwidth
limits") or by \fB\-\-max\-bytes\-per\-day\fR (bytes in any 24 hours, counted from the
journal), with nothing failed: what landed is journaled; the message says from when there is
room again: run the same command then (an hourly systemd timer or cron job does it).
.TP
\fB130\fR
Interrupted by SIGINT (Ctrl-C) or SIGTERM: the command in flight was allowed to finish, what
landed is journaled, the summary is printed. A second signal exits at once. Run the same
command again to finish.
.SH JOURNAL
Every message confirmed by the server is recorded (SHA-256 of the bytes sent, target mailbox,
UIDVALIDITY, UID) in an append-only journal, written before each batch is sent and synced
while it travels (before it is sent with \fB\-\-allow\-duplicates\fR); a rerun skips
what is journaled, so a run that stopped for any reason is finished by running it again.
Before each batch the mailbox's STATUS is journaled; a batch whose answer never came is
resolved by reading back the new messages and comparing fingerprints, and only the missing
ones are sent again. The journal is a cache, the server the last word: before anything is
sent into an existing mailbox, the messages the journal cannot account for (all of them
without a journal) are read by size and Message-ID, else internal date (then the body hash
of each candidate whose Message-ID is missing, or not unique among the source's messages for
that mailbox or among the mailbox's, which a pass over the source's Message-IDs tells) and
those already there are skipped; \fB\-\-allow\-duplicates\fR turns that off.
On servers that add header fields to what they store (GNU imap4d), sizes differ: a message
with the same Message-ID (without one, the same internal date) and another size is the same
message when the SHA-256 of its text (the part after the header) is, read for those only;
the same Message-ID alone is not enough (a list message received twice keeps both).
Journal entries count only under the mailbox's current UIDVALIDITY; a mailbox empty on the
server, or whose spot-checked journaled UIDs (three) hold messages of another size or are
all gone, has its entries distrusted with a warning. Default location:
\fI$XDG_STATE_HOME/mailhaul/USER@HOST:PORT.journal\fR (else \fI~/.local/state/mailhaul/\fR);
\fB\-\-journal\fR and \fB\-\-no\-journal\fR change that. A lock keeps two runs from using
one journal: the second exits with code 2, or waits with \fB\-\-wait\-lock\fR.
.SH "INTERNAL DATES"
With \fB\-\-date auto\fR (the default) the internal date of a message is taken from, in
order: the received date a mail store recorded (an .emlx file's date-received, an Outlook
PST's delivery time, else its submit time); the mbox From_ line (local time without a zone: it takes
the zone of the Received or Date header that shows the same time within 15 minutes, else UTC); the top-most Received header (the final delivery hop); the Date
header; the Maildir file name's timestamp; the file's modification time. A date in the
future or before 1900 falls through to the next, and so does a delivery date more than a
day before the Date header. \fB\-\-date delivery\fR, \fBheader\fR and \fBmtime\fR prefer
one source, \fBnow\fR leaves the date to the server. \fBmailhaul scan\fR reports which
source gave each date, per mailbox.
.SH FLAGS
Maildir info letters after :2, (also !2, and ;2,): P $Forwarded, R \eAnswered, S \eSeen,
T \eDeleted, D \eDraft, F \eFlagged; a\(enz name keywords from dovecot-keywords.
mbox: Status R gives \eSeen; X-Status A \eAnswered, F \eFlagged, T \eDraft, D \eDeleted;
X-Mozilla-Status bits 0x1 \eSeen, 0x2 \eAnswered, 0x4 \eFlagged, 0x1000 $Forwarded;
X-Keywords and X-Mozilla-Keys give keywords. Apple Mail .emlx flags bits: 0 read \eSeen,
1 deleted \eDeleted, 2 answered \eAnswered, 4 flagged \eFlagged, 6 draft \eDraft,
8 forwarded $Forwarded, 24 junk $Junk, 25 not junk $NotJunk; other bits are ignored.
Outlook PST: read gives \eSeen, unsent \eDraft, a follow-up flag \eFlagged, the last
action reply \eAnswered and forward $Forwarded.
These client-state headers are removed from the
uploaded message unless \fB\-\-keep\-status\-headers\fR is given; nothing else is changed
except line ends, which are sent as CRLF.
A keyword the target mailbox cannot keep (its PERMANENTFLAGS lack \e*, or the server
refuses an APPEND naming a flag, as GNU imap4d does) is left out, or written the server's
way where it keeps an equivalent ($Forwarded as Forwarded); the message itself is sent, and
the keywords left out are reported once per mailbox.
.SH PROVIDERS
Gmail, Microsoft 365, Yahoo, iCloud and Fastmail are recognised from the host name, or
chosen with \fB\-\-provider\fR (\fBnone\fR: no profile). A profile gives defaults (explicit flags win) and
caps: Gmail caps \fB\-\-jobs\fR at 15 sessions and sets
\fB\-\-max\-bytes\-per\-day\fR to 500000000 (Google's IMAP upload limit); Microsoft 365
caps \fB\-\-jobs\fR at 20 and refuses messages over 35 MiB before sending, iCloud over
20 MiB (neither advertises APPENDLIMIT; an advertised APPENDLIMIT wins).
\fBmailhaul check\fR prints the profile, each limit and its source;
\fBmailhaul scan \-\-provider NAME\fR refuses what that provider would.
.SH FOLDERS
A single mbox file becomes a mailbox named after the file; a Maildir++ root is INBOX and its
folder .A.B becomes A/B (names stored in modified UTF-7 are decoded); nested Maildirs and
Thunderbird X.sbd/ directories are hierarchy; in a directory of mbox files, each file is a
mailbox and directories are hierarchy; a folder of .eml files is one mailbox; a single .eml
file goes to INBOX. Gmail Takeout labels name the mailboxes of each message (Inbox is
INBOX; a message with no folder label goes to \fB\-\-takeout\-archive\fR).
Apple Mail bundles X.mbox (an export's, holding the file mbox, or a store's, holding
\&.emlx files below it) are the mailbox X, a bundle inside a bundle a child; the directories
around them (an account's UUID directory, Mailboxes, V10) are not levels; a .partial.emlx
is completed from its Attachments/ files or reported; .imapmbox caches are skipped unless
\fB\-\-apple\-imap\-caches\fR.
An Outlook .pst file's folders below "Top of Personal Folders" are mailboxes (the Inbox, in
Outlook's languages, is INBOX; Sent Items, Deleted Items, Drafts and Junk E-mail go to the
special-use mailboxes); each item is rebuilt as a MIME message from its properties (the
delivered headers when the PST kept them), items that are not mail (contacts, calendar,
tasks) are skipped, and what could not be rebuilt exactly is reported as a warning.
A message with several labels is uploaded once and copied into its other mailboxes with
UID COPY when the server has UIDPLUS.
A Takeout archive as downloaded (takeout\-*.zip, .tgz or .tar.gz, split parts given
together or found in one directory) is read in place, never unpacked: each *.mbox member
(Takeout/Mail/) is read exactly as the unpacked file would be; other products' files are
noted and skipped.
.PP
Then, in order: \fB\-\-include\fR/\fB\-\-exclude\fR globs on the source path (written
with /) decide whether a folder goes at all; \fB\-\-mailbox\fR sends everything to one
mailbox; \fB\-\-map\fR SOURCE=TARGET renames a subtree (the longest SOURCE wins); a folder
named Sent, Sent Items, Gesendet, Drafts, Trash, Deleted Items, Junk, Spam, Archive or the
like goes to the server's mailbox with that SPECIAL-USE attribute (RFC 6154) when it has
one, unless \fB\-\-no\-special\-use\fR; \fB\-\-prefix\fR puts the tree under a mailbox;
\fB\-\-flatten\fR joins the path into one level. The components are joined with the
server's hierarchy delimiter (a delimiter inside a name becomes _ and is reported), the
server's personal namespace prefix (e.g. INBOX. on Courier and Cyrus) goes in front, and
names are sent in modified UTF-7. INBOX is matched case-insensitively. A folder without
messages is created all the same (the tree is rebuilt whole; a Takeout mbox, whose messages
go by their labels, is no folder). Folders that end up in one mailbox (inbox.mbox beside a
Maildir's INBOX, A.B flattened beside A_B) are named in a warning, except under
\fB\-\-mailbox\fR.
.SH ENVIRONMENT
Command-line options win over environment variables, which win over the config file.
.TP
\fBMAILHAUL_SERVER\fR
The server URL, when \fB\-\-server\fR is not given.
.TP
\fBMAILHAUL_PASSWORD\fR
The password, when none of \fB\-\-password\-file\fR, \fB\-\-password\-command\fR and
\fB\-\-oauth2\-token\-command\fR is given.
.TP
\fBMAILHAUL_OAUTH2_TOKEN\fR
An OAuth2 access token (SASL OAUTHBEARER or XOAUTH2), used like \fBMAILHAUL_PASSWORD\fR.
.TP
\fBMAILHAUL_ACCOUNT\fR
The config file account, when \fB\-\-account\fR is not given.
.TP
\fBMAILHAUL_CONFIG\fR
The config file, when \fB\-\-config\fR is not given.
.TP
\fBXDG_CONFIG_HOME\fR, \fBXDG_STATE_HOME\fR, \fBHOME\fR
Where the config file and the journals are looked for (see FILES).
.TP
\fBNO_COLOR\fR
Disables colour in the progress bar.
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/mailhaul/config.toml\fR (else \fI~/.config/mailhaul/config.toml\fR)
Named accounts: \fBdefault_account = "NAME"\fR and \fB[accounts.NAME]\fR tables with
\fBserver\fR, \fBpassword_file\fR, \fBpassword_command\fR, \fBoauth2_token_command\fR,
\fBca_file\fR, \fBinsecure\fR, \fBallow_plaintext\fR and \fBtimeout\fR.
\fBmailhaul config check\fR validates it and names the line of a mistake.
.TP
\fI$XDG_STATE_HOME/mailhaul/USER@HOST:PORT.journal\fR (else \fI~/.local/state/mailhaul/\fR)
The journal of what landed on that server for that user, and its \fI.lock\fR.
.TP
\fB\-\-trace\fR \fIFILE\fR
The IMAP exchange with credentials and message bodies redacted, created with mode 0600.
.SH SECURITY
There is no option that takes a password: command lines are visible to every user of the
machine. Passwords and tokens never appear in output, logs, traces or error messages.
Certificates are verified unless \fB\-\-insecure\fR; \fBimap://\fR refuses to log in
without STARTTLS unless \fB\-\-allow\-plaintext\fR.
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

    /// The Debian package's assets are where Cargo.toml says (the binary
    /// aside, built by `cargo deb`), the generated files among them, and the
    /// crate's include list ships no tests, fixtures, fuzz targets or samples.
    #[test]
    fn package_metadata_names_files_that_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
        let package = manifest["package"].as_table().unwrap();
        let assets = package["metadata"]["deb"]["assets"].as_array().unwrap();
        let sources: Vec<&str> = assets.iter().map(|a| a[0].as_str().unwrap()).collect();
        for s in &sources {
            assert!(
                s.starts_with("target/") || root.join(s).is_file(),
                "{s} missing"
            );
        }
        for must in [
            "man/mailhaul.1",
            "completions/mailhaul.bash",
            "completions/_mailhaul",
            "completions/mailhaul.fish",
        ] {
            assert!(sources.contains(&must), "{must} not packaged");
        }
        let include = package["include"].as_array().unwrap();
        for pattern in include.iter().map(|p| p.as_str().unwrap()) {
            for never in ["tests", "fuzz", "samples", "bench"] {
                assert!(
                    !pattern.starts_with(&format!("/{never}")),
                    "{pattern} ships {never}"
                );
            }
        }
    }
}
