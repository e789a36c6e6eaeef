//! The stderr logger behind `-v` (what mailhaul decides: connections,
//! capabilities, mode, mailboxes, batches, reconnects) and `-vv` (also the
//! redacted IMAP exchange, see `imap::trace`). A few lines of our own on the
//! `log` facade, as ripgrep does: no formatting crate needed for
//! `mailhaul: LEVEL: message`.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && metadata.target().starts_with("mailhaul")
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            let text = crate::report::sanitize(&record.args().to_string());
            eprintln!("mailhaul: {level}: {text}");
        }
    }

    fn flush(&self) {}
}

/// Installs the logger: 0 → warnings only, 1 → info, 2+ → debug.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    };
    // A second init (tests) keeps the first logger; the level still applies.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
