//! Phrases: which documents hold a run of query words at given distances, allowing `slop`
//! moves, and how often (the phrase's frequency, its tf for BM25).
//!
//! A phrase is a list of *slots*: each is a query word (a term) and its offset in the
//! query (0 for the first word, never decreasing; a stop word dropped from the query
//! leaves a gap, so "talks of peace" is `talks`@0, `peace`@2). In one document an
//! *assignment* gives every slot a position of its term; a slot's *value* is its position
//! minus its offset. The rule is Lucene's:
//!
//! - an assignment matches with slop `s` when its values lie within `s` of each other
//!   (Lucene's match length `max(pos - offset) - min(pos - offset)`, so "b a" needs slop 2
//!   to match the text "a b");
//! - every slot takes its own position: a word the phrase repeats needs as many
//!   occurrences (`"alfa alfa"~1` does not match a lone `alfa`, and `"alfa alfa alfa"~1`
//!   does not match `alfa alfa`), as Lucene's exact and sloppy phrase matchers require;
//! - the frequency in a document is the number of positions `p` of the first word at
//!   which an occurrence starts: some matching assignment gives the first slot `p` and the
//!   first word's other slots (when it repeats) later positions. For an exact phrase this
//!   is Lucene's phrase frequency; a sloppy one counts each starting position once rather
//!   than Lucene's sum of `1 / (distance + 1)`, which keeps the scores searchlib has always
//!   given (and its brute-force oracle checks).
//!
//! The work per document grows with its positions of the phrase's words, never with the
//! slop, so a pasted paragraph with `~1000` costs what its words' occurrences cost:
//!
//! - slop 0: one pass, a cursor per slot moving forward as the first word's positions do;
//! - otherwise, the window starts `L` where every slot of a word the phrase holds once has
//!   a value in `[L, L + s]` form a union of intervals (each such slot's `[v - s, v]` over
//!   its values, merged, then intersected slot after slot in merge-like passes). Without a
//!   repeated word, a first-word position `p` counts when a good start lies in `[p - s, p]`.
//! - with a repeated word, a matching window can always slide right until it starts at
//!   one of the assignment's values, so only slot values inside the good starts are tried.
//!   At each, a repeated word's slots take the smallest free positions in offset order
//!   (optimal for intervals of one length sliding together), and the first word's later
//!   slots the largest from the right, which says how far right its own position may go.
//!   Every cursor only moves forward as the start grows, so the work is the candidate
//!   starts times the slots of repeated words, plus the positions once.
//!
//! [`phrase_matches`] runs a phrase over one segment: the conjunction of its words'
//! postings (rarest first, a repeated word only where its frequency suffices), then the
//! positions of the documents left.

use std::collections::HashMap;

use crate::error::{Error, InFile};
use crate::query::term::{postings_damage, reopen_postings, PostingsCursor};
use crate::query::{gallop, END};
use crate::segment_reader::SegmentReader;
use crate::termdict::TermInfo;

/// Slops past this change nothing: positions are u32 and offsets below 2^31, so every
/// value lies in `(-2^31, 2^32)` and any two are closer than 2^33. Clamping keeps the
/// window arithmetic far from i64's limits however large a slop the caller passes.
const SLOP_LIMIT: u64 = 1 << 34;

/// Offsets must stay below this (as Python's `Phrase` requires), for the same reason.
const OFFSET_LIMIT: u32 = 1 << 31;

/// A phrase made ready for matching: its slots and the roles their words play.
#[derive(Debug, Clone)]
pub struct Phrase {
    /// Per slot: the index of its word among the phrase's distinct words, and its offset.
    slots: Vec<(usize, i64)>,
    /// The number of distinct words.
    words: usize,
    slop: i64,
    /// Slots whose word the phrase holds once: (word, offset). Each constrains the window
    /// start to a union of intervals.
    singles: Vec<(usize, i64)>,
    /// Words other than the first that the phrase repeats: (word, offsets ascending).
    groups: Vec<(usize, Vec<i64>)>,
    /// Offsets of the first word's later slots (empty when the first word occurs once).
    lead_later: Vec<i64>,
    /// Distinct (word, offset) pairs: the values a window start is tried at.
    starts_from: Vec<(usize, i64)>,
    /// Two slots of one word at one offset: no exact occurrence gives them two positions.
    stacked: bool,
}

/// A phrase of query words: the phrase, its distinct words (first-seen order) and how many
/// slots each has (a repeated word needs that many occurrences in a document).
pub type PhraseOfWords<'a> = (Phrase, Vec<&'a [u8]>, Vec<u32>);

/// Buffers reused from one document to the next, so matching allocates once per phrase.
#[derive(Debug, Default)]
pub struct Scratch {
    cursors: Vec<usize>,
    good_starts: Vec<i64>,
    good_ends: Vec<i64>,
    slot_starts: Vec<i64>,
    slot_ends: Vec<i64>,
    next_starts: Vec<i64>,
    next_ends: Vec<i64>,
    candidates: Vec<i64>,
    reaches: Vec<(i64, i64)>,
    bits: Vec<u64>,
    work: u64,
}

impl Scratch {
    /// Steps taken so far (positions read, window starts tried, slots checked at each):
    /// what matching time grows with, for tests that bound it without a clock.
    pub fn work(&self) -> u64 {
        self.work
    }
}

impl Phrase {
    /// A phrase whose slot `i` is word `slot_words[i]` (an index among `0..words`, each
    /// used) at query offset `offsets[i]` (`offsets[0] == 0`, never decreasing, below
    /// 2^31). Any slop is accepted; past a document's span it means "anywhere, in any order".
    pub fn new(slot_words: &[usize], offsets: &[u32], slop: u64) -> Result<Phrase, Error> {
        if slot_words.is_empty() || slot_words.len() != offsets.len() {
            return Err(Error::Invalid("a phrase needs at least one word and one offset per word".into()));
        }
        if offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[1] < w[0]) || offsets.iter().any(|&o| o >= OFFSET_LIMIT) {
            return Err(Error::Invalid(format!("a phrase's offsets must start at 0, never decrease and stay below 2^31, got {offsets:?}")));
        }
        let words = slot_words.iter().max().map_or(0, |&w| w + 1);
        let mut counts = vec![0usize; words];
        for &w in slot_words {
            counts[w] += 1;
        }
        if counts.contains(&0) {
            return Err(Error::Invalid("every word of a phrase must have a slot".into()));
        }
        let slots: Vec<(usize, i64)> = slot_words.iter().zip(offsets).map(|(&w, &o)| (w, i64::from(o))).collect();
        let lead = slots[0].0;
        let singles = slots.iter().copied().filter(|&(w, _)| counts[w] == 1).collect();
        let mut groups: Vec<(usize, Vec<i64>)> = Vec::new();
        for (word, &count) in counts.iter().enumerate() {
            if word != lead && count > 1 {
                groups.push((word, slots.iter().filter(|&&(w, _)| w == word).map(|&(_, o)| o).collect()));
            }
        }
        let lead_later = slots.iter().skip(1).filter(|&&(w, _)| w == lead).map(|&(_, o)| o).collect();
        let mut starts_from = slots.clone();
        starts_from.sort_unstable();
        starts_from.dedup();
        let stacked = starts_from.len() < slots.len();
        Ok(Phrase {
            slots,
            words,
            slop: slop.min(SLOP_LIMIT) as i64,
            singles,
            groups,
            lead_later,
            starts_from,
            stacked,
        })
    }

    /// A phrase of query words with their query positions (never decreasing): its
    /// distinct words (first-seen order) and how many slots each has.
    pub fn of_words<T: AsRef<[u8]>>(words: &[(T, u32)], slop: u64) -> Result<PhraseOfWords<'_>, Error> {
        let first = words.first().map_or(0, |(_, p)| *p);
        let mut distinct: Vec<&[u8]> = Vec::new();
        let mut needed: Vec<u32> = Vec::new();
        let mut slot_words = Vec::with_capacity(words.len());
        let mut offsets = Vec::with_capacity(words.len());
        // A hash rather than a scan of the words so far: a pasted paragraph can be long.
        let mut index_of: HashMap<&[u8], usize> = HashMap::with_capacity(words.len());
        for (word, position) in words {
            let word = word.as_ref();
            let index = *index_of.entry(word).or_insert_with(|| {
                distinct.push(word);
                needed.push(0);
                distinct.len() - 1
            });
            needed[index] += 1;
            slot_words.push(index);
            offsets.push(position.checked_sub(first).ok_or_else(|| {
                Error::Invalid("a phrase's positions must not decrease".into())
            })?);
        }
        Ok((Phrase::new(&slot_words, &offsets, slop)?, distinct, needed))
    }

    /// The number of distinct words (the length [`Phrase::frequency`] wants of `positions`).
    pub fn words(&self) -> usize {
        self.words
    }

    /// The phrase's frequency in one document, given each distinct word's positions there
    /// (strictly ascending; `positions.len() == self.words()`, or the result is 0).
    pub fn frequency(&self, positions: &[&[u32]], scratch: &mut Scratch) -> u32 {
        let mut count = 0;
        self.each_start(positions, scratch, |_, _| count += 1);
        count
    }

    /// Each occurrence in one document, as the position every slot takes, slot after slot
    /// (`self.slot_count()` positions per occurrence, appended to `out`): one occurrence per
    /// counted first-word position, its window the one found for it, and in that window
    /// each word's earliest fitting positions. Returns the number of occurrences. This is
    /// what a highlighter marks.
    pub fn occurrences(&self, positions: &[&[u32]], scratch: &mut Scratch, out: &mut Vec<u32>) -> u32 {
        let mut count = 0;
        let mut found: Vec<(u32, i64)> = Vec::new();
        self.each_start(positions, scratch, |p, start| found.push((p, start)));
        for (p, start) in found {
            count += 1;
            self.lay_out(positions, p, start, out);
        }
        count
    }

    /// The number of slots (query words, repeats included).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Calls `found(p, start)` for each first-word position `p` that starts an occurrence,
    /// ascending, with a window start that works for it.
    fn each_start(&self, positions: &[&[u32]], scratch: &mut Scratch, mut found: impl FnMut(u32, i64)) {
        if positions.len() != self.words || positions.iter().any(|p| p.is_empty()) {
            return;
        }
        scratch.work += positions.iter().map(|p| p.len() as u64).sum::<u64>();
        if self.slop == 0 {
            self.exact(positions, scratch, found);
            return;
        }
        let lead = positions[self.slots[0].0];
        let s = self.slop;
        if !self.singles.is_empty() {
            self.good_starts(positions, scratch);
        }
        if self.groups.is_empty() && self.lead_later.is_empty() {
            // No repeated word: p counts when a good start lies in [p - s, p].
            let (starts, ends) = (&scratch.good_starts, &scratch.good_ends);
            let mut at = 0;
            for &p in lead {
                let p64 = i64::from(p);
                while at < ends.len() && ends[at] < p64 - s {
                    at += 1;
                }
                let Some(&start) = starts.get(at) else { break };
                if start <= p64 {
                    found(p, start.max(p64 - s));
                }
            }
            return;
        }
        self.repeated(positions, scratch);
        let mut at = 0;
        let mut best: Option<(i64, i64)> = None; // the start reaching furthest so far
        for &p in lead {
            let p64 = i64::from(p);
            while let Some(&(start, reach)) = scratch.reaches.get(at) {
                if start > p64 {
                    break;
                }
                if best.map_or(true, |(_, furthest)| reach > furthest) {
                    best = Some((start, reach));
                }
                at += 1;
            }
            if let Some((start, furthest)) = best {
                if furthest >= p64 {
                    found(p, start);
                }
            }
        }
    }

    /// Slop 0: the first word at p and every slot at p + its offset.
    fn exact(&self, positions: &[&[u32]], scratch: &mut Scratch, mut found: impl FnMut(u32, i64)) {
        if self.stacked {
            return;
        }
        let cursors = &mut scratch.cursors;
        cursors.clear();
        cursors.resize(self.slots.len(), 0);
        let lead = positions[self.slots[0].0];
        let mut work = 0;
        'first: for &p in lead {
            for (cursor, &(word, offset)) in cursors.iter_mut().zip(&self.slots).skip(1) {
                work += 1;
                let list = positions[word];
                let target = i64::from(p) + offset;
                while *cursor < list.len() && i64::from(list[*cursor]) < target {
                    *cursor += 1;
                }
                match list.get(*cursor) {
                    // Targets only grow with p: no later p can match either.
                    None => break 'first,
                    Some(&q) if i64::from(q) != target => continue 'first,
                    Some(_) => {}
                }
            }
            found(p, i64::from(p));
        }
        scratch.work += work;
    }

    /// The window starts where every single slot has a value within the window, as
    /// disjoint ascending intervals in `scratch.good_starts` / `good_ends` (inclusive).
    ///
    /// Each single slot allows the union of `[v - s, v]` over its values; the first
    /// slot's union is intersected with each next one's by one merge-like pass (no sort),
    /// stopping as soon as nothing is left.
    fn good_starts(&self, positions: &[&[u32]], scratch: &mut Scratch) {
        let s = self.slop;
        let Scratch { good_starts, good_ends, slot_starts, slot_ends, next_starts, next_ends, work, .. } = scratch;
        let mut first = true;
        for &(word, offset) in &self.singles {
            let (starts, ends) = if first { (&mut *good_starts, &mut *good_ends) } else { (&mut *slot_starts, &mut *slot_ends) };
            starts.clear();
            ends.clear();
            // [v - s, v] over the slot's values, merged where they touch.
            for &q in positions[word] {
                let v = i64::from(q) - offset;
                match ends.last_mut() {
                    Some(end) if v - s <= *end + 1 => *end = v,
                    _ => {
                        starts.push(v - s);
                        ends.push(v);
                    }
                }
            }
            if first {
                first = false;
                continue;
            }
            *work += (good_starts.len() + slot_starts.len()) as u64;
            next_starts.clear();
            next_ends.clear();
            let (mut i, mut j) = (0, 0);
            while i < good_starts.len() && j < slot_starts.len() {
                let low = good_starts[i].max(slot_starts[j]);
                let high = good_ends[i].min(slot_ends[j]);
                if low <= high {
                    next_starts.push(low);
                    next_ends.push(high);
                }
                if good_ends[i] < slot_ends[j] {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            std::mem::swap(good_starts, next_starts);
            std::mem::swap(good_ends, next_ends);
            if good_starts.is_empty() {
                return;
            }
        }
    }

    /// With a repeated word: each candidate start in the good starts where every repeated
    /// word fits, with how far right the first word's position may go from it
    /// (`scratch.reaches`, ascending by start).
    fn repeated(&self, positions: &[&[u32]], scratch: &mut Scratch) {
        let s = self.slop;
        let Scratch { cursors, good_starts, good_ends, candidates, reaches, work, bits, .. } = scratch;
        self.window_starts(positions, candidates, bits);
        *work += candidates.len() as u64;
        if !self.singles.is_empty() {
            let mut at = 0;
            candidates.retain(|&start| {
                while at < good_ends.len() && good_ends[at] < start {
                    at += 1;
                }
                good_starts.get(at).is_some_and(|&low| low <= start)
            });
        }
        reaches.clear();
        // One cursor per slot of a repeated word, then one per later slot of the first word.
        let group_slots: usize = self.groups.iter().map(|(_, offsets)| offsets.len()).sum();
        cursors.clear();
        cursors.resize(group_slots + self.lead_later.len(), 0);
        let (group_cursors, lead_cursors) = cursors.split_at_mut(group_slots);
        let lead = positions[self.slots[0].0];
        'start: for &start in candidates.iter() {
            // Smallest free positions, in offset order: each cursor moves only forward,
            // since its lower bound grows with the start.
            let mut next_cursor = 0;
            for (word, offsets) in &self.groups {
                let list = positions[*word];
                let mut previous = i64::MIN;
                for &offset in offsets {
                    *work += 1;
                    let cursor = &mut group_cursors[next_cursor];
                    next_cursor += 1;
                    let low = (start + offset).max(previous.saturating_add(1));
                    while *cursor < list.len() && i64::from(list[*cursor]) < low {
                        *cursor += 1;
                    }
                    // Exhausted: the bound only grows, so no later start fits either.
                    let Some(&q) = list.get(*cursor) else { break 'start };
                    let q = i64::from(q);
                    if q > start + offset + s {
                        continue 'start;
                    }
                    previous = q;
                }
            }
            // The first word's later slots take the largest positions that fit, from the
            // last back (each cursor counts the positions at most its upper bound, which
            // grows with the start): the first slot must come before them all.
            let mut following = i64::MAX;
            for (cursor, &offset) in lead_cursors.iter_mut().zip(&self.lead_later).rev() {
                *work += 1;
                let high = (start + offset + s).min(following - 1);
                while *cursor < lead.len() && i64::from(lead[*cursor]) <= high {
                    *cursor += 1;
                }
                let Some(&q) = cursor.checked_sub(1).and_then(|at| lead.get(at)) else { continue 'start };
                if i64::from(q) < start + offset {
                    continue 'start;
                }
                following = i64::from(q);
            }
            let reach = (start + s).min(following.saturating_sub(1));
            if reach >= start {
                reaches.push((start, reach));
            }
        }
    }

    /// Every slot value (position minus offset), ascending, each once, into `candidates`.
    ///
    /// Where the values are dense (a word the phrase repeats many times over a document
    /// full of it), a bit per value in their range marks them and one scan reads them out
    /// in order: sorting them was most of the time of a 40-word phrase of two words over
    /// 100,000 positions. Sparse values (a few occurrences far apart) are sorted instead,
    /// so the bits never outgrow the values.
    fn window_starts(&self, positions: &[&[u32]], candidates: &mut Vec<i64>, bits: &mut Vec<u64>) {
        candidates.clear();
        let runs = || self.starts_from.iter().map(|&(word, offset)| (positions[word], offset));
        let count: usize = runs().map(|(list, _)| list.len()).sum();
        let low = runs().filter_map(|(list, offset)| list.first().map(|&q| i64::from(q) - offset)).min();
        let high = runs().filter_map(|(list, offset)| list.last().map(|&q| i64::from(q) - offset)).max();
        let (Some(low), Some(high)) = (low, high) else { return };
        let span = (high - low) as u64 + 1;
        if span > 32 * count as u64 {
            for (list, offset) in runs() {
                candidates.extend(list.iter().map(|&q| i64::from(q) - offset));
            }
            // Each run ascends: the stable sort finds the runs and merges them.
            candidates.sort();
            candidates.dedup();
            return;
        }
        bits.clear();
        bits.resize(span.div_ceil(64) as usize, 0);
        for (list, offset) in runs() {
            for &q in list {
                let at = (i64::from(q) - offset - low) as usize;
                bits[at / 64] |= 1 << (at % 64);
            }
        }
        for (index, &word) in bits.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                candidates.push(low + (index * 64 + rest.trailing_zeros() as usize) as i64);
                rest &= rest - 1;
            }
        }
    }

    /// Appends the positions the slots take for the occurrence starting at first-word
    /// position `p` in the window starting at `start` (known to hold one).
    fn lay_out(&self, positions: &[&[u32]], p: u32, start: i64, out: &mut Vec<u32>) {
        let base = out.len();
        out.resize(base + self.slots.len(), 0);
        let row = &mut out[base..];
        row[0] = p;
        let lead = self.slots[0].0;
        for (word, &list) in positions.iter().enumerate() {
            // A word's slots take its earliest free positions in its window, in offset
            // order; the first word's later ones after p.
            let mut previous = if word == lead { i64::from(p) } else { i64::MIN };
            for (slot, &(w, offset)) in self.slots.iter().enumerate().skip(usize::from(word == lead)) {
                if w != word || slot == 0 {
                    continue;
                }
                let low = (start + offset).max(previous.saturating_add(1));
                let at = list.partition_point(|&q| i64::from(q) < low);
                let q = list.get(at).copied().unwrap_or(u32::MAX);
                row[slot] = q;
                previous = i64::from(q);
            }
        }
    }
}

/// The documents of one segment holding a phrase, and its frequency in each.
///
/// `words` are the phrase's query words with their positions in the query (never
/// decreasing; a gap stands for a dropped stop word), `slop` the moves allowed (any
/// value: past a document's span it means "anywhere in the field, in any order"),
/// `candidates` (ascending doc ids) the only documents to consider, if given — a plan
/// passes the live documents or another clause's matches here.
///
/// Returns the matching doc ids (ascending) and the phrase's frequency in each (see the
/// module's documentation for the rule). A word the field lacks, or a field the segment
/// lacks, matches nothing. The postings are intersected rarest word first, a repeated
/// word keeping only documents where it occurs as often as the phrase repeats it; only
/// then are positions decoded, and only the documents left are matched.
pub fn phrase_matches<T: AsRef<[u8]>>(
    reader: &SegmentReader,
    field: &str,
    words: &[(T, u32)],
    slop: u64,
    candidates: Option<&[u32]>,
) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let Some(dict) = reader.dict(field)? else { return Ok((Vec::new(), Vec::new())) };
    let lookup = |word: &[u8]| -> Result<Option<TermInfo>, Error> {
        let found = dict.find(word).in_file(reader.terms.path()).map_err(|e| reader.name_field(e, field))?;
        found.map(|ordinal| reader.term_at(field, &dict, ordinal).map(|(_, info)| info)).transpose()
    };
    phrase_matches_with(reader, field, words, slop, candidates, lookup)
}

/// [`phrase_matches`] with the words' term infos found by `lookup` (None: the field lacks
/// the word): a search passes its segment's term cache, which keeps them between queries.
pub fn phrase_matches_with<T: AsRef<[u8]>>(
    reader: &SegmentReader,
    field: &str,
    words: &[(T, u32)],
    slop: u64,
    candidates: Option<&[u32]>,
    mut lookup: impl FnMut(&[u8]) -> Result<Option<TermInfo>, Error>,
) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let (phrase, distinct, needed) = Phrase::of_words(words, slop)?;
    let nothing = Ok((Vec::new(), Vec::new()));
    let mut infos = Vec::with_capacity(distinct.len());
    for word in &distinct {
        let Some(info) = lookup(word)? else { return nothing };
        infos.push(info);
    }
    let mut order: Vec<usize> = (0..distinct.len()).collect();
    order.sort_by_key(|&w| infos[w].doc_freq);

    // The conjunction, rarest word first: per word, its postings in the documents left
    // after it, each with where its positions lie in the word's stream.
    let mut placed: Vec<Vec<Placed>> = vec![Vec::new(); distinct.len()];
    let mut docs: Option<Vec<u32>> = None;
    let keeps_positions = reader.field(field).is_some_and(|f| f.positions);
    for &w in &order {
        let info = &infos[w];
        let kept = match docs.as_deref() {
            // A word far more frequent than the documents left: those are looked up in its
            // postings by their skip entries, not decoded whole.
            Some(left) if keeps_positions && u64::from(info.doc_freq) > SKIPPED_POSTINGS.saturating_mul(left.len() as u64) => {
                placed_by_skipping(reader, field, info, left, needed[w])?
            }
            left => placed_in_full(reader, field, info, left.or(candidates), needed[w])?,
        };
        if kept.is_empty() {
            return nothing;
        }
        docs = Some(kept.iter().map(|p| p.doc).collect());
        placed[w] = kept;
    }
    let docs = docs.unwrap_or_default();

    // Each word's positions in the documents left, and where each document's lie among them.
    let mut spans: Vec<Vec<(usize, usize)>> = Vec::with_capacity(distinct.len());
    let mut all_positions: Vec<Vec<u32>> = Vec::with_capacity(distinct.len());
    for (w, word_placed) in placed.iter().enumerate() {
        // Only the documents left have their positions decoded (the others' skipped).
        let mut picks = Vec::with_capacity(docs.len());
        let mut at = 0usize;
        for &doc in &docs {
            at += word_placed.get(at..).unwrap_or_default().partition_point(|p| p.doc < doc);
            let Some(p) = word_placed.get(at).filter(|p| p.doc == doc) else {
                return Err(Error::Invalid("a phrase lost a document of its conjunction".into()));
            };
            picks.push((p.before, p.freq));
            at += 1;
        }
        let mut positions = Vec::new();
        reader.positions_at(field, &infos[w], &picks, &mut positions)?;
        let mut word_spans = Vec::with_capacity(docs.len());
        let mut offset = 0usize;
        for &(_, freq) in &picks {
            word_spans.push((offset, freq as usize));
            offset += freq as usize;
        }
        if offset > positions.len() {
            return Err(Error::corrupt(reader.positions.path(), format!("positions of {field:?} end early")));
        }
        spans.push(word_spans);
        all_positions.push(positions);
    }

    let mut scratch = Scratch::default();
    let mut unique: Vec<Vec<u32>> = vec![Vec::new(); distinct.len()];
    let (mut matched, mut freqs) = (Vec::new(), Vec::new());
    for (rank, &doc) in docs.iter().enumerate() {
        // Tokens stacked at one position (synonyms) can repeat a word there: it counts once.
        let span = |w: usize| {
            let (offset, len) = spans[w][rank];
            all_positions[w].get(offset..offset + len).unwrap_or_default()
        };
        let mut ascending = vec![true; distinct.len()];
        for (w, buffer) in unique.iter_mut().enumerate() {
            let list = span(w);
            if !list.windows(2).all(|pair| pair[0] < pair[1]) {
                ascending[w] = false;
                buffer.clear();
                buffer.extend_from_slice(list);
                buffer.sort_unstable();
                buffer.dedup();
            }
        }
        let lists: Vec<&[u32]> =
            (0..distinct.len()).map(|w| if ascending[w] { span(w) } else { unique[w].as_slice() }).collect();
        let frequency = phrase.frequency(&lists, &mut scratch);
        if frequency > 0 {
            matched.push(doc);
            freqs.push(frequency);
        }
    }
    Ok((matched, freqs))
}

/// Postings per document left past which a word's postings are looked up by their skip
/// entries rather than decoded whole (a frequent word beside a rare one: `zeer
/// leceapest`, 202,561 postings against 75, cost 6.8 M instructions decoded whole).
const SKIPPED_POSTINGS: u64 = 8;

/// One posting of a word the conjunction kept.
#[derive(Debug, Clone, Copy)]
struct Placed {
    doc: u32,
    /// How many of the word's positions come before this posting's in its stream.
    before: u64,
    freq: u32,
}

/// The postings of a word whose frequency is at least `needed`, in `allowed` if given
/// (ascending), from its postings decoded whole.
fn placed_in_full(reader: &SegmentReader, field: &str, info: &TermInfo, allowed: Option<&[u32]>, needed: u32) -> Result<Vec<Placed>, Error> {
    let (mut docs, mut freqs) = (Vec::new(), Vec::new());
    reader.postings(field, info, &mut docs, &mut freqs)?;
    let (mut kept, mut before, mut at) = (Vec::new(), 0u64, 0usize);
    for (&doc, &freq) in docs.iter().zip(&freqs) {
        let wanted = match allowed {
            None => true,
            Some(allowed) => {
                at = gallop(allowed, at, doc);
                allowed.get(at) == Some(&doc)
            }
        };
        if wanted && freq >= needed {
            kept.push(Placed { doc, before, freq });
        }
        before += u64::from(freq);
    }
    Ok(kept)
}

/// The postings of a word in the documents `left` (ascending) whose frequency is at least
/// `needed`, found by a cursor that skips to each by the postings' skip entries: only the
/// blocks holding one are decoded, and of those before, only the frequencies (to count
/// the positions before each posting).
fn placed_by_skipping(reader: &SegmentReader, field: &str, info: &TermInfo, left: &[u32], needed: u32) -> Result<Vec<Placed>, Error> {
    let path = reader.postings.path();
    let mut cursor = PostingsCursor::new(&[], 0, reader.doc_count).in_file(path)?;
    reopen_postings(reader, &mut cursor, field, info)?;
    // (doc, its block, the frequencies before it in the block, its frequency)
    let mut found: Vec<(u32, usize, u64, u32)> = Vec::new();
    for &doc in left {
        if cursor.advance(doc) == END {
            break;
        }
        if cursor.doc() == doc {
            let freq = cursor.freq();
            if freq >= needed {
                found.push((doc, cursor.block_index(), cursor.freqs_before(), freq));
            }
        }
    }
    if let Some(error) = cursor.error() {
        return Err(postings_damage(reader, error.clone()));
    }
    let last_block = found.last().map_or(0, |f| f.1);
    let blocks_before = cursor.freqs_before_blocks(last_block).map_err(|error| postings_damage(reader, error))?;
    let before_block = |block: usize| blocks_before.get(block).or(blocks_before.last()).copied().unwrap_or(0);
    Ok(found.into_iter().map(|(doc, block, inside, freq)| Placed { doc, before: before_block(block) + inside, freq }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded generator (splitmix64): tests stay deterministic without a crate.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Whether an assignment with the first slot at `p` exists: every slot a position of
    /// its word, a word's slots distinct positions, the first word's later slots after
    /// `p`, the values within `slop`. An exhaustive search, the rule's plain statement.
    fn layout(lists: &[Vec<u32>], slots: &[(usize, i64)], slop: i64, p: u32) -> Option<Vec<u32>> {
        fn extend(i: usize, lists: &[Vec<u32>], slots: &[(usize, i64)], slop: i64, chosen: &mut Vec<u32>, low: i64, high: i64) -> bool {
            if i == slots.len() {
                return true;
            }
            let (word, offset) = slots[i];
            for &q in &lists[word] {
                if (0..i).any(|j| slots[j].0 == word && chosen[j] == q) || (word == slots[0].0 && q <= chosen[0]) {
                    continue;
                }
                let v = i64::from(q) - offset;
                let (low2, high2) = (low.min(v), high.max(v));
                if high2 - low2 > slop {
                    continue;
                }
                chosen.push(q);
                if extend(i + 1, lists, slots, slop, chosen, low2, high2) {
                    return true;
                }
                chosen.pop();
            }
            false
        }
        let mut chosen = vec![p];
        extend(1, lists, slots, slop, &mut chosen, i64::from(p), i64::from(p)).then_some(chosen)
    }

    fn brute(lists: &[Vec<u32>], slots: &[(usize, i64)], slop: i64) -> u32 {
        lists[slots[0].0].iter().filter(|&&p| layout(lists, slots, slop, p).is_some()).count() as u32
    }

    /// Checks an occurrence laid out by the matcher against the rule.
    fn assert_valid(row: &[u32], lists: &[Vec<u32>], slots: &[(usize, i64)], slop: i64) {
        let values: Vec<i64> = row.iter().zip(slots).map(|(&q, &(_, o))| i64::from(q) - o).collect();
        assert!(values.iter().max().unwrap() - values.iter().min().unwrap() <= slop, "{row:?} {slots:?} ~{slop}");
        for (i, &(word, _)) in slots.iter().enumerate() {
            assert!(lists[word].contains(&row[i]), "{row:?} {slots:?}");
            for j in 0..i {
                assert!(!(slots[j].0 == word && row[j] == row[i]), "two slots on one position: {row:?}");
            }
            if i > 0 && word == slots[0].0 {
                assert!(row[i] > row[0]);
            }
        }
    }

    fn check(lists: &[Vec<u32>], slot_words: &[usize], offsets: &[u32], slop: u64, scratch: &mut Scratch) {
        let phrase = Phrase::new(slot_words, offsets, slop).unwrap();
        let views: Vec<&[u32]> = lists.iter().map(Vec::as_slice).collect();
        let slots: Vec<(usize, i64)> = slot_words.iter().zip(offsets).map(|(&w, &o)| (w, i64::from(o))).collect();
        let expected = brute(lists, &slots, slop.min(SLOP_LIMIT) as i64);
        let got = phrase.frequency(&views, scratch);
        assert_eq!(got, expected, "lists {lists:?} slots {slots:?} slop {slop}");
        let mut rows = Vec::new();
        assert_eq!(phrase.occurrences(&views, scratch, &mut rows), expected);
        for row in rows.chunks(slots.len()) {
            assert_valid(row, lists, &slots, slop.min(SLOP_LIMIT) as i64);
        }
    }

    #[test]
    fn the_matcher_agrees_with_an_exhaustive_search() {
        let mut random = Random(19);
        let mut scratch = Scratch::default();
        for round in 0..6000 {
            let words = 1 + random.below(3) as usize;
            let length = 1 + random.below(14) as u32;
            // Positions of a document of `length` tokens, each token one of the words (or
            // another word, as a gap); few words, so repeats are common.
            let mut lists = vec![Vec::new(); words];
            for position in 0..length {
                let pick = random.below(words as u64 + 1) as usize;
                if pick < words {
                    lists[pick].push(position);
                }
            }
            let slot_count = 1 + random.below(5) as usize;
            let mut slot_words: Vec<usize> = (0..slot_count).map(|_| random.below(words as u64) as usize).collect();
            // Every word needs a slot: renumber the words used, in first-seen order.
            let mut seen: Vec<usize> = Vec::new();
            for w in &mut slot_words {
                *w = match seen.iter().position(|s| s == w) {
                    Some(at) => at,
                    None => {
                        seen.push(*w);
                        seen.len() - 1
                    }
                };
            }
            // Some documents spread their words far apart, so window starts are sparse
            // (sorted rather than marked in bits).
            let spread = if round % 7 == 0 { 1000 } else { 1 };
            let lists: Vec<Vec<u32>> = seen.iter().map(|&w| lists[w].iter().map(|&q| q * spread).collect()).collect();
            let mut offsets = vec![0u32];
            for _ in 1..slot_count {
                let gap = [0, 1, 1, 1, 2][random.below(5) as usize];
                offsets.push(offsets.last().unwrap() + gap);
            }
            let slop = [0, 0, 1, 2, 3, 4, 6, 30, 2000, u64::MAX][round % 10];
            check(&lists, &slot_words, &offsets, slop, &mut scratch);
        }
    }

    #[test]
    fn a_repeated_word_needs_its_own_occurrences() {
        let mut scratch = Scratch::default();
        let alfa = |positions: &[u32], slots: usize, slop: u64, scratch: &mut Scratch| {
            let phrase = Phrase::new(&vec![0; slots], &(0..slots as u32).collect::<Vec<_>>(), slop).unwrap();
            phrase.frequency(&[positions], scratch)
        };
        assert_eq!(alfa(&[0], 2, 1, &mut scratch), 0, "one alfa is not \"alfa alfa\"~1");
        assert_eq!(alfa(&[0, 1], 3, 1, &mut scratch), 0, "two are not \"alfa alfa alfa\"~1");
        assert_eq!(alfa(&[0, 1], 2, 0, &mut scratch), 1);
        assert_eq!(alfa(&[0, 2], 2, 0, &mut scratch), 0, "exact needs adjacent occurrences");
        assert_eq!(alfa(&[0, 2], 2, 1, &mut scratch), 1);
        assert_eq!(alfa(&[0, 1, 2], 2, 0, &mut scratch), 2, "starts at 0 and at 1");
        assert_eq!(alfa(&[0, 1, 2], 3, 1, &mut scratch), 1);
        assert_eq!(alfa(&[0, 5], 2, 1000, &mut scratch), 1);
    }

    #[test]
    fn gaps_and_order_follow_lucene() {
        let mut scratch = Scratch::default();
        // "talks of peace" with "of" dropped: talks@0, peace@2.
        let phrase = Phrase::new(&[0, 1], &[0, 2], 0).unwrap();
        assert_eq!(phrase.frequency(&[&[3], &[5]], &mut scratch), 1);
        assert_eq!(phrase.frequency(&[&[3], &[4]], &mut scratch), 0);
        // "b a" needs slop 2 to match "a b".
        for (slop, expected) in [(1, 0), (2, 1)] {
            let phrase = Phrase::new(&[0, 1], &[0, 1], slop).unwrap();
            assert_eq!(phrase.frequency(&[&[1], &[0]], &mut scratch), expected);
        }
        let far = Phrase::new(&[0, 1], &[0, 1], u64::MAX).unwrap();
        assert_eq!(far.frequency(&[&[u32::MAX], &[0]], &mut scratch), 1);
    }

    #[test]
    fn gallop_finds_the_first_doc_not_below_the_target() {
        let docs: Vec<u32> = (0..300).map(|i| i * 3).collect();
        for from in [0, 1, 7, 150, 299, 300] {
            for target in [0, 1, 2, 3, 100, 450, 896, 897, 898, 5000] {
                let expected = from + docs[from..].partition_point(|&d| d < target);
                assert_eq!(gallop(&docs, from, target), expected, "from {from} target {target}");
            }
        }
        assert_eq!(gallop(&[], 0, 5), 0);
    }

    #[test]
    fn bad_phrases_are_errors() {
        assert!(Phrase::new(&[], &[], 0).is_err());
        assert!(Phrase::new(&[0, 1], &[1, 2], 0).is_err());
        assert!(Phrase::new(&[0, 1], &[0], 0).is_err());
        assert!(Phrase::new(&[0, 1], &[2, 1], 0).is_err());
        assert!(Phrase::new(&[0, 2], &[0, 1], 0).is_err());
        assert!(Phrase::new(&[0, 1], &[0, 1 << 31], 0).is_err());
        assert!(Phrase::of_words(&[("a", 3), ("b", 1)], 0).is_err());
        let (_, distinct, needed) = Phrase::of_words(&[("a", 3), ("b", 4), ("a", 6)], 0).unwrap();
        assert_eq!((distinct, needed), (vec![&b"a"[..], &b"b"[..]], vec![2, 1]));
    }

    #[test]
    fn work_grows_with_the_positions_not_the_slop() {
        // 5,000 positions of "layer flow layer flow ...", or of "layer layer ...": the
        // steps taken stay within a bound set by the positions (times the slots of
        // repeated words), whatever the slop. Trying every shift up to the slop would take
        // 10^9 steps and more.
        let layer_flow: [Vec<u32>; 2] = [(0..5_000).step_by(2).collect(), (1..5_000).step_by(2).collect()];
        let layer_only: [Vec<u32>; 1] = [(0..5_000).collect()];
        let phrases: [(&[usize], usize); 5] =
            [(&[0, 1], 2), (&[1, 0], 2), (&[0, 0], 1), (&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 2), (&[0; 30], 1)];
        for (words, distinct) in phrases {
            let offsets: Vec<u32> = (0..words.len() as u32).collect();
            let lists: Vec<&[u32]> = if distinct == 2 {
                layer_flow.iter().map(Vec::as_slice).collect()
            } else {
                layer_only.iter().map(Vec::as_slice).collect()
            };
            let repeated = words.iter().filter(|&&w| words.iter().filter(|&&v| v == w).count() > 1).count() as u64;
            let bound = 4 * 5_000 * (words.len() as u64 + repeated);
            for slop in [1, 10, 1000, 1_000_000_000] {
                let mut scratch = Scratch::default();
                let phrase = Phrase::new(words, &offsets, slop).unwrap();
                let found = phrase.frequency(&lists, &mut scratch);
                assert!(scratch.work() <= bound, "{words:?} ~{slop}: {} steps, bound {bound}", scratch.work());
                assert!(slop < 1000 || found > 0);
            }
        }
    }

    /// A segment of `texts` (whitespace-separated words, field "body") in a fresh directory.
    fn segment(name: &str, texts: &[String]) -> SegmentReader {
        use crate::merge::paths_in;
        use crate::segment_writer::{DocumentInput, FieldSpec, SegmentBuilder};
        let dir = std::env::temp_dir().join(format!("searchlib-phrase-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let field = FieldSpec { name: "body".into(), analyzer: "\"whitespace\"".into(), norms: true, positions: true, stemmer: String::new() };
        let mut builder = SegmentBuilder::new(vec![field], vec![]).unwrap();
        for (doc, text) in texts.iter().enumerate() {
            let input = DocumentInput {
                stored: b"{}".to_vec(),
                id: format!("d{doc}").into_bytes(),
                values: vec![(0, text.clone())],
                tokens: vec![],
                columns: vec![],
            };
            builder.add(&input).unwrap();
        }
        let paths = paths_in(&dir.to_string_lossy(), "s");
        builder.write(&paths).unwrap();
        SegmentReader::open(&paths, texts.len() as u32).unwrap()
    }

    /// A phrase's matches and frequencies over `texts`, document by document, by the
    /// exhaustive search.
    fn exhaustive(texts: &[String], words: &[(&str, u32)], slop: u64, only: Option<&[u32]>) -> (Vec<u32>, Vec<u32>) {
        let (_, distinct, _) = Phrase::of_words(words, slop).unwrap();
        let slots: Vec<(usize, i64)> = words
            .iter()
            .map(|(w, p)| (distinct.iter().position(|d| *d == w.as_bytes()).unwrap(), i64::from(p - words[0].1)))
            .collect();
        let mut expected = (Vec::new(), Vec::new());
        for (doc, text) in texts.iter().enumerate() {
            if only.is_some_and(|allowed| !allowed.contains(&(doc as u32))) {
                continue;
            }
            let lists: Vec<Vec<u32>> = distinct
                .iter()
                .map(|d| text.split(' ').enumerate().filter(|(_, w)| w.as_bytes() == *d).map(|(p, _)| p as u32).collect())
                .collect();
            if lists.iter().any(Vec::is_empty) {
                continue;
            }
            let frequency = brute(&lists, &slots, slop as i64);
            if frequency > 0 {
                expected.0.push(doc as u32);
                expected.1.push(frequency);
            }
        }
        expected
    }

    #[test]
    fn a_frequent_word_beside_a_rare_one_matches_what_an_exhaustive_search_finds() {
        // "alfa" in nearly every document, often more than once, over many postings
        // blocks; "zulu" in about one in forty: the conjunction skips through alfa's
        // postings to zulu's documents, counting the positions before each from the
        // frequencies of the blocks it passes.
        let mut random = Random(23);
        let texts: Vec<String> = (0..3000)
            .map(|_| {
                (0..1 + random.below(9))
                    .map(|_| match random.below(80) {
                        0..=1 => "zulu",
                        2..=40 => "alfa",
                        _ => "bravo",
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let reader = segment("skipped", &texts);
        let dict = reader.dict("body").unwrap().unwrap();
        let df = |word: &str| dict.lookup(word.as_bytes()).unwrap().unwrap().doc_freq;
        assert!(u64::from(df("alfa")) > SKIPPED_POSTINGS * u64::from(df("zulu")) && df("alfa") > 8 * 128);
        let allowed: Vec<u32> = (0..texts.len() as u32).filter(|d| d % 4 != 0).collect();
        let phrases: [&[(&str, u32)]; 5] = [
            &[("zulu", 0), ("alfa", 1)],
            &[("alfa", 0), ("zulu", 1)],
            &[("alfa", 0), ("zulu", 1), ("alfa", 2)],
            &[("alfa", 0), ("alfa", 1), ("zulu", 2)],
            &[("zulu", 0), ("bravo", 1), ("alfa", 2)],
        ];
        for words in phrases {
            for slop in [0, 2, 50] {
                for only in [None, Some(allowed.as_slice())] {
                    let found = phrase_matches(&reader, "body", words, slop, only).unwrap();
                    assert_eq!(found, exhaustive(&texts, words, slop, only), "{words:?}~{slop}");
                }
            }
        }
    }

    #[test]
    fn a_segment_matches_what_an_exhaustive_search_finds() {
        let mut random = Random(7);
        let vocabulary = ["alfa", "bravo", "charlie"];
        let texts: Vec<String> = (0..300)
            .map(|_| (0..random.below(12)).map(|_| vocabulary[random.below(3) as usize]).collect::<Vec<_>>().join(" "))
            .collect();
        let reader = segment("random", &texts);
        let allowed: Vec<u32> = (0..texts.len() as u32).filter(|d| d % 3 != 0).collect();
        for round in 0..300 {
            let length = 1 + random.below(4) as usize;
            let mut words: Vec<(&str, u32)> = Vec::new();
            let mut position = 5; // query positions need not start at 0
            for _ in 0..length {
                words.push((vocabulary[random.below(3) as usize], position));
                position += [0, 1, 1, 2][random.below(4) as usize];
            }
            let slop = [0, 1, 3, 100][round % 4];
            let only = (round % 5 == 0).then_some(allowed.as_slice());
            let found = phrase_matches(&reader, "body", &words, slop, only).unwrap();
            assert_eq!(found, exhaustive(&texts, &words, slop, only), "{words:?}~{slop}");
        }
        let (docs, _) = phrase_matches(&reader, "body", &[("alfa", 0), ("zulu", 1)], 5, None).unwrap();
        assert!(docs.is_empty(), "a word the field lacks matches nothing");
        let (docs, _) = phrase_matches(&reader, "title", &[("alfa", 0)], 0, None).unwrap();
        assert!(docs.is_empty(), "nor does a field the segment lacks");
    }

    #[test]
    fn lucenes_examples_over_a_segment() {
        let texts: Vec<String> =
            ["alfa", "alfa alfa", "alfa alfa alfa", "alfa bravo alfa", "alfa bravo bravo alfa"].map(String::from).to_vec();
        let reader = segment("alfa", &texts);
        let find = |words: &[(&str, u32)], slop: u64| phrase_matches(&reader, "body", words, slop, None).unwrap();
        assert_eq!(find(&[("alfa", 0), ("alfa", 1)], 1), (vec![1, 2, 3], vec![1, 2, 1]));
        assert_eq!(find(&[("alfa", 0), ("alfa", 1), ("alfa", 2)], 1), (vec![2], vec![1]));
        assert_eq!(find(&[("alfa", 0), ("alfa", 1)], 0), (vec![1, 2], vec![1, 2]));
        assert_eq!(find(&[("alfa", 0), ("alfa", 1)], 100), (vec![1, 2, 3, 4], vec![1, 2, 1, 1]));
        // A gap where a stop word was: "alfa _ alfa" is doc 3's "alfa bravo alfa".
        assert_eq!(find(&[("alfa", 0), ("alfa", 2)], 0), (vec![2, 3], vec![1, 1]));
    }
}
