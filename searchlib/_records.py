"""Records: plain classes shown, compared and hashed by their fields, as dataclasses are,
without importing :mod:`dataclasses`.

:mod:`dataclasses` imports :mod:`inspect`, and with it ast, dis and tokenize: about 10 ms
of the start-up of every process that imports it, several times what opening an index
and running one query take. So the classes a search loads (a schema's fields, the
scoring settings, a segment's manifest entry, the query limits, tokens, highlighted
fragments) are records; the classes only writing, checking or serving load stay
dataclasses.

:mod:`typing` is kept off that path for the same reason (about 5 ms; it loads re, enum,
functools and contextlib): a module that searches imports its type names under
``TYPE_CHECKING = False`` / ``if TYPE_CHECKING:`` (type checkers take the flag as true), and
a class a search builds is a record or a plain class rather than a ``NamedTuple`` or
``Protocol``.

A record names its fields in ``__slots__``, in the order its ``__init__`` takes them (a
subclass adds no fields), and sets them in its ``__init__``; a frozen one through
``super().__init__``, since assigning to its fields raises as assigning to a frozen
dataclass's does::

    class Point(FrozenRecord):
        __slots__ = ("x", "y")
        x: int
        y: int

        def __init__(self, x: int, y: int = 0) -> None:
            super().__init__(x=x, y=y)

``repr(Point(1))`` is ``Point(x=1, y=0)``, two points are equal when their fields are (and
their classes the same), and a frozen record hashes by its fields.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:
    from typing import Any


class Record:
    """A mutable record: shown and compared by its fields, unhashable (as a dataclass
    with ``eq`` and without ``frozen``)."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    # Defining __eq__ without __hash__ leaves the class unhashable: its fields may change.


class FrozenRecord(Record):
    """A record whose fields are set once, in ``__init__``: hashable by its fields."""

    __slots__ = ()

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[FrozenRecord], tuple[Any, ...]]:
        # Pickled and copied through __init__: the default would assign the fields.
        return type(self), self._values()
