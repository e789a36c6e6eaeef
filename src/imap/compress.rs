//! RFC 4978 COMPRESS=DEFLATE: [`Deflate`] wraps a stream with raw deflate
//! (RFC 1951, no zlib header) in both directions. Sending `COMPRESS DEFLATE`
//! and switching the connection over after the tagged OK is the session's
//! job; this module knows bytes only.
//!
//! Writes are compressed into a buffer; `flush` ends them with a sync flush
//! (RFC 4978 §4: the sender must flush so the peer can decode every command
//! it has been sent, else both sides wait) and writes the result in one go.
//! `Connection::send` flushes once per command, so a whole MULTIAPPEND is one
//! deflate run ended by one sync marker. Reads inflate as bytes arrive; a
//! corrupt stream is `InvalidData` (a protocol error, not a lost connection).
//! Compression level 1: text mail still shrinks ~3× and the CPU cost stays
//! far below the network's on any real link.

use std::io::{self, Read, Write};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Compressed bytes buffered before they are written to the inner stream.
const OUT_CHUNK_BYTES: usize = 256 * 1024;
/// Size of the buffer compressed input is read into.
const IN_BUF_BYTES: usize = 64 * 1024;

/// A stream with raw deflate on both directions.
pub struct Deflate<S> {
    inner: S,
    compress: Compress,
    decompress: Decompress,
    /// Compressed output not yet written.
    out: Vec<u8>,
    /// Compressed input not yet inflated: `input[pos..len]`.
    input: Vec<u8>,
    pos: usize,
    len: usize,
    /// Compressed bytes written to `inner`.
    wire_sent: u64,
}

impl<S> Deflate<S> {
    /// Wraps `inner`; `pending` holds compressed bytes already read from it
    /// (what a buffered reader had taken past the COMPRESS OK).
    pub fn new(inner: S, pending: &[u8]) -> Deflate<S> {
        let mut input = vec![0; IN_BUF_BYTES.max(pending.len())];
        input[..pending.len()].copy_from_slice(pending);
        Deflate {
            inner,
            compress: Compress::new(Compression::new(1), false),
            decompress: Decompress::new(false),
            out: Vec::with_capacity(OUT_CHUNK_BYTES),
            input,
            pos: 0,
            len: pending.len(),
            wire_sent: 0,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Compressed bytes written to the inner stream so far.
    pub fn wire_sent(&self) -> u64 {
        self.wire_sent
    }

    /// Runs the compressor over `data` with `flush` until it has taken all
    /// of `data` and (for a sync flush) emitted everything.
    fn deflate(&mut self, mut data: &[u8], flush: FlushCompress) -> io::Result<()> {
        loop {
            if self.out.capacity() - self.out.len() < 1024 {
                self.out.reserve(OUT_CHUNK_BYTES);
            }
            let before = self.compress.total_in();
            self.compress
                .compress_vec(data, &mut self.out, flush)
                .map_err(|e| io::Error::other(format!("deflate: {e}")))?;
            let used = (self.compress.total_in() - before) as usize;
            data = &data[used..];
            // Output room left over means the compressor had nothing more.
            let drained = self.out.len() < self.out.capacity();
            if data.is_empty() && drained {
                return Ok(());
            }
        }
    }

    fn write_out(&mut self) -> io::Result<()>
    where
        S: Write,
    {
        self.inner.write_all(&self.out)?;
        self.wire_sent += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }
}

impl<S: Write> Write for Deflate<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.deflate(buf, FlushCompress::None)?;
        if self.out.len() >= OUT_CHUNK_BYTES {
            self.write_out()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.deflate(&[], FlushCompress::Sync)?;
        self.write_out()?;
        self.inner.flush()
    }
}

impl<S: Read> Read for Deflate<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            // Inflate first, even with no new input: the inflater may hold
            // output that did not fit into the caller's last buffer.
            let (in_before, out_before) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress(&self.input[self.pos..self.len], buf, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("inflate: {e}")))?;
            let used = (self.decompress.total_in() - in_before) as usize;
            let produced = (self.decompress.total_out() - out_before) as usize;
            self.pos += used;
            if produced > 0 {
                return Ok(produced);
            }
            if status == Status::StreamEnd {
                return Ok(0); // the peer ended the deflate stream
            }
            if self.pos == self.len {
                let n = self.inner.read(&mut self.input)?;
                if n == 0 {
                    return Ok(0);
                }
                self.pos = 0;
                self.len = n;
            } else if used == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "inflate made no progress",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Bytes written to a `Vec` through deflate, with a flush per piece.
    fn deflated(pieces: &[&[u8]]) -> Vec<u8> {
        let mut d = Deflate::new(Vec::new(), &[]);
        for p in pieces {
            d.write_all(p).unwrap();
            d.flush().unwrap();
        }
        d.inner
    }

    fn inflate_all(wire: Vec<u8>, pending: usize, chunk: usize) -> Vec<u8> {
        let mut d = Deflate::new(Cursor::new(wire[pending..].to_vec()), &wire[..pending]);
        let mut out = Vec::new();
        let mut buf = vec![0; chunk];
        loop {
            let n = d.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn round_trip_in_any_read_size_and_with_pending_bytes() {
        let text = b"A0001 APPEND INBOX {5+}\r\nhello\r\n".repeat(500);
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let wire = deflated(&[&text, &big, b"A0002 NOOP\r\n"]);
        let mut want = text.clone();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"A0002 NOOP\r\n");
        for (pending, chunk) in [(0, 1), (0, 7), (3, 4096), (100, 65536)] {
            let got = inflate_all(wire.clone(), pending, chunk);
            let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
            assert!(
                got == want,
                "pending {pending}, chunk {chunk}: {} bytes vs {}, first difference at {first_diff:?}",
                got.len(),
                want.len()
            );
        }
    }

    #[test]
    fn each_flush_makes_everything_so_far_decodable() {
        // RFC 4978 §4: after a flush the peer can decode the whole command.
        let mut d = Deflate::new(Vec::new(), &[]);
        d.write_all(b"A0001 NOOP\r\n").unwrap();
        d.flush().unwrap();
        let first = d.inner.len();
        assert!(d.inner.ends_with(&[0, 0, 0xff, 0xff]), "sync flush marker");
        let mut r = Deflate::new(Cursor::new(d.inner[..first].to_vec()), &[]);
        let mut buf = [0; 64];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"A0001 NOOP\r\n");
        assert_eq!(d.wire_sent(), first as u64);
    }

    #[test]
    fn text_shrinks() {
        let text = b"Subject: status report\r\nThe build passed on every platform.\r\n".repeat(200);
        assert!(deflated(&[&text]).len() * 4 < text.len());
    }

    #[test]
    fn garbage_is_invalid_data() {
        let mut r = Deflate::new(Cursor::new(vec![0xff; 64]), &[]);
        let mut buf = [0; 64];
        assert_eq!(
            r.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
