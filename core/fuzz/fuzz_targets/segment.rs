//! A whole segment with one section replaced by arbitrary bytes and its checksums made
//! valid again: opening it, verifying it and reading every structure must give values
//! or a `Corrupt` error, never a panic.
#![no_main]

use std::sync::OnceLock;

use _core::file::{kind, FileWriter};
use _core::merge::paths_in;
use _core::segment_reader::SegmentReader;
use _core::segment_writer::{DocumentInput, FieldSpec, SegmentBuilder, SegmentPaths};
use libfuzzer_sys::fuzz_target;

const DOCS: u32 = 300;

/// A sound segment's five files, each as its sections (name, bytes), made once.
fn pristine() -> &'static Vec<(String, [u8; 4], Vec<(String, Vec<u8>)>)> {
    static FILES: OnceLock<Vec<(String, [u8; 4], Vec<(String, Vec<u8>)>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("searchlib-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.to_string_lossy().into_owned();
        let mut builder = SegmentBuilder::new(
            vec![
                FieldSpec { name: "body".into(), analyzer: "\"whitespace\"".into(), norms: true, positions: true, stemmer: String::new() },
                FieldSpec { name: "id".into(), analyzer: "\"keyword\"".into(), norms: false, positions: false, stemmer: String::new() },
            ],
            vec![("n".into(), _core::columns::ColumnKind::Int)],
        )
        .unwrap();
        let words = ["alpha", "beta", "gamma", "delta", "eps"];
        for doc in 0..DOCS {
            let text: Vec<&str> = (0..(2 + doc % 7)).map(|i| words[((doc + i * 3) % 5) as usize]).collect();
            let input = DocumentInput {
                stored: format!("{{\"id\": \"d{doc}\"}}").into_bytes(),
                id: format!("d{doc}").into_bytes(),
                values: vec![(0, text.join(" ")), (1, format!("d{doc}"))],
                tokens: vec![],
                columns: vec![(0, _core::segment_writer::ColumnValue::Int(i64::from(doc)))],
            };
            builder.add(&input).unwrap();
        }
        let paths = paths_in(&dir, "seg-00000001");
        builder.write(&paths).unwrap();
        let reader = SegmentReader::open(&paths, DOCS).unwrap();
        let kinds = [kind::TERMS, kind::POSTINGS, kind::POSITIONS, kind::NORMS, kind::STORE];
        let files = [&reader.terms, &reader.postings, &reader.positions, &reader.norms, &reader.store];
        let mut out = Vec::new();
        for (file, kind) in files.into_iter().zip(kinds) {
            let mut names: Vec<String> = file.names().map(str::to_owned).collect();
            names.sort_by_key(|n| file.range(n).map(|r| r.start));
            let sections = names.iter().map(|n| (n.clone(), file.required(n).unwrap().to_vec())).collect();
            out.push((file.path().to_owned(), *kind, sections));
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let files = pristine();
    let Some((&choice, payload)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("searchlib-fuzz-case-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let dir = dir.to_string_lossy().into_owned();
    let paths: SegmentPaths = paths_in(&dir, "seg-00000002");
    let targets = [&paths.terms, &paths.postings, &paths.positions, &paths.norms, &paths.store];
    let total: usize = files.iter().map(|f| f.2.len()).sum();
    let victim = usize::from(choice) % total.max(1);
    let mut at = 0;
    for ((_, kind, sections), target) in files.iter().zip(targets) {
        let mut writer = FileWriter::create(target, kind).unwrap();
        for (name, bytes) in sections {
            let body: &[u8] = if at == victim { payload } else { bytes };
            writer.section(name, body).unwrap();
            at += 1;
        }
        writer.finish().unwrap();
    }
    let Ok(reader) = SegmentReader::open(&paths, DOCS) else { return };
    let _ = reader.verify();
    for field in ["body", "id"] {
        if let Ok(Some(dict)) = reader.dict(field) {
            for entry in dict.iter().take(50) {
                let Ok((_, info)) = entry else { break };
                let (mut docs, mut freqs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
                if reader.postings(field, &info, &mut docs, &mut freqs).is_ok() {
                    let _ = reader.positions(field, &info, &freqs, &mut positions);
                }
                let _ = reader.skips(field, &info);
            }
            let _ = dict.find(b"gamma");
        }
        let _ = reader.norms(field);
        let _ = reader.lexicon(field);
    }
    for block in 0..reader.blocks().len().min(4) {
        let _ = reader.stored_block(block);
    }
    if let Ok(ids) = reader.ids() {
        let _ = ids.all();
    }
    let _ = reader.column("n");
});
