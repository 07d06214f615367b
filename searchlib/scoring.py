"""BM25 scoring: pure, vectorized functions over whole postings lists.

The score of a document for one query term in one field is::

    idf(df, N) * tf / (tf + k1 * (1 - b + b * dl / avgdl))

with Lucene's idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, which is never negative. This
is Lucene's ``BM25Similarity`` (without its constant ``k1 + 1`` factor in the numerator,
which does not change rankings), with exact rather than byte-quantized lengths. As in
Lucene, N and avgdl are per field: N counts the live documents that have at least one
term in the field, so a field most documents lack (a title) is not skewed by them.

Several fields searched together (a title and a body) are scored as one with BM25F
(Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
2009): each field's term frequency is length-normalized in its own field and weighted,
the sum is saturated once, and df and N count documents with the term (or the field) in
any of the fields. A word found in both title and body thus counts as more evidence, not
as two independent matches each earning the full idf.

The collection statistics a score depends on (N, df, average field length) come from a
:class:`CollectionStats` object, so a caller can supply global statistics (a sharded
search) and get the same scores as one big index.

>>> import numpy as np
>>> round(float(bm25_idf(1, 10)), 4)
1.9924
>>> bool(bm25_tf(np.array([2.0]), np.array([10.0]), 10.0, 0.9, 0.4)[0] > 0)
True
"""

from __future__ import annotations

from searchlib import _core
from searchlib._records import FrozenRecord, Record
from searchlib.similarities import DEFAULT_B as DEFAULT_B
from searchlib.similarities import DEFAULT_K1 as DEFAULT_K1
from searchlib.similarities import SIMILARITIES as SIMILARITIES
from searchlib.similarities import BM25Settings as BM25Settings
from searchlib.similarities import check_similarity

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    from collections.abc import Callable, Hashable, Sequence
    from typing import Protocol

    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

    class LengthSource(Protocol):
        """What the per-segment norms need of a segment reader: its field lengths, and a
        place to keep arrays derived from them (:meth:`SegmentReader.derived`)."""

        @property
        def doc_count(self) -> int: ...

        def keeps_lengths(self, field_name: str) -> bool: ...

        def field_lengths(self, field_name: str) -> npt.NDArray[np.uint32]: ...

        def derived(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray: ...


def bm25_idf(doc_freq: int | FloatArray, doc_count: int | FloatArray) -> FloatArray:
    """Lucene's BM25 idf: ``ln(1 + (N - df + 0.5) / (df + 0.5))``."""
    return Similarity("lucene").idf(doc_freq, doc_count)


def bm25_length_norm(field_lengths: npt.ArrayLike, average_length: float, b: float) -> FloatArray:
    """BM25's length normalization ``1 - b + b * dl / avgdl`` for an array of lengths."""
    import numpy as np
    dl = np.asarray(field_lengths, dtype=np.float64)
    avgdl = average_length if average_length > 0 else 1.0
    return (1.0 - b) + b * dl / avgdl


def length_norms(segment: LengthSource, field_name: str, average_length: float, b: float) -> FloatArray:
    """BM25's ``1 - b + b * dl / avgdl`` for every document of a segment, computed once
    per (field, avgdl, b) and kept with the segment: a query then reads it per posting
    instead of recomputing."""
    import numpy as np

    def compute() -> FloatArray:
        if not segment.keeps_lengths(field_name):
            # A KEYWORD or ID field keeps no lengths: as in Lucene, every value
            # counts as being of average length, so its norm is 1.
            return np.ones(segment.doc_count, dtype=np.float64)
        return bm25_length_norm(segment.field_lengths(field_name), average_length, b)

    return segment.derived(("length_norms", field_name, average_length, b), compute)


def bm25_saturate(pseudo_tf: npt.ArrayLike, k1: float) -> FloatArray:
    """The saturation ``x / (x + k1)`` of a length-normalized term frequency."""
    return Similarity("lucene").saturate(pseudo_tf, k1)


def bm25_tf(
    term_freqs: npt.ArrayLike, field_lengths: npt.ArrayLike, average_length: float, k1: float, b: float
) -> FloatArray:
    """BM25's saturating term-frequency part, for whole arrays of postings at once."""
    import numpy as np
    tf = np.asarray(term_freqs, dtype=np.float64)
    return bm25_saturate(tf / bm25_length_norm(field_lengths, average_length, b), k1)


#: BM25+'s and BM25L's lower-bounding constant delta, as in their papers.
BM25PLUS_DELTA = 1.0
BM25L_DELTA = 0.5


class Similarity(FrozenRecord):
    """One BM25 variant: how df and N make an idf, and how a length-normalized term
    frequency ``x = tf / (1 - b + b * dl / avgdl)`` saturates.

    The variants follow Kamphuis, de Vries, Boytsov and Lin, "Which BM25 Do You Mean? A
    Large-Scale Reproducibility Study of Scoring Variants" (ECIR 2020):

    ``lucene`` (the default)
        idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, tf part ``x / (x + k1)``.
    ``robertson``
        idf ``ln((N - df + 0.5) / (df + 0.5))`` (negative for terms in more than half
        the documents), tf part ``(k1 + 1) x / (x + k1)``.
    ``atire``
        idf ``ln(N / df)``, tf part ``(k1 + 1) x / (x + k1)``.
    ``bm25l``
        idf ``ln((N + 1) / (df + 0.5))``, tf part ``(k1 + 1)(x + d) / (k1 + x + d)``, d = 0.5.
    ``bm25+``
        idf ``ln((N + 1) / df)``, tf part ``(k1 + 1) x / (x + k1) + d``, d = 1.

    Every variant is a function of (df, N) times a function of x, so BM25F over several
    fields (where x is the weighted sum of each field's normalized tf) works for all.
    """

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str = "lucene") -> None:
        super().__init__(name=name)
        check_similarity(self.name)

    def idf(self, doc_freq: int | FloatArray, doc_count: int | FloatArray) -> FloatArray:
        """The variant's idf, computed by the core (the formula its scores use)."""
        import numpy as np
        df, n = np.broadcast_arrays(np.asarray(doc_freq, dtype="<f8"), np.asarray(doc_count, dtype="<f8"))
        found = _core.bm25_idf(self.name, np.ascontiguousarray(df).tobytes(), np.ascontiguousarray(n).tobytes())
        return np.frombuffer(found, dtype="<f8").reshape(df.shape)

    def idf_sum(self, doc_freqs: Sequence[int], doc_count: int) -> float:
        """The sum of the idfs of ``doc_freqs`` in order (a phrase's idf), by the core:
        the same as summing :meth:`idf` of each, without numpy."""
        return float(_core.bm25_idf_sum(self.name, [float(df) for df in doc_freqs], float(doc_count)))

    @property
    def delta(self) -> float | None:
        """BM25L's and BM25+'s lower-bounding constant; None for the other variants."""
        return {"bm25l": BM25L_DELTA, "bm25+": BM25PLUS_DELTA}.get(self.name)

    @property
    def tf_formula(self) -> str:
        """How this variant saturates x, as :meth:`saturate` computes it."""
        return {
            "lucene": "x / (x + k1)",
            "bm25l": "(k1 + 1)(x + delta) / (k1 + x + delta)",
            "bm25+": "(k1 + 1) x / (x + k1) + delta",
        }.get(self.name, "(k1 + 1) x / (x + k1)")

    def saturate(self, pseudo_tf: npt.ArrayLike, k1: float) -> FloatArray:
        """The variant's saturation of x, computed by the core (the formula its scores use)."""
        import numpy as np
        x = np.asarray(pseudo_tf, dtype="<f8")
        found = _core.bm25_saturate(self.name, np.ascontiguousarray(x).tobytes(), float(k1))
        return np.frombuffer(found, dtype="<f8").reshape(x.shape)


#: A set of fields scored as one (BM25F); a single field is a one-element tuple.
FieldSet = tuple[str, ...]


class CollectionStats(Record):
    """The statistics BM25 needs, over live documents.

    Parameters
    ----------
    doc_count:
        Live documents in the collection.
    field_doc_counts:
        Per field set, live documents with at least one term in any of its fields (the N
        of idf; for a single field also the denominator of avgdl).
    total_lengths:
        Per field, the sum of the field's lengths over live documents.
    doc_freqs:
        Per (field set, term), live documents containing the term in any of the fields.
    """

    __slots__ = ("doc_count", "field_doc_counts", "total_lengths", "doc_freqs")

    def __init__(
        self,
        doc_count: int,
        field_doc_counts: dict[FieldSet, int] | None = None,
        total_lengths: dict[str, int] | None = None,
        doc_freqs: dict[tuple[FieldSet, str], int] | None = None,
    ) -> None:
        self.doc_count = doc_count
        self.field_doc_counts = {} if field_doc_counts is None else field_doc_counts
        self.total_lengths = {} if total_lengths is None else total_lengths
        self.doc_freqs = {} if doc_freqs is None else doc_freqs

    def field_doc_count(self, fields: FieldSet) -> int:
        return self.field_doc_counts.get(fields, 0)

    def average_length(self, field_name: str) -> float:
        """avgdl: the field's mean length over documents that have it (0.0 if none do)."""
        documents = self.field_doc_count((field_name,))
        return self.total_lengths.get(field_name, 0) / documents if documents else 0.0

    def doc_freq(self, fields: FieldSet, term: str) -> int:
        return self.doc_freqs.get((fields, term), 0)

    def known_doc_freq(self, fields: FieldSet, term: str) -> int | None:
        """:meth:`doc_freq` if these statistics hold it without counting; None asks the
        core to count it while it runs the query (a searcher's own statistics do)."""
        return self.doc_freq(fields, term)

    def remember_doc_freq(self, fields: FieldSet, term: str, doc_freq: int) -> None:
        """Keep a df the core counted while it ran a query (see :meth:`known_doc_freq`)."""
        self.doc_freqs[(fields, term)] = doc_freq

    def idf(self, fields: FieldSet, term: str) -> float:
        return float(bm25_idf(self.doc_freq(fields, term), self.field_doc_count(fields)))
