"""The part of Whoosh's API that applications use, on searchlib's engine.

Code written for Whoosh runs after its imports change: ``from whoosh.index import
create_in`` becomes ``from searchlib.compat.whoosh.index import create_in``, and so on
for ``fields``, ``analysis``, ``qparser``, ``query``, ``writing`` and ``searching``.
The index is searchlib's own (never pickled, not Whoosh's file format); queries follow
searchlib's (Lucene's) semantics where Whoosh deviates. What this layer does not
support raises :class:`Unsupported`, naming it.
"""

from __future__ import annotations


class Unsupported(NotImplementedError):
    """A part of Whoosh's API this compatibility layer does not provide; the message names it."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not supported by searchlib.compat.whoosh")


def refuse_unknown(call: str, options: dict[str, object], ignored: tuple[str, ...] = ()) -> None:
    """Raise :class:`Unsupported` naming the first keyword ``call`` does not take.

    ``ignored`` are Whoosh's tuning options (memory, processes) that have no meaning here
    and are accepted silently."""
    for name in options:
        if name not in ignored:
            raise Unsupported(f"{call}({name}=...)")


class Refusing:
    """A base whose missing attributes are named as unsupported (an ``AttributeError``
    still, so ``hasattr`` keeps working) rather than merely missing."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"{type(self).__name__}.{name} is not supported by searchlib.compat.whoosh")
