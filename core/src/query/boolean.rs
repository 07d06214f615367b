//! Compound iterators (conjunction, disjunction with a minimum to match, exclusion,
//! constant score, boost) and the building of one segment's iterator tree from a plan.
//!
//! The rules are Lucene's boolean query, as Python's `Bool` documents them: every `must`
//! and `filter` clause matches, no `must_not` clause does, at least `min_should` `should`
//! clauses do; the score is the sum of the matching `must` and `should` clauses' scores.
//! Filters and exclusions never score.

use crate::error::{Corrupt, Error, InFile};
use crate::query::plan::{BoolNode, Node, TermLeaf};
use crate::query::range;
use crate::query::phrase::phrase_matches_with;
use crate::query::scorer::{Bm25, InverseNorms, NormCache};
use crate::query::topk::ScratchPool;
use crate::query::term::{postings_damage, reopen_postings, FieldPostings, PostingsCursor, TermCache, TermScorer};
use crate::query::{gallop, DocIter, END};
use crate::segment_reader::SegmentReader;
use crate::termdict::TermInfo;

/// A disjunction of more clauses than this is summed into per-document arrays over the
/// segment instead of merged document at a time: a pattern's hundreds of terms would
/// otherwise cost a scan of every clause per match.
const DENSE_CLAUSES: usize = 32;

/// One segment as a search sees it.
pub struct Segment<'a> {
    pub reader: &'a SegmentReader,
    /// Which documents are live (None: all are).
    pub live: Option<&'a [bool]>,
    pub norms: &'a NormCache,
    pub terms: &'a TermCache,
    pub scratch: &'a ScratchPool,
}

impl Segment<'_> {
    #[inline]
    pub fn is_live(&self, doc: u32) -> bool {
        crate::query::is_live(self.live, doc)
    }

    /// A term's info in a field (None where the segment lacks the field or the term).
    pub fn term_info(&self, field: &str, term: &[u8]) -> Result<Option<TermInfo>, Error> {
        if let Some(known) = self.terms.get(field, term) {
            return Ok(known);
        }
        let info = match self.reader.dict(field)? {
            None => None,
            Some(dict) => self.terms.lookup(&dict, field, term).in_file(self.reader.terms.path()).map_err(|e| self.reader.name_field(e, field))?,
        };
        self.terms.remember(field, term, info);
        Ok(info)
    }

    /// A cursor over a term's postings in a field.
    pub fn cursor(&self, field: &str, info: &TermInfo) -> Result<PostingsCursor<'_>, Error> {
        let mut cursor = PostingsCursor::new(&[], 0, self.reader.doc_count).in_file(self.reader.postings.path())?;
        self.reopen(&mut cursor, field, info)?;
        Ok(cursor)
    }

    /// Moves `cursor` (over this segment) to a term's postings in a field (see
    /// [`PostingsCursor::reopen`]).
    pub fn reopen<'c>(&'c self, cursor: &mut PostingsCursor<'c>, field: &str, info: &TermInfo) -> Result<(), Error> {
        reopen_postings(self.reader, cursor, field, info)
    }

    /// Damage met by an iterator, as an error naming the postings file.
    pub fn damage(&self, error: Corrupt) -> Error {
        postings_damage(self.reader, error)
    }
}

/// The BM25F scorer of a term leaf in one segment (None when no field holds the term).
pub fn term_scorer<'a>(segment: &'a Segment<'a>, leaf: &TermLeaf, bm25: &Bm25) -> Result<Option<TermScorer<'a>>, Error> {
    let mut fields = Vec::with_capacity(leaf.fields.len());
    for field in &leaf.fields {
        let Some(info) = segment.term_info(&field.name, leaf.term.as_bytes())? else { continue };
        let cursor = segment.cursor(&field.name, &info)?;
        let inverse_norms = field_inverse_norms(segment, &field.name, field.average, bm25)?;
        fields.push(FieldPostings { cursor, weight: field.weight, inverse_norms, average: field.average });
    }
    if fields.is_empty() {
        return Ok(None);
    }
    let df = leaf.df.unwrap_or(0) as f64;
    let factor = leaf.boost * bm25.variant.idf(df, leaf.n);
    Ok(Some(TermScorer::new(fields, factor, *bm25)))
}

/// The iterator of `node` over one segment (`index` is the segment's place in the search).
pub fn build<'a>(node: &Node, segment: &'a Segment<'a>, index: usize, bm25: &Bm25) -> Result<Box<dyn DocIter + 'a>, Error> {
    Ok(match node {
        Node::Term(leaf) => match term_scorer(segment, leaf, bm25)? {
            Some(scorer) => Box::new(scorer),
            None => Box::new(Empty),
        },
        Node::Bool(bool_node) => build_bool(bool_node, segment, index, bm25)?,
        Node::MatchAll { score } => Box::new(AllDocs { doc: 0, count: segment.reader.doc_count, score: *score }.start()),
        Node::Constant { node, score } => Box::new(ConstantScore { inner: build(node, segment, index, bm25)?, score: *score }),
        Node::Boost { node, factor } => Box::new(Boosted { inner: build(node, segment, index, bm25)?, factor: *factor }),
        Node::Precomputed(parts) => match parts.get(index) {
            Some((docs, scores)) => Box::new(DocList::new(docs.clone(), Some(scores.clone()), 0.0)),
            None => Box::new(Empty),
        },
        Node::IntRange { field, low, high } => Box::new(DocList::new(range::int_range(segment, field, *low, *high)?, None, 0.0)),
        Node::FloatRange { field, low, high } => Box::new(DocList::new(range::float_range(segment, field, *low, *high)?, None, 0.0)),
        Node::TermRange { field, low, high } => {
            Box::new(DocList::new(range::term_range(segment, field, low.as_ref(), high.as_ref())?, None, 0.0))
        }
        Node::Phrase { field, words, slop, factor, average } => Box::new(phrase(segment, field, words, *slop, *factor, *average, bm25)?),
        Node::Empty => Box::new(Empty),
    })
}

/// A phrase's matches in one segment ([`phrase_matches`]), each scored
/// `factor * saturate(frequency / norm)` with the field's cached inverse norms.
fn phrase(segment: &Segment<'_>, field: &str, words: &[(String, u32)], slop: u64, factor: f64, average: f64, bm25: &Bm25) -> Result<DocList, Error> {
    let lookup = |word: &[u8]| segment.term_info(field, word);
    let (docs, frequencies) = phrase_matches_with(segment.reader, field, words, slop, None, lookup)?;
    let inverse = field_inverse_norms(segment, field, average, bm25)?;
    let scores = docs
        .iter()
        .zip(&frequencies)
        .map(|(&doc, &frequency)| {
            let inverse = inverse.as_ref().map_or(1.0, |norms| norms.get(doc as usize).copied().unwrap_or(1.0));
            factor * bm25.variant.saturate(f64::from(frequency) * inverse, bm25.k1)
        })
        .collect();
    Ok(DocList::new(docs, Some(scores), 0.0))
}

/// A field's per-document `1 / norm` at `average` (None for a field without lengths,
/// whose every norm is 1), computed once per segment and setting.
fn field_inverse_norms(segment: &Segment<'_>, field: &str, average: f64, bm25: &Bm25) -> Result<Option<InverseNorms>, Error> {
    if !segment.reader.field(field).is_some_and(|f| f.norms) {
        return Ok(None);
    }
    let reader = segment.reader;
    segment.norms.get(field, average, bm25, || reader.norms(field).map(|lengths| lengths.unwrap_or_default())).map(Some)
}

fn build_all<'a>(nodes: &[Node], segment: &'a Segment<'a>, index: usize, bm25: &Bm25) -> Result<Vec<Box<dyn DocIter + 'a>>, Error> {
    nodes.iter().map(|node| build(node, segment, index, bm25)).collect()
}

fn build_bool<'a>(node: &BoolNode, segment: &'a Segment<'a>, index: usize, bm25: &Bm25) -> Result<Box<dyn DocIter + 'a>, Error> {
    if let Some(ranges) = term_ranges_only(node) {
        // A disjunction of term ranges (a pattern's terms, each a range of one) scores 0:
        // its matches are one set, read into one bitset rather than merged range by range.
        return Ok(Box::new(SetUnion::new(vec![(range::term_ranges(segment, &ranges)?, 0.0)])));
    }
    if let Some(sets) = constant_term_sets(node) {
        // Patterns over several fields (`negotiat*` in title and body): each field's terms
        // are one set with one score, read into one bitset, and their union is read from
        // the bitsets rather than merged document by document while the search runs.
        let mut bitsets = Vec::with_capacity(sets.len());
        for (score, ranges) in sets {
            bitsets.push((range::term_ranges(segment, &ranges)?, score));
        }
        return Ok(Box::new(SetUnion::new(bitsets)));
    }
    let needed = node.min_should;
    if needed > node.should.len() {
        return Ok(Box::new(Empty));
    }
    let mut required = build_all(&node.must, segment, index, bm25)?;
    for filter in &node.filter {
        required.push(Box::new(ConstantScore { inner: build(filter, segment, index, bm25)?, score: 0.0 }));
    }
    let should = build_all(&node.should, segment, index, bm25)?;
    let base: Box<dyn DocIter + 'a> = if !required.is_empty() {
        let required = conjunction(required);
        if should.is_empty() {
            required
        } else {
            let mut req_opt = ReqOpt { required, optional: disjunction(should, 1, segment.reader.doc_count), needed };
            req_opt.skip_unmatched();
            Box::new(req_opt)
        }
    } else if should.is_empty() {
        return Ok(Box::new(Empty));
    } else {
        disjunction(should, needed.max(1), segment.reader.doc_count)
    };
    if node.must_not.is_empty() {
        return Ok(base);
    }
    let excluded = build_all(&node.must_not, segment, index, bm25)?;
    let mut exclusion = Exclusion { inner: base, excluded };
    exclusion.skip_excluded();
    Ok(Box::new(exclusion))
}

/// The (field, low, high) of a disjunction of term ranges with nothing required or
/// excluded, if `node` is one.
fn term_ranges_only(node: &BoolNode) -> Option<Vec<(&str, &range::TermBound, &range::TermBound)>> {
    if !is_plain_union(node) {
        return None;
    }
    term_ranges_of(&node.should)
}

/// The (field, low, high) of `clauses` if every one is a term range.
fn term_ranges_of(clauses: &[Node]) -> Option<Vec<(&str, &range::TermBound, &range::TermBound)>> {
    clauses
        .iter()
        .map(|n| if let Node::TermRange { field, low, high } = n { Some((field.as_str(), low, high)) } else { None })
        .collect()
}

/// Whether `node` only unites two or more `should` clauses (see [`only_should`]).
fn is_plain_union(node: &BoolNode) -> bool {
    only_should(node) && node.should.len() >= 2
}

/// Whether `node` only unites its `should` clauses: nothing required, excluded or
/// filtered, any one clause enough.
fn only_should(node: &BoolNode) -> bool {
    node.must.is_empty() && node.must_not.is_empty() && node.filter.is_empty() && node.min_should <= 1
}

/// Per clause, the score and term ranges of a disjunction whose every clause is a constant
/// score over a set of terms (a term range, or a disjunction of them), with nothing
/// required or excluded, if `node` is one.
#[allow(clippy::type_complexity)]
fn constant_term_sets(node: &BoolNode) -> Option<Vec<(f64, Vec<(&str, &range::TermBound, &range::TermBound)>)>> {
    if !is_plain_union(node) {
        return None;
    }
    node.should
        .iter()
        .map(|clause| {
            let Node::Constant { node: inner, score } = clause else { return None };
            let ranges = match inner.as_ref() {
                Node::TermRange { field, low, high } => vec![(field.as_str(), low, high)],
                // A field's pattern that kept one term is a disjunction of one.
                Node::Bool(inner) if only_should(inner) => term_ranges_of(&inner.should)?,
                _ => return None,
            };
            Some((*score, ranges))
        })
        .collect()
}

/// Sets up to which a [`SetUnion`] scores a document by one look-up in a table of 2^n
/// sums (a pattern per field; more sets are summed one by one).
pub const MAX_SUMMED_SETS: usize = 8;

/// The union of sets of documents, each a bitset (bit `doc % 64` of word `doc / 64`)
/// with one score: every document once, scoring the sum of the scores of the sets
/// holding it, added in the sets' order. Read from the bitsets word by word: a prefix
/// that matches half of a million documents builds no list of them.
pub struct SetUnion {
    sets: Vec<Vec<u64>>,
    /// The score of each combination of sets (bit i: set i holds the document), summed
    /// in the sets' order: a document's score is one look-up, with no branch on which
    /// sets hold it.
    sums: Vec<f64>,
    /// The sets' scores (summed one by one past [`MAX_SUMMED_SETS`] sets).
    scores: Vec<f64>,
    /// The sets' words or-ed together.
    any: Vec<u64>,
    /// The word the current document is in, and its bits from the current one up.
    word: usize,
    bits: u64,
    /// Each set's bits in that word (read once per word, not once per document).
    held: Vec<u64>,
    doc: u32,
    count: u64,
}

impl SetUnion {
    pub fn new(sets: Vec<(Vec<u64>, f64)>) -> SetUnion {
        let words = sets.iter().map(|(bits, _)| bits.len()).max().unwrap_or(0);
        let mut any = vec![0u64; words];
        for (bits, _) in &sets {
            for (into, &word) in any.iter_mut().zip(bits) {
                *into |= word;
            }
        }
        let count = any.iter().map(|word| u64::from(word.count_ones())).sum();
        let (sets, scores): (Vec<Vec<u64>>, Vec<f64>) = sets.into_iter().unzip();
        let sums = (0..1usize << scores.len().min(MAX_SUMMED_SETS))
            .map(|combination| scores.iter().enumerate().filter(|(i, _)| combination >> i & 1 == 1).fold(0.0, |sum, (_, score)| sum + score))
            .collect();
        let held = vec![0u64; sets.len()];
        let mut union = SetUnion { sets, sums, scores, any, word: 0, bits: 0, held, doc: END, count };
        union.enter(0, 0);
        union
    }

    /// Moves to word `word`, its bits below `from` dropped, and on to the first member
    /// there or after (END past the last).
    fn enter(&mut self, word: usize, from: u32) {
        self.word = word;
        self.bits = self.any.get(word).map_or(0, |&bits| bits & (u64::MAX << from));
        self.settle();
    }

    /// Stands on the lowest bit left at or after the current word (END past the last).
    fn settle(&mut self) {
        while self.bits == 0 {
            self.word += 1;
            match self.any.get(self.word) {
                Some(&word) => self.bits = word,
                None => {
                    self.doc = END;
                    return;
                }
            }
        }
        for (held, bits) in self.held.iter_mut().zip(&self.sets) {
            *held = bits.get(self.word).copied().unwrap_or(0);
        }
        self.doc = (self.word * 64) as u32 + self.bits.trailing_zeros();
    }
}

impl DocIter for SetUnion {
    fn doc(&self) -> u32 {
        self.doc
    }
    fn next(&mut self) -> u32 {
        if self.doc != END {
            self.bits &= self.bits - 1;
            if self.bits == 0 {
                self.settle();
            } else {
                self.doc = (self.word * 64) as u32 + self.bits.trailing_zeros();
            }
        }
        self.doc
    }
    fn advance(&mut self, target: u32) -> u32 {
        if self.doc < target {
            self.enter(target as usize / 64, target % 64);
        }
        self.doc
    }
    fn drain(&mut self, live: Option<&[bool]>, visit: &mut dyn FnMut(u32, f64)) {
        while self.doc != END {
            // The rest of the current word, then each word after it.
            let base = (self.word * 64) as u32;
            let mut bits = self.bits;
            while bits != 0 {
                let doc = base + bits.trailing_zeros();
                if crate::query::is_live(live, doc) {
                    self.doc = doc;
                    visit(doc, self.score());
                }
                bits &= bits - 1;
            }
            self.bits = 0;
            self.settle();
        }
    }
    fn score(&mut self) -> f64 {
        let bit = self.doc % 64;
        if self.held.len() > MAX_SUMMED_SETS {
            let holding = self.held.iter().zip(&self.scores).filter(|(held, _)| *held >> bit & 1 == 1);
            return holding.fold(0.0, |sum, (_, score)| sum + score);
        }
        let combination = self.held.iter().enumerate().fold(0usize, |at, (i, held)| at | ((held >> bit & 1) as usize) << i);
        self.sums.get(combination).copied().unwrap_or(0.0)
    }
    fn cost(&self) -> u64 {
        self.count
    }
}

/// A conjunction of the iterators (one is itself).
pub fn conjunction<'a>(mut clauses: Vec<Box<dyn DocIter + 'a>>) -> Box<dyn DocIter + 'a> {
    if clauses.len() == 1 {
        if let Some(only) = clauses.pop() {
            return only;
        }
    }
    clauses.sort_by_key(|c| c.cost());
    let mut conjunction = Conjunction { clauses, doc: 0 };
    conjunction.doc = conjunction.align(0);
    Box::new(conjunction)
}

/// A disjunction matching documents that at least `needed` clauses match.
pub fn disjunction<'a>(mut clauses: Vec<Box<dyn DocIter + 'a>>, needed: usize, doc_count: u32) -> Box<dyn DocIter + 'a> {
    if clauses.len() == 1 && needed <= 1 {
        if let Some(only) = clauses.pop() {
            return only;
        }
    }
    if clauses.len() > DENSE_CLAUSES {
        return Box::new(summed(clauses, needed, doc_count));
    }
    let mut disjunction = Disjunction { clauses, needed, doc: 0, matched: 0 };
    disjunction.settle(0);
    Box::new(disjunction)
}

/// Every clause run to its end, scores summed per document (see [`DENSE_CLAUSES`]).
fn summed<'a>(clauses: Vec<Box<dyn DocIter + 'a>>, needed: usize, doc_count: u32) -> DocList {
    let mut sums = vec![0.0f64; doc_count as usize];
    let mut counts = vec![0u32; doc_count as usize];
    let mut error = None;
    for mut clause in clauses {
        while clause.doc() != END {
            let doc = clause.doc() as usize;
            let score = clause.score();
            if let (Some(sum), Some(count)) = (sums.get_mut(doc), counts.get_mut(doc)) {
                *sum += score;
                *count += 1;
            }
            clause.next();
        }
        error = error.or_else(|| clause.error());
    }
    let needed = needed.max(1) as u32;
    let mut docs = Vec::new();
    let mut scores = Vec::new();
    for (doc, (&count, &sum)) in counts.iter().zip(&sums).enumerate() {
        if count >= needed {
            docs.push(doc as u32);
            scores.push(sum);
        }
    }
    let matched = counts.iter().copied().filter(|&c| c >= needed).collect();
    let mut list = DocList::new(docs, Some(scores), 0.0);
    list.error = error;
    list.counts = Some(matched);
    list
}

/// Matches nothing.
pub struct Empty;

impl DocIter for Empty {
    fn doc(&self) -> u32 {
        END
    }
    fn next(&mut self) -> u32 {
        END
    }
    fn advance(&mut self, _: u32) -> u32 {
        END
    }
    fn score(&mut self) -> f64 {
        0.0
    }
    fn cost(&self) -> u64 {
        0
    }
}

/// Every document of the segment (the collector skips deleted ones), one score each.
pub struct AllDocs {
    doc: u32,
    count: u32,
    score: f64,
}

impl AllDocs {
    fn start(mut self) -> AllDocs {
        if self.count == 0 {
            self.doc = END;
        }
        self
    }
}

impl DocIter for AllDocs {
    fn doc(&self) -> u32 {
        self.doc
    }
    fn next(&mut self) -> u32 {
        self.advance(self.doc.saturating_add(1))
    }
    fn advance(&mut self, target: u32) -> u32 {
        if self.doc != END && target > self.doc {
            self.doc = if target < self.count { target } else { END };
        }
        self.doc
    }
    fn score(&mut self) -> f64 {
        self.score
    }
    fn cost(&self) -> u64 {
        u64::from(self.count)
    }
}

/// A list of doc ids (ascending) with a score each, or one score for all.
pub struct DocList {
    docs: Vec<u32>,
    scores: Option<Vec<f64>>,
    constant: f64,
    pos: usize,
    error: Option<Corrupt>,
    /// How many clauses matched each doc, for a disjunction summed into a list.
    counts: Option<Vec<u32>>,
}

impl DocList {
    pub fn new(docs: Vec<u32>, scores: Option<Vec<f64>>, constant: f64) -> DocList {
        DocList { docs, scores, constant, pos: 0, error: None, counts: None }
    }
}

impl DocIter for DocList {
    fn doc(&self) -> u32 {
        self.docs.get(self.pos).copied().unwrap_or(END)
    }
    fn next(&mut self) -> u32 {
        self.pos += 1;
        self.doc()
    }
    fn advance(&mut self, target: u32) -> u32 {
        if self.doc() < target {
            // Mostly the target is the next doc of a disjunction this list is merged into.
            self.pos = gallop(&self.docs, self.pos, target);
        }
        self.doc()
    }
    fn score(&mut self) -> f64 {
        match &self.scores {
            Some(scores) => scores.get(self.pos).copied().unwrap_or(0.0),
            None => self.constant,
        }
    }
    fn cost(&self) -> u64 {
        self.docs.len() as u64
    }
    fn matched(&self) -> usize {
        self.counts.as_ref().and_then(|c| c.get(self.pos)).map_or(1, |&c| c as usize)
    }
    fn error(&self) -> Option<Corrupt> {
        self.error.clone()
    }
}

/// Another iterator's matches, each scoring `score` (a filter scores 0).
pub struct ConstantScore<'a> {
    inner: Box<dyn DocIter + 'a>,
    score: f64,
}

impl DocIter for ConstantScore<'_> {
    fn doc(&self) -> u32 {
        self.inner.doc()
    }
    fn next(&mut self) -> u32 {
        self.inner.next()
    }
    fn advance(&mut self, target: u32) -> u32 {
        self.inner.advance(target)
    }
    fn score(&mut self) -> f64 {
        self.score
    }
    fn cost(&self) -> u64 {
        self.inner.cost()
    }
    fn error(&self) -> Option<Corrupt> {
        self.inner.error()
    }
}

/// Another iterator's scores times a factor.
pub struct Boosted<'a> {
    inner: Box<dyn DocIter + 'a>,
    factor: f64,
}

impl DocIter for Boosted<'_> {
    fn doc(&self) -> u32 {
        self.inner.doc()
    }
    fn next(&mut self) -> u32 {
        self.inner.next()
    }
    fn advance(&mut self, target: u32) -> u32 {
        self.inner.advance(target)
    }
    fn score(&mut self) -> f64 {
        self.inner.score() * self.factor
    }
    fn cost(&self) -> u64 {
        self.inner.cost()
    }
    fn error(&self) -> Option<Corrupt> {
        self.inner.error()
    }
}

/// Documents every clause matches, scores summed; the cheapest clause leads.
pub struct Conjunction<'a> {
    clauses: Vec<Box<dyn DocIter + 'a>>,
    doc: u32,
}

impl Conjunction<'_> {
    /// The first doc at or after `target` that every clause holds (leapfrogging).
    fn align(&mut self, target: u32) -> u32 {
        let Some((lead, rest)) = self.clauses.split_first_mut() else { return END };
        let mut doc = lead.advance(target);
        'search: while doc != END {
            for other in rest.iter_mut() {
                let at = other.advance(doc);
                if at > doc {
                    doc = lead.advance(at);
                    continue 'search;
                }
            }
            return doc;
        }
        END
    }
}

impl DocIter for Conjunction<'_> {
    fn doc(&self) -> u32 {
        self.doc
    }
    fn next(&mut self) -> u32 {
        self.doc = if self.doc == END { END } else { self.align(self.doc + 1) };
        self.doc
    }
    fn advance(&mut self, target: u32) -> u32 {
        if target > self.doc {
            self.doc = self.align(target);
        }
        self.doc
    }
    fn score(&mut self) -> f64 {
        self.clauses.iter_mut().map(|c| c.score()).sum()
    }
    fn cost(&self) -> u64 {
        self.clauses.first().map_or(0, |c| c.cost())
    }
    fn error(&self) -> Option<Corrupt> {
        self.clauses.iter().find_map(|c| c.error())
    }
}

/// Documents at least `needed` clauses match, their matching clauses' scores summed.
pub struct Disjunction<'a> {
    clauses: Vec<Box<dyn DocIter + 'a>>,
    needed: usize,
    doc: u32,
    /// Clauses standing on `doc`.
    matched: usize,
}

impl Disjunction<'_> {
    /// Stands on the first doc at or after `target` that enough clauses hold.
    fn settle(&mut self, target: u32) {
        let mut target = target;
        loop {
            let mut doc = END;
            for clause in &mut self.clauses {
                doc = doc.min(clause.advance(target));
            }
            if doc == END {
                self.doc = END;
                self.matched = 0;
                return;
            }
            let matched = self.clauses.iter().filter(|c| c.doc() == doc).count();
            if matched >= self.needed {
                self.doc = doc;
                self.matched = matched;
                return;
            }
            target = doc + 1;
        }
    }
}

impl DocIter for Disjunction<'_> {
    fn doc(&self) -> u32 {
        self.doc
    }
    fn next(&mut self) -> u32 {
        if self.doc != END {
            self.settle(self.doc + 1);
        }
        self.doc
    }
    fn advance(&mut self, target: u32) -> u32 {
        if target > self.doc {
            self.settle(target);
        }
        self.doc
    }
    fn score(&mut self) -> f64 {
        let doc = self.doc;
        self.clauses.iter_mut().filter(|c| c.doc() == doc).map(|c| c.score()).sum()
    }
    fn cost(&self) -> u64 {
        self.clauses.iter().map(|c| c.cost()).sum()
    }
    fn matched(&self) -> usize {
        self.matched
    }
    fn error(&self) -> Option<Corrupt> {
        self.clauses.iter().find_map(|c| c.error())
    }
}

/// Required clauses with optional ones: the optional scores add where they match, and at
/// least `needed` of them must.
pub struct ReqOpt<'a> {
    required: Box<dyn DocIter + 'a>,
    optional: Box<dyn DocIter + 'a>,
    needed: usize,
}

impl ReqOpt<'_> {
    /// How many optional clauses hold the current doc (the optional side is a
    /// disjunction; a single clause counts 1).
    fn optional_count(&mut self) -> usize {
        let doc = self.required.doc();
        if self.optional.advance(doc) != doc {
            return 0;
        }
        self.optional.matched()
    }

    fn skip_unmatched(&mut self) {
        while self.needed > 0 && self.required.doc() != END && self.optional_count() < self.needed {
            self.required.next();
        }
    }
}

impl DocIter for ReqOpt<'_> {
    fn doc(&self) -> u32 {
        self.required.doc()
    }
    fn next(&mut self) -> u32 {
        self.required.next();
        self.skip_unmatched();
        self.required.doc()
    }
    fn advance(&mut self, target: u32) -> u32 {
        self.required.advance(target);
        self.skip_unmatched();
        self.required.doc()
    }
    fn score(&mut self) -> f64 {
        let doc = self.required.doc();
        let mut score = self.required.score();
        if self.optional.advance(doc) == doc {
            score += self.optional.score();
        }
        score
    }
    fn cost(&self) -> u64 {
        self.required.cost()
    }
    fn error(&self) -> Option<Corrupt> {
        self.required.error().or_else(|| self.optional.error())
    }
}

/// Another iterator's matches less those of the excluded clauses.
pub struct Exclusion<'a> {
    inner: Box<dyn DocIter + 'a>,
    excluded: Vec<Box<dyn DocIter + 'a>>,
}

impl Exclusion<'_> {
    fn skip_excluded(&mut self) {
        loop {
            let doc = self.inner.doc();
            if doc == END {
                return;
            }
            if !self.excluded.iter_mut().any(|e| e.advance(doc) == doc) {
                return;
            }
            self.inner.next();
        }
    }
}

impl DocIter for Exclusion<'_> {
    fn doc(&self) -> u32 {
        self.inner.doc()
    }
    fn next(&mut self) -> u32 {
        self.inner.next();
        self.skip_excluded();
        self.inner.doc()
    }
    fn advance(&mut self, target: u32) -> u32 {
        self.inner.advance(target);
        self.skip_excluded();
        self.inner.doc()
    }
    fn score(&mut self) -> f64 {
        self.inner.score()
    }
    fn cost(&self) -> u64 {
        self.inner.cost()
    }
    fn error(&self) -> Option<Corrupt> {
        self.inner.error().or_else(|| self.excluded.iter().find_map(|e| e.error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bitset of `docs`.
    fn bits(docs: &[u32], words: usize) -> Vec<u64> {
        let mut bits = vec![0u64; words];
        for &doc in docs {
            bits[doc as usize / 64] |= 1 << (doc % 64);
        }
        bits
    }

    /// Every match of an iterator with its score.
    fn drain(mut matches: impl DocIter) -> Vec<(u32, f64)> {
        let mut out = Vec::new();
        while matches.doc() != END {
            out.push((matches.doc(), matches.score()));
            matches.next();
        }
        out
    }

    #[test]
    fn a_union_of_sets_sums_the_scores_of_the_sets_holding_each_document() {
        let sets = |lists: &[(&[u32], f64)]| SetUnion::new(lists.iter().map(|&(docs, score)| (bits(docs, 3), score)).collect());
        let union = sets(&[(&[1, 4, 7, 130], 1.0), (&[0, 4, 9, 63, 64], 2.0), (&[4, 7], 0.5)]);
        assert_eq!(union.cost(), 8);
        assert_eq!(drain(union), vec![(0, 2.0), (1, 1.0), (4, 3.5), (7, 1.5), (9, 2.0), (63, 2.0), (64, 2.0), (130, 1.0)]);
        assert!(drain(sets(&[(&[], 1.0), (&[], 2.0)])).is_empty());
        assert_eq!(drain(sets(&[(&[], 1.0), (&[3], 2.0)])), vec![(3, 2.0)]);
        assert!(drain(SetUnion::new(Vec::new())).is_empty());
        // Past the table's sets, the scores are summed one by one: the same sums.
        let many: Vec<(&[u32], f64)> = (0..MAX_SUMMED_SETS as u32 + 2).map(|i| (&[1u32, 2, 70][..(i as usize % 3) + 1], f64::from(i) + 0.5)).collect();
        let expected = |lists: &[(&[u32], f64)]| -> Vec<(u32, f64)> {
            let sum = |doc: u32| lists.iter().filter(|(docs, _)| docs.contains(&doc)).fold(0.0, |sum, (_, score)| sum + score);
            [1u32, 2, 70].iter().map(|&doc| (doc, sum(doc))).collect()
        };
        assert_eq!(drain(sets(&many)), expected(&many));
        assert_eq!(drain(sets(&many[..MAX_SUMMED_SETS])), expected(&many[..MAX_SUMMED_SETS]));
        // Advancing lands on the first member at or after the target, in any word.
        let mut union = sets(&[(&[1, 4, 7, 130], 1.0), (&[0, 4, 9, 63, 64], 2.0)]);
        assert_eq!(union.advance(5), 7);
        assert_eq!(union.advance(7), 7);
        assert_eq!(union.advance(10), 63);
        assert_eq!(union.advance(65), 130);
        assert_eq!(union.next(), END);
        assert_eq!(union.advance(3), END);
        // Draining visits what stepping does, deleted documents left out.
        let lists: &[(&[u32], f64)] = &[(&[1, 4, 7, 130], 1.0), (&[0, 4, 9, 63, 64, 191], 2.0)];
        let live: Vec<bool> = (0..192).map(|doc| doc % 9 != 0).collect();
        let mut drained = Vec::new();
        let mut union = sets(lists);
        union.advance(2);
        union.drain(Some(&live), &mut |doc, score| drained.push((doc, score)));
        let stepped: Vec<(u32, f64)> = drain(sets(lists)).into_iter().filter(|&(doc, _)| doc >= 2 && live[doc as usize]).collect();
        assert_eq!(drained, stepped);
        assert_eq!(union.doc(), END);
        assert_eq!(sets(&[(&[1], 1.0)]).advance(192), END);
    }
}
