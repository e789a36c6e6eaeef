//! An organization to migrate: users in one private Dovecot, each with a
//! small source of its own kind (mbox files, a Maildir, a folder of .eml),
//! secrets from files, commands and variables, and the accounts list that
//! names them. Read back per account: every Message-ID it should hold,
//! exactly once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::util::dovecot::{parse_rawlog_commands, strip_rawlog_timestamps};
use crate::util::{Dovecot, DovecotOptions, ImapReader, MailhaulCommand};

/// One user of the organization.
pub struct Member {
    pub user: String,
    pub password: String,
    /// The Message-IDs its source holds.
    pub ids: Vec<String>,
    /// Its `source` field in the list.
    pub source: String,
}

pub struct Org {
    pub dovecot: Dovecot,
    pub dir: tempfile::TempDir,
    pub members: Vec<Member>,
}

/// Writes `n` messages of `user` (ids `<user-K@batch.test>` from `first`)
/// as one of three kinds; returns the CSV `source` field.
pub fn write_source(root: &Path, kind: usize, user: &str, n: usize) -> (String, Vec<String>) {
    let home = root.join(user);
    let ids: Vec<String> = (0..n).map(|k| format!("{user}-{k}@batch.test")).collect();
    let message = |k: usize| {
        format!(
            "From: boss@example.org\nTo: {user}@example.org\nSubject: {user} {k}\nMessage-ID: <{}>\nDate: Sat, 1 Feb 2020 10:00:00 +0000\n\nhello {user} {k}\n{}\n",
            ids[k],
            "line of text\n".repeat(k % 7)
        )
    };
    let source = match kind % 3 {
        0 => {
            // Two mbox files: the `|` list.
            std::fs::create_dir_all(&home).unwrap();
            let mut paths = Vec::new();
            for (name, range) in [("inbox.mbox", 0..n / 2), ("archive.mbox", n / 2..n)] {
                let text: String = range
                    .map(|k| {
                        format!(
                            "From boss@example.org Sat Feb  1 10:00:00 2020\n{}\n",
                            message(k)
                        )
                    })
                    .collect();
                std::fs::write(home.join(name), text).unwrap();
                paths.push(home.join(name).display().to_string());
            }
            paths.join("|")
        }
        1 => {
            let md = home.join("Maildir");
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(md.join(sub)).unwrap();
            }
            for k in 0..n {
                std::fs::write(
                    md.join("cur").join(format!("1580551200.{k}.batch:2,S")),
                    message(k),
                )
                .unwrap();
            }
            md.display().to_string()
        }
        _ => {
            let eml = home.join("exported");
            std::fs::create_dir_all(&eml).unwrap();
            for k in 0..n {
                std::fs::write(eml.join(format!("{k:03}.eml")), message(k)).unwrap();
            }
            eml.display().to_string()
        }
    };
    (source, ids)
}

impl Org {
    /// `users` users in a fresh Dovecot, `n` messages each.
    pub fn new(users: usize, n: usize) -> Org {
        let dovecot = Dovecot::start_with(DovecotOptions::default())
            .unwrap_or_else(|e| panic!("starting Dovecot: {e:#}"));
        let dir = tempfile::tempdir().unwrap();
        let mut members = Vec::new();
        for i in 0..users {
            let user = format!("u{i:02}");
            let password = format!("pw-{i}-{}", crate::util::sys::random_hex());
            dovecot.add_user(&user, &password).unwrap();
            members.push(Member {
                user,
                password,
                ids: Vec::new(),
                source: String::new(),
            });
        }
        let mut org = Org {
            dovecot,
            dir,
            members,
        };
        for i in 0..users {
            let (source, ids) = write_source(&org.sources(), i, &org.members[i].user, n);
            org.members[i].ids = ids;
            org.members[i].source = source;
        }
        org
    }

    pub fn sources(&self) -> PathBuf {
        self.dir.path().join("sources")
    }

    pub fn list(&self) -> PathBuf {
        self.dir.path().join("accounts.csv")
    }

    /// Where journals and the batch state go (shared by every run).
    pub fn state_home(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn password_file(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("{}.pw", self.members[i].user))
    }

    /// Writes the list: member `i`'s secret from a variable (i % 4 == 0), a
    /// command (1) or a file (2, 3); `port_of(i)` its server's port.
    pub fn write_list(&self, port_of: impl Fn(usize) -> u16) {
        let mut csv = String::from("source,server,password_file,password_env,password_command\n");
        for (i, m) in self.members.iter().enumerate() {
            let source = &m.source;
            let pw = self.password_file(i);
            if !pw.exists() {
                std::fs::write(&pw, format!("{}\n", m.password)).unwrap();
            }
            let server = format!("imaps://{}@127.0.0.1:{}", m.user, port_of(i));
            let secret = match i % 4 {
                0 => format!(",PW_{},", m.user),
                1 => format!(",,cat '{}'", pw.display()),
                _ => format!("{},,", pw.display()),
            };
            csv.push_str(&format!("\"{source}\",{server},{secret}\n"));
        }
        std::fs::write(self.list(), csv).unwrap();
    }

    /// `mailhaul batch LIST --ca-file CERT` with the variables set and the
    /// state home shared between runs; `extra` after the list.
    pub fn batch(&self, extra: &[&str]) -> MailhaulCommand {
        let mut c = MailhaulCommand::new();
        c.arg("batch")
            .arg(self.list())
            .arg("--ca-file")
            .arg(self.dovecot.ca_file())
            .args(extra)
            .env("XDG_STATE_HOME", self.state_home())
            .attach(&self.dovecot);
        for m in &self.members {
            c.env(format!("PW_{}", m.user), &m.password);
        }
        c
    }

    /// How often each Message-ID is on member `i`'s server account.
    pub fn read_back(&self, i: usize) -> HashMap<String, usize> {
        let m = &self.members[i];
        count_ids(self.dovecot.reader_as(&m.user, &m.password).unwrap())
    }

    /// What member `i`'s account holds, as text to compare: per mailbox
    /// its STATUS (MESSAGES UIDNEXT UIDVALIDITY) and every message's
    /// flags, internal date and bytes (read with EXAMINE: nothing changes).
    pub fn server_state(&self, i: usize) -> String {
        let m = &self.members[i];
        let mut reader = self.dovecot.reader_as(&m.user, &m.password).unwrap();
        let mut mailboxes = reader.list_mailboxes().unwrap();
        mailboxes.sort();
        let mut out = String::new();
        for b in mailboxes {
            let status = reader
                .ok(&format!(
                    "STATUS {} (MESSAGES UIDNEXT UIDVALIDITY)",
                    crate::util::imap_reader::quote(&b)
                ))
                .unwrap();
            out.push_str(&format!("{b}: {:?}\n", status.untagged));
            for f in reader.fetch_all(&b).unwrap() {
                out.push_str(&format!(
                    "{:?} {} {}\n",
                    f.flags,
                    f.internal_date,
                    String::from_utf8_lossy(&f.body)
                ));
            }
        }
        reader.logout().unwrap();
        out
    }

    /// Every file under the state home (journals, the batch state) with
    /// its bytes.
    pub fn state_files(&self) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        walk(&self.state_home())
    }

    /// Member `i` holds every one of its messages exactly once.
    pub fn assert_exactly_once(&self, i: usize, when: &str) {
        let seen = self.read_back(i);
        let m = &self.members[i];
        for id in &m.ids {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "{when}: {} holds {id} {:?} times",
                m.user,
                seen.get(id)
            );
        }
        assert_eq!(
            seen.values().sum::<usize>(),
            m.ids.len(),
            "{when}: {} extra messages: {seen:?}",
            m.user
        );
    }

    /// Member `i`'s account name in reports.
    pub fn name(&self, i: usize, port: u16) -> String {
        format!("{}@127.0.0.1:{port}", self.members[i].user)
    }

    /// Sessions Dovecot logged for member `i` (one rawlog pair each).
    pub fn sessions(&self, i: usize) -> usize {
        self.session_inputs(i).len()
    }

    /// APPEND commands (a MULTIAPPEND counts once) member `i`'s sessions
    /// sent, read from Dovecot's rawlog.
    pub fn appends(&self, i: usize) -> usize {
        self.session_inputs(i)
            .iter()
            .flat_map(|raw| parse_rawlog_commands(&strip_rawlog_timestamps(raw)))
            .filter(|c| {
                c.split(' ')
                    .nth(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case("APPEND"))
            })
            .count()
    }

    /// What the client sent in each of member `i`'s sessions (rawlog `*.in`).
    fn session_inputs(&self, i: usize) -> Vec<Vec<u8>> {
        let dir = self
            .dovecot
            .dir()
            .join("rawlog")
            .join(&self.members[i].user);
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "in"))
                    .filter_map(|e| std::fs::read(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The `--json` report on stdout.
pub fn json_report(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

/// Each account's status in a report, by name.
pub fn statuses(report: &serde_json::Value) -> HashMap<String, String> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// How often each Message-ID is in the account `reader` is logged in to.
pub fn count_ids(mut reader: ImapReader) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for mailbox in reader.selectable_mailboxes().unwrap() {
        for f in reader.fetch_all(&mailbox).unwrap() {
            let text = String::from_utf8_lossy(&f.body);
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: <"))
                .map(|l| l.trim_end_matches('>').to_string())
                .unwrap_or_default();
            *seen.entry(id).or_default() += 1;
        }
    }
    seen
}

/// Every file under `dir`, with its bytes.
fn walk(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let path = e.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    files
}
