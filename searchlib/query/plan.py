"""Query plans: how a query tree runs in the compiled core.

Each node emits its plan node (:meth:`Query.plan <searchlib.query.tree.Query.plan>`), a
nested tuple the core reads (the table is in ``core/src/query/plan.rs``), with every
statistic a score needs already resolved from the search's
:class:`~searchlib.scoring.CollectionStats`: N and each field's average length, and each
term's document frequency where the statistics know it (a sharded search's global ones
always do; a searcher's own leave those they have not counted yet to the core, which
counts them while it opens the term's postings). One call into the core then runs the
whole query over every segment with the GIL released, and returns the top k or every
match as arrays: nothing crosses the boundary per posting.

A node the core does not run yet emits its matches as computed in Python (a "docs"
node), so every query runs through the one executor.
"""

from __future__ import annotations

import array
import sys

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from searchlib import _core
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    import numpy as np
    from searchlib.query.tree import Matches, Query, ScoringContext

#: A plan node: a tuple whose first item names its kind (see the module's docstring).
PlanNode = tuple[Any, ...]


class PlanBuilder:
    """What nodes need to emit their plan: the search's segments and scoring context.

    ``whole`` says the segments are all those the statistics describe (a search's), so
    a document frequency the statistics have not counted yet can be left to the core,
    which counts it over them; a run over some segments only (one segment's matches,
    an explanation) resolves it through the statistics first.
    """

    def __init__(self, readers: Sequence[SegmentReader], context: ScoringContext, *, whole: bool = False) -> None:
        self.readers = readers
        self.context = context
        self.whole = whole
        #: The (fields, term) of each leaf whose df is left to the core, in plan order.
        self.uncounted: list[tuple[tuple[str, ...], str]] = []
        #: Per (fields, weights): the leaf's fields with their average lengths, and N
        #: (a query's words mostly share their fields).
        self._fields: dict[tuple[tuple[str, ...], tuple[float, ...]], tuple[list[tuple[str, float, float]], float]] = {}

    def term(self, fields: tuple[str, ...], weights: tuple[float, ...], text: str, boost: float) -> PlanNode:
        """A BM25F term leaf with its statistics resolved."""
        stats = self.context.stats
        doc_freq = stats.known_doc_freq(fields, text) if self.whole else stats.doc_freq(fields, text)
        if doc_freq is None:
            self.uncounted.append((fields, text))
        described = self._fields.get((fields, weights))
        if described is None:
            described = self._fields[(fields, weights)] = (
                [(name, weight, stats.average_length(name)) for name, weight in zip(fields, weights)],
                float(stats.field_doc_count(fields)),
            )
        return ("term", described[0], text, boost, -1 if doc_freq is None else doc_freq, described[1])

    def precomputed(self, query: Query) -> PlanNode:
        """A node's matches computed in Python, for a node the core does not run yet."""
        import numpy as np
        found = query.matches_in(self.readers, self.context)
        return ("docs", [
            (np.asarray(m.docs, dtype="<u4").tobytes(), np.asarray(m.scores, dtype="<f8").tobytes()) for m in found
        ])


def query_segments(readers: Sequence[SegmentReader]) -> list[_core.QuerySegment]:
    return [reader.query_segment for reader in readers]


def core_matches(query: Query, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
    """Every live match of ``query`` in each of ``readers``, run in the core (what sorting
    by a field, grouping and deleting by query need)."""
    import numpy as np
    from searchlib.query.tree import Matches

    if not readers:
        return []
    plan = query.plan(PlanBuilder(readers, context))
    found = _core.matches(
        query_segments(readers), plan, context.similarity.name, float(context.k1), float(context.b)
    )
    return [
        Matches(np.frombuffer(docs, dtype="<u4").astype(np.int64), np.frombuffer(scores, dtype="<f8"))
        for docs, scores in found
    ]


def core_top(
    query: Query, readers: Sequence[SegmentReader], context: ScoringContext, k: int, *, exact_total: bool = True
) -> tuple[list[int], list[int], list[float], int, bool]:
    """The ``k`` best matches of ``query`` over ``readers``, best first, as (segments,
    docs, scores), with the number of matches and whether that number is exact."""
    builder = PlanBuilder(readers, context, whole=True)
    plan = query.plan(builder)
    segments, docs, scores, total, exact, counted = _core.search(
        query_segments(readers), plan, context.similarity.name, float(context.k1), float(context.b), k, exact_total
    )
    for (fields, text), doc_freq in zip(builder.uncounted, counted):
        context.stats.remember_doc_freq(fields, text, doc_freq)
    return (
        _little_endian_list("I", segments),
        _little_endian_list("I", docs),
        _little_endian_list("d", scores),
        total,
        exact,
    )


def _little_endian_list(code: str, data: bytes) -> list[Any]:
    """Little-endian uint32 (``"I"``) or float64 (``"d"``) values as a list, through the
    standard library's ``array``: a top k is small, and numpy would be this module's
    only reason to load on the path of a search."""
    values = array.array(code, data)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()
