//! Server-checked resume (issue 9, item 2): the journal is a cache, the
//! server the last word. Against real Dovecot: a 200-message Maildir upload
//! SIGKILLed half-way and rerun without its journal, with a fresh journal,
//! through the STARTTLS port (another default journal); one journal used
//! for two servers; a server without UIDPLUS (Dovecot behind a proxy that
//! hides UIDPLUS and APPENDUID) whose mailbox is deleted and recreated; a
//! mailbox whose journaled UIDs were replaced (spot check); a completed
//! upload rerun without journal (issue 9, item 4: bodies fetched, as the
//! rawlog shows, only for keys repeated or missing). Every case reads the server back with the
//! independent reader and compares the multiset of message bytes per
//! mailbox with the source: nothing missing, nothing doubled.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::looks::{body_commands, body_uids};
use crate::util::imap_reader::quote;
use crate::util::{Dovecot, FaultProxy, ImapServer, MailhaulCommand, Rng, ServerKind};

/// The Maildir++ folders and how many messages each holds (200 in all).
const FOLDERS: &[(&str, &str, usize)] = &[
    ("", "INBOX", 100),
    (".Work", "Work", 60),
    (".Lists", "Lists", 40),
];
const TOTAL: usize = 200;

/// Message `i` of `mailbox` (LF line ends, as in the Maildir). INBOX holds
/// the cases Message-ID and size cannot tell apart: an exact duplicate
/// (10, 11: must land twice), two messages without Message-ID of the same
/// size and date (20, 21) and two with one Message-ID and size but other
/// bodies (30, 31). Lists 5 and 6 have no Message-ID either.
fn message(mailbox: &str, i: usize, rng: &mut Rng) -> String {
    let head = |id: Option<&str>| {
        let mut h = format!(
            "From: Sender {i} <s{i}@example.org>\nTo: r@example.org\nSubject: {mailbox} {i}\nDate: Sat, 01 Feb 2020 10:{:02}:00 +0000\n",
            i % 60
        );
        if let Some(id) = id {
            h.push_str(&format!("Message-ID: {id}\n"));
        }
        h
    };
    match (mailbox, i) {
        ("INBOX", 10 | 11) => format!(
            "{}\nthe same message twice\n",
            head(Some("<dup@example.org>"))
        )
        .replace("Sender 11 <s11", "Sender 10 <s10")
        .replace("INBOX 11", "INBOX 10")
        .replace("10:11:00", "10:10:00"),
        ("INBOX", 20 | 21) => format!(
            "{}\nno Message-ID, body {}\n",
            head(None)
                .replace("Sender 21 <s21", "Sender 20 <s20")
                .replace("INBOX 21", "INBOX 20")
                .replace("10:21:00", "10:20:00"),
            if i == 20 { "AAAA" } else { "BBBB" }
        ),
        ("INBOX", 30 | 31) => format!(
            "{}\none Message-ID, body {}\n",
            head(Some("<twin@example.org>"))
                .replace("Sender 31 <s31", "Sender 30 <s30")
                .replace("INBOX 31", "INBOX 30")
                .replace("10:31:00", "10:30:00"),
            if i == 30 { "CCCC" } else { "DDDD" }
        ),
        _ => {
            let mut body = String::new();
            for l in 0..3 + (rng.next() % 60) as usize {
                body.push_str(&format!(
                    "{mailbox} message {i} line {l}: {} {}\n",
                    rng.next() % 1000,
                    "x".repeat((rng.next() % 50) as usize)
                ));
            }
            // Lists 5 and 6 have no Message-ID (of sizes and dates no other
            // message shares: recognized without reading their bodies).
            let id = format!("<{mailbox}-{i}@example.org>");
            let id = (mailbox != "Lists" || !(5..=6).contains(&i)).then_some(id.as_str());
            format!("{}\n{body}", head(id))
        }
    }
}

/// A source Maildir and, per mailbox, the bytes the server must hold.
struct Fixture {
    _tmp: tempfile::TempDir,
    maildir: PathBuf,
    work: PathBuf,
    expected: Vec<(String, Vec<Vec<u8>>)>,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("Maildir");
    let mut rng = Rng(9);
    let mut expected = Vec::new();
    for (dir, mailbox, n) in FOLDERS {
        let d = maildir.join(dir);
        for s in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(d.join(s)).unwrap();
        }
        let mut want = Vec::new();
        for i in 0..*n {
            let m = message(mailbox, i, &mut rng);
            let name = format!("{}.M{i}P1.host:2,S", 1_580_551_200 + i);
            std::fs::write(d.join("cur").join(name), &m).unwrap();
            want.push(m.replace('\n', "\r\n").into_bytes());
        }
        want.sort();
        expected.push((mailbox.to_string(), want));
    }
    let work = tmp.path().to_path_buf();
    Fixture {
        _tmp: tmp,
        maildir,
        work,
        expected,
    }
}

impl Fixture {
    /// `mailhaul upload MAILDIR` into `server` (imaps://), batches of 10.
    fn upload(&self, server: &dyn ImapServer, extra: &[&str]) -> MailhaulCommand {
        let mut c = MailhaulCommand::new();
        c.arg("upload").arg(&self.maildir).server(server);
        c.args(["--batch-size", "10", "--timeout", "10"])
            .args(extra);
        c
    }

    /// The same through `url`, with the server's CA and password.
    fn upload_to(&self, server: &dyn ImapServer, url: &str, extra: &[&str]) -> MailhaulCommand {
        let mut c = MailhaulCommand::new();
        c.arg("upload")
            .arg(&self.maildir)
            .arg("--server")
            .arg(url)
            .arg("--ca-file")
            .arg(server.ca_file())
            .env("MAILHAUL_PASSWORD", server.password())
            .attach(server);
        c.args(["--batch-size", "10", "--timeout", "10"])
            .args(extra);
        c
    }

    fn journal(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// Every mailbox holds exactly the source's messages, plus `extra` in
    /// the mailboxes named there.
    fn assert_exactly_once(&self, server: &dyn ImapServer, extra: &[(&str, &[u8])], context: &str) {
        let mut r = server.reader().unwrap();
        for (name, want) in &self.expected {
            let mut want = want.clone();
            want.extend(
                extra
                    .iter()
                    .filter(|(m, _)| m == name)
                    .map(|(_, b)| b.to_vec()),
            );
            want.sort();
            let mut got = r.bodies(name).unwrap();
            got.sort();
            if got != want {
                let ids = |v: &[Vec<u8>]| {
                    let mut n: HashMap<String, usize> = HashMap::new();
                    for m in v {
                        let id = mailhaul::fingerprint::message_id(m).unwrap_or_default();
                        *n.entry(id).or_default() += 1;
                    }
                    n
                };
                let (g, w) = (ids(&got), ids(&want));
                let doubled: Vec<_> = g.iter().filter(|(k, n)| w.get(*k) < Some(n)).collect();
                let missing: Vec<_> = w.iter().filter(|(k, n)| g.get(*k) < Some(n)).collect();
                panic!(
                    "{name} ({context}): {} on the server, {} wanted; more than wanted: {doubled:?}; fewer: {missing:?}",
                    got.len(),
                    want.len()
                );
            }
        }
    }
}

/// Messages in the fixture's mailboxes on `server` right now.
fn landed(server: &dyn ImapServer) -> usize {
    let mut r = server.reader().unwrap();
    FOLDERS
        .iter()
        .map(|(_, m, _)| r.fetch_all(m).map_or(0, |v| v.len()))
        .sum()
}

/// Starts `c`, SIGKILLs it once at least `at_least` messages have landed,
/// then, with `settled`, waits until the server's count stops moving (what
/// it stores of a command already received), as a user rerunning a moment
/// later would; without, returns at once (a rerun right after the kill:
/// the server may still be storing). Returns how many messages the server
/// holds: some, not all.
fn kill_half_way(
    server: &dyn ImapServer,
    c: &mut MailhaulCommand,
    at_least: usize,
    settled: bool,
) -> usize {
    let mut child = c.spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let n = landed(server);
        if n >= at_least || Instant::now() > deadline {
            break n;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before {at_least} messages landed ({n})"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let mut last = if settled { landed(server) } else { seen };
    if settled {
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = landed(server);
            if now == last {
                break;
            }
            last = now;
        }
    }
    assert!(
        last >= at_least && last < TOTAL,
        "the kill was not half-way: {last} of {TOTAL} landed"
    );
    last
}

pub(crate) fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The JSON report's warnings, one per line.
fn warnings(doc: &serde_json::Value) -> String {
    doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("{}\n", w.as_str().unwrap()))
        .collect()
}

/// Messages of the fixture whose key the server check cannot trust alone:
/// INBOX 10 and 11 (one message twice), 20 and 21 and Lists 5 and 6 (no
/// Message-ID), INBOX 30 and 31 (look-alikes).
const TIES: usize = 8;

fn start() -> Dovecot {
    Dovecot::start().unwrap_or_else(|e| panic!("starting Dovecot: {e:#}"))
}

/// A slow first run (so that a kill lands half-way): 200 messages at
/// 150 per second, in batches of 10.
const SLOW: &[&str] = &["--max-rate", "150", "--quiet"];

/// (a) Killed half-way, rerun with `--no-journal` right after the kill (the
/// server may still be storing the killed run's last batches: the check
/// waits for the mailbox to settle), and (another server) with a fresh
/// `--journal` a moment later: what landed is found on the server, the
/// rest uploaded, nothing doubled.
#[test]
fn killed_run_rerun_without_its_journal() {
    let f = fixture();
    for (case, rerun) in [
        ("no-journal", vec!["--no-journal".to_string()]),
        (
            "fresh-journal",
            vec![
                "--journal".to_string(),
                f.journal("fresh.journal").display().to_string(),
            ],
        ),
    ] {
        let server = start();
        let first = f.journal(&format!("{case}-first.journal"));
        let mut c = f.upload(&server, SLOW);
        c.arg("--journal").arg(&first);
        let at_once = case == "no-journal";
        let before = kill_half_way(&server, &mut c, 50, !at_once);
        let out = f.upload(&server, &["--json"]).args(&rerun).assert_success();
        let doc = json(&out);
        let (uploaded, found) = (&doc["totals"]["uploaded"], &doc["server_check"]["found"]);
        if at_once {
            // More may have landed after the kill: found where it landed.
            let found = found.as_u64().unwrap() as usize;
            assert!(found >= before, "{case}: {doc}");
            assert_eq!(
                uploaded.as_u64().unwrap() as usize,
                TOTAL - found,
                "{case}: {doc}"
            );
        } else {
            assert_eq!(*uploaded, TOTAL - before, "{case}: {doc}");
            assert_eq!(*found, before, "{case}: {doc}");
        }
        f.assert_exactly_once(&server, &[], case);
    }
}

/// (b) Killed half-way over imaps://, rerun over the STARTTLS port
/// (imap://): another default journal file, which knows nothing; the
/// server check finds what landed.
#[test]
fn killed_run_rerun_through_the_starttls_port() {
    let f = fixture();
    let server = start();
    let state = f.work.join("state");
    let mut c = f.upload(&server, SLOW);
    c.env("XDG_STATE_HOME", &state);
    let before = kill_half_way(&server, &mut c, 50, true);
    let url = format!("imap://{}@127.0.0.1:{}", server.user(), server.plain_port());
    let out = f
        .upload_to(&server, &url, &["--json"])
        .env("XDG_STATE_HOME", &state)
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], TOTAL - before, "{doc}");
    assert_eq!(doc["server_check"]["found"], before, "{doc}");
    let journals = std::fs::read_dir(state.join("mailhaul"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".journal")
        })
        .count();
    assert_eq!(
        journals, 2,
        "one default journal per spelling of the server"
    );
    f.assert_exactly_once(&server, &[], "rerun via STARTTLS");
}

/// (c) One `--journal` for server A, then for server B: B gets every
/// message. B's INBOX holds three other messages (so it exists and is not
/// empty: the journal's INBOX entries are refuted by UIDVALIDITY or by the
/// spot check), Work and Lists do not exist on B.
#[test]
fn one_journal_two_servers() {
    let f = fixture();
    let (a, b) = (start(), start());
    let journal = f.journal("shared.journal");
    let j = journal.display().to_string();
    f.upload(&a, &["--journal", &j, "--quiet"]).assert_success();
    let foreign: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!("Subject: on B only {i}\r\nMessage-ID: <b{i}@example.org>\r\n\r\nB\r\n")
                .into_bytes()
        })
        .collect();
    let mut r = b.reader().unwrap();
    for m in &foreign {
        assert!(r.append_raw("INBOX", m).unwrap().is_ok());
    }
    drop(r);
    let out = f.upload(&b, &["--journal", &j, "--json"]).assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], TOTAL, "{doc}");
    assert_eq!(doc["totals"]["already_present"], 0, "{doc}");
    let err = warnings(&doc);
    assert!(
        !doc["skips"]
            .to_string()
            .contains("already uploaded (journal)"),
        "{doc}"
    );
    assert!(
        err.contains("INBOX: ") && err.contains("not trusted"),
        "{err}"
    );
    assert!(
        err.contains("Work: the journal has entries for it"),
        "{err}"
    );
    let extra: Vec<(&str, &[u8])> = foreign.iter().map(|m| ("INBOX", m.as_slice())).collect();
    f.assert_exactly_once(&b, &extra, "server B");
    f.assert_exactly_once(&a, &[], "server A");
    // Back on A with the same journal: nothing sent. (Where A's and B's
    // mailboxes share a UIDVALIDITY, B's entries now stand beside A's and
    // the spot check may send A to the server check: slower, still right.)
    let out = f.upload(&a, &["--journal", &j, "--json"]).assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], 0, "{doc}");
    assert_eq!(doc["totals"]["already_present"], TOTAL, "{doc}");
    f.assert_exactly_once(&a, &[], "server A again");
}

/// (d) A server without UIDPLUS (Dovecot behind a proxy hiding UIDPLUS and
/// APPENDUID): the journal has no UIDs. Work deleted and recreated empty,
/// Lists recreated holding one of its messages: the rerun uploads Work and
/// Lists again (Lists' recreation seen by the UIDVALIDITY its journal's
/// Begin recorded), finds INBOX's on the server, doubles nothing.
#[test]
fn no_uidplus_recreated_mailboxes_are_refilled() {
    let f = fixture();
    let server = start();
    let proxy = FaultProxy::start_hiding(
        server.plain_port(),
        None,
        &["STARTTLS", "UIDPLUS", "APPENDUID", "COPYUID"],
    );
    let url = format!("imap://{}@127.0.0.1:{}", server.user(), proxy.port());
    let journal = f.journal("plain.journal");
    let j = journal.display().to_string();
    let run = |extra: &[&str]| {
        let mut c = f.upload_to(&server, &url, &["--allow-plaintext", "--journal", &j]);
        c.args(extra);
        c
    };
    run(&["--quiet"]).assert_success();
    let text = String::from_utf8_lossy(&std::fs::read(&journal).unwrap()).into_owned();
    assert!(
        text.contains("\"uid\":null") && !text.contains("\"uid\":1"),
        "the journal should hold no UIDs without UIDPLUS"
    );
    let mut r = server.reader().unwrap();
    // Recreated in a later second, so that the UIDVALIDITY differs.
    std::thread::sleep(Duration::from_millis(1100));
    for m in ["Work", "Lists"] {
        r.ok(&format!("DELETE {}", quote(m))).unwrap();
        r.ok(&format!("CREATE {}", quote(m))).unwrap();
    }
    let kept = f.expected[2].1[7].clone();
    assert!(r.append_raw("Lists", &kept).unwrap().is_ok());
    drop(r);
    let out = run(&["--json"]).assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], 60 + 40 - 1, "{doc}");
    assert_eq!(doc["server_check"]["found"], 100 + 1, "{doc}");
    let err = warnings(&doc);
    assert!(err.contains("Lists: UIDVALIDITY changed"), "{err}");
    assert!(err.contains("Work: UIDVALIDITY changed"), "{err}");
    f.assert_exactly_once(&server, &[], "no UIDPLUS, recreated");
}

/// The journaled UIDs of Work no longer hold its messages (all expunged,
/// three others appended; same UIDVALIDITY, as on another server with the
/// same names): the spot check refutes the journal, Work is filled again.
/// Lists emptied (same UIDVALIDITY): refuted by STATUS alone, refilled.
#[test]
fn spot_check_refutes_journaled_uids() {
    let f = fixture();
    let server = start();
    let j = f.journal("spot.journal").display().to_string();
    f.upload(&server, &["--journal", &j, "--quiet"])
        .assert_success();
    let foreign: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("Subject: other {i}\r\n\r\nother\r\n").into_bytes())
        .collect();
    let mut r = server.reader().unwrap();
    r.ok("SELECT Work").unwrap();
    r.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)").unwrap();
    r.ok("EXPUNGE").unwrap();
    for m in &foreign {
        assert!(r.append_raw("Work", m).unwrap().is_ok());
    }
    r.ok("SELECT Lists").unwrap();
    r.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)").unwrap();
    r.ok("EXPUNGE").unwrap();
    drop(r);
    let out = f
        .upload(&server, &["--journal", &j, "--json"])
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], 60 + 40, "{doc}");
    assert_eq!(doc["server_check"]["journal_distrusted"], 2, "{doc}");
    assert_eq!(
        doc["server_check"]["spot_checked"], 6,
        "INBOX and Work: {doc}"
    );
    let err = warnings(&doc);
    assert!(
        err.contains("Work: none of the spot-checked journaled UIDs"),
        "{err}"
    );
    assert!(
        err.contains("Lists: the journal lists 40 messages in it but it is empty"),
        "{err}"
    );
    let extra: Vec<(&str, &[u8])> = foreign.iter().map(|m| ("Work", m.as_slice())).collect();
    f.assert_exactly_once(&server, &extra, "journaled UIDs replaced");
}

/// (e) A completed upload rerun without journal uploads nothing, exits 0
/// and says how many it found on the server and what the look cost. A key
/// pre-pass over the source (200 messages) lets a Message-ID unique in the
/// source and on the server be claimed on its key: bodies are fetched
/// (rawlog) only for the 8 messages whose key is repeated (an exact
/// duplicate, look-alikes) or missing (no Message-ID).
#[test]
fn completed_upload_rerun_without_journal_uploads_nothing() {
    let f = fixture();
    let server = start();
    f.upload(&server, &["--no-journal", "--quiet"])
        .assert_success();
    assert_eq!(body_uids(&server), 0, "a first upload reads no body");
    let out = f.upload(&server, &["--no-journal"]).assert_success();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("0 of 200 messages uploaded")
            && summary.contains("server check: 200 already on the server")
            && summary.contains("looked at 200 messages (8 bodies)")
            && summary.contains("source keys: 200 messages read"),
        "{summary}"
    );
    assert_eq!(
        body_uids(&server),
        TIES,
        "bodies fetched only for repeated or missing keys: {:#?}",
        body_commands(&server)
    );
    let out = f
        .upload(&server, &["--no-journal", "--json"])
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], 0, "{doc}");
    assert_eq!(doc["totals"]["already_present"], TOTAL, "{doc}");
    let check = &doc["server_check"];
    assert_eq!(check["found"], TOTAL, "{doc}");
    assert_eq!(check["messages_read"], TOTAL, "{doc}");
    assert_eq!(check["mailboxes_read"], 3, "{doc}");
    assert_eq!(check["bodies_hashed"], TIES, "{doc}");
    assert_eq!(check["source_keys_read"], TOTAL, "{doc}");
    assert!(check["bytes_read"].as_u64().unwrap() > 0, "{doc}");
    f.assert_exactly_once(&server, &[], "rerun without journal");

    // --allow-duplicates sends everything again (the check is off).
    let out = f
        .upload(&server, &["--no-journal", "--allow-duplicates", "--json"])
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], TOTAL, "{doc}");
    assert_eq!(doc["server_check"]["messages_read"], 0, "{doc}");
}

/// Look-alikes (one Message-ID and size, other bodies; no Message-ID, one
/// size and date) of which the server holds only the second: the first,
/// met first in the source, does not take the second's copy. A rerun
/// without journal uploads everything else once, the firsts included.
#[test]
fn look_alikes_of_which_the_server_holds_the_second() {
    let f = fixture();
    let server = start();
    let inbox = &f.expected.iter().find(|(m, _)| m == "INBOX").unwrap().1;
    let body = |tail: &str| {
        inbox
            .iter()
            .find(|m| m.windows(tail.len()).any(|w| w == tail.as_bytes()))
            .unwrap()
            .clone()
    };
    let mut r = server.reader().unwrap();
    let second_twin = body("one Message-ID, body DDDD");
    let second_bare = body("no Message-ID, body BBBB");
    for m in [&second_twin, &second_bare] {
        let a = r
            .append("INBOX", &[], Some("01-Feb-2020 10:20:00 +0000"), m)
            .unwrap();
        assert_eq!(a.status, "OK", "{a:?}");
    }
    drop(r);
    let out = f
        .upload(&server, &["--no-journal", "--json"])
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["server_check"]["found"], 2, "{doc}");
    assert_eq!(doc["totals"]["uploaded"], TOTAL - 2, "{doc}");
    // Their Message-ID (or its absence) is shared in the source: both
    // server copies were confirmed by body, nothing else was read.
    assert_eq!(doc["server_check"]["bodies_hashed"], 2, "{doc}");
    assert_eq!(body_uids(&server), 2, "{:#?}", body_commands(&server));
    f.assert_exactly_once(&server, &[], "look-alikes, second on the server");
}

/// An empty target costs nothing: a first upload into new mailboxes reads
/// no message, and the summary has no server-check line.
#[test]
fn empty_mailboxes_cost_nothing() {
    let f = fixture();
    let server = start();
    let out = f
        .upload(&server, &["--no-journal", "--json"])
        .assert_success();
    let doc = json(&out);
    assert_eq!(doc["totals"]["uploaded"], TOTAL, "{doc}");
    assert_eq!(doc["server_check"]["messages_read"], 0, "{doc}");
    assert_eq!(doc["server_check"]["spot_checked"], 0, "{doc}");
}

/// (e) on every real server: Cyrus and Courier report RFC822.SIZE and
/// Message-ID as Dovecot does, so a rerun without journal finds all 200.
#[test]
fn rerun_without_journal_on_cyrus_and_courier() {
    let f = fixture();
    for kind in [ServerKind::Cyrus, ServerKind::Courier] {
        let server = kind
            .start()
            .unwrap_or_else(|e| panic!("starting {kind:?}: {e:#}"));
        let server = server.as_ref();
        f.upload(server, &["--no-journal", "--quiet"])
            .assert_success();
        let out = f
            .upload(server, &["--no-journal", "--json"])
            .assert_success();
        let doc = json(&out);
        assert_eq!(doc["totals"]["uploaded"], 0, "{kind:?}: {doc}");
        assert_eq!(doc["server_check"]["found"], TOTAL, "{kind:?}: {doc}");
        f.assert_exactly_once(server, &[], &format!("{kind:?}"));
    }
}
