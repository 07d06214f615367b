"""Segments: one immutable batch of documents, written once and then only read.

Each structure's writer and reader sit side by side, one module each, over the compiled
core's modules of the same names (``core/src/``, format in ``core/FORMAT.md``):

- :mod:`~searchlib.segment.meta`: :class:`SegmentMeta`, what a manifest records of a
  segment, and its checks;
- :mod:`~searchlib.segment.writer`: :class:`SegmentWriter`, checking documents and
  handing them in batches to the compiled core, which inverts and writes them;
- :mod:`~searchlib.segment.termdict`: :class:`TermDictionary`, a field's terms by ordinal;
- :mod:`~searchlib.segment.store`: stored fields read, and the deletes file written and read;
- :mod:`~searchlib.segment.reader`: :class:`SegmentReader` and :class:`Postings`;
- :mod:`~searchlib.segment.merge`: merging segments into one;
- :mod:`~searchlib.segment.policy`: which segments to merge.

The names other modules use are re-exported here; the writer's load on first use and
the merge modules are imported from their own homes, so a searcher never loads them.
"""

from __future__ import annotations

from searchlib.segment.meta import MAX_SEGMENT_DOCS, SegmentMeta
from searchlib.segment.reader import Postings, SegmentReader

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    from searchlib.segment.store import encode_deletes
    from searchlib.segment.termdict import TermDictionary
    from searchlib.segment.writer import MAX_FIELD_TOKENS, CheckedDocument, SegmentWriter

#: Names whose modules a search does not need, imported on first use.
_HOMES = {
    "MAX_FIELD_TOKENS": "searchlib.segment.writer",
    "CheckedDocument": "searchlib.segment.writer",
    "SegmentWriter": "searchlib.segment.writer",
    "TermDictionary": "searchlib.segment.termdict",  # a query reads terms in the core
    "encode_deletes": "searchlib.segment.store",
}


def __getattr__(name: str) -> Any:
    """The writer's names, the term dictionary and the deletes encoder, importing their
    modules on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'searchlib.segment' has no attribute {name!r}")
    # __import__ rather than importlib.import_module, as in searchlib/__init__.py: a
    # search, which never asks for these names, does not import importlib for them.
    value = getattr(__import__(home, fromlist=(name,)), name)
    globals()[name] = value
    return value

__all__ = [
    "MAX_FIELD_TOKENS",
    "MAX_SEGMENT_DOCS",
    "CheckedDocument",
    "Postings",
    "SegmentMeta",
    "SegmentReader",
    "SegmentWriter",
    "TermDictionary",
    "encode_deletes",
]
