//! Analysis: text in, terms with positions (and character offsets) out.
//!
//! The built-in tokenizers and filters of `searchlib/analysis/` are rebuilt here from an
//! analyzer's JSON spec (`spec`), so one chain gives the same terms, positions and offsets
//! whether Python or the core runs it (a property test in `tests/` checks that on arbitrary
//! Unicode). Modules: `unicode` (character classes from Python's tables), `tokenizers`,
//! `filters`, `stem` (compiled Snowball), `cache` (the bounded term cache), `spec`, and
//! `python` (the binding).
//!
//! Positions count the tokenizer's tokens, so a dropped stop word leaves a gap, as in
//! Python's chain; synonyms share their word's position and offsets.

pub mod cache;
pub mod filters;
pub mod normalize;
pub mod python;
pub mod spec;
pub mod stem;
pub mod tokenizers;
pub mod unicode;
#[rustfmt::skip]
#[allow(clippy::all)]
mod unicode_tables;

use cache::TermCache;
use filters::Filter;
use tokenizers::{Chars, RawToken, Tokenizer};

/// Words the term cache holds before it is emptied (about 70 bytes each).
pub const DEFAULT_CACHE_WORDS: usize = 262_144;

/// Why an analyzer spec cannot be built in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisError(pub String);

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnalysisError {}

/// One analyzed token: its term, position, and source span in characters (code points,
/// Python's string offsets), so `text[start:end]` in Python is what it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub term: String,
    pub position: u32,
    pub start: u32,
    pub end: u32,
}

/// A built-in analyzer chain. Each indexing thread owns its own (the term cache inside is
/// not shared), so `&mut self` methods need no lock.
#[derive(Debug, Clone)]
pub struct Analyzer {
    tokenizer: Tokenizer,
    filters: Vec<Filter>,
    /// Whether a filter adds tokens (synonyms): then the per-word cache does not apply.
    expands: bool,
    cache: TermCache,
    chars: Chars,
    raw: Vec<RawToken>,
}

impl Analyzer {
    /// The analyzer an analyzer spec (JSON text: a chain, or a preset as stored in a
    /// manifest's schema) describes; an error for a chain the core does not have (the
    /// caller runs that one in Python).
    pub fn from_spec(spec_json: &str) -> Result<Analyzer, AnalysisError> {
        let (tokenizer, filters) = spec::parse(spec_json)?;
        Ok(Analyzer::new(tokenizer, filters, DEFAULT_CACHE_WORDS))
    }

    /// An analyzer of `tokenizer` and `filters` whose cache holds `cache_words` words.
    pub fn new(tokenizer: Tokenizer, filters: Vec<Filter>, cache_words: usize) -> Analyzer {
        let expands = filters.iter().any(|f| matches!(f, Filter::Synonyms(_)));
        Analyzer { tokenizer, filters, expands, cache: TermCache::new(cache_words), chars: Vec::new(), raw: Vec::new() }
    }

    /// Calls `sink(term, position)` for each indexed term of `text`, in position order.
    /// Dropped tokens (stop words) leave a gap in positions, as in Python's chain.
    pub fn for_each_term(&mut self, text: &str, mut sink: impl FnMut(&str, u32)) {
        self.for_each_token(text, |term, position, _| sink(term, position));
    }

    /// The term at each position of `text` (`None` where a token was dropped), one entry per
    /// tokenizer token: the shape of Python's `Analyzer.terms`. For chains without synonyms.
    pub fn terms_per_position(&mut self, text: &str) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = Vec::new();
        self.for_each_term(text, |term, position| {
            out.resize(position as usize, None);
            out.push(Some(term.to_owned()));
        });
        out.resize(out.len().max(self.raw.len()), None);
        out
    }

    /// The tokens of `text` with their positions and character offsets.
    pub fn tokens(&mut self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        self.for_each_token(text, |term, position, raw| {
            out.push(Token { term: term.to_owned(), position, start: raw.start as u32, end: raw.end as u32 });
        });
        out
    }

    /// Calls `sink(term, position, raw token)` for each indexed term of `text`: the raw
    /// token's offsets without a string per token (highlighting reads them).
    pub fn for_each_token(&mut self, text: &str, mut sink: impl FnMut(&str, u32, &RawToken)) {
        self.tokenizer.tokenize(text, &mut self.chars, &mut self.raw);
        let filters = &self.filters;
        if !self.expands {
            for (position, raw) in self.raw.iter().enumerate() {
                let word = &text[raw.byte_start..raw.byte_end];
                let term = if filters.is_empty() { Some(word) } else { self.cache.get(word, |w| filters::run(filters, w)) };
                if let Some(term) = term {
                    sink(term, position as u32, raw);
                }
            }
            return;
        }
        for (position, raw) in self.raw.iter().enumerate() {
            for term in expand(filters, &text[raw.byte_start..raw.byte_end]) {
                sink(&term, position as u32, raw);
            }
        }
    }

    /// Look-ups and misses of the term cache, and the words it holds.
    pub fn cache_stats(&self) -> (u64, u64, usize) {
        (self.cache.lookups, self.cache.misses, self.cache.len())
    }
}

/// The terms one raw word gives through a chain with synonyms, in Python's order (each
/// term followed by its synonyms, filter by filter), each term once.
fn expand(filters: &[Filter], word: &str) -> Vec<String> {
    let mut stream = vec![word.to_owned()];
    for filter in filters {
        stream = match filter {
            Filter::Synonyms(map) => {
                let mut out = Vec::with_capacity(stream.len());
                for term in stream {
                    let synonyms: Vec<String> =
                        map.get(&term).map_or_else(Vec::new, |list| list.iter().filter(|s| **s != term).cloned().collect());
                    out.push(term);
                    out.extend(synonyms);
                }
                out
            }
            _ => stream.into_iter().filter_map(|term| filter.map(term)).collect(),
        };
    }
    let mut seen = std::collections::HashSet::new();
    stream.retain(|term| seen.insert(term.clone()));
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(spec: &str, text: &str) -> Vec<(String, u32)> {
        let mut analyzer = Analyzer::from_spec(spec).expect("a built-in spec");
        let mut out = Vec::new();
        analyzer.for_each_term(text, |t, p| out.push((t.to_owned(), p)));
        out
    }

    const ENGLISH: &str = r#"{"name": "english", "params": {"stemmer": "snowball"}}"#;

    #[test]
    fn english_drops_stop_words_leaving_gaps_and_stems() {
        let got = terms(ENGLISH, "Talks with Hamas' university");
        assert_eq!(got, [("talk".into(), 0), ("hama".into(), 2), ("univers".into(), 3)]);
    }

    #[test]
    fn tokens_carry_character_offsets() {
        let mut analyzer = Analyzer::from_spec(ENGLISH).unwrap();
        let tokens = analyzer.tokens("Café’s talks");
        assert_eq!(tokens[0], Token { term: "café".into(), position: 0, start: 0, end: 6 });
        assert_eq!(tokens[1], Token { term: "talk".into(), position: 1, start: 7, end: 12 });
        let (lookups, misses, _) = analyzer.cache_stats();
        assert_eq!((lookups, misses), (2, 2));
    }

    #[test]
    fn synonyms_share_positions_and_are_stemmed_once() {
        let spec = r#"{"name": "english", "params": {"stemmer": "snowball", "synonyms": {"cars": ["car", "automobiles"]}}}"#;
        assert_eq!(terms(spec, "cars go"), [("car".into(), 0), ("automobil".into(), 0), ("go".into(), 1)]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in ["", "'", "’s", "\u{301}", "東", "a\u{0}b", "\u{10FFFF}"] {
            for spec in [ENGLISH, r#""standard""#, r#""simple""#, r#""whitespace""#, r#""keyword""#, r#""ngram""#, r#""edge_ngram""#] {
                terms(spec, text);
            }
        }
    }
}
