//! The accounts list of `mailhaul batch`: a CSV file (RFC 4180: commas,
//! double-quoted fields with `""` for a quote, a header row naming the
//! columns) read into [`Account`] rows. Every mistake names its line, and
//! the whole file is judged before anything is sent; nothing here touches
//! the network or reads a secret (a `password_file` is only checked to
//! exist, `password_command` is not run).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::ServerUrl;

/// The columns a list may have; `source` and `server` are required, and
/// exactly one of the secret columns.
pub const COLUMNS: &[&str] = &[
    "source",
    "server",
    "password_file",
    "password_command",
    "password_env",
    "oauth2_token_command",
    "prefix",
    "mailbox",
    "ca_file",
];

/// Where one account's secret comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretColumn {
    File(PathBuf),
    Command(String),
    /// The name of an environment variable holding the password.
    Env(String),
    OAuth2Command(String),
}

/// One row: one account to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub sources: Vec<PathBuf>,
    /// `imaps://user@host[:port]`, as for `upload --server`.
    pub server: String,
    pub url: ServerUrl,
    pub secret: SecretColumn,
    pub prefix: Option<String>,
    pub mailbox: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl Account {
    /// `user@host:port`: how reports, progress and the state file name it.
    pub fn name(&self) -> String {
        format!("{}@{}:{}", self.url.user, self.url.host, self.url.port)
    }

    /// `host:port`: the server whose connection cap this account counts against.
    pub fn server_key(&self) -> String {
        format!("{}:{}", self.url.host, self.url.port)
    }
}

/// A mistake in the list, at a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl ListError {
    /// `FILE:LINE: message`, as compilers say where a mistake is.
    pub fn at(&self, file: &Path) -> String {
        format!("{}:{}: {}", file.display(), self.line, self.message)
    }
}

/// Reads and checks the list at `path`; relative paths in it are taken
/// relative to the list's directory. The accounts of the rows without
/// mistakes, and every mistake of every row.
pub fn read(path: &Path) -> (Vec<Account>, Vec<ListError>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            let message = format!("cannot read {}: {e}", path.display());
            return (Vec::new(), vec![ListError { line: 0, message }]);
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    parse_all(&text, base)
}

/// Parses the list's text: all mistakes, or the accounts; see [`read`].
pub fn parse(text: &str, base: &Path) -> Result<Vec<Account>, Vec<ListError>> {
    match parse_all(text, base) {
        (accounts, errors) if errors.is_empty() => Ok(accounts),
        (_, errors) => Err(errors),
    }
}

/// The accounts of the rows without mistakes, and every mistake. A
/// leading byte order mark (Excel's "CSV UTF-8") is not part of the
/// first column's name.
fn parse_all(text: &str, base: &Path) -> (Vec<Account>, Vec<ListError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = match records(text) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut records = records.into_iter().filter(|(_, r)| !is_blank(r));
    let Some((header_line, header)) = records.next() else {
        let message =
            "the list is empty: it needs a header row (source,server,password_file,…)".into();
        return (Vec::new(), vec![ListError { line: 1, message }]);
    };
    let mut errors = Vec::new();
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if !COLUMNS.contains(&h.as_str()) {
            errors.push(ListError {
                line: header_line,
                message: format!("unknown column {h:?} (known: {})", COLUMNS.join(", ")),
            });
        } else if header[..i].contains(h) {
            errors.push(ListError {
                line: header_line,
                message: format!("column {h:?} is named twice"),
            });
        }
    }
    for required in ["source", "server"] {
        if !header.iter().any(|h| h == required) {
            errors.push(ListError {
                line: header_line,
                message: format!("the header has no {required:?} column"),
            });
        }
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let mut accounts: Vec<Account> = Vec::new();
    for (line, fields) in records {
        match row(line, &header, &fields, base) {
            Ok(a) => {
                if let Some(first) = accounts.iter().find(|b| b.name() == a.name()) {
                    errors.push(ListError {
                        line,
                        message: format!(
                            "account {} is already on line {} (one journal and lock per account)",
                            a.name(),
                            first.line
                        ),
                    });
                } else {
                    accounts.push(a);
                }
            }
            Err(messages) => errors.extend(
                messages
                    .into_iter()
                    .map(|message| ListError { line, message }),
            ),
        }
    }
    (accounts, errors)
}

fn is_blank(record: &[String]) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

/// One data row against the header: the account, or every mistake in it.
fn row(
    line: usize,
    header: &[String],
    fields: &[String],
    base: &Path,
) -> Result<Account, Vec<String>> {
    if fields.len() != header.len() {
        return Err(vec![format!(
            "{} fields, but the header has {} columns",
            fields.len(),
            header.len()
        )]);
    }
    let get = |name: &str| -> Option<String> {
        let i = header.iter().position(|h| h == name)?;
        Some(fields[i].trim().to_string()).filter(|v| !v.is_empty())
    };
    let path = |p: String| base.join(p);
    let mut mistakes = Vec::new();
    let sources: Vec<PathBuf> = get("source")
        .unwrap_or_default()
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| path(s.to_string()))
        .collect();
    if sources.is_empty() {
        mistakes.push("the source is empty".to_string());
    }
    for s in &sources {
        if !s.exists() {
            mistakes.push(format!("source {} does not exist", s.display()));
        }
    }
    let server = get("server");
    let url = match server.as_deref().map(ServerUrl::parse) {
        None => {
            mistakes.push("the server is empty".into());
            None
        }
        Some(Err(e)) => {
            mistakes.push(format!("server: {e:#}"));
            None
        }
        Some(Ok(url)) => Some(url),
    };
    let mut secrets = Vec::new();
    if let Some(f) = get("password_file") {
        secrets.push(SecretColumn::File(path(f)));
    }
    if let Some(c) = get("password_command") {
        secrets.push(SecretColumn::Command(c));
    }
    if let Some(e) = get("password_env") {
        secrets.push(SecretColumn::Env(e));
    }
    if let Some(c) = get("oauth2_token_command") {
        secrets.push(SecretColumn::OAuth2Command(c));
    }
    const SECRETS: &str = "password_file, password_command, password_env, oauth2_token_command";
    match secrets.len() {
        0 => mistakes.push(format!("no secret: fill one of {SECRETS}")),
        1 => {}
        _ => mistakes.push(format!("more than one of {SECRETS}")),
    }
    if let [SecretColumn::File(f)] = secrets.as_slice()
        && !f.is_file()
    {
        mistakes.push(format!("password_file {} does not exist", f.display()));
    }
    let ca_file = get("ca_file").map(path);
    if let Some(f) = &ca_file
        && !f.is_file()
    {
        mistakes.push(format!("ca_file {} does not exist", f.display()));
    }
    match (server, url, secrets.pop()) {
        (Some(server), Some(url), Some(secret)) if mistakes.is_empty() => Ok(Account {
            line,
            sources,
            server,
            url,
            secret,
            prefix: get("prefix"),
            mailbox: get("mailbox"),
            ca_file,
        }),
        _ => Err(mistakes),
    }
}

/// Splits RFC 4180 text into records, each with the line it starts on.
/// Quoted fields may hold commas, `""` and newlines; `\r\n` and `\n` both end
/// a record.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, ListError> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            '"' => {
                return Err(ListError {
                    line,
                    message: "a quote inside an unquoted field (quote the whole field)".into(),
                });
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                out.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(ListError {
            line: start,
            message: "a quoted field is not closed".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push((start, fields));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.mbox"), "").unwrap();
        std::fs::write(dir.path().join("b.mbox"), "").unwrap();
        std::fs::write(dir.path().join("pw"), "x\n").unwrap();
        dir
    }

    #[test]
    fn rows_are_read_with_quotes_and_several_sources() {
        let dir = setup();
        let text = "source,server,password_file,prefix\n\
                    \"a.mbox|b.mbox\",imaps://ann@mail.example:1993,pw,\"Old, \"\"mail\"\"\"\r\n\
                    \n\
                    a.mbox,imap://bob@mail.example,pw,\n";
        let accounts = parse(text, dir.path()).unwrap();
        assert_eq!(accounts.len(), 2);
        let a = &accounts[0];
        assert_eq!(a.line, 2);
        assert_eq!(
            a.sources,
            vec![dir.path().join("a.mbox"), dir.path().join("b.mbox")]
        );
        assert_eq!(a.prefix.as_deref(), Some("Old, \"mail\""));
        assert_eq!(a.name(), "ann@mail.example:1993");
        assert_eq!(a.secret, SecretColumn::File(dir.path().join("pw")));
        assert_eq!(accounts[1].line, 4);
        assert_eq!(accounts[1].server_key(), "mail.example:143");
        assert_eq!(accounts[1].prefix, None);
    }

    #[test]
    fn every_mistake_names_its_line() {
        let dir = setup();
        let errors = parse("source,server,passwd\n", dir.path()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("line 1: unknown column \"passwd\"")
        );

        let text = "source,server,password_env,password_command\n\
                    a.mbox,imaps://a@h,PW,\n\
                    missing.mbox,imaps://b@h,PW,\n\
                    a.mbox,https://c@h,PW,\n\
                    a.mbox,imaps://d@h,,\n\
                    a.mbox,imaps://e@h,PW,echo x\n\
                    a.mbox,imaps://a@h,PW,\n\
                    a.mbox,imaps://f@h\n";
        let errors = parse(text, dir.path()).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8], "{errors:?}");
        assert!(errors[0].message.contains("missing.mbox"));
        assert!(errors[1].message.contains("imaps://"));
        assert!(errors[2].message.contains("no secret"));
        assert!(errors[3].message.contains("more than one"));
        assert!(errors[4].message.contains("already on line 2"));
        assert!(errors[5].message.contains("2 fields"));
    }

    /// Excel's "CSV UTF-8" starts with a byte order mark: not part of the
    /// first column's name.
    #[test]
    fn a_leading_byte_order_mark_is_not_part_of_the_header() {
        let dir = setup();
        let text = "\u{feff}source,server,password_file\r\na.mbox,imaps://ann@h,pw\r\n";
        let accounts = parse(text, dir.path()).unwrap();
        assert_eq!(accounts[0].sources, vec![dir.path().join("a.mbox")]);
    }

    /// Every mistake of a row is reported, not only its first, and each
    /// says where it is as `FILE:LINE:`.
    #[test]
    fn every_mistake_of_a_row_is_reported_with_file_and_line() {
        let dir = setup();
        let text = "source,server,password_file,ca_file\n\
                    missing.mbox,https://a@h,nope,no-ca.pem\n\
                    a.mbox,imaps://b@h,pw,\n";
        let (accounts, errors) = parse_all(text, dir.path());
        assert_eq!(accounts.len(), 1, "the row without mistakes is read");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 4, "{messages:?}");
        assert!(errors.iter().all(|e| e.line == 2));
        assert!(messages[0].contains("missing.mbox"), "{messages:?}");
        assert!(messages[1].starts_with("server:"), "{messages:?}");
        assert!(messages[2].contains("password_file"), "{messages:?}");
        assert!(messages[3].contains("ca_file"), "{messages:?}");
        let at = errors[0].at(Path::new("accounts.csv"));
        assert!(at.starts_with("accounts.csv:2: source "), "{at}");
    }

    #[test]
    fn an_open_quote_is_an_error() {
        let err = parse("source,server\n\"a,imaps://a@h\n", Path::new(".")).unwrap_err();
        assert_eq!(err[0].line, 2);
        assert!(err[0].message.contains("not closed"));
        assert!(
            parse("", Path::new(".")).unwrap_err()[0]
                .message
                .contains("empty")
        );
    }
}
