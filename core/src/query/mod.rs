//! Query execution: a plan (a tree of [`plan::Node`]) run over a snapshot's segments,
//! returning the top k (segment, doc, score) and the number of matches.
//!
//! Python compiles its query tree into a plan with every collection statistic resolved
//! (N, average lengths, document frequencies when it has them), so the core does no
//! Python call while it runs: one call per search, the GIL released throughout.
//!
//! Execution is document at a time: every node becomes a [`DocIter`] over one segment's
//! doc ids in ascending order, and compound nodes combine their children's iterators
//! (`boolean`). The collector (`topk`) keeps the best k; for a disjunction of terms it
//! prunes with MaxScore and the postings' block maxima, so most postings of frequent
//! terms are never scored.

pub mod boolean;
pub mod explain;
pub mod phrase;
pub mod plain;
pub mod plan;
pub mod range;
pub mod scorer;
pub mod term;
pub mod topk;

use crate::error::Corrupt;

/// The doc id an exhausted iterator stands on (above every real doc id).
pub const END: u32 = u32::MAX;

/// The first index at or after `from` of ascending `docs` whose doc is at least `target`.
///
/// Steps of doubling length, then a binary search in the last: a conjunction's
/// candidates (in a postings block, a phrase's postings, a list) are looked up in
/// order, so the cost grows with the log of the distance to the next one rather than of
/// the whole list (or with the list, as a merge would).
pub fn gallop(docs: &[u32], from: usize, target: u32) -> usize {
    let mut low = from;
    let mut step = 1;
    while docs.get(low + step - 1).is_some_and(|&d| d < target) {
        low += step;
        step *= 2;
    }
    let high = (low + step - 1).min(docs.len());
    low + docs.get(low..high).map_or(0, |window| window.partition_point(|&d| d < target))
}

/// Whether `doc` is live by a segment's liveness (None: every document is).
#[inline]
pub fn is_live(live: Option<&[bool]>, doc: u32) -> bool {
    live.map_or(true, |live| live.get(doc as usize).copied().unwrap_or(false))
}

/// One node's matches in one segment, in ascending doc order.
pub trait DocIter {
    /// The current doc id, [`END`] once exhausted (before the first `next`, the first match).
    fn doc(&self) -> u32;
    /// Moves to the next match.
    fn next(&mut self) -> u32;
    /// Moves to the first match at or after `target` (stays if already there).
    fn advance(&mut self, target: u32) -> u32;
    /// The current match's score.
    fn score(&mut self) -> f64;
    /// About how many matches the iterator visits (conjunctions lead with the cheapest).
    fn cost(&self) -> u64;
    /// How many clauses match the current doc (a disjunction's count; 1 otherwise).
    fn matched(&self) -> usize {
        1
    }
    /// The damage met in a segment file, if any (the iterator stopped there).
    fn error(&self) -> Option<Corrupt> {
        None
    }
    /// Calls `visit(doc, score)` for the current match and every later one whose doc is
    /// live (`live`: None when all are), leaving the iterator exhausted: a collector that
    /// reads every match. An iterator whose matches are cheap to read (a set of
    /// documents) overrides it with a loop that makes no call per document.
    fn drain(&mut self, live: Option<&[bool]>, visit: &mut dyn FnMut(u32, f64)) {
        while self.doc() != END {
            let doc = self.doc();
            if is_live(live, doc) {
                visit(doc, self.score());
            }
            self.next();
        }
    }
}

#[cfg(test)]
mod tests;
