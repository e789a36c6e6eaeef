//! The terminal experience, in a real terminal: tmux runs mailhaul in an
//! 80×24 pane; the bytes the terminal received are recorded (pipe-pane) to
//! see the progress bar was drawn, and the final screen is read back to check
//! the summary is readable within 80 columns.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::Dovecot;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        Tmux {
            socket: format!("mailhaul-test-{}-{:?}", std::process::id(), Instant::now()),
        }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (scripts/install-test-deps installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn write_mbox(path: &Path, n: usize) {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "From a@example.org Mon Jan  6 09:15:00 2020\nSubject: message {i}\nMessage-ID: <t{i}@example.org>\n\n{}\n",
            "some text to make the message a few kilobytes long\n".repeat(60)
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs `mailhaul upload SOURCES --batch-size 10 EXTRA` against `dovecot` in
/// an 80×24 tmux pane; returns the final screen and every byte the
/// terminal received.
fn upload_in_terminal(dovecot: &Dovecot, sources: &[&Path], extra: &str) -> (String, String) {
    let sources: Vec<String> = sources
        .iter()
        .map(|p| shell_quote(&p.display().to_string()))
        .collect();
    in_terminal(&format!(
        "env -u NO_COLOR MAILHAUL_PASSWORD={pw} {bin} upload {sources} --server {url} --ca-file {ca} --batch-size 10 {extra}",
        pw = shell_quote(dovecot.password()),
        bin = shell_quote(env!("CARGO_BIN_EXE_mailhaul")),
        sources = sources.join(" "),
        url = shell_quote(&dovecot.imaps_url()),
        ca = shell_quote(&dovecot.ca_file().display().to_string()),
    ))
}

/// Runs the shell `command` in an 80×24 tmux pane; returns the final
/// screen and every byte the terminal received.
fn in_terminal(command: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("terminal-bytes.log");
    let tmux = Tmux::new();
    let command = format!(
        "tmux -L {sock} wait-for go; {command}; echo EXIT=$?; sleep 60",
        sock = shell_quote(&tmux.socket),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-x",
        "80",
        "-y",
        "24",
        "-s",
        "t",
        &command,
    ]);
    tmux.run(&[
        "pipe-pane",
        "-t",
        "t",
        "-o",
        &format!("cat >> {}", shell_quote(&record.display().to_string())),
    ]);
    tmux.run(&["wait-for", "-S", "go"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let screen = loop {
        // -J joins lines tmux wrapped, so an over-long line stays long.
        let screen = tmux.run(&["capture-pane", "-p", "-J", "-t", "t"]);
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "mailhaul did not finish:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let recorded = String::from_utf8_lossy(&std::fs::read(&record).unwrap()).into_owned();
    (screen, recorded)
}

#[test]
fn progress_bar_renders_and_summary_fits_80_columns() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("terminal.mbox");
    write_mbox(&mbox, 400);
    let (screen, recorded) = upload_in_terminal(&dovecot, &[&mbox], "");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        recorded.contains("ETA") && recorded.contains("msgs → terminal"),
        "no progress bar was drawn; the terminal received:\n{recorded}"
    );
    let summary: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.starts_with("mailbox"))
        .take_while(|l| !l.starts_with("EXIT="))
        .collect();
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("total") && l.contains("400")),
        "{screen}"
    );
    assert!(
        summary
            .iter()
            .any(|l| l.contains("400 of 400 messages uploaded")),
        "{screen}"
    );
    for line in &summary {
        assert!(line.chars().count() <= 80, "{line}");
    }
    assert!(
        !screen.contains("\u{fffd}"),
        "replacement characters on screen:\n{screen}"
    );
}

/// `--jobs 2`: the total bar and one line per connection, each naming the
/// mailbox it fills; the summary counts both mailboxes.
#[test]
fn jobs_draw_one_line_per_connection() {
    let dovecot = Dovecot::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (alpha, beta) = (dir.path().join("alpha"), dir.path().join("beta"));
    write_mbox(&alpha, 300);
    write_mbox(&beta, 300);
    let (screen, recorded) = upload_in_terminal(&dovecot, &[&alpha, &beta], "--jobs 2");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        recorded.contains("ETA")
            && recorded.contains("msgs → alpha")
            && recorded.contains("msgs → beta"),
        "no per-connection lines were drawn; the terminal received:\n{recorded}"
    );
    assert!(screen.contains("600 of 600 messages uploaded"), "{screen}");
}

/// `mailhaul batch` with two accounts: the total line (accounts done, ETA)
/// and one line per running account were drawn; the table fits 80 columns.
#[test]
fn batch_draws_a_total_and_one_line_per_account() {
    let dovecot = Dovecot::start().unwrap();
    dovecot.add_user("second", "second-pw").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (alpha, beta) = (dir.path().join("alpha"), dir.path().join("beta"));
    write_mbox(&alpha, 300);
    write_mbox(&beta, 300);
    std::fs::write(dir.path().join("first.pw"), dovecot.password()).unwrap();
    std::fs::write(dir.path().join("second.pw"), "second-pw").unwrap();
    let port = dovecot.tls_port();
    std::fs::write(
        dir.path().join("accounts.csv"),
        format!(
            "source,server,password_file\nalpha,imaps://{}@127.0.0.1:{port},first.pw\nbeta,imaps://second@127.0.0.1:{port},second.pw\n",
            dovecot.user()
        ),
    )
    .unwrap();
    let (screen, recorded) = in_terminal(&format!(
        "env -u NO_COLOR XDG_STATE_HOME={state} {bin} batch {csv} --ca-file {ca} --batch-size 10",
        state = shell_quote(&dir.path().join("state").display().to_string()),
        bin = shell_quote(env!("CARGO_BIN_EXE_mailhaul")),
        csv = shell_quote(&dir.path().join("accounts.csv").display().to_string()),
        ca = shell_quote(&dovecot.ca_file().display().to_string()),
    ));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        recorded.contains("ETA")
            && recorded.contains("/2 accounts")
            && recorded.contains(&format!("second@127.0.0.1:{port}"))
            && recorded.contains("msgs → beta"),
        "no total and account lines were drawn; the terminal received:\n{recorded}"
    );
    assert!(screen.contains("2 of 2 accounts complete"), "{screen}");
    let table: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.starts_with("account"))
        .take_while(|l| !l.starts_with("2 of 2"))
        .collect();
    assert_eq!(table.len(), 3, "{screen}");
    for line in table {
        assert!(line.chars().count() <= 80, "{line}");
    }
}
