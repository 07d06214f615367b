"""Bounds on the work one query may ask for.

A search box receives whatever is pasted into it: 100 KB of text, thousands of
operators, parentheses nested thousands deep, a pattern that matches half the
vocabulary. Each cap here bounds one kind of work, so that no query string, however
long or strange, makes a search run for seconds. Past a cap, a strict parse raises
:class:`~searchlib.errors.QueryError` naming the cap and its value; a lenient one
(``strict=False``) cuts the query to fit and says so in ``Results.warnings``.

The defaults follow Lucene where it has one (1,024 clauses, 1,024 terms a pattern) and
are measured elsewhere: with them, no query over a test collection of a few thousand
documents takes more than about 100 ms.
"""

from __future__ import annotations

from searchlib._records import FrozenRecord

#: Deepest nesting the grammar can take without nearing Python's recursion limit.
HARD_MAX_DEPTH = 100
#: Most untimed entries a walk may read (the core counts them in 32 bits).
MAX_UNTIMED_VISITS = 2**32 - 1


class QueryLimits(FrozenRecord):
    """The caps on one query (see the module docstring).

    Attributes
    ----------
    max_length:
        Characters of query text read; a lenient parse reads the first ones.
    max_clauses:
        Leaf clauses (terms, phrases, patterns, ranges) the parsed query may hold,
        counting each field a word is searched in apart, as Lucene's max clause count
        does; a lenient parse keeps the first ones.
    max_depth:
        Parentheses nested in parentheses; a lenient parse reads deeper ones as plain
        grouping of their enclosing group (they add nothing but nesting).
    max_expansions:
        Terms all the patterns (prefix, wildcard, fuzzy, regex) of one query expand to
        together; each pattern alone is bounded by its :class:`~searchlib.query.Expansion`.
        A lenient search keeps the most frequent terms of the patterns it reaches first.
    max_patterns:
        Distinct wildcard, fuzzy and regex patterns one query expands, a pattern over
        two fields counting two: each reads its field's whole term dictionary, the
        costly part of a pattern (a prefix reads only its range, and is not counted).
    suggest_words:
        Unknown query words "did you mean" looks for corrections of; the others are
        left as typed.
    suggest_candidates:
        Candidate words within reach of one query word that "did you mean" ranks.
    untimed_visits:
        Dictionary entries a pattern's or a spelling correction's walk reads in each
        segment before its time bound (``PATTERN_MATCH_SECONDS``, ``SUGGEST_SECONDS``)
        may stop it. A dictionary this small is read whole on any machine, so a small
        index answers alike on a fast machine and a loaded one, whose stalls (page
        faults, the kernel compacting memory) are charged to the searching thread's
        clock; the time bounds cut only walks through large dictionaries, after this
        many entries each (about half a millisecond's reading). 0 leaves the walks to
        the clock alone.
    """

    __slots__ = ("max_length", "max_clauses", "max_depth", "max_expansions", "max_patterns", "suggest_words",
                 "suggest_candidates", "untimed_visits")
    max_length: int
    max_clauses: int
    max_depth: int
    max_expansions: int
    max_patterns: int
    suggest_words: int
    suggest_candidates: int
    untimed_visits: int

    #: The least and most each cap may be, where not 1 and unbounded.
    _BOUNDS = {"max_depth": (1, HARD_MAX_DEPTH), "untimed_visits": (0, MAX_UNTIMED_VISITS)}

    def __init__(
        self,
        max_length: int = 10_000,
        max_clauses: int = 1024,
        max_depth: int = 50,
        max_expansions: int = 2048,
        max_patterns: int = 8,
        suggest_words: int = 20,
        suggest_candidates: int = 200,
        untimed_visits: int = 16_384,
    ) -> None:
        super().__init__(
            max_length=max_length, max_clauses=max_clauses, max_depth=max_depth, max_expansions=max_expansions,
            max_patterns=max_patterns, suggest_words=suggest_words, suggest_candidates=suggest_candidates,
            untimed_visits=untimed_visits,
        )
        for name in self.__slots__:
            value = getattr(self, name)
            least, most = self._BOUNDS.get(name, (1, None))
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"QueryLimits.{name} must be a whole number, at least {least}; got {value!r}")
            if most is not None and value > most:
                raise ValueError(f"QueryLimits.{name} must be at most {most:,}; got {value!r}")


#: The limits a parser or searcher uses unless given others.
DEFAULT_LIMITS = QueryLimits()

__all__ = ["DEFAULT_LIMITS", "HARD_MAX_DEPTH", "QueryLimits"]
