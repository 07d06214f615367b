//! The bounded term cache: raw word -> term after the per-term filters.
//!
//! A stemmer costs far more than a hash look-up, and a corpus repeats its words, so the
//! chain runs once per distinct raw word. The cache holds at most `capacity` words and is
//! emptied when full: simple, with no per-hit bookkeeping, and the frequent words come
//! back at once.

use rustc_hash::FxHashMap;

/// Raw word -> its term (`None`: dropped), for at most `capacity` words.
#[derive(Debug, Clone)]
pub struct TermCache {
    index: FxHashMap<Box<str>, u32>,
    terms: Vec<Option<Box<str>>>,
    capacity: usize,
    /// Look-ups and misses since creation, for the hit rate.
    pub lookups: u64,
    pub misses: u64,
}

impl TermCache {
    /// A cache of at most `capacity` words (at least one).
    pub fn new(capacity: usize) -> TermCache {
        TermCache { index: FxHashMap::default(), terms: Vec::new(), capacity: capacity.max(1), lookups: 0, misses: 0 }
    }

    /// The term of `raw`, computed by `compute` on a miss.
    pub fn get(&mut self, raw: &str, compute: impl FnOnce(&str) -> Option<String>) -> Option<&str> {
        self.lookups += 1;
        let slot = match self.index.get(raw) {
            Some(&slot) => slot as usize,
            None => {
                self.misses += 1;
                if self.terms.len() >= self.capacity {
                    self.index.clear();
                    self.terms.clear();
                }
                let term = compute(raw).map(String::into_boxed_str);
                self.terms.push(term);
                let slot = self.terms.len() - 1;
                self.index.insert(raw.into(), slot as u32);
                slot
            }
        };
        self.terms[slot].as_deref()
    }

    /// Words held now.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether the cache holds no word.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
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
}
