//! Facet counting: a KEYWORD field's values by document ([`ValueTable`], offsets and
//! value numbers, as Lucene's sorted-set doc values lay them out), built once per
//! searcher from the field's postings, and the count of a query's matches under each
//! value, in one pass over the matches' values.
//!
//! The segment keeps a field's values only as postings (term -> documents); counting
//! needs the other direction (document -> values), which one pass over the postings
//! gives. Value numbers are the caller's (a searcher numbers the values of all its
//! segments together, in value order), so the counts of several segments add up.

/// A field's values by document in one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueTable {
    /// `doc_count + 1` offsets into `values`: document `d`'s values are
    /// `values[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    values: Vec<u32>,
    value_count: u32,
}

impl ValueTable {
    /// Builds the table of a segment of `doc_count` documents from its postings, given
    /// term after term: `docs` holds each term's documents in turn, `doc_freqs` how many
    /// each term has, and `term_values` each term's value number (below `value_count`).
    pub fn from_postings(
        doc_count: u32,
        docs: &[u32],
        doc_freqs: &[u32],
        term_values: &[u32],
        value_count: u32,
    ) -> Result<ValueTable, String> {
        if doc_freqs.len() != term_values.len() {
            return Err(format!("{} document counts for {} terms", doc_freqs.len(), term_values.len()));
        }
        if doc_freqs.iter().map(|&n| u64::from(n)).sum::<u64>() != docs.len() as u64 {
            return Err("the terms' document counts do not add up to their postings".into());
        }
        if docs.len() >= u32::MAX as usize {
            return Err("a field holds at most 2**32 - 2 values in a segment".into());
        }
        if let Some(&value) = term_values.iter().find(|&&value| value >= value_count) {
            return Err(format!("value number {value} is not below {value_count}"));
        }
        // Counting sort by document: each document's number of values, their offsets,
        // then every value put at its document's next free slot.
        let mut starts = vec![0u32; doc_count as usize + 1];
        for &doc in docs {
            let slot = starts.get_mut(doc as usize + 1).ok_or_else(|| format!("doc id {doc} is past {doc_count}"))?;
            *slot += 1;
        }
        let mut total = 0u32;
        for start in &mut starts {
            total += *start; // at most docs.len(), checked below u32::MAX
            *start = total;
        }
        let mut next = starts.clone();
        let mut values = vec![0u32; docs.len()];
        let mut postings = docs.iter();
        for (&value, &doc_freq) in term_values.iter().zip(doc_freqs) {
            for &doc in postings.by_ref().take(doc_freq as usize) {
                // Always there: doc < doc_count was checked above, and each document has
                // exactly as many slots as postings.
                let free = next.get_mut(doc as usize).ok_or("a doc id is out of range")?;
                *values.get_mut(*free as usize).ok_or("the postings overflow their slots")? = value;
                *free += 1;
            }
        }
        Ok(ValueTable { starts, values, value_count })
    }

    /// The number of values the counts are kept for.
    pub fn value_count(&self) -> u32 {
        self.value_count
    }

    /// Adds one to `counts[v]` for every value `v` of every document of `docs` (each
    /// document once; the query's matches), and returns how many of `docs` have no
    /// value. `counts` holds [`ValueTable::value_count`] numbers.
    pub fn count(&self, docs: &[u32], counts: &mut [u64]) -> Result<u64, String> {
        if counts.len() != self.value_count as usize {
            return Err(format!("{} counts for {} values", counts.len(), self.value_count));
        }
        let mut missing = 0u64;
        for &doc in docs {
            let (Some(&start), Some(&end)) = (self.starts.get(doc as usize), self.starts.get(doc as usize + 1)) else {
                return Err(format!("doc id {doc} is past the segment's {} documents", self.starts.len() - 1));
            };
            if start == end {
                missing += 1;
            }
            for &value in self.values.get(start as usize..end as usize).unwrap_or(&[]) {
                // Every value was checked below value_count when the table was built.
                if let Some(count) = counts.get_mut(value as usize) {
                    *count += 1;
                }
            }
        }
        Ok(missing)
    }

    /// Bytes the table holds.
    pub fn memory(&self) -> usize {
        4 * (self.starts.capacity() + self.values.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three terms over five documents: "a" (value 0) in 0, 2; "b" (2) in 2, 3, 4; "c"
    /// (1) in 4. Document 1 has none.
    fn table() -> ValueTable {
        ValueTable::from_postings(5, &[0, 2, 2, 3, 4, 4], &[2, 3, 1], &[0, 2, 1], 3).unwrap()
    }

    #[test]
    fn values_are_grouped_by_document() {
        let table = table();
        assert_eq!(table.starts, vec![0, 1, 1, 3, 4, 6]);
        assert_eq!(table.values, vec![0, 0, 2, 2, 2, 1]);
    }

    #[test]
    fn counts_match_brute_force() {
        let table = table();
        let docs_of = [vec![0u32, 2], vec![4], vec![2, 3, 4]];
        for matches in [vec![], vec![0u32, 1, 2, 3, 4], vec![1], vec![2, 4], vec![4, 0]] {
            let mut counts = vec![0u64; 3];
            let missing = table.count(&matches, &mut counts).unwrap();
            for (value, docs) in docs_of.iter().enumerate() {
                let expected = matches.iter().filter(|doc| docs.contains(doc)).count() as u64;
                assert_eq!(counts[value], expected, "value {value} over {matches:?}");
            }
            assert_eq!(missing, matches.iter().filter(|&&doc| doc == 1).count() as u64);
        }
    }

    #[test]
    fn counts_add_up_over_calls() {
        let table = table();
        let mut counts = vec![0u64; 3];
        table.count(&[0], &mut counts).unwrap();
        table.count(&[2], &mut counts).unwrap();
        assert_eq!(counts, vec![2, 0, 1]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(ValueTable::from_postings(2, &[0, 5], &[2], &[0], 1).unwrap_err().contains("doc id 5"));
        assert!(ValueTable::from_postings(2, &[0, 1], &[1], &[0], 1).unwrap_err().contains("add up"));
        assert!(ValueTable::from_postings(2, &[0], &[1], &[3], 2).unwrap_err().contains("value number 3"));
        assert!(ValueTable::from_postings(2, &[0], &[1, 0], &[0], 2).unwrap_err().contains("2 document counts"));
        let table = table();
        assert!(table.count(&[5], &mut [0; 3]).unwrap_err().contains("doc id 5"));
        assert!(table.count(&[0], &mut [0; 2]).unwrap_err().contains("2 counts"));
    }

    #[test]
    fn a_segment_without_the_field_has_no_values() {
        let table = ValueTable::from_postings(3, &[], &[], &[], 4).unwrap();
        let mut counts = vec![0u64; 4];
        assert_eq!(table.count(&[0, 1, 2], &mut counts).unwrap(), 3);
        assert_eq!(counts, vec![0; 4]);
    }
}
