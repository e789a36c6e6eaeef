//! [`ProviderProxy`]: an emulator of the big providers (Gmail, Microsoft
//! 365, Yahoo, iCloud) on 127.0.0.1: an IMAP-aware proxy in front of a real
//! Dovecot that presents each provider's capabilities (DESIGN.md's table:
//! no MULTIAPPEND anywhere; Gmail `LITERAL-` and `APPENDLIMIT=35651584`;
//! Microsoft 365 `LITERAL+`; Yahoo `LITERAL+` and `APPENDLIMIT=41697280`;
//! iCloud neither, 20 MB per message) and plays its throttling answers,
//! with the providers' own texts:
//!
//! - Gmail: past N APPENDs per window `NO [THROTTLED]`; past a session cap
//!   `* BYE [ALERT] Too many simultaneous connections.` (at login); past a
//!   byte budget `* BYE [ALERT] Account exceeded command or bandwidth
//!   limits.`, and the account stays locked (logins get the same BYE)
//!   until [`ProviderProxy::reset`] (the provider's day ends).
//! - Microsoft 365: `NO Request is throttled. Suggested Backoff Time: N
//!   milliseconds`, and every APPEND before those N ms are over is
//!   throttled again (N is [`Limits::backoff_ms`]: scaled down for tests,
//!   the text kept).
//! - Yahoo: `NO [LIMIT] UID Rate limit hit.` then `* BYE` and close; for
//!   [`Limits::penalty`] afterwards new connections are refused with a BYE
//!   greeting.
//! - Any: a soft `* OK [THROTTLED]` before every n-th APPEND's answer, and
//!   `NO [UNAVAILABLE]` for chosen APPENDs.
//! - A connection cut: the one sending the n-th APPEND
//!   ([`Limits::cut_at_append`]) is closed after Dovecot stored it,
//!   before the answer, and its session stays counted against the cap
//!   (the provider has not noticed it is gone), so reconnecting meets the
//!   session cap's BYE.
//! - Gmail's soft throttle: past [`Limits::soft_rate`] APPENDs per window
//!   the message is stored and the answer is `OK [THROTTLED] ...` (in
//!   place of Dovecot's `OK [APPENDUID ...]`: one code per answer).
//!
//! Strict where the providers are: a non-synchronizing literal the profile
//! does not allow (none for iCloud, over 4096 bytes for Gmail's LITERAL-)
//! and an APPEND of several messages are answered BAD and recorded in
//! [`Counters::violations`]; a message over the size cap is refused when
//! announced (`NO [TOOBIG]`), its literal never read.
//!
//! How: the client's commands are parsed (literals passed through whole).
//! A command the emulator answers itself is replaced on its way to Dovecot
//! by a `NOOP` with the same tag, and Dovecot's answer to that NOOP is
//! replaced by the provider's — so answers keep the order of commands
//! however many are pipelined. STARTTLS and COMPRESS are hidden, so
//! `imap://` with `--allow-plaintext` stays readable.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which provider the emulator plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Gmail,
    Microsoft365,
    Yahoo,
    ICloud,
}

/// DESIGN.md: Gmail advertises APPENDLIMIT=35651584.
pub const GMAIL_APPENDLIMIT: u64 = 35_651_584;
/// DESIGN.md: Yahoo advertises APPENDLIMIT=41697280.
pub const YAHOO_APPENDLIMIT: u64 = 41_697_280;
/// DESIGN.md: iCloud advertises none; 20 MB per message.
pub const ICLOUD_CAP: u64 = 20_000_000;
/// DESIGN.md: Microsoft 365 advertises none; 35 MB per message.
pub const M365_CAP: u64 = 35 * 1024 * 1024;
/// RFC 7888: LITERAL- allows non-synchronizing literals up to 4096 bytes.
pub const LITERAL_MINUS_MAX: u64 = 4096;

/// The limits the emulator enforces (scaled down for tests).
#[derive(Clone, Debug)]
pub struct Limits {
    /// At most this many APPENDs accepted per window (account-wide).
    pub appends_per_window: Option<(usize, Duration)>,
    /// At most this many logged-in sessions at once.
    pub sessions: Option<usize>,
    /// Message bytes accepted before the account is locked (Gmail's daily
    /// upload quota).
    pub bytes_budget: Option<u64>,
    /// Largest message accepted (also the APPENDLIMIT where advertised).
    pub size_cap: u64,
    /// Microsoft 365: the "Suggested Backoff Time" it says and enforces.
    pub backoff_ms: u64,
    /// Yahoo: how long after a rate-limit BYE new connections are refused.
    pub penalty: Duration,
    /// Every n-th accepted APPEND gets `* OK [THROTTLED]` before its answer.
    pub soft_every: Option<usize>,
    /// These APPENDs (1-based, counted over all connections) get `NO [UNAVAILABLE]`.
    pub unavailable: Vec<usize>,
    /// Past this many APPENDs per window (account-wide) an APPEND is
    /// stored and answered `OK [THROTTLED]`.
    pub soft_rate: Option<(usize, Duration)>,
    /// The connection sending this accepted APPEND (1-based, account-wide)
    /// is cut once Dovecot answered it, the answer not passed on; its
    /// session stays counted.
    pub cut_at_append: Option<usize>,
}

impl Provider {
    /// The provider's limits with nothing enforced but its size cap.
    pub fn limits(self) -> Limits {
        Limits {
            appends_per_window: None,
            sessions: None,
            bytes_budget: None,
            size_cap: match self {
                Provider::Gmail => GMAIL_APPENDLIMIT,
                Provider::Microsoft365 => M365_CAP,
                Provider::Yahoo => YAHOO_APPENDLIMIT,
                Provider::ICloud => ICLOUD_CAP,
            },
            backoff_ms: 5000,
            penalty: Duration::from_secs(1),
            soft_every: None,
            unavailable: Vec::new(),
            soft_rate: None,
            cut_at_append: None,
        }
    }

    /// What the provider adds to the capabilities the emulator keeps.
    fn capabilities(self, limits: &Limits) -> Vec<String> {
        match self {
            Provider::Gmail => vec![
                "LITERAL-".into(),
                format!("APPENDLIMIT={}", limits.size_cap),
            ],
            Provider::Microsoft365 => vec!["LITERAL+".into()],
            Provider::Yahoo => vec![
                "LITERAL+".into(),
                format!("APPENDLIMIT={}", limits.size_cap),
            ],
            Provider::ICloud => Vec::new(),
        }
    }

    /// Largest non-synchronizing literal the provider accepts.
    fn nonsync_max(self) -> u64 {
        match self {
            Provider::Gmail => LITERAL_MINUS_MAX,
            Provider::Microsoft365 | Provider::Yahoo => u64::MAX,
            Provider::ICloud => 0,
        }
    }
}

/// What the emulator did, for the tests to assert on.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Connections accepted (including refused ones).
    pub connections: usize,
    /// Logins let through to Dovecot.
    pub logins: usize,
    /// Most sessions logged in at once.
    pub max_sessions: usize,
    /// Logins refused for the session cap.
    pub sessions_refused: usize,
    /// Connections cut ([`Limits::cut_at_append`]).
    pub cut: usize,
    /// Connections refused during a penalty, logins refused while locked.
    pub refused_locked: usize,
    /// APPENDs let through to Dovecot.
    pub appends: usize,
    /// Throttling answers (NO) given.
    pub throttled: usize,
    /// Soft `OK [THROTTLED]` given (untagged or tagged).
    pub soft: usize,
    /// When each tagged `OK [THROTTLED]` was decided ([`Limits::soft_rate`]).
    pub soft_at: Vec<Instant>,
    /// BYEs given (rate limit, quota, session cap).
    pub byes: usize,
    /// APPENDs refused as over the size cap.
    pub oversized: usize,
    /// What a provider would have refused as a protocol error.
    pub violations: Vec<String>,
}

/// Account-wide state, shared by the connections.
#[derive(Debug)]
struct Account {
    provider: Provider,
    limits: Limits,
    /// When accepted APPENDs were let through (within the window).
    recent: VecDeque<Instant>,
    /// The same within [`Limits::soft_rate`]'s window.
    soft_recent: VecDeque<Instant>,
    /// Throttled (M365 backoff, Yahoo penalty) until then.
    until: Option<Instant>,
    bytes: u64,
    locked: bool,
    sessions: usize,
    seen_appends: usize,
    counters: Counters,
}

/// What the emulator answers in place of Dovecot's answer to a tag.
#[derive(Clone, Debug)]
enum Answer {
    /// This tagged line instead.
    Line(String),
    /// This tagged line, then `* BYE`, and close.
    LineThenBye(String, String),
    /// `* BYE` instead, and close.
    Bye(String),
    /// This untagged line before the answer.
    Before(String),
    /// This text in place of the code and text of Dovecot's tagged OK
    /// (a NO or BAD passes as it is).
    OkSaying(String),
    /// Nothing: the connection is cut, its session still counted.
    Cut,
}

pub struct ProviderProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    account: Arc<Mutex<Account>>,
    accept: Option<JoinHandle<()>>,
}

impl ProviderProxy {
    /// Emulates `provider` with `limits` in front of Dovecot's plain port.
    pub fn start(upstream: u16, provider: Provider, limits: Limits) -> ProviderProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind provider proxy");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let account = Arc::new(Mutex::new(Account {
            provider,
            limits,
            recent: VecDeque::new(),
            soft_recent: VecDeque::new(),
            until: None,
            bytes: 0,
            locked: false,
            sessions: 0,
            seen_appends: 0,
            counters: Counters::default(),
        }));
        let (s, a) = (stop.clone(), account.clone());
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let a = a.clone();
                std::thread::spawn(move || serve(client, upstream, a));
            }
        });
        ProviderProxy {
            port,
            stop,
            account,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A copy of what happened so far.
    pub fn counters(&self) -> Counters {
        self.account.lock().unwrap().counters.clone()
    }

    /// Yahoo's penalty starts now, as after a rate-limit BYE (an earlier
    /// run killed right after it): new connections are refused with the
    /// penalty's BYE greeting for [`Limits::penalty`].
    pub fn penalize(&self) {
        let mut a = self.account.lock().unwrap();
        a.until = Some(Instant::now() + a.limits.penalty);
    }

    /// The provider's day ends: the byte budget, the lock, the windows and
    /// penalties start afresh (counters are kept).
    pub fn reset(&self) {
        let mut a = self.account.lock().unwrap();
        a.bytes = 0;
        a.locked = false;
        a.recent.clear();
        a.until = None;
    }
}

impl Drop for ProviderProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// One client connection: refused during a penalty, else proxied.
fn serve(mut client: TcpStream, upstream: u16, account: Arc<Mutex<Account>>) {
    let _ = client.set_nodelay(true);
    {
        let mut a = account.lock().unwrap();
        a.counters.connections += 1;
        if a.until.is_some_and(|u| Instant::now() < u) && a.provider == Provider::Yahoo {
            a.counters.refused_locked += 1;
            drop(a);
            let _ =
                client.write_all(b"* BYE [UNAVAILABLE] Rate limit penalty, try again later.\r\n");
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let _ = server.set_nodelay(true);
    let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
    let logged_in = Arc::new(AtomicBool::new(false));
    let ends = [client.try_clone().unwrap(), server.try_clone().unwrap()];
    let down = {
        let (from, to) = (server.try_clone().unwrap(), client.try_clone().unwrap());
        let (answers, account) = (answers.clone(), account.clone());
        let ends = ends.each_ref().map(|e| e.try_clone().unwrap());
        std::thread::spawn(move || {
            server_to_client(from, to, &answers, &account);
            for e in ends {
                let _ = e.shutdown(Shutdown::Both);
            }
        })
    };
    client_to_server(client, server, &answers, &account, &logged_in);
    for e in &ends {
        let _ = e.shutdown(Shutdown::Both);
    }
    let _ = down.join();
    if logged_in.load(Ordering::SeqCst) {
        account.lock().unwrap().sessions -= 1;
    }
}

/// Server → client, one whole response at a time: capabilities rewritten,
/// answers the emulator gives put in place of Dovecot's.
fn server_to_client(
    from: TcpStream,
    mut to: TcpStream,
    answers: &Mutex<HashMap<String, Answer>>,
    account: &Mutex<Account>,
) {
    let mut from = BufReader::new(from);
    loop {
        let Some(mut response) = read_response(&mut from) else {
            return;
        };
        let tag = first_word(&response);
        if let Some(answer) = answers.lock().unwrap().remove(&tag) {
            let (line, bye) = match answer {
                Answer::Line(l) => (Some(l), None),
                Answer::LineThenBye(l, b) => (Some(l), Some(b)),
                Answer::Bye(b) => (None, Some(b)),
                Answer::Before(untagged) => {
                    let mut both = untagged.into_bytes();
                    both.extend_from_slice(&response);
                    (Some(String::from_utf8_lossy(&both).into_owned()), None)
                }
                Answer::Cut => {
                    let mut a = account.lock().unwrap();
                    a.counters.cut += 1;
                    // Released when the connection ends: counted again.
                    a.sessions += 1;
                    return;
                }
                Answer::OkSaying(text) => {
                    let ok = format!("{tag} OK ");
                    let r = String::from_utf8_lossy(&response).into_owned();
                    match r.starts_with(&ok) {
                        true => (Some(format!("{ok}{text}\r\n")), None),
                        false => (Some(r), None),
                    }
                }
            };
            if let Some(l) = line
                && to.write_all(l.as_bytes()).is_err()
            {
                return;
            }
            if let Some(b) = bye {
                account.lock().unwrap().counters.byes += 1;
                let _ = to.write_all(format!("* BYE {b}\r\n").as_bytes());
                return;
            }
            continue;
        }
        if response.windows(10).any(|w| w == b"CAPABILITY") {
            let a = account.lock().unwrap();
            response = rewrite_capabilities(&response, a.provider, &a.limits);
        }
        if to.write_all(&response).is_err() {
            return;
        }
    }
}

/// One response: a line and, for each literal it announces, the literal
/// and the line after it. `None` at the end of the stream.
fn read_response(from: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let start = out.len();
        if from.read_until(b'\n', &mut out).ok()? == 0 {
            return None;
        }
        let (n, _) = literal(&out[start..])?;
        if n == 0 {
            return Some(out);
        }
        let mut lit = vec![0; n as usize];
        from.read_exact(&mut lit).ok()?;
        out.extend_from_slice(&lit);
    }
}

/// `Some((n, nonsync))` when `line` ends with `{n}` or `{n+}`; `Some((0,
/// false))` when it announces none.
fn literal(line: &[u8]) -> Option<(u64, bool)> {
    let t = String::from_utf8_lossy(line);
    let t = t.trim_end_matches(['\r', '\n']);
    let none = Some((0, false));
    let Some(open) = t.rfind('{') else {
        return none;
    };
    if !t.ends_with('}') {
        return none;
    }
    let inner = &t[open + 1..t.len() - 1];
    let nonsync = inner.ends_with('+');
    match inner.trim_end_matches('+').parse() {
        Ok(n) => Some((n, nonsync)),
        Err(_) => none,
    }
}

fn first_word(line: &[u8]) -> String {
    let end = line
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(line.len());
    String::from_utf8_lossy(&line[..end]).into_owned()
}

/// The capability list in `line` (`* CAPABILITY ...` or `[CAPABILITY
/// ...]`) as the provider shows it.
fn rewrite_capabilities(line: &[u8], provider: Provider, limits: &Limits) -> Vec<u8> {
    let text = String::from_utf8_lossy(line).into_owned();
    let Some(at) = text.find("CAPABILITY ") else {
        return line.to_vec();
    };
    let start = at + "CAPABILITY ".len();
    let end = text[start..]
        .find([']', '\r'])
        .map_or(text.len(), |e| start + e);
    let hidden = |c: &str| {
        let u = c.to_ascii_uppercase();
        u == "MULTIAPPEND"
            || u.starts_with("LITERAL")
            || u.starts_with("APPENDLIMIT")
            || u == "STARTTLS"
            || u.starts_with("COMPRESS")
    };
    let mut caps: Vec<String> = text[start..end]
        .split_ascii_whitespace()
        .filter(|c| !hidden(c))
        .map(String::from)
        .collect();
    caps.extend(provider.capabilities(limits));
    format!("{}{}{}", &text[..start], caps.join(" "), &text[end..]).into_bytes()
}

/// What becomes of one client command.
enum Verdict {
    Forward,
    /// Forwarded; Dovecot's answer is changed as this says
    /// ([`Answer::Before`], [`Answer::OkSaying`]).
    ForwardChanging(Answer),
    /// Dropped unanswered (the connection is about to close).
    Drop,
    /// Answered by the emulator: a NOOP goes to Dovecot in its place.
    Answer(Answer),
}

/// Client → server, command by command; a command the emulator answers is
/// sent as a NOOP and its literal (when the client sends it) dropped.
fn client_to_server(
    from: TcpStream,
    mut to: TcpStream,
    answers: &Mutex<HashMap<String, Answer>>,
    account: &Mutex<Account>,
    logged_in: &AtomicBool,
) {
    let mut from = BufReader::new(from);
    // After a BYE is due, nothing more goes to Dovecot.
    let mut closing = false;
    loop {
        let mut line = Vec::new();
        if from.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let mut words = text.split_ascii_whitespace();
        let tag = words.next().unwrap_or("*").to_string();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let Some((size, nonsync)) = literal(&line) else {
            return;
        };
        let verdict = if closing {
            Verdict::Drop
        } else {
            let mut a = account.lock().unwrap();
            match verb.as_str() {
                "LOGIN" | "AUTHENTICATE" => a.login(logged_in),
                "APPEND" => a.append(&tag, size, nonsync),
                _ => Verdict::Forward,
            }
        };
        if let Verdict::ForwardChanging(change) = &verdict {
            answers.lock().unwrap().insert(tag.clone(), change.clone());
        }
        match verdict {
            Verdict::Forward | Verdict::ForwardChanging(_) => {
                if to.write_all(&line).is_err() {
                    return;
                }
                // The literals (after Dovecot's `+` when synchronizing) and
                // the lines after them, passed through whole.
                let mut size = size;
                let mut first = true;
                while size > 0 {
                    if !first && verb == "APPEND" {
                        account
                            .lock()
                            .unwrap()
                            .counters
                            .violations
                            .push("APPEND of several messages (MULTIAPPEND) not offered".into());
                    }
                    first = false;
                    if !pass(&mut from, &mut to, size) {
                        return;
                    }
                    let mut rest = Vec::new();
                    if from.read_until(b'\n', &mut rest).unwrap_or(0) == 0 {
                        return;
                    }
                    if to.write_all(&rest).is_err() {
                        return;
                    }
                    size = literal(&rest).map_or(0, |l| l.0);
                }
            }
            Verdict::Answer(_) | Verdict::Drop => {
                if let Verdict::Answer(answer) = verdict {
                    closing = matches!(answer, Answer::Bye(_) | Answer::LineThenBye(..));
                    answers.lock().unwrap().insert(tag.clone(), answer);
                    if to.write_all(format!("{tag} NOOP\r\n").as_bytes()).is_err() {
                        return;
                    }
                }
                if nonsync {
                    // The client sends the literal anyway: dropped, with
                    // the line after it.
                    let mut sink = std::io::sink();
                    if std::io::copy(&mut (&mut from).take(size), &mut sink).unwrap_or(0) < size {
                        return;
                    }
                    let mut rest = Vec::new();
                    let _ = from.read_until(b'\n', &mut rest);
                }
            }
        }
    }
}

/// Passes `n` bytes from `from` to `to`.
fn pass(from: &mut BufReader<TcpStream>, to: &mut TcpStream, n: u64) -> bool {
    std::io::copy(&mut from.take(n), to).is_ok_and(|c| c == n)
}

const QUOTA_BYE: &str = "[ALERT] Account exceeded command or bandwidth limits.";
const SESSIONS_BYE: &str = "[ALERT] Too many simultaneous connections.";

impl Account {
    fn login(&mut self, logged_in: &AtomicBool) -> Verdict {
        if self.locked {
            self.counters.refused_locked += 1;
            return Verdict::Answer(Answer::Bye(QUOTA_BYE.into()));
        }
        if self.limits.sessions.is_some_and(|cap| self.sessions >= cap) {
            self.counters.sessions_refused += 1;
            return Verdict::Answer(Answer::Bye(SESSIONS_BYE.into()));
        }
        self.sessions += 1;
        self.counters.logins += 1;
        self.counters.max_sessions = self.counters.max_sessions.max(self.sessions);
        logged_in.store(true, Ordering::SeqCst);
        Verdict::Forward
    }

    fn append(&mut self, tag: &str, size: u64, nonsync: bool) -> Verdict {
        let now = Instant::now();
        self.seen_appends += 1;
        let line = |text: &str| Verdict::Answer(Answer::Line(format!("{tag} {text}\r\n")));
        if nonsync && size > self.provider.nonsync_max() {
            self.counters
                .violations
                .push(format!("non-synchronizing literal of {size} bytes"));
            return line("BAD [CLIENTBUG] Non-synchronizing literal not allowed here");
        }
        if size > self.limits.size_cap {
            self.counters.oversized += 1;
            return line("NO [TOOBIG] Message too large");
        }
        if self.limits.unavailable.contains(&self.seen_appends) {
            return line("NO [UNAVAILABLE] Temporary server failure, try again later");
        }
        if let Some((n, window)) = self.limits.appends_per_window {
            while self.recent.front().is_some_and(|t| now - *t > window) {
                self.recent.pop_front();
            }
            let penalized = self.until.is_some_and(|u| now < u);
            if penalized || self.recent.len() >= n {
                self.counters.throttled += 1;
                return match self.provider {
                    Provider::Microsoft365 => {
                        let ms = self.limits.backoff_ms;
                        if !penalized {
                            self.until = Some(now + Duration::from_millis(ms));
                        }
                        line(&format!(
                            "NO Request is throttled. Suggested Backoff Time: {ms} milliseconds"
                        ))
                    }
                    Provider::Yahoo => {
                        self.until = Some(now + self.limits.penalty);
                        Verdict::Answer(Answer::LineThenBye(
                            format!("{tag} NO [LIMIT] UID Rate limit hit.\r\n"),
                            "Rate limit hit; closing.".into(),
                        ))
                    }
                    Provider::Gmail | Provider::ICloud => {
                        line("NO [THROTTLED] Too many APPENDs, slow down (Failure)")
                    }
                };
            }
        }
        if self
            .limits
            .bytes_budget
            .is_some_and(|b| self.bytes + size > b)
        {
            self.locked = true;
            return Verdict::Answer(Answer::Bye(QUOTA_BYE.into()));
        }
        self.recent.push_back(now);
        self.bytes += size;
        self.counters.appends += 1;
        if self.limits.cut_at_append == Some(self.counters.appends) {
            return Verdict::ForwardChanging(Answer::Cut);
        }
        if let Some((n, window)) = self.limits.soft_rate {
            while self.soft_recent.front().is_some_and(|t| now - *t > window) {
                self.soft_recent.pop_front();
            }
            let over = self.soft_recent.len() >= n;
            self.soft_recent.push_back(now);
            if over {
                self.counters.soft += 1;
                self.counters.soft_at.push(now);
                return Verdict::ForwardChanging(Answer::OkSaying(
                    "[THROTTLED] Too many APPENDs, slow down (Success)".into(),
                ));
            }
        }
        if self
            .limits
            .soft_every
            .is_some_and(|k| self.counters.appends.is_multiple_of(k))
        {
            self.counters.soft += 1;
            Verdict::ForwardChanging(Answer::Before("* OK [THROTTLED] Slow down.\r\n".into()))
        } else {
            Verdict::Forward
        }
    }
}
