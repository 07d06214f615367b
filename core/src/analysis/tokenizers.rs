//! Tokenizers: where tokens start and end, the rules of `searchlib/analysis/tokenizers.py`.
//!
//! Each tokenizer appends raw tokens to a vector, one position each (positions are the
//! vector's indices). A token carries its byte span, to slice its text, and its span in
//! characters (code points), the unit of Python string offsets that highlighting uses.

use super::unicode::{is_cjk, is_letter, is_regex_word, is_space, is_word, maybe_cjk};
use super::AnalysisError;

/// The longest n-gram (as in Python): bounds the grams a spec from an untrusted index asks for.
pub const MAX_NGRAM_SIZE: usize = 64;

/// One raw token: byte span (to slice the text) and character span (Python offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawToken {
    pub byte_start: usize,
    pub byte_end: usize,
    pub start: usize,
    pub end: usize,
}

/// A built-in tokenizer.
#[derive(Debug, Clone)]
pub enum Tokenizer {
    /// Unicode words with the apostrophe rule, CJK runs as bigrams.
    UnicodeWords,
    /// Runs of non-whitespace.
    Whitespace,
    /// The whole text as one token.
    Keyword,
    /// Every gram of `min..=max` characters of each word.
    NGram { min: usize, max: usize },
    /// The prefixes of `min..=max` characters of each word.
    EdgeNGram { min: usize, max: usize },
    /// Runs of letters: the `simple` preset's regex tokenizer `\p{L}+`, the one pattern the
    /// core runs (any other pattern runs in Python, with the `regex` module's semantics,
    /// which no Rust engine matches exactly: empty matches, Unicode version, look-around).
    Letters,
}

/// The characters of a text with their byte offsets; index = character offset.
pub type Chars = Vec<(usize, char)>;

fn byte_at(chars: &[(usize, char)], text: &str, index: usize) -> usize {
    chars.get(index).map_or(text.len(), |&(b, _)| b)
}

impl Tokenizer {
    /// A tokenizer for n-grams with checked sizes.
    pub fn ngram(min: i64, max: i64, edge: bool) -> Result<Tokenizer, AnalysisError> {
        if !(1 <= min && min <= max && max <= MAX_NGRAM_SIZE as i64) {
            return Err(AnalysisError(format!(
                "n-gram sizes need 1 <= min_size <= max_size <= {MAX_NGRAM_SIZE}, got {min} and {max}"
            )));
        }
        let (min, max) = (min as usize, max as usize);
        Ok(if edge { Tokenizer::EdgeNGram { min, max } } else { Tokenizer::NGram { min, max } })
    }

    /// Appends the raw tokens of `text` to `out`; `chars` is scratch space.
    pub fn tokenize(&self, text: &str, chars: &mut Chars, out: &mut Vec<RawToken>) {
        out.clear();
        chars.clear();
        chars.extend(text.char_indices());
        let cs: &[(usize, char)] = chars;
        let span = |a: usize, b: usize| RawToken {
            byte_start: byte_at(cs, text, a),
            byte_end: byte_at(cs, text, b),
            start: a,
            end: b,
        };
        match self {
            Tokenizer::UnicodeWords => unicode_words(text, cs, out),
            Tokenizer::Whitespace => runs(cs, |c| !is_space(c), |a, b| out.push(span(a, b))),
            Tokenizer::Letters => runs(cs, is_letter, |a, b| out.push(span(a, b))),
            Tokenizer::Keyword => {
                if !text.is_empty() {
                    out.push(span(0, cs.len()));
                }
            }
            Tokenizer::NGram { min, max } => runs(cs, is_regex_word, |a, b| {
                for start in a..b {
                    for size in *min..=(*max).min(b - start) {
                        out.push(span(start, start + size));
                    }
                }
            }),
            Tokenizer::EdgeNGram { min, max } => runs(cs, is_regex_word, |a, b| {
                for size in *min..=(*max).min(b - a) {
                    out.push(span(a, a + size));
                }
            }),
        }
    }
}

/// Calls `emit(start, end)` for each maximal run of characters where `inside` holds.
fn runs(cs: &[(usize, char)], inside: impl Fn(char) -> bool, mut emit: impl FnMut(usize, usize)) {
    let mut i = 0;
    while i < cs.len() {
        if !inside(cs[i].1) {
            i += 1;
            continue;
        }
        let start = i;
        while i < cs.len() && inside(cs[i].1) {
            i += 1;
        }
        emit(start, i);
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Words: `\w+(['’]\w+)*`; a word holding CJK characters (in a text that may hold CJK)
/// is cut into CJK runs, as overlapping bigrams, and the rest, stripped of apostrophes.
fn unicode_words(text: &str, cs: &[(usize, char)], out: &mut Vec<RawToken>) {
    let check_cjk = !text.is_ascii() && cs.iter().any(|&(_, c)| maybe_cjk(c));
    let span = |a: usize, b: usize| RawToken {
        byte_start: byte_at(cs, text, a),
        byte_end: byte_at(cs, text, b),
        start: a,
        end: b,
    };
    let n = cs.len();
    let mut i = 0;
    while i < n {
        if !is_word(cs[i].1) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && is_word(cs[i].1) {
            i += 1;
        }
        while i + 1 < n && is_apostrophe(cs[i].1) && is_word(cs[i + 1].1) {
            i += 1;
            while i < n && is_word(cs[i].1) {
                i += 1;
            }
        }
        if check_cjk && cs[start..i].iter().any(|&(_, c)| is_cjk(c)) {
            split_cjk(cs, start, i, &mut |a, b| out.push(span(a, b)));
        } else {
            out.push(span(start, i));
        }
    }
}

fn split_cjk(cs: &[(usize, char)], start: usize, end: usize, emit: &mut impl FnMut(usize, usize)) {
    let mut a = start;
    while a < end {
        let cjk = is_cjk(cs[a].1);
        let mut b = a;
        while b < end && is_cjk(cs[b].1) == cjk {
            b += 1;
        }
        if cjk {
            if b - a == 1 {
                emit(a, b);
            } else {
                for k in a..b - 1 {
                    emit(k, k + 2);
                }
            }
        } else {
            let (mut s, mut e) = (a, b);
            while s < e && is_apostrophe(cs[s].1) {
                s += 1;
            }
            while e > s && is_apostrophe(cs[e - 1].1) {
                e -= 1;
            }
            if s < e {
                emit(s, e);
            }
        }
        a = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(tokenizer: &Tokenizer, text: &str) -> Vec<(String, usize, usize)> {
        let (mut chars, mut out) = (Chars::new(), Vec::new());
        tokenizer.tokenize(text, &mut chars, &mut out);
        out.iter().map(|t| (text[t.byte_start..t.byte_end].to_string(), t.start, t.end)).collect()
    }

    fn texts(tokenizer: &Tokenizer, text: &str) -> Vec<String> {
        words(tokenizer, text).into_iter().map(|(w, _, _)| w).collect()
    }

    #[test]
    fn unicode_word_rules() {
        let t = Tokenizer::UnicodeWords;
        assert_eq!(texts(&t, "don't rock'n'roll 'quoted' Israel’s"), ["don't", "rock'n'roll", "quoted", "Israel’s"]);
        assert_eq!(texts(&t, "3.14 U.S.A. ceasefire-talks foo_bar"), ["3", "14", "U", "S", "A", "ceasefire", "talks", "foo_bar"]);
        assert_eq!(texts(&t, "e\u{301}t\u{e9}"), ["e\u{301}t\u{e9}"]);
    }

    #[test]
    fn cjk_bigrams_with_character_offsets() {
        let t = Tokenizer::UnicodeWords;
        assert_eq!(
            words(&t, "é 東京都 x"),
            [("é".into(), 0, 1), ("東京".into(), 2, 4), ("京都".into(), 3, 5), ("x".into(), 6, 7)]
        );
        assert_eq!(texts(&t, "日本's"), ["日本", "s"]);
        assert_eq!(texts(&t, "コーヒー"), ["コー", "ーヒ", "ヒー"]);
        assert_eq!(texts(&t, "東"), ["東"]);
    }

    #[test]
    fn other_tokenizers() {
        assert_eq!(texts(&Tokenizer::Whitespace, " talks, now\u{3000}x "), ["talks,", "now", "x"]);
        assert_eq!(texts(&Tokenizer::Keyword, "a b"), ["a b"]);
        assert!(texts(&Tokenizer::Keyword, "").is_empty());
        assert_eq!(texts(&Tokenizer::ngram(2, 3, false).unwrap(), "abcd e"), ["ab", "abc", "bc", "bcd", "cd"]);
        assert_eq!(texts(&Tokenizer::ngram(1, 2, true).unwrap(), "abc de"), ["a", "ab", "d", "de"]);
        assert_eq!(texts(&Tokenizer::Letters, "ab1cd é"), ["ab", "cd", "é"]);
        assert!(Tokenizer::ngram(0, 2, false).is_err());
        assert!(Tokenizer::ngram(3, 2, false).is_err());
        assert!(Tokenizer::ngram(1, 65, false).is_err());
    }
}
