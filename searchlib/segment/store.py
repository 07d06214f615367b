"""Stored fields: each document's stored values as a JSON line, packed into
zlib-compressed blocks (and its ID value, uncompressed), written by the segment writer
and by merges and read back a block at a time by :class:`StoredFields`; and the
deletes file, a bit per document, with its writer and reader.

The STOR and DELS layouts are specified in :mod:`searchlib.codec`.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.errors import CorruptIndexError
from searchlib.segment.arrays import ascending, int_view
from searchlib.segment.meta import SegmentMeta
from searchlib.storage import Directory, SpillFile

#: Stored documents are packed into blocks of about this many bytes before compression.
STORE_BLOCK_BYTES = 16 * 1024
#: Decompressed stored-field blocks a reader keeps (oldest dropped first).
STORE_BLOCK_CACHE = 32


# --- writing -------------------------------------------------------------------------


def pack_ids(values: list[bytes]) -> dict[str, np.ndarray]:
    """The ID field's value per document, uncompressed, so a hit's id costs no decompression."""
    id_bytes, id_offsets = codec.encode_terms(values)
    return {"id_bytes": id_bytes, "id_offsets": id_offsets}


def pack_store(lines: Iterable[bytes], spill: SpillFile | None = None) -> dict[str, np.ndarray]:
    """Pack JSON lines into zlib-compressed blocks of about STORE_BLOCK_BYTES, recording
    each block's decompressed size (``block_sizes``) so a reader can bound it.

    ``lines`` may be a generator: only the current block is held uncompressed. With a
    ``spill`` file the compressed blocks go there rather than into memory. A block is
    closed early rather than grow past codec.MAX_STORED_BLOCK_BYTES (a writer refuses a
    longer line).
    """
    blocks: list[bytes] | _SpilledBlocks = [] if spill is None else _SpilledBlocks(spill)
    first_docs: list[int] = [0]
    sizes: list[int] = []
    current: list[bytes] = []
    current_size = 0

    def close_block(end: int) -> None:
        block = b"\n".join(current)
        blocks.append(zlib.compress(block, 6))
        sizes.append(len(block))
        first_docs.append(end)

    doc_id = -1
    for doc_id, line in enumerate(lines):
        if current and current_size + len(line) > codec.MAX_STORED_BLOCK_BYTES:
            close_block(doc_id)
            current, current_size = [], 0
        current.append(line)
        current_size += len(line) + 1
        if current_size >= STORE_BLOCK_BYTES:
            close_block(doc_id + 1)
            current, current_size = [], 0
    if current:
        close_block(doc_id + 1)
    offsets = np.zeros(len(blocks) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(blocks.sizes() if isinstance(blocks, _SpilledBlocks) else [len(b) for b in blocks], out=offsets[1:])
    data = blocks.spill.read() if isinstance(blocks, _SpilledBlocks) else np.frombuffer(b"".join(blocks), dtype=codec.BYTE_DTYPE)
    return {
        "blocks": data,
        "block_offsets": offsets,
        "block_first_doc": np.asarray(first_docs, dtype=codec.DOC_ID_DTYPE),
        "block_sizes": np.asarray(sizes, dtype=codec.LENGTH_DTYPE),
    }


class _SpilledBlocks:
    """Compressed blocks appended to a spill file, remembering only their sizes."""

    def __init__(self, spill: SpillFile) -> None:
        self.spill = spill
        self._sizes: list[int] = []

    def append(self, block: bytes) -> None:
        self.spill.append(np.frombuffer(block, dtype=codec.BYTE_DTYPE))
        self._sizes.append(len(block))

    def sizes(self) -> list[int]:
        return self._sizes

    def __len__(self) -> int:
        return len(self._sizes)


# --- reading -------------------------------------------------------------------------


class StoredFields:
    """A segment's stored fields and ID column, read from its mapped STOR file.

    The layout is checked once, on first use, so that every later slice stays inside
    its array; decompressed blocks are kept in a small cache shared by the threads
    that read through one segment reader.
    """

    def __init__(self, file: codec.ArrayFile, doc_count: int, segment_name: str) -> None:
        self.file = file
        self.doc_count = doc_count
        self.segment_name = segment_name
        self._checked = False
        self._block_cache: OrderedDict[int, list[bytes]] = OrderedDict()
        self._id_views: tuple[memoryview, memoryview] | None = None

    def stored_lines(self, keep: npt.NDArray[np.bool_] | None = None) -> Iterator[bytes]:
        """The JSON line of stored fields of each document (or of those ``keep`` marks),
        in doc id order, decompressing one block at a time."""
        self._check()
        offsets = self.file["block_offsets"]
        first_docs = self.file["block_first_doc"]
        for block in range(len(offsets) - 1):
            first, end = int(first_docs[block]), int(first_docs[block + 1])
            if keep is not None and not keep[first:end].any():
                continue
            lines = self._inflate(block).split(b"\n")
            if len(lines) != end - first:
                raise CorruptIndexError(self.file.path, f"stored block {block} holds {len(lines)} documents")
            if keep is None:
                yield from lines
            else:
                yield from (line for line, wanted in zip(lines, keep[first:end].tolist()) if wanted)

    def id_bytes(self) -> list[bytes]:
        """Every document's ID field value in UTF-8 (empty if it has none), in doc id order."""
        self._check()
        offsets = self.file["id_offsets"].tolist()
        data = self.file["id_bytes"].tobytes()
        return [data[offsets[i] : offsets[i + 1]] for i in range(self.doc_count)]

    def id_value(self, doc_id: int) -> str | None:
        """The document's ID field value (None if it has none), without decompressing."""
        if self._id_views is None:  # read per hit: memoryviews, not numpy scalars
            self._check()
            self._id_views = (int_view(self.file["id_offsets"]), self.file["id_bytes"].data.cast("B"))
        offsets_view, bytes_view = self._id_views
        start, end = offsets_view[doc_id], offsets_view[doc_id + 1]
        if start == end:
            return None
        try:
            return bytes(bytes_view[start:end]).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(self.file.path, f"id of document {doc_id} is not UTF-8 ({exc})") from None

    def _check(self) -> None:
        """Check, once, that the stored blocks and the id column are laid out end to end
        and that blocks cover doc ids in order, so the slices and the block search of
        :meth:`stored_fields` stay inside their arrays."""
        if self._checked:
            return
        store = self.file
        offsets, first_docs = store["block_offsets"], store["block_first_doc"]
        id_offsets = store["id_offsets"]
        if (
            not len(offsets)
            or int(offsets[0]) != 0
            or int(offsets[-1]) != len(store["blocks"])
            or not ascending(offsets)
            or int(first_docs[0]) != 0
            or not ascending(first_docs)
        ):
            raise CorruptIndexError(store.path, "stored blocks are not laid out end to end")
        if int(id_offsets[0]) != 0 or int(id_offsets[-1]) != len(store["id_bytes"]) or not ascending(id_offsets):
            raise CorruptIndexError(store.path, "the id column is not laid out end to end")
        self._checked = True

    def stored_fields(self, doc_id: int) -> dict[str, Any]:
        """The stored fields of one document, decompressing only its block."""
        if not 0 <= doc_id < self.doc_count:
            raise IndexError(f"doc id {doc_id} outside segment {self.segment_name}")
        self._check()
        first_docs = self.file["block_first_doc"]
        block = int(np.searchsorted(first_docs, doc_id, side="right")) - 1
        lines = self._block_cache.get(block)
        if lines is None:
            lines = self._inflate(block).split(b"\n")
            if len(self._block_cache) >= STORE_BLOCK_CACHE:
                with suppress(KeyError):  # one C call each, whatever other threads do meanwhile
                    self._block_cache.popitem(last=False)
            self._block_cache[block] = lines
        try:
            line = lines[doc_id - int(first_docs[block])]
            fields: dict[str, Any] = json.loads(line.decode("utf-8", "surrogatepass"))
        except RecursionError:
            raise CorruptIndexError(self.file.path, f"stored document {doc_id}: JSON nested too deeply") from None
        except (IndexError, ValueError) as exc:
            raise CorruptIndexError(self.file.path, f"stored document {doc_id}: {exc}") from None
        if not isinstance(fields, dict):
            raise CorruptIndexError(self.file.path, f"stored document {doc_id} is not a JSON object")
        return fields

    def _inflate(self, block: int) -> bytes:
        """Stored block ``block`` decompressed, never past its recorded size (or, in a
        file from before sizes were recorded, codec.MAX_STORED_BLOCK_BYTES): a block
        that would inflate further, a compression bomb, is damage, found before it can
        take the memory it asks for."""
        store = self.file
        offsets = store["block_offsets"]
        if not 0 <= block < len(offsets) - 1:
            raise CorruptIndexError(store.path, f"stored block {block} is missing")
        start, end = int(offsets[block]), int(offsets[block + 1])
        sizes = store.get("block_sizes")
        expected = None
        if sizes is not None:
            expected = int(sizes[block]) if len(sizes) == len(offsets) - 1 else None
            if expected is None or expected > codec.MAX_STORED_BLOCK_BYTES:
                raise CorruptIndexError(store.path, f"stored block {block}: bad recorded size")
        if not 0 <= start <= end <= len(store["blocks"]):
            raise CorruptIndexError(store.path, f"stored block {block} lies outside the data")
        limit = codec.MAX_STORED_BLOCK_BYTES if expected is None else expected
        inflater = zlib.decompressobj()
        try:  # one byte past the limit tells a bomb from a block of exactly the limit
            data = inflater.decompress(store["blocks"][start:end], limit + 1)
        except zlib.error as exc:
            raise CorruptIndexError(store.path, f"stored block {block}: {exc}") from None
        if len(data) > limit:
            raise CorruptIndexError(store.path, f"stored block {block} inflates past {limit:,} bytes")
        if not inflater.eof:
            raise CorruptIndexError(store.path, f"stored block {block}: truncated compressed data")
        if expected is not None and len(data) != expected:
            raise CorruptIndexError(store.path, f"stored block {block} holds {len(data)} bytes, {expected} recorded")
        return data


# --- the deletes file ----------------------------------------------------------------


def encode_deletes(deleted: npt.NDArray[np.bool_]) -> Any:
    """The chunks of a deletes file for a boolean mask of deleted doc ids."""
    return codec.encode_array_file(
        codec.KIND_DELETES,
        {"deleted": np.packbits(deleted)},
        {"count": int(deleted.sum()), "doc_count": len(deleted)},
    )


def read_live(directory: Directory, meta: SegmentMeta) -> npt.NDArray[np.bool_]:
    """Which of the segment's documents are live as of its generation's deletes file
    (all of them without one), checked against the manifest's counts."""
    if meta.deletes is None:
        return np.ones(meta.doc_count, dtype=bool)
    deletes = codec.ArrayFile(directory, meta.deletes, codec.KIND_DELETES)
    bits = deletes["deleted"]
    if len(bits) != (meta.doc_count + 7) // 8:
        raise CorruptIndexError(deletes.path, "deletes do not match the segment's size")
    deleted = np.unpackbits(bits, count=meta.doc_count).astype(bool)
    if int(deleted.sum()) != meta.deleted_count:
        raise CorruptIndexError(deletes.path, "deleted count differs from the manifest")
    return ~deleted
