"""Segments: one immutable batch of documents, written once and then only read.

Each structure's writer and reader sit side by side, one module each:

- :mod:`~searchlib.segment.meta`: :class:`SegmentMeta`, what a manifest records of a
  segment, and its checks;
- :mod:`~searchlib.segment.writer`: :class:`SegmentWriter`, buffering, bulk inversion
  and :func:`write_segment`;
- :mod:`~searchlib.segment.termdict`: sorted terms' encoding and :class:`TermDictionary`;
- :mod:`~searchlib.segment.store`: stored-field blocks and the deletes file, written and read;
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
from searchlib.segment.writer import MAX_FIELD_TOKENS, CheckedDocument, SegmentWriter, write_segment

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
    "write_segment",
]
