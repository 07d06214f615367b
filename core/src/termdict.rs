//! The term dictionary of one field: terms sorted by their UTF-8 bytes, addressed by
//! ordinal, with each term's doc_freq and where its postings and positions lie.
//!
//! Front-coded blocks of [`TERMS_PER_BLOCK`] terms:
//!
//! ```text
//! data    per block, per term: vint shared prefix with the previous term of the block
//!         (0 for the first) | vint suffix length | suffix | vint doc_freq |
//!         vint postings length | vint positions length
//! index   per block: data offset u64 | postings offset u64 | positions offset u64
//! ```
//!
//! A term's postings start where the previous term's end (the block index gives each
//! block's start), so offsets cost nothing per term. Ordinals are what the query code and
//! the merges address terms by (term(i), ranges of a prefix, doc_freq of the i-th term), so
//! this is chosen over an FST: an FST maps a term to a value but finding the i-th term or
//! the ordinal range of a prefix needs extra structure, while front coding with a block
//! index gives all of these with one binary search over block heads and a scan of one
//! block of 32 terms, at about the FST's size for natural-language vocabularies.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Decoded};

pub const TERMS_PER_BLOCK: usize = 32;
const INDEX_ENTRY: usize = 24;

/// Where a term's postings and positions lie in their field's sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TermInfo {
    pub doc_freq: u32,
    pub postings_offset: u64,
    pub postings_len: u64,
    pub positions_offset: u64,
    pub positions_len: u64,
}

/// Builds a field's dictionary from terms given in ascending byte order.
#[derive(Debug, Default)]
pub struct TermDictWriter {
    data: Vec<u8>,
    index: Vec<u8>,
    previous: Vec<u8>,
    count: u64,
    postings_end: u64,
    positions_end: u64,
    /// Whether entries carry postings and positions lengths (a lexicon's do not).
    keys_only: bool,
}

impl TermDictWriter {
    pub fn new() -> TermDictWriter {
        TermDictWriter::default()
    }

    /// A writer of keys with one number each (a lexicon: word -> term ordinal, in the
    /// `doc_freq` slot) and no postings.
    pub fn keys_only() -> TermDictWriter {
        TermDictWriter { keys_only: true, ..TermDictWriter::default() }
    }

    /// Adds the next term (greater than the previous one).
    #[allow(clippy::indexing_slicing)] // an encoder indexes its own arrays, of lengths it set
    pub fn add(&mut self, term: &[u8], doc_freq: u32, postings_len: u64, positions_len: u64) {
        debug_assert!(self.count == 0 || term > &self.previous[..]);
        let shared = if self.count as usize % TERMS_PER_BLOCK == 0 {
            self.index.extend_from_slice(&(self.data.len() as u64).to_le_bytes());
            self.index.extend_from_slice(&self.postings_end.to_le_bytes());
            self.index.extend_from_slice(&self.positions_end.to_le_bytes());
            0
        } else {
            term.iter().zip(&self.previous).take_while(|(a, b)| a == b).count()
        };
        put_vint(&mut self.data, shared as u64);
        put_vint(&mut self.data, (term.len() - shared) as u64);
        self.data.extend_from_slice(&term[shared..]);
        put_vint(&mut self.data, u64::from(doc_freq));
        if !self.keys_only {
            put_vint(&mut self.data, postings_len);
            put_vint(&mut self.data, positions_len);
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
        (self.data, self.index, self.count)
    }
}

/// A field's dictionary over its sections (already checksum-verified bytes).
#[derive(Debug, Clone, Copy)]
pub struct TermDict<'a> {
    data: &'a [u8],
    index: &'a [u8],
    count: u64,
    keys_only: bool,
}

impl<'a> TermDict<'a> {
    pub fn new(data: &'a [u8], index: &'a [u8], count: u64) -> Decoded<TermDict<'a>> {
        let blocks = count.div_ceil(TERMS_PER_BLOCK as u64);
        if blocks.checked_mul(INDEX_ENTRY as u64) != Some(index.len() as u64) {
            return Err(Corrupt::new(format!("term index of {} bytes for {count} terms", index.len())));
        }
        Ok(TermDict { data, index, count, keys_only: false })
    }

    /// Keys written by [`TermDictWriter::keys_only`].
    pub fn keys_only(data: &'a [u8], index: &'a [u8], count: u64) -> Decoded<TermDict<'a>> {
        TermDict::new(data, index, count).map(|dict| TermDict { keys_only: true, ..dict })
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn blocks(&self) -> usize {
        self.index.len() / INDEX_ENTRY
    }

    fn index_entry(&self, block: usize) -> Decoded<(u64, u64, u64)> {
        let bytes = self.index.get(block * INDEX_ENTRY..(block + 1) * INDEX_ENTRY);
        let mut cursor = Cursor::new(bytes.ok_or_else(|| Corrupt::new("term block out of range"))?);
        Ok((cursor.u64()?, cursor.u64()?, cursor.u64()?))
    }

    fn block_bytes(&self, block: usize) -> Decoded<&'a [u8]> {
        let start = self.index_entry(block)?.0;
        let end = if block + 1 < self.blocks() { self.index_entry(block + 1)?.0 } else { self.data.len() as u64 };
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
            let doc_freq = cursor.vu32()?;
            let (postings_len, positions_len) = if self.keys_only { (0, 0) } else { (cursor.vint()?, cursor.vint()?) };
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
        // The last block whose first term is at most the key.
        let (mut low, mut high) = (0usize, self.blocks());
        while low < high {
            let mid = low + (high - low) / 2;
            if self.first_term(mid)? <= key {
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

    fn first_term(&self, block: usize) -> Decoded<&'a [u8]> {
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
        let mut entries = Vec::with_capacity(TERMS_PER_BLOCK);
        self.block(block, &mut entries)?;
        let inside = entries.iter().take_while(|(term, _)| goes_before(term)).count();
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
            let dict = TermDict::new(&data, &bad, count).unwrap();
            let _ = dict.find(b"w050");
            let _ = dict.range(0, 100);
        }
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
        let mut index = Vec::new();
        for (block, half) in terms.chunks(TERMS_PER_BLOCK).enumerate() {
            let mut writer = TermDictWriter::new();
            for term in half {
                writer.add(term.as_bytes(), 1, 1, 0);
            }
            let (block_data, _, _) = writer.finish();
            index.extend_from_slice(&(data.len() as u64).to_le_bytes());
            index.extend_from_slice(&((block * TERMS_PER_BLOCK) as u64).to_le_bytes());
            index.extend_from_slice(&0u64.to_le_bytes());
            data.extend_from_slice(&block_data);
        }
        let dict = TermDict::new(&data, &index, terms.len() as u64).unwrap();
        let read: Vec<_> = dict.iter().collect();
        assert_eq!(read.iter().filter(|e| e.is_ok()).count(), TERMS_PER_BLOCK);
        assert!(read.last().unwrap().is_err());
    }
}
