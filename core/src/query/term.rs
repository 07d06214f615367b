//! A term's postings read in place (a cursor over the block postings of `postings.rs`),
//! and the BM25F leaf that scores one term over one or more fields.
//!
//! The cursor decodes one block of 128 postings at a time, and a term frequency block only
//! when a score asks for it: counting and skipping touch doc ids alone. `advance` reads
//! the skip table to jump straight to the block that may hold the target, so the blocks a
//! conjunction or a pruned disjunction steps over are never decoded. The skip entries'
//! block maxima (largest tf, smallest length) bound the score of any document of a block,
//! which is what [`crate::query::topk`] prunes with.
//!
//! A damaged postings list never panics: the cursor stops (reports [`END`]) and keeps the
//! error, which the search returns once it is done with the segment.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::HashMap;
use std::sync::Mutex;

use crate::bitpack::{self, BLOCK};
use crate::cursor::Cursor;
use crate::error::{Corrupt, Decoded, Error, InFile};
use crate::postings::{Skip, SKIP_ENTRY};
use crate::query::scorer::{Bm25, InverseNorms};
use crate::query::{gallop, DocIter, END};
use crate::segment_reader::SegmentReader;
use crate::termdict::TermInfo;

/// Most (field, term) look-ups a segment remembers before starting afresh (about 100
/// bytes each).
const MAX_REMEMBERED_TERMS: usize = 100_000;

/// A segment's recent term look-ups, (field, term) to info (None: absent). Words repeat
/// from query to query (Zipf), and one search looks a word up for its df and again for
/// its postings; a dictionary look-up costs a binary search and a block scan.
#[derive(Debug, Default)]
pub struct TermCache {
    /// Per field, per term: looked up by borrowed keys (no allocation on a hit), with a
    /// fast hash for short words.
    entries: Mutex<HashMap<String, FieldTerms>>,
    /// Per field, the dictionary's block heads its look-ups have read
    /// ([`crate::termdict::TermDict::lookup_remembering`]).
    heads: Mutex<HashMap<String, BlockHeads>>,
}

/// One dictionary's block heads read so far (None: not yet).
type BlockHeads = Vec<Option<Box<[u8]>>>;

/// One field's remembered look-ups.
type FieldTerms = HashMap<Vec<u8>, Option<TermInfo>, foldhash::fast::RandomState>;

impl TermCache {
    /// The remembered look-up of `term` in `field`, if any.
    pub fn get(&self, field: &str, term: &[u8]) -> Option<Option<TermInfo>> {
        let entries = self.entries.lock().ok()?;
        entries.get(field)?.get(term).copied()
    }

    /// Looks `term` up in `dict` (the dictionary of `field`) with the block heads earlier
    /// look-ups of the field read.
    pub fn lookup(&self, dict: &crate::termdict::TermDict<'_>, field: &str, term: &[u8]) -> Decoded<Option<TermInfo>> {
        let Ok(mut heads) = self.heads.lock() else { return dict.lookup(term) };
        if let Some(known) = heads.get_mut(field) {
            return dict.lookup_remembering(known, term);
        }
        let mut known = Vec::new();
        let found = dict.lookup_remembering(&mut known, term);
        heads.insert(field.to_owned(), known);
        found
    }

    pub fn remember(&self, field: &str, term: &[u8], info: Option<TermInfo>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.values().map(HashMap::len).sum::<usize>() >= MAX_REMEMBERED_TERMS {
                entries.clear();
            }
            if let Some(terms) = entries.get_mut(field) {
                terms.insert(term.to_vec(), info);
            } else {
                let mut terms = FieldTerms::default();
                terms.insert(term.to_vec(), info);
                entries.insert(field.to_owned(), terms);
            }
        }
    }
}

/// Moves `cursor` (over `reader`'s segment) to a term's postings in a field (see
/// [`PostingsCursor::reopen`]); damage names the postings file and the field.
pub fn reopen_postings<'a>(reader: &'a SegmentReader, cursor: &mut PostingsCursor<'a>, field: &str, info: &TermInfo) -> Result<(), Error> {
    let reopened = reader.postings_bytes(field, info).and_then(|bytes| cursor.reopen(bytes, info.doc_freq).in_file(reader.postings.path()));
    reopened.map_err(|error| match error {
        Error::Corrupt { path, message } => Error::Corrupt { path, message: format!("the postings of {field:?}: {message}") },
        other => other,
    })
}

/// Damage a cursor met in `reader`'s postings, as an error naming the postings file.
pub fn postings_damage(reader: &SegmentReader, error: Corrupt) -> Error {
    Error::corrupt(reader.postings.path(), format!("postings: {}", error.0))
}

/// A cursor over one term's postings in one field of one segment.
#[derive(Debug, Clone)]
pub struct PostingsCursor<'a> {
    /// The term's bytes: skip table, then blocks.
    data: &'a [u8],
    count: u32,
    doc_count: u32,
    /// Full blocks (with a skip entry each); the tail, if any, is block `full`.
    full: usize,
    block: usize,
    docs: Vec<u32>,
    tfs: Vec<u32>,
    /// Where the loaded full block's packed tfs start (in the blocks' bytes), and their width.
    tf_packed: Option<(usize, u8)>,
    pos: usize,
    doc: u32,
    error: Option<Corrupt>,
}

impl<'a> PostingsCursor<'a> {
    /// A cursor on the first posting of a term with `count` postings, in a segment of
    /// `doc_count` documents.
    pub fn new(data: &'a [u8], count: u32, doc_count: u32) -> Decoded<PostingsCursor<'a>> {
        let mut cursor = PostingsCursor {
            data: &[],
            count: 0,
            doc_count,
            full: 0,
            block: 0,
            docs: Vec::with_capacity(BLOCK),
            tfs: Vec::with_capacity(BLOCK),
            tf_packed: None,
            pos: 0,
            doc: END,
            error: None,
        };
        cursor.reopen(data, count)?;
        Ok(cursor)
    }

    /// Stands the cursor on the first posting of another term of the same segment,
    /// keeping its buffers: a reader of many short postings one after another (a
    /// pattern's terms) then allocates nothing per term.
    pub fn reopen(&mut self, data: &'a [u8], count: u32) -> Decoded<()> {
        if count > self.doc_count {
            return Err(Corrupt::new(format!("{count} postings in a segment of {} documents", self.doc_count)));
        }
        let full = count as usize / BLOCK;
        if data.len() < full * SKIP_ENTRY {
            return Err(Corrupt::new("postings are truncated"));
        }
        self.data = data;
        self.count = count;
        self.full = full;
        self.block = 0;
        self.docs.clear();
        self.tfs.clear();
        self.tf_packed = None;
        self.pos = 0;
        self.doc = END;
        self.error = None;
        if count > 0 {
            self.load(0);
        }
        Ok(())
    }

    /// The postings' count (the term's df in the segment, deleted documents included).
    pub fn len(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The damage met, if any (the cursor stopped there).
    pub fn error(&self) -> Option<&Corrupt> {
        self.error.as_ref()
    }

    fn blocks(&self) -> &'a [u8] {
        self.data.get(self.full * SKIP_ENTRY..).unwrap_or_default()
    }

    fn has_tail(&self) -> bool {
        self.count as usize > self.full * BLOCK
    }

    /// The last doc id of full block `block`: its skip entry's first field, read alone
    /// (skipping reads only this).
    #[inline]
    fn last_doc(&self, block: usize) -> Decoded<u32> {
        let at = block * SKIP_ENTRY;
        let bytes: [u8; 4] = self
            .data
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| Corrupt::new("no such skip entry"))?;
        Ok(u32::from_le_bytes(bytes))
    }

    /// Skip entry `block` (of a full block).
    pub fn skip(&self, block: usize) -> Decoded<Skip> {
        let bytes = self.data.get(block * SKIP_ENTRY..(block + 1) * SKIP_ENTRY).ok_or_else(|| Corrupt::new("no such skip entry"))?;
        let mut cursor = Cursor::new(bytes);
        Ok(Skip { last_doc: cursor.u32()?, end: cursor.u32()?, max_tf: cursor.u32()?, min_norm: cursor.u32()? })
    }

    /// The number of full blocks (each with a skip entry).
    pub fn full_blocks(&self) -> usize {
        self.full
    }

    fn fail(&mut self, error: Corrupt) {
        if self.error.is_none() {
            self.error = Some(error);
        }
        self.doc = END;
        self.docs.clear();
        self.block = self.full + 1;
    }

    /// Decodes block `block` (the tail when it is `full`) and stands on its first posting.
    fn load(&mut self, block: usize) {
        if let Err(error) = self.try_load(block) {
            self.fail(error);
        }
    }

    fn try_load(&mut self, block: usize) -> Decoded<()> {
        let (start, base) = if block == 0 {
            (0usize, 0u64)
        } else {
            let previous = self.skip(block - 1)?;
            (previous.end as usize, u64::from(previous.last_doc) + 1)
        };
        let blocks = self.blocks();
        let bytes = blocks.get(start..).ok_or_else(|| Corrupt::new("a skip entry points past the postings"))?;
        self.block = block;
        self.pos = 0;
        self.docs.clear();
        self.tfs.clear();
        self.tf_packed = None;
        if block < self.full {
            let skip = self.skip(block)?;
            let mut cursor = Cursor::new(bytes);
            let doc_width = cursor.u8()?;
            let tf_width = cursor.u8()?;
            let used = bitpack::unpack_ids(bytes.get(2..).unwrap_or_default(), doc_width, base, &mut self.docs)?;
            // Ids only grow (a gap is at least 0), so the last is the largest: one check
            // for the block, against the skip entry's last id, itself checked below.
            let last = u64::from(self.docs.last().copied().unwrap_or(0));
            if last >= u64::from(self.doc_count) {
                return Err(Corrupt::new(format!("doc id {last} out of range")));
            }
            let tf_start = start + 2 + used;
            let end = tf_start + bitpack::packed_len(BLOCK, tf_width.min(32));
            if self.docs.last().copied() != Some(skip.last_doc) || end != skip.end as usize || tf_width > 32 {
                return Err(Corrupt::new("a skip entry disagrees with its block"));
            }
            self.tf_packed = Some((tf_start, tf_width));
        } else {
            let mut cursor = Cursor::new(bytes);
            let mut next = base;
            let tail = (self.count as usize).saturating_sub(self.full * BLOCK);
            self.docs.reserve(tail);
            self.tfs.reserve(tail);
            for _ in 0..tail {
                let value = cursor.vint()?;
                let tf = if value & 1 == 1 { 1 } else { cursor.vu32()? };
                let id = next.checked_add(value >> 1).ok_or_else(|| Corrupt::new("doc gap overflows"))?;
                if id >= u64::from(self.doc_count) || tf == 0 {
                    return Err(Corrupt::new(format!("posting (doc {id}, tf {tf}) out of range")));
                }
                self.docs.push(id as u32);
                self.tfs.push(tf);
                next = id + 1;
            }
            if !cursor.is_empty() {
                return Err(Corrupt::new("postings have trailing bytes"));
            }
        }
        self.doc = self.docs.first().copied().unwrap_or(END);
        Ok(())
    }

    /// The current doc id ([`END`] past the last).
    #[inline]
    pub fn doc(&self) -> u32 {
        self.doc
    }

    /// Moves to the next posting.
    #[inline]
    #[allow(clippy::should_implement_trait)] // a cursor, not an iterator: `doc` reads where it stands
    pub fn next(&mut self) -> u32 {
        self.pos += 1;
        if let Some(&doc) = self.docs.get(self.pos) {
            self.doc = doc;
        } else {
            self.next_block();
        }
        self.doc
    }

    fn next_block(&mut self) {
        let next = self.block + 1;
        if next < self.full || (next == self.full && self.has_tail()) {
            self.load(next);
        } else {
            self.doc = END;
            self.block = self.full + 1;
        }
    }

    /// Moves to the first posting at or after `target`.
    pub fn advance(&mut self, target: u32) -> u32 {
        if self.doc >= target {
            return self.doc;
        }
        if self.block < self.full {
            let beyond = match self.last_doc(self.block) {
                Ok(last) => last < target,
                Err(error) => {
                    self.fail(error);
                    return END;
                }
            };
            if beyond {
                match self.block_holding(target, self.block + 1) {
                    Ok(Some(block)) => self.load(block),
                    Ok(None) => {
                        self.doc = END;
                        self.block = self.full + 1;
                    }
                    Err(error) => self.fail(error),
                }
                if self.doc >= target {
                    return self.doc;
                }
            }
        }
        while self.doc < target {
            // Within the loaded block, by galloping; past it, on to the next block.
            let rest = self.docs.get(self.pos..).unwrap_or_default();
            let skip = gallop(rest, 0, target);
            if skip < rest.len() {
                self.pos += skip;
                self.doc = self.docs.get(self.pos).copied().unwrap_or(END);
            } else {
                self.pos = self.docs.len();
                self.next_block();
            }
        }
        self.doc
    }

    /// The first block from `from` on that may hold `target` (the tail if no full block
    /// does and there is one), found in the skip table by steps of doubling length from
    /// `from`, then a binary search in the last: a conjunction's targets mostly lie a few
    /// blocks on, so the search costs the log of that distance, not of the whole table.
    fn block_holding(&self, target: u32, from: usize) -> Decoded<Option<usize>> {
        let (mut low, mut step) = (from, 1usize);
        while low + step <= self.full && self.last_doc(low + step - 1)? < target {
            low += step;
            step *= 2;
        }
        let mut high = (low + step - 1).min(self.full);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.last_doc(mid)? < target {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(if low < self.full || self.has_tail() { Some(low) } else { None })
    }

    /// The term frequency of the current posting.
    #[inline]
    pub fn freq(&mut self) -> u32 {
        if let Some((start, width)) = self.tf_packed.take() {
            let packed = self.blocks().get(start..).unwrap_or_default();
            if let Err(error) = bitpack::unpack_block(packed, width, &mut self.tfs) {
                self.fail(error);
                return 1;
            }
        }
        self.tfs.get(self.pos).map_or(1, |&tf| tf.saturating_add(u32::from(self.block < self.full)))
    }

    /// The block the cursor stands in (the tail is block [`PostingsCursor::full_blocks`]).
    pub fn block_index(&self) -> usize {
        self.block
    }

    /// The summed term frequencies of the postings before the current one in its block.
    pub fn freqs_before(&mut self) -> u64 {
        self.freq(); // decodes the block's frequencies if they are not yet
        let raw: u64 = self.tfs.get(..self.pos).unwrap_or_default().iter().map(|&tf| u64::from(tf)).sum();
        let added = if self.block < self.full { self.pos as u64 } else { 0 }; // a full block stores tf - 1
        raw + added
    }

    /// Per full block up to `upto`, the summed term frequencies of the blocks before it
    /// (`upto + 1` values, the first 0): how many positions lie before a block's first
    /// posting. Only the frequencies are decoded, block after block; the doc ids are
    /// passed over by their packed width.
    pub fn freqs_before_blocks(&self, upto: usize) -> Decoded<Vec<u64>> {
        let upto = upto.min(self.full);
        let mut totals = Vec::with_capacity(upto + 1);
        let mut total = 0u64;
        totals.push(total);
        for block in 0..upto {
            let start = if block == 0 { 0 } else { self.skip(block - 1)?.end as usize };
            let bytes = self.blocks().get(start..).ok_or_else(|| Corrupt::new("a skip entry points past the postings"))?;
            let (&doc_width, &tf_width) = match bytes {
                [doc_width, tf_width, ..] => (doc_width, tf_width),
                _ => return Err(Corrupt::new("postings are truncated")),
            };
            if doc_width > 32 || tf_width > 32 {
                return Err(Corrupt::new("a postings block's width exceeds 32"));
            }
            let tf_start = 2 + bitpack::packed_len(BLOCK, doc_width);
            let (raw, used) = bitpack::sum_block(bytes.get(tf_start..).unwrap_or_default(), tf_width)?;
            if start + tf_start + used != self.skip(block)?.end as usize {
                return Err(Corrupt::new("a skip entry disagrees with its block"));
            }
            total += raw + BLOCK as u64; // a full block stores tf - 1
            totals.push(total);
        }
        Ok(totals)
    }

    /// Hands every remaining posting to `visit` a block at a time: (doc ids, raw term
    /// frequencies, what to add to each raw frequency), for loops that read every
    /// posting (summing a term whole, counting) without a call per posting. The cursor
    /// ends exhausted (or stopped at damage, see [`PostingsCursor::error`]).
    pub fn drain_blocks(&mut self, mut visit: impl FnMut(&[u32], &[u32], u32)) {
        while self.doc != END {
            self.freq(); // decodes the block's frequencies if they are not yet
            if self.doc == END {
                break; // damage met while decoding them
            }
            let docs = self.docs.get(self.pos..).unwrap_or_default();
            let tfs = self.tfs.get(self.pos..).unwrap_or_default();
            visit(docs, tfs, u32::from(self.block < self.full));
            self.pos = self.docs.len();
            self.next_block();
        }
    }

    /// Hands every remaining doc id to `visit` a block at a time, without decoding
    /// frequencies: counting a union reads nothing else. The cursor ends exhausted (or
    /// stopped at damage, see [`PostingsCursor::error`]).
    pub fn drain_docs(&mut self, mut visit: impl FnMut(&[u32])) {
        while self.doc != END {
            visit(self.docs.get(self.pos..).unwrap_or_default());
            self.pos = self.docs.len();
            self.next_block();
        }
    }

    /// Where the block that may hold `target` lies, without decoding it: its skip entry
    /// for a full block, None for the tail or past the end.
    pub fn block_of(&self, target: u32) -> Decoded<Option<Skip>> {
        match self.block_holding(target, self.block.min(self.full))? {
            Some(block) if block < self.full => self.skip(block).map(Some),
            _ => Ok(None),
        }
    }

    /// The tail's postings (those after the last full block): (docs, tfs).
    pub fn tail(&self) -> Decoded<(Vec<u32>, Vec<u32>)> {
        let mut copy = PostingsCursor::new(self.data, self.count, self.doc_count)?;
        if !copy.has_tail() {
            return Ok((Vec::new(), Vec::new()));
        }
        copy.try_load(copy.full)?;
        Ok((copy.docs, copy.tfs))
    }
}

/// One field of a BM25F term: its postings, weight and inverse length norms.
#[derive(Debug, Clone)]
pub struct FieldPostings<'a> {
    pub cursor: PostingsCursor<'a>,
    pub weight: f64,
    /// Per document `1 / norm`; None for a field without lengths (every norm is 1).
    pub inverse_norms: Option<InverseNorms>,
    /// `1 / norm` at a given length, for block bounds: (average length).
    pub average: f64,
}

impl FieldPostings<'_> {
    #[inline]
    pub fn inverse_norm(&self, doc: u32) -> f64 {
        match &self.inverse_norms {
            None => 1.0,
            Some(norms) => norms.get(doc as usize).copied().unwrap_or(1.0),
        }
    }

    /// The largest `weight * tf / norm` of any posting: from the skip entries' block
    /// maxima for full blocks, exactly for the tail.
    pub fn max_part(&self, bm25: &Bm25) -> Decoded<f64> {
        let mut best = 0.0f64;
        for block in 0..self.cursor.full_blocks() {
            let skip = self.cursor.skip(block)?;
            best = best.max(self.block_part(bm25, &skip));
        }
        let (docs, tfs) = self.cursor.tail()?;
        for (doc, tf) in docs.into_iter().zip(tfs) {
            best = best.max(self.weight * f64::from(tf) * self.inverse_norm(doc));
        }
        Ok(best)
    }

    /// The bound of `weight * tf / norm` over one full block.
    pub fn block_part(&self, bm25: &Bm25, skip: &Skip) -> f64 {
        let inverse = if self.inverse_norms.is_none() {
            1.0
        } else {
            1.0 / bm25.length_norm(f64::from(skip.min_norm), self.average)
        };
        self.weight * f64::from(skip.max_tf) * inverse
    }
}

/// The BM25F leaf: one term searched in one or more fields, scored
/// `factor * saturate(sum of weight * tf / norm)` with `factor = boost * idf`.
#[derive(Debug, Clone)]
pub struct TermScorer<'a> {
    pub fields: Vec<FieldPostings<'a>>,
    pub factor: f64,
    pub bm25: Bm25,
    doc: u32,
}

impl<'a> TermScorer<'a> {
    pub fn new(fields: Vec<FieldPostings<'a>>, factor: f64, bm25: Bm25) -> TermScorer<'a> {
        let doc = fields.iter().map(|f| f.cursor.doc()).min().unwrap_or(END);
        TermScorer { fields, factor, bm25, doc }
    }

    /// The damage any field's postings met.
    pub fn error(&self) -> Option<Corrupt> {
        self.fields.iter().find_map(|f| f.cursor.error().cloned())
    }

    /// An upper bound of the term's score in any document (None: no bound, as with a
    /// negative factor or weight, where a larger x does not mean a larger score).
    pub fn upper_bound(&self) -> Decoded<Option<f64>> {
        let positive = |v: f64| v > 0.0; // false for NaN too
        if !positive(self.factor) || !self.fields.iter().all(|f| positive(f.weight)) {
            return Ok(None);
        }
        let mut x = 0.0;
        for field in &self.fields {
            x += field.max_part(&self.bm25)?;
        }
        Ok(Some(self.factor * self.bm25.variant.saturate(x, self.bm25.k1)))
    }

    /// Each field's tf in the current document (0 where the field lacks the term).
    pub fn freqs(&mut self) -> Vec<u32> {
        let doc = self.doc;
        self.fields.iter_mut().map(|f| if f.cursor.doc() == doc { f.cursor.freq() } else { 0 }).collect()
    }

    /// Every field cursor's doc ids, for counting a union without scoring.
    pub fn cursors_mut(&mut self) -> impl Iterator<Item = &mut PostingsCursor<'a>> {
        self.fields.iter_mut().map(|f| &mut f.cursor)
    }

    fn settle(&mut self) -> u32 {
        self.doc = self.fields.iter().map(|f| f.cursor.doc()).min().unwrap_or(END);
        self.doc
    }
}

impl DocIter for TermScorer<'_> {
    #[inline]
    fn doc(&self) -> u32 {
        self.doc
    }

    fn next(&mut self) -> u32 {
        let doc = self.doc;
        if let [only] = self.fields.as_mut_slice() {
            self.doc = only.cursor.next();
            return self.doc;
        }
        for field in &mut self.fields {
            if field.cursor.doc() == doc {
                field.cursor.next();
            }
        }
        self.settle()
    }

    fn advance(&mut self, target: u32) -> u32 {
        if self.doc >= target {
            return self.doc;
        }
        for field in &mut self.fields {
            field.cursor.advance(target);
        }
        self.settle()
    }

    #[inline]
    fn score(&mut self) -> f64 {
        let doc = self.doc;
        let mut x = 0.0;
        for field in &mut self.fields {
            if field.cursor.doc() == doc {
                let tf = f64::from(field.cursor.freq());
                x += field.weight * tf * field.inverse_norm(doc);
            }
        }
        self.factor * self.bm25.variant.saturate(x, self.bm25.k1)
    }

    fn cost(&self) -> u64 {
        self.fields.iter().map(|f| u64::from(f.cursor.len())).sum()
    }

    fn error(&self) -> Option<Corrupt> {
        TermScorer::error(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postings::encode;

    fn sample(count: usize, seed: u64) -> (Vec<u32>, Vec<u32>) {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut rand = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let (mut docs, mut tfs) = (Vec::new(), Vec::new());
        let mut doc = rand() % 5;
        for _ in 0..count {
            docs.push(doc);
            tfs.push(1 + rand() % 4 * (rand() % 3));
            doc += 1 + rand() % 9;
        }
        (docs, tfs)
    }

    #[test]
    fn next_walks_every_posting_with_its_tf() {
        for count in [0, 1, 127, 128, 129, 256, 300, 1000] {
            let (docs, tfs) = sample(count, count as u64);
            let mut bytes = Vec::new();
            encode(&docs, &tfs, None, &mut bytes);
            let mut cursor = PostingsCursor::new(&bytes, count as u32, 100_000).unwrap();
            let (mut seen, mut seen_tfs) = (Vec::new(), Vec::new());
            while cursor.doc() != END {
                seen.push(cursor.doc());
                seen_tfs.push(cursor.freq());
                cursor.next();
            }
            assert_eq!(seen, docs);
            assert_eq!(seen_tfs, tfs);
            assert!(cursor.error().is_none());
        }
    }

    #[test]
    fn draining_blocks_hands_over_every_remaining_posting() {
        for count in [1, 127, 128, 300, 1000] {
            let (docs, tfs) = sample(count, 5);
            let mut bytes = Vec::new();
            encode(&docs, &tfs, None, &mut bytes);
            let mut cursor = PostingsCursor::new(&bytes, count as u32, 100_000).unwrap();
            let skip = count / 3;
            cursor.advance(docs[skip]);
            let (mut seen, mut seen_tfs) = (Vec::new(), Vec::new());
            cursor.drain_blocks(|d, t, add| {
                seen.extend_from_slice(d);
                seen_tfs.extend(t.iter().map(|&tf| tf + add));
            });
            assert_eq!(seen, docs[skip..]);
            assert_eq!(seen_tfs, tfs[skip..]);
            assert_eq!(cursor.doc(), END);
        }
    }

    #[test]
    fn advance_lands_on_the_first_doc_at_or_after_the_target() {
        let (docs, tfs) = sample(1000, 7);
        let mut bytes = Vec::new();
        encode(&docs, &tfs, None, &mut bytes);
        let last = *docs.last().unwrap();
        for step in [1u32, 3, 40, 700, 2000] {
            let mut cursor = PostingsCursor::new(&bytes, 1000, 100_000).unwrap();
            let mut target = 0;
            while target <= last + 5 {
                let expected = docs.iter().position(|&d| d >= target);
                let got = cursor.advance(target);
                match expected {
                    Some(at) => {
                        assert_eq!(got, docs[at]);
                        // Reading tfs after skipping decodes the right block's.
                        assert_eq!(cursor.freq(), tfs[at]);
                    }
                    None => assert_eq!(got, END),
                }
                target += step;
            }
        }
    }

    #[test]
    fn block_maxima_bound_every_posting() {
        let (docs, tfs) = sample(700, 3);
        let norms: Vec<u32> = (0..10_000).map(|d| 3 + d % 11).collect();
        let mut bytes = Vec::new();
        encode(&docs, &tfs, Some(&norms), &mut bytes);
        let cursor = PostingsCursor::new(&bytes, 700, 10_000).unwrap();
        for (i, &doc) in docs.iter().enumerate() {
            if let Some(skip) = cursor.block_of(doc).unwrap() {
                assert!(skip.max_tf >= tfs[i] && skip.min_norm <= norms[doc as usize]);
                assert!(skip.last_doc >= doc);
            } else {
                assert!(i >= 5 * BLOCK);
            }
        }
        let (tail_docs, tail_tfs) = cursor.tail().unwrap();
        assert_eq!(tail_docs, docs[5 * BLOCK..]);
        assert_eq!(tail_tfs, tfs[5 * BLOCK..]);
    }

    #[test]
    fn damage_stops_the_cursor_with_an_error() {
        let (docs, tfs) = sample(300, 1);
        let mut bytes = Vec::new();
        encode(&docs, &tfs, None, &mut bytes);
        let last = *docs.last().unwrap();
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            if let Ok(mut cursor) = PostingsCursor::new(&bad, 300, last + 1) {
                let mut steps = 0;
                while cursor.doc() != END && steps < 1000 {
                    cursor.freq();
                    cursor.advance(cursor.doc() + 2);
                    steps += 1;
                }
            }
        }
        let mut short = PostingsCursor::new(&bytes[..bytes.len() - 1], 300, last + 1).unwrap();
        while short.doc() != END {
            short.next();
        }
        assert!(short.error().is_some());
        assert!(PostingsCursor::new(&bytes, 300, 10).is_err());
    }
}
