"""The query tree's base: :class:`Query`, what a node returns (:class:`Matches`) and
scores with (:class:`ScoringContext`), where pattern nodes find their terms
(:class:`TermSource`, :class:`TermSelector`), and the helpers every node uses.

The node classes live beside this module, one concern each (see :mod:`searchlib.query`);
the operators ``&``, ``|`` and ``~`` build :mod:`~searchlib.query.boolean` nodes, which
are imported when first used, since they import this module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from searchlib.schema import Schema
from searchlib.scoring import DEFAULT_B, DEFAULT_K1, CollectionStats, FieldSet, Similarity
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.explain import Explanation
    import numpy as np
    import numpy.typing as npt
    from searchlib.query.boolean import And, Not, Or
    from searchlib.query.plan import PlanBuilder, PlanNode

    #: Segment-local doc ids: int64 once computed, uint32 straight from the postings.
    DocIds = npt.NDArray[Any]


@dataclass(frozen=True)
class Matches:
    """Matching doc ids of one segment (ascending, live only) and their scores."""

    docs: DocIds
    scores: npt.NDArray[np.float64]

    @classmethod
    def empty(cls) -> Matches:
        import numpy as np
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the segment: statistics, BM25 parameters, the schema."""

    stats: CollectionStats
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B
    similarity: Similarity = field(default_factory=Similarity)
    schema: Schema | None = None


class TermSource(Protocol):
    """Where pattern queries find the terms they expand to (a searcher's segments)."""

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        """Every term of ``field_name`` that ``select`` picks, with its live doc frequency."""


class TermSelector(Protocol):
    """Picks terms of a field in a snapshot's segments, as one batch: the terms picked
    in any segment (in order), and their document frequencies (deleted documents
    included) as one row per segment, 0 where a segment does not count a term."""

    def __call__(
        self, readers: Sequence[SegmentReader], field_name: str
    ) -> tuple[list[str], npt.NDArray[np.uint32]]: ...


class Query(ABC):
    """A node of a query tree."""

    def terms(self) -> set[tuple[str, str]]:
        """Every (field, term) the query looks up: for highlighting."""
        return set()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        """Every (field set, term) whose statistics the scores need."""
        return set()

    def rewrite(self, source: TermSource) -> Query:
        """This query with pattern nodes replaced by the terms they match in ``source``."""
        return self

    @abstractmethod
    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        """Live docs of ``reader`` that match, with their scores."""

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        """:meth:`matches` in each of ``readers`` (the segments of one search), in order.

        A search asks for all its segments at once: a node the core runs
        (:class:`CoreQuery`) runs over all of them in one call.
        """
        return [self.matches(reader, context) for reader in readers]

    def plan(self, builder: PlanBuilder) -> PlanNode:
        """This node as the core runs it (see :mod:`searchlib.query.plan`): by default its
        matches, computed in Python; a node the core runs emits its own plan node."""
        return builder.precomputed(self)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        """Why ``doc`` of ``reader`` scores what it does; None when it does not match."""
        from searchlib.explain import factor

        import numpy as np
        found = self.matches(reader, context)
        at = int(np.searchsorted(found.docs, doc))
        if at == len(found.docs) or found.docs[at] != doc:
            return None
        return factor(float(found.scores[at]), f"{self!r}")

    def __and__(self, other: Query) -> And:
        from searchlib.query.boolean import And

        if not isinstance(other, Query):
            return NotImplemented  # "a" & 2 is a TypeError now, not a failure at search time
        return And([*_flat(self, And), *_flat(other, And)])

    def __or__(self, other: Query) -> Or:
        from searchlib.query.boolean import Or

        if not isinstance(other, Query):
            return NotImplemented
        return Or([*_flat(self, Or), *_flat(other, Or)])

    def __invert__(self) -> Not:
        from searchlib.query.boolean import Not

        return Not(self)


class CoreQuery(Query):
    """A node the core runs: its matches come from its plan (:meth:`Query.plan`)."""

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return self.matches_in([reader], context)[0]

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        from searchlib.query.plan import core_matches

        return core_matches(self, readers, context)


def pattern_fields(query: Query) -> set[str]:
    """The fields of the pattern nodes (prefix, wildcard, fuzzy, regex) in ``query``:
    what their expansions will be scored in, wherever they expand to nothing."""
    from searchlib.query.patterns import PatternQuery

    if isinstance(query, PatternQuery):
        return {query.field}
    found: set[str] = set()
    for value in vars(query).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Query):
                found |= pattern_fields(child)
    return found


def leaf_count(query: Query) -> int:
    """The leaves of ``query``: each term, phrase, pattern, range or match-all once per
    field it searches (a :class:`CombinedTerm` over two fields counts two), which is
    what Lucene's max clause count bounds. A measure of the work a query asks for."""
    from searchlib.query.boolean import And, Bool, Boost, Filter, Not, Or
    from searchlib.query.match import MatchNone
    from searchlib.query.terms import CombinedTerm

    if isinstance(query, CombinedTerm):
        return len(query.fields)
    if isinstance(query, MatchNone):
        return 0
    if not isinstance(query, (And, Or, Bool, Not, Filter, Boost)):
        return 1
    count = 0
    for value in vars(query).values():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Query):
                count += leaf_count(child)
    return count


def _flat(query: Query, kind: type[And] | type[Or]) -> tuple[Query, ...]:
    """The clauses of ``query`` if it is a plain ``kind`` node, else ``query`` itself."""
    from searchlib.query.boolean import And

    if type(query) is kind and (kind is And or getattr(query, "min_match", 1) == 1):
        return query.clauses
    return (query,)


def _doc_position(docs: DocIds, doc: int) -> int:
    import numpy as np
    at = int(np.searchsorted(docs, doc))
    return at if at < len(docs) and docs[at] == doc else -1
