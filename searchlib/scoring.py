"""BM25 scoring: pure, vectorized functions over whole postings lists.

The score of a document for one query term in one field is::

    idf(df, N) * tf / (tf + k1 * (1 - b + b * dl / avgdl))

with Lucene's idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, which is never negative. This
is Lucene's ``BM25Similarity`` (without its constant ``k1 + 1`` factor in the numerator,
which does not change rankings), with exact rather than byte-quantized lengths. A query's
score is the sum over its terms and fields, each weighted by the field's boost. As in
Lucene, N and avgdl are per field: N counts the live documents that have at least one
term in the field, so a field most documents lack (a title) is not skewed by them.

The collection statistics a score depends on (N, df, average field length) come from a
:class:`CollectionStats` object, so a caller can supply global statistics (a sharded
search) and get the same scores as one big index.

>>> round(float(bm25_idf(1, 10)), 4)
1.9924
>>> bool(bm25_tf(np.array([2.0]), np.array([10.0]), 10.0, 0.9, 0.4)[0] > 0)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4

FloatArray = npt.NDArray[np.float64]


def bm25_idf(doc_freq: int | FloatArray, doc_count: int | FloatArray) -> FloatArray:
    """Lucene's BM25 idf: ``ln(1 + (N - df + 0.5) / (df + 0.5))``."""
    df = np.asarray(doc_freq, dtype=np.float64)
    return np.log1p((np.asarray(doc_count, dtype=np.float64) - df + 0.5) / (df + 0.5))


def bm25_tf(
    term_freqs: npt.ArrayLike, field_lengths: npt.ArrayLike, average_length: float, k1: float, b: float
) -> FloatArray:
    """BM25's saturating term-frequency part, for whole arrays of postings at once."""
    tf = np.asarray(term_freqs, dtype=np.float64)
    dl = np.asarray(field_lengths, dtype=np.float64)
    avgdl = average_length if average_length > 0 else 1.0
    return tf / (tf + k1 * (1.0 - b + b * dl / avgdl))


@dataclass
class CollectionStats:
    """The statistics BM25 needs, over live documents.

    Parameters
    ----------
    doc_count:
        Live documents in the collection.
    field_doc_counts:
        Per field, live documents with at least one term in it (the N of idf).
    total_lengths:
        Per field, the sum of the field's lengths over live documents.
    doc_freqs:
        Per (field, term), live documents containing the term.
    """

    doc_count: int
    field_doc_counts: dict[str, int] = field(default_factory=dict)
    total_lengths: dict[str, int] = field(default_factory=dict)
    doc_freqs: dict[tuple[str, str], int] = field(default_factory=dict)

    def field_doc_count(self, field_name: str) -> int:
        return self.field_doc_counts.get(field_name, 0)

    def average_length(self, field_name: str) -> float:
        """avgdl: the field's mean length over documents that have it (0.0 if none do)."""
        documents = self.field_doc_count(field_name)
        return self.total_lengths.get(field_name, 0) / documents if documents else 0.0

    def doc_freq(self, field_name: str, term: str) -> int:
        return self.doc_freqs.get((field_name, term), 0)

    def idf(self, field_name: str, term: str) -> float:
        return float(bm25_idf(self.doc_freq(field_name, term), self.field_doc_count(field_name)))
