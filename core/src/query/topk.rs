//! The collector: the best k matches over a search's segments and the number of matches.
//!
//! Any plan runs document at a time through its iterator tree, every live match counted
//! and offered to a bounded heap. A disjunction of terms (the everyday query: the words
//! of a search box) runs with MaxScore (Turtle and Flood, 1995): the terms are sorted by
//! the most any of them can score (from the postings' block maxima); those whose bounds
//! together cannot beat the k-th best score so far are "non-essential", and are only
//! looked up (by skipping) in documents that an essential term holds, and only while the
//! score could still reach the heap. Most postings of frequent terms are thus never
//! scored, and their skipped blocks never decoded.
//!
//! The exact number of matches stays available: counting a union of postings decodes
//! doc ids only (no frequency, no norm, no score), one bit per document, which costs far
//! less than scoring it. Without it (`exact_total = false`) the total is a lower bound:
//! the documents the pruned pass visited.
//!
//! Ties rank the earlier (segment, doc) first, as Python's ranking always has; the heap
//! only admits a document that beats the k-th by score, since a later one never wins a tie.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::error::{Corrupt, Error};
use crate::query::boolean::{build, disjunction, term_scorer, Segment};
use crate::query::plan::{Node, TermLeaf};
use crate::query::scorer::Bm25;
use crate::query::term::{FieldPostings, TermScorer};

use crate::query::{DocIter, END};

/// Bounds are computed in floating point like the scores, but summed in another order:
/// a document is skipped only when its bound falls short by more than this (relative).
const BOUND_SLACK: f64 = 1e-9;

/// One match: its score and address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub score: f64,
    pub segment: u32,
    pub doc: u32,
}

/// Orders hits worst first (the heap's top is the one to drop).
#[derive(Debug, Clone, Copy)]
struct Worst(Hit);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        // A lower score is worse; at equal scores the later address is.
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then((self.0.segment, self.0.doc).cmp(&(other.0.segment, other.0.doc)))
    }
}

/// The best `k` hits offered so far.
#[derive(Debug)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK { k, heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1) }
    }

    /// The score a hit must beat to enter, once the heap is full (-inf before).
    #[inline]
    pub fn threshold(&self) -> f64 {
        if self.k == 0 {
            return f64::INFINITY;
        }
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.k => worst.0.score,
            _ => f64::NEG_INFINITY,
        }
    }

    /// Offers a hit (hits come in ascending address order, so a tie never enters a full heap).
    #[inline]
    pub fn offer(&mut self, hit: Hit) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Worst(hit));
        } else if self.heap.peek().is_some_and(|worst| Worst(hit) < *worst) {
            self.heap.pop();
            self.heap.push(Worst(hit));
        }
    }

    /// The hits, best first.
    pub fn into_sorted(self) -> Vec<Hit> {
        let mut hits: Vec<Worst> = self.heap.into_vec();
        hits.sort();
        hits.into_iter().map(|w| w.0).collect()
    }
}

/// What a search returns.
#[derive(Debug)]
pub struct Outcome {
    pub hits: Vec<Hit>,
    /// Live matches (a lower bound when `exact` is false).
    pub total: u64,
    pub exact: bool,
    /// The dfs the core counted, for the term leaves the plan left them to, in plan order
    /// (the caller keeps them with its statistics).
    pub counted_dfs: Vec<u64>,
}

/// Whether `bound` could still beat `threshold`.
#[inline]
fn may_beat(bound: f64, threshold: f64) -> bool {
    bound + BOUND_SLACK * bound.abs() > threshold
}

/// Live documents of one segment holding `term` in any of `fields`.
pub fn live_doc_freq(segment: &Segment<'_>, fields: &[&str], term: &[u8]) -> Result<u64, Error> {
    let mut cursors = Vec::new();
    let mut single = 0u64;
    for field in fields {
        if let Some(info) = segment.term_info(field, term)? {
            single = u64::from(info.doc_freq);
            cursors.push(segment.cursor(field, &info)?);
        }
    }
    if cursors.is_empty() {
        return Ok(0);
    }
    if cursors.len() == 1 && segment.live.is_none() {
        return Ok(single);
    }
    let mut seen = vec![0u64; (segment.reader.doc_count as usize).div_ceil(64)];
    let mut count = 0u64;
    for cursor in &mut cursors {
        while cursor.doc() != END {
            let doc = cursor.doc();
            if let Some(word) = seen.get_mut(doc as usize / 64) {
                let bit = 1u64 << (doc % 64);
                if *word & bit == 0 && segment.is_live(doc) {
                    *word |= bit;
                    count += 1;
                }
            }
            cursor.next();
        }
        if let Some(error) = cursor.error() {
            return Err(segment.damage(error.clone()));
        }
    }
    Ok(count)
}

/// Live documents holding `term` in any of `fields`, over all the segments: the df a
/// search's statistics give a term.
pub fn collection_doc_freq(segments: &[Segment<'_>], fields: &[&str], term: &[u8]) -> Result<u64, Error> {
    segments.iter().map(|segment| live_doc_freq(segment, fields, term)).sum()
}

/// Fills in every term leaf's document frequency the plan left to the core: live
/// documents holding the term in any of its fields, over all the segments.
/// Returns the dfs counted, in plan order.
pub fn resolve_doc_freqs(plan: &mut Node, segments: &[Segment<'_>]) -> Result<Vec<u64>, Error> {
    let mut counted = Vec::new();
    plan.for_each_leaf(&mut |leaf: &mut TermLeaf| {
        if leaf.df.is_none() {
            let fields: Vec<&str> = leaf.fields.iter().map(|f| f.name.as_str()).collect();
            let df = collection_doc_freq(segments, &fields, leaf.term.as_bytes())?;
            leaf.df = Some(df);
            counted.push(df);
        }
        Ok(())
    })?;
    Ok(counted)
}

/// The term leaves of a plan that only requires two or more terms (`a AND b`), if it is
/// one; their dfs must be resolved before they are scored.
fn conjunction_of_terms(plan: &Node) -> Option<Vec<TermLeaf>> {
    let Node::Bool(node) = plan else { return None };
    if !node.should.is_empty() || !node.must_not.is_empty() || !node.filter.is_empty() || node.min_should > 0 || node.must.len() < 2 {
        return None;
    }
    node.must.iter().map(|clause| if let Node::Term(leaf) = clause { Some(leaf.clone()) } else { None }).collect()
}

/// How many postings of the other terms a conjunction may read per posting of its rarest
/// term and still be summed (see [`conjunction_summed`]).
const CONJUNCTION_STREAM_RATIO: u64 = 16;

/// One segment of a conjunction of terms, term at a time (None: the iterators cost less
/// here). Leapfrogging cursors costs about 400 instructions for each document of the
/// rarest term (an advance of every other term's cursors, each a skip and a block
/// decoded), while reading a term's postings whole costs about 12 a posting to decode
/// and test against the candidates: so when the other terms hold at most
/// [`CONJUNCTION_STREAM_RATIO`] times the rarest term's postings, the rarest term is
/// summed into the segment's arrays, and every other term in turn (rarest first) adds
/// its scores to the candidates it holds and drops those it lacks. The sums are added
/// in the iterators' order (ascending cost), so the scores are theirs. On 1M documents,
/// `sonds AND hicks` (41,000 and 103,000 documents) took 18.1 M instructions through
/// the iterators.
pub(crate) fn conjunction_summed(leaves: &[TermLeaf], segment: &Segment<'_>, index: u32, bm25: &Bm25, top: &mut TopK) -> Result<Option<u64>, Error> {
    let doc_count = segment.reader.doc_count as usize;
    if doc_count > 1 << 20 {
        return Ok(None);
    }
    let mut scorers = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        match term_scorer(segment, leaf, bm25)? {
            Some(scorer) => scorers.push(scorer),
            None => return Ok(Some(0)), // a term the segment lacks: nothing matches
        }
    }
    scorers.sort_by_key(|s| s.cost()); // stable: the iterators' order
    let Some((lead, others)) = scorers.split_first_mut() else { return Ok(Some(0)) };
    let rest: u64 = others.iter().map(|s| s.cost()).sum();
    if rest > lead.cost().saturating_mul(CONJUNCTION_STREAM_RATIO) {
        return Ok(None);
    }
    let mut scratch = segment.scratch.take(doc_count);
    let Scratch { sums, seen, held, spread, .. } = &mut scratch;
    sum_term(lead, spread, None, false, segment, |_| true, |doc, score| add_score(sums, seen, doc, score))?;
    for other in others {
        let candidate = |doc: u32| seen.get(doc as usize / 64).is_some_and(|word| word >> (doc % 64) & 1 == 1);
        sum_term(other, spread, None, false, segment, candidate, |doc, score| add_score(sums, held, doc, score))?;
        // The candidates this term lacks leave, their sums cleared for the next search.
        for (at, (word, kept)) in seen.iter_mut().zip(held.iter_mut()).enumerate() {
            let mut dropped = *word & !*kept;
            while dropped != 0 {
                if let Some(sum) = sums.get_mut(at * 64 + dropped.trailing_zeros() as usize) {
                    *sum = 0.0;
                }
                dropped &= dropped - 1;
            }
            *word = std::mem::take(kept);
        }
    }
    let mut collector = Collector::new(top, index);
    offer_sums(sums, seen, segment, &mut collector);
    segment.scratch.put(scratch);
    Ok(Some(collector.matched))
}

/// The term leaves of a plan that is a plain disjunction of terms, if it is one. A
/// disjunction nested in another (a pattern's terms per field, OR'ed over the fields) is
/// flattened: with at most one clause needed and nothing required or excluded, a
/// document's score is the sum of its matching terms' scores either way.
fn disjunction_of_terms(plan: &Node) -> Option<Vec<TermLeaf>> {
    let mut leaves = Vec::new();
    flatten(plan, &mut leaves).then_some(leaves)
}

/// Appends the term leaves of a plain disjunction (see [`disjunction_of_terms`]) to
/// `leaves` in plan order; false when `node` is anything else.
fn flatten(node: &Node, leaves: &mut Vec<TermLeaf>) -> bool {
    match node {
        Node::Term(leaf) => {
            leaves.push(leaf.clone());
            true
        }
        Node::Bool(node)
            if node.must.is_empty() && node.must_not.is_empty() && node.filter.is_empty() && node.min_should <= 1 =>
        {
            node.should.iter().all(|n| flatten(n, leaves))
        }
        _ => false,
    }
}

/// How a disjunction of terms is scored in a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Whichever costs less ([`summed_is_cheaper`]).
    Auto,
    /// Every posting summed term at a time.
    Summed,
    /// MaxScore.
    Pruned,
}

/// The best `k` matches of `plan` over `segments` and the number of matches. Term
/// leaves whose df the plan leaves to the core are counted first.
pub fn search(plan: &mut Node, segments: &[Segment<'_>], bm25: &Bm25, k: usize, exact_total: bool) -> Result<Outcome, Error> {
    search_with(plan, segments, bm25, k, exact_total, Strategy::Auto)
}

/// [`search`] with the strategy for a disjunction of terms chosen (tests compare them).
pub fn search_with(
    plan: &mut Node,
    segments: &[Segment<'_>],
    bm25: &Bm25,
    k: usize,
    exact_total: bool,
    strategy: Strategy,
) -> Result<Outcome, Error> {
    if let Some(leaves) = disjunction_of_terms(plan) {
        return search_disjunction(&leaves, segments, bm25, k, exact_total, strategy);
    }
    let counted_dfs = resolve_doc_freqs(plan, segments)?;
    let conjunction = conjunction_of_terms(plan);
    let mut top = TopK::new(k);
    let mut total = 0u64;
    for (index, segment) in segments.iter().enumerate() {
        if let Some(leaves) = &conjunction {
            if let Some(matched) = conjunction_summed(leaves, segment, index as u32, bm25, &mut top)? {
                total += matched;
                continue;
            }
        }
        let mut root = build(plan, segment, index, bm25)?;
        total += collect(root.as_mut(), segment, index as u32, &mut top);
        if let Some(error) = root.error() {
            return Err(segment.damage(error));
        }
    }
    Ok(Outcome { hits: top.into_sorted(), total, exact: true, counted_dfs })
}

/// A disjunction of terms: every segment's postings opened, then one pass of doc ids
/// that counts both the dfs the plan left to the core and (for an exact total) the
/// union, then MaxScore segment by segment with the idfs known.
fn search_disjunction(
    leaves: &[TermLeaf],
    segments: &[Segment<'_>],
    bm25: &Bm25,
    k: usize,
    exact_total: bool,
    strategy: Strategy,
) -> Result<Outcome, Error> {
    let mut opened: Vec<Vec<(usize, TermScorer<'_>)>> = Vec::with_capacity(segments.len());
    let mut dfs: Vec<u64> = leaves.iter().map(|leaf| leaf.df.unwrap_or(0)).collect();
    for segment in segments {
        let mut scorers = Vec::with_capacity(leaves.len());
        for (slot, leaf) in leaves.iter().enumerate() {
            if let Some(scorer) = term_scorer(segment, leaf, bm25)? {
                scorers.push((slot, scorer));
            }
        }
        opened.push(scorers);
    }
    let summed: Vec<bool> = segments
        .iter()
        .zip(&opened)
        .map(|(segment, scorers)| match strategy {
            Strategy::Auto => summed_is_cheaper(&scorers.iter().map(|(_, s)| s.cost()).collect::<Vec<_>>(), segment),
            Strategy::Summed => true,
            Strategy::Pruned => false,
        })
        .collect();
    let mut top = TopK::new(k);
    let mut total = 0u64;
    let mut visited = 0u64;
    // A segment summed whole counts its matches as it sums them: only the pruned ones
    // need the union counted apart. A search of one segment summed whole counts the dfs
    // it is left in the same pass.
    let one_summed = matches!(summed.as_slice(), [true]);
    if !one_summed {
        for ((segment, scorers), &summed) in segments.iter().zip(&opened).zip(&summed) {
            total += count_pass(scorers, leaves, segment, exact_total && !summed, &mut dfs)?;
        }
    }
    for (index, ((segment, mut scorers), &summed)) in segments.iter().zip(opened).zip(&summed).enumerate() {
        for (slot, scorer) in &mut scorers {
            let (Some(leaf), Some(&df)) = (leaves.get(*slot), dfs.get(*slot)) else { continue };
            scorer.factor = leaf.boost * bm25.variant.idf(df as f64, leaf.n);
        }
        visited += if summed {
            let counting = if one_summed { Some((leaves, dfs.as_mut_slice())) } else { None };
            let matched = term_at_a_time(scorers, counting, segment, index as u32, &mut top)?;
            total += matched;
            matched
        } else {
            max_score(scorers.into_iter().map(|(_, s)| s).collect(), segment, index as u32, &mut top)?
        };
    }
    let counted_dfs = leaves.iter().zip(&dfs).filter(|(leaf, _)| leaf.df.is_none()).map(|(_, &df)| df).collect();
    // A segment summed whole counts its matches exactly either way.
    let exact = exact_total || summed.iter().all(|&s| s);
    Ok(Outcome { hits: top.into_sorted(), total: if exact_total { total } else { visited }, exact, counted_dfs })
}

/// One pass over the doc ids of a segment's term scorers (each cursor cloned, so the
/// scorers still stand on their first posting): adds each leaf's live documents to
/// `dfs` where the plan left its df to the core, and returns the live documents of the
/// union when `union` is asked for (else 0).
///
/// Doc ids are read a block at a time (no frequency decoded) into bitsets over the
/// segment, one bit a document: a leaf's own when its df is wanted (a document in two
/// of its fields counts once), and the union's.
fn count_pass(
    scorers: &[(usize, TermScorer<'_>)],
    leaves: &[TermLeaf],
    segment: &Segment<'_>,
    union: bool,
    dfs: &mut [u64],
) -> Result<u64, Error> {
    let words = (segment.reader.doc_count as usize).div_ceil(64);
    let mut union_bits = if union { vec![0u64; words] } else { Vec::new() };
    let mut leaf_bits: Vec<u64> = Vec::new();
    for (slot, scorer) in scorers {
        let wants_df = leaves.get(*slot).is_some_and(|leaf| leaf.df.is_none());
        if !wants_df && !union {
            continue;
        }
        if wants_df && !union && scorer.fields.len() == 1 && segment.live.is_none() {
            // One field, nothing deleted: the dictionary's count is the live one.
            if let (Some(df), Some(field)) = (dfs.get_mut(*slot), scorer.fields.first()) {
                *df += u64::from(field.cursor.len());
            }
            continue;
        }
        let bits = if wants_df {
            leaf_bits.clear();
            leaf_bits.resize(words, 0);
            &mut leaf_bits
        } else {
            &mut union_bits
        };
        for field in &scorer.fields {
            let mut cursor = field.cursor.clone();
            cursor.drain_docs(|docs| {
                for &doc in docs {
                    if let Some(word) = bits.get_mut(doc as usize / 64) {
                        *word |= 1u64 << (doc % 64);
                    }
                }
            });
            if let Some(error) = cursor.error() {
                return Err(segment.damage(error.clone()));
            }
        }
        if wants_df {
            if let Some(df) = dfs.get_mut(*slot) {
                *df += live_in(&leaf_bits, segment);
            }
            if union {
                union_bits.iter_mut().zip(&leaf_bits).for_each(|(u, l)| *u |= l);
            }
        }
    }
    Ok(if union { live_in(&union_bits, segment) } else { 0 })
}

/// The live documents among those set in `bits` (a bitset over the segment).
fn live_in(bits: &[u64], segment: &Segment<'_>) -> u64 {
    match segment.live {
        None => bits.iter().map(|w| u64::from(w.count_ones())).sum(),
        Some(_) => {
            let mut count = 0;
            for (at, &word) in bits.iter().enumerate() {
                let mut rest = word;
                while rest != 0 {
                    let doc = (at * 64) as u32 + rest.trailing_zeros();
                    rest &= rest - 1;
                    count += u64::from(segment.is_live(doc));
                }
            }
            count
        }
    }
}

/// One segment's matches: doc ids (ascending) and their scores.
pub type SegmentMatches = (Vec<u32>, Vec<f64>);

/// Every live match of `plan` in each segment: (docs ascending, scores).
pub fn all_matches(plan: &Node, segments: &[Segment<'_>], bm25: &Bm25) -> Result<Vec<SegmentMatches>, Error> {
    let mut out = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let mut root = build(plan, segment, index, bm25)?;
        let (mut docs, mut scores) = (Vec::new(), Vec::new());
        while root.doc() != END {
            let doc = root.doc();
            if segment.is_live(doc) {
                docs.push(doc);
                scores.push(root.score());
            }
            root.next();
        }
        if let Some(error) = root.error() {
            return Err(segment.damage(error));
        }
        out.push((docs, scores));
    }
    Ok(out)
}

/// Runs one segment's iterator to its end: every live match counted and offered.
fn collect(root: &mut dyn DocIter, segment: &Segment<'_>, index: u32, top: &mut TopK) -> u64 {
    let mut collector = Collector::new(top, index);
    root.drain(segment.live, &mut |doc, score| collector.offer(doc, score));
    collector.matched
}

/// Postings a segment's terms may hold together and still be summed term at a time
/// (beyond a share of the segment's size, see [`summed_is_cheaper`]).
const SUMMED_POSTINGS: u64 = 16_384;

/// Terms past which a disjunction is summed whatever its postings (see [`summed_is_cheaper`]).
const SUMMED_TERMS: usize = 32;

/// Whether summing every posting term at a time (into per-document arrays, or for two
/// terms into lists merged, see [`term_at_a_time`]) costs less than MaxScore: a pruned
/// pass pays a merge of the terms' cursors for every document it visits, a summed one a few array operations per posting (on SciFact's queries, about
/// 4,700 postings each, the pruned pass still visited 740 of the 2,500 matching
/// documents, and the sum was faster), so pruning wins only where skipping saves most
/// postings, as with the frequent terms of a large segment. Past [`SUMMED_TERMS`] terms
/// (a pattern's expansion) MaxScore's merge scans the many rare, essential terms at every
/// document it visits, so the sum wins whatever the postings. One term is summed too,
/// counted or not: MaxScore over one term can only skip blocks by their maxima, which
/// bound a block's largest tf and shortest document apart and so seldom fall below the
/// k-th score, while the sum counts exactly on the way (on 1M synthetic documents, a
/// term in 18% of them took 46 M instructions pruned and counted, 43 M pruned alone,
/// 18 M summed). So is a disjunction unless one term holds [`PRUNABLE_SHARE`] of its
/// postings: MaxScore skips a term only once its bound falls below the k-th score, which
/// happens early only for a term far more frequent (so of a lower idf) than the others,
/// and otherwise visits nearly every document of every term at about twice the cost of
/// summing a posting. On the same documents, with exact totals, two terms whose most
/// frequent held 63%, 66%, 79% and 86% of the postings took 84 M, 46 M, 47 M and 55 M
/// instructions pruned, 34 M, 20 M, 28 M and 44 M summed (without the count, the 79%
/// and 86% ones still 39 M and 45 M pruned; these were measured summing into the
/// arrays). Summing allocates arrays the size of the segment, so it is kept to segments
/// of up to a million documents.
fn summed_is_cheaper(costs: &[u64], segment: &Segment<'_>) -> bool {
    let doc_count = segment.reader.doc_count;
    let postings: u64 = costs.iter().sum();
    let largest = costs.iter().copied().max().unwrap_or(0);
    doc_count <= 1 << 20
        && (costs.len() <= 1
            || costs.len() > SUMMED_TERMS
            || postings <= SUMMED_POSTINGS + u64::from(doc_count / 16)
            || largest * PRUNABLE_SHARE.1 < postings * PRUNABLE_SHARE.0)
}

/// The share of a disjunction's postings (numerator, denominator) its most frequent term
/// must hold for MaxScore to be tried (see [`summed_is_cheaper`]).
const PRUNABLE_SHARE: (u64, u64) = (9, 10);

/// Every posting of every term scored and summed per document, then the live sums
/// offered in doc order (one term's scores are offered as they come, two terms' as their
/// scored lists merge, see [`offer_merged`]); returns the live documents matched (exact). The terms' factors must be set, except with `counting`
/// (the plan's leaves and their dfs, for a search of this one segment): then a df left to
/// the core is counted as its term is summed, and the term's factor set from it.
fn term_at_a_time(
    mut scorers: Vec<(usize, TermScorer<'_>)>,
    mut counting: Option<(&[TermLeaf], &mut [u64])>,
    segment: &Segment<'_>,
    index: u32,
    top: &mut TopK,
) -> Result<u64, Error> {
    let doc_count = segment.reader.doc_count as usize;
    let mut scratch = segment.scratch.take(doc_count);
    let Scratch { sums, seen, spread, lists, .. } = &mut scratch;
    // Two terms merge their lists while these hold no more pairs than the segment has
    // documents, so the lists a segment keeps stay the size of its arrays.
    let merged = scorers.len() == 2 && scorers.iter().map(|(_, s)| s.cost()).sum::<u64>() <= doc_count as u64;
    let mut collector = Collector::new(top, index);
    if let [(slot, scorer)] = scorers.as_mut_slice() {
        // One term: each document's score is final once the term is summed, so it is
        // offered straight away, without the per-document sums and their scan.
        let count = counting.and_then(|(leaves, dfs)| df_to_count(leaves, dfs, *slot));
        sum_term(scorer, spread, count, true, segment, |_| true, |doc, score| {
            if segment.is_live(doc) {
                collector.offer(doc, score);
            }
        })?;
    } else if let ([(slot_a, a), (slot_b, b)], true) = (scorers.as_mut_slice(), merged) {
        let (list_a, list_b) = lists;
        for (slot, scorer, list) in [(*slot_a, a, &mut *list_a), (*slot_b, b, &mut *list_b)] {
            let count = counting.as_mut().and_then(|(leaves, dfs)| df_to_count(leaves, dfs, slot));
            list.clear();
            list.reserve(scorer.cost() as usize);
            sum_term(scorer, spread, count, true, segment, |_| true, |doc, score| list.push((doc, score)))?;
        }
        offer_merged(list_a, list_b, segment, &mut collector);
    } else {
        for (slot, scorer) in &mut scorers {
            let count = counting.as_mut().and_then(|(leaves, dfs)| df_to_count(leaves, dfs, *slot));
            sum_term(scorer, spread, count, false, segment, |_| true, |doc, score| add_score(sums, seen, doc, score))?;
        }
        offer_sums(sums, seen, segment, &mut collector);
    }
    segment.scratch.put(scratch);
    Ok(collector.matched)
}

/// Offers a segment's live matches to the top k as they come, and counts them. The
/// heap's threshold changes only when a hit enters, so it is read once per entry, not
/// once per match.
struct Collector<'t> {
    top: &'t mut TopK,
    index: u32,
    threshold: f64,
    matched: u64,
}

impl<'t> Collector<'t> {
    fn new(top: &'t mut TopK, index: u32) -> Collector<'t> {
        let threshold = top.threshold();
        Collector { top, index, threshold, matched: 0 }
    }

    /// A live match. Hits come in ascending address order, so once the heap is full a
    /// tie with the threshold cannot enter (the heap keeps the earlier) and is not
    /// offered: every match of a constant-score query ties once the heap is full. (The
    /// tie is tested only past the threshold test, which most matches of a scored query
    /// fail.)
    #[inline]
    fn offer(&mut self, doc: u32, score: f64) {
        self.matched += 1;
        if score >= self.threshold {
            if score == self.threshold && self.threshold != f64::NEG_INFINITY {
                return;
            }
            self.top.offer(Hit { score, segment: self.index, doc });
            self.threshold = self.top.threshold();
        }
    }
}

/// Adds `score` to `doc`'s sum and sets its bit in `bits`.
#[inline]
fn add_score(sums: &mut [f64], bits: &mut [u64], doc: u32, score: f64) {
    if let Some(sum) = sums.get_mut(doc as usize) {
        *sum += score;
    }
    if let Some(word) = bits.get_mut(doc as usize / 64) {
        *word |= 1u64 << (doc % 64);
    }
}

/// Offers every live document set in `seen` with its sum, in doc order; both arrays are
/// left zeroed for the next search.
fn offer_sums(sums: &mut [f64], seen: &mut [u64], segment: &Segment<'_>, collector: &mut Collector<'_>) {
    for (at, word) in seen.iter_mut().enumerate() {
        let mut bits = std::mem::take(word);
        while bits != 0 {
            let doc = (at * 64 + bits.trailing_zeros() as usize) as u32;
            bits &= bits - 1;
            let score = sums.get_mut(doc as usize).map_or(0.0, std::mem::take);
            if segment.is_live(doc) {
                collector.offer(doc, score);
            }
        }
    }
}

/// A summed disjunction of two terms merges their scored lists rather than adding them
/// into per-document arrays: each term's (document, score) pairs are written in doc
/// order, one after the other, then merged. The arrays take a random write per posting
/// and a scan of the segment's bitset, which on a million documents miss the cache far
/// more (on the 1M-document latency set's two-word queries, about half the first-level
/// misses of the pass, and the pass's p50 fell by a fifth, at every density measured up
/// to 40% of the documents). Terms holding more pairs than the segment has documents, and
/// more than two terms, still sum into the arrays (a merge of many lists compares every
/// head at every document; not measured).
fn offer_merged(first: &[(u32, f64)], second: &[(u32, f64)], segment: &Segment<'_>, collector: &mut Collector<'_>) {
    let mut offer = |doc: u32, score: f64| {
        if segment.is_live(doc) {
            collector.offer(doc, score);
        }
    };
    let (mut first, mut second) = (first.iter().peekable(), second.iter().peekable());
    loop {
        match (first.peek(), second.peek()) {
            (Some(&&(a, part_a)), Some(&&(b, part_b))) => {
                if a < b {
                    offer(a, part_a);
                    first.next();
                } else if b < a {
                    offer(b, part_b);
                    second.next();
                } else {
                    offer(a, part_a + part_b); // as add_score adds them (0.0 + a + b, but for -0.0)
                    first.next();
                    second.next();
                }
            }
            (Some(&&(a, part_a)), None) => {
                offer(a, part_a);
                first.next();
            }
            (None, Some(&&(b, part_b))) => {
                offer(b, part_b);
                second.next();
            }
            (None, None) => break,
        }
    }
}

/// The leaf in `slot` and its df, when the df is left to the core to count.
fn df_to_count<'a>(leaves: &'a [TermLeaf], dfs: &'a mut [u64], slot: usize) -> Option<(&'a TermLeaf, &'a mut u64)> {
    let leaf = leaves.get(slot).filter(|leaf| leaf.df.is_none())?;
    Some((leaf, dfs.get_mut(slot)?))
}

/// Scores every posting of one term and hands each document the term holds, with its
/// score, to `emit` once. BM25F saturates a document's x, the sum of its fields' parts,
/// so a document's score is final only once every field is read: the term's smaller
/// fields are spread first into `xs` (a first-touch stamp per document and a list of the
/// documents touched, put in doc order), then the largest field, most of the postings,
/// is read in step with that list: each of its documents is finished as it is read, and
/// a document only the smaller fields hold is finished as the read passes it. Per
/// posting of the largest field that is a norm read, the part, a comparison with the
/// list's next document (reading each document's stamp instead missed the first-level
/// cache so often that dropping it cut a 1M-document OR pass's misses by a fifth), the
/// saturation and `emit`.
/// Documents reach `emit` in ascending order ([`offer_merged`] relies on it, and the
/// collector's ties), except with `count` and not `ordered`: the arrays a many-term
/// disjunction sums into take any order, and putting a counted term's list in order
/// cost a SciFact query 2% more instructions.
///
/// Only the documents `keep` accepts are read (a conjunction's candidates); the others'
/// postings are decoded and passed over.
///
/// With `count` (the leaf and its df, to count over this segment), the score's factor is
/// known only once the term's documents are, so every field is spread, the live
/// documents touched are counted, and then all are finished from the list.
#[inline(never)] // its loops keep their values in registers, not in its caller's frame
fn sum_term(
    scorer: &mut TermScorer<'_>,
    spread: &mut Spread,
    count: Option<(&TermLeaf, &mut u64)>,
    ordered: bool,
    segment: &Segment<'_>,
    keep: impl Fn(u32) -> bool,
    mut emit: impl FnMut(u32, f64),
) -> Result<(), Error> {
    let Spread { xs, stamps, stamp: next_stamp } = spread;
    let variant = scorer.bm25.variant;
    let saturation = variant.saturation(scorer.bm25.k1);
    let largest = match count {
        Some(_) => None,
        None => (0..scorer.fields.len()).max_by_key(|&at| scorer.fields.get(at).map_or(0, |f| f.cursor.len())),
    };
    let mut touched: Vec<u32> = Vec::new();
    let mut stamp = 0;
    if scorer.fields.len() > 1 || largest.is_none() {
        *next_stamp = next_stamp.wrapping_add(1);
        if *next_stamp == 0 {
            // Wrapped: a stamp from 2^32 terms ago could match again (0 is never current).
            stamps.iter_mut().for_each(|s| *s = 0);
            *next_stamp = 1;
        }
        stamp = *next_stamp;
    }
    for (at, field) in scorer.fields.iter_mut().enumerate() {
        if Some(at) == largest {
            continue;
        }
        touched.reserve(field.cursor.len() as usize);
        each_part(field, &keep, |doc, part| {
            if let (Some(x), Some(mark)) = (xs.get_mut(doc as usize), stamps.get_mut(doc as usize)) {
                if *mark != stamp {
                    *mark = stamp;
                    touched.push(doc);
                }
                *x += part;
            }
        })
        .map_err(|error| segment.damage(error))?;
    }
    if let Some((leaf, df)) = count {
        *df = touched.iter().filter(|&&doc| segment.is_live(doc)).count() as u64;
        scorer.factor = leaf.boost * variant.idf(*df as f64, leaf.n);
    }
    let factor = scorer.factor;
    let smaller_fields = scorer.fields.len().saturating_sub(1);
    let mut finish = |doc: u32, x: f64| emit(doc, factor * saturation.apply(x));
    let mut spread_xs = |doc: u32| xs.get_mut(doc as usize).map_or(0.0, std::mem::take);
    let Some(field) = largest.and_then(|at| scorer.fields.get_mut(at)) else {
        // Counted: every field was spread, so every document is finished from the list,
        // put in order first when asked. Each field appended its new documents in order,
        // so the list is one sorted run per field, which the stable sort finds and merges
        // (linear for two fields; the unstable one sorts from scratch: 2.6 times the
        // instructions on SciFact).
        if ordered && scorer.fields.len() > 1 {
            touched.sort();
        }
        for &doc in &touched {
            finish(doc, spread_xs(doc));
        }
        return Ok(());
    };
    if smaller_fields > 1 {
        touched.sort(); // runs merged, as above; one smaller field's list is in order already
    }
    let mut pending = touched.iter().copied().peekable();
    each_part(field, &keep, |doc, part| {
        let mut x = part;
        while let Some(earlier) = pending.next_if(|&earlier| earlier <= doc) {
            if earlier == doc {
                x += spread_xs(doc);
            } else {
                finish(earlier, spread_xs(earlier));
            }
        }
        finish(doc, x);
    })
    .map_err(|error| segment.damage(error))?;
    for doc in pending {
        finish(doc, spread_xs(doc));
    }
    Ok(())
}

/// Hands `visit` each remaining posting of `field` that `keep` accepts, with its part
/// `weight * tf / norm`, a decoded block at a time (the norms looked up once per field,
/// not per posting); the cursor's damage, if any, once it stops.
#[inline]
fn each_part(field: &mut FieldPostings<'_>, keep: &impl Fn(u32) -> bool, mut visit: impl FnMut(u32, f64)) -> Result<(), Corrupt> {
    let (weight, norms) = (field.weight, field.inverse_norms.clone());
    let norms: &[f64] = norms.as_deref().map_or(&[], Vec::as_slice);
    field.cursor.drain_blocks(|docs, tfs, add| {
        for (&doc, &raw) in docs.iter().zip(tfs) {
            if !keep(doc) {
                continue;
            }
            let inverse = if norms.is_empty() { 1.0 } else { norms.get(doc as usize).copied().unwrap_or(1.0) };
            visit(doc, weight * f64::from(raw.saturating_add(add)) * inverse);
        }
    });
    field.cursor.error().map_or(Ok(()), |error| Err(error.clone()))
}

/// The per-document arrays (and two-term lists) a segment summed whole needs, kept
/// between searches so a query does not allocate and zero them each time. Between
/// searches every array entry is zero (stamps aside, which only grow until they wrap and
/// are reset); the lists are cleared before use.
#[derive(Debug, Default)]
pub struct Scratch {
    sums: Vec<f64>,
    seen: Vec<u64>,
    /// A summed conjunction's candidates that hold the term being read.
    held: Vec<u64>,
    spread: Spread,
    /// A two-term disjunction's scored lists (see [`offer_merged`]).
    lists: (Scored, Scored),
}

/// Where a term's smaller fields leave their parts for its largest to finish (see
/// [`sum_term`]): per document its x and the stamp of the last term that touched it.
#[derive(Debug, Default)]
pub struct Spread {
    xs: Vec<f64>,
    stamps: Vec<u32>,
    stamp: u32,
}

/// A term's documents and their scores, in doc order.
type Scored = Vec<(u32, f64)>;

/// A segment's spare [`Scratch`] (a search that finds it taken, by another thread, makes
/// its own).
#[derive(Debug, Default)]
pub struct ScratchPool {
    spare: std::sync::Mutex<Option<Scratch>>,
}

impl ScratchPool {
    fn take(&self, doc_count: usize) -> Scratch {
        let found = self.spare.lock().ok().and_then(|mut spare| spare.take());
        match found {
            Some(scratch) if scratch.sums.len() == doc_count => scratch,
            _ => Scratch {
                sums: vec![0.0; doc_count],
                seen: vec![0; doc_count.div_ceil(64)],
                held: vec![0; doc_count.div_ceil(64)],
                spread: Spread { xs: vec![0.0; doc_count], stamps: vec![0; doc_count], stamp: 0 },
                lists: (Vec::new(), Vec::new()),
            },
        }
    }

    fn put(&self, scratch: Scratch) {
        if let Ok(mut spare) = self.spare.lock() {
            *spare = Some(scratch);
        }
    }
}

/// A lead term is seeded only when it holds fewer than this share of the segment's
/// documents: scoring its documents first costs a skip per other term each.
const SEED_SHARE: u32 = 8;

/// Fills the heap from the documents of the term with the highest bound (mostly the
/// rarest), each scored in full, so that the threshold is high before MaxScore starts:
/// scanning in doc order, the heap would first fill with whatever documents come first
/// and keep most terms essential for long. Returns the documents scored (a bitset over
/// the segment, empty when none was) and how many of them are live.
fn seed(sorted: &[(TermScorer<'_>, f64)], segment: &Segment<'_>, index: u32, top: &mut TopK) -> Result<(Vec<u64>, u64), Error> {
    let Some(((lead, _), others)) = sorted.split_last() else { return Ok((Vec::new(), 0)) };
    let doc_count = segment.reader.doc_count;
    if others.is_empty() || top.k == 0 || lead.cost() >= u64::from(doc_count / SEED_SHARE) {
        return Ok((Vec::new(), 0));
    }
    let mut lead = lead.clone();
    let mut others: Vec<TermScorer<'_>> = others.iter().rev().map(|(s, _)| s.clone()).collect();
    let mut seeded = vec![0u64; (doc_count as usize).div_ceil(64)];
    let mut count = 0;
    while lead.doc() != END {
        let doc = lead.doc();
        if segment.is_live(doc) {
            let mut score = lead.score();
            for other in &mut others {
                if other.advance(doc) == doc {
                    score += other.score();
                }
            }
            top.offer(Hit { score, segment: index, doc });
            if let Some(word) = seeded.get_mut(doc as usize / 64) {
                *word |= 1u64 << (doc % 64);
            }
            count += 1;
        }
        lead.next();
    }
    if let Some(error) = lead.error().or_else(|| others.iter().find_map(|o| o.error())) {
        return Err(segment.damage(error));
    }
    Ok((seeded, count))
}

/// One segment of a disjunction of terms with MaxScore; returns the live documents it
/// visited (a lower bound of the segment's matches).
fn max_score(scorers: Vec<TermScorer<'_>>, segment: &Segment<'_>, index: u32, top: &mut TopK) -> Result<u64, Error> {
    let mut bounds = Vec::with_capacity(scorers.len());
    for scorer in &scorers {
        match scorer.upper_bound().map_err(|e| segment.damage(e))? {
            Some(bound) => bounds.push(bound),
            None => {
                // A negative weight: no bound holds, so every match is scored.
                let boxed: Vec<Box<dyn DocIter + '_>> = scorers.into_iter().map(|s| Box::new(s) as Box<dyn DocIter + '_>).collect();
                let mut root = disjunction(boxed, 1, segment.reader.doc_count);
                let count = collect(root.as_mut(), segment, index, top);
                if let Some(error) = root.error() {
                    return Err(segment.damage(error));
                }
                return Ok(count);
            }
        }
    }
    // Lowest bound first: the non-essential terms are a prefix.
    let mut order: Vec<usize> = (0..scorers.len()).collect();
    order.sort_by(|&a, &b| bounds[a].total_cmp(&bounds[b]));
    let mut sorted: Vec<(TermScorer<'_>, f64)> = Vec::with_capacity(scorers.len());
    let mut slots: Vec<Option<TermScorer<'_>>> = scorers.into_iter().map(Some).collect();
    for &i in &order {
        if let (Some(scorer), Some(&bound)) = (slots.get_mut(i).and_then(Option::take), bounds.get(i)) {
            sorted.push((scorer, bound));
        }
    }
    // prefix[i]: the sum of the bounds of terms 0..=i.
    let mut prefix = Vec::with_capacity(sorted.len());
    let mut sum = 0.0;
    for (_, bound) in &sorted {
        sum += bound;
        prefix.push(sum);
    }
    let tails: Vec<Vec<f64>> =
        sorted.iter().map(|(scorer, _)| tail_parts(scorer)).collect::<Result<_, _>>().map_err(|e| segment.damage(e))?;
    let (seeded, mut visited) = seed(&sorted, segment, index, top)?;
    let mut threshold = top.threshold();
    let mut essential = prefix.iter().take_while(|&&p| !may_beat(p, threshold)).count();
    // The essential terms' current blocks overlap up to `window_end`, and their block
    // maxima there (with the other terms' bounds) may beat the threshold; None: not
    // yet found for the current documents.
    let mut window_end: Option<u32> = None;
    loop {
        let mut doc = sorted.get(essential..).unwrap_or_default().iter().map(|(s, _)| s.doc()).min().unwrap_or(END);
        if doc == END {
            break;
        }
        if window_end.map_or(true, |end| doc > end) {
            // Block-max: skip every run of blocks whose maxima cannot beat the threshold,
            // reading only skip entries, then move the essential cursors past the run.
            let rest = essential.checked_sub(1).and_then(|i| prefix.get(i)).copied().unwrap_or(0.0);
            let essentials = sorted.get(essential..).unwrap_or_default();
            let tails = tails.get(essential..).unwrap_or_default();
            loop {
                let (end, bound) = window(essentials, tails, doc).map_err(|e| segment.damage(e))?;
                if may_beat(rest + bound, threshold) {
                    window_end = Some(end);
                    break;
                }
                doc = end.saturating_add(1);
                if end >= END - 1 {
                    doc = END;
                    break;
                }
            }
            if doc == END {
                break;
            }
            for (scorer, _) in sorted.iter_mut().skip(essential) {
                scorer.advance(doc);
            }
            continue;
        }
        let mut score = 0.0;
        for (scorer, _) in sorted.iter_mut().skip(essential) {
            if scorer.doc() == doc {
                score += scorer.score();
                scorer.next();
            }
        }
        if !segment.is_live(doc) || seeded.get(doc as usize / 64).is_some_and(|w| w >> (doc % 64) & 1 == 1) {
            continue;
        }
        visited += 1;
        for i in (0..essential).rev() {
            let rest = prefix.get(i).copied().unwrap_or(0.0);
            if !may_beat(score + rest, threshold) {
                break;
            }
            if let Some((scorer, _)) = sorted.get_mut(i) {
                if scorer.advance(doc) == doc {
                    score += scorer.score();
                }
            }
        }
        if score >= threshold {
            top.offer(Hit { score, segment: index, doc });
            let now = top.threshold();
            if now != threshold {
                threshold = now;
                essential = prefix.iter().take_while(|&&p| !may_beat(p, threshold)).count();
                window_end = None;
            }
        }
    }
    for (scorer, _) in &sorted {
        if let Some(error) = scorer.error() {
            return Err(segment.damage(error));
        }
    }
    Ok(visited)
}

/// Per field of a term, the most `weight * tf / norm` of its tail (the postings after
/// its last full block, which have no skip entry).
fn tail_parts(scorer: &TermScorer<'_>) -> Result<Vec<f64>, Corrupt> {
    let mut parts = Vec::with_capacity(scorer.fields.len());
    for field in &scorer.fields {
        let (docs, tfs) = field.cursor.tail()?;
        let best = docs.into_iter().zip(tfs).map(|(doc, tf)| field.weight * f64::from(tf) * field.inverse_norm(doc)).fold(0.0, f64::max);
        parts.push(best);
    }
    Ok(parts)
}

/// The window of documents from `doc` on where each of `scorers` stays within one block
/// of each field's postings (the last document of the window), and the most the terms
/// can score together there: per term, the sum over fields of the block's bound of
/// `weight * tf / norm`, saturated and scaled by the factor. Only skip entries are read.
fn window(scorers: &[(TermScorer<'_>, f64)], tails: &[Vec<f64>], doc: u32) -> Result<(u32, f64), Corrupt> {
    let mut end = END - 1;
    let mut bound = 0.0;
    for ((scorer, _), tail) in scorers.iter().zip(tails) {
        let mut x = 0.0;
        let mut holds = false;
        for (field, &tail_part) in scorer.fields.iter().zip(tail) {
            if field.cursor.doc() == END {
                continue;
            }
            holds = true;
            match field.cursor.block_of(doc)? {
                Some(skip) => {
                    end = end.min(skip.last_doc);
                    x += field.block_part(&scorer.bm25, &skip);
                }
                None => x += tail_part,
            }
        }
        if holds {
            bound += scorer.factor * scorer.bm25.variant.saturate(x, scorer.bm25.k1);
        }
    }
    Ok((end, bound))
}
