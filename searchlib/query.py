"""Query trees, and their execution over one segment at a time with numpy.

A query is an immutable tree of nodes. Each node, given a segment and the collection
statistics, returns the matching live doc ids of that segment with their scores
(:class:`Matches`), computed over whole postings arrays: no Python loop runs per posting.

>>> sorted(Or([Term("body", "direct"), Term("body", "talk")]).terms())
[('body', 'direct'), ('body', 'talk')]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from searchlib.scoring import (
    DEFAULT_B,
    DEFAULT_K1,
    CollectionStats,
    FieldSet,
    bm25_length_norm,
    bm25_saturate,
)
from searchlib.segment import SegmentReader


@dataclass(frozen=True)
class Matches:
    """Matching doc ids of one segment (ascending, live only) and their scores."""

    docs: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]

    @classmethod
    def empty(cls) -> Matches:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the segment: statistics and BM25 parameters."""

    stats: CollectionStats
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B


class Query(ABC):
    """A node of a query tree."""

    @abstractmethod
    def terms(self) -> set[tuple[str, str]]:
        """Every (field, term) the query looks up: for highlighting."""

    @abstractmethod
    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        """Every (field set, term) whose statistics the scores need."""

    @abstractmethod
    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        """Live docs of ``reader`` that match, with their scores."""


@dataclass(frozen=True)
class Term(Query):
    """Documents whose ``field`` holds the (already analyzed) ``text``, scored by BM25."""

    field: str
    text: str
    boost: float = 1.0

    def terms(self) -> set[tuple[str, str]]:
        return {(self.field, self.text)}

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return {((self.field,), self.text)}

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        # BM25 on one field is BM25F over that field alone: one scoring path for both.
        return CombinedTerm((self.field,), self.text, boost=self.boost).matches(reader, context)


def _live_postings(
    reader: SegmentReader, field_name: str, term: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32]] | None:
    """The live doc ids and term frequencies of a term in one field, or None."""
    postings = reader.postings(field_name, term)
    if postings is None:
        return None
    docs = postings.docs.astype(np.int64)
    is_live = reader.live[docs]
    return docs[is_live], postings.freqs[is_live]


@dataclass(frozen=True)
class CombinedTerm(Query):
    """One analyzed term searched in several fields at once, scored by BM25F.

    Each field's term frequency is normalized by that field's length and multiplied by
    the field's weight; the weighted sum is saturated once and multiplied by the term's
    idf over the fields taken together (see :mod:`searchlib.scoring`). With one field it
    scores exactly like :class:`Term`.
    """

    fields: tuple[str, ...]
    text: str
    weights: tuple[float, ...] = ()
    boost: float = 1.0

    def __post_init__(self) -> None:
        if not self.weights:
            object.__setattr__(self, "weights", (1.0,) * len(self.fields))
        if len(self.weights) != len(self.fields) or not self.fields:
            raise ValueError("CombinedTerm needs one weight per field and at least one field")

    def terms(self) -> set[tuple[str, str]]:
        return {(name, self.text) for name in self.fields}

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return {(self.fields, self.text)}

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        stats = context.stats
        parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []
        for name, weight in zip(self.fields, self.weights):
            found = _live_postings(reader, name, self.text)
            if found is None:
                continue
            docs, freqs = found
            norm = bm25_length_norm(reader.field_lengths(name)[docs], stats.average_length(name), context.b)
            parts.append((docs, weight * freqs / norm))
        if not parts:
            return Matches.empty()
        if len(parts) == 1:
            docs, pseudo_tf = parts[0]
        else:
            combined = np.zeros(reader.doc_count, dtype=np.float64)
            for part_docs, part_tf in parts:  # docs are unique within a field's postings
                combined[part_docs] += part_tf
            docs = np.flatnonzero(combined)  # every posting adds a positive amount
            pseudo_tf = combined[docs]
        idf = stats.idf(self.fields, self.text)
        return Matches(docs, self.boost * idf * bm25_saturate(pseudo_tf, context.k1))


@dataclass(frozen=True)
class Or(Query):
    """Documents matching any clause; the score is the sum of the clauses' scores."""

    clauses: tuple[Query, ...] = field(default_factory=tuple)

    def __init__(self, clauses: Iterable[Query]) -> None:
        object.__setattr__(self, "clauses", tuple(clauses))

    def terms(self) -> set[tuple[str, str]]:
        return set().union(*(clause.terms() for clause in self.clauses))

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return set().union(*(clause.scored_terms() for clause in self.clauses))

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        parts = [clause.matches(reader, context) for clause in self.clauses]
        parts = [part for part in parts if len(part.docs)]
        if not parts:
            return Matches.empty()
        if len(parts) == 1:
            return parts[0]
        totals = np.zeros(reader.doc_count, dtype=np.float64)
        is_matched = np.zeros(reader.doc_count, dtype=bool)
        for part in parts:  # each part's docs are unique, so fancy-index adding is exact
            totals[part.docs] += part.scores
            is_matched[part.docs] = True
        docs = np.flatnonzero(is_matched)
        return Matches(docs, totals[docs])
