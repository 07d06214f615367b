//! The harness of the segment fuzz target: a small valid segment built once per process,
//! damaged as the fuzz input says, opened with the reader and read along every path.
//!
//! The property: whatever the bytes, the core returns `Err` or `Ok`; it never panics,
//! aborts, hangs or allocates without bound. Checksums would turn almost every mutation
//! into an early error before a decoder sees it, and a hostile file can carry valid
//! checksums, so two of the three modes hand the decoders checksummed hostile bytes:
//!
//! ```text
//! byte 0    mode: 0 replace one section's bytes (the file is rewritten with valid checksums)
//!                 1 one whole file, its checksums recomputed where its footer allows
//!                 2 one whole file as is (framing and checksum checks)
//! byte 1    which file: terms, postings, positions, norms, store
//! byte 2    which section, in file order (mode 0)
//! rest      the section's or the file's bytes
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use _core::columns::ColumnKind;
use _core::file::{kind, FileWriter, SegmentFile, CHUNK};
use _core::merge::{merge, paths_in, MergeInput};
use _core::segment_reader::SegmentReader;
use _core::segment_writer::{ColumnValue, DocumentInput, FieldSpec, SegmentBuilder, SegmentPaths};

/// Documents in the seed segment: enough for full postings blocks (skip entries) in the
/// common terms, two stored blocks and several term-dictionary blocks, small enough that a
/// whole file is a short fuzz input.
pub const SEED_DOCS: u32 = 400;
const PARTNER_DOCS: u32 = 150;
/// Terms read per field: bounds a run's time whatever count a hostile dictionary claims.
const TERMS_READ: usize = 2_000;

pub const MODES: u8 = 3;
pub const KINDS: [&[u8; 4]; 5] = [kind::TERMS, kind::POSTINGS, kind::POSITIONS, kind::NORMS, kind::STORE];
const VOCABULARY: [&str; 12] =
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"];

/// The five paths of a segment, in the order the input's file byte counts them.
pub fn path_list(paths: &SegmentPaths) -> [&String; 5] {
    [&paths.terms, &paths.postings, &paths.positions, &paths.norms, &paths.store]
}

fn path_list_mut(paths: &mut SegmentPaths) -> [&mut String; 5] {
    [&mut paths.terms, &mut paths.postings, &mut paths.positions, &mut paths.norms, &mut paths.store]
}

/// A segment file's sections in file order: (name, bytes).
pub type Sections = Vec<(String, Vec<u8>)>;

/// What every run shares: the seed segment's files and sections, and a good segment to
/// merge a damaged one with.
pub struct Fixture {
    pub dir: PathBuf,
    pub seed: SegmentPaths,
    pub files: [Vec<u8>; 5],
    pub sections: [Sections; 5],
    partner: SegmentReader,
}

fn words(doc: u32) -> String {
    let mut state = doc.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    let len = 2 + doc % 11;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Skewed: low words are common, so some terms fill postings blocks.
            let pick = ((state >> 16) % 64) as usize;
            VOCABULARY[(pick * pick / 342).min(VOCABULARY.len() - 1)]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds a segment of documents `docs` at `paths`.
pub fn build(paths: &SegmentPaths, docs: Range<u32>) {
    let mut builder = SegmentBuilder::new(
        vec![
            FieldSpec {
                name: "body".into(),
                analyzer: "\"whitespace\"".into(),
                norms: true,
                positions: true,
                // A stemmed field, so the seed has a lexicon for the fuzzer to damage.
                stemmer: r#"{"type": "stem", "algorithm": "snowball", "language": "english"}"#.into(),
            },
            FieldSpec {
                name: "id".into(),
                analyzer: "\"keyword\"".into(),
                norms: false,
                positions: false,
                stemmer: String::new(),
            },
        ],
        vec![("n".into(), ColumnKind::Int), ("f".into(), ColumnKind::Float), ("b".into(), ColumnKind::Bool)],
    )
    .expect("the seed schema is valid");
    // The stored lines leave the id out, as Python's writer does: readers put it back.
    builder.set_stored_id("id").expect("no document is added yet");
    for doc in docs {
        let text = words(doc);
        let mut columns = vec![(2, ColumnValue::Bool(doc % 5 == 0))];
        if doc % 2 == 0 {
            columns.push((0, ColumnValue::Int(i64::from(doc) - 50)));
        }
        if doc % 3 == 0 {
            columns.push((1, ColumnValue::Float(f64::from(doc) / 7.0)));
        }
        let input = DocumentInput {
            stored: format!("{{\"body\": \"{text}\"}}").into_bytes(),
            id: format!("d{doc}").into_bytes(),
            values: vec![(0, text), (1, format!("d{doc}"))],
            tokens: Vec::new(),
            columns,
        };
        builder.add(&input).expect("a seed document is valid");
    }
    builder.write(paths).expect("the seed segment is written");
}

/// A segment file's sections in file order.
pub fn read_sections(path: &str, kind: &[u8; 4]) -> Sections {
    let file = SegmentFile::open(path, kind).expect("a seed file opens");
    let mut named: Vec<(String, Range<usize>)> =
        file.names().map(|n| (n.to_owned(), file.range(n).expect("a listed section has a range"))).collect();
    named.sort_by_key(|(_, range)| (range.start, range.end));
    named.into_iter().map(|(name, range)| (name, file.read(range).expect("a seed section reads").to_vec())).collect()
}

/// Writes a segment file of `kind` at `path` from `sections`, with valid framing and
/// checksums, whatever the sections hold.
pub fn write_sections(path: &str, kind: &[u8; 4], sections: &[(String, Vec<u8>)]) {
    let mut writer = FileWriter::create(path, kind).expect("a scratch file is created");
    for (name, bytes) in sections {
        writer.section(name, bytes).expect("a scratch file is written");
    }
    writer.finish().expect("a scratch file is finished");
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    if let Some(slot) = bytes.get_mut(at..at + 4) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// Recomputes a whole file's chunk, directory and footer checksums in place, as far as its
/// (possibly damaged) footer describes them, so the bytes behind the checksums reach the
/// decoders.
pub fn refresh_checksums(bytes: &mut [u8]) {
    if bytes.len() < 48 {
        return;
    }
    let footer = bytes.len() - 32;
    let data_end = bytes.get(footer..footer + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
    let (Some(data_end), Some(directory_len), Some(chunks)) =
        (data_end, u32_at(bytes, footer + 8), u32_at(bytes, footer + 12))
    else {
        return;
    };
    let data_end = usize::try_from(data_end).unwrap_or(usize::MAX);
    if data_end <= footer {
        let table = data_end.saturating_add(directory_len as usize);
        for chunk in 0..chunks as usize {
            let at = table.saturating_add(chunk * 4);
            let start = chunk * CHUNK;
            if at + 4 > footer || start >= data_end {
                break;
            }
            let end = (start + CHUNK).min(data_end);
            let crc = crc32fast::hash(&bytes[start..end]);
            put_u32(bytes, at, crc);
        }
        let meta = crc32fast::hash(&bytes[data_end..footer]);
        put_u32(bytes, footer + 16, meta);
    }
    let crc = crc32fast::hash(&bytes[footer..footer + 24]);
    put_u32(bytes, footer + 20, crc);
}

impl Fixture {
    /// The process's fixture, built on first use in a scratch directory of its own.
    pub fn get() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| Fixture::build(&scratch_dir()))
    }

    pub fn build(dir: &Path) -> Fixture {
        std::fs::create_dir_all(dir).expect("the scratch directory is created");
        let dir_str = dir.to_string_lossy().into_owned();
        let seed = paths_in(&dir_str, "seed");
        build(&seed, 0..SEED_DOCS);
        let partner_paths = paths_in(&dir_str, "partner");
        build(&partner_paths, 1_000..1_000 + PARTNER_DOCS);
        let partner = SegmentReader::open(&partner_paths, PARTNER_DOCS).expect("the partner segment opens");
        let list = path_list(&seed);
        let files = std::array::from_fn(|i| std::fs::read(list[i]).expect("a seed file reads"));
        let sections = std::array::from_fn(|i| read_sections(list[i], KINDS[i]));
        Fixture { dir: dir.to_owned(), seed, files, sections, partner }
    }

    /// Runs one fuzz input.
    pub fn run(&self, input: &[u8]) {
        let [mode, file, section, payload @ ..] = input else { return };
        let file = usize::from(*file) % 5;
        let mut paths = self.seed.clone();
        let damaged = self.dir.join(format!("damaged.{file}")).to_string_lossy().into_owned();
        match mode % MODES {
            0 => {
                let mut sections = self.sections[file].clone();
                if sections.is_empty() {
                    return;
                }
                let at = usize::from(*section) % sections.len();
                sections[at].1 = payload.to_vec();
                write_sections(&damaged, KINDS[file], &sections);
            }
            1 => {
                let mut bytes = payload.to_vec();
                refresh_checksums(&mut bytes);
                std::fs::write(&damaged, &bytes).expect("a scratch file is written");
            }
            _ => std::fs::write(&damaged, payload).expect("a scratch file is written"),
        }
        *path_list_mut(&mut paths)[file] = damaged;
        if let Ok(reader) = SegmentReader::open(&paths, SEED_DOCS) {
            exercise(&reader);
            self.merge_with_partner(&reader);
        }
    }

    /// Merges a damaged segment (a third of its documents deleted) with a good one; a
    /// merge that succeeds must leave a segment that opens and verifies.
    fn merge_with_partner(&self, reader: &SegmentReader) {
        let live: Vec<bool> = (0..reader.doc_count).map(|d| d % 3 != 1).collect();
        let out = paths_in(&self.dir.to_string_lossy(), "merged");
        let inputs = [MergeInput { reader, live: Some(&live) }, MergeInput { reader: &self.partner, live: None }];
        if let Ok((count, _)) = merge(&inputs, &out) {
            let merged = SegmentReader::open(&out, count).expect("a merged segment opens");
            merged.verify().expect("a merged segment verifies");
            exercise(&merged);
        }
        for path in path_list(&out) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Reads everything a search, a fetch of stored fields, `check` and `info` read.
pub fn exercise(reader: &SegmentReader) {
    let _ = reader.verify();
    let fields: Vec<String> = reader.field_names().into_iter().map(str::to_owned).collect();
    let (mut docs, mut freqs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
    for field in fields.iter().map(String::as_str).chain(["absent"]) {
        let _ = reader.norms(field);
        let Ok(Some(dict)) = reader.dict(field) else { continue };
        let mut keys: Vec<Vec<u8>> =
            vec![Vec::new(), b"alpha".to_vec(), b"d1".to_vec(), b"d399".to_vec(), b"zz".to_vec(), vec![0xff, 0xff]];
        for (ordinal, entry) in dict.iter().take(TERMS_READ).enumerate() {
            let Ok((term, info)) = entry else { break };
            docs.clear();
            freqs.clear();
            positions.clear();
            if reader.postings(field, &info, &mut docs, &mut freqs).is_ok() {
                assert!(docs.windows(2).all(|w| w[0] < w[1]), "decoded doc ids must ascend");
                assert!(docs.iter().all(|&d| d < reader.doc_count), "decoded doc ids must be in range");
                let _ = reader.positions(field, &info, &freqs, &mut positions);
            }
            let _ = reader.skips(field, &info);
            let _ = reader.positions_bytes(field, &info);
            // Look-ups cost a block decode each: a sample of the terms is probed below.
            if ordinal % 64 == 0 {
                keys.push(term.get(..term.len() / 2).unwrap_or_default().to_vec());
                keys.push(term);
            }
        }
        for key in &keys {
            let _ = dict.bound(key, false);
            let _ = dict.bound(key, true);
            let _ = dict.prefix_range(key);
            if let Ok(Some(ordinal)) = dict.find(key) {
                if let Ok((term, _)) = dict.get(ordinal) {
                    assert_eq!(&term, key, "find gave the ordinal of another term");
                }
            }
        }
        let count = dict.len();
        for ordinal in [0, count / 2, count.saturating_sub(1), count, u64::MAX] {
            let _ = dict.get(ordinal);
        }
        let _ = dict.range(0, count.min(TERMS_READ as u64));
        let _ = dict.range(count.saturating_sub(40), u64::MAX);
    }
    for block in 0..reader.blocks().len() {
        let _ = reader.stored_block(block);
    }
    for doc in [0, reader.doc_count / 2, reader.doc_count.saturating_sub(1), reader.doc_count, u32::MAX] {
        if let Some(block) = reader.block_of(doc) {
            let _ = reader.stored_block(block);
        }
    }
    if let Ok(ids) = reader.ids() {
        for doc in 0..=reader.doc_count {
            let _ = ids.get(doc);
        }
        let _ = ids.all();
    }
    for name in reader.column_names().iter().map(String::as_str).chain(["absent"]) {
        let _ = reader.column(name);
    }
}

/// A scratch directory for this process, in memory where the system offers one, under
/// `SEARCHLIB_FUZZ_SCRATCH` when set (the run script removes that when the run ends; a
/// fuzzer process exits without cleaning up).
pub fn scratch_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEARCHLIB_FUZZ_SCRATCH") {
        return PathBuf::from(dir).join(format!("{}", std::process::id()));
    }
    let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    base.join(format!("searchlib-fuzz-{}", std::process::id()))
}
