//! Fragment choice: the windows of a text that show the most of the query.
//!
//! A window of about `width` characters slides over the marks. Windows are ranked by the
//! number of distinct query terms they show, then by their *affinity* with the query as
//! typed, then by density:
//!
//! - affinity counts each mark that follows another the way the query's words follow each
//!   other (1, or 2 when both are as typed), plus each distinct term shown as typed; so for
//!   the query `direct talks`, "direct talks" (3 + 2) beats "talking directly" (0), and
//!   "talks" beats "talking" for the query `talks`;
//! - density is marks per character of their span plus `width`, so two marks 90 characters
//!   apart beat one alone, while a tight pair beats three marks spread over a whole window.
//!
//! Up to `count` windows are chosen that way among the marks not yet shown, placed on word
//! or sentence edges (`edges`), and merged where they overlap or touch.

use super::edges::{is_blank, opening_end, place_window, Text};
use super::marks::Mark;

/// One chosen fragment: `[start, end)` of the text, its matches (overlapping marks merged),
/// the distinct terms it shows, and its affinity with the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub start: usize,
    pub end: usize,
    pub matches: Vec<(u32, u32)>,
    pub terms: Vec<u32>,
    pub affinity: u32,
}

/// Counts of terms in a sliding window, indexed by term.
struct Counts {
    per_term: Vec<u32>,
    typed: Vec<u32>,
    distinct: u32,
    distinct_typed: u32,
}

impl Counts {
    fn new(terms: usize) -> Counts {
        Counts { per_term: vec![0; terms], typed: vec![0; terms], distinct: 0, distinct_typed: 0 }
    }

    fn clear(&mut self) {
        self.per_term.fill(0);
        self.typed.fill(0);
        self.distinct = 0;
        self.distinct_typed = 0;
    }

    fn add(&mut self, mark: &Mark) {
        let t = mark.term as usize;
        self.per_term[t] += 1;
        self.distinct += u32::from(self.per_term[t] == 1);
        if mark.typed {
            self.typed[t] += 1;
            self.distinct_typed += u32::from(self.typed[t] == 1);
        }
    }

    fn remove(&mut self, mark: &Mark) {
        let t = mark.term as usize;
        self.per_term[t] -= 1;
        self.distinct -= u32::from(self.per_term[t] == 0);
        if mark.typed {
            self.typed[t] -= 1;
            self.distinct_typed -= u32::from(self.typed[t] == 0);
        }
    }
}

/// A window's rank before density: distinct terms, then affinity.
type Key = (u32, u32);

/// The affinity of the marks `first..=last`: their follow links inside the range.
fn links(marks: &[Mark], first: usize, last: usize) -> u32 {
    marks[first..=last]
        .iter()
        .filter_map(|m| m.follows)
        .filter(|&(j, _)| j >= first && j <= last)
        .map(|(_, weight)| u32::from(weight))
        .sum()
}

/// The marks `first..=last` (none shown yet, none shown between them) whose window ranks
/// best (see the module docs); None when every mark is shown.
pub fn best_window(marks: &[Mark], shown: &[bool], width: usize, terms: usize) -> Option<(usize, usize)> {
    let mut counts = Counts::new(terms);
    let mut best: Option<(Key, f64, (usize, usize))> = None;
    let mut first = 0;
    for (last, mark) in marks.iter().enumerate() {
        if shown[last] {
            counts.clear();
            first = last + 1;
            continue;
        }
        counts.add(mark);
        let last_end = mark.end as usize;
        while first < last && last_end - marks[first].start as usize > width {
            counts.remove(&marks[first]);
            first += 1;
        }
        let key = (counts.distinct, links(marks, first, last) + counts.distinct_typed);
        if best.as_ref().is_some_and(|(best_key, _, _)| key < *best_key) {
            continue;
        }
        let density = (last - first + 1) as f64 / (last_end - marks[first].start as usize + width) as f64;
        let better = match &best {
            Some((best_key, best_density, _)) => key > *best_key || density > *best_density,
            None => true,
        };
        if better {
            best = Some((key, density, (first, last)));
        }
    }
    best.map(|(_, _, range)| range)
}

/// Spans sorted by start, those that overlap as one (CJK bigrams, n-grams, synonyms
/// stacked on one word), so no text is shown twice.
fn merge_overlaps(marks: &[&Mark]) -> Vec<(u32, u32)> {
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for mark in marks {
        match merged.last_mut() {
            Some(previous) if mark.start < previous.1 => previous.1 = previous.1.max(mark.end),
            _ => merged.push((mark.start, mark.end)),
        }
    }
    merged
}

/// The fragment `[start, end)` with the marks inside it.
fn fragment(marks: &[Mark], start: usize, end: usize) -> Fragment {
    let inside_at: Vec<usize> =
        (0..marks.len()).filter(|&i| start <= marks[i].start as usize && marks[i].end as usize <= end).collect();
    let inside: Vec<&Mark> = inside_at.iter().map(|&i| &marks[i]).collect();
    let mut terms: Vec<u32> = inside.iter().map(|m| m.term).collect();
    terms.sort_unstable();
    terms.dedup();
    let mut typed: Vec<u32> = inside.iter().filter(|m| m.typed).map(|m| m.term).collect();
    typed.sort_unstable();
    typed.dedup();
    let followed = inside
        .iter()
        .filter_map(|m| m.follows)
        .filter(|(j, _)| inside_at.binary_search(j).is_ok())
        .map(|(_, weight)| u32::from(weight))
        .sum::<u32>();
    Fragment { start, end, matches: merge_overlaps(&inside), terms, affinity: followed + typed.len() as u32 }
}

/// Up to `count` fragments of `text` (whose marks are `marks`, sorted by start) of about
/// `width` characters, in text order and not overlapping. With no mark: one fragment, the
/// text's opening, with no match. `terms` is how many terms the marks name.
pub fn choose<T: Text + ?Sized>(text: &T, marks: &[Mark], terms: usize, count: usize, width: usize) -> Vec<Fragment> {
    if marks.is_empty() {
        return vec![Fragment { start: 0, end: opening_end(text, width), matches: Vec::new(), terms: Vec::new(), affinity: 0 }];
    }
    if text.len() <= width {
        // The whole field fits (a title): one window, nothing to choose.
        return vec![fragment(marks, 0, text.len())];
    }
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let mut shown = vec![false; marks.len()];
    for _ in 0..count {
        let Some((first, last)) = best_window(marks, &shown, width, terms) else { break };
        let match_end = marks[first..=last].iter().map(|m| m.end as usize).max().unwrap_or(0);
        let (start, end) = place_window(text, marks[first].start as usize, match_end, width);
        windows.push((start, end));
        if windows.len() < count {
            for (flag, mark) in shown.iter_mut().zip(marks) {
                if (mark.start as usize) < end && mark.end as usize > start {
                    *flag = true;
                }
            }
        }
    }
    if windows.len() > 1 {
        windows.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in windows {
            match merged.last_mut() {
                Some(previous) if start <= previous.1 || is_blank(text, previous.1, start) => {
                    previous.1 = previous.1.max(end);
                }
                _ => merged.push((start, end)),
            }
        }
        windows = merged;
    }
    windows.into_iter().map(|(start, end)| fragment(marks, start, end)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::edges::Ascii;
    use super::*;

    fn mark(start: u32, end: u32, term: u32, typed: bool, follows: Option<(usize, u8)>) -> Mark {
        Mark { start, end, term, typed, follows }
    }

    #[test]
    fn the_query_as_typed_and_in_order_wins_over_the_same_terms_elsewhere() {
        let text = format!("They held talks direct. {} Envoys held direct talks today.", "Filler words here. ".repeat(10));
        let at = |word: &str| text.find(word).unwrap() as u32;
        let late = text.rfind("talks").unwrap() as u32;
        let marks = [
            mark(at("talks"), at("talks") + 5, 1, false, None),
            mark(at("direct."), at("direct.") + 6, 0, false, None),
            mark(at("direct "), at("direct ") + 6, 0, true, None),
            mark(late, late + 5, 1, true, Some((2, 2))),
        ];
        let chosen = choose(&Ascii(text.as_bytes()), &marks, 2, 1, 60);
        assert_eq!(chosen.len(), 1);
        let shown = &text[chosen[0].start..chosen[0].end];
        assert!(shown.contains("direct talks"), "{shown:?}");
        assert_eq!(chosen[0].affinity, 4);
        // Without the typed forms and the order, the earlier pair, as dense, wins.
        let plain: Vec<Mark> = marks.iter().map(|m| mark(m.start, m.end, m.term, false, None)).collect();
        let chosen = choose(&Ascii(text.as_bytes()), &plain, 2, 1, 60);
        assert!(text[chosen[0].start..chosen[0].end].contains("talks direct"));
    }

    #[test]
    fn more_distinct_terms_beat_affinity_and_shown_marks_are_skipped() {
        let marks = [mark(0, 5, 0, true, None), mark(6, 11, 1, true, Some((0, 2))), mark(300, 305, 2, false, None)];
        assert_eq!(best_window(&marks, &[false; 3], 80, 3), Some((0, 1)));
        assert_eq!(best_window(&marks, &[true, true, false], 80, 3), Some((2, 2)));
        assert_eq!(best_window(&marks, &[true; 3], 80, 3), None);
    }

    #[test]
    fn no_mark_gives_the_opening_and_a_short_text_one_whole_fragment() {
        let text = "A quiet day. Markets were calm and nothing moved at all.";
        let opening = choose(&Ascii(text.as_bytes()), &[], 0, 1, 20);
        assert_eq!((opening[0].start, opening[0].end), (0, 12));
        let marks = [mark(2, 7, 0, false, None), mark(2, 7, 1, false, None)];
        let whole = choose(&Ascii(text.as_bytes()), &marks, 2, 3, 100);
        assert_eq!(whole, [Fragment { start: 0, end: text.len(), matches: vec![(2, 7)], terms: vec![0, 1], affinity: 0 }]);
    }
}
