//! A stemmed field's lexicon: the field's words before the stemmer (lowercased, stop
//! words dropped), each with the ordinal of the term it became. It lets suggestions offer
//! words rather than stems, and query words find their terms without running a costly
//! stemmer.
//!
//! ```text
//! lexicon        the words whose term differs from them: a term dictionary of keys
//!                (termdict.rs, `Entries::Keys`), each with its term's ordinal
//! lexicon_index  that dictionary's index
//! lexicon_meta   its key count u64
//! lexicon_words  one bit per term of the field, low bit first: set when the term is
//!                itself a word of the field (a word its stemmer leaves as it is)
//! ```
//!
//! Most words stem to themselves (two in three on enwiki-sample: names, numbers, short
//! words); listing them again beside the terms took a tenth of the index, so a bit on
//! their term says so instead. A word is found in the listed keys, else among the terms
//! whose bit is set.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::cmp::Ordering;

use crate::error::{Corrupt, Decoded};
use crate::termdict::TermDict;

/// A field's lexicon over its sections and the field's term dictionary.
#[derive(Debug, Clone, Copy)]
pub struct Lexicon<'a> {
    keys: TermDict<'a>,
    words: &'a [u8],
    terms: TermDict<'a>,
}

/// The `lexicon_words` bits of `ordinals` (ascending or not) among `term_count` terms.
pub fn encode_words(ordinals: &[u32], term_count: u64) -> Vec<u8> {
    let mut bits = vec![0u8; term_count.div_ceil(8) as usize];
    for &ordinal in ordinals {
        if let Some(byte) = bits.get_mut(ordinal as usize / 8) {
            *byte |= 1 << (ordinal % 8);
        }
    }
    bits
}

impl<'a> Lexicon<'a> {
    /// Checks that `words` holds one bit per term of `terms` (none set past the last): a
    /// constant-time check, since a pattern query opens every segment's lexicon.
    pub fn new(keys: TermDict<'a>, words: &'a [u8], terms: TermDict<'a>) -> Decoded<Lexicon<'a>> {
        let count = terms.len();
        if words.len() as u64 != count.div_ceil(8) {
            return Err(Corrupt::new(format!("the lexicon's {} bytes of word bits do not fit {count} terms", words.len())));
        }
        let spare = (8 - count % 8) % 8;
        if spare > 0 && words.last().is_some_and(|&last| last >> (8 - spare) != 0) {
            return Err(Corrupt::new("the lexicon marks a word past the last term"));
        }
        Ok(Lexicon { keys, words, terms })
    }

    /// How many words the lexicon holds: the listed keys and the terms marked as words
    /// (counted here, eight bytes at a time, not when the lexicon is opened).
    pub fn len(&self) -> u64 {
        let chunks = self.words.chunks_exact(8);
        let tail: u64 = chunks.remainder().iter().map(|b| u64::from(b.count_ones())).sum();
        let whole: u64 = chunks.map(|c| u64::from(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])).count_ones())).sum();
        self.keys.len() + whole + tail
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The listed words: those whose term differs from them (a pattern walks these and
    /// the terms marked as words).
    pub fn keys(&self) -> TermDict<'a> {
        self.keys
    }

    /// Whether the `ordinal`-th term is itself a word of the field.
    pub fn is_word(&self, ordinal: u64) -> bool {
        usize::try_from(ordinal / 8)
            .ok()
            .and_then(|at| self.words.get(at))
            .is_some_and(|&byte| (byte >> (ordinal % 8)) & 1 == 1)
    }

    /// A listed key's ordinal, checked to name a term.
    fn checked(&self, ordinal: u32) -> Decoded<u32> {
        if u64::from(ordinal) < self.terms.len() {
            Ok(ordinal)
        } else {
            Err(Corrupt::new(format!("the lexicon points past the {} terms", self.terms.len())))
        }
    }

    /// The ordinal of the term the word `key` became, if the field has the word.
    pub fn find(&self, key: &[u8]) -> Decoded<Option<u32>> {
        if let Some(at) = self.keys.find(key)? {
            let (_, info) = self.keys.get(at)?;
            return self.checked(info.doc_freq).map(Some);
        }
        match self.terms.find(key)? {
            Some(ordinal) if self.is_word(ordinal) => Ok(u32::try_from(ordinal).ok()),
            _ => Ok(None),
        }
    }

    /// Every word in byte order with its term's ordinal (the listed keys and the words
    /// among the terms, merged; a word in both is damage).
    pub fn entries(&self) -> Decoded<Vec<(Vec<u8>, u32)>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0).min(1 << 24));
        let mut listed = self.keys.iter().peekable();
        let mut own = self.terms.iter().enumerate().filter(|(ordinal, _)| self.is_word(*ordinal as u64)).peekable();
        loop {
            let order = match (listed.peek(), own.peek()) {
                (None, None) => break,
                (Some(Err(_)), _) | (Some(Ok(_)), None) => Ordering::Less,
                (_, Some((_, Err(_)))) | (None, Some(_)) => Ordering::Greater,
                (Some(Ok((key, _))), Some((_, Ok((term, _))))) => key.cmp(term),
            };
            match order {
                Ordering::Equal => return Err(Corrupt::new("a word is both listed and marked in the lexicon")),
                Ordering::Less => {
                    let (key, info) = listed.next().ok_or_else(|| Corrupt::new("the lexicon ended early"))??;
                    out.push((key, self.checked(info.doc_freq)?));
                }
                Ordering::Greater => {
                    let (ordinal, entry) = own.next().ok_or_else(|| Corrupt::new("the lexicon ended early"))?;
                    let (term, _) = entry?;
                    let ordinal = u32::try_from(ordinal).map_err(|_| Corrupt::new("too many terms"))?;
                    out.push((term, ordinal));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::termdict::{Entries, TermDictWriter};

    #[test]
    fn words_are_found_listed_or_marked_and_damage_is_an_error() {
        // Terms: the stems; words: "run" (its own term), "running" -> "run", "cats" -> "cat".
        let terms = ["cat", "run", "zed"];
        let mut writer = TermDictWriter::of(Entries::WithoutPositions);
        for term in terms {
            writer.add(term.as_bytes(), 1, 1, 0);
        }
        let (data, index, count) = writer.finish();
        let dict = TermDict::open(&data, &index, count, Entries::WithoutPositions).unwrap();
        let mut keys = TermDictWriter::keys_only();
        keys.add(b"cats", 0, 0, 0);
        keys.add(b"running", 1, 0, 0);
        let (key_data, key_index, key_count) = keys.finish();
        let listed = TermDict::keys_only(&key_data, &key_index, key_count).unwrap();
        let words = encode_words(&[1, 2], count);
        let lexicon = Lexicon::new(listed, &words, dict).unwrap();
        assert_eq!(lexicon.len(), 4);
        assert_eq!(lexicon.find(b"running").unwrap(), Some(1));
        assert_eq!(lexicon.find(b"run").unwrap(), Some(1));
        assert_eq!(lexicon.find(b"cat").unwrap(), None); // a stem, not a word
        assert_eq!(lexicon.find(b"dog").unwrap(), None);
        let entries = lexicon.entries().unwrap();
        let expected: Vec<(Vec<u8>, u32)> =
            vec![(b"cats".to_vec(), 0), (b"run".to_vec(), 1), (b"running".to_vec(), 1), (b"zed".to_vec(), 2)];
        assert_eq!(entries, expected);
        assert!(Lexicon::new(listed, &[0b0000_1000], dict).is_err()); // past the last term
        assert!(Lexicon::new(listed, &[], dict).is_err());
        let both = encode_words(&[0, 1, 2], count);
        let mut keys = TermDictWriter::keys_only();
        keys.add(b"cat", 2, 0, 0);
        let (key_data, key_index, key_count) = keys.finish();
        let twice = Lexicon::new(TermDict::keys_only(&key_data, &key_index, key_count).unwrap(), &both, dict).unwrap();
        assert!(twice.entries().is_err());
        let mut keys = TermDictWriter::keys_only();
        keys.add(b"cats", 7, 0, 0);
        let (key_data, key_index, key_count) = keys.finish();
        let past = Lexicon::new(TermDict::keys_only(&key_data, &key_index, key_count).unwrap(), &words, dict).unwrap();
        assert!(past.find(b"cats").is_err() && past.entries().is_err());
    }
}
