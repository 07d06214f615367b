"""The collection statistics a searcher scores with: :class:`_SnapshotStats` looks each
statistic up on first use through the searcher's memos, and :func:`live_doc_freqs`
counts terms' live documents in the core.
"""

from __future__ import annotations

from searchlib import _core
from searchlib.scoring import CollectionStats, FieldSet
from searchlib.segment import SegmentReader

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Sequence

    from searchlib.searcher.searcher import Searcher


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

    def known_doc_freq(self, fields: FieldSet, term: str) -> int | None:
        # Not counted yet: the core counts it over the snapshot's segments as it opens
        # the term's postings, cheaper than a call of its own first.
        key = (fields, term)
        known = self.doc_freqs.get(key)
        if known is None:
            known = self._searcher._known_doc_freq(fields, term)
            if known is not None:
                self.doc_freqs[key] = known
        return known

    def remember_doc_freq(self, fields: FieldSet, term: str, doc_freq: int) -> None:
        super().remember_doc_freq(fields, term, doc_freq)
        self._searcher._remember_doc_freq((fields, term), doc_freq)


def live_doc_freqs(readers: Sequence[SegmentReader], fields: FieldSet, terms: Sequence[str]) -> list[int]:
    """Live documents of ``readers`` holding each of ``terms`` in any of ``fields``,
    counted in the core (one call for all the terms)."""
    if not readers or not terms:
        return [0] * len(terms)
    names = list(fields)
    counts: list[int] = _core.doc_freqs([reader.query_segment for reader in readers], [(names, term) for term in terms])
    return counts
