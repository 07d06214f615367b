"""The on-disk format of a searchlib index: what Python writes and reads (manifests and
deletes files) is specified here; the segment files, written and read by the compiled
core, are specified in ``core/FORMAT.md`` (the Rust crate's ``format`` module docs),
with the section names of each field defined once in ``core/src/sections.rs``.

Format version 5 (this release reads version 5 only; older indexes are refused with
the advice to rebuild them).

An index directory
=================

::

    manifest-<generation>.json     one per commit; the newest complete one is the index
    <segment>.terms                term dictionaries, per field         (kind TERM)
    <segment>.post                 postings: doc ids and frequencies   (kind POST)
    <segment>.pos                  positions                           (kind POSI)
    <segment>.norms                field lengths in tokens             (kind NORM)
    <segment>.store                stored fields, ids, typed columns   (kind STOR)
    <segment>.<generation>.del     deleted documents as of a generation  (kind DELS)
    write.lock                     the writer's OS lock; holds the writer's PID
    parallel-*.tmp/                scratch directory of a writer's worker processes

``<segment>`` is ``seg-<8 hex digits>``, ``<generation>`` a decimal number. File names
are never reused: a commit writes new files and a new manifest, and files that no
manifest still names are deleted afterwards. Temporary files end in ``.tmp`` and are
renamed into place only after an fsync, and the directory is fsynced after each rename.

Every segment file starts with the magic ``b"SRCHLIB\\x00"``, the format version and its
kind, and carries a CRC-32 per 64 KiB chunk, checked before any byte of the chunk is
used (see ``core/FORMAT.md``): damage anywhere a search reads is reported as
:class:`~searchlib.errors.CorruptIndexError` naming the file, never served.

The deletes file (``.del``), an array file
=========================================

All integers are little-endian. ::

    offset 0   magic        8 bytes  b"SRCHLIB\\x00"
    offset 8   version      uint32   FORMAT_VERSION
    offset 12  kind         4 bytes  b"DELS"
    offset 16  array data   each array starts on a 16-byte boundary, zero padding between
    ...        table        UTF-8 JSON: {"meta": {...}, "arrays": {name: {"dtype", "shape",
                                          "offset", "crc32"}}}; offsets count from the file
                                          start; ``crc32`` is the CRC-32 of the array's bytes
    footer     table_offset uint64
               table_length uint64
               table_crc32  uint32   CRC-32 of the table bytes (checked on every open)
               body_crc32   uint32   CRC-32 of bytes [0, table_offset), padding included
                                     (checked by verify, i.e. ``searchlib check``)
               end magic    4 bytes  b"SLIB"

Arrays are read in place through a memory map (``np.frombuffer``). Opening checks the
header, the footer and the table, and the first access to an array checks its
``crc32``. DELS holds ``deleted`` uint8: a bit per doc id (``np.packbits`` order),
1 = deleted; meta ``{"count": deleted documents, "doc_count": documents}``.

Manifest (``manifest-<generation>.json``)
=========================================

UTF-8 JSON: ``{"format": "searchlib-index", "format_version": 4, "generation": int,
"schema": {field: definition}, "segments": [{"name", "doc_count", "deleted_count",
"deletes": file name or null, "files": {file name: size in bytes}}], "next_segment": int,
"crc32": int}`` where ``crc32`` is the CRC-32 of the same object without its ``crc32`` key,
serialized with ``sort_keys=True`` and compact separators. The manifest with the highest
generation is the current index state; manifests are written atomically, so one that
fails its checksum is damage and is reported, never skipped. A commit keeps the previous
generation's manifest and files and deletes older ones, so a reader that has just read
a manifest can still map its files. A segment's ``files`` are exactly its five files.

``"chains"`` (optional: indexes written before it lack it, and are read without it) lists
the analysis chains of the schema's built-in analyzers: ``[{"analyzer": {"name",
"params"} as a field stores it, "chain": {"tokenizer": ..., "filters": [...]}}]``, the
chain being the compiled core's spec of that analyzer (``Analyzer.core_spec``; spec
format in ``core/src/analysis/spec.rs``), written by every commit for each distinct
analyzer whose chain the core runs. A searcher builds those analyzers from their chains,
so queries are analyzed exactly as the documents were, and a search loads no Python
analysis code; a chain the core refuses (one this release does not know) falls back to
the analyzer built from its name and parameters.

Limits a reader enforces
========================
An index may come from an untrusted source, so everything read is bounded before it is
allocated, and anything past a limit is damage (``CorruptIndexError`` naming the file):
a manifest is at most ``MAX_MANIFEST_BYTES`` (64 MiB) and an array file's table at most
``MAX_TABLE_BYTES`` (64 MiB), both JSON nested at most ``MAX_JSON_DEPTH`` (32) deep;
arrays have one of the dtypes ``|u1``, ``<u4``, ``<u8``, ``<i8``, ``<f8`` and lie
inside the file's data. The core bounds-checks every length and offset it reads from a
segment file, even after its checksum passed. File names in a manifest are plain names
of the shapes above (``seg-<hex>.<terms|post|pos|norms|store>``,
``seg-<hex>.<generation>.del``), and only regular files are opened (no symbolic links,
FIFOs or devices), so an index never reads outside its directory.

History
=======
1. First format: segments of array files, JSON manifests per generation.
2. Per-field lexicons in TERM files; the ``english`` analyzer stems with Porter2
   (Snowball English) instead of Porter, so version 1 indexes must be rebuilt.
3. Checked reads: each array's table entry carries ``crc32``; stored blocks record
   their sizes; a column's presence array is ``present.F``.
4. Segments written and read by the compiled core (``core/FORMAT.md``): block-packed
   postings with per-block maxima, positions in their own file, front-coded term
   dictionaries, bit-packed lengths, LZ4 stored blocks, checksummed chunks verified on
   first read. Array files remain for deletes only. Indexes of versions 2 and 3 are
   refused: rebuild them from their sources.
5. Smaller segments: term dictionary indexes bit-packed, lexicon ordinals coded as
   differences, a lexicon's words that are their own terms marked by a bit per term,
   no positions lengths for fields without positions, and the ID field's
   value kept once (in the ids, left out of the stored lines). Indexes of version 4 are
   refused: rebuild them from their sources.
"""

from __future__ import annotations

from searchlib import _core
from searchlib.errors import CorruptIndexError, IncompatibleFormatError
from searchlib.storage import Directory, release_pages

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    from collections.abc import Iterator, Mapping
    from typing import Any

    import numpy as np
    import numpy.typing as npt

FORMAT_VERSION = 5
OLDEST_READABLE_VERSION = 5
MAGIC = b"SRCHLIB\x00"
END_MAGIC = b"SLIB"
MANIFEST_FORMAT = "searchlib-index"

KIND_DELETES = b"DELS"

#: A segment's files, by extension, in the order the core takes their paths, with the
#: kind each carries (checked by the core).
SEGMENT_COMPONENTS: dict[str, bytes] = {
    "terms": b"TERM",
    "post": b"POST",
    "pos": b"POSI",
    "norms": b"NORM",
    "store": b"STOR",
}

#: The largest manifest a reader reads (its schema and segment list; a schema of 100,000
#: fields takes about 15 MB).
MAX_MANIFEST_BYTES = 64 << 20
#: The largest table of contents of an array file.
MAX_TABLE_BYTES = 64 << 20
#: How deeply a manifest or a table may nest JSON (they use five levels or so).
MAX_JSON_DEPTH = 32
#: The largest stored-field block the core inflates, so a compression bomb is stopped
#: there (a writer refuses a document whose stored fields are larger).
MAX_STORED_BLOCK_BYTES = 64 << 20
#: The dtypes arrays are written in; any other (zero-size, object, structured,
#: big-endian) is damage.
ARRAY_DTYPES = frozenset({"|u1", "<u4", "<u8", "<i8", "<f8"})

#: An array file's header (magic, format version, kind) and footer (the table's offset,
#: length and CRC-32, the body's CRC-32, the end magic) as struct formats. Array files
#: are read with numpy, and struct, zlib and math load with them: a search of an index
#: without deletes opens none.
HEADER_FORMAT = "<8sI4s"
FOOTER_FORMAT = "<QQII4s"
HEADER_SIZE = 16  # struct.calcsize(HEADER_FORMAT)
FOOTER_SIZE = 28  # struct.calcsize(FOOTER_FORMAT)
_ALIGN = 16
#: Bytes of an array serialized at a time.
_CHUNK_BYTES = 1 << 20


def crc32(data: bytes | memoryview) -> int:
    import zlib

    return zlib.crc32(data) & 0xFFFFFFFF


def encode_array_file(
    kind: bytes, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None
) -> Iterator[bytes]:
    """Serialize named arrays as an array file (see the module docstring), in chunks."""
    import struct
    import zlib

    import numpy as np
    table: dict[str, Any] = {"meta": dict(meta or {}), "arrays": {}}
    header = struct.pack(HEADER_FORMAT, MAGIC, FORMAT_VERSION, kind)
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
        entry: dict[str, Any] = {"dtype": contiguous.dtype.str, "shape": list(contiguous.shape), "offset": offset}
        table["arrays"][name] = entry
        array_crc = 0
        flat = contiguous.reshape(-1)
        step = max(1, _CHUNK_BYTES // max(1, flat.itemsize))
        for start in range(0, len(flat), step):  # a memory-mapped array is read piece by piece
            data = flat[start : start + step].tobytes()
            release_pages(flat)  # a spilled array is read once: keep only a chunk resident
            yield data
            body_crc = zlib.crc32(data, body_crc)
            array_crc = zlib.crc32(data, array_crc)
            offset += len(data)
        entry["crc32"] = array_crc & 0xFFFFFFFF
    import json  # writers serialize with Python's json; readers parse in the core (parse_json)

    table_bytes = json.dumps(table, separators=(",", ":"), allow_nan=False).encode("utf-8")
    yield table_bytes
    yield struct.pack(FOOTER_FORMAT, offset, len(table_bytes), crc32(table_bytes), body_crc & 0xFFFFFFFF, END_MAGIC)


class ArrayFile:
    """A memory-mapped array file: ``file[name]`` views, ``meta`` from its table.

    Opening checks the header, the footer and the table's checksum, and that every array
    lies inside the file. An array's own checksum is checked the first time it is asked
    for (:meth:`__getitem__`, :meth:`get`), so opening stays cheap and a search never
    uses a damaged byte; :meth:`verify` checks the whole body at once.

    Several threads may share an open file: an array is marked checked only after its
    checksum matched, so two threads may both check it (harmless), but none is handed
    an array that was not checked.
    """

    #: Arrays at least this large drop their pages from the resident set once checked
    #: (see storage.release_pages): checking one reads all of it, which a merge or a
    #: search over a huge index should not keep counted against the process.
    RELEASE_AFTER_CHECK_BYTES = 64 << 20

    def __init__(self, directory: Directory, name: str, kind: bytes) -> None:
        import struct

        self.name = name
        self.path = directory.file_path(name)
        try:
            self._buffer = directory.map_file(name)
        except FileNotFoundError:
            raise CorruptIndexError(self.path, "file is missing") from None
        buffer = self._buffer
        size = len(buffer)
        if size < HEADER_SIZE + FOOTER_SIZE:
            raise CorruptIndexError(self.path, f"truncated: {size} bytes")
        magic, version, file_kind = struct.unpack_from(HEADER_FORMAT, buffer, 0)
        if magic != MAGIC:
            raise CorruptIndexError(self.path, "not a searchlib file (bad magic bytes)")
        if not OLDEST_READABLE_VERSION <= version <= FORMAT_VERSION:
            raise _incompatible(self.path, version)
        if file_kind != kind:
            raise CorruptIndexError(self.path, f"holds {file_kind!r} data, expected {kind!r}")
        table_offset, table_length, table_crc, body_crc, end = struct.unpack_from(
            FOOTER_FORMAT, buffer, size - FOOTER_SIZE
        )
        if end != END_MAGIC:
            raise CorruptIndexError(self.path, "truncated or damaged footer")
        if table_offset + table_length != size - FOOTER_SIZE or table_offset < HEADER_SIZE:
            raise CorruptIndexError(self.path, "footer points outside the file")
        if table_length > MAX_TABLE_BYTES:
            raise CorruptIndexError(self.path, f"table of contents of {table_length} bytes, more than the limit")
        table_bytes = buffer[table_offset : table_offset + table_length]
        if crc32(table_bytes) != table_crc:
            raise CorruptIndexError(self.path, "table of contents fails its checksum")
        self._body_crc = body_crc
        self._table_offset = table_offset
        self._checked: set[str] = set()  # arrays whose checksum matched; only ever grows
        self._array_crcs: dict[str, int] = {}
        table = parse_json(bytes(table_bytes), self.path, "table of contents")
        try:
            self.meta: dict[str, Any] = table["meta"]
            self._arrays: dict[str, np.ndarray] = {}
            for array_name, entry in table["arrays"].items():
                self._arrays[array_name] = self._view(entry, table_offset)
                if "crc32" in entry:
                    self._array_crcs[array_name] = _crc_value(entry["crc32"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # AttributeError: not an object
            raise CorruptIndexError(self.path, f"malformed table of contents ({exc})") from None
        #: Written before arrays carried checksums: the first access checks the body.
        self._legacy = len(self._array_crcs) < len(self._arrays)

    def _view(self, entry: dict[str, Any], limit: int) -> np.ndarray:
        """The array a table entry describes, checked before numpy sees it: a dtype the
        format uses, whole-number dimensions, and bytes inside ``[header, limit)``
        (counted with Python integers, which do not overflow)."""
        import math

        import numpy as np
        if not isinstance(entry["dtype"], str) or entry["dtype"] not in ARRAY_DTYPES:
            raise ValueError(f"dtype {entry['dtype']!r} is not one of the format's")
        dtype = np.dtype(entry["dtype"])
        shape = tuple(entry["shape"])
        if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 2:
            raise ValueError(f"bad shape {list(shape)!r}")
        count = math.prod(shape)
        offset = entry["offset"]
        if type(offset) is not int or offset < HEADER_SIZE or offset + count * dtype.itemsize > limit:
            raise ValueError("an array lies outside the file's data")
        return np.frombuffer(self._buffer, dtype=dtype, count=count, offset=offset).reshape(shape)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            array = self._arrays[name]
        except KeyError:
            raise CorruptIndexError(self.path, f"array {name!r} is missing") from None
        if name not in self._checked:
            self._check(name, array)
        return array

    def get(self, name: str) -> np.ndarray | None:
        """The array, or None when the file has none of that name."""
        return self[name] if name in self._arrays else None

    def names(self) -> list[str]:
        """The names of the file's arrays, in file order (from the table alone)."""
        return list(self._arrays)

    def __contains__(self, name: str) -> bool:
        """Whether the file has the array (reads only the table: nothing to check)."""
        return name in self._arrays

    def shape(self, name: str) -> tuple[int, ...] | None:
        """The array's shape as the table records it, without reading its data (None if
        the file has no such array): the cheap consistency checks a reader makes on open."""
        array = self._arrays.get(name)
        return None if array is None else array.shape

    def _check(self, name: str, array: np.ndarray) -> None:
        """Check an array's checksum (the body's, for a file without per-array ones)."""
        import numpy as np
        if self._legacy:
            self.verify_body()
            self._checked.update(self._arrays)
            return
        data = array.reshape(-1).view(np.uint8).data if array.size else b""
        if crc32(data) != self._array_crcs[name]:
            raise CorruptIndexError(self.path, f"array {name!r} fails its checksum")
        if array.nbytes >= self.RELEASE_AFTER_CHECK_BYTES:
            release_pages(self._buffer)
        self._checked.add(name)

    def release_pages(self) -> None:
        """Drop the pages read so far from the resident set (see storage.release_pages):
        for a caller that has streamed through the file, such as a merge."""
        release_pages(self._buffer)

    def verify_body(self) -> None:
        """Check the data checksum over the whole body, padding included (reads it all)."""
        if crc32(self._buffer[: self._table_offset]) != self._body_crc:
            raise CorruptIndexError(self.path, "data fails its checksum")

    def verify(self) -> None:
        """Check every array's own checksum (a failure names the array), then the body's,
        which also covers the padding between arrays: reads the whole file."""
        if not self._legacy:
            for name, array in self._arrays.items():
                if name not in self._checked:
                    self._check(name, array)
        self.verify_body()
        self._checked.update(self._arrays)


def _crc_value(value: Any) -> int:
    """A CRC-32 from a table entry: an int in 0 .. 2**32 - 1 (ValueError otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"bad crc32 {value!r}")
    return value


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
    """The CRC-32 of a manifest body's canonical JSON: sorted keys, no spaces, ASCII.
    The core recomputes it from a manifest's text as it parses it (``_parse_json``)."""
    import json  # a writer's: see parse_json

    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return crc32(canonical)


def encode_manifest(body: Mapping[str, Any]) -> bytes:
    """Serialize a manifest body, adding its format fields and checksum."""
    full = {"format": MANIFEST_FORMAT, "format_version": FORMAT_VERSION, **body}
    full["crc32"] = _manifest_checksum(full)
    import json  # a writer's: see parse_json

    # Standard JSON only (no NaN or Infinity), which the core's reader requires.
    return (json.dumps(full, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def read_manifest(directory: Directory, name: str) -> dict[str, Any]:
    """Read (at most MAX_MANIFEST_BYTES) and decode the manifest ``name``."""
    return decode_manifest(directory.read_bytes(name, MAX_MANIFEST_BYTES), directory.file_path(name))


def parse_json(data: bytes, path: str, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse UTF-8 JSON that an index file holds, nested at most ``max_depth`` deep;
    anything else raises CorruptIndexError naming ``path`` and ``what`` it was.

    The core parses it (``_core.parse_json``, serde_json) into what ``json.loads`` would
    give, objects' keys in the text's order, after counting the brackets: a hostile file
    nesting a million deep is refused before anything is built. Python's json module is
    not loaded: it imports re and enum, a large part of a searching process's start-up.
    """
    return _parse_json(data, path, what, max_depth)[0]


def _parse_json(
    data: bytes, path: str, what: str, max_depth: int = MAX_JSON_DEPTH, checksum_without: str | None = None
) -> tuple[Any, int | None]:
    """:func:`parse_json`, and with ``checksum_without`` the CRC-32 of the value's
    canonical JSON without that top-level key (None if it is not an object)."""
    try:
        return _core.parse_json(data, max_depth, checksum_without)
    except ValueError as exc:
        raise CorruptIndexError(path, f"{what} {exc}") from None


def decode_manifest(data: bytes, path: str) -> dict[str, Any]:
    """Parse and check a manifest; raise CorruptIndexError naming ``path`` if it is bad."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise CorruptIndexError(path, f"{len(data)} bytes, more than the limit of {MAX_MANIFEST_BYTES}")
    if not data.endswith(b"}\n"):  # every manifest is written whole, ending so
        raise CorruptIndexError(path, f"truncated: {len(data)} bytes, without the closing brace and newline")
    # The canonical text is written by the core from the text it parses: a float's text
    # is what the writer's json.dumps gave it (its repr), as _manifest_checksum writes it.
    body, canonical_crc = _parse_json(data, path, "manifest", checksum_without="crc32")
    if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
        raise CorruptIndexError(path, "not a searchlib manifest")
    version = body.get("format_version")
    if not isinstance(version, int) or not OLDEST_READABLE_VERSION <= version <= FORMAT_VERSION:
        raise _incompatible(path, version)
    stored_crc = body.pop("crc32", None)
    if stored_crc != canonical_crc:
        raise CorruptIndexError(path, "manifest fails its checksum")
    return body


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
