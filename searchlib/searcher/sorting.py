"""Ordering hits by a field instead of by score: the per-segment sort keys of a typed
column (:func:`_column_key`) or of a keyword field's terms (:func:`_term_rank_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from searchlib.columns import column_dtype
from searchlib.schema import Field
from searchlib.segment import SegmentReader

if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    import numpy as np
    import numpy.typing as npt


def _is_sortable(definition: Field) -> bool:
    """Whether a field orders documents: a typed column, or one term per document."""
    return definition.is_column or definition.kind in ("keyword", "id")


@dataclass(frozen=True)
class _SortKey:
    """What orders one segment's documents by a field: ``values`` for the documents
    that have one (``present``); the others sort after them.

    Values keep their column's type: int64 for NUMERIC int, DATETIME and BOOLEAN columns
    and for term ranks, float64 for NUMERIC float. As float64, int64 values past 2**53
    (snowflake ids, nanosecond timestamps) would round onto their neighbours and tie.
    """

    values: npt.NDArray[np.int64] | npt.NDArray[np.float64]
    present: npt.NDArray[np.bool_]
    #: What orders the documents in descending order, where it is not ``values``: a
    #: multi-valued KEYWORD field sorts by its smallest value ascending and by its
    #: largest descending (as Elasticsearch does), so ``-tags`` puts first the documents
    #: with the greatest tag, not those whose smallest tag is greatest.
    descending_values: npt.NDArray[np.int64] | None = None

    def ordering(self, descending: bool) -> npt.NDArray[np.int64] | npt.NDArray[np.float64]:
        """The values that order documents ascending, or (to be reversed) descending."""
        return self.descending_values if descending and self.descending_values is not None else self.values


def _column_key(reader: SegmentReader, field_name: str, definition: Field) -> _SortKey:
    """A segment's column as a sort key: float64 only for NUMERIC float, so that
    integers and datetimes order exactly; a segment without the column has no values."""
    import numpy as np
    column = reader.column(field_name)
    values, present = column if column is not None else (np.zeros(reader.doc_count), np.zeros(reader.doc_count, bool))
    if column_dtype(definition.kind, definition.numeric_type).kind == "f":
        return _SortKey(values.astype(np.float64, copy=False), present)
    return _SortKey(values.astype(np.int64, copy=False), present)


def _reversed_order(values: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """Values whose ascending order is the descending order of ``values``: floats negated,
    integers complemented (``~v == -v - 1``), which cannot overflow as negating -2**63 does."""
    import numpy as np
    return np.negative(values) if values.dtype.kind == "f" else np.invert(values)


def _term_rank_keys(readers: list[SegmentReader], field_name: str) -> list[_SortKey]:
    """Each segment's documents keyed by the global rank of their smallest term (and,
    for descending order, of their largest: several for a multi-valued KEYWORD field)."""
    import numpy as np
    per_segment: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    vocabulary: list[list[bytes]] = []
    for reader in readers:
        dictionary = reader.dictionary(field_name)
        count = 0 if dictionary is None else len(dictionary)
        vocabulary.append([dictionary[i] for i in range(count)] if dictionary is not None else [])
        docs = reader.docs_of_terms(field_name, 0, count).astype(np.int64)
        term_of_posting = np.repeat(np.arange(count, dtype=np.int64), reader.doc_freqs(field_name).astype(np.int64))
        per_segment.append((docs, term_of_posting))
    every = [term for terms in vocabulary for term in terms]
    _, global_rank = np.unique(np.array(every, dtype=object), return_inverse=True) if every else (None, np.zeros(0, np.int64))
    keys: list[_SortKey] = []
    start = 0
    for reader, terms, (docs, term_of_posting) in zip(readers, vocabulary, per_segment):
        ranks = np.asarray(global_rank[start : start + len(terms)], dtype=np.int64)
        start += len(terms)
        key = np.full(reader.doc_count, len(every), dtype=np.int64)  # past every rank: no term
        np.minimum.at(key, docs, ranks[term_of_posting])
        largest = np.full(reader.doc_count, -1, dtype=np.int64)
        np.maximum.at(largest, docs, ranks[term_of_posting])
        keys.append(_SortKey(key, key < len(every), largest))
    return keys
