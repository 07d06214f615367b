//! Marks: which tokens of a re-analyzed text to highlight, and how they read against the
//! query as typed.
//!
//! A token is marked when its term is one the query looks for anywhere, or when it is part
//! of an occurrence of one of the query's phrases (`phrase`). Each mark also says whether
//! its surface form is a query word as typed (ignoring case: "talks" for the query word
//! "talks", not "talking"), and which earlier mark, if any, it follows the way the query's
//! words follow each other (the next query word at the same distance in positions): that is
//! what lets the fragment chooser prefer "direct talks" to "talking directly".

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::phrase::{occurrences, Phrase};

/// A query word in query order: its term (an index into the targets' terms), its position
/// in the analyzed query, and its surface form as typed, lowercased (None when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub term: usize,
    pub position: u32,
    pub typed: Option<String>,
}

/// What to mark in one field.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// The wanted terms; marks, phrases and words name them by index.
    pub terms: Vec<String>,
    /// Per term: whether it is marked wherever it occurs (not only inside a phrase).
    pub anywhere: Vec<bool>,
    pub phrases: Vec<Phrase>,
    pub words: Vec<QueryWord>,
}

/// One wanted token of the text: term index, position, and span in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub term: u32,
    pub position: u32,
    pub start: u32,
    pub end: u32,
}

/// A token to highlight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub start: u32,
    pub end: u32,
    pub term: u32,
    /// Its surface form is a query word as typed.
    pub typed: bool,
    /// The mark it follows as the query's words follow each other, and how well: 1, or 2
    /// when both are as typed.
    pub follows: Option<(usize, u8)>,
}

/// The marks of a text whose wanted tokens are `found` (in position order), sorted by
/// start. `surface(start, end)` gives a span's text, lowercased.
pub fn marks(targets: &Targets, found: &[Found], surface: impl Fn(u32, u32) -> String) -> Vec<Mark> {
    if found.is_empty() {
        return Vec::new();
    }
    let term_count = targets.terms.len();
    let mut marked: Vec<bool> = found
        .iter()
        .map(|f| targets.anywhere.get(f.term as usize).copied().unwrap_or(false))
        .collect();
    if !targets.phrases.is_empty() {
        let mut positions: Vec<Vec<u32>> = vec![Vec::new(); term_count];
        for f in found {
            if let Some(list) = positions.get_mut(f.term as usize) {
                if list.last() != Some(&f.position) {
                    list.push(f.position);
                }
            }
        }
        let at: HashMap<(u32, u32), usize, RandomState> =
            found.iter().enumerate().map(|(i, f)| ((f.position, f.term), i)).collect();
        for phrase in &targets.phrases {
            for layout in occurrences(phrase, &positions) {
                for (&(term, _), &position) in phrase.slots.iter().zip(&layout) {
                    if let Some(&i) = at.get(&(position, term as u32)) {
                        marked[i] = true;
                    }
                }
            }
        }
    }
    let mut out: Vec<(Mark, u32)> = found
        .iter()
        .zip(&marked)
        .filter(|(_, &keep)| keep)
        .map(|(f, _)| {
            let typed = targets.words.iter().any(|w| {
                w.term == f.term as usize && w.typed.as_deref().is_some_and(|typed| typed == surface(f.start, f.end))
            });
            (Mark { start: f.start, end: f.end, term: f.term, typed, follows: None }, f.position)
        })
        .collect();
    out.sort_by_key(|(m, _)| (m.start, m.end, m.term));
    link_followers(targets, &mut out);
    out.into_iter().map(|(m, _)| m).collect()
}

/// Sets each mark's `follows`: for each pair of consecutive query words, a mark of the
/// second word's term at the first's position plus their distance follows that mark.
fn link_followers(targets: &Targets, marks: &mut [(Mark, u32)]) {
    if targets.words.len() < 2 {
        return;
    }
    let at: HashMap<(u32, u32), usize, RandomState> = marks.iter().enumerate().map(|(i, (m, p))| ((*p, m.term), i)).collect();
    for pair in targets.words.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let Some(distance) = b.position.checked_sub(a.position) else { continue };
        for i in 0..marks.len() {
            let (mark, position) = marks[i];
            if mark.term as usize != b.term {
                continue;
            }
            let Some(before) = position.checked_sub(distance) else { continue };
            if let Some(&j) = at.get(&(before, a.term as u32)) {
                if j == i {
                    continue;
                }
                let weight = 1 + u8::from(mark.typed && marks[j].0.typed);
                if !matches!(mark.follows, Some((_, w)) if w >= weight) {
                    marks[i].0.follows = Some((j, weight));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(list: &[(u32, u32, u32, u32)]) -> Vec<Found> {
        list.iter().map(|&(term, position, start, end)| Found { term, position, start, end }).collect()
    }

    const TEXT: &str = "talking directly; direct talks";

    fn surface(start: u32, end: u32) -> String {
        TEXT.chars().skip(start as usize).take((end - start) as usize).collect::<String>().to_lowercase()
    }

    fn direct_talks() -> Targets {
        Targets {
            terms: vec!["direct".into(), "talk".into()],
            anywhere: vec![true, true],
            phrases: vec![],
            words: vec![
                QueryWord { term: 0, position: 0, typed: Some("direct".into()) },
                QueryWord { term: 1, position: 1, typed: Some("talks".into()) },
            ],
        }
    }

    #[test]
    fn marks_know_their_typed_forms_and_order() {
        let tokens = found(&[(1, 0, 0, 7), (0, 1, 8, 16), (0, 2, 18, 24), (1, 3, 25, 30)]);
        let got = marks(&direct_talks(), &tokens, surface);
        assert_eq!(got.iter().map(|m| m.typed).collect::<Vec<_>>(), [false, false, true, true]);
        // "talking directly" is the wrong order; "direct talks" follows the query, as typed.
        assert_eq!(got.iter().map(|m| m.follows).collect::<Vec<_>>(), [None, None, None, Some((2, 2))]);
    }

    #[test]
    fn phrase_words_are_marked_only_inside_an_occurrence() {
        let mut targets = direct_talks();
        targets.anywhere = vec![false, false];
        targets.phrases = vec![Phrase { slots: vec![(0, 0), (1, 1)], slop: 0 }];
        let tokens = found(&[(1, 0, 0, 7), (0, 1, 8, 16), (0, 2, 18, 24), (1, 3, 25, 30)]);
        let got: Vec<(u32, u32)> = marks(&targets, &tokens, surface).iter().map(|m| (m.start, m.end)).collect();
        assert_eq!(got, [(18, 24), (25, 30)]);
    }

    #[test]
    fn nothing_found_marks_nothing() {
        assert!(marks(&direct_talks(), &[], surface).is_empty());
    }
}
