//! Just enough MIME structure to keep From_ lines inside a `message/rfc822`
//! part (a forwarded mailbox) from splitting the message, and to let a From_
//! line right after the closing boundary separate without a blank line.
//! Fed one line at a time; cheap for lines that cannot matter.

/// Tracks the multipart boundaries of one mbox message.
#[derive(Debug, Default)]
pub struct MimeTracker {
    /// Still in the top-level header block.
    in_headers: bool,
    /// Capturing a Content-Type value (top-level or part headers).
    capturing: bool,
    content_type: Vec<u8>,
    /// Open multiparts, outermost first.
    stack: Vec<Multipart>,
    /// The previous line closed the outermost multipart.
    just_closed: bool,
}

#[derive(Debug)]
struct Multipart {
    /// `--boundary`.
    delimiter: Vec<u8>,
    in_part_headers: bool,
    /// The current part is a `message/rfc822` whose body has started.
    rfc822: bool,
}

impl MimeTracker {
    pub fn new() -> Self {
        MimeTracker {
            in_headers: true,
            ..Default::default()
        }
    }

    /// True inside the body of a `message/rfc822` part: a From_ line there
    /// belongs to the embedded message.
    pub fn protected(&self) -> bool {
        self.stack.iter().any(|m| m.rfc822 && !m.in_part_headers)
    }

    /// True when the previous line was the outermost closing boundary.
    pub fn just_closed(&self) -> bool {
        self.just_closed
    }

    /// Feeds the next line of the message (with its line end).
    pub fn feed(&mut self, line: &[u8]) {
        self.just_closed = false;
        let in_part_headers = self.stack.last().is_some_and(|m| m.in_part_headers);
        if !self.in_headers && !in_part_headers {
            if !self.stack.is_empty() && line.starts_with(b"--") {
                self.boundary(trim_end(line));
            }
            return;
        }
        let text = trim_end(line);
        if text.is_empty() {
            self.capturing = false;
            self.end_of_headers();
            return;
        }
        if matches!(line[0], b' ' | b'\t') {
            if self.capturing {
                self.content_type.push(b' ');
                self.content_type.extend_from_slice(text);
            }
            return;
        }
        if in_part_headers && line.starts_with(b"--") && self.boundary(text) {
            return;
        }
        self.capturing = text.len() > 13 && text[..13].eq_ignore_ascii_case(b"content-type:");
        if self.capturing {
            self.content_type.clear();
            self.content_type.extend_from_slice(&text[13..]);
        }
    }

    fn end_of_headers(&mut self) {
        let original = std::mem::take(&mut self.content_type);
        let original = original.trim_ascii_start();
        let ct = original.to_ascii_lowercase();
        if self.in_headers {
            self.in_headers = false;
        } else if let Some(top) = self.stack.last_mut() {
            top.in_part_headers = false;
            top.rfc822 = ct.starts_with(b"message/rfc822");
        }
        if ct.starts_with(b"multipart/")
            && let Some(b) = boundary_param(&ct, original)
        {
            let mut delimiter = b"--".to_vec();
            delimiter.extend_from_slice(&b);
            self.stack.push(Multipart {
                delimiter,
                in_part_headers: false,
                rfc822: false,
            });
        }
    }

    /// Handles a possible boundary line; true when it was one.
    fn boundary(&mut self, text: &[u8]) -> bool {
        for i in (0..self.stack.len()).rev() {
            let d = &self.stack[i].delimiter;
            if !text.starts_with(d) {
                continue;
            }
            let rest = &text[d.len()..];
            if rest.is_empty() {
                self.stack.truncate(i + 1);
                let m = &mut self.stack[i];
                m.in_part_headers = true;
                m.rfc822 = false;
                self.content_type.clear();
                self.capturing = false;
                return true;
            }
            if rest == b"--" {
                self.stack.truncate(i);
                self.just_closed = self.stack.is_empty();
                return true;
            }
        }
        false
    }
}

/// The `boundary=` parameter of a Content-Type value, found in its
/// lowercased form `lower` and taken with its case from `original`.
pub(crate) fn boundary_param(lower: &[u8], original: &[u8]) -> Option<Vec<u8>> {
    let at = lower.windows(9).position(|w| w == b"boundary=")? + 9;
    let rest = &original[at..];
    let value = if let Some(quoted) = rest.strip_prefix(b"\"") {
        let end = quoted.iter().position(|&b| b == b'"')?;
        &quoted[..end]
    } else {
        let end = rest
            .iter()
            .position(|&b| b == b';' || b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        &rest[..end]
    };
    (!value.is_empty()).then(|| value.to_vec())
}

fn trim_end(line: &[u8]) -> &[u8] {
    line.trim_ascii_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` and returns, per line, (protected, just_closed) *before* it.
    fn states(text: &str) -> Vec<(bool, bool)> {
        let mut t = MimeTracker::new();
        text.split_inclusive('\n')
            .map(|l| {
                let s = (t.protected(), t.just_closed());
                t.feed(l.as_bytes());
                s
            })
            .collect()
    }

    #[test]
    fn rfc822_part_is_protected_until_the_boundary() {
        let msg = "Content-Type: MULTIPART/mixed;\n BOUNDARY=Troop\n\n--Troop\nContent-Type: text/plain\n\nFrom a\n--Troop\nContent-Type: MESSAGE/rfc822\n\nFrom b Fri Jul 10 18:59:26 1998\nx\n--Troop--\nFrom c\n";
        let s = states(msg);
        let protected: Vec<bool> = s.iter().map(|x| x.0).collect();
        // line 6 (From a) in a text part: not protected; line 10 (From b): protected.
        assert!(!protected[6]);
        assert!(protected[10] && protected[11] && protected[12]);
        assert!(!protected[13]);
        assert!(s[13].1, "From c follows the closing boundary");
    }

    #[test]
    fn unquoted_boundary_and_nested_multipart() {
        let msg = "Content-Type: multipart/mixed; boundary=\"A b\"\n\n--A b\nContent-Type: multipart/alternative; boundary=in\n\n--in\n\n--in--\n--A b\nContent-Type: message/rfc822\n\nFrom x\n--A b--\n";
        let s = states(msg);
        assert!(s[11].0, "From x inside the rfc822 part");
        assert!(s[12].0, "still protected before the closing boundary");
        let ct = b"multipart/mixed; BOUNDARY=Xy;y=1";
        assert_eq!(
            boundary_param(&ct.to_ascii_lowercase(), ct),
            Some(b"Xy".to_vec())
        );
    }

    #[test]
    fn plain_message_never_protected() {
        let s = states("Subject: x\n\n--not a boundary\nFrom y\n");
        assert!(s.iter().all(|x| !x.0 && !x.1));
    }
}
