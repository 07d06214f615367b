//! Fuzzy words: a Levenshtein DFA (the `levenshtein_automata` crate, tantivy's) in which
//! a transposition of two neighbouring characters counts one edit, as in Lucene: the
//! optimal string alignment distance, over characters, not bytes.

use std::sync::OnceLock;

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA, SINK_STATE};

use super::{Automaton, PatternError};

/// Most edits a fuzzy word may allow (the builder's cost grows steeply past 2).
pub const MAX_EDITS: u8 = 2;
/// Longest word given a DFA: its states grow with the word (about 68 per character at
/// two edits, 1 KiB each, so 2.2 MiB at this length); a longer word, which no language's
/// words reach, is compared with every term of its range instead, which the walk's
/// deadline bounds.
pub const MAX_AUTOMATON_CHARS: usize = 32;

/// The parametric builders, one per distance, made once per process (a few ms each).
fn builder(max_edits: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = &BUILDERS[usize::from(max_edits.min(MAX_EDITS))];
    slot.get_or_init(|| LevenshteinAutomatonBuilder::new(max_edits.min(MAX_EDITS), true))
}

/// Makes the parametric builder for `max_edits` now, if no search has yet: a caller
/// that bounds a search's time calls this first, so that a process's first search is
/// not the one that pays for it.
pub fn prepare(max_edits: u8) {
    builder(max_edits);
}

/// The terms within a number of edits of a word.
pub struct FuzzyAutomaton {
    /// None for a word too long for a DFA (every term is then compared in full).
    dfa: Option<DFA>,
    word: Vec<char>,
    max_edits: u8,
}

impl FuzzyAutomaton {
    pub fn new(word: &str, max_edits: u8) -> Result<FuzzyAutomaton, PatternError> {
        if max_edits > MAX_EDITS {
            return Err(PatternError(format!("a fuzzy word allows at most {MAX_EDITS} edits, not {max_edits}")));
        }
        let chars: Vec<char> = word.chars().collect();
        let dfa = (chars.len() <= MAX_AUTOMATON_CHARS).then(|| builder(max_edits).build_dfa(word));
        Ok(FuzzyAutomaton { dfa, word: chars, max_edits })
    }

    /// The edits between `term` and the word (past the bound: the bound plus one).
    pub fn distance_of(&self, term: &[u8]) -> u8 {
        let term: Vec<char> = String::from_utf8_lossy(term).chars().collect();
        osa_distance(&term, &self.word, self.max_edits)
    }
}

impl Automaton for FuzzyAutomaton {
    type State = u32;

    fn start(&mut self) -> u32 {
        self.dfa.as_ref().map_or(1, DFA::initial_state)
    }

    fn step(&mut self, state: u32, byte: u8) -> u32 {
        self.dfa.as_ref().map_or(1, |dfa| dfa.transition(state, byte))
    }

    fn can_match(&self, state: u32) -> bool {
        state != SINK_STATE
    }

    fn is_match(&mut self, state: u32, term: &[u8]) -> bool {
        match &self.dfa {
            Some(dfa) => matches!(dfa.distance(state), Distance::Exact(d) if d <= self.max_edits),
            None => self.distance_of(term) <= self.max_edits,
        }
    }
}

/// The optimal string alignment distance of `a` and `b` (insertions, deletions,
/// substitutions and transpositions of neighbours, each one edit, no substring edited
/// twice), capped at `limit + 1`.
pub fn osa_distance(a: &[char], b: &[char], limit: u8) -> u8 {
    let cap = usize::from(limit) + 1;
    if a.len().abs_diff(b.len()) >= cap {
        return cap as u8;
    }
    let width = b.len() + 1;
    let mut two_back = vec![0usize; width];
    let mut last: Vec<usize> = (0..width).collect();
    let mut current = vec![0usize; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut best = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (last[j] + 1).min(current[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(two_back[j - 2] + 1);
            }
            current[j] = value;
            best = best.min(value);
        }
        if best >= cap {
            return cap as u8;
        }
        std::mem::swap(&mut two_back, &mut last);
        std::mem::swap(&mut last, &mut current);
    }
    last[b.len()].min(cap) as u8
}
