"""Whoosh's query objects, each compiling to a searchlib query tree.

Terms are given as indexed (already analyzed), as in Whoosh. Where the semantics
differ, searchlib's (Lucene's) hold: a phrase's ``slop=1`` (Whoosh: words side by
side) is searchlib's slop 0; a fuzzy term counts a swap of neighbours as one edit;
a prefix or wildcard matches as a set, every matching document scoring the same.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from searchlib import query as sl
from searchlib.compat.whoosh import Refusing, Unsupported


class Query(Refusing):
    """A Whoosh query: :meth:`to_searchlib` is the tree searchlib runs."""

    boost = 1.0

    def docs(self, searcher: Any) -> Iterator[int]:
        """The numbers of the documents matching, in order (``searcher`` a compat searcher)."""
        return iter(sorted(searcher.search(self, limit=None).docs()))

    def to_searchlib(self) -> sl.Query:
        raise NotImplementedError

    def __and__(self, other: Query) -> And:
        return And([self, other])

    def __or__(self, other: Query) -> Or:
        return Or([self, other])

    def __sub__(self, other: Query) -> And:
        return And([self, Not(other)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and type(self) is type(other) and self.to_searchlib() == other.to_searchlib()

    def __hash__(self) -> int:
        return hash(repr(self.to_searchlib()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_searchlib()!r})"

    def normalize(self) -> Query:
        return self

    def simplify(self, ixreader: Any = None) -> Query:
        return self

    def is_leaf(self) -> bool:
        return True

    def all_terms(self, phrases: bool = True) -> set[tuple[str, str]]:
        """The (field, term) pairs the query names."""
        return set(self.to_searchlib().terms())


class Parsed(Query):
    """A query tree as searchlib built it (what ``QueryParser.parse`` returns)."""

    def __init__(self, tree: sl.Query) -> None:
        self.tree = tree

    def to_searchlib(self) -> sl.Query:
        return self.tree


class Term(Query):
    def __init__(self, fieldname: str, text: Any, boost: float = 1.0, minquality: Any = None) -> None:
        self.fieldname, self.text, self.boost = fieldname, text, boost

    def to_searchlib(self) -> sl.Query:
        if isinstance(self.text, bool | int | float | datetime.datetime):
            return sl.Range(self.fieldname, self.text, self.text, boost=self.boost)
        return sl.Term(self.fieldname, str(self.text), self.boost)


class _Compound(Query):
    def __init__(self, subqueries: Iterable[Query], boost: float = 1.0, **options: Any) -> None:
        if options:
            raise Unsupported(f"{type(self).__name__}({next(iter(options))}=...)")
        self.subqueries = list(subqueries)
        self.boost = boost

    def is_leaf(self) -> bool:
        return False

    def __getitem__(self, n: int) -> Query:
        return self.subqueries[n]

    def __len__(self) -> int:
        return len(self.subqueries)

    def __iter__(self) -> Iterator[Query]:
        return iter(self.subqueries)

    def children(self) -> Iterator[Query]:
        return iter(self.subqueries)

    def _boosted(self, tree: sl.Query) -> sl.Query:
        return tree if self.boost == 1.0 else sl.Boost(tree, self.boost)


class And(_Compound):
    def to_searchlib(self) -> sl.Query:
        return self._boosted(sl.And([q.to_searchlib() for q in self.subqueries]))


class Or(_Compound):
    def __init__(self, subqueries: Iterable[Query], boost: float = 1.0, minmatch: int = 0, scale: Any = None) -> None:
        super().__init__(subqueries, boost)
        self.minmatch = minmatch

    def to_searchlib(self) -> sl.Query:
        return self._boosted(sl.Or([q.to_searchlib() for q in self.subqueries], min_match=max(1, self.minmatch)))


class DisjunctionMax(Or):
    def __init__(self, subqueries: Iterable[Query], boost: float = 1.0, tiebreak: float = 0.0) -> None:
        raise Unsupported("DisjunctionMax")


class Not(Query):
    def __init__(self, query: Query, boost: float = 1.0) -> None:
        self.query = query

    def is_leaf(self) -> bool:
        return False

    def to_searchlib(self) -> sl.Query:
        # Alone, Whoosh's Not matches every other document.
        return sl.And([sl.MatchAll(), sl.Not(self.query.to_searchlib())])


class AndNot(Query):
    def __init__(self, positive: Query, negative: Query) -> None:
        self.positive, self.negative = positive, negative

    def to_searchlib(self) -> sl.Query:
        return sl.And([self.positive.to_searchlib(), sl.Not(self.negative.to_searchlib())])


class AndMaybe(Query):
    def __init__(self, required: Query, optional: Query) -> None:
        self.required, self.optional = required, optional

    def to_searchlib(self) -> sl.Query:
        return sl.Bool(must=(self.required.to_searchlib(),), should=(self.optional.to_searchlib(),))


class Require(AndMaybe):
    def to_searchlib(self) -> sl.Query:
        return sl.Bool(must=(self.required.to_searchlib(),), filter=(self.optional.to_searchlib(),))


class Phrase(Query):
    def __init__(self, fieldname: str, words: Iterable[str], slop: int = 1, boost: float = 1.0,
                 char_ranges: Any = None, positions: tuple[int, ...] = ()) -> None:
        self.fieldname, self.words, self.slop, self.boost = fieldname, list(words), slop, boost
        #: Where each word stands (a stop word removed leaves a gap), as the parser found.
        self.positions = positions

    def to_searchlib(self) -> sl.Query:
        if len(self.words) == 1:
            return sl.Term(self.fieldname, self.words[0], self.boost)
        positions = self.positions if len(self.positions) == len(self.words) else ()
        return sl.Phrase(self.fieldname, tuple(self.words), slop=max(0, self.slop - 1), positions=positions,
                         boost=self.boost)


class Prefix(Query):
    def __init__(self, fieldname: str, text: str, boost: float = 1.0, constantscore: bool = True) -> None:
        self.fieldname, self.text, self.boost = fieldname, text, boost

    def to_searchlib(self) -> sl.Query:
        return sl.Prefix(self.fieldname, self.text, self.boost)


class Wildcard(Query):
    def __init__(self, fieldname: str, text: str, boost: float = 1.0, constantscore: bool = True) -> None:
        self.fieldname, self.text, self.boost = fieldname, text, boost

    def to_searchlib(self) -> sl.Query:
        return sl.Wildcard(self.fieldname, self.text, self.boost)


class Regex(Wildcard):
    def to_searchlib(self) -> sl.Query:
        return sl.Regex(self.fieldname, self.text, self.boost)


class FuzzyTerm(Query):
    def __init__(self, fieldname: str, text: str, boost: float = 1.0, maxdist: int = 1,
                 prefixlength: int = 1, constantscore: bool = True) -> None:
        self.fieldname, self.text, self.boost = fieldname, text, boost
        self.maxdist, self.prefixlength = maxdist, prefixlength

    def to_searchlib(self) -> sl.Query:
        return sl.Fuzzy(self.fieldname, self.text, max_edits=self.maxdist, prefix_length=self.prefixlength,
                        boost=self.boost)


class NumericRange(Query):
    def __init__(self, fieldname: str, start: Any, end: Any, startexcl: bool = False, endexcl: bool = False,
                 boost: float = 1.0, constantscore: bool = True) -> None:
        self.fieldname, self.start, self.end, self.boost = fieldname, start, end, boost
        self.startexcl, self.endexcl = startexcl, endexcl

    def to_searchlib(self) -> sl.Query:
        return sl.Range(self.fieldname, self.start, self.end, include_low=not self.startexcl,
                        include_high=not self.endexcl, boost=self.boost)


class DateRange(NumericRange):
    pass


class TermRange(NumericRange):
    pass


class Every(Query):
    def __init__(self, fieldname: str | None = None, boost: float = 1.0) -> None:
        if fieldname not in (None, "*"):
            raise Unsupported("Every(fieldname): every document holding a field")
        self.boost = boost

    def to_searchlib(self) -> sl.Query:
        return sl.MatchAll(self.boost) if self.boost != 1.0 else sl.MatchAll()


class NullQuery(Query):
    def to_searchlib(self) -> sl.Query:
        return sl.MatchNone()


def from_searchlib(tree: sl.Query) -> Query:
    """The Whoosh query for a searchlib tree (what the parser made), node by node where
    Whoosh has the node, else the tree as it is (:class:`Parsed`)."""
    kind = type(tree).__name__
    if kind == "Boost":
        inner = from_searchlib(tree.query)  # type: ignore[attr-defined]
        if type(inner) is not Parsed:
            inner.boost = inner.boost * tree.factor  # type: ignore[attr-defined]
            return inner
    elif kind == "Term":
        return Term(tree.field, tree.text, tree.boost)  # type: ignore[attr-defined]
    elif kind in ("And", "Or"):
        clauses = [from_searchlib(clause) for clause in tree.clauses]  # type: ignore[attr-defined]
        if kind == "And":
            return And(clauses)
        return Or(clauses, minmatch=tree.min_match if tree.min_match > 1 else 0)  # type: ignore[attr-defined]
    elif kind == "Not":
        return _Excluded(from_searchlib(tree.clause))  # type: ignore[attr-defined]
    elif kind == "Phrase":
        return Phrase(tree.field, tree.phrase_terms, slop=tree.slop + 1, boost=tree.boost,  # type: ignore[attr-defined]
                      positions=tree.positions)  # type: ignore[attr-defined]
    elif kind == "Prefix":
        return Prefix(tree.field, tree.prefix, tree.boost)  # type: ignore[attr-defined]
    elif kind == "Wildcard":
        return Wildcard(tree.field, tree.pattern, tree.boost)  # type: ignore[attr-defined]
    elif kind == "Regex":
        return Regex(tree.field, tree.pattern, tree.boost)  # type: ignore[attr-defined]
    elif kind == "Fuzzy":
        return FuzzyTerm(tree.field, tree.text, tree.boost, maxdist=tree.max_edits,  # type: ignore[attr-defined]
                         prefixlength=tree.prefix_length)  # type: ignore[attr-defined]
    elif kind == "Range":
        low, high = tree.low, tree.high  # type: ignore[attr-defined]
        made = DateRange if isinstance(low or high, datetime.datetime) else NumericRange
        return made(tree.field, low, high, startexcl=not tree.include_low,  # type: ignore[attr-defined]
                    endexcl=not tree.include_high, boost=tree.boost)  # type: ignore[attr-defined]
    elif kind == "MatchAll":
        return Every(boost=tree.boost)  # type: ignore[attr-defined]
    elif kind == "MatchNone":
        return NullQuery()
    return Parsed(tree)


class _Excluded(Not):
    """A ``NOT`` clause as the parser made it: inside ``And``, it excludes."""

    def to_searchlib(self) -> sl.Query:
        return sl.Not(self.query.to_searchlib())


def as_searchlib(query: Query | sl.Query) -> sl.Query:
    """A Whoosh query's tree, or a searchlib tree as it is."""
    return query.to_searchlib() if isinstance(query, Query) else query
