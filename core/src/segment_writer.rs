//! Writing segments: the in-memory inverter ([`SegmentBuilder`]) and the file writer both
//! it and a merge use ([`SegmentSink`]).
//!
//! A builder takes documents already checked by Python (stored JSON line, id bytes, the
//! text of each indexed field, column values), analyzes each text with its field's
//! [`Analyzer`], and appends each term's postings and positions to growing byte buffers
//! of variable-byte gaps, so memory grows by a few bytes a token; writing re-encodes them
//! in blocks. It counts the memory it holds, so the writer flushes at its RAM budget.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::analysis::filters::{self as chain, Filter};
use crate::analysis::Analyzer;
use crate::columns::{ColumnKind, ColumnWriter};
use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Error};
use crate::file::{kind, FileWriter};
use crate::store::{BlockPacker, IdsWriter};
use crate::termdict::{Entries, TermDictWriter};
use crate::{fieldnorms, positions, postings, sections};

/// FxHash (rustc's): fast for short keys; the keys are a segment's own terms, so flooding
/// resistance is not needed.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The five files of a segment.
#[derive(Debug, Clone)]
pub struct SegmentPaths {
    pub terms: String,
    pub postings: String,
    pub positions: String,
    pub norms: String,
    pub store: String,
}

/// Sizes of the five files as written, in [`SegmentPaths`] order.
pub type FileSizes = [u64; 5];

/// How a field is indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    /// The analyzer spec (JSON) its values go through; empty when Python analyzes them.
    pub analyzer: String,
    /// Whether it keeps lengths (text fields) and positions.
    pub norms: bool,
    pub positions: bool,
    /// A stem filter's spec (JSON) to run after `analyzer`, or empty. With one, the
    /// builder keeps the field's lexicon: each word `analyzer` makes (a lexicon key) with
    /// the term the stemmer makes of it, so suggestions and query words can find real
    /// words; the stemmer then runs once per distinct key.
    pub stemmer: String,
}

/// The stem filters a stemmer spec describes (a chain of one filter).
fn stem_filters(spec: &str) -> Result<Vec<Filter>, Error> {
    let chain = format!("{{\"tokenizer\": {{\"type\": \"keyword\"}}, \"filters\": [{spec}]}}");
    crate::analysis::spec::parse(&chain).map(|(_, filters)| filters).map_err(|e| Error::Invalid(format!("stemmer: {e}")))
}

/// Per-field flags stored in the field's meta section.
pub const FLAG_POSITIONS: u8 = 1;
pub const FLAG_NORMS: u8 = 2;

/// Writes a segment's five files, field after field, term after term in byte order.
pub struct SegmentSink {
    terms: FileWriter,
    postings: FileWriter,
    positions: FileWriter,
    norms: FileWriter,
    store: FileWriter,
    doc_count: u32,
    field: Option<OpenField>,
    encoded: Vec<u8>,
    positions_encoded: Vec<u8>,
}

/// Lexicon keys in byte order, each with its term's ordinal.
pub type ListedWords = Vec<(Vec<u8>, u32)>;

struct OpenField {
    name: String,
    flags: u8,
    norms: Option<Vec<u32>>,
    dict: TermDictWriter,
    /// The words whose term differs from them, each with its term's ordinal, and the
    /// ordinals of the terms that are words themselves (see [`crate::lexicon`]).
    lexicon: Option<(ListedWords, Vec<u32>)>,
}

impl SegmentSink {
    pub fn create(paths: &SegmentPaths, doc_count: u32) -> Result<SegmentSink, Error> {
        let mut sink = SegmentSink {
            terms: FileWriter::create(&paths.terms, kind::TERMS)?,
            postings: FileWriter::create(&paths.postings, kind::POSTINGS)?,
            positions: FileWriter::create(&paths.positions, kind::POSITIONS)?,
            norms: FileWriter::create(&paths.norms, kind::NORMS)?,
            store: FileWriter::create(&paths.store, kind::STORE)?,
            doc_count,
            field: None,
            encoded: Vec::new(),
            positions_encoded: Vec::new(),
        };
        sink.terms.section(sections::SEGMENT, &doc_count.to_le_bytes())?;
        sink.store.begin(sections::STORE_BLOCKS);
        Ok(sink)
    }

    /// Starts a field; `norms` are its lengths by doc id (text fields only).
    pub fn begin_field(&mut self, name: &str, positions: bool, norms: Option<Vec<u32>>) -> Result<(), Error> {
        self.end_field()?;
        if let Some(lengths) = &norms {
            if lengths.len() != self.doc_count as usize {
                return Err(Error::Invalid(format!("{} lengths for {} documents", lengths.len(), self.doc_count)));
            }
            self.norms.section(&sections::field(name, sections::NORMS), &fieldnorms::encode(lengths))?;
        }
        self.postings.begin(&sections::field(name, sections::POSTINGS));
        if positions {
            self.positions.begin(&sections::field(name, sections::POSITIONS));
        }
        let flags = if positions { FLAG_POSITIONS } else { 0 } | if norms.is_some() { FLAG_NORMS } else { 0 };
        let entries = if positions { Entries::WithPositions } else { Entries::WithoutPositions };
        self.field = Some(OpenField { name: name.to_owned(), flags, norms, dict: TermDictWriter::of(entries), lexicon: None });
        Ok(())
    }

    /// Gives the open field a lexicon: `listed`, the words whose term differs from them
    /// in ascending byte order, each with its term's ordinal; `words`, the ordinals of
    /// the terms that are words of the field themselves.
    pub fn set_lexicon(&mut self, listed: ListedWords, words: Vec<u32>) {
        if let Some(field) = self.field.as_mut() {
            field.lexicon = Some((listed, words));
        }
    }

    /// Terms added to the open field so far (the next term's ordinal).
    pub fn term_count(&self) -> u64 {
        self.field.as_ref().map_or(0, |f| f.dict.len())
    }

    /// Adds the open field's next term: its postings and (if the field keeps them) its
    /// position gaps (see [`crate::positions`]).
    pub fn add_term(&mut self, term: &[u8], docs: &[u32], freqs: &[u32], position_gaps: &[u32]) -> Result<(), Error> {
        self.positions_encoded.clear();
        positions::encode(position_gaps, &mut self.positions_encoded);
        let encoded = std::mem::take(&mut self.positions_encoded);
        let added = self.add_term_encoded(term, docs, freqs, &encoded);
        self.positions_encoded = encoded;
        added
    }

    /// [`SegmentSink::add_term`] with the positions already encoded (the builder keeps
    /// them in the file's encoding, so they are copied, not decoded and encoded again).
    pub fn add_term_encoded(&mut self, term: &[u8], docs: &[u32], freqs: &[u32], positions: &[u8]) -> Result<(), Error> {
        let Some(field) = self.field.as_mut() else {
            return Err(Error::Invalid("add_term outside a field".into()));
        };
        self.encoded.clear();
        postings::encode(docs, freqs, field.norms.as_deref(), &mut self.encoded);
        self.postings.write(&self.encoded)?;
        let postings_len = self.encoded.len() as u64;
        let positions_len = if field.flags & FLAG_POSITIONS != 0 {
            self.positions.write(positions)?;
            positions.len() as u64
        } else {
            0
        };
        field.dict.add(term, docs.len() as u32, postings_len, positions_len);
        Ok(())
    }

    fn end_field(&mut self) -> Result<(), Error> {
        let Some(field) = self.field.take() else { return Ok(()) };
        self.postings.end();
        self.positions.end();
        let (data, index, term_count) = field.dict.finish();
        self.terms.section(&sections::field(&field.name, sections::DICT), &data)?;
        self.terms.section(&sections::field(&field.name, sections::DICT_INDEX), &index)?;
        let mut meta = term_count.to_le_bytes().to_vec();
        meta.push(field.flags);
        self.terms.section(&sections::field(&field.name, sections::META), &meta)?;
        if let Some((listed, words)) = field.lexicon.filter(|(l, w)| !l.is_empty() || !w.is_empty()) {
            let mut lexicon = TermDictWriter::keys_only();
            for (key, ordinal) in &listed {
                lexicon.add(key, *ordinal, 0, 0);
            }
            let (data, index, count) = lexicon.finish();
            self.terms.section(&sections::field(&field.name, sections::LEXICON), &data)?;
            self.terms.section(&sections::field(&field.name, sections::LEXICON_INDEX), &index)?;
            self.terms.section(&sections::field(&field.name, sections::LEXICON_META), &count.to_le_bytes())?;
            let bits = crate::lexicon::encode_words(&words, term_count);
            self.terms.section(&sections::field(&field.name, sections::LEXICON_WORDS), &bits)?;
        }
        Ok(())
    }

    /// Appends a compressed stored block.
    pub fn store_block(&mut self, block: &[u8]) -> Result<(), Error> {
        self.store.write(block)
    }

    /// Writes the stored-field index, ids and columns, and finishes all five files.
    /// `stored_id` names the ID field the stored lines leave out, if they do.
    pub fn finish(
        mut self,
        packer: BlockPacker,
        ids: &IdsWriter,
        stored_id: Option<&str>,
        columns: &[(String, ColumnWriter)],
    ) -> Result<FileSizes, Error> {
        self.end_field()?;
        self.store.end();
        self.store.section(sections::STORE_INDEX, &packer.finish_index())?;
        self.store.section(sections::IDS, &ids.encode())?;
        if let Some(name) = stored_id {
            self.store.section(sections::STORE_ID_FIELD, name.as_bytes())?;
        }
        for (name, column) in columns {
            self.store.section(&sections::field(name, sections::COLUMN), &column.encode())?;
        }
        Ok([
            self.terms.finish()?,
            self.postings.finish()?,
            self.positions.finish()?,
            self.norms.finish()?,
            self.store.finish()?,
        ])
    }
}

/// A term's postings while a segment is built.
#[derive(Debug, Default)]
struct TermBuffer {
    /// Per document: vint doc gap, then vint tf (but for the last document, whose tf is
    /// still counting in `tf`).
    postings: Vec<u8>,
    /// Per occurrence: vint position gap within its document (the positions file's own
    /// encoding, see [`crate::positions`]).
    positions: Vec<u8>,
    last_doc: u32,
    /// Occurrences in `last_doc` so far (0 before the first).
    tf: u32,
    last_position: u32,
    doc_freq: u32,
}

impl TermBuffer {
    fn memory(&self) -> usize {
        self.postings.capacity() + self.positions.capacity()
    }

    /// Decodes the postings (the pending document included).
    fn postings(&self, docs: &mut Vec<u32>, freqs: &mut Vec<u32>) -> Result<(), Corrupt> {
        docs.clear();
        freqs.clear();
        let mut cursor = Cursor::new(&self.postings);
        let mut base = 0u32;
        while !cursor.is_empty() {
            let doc = base + cursor.vu32()?;
            docs.push(doc);
            // The last document's frequency is still counting, in `tf`.
            freqs.push(if cursor.is_empty() { self.tf } else { cursor.vu32()? });
            base = doc + 1;
        }
        Ok(())
    }
}

/// A field's terms: each distinct term's number, and the buffers by number (so the map's
/// entries stay small and a lexicon hit reaches the buffer without a second look-up).
#[derive(Default)]
struct TermTable {
    ids: FxMap<Box<str>, u32>,
    buffers: Vec<TermBuffer>,
}

impl TermTable {
    fn is_empty(&self) -> bool {
        self.buffers.is_empty()
    }

    /// The number of `term`, given one if it is new.
    #[inline]
    fn id(&mut self, term: &str, memory: &mut usize) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        *memory += TERM_OVERHEAD + term.len();
        let id = self.buffers.len() as u32;
        self.buffers.push(TermBuffer::default());
        self.ids.insert(term.into(), id);
        id
    }
}

/// A lexicon entry's term number when the stemmer dropped the key.
const DROPPED: u32 = u32::MAX;

struct FieldBuffer {
    spec: FieldSpec,
    /// None when the field's analyzer runs in Python (its spec is empty).
    analyzer: Option<Analyzer>,
    terms: TermTable,
    lengths: Vec<u32>,
    /// With a stemmer: lexicon key -> its term's number (DROPPED: the stemmer dropped it).
    stemmer: Option<Vec<Filter>>,
    lexicon: FxMap<Box<str>, u32>,
}

/// Adds a field's length in one document to its lengths (text fields only).
fn add_length(spec: &FieldSpec, lengths: &mut [u32], length: u32) {
    if spec.norms {
        if let Some(last) = lengths.last_mut() {
            *last = last.saturating_add(length);
        }
    }
}

/// Appends one document's terms of one field to the field's term buffers, counting the
/// field's length (distinct positions: stacked synonyms count once) and the memory used.
struct Inverter<'a> {
    terms: &'a mut TermTable,
    memory: &'a mut usize,
    doc: u32,
    length: u32,
    tokens: u64,
    previous: Option<u32>,
}

impl<'a> Inverter<'a> {
    fn new(terms: &'a mut TermTable, memory: &'a mut usize, doc: u32) -> Inverter<'a> {
        Inverter { terms, memory, doc, length: 0, tokens: 0, previous: None }
    }

    /// Adds an occurrence of `term` at `position`.
    #[inline]
    fn add(&mut self, term: &str, position: u32) {
        let id = self.terms.id(term, self.memory);
        self.add_id(id, position);
    }

    /// Adds an occurrence of the term numbered `id` at `position`.
    #[inline]
    fn add_id(&mut self, id: u32, position: u32) {
        self.tokens += 1;
        if self.previous != Some(position) {
            self.length += 1;
            self.previous = Some(position);
        }
        let Some(buffer) = self.terms.buffers.get_mut(id as usize) else { return };
        let before = buffer.memory();
        let doc = self.doc;
        if buffer.tf > 0 && buffer.last_doc == doc {
            buffer.tf += 1;
            put_vint(&mut buffer.positions, u64::from(position.saturating_sub(buffer.last_position)));
        } else {
            let base = if buffer.tf > 0 {
                put_vint(&mut buffer.postings, u64::from(buffer.tf));
                buffer.last_doc + 1
            } else {
                0
            };
            put_vint(&mut buffer.postings, u64::from(doc - base));
            buffer.last_doc = doc;
            buffer.tf = 1;
            buffer.doc_freq += 1;
            put_vint(&mut buffer.positions, u64::from(position));
        }
        buffer.last_position = position;
        *self.memory += buffer.memory().saturating_sub(before);
    }
}

/// A value of a column field for one document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnValue {
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A document as Python's schema check leaves it.
#[derive(Debug, Clone, Default)]
pub struct DocumentInput {
    pub stored: Vec<u8>,
    pub id: Vec<u8>,
    /// (field index in the builder's specs, text)
    pub values: Vec<(usize, String)>,
    /// (field index, terms, positions) of fields whose analyzer runs in Python (a custom
    /// part): the terms it made, in position order.
    pub tokens: Vec<(usize, Vec<String>, Vec<u32>)>,
    /// (column index in the builder's columns, value)
    pub columns: Vec<(usize, ColumnValue)>,
}

/// Inverts documents into one segment in memory, then writes it.
pub struct SegmentBuilder {
    fields: Vec<FieldBuffer>,
    columns: Vec<(String, ColumnWriter)>,
    store: BlockPacker,
    stored_blocks: Vec<u8>,
    ids: IdsWriter,
    /// The ID field whose value the stored lines leave out (see [`SegmentBuilder::set_stored_id`]).
    stored_id: Option<String>,
    doc_count: u32,
    memory: usize,
    tokens: u64,
}

/// Bytes a distinct term costs beyond its buffers: the map slot, the key's allocation
/// and the buffer's fields.
const TERM_OVERHEAD: usize = 96;

impl SegmentBuilder {
    pub fn new(fields: Vec<FieldSpec>, columns: Vec<(String, ColumnKind)>) -> Result<SegmentBuilder, Error> {
        let mut builder = SegmentBuilder {
            fields: Vec::with_capacity(fields.len()),
            columns: Vec::with_capacity(columns.len()),
            store: BlockPacker::new(),
            stored_blocks: Vec::new(),
            ids: IdsWriter::new(),
            stored_id: None,
            doc_count: 0,
            memory: 0,
            tokens: 0,
        };
        for spec in fields {
            builder.add_field(spec)?;
        }
        for (name, kind) in columns {
            builder.add_column(name, kind);
        }
        Ok(builder)
    }

    pub fn doc_count(&self) -> u32 {
        self.doc_count
    }

    /// Terms added so far, over all fields.
    pub fn token_count(&self) -> u64 {
        self.tokens
    }

    /// Adds a field to a builder that may hold documents already (a schema may grow
    /// between documents); those documents have a length of 0 in it.
    pub fn add_field(&mut self, spec: FieldSpec) -> Result<usize, Error> {
        let analyzer = if spec.analyzer.is_empty() {
            None
        } else {
            Some(Analyzer::from_spec(&spec.analyzer).map_err(|e| Error::Invalid(format!("field {:?}: {e}", spec.name)))?)
        };
        let lengths = if spec.norms { vec![0; self.doc_count as usize] } else { Vec::new() };
        let stemmer = if spec.stemmer.is_empty() { None } else { Some(stem_filters(&spec.stemmer)?) };
        self.fields.push(FieldBuffer { spec, analyzer, terms: TermTable::default(), lengths, stemmer, lexicon: FxMap::default() });
        Ok(self.fields.len() - 1)
    }

    /// Says that the documents' stored lines leave out the value of the ID field `name`
    /// (given as each document's id instead): readers put it back. Set before the first
    /// document, or a reader would put ids into earlier lines that hold them already.
    pub fn set_stored_id(&mut self, name: &str) -> Result<(), Error> {
        if self.doc_count > 0 {
            return Err(Error::Invalid("the stored ID field is set before the first document".into()));
        }
        self.stored_id = Some(name.to_owned());
        Ok(())
    }

    /// Adds a column the same way (earlier documents have no value in it).
    pub fn add_column(&mut self, name: String, kind: ColumnKind) -> usize {
        let mut column = ColumnWriter::new(kind);
        for _ in 0..self.doc_count {
            column.push(None);
        }
        self.columns.push((name, column));
        self.columns.len() - 1
    }

    /// Bytes held (buffers' capacities plus a per-term overhead): what the RAM budget bounds.
    pub fn memory(&self) -> usize {
        self.memory
            + self.stored_blocks.capacity()
            + self.store.pending_bytes()
            + self.ids.memory()
            + self.columns.iter().map(|(_, c)| c.memory()).sum::<usize>()
            + self.fields.iter().map(|f| 4 * f.lengths.capacity()).sum::<usize>()
    }

    /// Adds one document; returns its doc id.
    pub fn add(&mut self, document: &DocumentInput) -> Result<u32, Error> {
        let doc = self.doc_count;
        if doc == u32::MAX {
            return Err(Error::Invalid("a segment holds at most 2**32 - 1 documents".into()));
        }
        for field in &mut self.fields {
            if field.spec.norms {
                field.lengths.push(0);
            }
        }
        for (index, text) in &document.values {
            let field = self
                .fields
                .get_mut(*index)
                .ok_or_else(|| Error::Invalid(format!("no field number {index}")))?;
            let FieldBuffer { analyzer, terms, lengths, spec, stemmer, lexicon } = field;
            let analyzer = analyzer
                .as_mut()
                .ok_or_else(|| Error::Invalid(format!("field {:?} takes terms made in Python", spec.name)))?;
            let mut inverter = Inverter::new(terms, &mut self.memory, doc);
            match stemmer {
                None => analyzer.for_each_term(text, |term, position| inverter.add(term, position)),
                Some(stemmer) => analyzer.for_each_term(text, |key, position| {
                    let id = match lexicon.get(key) {
                        Some(&id) => id,
                        None => {
                            let id = match chain::run(stemmer, key) {
                                Some(term) => inverter.terms.id(&term, inverter.memory),
                                None => DROPPED,
                            };
                            *inverter.memory += TERM_OVERHEAD + key.len();
                            lexicon.insert(key.into(), id);
                            id
                        }
                    };
                    if id != DROPPED {
                        inverter.add_id(id, position);
                    }
                }),
            }
            let length = inverter.length;
            self.tokens += inverter.tokens;
            add_length(spec, lengths, length);
        }
        for (index, tokens, positions) in &document.tokens {
            let field = self
                .fields
                .get_mut(*index)
                .ok_or_else(|| Error::Invalid(format!("no field number {index}")))?;
            let FieldBuffer { terms, lengths, spec, .. } = field;
            let mut inverter = Inverter::new(terms, &mut self.memory, doc);
            for (term, &position) in tokens.iter().zip(positions) {
                inverter.add(term, position);
            }
            let length = inverter.length;
            self.tokens += inverter.tokens;
            add_length(spec, lengths, length);
        }
        for (column_index, column) in self.columns.iter_mut().enumerate() {
            let value = document.columns.iter().find(|(i, _)| *i == column_index).map(|(_, v)| match v {
                ColumnValue::Int(i) => *i as u64,
                ColumnValue::Float(f) => f.to_bits(),
                ColumnValue::Bool(b) => u64::from(*b),
            });
            column.1.push(value);
        }
        self.ids.add(&document.id).map_err(Error::Invalid)?;
        for block in self.store.add(&document.stored) {
            self.stored_blocks.extend_from_slice(&block);
        }
        self.doc_count += 1;
        Ok(doc)
    }

    /// Sets the lexicon of a field analyzed in Python: each key (a word after the
    /// filters before the stemmer) with the term it became.
    pub fn set_lexicon(&mut self, field: usize, entries: Vec<(String, String)>) -> Result<(), Error> {
        let buffer = self.fields.get_mut(field).ok_or_else(|| Error::Invalid(format!("no field number {field}")))?;
        for (key, term) in entries {
            // A word's term is in the table unless no document kept it: then it has no postings.
            if let Some(&id) = buffer.terms.ids.get(term.as_str()) {
                self.memory += TERM_OVERHEAD + key.len();
                buffer.lexicon.insert(key.into_boxed_str(), id);
            }
        }
        Ok(())
    }

    /// The buffered doc ids whose field `field` has the term `term` (for deletes by id
    /// before the segment is written).
    pub fn docs_with_term(&self, field: &str, term: &str) -> Vec<u32> {
        let mut docs = Vec::new();
        let mut freqs = Vec::new();
        let field = self.fields.iter().find(|f| f.spec.name == field);
        if let Some(buffer) = field.and_then(|f| f.terms.buffers.get(*f.terms.ids.get(term)? as usize)) {
            // The builder wrote these bytes itself; they cannot fail to decode.
            let _ = buffer.postings(&mut docs, &mut freqs);
        }
        docs
    }

    /// Writes the segment's files and frees the builder's memory.
    pub fn write(mut self, paths: &SegmentPaths) -> Result<FileSizes, Error> {
        if let Some(block) = self.store.flush() {
            self.stored_blocks.extend_from_slice(&block);
        }
        let mut sink = SegmentSink::create(paths, self.doc_count)?;
        sink.store_block(&self.stored_blocks)?;
        self.stored_blocks = Vec::new();
        let mut fields = std::mem::take(&mut self.fields);
        fields.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        let (mut docs, mut freqs) = (Vec::new(), Vec::new());
        for field in fields {
            if field.terms.is_empty() {
                continue; // no document of the segment has the field
            }
            let norms = field.spec.norms.then_some(field.lengths);
            sink.begin_field(&field.spec.name, field.spec.positions, norms)?;
            let TermTable { ids, buffers } = field.terms;
            let mut terms: Vec<(Box<str>, u32)> = ids.into_iter().collect();
            terms.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let mut ordinals = vec![DROPPED; buffers.len()];
            for (ordinal, (term, id)) in terms.iter().enumerate() {
                let Some(buffer) = buffers.get(*id as usize) else { continue };
                buffer.postings(&mut docs, &mut freqs).map_err(|Corrupt(m)| Error::Invalid(m))?;
                sink.add_term_encoded(term.as_bytes(), &docs, &freqs, &buffer.positions)?;
                if let Some(slot) = ordinals.get_mut(*id as usize) {
                    *slot = ordinal as u32;
                }
            }
            if !field.lexicon.is_empty() {
                let (mut listed, mut words) = (Vec::new(), Vec::new());
                for (key, &id) in &field.lexicon {
                    let Some(&ordinal) = ordinals.get(id as usize) else { continue };
                    if ordinal == DROPPED {
                        continue;
                    }
                    if terms.get(ordinal as usize).is_some_and(|(term, _)| term.as_ref() == key.as_ref()) {
                        words.push(ordinal);
                    } else {
                        listed.push((key.as_bytes().to_vec(), ordinal));
                    }
                }
                listed.sort_unstable();
                sink.set_lexicon(listed, words);
            }
        }
        sink.finish(self.store, &self.ids, self.stored_id.as_deref(), &self.columns)
    }
}
