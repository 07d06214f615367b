"""Constant-score nodes: :class:`Range` (over typed columns or over terms),
:class:`MatchAll` and :class:`MatchNone`; every match scores the node's boost.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from searchlib.columns import INT64_RANGE, column_dtype, column_value
from searchlib.errors import QueryError
from searchlib.explain import Explanation, factor
from searchlib.query.tree import Matches, Query, ScoringContext, _doc_position
from searchlib.segment import SegmentReader


def _constant_score(query: Range | MatchAll, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
    """A constant-score node's explanation: every match scores the node's boost."""
    found = query.matches(reader, context)
    if _doc_position(found.docs, doc) < 0:
        return None
    return Explanation(query.boost, f"constant score of {query!r}, the same for every match", (
        factor(query.boost, "boost"),
    ))


@dataclass(frozen=True)
class MatchAll(Query):
    """Every live document, each scoring ``boost``."""

    boost: float = 1.0

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        docs = np.flatnonzero(reader.live).astype(np.int64)
        return Matches(docs, np.full(len(docs), self.boost, dtype=np.float64))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return _constant_score(self, reader, doc, context)


@dataclass(frozen=True)
class MatchNone(Query):
    """No document (what a query of only stop words becomes)."""

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return Matches.empty()


RangeValue = int | float | str | dt.date | dt.datetime | bool | None


@dataclass(frozen=True)
class Range(Query):
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

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        if context.schema is None or self.field not in context.schema:
            raise QueryError(f"range on unknown field {self.field!r}")
        definition = context.schema[self.field]
        if definition.is_column:
            docs = self._column_docs(reader, definition.kind, definition.numeric_type)
        elif definition.is_indexed:
            docs = self._term_docs(reader)
        else:
            raise QueryError(f"field {self.field!r} is not indexed; a range cannot search it")
        return Matches(docs, np.full(len(docs), self.boost, dtype=np.float64))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return _constant_score(self, reader, doc, context)

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

    def _column_docs(self, reader: SegmentReader, kind: str, numeric_type: str | None) -> npt.NDArray[np.int64]:
        column = reader.column(self.field)
        if column is None:
            return np.zeros(0, dtype=np.int64)
        values, present = column
        keep = present & reader.live
        if column_dtype(kind, numeric_type).kind == "f":
            if self.low is not None:
                low = self._bound(self.low, kind, numeric_type)
                keep &= (values >= low) if self.include_low else (values > low)
            if self.high is not None:
                high = self._bound(self.high, kind, numeric_type)
                keep &= (values <= high) if self.include_high else (values < high)
            return np.flatnonzero(keep).astype(np.int64)
        bounds = self._integer_bounds(kind, numeric_type)
        if bounds is None:
            return np.zeros(0, dtype=np.int64)
        lowest, highest = bounds
        if self.low is not None:
            keep &= values >= np.int64(lowest)
        if self.high is not None:
            keep &= values <= np.int64(highest)
        return np.flatnonzero(keep).astype(np.int64)

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

    def _term_docs(self, reader: SegmentReader) -> npt.NDArray[np.int64]:
        dictionary = reader.dictionary(self.field)
        if dictionary is None:
            return np.zeros(0, dtype=np.int64)
        start = 0 if self.low is None else dictionary.bound(_term_bytes(self.low), after=not self.include_low)
        end = len(dictionary) if self.high is None else dictionary.bound(_term_bytes(self.high), after=self.include_high)
        docs = np.unique(reader.docs_of_terms(self.field, start, end)).astype(np.int64)
        return docs[reader.live[docs]]


def _term_bytes(value: RangeValue) -> bytes:
    return str(value).encode("utf-8", "surrogatepass")
