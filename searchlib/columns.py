"""Typed columns: NUMERIC, DATETIME and BOOLEAN values, one array per field per segment.

A column holds one value per document (and a flag for documents without one) in a
numpy array, so sorting by a field and range filters read it directly rather than
parsing stored JSON. Values are checked when a document is added:

- NUMERIC ``int``: Python ints (not bools) in the int64 range; ``float``: ints or
  finite floats.
- DATETIME: ``datetime.datetime``, ``datetime.date`` or an ISO 8601 string; kept as
  microseconds since the Unix epoch in UTC (a value without a time zone is taken as
  UTC) and stored as its ISO 8601 text.
- BOOLEAN: ``True`` or ``False``.

>>> column_value("datetime", None, "2025-05-11")
(1746921600000000, '2025-05-11T00:00:00+00:00')
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy and datetime load only when a function needs them, not on import
    from typing import Any

    import datetime as dt

    import numpy as np

from searchlib.errors import SchemaError

#: The values a NUMERIC int column holds (int64), as Python ints.
INT64_RANGE = (-(2**63), 2**63 - 1)


def column_dtype(kind: str, numeric_type: str | None) -> np.dtype[Any]:
    """The array type of a column: int64, float64 or uint8 (booleans)."""
    import numpy as np
    if kind == "numeric":
        return np.dtype("<f8") if numeric_type == "float" else np.dtype("<i8")
    if kind == "datetime":
        return np.dtype("<i8")
    return np.dtype("u1")


def column_value(kind: str, numeric_type: str | None, value: Any, name: str = "?") -> tuple[int | float, Any]:
    """Check ``value`` for a column field; return (its number in the column, what is stored)."""
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"field {name!r} is NUMERIC ({numeric_type}) and takes a number, got {value!r}")
        if numeric_type == "int":
            if not isinstance(value, int):
                raise SchemaError(f"field {name!r} is NUMERIC (int) and takes an int, got {value!r}")
            if not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
                raise SchemaError(f"field {name!r}: {value} is outside the 64-bit integer range")
            return value, value
        import math  # only for a float column's values

        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise SchemaError(f"field {name!r} is NUMERIC (float) and takes a finite number, got {value!r}")
        return number, value
    if kind == "datetime":
        import datetime as dt  # only for a date: a search imports this module (with the schema)

        moment = _as_datetime(value, name)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        micros = (moment - epoch) // dt.timedelta(microseconds=1)
        return micros, moment.isoformat()
    if not isinstance(value, bool):
        raise SchemaError(f"field {name!r} is BOOLEAN and takes True or False, got {value!r}")
    return int(value), value


def _as_datetime(value: Any, name: str) -> dt.datetime:
    import datetime as dt

    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise SchemaError(
                f"field {name!r} is DATETIME and {value!r} is not an ISO 8601 date or time "
                "(e.g. 2025-05-11 or 2025-05-11T14:30:00+02:00)"
            ) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise SchemaError(f"field {name!r} is DATETIME and takes a datetime, date or ISO string, got {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
