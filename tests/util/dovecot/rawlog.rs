//! Reading Dovecot's rawlog (`rawlog_dir`): the bytes each client sent,
//! split into command lines with literal contents skipped, so tests can
//! count the commands a client really sent (e.g. one APPEND per batch).

/// Remove the `SECONDS.MICROS ` prefix rawlog puts at the start of each line.
pub fn strip_rawlog_timestamps(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut rest = line;
        if digits > 0 && line.get(digits) == Some(&b'.') {
            let frac = line[digits + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if frac > 0 && line.get(digits + 1 + frac) == Some(&b' ') {
                rest = &line[digits + 2 + frac..];
            }
        }
        out.extend_from_slice(rest);
    }
    out
}

/// Split a client byte stream into commands, skipping literal contents.
pub fn parse_rawlog_commands(stream: &[u8]) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut pos = 0;
    while pos < stream.len() {
        let end = stream[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(stream.len(), |i| pos + i + 1);
        let line = &stream[pos..end];
        pos = end;
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        current.push_str(text);
        match literal_size(text) {
            Some(n) => pos = (pos + n).min(stream.len()),
            None => {
                if !current.is_empty() {
                    commands.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        commands.push(current);
    }
    commands
}

/// `Some(n)` if the line ends with `{n}` or `{n+}` (also `~{n}` for BINARY).
fn literal_size(line: &str) -> Option<usize> {
    let inner = line.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    let num = inner[open + 1..].trim_end_matches('+');
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok()
}
