//! The Python binding of facet counting: [`FacetValues`], a KEYWORD field's values by
//! document in one segment (built from its postings in the core, with the GIL
//! released), and its count over a query's matches, handed in and out as bytes: nothing
//! crosses the boundary per match.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::{Error, InFile};
use crate::facets::ValueTable;
use crate::py::{to_py, SegmentReader};

/// Registers the facet class on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<FacetValues>()?;
    Ok(())
}

/// Little-endian uint32 bytes as numbers.
fn u32_values(bytes: &[u8], what: &str) -> PyResult<Vec<u32>> {
    if bytes.len() % 4 != 0 {
        return Err(PyValueError::new_err(format!("{what} must be uint32 bytes")));
    }
    Ok(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// A KEYWORD field's values by document in one segment, numbered by the caller.
#[pyclass(module = "searchlib._core", frozen)]
pub struct FacetValues {
    table: ValueTable,
}

#[pymethods]
impl FacetValues {
    /// The values of `field` in `reader`'s segment: `term_values` gives, as uint32
    /// bytes, the number of each of the field's terms in ordinal order (every term of
    /// the segment's field), each below `value_count`.
    #[new]
    fn new(py: Python<'_>, reader: &Bound<'_, SegmentReader>, field: &str, term_values: &[u8], value_count: u32) -> PyResult<Self> {
        let term_values = u32_values(term_values, "term_values")?;
        let inner = &reader.get().inner;
        let built = py.detach(|| -> Result<Result<ValueTable, String>, Error> {
            let (mut docs, mut freqs, mut doc_freqs) = (Vec::new(), Vec::new(), Vec::new());
            if let Some(dict) = inner.dict(field)? {
                // Every term (a range ends at the last): a caller that numbered fewer or
                // more terms than the field has is told so below.
                let terms = dict.range(0, u64::MAX).in_file(inner.terms.path()).map_err(|e| inner.name_field(e, field))?;
                for (_, info) in terms {
                    let before = docs.len();
                    inner.postings(field, &info, &mut docs, &mut freqs)?;
                    doc_freqs.push((docs.len() - before) as u32);
                }
            }
            if doc_freqs.len() != term_values.len() {
                return Ok(Err(format!("{} term numbers for the {} terms of {field:?}", term_values.len(), doc_freqs.len())));
            }
            Ok(ValueTable::from_postings(inner.doc_count, &docs, &doc_freqs, &term_values, value_count))
        });
        let table = built.map_err(to_py)?.map_err(PyValueError::new_err)?;
        Ok(FacetValues { table })
    }

    /// Counts the documents of `docs` (uint32 bytes of doc ids, each once) under each
    /// value: (the counts as little-endian uint64 bytes, one per value, and how many of
    /// `docs` have no value).
    fn count<'py>(&self, py: Python<'py>, docs: &[u8]) -> PyResult<(Bound<'py, PyBytes>, u64)> {
        let docs = u32_values(docs, "docs")?;
        let mut counts = vec![0u64; self.table.value_count() as usize];
        let missing = py.detach(|| self.table.count(&docs, &mut counts)).map_err(PyValueError::new_err)?;
        let bytes = PyBytes::new_with(py, counts.len() * 8, |buffer| {
            for (slot, count) in buffer.chunks_exact_mut(8).zip(&counts) {
                slot.copy_from_slice(&count.to_le_bytes());
            }
            Ok(())
        })?;
        Ok((bytes, missing))
    }

    /// Bytes the table holds.
    fn memory(&self) -> usize {
        self.table.memory()
    }
}
