//! The automata walks against brute force over random seeded term lists.

use std::time::Duration;

use super::fuzzy::osa_distance;
use super::regex::translate;
use super::*;
use crate::termdict::{TermDict, TermDictWriter};

/// A small seeded generator (xorshift64*), so the term lists are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Terms over a small alphabet (with two-byte and four-byte characters), so that many
/// share prefixes and whole runs die together; sorted by bytes, distinct.
fn random_terms(rng: &mut Rng, count: usize) -> Vec<String> {
    const ALPHABET: [char; 7] = ['a', 'b', 'c', 'd', 'é', 'ÿ', '𝄞'];
    let mut terms: Vec<String> = (0..count)
        .map(|_| {
            let len = 1 + rng.below(7);
            (0..len)
                .map(|_| {
                    let width = if rng.below(4) == 0 { 7 } else { 4 };
                    ALPHABET[rng.below(width)]
                })
                .collect()
        })
        .collect();
    terms.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    terms.dedup();
    terms
}

fn dictionary(terms: &[String]) -> (Vec<u8>, Vec<u8>, u64) {
    let mut writer = TermDictWriter::new();
    for (i, term) in terms.iter().enumerate() {
        writer.add(term.as_bytes(), (i % 13) as u32 + 1, 1, 0);
    }
    writer.finish()
}

fn expanded(spec: &PatternSpec, dict: &TermDict<'_>) -> Vec<u32> {
    let mut compiled = Compiled::new(spec).unwrap();
    let (found, complete) = compiled.matches(dict, None).unwrap();
    assert!(complete);
    found.into_iter().map(|(ordinal, _)| ordinal).collect()
}

fn brute(terms: &[String], keep: impl Fn(&str) -> bool) -> Vec<u32> {
    terms.iter().enumerate().filter(|(_, t)| keep(t)).map(|(i, _)| i as u32).collect()
}

/// Glob matching by recursion over characters: the oracle for wildcards.
fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

/// The optimal string alignment distance by its definition (memoless recursion).
fn osa_reference(a: &[char], b: &[char]) -> usize {
    if a.is_empty() || b.is_empty() {
        return a.len() + b.len();
    }
    let (i, j) = (a.len(), b.len());
    let mut best = (osa_reference(&a[..i - 1], b) + 1)
        .min(osa_reference(a, &b[..j - 1]) + 1)
        .min(osa_reference(&a[..i - 1], &b[..j - 1]) + usize::from(a[i - 1] != b[j - 1]));
    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
        best = best.min(osa_reference(&a[..i - 2], &b[..j - 2]) + 1);
    }
    best
}

#[test]
fn osa_distance_is_the_reference_distance_capped() {
    let mut rng = Rng(7);
    let alphabet = ['a', 'b', 'c', 'é'];
    for _ in 0..3000 {
        let a: Vec<char> = (0..rng.below(6)).map(|_| alphabet[rng.below(4)]).collect();
        let b: Vec<char> = (0..rng.below(6)).map(|_| alphabet[rng.below(4)]).collect();
        let limit = rng.below(3) as u8;
        let expected = osa_reference(&a, &b).min(usize::from(limit) + 1) as u8;
        assert_eq!(osa_distance(&a, &b, limit), expected, "{a:?} {b:?}");
    }
    let chars = |s: &str| s.chars().collect::<Vec<_>>();
    assert_eq!(osa_distance(&chars("talsk"), &chars("talks"), 2), 1);
    // OSA, not full Damerau-Levenshtein: "ca" -> "abc" is 3 (no edit inside a swap).
    assert_eq!(osa_distance(&chars("ca"), &chars("abc"), 3), 3);
}

#[test]
fn fuzzy_walk_matches_brute_force_distance() {
    // The capped distance is checked against the definition above.
    let mut rng = Rng(11);
    for round in 0..6 {
        let terms = random_terms(&mut rng, 400 + round * 500);
        let (data, index, count) = dictionary(&terms);
        let dict = TermDict::new(&data, &index, count).unwrap();
        for _ in 0..25 {
            let word = terms[rng.below(terms.len())].clone();
            let mut word: Vec<char> = word.chars().collect();
            if rng.below(2) == 0 && !word.is_empty() {
                word.remove(rng.below(word.len())); // a word the dictionary may lack
            }
            let word: String = word.into_iter().collect();
            let max_edits = rng.below(3) as u8;
            let prefix_length = rng.below(3);
            let spec = PatternSpec::Fuzzy { text: word.clone(), max_edits, prefix_length };
            let prefix: String = word.chars().take(prefix_length).collect();
            let query: Vec<char> = word.chars().collect();
            let expected = brute(&terms, |t| {
                t.starts_with(&prefix) && osa_distance(&t.chars().collect::<Vec<_>>(), &query, max_edits) <= max_edits
            });
            assert_eq!(expanded(&spec, &dict), expected, "{word}~{max_edits} prefix {prefix_length}");
        }
    }
}

#[test]
fn a_word_too_long_for_a_dfa_is_compared_in_full() {
    let long: String = "ab".repeat(fuzzy::MAX_AUTOMATON_CHARS);
    let terms: Vec<String> = vec![format!("{long}c"), long.clone(), format!("x{long}"), "ab".into()];
    let mut sorted = terms.clone();
    sorted.sort();
    let (data, index, count) = dictionary(&sorted);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let spec = PatternSpec::Fuzzy { text: format!("{long}cd"), max_edits: 2, prefix_length: 0 };
    let expected = brute(&sorted, |t| t.starts_with(&long) && t.len() >= long.len());
    assert_eq!(expanded(&spec, &dict), expected);
    assert!(Compiled::new(&PatternSpec::Fuzzy { text: "a".into(), max_edits: 3, prefix_length: 0 }).is_err());
}

#[test]
fn wildcard_and_prefix_walks_match_brute_force() {
    let mut rng = Rng(23);
    let terms = random_terms(&mut rng, 3000);
    let (data, index, count) = dictionary(&terms);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let pieces = ["a", "b", "é", "𝄞", "*", "?", "ca", "d"];
    for _ in 0..300 {
        let pattern: String = (0..1 + rng.below(5)).map(|_| pieces[rng.below(pieces.len())]).collect();
        let chars: Vec<char> = pattern.chars().collect();
        let expected = brute(&terms, |t| glob(&chars, &t.chars().collect::<Vec<_>>()));
        assert_eq!(expanded(&PatternSpec::Wildcard(pattern.clone()), &dict), expected, "wildcard {pattern}");
        let prefix: String = pattern.replace(['*', '?'], "");
        let expected = brute(&terms, |t| t.starts_with(&prefix));
        assert_eq!(expanded(&PatternSpec::Prefix(prefix.clone()), &dict), expected, "prefix {prefix}");
    }
}

#[test]
fn regex_walk_matches_the_regex_crate_over_every_term() {
    let mut rng = Rng(31);
    let terms = random_terms(&mut rng, 3000);
    let (data, index, count) = dictionary(&terms);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let patterns = [
        "a.*b", "[ab]+", "(ab|cd)*d?", "é.", ".{2,3}", "[^a]*", "a?b?c?d?", "(?i)A.c", "\\w+é", ".*𝄞",
        "d{2}.*", "(a|b)(c|d)", "[a-c]{1,2}ÿ?", "", ".*", "c", "\\bab", "ab\\b.*", "[[:alpha:]]{3}", "a{,2}b",
    ];
    for pattern in patterns {
        let oracle = ::regex::Regex::new(&format!("^(?:{})$", translate(pattern).unwrap())).unwrap();
        let expected = brute(&terms, |t| oracle.is_match(t));
        assert_eq!(expanded(&PatternSpec::Regex(pattern.into()), &dict), expected, "regex /{pattern}/");
    }
}

#[test]
fn python_dialect_is_mapped_or_refused_by_name() {
    // What Python's regex module reads literally stays literal.
    assert_eq!(translate("[[]").unwrap(), "[\\[]");
    assert_eq!(translate("[a&&b]").unwrap(), "[a&\\&b]");
    assert_eq!(translate("[]a]").unwrap(), "[\\]a]");
    assert_eq!(translate("a{x}").unwrap(), "a\\{x\\}");
    assert_eq!(translate("a{,3}").unwrap(), "a{0,3}");
    assert_eq!(translate("a\\Z").unwrap(), "a\\z");
    assert_eq!(translate("a(?#note)b").unwrap(), "ab");
    assert_eq!(translate("a(?s)?b(?i)").unwrap(), "(?si)a?b");
    assert_eq!(translate("(?i:a)").unwrap(), "(?i:a)");
    assert_eq!(translate("[[:digit:]x]").unwrap(), "[[:digit:]x]");
    assert_eq!(translate("\\p{L}{2}\\x{e9}").unwrap(), "\\p{L}{2}\\x{e9}");
    for (pattern, named) in [
        ("a(?=b)", "look-around"),
        ("(?<!a)b", "look-around"),
        ("(a)\\1", "backreference"),
        ("(?>ab)", "atomic group"),
        ("a*+", "possessive"),
        ("a{2}+", "possessive"),
        ("(?(1)a|b)", "conditional"),
        ("(?a)b", "inline flag (?a)"),
    ] {
        let error = RegexAutomaton::new(pattern).err().unwrap_or_else(|| panic!("{pattern} was accepted"));
        assert!(error.0.contains(named), "{pattern}: {}", error.0);
    }
    assert!(RegexAutomaton::new("\\w{1000}{1000}").is_err());
    assert!(RegexAutomaton::new("[a").is_err());
}

#[test]
fn a_lexicon_walks_like_a_dictionary_and_gives_term_ordinals() {
    // A lexicon's slot is the ordinal of the term its word became.
    let words = ["license", "licensed", "licenses", "licensing", "negotiate", "negotiating", "negotiations"];
    let stems = ["licens", "negoti"];
    let mut writer = TermDictWriter::keys_only();
    for word in words {
        writer.add(word.as_bytes(), u32::from(word.starts_with('n')), 0, 0);
    }
    let (data, index, count) = writer.finish();
    let lexicon = TermDict::keys_only(&data, &index, count).unwrap();
    let mut compiled = Compiled::new(&PatternSpec::Regex("licen[cs]e".into())).unwrap();
    assert_eq!(compiled.matches(&lexicon, None).unwrap(), (vec![(0, 0)], true));
    let mut compiled = Compiled::new(&PatternSpec::Prefix("negotiat".into())).unwrap();
    let (found, _) = compiled.matches(&lexicon, None).unwrap();
    assert_eq!(found.iter().map(|f| stems[f.1 as usize]).collect::<Vec<_>>(), ["negoti"; 3]);
    let (data, index, count) = dictionary(&stems.map(String::from));
    let dict = TermDict::new(&data, &index, count).unwrap();
    assert_eq!(walk::doc_freqs_at(&dict, &[0, 1]).unwrap(), vec![(0, 1), (1, 2)]);
    assert!(walk::doc_freqs_at(&dict, &[2]).is_err());
    let keys: [&[u8]; 5] = [b"a", b"licens", b"m", b"negoti", b"z"];
    assert_eq!(walk::doc_freqs_sorted(&dict, &keys).unwrap(), vec![0, 1, 0, 2, 0]);
}

#[test]
fn sorted_look_ups_find_what_find_finds() {
    let mut rng = Rng(41);
    let terms = random_terms(&mut rng, 3000);
    let (data, index, count) = dictionary(&terms);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let mut keys: Vec<String> = (0..800).map(|_| terms[rng.below(terms.len())].clone()).collect();
    keys.extend(random_terms(&mut rng, 400)); // some the dictionary lacks
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let expected: Vec<u32> = keys
        .iter()
        .map(|k| dict.find(k.as_bytes()).unwrap().map_or(0, |at| dict.get(at).unwrap().1.doc_freq))
        .collect();
    assert_eq!(walk::doc_freqs_sorted(&dict, &refs).unwrap(), expected);
    // A few keys spread over the whole dictionary are sought one by one: the same counts.
    let few: Vec<&[u8]> = refs.iter().step_by(97).copied().collect();
    let few_expected: Vec<u32> = expected.iter().step_by(97).copied().collect();
    assert!(few.len() * 8 < terms.len() / 2);
    assert_eq!(walk::doc_freqs_sorted(&dict, &few).unwrap(), few_expected);
    assert!(walk::doc_freqs_sorted(&dict, &[]).unwrap().is_empty());
}

#[test]
fn a_past_deadline_stops_the_walk_and_says_so() {
    let mut rng = Rng(5);
    let terms = random_terms(&mut rng, 2000);
    let (data, index, count) = dictionary(&terms);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let mut compiled = Compiled::new(&PatternSpec::Regex(".*".into())).unwrap();
    let (found, complete) = compiled.matches(&dict, Some(walk::CpuDeadline::after(Duration::ZERO, 0))).unwrap();
    assert!(!complete);
    assert!(found.is_empty());
}

#[test]
fn a_past_deadline_stops_the_walk_only_past_its_untimed_entries() {
    let mut rng = Rng(5);
    let terms = random_terms(&mut rng, 2000);
    let (data, index, count) = dictionary(&terms);
    let dict = TermDict::new(&data, &index, count).unwrap();
    let mut compiled = Compiled::new(&PatternSpec::Regex(".*".into())).unwrap();
    let (found, complete) = compiled.matches(&dict, Some(walk::CpuDeadline::after(Duration::ZERO, 512))).unwrap();
    assert!(!complete);
    // The clock is first read at the 512th step (a step is an entry, or a move to the
    // next block), so the walk found what the first 512 steps held, and no more.
    assert!((256..=512).contains(&found.len()), "found {}", found.len());
    let whole = u32::try_from(2 * dict.len()).unwrap(); // a step per entry, and per block moved to
    let (found, complete) = compiled.matches(&dict, Some(walk::CpuDeadline::after(Duration::ZERO, whole))).unwrap();
    assert!(complete);
    assert_eq!(found, compiled.matches(&dict, None).unwrap().0, "a dictionary within the untimed entries is walked whole");
}

#[test]
fn damaged_dictionaries_are_errors_never_panics() {
    let mut rng = Rng(3);
    let terms = random_terms(&mut rng, 200);
    let (data, index, count) = dictionary(&terms);
    for at in 0..data.len() {
        let mut bad = data.clone();
        bad[at] ^= 0x5a;
        let dict = TermDict::new(&bad, &index, count).unwrap();
        for spec in [PatternSpec::Regex("a.*".into()), PatternSpec::Fuzzy { text: "abc".into(), max_edits: 2, prefix_length: 0 }] {
            let _ = Compiled::new(&spec).unwrap().matches(&dict, None);
        }
    }
}
