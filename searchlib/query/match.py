""":class:`MatchAll` and :class:`MatchNone`: every live document, each scoring the
node's boost, or none.

Apart from :class:`~searchlib.query.ranges.Range` because the boolean nodes and the
parser need them for any query (an empty clause list, ``*:*``, a query of stop words),
while ranges load only when a query holds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchlib.query.tree import CoreQuery, ScoringContext, _doc_position
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.explain import Explanation
    from searchlib.query.plan import PlanBuilder, PlanNode
    from searchlib.query.ranges import Range


def constant_score(query: Range | MatchAll, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
    """A constant-score node's explanation: every match scores the node's boost."""
    from searchlib.explain import Explanation, factor

    found = query.matches(reader, context)
    if _doc_position(found.docs, doc) < 0:
        return None
    return Explanation(query.boost, f"constant score of {query!r}, the same for every match", (
        factor(query.boost, "boost"),
    ))


@dataclass(frozen=True)
class MatchAll(CoreQuery):
    """Every live document, each scoring ``boost``."""

    boost: float = 1.0

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return ("all", float(self.boost))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return constant_score(self, reader, doc, context)


@dataclass(frozen=True)
class MatchNone(CoreQuery):
    """No document (what a query of only stop words becomes)."""

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return ("none",)
