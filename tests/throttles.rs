//! Provider throttles (issue 10) end to end, through the provider emulator
//! ([`ProviderProxy`] in front of a private Dovecot). First the emulator
//! itself, spoken to by the independent reader: each provider's
//! capabilities and throttle answers, with their texts.

use std::time::Duration;

use crate::util::{Dovecot, ImapReader, Limits, Provider, ProviderProxy};

fn reader(dovecot: &Dovecot, proxy: &ProviderProxy) -> anyhow::Result<ImapReader> {
    ImapReader::login(proxy.port(), dovecot.user(), dovecot.password())
}

fn message(i: usize) -> Vec<u8> {
    format!("From: a@example.org\r\nSubject: {i}\r\nMessage-ID: <{i}@emulator.example.org>\r\n\r\nbody {i}\r\n").into_bytes()
}

#[test]
fn the_emulator_shows_each_providers_capabilities() {
    let dovecot = Dovecot::start().unwrap();
    for (provider, want, not) in [
        (
            Provider::Gmail,
            vec!["LITERAL-", "APPENDLIMIT=35651584"],
            vec!["LITERAL+"],
        ),
        (
            Provider::Microsoft365,
            vec!["LITERAL+"],
            vec!["APPENDLIMIT"],
        ),
        (
            Provider::Yahoo,
            vec!["LITERAL+", "APPENDLIMIT=41697280"],
            vec![],
        ),
        (Provider::ICloud, vec![], vec!["LITERAL", "APPENDLIMIT"]),
    ] {
        let proxy = ProviderProxy::start(dovecot.plain_port(), provider, provider.limits());
        let caps = reader(&dovecot, &proxy).unwrap().capabilities().unwrap();
        assert!(
            !caps.iter().any(|c| c == "MULTIAPPEND"),
            "{provider:?}: {caps:?}"
        );
        assert!(!caps.iter().any(|c| c.starts_with("STARTTLS")), "{caps:?}");
        for w in want {
            assert!(
                caps.iter().any(|c| c == w),
                "{provider:?} lacks {w}: {caps:?}"
            );
        }
        for n in not {
            assert!(
                !caps.iter().any(|c| c.starts_with(n)),
                "{provider:?} has {n}: {caps:?}"
            );
        }
    }
}

#[test]
fn the_emulator_throttles_locks_and_caps_sessions() {
    let dovecot = Dovecot::start().unwrap();
    // Gmail: 2 APPENDs per second, then NO [THROTTLED]; a budget of 3
    // messages, then the quota BYE and a locked account until reset.
    let limits = Limits {
        appends_per_window: Some((2, Duration::from_secs(1))),
        bytes_budget: Some(3 * message(1).len() as u64),
        sessions: Some(1),
        ..Provider::Gmail.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Gmail, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(1)).unwrap().is_ok());
    assert!(r.append_raw("INBOX", &message(2)).unwrap().is_ok());
    let third = r.append_raw("INBOX", &message(3)).unwrap();
    assert_eq!(third.status, "NO", "{}", third.line());
    assert!(third.text.starts_with("[THROTTLED]"), "{}", third.line());
    // The session cap: a second login is refused with Gmail's BYE.
    let second = reader(&dovecot, &proxy);
    assert!(second.is_err(), "a second session past the cap of 1");
    assert_eq!(proxy.counters().sessions_refused, 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(r.append_raw("INBOX", &message(3)).unwrap().is_ok());
    // Over the budget: BYE, the account locked.
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        r.append_raw("INBOX", &message(4)).is_err(),
        "BYE ends the session"
    );
    drop(r);
    std::thread::sleep(Duration::from_millis(100));
    assert!(reader(&dovecot, &proxy).is_err(), "locked until the reset");
    proxy.reset();
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(4)).unwrap().is_ok());
    let c = proxy.counters();
    assert_eq!((c.appends, c.throttled, c.byes), (4, 1, 3), "{c:?}");
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert_eq!(dovecot.reader().unwrap().bodies("INBOX").unwrap().len(), 4);
}

#[test]
fn the_emulator_plays_microsoft_and_yahoo_texts() {
    let dovecot = Dovecot::start().unwrap();
    let limits = Limits {
        appends_per_window: Some((1, Duration::from_secs(5))),
        backoff_ms: 300,
        ..Provider::Microsoft365.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Microsoft365, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(1)).unwrap().is_ok());
    let no = r.append_raw("INBOX", &message(2)).unwrap();
    assert_eq!(
        no.line(),
        "NO Request is throttled. Suggested Backoff Time: 300 milliseconds"
    );
    let limits = Limits {
        appends_per_window: Some((1, Duration::from_secs(5))),
        penalty: Duration::from_millis(500),
        ..Provider::Yahoo.limits()
    };
    let proxy = ProviderProxy::start(dovecot.plain_port(), Provider::Yahoo, limits);
    let mut r = reader(&dovecot, &proxy).unwrap();
    assert!(r.append_raw("INBOX", &message(3)).unwrap().is_ok());
    let no = r.append_raw("INBOX", &message(4)).unwrap();
    assert_eq!(no.line(), "NO [LIMIT] UID Rate limit hit.");
    // Then BYE; reconnecting inside the penalty is refused.
    assert!(r.command("NOOP").is_err(), "closed after the BYE");
    assert!(reader(&dovecot, &proxy).is_err(), "inside the penalty");
    std::thread::sleep(Duration::from_millis(600));
    assert!(reader(&dovecot, &proxy).is_ok(), "after the penalty");
    assert_eq!(proxy.counters().refused_locked, 1);
}
