"""Compound nodes: Lucene's boolean query (:class:`Bool`) and the nodes that run as one
(:class:`And`, :class:`Or`, :class:`Not`, :class:`Filter`), and :class:`Boost`. Scores of
the scoring clauses add up; exclusions and filters restrict without scoring.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchlib.query.plan import PlanBuilder, PlanNode
from searchlib.query.match import MatchAll, MatchNone
from searchlib.query.tree import CoreQuery, Query, ScoringContext, TermSource, _doc_position
from searchlib.scoring import FieldSet
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.explain import Explanation


@dataclass(frozen=True, init=False)
class Bool(CoreQuery):
    """Lucene's boolean query: every ``must`` and ``filter`` clause matches, no
    ``must_not`` clause does, and at least ``min_should_match`` ``should`` clauses do
    (default: 1 when there is no ``must`` or ``filter`` clause, else 0). The score is the
    sum of the matching ``must`` and ``should`` clauses' scores; ``filter`` and
    ``must_not`` clauses never score. A Bool of only ``must_not`` clauses matches
    nothing, as in Lucene (:class:`Not` and :class:`And` add a match-all to exclude from)."""

    must: tuple[Query, ...] = ()
    should: tuple[Query, ...] = ()
    must_not: tuple[Query, ...] = ()
    filter: tuple[Query, ...] = ()
    min_should_match: int | None = None

    def __init__(
        self,
        must: Iterable[Query] = (),
        should: Iterable[Query] = (),
        must_not: Iterable[Query] = (),
        filter: Iterable[Query] = (),  # noqa: A002
        min_should_match: int | None = None,
    ) -> None:
        object.__setattr__(self, "must", tuple(must))
        object.__setattr__(self, "should", tuple(should))
        object.__setattr__(self, "must_not", tuple(must_not))
        object.__setattr__(self, "filter", tuple(filter))
        object.__setattr__(self, "min_should_match", min_should_match)

    def _children(self) -> tuple[Query, ...]:
        return (*self.must, *self.should, *self.must_not, *self.filter)

    def terms(self) -> set[tuple[str, str]]:
        return set().union(*(clause.terms() for clause in (*self.must, *self.should, *self.filter)))

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return set().union(*(clause.scored_terms() for clause in (*self.must, *self.should)))

    def rewrite(self, source: TermSource) -> Query:
        return Bool(
            [c.rewrite(source) for c in self.must], [c.rewrite(source) for c in self.should],
            [c.rewrite(source) for c in self.must_not], [c.rewrite(source) for c in self.filter],
            self.min_should_match,
        )

    @property
    def required_should(self) -> int:
        if self.min_should_match is not None:
            return self.min_should_match
        return 0 if (self.must or self.filter) else 1

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return (
            "bool",
            [clause.plan(builder) for clause in self.must],
            [clause.plan(builder) for clause in self.should],
            [clause.plan(builder) for clause in self.must_not],
            [clause.plan(builder) for clause in self.filter],
            self.required_should,
        )

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        from searchlib.explain import Explanation

        found = self.matches(reader, context)
        at = _doc_position(found.docs, doc)
        if at < 0:
            return None
        details = [
            explained for clause in (*self.must, *self.should)
            if (explained := clause.explain(reader, doc, context)) is not None
        ]
        if len(details) == 1 and math.isclose(details[0].value, float(found.scores[at])):
            return details[0]  # one scoring clause: its own explanation says it all
        return Explanation(float(found.scores[at]), "sum of the matching clauses:", tuple(details))


class _BoolShaped(CoreQuery):
    """A compound node that runs as a :class:`Bool`."""

    @abstractmethod
    def as_bool(self) -> Bool: ...

    def terms(self) -> set[tuple[str, str]]:
        return self.as_bool().terms()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return self.as_bool().scored_terms()

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return self.as_bool().plan(builder)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return self.as_bool().explain(reader, doc, context)


@dataclass(frozen=True, init=False)
class And(_BoolShaped):
    """Documents matching every clause; a :class:`Not` clause excludes instead."""

    clauses: tuple[Query, ...]

    def __init__(self, clauses: Iterable[Query]) -> None:
        object.__setattr__(self, "clauses", tuple(clauses))

    def as_bool(self) -> Bool:
        must = [clause for clause in self.clauses if not isinstance(clause, Not)]
        must_not = [clause.clause for clause in self.clauses if isinstance(clause, Not)]
        if not must:
            must = [MatchAll(0.0)] if must_not else []
        if not must:
            return Bool(should=[MatchNone()])
        return Bool(must=must, must_not=must_not)

    def rewrite(self, source: TermSource) -> Query:
        return And(clause.rewrite(source) for clause in self.clauses)


@dataclass(frozen=True, init=False)
class Or(_BoolShaped):
    """Documents matching at least ``min_match`` clauses; scores add up."""

    clauses: tuple[Query, ...]
    min_match: int = 1

    def __init__(self, clauses: Iterable[Query], min_match: int = 1) -> None:
        object.__setattr__(self, "clauses", tuple(clauses))
        object.__setattr__(self, "min_match", min_match)
        if min_match < 1:
            raise ValueError(f"min_match must be at least 1, got {min_match}")

    def as_bool(self) -> Bool:
        return Bool(should=self.clauses, min_should_match=self.min_match)

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return set().union(*(clause.scored_terms() for clause in self.clauses))

    def rewrite(self, source: TermSource) -> Query:
        clauses = tuple(clause.rewrite(source) for clause in self.clauses)
        if all(new is old for new, old in zip(clauses, self.clauses)):
            return self  # nothing to expand (the words of a search box): no new node
        return Or(clauses, self.min_match)


@dataclass(frozen=True)
class Not(_BoolShaped):
    """Documents that do not match ``clause`` (scoring 0); inside :class:`And`, an exclusion."""

    clause: Query

    def as_bool(self) -> Bool:
        return Bool(must=[MatchAll(0.0)], must_not=[self.clause])

    def terms(self) -> set[tuple[str, str]]:
        return set()

    def rewrite(self, source: TermSource) -> Query:
        return Not(self.clause.rewrite(source))


@dataclass(frozen=True)
class Filter(_BoolShaped):
    """Documents matching both; only ``query`` scores (``filter`` just restricts)."""

    query: Query
    filter: Query

    def as_bool(self) -> Bool:
        return Bool(must=[self.query], filter=[self.filter])

    def rewrite(self, source: TermSource) -> Query:
        return Filter(self.query.rewrite(source), self.filter.rewrite(source))


@dataclass(frozen=True)
class Boost(CoreQuery):
    """``query`` with its scores multiplied by ``factor``."""

    query: Query
    factor: float

    def terms(self) -> set[tuple[str, str]]:
        return self.query.terms()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return self.query.scored_terms()

    def rewrite(self, source: TermSource) -> Query:
        return Boost(self.query.rewrite(source), self.factor)

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return ("boost", self.query.plan(builder), float(self.factor))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        from searchlib.explain import Explanation, factor

        inner = self.query.explain(reader, doc, context)
        if inner is None:
            return None
        return Explanation(inner.value * self.factor, "boost * score", (factor(self.factor, "boost"), inner))
