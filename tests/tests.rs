//! The one integration-test binary (ripgrep style: `autotests = false` and a
//! single `[[test]]` in Cargo.toml), so the test code is compiled and linked
//! once. Each `mod` below is one area; add new areas here.

// Shared harness: a private Dovecot, Cyrus or Courier server per test
// (`util::{dovecot,cyrus,courier}`, one `util::server::ImapServer` trait), an
// independent IMAP reader to verify what landed on the server
// (`util::imap_reader`) and a wrapper around the mailhaul binary that explains
// failures (`util::cmd`). No tests live here.
mod util;

// Smoke tests of the harness itself: Dovecot starts, serves TLS with our
// certificate, honors the options (hidden MULTIAPPEND, size limit, COMPRESS),
// and the reader and the rawlog command counter see what was sent. They do
// not run the mailhaul binary.
mod harness;

// Never lose, never double (issue 4): cuts by a fault-injecting proxy in
// both directions, SIGKILLed runs, reruns with the journal, --skip-existing,
// the journal lock.
mod resume;

// End-to-end uploads into a private Dovecot, read back and compared: bytes,
// flags, dates, mailboxes; MULTIAPPEND and serial paths; refusals; TLS and
// authentication failures; scan and check.
mod upload;

// The round trip and `mailhaul check` against Dovecot, Cyrus and Courier
// (private instances; Cyrus and Courier unpacked by scripts/install-test-deps).
mod servers;

// The config file's accounts and the precedence flag > environment > config;
// `mailhaul config check`.
mod config;

// Refusals and misbehaviour played by a scripted fake server: NO mid-batch,
// BYE, stored-but-unanswered batches, refused continuation, OVERQUOTA,
// garbage, NUL bytes and BINARY.
mod faults;

// A hostile server (a greeting of huge literals, floods of untagged data)
// against `mailhaul check`: bounded memory, measured, and errors naming
// the bound.
mod hostile;

// Looking at what the server holds through the library (Dovecot): body
// hashes of a message past the 64 MiB literal bound, streamed.
mod looks;

// The progress bar and the summary in a real 80-column terminal (tmux).
mod terminal;

// COMPRESS=DEFLATE end to end: uploads land byte-exact and fewer bytes cross
// the wire (counted by a forwarder), against a Dovecot offering it.
mod compress;

// Round trips per source kind (issue 3): mbox variants, Maildir layouts,
// .eml, Thunderbird, Gmail Takeout, --date, special-use and folder mapping,
// read back from a private Dovecot; `scan --json` on the same fixtures.
mod sources;

// --trace and -v/-vv: the exchange recorded, secrets and bodies never.
mod trace;

// Journal, lock, --trace and --failed-out files are 0600 (directories 0700)
// under umask 022.
mod private_files;

// Several batches in flight: a NO splits only its batch; cuts resolved.
mod pipeline;

// Throttles (--max-rate, --max-bytes-rate) and parallel connections (--jobs,
// --unordered) against Dovecot: exactly once, order within a mailbox kept.
mod parallel;

// Server-checked resume (issue 9): reruns without the journal, through
// another spelling of the server, one journal for two servers, no UIDPLUS,
// spot checks of journaled UIDs; nothing doubled, nothing lost.
mod server_checked;

// Gmail Takeout labels: one APPEND, then UID COPY into the other mailboxes,
// journaled (a rerun neither doubles nor misses a copy).
mod copies;

// The batch lifecycle end to end (issue 9): a stored batch whose answer is
// lost and whose look fails stays open and is settled by the rerun; a 70 MB
// message of unknown fate is settled without reading its body back.
mod lifecycle;

// One decision per message: scan, upload --dry-run, upload and verify agree
// on what is sent, skipped or refused (BINARY hidden by a proxy).
mod decide;

// upload --dry-run asks the upload's presence check (journal read only,
// then the server): after a complete upload it would send nothing; it
// writes nothing, on the server or in the journal.
mod dry_run;

// Many accounts in one command (issue 11): 20 users of a private Dovecot,
// failures rerun, SIGINT and SIGKILL resumed, list mistakes, sharding.
mod batch;

// Strict servers (issue 10): keywords a mailbox cannot keep (PERMANENTFLAGS
// without \*, or an APPEND refused naming a flag) are left out and reported;
// the messages land. A proxy plays imap4d in front of Dovecot, then the real
// GNU imap4d (private instance, unpacked by scripts/install-test-deps).
mod strict;

// Servers that rewrite headers on store (GNU imap4d, no UIDPLUS): reruns
// with and without the journal find every message by Message-ID and text
// hash; messages sharing a Message-ID with other bodies all land.
mod rewriting;

// Messages whose last line has no line break (stored with CRLF added by
// Courier and imap4d): reruns with and without the journal send nothing
// again on Courier, Dovecot and imap4d; verify counts each once.
mod final_line;

// Provider profiles (issue 10): check prints the profile; a profile's size
// cap refuses an oversized message once, with one reason in scan, the dry
// run, the upload and verify.
mod providers;

// OAuth2 against Dovecot's oauth2 passdb and a token-introspection endpoint
// served by the test: OAUTHBEARER, XOAUTH2, a token expiring mid-run fetched
// again from the token command, a failing token command.
mod oauth2;

// Provider throttles (issue 10) through the provider emulator
// (`util::provider_proxy`): throttles waited out, daily quotas stopped
// cleanly, session caps settled to; the emulator itself checked first.
mod throttles;

// Yahoo's rate-limit BYE met while writing pipelined APPENDs, and its
// penalty BYE at reconnection: waited out, nothing failed, the APPEND
// count summed over the connections.
mod yahoo_penalty;

// --max-bytes-per-day over a rolling 24 hours (issue 10's follow-up): the
// journal's upload times make a rerun within the day send nothing, a spent
// budget stop before connecting, and the stop line name when the window
// has room again; a day later (the journal's clock moved) and with a larger
// limit the reruns finish exactly once; two connections share one budget.
mod daily_budget;
