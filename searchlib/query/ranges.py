""":class:`Range`, over typed columns or over terms: a constant-score node, every match
scoring the node's boost (as :class:`~searchlib.query.match.MatchAll` does).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from searchlib.columns import INT64_RANGE, column_dtype, column_value
from searchlib.errors import QueryError
from searchlib.explain import Explanation
from searchlib.query.match import constant_score
from searchlib.query.plan import PlanBuilder, PlanNode
from searchlib.query.tree import CoreQuery, ScoringContext
from searchlib.segment import SegmentReader


RangeValue = int | float | str | dt.date | dt.datetime | bool | None


@dataclass(frozen=True)
class Range(CoreQuery):
    """Documents whose ``field`` lies between ``low`` and ``high`` (None: open end).

    NUMERIC, DATETIME and BOOLEAN fields compare their column values; KEYWORD, ID and
    TEXT fields compare terms by their UTF-8 bytes (so ``[a TO b]`` on a keyword field is
    alphabetical for ASCII). Matching documents score ``boost``.
    """

    field: str
    low: RangeValue = None
    high: RangeValue = None
    include_low: bool = True
    include_high: bool = True
    boost: float = 1.0

    def plan(self, builder: PlanBuilder) -> PlanNode:
        """A column range (int64 bounds worked out exactly, or float64 ones) or a term
        range, run in the core as a doc set; every match scores the boost."""
        schema = builder.context.schema
        if schema is None or self.field not in schema:
            raise QueryError(f"range on unknown field {self.field!r}")
        definition = schema[self.field]
        if definition.is_column:
            kind, numeric_type = definition.kind, definition.numeric_type
            if column_dtype(kind, numeric_type).kind == "f":
                low = None if self.low is None else float(self._bound(self.low, kind, numeric_type))
                high = None if self.high is None else float(self._bound(self.high, kind, numeric_type))
                node: PlanNode = ("frange", self.field, low, high, self.include_low, self.include_high)
            else:
                bounds = self._integer_bounds(kind, numeric_type)
                node = ("none",) if bounds is None else ("range", self.field, *bounds)
        elif definition.is_indexed:
            low_bytes = None if self.low is None else _term_bytes(self.low)
            high_bytes = None if self.high is None else _term_bytes(self.high)
            node = ("terms", self.field, low_bytes, high_bytes, self.include_low, self.include_high)
        else:
            raise QueryError(f"field {self.field!r} is not indexed; a range cannot search it")
        return ("const", node, float(self.boost))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return constant_score(self, reader, doc, context)

    def _bound(self, value: RangeValue, kind: str, numeric_type: str | None) -> int | float:
        """``value`` as a number to compare a column with: a datetime as its microseconds,
        a boolean as 0 or 1. An int bound of an int field stays a Python int, exact at any
        size (one past the int64 range simply lies beyond every value); other numbers must
        be finite."""
        if numeric_type == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return column_value(kind, numeric_type if kind != "numeric" else "float", value, self.field)[0]
        except Exception as exc:
            raise QueryError(f"range on {self.field!r}: {exc}") from None

    def _integer_bounds(self, kind: str, numeric_type: str | None) -> tuple[int, int] | None:
        """The range as inclusive int64 bounds for a column of integers (NUMERIC int,
        DATETIME microseconds, BOOLEAN), or None when no int64 value lies in it.

        Worked out in Python ints: compared as float64, values past 2**53 (snowflake ids,
        nanosecond timestamps) round onto their neighbours and match bounds they are not
        equal to. A float bound rounds inwards exactly (``[1.5 TO 3]`` holds 2 and 3), and
        a bound past the int64 range is clamped, never overflowing the comparison.
        """
        lowest, highest = INT64_RANGE
        if self.low is not None:
            low = self._bound(self.low, kind, numeric_type)
            lowest = max(lowest, math.ceil(low) if self.include_low else math.floor(low) + 1)
        if self.high is not None:
            high = self._bound(self.high, kind, numeric_type)
            highest = min(highest, math.floor(high) if self.include_high else math.ceil(high) - 1)
        return (lowest, highest) if lowest <= highest else None


def _term_bytes(value: RangeValue) -> bytes:
    return str(value).encode("utf-8", "surrogatepass")
