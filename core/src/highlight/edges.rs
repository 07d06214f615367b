//! Where a fragment starts and ends: on word boundaries, preferably where a sentence starts
//! or ends, never inside a match.
//!
//! Offsets are characters (code points), Python's string indices, so the text is read
//! through [`Text`]: its bytes when it is ASCII (the common case, with no copy), else its
//! decoded characters. The character classes are the Python chain's (`analysis::unicode`):
//! white space is the `regex` module's `\s`, and a word is made of word characters,
//! combining marks and apostrophes, so "talks-talks" has edges at the hyphen and a CJK
//! run is one word.

use crate::analysis::unicode::{is_regex_word, is_space as is_space_in_table, is_word};

/// How far an edge may move to reach a word boundary before it cuts a word (a very long
/// "word", or text in a script written without spaces).
pub const MAX_WORD_SCAN: usize = 40;

/// A text indexed by character.
pub trait Text {
    fn len(&self) -> usize;
    fn at(&self, index: usize) -> char;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An ASCII text: one byte per character.
pub struct Ascii<'a>(pub &'a [u8]);

impl Text for Ascii<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn at(&self, index: usize) -> char {
        char::from(self.0[index])
    }
}

/// A text of any script, decoded: one `char` per character.
pub struct Decoded<'a>(pub &'a [char]);

impl Text for Decoded<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn at(&self, index: usize) -> char {
        self.0[index]
    }
}

/// White space as the `regex` module's `\s` has it, with ASCII decided inline (the
/// table's ASCII entries are `\t`..`\r` and the space): edges and formats test every
/// character they pass.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | ' ')
    } else {
        is_space_in_table(c)
    }
}

fn is_word_char(c: char) -> bool {
    is_regex_word(c) || is_word(c) || c == '\'' || c == '\u{2019}'
}

/// The first index in `[from, to)` (clamped to the text) where `test` holds.
fn first<T: Text + ?Sized>(text: &T, from: usize, to: usize, test: impl Fn(char) -> bool) -> Option<usize> {
    (from..to.min(text.len())).find(|&i| test(text.at(i)))
}

/// The last index in `[from, to)` (clamped to the text) where `test` holds.
fn last<T: Text + ?Sized>(text: &T, from: usize, to: usize, test: impl Fn(char) -> bool) -> Option<usize> {
    (from..to.min(text.len())).rev().find(|&i| test(text.at(i)))
}

/// A sentence break found in `[from, to)`: where the white space between two sentences
/// starts and ends, and where the whole break (with its punctuation) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Break {
    gap_start: usize,
    gap_end: usize,
    end: usize,
}

/// A sentence break starting at `at`, if one does, looking no further than `to`: a line
/// break; or the white space after `.`, `!` or `?` (and any closing quote or bracket) when
/// what follows is not a lower-case letter, a digit or more space ("Oct. 7" goes on); or
/// after a mark standing alone, as in tokenized text ("slipstream . an").
fn break_at<T: Text + ?Sized>(text: &T, at: usize, to: usize) -> Option<Break> {
    let c = text.at(at);
    let spaces = |from: usize| (from..to).find(|&i| !is_space(text.at(i))).unwrap_or(to);
    if matches!(c, '.' | '!' | '?') {
        let mut j = at + 1;
        while j < to && matches!(text.at(j), '"' | '\'' | '\u{201D}' | '\u{2019}' | ')' | ']') {
            j += 1;
        }
        let gap_end = spaces(j);
        if gap_end > j && gap_end < to {
            let next = text.at(gap_end);
            if !(next.is_lowercase() || next.is_numeric() || is_space(next)) {
                return Some(Break { gap_start: j, gap_end, end: gap_end });
            }
        }
        if at > 0 && is_space(text.at(at - 1)) {
            let gap_end = spaces(at + 1);
            if gap_end > at + 1 {
                return Some(Break { gap_start: at + 1, gap_end, end: gap_end });
            }
        }
    }
    if c == '\n' {
        let gap_end = spaces(at + 1);
        return Some(Break { gap_start: at, gap_end, end: gap_end });
    }
    None
}

/// The sentence breaks in `[from, to)`, left to right, not overlapping.
fn breaks<T: Text + ?Sized>(text: &T, from: usize, to: usize) -> impl Iterator<Item = Break> + '_ {
    let to = to.min(text.len());
    let mut at = from;
    std::iter::from_fn(move || {
        while at < to {
            if let Some(found) = break_at(text, at, to) {
                at = found.end.max(at + 1);
                return Some(found);
            }
            at += 1;
        }
        None
    })
}

fn is_inside_word<T: Text + ?Sized>(text: &T, index: usize) -> bool {
    0 < index && index < text.len() && is_word_char(text.at(index - 1)) && is_word_char(text.at(index))
}

/// `index`, or the start of the word it is inside (a CJK bigram's run).
pub fn outside_word_before<T: Text + ?Sized>(text: &T, index: usize) -> usize {
    if !is_inside_word(text, index) {
        return index;
    }
    match last(text, index.saturating_sub(MAX_WORD_SCAN), index, |c| !is_word_char(c)) {
        Some(other) => other + 1,
        None if index <= MAX_WORD_SCAN => 0,
        None => index,
    }
}

/// `index`, or the end of the word it is inside.
pub fn outside_word_after<T: Text + ?Sized>(text: &T, index: usize) -> usize {
    if !is_inside_word(text, index) {
        return index;
    }
    match first(text, index, index + MAX_WORD_SCAN, |c| !is_word_char(c)) {
        Some(other) => other,
        None if text.len() - index <= MAX_WORD_SCAN => text.len(),
        None => index,
    }
}

/// An end at `ideal` or before it: the last sentence end after `earliest`, else the end of
/// the word at `ideal`.
pub fn window_end<T: Text + ?Sized>(text: &T, earliest: usize, ideal: usize) -> usize {
    match breaks(text, earliest, ideal).last() {
        Some(found) if found.gap_start > earliest => found.gap_start,
        _ => word_end(text, ideal),
    }
}

/// Moves `index` forward to the start of the next word (never past a word's middle),
/// unless that is more than `MAX_WORD_SCAN` characters away.
pub fn word_start<T: Text + ?Sized>(text: &T, index: usize) -> usize {
    if index == 0 || index >= text.len() || is_space(text.at(index - 1)) {
        return index;
    }
    if let Some(space) = first(text, index, index + MAX_WORD_SCAN, is_space) {
        return first(text, space, space + MAX_WORD_SCAN, |c| !is_space(c)).unwrap_or(space + 1);
    }
    if !is_inside_word(text, index) {
        return index; // beside punctuation: already between words
    }
    first(text, index, index + MAX_WORD_SCAN, |c| !is_word_char(c)).map_or(index, |other| other + 1)
}

/// Moves `index` back to the end of the previous word (never cutting a word), unless that
/// is more than `MAX_WORD_SCAN` characters away.
pub fn word_end<T: Text + ?Sized>(text: &T, index: usize) -> usize {
    if index >= text.len() || index == 0 || is_space(text.at(index)) {
        return index.min(text.len());
    }
    if let Some(space) = last(text, index.saturating_sub(MAX_WORD_SCAN), index, is_space) {
        return last(text, space.saturating_sub(MAX_WORD_SCAN), space, |c| !is_space(c)).map_or(space, |word| word + 1);
    }
    if !is_inside_word(text, index) {
        return index;
    }
    last(text, index.saturating_sub(MAX_WORD_SCAN), index, |c| !is_word_char(c)).map_or(index, |other| other + 1)
}

/// Where the opening fragment (a text with no match) ends: a sentence end near `width`,
/// else a word end.
pub fn opening_end<T: Text + ?Sized>(text: &T, width: usize) -> usize {
    if text.len() <= width {
        return text.len();
    }
    window_end(text, 0, width)
}

/// A `width`-character window around the matches `[match_start, match_end)`, on word or
/// sentence edges: about a third of the room before the matches, the rest after (near the
/// end of the text, all of it before).
pub fn place_window<T: Text + ?Sized>(text: &T, match_start: usize, match_end: usize, width: usize) -> (usize, usize) {
    let length = text.len();
    let slack = width.saturating_sub(match_end - match_start);
    let ideal_start = match_start.saturating_sub(slack / 3).min(length.saturating_sub(width));
    let mut start = ideal_start;
    if start > 0 {
        // A sentence start up to a third of the slack earlier or anywhere later (before
        // the matches), the nearest to the ideal start; else the next word.
        let nearest = breaks(text, ideal_start.saturating_sub(slack / 3), match_start + 1)
            .map(|found| found.gap_end)
            .filter(|&at| at <= match_start)
            .min_by_key(|&at| at.abs_diff(ideal_start));
        start = nearest.unwrap_or_else(|| word_start(text, ideal_start));
    }
    if start >= match_start {
        start = outside_word_before(text, match_start); // never cut a match off
    }
    if start + width >= length {
        return (start, length);
    }
    let end = window_end(text, match_end.max(start + width / 2), start + width);
    (start, if end > match_end { end } else { outside_word_after(text, match_end) })
}

/// Whether `[from, to)` holds nothing but white space.
pub fn is_blank<T: Text + ?Sized>(text: &T, from: usize, to: usize) -> bool {
    first(text, from, to, |c| !is_space(c)).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(text: &str) -> Ascii<'_> {
        Ascii(text.as_bytes())
    }

    #[test]
    fn ascii_space_agrees_with_the_table() {
        for c in (0u8..128).map(char::from) {
            assert_eq!(is_space(c), is_space_in_table(c), "{c:?}");
        }
    }

    #[test]
    fn sentence_breaks_skip_abbreviations_before_digits_and_lower_case() {
        let text = "On Oct. 7 talks began. Then aid. a b\nNext";
        let found: Vec<(usize, usize)> = breaks(&ascii(text), 0, text.len()).map(|b| (b.gap_start, b.gap_end)).collect();
        assert_eq!(found, [(22, 23), (36, 37)]);
        let spaced = "slipstream . an experiment";
        assert_eq!(breaks(&ascii(spaced), 0, spaced.len()).map(|b| b.gap_end).collect::<Vec<_>>(), [13]);
    }

    #[test]
    fn word_edges_never_cut_a_word() {
        let text = ascii("Envoys held direct talks.");
        assert_eq!(word_start(&text, 8), 12);
        assert_eq!(word_end(&text, 14), 11);
        assert_eq!(outside_word_before(&text, 14), 12);
        assert_eq!(outside_word_after(&text, 14), 18);
        let chars: Vec<char> = "東京都 talks".chars().collect();
        assert_eq!(outside_word_before(&Decoded(&chars), 1), 0);
    }

    #[test]
    fn a_window_starts_at_a_sentence_near_its_matches() {
        let text = "Aid arrived late. Direct talks began on Monday and went on for hours.";
        let (start, end) = place_window(&ascii(text), 18, 30, 40);
        assert_eq!(&text[start..end], "Direct talks began on Monday and went on");
        assert_eq!(place_window(&ascii(text), 18, 30, 200), (0, text.len()));
        assert!(is_blank(&ascii(text), 17, 18) && !is_blank(&ascii(text), 16, 18));
    }
}
