//! Token filters, the rules of `searchlib/analysis/filters.py`.
//!
//! Every filter but synonyms maps one term to one term or drops it, by its text alone,
//! so the analyzer caches the whole chain of them per raw word (see `cache`).

use std::collections::{HashMap, HashSet};

use super::normalize::nfc;
use super::unicode::{push_ascii_fold, push_casefold};
use rust_stemmers::{Algorithm, Stemmer};

/// A filter of one term.
pub enum Filter {
    /// Unicode case folding (Python's `str.casefold`), then NFC.
    Lowercase,
    /// Latin letters folded to ASCII.
    AsciiFolding,
    /// Drops the listed words.
    Stop(HashSet<String>),
    /// Strips an English possessive and straightens curly apostrophes.
    Possessive,
    /// Strips an elided article (`l'homme` -> `homme`).
    Elision(HashSet<String>),
    /// Drops terms shorter or longer than the bounds (in characters).
    Length { min: usize, max: usize },
    /// A compiled Snowball stemmer.
    Stem(Algorithm, Stemmer),
    /// Adds each term's synonyms at its position (the one filter that adds tokens).
    Synonyms(HashMap<String, Vec<String>>),
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Lowercase => f.write_str("Lowercase"),
            Filter::AsciiFolding => f.write_str("AsciiFolding"),
            Filter::Stop(words) => write!(f, "Stop({} words)", words.len()),
            Filter::Possessive => f.write_str("Possessive"),
            Filter::Elision(words) => write!(f, "Elision({} articles)", words.len()),
            Filter::Length { min, max } => write!(f, "Length({min}, {max})"),
            Filter::Stem(algorithm, _) => write!(f, "Stem({algorithm:?})"),
            Filter::Synonyms(map) => write!(f, "Synonyms({} words)", map.len()),
        }
    }
}

impl Clone for Filter {
    fn clone(&self) -> Filter {
        match self {
            Filter::Lowercase => Filter::Lowercase,
            Filter::AsciiFolding => Filter::AsciiFolding,
            Filter::Stop(words) => Filter::Stop(words.clone()),
            Filter::Possessive => Filter::Possessive,
            Filter::Elision(words) => Filter::Elision(words.clone()),
            Filter::Length { min, max } => Filter::Length { min: *min, max: *max },
            Filter::Stem(algorithm, _) => Filter::stem(*algorithm),
            Filter::Synonyms(map) => Filter::Synonyms(map.clone()),
        }
    }
}

/// Python's `unicodedata.normalize("NFC", casefold(term))`, ASCII left as it is.
pub fn casefold(term: &str) -> String {
    if term.is_ascii() {
        return term.to_ascii_lowercase();
    }
    let mut folded = String::with_capacity(term.len());
    for c in term.chars() {
        push_casefold(&mut folded, c);
    }
    if folded.is_ascii() {
        folded
    } else {
        nfc(&folded)
    }
}

fn possessive(term: &str) -> Option<String> {
    let mut term = term.replace('\u{2019}', "'");
    if term.ends_with("'s") || term.ends_with("'S") {
        term.truncate(term.len() - 2);
    } else if term.ends_with('\'') {
        term.truncate(term.len() - 1);
    }
    (!term.is_empty()).then_some(term)
}

fn elision(articles: &HashSet<String>, term: &str) -> String {
    for apostrophe in ['\'', '\u{2019}'] {
        if let Some((article, rest)) = term.split_once(apostrophe) {
            if !rest.is_empty() && articles.contains(article) {
                return rest.to_owned();
            }
        }
    }
    term.to_owned()
}

impl Filter {
    /// A compiled Snowball stem filter.
    pub fn stem(algorithm: Algorithm) -> Filter {
        Filter::Stem(algorithm, Stemmer::create(algorithm))
    }

    /// What this filter makes of `term`: `None` drops it. Not for `Synonyms`, which maps
    /// every term to itself here (the analyzer expands synonyms itself).
    pub fn map(&self, term: String) -> Option<String> {
        match self {
            Filter::Lowercase => Some(casefold(&term)),
            Filter::AsciiFolding => {
                if term.is_ascii() {
                    return Some(term);
                }
                let mut out = String::with_capacity(term.len());
                term.chars().for_each(|c| push_ascii_fold(&mut out, c));
                Some(out)
            }
            Filter::Stop(words) => (!words.contains(&term)).then_some(term),
            Filter::Possessive => possessive(&term),
            Filter::Elision(articles) => Some(elision(articles, &term)),
            Filter::Length { min, max } => {
                let n = term.chars().count();
                (*min <= n && n <= *max).then_some(term)
            }
            Filter::Stem(_, stemmer) => {
                // As in Python: an empty stem keeps the word.
                let stem = stemmer.stem(&term);
                if stem.is_empty() {
                    Some(term)
                } else {
                    Some(stem.into_owned())
                }
            }
            Filter::Synonyms(_) => Some(term),
        }
    }
}

/// Runs `term` through `filters` in order; `None` once one drops it.
pub fn run(filters: &[Filter], term: &str) -> Option<String> {
    let mut term = term.to_owned();
    for filter in filters {
        term = filter.map(term)?;
    }
    Some(term)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn case_folding_is_pythons_casefold_then_nfc() {
        assert_eq!(casefold("Straße"), "strasse");
        assert_eq!(casefold("STRASSE"), "strasse");
        assert_eq!(casefold("Cafe\u{301}"), "caf\u{e9}");
        assert_eq!(casefold("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
    }

    #[test]
    fn each_filter() {
        let m = |f: &Filter, t: &str| f.map(t.to_owned());
        assert_eq!(
            m(&Filter::AsciiFolding, "Øresund café").as_deref(),
            Some("Oresund cafe")
        );
        assert_eq!(m(&Filter::AsciiFolding, "東京").as_deref(), Some("東京"));
        assert_eq!(m(&Filter::Stop(set(&["the"])), "the"), None);
        assert_eq!(m(&Filter::Stop(set(&["the"])), "then").as_deref(), Some("then"));
        assert_eq!(m(&Filter::Possessive, "Israel’s").as_deref(), Some("Israel"));
        assert_eq!(m(&Filter::Possessive, "students'").as_deref(), Some("students"));
        assert_eq!(m(&Filter::Possessive, "don’t").as_deref(), Some("don't"));
        assert_eq!(m(&Filter::Possessive, "'s"), None);
        let elide = Filter::Elision(set(&["l", "dell"]));
        assert_eq!(m(&elide, "l'homme").as_deref(), Some("homme"));
        assert_eq!(m(&elide, "dell’anno").as_deref(), Some("anno"));
        assert_eq!(m(&elide, "l'").as_deref(), Some("l'"));
        assert_eq!(m(&elide, "x'y").as_deref(), Some("x'y"));
        let length = Filter::Length { min: 2, max: 3 };
        assert_eq!(m(&length, "é"), None);
        assert_eq!(m(&length, "éé").as_deref(), Some("éé"));
        assert_eq!(m(&length, "abcd"), None);
        let stem = Filter::stem(Algorithm::English);
        assert_eq!(m(&stem, "university").as_deref(), Some("univers"));
        assert_eq!(
            run(&[Filter::Lowercase, Filter::Possessive, stem.clone()], "Talking’s").as_deref(),
            Some("talk")
        );
    }
}
