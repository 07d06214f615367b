//! BM25 and its variants: the one implementation of the scoring formula.
//!
//! A term's score in a document is `boost * idf(df, N) * saturate(x)`, where BM25F's
//! `x = sum over fields of weight * tf / norm` and `norm = 1 - b + b * dl / avgdl`. Every
//! variant is a function of (df, N) times an increasing function of x (Kamphuis, de Vries,
//! Boytsov and Lin, "Which BM25 Do You Mean?", ECIR 2020), so an upper bound of x over a
//! block of postings (from its largest tf and smallest length) bounds every score in it,
//! which is what top-k pruning needs. Scores, bounds and explanations all call the
//! functions here, so they cannot disagree.

use std::sync::{Arc, Mutex};

/// BM25L's lower-bounding constant delta, as in its paper.
pub const BM25L_DELTA: f64 = 0.5;
/// BM25+'s lower-bounding constant delta, as in its paper.
pub const BM25PLUS_DELTA: f64 = 1.0;

/// One BM25 variant (the names Python's `Similarity` takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// idf `ln(1 + (N - df + 0.5) / (df + 0.5))`, tf part `x / (x + k1)`.
    Lucene,
    /// idf `ln((N - df + 0.5) / (df + 0.5))`, tf part `(k1 + 1) x / (x + k1)`.
    Robertson,
    /// idf `ln(N / df)`, tf part `(k1 + 1) x / (x + k1)`.
    Atire,
    /// idf `ln((N + 1) / (df + 0.5))`, tf part `(k1 + 1)(x + d) / (k1 + x + d)`.
    Bm25l,
    /// idf `ln((N + 1) / df)`, tf part `(k1 + 1) x / (x + k1) + d`.
    Bm25Plus,
}

impl Variant {
    pub fn parse(name: &str) -> Option<Variant> {
        Some(match name {
            "lucene" => Variant::Lucene,
            "robertson" => Variant::Robertson,
            "atire" => Variant::Atire,
            "bm25l" => Variant::Bm25l,
            "bm25+" => Variant::Bm25Plus,
            _ => return None,
        })
    }

    /// The variant's idf of a term in `df` of `n` documents (a df of 0 counts as 1 where
    /// the formula divides by it).
    pub fn idf(self, df: f64, n: f64) -> f64 {
        match self {
            Variant::Lucene => ((n - df + 0.5) / (df + 0.5)).ln_1p(),
            Variant::Robertson => ((n - df + 0.5) / (df + 0.5)).ln(),
            Variant::Atire => (n / df.max(1.0)).ln(),
            Variant::Bm25l => ((n + 1.0) / (df + 0.5)).ln(),
            Variant::Bm25Plus => ((n + 1.0) / df.max(1.0)).ln(),
        }
    }

    /// The saturation of a length-normalized term frequency `x`: increasing in x.
    #[inline]
    pub fn saturate(self, x: f64, k1: f64) -> f64 {
        self.saturation(k1).apply(x)
    }

    /// The variant's saturation at `k1` as one formula, for loops that saturate every
    /// posting without a branch on the variant.
    pub fn saturation(self, k1: f64) -> Saturation {
        let (scale, shift, lift) = match self {
            Variant::Lucene => (1.0, 0.0, 0.0),
            Variant::Robertson | Variant::Atire => (k1 + 1.0, 0.0, 0.0),
            Variant::Bm25l => (k1 + 1.0, BM25L_DELTA, 0.0),
            Variant::Bm25Plus => (k1 + 1.0, 0.0, BM25PLUS_DELTA),
        };
        Saturation { scale, shift, k1, lift }
    }

    /// BM25L's and BM25+'s delta, for explanations.
    pub fn delta(self) -> Option<f64> {
        match self {
            Variant::Bm25l => Some(BM25L_DELTA),
            Variant::Bm25Plus => Some(BM25PLUS_DELTA),
            _ => None,
        }
    }
}

/// Every variant's tf part in one shape, `scale (x + shift) / (x + shift + k1) + lift`:
/// `x / (x + k1)` for Lucene's, `(k1 + 1) x / (x + k1)` for Robertson's and ATIRE's, with
/// `shift` BM25L's delta and `lift` BM25+'s. A zero shift, a unit scale and a zero lift
/// change no bit of the result, so each variant scores as its own formula would.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Saturation {
    scale: f64,
    shift: f64,
    k1: f64,
    lift: f64,
}

impl Saturation {
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        let shifted = x + self.shift;
        self.scale * shifted / (shifted + self.k1) + self.lift
    }
}

/// The variant and parameters one query scores with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25 {
    pub variant: Variant,
    pub k1: f64,
    pub b: f64,
}

impl Bm25 {
    /// BM25's length normalization `1 - b + b * dl / avgdl` (an average of 0, a field no
    /// live document has, counts as 1).
    #[inline]
    pub fn length_norm(&self, length: f64, average: f64) -> f64 {
        let average = if average > 0.0 { average } else { 1.0 };
        (1.0 - self.b) + self.b * length / average
    }
}

/// One field's per-document `1 / norm` for one (avgdl, b): computed once per segment and
/// kept, so scoring a posting reads one float instead of dividing a length.
pub type InverseNorms = Arc<Vec<f64>>;

/// Most (field, avgdl, b) arrays a segment keeps before starting afresh (each is 8 bytes
/// a document; settings change rarely, queries never).
const MAX_NORM_ARRAYS: usize = 64;

/// A segment's inverse length norms, by (field, avgdl bits, b bits). Shared by the
/// threads searching the segment; the lock is held only to look up or insert.
#[derive(Debug, Default)]
pub struct NormCache {
    /// (field, avgdl bits, b bits, array): a handful, scanned without allocating a key.
    arrays: Mutex<Vec<(String, u64, u64, InverseNorms)>>,
}

impl NormCache {
    /// The inverse norms of `field` for `average` and `bm25.b`, computed from `lengths`
    /// (a field's lengths per document) on first use.
    pub fn get(
        &self,
        field: &str,
        average: f64,
        bm25: &Bm25,
        lengths: impl FnOnce() -> Result<Vec<u32>, crate::error::Error>,
    ) -> Result<InverseNorms, crate::error::Error> {
        let (average_bits, b_bits) = (average.to_bits(), bm25.b.to_bits());
        let found = self.arrays.lock().ok().and_then(|arrays| {
            arrays.iter().find(|(name, a, b, _)| *a == average_bits && *b == b_bits && name == field).map(|e| e.3.clone())
        });
        if let Some(found) = found {
            return Ok(found);
        }
        // A document without the field has length 0, and with b = 1 a norm of 0: it has
        // no posting in the field either, so its infinite inverse is never read.
        let inverse: Vec<f64> = lengths()?.iter().map(|&l| 1.0 / bm25.length_norm(f64::from(l), average)).collect();
        let inverse = Arc::new(inverse);
        if let Ok(mut arrays) = self.arrays.lock() {
            if arrays.len() >= MAX_NORM_ARRAYS {
                arrays.clear();
            }
            arrays.push((field.to_owned(), average_bits, b_bits, inverse.clone()));
        }
        Ok(inverse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn each_variant_is_its_formula() {
        let (df, n, x, k1) = (3.0, 100.0, 1.7, 1.2);
        assert!(close(Variant::Lucene.idf(df, n), (1.0 + (n - df + 0.5) / (df + 0.5)).ln()));
        assert!(close(Variant::Robertson.idf(df, n), ((n - df + 0.5) / (df + 0.5)).ln()));
        assert!(close(Variant::Atire.idf(df, n), (n / df).ln()));
        assert!(close(Variant::Bm25l.idf(df, n), ((n + 1.0) / (df + 0.5)).ln()));
        assert!(close(Variant::Bm25Plus.idf(df, n), ((n + 1.0) / df).ln()));
        assert!(close(Variant::Lucene.saturate(x, k1), x / (x + k1)));
        assert!(close(Variant::Robertson.saturate(x, k1), (k1 + 1.0) * x / (x + k1)));
        assert!(close(Variant::Atire.saturate(x, k1), (k1 + 1.0) * x / (x + k1)));
        assert!(close(Variant::Bm25l.saturate(x, k1), (k1 + 1.0) * (x + 0.5) / (k1 + x + 0.5)));
        assert!(close(Variant::Bm25Plus.saturate(x, k1), (k1 + 1.0) * x / (x + k1) + 1.0));
        // Known value: Lucene's idf of 1 in 10 documents.
        assert!((Variant::Lucene.idf(1.0, 10.0) - 1.9924).abs() < 1e-4);
        // A df of 0 divides by 1, not 0.
        assert!(Variant::Atire.idf(0.0, 10.0).is_finite());
        assert_eq!(Variant::parse("bm25+"), Some(Variant::Bm25Plus));
        assert_eq!(Variant::parse("okapi"), None);
    }

    #[test]
    fn saturation_grows_with_x_in_every_variant() {
        for variant in [Variant::Lucene, Variant::Robertson, Variant::Atire, Variant::Bm25l, Variant::Bm25Plus] {
            let mut previous = f64::NEG_INFINITY;
            for step in 1..200 {
                let value = variant.saturate(f64::from(step) * 0.05, 0.9);
                assert!(value > previous, "{variant:?}");
                previous = value;
            }
        }
    }

    #[test]
    fn norms_are_cached_per_setting() {
        let cache = NormCache::default();
        let bm25 = Bm25 { variant: Variant::Lucene, k1: 1.2, b: 0.75 };
        let first = cache.get("body", 10.0, &bm25, || Ok(vec![10, 20, 0])).unwrap();
        assert!(close(first[0], 1.0));
        assert!(close(first[1], 1.0 / (0.25 + 0.75 * 2.0)));
        let again = cache.get("body", 10.0, &bm25, || panic!("computed twice")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let other = Bm25 { b: 0.5, ..bm25 };
        assert!(close(cache.get("body", 10.0, &other, || Ok(vec![20])).unwrap()[0], 1.0 / 1.5));
        assert!(close(bm25.length_norm(5.0, 0.0), 0.25 + 0.75 * 5.0));
    }
}
