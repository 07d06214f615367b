"""Segments: one immutable batch of documents, written once and then only read.

Each structure's writer and reader sit side by side, one module each, over the compiled\ncore's modules of the same names (``core/src/``, format in ``core/FORMAT.md``):

- :mod:`~searchlib.segment.meta`: :class:`SegmentMeta`, what a manifest records of a
  segment, and its checks;
- :mod:`~searchlib.segment.writer`: :class:`SegmentWriter`, checking documents and
  handing them in batches to the compiled core, which inverts and writes them;
- :mod:`~searchlib.segment.termdict`: :class:`TermDictionary`, a field's terms by ordinal;
- :mod:`~searchlib.segment.store`: stored fields read, and the deletes file written and read;
- :mod:`~searchlib.segment.reader`: :class:`SegmentReader` and :class:`Postings`;
- :mod:`~searchlib.segment.merge`: merging segments into one;
- :mod:`~searchlib.segment.policy`: which segments to merge.

The names other modules use are re-exported here; the merge modules are imported from
their own homes (a searcher never needs them).
"""

from searchlib.segment.meta import MAX_SEGMENT_DOCS, SegmentMeta
from searchlib.segment.reader import Postings, SegmentReader
from searchlib.segment.store import encode_deletes
from searchlib.segment.termdict import TermDictionary
from searchlib.segment.writer import MAX_FIELD_TOKENS, CheckedDocument, SegmentWriter

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
