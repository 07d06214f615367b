"""The collection statistics a searcher scores with: :class:`_SnapshotStats` looks each
statistic up on first use through the searcher's memos, and :func:`segment_doc_freq`
counts a term's live documents in one segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from searchlib.scoring import CollectionStats, FieldSet
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.searcher.searcher import Searcher

#: Document frequencies a searcher remembers (its snapshot never changes).
DOC_FREQ_MEMO_SIZE = 100_000


class _SnapshotStats(CollectionStats):
    """A searcher's own statistics, read as scoring asks for them.

    :meth:`Searcher.collection_stats` gathers every statistic a query could need up
    front (what a sharded search merges); scoring on one snapshot needs only those it
    reads, so this looks each up on first use (through the searcher's memos) and keeps
    it, ending up with the same record.
    """

    def __init__(self, searcher: Searcher) -> None:
        super().__init__(doc_count=searcher.doc_count)
        self._searcher = searcher

    def field_doc_count(self, fields: FieldSet) -> int:
        count = self.field_doc_counts.get(fields)
        if count is None:
            count = self.field_doc_counts[fields] = self._searcher._documents_with_fields(fields)
        return count

    def average_length(self, field_name: str) -> float:
        if field_name not in self.total_lengths:
            self.total_lengths[field_name] = self._searcher._total_length(field_name)
        return super().average_length(field_name)

    def doc_freq(self, fields: FieldSet, term: str) -> int:
        key = (fields, term)
        doc_freq = self.doc_freqs.get(key)
        if doc_freq is None:
            doc_freq = self.doc_freqs[key] = self._searcher._doc_freq(fields, term)
        return doc_freq


def segment_doc_freq(reader: SegmentReader, fields: FieldSet, term: str) -> int:
    """Live documents of one segment holding ``term`` in any of ``fields``."""
    noted = reader.noted_live_doc_freq(fields, term)  # counted while scoring
    if noted is not None:
        return noted
    # term_postings: the look-ups scoring made (or will make) of the same term.
    found = [p.docs for name in fields for p in reader.term_postings(name, [term]) if p is not None]
    count = 0
    for index, docs in enumerate(found):
        # Count each document once: skip those already seen in an earlier field's
        # (sorted) postings, found by binary search rather than a sort of the union.
        is_new = np.ones(len(docs), dtype=bool)
        for earlier in found[:index]:
            at = np.minimum(np.searchsorted(earlier, docs), len(earlier) - 1)
            is_new &= earlier[at] != docs
        count += int(np.count_nonzero(reader.live[docs[is_new]]))
    return count
