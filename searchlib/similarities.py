"""The names and defaults of BM25 scoring, and the settings an index keeps, apart from
the scoring code.

The command line offers ``--similarity`` choices and shows the defaults in ``--help``
before it has loaded any engine code (numpy, the core, the index), and opening an index
reads its :class:`BM25Settings` without the scoring code either (a plain search scores
in the core), so these live in a module that imports only the record base class.
:mod:`searchlib.scoring` re-exports them.
"""

from __future__ import annotations

from searchlib._records import FrozenRecord

#: Lucene's, Elasticsearch's and tantivy's defaults. Measured with ``searchlib eval``
#: (benchmarks/results/relevance.md), they beat Anserini's k1=0.9, b=0.4 on both SciFact
#: and Cranfield: fuller saturation and length normalization suit abstracts and
#: articles alike. Pass other values to ``Searcher`` for a corpus that needs them.
DEFAULT_K1 = 1.2
DEFAULT_B = 0.75

#: The BM25 variants :class:`searchlib.scoring.Similarity` knows.
SIMILARITIES = ("lucene", "robertson", "atire", "bm25l", "bm25+")


def check_similarity(name: str) -> None:
    """ValueError unless ``name`` is one of :data:`SIMILARITIES`."""
    if name not in SIMILARITIES:
        raise ValueError(f"unknown BM25 variant {name!r}; choose one of {', '.join(SIMILARITIES)}")


class BM25Settings(FrozenRecord):
    """The BM25 variant and parameters an index ranks with unless a query says otherwise.

    Saved in the index's manifest, so every searcher of the index ranks alike.
    """

    __slots__ = ("similarity", "k1", "b")
    similarity: str
    k1: float
    b: float

    def __init__(self, similarity: str = "lucene", k1: float = DEFAULT_K1, b: float = DEFAULT_B) -> None:
        super().__init__(similarity=similarity, k1=k1, b=b)
        check_similarity(self.similarity)
        if not (0 <= self.k1 < float("inf") and 0 <= self.b <= 1):  # NaN fails too
            raise ValueError(f"BM25 needs a finite k1 >= 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")

    def replace(self, similarity: str | None = None, k1: float | None = None, b: float | None = None) -> BM25Settings:
        """These settings with any given value replaced."""
        return BM25Settings(
            similarity if similarity is not None else self.similarity,
            k1 if k1 is not None else self.k1,
            b if b is not None else self.b,
        )

    def to_json(self) -> dict[str, object]:
        return {"similarity": self.similarity, "k1": self.k1, "b": self.b}

    @classmethod
    def from_json(cls, data: object) -> BM25Settings:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TypeError("scoring settings are not an object")
        return cls(str(data.get("similarity", "lucene")), float(data.get("k1", DEFAULT_K1)), float(data.get("b", DEFAULT_B)))


__all__ = ["DEFAULT_B", "DEFAULT_K1", "SIMILARITIES", "BM25Settings", "check_similarity"]
