//! The Python binding of the segment format: `SegmentBuilder` (inversion and writing),
//! `SegmentReader` (one segment's structures as numpy-ready bytes) and `merge_segments`.
//!
//! Every call is batch-shaped: documents in by the batch, a term's (or many terms')
//! postings out as little-endian arrays Python wraps with `numpy.frombuffer`; the GIL is
//! released while the core works. Errors map to searchlib's exceptions: a damaged file
//! is `searchlib.errors.CorruptIndexError(path, message)`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::columns::ColumnKind;
use crate::error::{Error, InFile};
use crate::merge::{self, MergeInput};
use crate::segment_reader::SegmentReader as Reader;
use crate::segment_writer::{ColumnValue, DocumentInput, FieldSpec, SegmentBuilder as Builder, SegmentPaths};
use crate::termdict::{TermDict, TermInfo};

/// Registers the format's classes and functions on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("FORMAT_VERSION", crate::file::FORMAT_VERSION)?;
    module.add_class::<SegmentBuilder>()?;
    module.add_class::<SegmentReader>()?;
    module.add_function(wrap_pyfunction!(merge_segments, module)?)?;
    crate::py_phrase::register(module)?;
    crate::py_highlight::register(module)?;
    crate::py_patterns::register(module)?;
    crate::py_query::register(module)?;
    crate::py_plain::register(module)?;
    crate::py_facets::register(module)?;
    crate::py_json::register(module)?;
    Ok(())
}

pub(crate) fn to_py(error: Error) -> PyErr {
    match error {
        Error::Corrupt { path, message } => Python::attach(|py| {
            match py.import("searchlib.errors").and_then(|m| m.getattr("CorruptIndexError")).and_then(|c| c.call1((path, message))) {
                Ok(value) => PyErr::from_value(value),
                Err(error) => error,
            }
        }),
        Error::Io { path, error } => {
            let message = format!("{path}: {error}");
            let err: PyErr = error.into();
            Python::attach(|py| {
                let _ = err.value(py).setattr("filename", path);
            });
            let _ = message;
            err
        }
        Error::Invalid(message) => PyValueError::new_err(message),
    }
}

fn paths(files: (String, String, String, String, String)) -> SegmentPaths {
    SegmentPaths { terms: files.0, postings: files.1, positions: files.2, norms: files.3, store: files.4 }
}

/// A lexicon entry's term ordinal, which must name one of the field's `terms` terms.
fn checked_ordinal(ordinal: u32, terms: u64) -> crate::error::Decoded<i64> {
    if u64::from(ordinal) < terms {
        Ok(i64::from(ordinal))
    } else {
        Err(crate::error::Corrupt::new(format!("the lexicon points past the {terms} terms")))
    }
}

fn column_kind(kind: &str) -> PyResult<ColumnKind> {
    match kind {
        "int" => Ok(ColumnKind::Int),
        "float" => Ok(ColumnKind::Float),
        "bool" => Ok(ColumnKind::Bool),
        other => Err(PyValueError::new_err(format!("unknown column kind {other:?}"))),
    }
}

/// Little-endian bytes of a u32 array, written straight into a Python bytes object.
pub(crate) fn u32_bytes<'py>(py: Python<'py>, values: &[u32]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, values.len() * 4, |buffer| {
        for (slot, value) in buffer.chunks_exact_mut(4).zip(values) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        Ok(())
    })
}


/// A document as Python hands it over: (stored line, id bytes, [(field, text)],
/// [(field, terms, positions)] for fields analyzed in Python, [(column, value)]).
type Document<'py> = (Vec<u8>, Vec<u8>, Vec<(usize, Vec<u8>)>, Vec<(usize, Vec<String>, Vec<u32>)>, Vec<(usize, Bound<'py, PyAny>)>);

/// Inverts batches of checked documents into one segment and writes its files.
///
/// `fields`: (name, analyzer spec JSON or "" when Python analyzes, keeps lengths, keeps
/// positions) per indexed field;
/// `columns`: (name, "int" | "float" | "bool") per column field. A document is
/// (stored JSON line, id bytes, [(field number, text as UTF-8)], [(column number, value)]).
#[pyclass(module = "searchlib._core")]
pub struct SegmentBuilder {
    inner: Mutex<Option<Builder>>,
    kinds: Vec<ColumnKind>,
    /// The builder's memory, documents and terms as of its last change: read without
    /// the lock, so a writer can ask while another thread's batch is being inverted.
    memory: AtomicUsize,
    docs: AtomicU64,
    tokens: AtomicU64,
}

impl SegmentBuilder {
    fn with<T>(&self, work: impl FnOnce(&mut Builder) -> Result<T, Error>) -> PyResult<T> {
        let result = {
            let mut guard = self.inner.lock().map_err(|_| PyRuntimeError::new_err("the segment builder is poisoned"))?;
            let builder = guard.as_mut().ok_or_else(|| PyRuntimeError::new_err("the segment was already written"))?;
            let result = work(builder);
            self.memory.store(builder.memory(), Ordering::Release);
            self.docs.store(u64::from(builder.doc_count()), Ordering::Release);
            self.tokens.store(builder.token_count(), Ordering::Release);
            result
        };
        // Made into a Python exception only once the lock is released: that takes the
        // GIL, which a thread waiting for this lock may hold.
        result.map_err(to_py)
    }
}

#[pymethods]
impl SegmentBuilder {
    #[new]
    fn new(fields: Vec<(String, String, bool, bool, String)>, columns: Vec<(String, String)>) -> PyResult<SegmentBuilder> {
        let specs = fields
            .into_iter()
            .map(|(name, analyzer, norms, positions, stemmer)| FieldSpec { name, analyzer, norms, positions, stemmer })
            .collect();
        let mut kinds = Vec::with_capacity(columns.len());
        let mut named = Vec::with_capacity(columns.len());
        for (name, kind) in columns {
            let kind = column_kind(&kind)?;
            kinds.push(kind);
            named.push((name, kind));
        }
        let builder = Builder::new(specs, named).map_err(to_py)?;
        Ok(SegmentBuilder {
            inner: Mutex::new(Some(builder)),
            kinds,
            memory: AtomicUsize::new(0),
            docs: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
        })
    }

    /// Adds a batch of documents (the GIL is released while they are analyzed and inverted).
    fn add_batch(&self, py: Python<'_>, documents: Vec<Bound<'_, PyAny>>) -> PyResult<u32> {
        let mut batch = Vec::with_capacity(documents.len());
        for document in documents {
            let (stored, id, values, tokens, columns): Document<'_> = document.extract()?;
            let mut input = DocumentInput {
                stored,
                id,
                values: Vec::with_capacity(values.len()),
                tokens,
                columns: Vec::with_capacity(columns.len()),
            };
            for (field, text) in values {
                let text = match String::from_utf8(text) {
                    Ok(text) => text,
                    Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
                };
                input.values.push((field, text));
            }
            for (column, value) in columns {
                let kind = self.kinds.get(column).ok_or_else(|| PyValueError::new_err("no such column"))?;
                let value = match kind {
                    ColumnKind::Int => ColumnValue::Int(value.extract()?),
                    ColumnKind::Float => ColumnValue::Float(value.extract()?),
                    ColumnKind::Bool => ColumnValue::Bool(value.extract()?),
                };
                input.columns.push((column, value));
            }
            batch.push(input);
        }
        py.detach(|| {
            self.with(|builder| {
                for document in &batch {
                    builder.add(document)?;
                }
                Ok(builder.doc_count())
            })
        })
    }

    /// Adds an indexed field; returns its number. With a `stemmer` spec, `analyzer` is
    /// the chain before the stemmer and the field keeps a lexicon.
    #[pyo3(signature = (name, analyzer, norms, positions, stemmer=String::new()))]
    fn add_field(&self, name: String, analyzer: String, norms: bool, positions: bool, stemmer: String) -> PyResult<usize> {
        self.with(|builder| builder.add_field(FieldSpec { name, analyzer, norms, positions, stemmer }))
    }

    /// Says that the stored lines leave out the ID field `name`'s value (each document's
    /// id), which readers put back; before the first document.
    fn set_stored_id(&self, name: &str) -> PyResult<()> {
        self.with(|builder| builder.set_stored_id(name))
    }

    /// Sets the lexicon (key, term) of a field whose terms Python makes.
    fn set_lexicon(&self, field: usize, entries: Vec<(String, String)>) -> PyResult<()> {
        self.with(|builder| builder.set_lexicon(field, entries))
    }

    /// Adds a column field ("int", "float" or "bool"); returns its number.
    fn add_column(&mut self, name: String, kind: &str) -> PyResult<usize> {
        let kind = column_kind(kind)?;
        self.kinds.push(kind);
        self.with(|builder| Ok(builder.add_column(name, kind)))
    }

    /// Terms added so far, over all fields (as of the last finished batch).
    #[getter]
    fn token_count(&self) -> u64 {
        self.tokens.load(Ordering::Acquire)
    }

    /// Bytes the builder holds (what `ram_buffer_mb` bounds), as of the last finished
    /// batch: read without waiting for a batch another thread is adding.
    fn memory(&self) -> usize {
        self.memory.load(Ordering::Acquire)
    }

    /// Documents added (as of the last finished batch).
    #[getter]
    fn doc_count(&self) -> u64 {
        self.docs.load(Ordering::Acquire)
    }

    /// Buffered doc ids whose field holds `term` (for deletes before the segment exists).
    fn docs_with_term(&self, field: &str, term: &str) -> PyResult<Vec<u32>> {
        self.with(|builder| Ok(builder.docs_with_term(field, term)))
    }

    /// Writes the segment's five files (terms, post, pos, norms, store) and returns their
    /// sizes; the builder's memory is freed and it takes no more documents.
    fn write(&self, py: Python<'_>, files: (String, String, String, String, String)) -> PyResult<Vec<u64>> {
        let builder = {
            let mut guard = self.inner.lock().map_err(|_| PyRuntimeError::new_err("the segment builder is poisoned"))?;
            guard.take().ok_or_else(|| PyRuntimeError::new_err("the segment was already written"))?
        };
        let paths = paths(files);
        py.detach(|| builder.write(&paths)).map(|sizes| sizes.to_vec()).map_err(to_py)
    }
}

/// What `SegmentReader.length_stats` hands back: live documents with a term in any of the
/// fields, and per field its total length and its live documents with a term.
type LengthStats = (u64, Vec<u64>, Vec<u64>);

/// One segment's files, mapped and checked; every structure is read through it.
#[pyclass(module = "searchlib._core", frozen)]
pub struct SegmentReader {
    pub(crate) inner: Reader,
}

impl SegmentReader {
    fn dict(&self, field: &str) -> PyResult<Option<TermDict<'_>>> {
        self.inner.dict(field).map_err(to_py)
    }

    fn info(&self, field: &str, ordinal: u64) -> PyResult<TermInfo> {
        let dict = self.dict(field)?.ok_or_else(|| PyValueError::new_err(format!("no field {field:?}")))?;
        if ordinal >= dict.len() {
            return Err(PyValueError::new_err(format!("term {ordinal} of {}", dict.len())));
        }
        self.inner.term_at(field, &dict, ordinal).map(|(_, info)| info).map_err(to_py)
    }

    fn decode_str(&self, bytes: Vec<u8>) -> PyResult<String> {
        String::from_utf8(bytes).map_err(|_| to_py(Error::corrupt(self.inner.terms.path(), "a term is not UTF-8")))
    }
}

#[pymethods]
impl SegmentReader {
    /// Opens the segment's five files (terms, post, pos, norms, store).
    #[new]
    fn new(py: Python<'_>, files: (String, String, String, String, String), doc_count: u32) -> PyResult<SegmentReader> {
        let paths = paths(files);
        py.detach(|| Reader::open(&paths, doc_count)).map(|inner| SegmentReader { inner }).map_err(to_py)
    }

    #[getter]
    fn doc_count(&self) -> u32 {
        self.inner.doc_count
    }

    /// (name, term count, keeps positions, keeps lengths) of each field with terms.
    fn fields(&self) -> Vec<(String, u64, bool, bool)> {
        self.inner
            .field_names()
            .into_iter()
            .filter_map(|name| self.inner.field(name).map(|f| (name.to_owned(), f.term_count, f.positions, f.norms)))
            .collect()
    }

    /// Terms `start..end` of a field.
    fn terms(&self, py: Python<'_>, field: &str, start: u64, end: u64) -> PyResult<Vec<String>> {
        let Some(dict) = self.dict(field)? else { return Ok(Vec::new()) };
        let entries = py.detach(|| dict.range(start, end)).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)?;
        entries.into_iter().map(|(term, _)| self.decode_str(term)).collect()
    }

    /// Terms `start..end` of a field as UTF-8 bytes (checked to be UTF-8).
    fn term_bytes<'py>(&self, py: Python<'py>, field: &str, start: u64, end: u64) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let Some(dict) = self.dict(field)? else { return Ok(Vec::new()) };
        let entries = py.detach(|| dict.range(start, end)).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)?;
        // Terms are UTF-8 in this format: a crafted one that is not is damage, found here
        // rather than by whoever decodes the bytes.
        entries
            .into_iter()
            .map(|(term, _)| match std::str::from_utf8(&term) {
                Ok(_) => Ok(PyBytes::new(py, &term)),
                Err(_) => Err(to_py(self.inner.name_field(Error::corrupt(self.inner.terms.path(), "a term is not UTF-8"), field))),
            })
            .collect()
    }

    /// Each term's ordinal in the field (-1 where it has none).
    fn find_many(&self, py: Python<'_>, field: &str, terms: Vec<String>) -> PyResult<Vec<i64>> {
        let Some(dict) = self.dict(field)? else { return Ok(vec![-1; terms.len()]) };
        py.detach(|| {
            terms
                .iter()
                .map(|t| dict.find(t.as_bytes()).map(|o| o.map_or(-1, |o| o as i64)))
                .collect::<Result<Vec<_>, _>>()
        })
        .in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field))
        .map_err(to_py)
    }

    /// The ordinal of the term each lexicon key became (-1 where the field's lexicon has
    /// no such key, or it has no lexicon).
    fn lexicon_find_many(&self, py: Python<'_>, field: &str, keys: Vec<String>) -> PyResult<Vec<i64>> {
        let Some(lexicon) = self.inner.lexicon(field).map_err(to_py)? else { return Ok(vec![-1; keys.len()]) };
        let terms = self.inner.field(field).map_or(0, |f| f.term_count);
        py.detach(|| {
            keys.iter()
                .map(|key| match lexicon.find(key.as_bytes())? {
                    None => Ok(-1),
                    Some(ordinal) => checked_ordinal(ordinal, terms),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field))
        .map_err(to_py)
    }

    /// How many keys a field's lexicon holds (None without one), without decoding them.
    fn lexicon_len(&self, field: &str) -> PyResult<Option<u64>> {
        Ok(self.inner.lexicon(field).map_err(to_py)?.map(|lexicon| lexicon.len()))
    }

    /// A field's whole lexicon: its keys in order and their terms' ordinals (uint32
    /// bytes); None without one.
    fn lexicon_entries<'py>(&self, py: Python<'py>, field: &str) -> PyResult<Option<(Vec<String>, Bound<'py, PyBytes>)>> {
        let Some(lexicon) = self.inner.lexicon(field).map_err(to_py)? else { return Ok(None) };
        let entries = py.detach(|| lexicon.entries()).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)?;
        let ordinals: Vec<u32> = entries.iter().map(|(_, ordinal)| *ordinal).collect();
        let keys = entries.into_iter().map(|(key, _)| self.decode_str(key)).collect::<PyResult<Vec<_>>>()?;
        Ok(Some((keys, u32_bytes(py, &ordinals)?)))
    }

    /// The number of the field's terms below `key` (at most `key` when `after`).
    fn bound(&self, field: &str, key: &[u8], after: bool) -> PyResult<u64> {
        let Some(dict) = self.dict(field)? else { return Ok(0) };
        dict.bound(key, after).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)
    }

    /// The ordinal range of the field's terms starting with `prefix`.
    fn prefix_range(&self, field: &str, prefix: &[u8]) -> PyResult<(u64, u64)> {
        let Some(dict) = self.dict(field)? else { return Ok((0, 0)) };
        dict.prefix_range(prefix).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)
    }

    /// doc_freq of terms `start..end` (uint32 bytes).
    fn doc_freqs<'py>(&self, py: Python<'py>, field: &str, start: u64, end: u64) -> PyResult<Bound<'py, PyBytes>> {
        let Some(dict) = self.dict(field)? else { return u32_bytes(py, &[]) };
        let entries = py.detach(|| dict.range(start, end)).in_file(self.inner.terms.path()).map_err(|e| self.inner.name_field(e, field)).map_err(to_py)?;
        let freqs: Vec<u32> = entries.iter().map(|(_, info)| info.doc_freq).collect();
        u32_bytes(py, &freqs)
    }

    /// The postings of the terms with these ordinals, concatenated: (docs, freqs, the
    /// number of postings of each term), uint32 bytes each.
    #[allow(clippy::type_complexity)]
    fn postings_many<'py>(
        &self,
        py: Python<'py>,
        field: &str,
        ordinals: Vec<u64>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let dict = self.dict(field)?.ok_or_else(|| PyValueError::new_err(format!("no field {field:?}")))?;
        let inner = &self.inner;
        let (docs, freqs, counts) = py
            .detach(|| -> Result<_, Error> {
                let (mut docs, mut freqs, mut counts) = (Vec::new(), Vec::new(), Vec::with_capacity(ordinals.len()));
                for &ordinal in &ordinals {
                    if ordinal >= dict.len() {
                        return Err(Error::Invalid(format!("term {ordinal} of {}", dict.len())));
                    }
                    let (_, info) = inner.term_at(field, &dict, ordinal)?;
                    let before = docs.len();
                    inner.postings(field, &info, &mut docs, &mut freqs)?;
                    counts.push((docs.len() - before) as u32);
                }
                Ok((docs, freqs, counts))
            })
            .map_err(to_py)?;
        Ok((u32_bytes(py, &docs)?, u32_bytes(py, &freqs)?, u32_bytes(py, &counts)?))
    }

    /// The doc ids of terms `start..end`, concatenated (repeats across terms).
    fn docs_of_range<'py>(&self, py: Python<'py>, field: &str, start: u64, end: u64) -> PyResult<Bound<'py, PyBytes>> {
        let Some(dict) = self.dict(field)? else { return u32_bytes(py, &[]) };
        let inner = &self.inner;
        let docs = py
            .detach(|| -> Result<_, Error> {
                let (mut docs, mut freqs) = (Vec::new(), Vec::new());
                for (_, info) in dict.range(start, end).in_file(inner.terms.path()).map_err(|e| inner.name_field(e, field))? {
                    inner.postings(field, &info, &mut docs, &mut freqs)?;
                }
                Ok(docs)
            })
            .map_err(to_py)?;
        u32_bytes(py, &docs)
    }

    /// A term's docs, freqs and positions (freqs[i] positions per posting), uint32 bytes.
    #[allow(clippy::type_complexity)]
    fn positions<'py>(
        &self,
        py: Python<'py>,
        field: &str,
        ordinal: u64,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let info = self.info(field, ordinal)?;
        let inner = &self.inner;
        let (docs, freqs, positions) = py
            .detach(|| -> Result<_, Error> {
                let (mut docs, mut freqs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
                inner.postings(field, &info, &mut docs, &mut freqs)?;
                inner.positions(field, &info, &freqs, &mut positions)?;
                Ok((docs, freqs, positions))
            })
            .map_err(to_py)?;
        Ok((u32_bytes(py, &docs)?, u32_bytes(py, &freqs)?, u32_bytes(py, &positions)?))
    }

    /// A text field's lengths per document (uint32 bytes), or None without norms.
    fn norms<'py>(&self, py: Python<'py>, field: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
        match py.detach(|| self.inner.norms(field)).map_err(to_py)? {
            None => Ok(None),
            Some(lengths) => u32_bytes(py, &lengths).map(Some),
        }
    }

    /// What BM25's collection statistics need of text fields with lengths, counted here
    /// rather than in Python, in one pass over each field's lengths: how many live
    /// documents have a term in any of `fields`, each field's total length over live
    /// documents, and how many live documents have a term in each field. `live` holds a
    /// byte per document (zero: deleted), or None when every document is live. A field
    /// without lengths in this segment counts as empty.
    fn length_stats(&self, py: Python<'_>, fields: Vec<String>, live: Option<Vec<u8>>) -> PyResult<LengthStats> {
        let doc_count = self.inner.doc_count as usize;
        if live.as_ref().is_some_and(|live| live.len() != doc_count) {
            return Err(PyValueError::new_err(format!("live has {} bytes for {doc_count} documents", live.as_ref().map_or(0, Vec::len))));
        }
        py.detach(|| {
            let mut has_any = vec![false; doc_count];
            let mut totals = Vec::with_capacity(fields.len());
            let mut counts = Vec::with_capacity(fields.len());
            for field in &fields {
                let (mut total, mut count) = (0u64, 0u64);
                if let Some(lengths) = self.inner.norms(field)? {
                    for (doc, (&length, any)) in lengths.iter().zip(has_any.iter_mut()).enumerate() {
                        if length > 0 && live.as_ref().map_or(true, |live| live.get(doc).is_some_and(|&l| l != 0)) {
                            *any = true;
                            total += u64::from(length);
                            count += 1;
                        }
                    }
                }
                totals.push(total);
                counts.push(count);
            }
            Ok((has_any.iter().filter(|&&any| any).count() as u64, totals, counts))
        })
        .map_err(to_py)
    }

    /// (first doc, end doc) of each stored block.
    fn stored_blocks(&self) -> Vec<(u32, u32)> {
        self.inner.blocks().iter().map(|b| (b.first_doc, b.end_doc)).collect()
    }

    /// The stored block holding `doc`.
    fn block_of(&self, doc: u32) -> PyResult<usize> {
        self.inner.block_of(doc).ok_or_else(|| PyValueError::new_err(format!("doc id {doc} out of range")))
    }

    /// Stored block `block` inflated: its documents' JSON lines joined by newlines.
    fn stored_block<'py>(&self, py: Python<'py>, block: usize) -> PyResult<Bound<'py, PyBytes>> {
        let (_, data) = py.detach(|| self.inner.stored_block(block)).map_err(to_py)?;
        Ok(PyBytes::new(py, &data))
    }

    /// Every document's id bytes and the doc_count + 1 offsets into them (uint32 bytes).
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let ids = self.inner.ids().map_err(to_py)?;
        let (bytes, offsets) = ids.all().in_file(self.inner.store.path()).map_err(to_py)?;
        Ok((PyBytes::new(py, bytes), u32_bytes(py, &offsets)?))
    }

    /// Document `doc`'s id bytes (empty when it has none).
    fn id<'py>(&self, py: Python<'py>, doc: u32) -> PyResult<Bound<'py, PyBytes>> {
        let ids = self.inner.ids().map_err(to_py)?;
        let id = ids.get(doc).in_file(self.inner.store.path()).map_err(to_py)?;
        Ok(PyBytes::new(py, id))
    }

    fn column_names(&self) -> Vec<String> {
        self.inner.column_names()
    }

    /// A column: (numpy dtype, values bytes, presence bytes of 0/1), or None.
    #[allow(clippy::type_complexity)]
    fn column<'py>(
        &self,
        py: Python<'py>,
        field: &str,
    ) -> PyResult<Option<(&'static str, Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
        Ok(self
            .inner
            .column(field)
            .map_err(to_py)?
            .map(|(kind, present, values)| (kind.dtype(), PyBytes::new(py, values), PyBytes::new(py, &present))))
    }

    /// Checks every checksum and structure of the segment (raises CorruptIndexError).
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.verify()).map_err(to_py)
    }

    /// The sizes of the five files.
    fn file_sizes(&self) -> Vec<usize> {
        let r = &self.inner;
        vec![r.terms.len(), r.postings.len(), r.positions.len(), r.norms.len(), r.store.len()]
    }
}

/// Merges segments (each with its live-document mask as bytes of 0/1, or None) into a new
/// segment written at `files`; returns its doc count and file sizes.
#[pyfunction]
fn merge_segments(
    py: Python<'_>,
    inputs: Vec<(Py<SegmentReader>, Option<Vec<u8>>)>,
    files: (String, String, String, String, String),
) -> PyResult<(u32, Vec<u64>)> {
    let live: Vec<Option<Vec<bool>>> =
        inputs.iter().map(|(_, live)| live.as_ref().map(|l| l.iter().map(|&b| b != 0).collect())).collect();
    let readers: Vec<&SegmentReader> = inputs.iter().map(|(reader, _)| reader.get()).collect();
    let paths = paths(files);
    py.detach(|| {
        let merge_inputs: Vec<MergeInput<'_>> =
            readers.iter().zip(&live).map(|(r, l)| MergeInput { reader: &r.inner, live: l.as_deref() }).collect();
        merge::merge(&merge_inputs, &paths)
    })
    .map(|(count, sizes)| (count, sizes.to_vec()))
    .map_err(to_py)
}

