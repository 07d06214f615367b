//! Reading one segment: its five files mapped and checked, each structure decoded on
//! demand through the checked reads of [`SegmentFile`].

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::HashMap;
use std::ops::Range;

use crate::columns::{self, ColumnKind};
use crate::cursor::Cursor;
use crate::error::{Error, InFile};
use crate::file::{kind, SegmentFile};
use crate::postings::{self, Skip};
use crate::segment_writer::{SegmentPaths, FLAG_NORMS, FLAG_POSITIONS};
use crate::store::{self, BlockEntry, Ids};
use crate::termdict::{Entries, TermDict, TermInfo};
use crate::lexicon::Lexicon;
use crate::{fieldnorms, positions, sections};

/// A column read back: its kind, a 0/1 presence byte per document, its values' bytes.
pub type Column<'a> = (ColumnKind, Vec<u8>, &'a [u8]);

/// What the terms file says about one field.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub term_count: u64,
    pub positions: bool,
    pub norms: bool,
    postings: Range<usize>,
    positions_range: Option<Range<usize>>,
    /// The term dictionary's sections (data, index) in the terms file, found at open: a
    /// query opens the dictionary at each term it has not looked up before, and naming
    /// and finding its sections cost more than opening it. None: missing (`dict` says so).
    dict_ranges: Option<(Range<usize>, Range<usize>)>,
}

/// Says which field (and structure) a damaged read was for.
fn about<T>(result: Result<T, Error>, what: &str, field: &str) -> Result<T, Error> {
    result.map_err(|error| match error {
        Error::Corrupt { path, message } if field.is_empty() => Error::Corrupt { path, message: format!("{what}: {message}") },
        Error::Corrupt { path, message } => Error::Corrupt { path, message: format!("{what} of {field:?}: {message}") },
        other => other,
    })
}

/// An open segment.
#[derive(Debug)]
pub struct SegmentReader {
    pub doc_count: u32,
    pub terms: SegmentFile,
    pub postings: SegmentFile,
    pub positions: SegmentFile,
    pub norms: SegmentFile,
    pub store: SegmentFile,
    fields: HashMap<String, FieldInfo>,
    blocks: Vec<BlockEntry>,
    blocks_range: Range<usize>,
    /// The ID field the stored lines leave out, if its value is stored.
    stored_id: Option<String>,
}

impl SegmentReader {
    /// Opens the segment whose manifest entry says it holds `doc_count` documents.
    pub fn open(paths: &SegmentPaths, doc_count: u32) -> Result<SegmentReader, Error> {
        let terms = SegmentFile::open(&paths.terms, kind::TERMS)?;
        let postings = SegmentFile::open(&paths.postings, kind::POSTINGS)?;
        let positions = SegmentFile::open(&paths.positions, kind::POSITIONS)?;
        let norms = SegmentFile::open(&paths.norms, kind::NORMS)?;
        let store = SegmentFile::open(&paths.store, kind::STORE)?;
        let found = about(Cursor::new(terms.required(sections::SEGMENT)?).u32().in_file(terms.path()), "the segment header", "")?;
        if found != doc_count {
            return Err(Error::corrupt(terms.path(), format!("holds {found} documents, the manifest says {doc_count}")));
        }
        let mut fields = HashMap::new();
        let names: Vec<String> = terms.names().map(str::to_owned).collect();
        for name in names {
            let Some(field) = sections::field_of(&name, sections::META) else { continue };
            let mut cursor = Cursor::new(terms.required(&name)?);
            let term_count = cursor.u64().in_file(terms.path())?;
            let flags = cursor.u8().in_file(terms.path())?;
            let positions_on = flags & FLAG_POSITIONS != 0;
            let postings_range = postings
                .range(&sections::field(field, sections::POSTINGS))
                .ok_or_else(|| Error::corrupt(postings.path(), format!("postings of {field:?} are missing")))?;
            let positions_range = if positions_on {
                Some(
                    positions
                        .range(&sections::field(field, sections::POSITIONS))
                        .ok_or_else(|| Error::corrupt(positions.path(), format!("positions of {field:?} are missing")))?,
                )
            } else {
                None
            };
            let norms_on = flags & FLAG_NORMS != 0;
            if norms_on != norms.has(&sections::field(field, sections::NORMS)) {
                return Err(Error::corrupt(norms.path(), format!("norms of {field:?} disagree with the terms file")));
            }
            let dict_ranges = terms.range(&sections::field(field, sections::DICT)).zip(terms.range(&sections::field(field, sections::DICT_INDEX)));
            fields.insert(
                field.to_owned(),
                FieldInfo {
                    term_count,
                    positions: positions_on,
                    norms: norms_on,
                    postings: postings_range,
                    positions_range,
                    dict_ranges,
                },
            );
        }
        let blocks_range = store
            .range(sections::STORE_BLOCKS)
            .ok_or_else(|| Error::corrupt(store.path(), "stored blocks are missing"))?;
        let blocks = store::read_index(store.required(sections::STORE_INDEX)?, doc_count, blocks_range.len() as u64)
            .in_file(store.path())?;
        Ids::new(store.required(sections::IDS)?, doc_count).in_file(store.path())?;
        let stored_id = match store.section(sections::STORE_ID_FIELD)? {
            None => None,
            Some(name) => Some(
                String::from_utf8(name.to_vec())
                    .map_err(|_| Error::corrupt(store.path(), "the stored ID field's name is not UTF-8"))?,
            ),
        };
        Ok(SegmentReader { doc_count, terms, postings, positions, norms, store, fields, blocks, blocks_range, stored_id })
    }

    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(name)
    }

    /// The fields with terms, sorted.
    pub fn field_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// A field's term dictionary (None when no document of the segment has the field).
    pub fn dict(&self, field: &str) -> Result<Option<TermDict<'_>>, Error> {
        let Some(info) = self.fields.get(field) else { return Ok(None) };
        about(
            (|| {
                let (data, index) = match &info.dict_ranges {
                    Some((data, index)) => (self.terms.read(data.clone())?, self.terms.read(index.clone())?),
                    None => (
                        self.terms.required(&sections::field(field, sections::DICT))?,
                        self.terms.required(&sections::field(field, sections::DICT_INDEX))?,
                    ),
                };
                let entries = if info.positions { Entries::WithPositions } else { Entries::WithoutPositions };
                TermDict::open(data, index, info.term_count, entries).in_file(self.terms.path()).map(Some)
            })(),
            "the terms",
            field,
        )
    }

    /// `error` with the field it was met in named (for errors of the field's terms).
    pub fn name_field(&self, error: Error, field: &str) -> Error {
        about::<()>(Err(error), "the terms", field).err().unwrap_or(Error::Invalid(String::new()))
    }

    /// A term of the field's dictionary (decoding errors name the field).
    pub fn term_at(&self, field: &str, dict: &TermDict<'_>, ordinal: u64) -> Result<(Vec<u8>, TermInfo), Error> {
        about(dict.get(ordinal).in_file(self.terms.path()), "the terms", field)
    }

    /// A stemmed field's lexicon (None without one): its words, each with the ordinal of
    /// the term it became.
    pub fn lexicon(&self, field: &str) -> Result<Option<Lexicon<'_>>, Error> {
        let Some(meta) = self.terms.section(&sections::field(field, sections::LEXICON_META))? else { return Ok(None) };
        let count = Cursor::new(meta).u64().in_file(self.terms.path())?;
        let data = self.terms.required(&sections::field(field, sections::LEXICON))?;
        let index = self.terms.required(&sections::field(field, sections::LEXICON_INDEX))?;
        let words = self.terms.required(&sections::field(field, sections::LEXICON_WORDS))?;
        let terms = self
            .dict(field)?
            .ok_or_else(|| Error::corrupt(self.terms.path(), format!("a lexicon of {field:?}, a field without terms")))?;
        about(
            TermDict::keys_only(data, index, count).and_then(|keys| Lexicon::new(keys, words, terms)).in_file(self.terms.path()),
            "the lexicon",
            field,
        )
        .map(Some)
    }

    /// A term's encoded postings (checked to lie in the field's section), for cursors
    /// that decode them block by block.
    pub fn postings_bytes(&self, field: &str, info: &TermInfo) -> Result<&[u8], Error> {
        let range = &self.fields.get(field).ok_or_else(|| Error::Invalid(format!("no field {field:?}")))?.postings;
        self.postings.read_in(range, info.postings_offset, info.postings_len)
    }

    /// A term's postings (appended to `docs` and `freqs`).
    pub fn postings(&self, field: &str, info: &TermInfo, docs: &mut Vec<u32>, freqs: &mut Vec<u32>) -> Result<(), Error> {
        let decoded = self.postings_bytes(field, info).and_then(|bytes| {
            postings::decode(bytes, info.doc_freq, self.doc_count, docs, freqs).in_file(self.postings.path())
        });
        about(decoded, "the postings", field)
    }

    /// A term's skip entries with block maxima.
    pub fn skips(&self, field: &str, info: &TermInfo) -> Result<Vec<Skip>, Error> {
        let bytes = self.postings_bytes(field, info)?;
        postings::skips(bytes, info.doc_freq).in_file(self.postings.path())
    }

    /// A term's raw encoded positions (empty for a field without positions).
    pub fn positions_bytes(&self, field: &str, info: &TermInfo) -> Result<&[u8], Error> {
        let field_info = self.fields.get(field).ok_or_else(|| Error::Invalid(format!("no field {field:?}")))?;
        match &field_info.positions_range {
            None if info.positions_len == 0 => Ok(&[]),
            None => Err(Error::corrupt(self.terms.path(), "positions of a field without positions")),
            Some(range) => self.positions.read_in(range, info.positions_offset, info.positions_len),
        }
    }

    /// A term's positions given its frequencies (zeros for a field without positions).
    pub fn positions(&self, field: &str, info: &TermInfo, freqs: &[u32], out: &mut Vec<u32>) -> Result<(), Error> {
        let has = self.fields.get(field).is_some_and(|f| f.positions);
        if !has {
            // A field without positions holds exact terms, one per document, so every
            // frequency is 1; refusing any other keeps a hostile frequency (up to 2^32)
            // from sizing the zeros below.
            if freqs.iter().any(|&f| f != 1) {
                return Err(Error::corrupt(
                    self.postings.path(),
                    format!("the postings of {field:?} (a field of exact terms) give a frequency other than 1"),
                ));
            }
            out.resize(out.len() + freqs.len(), 0);
            return Ok(());
        }
        let decoded = self
            .positions_bytes(field, info)
            .and_then(|bytes| positions::decode(bytes, freqs, out).in_file(self.positions.path()));
        about(decoded, "the positions", field)
    }

    /// The positions of some postings of a term, each given as (how many of the term's
    /// positions come before its own, its frequency), ascending, appended in turn; the
    /// others' are skipped undecoded (a field without positions: a 0 each, whose every
    /// frequency must be 1).
    pub fn positions_at(&self, field: &str, info: &TermInfo, picks: &[(u64, u32)], out: &mut Vec<u32>) -> Result<(), Error> {
        if !self.fields.get(field).is_some_and(|f| f.positions) {
            if picks.iter().any(|&(_, f)| f != 1) {
                return Err(Error::corrupt(
                    self.postings.path(),
                    format!("the postings of {field:?} (a field of exact terms) give a frequency other than 1"),
                ));
            }
            out.resize(out.len() + picks.len(), 0);
            return Ok(());
        }
        let decoded = self
            .positions_bytes(field, info)
            .and_then(|bytes| positions::decode_at(bytes, picks, out).in_file(self.positions.path()));
        about(decoded, "the positions", field)
    }

    /// A text field's lengths per document (None for fields without norms).
    pub fn norms(&self, field: &str) -> Result<Option<Vec<u32>>, Error> {
        match self.norms.section(&sections::field(field, sections::NORMS))? {
            None => Ok(None),
            Some(bytes) => about(fieldnorms::decode(bytes, self.doc_count).in_file(self.norms.path()), "the lengths", field).map(Some),
        }
    }

    pub fn blocks(&self) -> &[BlockEntry] {
        &self.blocks
    }

    /// Stored block `block`, inflated: its documents' JSON lines joined by newlines.
    pub fn stored_block(&self, block: usize) -> Result<(BlockEntry, Vec<u8>), Error> {
        let (entry, lines) = self.stored_block_raw(block)?;
        match &self.stored_id {
            None => Ok((entry, lines)),
            Some(field) => {
                let ids = self.ids()?;
                Ok((entry, store::with_ids(&lines, entry.first_doc, field, &ids).in_file(self.store.path())?))
            }
        }
    }

    /// Stored block `block` as kept: its lines without the ID field's value (see
    /// [`SegmentReader::stored_id_field`]), for a merge to copy.
    pub fn stored_block_raw(&self, block: usize) -> Result<(BlockEntry, Vec<u8>), Error> {
        let entry = *self.blocks.get(block).ok_or_else(|| Error::Invalid(format!("no stored block {block}")))?;
        let compressed = self.store.read_in(&self.blocks_range, entry.start, entry.end - entry.start)?;
        Ok((entry, store::inflate(compressed, &entry).in_file(self.store.path())?))
    }

    /// The stored ID field the kept lines leave out (None: the lines are whole).
    pub fn stored_id_field(&self) -> Option<&str> {
        self.stored_id.as_deref()
    }

    /// The block holding document `doc`.
    pub fn block_of(&self, doc: u32) -> Option<usize> {
        store::block_of(&self.blocks, doc)
    }

    pub fn ids(&self) -> Result<Ids<'_>, Error> {
        Ids::new(self.store.required(sections::IDS)?, self.doc_count).in_file(self.store.path())
    }

    /// The columns' field names, sorted.
    pub fn column_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.store.names().filter_map(|n| sections::field_of(n, sections::COLUMN)).map(str::to_owned).collect();
        names.sort_unstable();
        names
    }

    /// A column: its kind, presence per document (0/1) and values' bytes.
    pub fn column(&self, field: &str) -> Result<Option<Column<'_>>, Error> {
        match self.store.section(&sections::field(field, sections::COLUMN))? {
            None => Ok(None),
            Some(bytes) => about(columns::decode(bytes, self.doc_count).in_file(self.store.path()), "the column", field).map(Some),
        }
    }

    /// Checks every checksum and every structure: terms ascending, postings and positions
    /// decoding to in-range doc ids, lengths, stored blocks inflating to their documents,
    /// ids and columns laid out (what `searchlib check` runs).
    pub fn verify(&self) -> Result<(), Error> {
        for file in [&self.terms, &self.postings, &self.positions, &self.norms, &self.store] {
            file.verify_all()?;
        }
        let (mut docs, mut freqs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
        for field in self.field_names() {
            let Some(dict) = self.dict(field)? else { continue };
            let mut previous: Option<Vec<u8>> = None;
            let mut count = 0u64;
            let mut postings_end = 0u64;
            let mut positions_end = 0u64;
            for entry in dict.iter() {
                let (term, info) = entry.in_file(self.terms.path())?;
                if previous.as_ref().is_some_and(|p| *p >= term) {
                    return Err(Error::corrupt(self.terms.path(), format!("terms of {field:?} are out of order")));
                }
                if std::str::from_utf8(&term).is_err() {
                    return Err(Error::corrupt(self.terms.path(), format!("a term of {field:?} is not UTF-8")));
                }
                if info.postings_offset != postings_end || info.positions_offset != positions_end || info.doc_freq == 0 {
                    return Err(Error::corrupt(self.terms.path(), format!("term offsets of {field:?} have gaps")));
                }
                postings_end = info.postings_offset + info.postings_len;
                positions_end = info.positions_offset + info.positions_len;
                docs.clear();
                freqs.clear();
                positions.clear();
                self.postings(field, &info, &mut docs, &mut freqs)?;
                self.positions(field, &info, &freqs, &mut positions)?;
                previous = Some(term);
                count += 1;
            }
            let field_info = self.fields.get(field).ok_or_else(|| Error::Invalid(field.to_owned()))?;
            if count != field_info.term_count || postings_end != field_info.postings.len() as u64 {
                return Err(Error::corrupt(self.postings.path(), format!("postings of {field:?} do not add up")));
            }
            if positions_end != field_info.positions_range.as_ref().map_or(0, |r| r.len() as u64) {
                return Err(Error::corrupt(self.positions.path(), format!("positions of {field:?} do not add up")));
            }
            self.norms(field)?;
            if let Some(lexicon) = self.lexicon(field)? {
                let entries = about(lexicon.entries().in_file(self.terms.path()), "the lexicon", field)?;
                if entries.windows(2).any(|pair| pair.first().map(|e| &e.0) >= pair.get(1).map(|e| &e.0)) {
                    return Err(Error::corrupt(self.terms.path(), format!("the lexicon of {field:?} is malformed")));
                }
            }
        }
        for name in self.norms.names() {
            if let Some(field) = sections::field_of(name, sections::NORMS) {
                if !self.fields.contains_key(field) {
                    return Err(Error::corrupt(self.norms.path(), format!("norms of {field:?} without terms")));
                }
            }
        }
        for block in 0..self.blocks.len() {
            self.stored_block(block)?;
        }
        self.ids()?.all().in_file(self.store.path())?;
        for name in self.column_names() {
            self.column(&name)?;
        }
        Ok(())
    }
}
