"""Stored fields, read through the compiled core: each document's stored values as a
JSON line in LZ4 blocks, and its ID value uncompressed (written by the core's segment
writer and merge; layout in ``core/FORMAT.md``, code in ``core/src/store.rs``); and the
deletes file, a bit per document, which Python writes and reads (layout in
:mod:`searchlib.codec`).
"""

from __future__ import annotations


TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    from collections.abc import Iterator
    from typing import Any

    import numpy as np
    import numpy.typing as npt

from searchlib import codec
from searchlib.errors import CorruptIndexError
from searchlib.segment.meta import SegmentMeta
from searchlib.storage import Directory

#: Decompressed stored-field blocks a reader keeps (oldest dropped first).
STORE_BLOCK_CACHE = 32


class StoredFields:
    """A segment's stored fields and ID column. Blocks are inflated (and checked) by the
    core; inflated blocks are kept in a small cache shared by the threads that read
    through one segment reader."""

    def __init__(self, core: Any, path: str, doc_count: int, segment_name: str) -> None:
        self._core = core
        self.path = path
        self.doc_count = doc_count
        self.segment_name = segment_name
        self._block_spans: list[tuple[int, int]] | None = None  # read on first use: ids need none
        self._block_cache: dict[int, list[bytes]] = {}  # oldest first, as dicts keep order
        self._ids: tuple[bytes, memoryview] | None = None

    @property
    def _blocks(self) -> list[tuple[int, int]]:
        """Each stored block's first doc id and end."""
        if self._block_spans is None:
            self._block_spans = self._core.stored_blocks()
        return self._block_spans

    def _lines(self, block: int) -> list[bytes]:
        lines = self._block_cache.get(block)
        if lines is None:
            lines = self._core.stored_block(block).split(b"\n")
            if len(self._block_cache) >= STORE_BLOCK_CACHE:
                # The oldest block goes. Another thread may evict or add meanwhile (the
                # key is gone, the cache is empty, or it changed under the iterator):
                # then that thread's eviction stands.
                try:
                    del self._block_cache[next(iter(self._block_cache))]
                except (KeyError, StopIteration, RuntimeError):
                    pass
            self._block_cache[block] = lines
        return lines

    def stored_lines(self, keep: npt.NDArray[np.bool_] | None = None) -> Iterator[bytes]:
        """The JSON line of stored fields of each document (or of those ``keep`` marks),
        in doc id order, inflating one block at a time."""
        for block, (first, end) in enumerate(self._blocks):
            if keep is not None and not keep[first:end].any():
                continue
            lines = self._core.stored_block(block).split(b"\n")
            if keep is None:
                yield from lines
            else:
                yield from (line for line, wanted in zip(lines, keep[first:end].tolist()) if wanted)

    def _id_views(self) -> tuple[bytes, memoryview]:
        if self._ids is None:  # read per hit: a memoryview gives Python ints fast
            data, offsets = self._core.ids()
            self._ids = (data, memoryview(offsets).cast("I"))
        return self._ids

    def id_bytes(self) -> list[bytes]:
        """Every document's ID field value in UTF-8 (empty if it has none), in doc id order."""
        data, offsets = self._id_views()
        return [data[offsets[i] : offsets[i + 1]] for i in range(self.doc_count)]

    def id_value(self, doc_id: int) -> str | None:
        """The document's ID field value (None if it has none), without inflating a block."""
        ids = self._ids  # read per hit: the views are looked up here, not in another call
        data, offsets = ids if ids is not None else self._id_views()
        start, end = offsets[doc_id], offsets[doc_id + 1]
        if start == end:
            return None
        try:
            return data[start:end].decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(self.path, f"id of document {doc_id} is not UTF-8 ({exc})") from None

    def stored_fields(self, doc_id: int) -> dict[str, Any]:
        """The stored fields of one document, inflating only its block."""
        if not 0 <= doc_id < self.doc_count:
            raise IndexError(f"doc id {doc_id} outside segment {self.segment_name}")
        block = self._core.block_of(doc_id)
        lines = self._lines(block)
        # Python's json, loaded on the first document read (a search that reads only ids
        # never loads it): a stored string may hold a lone surrogate, which the writer
        # keeps as is and serde_json would refuse.
        import json

        try:
            line = lines[doc_id - self._blocks[block][0]]
            fields: dict[str, Any] = json.loads(line.decode("utf-8", "surrogatepass"))
        except RecursionError:
            raise CorruptIndexError(self.path, f"stored document {doc_id}: JSON nested too deeply") from None
        except (IndexError, ValueError) as exc:
            raise CorruptIndexError(self.path, f"stored document {doc_id}: {exc}") from None
        if not isinstance(fields, dict):
            raise CorruptIndexError(self.path, f"stored document {doc_id} is not a JSON object")
        return fields


# --- the deletes file ----------------------------------------------------------------


def encode_deletes(deleted: npt.NDArray[np.bool_]) -> Any:
    """The chunks of a deletes file for a boolean mask of deleted doc ids."""
    import numpy as np
    return codec.encode_array_file(
        codec.KIND_DELETES,
        {"deleted": np.packbits(deleted)},
        {"count": int(deleted.sum()), "doc_count": len(deleted)},
    )


def read_live(directory: Directory, meta: SegmentMeta) -> npt.NDArray[np.bool_]:
    """Which of the segment's documents are live as of its generation's deletes file
    (all of them without one), checked against the manifest's counts."""
    import numpy as np
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
