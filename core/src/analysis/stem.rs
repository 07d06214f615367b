//! Snowball stemmers, applied to batches of words.
//!
//! A stemmer is chosen by the lowercase language name that searchlib's analyzer specs use
//! (`"english"`, `"french"`, ...). Stemming a batch in one call keeps the Python/Rust
//! boundary out of the per-word loop.

use rust_stemmers::{Algorithm, Stemmer};

/// The name analyzer specs give the compiled Snowball stemmers.
pub const NAME: &str = "snowball";
/// The implementation and version of the compiled stemmers, recorded in each analyzer
/// spec that uses them (a test checks it against Cargo.lock).
pub const VERSION: &str = "rust-stemmers 1.2.0";

/// The algorithm of `language`, or None when no compiled stemmer has that name.
pub fn algorithm(language: &str) -> Option<Algorithm> {
    LANGUAGES
        .iter()
        .find(|(name, _)| *name == language)
        .map(|(_, algorithm)| *algorithm)
}

/// The languages with a compiled Snowball stemmer, as analyzer specs name them.
pub const LANGUAGES: [(&str, Algorithm); 18] = [
    ("arabic", Algorithm::Arabic),
    ("danish", Algorithm::Danish),
    ("dutch", Algorithm::Dutch),
    ("english", Algorithm::English),
    ("finnish", Algorithm::Finnish),
    ("french", Algorithm::French),
    ("german", Algorithm::German),
    ("greek", Algorithm::Greek),
    ("hungarian", Algorithm::Hungarian),
    ("italian", Algorithm::Italian),
    ("norwegian", Algorithm::Norwegian),
    ("portuguese", Algorithm::Portuguese),
    ("romanian", Algorithm::Romanian),
    ("russian", Algorithm::Russian),
    ("spanish", Algorithm::Spanish),
    ("swedish", Algorithm::Swedish),
    ("tamil", Algorithm::Tamil),
    ("turkish", Algorithm::Turkish),
];

/// The stemmer for `language`, or None when no compiled stemmer has that name.
pub fn stemmer(language: &str) -> Option<Stemmer> {
    algorithm(language).map(Stemmer::create)
}

/// Each word's stem, in order.
pub fn stem_all(stemmer: &Stemmer, words: &[String]) -> Vec<String> {
    words.iter().map(|word| stemmer.stem(word).into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(language: &str, words: &[&str]) -> Vec<String> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        stem_all(&stemmer(language).expect("a known language"), &words)
    }

    #[test]
    fn english_is_porter2() {
        // Porter2 keeps "generous" whole where the original Porter made it "gener".
        assert_eq!(
            stems("english", &["talks", "talking", "generously", "ceasefire"]),
            ["talk", "talk", "generous", "ceasefir"]
        );
    }

    #[test]
    fn every_language_has_a_stemmer_and_the_names_are_sorted() {
        let names: Vec<&str> = LANGUAGES.iter().map(|(name, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for name in names {
            assert!(stemmer(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_recorded_version_is_the_one_built() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).expect("Cargo.lock");
        let at = lock
            .find("name = \"rust-stemmers\"\nversion = \"")
            .expect("rust-stemmers in Cargo.lock");
        let version = lock[at..].split('"').nth(3).expect("a version");
        assert_eq!(VERSION, format!("rust-stemmers {version}"));
    }

    #[test]
    fn unknown_languages_and_odd_words_do_not_panic() {
        assert!(stemmer("klingon").is_none());
        assert!(
            stemmer("English").is_none(),
            "names are lowercase, as in analyzer specs"
        );
        assert_eq!(stems("english", &["", "ß", "日本語", "x\u{0301}ing"]).len(), 4);
    }
}
