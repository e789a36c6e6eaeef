//! Runs the accounts of a batch side by side: at most `parallel` at a time,
//! and never more connections to one server than its cap
//! (`--max-connections-per-server`) over all the accounts running on it.
//! An account waits while its server is full; one whose server has room
//! may pass it. Once `stop` is set no account starts. Each result is kept
//! at its item's place; accounts never started are `None`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// What the scheduler needs to know of an item.
pub struct Slot {
    /// The server it connects to (`host:port`).
    pub server: String,
    /// Connections it opens (its `--jobs`).
    pub connections: usize,
}

struct Board {
    /// Items not yet started, in order.
    pending: Vec<usize>,
    /// Connections in use per server.
    in_use: HashMap<String, usize>,
}

/// Runs `work` for every slot; see the module doc.
pub fn run_all<R: Send>(
    slots: &[Slot],
    parallel: usize,
    cap: Option<usize>,
    stop: &AtomicBool,
    work: impl Fn(usize) -> R + Sync,
) -> Vec<Option<R>> {
    let board = Mutex::new(Board {
        pending: (0..slots.len()).collect(),
        in_use: HashMap::new(),
    });
    let changed = Condvar::new();
    let results: Vec<Mutex<Option<R>>> = slots.iter().map(|_| Mutex::new(None)).collect();
    let fits = |b: &Board, i: usize| {
        let s = &slots[i];
        let used = b.in_use.get(&s.server).copied().unwrap_or(0);
        // An item wider than the cap runs alone on its server.
        cap.is_none_or(|c| used == 0 || used + s.connections <= c)
    };
    let next = || -> Option<usize> {
        let mut b = board.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if stop.load(Ordering::Relaxed) || b.pending.is_empty() {
                return None;
            }
            if let Some(k) = b.pending.iter().position(|&i| fits(&b, i)) {
                let i = b.pending.remove(k);
                *b.in_use.entry(slots[i].server.clone()).or_default() += slots[i].connections;
                return Some(i);
            }
            // Woken when an account ends (or, to see `stop`, every so often).
            b = changed
                .wait_timeout(b, std::time::Duration::from_millis(200))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, slots.len().max(1)) {
            scope.spawn(|| {
                while let Some(i) = next() {
                    let r = work(i);
                    *results[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                    let mut b = board.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(n) = b.in_use.get_mut(&slots[i].server) {
                        *n -= slots[i].connections;
                    }
                    changed.notify_all();
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    fn slot(server: &str, connections: usize) -> Slot {
        Slot {
            server: server.into(),
            connections,
        }
    }

    #[test]
    fn the_per_server_cap_holds_across_accounts() {
        let slots: Vec<Slot> = (0..12)
            .map(|i| slot(if i % 3 == 0 { "b:993" } else { "a:993" }, 2))
            .collect();
        let on_a = AtomicUsize::new(0);
        let peak_a = AtomicUsize::new(0);
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let out = run_all(&slots, 6, Some(5), &stop, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            if slots[i].server == "a:993" {
                let n = on_a.fetch_add(2, Ordering::SeqCst) + 2;
                peak_a.fetch_max(n, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(20));
            if slots[i].server == "a:993" {
                on_a.fetch_sub(2, Ordering::SeqCst);
            }
            running.fetch_sub(1, Ordering::SeqCst);
            i * 10
        });
        assert_eq!(out, (0..12).map(|i| Some(i * 10)).collect::<Vec<_>>());
        // Cap 5 with 2 connections each: two accounts at once on a.
        assert_eq!(peak_a.load(Ordering::SeqCst), 4);
        assert!(peak.load(Ordering::SeqCst) <= 6);
        assert!(peak.load(Ordering::SeqCst) >= 3, "b runs beside a");
    }

    #[test]
    fn nothing_starts_after_stop() {
        let slots: Vec<Slot> = (0..5).map(|_| slot("a:1", 1)).collect();
        let stop = AtomicBool::new(false);
        let out = run_all(&slots, 1, None, &stop, |i| {
            if i == 1 {
                stop.store(true, Ordering::SeqCst);
            }
            i
        });
        assert_eq!(out, vec![Some(0), Some(1), None, None, None]);
    }
}
