//! Pattern expansion: the terms of one segment's field that a prefix, wildcard, regular
//! expression or fuzzy word picks, found by driving an automaton over the sorted term
//! dictionary.
//!
//! Every pattern is an [`Automaton`] over a term's UTF-8 bytes. The dictionary is walked
//! in order ([`walk`]); a term sharing a prefix with the previous one resumes from the
//! state the shared bytes reached, and when a prefix drives the automaton to a dead
//! state, every term starting with it is skipped with one seek (front coding keeps each
//! block's first term, so the seek is a binary search over block heads). A fuzzy word
//! of a few letters thus reads a few thousand of a large dictionary's terms.
//!
//! On a stemmed field a pattern is matched against the words as written: the walk runs
//! over the field's lexicon (surface word -> term ordinal) and the matches become the
//! terms those words were stemmed to.
//!
//! The work is bounded: a walk stops at a deadline (and says it is incomplete), and past
//! a count only the most frequent terms are kept (with how many matched in all).

use crate::error::{Decoded, Error, InFile};
use crate::segment_reader::SegmentReader;
use crate::termdict::TermDict;

pub mod fuzzy;
pub mod regex;
pub mod walk;

pub use fuzzy::FuzzyAutomaton;
pub use walk::CpuDeadline;
pub use regex::RegexAutomaton;

/// A deterministic automaton over bytes, as the dictionary walk drives it.
pub trait Automaton {
    type State: Copy;

    /// The state before any byte.
    fn start(&mut self) -> Self::State;
    /// The state after `byte`.
    fn step(&mut self, state: Self::State, byte: u8) -> Self::State;
    /// Whether some continuation of the bytes that reached `state` can still match
    /// (false only when none can: the walk then skips every term with that prefix).
    fn can_match(&self, state: Self::State) -> bool;
    /// Whether `term`, whose bytes drove the automaton to `state`, matches.
    fn is_match(&mut self, state: Self::State, term: &[u8]) -> bool;
}

/// What a pattern query asks for, as Python sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternSpec {
    /// Terms starting with these characters.
    Prefix(String),
    /// `*` any run of characters, `?` any one; everything else literal.
    Wildcard(String),
    /// A regular expression in the query language's dialect (Python's `regex` module),
    /// matched against whole terms.
    Regex(String),
    /// Terms within `max_edits` edits (a transposition of neighbours counts one) of
    /// `text`, sharing its first `prefix_length` characters.
    Fuzzy { text: String, max_edits: u8, prefix_length: usize },
}

/// A pattern a user wrote that the automata cannot run (the message names why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

/// How far one expansion may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bounds {
    /// When the walk must stop (it then reports itself incomplete).
    pub deadline: Option<CpuDeadline>,
    /// Keep at most this many terms, the most frequent (ties: the first in term order).
    pub keep: Option<usize>,
}

/// The terms a pattern picked in one segment's field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Ascending term ordinals of the field's dictionary.
    pub ordinals: Vec<u32>,
    /// Those terms' bytes.
    pub terms: Vec<Vec<u8>>,
    /// Their document frequencies (deleted documents included).
    pub doc_freqs: Vec<u32>,
    /// How many terms matched before [`Bounds::keep`] cut them.
    pub matched: usize,
    /// False when the deadline stopped the walk before the dictionary's end.
    pub complete: bool,
}

/// A pattern ready to run: its automaton and the part of the dictionary it can match in.
pub enum Compiled {
    /// Every term of the key range (a prefix).
    Range(Vec<u8>),
    Regex(Box<RegexAutomaton>, Vec<u8>),
    Fuzzy(Box<FuzzyAutomaton>, Vec<u8>),
}

impl Compiled {
    /// Compiles `spec`; the byte string each variant carries is a prefix every match has.
    pub fn new(spec: &PatternSpec) -> Result<Compiled, PatternError> {
        Ok(match spec {
            PatternSpec::Prefix(prefix) => Compiled::Range(prefix.as_bytes().to_vec()),
            PatternSpec::Wildcard(pattern) => {
                let literal: String = pattern.chars().take_while(|c| *c != '*' && *c != '?').collect();
                if literal.len() + 1 == pattern.len() && pattern.ends_with('*') {
                    Compiled::Range(literal.into_bytes())
                } else {
                    Compiled::Regex(Box::new(RegexAutomaton::wildcard(pattern)?), literal.into_bytes())
                }
            }
            PatternSpec::Regex(pattern) => Compiled::Regex(Box::new(RegexAutomaton::new(pattern)?), Vec::new()),
            PatternSpec::Fuzzy { text, max_edits, prefix_length } => {
                let prefix: String = text.chars().take(*prefix_length).collect();
                Compiled::Fuzzy(Box::new(FuzzyAutomaton::new(text, *max_edits)?), prefix.into_bytes())
            }
        })
    }

    /// The ordinals of `dict`'s keys that match (ascending), each with its `doc_freq`
    /// slot, and whether the walk finished before the deadline.
    pub fn matches(&mut self, dict: &TermDict<'_>, deadline: Option<CpuDeadline>) -> Decoded<(Vec<(u32, u32)>, bool)> {
        let mut found = Vec::new();
        let mut keep = |ordinal: u32, _: &[u8], slot: u32| found.push((ordinal, slot));
        let complete = match self {
            Compiled::Range(prefix) => {
                let (start, end) = dict.prefix_range(prefix)?;
                walk::walk(dict, &mut walk::Everything, start, end, deadline, &mut keep)?
            }
            Compiled::Regex(automaton, prefix) => {
                let (start, end) = dict.prefix_range(prefix)?;
                walk::walk(dict, automaton.as_mut(), start, end, deadline, &mut keep)?
            }
            Compiled::Fuzzy(automaton, prefix) => {
                let (start, end) = dict.prefix_range(prefix)?;
                walk::walk(dict, automaton.as_mut(), start, end, deadline, &mut keep)?
            }
        };
        Ok((found, complete))
    }
}

/// Expands `spec` over `field` of `reader`: over its lexicon of written words when
/// `surface` and the field keeps one (the matched words' terms), else over its terms.
/// The outer error is the index's (a damaged file), the inner one the pattern's.
pub fn expand(
    reader: &SegmentReader,
    field: &str,
    spec: &PatternSpec,
    surface: bool,
    bounds: Bounds,
) -> Result<Result<Expanded, PatternError>, Error> {
    match Compiled::new(spec) {
        Ok(mut compiled) => expand_compiled(reader, field, &mut compiled, surface, bounds).map(Ok),
        Err(error) => Ok(Err(error)),
    }
}

/// [`expand`] with the pattern already compiled.
pub fn expand_compiled(
    reader: &SegmentReader,
    field: &str,
    compiled: &mut Compiled,
    surface: bool,
    bounds: Bounds,
) -> Result<Expanded, Error> {
    let Some(dict) = reader.dict(field)? else { return Ok(Expanded { complete: true, ..Expanded::default() }) };
    let lexicon = if surface { reader.lexicon(field)? } else { None };
    let (mut pairs, complete) = in_field(reader, field, (|| match lexicon {
        None => compiled.matches(&dict, bounds.deadline),
        Some(lexicon) => {
            // The listed words give their terms' ordinals; the terms that are words
            // themselves are matched as terms, the others left out.
            let (keys, keys_complete) = compiled.matches(&lexicon.keys(), bounds.deadline)?;
            let (own, own_complete) = compiled.matches(&dict, bounds.deadline)?;
            let mut ordinals: Vec<u32> = keys.into_iter().map(|(_, term)| term).collect();
            ordinals.extend(own.into_iter().map(|(ordinal, _)| ordinal).filter(|&at| lexicon.is_word(u64::from(at))));
            ordinals.sort_unstable();
            ordinals.dedup();
            Ok((walk::doc_freqs_at(&dict, &ordinals)?, keys_complete && own_complete))
        }
    })())?;
    let matched = pairs.len();
    if let Some(keep) = bounds.keep {
        if pairs.len() > keep {
            // The most frequent, ties to the first in term order (selected, not sorted:
            // ordinals are distinct, so which terms are kept is decided); then back in order.
            if let Some(last) = keep.checked_sub(1) {
                pairs.select_nth_unstable_by(last, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            }
            pairs.truncate(keep);
            pairs.sort_unstable_by_key(|pair| pair.0);
        }
    }
    let ordinals: Vec<u32> = pairs.iter().map(|pair| pair.0).collect();
    let (mut terms, mut doc_freqs) = (Vec::with_capacity(ordinals.len()), Vec::with_capacity(ordinals.len()));
    in_field(
        reader,
        field,
        walk::entries_at(&dict, &ordinals, |_, term, info| {
            terms.push(term.to_vec());
            doc_freqs.push(info.doc_freq);
        }),
    )?;
    Ok(Expanded { ordinals, terms, doc_freqs, matched, complete })
}

/// A decoding error of a field's terms, naming the terms file and the field.
fn in_field<T>(reader: &SegmentReader, field: &str, decoded: Decoded<T>) -> Result<T, Error> {
    decoded.in_file(reader.terms.path()).map_err(|error| reader.name_field(error, field))
}

/// A pattern's terms over the segments of one search, as [`expand_across`] finds them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Across {
    /// Every term some segment picked (each segment its most frequent, past a keep),
    /// ascending (by bytes, which for UTF-8 is by code point) and distinct.
    pub terms: Vec<String>,
    /// Row-major, one row per segment: each term's doc_freq there (deleted documents
    /// included), 0 where the segment does not count it (see [`expand_across`]).
    pub doc_freqs: Vec<u32>,
    /// How many terms the segments matched before the keep cut them, added up.
    pub matched: usize,
    /// Whether some segment matched more terms than it kept.
    pub cut: bool,
    /// False when the deadline stopped a walk (the segments after it are not walked).
    pub complete: bool,
}

/// Expands a pattern over `field` of each of `readers` (one search's segments) and
/// unites what they picked, so that the caller gets one batch, not one per segment.
///
/// A segment counts the terms it picked itself. On a stemmed field matched by its
/// written words (`surface`, with two segments or more and some lexicon not empty),
/// the words differ by segment while the terms are searched in all: every segment then
/// counts every united term it holds, so a term one segment found through its words is
/// counted wherever it is. `bounds.keep` applies per segment; the deadline to all the
/// walks together.
pub fn expand_across(readers: &[&SegmentReader], field: &str, compiled: &mut Compiled, surface: bool, bounds: Bounds) -> Result<Across, Error> {
    // Per segment, its terms (checked to be UTF-8, as this format's terms are) and doc_freqs.
    let mut picked: Vec<(Vec<String>, Vec<u32>)> = Vec::with_capacity(readers.len());
    let mut across = Across { complete: true, ..Across::default() };
    for reader in readers {
        let expanded = expand_compiled(reader, field, compiled, surface, bounds)?;
        across.matched += expanded.matched;
        across.cut |= expanded.matched > expanded.terms.len();
        across.complete &= expanded.complete;
        let not_utf8 = || reader.name_field(Error::corrupt(reader.terms.path(), "a term is not UTF-8"), field);
        let terms = expanded.terms.into_iter().map(|term| String::from_utf8(term).map_err(|_| not_utf8())).collect::<Result<_, _>>()?;
        picked.push((terms, expanded.doc_freqs));
        if !across.complete {
            return Ok(across);
        }
    }
    let mut union: Vec<&str> = picked.iter().flat_map(|(terms, _)| terms.iter().map(String::as_str)).collect();
    // Each segment's terms ascend: a stable sort finds those runs and merges them.
    union.sort();
    union.dedup();
    let recount = surface && readers.len() >= 2 && lexicon_in_any(readers, field)?;
    let keys: Vec<&[u8]> = if recount { union.iter().map(|term| term.as_bytes()).collect() } else { Vec::new() };
    let mut doc_freqs = Vec::with_capacity(union.len() * readers.len());
    for (reader, (terms, freqs)) in readers.iter().zip(&picked) {
        if recount {
            match reader.dict(field)? {
                Some(dict) => doc_freqs.extend(in_field(reader, field, walk::doc_freqs_sorted(&dict, &keys))?),
                None => doc_freqs.resize(doc_freqs.len() + union.len(), 0),
            }
            continue;
        }
        // The segment's own terms, ascending like the union: one merge places them.
        let mut own = terms.iter().map(String::as_str).zip(freqs).peekable();
        for &term in &union {
            doc_freqs.push(own.next_if(|&(mine, _)| mine == term).map_or(0, |(_, &freq)| freq));
        }
    }
    across.terms = union.into_iter().map(str::to_owned).collect();
    across.doc_freqs = doc_freqs;
    Ok(across)
}

/// Whether a lexicon of `field` holds a word in any of `readers`.
fn lexicon_in_any(readers: &[&SegmentReader], field: &str) -> Result<bool, Error> {
    for reader in readers {
        if reader.lexicon(field)?.is_some_and(|lexicon| !lexicon.is_empty()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A word near a query word: its bytes, its distance and its term's doc_freq.
pub type NearWord = (Vec<u8>, u8, u32);

/// The words of a field (its lexicon's written words when it keeps one, else its terms)
/// within `max_edits` of `word`, for spelling suggestions, and whether the walk ended
/// before `deadline`. The outer error is the index's, the inner one the word's.
pub fn near_words(
    reader: &SegmentReader,
    field: &str,
    word: &str,
    max_edits: u8,
    deadline: Option<CpuDeadline>,
) -> Result<Result<(Vec<NearWord>, bool), PatternError>, Error> {
    let mut automaton = match FuzzyAutomaton::new(word, max_edits) {
        Ok(automaton) => automaton,
        Err(error) => return Ok(Err(error)),
    };
    let Some(dict) = reader.dict(field)? else { return Ok(Ok((Vec::new(), true))) };
    let lexicon = reader.lexicon(field)?;
    let mut words: Vec<NearWord> = Vec::new();
    let mut complete = true;
    if let Some(lexicon) = &lexicon {
        // The listed words: each slot is its term's ordinal, whose doc_freq is the word's.
        let keys = lexicon.keys();
        let mut slots: Vec<u32> = Vec::new();
        complete &= in_field(
            reader,
            field,
            walk::walk(&keys, &mut automaton, 0, keys.len(), deadline, &mut |_, key, slot| {
                words.push((key.to_vec(), 0, 0));
                slots.push(slot);
            }),
        )?;
        let mut terms = slots.clone();
        terms.sort_unstable();
        terms.dedup();
        let freqs = in_field(reader, field, walk::doc_freqs_at(&dict, &terms))?;
        for ((_, _, doc_freq), slot) in words.iter_mut().zip(&slots) {
            *doc_freq = terms.binary_search(slot).ok().and_then(|at| freqs.get(at)).map_or(0, |pair| pair.1);
        }
    }
    // The terms: all of them without a lexicon, else those that are words themselves.
    complete &= in_field(
        reader,
        field,
        walk::walk(&dict, &mut automaton, 0, dict.len(), deadline, &mut |ordinal, term, doc_freq| {
            if lexicon.as_ref().map_or(true, |lexicon| lexicon.is_word(u64::from(ordinal))) {
                words.push((term.to_vec(), 0, doc_freq));
            }
        }),
    )?;
    for (word, distance, _) in &mut words {
        *distance = automaton.distance_of(word);
    }
    Ok(Ok((words, complete)))
}

#[cfg(test)]
mod tests;
