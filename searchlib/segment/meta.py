"""What a manifest records of one segment, checked before any of its files is opened.

Doc ids are local to a segment (0 .. doc_count - 1); which ones are deleted is given by
the generation's deletes file (see :mod:`searchlib.segment.store`).
"""

from __future__ import annotations

from searchlib import codec
from searchlib._records import Record
from searchlib.errors import CorruptIndexError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: Documents one segment may hold: doc ids are uint32.
MAX_SEGMENT_DOCS = (1 << 32) - 1

#: An upper bound of the documents a stored-fields file holds per byte of its size.
STORED_DOCS_PER_BYTE = 128

_HEX_DIGITS = frozenset("0123456789abcdef")


def is_segment_name(name: object) -> bool:
    """Whether a manifest may give a segment this name: ``seg-`` and 8 to 16 lowercase
    hex digits (see codec's docstring). A plain name, so an index never opens a file
    outside its directory."""
    return (
        isinstance(name, str) and name.startswith("seg-") and 8 <= len(name) - 4 <= 16
        and _HEX_DIGITS.issuperset(name[4:])
    )


def is_deletes_name(deletes: object, segment_name: str) -> bool:
    """Whether a manifest may give segment ``segment_name``'s deletes file this name:
    ``<segment name>.<generation: 1 to 19 digits>.del``."""
    if not (isinstance(deletes, str) and deletes.startswith(segment_name + ".") and deletes.endswith(".del")):
        return False
    generation = deletes[len(segment_name) + 1 : -len(".del")]
    return 1 <= len(generation) <= 19 and generation.isascii() and generation.isdigit()


class SegmentMeta(Record):
    """What a manifest records of one segment."""

    __slots__ = ("name", "doc_count", "files", "deleted_count", "deletes")

    def __init__(
        self, name: str, doc_count: int, files: dict[str, int], deleted_count: int = 0, deletes: str | None = None
    ) -> None:
        self.name = name
        self.doc_count = doc_count
        self.files = files
        self.deleted_count = deleted_count
        self.deletes = deletes

    @property
    def live_count(self) -> int:
        return self.doc_count - self.deleted_count

    def component(self, extension: str) -> str:
        return f"{self.name}.{extension}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "doc_count": self.doc_count,
            "deleted_count": self.deleted_count,
            "deletes": self.deletes,
            "files": dict(self.files),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], manifest_path: str) -> SegmentMeta:
        """A manifest's segment entry, checked before any file it names is opened: the
        names are plain file names of the segment's own (``seg-<hex>.<component>``,
        ``seg-<hex>.<generation>.del``), the sizes and counts whole numbers, and the
        document count no more than the stored file's size can hold."""
        try:
            name, deletes, files = data["name"], data.get("deletes"), data["files"]
            if not is_segment_name(name):
                raise ValueError(f"segment name {str(name)[:80]!r} is not seg-<hex digits>")
            if deletes is not None and not is_deletes_name(deletes, name):
                raise ValueError(f"deletes file {str(deletes)[:80]!r} is not {name}.<generation>.del")
            expected = {f"{name}.{extension}" for extension in codec.SEGMENT_COMPONENTS}
            if not isinstance(files, dict) or set(files) != expected:
                raise ValueError(f"files must be exactly {', '.join(sorted(expected))}")
            meta = cls(
                name=name,
                doc_count=_count(data["doc_count"]),
                deleted_count=_count(data.get("deleted_count", 0)),
                deletes=deletes,
                files={key: _count(size) for key, size in files.items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptIndexError(manifest_path, f"malformed segment entry ({exc})") from None
        if not 0 <= meta.deleted_count <= meta.doc_count <= MAX_SEGMENT_DOCS:
            raise CorruptIndexError(manifest_path, f"segment {meta.name}: bad document or deleted count")
        # A document's stored line is at least "{}" and a newline, and LZ4 shrinks bytes
        # at most 255-fold: more documents than this cannot be in the stored-fields file.
        if meta.doc_count > STORED_DOCS_PER_BYTE * meta.files[meta.component("store")]:
            raise CorruptIndexError(
                manifest_path, f"segment {meta.name}: {meta.doc_count} documents do not fit its stored-fields file"
            )
        return meta


def _count(value: Any) -> int:
    """A count or size from a manifest: a non-negative int (not a bool, float or string)."""
    if type(value) is not int or value < 0:
        raise ValueError(f"expected a whole number, got {str(value)[:40]}")
    return value
