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

use crate::error::Error;
use crate::query::boolean::{build, disjunction, term_scorer, Segment};
use crate::query::plan::{Node, TermLeaf};
use crate::query::scorer::Bm25;
use crate::query::term::TermScorer;
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

/// Fills in every term leaf's document frequency the plan left to the core: live
/// documents holding the term in any of its fields, over all the segments.
pub fn resolve_doc_freqs(plan: &mut Node, segments: &[Segment<'_>]) -> Result<(), Error> {
    plan.for_each_leaf(&mut |leaf: &mut TermLeaf| {
        if leaf.df.is_none() {
            let fields: Vec<&str> = leaf.fields.iter().map(|f| f.name.as_str()).collect();
            let mut df = 0;
            for segment in segments {
                df += live_doc_freq(segment, &fields, leaf.term.as_bytes())?;
            }
            leaf.df = Some(df);
        }
        Ok(())
    })
}

/// The term leaves of a plan that is a plain disjunction of terms, if it is one.
fn disjunction_of_terms(plan: &Node) -> Option<Vec<&TermLeaf>> {
    match plan {
        Node::Term(leaf) => Some(vec![leaf]),
        Node::Bool(node)
            if node.must.is_empty() && node.must_not.is_empty() && node.filter.is_empty() && node.min_should <= 1 =>
        {
            node.should.iter().map(|n| if let Node::Term(leaf) = n { Some(leaf) } else { None }).collect()
        }
        _ => None,
    }
}

/// The best `k` matches of `plan` over `segments` and the number of matches. Every term
/// leaf's df must be resolved ([`resolve_doc_freqs`]).
pub fn search(plan: &Node, segments: &[Segment<'_>], bm25: &Bm25, k: usize, exact_total: bool) -> Result<Outcome, Error> {
    let mut top = TopK::new(k);
    let mut total = 0u64;
    let mut exact = true;
    let leaves = disjunction_of_terms(plan);
    for (index, segment) in segments.iter().enumerate() {
        match &leaves {
            Some(leaves) => {
                let (count, counted_all) = max_score(leaves, segment, index as u32, bm25, &mut top, exact_total)?;
                total += count;
                exact &= counted_all;
            }
            None => {
                let mut root = build(plan, segment, index, bm25)?;
                total += collect(root.as_mut(), segment, index as u32, &mut top);
                if let Some(error) = root.error() {
                    return Err(segment.damage(error));
                }
            }
        }
    }
    Ok(Outcome { hits: top.into_sorted(), total, exact })
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
    let mut count = 0;
    while root.doc() != END {
        let doc = root.doc();
        if segment.is_live(doc) {
            count += 1;
            let score = root.score();
            if score > top.threshold() {
                top.offer(Hit { score, segment: index, doc });
            }
        }
        root.next();
    }
    count
}

/// Live documents of the union of the scorers' postings, counted by doc id alone.
fn count_union(scorers: &[TermScorer<'_>], segment: &Segment<'_>) -> Result<u64, Error> {
    let mut seen = vec![0u64; (segment.reader.doc_count as usize).div_ceil(64)];
    for scorer in scorers {
        for field in &scorer.fields {
            let mut cursor = field.cursor.clone();
            while cursor.doc() != END {
                let doc = cursor.doc();
                if let Some(word) = seen.get_mut(doc as usize / 64) {
                    *word |= 1u64 << (doc % 64);
                }
                cursor.next();
            }
            if let Some(error) = cursor.error() {
                return Err(segment.damage(error.clone()));
            }
        }
    }
    Ok(match segment.live {
        None => seen.iter().map(|w| u64::from(w.count_ones())).sum(),
        Some(live) => live.iter().enumerate().filter(|(doc, &l)| l && seen.get(doc / 64).is_some_and(|w| w >> (doc % 64) & 1 == 1)).count() as u64,
    })
}

/// One segment of a disjunction of terms with MaxScore; returns (matches counted, whether
/// that count is exact).
fn max_score(
    leaves: &[&TermLeaf],
    segment: &Segment<'_>,
    index: u32,
    bm25: &Bm25,
    top: &mut TopK,
    exact_total: bool,
) -> Result<(u64, bool), Error> {
    let mut scorers = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        if let Some(scorer) = term_scorer(segment, leaf, bm25)? {
            scorers.push(scorer);
        }
    }
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
                return Ok((count, true));
            }
        }
    }
    let counted = if exact_total { Some(count_union(&scorers, segment)?) } else { None };
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
    let mut threshold = top.threshold();
    let mut essential = prefix.iter().take_while(|&&p| !may_beat(p, threshold)).count();
    let mut visited = 0u64;
    loop {
        let doc = sorted.get(essential..).unwrap_or_default().iter().map(|(s, _)| s.doc()).min().unwrap_or(END);
        if doc == END {
            break;
        }
        let mut score = 0.0;
        for (scorer, _) in sorted.iter_mut().skip(essential) {
            if scorer.doc() == doc {
                score += scorer.score();
                scorer.next();
            }
        }
        if !segment.is_live(doc) {
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
        if score > threshold {
            top.offer(Hit { score, segment: index, doc });
            let now = top.threshold();
            if now != threshold {
                threshold = now;
                essential = prefix.iter().take_while(|&&p| !may_beat(p, threshold)).count();
            }
        }
    }
    for (scorer, _) in &sorted {
        if let Some(error) = scorer.error() {
            return Err(segment.damage(error));
        }
    }
    Ok(match counted {
        Some(count) => (count, true),
        None => (visited, false),
    })
}
