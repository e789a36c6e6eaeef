//! The zip side of Takeout archives: lists a part's members from its
//! central directory (the `zip` crate: zip64 and name encodings), and opens
//! one member as a stream of its own: the part's file seeked to the member's
//! data and inflated as it is read (stored or deflate, what Takeout writes),
//! its size and CRC-32 checked at the end. Nothing is loaded whole and no
//! archive stays borrowed, so the stream can outlive the listing.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::DeflateDecoder;
use zip::{CompressionMethod, ZipArchive};

use super::ExactSize;
use super::listing::Member;

fn zip_error(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        e => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a readable zip: {e}"),
        ),
    }
}

/// The members of one zip part, in central-directory order.
pub(super) fn list(part: &Path) -> io::Result<Vec<Member>> {
    let archive = ZipArchive::new(File::open(part)?).map_err(zip_error)?;
    (0..archive.len())
        .map(|index| {
            let e = archive.by_index_data(index).map_err(zip_error)?;
            Ok(Member {
                index,
                name: e.name().map_err(zip_error)?.into_owned(),
                size: e.size(),
                mtime: None,
                is_file: e.is_file(),
            })
        })
        .collect()
}

/// Opens member `index` of `part`, which must still be named `name`.
pub(super) fn open_member(part: &Path, index: usize, name: &str) -> io::Result<Box<dyn Read>> {
    let mut archive = ZipArchive::new(File::open(part)?).map_err(zip_error)?;
    let (start, compressed, size, crc, method) = {
        let f = archive.by_index_raw(index).map_err(zip_error)?;
        if f.name().map_err(zip_error)? != name {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("member {index} is no longer {name}: the archive changed"),
            ));
        }
        if f.encrypted() {
            return Err(unsupported("it is encrypted"));
        }
        let start = f
            .data_start()
            .ok_or_else(|| io::Error::other(format!("{name}: no data offset")))?;
        (
            start,
            f.compressed_size(),
            f.size(),
            f.crc32(),
            f.compression(),
        )
    };
    let mut file = archive.into_inner();
    file.seek(SeekFrom::Start(start))?;
    let raw = BufReader::with_capacity(64 * 1024, file.take(compressed));
    let data: Box<dyn Read> = match method {
        CompressionMethod::Stored => Box::new(raw),
        CompressionMethod::Deflated => Box::new(DeflateDecoder::new(raw)),
        other => {
            let why = format!(
                "its compression method {} is not read (only stored and deflate, \
                 what Takeout writes); unpack it with 7-Zip, or export again as .tgz",
                method_name(other)
            );
            return Err(unsupported(&why));
        }
    };
    Ok(Box::new(CrcChecked {
        inner: ExactSize::new(data, size, "zip member"),
        crc: flate2::Crc::new(),
        want: crc,
        checked: false,
    }))
}

/// `Deflate64 (9)`, `Zstd (93)`, …: the method as zip tools name it.
#[allow(deprecated)] // the number is only reachable through the variant
fn method_name(method: CompressionMethod) -> String {
    match method {
        CompressionMethod::Unsupported(n) => {
            format!("{} ({n})", CompressionMethod::name_from_u16(n))
        }
        other => format!("{other:?}"),
    }
}

fn unsupported(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, why.to_string())
}

/// Computes the CRC-32 of what passes and compares it at the end.
struct CrcChecked<R> {
    inner: R,
    crc: flate2::Crc,
    want: u32,
    checked: bool,
}

impl<R: Read> Read for CrcChecked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && !self.checked {
            self.checked = true;
            if self.crc.sum() != self.want {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "CRC-32 mismatch (stored {:08x}, read {:08x}): the archive is damaged",
                        self.want,
                        self.crc.sum()
                    ),
                ));
            }
        }
        Ok(n)
    }
}
