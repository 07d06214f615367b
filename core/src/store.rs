//! Stored fields: each document's JSON line of stored values, in compressed blocks, and
//! each document's ID value uncompressed (a hit's id is read without decompressing).
//!
//! ```text
//! store.blocks   LZ4 blocks; each inflates to the JSON lines of consecutive documents
//!                joined by "\n" (JSON text holds no raw newline)
//! store.index    per block: offset u64 | first doc u32 | inflated size u32, then a last
//!                entry: total size u64 | doc_count u32 | 0 u32
//! ids            width u8 | doc_count + 1 offsets packed at `width` bits | id bytes
//! store.id_field the name of the ID field (UTF-8), when its value is stored: the lines
//!                leave it out, and a reader puts it back first in each line
//! ```
//!
//! The ID is stored once: a hit's id is read from `ids`, and the stored line gets it back
//! when inflated, so a line of an index that stores only the id is `{}`.
//!
//! LZ4 rather than zstd: stored blocks are read per hit while a query's results are shown,
//! where LZ4 inflates several times faster, and with only ids or short fields stored the
//! size difference is small; LZ4 (lz4_flex) is also pure Rust, so the build needs no C.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::bitpack;
use crate::cursor::Cursor;
use crate::error::{Corrupt, Decoded};

/// Raw bytes gathered before a block is compressed.
pub const BLOCK_BYTES: usize = 16 * 1024;
/// The largest block a reader inflates (a writer refuses larger documents).
pub const MAX_BLOCK_BYTES: usize = 64 << 20;
const INDEX_ENTRY: usize = 16;

/// Gathers lines into blocks and compresses each when full.
#[derive(Debug)]
pub struct BlockPacker {
    raw: Vec<u8>,
    docs_in_block: u32,
    next_doc: u32,
    written: u64,
    index: Vec<u8>,
    cap: usize,
}

impl Default for BlockPacker {
    fn default() -> BlockPacker {
        BlockPacker::with_cap(MAX_BLOCK_BYTES)
    }
}

impl BlockPacker {
    pub fn new() -> BlockPacker {
        BlockPacker::default()
    }

    /// A packer whose blocks inflate to at most `cap` bytes (a line longer than that is
    /// a block of its own, which a reader refuses: writers refuse such documents).
    pub fn with_cap(cap: usize) -> BlockPacker {
        BlockPacker { raw: Vec::new(), docs_in_block: 0, next_doc: 0, written: 0, index: Vec::new(), cap }
    }

    /// Adds the next document's line; returns the compressed blocks it completed (a
    /// block is closed early rather than grow past the cap).
    pub fn add(&mut self, line: &[u8]) -> Vec<Vec<u8>> {
        let mut done = Vec::new();
        if self.docs_in_block > 0 && self.raw.len() + 1 + line.len() > self.cap {
            done.extend(self.flush());
        }
        if self.docs_in_block > 0 {
            self.raw.push(b'\n');
        }
        self.raw.extend_from_slice(line);
        self.docs_in_block += 1;
        self.next_doc += 1;
        if self.raw.len() >= BLOCK_BYTES {
            done.extend(self.flush());
        }
        done
    }

    /// Compresses the lines gathered so far, if any.
    pub fn flush(&mut self) -> Option<Vec<u8>> {
        if self.docs_in_block == 0 {
            return None;
        }
        let block = lz4_flex::block::compress(&self.raw);
        self.index.extend_from_slice(&self.written.to_le_bytes());
        self.index.extend_from_slice(&(self.next_doc - self.docs_in_block).to_le_bytes());
        self.index.extend_from_slice(&(self.raw.len() as u32).to_le_bytes());
        self.written += block.len() as u64;
        self.raw.clear();
        self.docs_in_block = 0;
        Some(block)
    }

    /// Bytes of blocks not yet compressed (for a writer's memory estimate).
    pub fn pending_bytes(&self) -> usize {
        self.raw.capacity() + self.index.capacity()
    }

    /// The index section (call after the last [`BlockPacker::flush`]).
    pub fn finish_index(mut self) -> Vec<u8> {
        self.index.extend_from_slice(&self.written.to_le_bytes());
        self.index.extend_from_slice(&self.next_doc.to_le_bytes());
        self.index.extend_from_slice(&0u32.to_le_bytes());
        self.index
    }
}

/// A block's place: compressed bytes `start..end` of `store.blocks`, documents
/// `first_doc..end_doc`, inflating to `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEntry {
    pub start: u64,
    pub end: u64,
    pub first_doc: u32,
    pub end_doc: u32,
    pub size: u32,
}

/// Reads and checks a block index: blocks end to end, documents ascending, covering
/// exactly `0..doc_count`, inside `blocks_len` bytes.
pub fn read_index(data: &[u8], doc_count: u32, blocks_len: u64) -> Decoded<Vec<BlockEntry>> {
    if data.len() % INDEX_ENTRY != 0 || data.is_empty() {
        return Err(Corrupt::new("stored block index has a partial entry"));
    }
    let mut cursor = Cursor::new(data);
    let mut raw = Vec::with_capacity(data.len() / INDEX_ENTRY);
    while !cursor.is_empty() {
        raw.push((cursor.u64()?, cursor.u32()?, cursor.u32()?));
    }
    let mut entries = Vec::with_capacity(raw.len().saturating_sub(1));
    for pair in raw.windows(2) {
        let [(start, first_doc, size), (end, end_doc, _)] = pair else { continue };
        if start > end || first_doc >= end_doc || *size as usize > MAX_BLOCK_BYTES {
            return Err(Corrupt::new("stored blocks are not laid out end to end"));
        }
        entries.push(BlockEntry { start: *start, end: *end, first_doc: *first_doc, end_doc: *end_doc, size: *size });
    }
    let first = raw.first().map(|e| (e.0, e.1));
    let last = raw.last().map(|e| (e.0, e.1));
    if first != Some((0, if doc_count == 0 { doc_count } else { 0 })) || last != Some((blocks_len, doc_count)) {
        return Err(Corrupt::new("stored blocks do not cover the segment's documents"));
    }
    Ok(entries)
}

/// The block holding `doc` (entries as from [`read_index`]).
pub fn block_of(entries: &[BlockEntry], doc: u32) -> Option<usize> {
    let at = entries.partition_point(|e| e.end_doc <= doc);
    entries.get(at).filter(|e| e.first_doc <= doc).map(|_| at)
}

/// Inflates a block and splits it into its documents' lines.
pub fn inflate(compressed: &[u8], entry: &BlockEntry) -> Decoded<Vec<u8>> {
    let data = lz4_flex::block::decompress(compressed, entry.size as usize)
        .map_err(|e| Corrupt::new(format!("a stored block does not inflate: {e}")))?;
    if data.len() != entry.size as usize {
        return Err(Corrupt::new("a stored block inflates to the wrong size"));
    }
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    if lines != (entry.end_doc - entry.first_doc) as usize {
        return Err(Corrupt::new(format!("a stored block holds {lines} lines for {} documents", entry.end_doc - entry.first_doc)));
    }
    Ok(data)
}

/// Appends `value` as a JSON string the way Python's `json.dumps(ensure_ascii=False)`
/// writes it (only `"`, `\\` and control characters escaped), so a line with its id put
/// back reads as the line that held it.
fn json_string(value: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &byte in value {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// The lines of an inflated block (documents `first_doc..`) with each document's id put
/// back as the first member `field` of its JSON object (documents without an id, and a
/// damaged line that is no object, are left as they are).
pub fn with_ids(lines: &[u8], first_doc: u32, field: &str, ids: &Ids<'_>) -> Decoded<Vec<u8>> {
    let mut key = Vec::with_capacity(field.len() + 4);
    json_string(field.as_bytes(), &mut key);
    key.extend_from_slice(b": ");
    let mut out = Vec::with_capacity(lines.len() * 2 + 64);
    for (offset, line) in lines.split(|&b| b == b'\n').enumerate() {
        if offset > 0 {
            out.push(b'\n');
        }
        let doc = first_doc
            .checked_add(offset as u32)
            .ok_or_else(|| Corrupt::new("a stored block holds too many documents"))?;
        let id = ids.get(doc)?;
        match line.split_first() {
            Some((&b'{', rest)) if !id.is_empty() => {
                out.push(b'{');
                out.extend_from_slice(&key);
                json_string(id, &mut out);
                if rest.first() != Some(&b'}') {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(rest);
            }
            _ => out.extend_from_slice(line),
        }
    }
    Ok(out)
}

/// Each document's id bytes, gathered in doc id order.
#[derive(Debug, Default)]
pub struct IdsWriter {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

impl IdsWriter {
    pub fn new() -> IdsWriter {
        IdsWriter { bytes: Vec::new(), offsets: vec![0] }
    }

    /// Adds the next document's id (empty when it has none). Fails past 4 GiB of ids.
    pub fn add(&mut self, id: &[u8]) -> Result<(), String> {
        self.bytes.extend_from_slice(id);
        let end = u32::try_from(self.bytes.len()).map_err(|_| "the segment's ids exceed 4 GiB".to_owned())?;
        self.offsets.push(end);
        Ok(())
    }

    pub fn memory(&self) -> usize {
        self.bytes.capacity() + 4 * self.offsets.capacity()
    }

    pub fn encode(&self) -> Vec<u8> {
        let width = bitpack::width(self.offsets.last().copied().unwrap_or(0));
        let mut out = vec![width];
        bitpack::pack(&self.offsets, width, &mut out);
        out.extend_from_slice(&self.bytes);
        out
    }
}

/// The ids section read back: checked once, then indexed per hit.
#[derive(Debug, Clone, Copy)]
pub struct Ids<'a> {
    width: u8,
    offsets: &'a [u8],
    bytes: &'a [u8],
    doc_count: u32,
}

impl<'a> Ids<'a> {
    pub fn new(data: &'a [u8], doc_count: u32) -> Decoded<Ids<'a>> {
        let (&width, rest) = data.split_first().ok_or_else(|| Corrupt::new("the id section is empty"))?;
        if width > 32 {
            return Err(Corrupt::new("the id offsets are too wide"));
        }
        let len = bitpack::packed_len(doc_count as usize + 1, width);
        let offsets = rest.get(..len).ok_or_else(|| Corrupt::new("the id offsets are truncated"))?;
        let bytes = rest.get(len..).unwrap_or_default();
        let ids = Ids { width, offsets, bytes, doc_count };
        if ids.offset(0)? != 0 || ids.offset(doc_count as usize)? as usize != bytes.len() {
            return Err(Corrupt::new("the id column is not laid out end to end"));
        }
        Ok(ids)
    }

    fn offset(&self, index: usize) -> Decoded<u32> {
        bitpack::get(self.offsets, self.width, index)
    }

    /// Document `doc`'s id bytes (empty when it has none).
    pub fn get(&self, doc: u32) -> Decoded<&'a [u8]> {
        if doc >= self.doc_count {
            return Err(Corrupt::new(format!("doc id {doc} out of range")));
        }
        let start = self.offset(doc as usize)? as usize;
        let end = self.offset(doc as usize + 1)? as usize;
        self.bytes.get(start..end).ok_or_else(|| Corrupt::new(format!("id of document {doc} lies outside the ids")))
    }

    /// All ids' bytes and the doc_count + 1 offsets into them, checked ascending.
    pub fn all(&self) -> Decoded<(&'a [u8], Vec<u32>)> {
        let mut offsets = Vec::new();
        bitpack::unpack(self.offsets, self.width, self.doc_count as usize + 1, &mut offsets)?;
        if offsets.windows(2).any(|w| w.first() > w.get(1)) {
            return Err(Corrupt::new("id offsets are out of order"));
        }
        Ok((self.bytes, offsets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip() {
        let lines: Vec<String> = (0..3000).map(|i| format!("{{\"id\": \"doc{i}\", \"n\": {}}}", i * 31)).collect();
        let mut packer = BlockPacker::new();
        let mut blocks = Vec::new();
        for line in &lines {
            for block in packer.add(line.as_bytes()) {
                blocks.extend(block);
            }
        }
        if let Some(block) = packer.flush() {
            blocks.extend(block);
        }
        let index = packer.finish_index();
        let entries = read_index(&index, 3000, blocks.len() as u64).unwrap();
        assert!(entries.len() > 1);
        let mut all = Vec::new();
        for entry in &entries {
            let raw = inflate(&blocks[entry.start as usize..entry.end as usize], entry).unwrap();
            all.extend(raw.split(|&b| b == b'\n').map(|l| String::from_utf8(l.to_vec()).unwrap()));
        }
        assert_eq!(all, lines);
        assert_eq!(block_of(&entries, 2999), Some(entries.len() - 1));
        assert_eq!(block_of(&entries, 3000), None);
        assert!(read_index(&index, 2999, blocks.len() as u64).is_err());
        assert!(read_index(&index[..index.len() - 1], 3000, blocks.len() as u64).is_err());
        let entry = entries[0];
        let compressed = &blocks[entry.start as usize..entry.end as usize];
        for at in 0..compressed.len() {
            let mut bad = compressed.to_vec();
            bad[at] ^= 0x55;
            let _ = inflate(&bad, &entry);
        }
        let empty = BlockPacker::new().finish_index();
        assert_eq!(read_index(&empty, 0, 0).unwrap(), vec![]);
    }

    #[test]
    fn blocks_close_early_rather_than_pass_the_cap() {
        let mut packer = BlockPacker::with_cap(4096);
        let mut sizes = Vec::new();
        for i in 0..10 {
            let line = format!("{{\"n\": {i}, \"x\": \"{}\"}}", "x".repeat(1500));
            for block in packer.add(line.as_bytes()) {
                sizes.push(block.len());
            }
        }
        sizes.extend(packer.flush().map(|b| b.len()));
        let index = packer.finish_index();
        let total: usize = sizes.iter().sum();
        let entries = read_index(&index, 10, total as u64).unwrap();
        assert!(entries.len() >= 4);
        assert!(entries.iter().all(|e| e.size <= 4096));
    }

    #[test]
    fn ids_round_trip_and_damage_is_an_error() {
        let mut writer = IdsWriter::new();
        for id in ["a", "", "\u{e9}t\u{e9}", "x"] {
            writer.add(id.as_bytes()).unwrap();
        }
        let data = writer.encode();
        let ids = Ids::new(&data, 4).unwrap();
        assert_eq!(ids.get(2).unwrap(), "\u{e9}t\u{e9}".as_bytes());
        assert_eq!(ids.get(1).unwrap(), b"");
        assert!(ids.get(4).is_err());
        assert_eq!(ids.all().unwrap().1, vec![0, 1, 1, 6, 7]);
        assert!(Ids::new(&data, 5).is_err());
        assert!(Ids::new(&data[..data.len() - 1], 4).is_err());
        for at in 0..data.len() {
            let mut bad = data.clone();
            bad[at] ^= 0x10;
            if let Ok(ids) = Ids::new(&bad, 4) {
                for doc in 0..4 {
                    let _ = ids.get(doc);
                }
                let _ = ids.all();
            }
        }
    }

    #[test]
    fn ids_are_put_back_into_their_lines_as_python_writes_them() {
        let mut writer = IdsWriter::new();
        for id in ["a\"b\\c\n\u{1}\u{e9}", "", "x", "y"] {
            writer.add(id.as_bytes()).unwrap();
        }
        let data = writer.encode();
        let ids = Ids::new(&data, 4).unwrap();
        let lines = b"{}\n{\"n\": 1}\n{\"n\": 2}\nnot json";
        let out = with_ids(lines, 0, "id", &ids).unwrap();
        let expected = "{\"id\": \"a\\\"b\\\\c\\n\\u0001\u{e9}\"}\n{\"n\": 1}\n{\"id\": \"x\", \"n\": 2}\nnot json";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert!(with_ids(b"{}\n{}", 3, "id", &ids).is_err()); // past the segment's documents
    }
}
