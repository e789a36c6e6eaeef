//! mailhaul patch: OSTs of Outlook 2013 and later (`wVer` 36) read as a
//! Unicode PST.
//!
//! Such an OST is a Unicode PST file but for its node database: B-tree pages
//! of 4 KiB (`cEnt`/`cEntMax` are u16), block B-tree leaf entries that hold
//! the stored and the inflated size of a block, blocks up to 64 KiB with a
//! 24-byte trailer, stored zlib-compressed when the two sizes differ (the
//! layout as libpff's "Personal Folder File (PFF) format" describes it,
//! checked on pst-extractor's `pstextractortest@outlook.com.ost`). The LTP
//! and messaging layers above are those of a Unicode PST.
//!
//! [`Ost4kView`] reads the OST's two B-trees once and presents the file
//! through `Read + Seek` as a Unicode PST: its header with `wVer` 23 and the
//! roots moved, the B-trees rebuilt as 512-byte pages, and every block
//! inflated on demand at a new offset with a Unicode block trailer (CRC and
//! signature recomputed after the OST block's own CRC was checked). Only the
//! B-tree entries are held in memory (about 56 bytes per block), plus a few
//! inflated blocks.

use byteorder::{ByteOrder, LittleEndian};
use flate2::read::ZlibDecoder;
use std::{
    collections::VecDeque,
    io::{self, Read, Seek, SeekFrom},
    rc::Rc,
};

use crate::{block_sig::compute_sig, crc::compute_crc, ndb::page::PageType, PstReader};

/// `wVer` of an OST written by Outlook 2013 or later.
pub const NDB_VERSION_OST_4K: u16 = 36;
/// `wVer` of a Unicode PST, written into the view's header.
const NDB_VERSION_UNICODE: u16 = 23;

const OST_PAGE_SIZE: usize = 4096;
const OST_PAGE_ENTRIES_SIZE: usize = 4056;
const OST_PAGE_TRAILER: usize = 4072;
const OST_BLOCK_TRAILER_SIZE: u64 = 24;
const OST_BLOCK_ALIGN: u64 = 512;

const PST_PAGE_SIZE: u64 = 512;
const PST_PAGE_ENTRIES_SIZE: usize = 488;
const PST_BLOCK_TRAILER_SIZE: u64 = 16;
const PST_BLOCK_ALIGN: u64 = 64;

/// The header's size and where the rebuilt B-tree pages start (after the
/// header, the density list page at 0x4200 and its padding).
const HEADER_SIZE: usize = 564;
const PAGES_START: u64 = 0x4400;

// Offsets in the Unicode header ([MS-PST] 2.2.2.6).
const HEADER_CRC_PARTIAL: usize = 4;
const HEADER_VERSION: usize = 10;
const ROOT_FILE_EOF: usize = 184;
const ROOT_AMAP_LAST: usize = 192;
const ROOT_NBT: usize = 216;
const ROOT_BBT: usize = 232;
const HEADER_CRC_FULL: usize = 524;

const INTERMEDIATE_ENTRY_SIZE: usize = 24;
const NBT_LEAF_ENTRY_SIZE: usize = 32;
const BBT_LEAF_ENTRY_SIZE: usize = 24;

/// True when `header` (the file's first 12 bytes or more) is that of an OST
/// of Outlook 2013 or later.
pub fn is_ost_4k(header: &[u8]) -> bool {
    header.len() >= 12
        && &header[..4] == b"!BDN"
        && LittleEndian::read_u16(&header[HEADER_VERSION..]) == NDB_VERSION_OST_4K
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("OST (wVer 36): {what}"))
}

/// A block of the OST: where it is stored and where the view shows it.
#[derive(Clone, Copy)]
struct BlockEntry {
    bid: u64,
    ost_offset: u64,
    stored: u16,
    inflated: u16,
    refs: u16,
    view_offset: u64,
}

impl BlockEntry {
    fn view_size(&self) -> u64 {
        (u64::from(self.inflated) + PST_BLOCK_TRAILER_SIZE).next_multiple_of(PST_BLOCK_ALIGN)
    }
}

/// A Unicode PST view of an OST of Outlook 2013 or later; see the module doc.
pub struct Ost4kView {
    ost: Box<dyn PstReader>,
    /// The view's bytes before the blocks: header, zeros, B-tree pages.
    head: Vec<u8>,
    /// Sorted by `view_offset` (which follows `bid` order).
    blocks: Vec<BlockEntry>,
    end: u64,
    position: u64,
    /// The last few blocks as the view shows them (index, bytes).
    cache: VecDeque<(usize, Rc<Vec<u8>>)>,
}

const CACHED_BLOCKS: usize = 8;

impl Ost4kView {
    pub fn new(mut ost: Box<dyn PstReader>) -> io::Result<Self> {
        let mut header = vec![0_u8; HEADER_SIZE];
        ost.seek(SeekFrom::Start(0))?;
        ost.read_exact(&mut header)?;
        if !is_ost_4k(&header) {
            return Err(invalid("not an OST of Outlook 2013 or later".into()));
        }
        let nbt_root = LittleEndian::read_u64(&header[ROOT_NBT + 8..]);
        let bbt_root = LittleEndian::read_u64(&header[ROOT_BBT + 8..]);

        let mut nodes = Vec::new();
        read_ost_btree(&mut ost, nbt_root, PageType::NodeBTree, &mut |e| {
            nodes.push(<[u8; NBT_LEAF_ENTRY_SIZE]>::try_from(e).expect("entry size"))
        })?;
        let mut blocks = Vec::new();
        read_ost_btree(&mut ost, bbt_root, PageType::BlockBTree, &mut |e| {
            blocks.push(BlockEntry {
                bid: LittleEndian::read_u64(&e[0..]),
                ost_offset: LittleEndian::read_u64(&e[8..]),
                stored: LittleEndian::read_u16(&e[16..]),
                inflated: LittleEndian::read_u16(&e[18..]),
                refs: LittleEndian::read_u16(&e[20..]),
                view_offset: 0,
            })
        })?;
        blocks.sort_by_key(|b| b.bid);
        nodes.sort_by_key(|n| LittleEndian::read_u64(n));

        let node_pages = pages_for(nodes.len(), NBT_LEAF_ENTRY_SIZE);
        let block_pages = pages_for(blocks.len(), BBT_LEAF_ENTRY_SIZE);
        let mut offset = PAGES_START + (node_pages + block_pages) * PST_PAGE_SIZE;
        for block in &mut blocks {
            // The crate adds the 16-byte trailer to a block's size as u16.
            let largest = u16::MAX - PST_BLOCK_TRAILER_SIZE as u16;
            if block.inflated == 0 || block.stored == 0 || block.inflated > largest {
                return Err(invalid(format!(
                    "block {:#x} of {} bytes ({} stored)",
                    block.bid, block.inflated, block.stored
                )));
            }
            block.view_offset = offset;
            offset += block.view_size();
        }
        let end = offset;

        let mut pages = PageWriter {
            bytes: Vec::with_capacity(((node_pages + block_pages) * PST_PAGE_SIZE) as usize),
        };
        let nbt = pages.tree(
            PageType::NodeBTree,
            NBT_LEAF_ENTRY_SIZE,
            nodes
                .iter()
                .map(|n| (LittleEndian::read_u64(n), n.to_vec()))
                .collect(),
        );
        let bbt = pages.tree(
            PageType::BlockBTree,
            BBT_LEAF_ENTRY_SIZE,
            blocks
                .iter()
                .map(|b| {
                    let mut e = vec![0_u8; BBT_LEAF_ENTRY_SIZE];
                    LittleEndian::write_u64(&mut e[0..], b.bid);
                    LittleEndian::write_u64(&mut e[8..], b.view_offset);
                    LittleEndian::write_u16(&mut e[16..], b.inflated);
                    LittleEndian::write_u16(&mut e[18..], b.refs);
                    (b.bid, e)
                })
                .collect(),
        );
        debug_assert_eq!(
            pages.bytes.len() as u64,
            (node_pages + block_pages) * PST_PAGE_SIZE
        );

        LittleEndian::write_u16(&mut header[HEADER_VERSION..], NDB_VERSION_UNICODE);
        LittleEndian::write_u64(&mut header[ROOT_FILE_EOF..], end);
        LittleEndian::write_u64(&mut header[ROOT_AMAP_LAST..], 0);
        LittleEndian::write_u64(&mut header[ROOT_NBT..], nbt.0);
        LittleEndian::write_u64(&mut header[ROOT_NBT + 8..], nbt.1);
        LittleEndian::write_u64(&mut header[ROOT_BBT..], bbt.0);
        LittleEndian::write_u64(&mut header[ROOT_BBT + 8..], bbt.1);
        let crc = compute_crc(0, &header[8..8 + 471]);
        LittleEndian::write_u32(&mut header[HEADER_CRC_PARTIAL..], crc);
        let crc = compute_crc(0, &header[8..HEADER_CRC_FULL]);
        LittleEndian::write_u32(&mut header[HEADER_CRC_FULL..], crc);

        let mut head = header;
        head.resize(PAGES_START as usize, 0);
        head.extend_from_slice(&pages.bytes);

        Ok(Self {
            ost,
            head,
            blocks,
            end,
            position: 0,
            cache: VecDeque::with_capacity(CACHED_BLOCKS),
        })
    }

    /// Block `index` as the view shows it: the inflated data, zeros, and a
    /// Unicode block trailer.
    fn block(&mut self, index: usize) -> io::Result<Rc<Vec<u8>>> {
        if let Some((_, bytes)) = self.cache.iter().find(|(i, _)| *i == index) {
            return Ok(bytes.clone());
        }
        let block = self.blocks[index];
        let data = self.inflate(&block)?;
        let mut bytes = data;
        let size = block.view_size() as usize;
        bytes.resize(size - PST_BLOCK_TRAILER_SIZE as usize, 0);
        let trailer = &mut [0_u8; PST_BLOCK_TRAILER_SIZE as usize];
        LittleEndian::write_u16(&mut trailer[0..], block.inflated);
        let signature = compute_sig(block.view_offset as u32, block.bid as u32);
        LittleEndian::write_u16(&mut trailer[2..], signature);
        let crc = compute_crc(0, &bytes[..usize::from(block.inflated)]);
        LittleEndian::write_u32(&mut trailer[4..], crc);
        LittleEndian::write_u64(&mut trailer[8..], block.bid);
        bytes.extend_from_slice(trailer);

        let bytes = Rc::new(bytes);
        if self.cache.len() == CACHED_BLOCKS {
            self.cache.pop_front();
        }
        self.cache.push_back((index, bytes.clone()));
        Ok(bytes)
    }

    /// The block's data as stored in the OST, its CRC checked, inflated when
    /// its stored size differs from its inflated size.
    fn inflate(&mut self, block: &BlockEntry) -> io::Result<Vec<u8>> {
        let stored = u64::from(block.stored);
        let allocated = (stored + OST_BLOCK_TRAILER_SIZE).next_multiple_of(OST_BLOCK_ALIGN);
        let mut raw = vec![0_u8; allocated as usize];
        self.ost.seek(SeekFrom::Start(block.ost_offset))?;
        self.ost.read_exact(&mut raw)?;
        let trailer = &raw[(allocated - OST_BLOCK_TRAILER_SIZE) as usize..];
        let (cb, crc, bid) = (
            LittleEndian::read_u16(&trailer[0..]),
            LittleEndian::read_u32(&trailer[4..]),
            LittleEndian::read_u64(&trailer[8..]),
        );
        raw.truncate(stored as usize);
        if cb != block.stored || bid != block.bid || crc != compute_crc(0, &raw) {
            return Err(invalid(format!(
                "block {:#x} at {:#x}: trailer does not match (cb {cb}, bid {bid:#x})",
                block.bid, block.ost_offset
            )));
        }
        if block.stored == block.inflated {
            return Ok(raw);
        }
        let mut data = Vec::with_capacity(usize::from(block.inflated));
        ZlibDecoder::new(raw.as_slice())
            .take(u64::from(block.inflated) + 1)
            .read_to_end(&mut data)
            .map_err(|e| invalid(format!("block {:#x}: {e}", block.bid)))?;
        if data.len() != usize::from(block.inflated) {
            return Err(invalid(format!(
                "block {:#x} inflates to {} bytes, not {}",
                block.bid,
                data.len(),
                block.inflated
            )));
        }
        Ok(data)
    }
}

impl Read for Ost4kView {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pos = self.position;
        if buf.is_empty() || pos >= self.end {
            return Ok(0);
        }
        let n = if pos < self.head.len() as u64 {
            let from = &self.head[pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            n
        } else {
            let index = self
                .blocks
                .partition_point(|b| b.view_offset <= pos)
                .checked_sub(1)
                .ok_or_else(|| invalid(format!("no block at {pos:#x}")))?;
            let start = self.blocks[index].view_offset;
            let bytes = self.block(index)?;
            let from = &bytes[(pos - start) as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            n
        };
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Ost4kView {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.end.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = position
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.position)
    }
}

/// Walks the OST B-tree whose root page is at `offset`, calling `leaf` with
/// each leaf entry in key order.
fn read_ost_btree(
    ost: &mut Box<dyn PstReader>,
    offset: u64,
    page_type: PageType,
    leaf: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    read_ost_page(ost, offset, page_type, None, leaf)
}

fn read_ost_page(
    ost: &mut Box<dyn PstReader>,
    offset: u64,
    page_type: PageType,
    level: Option<u8>,
    leaf: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    let mut page = vec![0_u8; OST_PAGE_SIZE];
    ost.seek(SeekFrom::Start(offset))?;
    ost.read_exact(&mut page)?;
    let trailer = &page[OST_PAGE_TRAILER..];
    if trailer[0] != page_type as u8 || trailer[1] != page_type as u8 {
        return Err(invalid(format!(
            "page at {offset:#x}: type {:#x}, expected {:#x}",
            trailer[0], page_type as u8
        )));
    }
    if LittleEndian::read_u32(&trailer[4..]) != compute_crc(0, &page[..OST_PAGE_TRAILER]) {
        return Err(invalid(format!("page at {offset:#x}: bad CRC")));
    }
    let count = usize::from(LittleEndian::read_u16(&page[OST_PAGE_ENTRIES_SIZE..]));
    let size = usize::from(page[OST_PAGE_ENTRIES_SIZE + 4]);
    let page_level = page[OST_PAGE_ENTRIES_SIZE + 5];
    let expected = if page_level > 0 {
        INTERMEDIATE_ENTRY_SIZE
    } else if page_type == PageType::NodeBTree {
        NBT_LEAF_ENTRY_SIZE
    } else {
        BBT_LEAF_ENTRY_SIZE
    };
    if size < expected
        || count * size > OST_PAGE_ENTRIES_SIZE
        || level.is_some_and(|l| l != page_level)
    {
        return Err(invalid(format!(
            "page at {offset:#x}: {count} entries of {size} bytes at level {page_level}"
        )));
    }
    for entry in page[..count * size].chunks_exact(size) {
        if page_level > 0 {
            let child = LittleEndian::read_u64(&entry[16..]);
            read_ost_page(ost, child, page_type, Some(page_level - 1), leaf)?;
        } else {
            leaf(&entry[..expected]);
        }
    }
    Ok(())
}

/// Pages a Unicode PST B-tree of `entries` leaf entries of `size` bytes
/// takes, intermediate levels included.
fn pages_for(entries: usize, size: usize) -> u64 {
    let mut count = entries.div_ceil(PST_PAGE_ENTRIES_SIZE / size).max(1);
    let mut total = count;
    while count > 1 {
        count = count.div_ceil(PST_PAGE_ENTRIES_SIZE / INTERMEDIATE_ENTRY_SIZE);
        total += count;
    }
    total as u64
}

/// Builds Unicode PST B-tree pages, appended to `bytes`, which start at
/// [`PAGES_START`] in the view.
struct PageWriter {
    bytes: Vec<u8>,
}

impl PageWriter {
    /// Writes a B-tree of the leaf entries (key, bytes) in key order;
    /// returns its root page's (bid, offset).
    fn tree(
        &mut self,
        page_type: PageType,
        size: usize,
        entries: Vec<(u64, Vec<u8>)>,
    ) -> (u64, u64) {
        let mut level = 0_u8;
        let mut entries = entries;
        let mut size = size;
        loop {
            let per_page = PST_PAGE_ENTRIES_SIZE / size;
            let mut parents = Vec::new();
            let chunks: Vec<_> = if entries.is_empty() {
                vec![&entries[..]]
            } else {
                entries.chunks(per_page).collect()
            };
            for chunk in chunks {
                let (bid, offset) = self.page(page_type, level, size, chunk);
                let key = chunk.first().map_or(0, |(k, _)| *k);
                let mut e = vec![0_u8; INTERMEDIATE_ENTRY_SIZE];
                LittleEndian::write_u64(&mut e[0..], key);
                LittleEndian::write_u64(&mut e[8..], bid);
                LittleEndian::write_u64(&mut e[16..], offset);
                parents.push((key, e));
            }
            if parents.len() == 1 {
                let e = &parents[0].1;
                return (
                    LittleEndian::read_u64(&e[8..]),
                    LittleEndian::read_u64(&e[16..]),
                );
            }
            entries = parents;
            size = INTERMEDIATE_ENTRY_SIZE;
            level += 1;
        }
    }

    fn page(
        &mut self,
        page_type: PageType,
        level: u8,
        size: usize,
        entries: &[(u64, Vec<u8>)],
    ) -> (u64, u64) {
        let offset = PAGES_START + self.bytes.len() as u64;
        // A page's bid is its offset: unique, and never an internal block's.
        let bid = offset;
        let mut page = [0_u8; PST_PAGE_SIZE as usize];
        for (i, (_, e)) in entries.iter().enumerate() {
            page[i * size..(i + 1) * size].copy_from_slice(e);
        }
        let meta = PST_PAGE_ENTRIES_SIZE;
        page[meta] = entries.len() as u8;
        page[meta + 1] = (PST_PAGE_ENTRIES_SIZE / size) as u8;
        page[meta + 2] = size as u8;
        page[meta + 3] = level;
        let crc = compute_crc(0, &page[..496]);
        page[496] = page_type as u8;
        page[497] = page_type as u8;
        LittleEndian::write_u16(&mut page[498..], page_type.signature(offset, bid));
        LittleEndian::write_u32(&mut page[500..], crc);
        LittleEndian::write_u64(&mut page[504..], bid);
        self.bytes.extend_from_slice(&page);
        (bid, offset)
    }
}

#[cfg(test)]
#[path = "ost4k_tests.rs"]
mod tests;
