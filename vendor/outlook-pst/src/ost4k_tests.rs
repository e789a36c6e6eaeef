//! mailhaul patch: tests of [`super`] (`src/ost4k.rs`).

use super::*;
use crate::ndb::{
    block_id::UnicodeBlockId,
    header::{NdbCryptMethod, UnicodeHeader},
    node_id::NodeId,
    page::NodeBTreeEntry,
    read_write::HeaderReadWrite,
    root::UnicodeRoot,
};
use crate::{PstFile, UnicodePstFile};
use flate2::{write::ZlibEncoder, Compression};
use std::io::{Cursor, Write};

const NODES: u32 = 40;
const BLOCKS: u64 = 45;

fn ost_page(page_type: PageType, size: usize, entries: &[Vec<u8>]) -> Vec<u8> {
    let mut page = vec![0_u8; OST_PAGE_SIZE];
    for (i, e) in entries.iter().enumerate() {
        page[i * size..(i + 1) * size].copy_from_slice(e);
    }
    LittleEndian::write_u16(&mut page[4056..], entries.len() as u16);
    LittleEndian::write_u16(&mut page[4058..], (OST_PAGE_ENTRIES_SIZE / size) as u16);
    page[4060] = size as u8;
    page[4072] = page_type as u8;
    page[4073] = page_type as u8;
    let crc = compute_crc(0, &page[..OST_PAGE_TRAILER]);
    LittleEndian::write_u32(&mut page[4076..], crc);
    page
}

fn block_data(bid: u64) -> Vec<u8> {
    let len = if bid == 4 {
        20_000
    } else {
        100 + bid as usize * 3
    };
    (0..len).map(|i| (i % 7) as u8 ^ bid as u8).collect()
}

/// An OST of Outlook 2013+ in miniature: one leaf page per B-tree,
/// `NODES` nodes, `BLOCKS` blocks (stored compressed, one of them
/// larger than a PST block can be).
fn ost() -> Vec<u8> {
    let mut file = vec![0_u8; 0x4400];
    let (nbt_at, bbt_at) = (0x4400_u64, 0x5400_u64);
    let mut blocks = Vec::new();
    let mut data_at = 0x6400_u64;
    let mut stored_blocks = Vec::new();
    for bid in (1..=BLOCKS).map(|i| i * 4) {
        let data = block_data(bid);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&data).unwrap();
        let stored = z.finish().unwrap();
        let allocated = (stored.len() as u64 + 24).next_multiple_of(512);
        let mut raw = stored.clone();
        raw.resize(allocated as usize - 24, 0);
        let mut trailer = [0_u8; 24];
        LittleEndian::write_u16(&mut trailer[0..], stored.len() as u16);
        LittleEndian::write_u32(&mut trailer[4..], compute_crc(0, &stored));
        LittleEndian::write_u64(&mut trailer[8..], bid);
        LittleEndian::write_u16(&mut trailer[18..], data.len() as u16);
        raw.extend_from_slice(&trailer);
        let mut e = vec![0_u8; BBT_LEAF_ENTRY_SIZE];
        LittleEndian::write_u64(&mut e[0..], bid);
        LittleEndian::write_u64(&mut e[8..], data_at);
        LittleEndian::write_u16(&mut e[16..], stored.len() as u16);
        LittleEndian::write_u16(&mut e[18..], data.len() as u16);
        LittleEndian::write_u16(&mut e[20..], 1);
        blocks.push(e);
        data_at += allocated;
        stored_blocks.push(raw);
    }
    let nodes: Vec<Vec<u8>> = (0..NODES)
        .map(|i| {
            let mut e = vec![0_u8; NBT_LEAF_ENTRY_SIZE];
            LittleEndian::write_u64(&mut e[0..], u64::from(0x21 + 32 * i));
            LittleEndian::write_u64(&mut e[8..], u64::from(i + 1) * 4);
            e
        })
        .collect();
    file.extend(ost_page(PageType::NodeBTree, NBT_LEAF_ENTRY_SIZE, &nodes));
    file.extend(ost_page(PageType::BlockBTree, BBT_LEAF_ENTRY_SIZE, &blocks));
    assert_eq!(file.len() as u64, 0x6400);
    file.extend(stored_blocks.concat());

    let mut header = Vec::new();
    let root = UnicodeRoot::new(
        Default::default(),
        Default::default(),
        Default::default(),
        Default::default(),
        Default::default(),
        Default::default(),
        Default::default(),
    );
    UnicodeHeader::new(root, NdbCryptMethod::None)
        .write(&mut header)
        .unwrap();
    LittleEndian::write_u16(&mut header[HEADER_VERSION..], NDB_VERSION_OST_4K);
    header[8..10].copy_from_slice(b"SO");
    LittleEndian::write_u64(&mut header[ROOT_NBT + 8..], nbt_at);
    LittleEndian::write_u64(&mut header[ROOT_BBT + 8..], bbt_at);
    file[..header.len()].copy_from_slice(&header);
    file
}

#[test]
fn test_ost_4k_reads_as_unicode_pst() {
    let pst = UnicodePstFile::read_from_ost_4k(Box::new(Cursor::new(ost()))).unwrap();
    for i in 0..NODES {
        let node = pst.read_node(NodeId::from(0x21 + 32 * i)).unwrap();
        assert_eq!(u64::from(node.data()), u64::from(i + 1) * 4);
    }
    for bid in (1..=BLOCKS).map(|i| i * 4) {
        let data = pst.read_block(UnicodeBlockId::from(bid)).unwrap();
        assert_eq!(data, block_data(bid), "block {bid}");
    }
    assert!(pst
        .read_block(UnicodeBlockId::from(BLOCKS * 4 + 4))
        .is_err());
}

#[test]
fn test_ost_4k_damage_is_an_error() {
    // A stored byte of the first block changed: its CRC fails.
    let mut bytes = ost();
    bytes[0x6400] ^= 1;
    let pst = UnicodePstFile::read_from_ost_4k(Box::new(Cursor::new(bytes))).unwrap();
    let err = pst.read_block(UnicodeBlockId::from(4)).unwrap_err();
    assert!(err.to_string().contains("trailer does not match"), "{err}");
    // A B-tree page's CRC.
    let mut bytes = ost();
    bytes[0x4400] ^= 1;
    let err = UnicodePstFile::read_from_ost_4k(Box::new(Cursor::new(bytes)))
        .err()
        .unwrap();
    assert!(err.to_string().contains("bad CRC"), "{err}");
}

#[test]
fn test_pages_for() {
    assert_eq!(pages_for(0, NBT_LEAF_ENTRY_SIZE), 1);
    assert_eq!(pages_for(15, NBT_LEAF_ENTRY_SIZE), 1);
    assert_eq!(pages_for(16, NBT_LEAF_ENTRY_SIZE), 3);
    assert_eq!(pages_for(20 * 20 + 1, BBT_LEAF_ENTRY_SIZE), 21 + 2 + 1);
}
