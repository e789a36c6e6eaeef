//! The feed against real mbox reading and against scripted iterators
//! (endless, panicking) that only a test would write.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::fingerprint::Fingerprint;
use crate::plan::PlannedFolder;
use crate::source::FolderKind;

fn origin(index: usize) -> Origin {
    Origin {
        path: PathBuf::from("scripted"),
        index,
        offset: None,
    }
}

fn message(index: usize, size: usize) -> Message {
    let mut m = Message::sample("scripted", &vec![b'x'; size]);
    m.origin.index = index;
    m
}

fn mbox_folder(dir: &std::path::Path, count: usize) -> PlannedFolder {
    let mut text = String::new();
    for i in 1..=count {
        text.push_str(&format!(
            "From a@b Mon Jan  1 00:00:00 2024\nMessage-ID: <{i}@test>\nSubject: {i}\n\nbody {i}\n\n"
        ));
    }
    let path = dir.join("box.mbox");
    std::fs::write(&path, text).unwrap();
    PlannedFolder {
        source: SourceFolder {
            path,
            kind: FolderKind::Mbox,
            folder: vec!["INBOX".into()],
        },
        mailbox: "INBOX".into(),
        notes: Vec::new(),
    }
}

/// The queue's length and bytes, as the reader left them.
fn queued(feed: &Feed) -> (usize, usize) {
    let st = lock(&feed.queue.state);
    (st.items.len(), st.bytes)
}

#[test]
fn a_share_gets_its_messages_in_order_already_fingerprinted() {
    let dir = tempfile::tempdir().unwrap();
    let folder = mbox_folder(dir.path(), 10);
    let share = Share {
        folder: &folder,
        part: Some((1, 3)),
        from: 0,
    };
    let feed = Feed::open(&share, &ReadOptions::default(), FeedLimits::DEFAULT).unwrap();
    let got: Vec<Message> = feed.map(Result::unwrap).collect();
    let indices: Vec<usize> = got.iter().map(|m| m.origin.index).collect();
    assert_eq!(
        indices,
        [2, 5, 8],
        "1-based indices of the messages i % 3 == 1"
    );
    for m in &got {
        assert_eq!(m.fingerprint(), Fingerprint::of(&m.bytes));
        let id = format!("<{}@test>", m.origin.index);
        assert_eq!(m.message_id(), Some(id.as_str()));
    }
}

#[test]
fn a_share_goes_on_from_where_another_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let folder = mbox_folder(dir.path(), 10);
    let share = Share {
        folder: &folder,
        part: Some((1, 3)),
        from: 0,
    };
    let mut feed = Feed::open(&share, &ReadOptions::default(), FeedLimits::DEFAULT).unwrap();
    assert_eq!(feed.next_index(), 0);
    assert_eq!(feed.next().unwrap().unwrap().origin.index, 2);
    // Index 1 (from 0) handed out: the rest starts after it.
    assert_eq!(feed.next_index(), 2);
    let rest = Share {
        from: feed.next_index(),
        ..share
    };
    drop(feed);
    let feed = Feed::open(&rest, &ReadOptions::default(), FeedLimits::DEFAULT).unwrap();
    let indices: Vec<usize> = feed.map(|m| m.unwrap().origin.index).collect();
    assert_eq!(indices, [5, 8], "the share's messages after the first");
}

#[test]
fn a_folder_that_cannot_be_opened_is_an_error_of_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut folder = mbox_folder(dir.path(), 1);
    folder.source.path = dir.path().join("missing.mbox");
    let share = Share {
        folder: &folder,
        part: None,
        from: 0,
    };
    let err = Feed::open(&share, &ReadOptions::default(), FeedLimits::DEFAULT)
        .err()
        .expect("a missing mbox cannot be opened");
    assert!(format!("{err:#}").contains("missing.mbox"), "{err:#}");
}

#[test]
fn read_errors_arrive_in_order_among_the_messages() {
    let items: Vec<Item> = vec![
        Ok(message(1, 3)),
        Err(SourceError {
            origin: origin(2),
            reason: "unreadable".into(),
        }),
        Ok(message(3, 3)),
    ];
    let feed = Feed::start(origin(0), None, 0, FeedLimits::DEFAULT, move || {
        Ok(items.into_iter())
    })
    .unwrap();
    let got: Vec<Result<usize, usize>> = feed
        .map(|i| i.map(|m| m.origin.index).map_err(|e| e.origin.index))
        .collect();
    assert_eq!(got, [Ok(1), Err(2), Ok(3)]);
}

#[test]
fn the_queue_stays_within_its_message_and_byte_bounds() {
    let limits = FeedLimits {
        messages: 4,
        bytes: 100,
    };
    // Sizes: 30-byte messages (the byte bound admits 3), and one of 500
    // (over the bound: it passes alone).
    let sizes: Vec<usize> = (0..40).map(|i| if i == 20 { 500 } else { 30 }).collect();
    let expected = sizes.len();
    let feed = Feed::start(origin(0), None, 0, limits, move || {
        Ok(sizes
            .into_iter()
            .enumerate()
            .map(|(i, s)| Ok(message(i + 1, s))))
    })
    .unwrap();
    // Let the reader run ahead until it must wait (3 × 30 bytes queued).
    while queued(&feed).0 < 3 {
        std::thread::yield_now();
    }
    let mut feed = feed;
    let mut count = 0;
    while let Some(item) = feed.next() {
        item.unwrap();
        count += 1;
        let (len, bytes) = queued(&feed);
        assert!(len <= limits.messages, "{len} messages queued");
        assert!(len <= 1 || bytes <= limits.bytes, "{bytes} bytes queued");
    }
    assert_eq!(count, expected);
}

#[test]
fn room_is_bounded_by_messages_and_bytes_but_one_message_always_passes() {
    let limits = FeedLimits {
        messages: 2,
        bytes: 100,
    };
    let mut st = State::default();
    assert!(
        st.has_room(1000, limits),
        "an empty queue takes any message"
    );
    st.items.push_back((Ok(message(1, 60)), 60, 0));
    st.bytes = 60;
    assert!(st.has_room(40, limits));
    assert!(!st.has_room(41, limits), "over the byte bound");
    st.items.push_back((Ok(message(2, 10)), 10, 1));
    st.bytes = 70;
    assert!(!st.has_room(1, limits), "at the message bound");
}

#[test]
fn dropping_the_feed_stops_an_endless_reader_promptly() {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&read);
    let limits = FeedLimits {
        messages: 8,
        bytes: 1 << 20,
    };
    let mut feed = Feed::start(origin(0), None, 0, limits, move || {
        Ok(std::iter::repeat_with(move || {
            let i = counter.fetch_add(1, Ordering::SeqCst);
            Ok(message(i + 1, 10))
        }))
    })
    .unwrap();
    for _ in 0..5 {
        feed.next().unwrap().unwrap();
    }
    // Returns only once the reader thread has ended (it is joined).
    drop(feed);
    let n = read.load(Ordering::SeqCst);
    assert!(
        n <= 5 + limits.messages + 1,
        "the reader read {n} messages after 5 were taken"
    );
}

#[test]
fn a_reader_that_fails_leaves_the_folder_marked_unread() {
    let feed = Feed::start(origin(0), None, 0, FeedLimits::DEFAULT, || {
        Ok((1..).map(|i| {
            assert!(i < 3, "scripted reader failure");
            Ok(message(i, 5))
        }))
    })
    .unwrap();
    let got: Vec<Item> = feed.collect();
    assert_eq!(got.len(), 3);
    assert!(got[0].is_ok() && got[1].is_ok());
    let err = got[2].as_ref().unwrap_err();
    assert!(
        err.reason.contains("reader thread failed"),
        "{}",
        err.reason
    );
}

#[test]
fn a_file_changed_under_the_reader_is_told_whichever_share_it_stopped_at() {
    let changed = |index: usize| SourceError {
        origin: origin(index),
        reason: format!("{} (scripted)", crate::source::mbox::CHANGED),
    };
    let other = |index: usize| SourceError {
        origin: origin(index),
        reason: "a broken message".into(),
    };
    // Share 0 of 2 owns 0, 2, 4: the stop at 3 is told, the broken
    // message at 1 is share 1's to tell.
    let feed = Feed::start(origin(0), Some((0, 2)), 0, FeedLimits::DEFAULT, move || {
        Ok(vec![
            Ok(message(0, 5)),
            Err(other(1)),
            Ok(message(2, 5)),
            Err(changed(3)),
        ]
        .into_iter())
    })
    .unwrap();
    let mut feed = feed;
    let got: Vec<Item> = feed.by_ref().collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].is_ok() && got[1].is_ok());
    assert!(got[2].as_ref().unwrap_err().changed_while_read());
    assert!(!feed.read_to_end(), "the rest of the folder was not read");
}
