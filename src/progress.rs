//! The progress bar on stderr: messages, bytes, rate, ETA and the current
//! mailbox. Drawn only when stderr is a terminal and `--quiet` is not given;
//! otherwise every method is a no-op, so callers never branch on it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar measuring bytes against `total_bytes` (the size of the sources),
    /// or a hidden one when `quiet` or stderr is not a terminal.
    pub fn new(total_bytes: u64, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        let template = if no_color() {
            "{bar:25} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
        } else {
            "{bar:25.cyan/blue} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid progress template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// Shows `messages` done so far and the mailbox being filled.
    pub fn set_status(&self, messages: u64, mailbox: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{messages} msgs → {}",
                crate::report::sanitize(mailbox)
            ));
        }
    }

    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            // Sizes after CRLF normalization differ a little from file sizes.
            let len = bar.length().unwrap_or(0);
            bar.set_position((bar.position() + bytes).min(len));
        }
    }

    /// Prints a line above the bar (or to stderr when there is no bar).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// NO_COLOR (https://no-color.org): set and non-empty disables colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
