//! The Python binding of phrase matching: one call per phrase and segment, the postings'
//! conjunction, the positions and the matching all done in the core with the GIL
//! released, and only the matching documents and their frequencies handed back.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::py::{to_py, u32_bytes, SegmentReader};
use crate::query::phrase;

/// Registers the phrase functions on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(phrase_matches, module)?)?;
    Ok(())
}

/// The documents of `reader`'s segment holding the phrase `terms` (at query positions
/// `positions`, never decreasing) in `field` with `slop`, and the phrase's frequency in
/// each: (doc ids, frequencies) as little-endian uint32 bytes. `candidates`, if given,
/// are uint32 bytes of ascending doc ids, the only documents considered.
#[pyfunction]
#[pyo3(signature = (reader, field, terms, positions, slop, candidates=None))]
fn phrase_matches<'py>(
    py: Python<'py>,
    reader: &Bound<'py, SegmentReader>,
    field: &str,
    terms: Vec<String>,
    positions: Vec<u32>,
    slop: u64,
    candidates: Option<&[u8]>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    if terms.len() != positions.len() {
        return Err(PyValueError::new_err("a phrase needs one position per term"));
    }
    let allowed: Option<Vec<u32>> = match candidates {
        None => None,
        Some(bytes) if bytes.len() % 4 != 0 => {
            return Err(PyValueError::new_err("candidates must be uint32 bytes"));
        }
        Some(bytes) => {
            let docs: Vec<u32> =
                bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if docs.windows(2).any(|pair| pair[1] <= pair[0]) {
                return Err(PyValueError::new_err("candidates must be ascending doc ids"));
            }
            Some(docs)
        }
    };
    let words: Vec<(String, u32)> = terms.into_iter().zip(positions).collect();
    let inner = &reader.get().inner;
    let (docs, freqs) = py
        .detach(|| phrase::phrase_matches(inner, field, &words, slop, allowed.as_deref()))
        .map_err(to_py)?;
    Ok((u32_bytes(py, &docs)?, u32_bytes(py, &freqs)?))
}
