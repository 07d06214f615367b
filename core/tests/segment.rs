//! Segments end to end: built from documents, read back, merged, verified, and damaged.

use _core::error::Error;
use _core::merge::{merge, paths_in, MergeInput};
use _core::segment_reader::SegmentReader;
use _core::segment_writer::{ColumnValue, DocumentInput, FieldSpec, SegmentBuilder};
use _core::columns::ColumnKind;

const WHITESPACE: &str = "\"whitespace\"";
const KEYWORD: &str = "\"keyword\"";

fn temp_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("searchlib-segment-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

fn words(doc: u32) -> String {
    let vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
    (0..(3 + doc % 5)).map(|i| vocabulary[((doc * 7 + i * 3) % 8) as usize]).collect::<Vec<_>>().join(" ")
}

fn builder() -> SegmentBuilder {
    SegmentBuilder::new(
        vec![
            FieldSpec { name: "body".into(), analyzer: WHITESPACE.into(), norms: true, positions: true, stemmer: String::new() },
            FieldSpec { name: "id".into(), analyzer: KEYWORD.into(), norms: false, positions: false, stemmer: String::new() },
        ],
        vec![("n".into(), ColumnKind::Int)],
    )
    .unwrap()
}

fn build(dir: &str, name: &str, docs: std::ops::Range<u32>) -> SegmentReader {
    let mut builder = builder();
    for doc in docs.clone() {
        let input = DocumentInput {
            stored: format!("{{\"id\": \"d{doc}\"}}").into_bytes(),
            id: format!("d{doc}").into_bytes(),
            values: vec![(0, words(doc)), (1, format!("d{doc}"))],
            tokens: vec![],
            columns: if doc % 2 == 0 { vec![(0, ColumnValue::Int(i64::from(doc) - 5))] } else { vec![] },
        };
        builder.add(&input).unwrap();
    }
    assert!(builder.memory() > 0);
    let paths = paths_in(dir, name);
    builder.write(&paths).unwrap();
    SegmentReader::open(&paths, docs.len() as u32).unwrap()
}

fn postings(reader: &SegmentReader, field: &str, term: &str) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let dict = reader.dict(field).unwrap().unwrap();
    let ordinal = dict.find(term.as_bytes()).unwrap().unwrap();
    let (_, info) = dict.get(ordinal).unwrap();
    let (mut docs, mut freqs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
    reader.postings(field, &info, &mut docs, &mut freqs).unwrap();
    reader.positions(field, &info, &freqs, &mut positions).unwrap();
    (docs, freqs, positions)
}

/// What postings of `term` in documents `docs` should be, from the documents' text.
fn expected(term: &str, docs: impl Iterator<Item = u32>) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let (mut d, mut f, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for (new, doc) in docs.enumerate() {
        let at: Vec<u32> =
            words(doc).split(' ').enumerate().filter(|(_, w)| *w == term).map(|(i, _)| i as u32).collect();
        if !at.is_empty() {
            d.push(new as u32);
            f.push(at.len() as u32);
            p.extend(at);
        }
    }
    (d, f, p)
}

#[test]
fn a_built_segment_reads_back() {
    let dir = temp_dir("build");
    let reader = build(&dir, "seg-00000001", 0..1000);
    reader.verify().unwrap();
    assert_eq!(reader.field_names(), vec!["body", "id"]);
    for term in ["alpha", "eta", "theta"] {
        assert_eq!(postings(&reader, "body", term), expected(term, 0..1000));
    }
    assert_eq!(postings(&reader, "id", "d17").0, vec![17]);
    let norms = reader.norms("body").unwrap().unwrap();
    assert_eq!(norms[6], 3 + 6 % 5);
    assert!(reader.norms("id").unwrap().is_none());
    let (entry, block) = reader.stored_block(reader.block_of(999).unwrap()).unwrap();
    let lines: Vec<&[u8]> = block.split(|&b| b == b'\n').collect();
    assert_eq!(lines[(999 - entry.first_doc) as usize], b"{\"id\": \"d999\"}");
    assert_eq!(reader.ids().unwrap().get(42).unwrap(), b"d42");
    let (kind, present, values) = reader.column("n").unwrap().unwrap();
    assert_eq!(kind, ColumnKind::Int);
    assert_eq!(&present[..3], &[1, 0, 1]);
    assert_eq!(i64::from_le_bytes(values[16..24].try_into().unwrap()), -3);
    let dict = reader.dict("body").unwrap().unwrap();
    let (_, info) = dict.get(dict.find(b"alpha").unwrap().unwrap()).unwrap();
    let skips = reader.skips("body", &info).unwrap();
    assert_eq!(skips.len(), info.doc_freq as usize / 128);
    assert!(skips.iter().all(|s| s.min_norm >= 3 && s.max_tf >= 1));
}

#[test]
fn merging_drops_deleted_documents_and_renumbers() {
    let dir = temp_dir("merge");
    let first = build(&dir, "seg-00000001", 0..300);
    let second = build(&dir, "seg-00000002", 300..700);
    let live: Vec<bool> = (0..300).map(|d| d % 3 != 0).collect();
    let paths = paths_in(&dir, "seg-00000003");
    let (count, _) = merge(
        &[MergeInput { reader: &first, live: Some(&live) }, MergeInput { reader: &second, live: None }],
        &paths,
    )
    .unwrap();
    let kept: Vec<u32> = (0..300).filter(|d| d % 3 != 0).chain(300..700).collect();
    assert_eq!(count as usize, kept.len());
    let merged = SegmentReader::open(&paths, count).unwrap();
    merged.verify().unwrap();
    for term in ["alpha", "gamma", "zeta"] {
        assert_eq!(postings(&merged, "body", term), expected(term, kept.iter().copied()));
    }
    assert!(merged.dict("id").unwrap().unwrap().find(b"d3").unwrap().is_none());
    assert_eq!(merged.ids().unwrap().get(0).unwrap(), b"d1");
    let norms = merged.norms("body").unwrap().unwrap();
    assert_eq!(norms.len(), kept.len());
    assert_eq!(norms[0], 4); // doc 1 (doc 0 was deleted) has 3 + 1 % 5 words
    let (_, present, _) = merged.column("n").unwrap().unwrap();
    assert_eq!(present.len(), kept.len());
}

#[test]
fn every_flipped_byte_is_found_by_open_or_verify() {
    let dir = temp_dir("flip");
    build(&dir, "seg-00000001", 0..50);
    let paths = paths_in(&dir, "seg-00000001");
    for path in [&paths.terms, &paths.postings, &paths.positions, &paths.norms, &paths.store] {
        let good = std::fs::read(path).unwrap();
        for at in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x04;
            std::fs::write(path, &bad).unwrap();
            let result = SegmentReader::open(&paths, 50).and_then(|r| r.verify());
            match result {
                Err(Error::Corrupt { path: named, .. }) => assert_eq!(&named, path),
                other => panic!("flip at {at} of {path}: {other:?}"),
            }
        }
        std::fs::write(path, &good[..good.len() - 1]).unwrap();
        assert!(SegmentReader::open(&paths, 50).is_err());
        std::fs::write(path, &good).unwrap();
    }
    assert!(matches!(SegmentReader::open(&paths, 51), Err(Error::Corrupt { .. })));
}

#[test]
fn an_exact_term_field_refuses_a_frequency_other_than_one() {
    // Exact-term fields hold one term per document; a hostile frequency near 2^32 must be
    // damage, not the size of an allocation of zeros.
    let dir = temp_dir("exact-freq");
    let reader = build(&dir, "seg-00000001", 0..4);
    let dict = reader.dict("id").unwrap().unwrap();
    let ordinal = dict.find(b"d1").unwrap().unwrap();
    let (_, info) = dict.get(ordinal).unwrap();
    let mut positions = Vec::new();
    reader.positions("id", &info, &[1], &mut positions).unwrap();
    assert_eq!(positions, vec![0]);
    positions.clear();
    let refused = reader.positions("id", &info, &[u32::MAX], &mut positions);
    assert!(matches!(refused, Err(Error::Corrupt { .. })), "{refused:?}");
    assert!(positions.is_empty());
}

#[test]
fn a_segment_file_behind_a_symbolic_link_is_not_opened() {
    // An index from an untrusted source must not make a reader open a file elsewhere.
    let dir = temp_dir("symlink");
    build(&dir, "seg-00000001", 0..4);
    let real = format!("{dir}/seg-00000001.terms");
    let link = format!("{dir}/seg-00000002.terms");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert!(_core::file::SegmentFile::open(&real, _core::file::kind::TERMS).is_ok());
    let refused = _core::file::SegmentFile::open(&link, _core::file::kind::TERMS);
    assert!(refused.is_err(), "a symlinked segment file was opened");
}

#[test]
fn a_merge_releases_its_inputs_pages_and_still_reads_them() {
    // Dropping mapped pages must not change what a reader reads afterwards.
    let dir = temp_dir("release");
    let reader = build(&dir, "seg-00000001", 0..40);
    let before = postings(&reader, "body", "alpha");
    for file in [&reader.terms, &reader.postings, &reader.positions, &reader.norms, &reader.store] {
        file.release_pages();
    }
    assert_eq!(postings(&reader, "body", "alpha"), before);
    reader.verify().unwrap();
}

/// Documents whose stored lines leave the id out (`set_stored_id`), with a note field.
fn build_without_ids(dir: &str, name: &str, docs: std::ops::Range<u32>) -> SegmentReader {
    let mut builder = builder();
    builder.set_stored_id("id").unwrap();
    for doc in docs.clone() {
        let stored = if doc % 2 == 0 { "{}".to_owned() } else { format!("{{\"note\": {doc}}}") };
        let input = DocumentInput {
            stored: stored.into_bytes(),
            id: if doc == 3 { Vec::new() } else { format!("d{doc}").into_bytes() },
            values: vec![(0, words(doc))],
            tokens: vec![],
            columns: vec![],
        };
        builder.add(&input).unwrap();
    }
    let paths = paths_in(dir, name);
    builder.write(&paths).unwrap();
    SegmentReader::open(&paths, docs.len() as u32).unwrap()
}

fn lines(reader: &SegmentReader) -> Vec<String> {
    let mut all = Vec::new();
    for block in 0..reader.blocks().len() {
        let (_, data) = reader.stored_block(block).unwrap();
        all.extend(String::from_utf8(data).unwrap().split('\n').map(str::to_owned));
    }
    all
}

#[test]
fn stored_lines_get_their_ids_back_and_merges_keep_them() {
    let dir = temp_dir("stored-id");
    let a = build_without_ids(&dir, "a", 0..6);
    assert_eq!(a.stored_id_field(), Some("id"));
    let expected = ["{\"id\": \"d0\"}", "{\"id\": \"d1\", \"note\": 1}", "{\"id\": \"d2\"}", "{\"note\": 3}", "{\"id\": \"d4\"}", "{\"id\": \"d5\", \"note\": 5}"];
    assert_eq!(lines(&a), expected);
    assert_eq!(a.stored_block_raw(0).unwrap().1, b"{}\n{\"note\": 1}\n{}\n{\"note\": 3}\n{}\n{\"note\": 5}");
    a.verify().unwrap();
    // Inputs that all leave the id out merge into a segment that does too.
    let b = build_without_ids(&dir, "b", 0..6);
    let live = [true, false, true, true, true, true];
    let out = paths_in(&dir, "ab");
    let (count, _) = merge(&[MergeInput { reader: &a, live: Some(&live) }, MergeInput { reader: &b, live: None }], &out).unwrap();
    let merged = SegmentReader::open(&out, count).unwrap();
    assert_eq!(merged.stored_id_field(), Some("id"));
    let mut both: Vec<&str> = expected.iter().enumerate().filter(|(i, _)| live[*i]).map(|(_, l)| *l).collect();
    both.extend(expected);
    assert_eq!(lines(&merged), both);
    // With an input whose lines are whole, the merge writes whole lines.
    let whole = build(&dir, "whole", 0..2);
    let out = paths_in(&dir, "mixed");
    let (count, _) = merge(&[MergeInput { reader: &a, live: None }, MergeInput { reader: &whole, live: None }], &out).unwrap();
    let mixed = SegmentReader::open(&out, count).unwrap();
    assert_eq!(mixed.stored_id_field(), None);
    let mut all: Vec<&str> = expected.to_vec();
    all.extend(["{\"id\": \"d0\"}", "{\"id\": \"d1\"}"]);
    assert_eq!(lines(&mixed), all);
    mixed.verify().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stemmed_fields_lexicon_lists_or_marks_every_word_and_survives_a_merge() {
    let dir = temp_dir("lexicon");
    let stemmed = |texts: &[&str], name: &str| {
        let mut builder = SegmentBuilder::new(
            vec![FieldSpec {
                name: "body".into(),
                analyzer: WHITESPACE.into(),
                norms: true,
                positions: true,
                stemmer: r#"{"type": "stem", "algorithm": "snowball", "language": "english"}"#.into(),
            }],
            vec![],
        )
        .unwrap();
        for text in texts {
            let input = DocumentInput { stored: b"{}".to_vec(), id: vec![], values: vec![(0, (*text).to_owned())], tokens: vec![], columns: vec![] };
            builder.add(&input).unwrap();
        }
        let paths = paths_in(&dir, name);
        builder.write(&paths).unwrap();
        SegmentReader::open(&paths, texts.len() as u32).unwrap()
    };
    let words = |reader: &SegmentReader| -> Vec<(String, String)> {
        let dict = reader.dict("body").unwrap().unwrap();
        let lexicon = reader.lexicon("body").unwrap().unwrap();
        let entries = lexicon.entries().unwrap();
        assert_eq!(entries.len() as u64, lexicon.len());
        entries
            .into_iter()
            .map(|(key, ordinal)| {
                assert_eq!(lexicon.find(&key).unwrap(), Some(ordinal));
                let term = dict.get(u64::from(ordinal)).unwrap().0;
                (String::from_utf8(key).unwrap(), String::from_utf8(term).unwrap())
            })
            .collect()
    };
    let a = stemmed(&["cats run", "running cat", "zebra"], "a");
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> { list.iter().map(|(k, t)| ((*k).into(), (*t).into())).collect() };
    assert_eq!(words(&a), pairs(&[("cat", "cat"), ("cats", "cat"), ("run", "run"), ("running", "run"), ("zebra", "zebra")]));
    assert_eq!(a.lexicon("body").unwrap().unwrap().find(b"runs").unwrap(), None);
    // Only the two words that differ from their terms are listed; the rest are marked.
    let listed = a.terms.section("body\0lexicon_meta").unwrap().unwrap();
    assert_eq!(u64::from_le_bytes(listed.try_into().unwrap()), 2);
    a.verify().unwrap();
    let b = stemmed(&["runs", "zebras"], "b");
    let out = paths_in(&dir, "ab");
    let (count, _) = merge(&[MergeInput { reader: &a, live: None }, MergeInput { reader: &b, live: None }], &out).unwrap();
    let merged = SegmentReader::open(&out, count).unwrap();
    merged.verify().unwrap();
    assert_eq!(
        words(&merged),
        pairs(&[("cat", "cat"), ("cats", "cat"), ("run", "run"), ("running", "run"), ("runs", "run"), ("zebra", "zebra"), ("zebras", "zebra")])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
