//! Merging segments: the live documents of several segments into one new segment,
//! streaming term by term (one term's postings in memory at a time, plus the new field's
//! lengths and dictionary), so a merge needs little memory whatever the segments' sizes.
//!
//! Documents keep their order: those of the first segment come first, deleted ones are
//! dropped and the rest renumbered.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::columns::{ColumnKind, ColumnWriter};
use crate::error::{Error, InFile};
use crate::segment_reader::SegmentReader;
use crate::segment_writer::{FileSizes, SegmentPaths, SegmentSink};
use crate::store::{BlockPacker, IdsWriter};
use crate::termdict::TermInfo;
use crate::positions;

/// A segment to merge and which of its documents are live (None: all).
pub struct MergeInput<'a> {
    pub reader: &'a SegmentReader,
    pub live: Option<&'a [bool]>,
}

/// How many terms a merge reads between dropping its inputs' mapped pages.
const RELEASE_EVERY_TERMS: u64 = 16_384;

/// Drops the inputs' mapped pages from the resident set: a merge reads each byte of its
/// inputs once, so what it has read need not count as its memory (peak RSS stays bounded
/// however large the merged segments are).
fn release_pages(inputs: &[MergeInput<'_>]) {
    for input in inputs {
        let reader = input.reader;
        for file in [&reader.terms, &reader.postings, &reader.positions, &reader.norms, &reader.store] {
            file.release_pages();
        }
    }
}

/// Each input's old doc id -> new doc id (u32::MAX for a deleted document).
fn doc_maps(inputs: &[MergeInput<'_>]) -> Result<(Vec<Vec<u32>>, u32), Error> {
    let mut next = 0u32;
    let mut maps = Vec::with_capacity(inputs.len());
    for input in inputs {
        let count = input.reader.doc_count as usize;
        if input.live.is_some_and(|l| l.len() != count) {
            return Err(Error::Invalid("a live-document mask has the wrong length".into()));
        }
        let mut map = Vec::with_capacity(count);
        for doc in 0..count {
            if input.live.map_or(true, |l| l.get(doc).copied().unwrap_or(false)) {
                map.push(next);
                next = next.checked_add(1).ok_or_else(|| Error::Invalid("a merged segment is too large".into()))?;
            } else {
                map.push(u32::MAX);
            }
        }
        maps.push(map);
    }
    Ok((maps, next))
}

/// Merges `inputs` into a new segment at `paths`; returns its doc count and file sizes.
pub fn merge(inputs: &[MergeInput<'_>], paths: &SegmentPaths) -> Result<(u32, FileSizes), Error> {
    let (maps, doc_count) = doc_maps(inputs)?;
    let mut sink = SegmentSink::create(paths, doc_count)?;

    // Stored fields and ids: lines are copied as kept when every input leaves out the
    // same ID field, else whole (ids put back).
    let first_id_field = inputs.first().and_then(|i| i.reader.stored_id_field());
    let stored_id = first_id_field.filter(|name| inputs.iter().all(|i| i.reader.stored_id_field() == Some(name)));
    let mut packer = BlockPacker::new();
    let mut ids = IdsWriter::new();
    for (input, map) in inputs.iter().zip(&maps) {
        let reader = input.reader;
        let all_ids = reader.ids()?;
        for block in 0..reader.blocks().len() {
            let (entry, data) =
                if stored_id.is_some() { reader.stored_block_raw(block)? } else { reader.stored_block(block)? };
            for (offset, line) in data.split(|&b| b == b'\n').enumerate() {
                let doc = entry.first_doc + offset as u32;
                if map.get(doc as usize).is_some_and(|&new| new != u32::MAX) {
                    for compressed in packer.add(line) {
                        sink.store_block(&compressed)?;
                    }
                    ids.add(all_ids.get(doc).in_file(reader.store.path())?).map_err(Error::Invalid)?;
                }
            }
        }
    }
    if let Some(compressed) = packer.flush() {
        sink.store_block(&compressed)?;
    }
    release_pages(inputs);

    // Columns.
    let mut column_kinds: BTreeMap<String, ColumnKind> = BTreeMap::new();
    for input in inputs {
        for name in input.reader.column_names() {
            if let Some((kind, _, _)) = input.reader.column(&name)? {
                if column_kinds.insert(name.clone(), kind).is_some_and(|k| k != kind) {
                    return Err(Error::Invalid(format!("column {name:?} has different kinds across segments")));
                }
            }
        }
    }
    let mut columns = Vec::with_capacity(column_kinds.len());
    for (name, kind) in column_kinds {
        let mut writer = ColumnWriter::new(kind);
        for (input, map) in inputs.iter().zip(&maps) {
            let column = input.reader.column(&name)?;
            for (doc, &new) in map.iter().enumerate() {
                if new == u32::MAX {
                    continue;
                }
                let value = column.as_ref().and_then(|(_, present, values)| {
                    (present.get(doc) == Some(&1)).then(|| {
                        let width = kind.width();
                        let mut word = [0u8; 8];
                        if let (Some(bytes), Some(slot)) = (values.get(doc * width..(doc + 1) * width), word.get_mut(..width)) {
                            slot.copy_from_slice(bytes);
                        }
                        u64::from_le_bytes(word)
                    })
                });
                writer.push(value);
            }
        }
        columns.push((name, writer));
    }

    // Fields: the union, each merged term by term.
    let mut fields: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for input in inputs {
        for name in input.reader.field_names() {
            if let Some(info) = input.reader.field(name) {
                let flags = fields.entry(name.to_owned()).or_insert((false, false));
                flags.0 |= info.positions;
                flags.1 |= info.norms;
            }
        }
    }
    for (field, (with_positions, with_norms)) in &fields {
        merge_field(inputs, &maps, doc_count, field, *with_positions, *with_norms, &mut sink)?;
        release_pages(inputs);
    }
    let sizes = sink.finish(packer, &ids, stored_id, &columns)?;
    Ok((doc_count, sizes))
}

fn merge_field(
    inputs: &[MergeInput<'_>],
    maps: &[Vec<u32>],
    doc_count: u32,
    field: &str,
    with_positions: bool,
    with_norms: bool,
    sink: &mut SegmentSink,
) -> Result<(), Error> {
    let norms = if with_norms {
        let mut lengths = Vec::with_capacity(doc_count as usize);
        for (input, map) in inputs.iter().zip(maps) {
            let old = input.reader.norms(field)?;
            for (doc, &new) in map.iter().enumerate() {
                if new != u32::MAX {
                    lengths.push(old.as_ref().and_then(|o| o.get(doc)).copied().unwrap_or(0));
                }
            }
        }
        Some(lengths)
    } else {
        None
    };
    sink.begin_field(field, with_positions, norms)?;
    let dicts: Vec<_> = inputs.iter().map(|i| i.reader.dict(field)).collect::<Result<_, _>>()?;
    // The lexicons' union (the first segment's entry wins), key -> its term's bytes.
    let mut lexicon: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (input, dict) in inputs.iter().zip(&dicts) {
        let (Some(keys), Some(dict)) = (input.reader.lexicon(field)?, dict) else { continue };
        for (key, ordinal) in keys.entries().in_file(input.reader.terms.path())? {
            if let std::collections::btree_map::Entry::Vacant(slot) = lexicon.entry(key) {
                let (term, _) = dict.get(u64::from(ordinal)).in_file(input.reader.terms.path())?;
                slot.insert(term);
            }
        }
    }
    let wanted: HashSet<&[u8]> = lexicon.values().map(Vec::as_slice).collect();
    let mut ordinals: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut iters: Vec<_> = dicts.iter().map(|d| d.map(|d| d.iter())).collect();
    let mut heads: Vec<Option<(Vec<u8>, TermInfo)>> = Vec::with_capacity(iters.len());
    for (iter, input) in iters.iter_mut().zip(inputs) {
        heads.push(next_term(iter, input.reader)?);
    }
    let (mut docs, mut freqs, mut old_docs, mut old_freqs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut old_positions, mut gaps) = (Vec::new(), Vec::new());
    let mut merged_terms = 0u64;
    while let Some(term) = heads.iter().flatten().map(|(t, _)| t).min().cloned() {
        merged_terms += 1;
        if merged_terms % RELEASE_EVERY_TERMS == 0 {
            release_pages(inputs);
        }
        docs.clear();
        freqs.clear();
        gaps.clear();
        for index in 0..inputs.len() {
            let (Some(input), Some(map), Some(head)) = (inputs.get(index), maps.get(index), heads.get_mut(index)) else {
                continue;
            };
            let Some((_, info)) = head.as_ref().filter(|(t, _)| *t == term) else { continue };
            let info = *info;
            let reader = input.reader;
            old_docs.clear();
            old_freqs.clear();
            old_positions.clear();
            reader.postings(field, &info, &mut old_docs, &mut old_freqs)?;
            reader.positions(field, &info, &old_freqs, &mut old_positions)?;
            let mut at = 0usize;
            for (&doc, &tf) in old_docs.iter().zip(&old_freqs) {
                let end = at + tf as usize;
                let new = map.get(doc as usize).copied().unwrap_or(u32::MAX);
                if new != u32::MAX {
                    docs.push(new);
                    freqs.push(tf);
                    positions::gaps_of_doc(old_positions.get(at..end).unwrap_or_default(), &mut gaps);
                }
                at = end;
            }
            if let Some(iter) = iters.get_mut(index) {
                *head = next_term(iter, reader)?;
            }
        }
        if !docs.is_empty() {
            if wanted.contains(term.as_slice()) {
                ordinals.insert(term.clone(), sink.term_count() as u32);
            }
            sink.add_term(&term, &docs, &freqs, &gaps)?;
        }
    }
    if !lexicon.is_empty() {
        let (mut listed, mut words) = (Vec::new(), Vec::new());
        for (key, term) in lexicon {
            let Some(&ordinal) = ordinals.get(&term) else { continue };
            if key == term {
                words.push(ordinal);
            } else {
                listed.push((key, ordinal));
            }
        }
        sink.set_lexicon(listed, words);
    }
    Ok(())
}

fn next_term(
    iter: &mut Option<crate::termdict::TermIter<'_>>,
    reader: &SegmentReader,
) -> Result<Option<(Vec<u8>, TermInfo)>, Error> {
    match iter.as_mut().and_then(Iterator::next) {
        None => Ok(None),
        // A term that is not UTF-8 is damage: copied, it would pass into the new segment
        // and only surface there, naming a file that is not the damaged one.
        Some(Ok((term, _))) if std::str::from_utf8(&term).is_err() => {
            Err(Error::corrupt(reader.terms.path(), "a term is not UTF-8"))
        }
        Some(entry) => entry.in_file(reader.terms.path()).map(Some),
    }
}

/// The file names of segment `name` in `directory` (used by tests and the binding).
pub fn paths_in(directory: &str, name: &str) -> SegmentPaths {
    let path = |ext: &str| format!("{directory}/{name}.{ext}");
    SegmentPaths {
        terms: path("terms"),
        postings: path("post"),
        positions: path("pos"),
        norms: path("norms"),
        store: path("store"),
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::{kind, FileWriter, SegmentFile};
    use crate::segment_writer::{DocumentInput, FieldSpec, SegmentBuilder};

    #[test]
    fn a_term_that_is_not_utf8_fails_the_merge_naming_its_file() {
        let dir = std::env::temp_dir().join(format!("searchlib-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.to_string_lossy().into_owned();
        let field = FieldSpec { name: "id".into(), analyzer: "\"keyword\"".into(), norms: false, positions: false, stemmer: String::new() };
        let mut builder = SegmentBuilder::new(vec![field], vec![]).unwrap();
        for id in ["a", "b"] {
            let values = vec![(0, id.to_owned())];
            builder.add(&DocumentInput { stored: b"{}".to_vec(), id: id.into(), values, tokens: vec![], columns: vec![] }).unwrap();
        }
        let paths = paths_in(&dir, "damaged");
        builder.write(&paths).unwrap();
        // Rewrite the terms file with the term "b" turned into the byte 0xff, checksums
        // recomputed: a hostile file passes every checksum.
        let file = SegmentFile::open(&paths.terms, kind::TERMS).unwrap();
        let mut sections: Vec<(String, std::ops::Range<usize>)> =
            file.names().map(|n| (n.to_owned(), file.range(n).unwrap())).collect();
        sections.sort_by_key(|(_, range)| range.start);
        let contents: Vec<(String, Vec<u8>)> =
            sections.into_iter().map(|(name, range)| (name, file.read(range).unwrap().to_vec())).collect();
        drop(file);
        let mut writer = FileWriter::create(&paths.terms, kind::TERMS).unwrap();
        for (name, mut bytes) in contents {
            if name == "id\0dict" {
                let at = bytes.iter().rposition(|&b| b == b'b').unwrap();
                bytes[at] = 0xff;
            }
            writer.section(&name, &bytes).unwrap();
        }
        writer.finish().unwrap();
        let reader = SegmentReader::open(&paths, 2).unwrap();
        let out = paths_in(&dir, "merged");
        match merge(&[MergeInput { reader: &reader, live: None }], &out) {
            Err(Error::Corrupt { path, .. }) => assert_eq!(path, paths.terms),
            other => panic!("the merge gave {other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
