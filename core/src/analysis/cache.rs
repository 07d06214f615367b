//! The bounded term cache: raw word -> term after the per-term filters.
//!
//! A stemmer costs far more than a look-up, and a corpus repeats its words, so the chain
//! runs once per distinct raw word. The cache holds at most `capacity` words and is
//! emptied when full: simple, with no per-hit bookkeeping, and the frequent words come
//! back at once.
//!
//! A look-up is most of the work per token, and the table outgrows the processor's
//! caches, so an entry holds a word of up to 16 bytes inline (most words) and compares it
//! as one 128-bit value; longer words and all terms live in one arena, where the terms
//! of the frequent words, seen first, sit together.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

const INLINE: usize = 16;
/// `term_len` of a dropped word (a stop word).
const DROPPED: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Entry {
    /// The word zero-padded, when it has at most `INLINE` bytes.
    inline: u128,
    key_len: u32,
    /// Where a longer word starts in the arena.
    key_at: u32,
    term_at: u32,
    term_len: u32,
}

/// Raw word -> its term (`None`: dropped), for at most `capacity` words.
#[derive(Debug, Clone)]
pub struct TermCache {
    table: HashTable<Entry>,
    arena: String,
    hasher: RandomState,
    capacity: usize,
    /// Look-ups and misses since creation, for the hit rate.
    pub lookups: u64,
    pub misses: u64,
}

fn padded(word: &[u8]) -> u128 {
    let mut bytes = [0u8; INLINE];
    bytes[..word.len()].copy_from_slice(word);
    u128::from_le_bytes(bytes)
}

impl TermCache {
    /// A cache of at most `capacity` words (at least one).
    pub fn new(capacity: usize) -> TermCache {
        TermCache {
            table: HashTable::new(),
            arena: String::new(),
            hasher: RandomState::default(),
            capacity: capacity.max(1),
            lookups: 0,
            misses: 0,
        }
    }

    /// The term of `raw`, computed by `compute` on a miss.
    pub fn get(&mut self, raw: &str, compute: impl FnOnce(&str) -> Option<String>) -> Option<&str> {
        self.lookups += 1;
        let bytes = raw.as_bytes();
        let hash = self.hasher.hash_one(bytes);
        let short = bytes.len() <= INLINE;
        let probe = if short { padded(bytes) } else { 0 };
        let arena = &self.arena;
        let found = self.table.find(hash, |e| {
            e.key_len as usize == bytes.len()
                && if short {
                    e.inline == probe
                } else {
                    &arena.as_bytes()[e.key_at as usize..][..bytes.len()] == bytes
                }
        });
        let (term_at, term_len) = match found {
            Some(e) => (e.term_at, e.term_len),
            None => self.insert(raw, hash, probe, compute),
        };
        (term_len != DROPPED).then(|| &self.arena[term_at as usize..(term_at + term_len) as usize])
    }

    fn insert(
        &mut self,
        raw: &str,
        hash: u64,
        probe: u128,
        compute: impl FnOnce(&str) -> Option<String>,
    ) -> (u32, u32) {
        self.misses += 1;
        let term = compute(raw);
        let needed = raw.len() + term.as_ref().map_or(0, String::len);
        // Emptied when full, or when the arena's u32 offsets would overflow.
        if self.table.len() >= self.capacity || self.arena.len() + needed > u32::MAX as usize - 1 {
            self.table.clear();
            self.arena.clear();
        }
        let key_at = if raw.len() > INLINE {
            self.arena.push_str(raw);
            (self.arena.len() - raw.len()) as u32
        } else {
            0
        };
        let (term_at, term_len) = match &term {
            Some(term) => {
                self.arena.push_str(term);
                ((self.arena.len() - term.len()) as u32, term.len() as u32)
            }
            None => (0, DROPPED),
        };
        let entry = Entry {
            inline: probe,
            key_len: raw.len() as u32,
            key_at,
            term_at,
            term_len,
        };
        let hasher = &self.hasher;
        let arena = &self.arena;
        self.table.insert_unique(hash, entry, |e| {
            if e.key_len as usize <= INLINE {
                hasher.hash_one(&e.inline.to_le_bytes()[..e.key_len as usize])
            } else {
                hasher.hash_one(&arena.as_bytes()[e.key_at as usize..][..e.key_len as usize])
            }
        });
        (term_at, term_len)
    }

    /// Words held now.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the cache holds no word.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_word_and_stays_bounded() {
        let mut cache = TermCache::new(2);
        let mut calls = 0;
        for word in ["a", "a", "b", "a"] {
            cache.get(word, |w| {
                calls += 1;
                Some(w.to_uppercase())
            });
        }
        assert_eq!(calls, 2);
        assert_eq!(cache.get("c", |_| None), None);
        assert_eq!(cache.len(), 1, "emptied when full, then c");
        assert_eq!(cache.get("a", |w| Some(w.into())), Some("a"));
        assert_eq!((cache.lookups, cache.misses), (6, 4));
    }

    #[test]
    fn long_short_and_equal_prefix_words_stay_apart() {
        let mut cache = TermCache::new(100);
        let long = "internationalization-of-everything";
        let words = [long, &long[..16], &long[..17], "", "a\0", "a", "ü", long];
        for word in words {
            let got = cache.get(word, |w| Some(format!("<{w}>"))).map(str::to_owned);
            assert_eq!(got, Some(format!("<{word}>")));
        }
        assert_eq!(cache.misses, 7, "the long word is found again");
        assert_eq!(cache.get("stop", |_| None), None);
        assert_eq!(
            cache.get("stop", |_| Some("x".into())),
            None,
            "a dropped word is remembered"
        );
    }
}
