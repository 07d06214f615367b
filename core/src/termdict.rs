//! The term dictionary of one field: terms sorted by their UTF-8 bytes, addressed by
//! ordinal, with each term's doc_freq and where its postings and positions lie.
//!
//! Front-coded blocks of [`TERMS_PER_BLOCK`] terms:
//!
//! ```text
//! data    per block, per term: vint shared prefix with the previous term of the block
//!         (0 for the first) | vint suffix length | suffix | the entry:
//!           a field with positions      vint doc_freq | vint postings len | vint positions len
//!           a field without positions  vint doc_freq | vint postings len
//!           a lexicon key               vint zigzag(ordinal - the previous key's ordinal in
//!                                       the block, 0 for the first)
//! index   one width u8 per column, then each column's values (one per block)
//!         bit-packed at its width; the columns are the block's data offset, postings
//!         offset and positions offset (a field without positions: the first two; a
//!         lexicon: the first)
//! ```
//!
//! A term's postings start where the previous term's end (the block index gives each
//! block's start), so offsets cost nothing per term; packing the index at the widths its
//! offsets need, and leaving out the columns that would hold only zeros, makes it a third
//! of fixed 8-byte offsets. A lexicon's keys mostly map to neighbouring terms (a word
//! sorts next to its stem's other words), so ordinals are coded as differences.
//!
//! Ordinals are what the query code and the merges address terms by (term(i), ranges of
//! a prefix, doc_freq of the i-th term), so this is chosen over an FST: an FST maps a term
//! to a value but finding the i-th term or the ordinal range of a prefix needs extra
//! structure, while front coding with a block index gives all of these with one binary
//! search over block heads and a scan of one block of 32 terms, at about the FST's size
//! for natural-language vocabularies.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::bitpack;
use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Decoded};

pub const TERMS_PER_BLOCK: usize = 32;

/// What each entry of a dictionary holds after its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Entries {
    /// doc_freq, postings length, positions length.
    #[default]
    WithPositions,
    /// doc_freq and postings length (a field that keeps no positions).
    WithoutPositions,
    /// One number per key, kept in `doc_freq` (a lexicon: the ordinal of a key's term).
    Keys,
}

impl Entries {
    /// Columns of the block index: data, postings and positions offsets, as kept.
    fn columns(self) -> usize {
        match self {
            Entries::WithPositions => 3,
            Entries::WithoutPositions => 2,
            Entries::Keys => 1,
        }
    }
}

/// Where a term's postings and positions lie in their field's sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TermInfo {
    pub doc_freq: u32,
    pub postings_offset: u64,
    pub postings_len: u64,
    pub positions_offset: u64,
    pub positions_len: u64,
}

/// Zigzag: small differences of either sign to small unsigned numbers.
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Builds a field's dictionary from terms given in ascending byte order.
#[derive(Debug, Default)]
pub struct TermDictWriter {
    data: Vec<u8>,
    /// Per block: data, postings and positions offsets.
    starts: [Vec<u64>; 3],
    previous: Vec<u8>,
    previous_number: u32,
    count: u64,
    postings_end: u64,
    positions_end: u64,
    entries: Entries,
}

impl TermDictWriter {
    /// A writer of a field's terms with postings and positions.
    pub fn new() -> TermDictWriter {
        TermDictWriter::default()
    }

    /// A writer of entries of kind `entries`.
    pub fn of(entries: Entries) -> TermDictWriter {
        TermDictWriter { entries, ..TermDictWriter::default() }
    }

    /// A writer of keys with one number each (a lexicon: word -> term ordinal, in the
    /// `doc_freq` slot) and no postings.
    pub fn keys_only() -> TermDictWriter {
        TermDictWriter::of(Entries::Keys)
    }

    /// Adds the next term (greater than the previous one). The lengths a kind does not
    /// keep must be 0.
    #[allow(clippy::indexing_slicing)] // an encoder indexes its own arrays, of lengths it set
    pub fn add(&mut self, term: &[u8], doc_freq: u32, postings_len: u64, positions_len: u64) {
        debug_assert!(self.count == 0 || term > &self.previous[..]);
        debug_assert!(self.entries == Entries::WithPositions || positions_len == 0);
        debug_assert!(self.entries != Entries::Keys || postings_len == 0);
        let first = self.count as usize % TERMS_PER_BLOCK == 0;
        let shared = if first {
            self.starts[0].push(self.data.len() as u64);
            self.starts[1].push(self.postings_end);
            self.starts[2].push(self.positions_end);
            self.previous_number = 0;
            0
        } else {
            term.iter().zip(&self.previous).take_while(|(a, b)| a == b).count()
        };
        put_vint(&mut self.data, shared as u64);
        put_vint(&mut self.data, (term.len() - shared) as u64);
        self.data.extend_from_slice(&term[shared..]);
        match self.entries {
            Entries::Keys => {
                put_vint(&mut self.data, zigzag(i64::from(doc_freq) - i64::from(self.previous_number)));
                self.previous_number = doc_freq;
            }
            Entries::WithoutPositions => {
                put_vint(&mut self.data, u64::from(doc_freq));
                put_vint(&mut self.data, postings_len);
            }
            Entries::WithPositions => {
                put_vint(&mut self.data, u64::from(doc_freq));
                put_vint(&mut self.data, postings_len);
                put_vint(&mut self.data, positions_len);
            }
        }
        self.previous.clear();
        self.previous.extend_from_slice(term);
        self.count += 1;
        self.postings_end += postings_len;
        self.positions_end += positions_len;
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The dictionary's data and index sections, and its term count.
    pub fn finish(self) -> (Vec<u8>, Vec<u8>, u64) {
        let columns = self.starts.get(..self.entries.columns()).unwrap_or_default();
        let widths: Vec<u8> =
            columns.iter().map(|column| bitpack::width64(column.iter().copied().max().unwrap_or(0))).collect();
        let mut index = widths.clone();
        for (column, &width) in columns.iter().zip(&widths) {
            bitpack::pack64(column, width, &mut index);
        }
        (self.data, index, self.count)
    }
}

/// Dictionary entries per key up to which [`TermDict::scan_sorted`] scans from the first
/// key to the last rather than leaving the caller to seek each.
pub const SCAN_SPREAD: u64 = 8;

/// A field's dictionary over its sections (already checksum-verified bytes).
#[derive(Debug, Clone, Copy)]
pub struct TermDict<'a> {
    data: &'a [u8],
    count: u64,
    blocks: usize,
    entries: Entries,
    /// Per index column: its width and packed values (width 0 and empty when not kept).
    columns: [(u8, &'a [u8]); 3],
}

impl<'a> TermDict<'a> {
    /// A field's terms with postings and positions.
    pub fn new(data: &'a [u8], index: &'a [u8], count: u64) -> Decoded<TermDict<'a>> {
        TermDict::open(data, index, count, Entries::WithPositions)
    }

    /// Keys written by [`TermDictWriter::keys_only`].
    pub fn keys_only(data: &'a [u8], index: &'a [u8], count: u64) -> Decoded<TermDict<'a>> {
        TermDict::open(data, index, count, Entries::Keys)
    }

    /// A dictionary whose entries are of kind `entries`, checking that its index holds
    /// one packed value per block and column.
    pub fn open(data: &'a [u8], index: &'a [u8], count: u64, entries: Entries) -> Decoded<TermDict<'a>> {
        // Every entry takes at least three bytes (two lengths and a number), so a count
        // past the data's length is damage; checked first, as a search sizes its
        // per-block memory by the count (a small index packed at width 0 fits any count).
        if count > data.len() as u64 {
            return Err(Corrupt::new(format!("{count} terms in a dictionary of {} bytes", data.len())));
        }
        let blocks = usize::try_from(count.div_ceil(TERMS_PER_BLOCK as u64))
            .map_err(|_| Corrupt::new(format!("{count} terms")))?;
        let kept = entries.columns();
        let short = || Corrupt::new(format!("term index of {} bytes for {count} terms", index.len()));
        let widths = index.get(..kept).ok_or_else(short)?;
        let mut rest = index.get(kept..).unwrap_or_default();
        let mut columns: [(u8, &'a [u8]); 3] = [(0, &[]); 3];
        for (slot, &width) in columns.iter_mut().zip(widths) {
            if width > 64 {
                return Err(Corrupt::new(format!("term index width {width} exceeds 64")));
            }
            let len = blocks
                .checked_mul(usize::from(width))
                .map(|bits| bits.div_ceil(8))
                .ok_or_else(|| Corrupt::new(format!("term index for {count} terms overflows")))?;
            let packed = rest.get(..len).ok_or_else(short)?;
            rest = rest.get(len..).unwrap_or_default();
            *slot = (width, packed);
        }
        if !rest.is_empty() {
            return Err(short());
        }
        Ok(TermDict { data, count, blocks, entries, columns })
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn blocks(&self) -> usize {
        self.blocks
    }

    fn index_entry(&self, block: usize) -> Decoded<(u64, u64, u64)> {
        if block >= self.blocks {
            return Err(Corrupt::new("term block out of range"));
        }
        let mut values = [0u64; 3];
        for (value, &(width, packed)) in values.iter_mut().zip(&self.columns) {
            *value = bitpack::get64(packed, width, block)?;
        }
        let [data, postings, positions] = values;
        Ok((data, postings, positions))
    }

    /// Where block `block`'s data starts: the index's first column alone (a look-up's
    /// bisection reads it at every step).
    fn data_offset(&self, block: usize) -> Decoded<u64> {
        if block >= self.blocks {
            return Err(Corrupt::new("term block out of range"));
        }
        let (width, packed) = self.columns[0];
        bitpack::get64(packed, width, block)
    }

    fn block_bytes(&self, block: usize) -> Decoded<&'a [u8]> {
        let start = self.data_offset(block)?;
        let end = if block + 1 < self.blocks() { self.data_offset(block + 1)? } else { self.data.len() as u64 };
        if start > end {
            return Err(Corrupt::new("term blocks are out of order"));
        }
        crate::cursor::slice(self.data, start, end - start)
    }

    /// Decodes block `block`: its terms and their infos, appended to `out`.
    pub fn block(&self, block: usize, out: &mut Vec<(Vec<u8>, TermInfo)>) -> Decoded<()> {
        self.scan_block(block, |term, info| {
            out.push((term.to_vec(), info));
            true
        })
    }

    /// Decodes block `block` term by term into one buffer, calling `visit` with each term
    /// and its info until it returns false (a look-up stops at its term and copies none).
    fn scan_block(&self, block: usize, mut visit: impl FnMut(&[u8], TermInfo) -> bool) -> Decoded<()> {
        let (_, mut postings, mut positions) = self.index_entry(block)?;
        let first = (block * TERMS_PER_BLOCK) as u64;
        let terms = (self.count - first.min(self.count)).min(TERMS_PER_BLOCK as u64) as usize;
        let mut cursor = Cursor::new(self.block_bytes(block)?);
        let mut term: Vec<u8> = Vec::new();
        let mut number = 0u32; // a lexicon's previous ordinal in the block
        for i in 0..terms {
            let shared = cursor.vusize()?;
            let suffix_len = cursor.vusize()?;
            if shared > term.len() || (i == 0 && shared != 0) {
                return Err(Corrupt::new("a term shares more than its predecessor has"));
            }
            let suffix = cursor.take(suffix_len)?;
            // In order: the new term is above the previous one exactly when its suffix's
            // first bytes are above what they replace.
            let previous_tail = term.get(shared..).unwrap_or_default();
            if i > 0 && suffix <= previous_tail {
                return Err(Corrupt::new("terms are out of order"));
            }
            term.truncate(shared);
            term.extend_from_slice(suffix);
            let (doc_freq, postings_len, positions_len) = match self.entries {
                Entries::Keys => {
                    number = i64::from(number)
                        .checked_add(unzigzag(cursor.vint()?))
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| Corrupt::new("a lexicon ordinal is out of range"))?;
                    (number, 0, 0)
                }
                Entries::WithoutPositions => (cursor.vu32()?, cursor.vint()?, 0),
                Entries::WithPositions => (cursor.vu32()?, cursor.vint()?, cursor.vint()?),
            };
            let info = TermInfo {
                doc_freq,
                postings_offset: postings,
                postings_len,
                positions_offset: positions,
                positions_len,
            };
            postings = postings.checked_add(info.postings_len).ok_or_else(|| Corrupt::new("offset overflows"))?;
            positions = positions.checked_add(info.positions_len).ok_or_else(|| Corrupt::new("offset overflows"))?;
            if !visit(&term, info) {
                return Ok(());
            }
        }
        if !cursor.is_empty() {
            return Err(Corrupt::new("a term block has trailing bytes"));
        }
        Ok(())
    }

    /// The info of `key` if the field has it: one binary search over block heads and one
    /// block scanned up to the key, without copying a term out (what a query does per word).
    pub fn lookup(&self, key: &[u8]) -> Decoded<Option<TermInfo>> {
        self.lookup_with(key, |block| Ok(self.first_term(block)? <= key))
    }

    /// [`TermDict::lookup`] with the block heads it reads kept in `heads` (one entry per
    /// block, filled as the binary search visits them) for the next look-up: the
    /// searches of a segment's queries visit the same few heads again and again, and each
    /// costs two index entries and a block's first bytes to decode.
    pub fn lookup_remembering(&self, heads: &mut Vec<Option<Box<[u8]>>>, key: &[u8]) -> Decoded<Option<TermInfo>> {
        if heads.len() != self.blocks() {
            heads.clear();
            heads.resize(self.blocks(), None);
        }
        self.lookup_with(key, |block| {
            if let Some(Some(head)) = heads.get(block) {
                return Ok(head.as_ref() <= key);
            }
            let head = self.first_term(block)?;
            if let Some(slot) = heads.get_mut(block) {
                *slot = Some(Box::from(head));
            }
            Ok(head <= key)
        })
    }

    /// A look-up given whether each block's first term is at most the key.
    fn lookup_with(&self, key: &[u8], mut head_at_most_key: impl FnMut(usize) -> Decoded<bool>) -> Decoded<Option<TermInfo>> {
        // The last block whose first term is at most the key.
        let (mut low, mut high) = (0usize, self.blocks());
        while low < high {
            let mid = low + (high - low) / 2;
            if head_at_most_key(mid)? {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if low == 0 {
            return Ok(None);
        }
        let mut found = None;
        self.scan_block(low - 1, |term, info| {
            if term == key {
                found = Some(info);
            }
            term < key
        })?;
        Ok(found)
    }

    /// How many blocks of [`TERMS_PER_BLOCK`] terms the dictionary holds.
    pub fn block_count(&self) -> usize {
        self.blocks()
    }

    /// Block `block`'s entries read in place, without allocating per term: for a walk
    /// that rejects most terms after a glance (pattern expansion).
    pub fn block_cursor(&self, block: usize) -> Decoded<BlockCursor<'a>> {
        let first = (block * TERMS_PER_BLOCK) as u64;
        let terms = (self.count - first.min(self.count)).min(TERMS_PER_BLOCK as u64) as usize;
        Ok(BlockCursor { cursor: Cursor::new(self.block_bytes(block)?), left: terms, entries: self.entries, previous_len: 0, number: 0 })
    }

    /// The first term of block `block`, read without decoding the rest of the block.
    pub fn first_term(&self, block: usize) -> Decoded<&'a [u8]> {
        let mut cursor = Cursor::new(self.block_bytes(block)?);
        if cursor.vint()? != 0 {
            return Err(Corrupt::new("a block's first term shares a prefix"));
        }
        let len = cursor.vusize()?;
        cursor.take(len)
    }

    /// The number of terms below `key` (or at most `key`, when `after`).
    pub fn bound(&self, key: &[u8], after: bool) -> Decoded<u64> {
        let goes_before = |term: &[u8]| if after { term <= key } else { term < key };
        // The first block whose first term does not go before the key.
        let (mut low, mut high) = (0usize, self.blocks());
        while low < high {
            let mid = low + (high - low) / 2;
            if goes_before(self.first_term(mid)?) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if low == 0 {
            return Ok(0);
        }
        let block = low - 1;
        // Scanned in place, stopping at the first term that does not go before the key.
        let mut inside = 0;
        self.scan_block(block, |term, _| {
            let before = goes_before(term);
            inside += usize::from(before);
            before
        })?;
        Ok((block * TERMS_PER_BLOCK + inside) as u64)
    }

    /// The ordinal of `key`, if the field has it.
    pub fn find(&self, key: &[u8]) -> Decoded<Option<u64>> {
        let at = self.bound(key, false)?;
        if at >= self.count {
            return Ok(None);
        }
        let (term, _) = self.get(at)?;
        Ok((term == key).then_some(at))
    }

    /// The ordinal range of the terms starting with `prefix`.
    pub fn prefix_range(&self, prefix: &[u8]) -> Decoded<(u64, u64)> {
        let start = self.bound(prefix, false)?;
        let mut end = self.count;
        // The smallest key greater than every term with the prefix: the prefix with its
        // last byte below 0xff incremented (none if it is all 0xff).
        let mut upper = prefix.to_vec();
        while let Some(last) = upper.pop() {
            if last < 0xff {
                upper.push(last + 1);
                end = self.bound(&upper, false)?;
                break;
            }
        }
        Ok((start, end.max(start)))
    }

    /// The `ordinal`-th term and its info.
    pub fn get(&self, ordinal: u64) -> Decoded<(Vec<u8>, TermInfo)> {
        if ordinal >= self.count {
            return Err(Corrupt::new(format!("term {ordinal} of {}", self.count)));
        }
        let block = ordinal as usize / TERMS_PER_BLOCK;
        let mut entries = Vec::with_capacity(TERMS_PER_BLOCK);
        self.block(block, &mut entries)?;
        entries
            .into_iter()
            .nth(ordinal as usize % TERMS_PER_BLOCK)
            .ok_or_else(|| Corrupt::new("a term block is short"))
    }

    /// Calls `visit(ordinal, term, info)` for terms `start..end` in order, each term
    /// rebuilt in one buffer and lent, not copied: for a reader of many terms that keeps
    /// few of their bytes (a pattern's postings, the doc_freqs of a lexicon's words).
    pub fn scan(&self, start: u64, end: u64, mut visit: impl FnMut(u64, &[u8], TermInfo)) -> Decoded<()> {
        let end = end.min(self.count);
        let mut at = start;
        while at < end {
            let block = at as usize / TERMS_PER_BLOCK;
            let mut ordinal = (block * TERMS_PER_BLOCK) as u64;
            self.scan_block(block, |term, info| {
                if ordinal >= at {
                    visit(ordinal, term, info);
                }
                ordinal += 1;
                ordinal < end
            })?;
            if ordinal <= at {
                return Err(Corrupt::new("a term block is short"));
            }
            at = ordinal;
        }
        Ok(())
    }

    /// Calls `found(i, info)` for each of the ascending `keys` the dictionary holds (a
    /// key repeated is found at each place), by one scan of the entries from the first
    /// key to the last, and returns true; returns false, finding nothing, when more than
    /// [`SCAN_SPREAD`] entries per key lie between them, for the caller to seek each
    /// key: a pattern's terms lie together and a scan reads each block once, where a
    /// fuzzy word's lie far apart.
    pub fn scan_sorted(&self, keys: &[&[u8]], mut found: impl FnMut(usize, TermInfo)) -> Decoded<bool> {
        let (Some(first), Some(last)) = (keys.first(), keys.last()) else { return Ok(true) };
        let (start, end) = (self.bound(first, false)?, self.bound(last, true)?);
        if end.saturating_sub(start) > SCAN_SPREAD.saturating_mul(keys.len() as u64) {
            return Ok(false);
        }
        let mut at = 0;
        self.scan(start, end, |_, term, info| {
            while keys.get(at).is_some_and(|&key| key < term) {
                at += 1;
            }
            while keys.get(at).is_some_and(|&key| key == term) {
                found(at, info);
                at += 1;
            }
        })?;
        Ok(true)
    }

    /// Terms `start..end` in order, with their infos (decoding each block once).
    pub fn range(&self, start: u64, end: u64) -> Decoded<Vec<(Vec<u8>, TermInfo)>> {
        let end = end.min(self.count);
        let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
        let mut entries = Vec::with_capacity(TERMS_PER_BLOCK);
        let mut at = start;
        while at < end {
            let block = at as usize / TERMS_PER_BLOCK;
            entries.clear();
            self.block(block, &mut entries)?;
            let skip = at as usize % TERMS_PER_BLOCK;
            let take = ((end - at) as usize).min(entries.len().saturating_sub(skip));
            if take == 0 {
                return Err(Corrupt::new("a term block is short"));
            }
            out.extend(entries.drain(..).skip(skip).take(take));
            at += take as u64;
        }
        Ok(out)
    }

    /// Every term in order, block by block (for merges and verification).
    pub fn iter(&self) -> TermIter<'a> {
        TermIter { dict: *self, block: 0, entries: Vec::new().into_iter(), last: None }
    }
}

/// One block's entries in order, each as the bytes it shares with the previous term of
/// the block and the rest: the caller rebuilds terms in one buffer.
pub struct BlockCursor<'a> {
    cursor: Cursor<'a>,
    left: usize,
    entries: Entries,
    previous_len: usize,
    /// A lexicon's previous ordinal in the block.
    number: u32,
}

impl<'a> BlockCursor<'a> {
    /// The next entry: (bytes shared with the previous term, the other bytes, doc_freq,
    /// or a lexicon key's term ordinal); None after the block's last.
    pub fn next_entry(&mut self) -> Decoded<Option<(usize, &'a [u8], u32)>> {
        if self.left == 0 {
            return Ok(None);
        }
        let first = self.previous_len == 0 && self.cursor.position() == 0;
        let shared = self.cursor.vusize()?;
        if shared > self.previous_len || (first && shared != 0) {
            return Err(Corrupt::new("a term shares more than its predecessor has"));
        }
        let suffix_len = self.cursor.vusize()?;
        let suffix = self.cursor.take(suffix_len)?;
        let doc_freq = match self.entries {
            Entries::Keys => {
                self.number = i64::from(self.number)
                    .checked_add(unzigzag(self.cursor.vint()?))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| Corrupt::new("a lexicon ordinal is out of range"))?;
                self.number
            }
            Entries::WithoutPositions => {
                let doc_freq = self.cursor.vu32()?;
                self.cursor.vint()?;
                doc_freq
            }
            Entries::WithPositions => {
                let doc_freq = self.cursor.vu32()?;
                self.cursor.vint()?;
                self.cursor.vint()?;
                doc_freq
            }
        };
        self.left -= 1;
        self.previous_len = shared + suffix.len();
        Ok(Some((shared, suffix, doc_freq)))
    }
}

/// Iterates a dictionary's terms in order. A block checks its own terms' order; the
/// iterator checks each block's first term against the previous block's last, so a
/// consumer such as a merge, which relies on the order, never sees a term go backwards.
pub struct TermIter<'a> {
    dict: TermDict<'a>,
    block: usize,
    entries: std::vec::IntoIter<(Vec<u8>, TermInfo)>,
    last: Option<Vec<u8>>,
}

impl Iterator for TermIter<'_> {
    type Item = Decoded<(Vec<u8>, TermInfo)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.entries.next() {
                return Some(Ok(entry));
            }
            if self.block >= self.dict.blocks() {
                return None;
            }
            let mut entries = Vec::with_capacity(TERMS_PER_BLOCK);
            let mut decoded = self.dict.block(self.block, &mut entries);
            if let (Some(last), Some((first, _))) = (&self.last, entries.first()) {
                if first <= last {
                    decoded = Err(Corrupt::new("terms are out of order across blocks"));
                }
            }
            if let Err(error) = decoded {
                self.block = usize::MAX;
                return Some(Err(error));
            }
            self.last = entries.last().map(|(term, _)| term.clone());
            self.block += 1;
            self.entries = entries.into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(terms: &[&str]) -> (Vec<u8>, Vec<u8>, u64) {
        let mut writer = TermDictWriter::new();
        for (i, term) in terms.iter().enumerate() {
            writer.add(term.as_bytes(), i as u32 + 1, 3 + i as u64, i as u64 % 2);
        }
        writer.finish()
    }

    #[test]
    fn a_term_count_past_the_data_is_damage_before_anything_is_sized_by_it() {
        let (data, index, count) = build(&["alfa", "bravo"]);
        assert!(TermDict::new(&data, &index, count).is_ok());
        // The index of one block packs at width 0, so it would fit a count of billions.
        let error = TermDict::new(&data, &index, 1 << 40).unwrap_err();
        assert!(error.0.contains("terms in a dictionary of"), "{}", error.0);
        assert!(TermDict::new(&data, &index, data.len() as u64 + 1).is_err());
    }

    #[test]
    fn lookups_by_term_ordinal_prefix_and_bound() {
        let mut terms: Vec<String> = (0..1000).map(|i| format!("t{:04}", i * 7 % 1000)).collect();
        terms.push("zz\u{e9}".into());
        terms.push("\u{ff}".into());
        terms.sort();
        let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let (data, index, count) = build(&refs);
        let dict = TermDict::new(&data, &index, count).unwrap();
        assert_eq!(dict.len(), terms.len() as u64);
        let mut offset = 0;
        for (i, term) in terms.iter().enumerate() {
            assert_eq!(dict.find(term.as_bytes()).unwrap(), Some(i as u64));
            let (found, info) = dict.get(i as u64).unwrap();
            assert_eq!(found, term.as_bytes());
            assert_eq!(info.doc_freq, i as u32 + 1);
            assert_eq!(info.postings_offset, offset);
            offset += info.postings_len;
        }
        assert_eq!(dict.find(b"t00").unwrap(), None);
        assert_eq!(dict.find(b"zzz").unwrap(), None);
        assert_eq!(dict.prefix_range(b"t001").unwrap(), (10, 20));
        assert_eq!(dict.prefix_range(b"").unwrap(), (0, count));
        assert_eq!(dict.bound(b"t0010", false).unwrap(), 10);
        assert_eq!(dict.bound(b"t0010", true).unwrap(), 11);
        let all: Vec<Vec<u8>> = dict.iter().map(|e| e.unwrap().0).collect();
        assert_eq!(all, terms.iter().map(|t| t.as_bytes().to_vec()).collect::<Vec<_>>());
        assert_eq!(dict.range(30, 40).unwrap().len(), 10);
        // A scan lends what `range` copies, for any range, across block edges and past the end.
        for (start, end) in [(0, 0), (0, 1), (5, 31), (31, 33), (30, 97), (64, 64), (990, 2000), (0, count)] {
            let mut lent = Vec::new();
            dict.scan(start, end, |ordinal, term, info| lent.push((ordinal, term.to_vec(), info))).unwrap();
            let copied = dict.range(start, end).unwrap();
            assert_eq!(lent.len(), copied.len(), "{start}..{end}");
            for ((ordinal, term, info), (at, (copy, copy_info))) in lent.into_iter().zip((start..).zip(copied)) {
                assert_eq!((ordinal, term, info), (at, copy, copy_info));
            }
        }
        let mut keys = TermDictWriter::keys_only();
        for (i, term) in terms.iter().enumerate() {
            keys.add(term.as_bytes(), i as u32, 0, 0);
        }
        let (key_data, key_index, key_count) = keys.finish();
        assert!(key_data.len() < data.len());
        let lexicon = TermDict::keys_only(&key_data, &key_index, key_count).unwrap();
        assert_eq!(lexicon.get(lexicon.find(b"t0010").unwrap().unwrap()).unwrap().1.doc_freq, 10);
        let empty = TermDictWriter::new().finish();
        let dict = TermDict::new(&empty.0, &empty.1, 0).unwrap();
        assert_eq!(dict.find(b"a").unwrap(), None);
        assert_eq!(dict.prefix_range(b"a").unwrap(), (0, 0));
    }

    #[test]
    fn lookups_that_remember_block_heads_find_what_plain_ones_find() {
        let terms: Vec<String> = (0..1000).map(|i| format!("t{i:04}")).collect();
        let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let (data, index, count) = build(&refs);
        let dict = TermDict::new(&data, &index, count).unwrap();
        let mut heads = Vec::new();
        let keys = terms.iter().map(String::as_bytes).chain([&b""[..], b"a", b"t0500x", b"t9", b"zz"]);
        for key in keys.clone().chain(keys) {
            // Twice over: the second time every head the search visits is remembered.
            assert_eq!(dict.lookup_remembering(&mut heads, key).unwrap(), dict.lookup(key).unwrap());
        }
        assert_eq!(heads.len(), 1000usize.div_ceil(TERMS_PER_BLOCK));
        assert!(heads.iter().flatten().all(|head| head.starts_with(b"t")));
        // Heads of another dictionary (a different block count) are dropped, not used.
        let mut stale = vec![Some(Box::<[u8]>::from(&b"zz"[..])); 3];
        assert_eq!(dict.lookup_remembering(&mut stale, b"t0042").unwrap(), dict.lookup(b"t0042").unwrap());
        assert!(dict.lookup(b"t0042").unwrap().is_some());
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let terms: Vec<String> = (0..100).map(|i| format!("w{i:03}")).collect();
        let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
        let (data, index, count) = build(&refs);
        for at in 0..data.len() {
            let mut bad = data.clone();
            bad[at] ^= 0x41;
            let dict = TermDict::new(&bad, &index, count).unwrap();
            let _ = dict.find(b"w050");
            let _ = dict.iter().collect::<Vec<_>>();
        }
        for at in 0..index.len() {
            let mut bad = index.clone();
            bad[at] ^= 0x41;
            // A damaged width changes the index's length, which opening refuses.
            if let Ok(dict) = TermDict::new(&data, &bad, count) {
                let _ = dict.find(b"w050");
                let _ = dict.range(0, 100);
            }
        }
        assert!(TermDict::new(&data, &index[..index.len() - 1], count).is_err());
        assert!(TermDict::open(&data, &index, count, Entries::Keys).is_err());
        assert!(TermDict::new(&data, &index, count + 40).is_err());
        let dict = TermDict::new(&data[..data.len() / 2], &index, count).unwrap();
        assert!(dict.iter().any(|e| e.is_err()));
    }

    #[test]
    fn iteration_refuses_terms_going_backwards_across_blocks() {
        // Each block is in order on its own, but the second starts below the first's end:
        // a merge consuming the iterator must get an error, not an unordered stream.
        let mut terms: Vec<String> = (0..TERMS_PER_BLOCK).map(|i| format!("m{i:03}")).collect();
        terms.extend((0..TERMS_PER_BLOCK).map(|i| format!("a{i:03}")));
        let mut data = Vec::new();
        let mut starts = [Vec::new(), Vec::new(), Vec::new()];
        for (block, half) in terms.chunks(TERMS_PER_BLOCK).enumerate() {
            let mut writer = TermDictWriter::new();
            for term in half {
                writer.add(term.as_bytes(), 1, 1, 0);
            }
            let (block_data, _, _) = writer.finish();
            starts[0].push(data.len() as u64);
            starts[1].push((block * TERMS_PER_BLOCK) as u64);
            starts[2].push(0);
            data.extend_from_slice(&block_data);
        }
        let mut index = vec![64u8; 3];
        for column in &starts {
            bitpack::pack64(column, 64, &mut index);
        }
        let dict = TermDict::new(&data, &index, terms.len() as u64).unwrap();
        let read: Vec<_> = dict.iter().collect();
        assert_eq!(read.iter().filter(|e| e.is_ok()).count(), TERMS_PER_BLOCK);
        assert!(read.last().unwrap().is_err());
    }

    #[test]
    fn each_kind_of_entry_round_trips_and_the_index_is_packed() {
        let terms: Vec<String> = (0..500).map(|i| format!("k{i:04}")).collect();
        // Lexicon ordinals wander both ways, as words and their stems interleave.
        let ordinals: Vec<u32> = (0..500u32).map(|i| if i % 3 == 0 { i * 2 } else { 1000 - i }).collect();
        let mut keys = TermDictWriter::keys_only();
        let mut bare = TermDictWriter::of(Entries::WithoutPositions);
        for (term, &ordinal) in terms.iter().zip(&ordinals) {
            keys.add(term.as_bytes(), ordinal, 0, 0);
            bare.add(term.as_bytes(), ordinal + 1, u64::from(ordinal % 5 + 1), 0);
        }
        let (key_data, key_index, key_count) = keys.finish();
        let (bare_data, bare_index, bare_count) = bare.finish();
        let blocks = 500usize.div_ceil(TERMS_PER_BLOCK);
        assert!(key_index.len() < 3 * blocks && bare_index.len() < 6 * blocks);
        let lexicon = TermDict::keys_only(&key_data, &key_index, key_count).unwrap();
        let dict = TermDict::open(&bare_data, &bare_index, bare_count, Entries::WithoutPositions).unwrap();
        let mut offset = 0;
        for (i, (term, &ordinal)) in terms.iter().zip(&ordinals).enumerate() {
            assert_eq!(lexicon.get(i as u64).unwrap(), (term.as_bytes().to_vec(), TermInfo { doc_freq: ordinal, ..TermInfo::default() }));
            let (found, info) = dict.get(dict.find(term.as_bytes()).unwrap().unwrap()).unwrap();
            assert_eq!(found, term.as_bytes());
            assert_eq!((info.doc_freq, info.postings_offset, info.positions_len), (ordinal + 1, offset, 0));
            offset += info.postings_len;
        }
        assert_eq!(zigzag(-3), 5);
        assert_eq!(unzigzag(zigzag(i64::from(u32::MAX))), i64::from(u32::MAX));
        // An ordinal coded below 0 is damage.
        let mut bad = TermDictWriter::keys_only();
        bad.add(b"a", 0, 0, 0);
        let (mut data, index, count) = bad.finish();
        *data.last_mut().unwrap() = 1; // zigzag 1 = -1
        assert!(TermDict::keys_only(&data, &index, count).unwrap().get(0).is_err());
    }
}
