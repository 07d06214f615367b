//! Highlighting: the best fragments of a stored text, with the query's matches marked.
//!
//! A hit's stored text is analyzed again, with offsets, by the field's own chain (the
//! core's analyzer; a chain with a part written in Python hands over its wanted tokens
//! instead), so a token matches when its term is a query term and its mark covers the
//! exact source span. Then:
//!
//! - `marks`: which tokens to mark (plain terms anywhere, phrase words only inside an
//!   occurrence, by Lucene's rule: `phrase`), and how each reads against the query as
//!   typed (its surface form, its order);
//! - `fragments`: the windows that show the most distinct terms, then the query as typed
//!   and in order, then the densest;
//! - `edges`: where each window starts and ends, on word and sentence boundaries;
//! - `render`: the fragments as plain text, ANSI or HTML.
//!
//! A hit with several stored text fields shows the field whose fragments rank best
//! (`Highlight::rank`).
//!
//! Everything is in characters (code points), Python's string offsets. Only the first
//! `max_chars` characters are searched for matches, so the work per hit is bounded.

pub mod edges;
pub mod fragments;
pub mod marks;
pub mod phrase;
pub mod render;

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::analysis::Analyzer;
use edges::{word_end, Ascii, Decoded, Text};
use fragments::{choose, Fragment};
use marks::{marks, Found, Mark, Targets};

/// How to cut fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub count: usize,
    pub width: usize,
    pub max_chars: usize,
}

/// The fragments of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub fragments: Vec<Fragment>,
    /// Nothing matched: the one fragment is the text's opening.
    pub is_opening: bool,
    /// The text is longer than `max_chars`, and only that many characters were searched.
    pub is_truncated: bool,
    /// The text's length in characters.
    pub length: usize,
}

/// A field's rank: distinct terms, affinity, matches, text length.
pub type Rank = (usize, u32, usize, usize);

impl Highlight {
    /// How well these fragments show the query, to choose a hit's field: distinct terms,
    /// then affinity with the query as typed, then matches, then the text's length (in
    /// characters).
    pub fn rank(&self) -> Rank {
        let mut terms: Vec<u32> = self.fragments.iter().flat_map(|f| f.terms.iter().copied()).collect();
        terms.sort_unstable();
        terms.dedup();
        let affinity = self.fragments.iter().map(|f| f.affinity).sum();
        let matches = self.fragments.iter().map(|f| f.matches.len()).sum();
        (terms.len(), affinity, matches, self.length)
    }
}

/// A query's targets in one field, with a look-up from term to its index.
#[derive(Debug, Clone)]
pub struct Highlighter {
    pub targets: Targets,
    index: HashMap<String, u32, RandomState>,
    /// One bit per `sketch` of the terms: a token whose term's bit is clear is no target,
    /// which most tokens of a text are, so they skip the look-up in `index`.
    sketches: u64,
}

/// A 6-bit digest of a term from its length and first and last bytes: as cheap as it gets
/// per token, and distinct for most words of a text and the few terms of a query.
#[inline]
fn sketch(term: &str) -> u64 {
    let bytes = term.as_bytes();
    let (first, last) = (bytes.first().copied().unwrap_or(0), bytes.last().copied().unwrap_or(0));
    let mixed = (bytes.len() as u32).wrapping_mul(0x9E37_79B1) ^ u32::from(first).wrapping_mul(0x85EB_CA77) ^ u32::from(last);
    1 << (mixed.wrapping_mul(0xC2B2_AE3D) >> 26)
}

/// Where a text's wanted tokens come from: the core's analyzer, or a chain that runs in
/// Python, which found them already (in position order; those past `max_chars` are left
/// out here).
pub enum Source<'a> {
    Core(&'a mut Analyzer),
    Tokens(&'a [Found]),
}

impl Highlighter {
    pub fn new(mut targets: Targets) -> Highlighter {
        for word in &mut targets.words {
            word.typed = word.typed.take().map(|typed| typed.to_lowercase());
        }
        let index = targets.terms.iter().enumerate().map(|(i, term)| (term.clone(), i as u32)).collect();
        let sketches = targets.terms.iter().fold(0, |bits, term| bits | sketch(term));
        Highlighter { targets, index, sketches }
    }

    /// Up to `options.count` fragments of `text`.
    pub fn highlight(&self, source: Source<'_>, text: &str, options: Options) -> Highlight {
        with_chars(text, |chars| {
            let (marked, is_truncated) = self.marks_in(chars, text, source, options.max_chars);
            let fragments = choose(chars, &marked, self.targets.terms.len(), options.count.max(1), options.width.max(1));
            Highlight { is_opening: marked.is_empty(), is_truncated, fragments, length: chars.len() }
        })
    }

    /// The marks of `text`'s first `max_chars` characters, sorted by start.
    pub fn marks(&self, source: Source<'_>, text: &str, max_chars: usize) -> Vec<Mark> {
        with_chars(text, |chars| self.marks_in(chars, text, source, max_chars).0)
    }

    /// The marks, and whether the text was cut at `max_chars` (less a word cut in two).
    fn marks_in(&self, chars: &dyn Text, text: &str, source: Source<'_>, max_chars: usize) -> (Vec<Mark>, bool) {
        let is_truncated = chars.len() > max_chars;
        let (searched, limit) = if is_truncated {
            let cut = word_end(chars, max_chars);
            (&text[..text.char_indices().nth(cut).map_or(text.len(), |(at, _)| at)], cut)
        } else {
            (text, chars.len())
        };
        let mut found = Vec::new();
        if !self.targets.terms.is_empty() {
            match source {
                Source::Core(analyzer) => analyzer.for_each_token(searched, |term, position, raw| {
                    if sketch(term) & self.sketches == 0 {
                        return;
                    }
                    if let Some(&id) = self.index.get(term) {
                        found.push(Found { term: id, position, start: raw.start as u32, end: raw.end as u32 });
                    }
                }),
                Source::Tokens(tokens) => found.extend(
                    tokens.iter().filter(|f| f.end as usize <= limit && (f.term as usize) < self.targets.terms.len()),
                ),
            }
        }
        let surface = |start: u32, end: u32| -> String {
            (start as usize..end as usize).map(|i| chars.at(i)).collect::<String>().to_lowercase()
        };
        (marks(&self.targets, &found, surface), is_truncated)
    }
}

/// Runs `work` over `text` indexed by character: its bytes when it is ASCII, else its
/// decoded characters.
fn with_chars<R>(text: &str, work: impl FnOnce(&dyn Text) -> R) -> R {
    if text.is_ascii() {
        work(&Ascii(text.as_bytes()))
    } else {
        let mut chars: Vec<char> = Vec::with_capacity(text.len()); // never fewer bytes than characters
        chars.extend(text.chars());
        work(&Decoded(&chars))
    }
}

#[cfg(test)]
mod tests {
    use super::marks::QueryWord;
    use super::phrase::Phrase;
    use super::*;

    const ENGLISH: &str = r#"{"name": "english", "params": {"stemmer": "snowball"}}"#;

    fn direct_talks(typed: bool) -> Highlighter {
        let word = |term, position, text: &str| QueryWord { term, position, typed: typed.then(|| text.to_owned()) };
        Highlighter::new(Targets {
            terms: vec!["direct".into(), "talk".into()],
            anywhere: vec![true, true],
            phrases: vec![],
            words: vec![word(0, 0, "Direct"), word(1, 1, "TALKS")],
        })
    }

    fn shown(highlight: &Highlight, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        highlight.fragments.iter().map(|f| chars[f.start..f.end].iter().collect()).collect()
    }

    const OPTIONS: Options = Options { count: 1, width: 60, max_chars: 1_000_000 };

    #[test]
    fn the_fragment_with_the_query_as_typed_wins() {
        let text = format!(
            "The administration is talking directly to Hamas. {}Envoys held direct talks with Hamas.",
            "Other news of the day filled the page. ".repeat(4)
        );
        let mut analyzer = Analyzer::from_spec(ENGLISH).unwrap();
        let typed = direct_talks(true).highlight(Source::Core(&mut analyzer), &text, OPTIONS);
        assert!(shown(&typed, &text)[0].contains("direct talks"), "{:?}", shown(&typed, &text));
        assert!(!typed.is_opening && !typed.is_truncated);
        let untyped = direct_talks(false).highlight(Source::Core(&mut analyzer), &text, OPTIONS);
        assert!(shown(&untyped, &text)[0].contains("direct talks"), "the query's order alone decides too");
    }

    #[test]
    fn offsets_are_characters_and_long_texts_are_cut() {
        let text = "Café talks — direct talks";
        let mut analyzer = Analyzer::from_spec(ENGLISH).unwrap();
        let got = direct_talks(true).highlight(Source::Core(&mut analyzer), text, OPTIONS);
        assert_eq!(got.fragments[0].matches, [(5, 10), (13, 19), (20, 25)]);
        let cut = direct_talks(true).highlight(Source::Core(&mut analyzer), text, Options { max_chars: 12, ..OPTIONS });
        assert!(cut.is_truncated);
        assert_eq!(cut.fragments[0].matches, [(5, 10)]);
    }

    #[test]
    fn a_phrase_marks_only_its_occurrence_and_no_match_gives_the_opening() {
        let highlighter = Highlighter::new(Targets {
            terms: vec!["direct".into(), "talk".into()],
            anywhere: vec![false, false],
            phrases: vec![Phrase { slots: vec![(0, 0), (1, 1)], slop: 0 }],
            words: vec![],
        });
        let text = "Direct flights resumed; talks stalled. Then direct talks began.";
        let mut analyzer = Analyzer::from_spec(ENGLISH).unwrap();
        let got = highlighter.highlight(Source::Core(&mut analyzer), text, OPTIONS);
        assert_eq!(got.fragments[0].matches, [(44, 50), (51, 56)]);
        let none = highlighter.highlight(Source::Core(&mut analyzer), "Nothing here at all.", OPTIONS);
        assert!(none.is_opening && none.fragments[0].matches.is_empty());
        let found = [Found { term: 0, position: 7, start: 44, end: 50 }, Found { term: 1, position: 8, start: 51, end: 56 }];
        assert_eq!(highlighter.highlight(Source::Tokens(&found), text, OPTIONS), got);
        assert_eq!(highlighter.marks(Source::Tokens(&found), text, 30).len(), 0, "past max_chars");
    }
}
