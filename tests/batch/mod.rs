//! `mailhaul batch` (issue 11) against a private Dovecot with many users:
//! 20 accounts of mixed sources where some have a wrong password and one a
//! dead server, rerun to finish exactly those; a batch stopped by SIGINT
//! and another SIGKILLed half-way, each rerun resuming every account;
//! mistakes in the list found before anything is sent; the GNU parallel
//! sharding recipe of the README run as two local processes, the shards'
//! reports merged; accounts stopped by their daily budget (exit 4, not
//! failed) and continued by the same command; a server where nothing
//! listens named once, not as a lost connection, by upload and check.

mod org;

use std::time::{Duration, Instant};

use org::{Org, closed_port, count_ids, json_report, statuses, write_source};

use crate::util::{Cyrus, ImapReader};

#[test]
fn twenty_accounts_with_failures_then_a_rerun_finishes_exactly_those() {
    let org = Org::new(20, 5);
    let port = org.dovecot.tls_port();
    let dead = closed_port();
    // Two wrong passwords (in files, fixed before the rerun), one dead server.
    let wrong = [3, 7];
    for &i in &wrong {
        std::fs::write(org.password_file(i), "wrong\n").unwrap();
    }
    org.write_list(|i| if i == 19 { dead } else { port });

    let out = org
        .batch(&["--accounts", "4", "--json", "--json-progress"])
        .assert_exit_code(1);
    let report = json_report(&out.stdout);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["kind"], "batch");
    let st = statuses(&report);
    assert_eq!(st.len(), 20);
    let mut failed: Vec<String> = wrong.iter().map(|&i| org.name(i, port)).collect();
    failed.push(org.name(19, dead));
    for (name, status) in &st {
        let expect = if failed.contains(name) {
            "failed"
        } else {
            "complete"
        };
        assert_eq!(status, expect, "{name}");
    }
    let mut unfinished: Vec<String> = report["unfinished"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    unfinished.sort();
    assert_eq!(unfinished, failed);
    for a in report["accounts"].as_array().unwrap() {
        if failed.contains(&a["account"].as_str().unwrap().to_string()) {
            assert_eq!(a["exit_code"], 3, "{a}");
            assert!(a["error"].as_str().is_some_and(|e| !e.is_empty()), "{a}");
            if a["account"] == org.name(19, dead).as_str() {
                // Never opened: not "lost", the address once.
                assert_eq!(
                    a["error"],
                    format!(
                        "cannot connect to 127.0.0.1:{dead}: Connection refused (os error 111)"
                    ),
                    "{a}"
                );
            }
        } else {
            assert_eq!(
                (a["found"].as_u64(), a["uploaded"].as_u64()),
                (Some(5), Some(5)),
                "{a}"
            );
        }
    }
    assert_eq!(report["totals"]["uploaded"], 17 * 5);
    // Progress events carry their account; no secret shows anywhere.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("\"account\":\"{}\"", org.name(0, port))),
        "{stderr}"
    );
    for m in &org.members {
        assert!(
            !stderr.contains(&m.password)
                && !String::from_utf8_lossy(&out.stdout).contains(&m.password)
        );
    }
    for i in (0..19).filter(|i| !wrong.contains(i)) {
        org.assert_exactly_once(i, "first run");
    }
    // The state file is private.
    let state = std::fs::read_dir(org.state_home().join("mailhaul"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".state"))
        .expect("a batch state file");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(state.metadata().unwrap().mode() & 0o777, 0o600);

    // Fix the three and run the same command: they upload; the others
    // are verified on the server, one session each, nothing sent.
    for &i in &wrong {
        std::fs::write(
            org.password_file(i),
            format!("{}\n", org.members[i].password),
        )
        .unwrap();
    }
    org.write_list(|_| port);
    let sessions: Vec<usize> = (0..20).map(|i| org.sessions(i)).collect();
    let appends: Vec<usize> = (0..20).map(|i| org.appends(i)).collect();
    let out = org.batch(&["--json"]).assert_success();
    let report = json_report(&out.stdout);
    let st = statuses(&report);
    for (i, a) in report["accounts"].as_array().unwrap().iter().enumerate() {
        let expect = if wrong.contains(&i) || i == 19 {
            "complete"
        } else {
            "already-complete"
        };
        assert_eq!(st[&org.name(i, port)], expect, "{i}");
        if expect == "already-complete" {
            assert_eq!(
                org.sessions(i) - sessions[i],
                1,
                "{i}: one session to verify"
            );
            assert_eq!(org.appends(i), appends[i], "{i}: nothing sent");
            let c = &a["confirmation"];
            assert_eq!(c["sessions"], 1, "{a}");
            assert!(c["rerun_because"].is_null(), "{a}");
            assert!(c["mailboxes"].as_u64() >= Some(1), "{a}");
        } else {
            assert!(a.get("confirmation").is_none(), "{a}");
        }
    }
    assert_eq!(report["totals"]["uploaded"], 3 * 5);
    assert_eq!(report["exit_code"], 0);
    for i in 0..20 {
        org.assert_exactly_once(i, "after the rerun");
    }
    // The table names every account and the totals.
    let out = org.batch(&[]).assert_success();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("20 of 20 accounts complete"), "{table}");
    assert!(table.contains("verified on the server: "), "{table}");
    assert!(table.contains(&org.name(5, port)), "{table}");
}

/// A completed account whose mailbox is deleted on the server is found
/// out by the check before the skip and uploaded again, each message
/// exactly once; the untouched account beside it costs one session and
/// no APPEND. The next run verifies both.
#[test]
fn a_completed_account_whose_mailbox_was_deleted_is_uploaded_again() {
    let org = Org::new(2, 6);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    org.batch(&["--json"]).assert_success();
    for i in 0..2 {
        org.assert_exactly_once(i, "first run");
    }
    // Member 0 has two mbox files: delete the mailbox of the one not INBOX.
    let m = &org.members[0];
    let mut reader = org.dovecot.reader_as(&m.user, &m.password).unwrap();
    let deleted = reader
        .list_mailboxes()
        .unwrap()
        .into_iter()
        .find(|b| !b.eq_ignore_ascii_case("INBOX"))
        .expect("a second mailbox");
    reader
        .ok(&format!(
            "DELETE {}",
            crate::util::imap_reader::quote(&deleted)
        ))
        .unwrap();
    reader.logout().unwrap();
    assert_eq!(org.read_back(0).values().sum::<usize>(), 3);

    let sessions = org.sessions(1);
    let appends = org.appends(1);
    let out = org.batch(&["--json"]).assert_success();
    let report = json_report(&out.stdout);
    let accounts = report["accounts"].as_array().unwrap();
    let (a0, a1) = (&accounts[0], &accounts[1]);
    assert_eq!(a0["status"], "complete", "{a0}");
    assert_eq!(a0["uploaded"], 3, "{a0}");
    let why = a0["confirmation"]["rerun_because"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.starts_with(&format!("{deleted}: not on the server")),
        "{a0}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("complete before, run again: "), "{stderr}");
    assert_eq!(a1["status"], "already-complete", "{a1}");
    assert_eq!(org.sessions(1) - sessions, 1);
    assert_eq!(org.appends(1), appends);
    for i in 0..2 {
        org.assert_exactly_once(i, "after the rerun");
    }

    // The account is complete again: the next run verifies it.
    let out = org.batch(&["--json"]).assert_success();
    let st = statuses(&json_report(&out.stdout));
    assert!(st.values().all(|s| s == "already-complete"), "{st:?}");
}

/// A completed account given another placement (a new `prefix` column)
/// is new work: run again into the new place, not "complete" on the
/// evidence of the old one; the next run with the same list verifies it.
#[test]
fn a_completed_account_with_a_new_prefix_is_uploaded_there() {
    let org = Org::new(2, 4);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    org.batch(&["--json"]).assert_success();
    let list = std::fs::read_to_string(org.list()).unwrap();
    let with_prefix: String = list
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "prefix" } else { "Old mail" }))
        .collect();
    std::fs::write(org.list(), with_prefix).unwrap();
    let out = org.batch(&["--json"]).assert_success();
    let report = json_report(&out.stdout);
    let st = statuses(&report);
    assert!(st.values().all(|s| s == "complete"), "{st:?}");
    assert_eq!(report["totals"]["uploaded"], 8, "{report}");
    for i in 0..2 {
        let seen = org.read_back(i);
        assert_eq!(seen.values().sum::<usize>(), 8, "account {i}: {seen:?}");
        assert!(seen.values().all(|&n| n == 2), "account {i}: {seen:?}");
    }
    let out = org.batch(&["--json"]).assert_success();
    let st = statuses(&json_report(&out.stdout));
    assert!(st.values().all(|s| s == "already-complete"), "{st:?}");
}

/// `batch --dry-run` after a partial run (two accounts stopped half-way
/// by their daily budget, one never logged in): per account how many
/// messages are already there and how many would be sent, as the upload
/// then sends them; nothing on the server, in the journals or in the
/// batch state changes.
#[test]
fn a_dry_run_after_a_partial_run_says_what_each_account_would_send() {
    let org = Org::new(3, 6);
    let port = org.dovecot.tls_port();
    std::fs::write(org.password_file(2), "wrong\n").unwrap();
    org.write_list(|_| port);
    org.batch(&["--json", "--max-bytes-per-day", "1K"])
        .assert_exit_code(1);
    let held: Vec<usize> = (0..2)
        .map(|i| org.read_back(i).values().sum::<usize>())
        .collect();
    assert!(held.iter().all(|h| (1..6).contains(h)), "{held:?}");
    std::fs::write(
        org.password_file(2),
        format!("{}\n", org.members[2].password),
    )
    .unwrap();

    let servers: Vec<String> = (0..3).map(|i| org.server_state(i)).collect();
    let files = org.state_files();
    assert!(
        files
            .keys()
            .any(|p| p.to_string_lossy().ends_with(".state")),
        "{:?}",
        files.keys()
    );
    let appends: Vec<usize> = (0..3).map(|i| org.appends(i)).collect();
    let out = org.batch(&["--dry-run", "--json"]).assert_success();
    let report = json_report(&out.stdout);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["kind"], "batch-dry-run");
    assert_eq!(report["exit_code"], 0);
    let rows = report["accounts"].as_array().unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["account"], org.name(i, port).as_str(), "{row}");
        let there = if i < 2 { held[i] } else { 0 };
        assert_eq!(row["already_there"], there, "{row}");
        assert_eq!(row["would_send"], 6 - there, "{row}");
        assert_eq!(row["exit_code"], 0, "{row}");
    }
    let would_send: u64 = rows.iter().map(|r| r["would_send"].as_u64().unwrap()).sum();
    assert_eq!(report["totals"]["would_send"], would_send);
    // The table says the same.
    let out = org.batch(&["--dry-run"]).assert_success();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!("3 accounts: {would_send} messages (")),
        "{table}"
    );
    assert!(table.contains("nothing sent or written"), "{table}");
    // Nothing changed anywhere, nothing was appended.
    assert_eq!(org.state_files(), files);
    for i in 0..3 {
        assert_eq!(org.server_state(i), servers[i], "account {i}");
        assert_eq!(org.appends(i), appends[i], "account {i}");
    }
    // The upload sends exactly what the dry run said.
    let out = org.batch(&["--json"]).assert_success();
    let report = json_report(&out.stdout);
    assert_eq!(report["totals"]["uploaded"], would_send, "{report}");
    for i in 0..3 {
        org.assert_exactly_once(i, "after the dry run and the upload");
    }
    // --dry-run is the batch's own option, not one for every account.
    let out = org.batch(&["--jobs", "1", "--dry-run"]).assert_exit_code(2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--dry-run is a batch option"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until the batch state records at least one complete account.
fn wait_for_a_complete_account(org: &Org, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read_dir(org.state_home().join("mailhaul"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".state"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .any(|t| t.contains("journal_len"));
        if done {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before any account completed"
        );
        assert!(Instant::now() < deadline, "no account completed in time");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn interrupted_and_killed_batches_resume_every_account() {
    let org = Org::new(6, 600);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    let args = ["--accounts", "2", "--json", "--batch-size", "10"];

    // SIGINT once an account has landed: 130, the others interrupted or not started.
    let mut child = org.batch(&args).spawn_piped();
    wait_for_a_complete_account(&org, &mut child);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_report(&out.stdout);
    let st = statuses(&report);
    assert!(st.values().any(|s| s == "complete"), "{st:?}");
    assert!(
        st.values()
            .any(|s| s == "interrupted" || s == "not-started"),
        "{st:?}"
    );
    // Not every source was read: the totals do not claim it ("N of N").
    assert_eq!(report["totals"]["read_all"], false, "{report}");
    for a in report["accounts"].as_array().unwrap() {
        match a["status"].as_str() {
            Some("complete") => assert_eq!(a["read_all"], true, "{a}"),
            Some("not-started") => assert_eq!(a["read_all"], false, "{a}"),
            _ => {}
        }
    }

    // A rerun SIGKILLed half-way, then one more that finishes.
    let mut child = org.batch(&args).spawn();
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let out = org.batch(&args).assert_success();
    let st = statuses(&json_report(&out.stdout));
    assert!(
        st.values()
            .all(|s| s == "complete" || s == "already-complete"),
        "{st:?}"
    );
    for i in 0..6 {
        org.assert_exactly_once(i, "after SIGINT, SIGKILL and a rerun");
    }
}

/// `batch LIST --check` without the accounts' password variables: exit 2
/// and its stderr.
fn check_without_variables(org: &Org) -> String {
    let mut c = crate::util::MailhaulCommand::new();
    let out = c
        .arg("batch")
        .arg(org.list())
        .arg("--check")
        .env("XDG_STATE_HOME", org.state_home())
        .assert_exit_code(2);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mistakes_in_the_list_are_found_before_anything_is_sent() {
    let org = Org::new(3, 2);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    let good = std::fs::read_to_string(org.list()).unwrap();
    // --check on a good list: no connection.
    let out = org.batch(&["--check"]).assert_success();
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 accounts, no mistakes"));
    assert_eq!((0..3).map(|i| org.sessions(i)).sum::<usize>(), 0);

    // An unknown column: line 1.
    std::fs::write(
        org.list(),
        good.replacen("password_command", "pasword_command", 1),
    )
    .unwrap();
    let out = org.batch(&[]).assert_exit_code(2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accounts.csv:1: unknown column \"pasword_command\""),
        "{err}"
    );

    // A bad row (line 3) and a missing variable (line 2): both named, nothing sent.
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines[2] = lines[2].replace("imaps://", "https://");
    std::fs::write(org.list(), lines.join("\n")).unwrap();
    let out = org.batch(&[]).assert_exit_code(2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("accounts.csv:3: server"), "{err}");
    std::fs::write(org.list(), &good).unwrap();
    let err = check_without_variables(&org);
    assert!(
        err.contains("accounts.csv:2: password_env PW_u00 is not set"),
        "{err}"
    );
    // An upload option that belongs to a row.
    let out = org.batch(&["--journal", "/tmp/x"]).assert_exit_code(2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--journal cannot be given to every account")
    );
    assert_eq!(
        (0..3).map(|i| org.sessions(i)).sum::<usize>(),
        0,
        "something was sent"
    );
}

/// A list saved by Excel ("CSV UTF-8": a byte order mark first, CRLF) is
/// read; `--check` names every row's mistakes with `FILE:LINE`, not only
/// the first; a row's failing password_command is named by its column.
#[test]
fn an_excel_list_with_mistakes_in_several_rows_names_each() {
    let org = Org::new(3, 1);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    let good = std::fs::read_to_string(org.list()).unwrap();
    let excel = |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"));
    // Line 2: its variable unset (the command sets none); line 4: a bad server.
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines[3] = lines[3].replace("imaps://", "https://");
    std::fs::write(org.list(), excel(&(lines.join("\n") + "\n"))).unwrap();
    let err = check_without_variables(&org);
    assert!(!err.contains("unknown column"), "{err}");
    assert!(
        err.contains("accounts.csv:2: password_env PW_u00 is not set"),
        "{err}"
    );
    assert!(err.contains("accounts.csv:4: server"), "{err}");

    // Line 3's password_command fails: said in the list's terms.
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    let at = lines[2].find(",,cat ").unwrap();
    lines[2] = format!("{},,false", &lines[2][..at]);
    std::fs::write(org.list(), excel(&(lines.join("\n") + "\n"))).unwrap();
    let out = org.batch(&["--json"]).run();
    let report = json_report(&out.stdout);
    let failed = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["line"] == 3)
        .unwrap_or_else(|| panic!("{report:#}"));
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the password_command column's command failed"),
        "{report:#}"
    );
    assert_eq!(failed["exit_code"], 3, "{report:#}");
    org.assert_exactly_once(0, "the other accounts ran");
}

#[test]
fn two_shards_with_gnu_parallel_and_their_reports_merged() {
    let org = Org::new(4, 3);
    let port = org.dovecot.tls_port();
    org.write_list(|_| port);
    let dir = org.dir.path();
    // The README's recipe: split the rows into shards (each with the
    // header), one `mailhaul batch` per shard, then merge the reports.
    let mailhaul = env!("CARGO_BIN_EXE_mailhaul");
    let script = format!(
        r#"set -e
cd '{dir}'
mkdir -p shards
tail -n +2 accounts.csv | split -n r/2 -d --additional-suffix=.csv \
  --filter='{{ head -n 1 accounts.csv; cat; }} > "$FILE"' - shards/shard-
parallel --will-cite -j 2 '{mailhaul} batch {{}} --ca-file {ca} --json > {{.}}.json' ::: shards/*.csv
{mailhaul} batch --merge-reports shards/*.json --json > merged.json
jq -r '[.[].accounts[] | select(.status | test("complete") | not) | .account] | join(",")' -s shards/*.json > unfinished.txt
"#,
        dir = dir.display(),
        ca = org.dovecot.ca_file().display(),
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(&script)
        .env("XDG_STATE_HOME", org.state_home())
        .env("HOME", dir);
    for m in &org.members {
        cmd.env(format!("PW_{}", m.user), &m.password);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shards: Vec<_> = std::fs::read_dir(dir.join("shards"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(shards.len(), 2);
    let merged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("merged.json")).unwrap()).unwrap();
    let st = statuses(&merged);
    assert_eq!(st.len(), 4);
    assert!(st.values().all(|s| s == "complete"), "{st:?}");
    assert_eq!(merged["totals"]["uploaded"], 12);
    assert_eq!(
        std::fs::read_to_string(dir.join("unfinished.txt"))
            .unwrap()
            .trim(),
        ""
    );
    for i in 0..4 {
        org.assert_exactly_once(i, "sharded");
    }
}

/// One list over two servers, Dovecot and Cyrus, each row with its own
/// ca_file, at most one connection per server: every account lands once.
#[test]
fn accounts_on_dovecot_and_cyrus_in_one_list() {
    let org = Org::new(2, 4);
    let cyrus = Cyrus::start().unwrap_or_else(|e| panic!("starting Cyrus: {e:#}"));
    let mut csv = String::from("source,server,password_file,ca_file\n");
    let mut on_cyrus = Vec::new();
    for i in 0..3 {
        let user = format!("c{i}");
        let password = crate::util::sys::random_hex();
        cyrus.add_user(&user, &password).unwrap();
        let (source, ids) = write_source(&org.sources(), i, &user, 4);
        let pw = org.dir.path().join(format!("{user}.pw"));
        std::fs::write(&pw, &password).unwrap();
        csv.push_str(&format!(
            "\"{source}\",imaps://{user}@127.0.0.1:{},{},{}\n",
            cyrus.tls_port(),
            pw.display(),
            cyrus.ca_file().display()
        ));
        on_cyrus.push((user, password, ids));
    }
    for (i, m) in org.members.iter().enumerate() {
        let pw = org.password_file(i);
        std::fs::write(&pw, &m.password).unwrap();
        csv.push_str(&format!(
            "\"{}\",imaps://{}@127.0.0.1:{},{},{}\n",
            m.source,
            m.user,
            org.dovecot.tls_port(),
            pw.display(),
            org.dovecot.ca_file().display()
        ));
    }
    std::fs::write(org.list(), csv).unwrap();
    let mut c = crate::util::MailhaulCommand::new();
    let out = c
        .arg("batch")
        .arg(org.list())
        .args([
            "--accounts",
            "4",
            "--max-connections-per-server",
            "1",
            "--json",
            "-vv",
        ])
        .env("XDG_STATE_HOME", org.state_home())
        .assert_success();
    // Shown only when the read-back disagrees with the report.
    let explain = || format!("{}\n--- Cyrus log ---\n{}", c.explain(&out), cyrus.log());
    let st = statuses(&json_report(&out.stdout));
    assert_eq!(st.len(), 5);
    assert!(st.values().all(|s| s == "complete"), "{st:?}");
    for (user, password, ids) in &on_cyrus {
        let seen = count_ids(ImapReader::login(cyrus.plain_port(), user, password).unwrap());
        for id in ids {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "{user}: {id} in {seen:?}\n{}",
                explain()
            );
        }
        assert_eq!(
            seen.values().sum::<usize>(),
            ids.len(),
            "{user}: {seen:?}\n{}",
            explain()
        );
    }
    for i in 0..2 {
        org.assert_exactly_once(i, "beside Cyrus");
    }
}

#[test]
fn accounts_stopped_by_their_daily_budget_are_exit_4_and_continued_later() {
    let org = Org::new(2, 6);
    org.write_list(|_| org.dovecot.tls_port());
    let out = org
        .batch(&["--json", "--max-bytes-per-day", "1K"])
        .assert_exit_code(4);
    let report = json_report(&out.stdout);
    let st = statuses(&report);
    assert!(st.values().all(|s| s == "quota"), "{st:?}");
    assert_eq!(report["totals"]["quota"], 2, "{report}");
    assert_eq!(report["totals"]["failed"], 0, "{report}");
    assert_eq!(report["exit_code"], 4);
    for i in 0..2 {
        let held: usize = org.read_back(i).values().sum();
        assert!(
            (1..6).contains(&held),
            "account {i}: {held} of 6 landed under a 1K budget"
        );
    }
    // The quota has room again (a larger budget): the same command finishes
    // both, nothing doubled.
    let out = org
        .batch(&["--json", "--max-bytes-per-day", "10M"])
        .assert_success();
    let st = statuses(&json_report(&out.stdout));
    assert!(st.values().all(|s| s == "complete"), "{st:?}");
    for i in 0..2 {
        org.assert_exactly_once(i, "after the quota stop");
    }
}

#[test]
fn a_server_that_refuses_tcp_is_named_once_and_not_lost() {
    // Nothing listens: `upload` and `check` say so in one clause (no
    // "connection lost", the address not twice) and exit 3.
    let dead = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("Box");
    std::fs::write(&src, "From a@b Sat Feb  1 10:00:00 2020\nSubject: x\n\nx\n").unwrap();
    let want = format!(
        "mailhaul: error: cannot connect to 127.0.0.1:{dead}: Connection refused (os error 111)"
    );
    for cmd in ["upload", "check"] {
        let mut c = crate::util::MailhaulCommand::new();
        c.arg(cmd);
        if cmd == "upload" {
            c.arg(&src).arg("--no-journal");
        }
        c.arg("--server")
            .arg(format!("imap://ann@127.0.0.1:{dead}"))
            .arg("--allow-plaintext")
            .env("MAILHAUL_PASSWORD", "x");
        let out = c.assert_exit_code(3);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.lines().any(|l| l == want),
            "{cmd}: {want:?} missing:\n{stderr}"
        );
    }
}
