"""Facets: how the hits of a query spread over a field's values, counted over every
match (not just the page shown).

What to count is given as field names or spec objects:

- :class:`Facet` — a KEYWORD field's values (a multi-valued field counts a document once
  under each of its values), or the distinct values of a NUMERIC, DATETIME or BOOLEAN
  field: the ``limit`` most frequent, ties by value. A bare field name means this.
- :class:`RangeFacet` — a NUMERIC or DATETIME field's named ranges given by the caller
  (``start`` included, ``end`` left out, either open), or consecutive buckets between
  given edges (:meth:`RangeFacet.buckets`). Ranges may overlap; each is counted apart.

A search returns one :class:`FacetResult` per spec in ``Results.facets``, by name.

How they are counted: the core gives a query's matches per segment as arrays (as it
does for sorting by a field); nothing crosses the boundary, or loops in Python, per
hit. A KEYWORD field's values are read from its postings once per searcher, in the
core, into a table of each document's value numbers (numbered over all the searcher's
segments, in value order: ``core/src/facets.rs``); a query's count is one call per
segment that adds up its matches' values, work in proportion to the matches and their
values, whatever the page size. A column facet reads the column's values at the
matches with numpy.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, Union

from searchlib import _core
from searchlib.columns import INT64_RANGE, column_value
from searchlib.errors import QueryError, SchemaError
from searchlib.schema import Field, Schema
from searchlib.segment import SegmentReader

if TYPE_CHECKING:  # numpy loads only when facets are counted
    import numpy as np

    from searchlib.query import Matches

#: How many values a :class:`Facet` lists unless told.
DEFAULT_FACET_LIMIT = 10

#: A facet's value: a KEYWORD value, a column's value, or a range's name.
FacetValue = Union[str, int, float, bool]


@dataclass(frozen=True)
class Facet:
    """Count a field's values over all hits: the ``limit`` most frequent values (ties
    in value order). The field is a KEYWORD field, or a NUMERIC, DATETIME or BOOLEAN
    field whose distinct values are counted (a DATETIME value as its ISO 8601 text).
    ``name`` keys the result in ``Results.facets`` (the field's name by default)."""

    field: str
    limit: int = DEFAULT_FACET_LIMIT
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.field


@dataclass(frozen=True)
class FacetRange:
    """One named range of a :class:`RangeFacet`: ``start <= value < end``, an end that
    is None being open. Bounds are numbers for a NUMERIC field and datetimes, dates or
    ISO 8601 text for a DATETIME one."""

    name: str
    start: Any = None
    end: Any = None


@dataclass(frozen=True)
class RangeFacet:
    """Count the hits whose NUMERIC or DATETIME ``field`` falls in each of ``ranges``,
    given as :class:`FacetRange` objects or ``(name, start, end)`` tuples; results keep
    the ranges' order. ``name`` keys the result (the field's name by default).

    >>> RangeFacet("price", [("cheap", None, 10), ("dear", 10, None)]).ranges[0]
    FacetRange(name='cheap', start=None, end=10)
    """

    field: str
    ranges: tuple[FacetRange, ...]
    name: str | None = None

    def __init__(
        self, field: str, ranges: Sequence[FacetRange | tuple[str, Any, Any]], name: str | None = None
    ) -> None:
        made = tuple(r if isinstance(r, FacetRange) else FacetRange(*r) for r in ranges)
        if not made:
            raise QueryError(f"a range facet on {field!r} needs at least one range")
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "ranges", made)
        object.__setattr__(self, "name", name)

    @classmethod
    def buckets(cls, field: str, edges: Sequence[Any], name: str | None = None) -> RangeFacet:
        """Consecutive ranges between ascending ``edges`` (``[e0, e1)``, ``[e1, e2)``,
        ...), each named ``"e0..e1"``: a histogram of a price or a year.

        >>> [r.name for r in RangeFacet.buckets("year", [2000, 2010, 2020]).ranges]
        ['2000..2010', '2010..2020']
        """
        if len(edges) < 2:
            raise QueryError(f"buckets on {field!r} need at least two edges, got {list(edges)!r}")
        return cls(field, [(f"{_label(a)}..{_label(b)}", a, b) for a, b in zip(edges, edges[1:])], name)

    @property
    def key(self) -> str:
        return self.name or self.field


FacetSpec = Union[str, Facet, RangeFacet]


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet (or one range) and how many hits have it; a range also
    gives its bounds as it was asked with."""

    value: FacetValue
    count: int
    start: Any = None
    end: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: value and count, and a range's bounds (dates as ISO 8601)."""
        data: dict[str, Any] = {"value": self.value, "count": self.count}
        if self.start is not None or self.end is not None:
            data["start"], data["end"] = _json_bound(self.start), _json_bound(self.end)
        return data


@dataclass(frozen=True)
class FacetResult:
    """What a facet counted over every hit of a query.

    ``counts`` lists the most frequent values (count descending, then value ascending),
    or every range in the order asked. ``missing`` is how many hits have no value in the
    field; ``other`` (values only) how many value counts fell past ``limit`` together.
    """

    name: str
    field: str
    counts: list[FacetCount] = dataclass_field(default_factory=list)
    missing: int = 0
    other: int = 0

    def as_dict(self) -> dict[FacetValue, int]:
        """The counts as ``{value: count}``, in the same order."""
        return {count.value: count.count for count in self.counts}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the command line prints."""
        return {
            "field": self.field, "counts": [count.to_dict() for count in self.counts],
            "missing": self.missing, "other": self.other,
        }


def _label(bound: Any) -> str:
    return bound.isoformat() if isinstance(bound, (dt.date, dt.datetime)) else str(bound)


def _json_bound(bound: Any) -> Any:
    return bound.isoformat() if isinstance(bound, (dt.date, dt.datetime)) else bound


#: Why a field of each kind that facets cannot count is not counted.
_WHY_NOT = {
    "text": "a TEXT field, analyzed into words",
    "id": "an ID field, whose value is unique to each document",
    "stored": "a STORED field, kept but not indexed",
}


def resolve_specs(schema: Schema, facets: Sequence[FacetSpec]) -> list[Facet | RangeFacet]:
    """Check what a search asked to count before it runs: each field exists and can be
    counted so; a bare name becomes a :class:`Facet`. Errors name the field."""
    if isinstance(facets, (str, Facet, RangeFacet)):
        facets = [facets]
    specs: list[Facet | RangeFacet] = []
    seen: set[str] = set()
    for spec in facets:
        if isinstance(spec, str):
            spec = Facet(spec)
        if not isinstance(spec, (Facet, RangeFacet)):
            raise QueryError(f"a facet is a field name, a Facet or a RangeFacet, got {spec!r}")
        if spec.field not in schema:
            raise QueryError(f"cannot count facet {spec.field!r}: the index has no such field")
        definition = schema[spec.field]
        if isinstance(spec, Facet):
            if not (definition.kind == "keyword" or definition.is_column):
                raise QueryError(
                    f"cannot count facet {spec.field!r}: it is {_WHY_NOT.get(definition.kind, definition.kind)}; "
                    "count a KEYWORD, NUMERIC, DATETIME or BOOLEAN field"
                )
            if isinstance(spec.limit, bool) or not isinstance(spec.limit, int) or spec.limit < 1:
                raise QueryError(f"facet {spec.field!r}: limit must be a positive int, got {spec.limit!r}")
        elif definition.kind not in ("numeric", "datetime"):
            raise QueryError(
                f"cannot count ranges of {spec.field!r}: {definition.kind.upper()} fields have no ranges; "
                "ranges need a NUMERIC or DATETIME field"
            )
        else:
            for facet_range in spec.ranges:  # bounds checked now: a bad one names its range
                _bound(definition, spec.field, facet_range, facet_range.start)
                _bound(definition, spec.field, facet_range, facet_range.end)
        if spec.key in seen:
            raise QueryError(f"two facets are named {spec.key!r}; give one a name=")
        seen.add(spec.key)
        specs.append(spec)
    return specs


def _bound(definition: Field, field_name: str, facet_range: FacetRange, bound: Any) -> int | float | None:
    """A range's bound as its column compares it: a number (any, for an int column
    too) or a DATETIME's microseconds."""
    if bound is None:
        return None
    try:
        # Checked as a float field's value: an int field's range may have bounds such as 2.5.
        number, _ = column_value(definition.kind, "float", bound, field_name)
    except SchemaError as exc:  # it names the field; a facet's error is a QueryError
        raise QueryError(f"facet range {facet_range.name!r} on {field_name!r}: {exc}") from None
    return bound if definition.kind == "numeric" and isinstance(bound, int) else number


class FacetCounter:
    """Counts facets over one searcher's segments, keeping each KEYWORD field's
    per-document value table (built from its postings on first use)."""

    def __init__(self, readers: Sequence[SegmentReader], schema: Schema) -> None:
        self._readers = list(readers)
        self._schema = schema
        self._tables: dict[str, _ValueTable] = {}
        self._building = threading.Lock()

    def count(self, specs: Sequence[Facet | RangeFacet], matches: Sequence[Matches]) -> dict[str, FacetResult]:
        """Each spec's :class:`FacetResult` over ``matches`` (every live match, per
        segment, in this counter's segment order)."""
        found: dict[str, FacetResult] = {}
        for spec in specs:
            definition = self._schema[spec.field]
            if isinstance(spec, RangeFacet):
                found[spec.key] = self._ranges(spec, definition, matches)
            elif definition.kind == "keyword":
                found[spec.key] = self._keywords(spec, matches)
            else:
                found[spec.key] = self._column_values(spec, definition, matches)
        return found

    def _table(self, field_name: str) -> _ValueTable:
        table = self._tables.get(field_name)
        if table is None:
            with self._building:
                table = self._tables.get(field_name)
                if table is None:
                    table = self._tables[field_name] = _ValueTable.build(self._readers, field_name)
        return table

    def _keywords(self, spec: Facet, matches: Sequence[Matches]) -> FacetResult:
        import numpy as np
        table = self._table(spec.field)
        counts = np.zeros(len(table.values), dtype=np.int64)  # signed: _top orders by -count
        missing = 0
        for segment, found in zip(table.segments, matches):
            if len(found.docs) == 0:
                continue
            counted, without = segment.count(np.asarray(found.docs, dtype="<u4").tobytes())
            counts += np.frombuffer(counted, dtype="<i8")  # uint64 counts, far below 2**63
            missing += without
        return _top(spec, counts, lambda index: table.values[index], missing)

    def _column_values(self, spec: Facet, definition: Field, matches: Sequence[Matches]) -> FacetResult:
        import numpy as np
        values, missing = self._matched_values(spec.field, matches)
        convert = _column_converter(definition)
        if values.dtype.kind in "iu" and len(values) and int(values.max()) - int(values.min()) <= 4 * len(values):
            # Integers within a narrow span (years, ratings, booleans): counted by
            # bincount, several times faster than sorting them.
            low = int(values.min())
            counts = np.bincount(values - low)
            return _top(spec, counts, lambda index: convert(low + index), missing)
        distinct, counts = np.unique(values, return_counts=True)  # ascending: ties stay in value order
        return _top(spec, counts, lambda index: convert(distinct[index]), missing)

    def _ranges(self, spec: RangeFacet, definition: Field, matches: Sequence[Matches]) -> FacetResult:
        import numpy as np
        values, missing = self._matched_values(spec.field, matches)
        counts: list[FacetCount] = []
        for facet_range in spec.ranges:
            inside = np.ones(len(values), dtype=bool)
            start = _bound(definition, spec.field, facet_range, facet_range.start)
            end = _bound(definition, spec.field, facet_range, facet_range.end)
            if start is not None:
                inside &= values >= _compared(values, start)
            if end is not None:
                inside &= values < _compared(values, end)
            counts.append(FacetCount(facet_range.name, int(np.count_nonzero(inside)), facet_range.start, facet_range.end))
        return FacetResult(spec.key, spec.field, counts, missing, 0)

    def _matched_values(self, field_name: str, matches: Sequence[Matches]) -> tuple[np.ndarray, int]:
        """The column's values at the matches that have one, and how many have none."""
        import numpy as np
        parts: list[np.ndarray] = []
        missing = 0
        for reader, found in zip(self._readers, matches):
            if len(found.docs) == 0:
                continue
            column = reader.column(field_name)
            if column is None:
                missing += len(found.docs)
                continue
            values, present = column
            has = present[found.docs]
            missing += int(len(has) - np.count_nonzero(has))
            parts.append(values[found.docs[has]])
        if not parts:
            dtype = np.float64 if self._schema[field_name].numeric_type == "float" else np.int64
            return np.zeros(0, dtype=dtype), missing
        return np.concatenate(parts), missing


def _compared(values: np.ndarray, bound: int | float) -> int | float:
    """A bound as a column of ``values``' type compares it: an int column's fractional
    bound rounded up (``v >= 2.5`` is ``v >= 3`` for integers; so is ``v < 2.5``), and
    held within int64 so that numpy compares it exactly."""
    if values.dtype.kind == "f":
        return bound
    whole = math.ceil(bound) if isinstance(bound, float) else bound
    return min(max(whole, INT64_RANGE[0]), INT64_RANGE[1])


def _column_converter(definition: Field) -> Any:
    """A column's stored number back as the value a user gave: bool, int, float, or a
    DATETIME's ISO 8601 text."""
    if definition.kind == "boolean":
        return lambda value: bool(value)
    if definition.kind == "datetime":
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return lambda value: (epoch + dt.timedelta(microseconds=int(value))).isoformat()
    if definition.numeric_type == "float":
        return lambda value: float(value)
    return lambda value: int(value)


def _top(spec: Facet, counts: np.ndarray, value_of: Any, missing: int) -> FacetResult:
    """The ``spec.limit`` largest of ``counts`` (indexes in value order), ties by value."""
    import numpy as np
    nonzero = np.flatnonzero(counts)
    if len(nonzero) > spec.limit:
        # The limit-th largest count bounds the listed ones; only those at least as
        # large are ordered (a field may have a million values).
        threshold = np.partition(counts[nonzero], len(nonzero) - spec.limit)[len(nonzero) - spec.limit]
        nonzero = nonzero[counts[nonzero] >= threshold]
    order = nonzero[np.lexsort((nonzero, -counts[nonzero]))][: spec.limit]
    listed = [FacetCount(value_of(int(index)), int(counts[index])) for index in order]
    other = int(counts.sum()) - sum(count.count for count in listed)
    return FacetResult(spec.key, spec.field, listed, missing, other)


@dataclass(frozen=True)
class _ValueTable:
    """A KEYWORD field's values over a searcher's segments: ``values``, every distinct
    value of every segment in ascending order, and per segment the core's table of each
    document's values as indexes into it (``_core.FacetValues``, built from the
    segment's postings), which counts a query's matches in one pass."""

    values: list[str]
    segments: list[Any]

    @classmethod
    def build(cls, readers: Sequence[SegmentReader], field_name: str) -> _ValueTable:
        import numpy as np
        per_segment: list[list[str]] = []
        for reader in readers:
            dictionary = reader.dictionary(field_name)
            per_segment.append(dictionary.terms() if dictionary is not None else [])
        # One sorted vocabulary: Python orders str by code point, as UTF-8 bytes order.
        values = per_segment[0] if len(per_segment) == 1 else sorted(set().union(*per_segment))
        index = {value: i for i, value in enumerate(values)}
        segments = []
        for reader, terms in zip(readers, per_segment):
            numbers = np.fromiter((index[term] for term in terms), dtype="<u4", count=len(terms))
            segments.append(_core.FacetValues(reader.core, field_name, numbers.tobytes(), len(values)))
        return cls(values, segments)
