//! The upload against a scripted server that rewrites headers on store
//! (a header field put before every message, no UIDPLUS: GNU imap4d's
//! ways): reruns with and without the journal, and a lost answer, find
//! what is there by Message-ID and text and send nothing twice; messages
//! sharing a Message-ID with other bodies (a list message received twice)
//! all land.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::lifecycle_tests::{Setup, run, write_mbox};
use super::scripted::{Fault, Rule, Step, World};

const NO_UIDPLUS: &str = "IMAP4rev1 MULTIAPPEND LITERAL+";
const ADDED: &[u8] = b"X-Delivered: by the server\r\n";

/// Five messages in an mbox under `dir` and the bytes each is sent as:
/// 1 and 2 alone, 3 and 4 share a Message-ID and a size with other bodies,
/// 5 shares it with another size too.
fn source(dir: &Path) -> (PathBuf, Vec<Vec<u8>>) {
    let bodies = [
        ("<one@x>", "first"),
        ("<two@x>", "second"),
        ("<list@x>", "via list"),
        ("<list@x>", "directly"),
        ("<list@x>", "a longer third"),
    ];
    let messages: Vec<String> = bodies
        .iter()
        .enumerate()
        .map(|(i, (id, body))| format!("From: a@x\nSubject: {i}\nMessage-ID: {id}\n\n{body}\n"))
        .collect();
    write_mbox(dir, &messages)
}

fn rewriting_world() -> Arc<Mutex<World>> {
    let world = World::shared();
    world.lock().unwrap().added_header = Some(ADDED.to_vec());
    world
}

/// Each sent message is on the server exactly once, as the server stores it.
fn assert_each_once(world: &Arc<Mutex<World>>, sent: &[Vec<u8>]) {
    let stored = world.lock().unwrap().messages("Target");
    assert_eq!(stored.len(), sent.len(), "{stored:?}");
    for m in sent {
        let as_stored = [ADDED, m].concat();
        assert_eq!(stored.iter().filter(|s| **s == as_stored).count(), 1);
    }
}

#[test]
fn reruns_with_and_without_the_journal_send_nothing_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path());
    let world = rewriting_world();
    let journal = Some(tmp.path().join("journal"));
    let first = run(
        &world,
        &src,
        &Setup::new(NO_UIDPLUS, journal.clone(), 2, 10),
    );
    assert_eq!(first.totals().uploaded, 5, "{first:#?}");
    assert_each_once(&world, &sent);
    let again = run(&world, &src, &Setup::new(NO_UIDPLUS, journal, 2, 10));
    assert_eq!(again.totals().uploaded, 0, "{again:#?}");
    assert_eq!(again.totals().already_present, 5);
    assert_eq!(again.server_check.found, 5);
    let bare = run(&world, &src, &Setup::new(NO_UIDPLUS, None, 2, 10));
    assert_eq!(bare.totals().uploaded, 0, "{bare:#?}");
    assert_eq!(bare.server_check.found, 5);
    // Text hashes read only for the Message-ID's other-size messages.
    assert!(bare.server_check.bodies_hashed > 0);
    assert_each_once(&world, &sent);
}

/// A message whose Message-ID the server holds, but with another text,
/// is sent (Message-ID alone is no proof).
#[test]
fn a_message_id_with_another_text_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, _) = source(tmp.path());
    let world = rewriting_world();
    {
        let mut w = world.lock().unwrap();
        w.create("Target");
        let other = b"From: a@x\r\nMessage-ID: <list@x>\r\n\r\nanother text\r\n".to_vec();
        w.mailboxes
            .get_mut("Target")
            .unwrap()
            .messages
            .push((1, other));
        w.mailboxes.get_mut("Target").unwrap().uidnext = 2;
    }
    let report = run(&world, &src, &Setup::new(NO_UIDPLUS, None, 2, 10));
    assert_eq!(report.totals().uploaded, 5, "{report:#?}");
    assert_eq!(world.lock().unwrap().messages("Target").len(), 6);
}

/// A batch stored whose answer is lost: the look finds every message by
/// its text, nothing is sent again.
#[test]
fn a_lost_answer_is_found_by_text() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, sent) = source(tmp.path());
    let world = rewriting_world();
    world.lock().unwrap().rules = vec![Rule::at(Step::Append, 1, Fault::LostAfter)];
    let journal = Some(tmp.path().join("journal"));
    let report = run(&world, &src, &Setup::new(NO_UIDPLUS, journal, 2, 10));
    assert!(report.failures.is_empty(), "{report:#?}");
    assert_eq!(report.totals().uploaded, 5);
    assert_each_once(&world, &sent);
    let w = world.lock().unwrap();
    assert_eq!(
        w.log.iter().filter(|l| l.starts_with("Append")).count(),
        1,
        "{:?}",
        w.log
    );
}
