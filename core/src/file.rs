//! Segment file framing: header, named sections, a checksum per chunk, footer.
//!
//! ```text
//! offset 0   magic "SRCHLIB\0" | version u32 | kind [4]          (16 bytes)
//! 16         sections, back to back (each a structure's bytes)
//! D          directory: count u32, then per section: name length u16, name (UTF-8),
//!            offset u64, length u64
//! T          chunk table: CRC-32 of each CHUNK-byte chunk of [0, D), the last one short
//! footer     D u64 | directory length u32 | chunk count u32 | chunk size u32 |
//!            CRC-32 of directory + chunk table u32 | CRC-32 of these 24 bytes u32 |
//!            end magic "SLIB"                                   (32 bytes)
//! ```
//!
//! Opening checks the header, the footer's own checksum, the directory's and the chunk
//! table's checksum, and that every section lies inside `[16, D)`. A file of one chunk
//! then has it checked at once; a larger one has a chunk checked the first time a read
//! touches it (a bitset of verified chunks), so a search pays for the bytes it reads,
//! once, and opening an index reads none of its postings. Either way no byte reaches a
//! decoder unchecked, and a flipped byte gives an error naming the file instead of a
//! different ranking.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::Mmap;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
#[cfg(windows)]
use std::os::windows::fs::OpenOptionsExt;

use crate::cursor::Cursor;
use crate::error::{Corrupt, Decoded, Error};

pub const MAGIC: &[u8; 8] = b"SRCHLIB\x00";
pub const END_MAGIC: &[u8; 4] = b"SLIB";
/// The format version this core writes and reads.
pub const FORMAT_VERSION: u32 = 5;
/// Bytes covered by one checksum.
pub const CHUNK: usize = 64 * 1024;
const HEADER: usize = 16;
const FOOTER: usize = 32;
/// A directory larger than this is damage (a segment has a few sections per field).
const MAX_DIRECTORY: usize = 256 << 20;

/// The four-byte kind of each segment file.
pub mod kind {
    pub const TERMS: &[u8; 4] = b"TERM";
    pub const POSTINGS: &[u8; 4] = b"POST";
    pub const POSITIONS: &[u8; 4] = b"POSI";
    pub const NORMS: &[u8; 4] = b"NORM";
    pub const STORE: &[u8; 4] = b"STOR";
}

/// Writes one file section by section, checksumming as it goes (nothing is held back but
/// the current chunk's hasher), and fsyncs it when finished.
pub struct FileWriter {
    path: String,
    out: BufWriter<File>,
    written: u64,
    chunk_hasher: crc32fast::Hasher,
    chunk_filled: usize,
    chunk_crcs: Vec<u32>,
    sections: Vec<(String, u64, u64)>,
    open_section: Option<(String, u64)>,
}

impl FileWriter {
    pub fn create(path: &str, kind: &[u8; 4]) -> Result<FileWriter, Error> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut writer = FileWriter {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 16, file),
            written: 0,
            chunk_hasher: crc32fast::Hasher::new(),
            chunk_filled: 0,
            chunk_crcs: Vec::new(),
            sections: Vec::new(),
            open_section: None,
        };
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(kind);
        writer.write(&header)?;
        Ok(writer)
    }

    /// Appends bytes to the open section.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(|e| Error::io(&self.path, e))?;
        self.written += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = CHUNK - self.chunk_filled;
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.chunk_hasher.update(now);
            self.chunk_filled += now.len();
            if self.chunk_filled == CHUNK {
                let hasher = std::mem::replace(&mut self.chunk_hasher, crc32fast::Hasher::new());
                self.chunk_crcs.push(hasher.finalize());
                self.chunk_filled = 0;
            }
            bytes = later;
        }
        Ok(())
    }

    pub fn begin(&mut self, name: &str) {
        debug_assert!(self.open_section.is_none());
        self.open_section = Some((name.to_owned(), self.written));
    }

    pub fn end(&mut self) {
        if let Some((name, start)) = self.open_section.take() {
            self.sections.push((name, start, self.written - start));
        }
    }

    /// A whole section at once.
    pub fn section(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.begin(name);
        self.write(bytes)?;
        self.end();
        Ok(())
    }

    /// Writes the directory, chunk table and footer, flushes and fsyncs; returns the size.
    pub fn finish(mut self) -> Result<u64, Error> {
        self.end();
        if self.chunk_filled > 0 {
            let hasher = std::mem::replace(&mut self.chunk_hasher, crc32fast::Hasher::new());
            self.chunk_crcs.push(hasher.finalize());
        }
        let data_end = self.written;
        let mut directory = Vec::new();
        directory.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for (name, offset, len) in &self.sections {
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(&len.to_le_bytes());
        }
        let mut meta_hasher = crc32fast::Hasher::new();
        meta_hasher.update(&directory);
        let mut table = Vec::with_capacity(self.chunk_crcs.len() * 4);
        for crc in &self.chunk_crcs {
            table.extend_from_slice(&crc.to_le_bytes());
        }
        meta_hasher.update(&table);
        let mut footer = Vec::with_capacity(FOOTER);
        footer.extend_from_slice(&data_end.to_le_bytes());
        footer.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        footer.extend_from_slice(&(self.chunk_crcs.len() as u32).to_le_bytes());
        footer.extend_from_slice(&(CHUNK as u32).to_le_bytes());
        footer.extend_from_slice(&meta_hasher.finalize().to_le_bytes());
        let footer_crc = crc32fast::hash(&footer);
        footer.extend_from_slice(&footer_crc.to_le_bytes());
        footer.extend_from_slice(END_MAGIC);
        let path = self.path.clone();
        for bytes in [&directory, &table, &footer] {
            self.out.write_all(bytes).map_err(|e| Error::io(&path, e))?;
        }
        let file = self.out.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok(data_end + (directory.len() + table.len() + FOOTER) as u64)
    }
}

/// How a segment file is opened so that no symbolic link is followed and nothing blocks:
/// on POSIX systems `O_NOFOLLOW` (a link fails to open) and `O_NONBLOCK` (a FIFO does not
/// wait for a writer), with `O_CLOEXEC`; on Windows `FILE_FLAG_OPEN_REPARSE_POINT`, which
/// opens a link itself rather than its target, so the regular-file check that follows
/// refuses it.
#[cfg(unix)]
const NO_FOLLOW_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
#[cfg(windows)]
const NO_FOLLOW_FLAGS: u32 = 0x0020_0000; // FILE_FLAG_OPEN_REPARSE_POINT

/// An open, memory-mapped segment file whose every read is checked.
pub struct SegmentFile {
    path: String,
    map: Mmap,
    data_end: usize,
    chunk_crcs: Vec<u32>,
    verified: Vec<AtomicU64>,
    sections: HashMap<String, Range<usize>>,
}

impl std::fmt::Debug for SegmentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentFile").field("path", &self.path).finish()
    }
}

impl SegmentFile {
    /// Maps and checks the file at `path`, which must be of `kind`.
    pub fn open(path: &str, kind: &[u8; 4]) -> Result<SegmentFile, Error> {
        // No symbolic link is followed and no FIFO blocks the open: an index from an
        // untrusted source must not make a reader open files outside its directory.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(NO_FOLLOW_FLAGS)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::corrupt(path, "is not a regular file"));
        }
        if (meta.len() as usize) < HEADER + FOOTER {
            return Err(Error::corrupt(path, format!("is truncated ({} bytes)", meta.len())));
        }
        // SAFETY: index files are written once under a temporary name, fsynced and renamed
        // into place, and never modified afterwards; a reader only maps files a manifest
        // names, so no process writes to a mapped file while it is mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let mut file = SegmentFile {
            path: path.to_owned(),
            map,
            data_end: 0,
            chunk_crcs: Vec::new(),
            verified: Vec::new(),
            sections: HashMap::new(),
        };
        file.read_frame(kind).map_err(|Corrupt(message)| Error::corrupt(path, message))?;
        // A file of one chunk is checked now, a larger one as reads touch its chunks:
        // checking files of up to a MiB whole made every process that opened an index
        // read and checksum megabytes its first query never touches.
        if file.chunk_crcs.len() <= 1 {
            file.verify_all()?;
        }
        Ok(file)
    }

    fn read_frame(&mut self, kind: &[u8; 4]) -> Decoded<()> {
        let all: &[u8] = &self.map;
        let mut header = Cursor::new(all);
        if header.take(8)? != MAGIC {
            return Err(Corrupt::new("is not a searchlib segment file (bad magic)"));
        }
        let version = header.u32()?;
        if version != FORMAT_VERSION {
            return Err(Corrupt::new(format!("has format version {version}; this release reads {FORMAT_VERSION}")));
        }
        let found = header.take(4)?;
        if found != kind {
            return Err(Corrupt::new(format!(
                "holds {} data, expected {}",
                String::from_utf8_lossy(found),
                String::from_utf8_lossy(kind)
            )));
        }
        let footer_start = all.len() - FOOTER;
        let footer_bytes = all.get(footer_start..).ok_or_else(|| Corrupt::new("is truncated"))?;
        let mut footer = Cursor::new(footer_bytes);
        let data_end = footer.u64()?;
        let directory_len = footer.u32()? as usize;
        let chunk_count = footer.u32()? as usize;
        let chunk_size = footer.u32()? as usize;
        let meta_crc = footer.u32()?;
        let footer_crc = footer.u32()?;
        if footer.take(4)? != END_MAGIC {
            return Err(Corrupt::new("is truncated or damaged (bad end magic)"));
        }
        if crc32fast::hash(footer_bytes.get(..24).unwrap_or_default()) != footer_crc {
            return Err(Corrupt::new("footer checksum mismatch"));
        }
        if chunk_size != CHUNK {
            return Err(Corrupt::new(format!("chunk size {chunk_size}, expected {CHUNK}")));
        }
        let data_end = usize::try_from(data_end).map_err(|_| Corrupt::new("data length overflows"))?;
        if data_end < HEADER || directory_len > MAX_DIRECTORY || chunk_count != data_end.div_ceil(CHUNK) {
            return Err(Corrupt::new("footer describes an impossible layout"));
        }
        let table_len = chunk_count * 4;
        if data_end.checked_add(directory_len).and_then(|n| n.checked_add(table_len)) != Some(footer_start) {
            return Err(Corrupt::new("is truncated or has trailing bytes"));
        }
        let meta = all.get(data_end..footer_start).ok_or_else(|| Corrupt::new("directory lies outside the file"))?;
        if crc32fast::hash(meta) != meta_crc {
            return Err(Corrupt::new("directory checksum mismatch"));
        }
        let (directory, table) = meta.split_at(directory_len);
        let mut cursor = Cursor::new(table);
        let mut crcs = Vec::with_capacity(chunk_count);
        for _ in 0..chunk_count {
            crcs.push(cursor.u32()?);
        }
        let mut cursor = Cursor::new(directory);
        let count = cursor.u32()? as usize;
        let mut sections = HashMap::new();
        for _ in 0..count.min(directory_len) {
            let name_len = usize::from(cursor.u16()?);
            let name = std::str::from_utf8(cursor.take(name_len)?)
                .map_err(|_| Corrupt::new("a section name is not UTF-8"))?
                .to_owned();
            let offset = cursor.u64()?;
            let len = cursor.u64()?;
            let end = offset.checked_add(len).ok_or_else(|| Corrupt::new("section length overflows"))?;
            if offset < HEADER as u64 || end > data_end as u64 {
                return Err(Corrupt::new(format!("section {name:?} lies outside the data")));
            }
            sections.insert(name, offset as usize..end as usize);
        }
        if sections.len() != count || !cursor.is_empty() {
            return Err(Corrupt::new("directory is malformed"));
        }
        self.data_end = data_end;
        self.chunk_crcs = crcs;
        self.verified = (0..chunk_count.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        self.sections = sections;
        Ok(())
    }

    /// Drops the file's pages from this process's resident set (they stay in the page
    /// cache and fault back in on the next read). A merge reads every byte of its inputs
    /// once; without this, a merge of large segments would count them all as its memory.
    pub fn release_pages(&self) {
        // SAFETY: the map is a read-only shared mapping of a file no one modifies (see
        // `open`), so MADV_DONTNEED discards no data: a later read faults the same bytes
        // back in from the page cache. Concurrent readers of the map only fault again.
        #[cfg(unix)]
        let _ = unsafe { self.map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        // Elsewhere the pages stay until the map is dropped, as the system decides.
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn has(&self, name: &str) -> bool {
        self.sections.contains_key(name)
    }

    /// Names of the file's sections.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// A whole section, checked; None if the file has no such section.
    pub fn section(&self, name: &str) -> Result<Option<&[u8]>, Error> {
        match self.sections.get(name) {
            None => Ok(None),
            Some(range) => self.read(range.clone()).map(Some),
        }
    }

    /// A section that must exist.
    pub fn required(&self, name: &str) -> Result<&[u8], Error> {
        self.section(name)?.ok_or_else(|| Error::corrupt(&self.path, format!("section {name:?} is missing")))
    }

    /// A section's byte range in the file, unchecked (for reading parts of it with
    /// [`SegmentFile::read_in`]).
    pub fn range(&self, name: &str) -> Option<Range<usize>> {
        self.sections.get(name).cloned()
    }

    /// `len` bytes at `offset` inside a section's range, checked.
    pub fn read_in(&self, section: &Range<usize>, offset: u64, len: u64) -> Result<&[u8], Error> {
        let start = (section.start as u64).checked_add(offset);
        let end = start.and_then(|s| s.checked_add(len));
        match (start, end) {
            (Some(start), Some(end)) if end <= section.end as u64 => self.read(start as usize..end as usize),
            _ => Err(Error::corrupt(&self.path, format!("a read of {len} bytes at {offset} leaves its section"))),
        }
    }

    /// Bytes of the data region, each chunk they touch verified (once per open file).
    pub fn read(&self, range: Range<usize>) -> Result<&[u8], Error> {
        if range.start > range.end || range.end > self.data_end {
            return Err(Error::corrupt(&self.path, "a read leaves the file's data"));
        }
        if range.start < range.end {
            self.verify_chunks(range.start / CHUNK, (range.end - 1) / CHUNK)?;
        }
        self.map.get(range).ok_or_else(|| Error::corrupt(&self.path, "a read leaves the file"))
    }

    /// Verifies chunks `first..=last`, reading their bits of the bitset a word (64
    /// chunks) at a time: a dictionary of tens of megabytes is opened at each look-up of
    /// an uncached term, and once its chunks are verified that costs a few loads, not a
    /// call per chunk.
    fn verify_chunks(&self, first: usize, last: usize) -> Result<(), Error> {
        let mut chunk = first;
        while chunk <= last {
            let at = chunk / 64;
            let high = if last / 64 == at { last % 64 } else { 63 };
            let wanted = (u64::MAX >> (63 - high)) & (u64::MAX << (chunk % 64));
            let word = self.verified.get(at).ok_or_else(|| Error::corrupt(&self.path, "chunk out of range"))?;
            if word.load(Ordering::Acquire) & wanted != wanted {
                for unverified in chunk..=at * 64 + high {
                    self.verify_chunk(unverified)?;
                }
            }
            chunk = at * 64 + high + 1;
        }
        Ok(())
    }

    fn verify_chunk(&self, chunk: usize) -> Result<(), Error> {
        let word = self.verified.get(chunk / 64).ok_or_else(|| Error::corrupt(&self.path, "chunk out of range"))?;
        let bit = 1u64 << (chunk % 64);
        if word.load(Ordering::Acquire) & bit != 0 {
            return Ok(());
        }
        let start = chunk * CHUNK;
        let end = (start + CHUNK).min(self.data_end);
        let bytes = self.map.get(start..end).ok_or_else(|| Error::corrupt(&self.path, "chunk out of range"))?;
        let expected = self.chunk_crcs.get(chunk).copied();
        if Some(crc32fast::hash(bytes)) != expected {
            return Err(Error::corrupt(
                &self.path,
                format!("checksum mismatch in bytes {start}..{end} (the file is damaged)"),
            ));
        }
        word.fetch_or(bit, Ordering::AcqRel);
        Ok(())
    }

    /// Checks every chunk (what `searchlib check` and small files do).
    pub fn verify_all(&self) -> Result<(), Error> {
        for chunk in 0..self.chunk_crcs.len() {
            self.verify_chunk(chunk)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("searchlib-file-{}-{name}", std::process::id()));
        dir.to_string_lossy().into_owned()
    }

    fn write(path: &str, sizes: &[usize]) -> Vec<Vec<u8>> {
        let mut writer = FileWriter::create(path, kind::POSTINGS).unwrap();
        let mut all = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let bytes: Vec<u8> = (0..*size).map(|j| (j * 7 + i) as u8).collect();
            writer.section(&format!("s{i}"), &bytes).unwrap();
            all.push(bytes);
        }
        writer.finish().unwrap();
        all
    }

    #[test]
    fn sections_round_trip_small_and_large() {
        for sizes in [vec![0, 10, 3], vec![200_000, 2_000_000, 5]] {
            let path = temp(&format!("rt{}", sizes[0]));
            let written = write(&path, &sizes);
            let file = SegmentFile::open(&path, kind::POSTINGS).unwrap();
            for (i, bytes) in written.iter().enumerate() {
                assert_eq!(file.required(&format!("s{i}")).unwrap(), &bytes[..]);
            }
            assert!(file.section("nope").unwrap().is_none());
            assert!(SegmentFile::open(&path, kind::TERMS).is_err());
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn every_flipped_byte_and_truncation_is_found() {
        let path = temp("flip");
        write(&path, &[100, 50]);
        let good = std::fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x20;
            std::fs::write(&path, &bad).unwrap();
            assert!(SegmentFile::open(&path, kind::POSTINGS).is_err(), "flip at {at} went unnoticed");
        }
        for len in 0..good.len() {
            std::fs::write(&path, &good[..len]).unwrap();
            assert!(SegmentFile::open(&path, kind::POSTINGS).is_err(), "truncation to {len} went unnoticed");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_large_file_checks_chunks_when_read() {
        let path = temp("lazy");
        write(&path, &[3_000_000, 10]);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[2_000_000] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let file = SegmentFile::open(&path, kind::POSTINGS).unwrap();
        assert!(file.required("s1").is_ok());
        let err = file.required("s0").unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }));
        assert!(file.verify_all().is_err());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn reads_across_many_chunks_check_each_chunk_they_touch() {
        // 153 chunks, three words of the verified bitset; one damaged byte in chunk 137.
        let path = temp("words");
        write(&path, &[10_000_000, 10]);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[137 * CHUNK + 5] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let file = SegmentFile::open(&path, kind::POSTINGS).unwrap();
        for _ in 0..2 {
            // Before it, across two words, twice (the second read finds them verified).
            assert!(file.read(10..137 * CHUNK).is_ok());
            assert!(file.read(63 * CHUNK..65 * CHUNK + 1).is_ok());
        }
        assert!(file.read(137 * CHUNK + 5..137 * CHUNK + 6).is_err());
        assert!(file.read(100 * CHUNK..150 * CHUNK).is_err(), "a read spanning the damage fails");
        assert!(file.read(138 * CHUNK..152 * CHUNK).is_ok());
        assert!(file.read(0..10_000_000).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
