//! Tokenizers: where tokens start and end, the rules of `searchlib/analysis/tokenizers.py`.
//!
//! Each tokenizer appends raw tokens to a vector, one position each (positions are the
//! vector's indices). A token carries its byte span, to slice its text, and its span in
//! characters (code points), the unit of Python string offsets that highlighting uses.

use super::unicode::{is_ascii_word, is_cjk, is_letter, is_regex_word, is_space, is_word, maybe_cjk};
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
    /// Every gram of `min..=max` characters of each word (`\w` of the `regex` module).
    NGram { min: usize, max: usize },
    /// The prefixes of `min..=max` characters of each word.
    EdgeNGram { min: usize, max: usize },
    /// Runs of letters: the `simple` preset's regex tokenizer `\p{L}+`, the one pattern the
    /// core runs (any other pattern runs in Python, with the `regex` module's semantics,
    /// which no Rust engine matches exactly: empty matches, Unicode version, look-around).
    Letters,
}

/// Scratch space a tokenizer may reuse between texts (the characters of one word).
pub type Chars = Vec<(usize, char)>;

/// The character at byte `at` of `text` and its length in bytes (ASCII decided inline).
#[inline]
fn char_at(text: &str, at: usize) -> (char, usize) {
    let byte = text.as_bytes()[at];
    if byte < 0x80 {
        return (byte as char, 1);
    }
    let c = text[at..].chars().next().unwrap_or('\u{FFFD}');
    (c, c.len_utf8())
}

/// Calls `emit(byte_start, byte_end, char_start, char_end)` for each maximal run of
/// characters where `inside` holds: one pass, no per-character allocation.
fn runs(text: &str, inside: impl Fn(char) -> bool, mut emit: impl FnMut(usize, usize, usize, usize)) {
    let (mut b, mut ci) = (0, 0);
    let n = text.len();
    while b < n {
        let (c, len) = char_at(text, b);
        if !inside(c) {
            b += len;
            ci += 1;
            continue;
        }
        let (sb, sc) = (b, ci);
        b += len;
        ci += 1;
        while b < n {
            let (c, len) = char_at(text, b);
            if !inside(c) {
                break;
            }
            b += len;
            ci += 1;
        }
        emit(sb, b, sc, ci);
    }
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
        Ok(if edge {
            Tokenizer::EdgeNGram { min, max }
        } else {
            Tokenizer::NGram { min, max }
        })
    }

    /// Appends the raw tokens of `text` to `out` (emptied first); `chars` is scratch space.
    pub fn tokenize(&self, text: &str, chars: &mut Chars, out: &mut Vec<RawToken>) {
        out.clear();
        let mut push = |byte_start, byte_end, start, end| {
            out.push(RawToken {
                byte_start,
                byte_end,
                start,
                end,
            })
        };
        match self {
            Tokenizer::UnicodeWords => unicode_words(text, chars, &mut push),
            Tokenizer::Whitespace => runs(text, |c| !is_space(c), push),
            Tokenizer::Letters => runs(text, is_letter, push),
            Tokenizer::Keyword => {
                if !text.is_empty() {
                    push(0, text.len(), 0, text.chars().count());
                }
            }
            Tokenizer::NGram { min, max } | Tokenizer::EdgeNGram { min, max } => {
                let edge = matches!(self, Tokenizer::EdgeNGram { .. });
                runs(text, is_regex_word, |sb, eb, sc, _| {
                    chars.clear();
                    chars.extend(text[sb..eb].char_indices().map(|(b, c)| (sb + b, c)));
                    let length = chars.len();
                    let byte = |i: usize| chars.get(i).map_or(eb, |&(b, _)| b);
                    let starts = if edge { 0..1.min(length) } else { 0..length };
                    for start in starts {
                        for size in *min..=(*max).min(length - start) {
                            push(byte(start), byte(start + size), sc + start, sc + start + size);
                        }
                    }
                });
            }
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Words: `\w+(['’]\w+)*`; a word holding CJK characters (in a text that may hold CJK)
/// is cut into CJK runs, as overlapping bigrams, and the rest, stripped of apostrophes.
fn unicode_words(text: &str, chars: &mut Chars, push: &mut impl FnMut(usize, usize, usize, usize)) {
    if text.is_ascii() {
        return ascii_words(text.as_bytes(), push);
    }
    // No character below U+1100 may be CJK, and every one from there on starts with a byte
    // of 0xE1 or more: a scan of bytes spares decoding texts with accents or Greek only.
    let check_cjk = text.bytes().any(|b| b >= 0xE1) && text.chars().any(maybe_cjk);
    let n = text.len();
    let (mut b, mut ci) = (0, 0);
    while b < n {
        let (c, len) = char_at(text, b);
        b += len;
        ci += 1;
        if !is_word(c) {
            continue;
        }
        let (sb, sc) = (b - len, ci - 1);
        loop {
            while b < n {
                let (c, len) = char_at(text, b);
                if !is_word(c) {
                    break;
                }
                b += len;
                ci += 1;
            }
            // An apostrophe joins two word characters.
            if b < n {
                let (c, len) = char_at(text, b);
                if is_apostrophe(c) && b + len < n && is_word(char_at(text, b + len).0) {
                    b += len;
                    ci += 1;
                    continue;
                }
            }
            break;
        }
        if check_cjk && text[sb..b].chars().any(is_cjk) {
            chars.clear();
            chars.extend(text[sb..b].char_indices().map(|(i, c)| (sb + i, c)));
            split_cjk(chars, b, sc, push);
        } else {
            push(sb, b, sc, ci);
        }
    }
}

/// `unicode_words` over an ASCII text, byte by byte (a byte is a character there, and no
/// word holds CJK): the same tokens as the general loop, which decodes every character,
/// at a fraction of its cost (most stored texts are ASCII, and highlighting analyzes
/// every hit's text again).
fn ascii_words(text: &[u8], push: &mut impl FnMut(usize, usize, usize, usize)) {
    let n = text.len();
    let word = |at: usize| at < n && is_ascii_word(text[at]);
    let mut b = 0;
    while b < n {
        if !is_ascii_word(text[b]) {
            b += 1;
            continue;
        }
        let start = b;
        loop {
            while word(b) {
                b += 1;
            }
            // An apostrophe joins two word characters.
            if b < n && text[b] == b'\'' && word(b + 1) {
                b += 1;
                continue;
            }
            break;
        }
        push(start, b, start, b);
    }
}

/// Cuts one word (`cs`, its characters with byte offsets; `end` its end byte, `first` its
/// first character's offset) into CJK bigrams and other pieces.
fn split_cjk(cs: &[(usize, char)], end: usize, first: usize, push: &mut impl FnMut(usize, usize, usize, usize)) {
    let byte = |i: usize| cs.get(i).map_or(end, |&(b, _)| b);
    let mut emit = |a: usize, b: usize| push(byte(a), byte(b), first + a, first + b);
    let mut a = 0;
    while a < cs.len() {
        let cjk = is_cjk(cs[a].1);
        let mut b = a;
        while b < cs.len() && is_cjk(cs[b].1) == cjk {
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
        out.iter()
            .map(|t| (text[t.byte_start..t.byte_end].to_string(), t.start, t.end))
            .collect()
    }

    fn texts(tokenizer: &Tokenizer, text: &str) -> Vec<String> {
        words(tokenizer, text).into_iter().map(|(w, _, _)| w).collect()
    }

    #[test]
    fn unicode_word_rules() {
        let t = Tokenizer::UnicodeWords;
        assert_eq!(
            texts(&t, "don't rock'n'roll 'quoted' Israel’s"),
            ["don't", "rock'n'roll", "quoted", "Israel’s"]
        );
        assert_eq!(
            texts(&t, "3.14 U.S.A. ceasefire-talks foo_bar"),
            ["3", "14", "U", "S", "A", "ceasefire", "talks", "foo_bar"]
        );
        assert_eq!(texts(&t, "e\u{301}t\u{e9}"), ["e\u{301}t\u{e9}"]);
    }

    #[test]
    fn ascii_texts_are_cut_as_any_other() {
        // The same text after a non-ASCII word and a space takes the general loop.
        let t = Tokenizer::UnicodeWords;
        for text in ["", "'", "a", "a'", "'a", "a'b", "a''b", "a'b'c d_e 9x", " rock'n'roll, 'quoted' it's'", "x\ty\u{7f}z'"] {
            let general = words(&t, &format!("\u{e9} {text}"));
            assert_eq!(general[0].0, "\u{e9}");
            let want: Vec<_> = general[1..].iter().map(|(w, s, e)| (w.clone(), s - 2, e - 2)).collect();
            assert_eq!(words(&t, text), want, "{text:?}");
        }
    }

    #[test]
    fn cjk_bigrams_with_character_offsets() {
        let t = Tokenizer::UnicodeWords;
        assert_eq!(
            words(&t, "é 東京都 x"),
            [
                ("é".into(), 0, 1),
                ("東京".into(), 2, 4),
                ("京都".into(), 3, 5),
                ("x".into(), 6, 7)
            ]
        );
        assert_eq!(texts(&t, "日本's"), ["日本", "s"]);
        assert_eq!(texts(&t, "コーヒー"), ["コー", "ーヒ", "ヒー"]);
        assert_eq!(texts(&t, "東"), ["東"]);
    }

    #[test]
    fn other_tokenizers() {
        assert_eq!(
            texts(&Tokenizer::Whitespace, " talks, now\u{3000}x "),
            ["talks,", "now", "x"]
        );
        assert_eq!(texts(&Tokenizer::Keyword, "a b"), ["a b"]);
        assert!(texts(&Tokenizer::Keyword, "").is_empty());
        assert_eq!(
            texts(&Tokenizer::ngram(2, 3, false).unwrap(), "abcd e"),
            ["ab", "abc", "bc", "bcd", "cd"]
        );
        assert_eq!(
            texts(&Tokenizer::ngram(1, 2, true).unwrap(), "abc de"),
            ["a", "ab", "d", "de"]
        );
        assert_eq!(texts(&Tokenizer::Letters, "ab1cd é"), ["ab", "cd", "é"]);
        assert!(Tokenizer::ngram(0, 2, false).is_err());
        assert!(Tokenizer::ngram(3, 2, false).is_err());
        assert!(Tokenizer::ngram(1, 65, false).is_err());
    }
}
