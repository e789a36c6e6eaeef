//! The one integration-test binary (ripgrep style: `autotests = false` and a
//! single `[[test]]` in Cargo.toml), so the test code is compiled and linked
//! once. Each `mod` below is one area; add new areas here.

// Shared harness: a private Dovecot server per test (`util::dovecot`), an
// independent IMAP reader to verify what landed on the server
// (`util::imap_reader`) and a wrapper around the mailhaul binary that explains
// failures (`util::cmd`). No tests live here.
mod util;

// Smoke tests of the harness itself: Dovecot starts, serves TLS with our
// certificate, honors the options (hidden MULTIAPPEND, size limit, COMPRESS),
// and the reader and the rawlog command counter see what was sent. They do
// not run the mailhaul binary.
mod harness;

// End-to-end uploads into a private Dovecot, read back and compared: bytes,
// flags, dates, mailboxes; MULTIAPPEND and serial paths; refusals; TLS and
// authentication failures; scan and check.
mod upload;

// COMPRESS=DEFLATE end to end: uploads land byte-exact and fewer bytes cross
// the wire (counted by a forwarder), against a Dovecot offering it.
mod compress;
