"""The on-disk format of a searchlib index. This docstring is the format specification.

Format version 2.

An index directory
=================

::

    manifest-<generation>.json     one per commit; the newest complete one is the index
    <segment>.terms                term dictionary of one segment       (kind TERM)
    <segment>.post                 postings: doc ids, frequencies, positions (kind POST)
    <segment>.norms                field lengths in tokens, per document (kind NORM)
    <segment>.store                stored fields, compressed blocks      (kind STOR)
    <segment>.<generation>.del     deleted documents as of a generation  (kind DELS)
    write.lock                     the writer's OS lock; holds the writer's PID
    parallel-*.tmp/                scratch directory of a writer's worker processes

``<segment>`` is ``seg-<8 hex digits>``, ``<generation>`` a decimal number. File names
are never reused: a commit writes new files and a new manifest, and files that no
manifest still names are deleted afterwards. Temporary files end in ``.tmp`` and are
renamed into place only after an fsync, and the directory is fsynced after each rename.

Array files (``.terms``, ``.post``, ``.norms``, ``.store``, ``.del``)
====================================================================

All integers are little-endian. ::

    offset 0   magic        8 bytes  b"SRCHLIB\\x00"
    offset 8   version      uint32   FORMAT_VERSION
    offset 12  kind         4 bytes  b"TERM" | b"POST" | b"NORM" | b"STOR" | b"DELS"
    offset 16  array data   each array starts on a 16-byte boundary, zero padding between
    ...        table        UTF-8 JSON: {"meta": {...}, "arrays": {name: {"dtype", "shape",
                                          "offset"}}}; offsets count from the file start
    footer     table_offset uint64
               table_length uint64
               table_crc32  uint32   CRC-32 of the table bytes (checked on every open)
               body_crc32   uint32   CRC-32 of bytes [0, table_offset) (checked by verify)
               end magic    4 bytes  b"SLIB"

Arrays are read in place through a memory map (``np.frombuffer``), never copied on open.

Segment contents (array names; ``F`` is a field name)
-----------------------------------------------------
TERM, per indexed field ``F``:
    ``F.term_bytes`` uint8: the field's terms in UTF-8, sorted by their bytes, concatenated;
    ``F.term_offsets`` uint64 [terms + 1]: where each term starts in ``term_bytes``;
    ``F.doc_freq`` uint32 [terms]: documents containing the term (deleted ones included);
    ``F.postings_start`` uint64 [terms + 1]: the term's slice of ``F.docs``/``F.freqs``;
    ``F.positions_start`` uint64 [terms + 1]: the term's slice of ``F.positions``;
    for a field whose analyzer has costly filters (a stemmer), its lexicon:
    ``F.lexicon_bytes`` uint8 and ``F.lexicon_offsets`` uint64 [keys + 1]: the field's
    words after the cheap filters (lowercased, stop words dropped), byte-sorted like terms;
    ``F.lexicon_terms`` uint32 [keys]: the index in ``F.term_bytes`` of the term each
    key became, so query words and snippets are analyzed without running the stemmer.
POST, per indexed field ``F``:
    ``F.docs`` uint32: segment-local doc ids, ascending within a term;
    ``F.freqs`` uint32: term frequency in that document;
    ``F.positions`` uint32: token positions, ascending within a (term, doc) posting; the
    posting ``i`` of a term owns ``freqs[i]`` consecutive entries. ID and KEYWORD fields
    have frequency 1 and position 0.
NORM, per text field ``F``: ``F`` uint32 [docs]: the field's length in indexed tokens
    (stop words excluded, as in Lucene), the ``dl`` of BM25.
STOR: ``blocks`` uint8: zlib-compressed blocks; ``block_offsets`` uint64 [blocks + 1];
    ``block_first_doc`` uint32 [blocks + 1]. A block decompresses to UTF-8 JSON lines, one
    JSON object of stored fields per document, in doc id order. ``id_bytes`` uint8 and
    ``id_offsets`` uint64 [docs + 1]: each document's ID field value in UTF-8, uncompressed
    (empty when it has none), so a hit's id is read without decompressing a block.
    Per NUMERIC, DATETIME or BOOLEAN field ``F``: ``column.F`` [docs] (int64 for ints and
    datetimes, as microseconds since the epoch in UTC; float64; uint8 for booleans) and
    ``column.F.present`` uint8 [docs], 1 where the document has a value.
DELS: ``deleted`` uint8: a bit per doc id (``np.packbits`` order), 1 = deleted;
    meta ``{"count": deleted documents}``.

Manifest (``manifest-<generation>.json``)
=========================================

UTF-8 JSON: ``{"format": "searchlib-index", "format_version": 2, "generation": int,
"schema": {field: definition}, "segments": [{"name", "doc_count", "deleted_count",
"deletes": file name or null, "files": {file name: size in bytes}}], "next_segment": int,
"crc32": int}`` where ``crc32`` is the CRC-32 of the same object without its ``crc32`` key,
serialized with ``sort_keys=True`` and compact separators. The manifest with the highest
generation is the current index state; manifests are written atomically, so one that
fails its checksum is damage and is reported, never skipped. A commit keeps the previous
generation's manifest and files and deletes older ones, so a reader that has just read
a manifest can still map its files.

History
=======
1. First format: segments of array files, JSON manifests per generation.
2. Per-field lexicons in TERM files; the ``english`` analyzer stems with Porter2
   (Snowball English) instead of Porter, so version 1 indexes must be rebuilt.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib.errors import CorruptIndexError, IncompatibleFormatError
from searchlib.storage import Directory, release_pages

FORMAT_VERSION = 2
OLDEST_READABLE_VERSION = 2
MAGIC = b"SRCHLIB\x00"
END_MAGIC = b"SLIB"
MANIFEST_FORMAT = "searchlib-index"

KIND_TERMS = b"TERM"
KIND_POSTINGS = b"POST"
KIND_NORMS = b"NORM"
KIND_STORE = b"STOR"
KIND_DELETES = b"DELS"

#: Segment component files, by extension, and the kind each must carry.
SEGMENT_COMPONENTS: dict[str, bytes] = {
    "terms": KIND_TERMS,
    "post": KIND_POSTINGS,
    "norms": KIND_NORMS,
    "store": KIND_STORE,
}

DOC_ID_DTYPE = np.dtype("<u4")
FREQ_DTYPE = np.dtype("<u4")
POSITION_DTYPE = np.dtype("<u4")
LENGTH_DTYPE = np.dtype("<u4")
OFFSET_DTYPE = np.dtype("<u8")
LEXICON_TERM_DTYPE = np.dtype("<u4")
BYTE_DTYPE = np.dtype("u1")

_HEADER = struct.Struct("<8sI4s")
_FOOTER = struct.Struct("<QQII4s")
_ALIGN = 16
#: Bytes of an array serialized at a time.
_CHUNK_BYTES = 1 << 20


def crc32(data: bytes | memoryview) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def encode_array_file(
    kind: bytes, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None
) -> Iterator[bytes]:
    """Serialize named arrays as an array file (see the module docstring), in chunks."""
    table: dict[str, Any] = {"meta": dict(meta or {}), "arrays": {}}
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, kind)
    body_crc = crc32(header)
    offset = len(header)
    yield header
    for name, array in arrays.items():
        contiguous = np.ascontiguousarray(array)
        if contiguous.dtype.byteorder == ">":
            raise ValueError(f"array {name!r} is big-endian; the format is little-endian")
        padding = (-offset) % _ALIGN
        if padding:
            yield b"\x00" * padding
            body_crc = zlib.crc32(b"\x00" * padding, body_crc)
            offset += padding
        table["arrays"][name] = {
            "dtype": contiguous.dtype.str,
            "shape": list(contiguous.shape),
            "offset": offset,
        }
        flat = contiguous.reshape(-1)
        step = max(1, _CHUNK_BYTES // max(1, flat.itemsize))
        for start in range(0, len(flat), step):  # a memory-mapped array is read piece by piece
            data = flat[start : start + step].tobytes()
            release_pages(flat)  # a spilled array is read once: keep only a chunk resident
            yield data
            body_crc = zlib.crc32(data, body_crc)
            offset += len(data)
    table_bytes = json.dumps(table, separators=(",", ":")).encode("utf-8")
    yield table_bytes
    yield _FOOTER.pack(offset, len(table_bytes), crc32(table_bytes), body_crc & 0xFFFFFFFF, END_MAGIC)


class ArrayFile:
    """A memory-mapped array file: ``arrays[name]`` views, ``meta`` from its table.

    Opening checks the header, the footer and the table's checksum, and that every array
    lies inside the file; :meth:`verify` also checks the data's checksum.
    """

    def __init__(self, directory: Directory, name: str, kind: bytes) -> None:
        self.name = name
        self.path = str(directory.file_path(name))
        try:
            self._buffer = directory.map_file(name)
        except FileNotFoundError:
            raise CorruptIndexError(self.path, "file is missing") from None
        buffer = self._buffer
        size = len(buffer)
        if size < _HEADER.size + _FOOTER.size:
            raise CorruptIndexError(self.path, f"truncated: {size} bytes")
        magic, version, file_kind = _HEADER.unpack_from(buffer, 0)
        if magic != MAGIC:
            raise CorruptIndexError(self.path, "not a searchlib file (bad magic bytes)")
        if not OLDEST_READABLE_VERSION <= version <= FORMAT_VERSION:
            raise _incompatible(self.path, version)
        if file_kind != kind:
            raise CorruptIndexError(self.path, f"holds {file_kind!r} data, expected {kind!r}")
        table_offset, table_length, table_crc, body_crc, end = _FOOTER.unpack_from(
            buffer, size - _FOOTER.size
        )
        if end != END_MAGIC:
            raise CorruptIndexError(self.path, "truncated or damaged footer")
        if table_offset + table_length != size - _FOOTER.size or table_offset < _HEADER.size:
            raise CorruptIndexError(self.path, "footer points outside the file")
        table_bytes = buffer[table_offset : table_offset + table_length]
        if crc32(table_bytes) != table_crc:
            raise CorruptIndexError(self.path, "table of contents fails its checksum")
        self._body_crc = body_crc
        self._table_offset = table_offset
        try:
            table = json.loads(bytes(table_bytes))
            self.meta: dict[str, Any] = table["meta"]
            self.arrays: dict[str, np.ndarray] = {
                array_name: self._view(entry, table_offset)
                for array_name, entry in table["arrays"].items()
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptIndexError(self.path, f"malformed table of contents ({exc})") from None

    def _view(self, entry: dict[str, Any], limit: int) -> np.ndarray:
        dtype = np.dtype(entry["dtype"])
        if dtype.hasobject:
            raise ValueError("object arrays are not allowed")
        shape = tuple(int(n) for n in entry["shape"])
        count = int(np.prod(shape)) if shape else 1
        offset = int(entry["offset"])
        if offset < _HEADER.size or offset + count * dtype.itemsize > limit:
            raise ValueError("an array lies outside the file's data")
        return np.frombuffer(self._buffer, dtype=dtype, count=count, offset=offset).reshape(shape)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise CorruptIndexError(self.path, f"array {name!r} is missing") from None

    def get(self, name: str) -> np.ndarray | None:
        return self.arrays.get(name)

    def release_pages(self) -> None:
        """Drop the pages read so far from the resident set (see storage.release_pages):
        for a caller that has streamed through the file, such as a merge."""
        release_pages(self._buffer)

    def verify(self) -> None:
        """Check the data checksum over the whole body (reads the whole file)."""
        if crc32(self._buffer[: self._table_offset]) != self._body_crc:
            raise CorruptIndexError(self.path, "data fails its checksum")


# --- manifests -----------------------------------------------------------------------

MANIFEST_PREFIX = "manifest-"
MANIFEST_SUFFIX = ".json"


def manifest_name(generation: int) -> str:
    return f"{MANIFEST_PREFIX}{generation}{MANIFEST_SUFFIX}"


def manifest_generation(file_name: str) -> int | None:
    """The generation a manifest file name carries, or None for other files."""
    if file_name.startswith(MANIFEST_PREFIX) and file_name.endswith(MANIFEST_SUFFIX):
        number = file_name[len(MANIFEST_PREFIX) : -len(MANIFEST_SUFFIX)]
        if number.isdigit():
            return int(number)
    return None


def _manifest_checksum(body: Mapping[str, Any]) -> int:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return crc32(canonical)


def encode_manifest(body: Mapping[str, Any]) -> bytes:
    """Serialize a manifest body, adding its format fields and checksum."""
    full = {"format": MANIFEST_FORMAT, "format_version": FORMAT_VERSION, **body}
    full["crc32"] = _manifest_checksum(full)
    return (json.dumps(full, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def decode_manifest(data: bytes, path: str) -> dict[str, Any]:
    """Parse and check a manifest; raise CorruptIndexError naming ``path`` if it is bad."""
    if not data.endswith(b"}\n"):  # every manifest is written whole, ending so
        raise CorruptIndexError(path, f"truncated: {len(data)} bytes, without the closing brace and newline")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptIndexError(path, f"not valid JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
        raise CorruptIndexError(path, "not a searchlib manifest")
    version = body.get("format_version")
    if not isinstance(version, int) or not OLDEST_READABLE_VERSION <= version <= FORMAT_VERSION:
        raise _incompatible(path, version)
    stored_crc = body.pop("crc32", None)
    if stored_crc != _manifest_checksum(body):
        raise CorruptIndexError(path, "manifest fails its checksum")
    return body


# --- term dictionary helpers ---------------------------------------------------------


def encode_terms(sorted_terms: list[bytes]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """Concatenate byte-sorted UTF-8 terms and their start offsets (one extra at the end)."""
    lengths = np.fromiter((len(t) for t in sorted_terms), dtype=OFFSET_DTYPE, count=len(sorted_terms))
    offsets = np.zeros(len(sorted_terms) + 1, dtype=OFFSET_DTYPE)
    np.cumsum(lengths, out=offsets[1:])
    blob = np.frombuffer(b"".join(sorted_terms), dtype=BYTE_DTYPE)
    return blob, offsets


def _incompatible(path: object, version: object) -> IncompatibleFormatError:
    """The error for a file in a format this release cannot read, with what to do: a
    newer searchlib wrote it (upgrade; the index is fine), or an older one (rebuild)."""
    readable = f"this searchlib reads versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}"
    if isinstance(version, int) and version > FORMAT_VERSION:
        return IncompatibleFormatError(
            f"{path} has format version {version}, from a newer searchlib; {readable}; "
            "upgrade searchlib to read it",
            is_newer=True,
        )
    return IncompatibleFormatError(f"{path} has format version {version}; {readable}; rebuild the index from its sources")
