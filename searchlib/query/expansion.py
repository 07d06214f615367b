"""How far a pattern query may expand (:class:`Expansion`).

Apart from the pattern nodes (:mod:`searchlib.query.patterns`) because every searcher and
parser holds an expansion, and a process that only searches for words should not load
the pattern machinery to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Most terms a pattern query expands to unless told otherwise.
DEFAULT_MAX_EXPANSIONS = 1024

#: What a pattern query does past its bound: fail, or keep the most frequent terms.
OnTooMany = Literal["error", "keep_frequent"]


@dataclass(frozen=True)
class Expansion:
    """How far a pattern query may expand: at most ``limit`` terms; past it, fail
    (``"error"``) or keep the ``limit`` most frequent terms (``"keep_frequent"``)."""

    limit: int = DEFAULT_MAX_EXPANSIONS
    on_too_many: OnTooMany = "error"

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"an expansion limit must be a whole number of terms, at least 1; got {self.limit!r}")
        if self.on_too_many not in ("error", "keep_frequent"):
            raise ValueError(f"on_too_many must be 'error' or 'keep_frequent', got {self.on_too_many!r}")
