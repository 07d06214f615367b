//! Character classes and mappings of the Python chain, looked up in generated tables.
//!
//! Rust's and Python's Unicode data differ in version, and Python's own `re` and `regex`
//! modules disagree on `\w`. So that both chains cut and fold every text the same way,
//! the classes and maps come from Python itself (`gen_tables.py` writes
//! `unicode_tables.rs`); the rule is "the Python chain's definition, as of the Unicode
//! version of the Python that generated the tables". ASCII is decided inline.

use super::unicode_tables as tables;

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// ASCII word characters (`[0-9A-Za-z_]`), one look-up per byte.
static ASCII_WORD: [bool; 128] = {
    let mut table = [false; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    table
};

/// An ASCII byte of a word (`[0-9A-Za-z_]`); false for any other byte.
#[inline]
pub fn is_ascii_word(byte: u8) -> bool {
    byte < 0x80 && ASCII_WORD[byte as usize]
}

/// A character of a Unicode word (Python `re`'s `\w` plus combining marks).
#[inline]
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        ASCII_WORD[c as usize]
    } else {
        in_ranges(tables::WORD, c)
    }
}

/// A character of a Han, Hiragana, Katakana or Hangul run (by script extension).
#[inline]
pub fn is_cjk(c: char) -> bool {
    !c.is_ascii() && in_ranges(tables::CJK, c)
}

/// A character of the cheap pre-test for CJK text: text without one is never split.
#[inline]
pub fn maybe_cjk(c: char) -> bool {
    !c.is_ascii() && in_ranges(tables::MAYBE_CJK, c)
}

/// A word character as the `regex` module's `\w` has it (the n-gram tokenizers' words).
#[inline]
pub fn is_regex_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        in_ranges(tables::REGEX_WORD, c)
    }
}

/// Whitespace as the `regex` module's `\s` has it.
#[inline]
pub fn is_space(c: char) -> bool {
    in_ranges(tables::REGEX_SPACE, c)
}

/// A letter (`\p{L}` of the `regex` module).
#[inline]
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_ranges(tables::LETTER, c)
    }
}

fn lookup(map: &'static [(u32, &'static str)], c: char) -> Option<&'static str> {
    let c = c as u32;
    map.binary_search_by_key(&c, |&(k, _)| k).ok().map(|i| map[i].1)
}

/// Appends Python's `str.casefold()` of `c`.
#[inline]
pub fn push_casefold(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if let Some(folded) = lookup(tables::CASEFOLD, c) {
        out.push_str(folded);
    } else {
        out.push(c);
    }
}

/// Appends the ASCII folding of `c` (the Python filter's `_fold_char`).
#[inline]
pub fn push_ascii_fold(out: &mut String, c: char) {
    match lookup(tables::ASCII_FOLD, c) {
        Some(folded) => out.push_str(folded),
        None => out.push(c),
    }
}

/// The Unicode version of the tables.
pub fn unicode_version() -> &'static str {
    tables::UNICODE_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_word('a') && is_word('_') && is_word('é') && is_word('\u{0301}'));
        assert!(!is_word('\'') && !is_word('-') && !is_word(' '));
        assert!(is_cjk('東') && is_cjk('ー') && !is_cjk('a'));
        assert!(maybe_cjk('東') && !maybe_cjk('é'));
        assert!(is_space(' ') && is_space('\u{3000}') && !is_space('x'));
        assert!(is_letter('ß') && !is_letter('1'));
        assert!(is_regex_word('1') && !is_regex_word('-'));
    }

    #[test]
    fn folds() {
        let mut s = String::new();
        for c in "Straße İ".chars() {
            push_casefold(&mut s, c);
        }
        assert_eq!(s, "strasse i\u{307}");
        let mut s = String::new();
        for c in "Øresund café ①".chars() {
            push_ascii_fold(&mut s, c);
        }
        assert_eq!(s, "Oresund cafe 1");
    }
}
