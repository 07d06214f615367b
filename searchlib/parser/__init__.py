r"""Query parsing: from the text a user typed to a query tree.

The syntax is Lucene's (and Whoosh's), read by a hand-written tokenizer
(:mod:`~searchlib.parser.lexer`) and a recursive-descent parser
(:mod:`~searchlib.parser.grammar`) that build nodes (:mod:`~searchlib.parser.nodes`),
so that every error can say where it is, and a search box can read broken input as
plain words instead of failing.

Syntax
------
=========================  ================================================================
``direct talks``           words over the default fields, joined by the default operator
``title:talks``            a word in one field; ``title:(direct talks)`` a group in one field
``a AND b``, ``a && b``    both (:class:`~searchlib.query.And`)
``a OR b``, ``a || b``     either (:class:`~searchlib.query.Or`)
``NOT a``, ``!a``          everything but ``a`` (:class:`~searchlib.query.Not`)
``+a b -c``                ``a`` required, ``b`` optional, ``c`` excluded
                           (:class:`~searchlib.query.Bool`)
``(a OR b) AND c``         grouping
``"direct talks"``         a phrase; ``"direct talks"~2`` allows two moves (slop)
``talk*``                  a prefix (:class:`~searchlib.query.Prefix`)
``t?lk*``, ``*alks``       a wildcard: ``?`` one character, ``*`` any run
``talks~``, ``talks~1``    terms within 2 (or 1) edits (:class:`~searchlib.query.Fuzzy`)
``/ta[lk]+s/``             terms the regular expression matches entirely
``year:[1990 TO 2000]``    a range: ``[ ]`` include a bound, ``{ }`` exclude it, ``*``
                           leaves it open: ``year:{1990 TO *]``
``talks^2``                a boost, on words, phrases, patterns, groups and ranges
``\:``                     a backslash makes the next character a plain one
``*``, ``*:*``             every document; ``title:*`` every document with a title
=========================  ================================================================

``NOT`` binds tighter than ``AND``, and ``AND`` tighter than ``OR``. Clauses written side
by side bind loosest and are joined by the default operator: with OR, ``a b AND c`` is
``a OR (b AND c)``. ``+`` and ``-`` (written right before a clause) mark clauses side by
side as required or excluded; inside ``AND``/``OR``, ``-`` is ``NOT`` and ``+`` changes
nothing. Operators are upper case (``and`` is a word). ``-`` and ``+`` inside a word are
part of it (``re-entry``), as are ``/``, ``!``, ``&`` and ``|``. ``~n`` and ``^n`` are
written right after their clause, in either order (``talks~1^2``). A value holding a
colon is quoted or escaped (``when:"2024-05-01T10:00"``); range bounds need not be.

How clauses become nodes
------------------------
A word is analyzed with each default field's query analyzer. Default fields sharing an
analyzer are searched together: each term becomes one
:class:`~searchlib.query.CombinedTerm` over them (BM25F), a field's weight times its
schema boost weighting it; a field with an analyzer of its own gets a
:class:`~searchlib.query.Term`. A stop word vanishes, so a query of only stop words
matches nothing. KEYWORD and ID fields take the text exactly; NUMERIC, DATETIME and
BOOLEAN fields a typed value (``year:1999`` is the range ``[1999 TO 1999]``). Patterns
are case- and accent-folded, never stemmed: ``universit*`` must not become
``univers*``. Nodes are built one canonical way (nested And/Or flattened, no wrapper
around a single clause), so a tree built in Python compares equal to the parsed one:

>>> from searchlib.query import And, CombinedTerm, Not, Or, Phrase, Prefix, Range, Term
>>> from searchlib.schema import KEYWORD, NUMERIC, Schema, TEXT
>>> parser = QueryParser(Schema(body=TEXT()))
>>> parser.parse("Direct talks") == Or([Term("body", "direct"), Term("body", "talk")])
True
>>> parser.parse('"direct talks"~1')
Phrase(field='body', phrase_terms=('direct', 'talk'), slop=1, positions=(0, 1), boost=1.0)
>>> parser.parse("talk* AND NOT body:peace^2") == And([Prefix("body", "talk"), Not(Term("body", "peac", 2.0))])
True
>>> schema = Schema(title=TEXT(boost=2.0), body=TEXT(), tag=KEYWORD(), year=NUMERIC("int"))
>>> QueryParser(schema).parse("talks")
CombinedTerm(fields=('title', 'body'), text='talk', weights=(2.0, 1.0), boost=1.0)
>>> QueryParser(schema, {"title": 1.5}).parse("tag:Peace year:[1990 TO *}") == Or([
...     Term("tag", "Peace"), Range("year", 1990, None, include_high=False)])
True

Errors
------
``parse(text)`` raises :class:`~searchlib.errors.QueryError` with the character offset
of the problem; ``parse(text, strict=False)`` never raises: what it cannot read as
syntax it reads as plain words, as a search box should.

>>> parser.parse('body:(direct talks')
Traceback (most recent call last):
...
searchlib.errors.QueryError: unbalanced parenthesis: this one is never closed
>>> try:
...     parser.parse('body:(direct talks')
... except QueryError as error:
...     print(error.caret())
body:(direct talks
     ^ unbalanced parenthesis: this one is never closed
>>> parser.parse('body:(direct talks', strict=False) == parser.parse("direct talks")
True

Text that is plain words whatever it holds (say, the questions of a test collection,
such as ``what -dash is it?``) goes through :func:`escape` first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from searchlib.errors import QueryError
from searchlib.parser.grammar import MAX_DEPTH, Grammar
from searchlib.parser.lexer import Lexer, SyntaxProblem, escape
from searchlib.parser.nodes import NodeBuilder, Target
from searchlib.query import Expansion, Or, Query
from searchlib.schema import FieldAnalyzers, Schema

#: Repairs a lenient parse tries (each reads one problem character as a plain one)
#: before it reads the whole text as plain words.
MAX_REPAIRS = 50


class QueryParser:
    """Turns query strings into query trees.

    Parameters
    ----------
    schema:
        The index's schema.
    fields:
        The default fields: every text field (None), a list of names, or a mapping of
        name to weight (multiplying the field's schema boost).
    analyzers:
        The fields' analyzers (shared with a searcher, so its caches serve both).
    default_operator:
        How clauses written side by side combine: ``"OR"`` or ``"AND"``.
    expansion:
        The bound put on every prefix, wildcard, fuzzy and regex node.
    """

    def __init__(
        self,
        schema: Schema,
        fields: Sequence[str] | Mapping[str, float] | None = None,
        analyzers: FieldAnalyzers | None = None,
        *,
        default_operator: str = "OR",
        expansion: Expansion | None = None,
    ) -> None:
        operator = default_operator.upper() if isinstance(default_operator, str) else default_operator
        if operator not in ("AND", "OR"):
            raise ValueError(f"default_operator must be 'AND' or 'OR', got {default_operator!r}")
        self.schema = schema
        self.default_operator: Literal["AND", "OR"] = operator  # type: ignore[assignment]
        self.expansion = expansion
        #: The default fields and their weights.
        self.weights = _default_weights(schema, fields)
        #: The default fields' names, in order.
        self.fields = list(self.weights)
        analyzers = analyzers if analyzers is not None else FieldAnalyzers(schema)
        self._builder = NodeBuilder(schema, analyzers, expansion)
        self._defaults = Target(self._builder.groups(self.weights))

    def parse(self, text: str, *, strict: bool = True) -> Query:
        """The query tree of ``text``.

        Strict (the default), a syntax error raises :class:`QueryError` whose
        ``position`` is where the problem is. Lenient (``strict=False``, for search
        boxes), nothing raises: what cannot be read as syntax is read as plain words.
        """
        if not isinstance(text, str):
            raise QueryError(f"a query must be a string, got {type(text).__name__}")
        if strict:
            try:
                return self._parse(text, frozenset())
            except SyntaxProblem as problem:
                raise QueryError(problem.message, query=text, position=problem.position) from None
        literal: set[int] = set()
        for _ in range(MAX_REPAIRS):
            try:
                return self._parse(text, frozenset(literal))
            except SyntaxProblem as problem:
                if problem.literal in literal:
                    break
                literal.add(problem.literal)
            except QueryError:
                break
        try:
            return self._parse(escape(text), frozenset())
        except QueryError:
            return Or(())

    def _parse(self, text: str, literal: frozenset[int]) -> Query:
        tokens = Lexer(text, literal).tokens()
        query = Grammar(self._builder, self._defaults, self.default_operator == "AND", tokens).query()
        return Or(()) if query is None else query


def _default_weights(schema: Schema, fields: Sequence[str] | Mapping[str, float] | None) -> dict[str, float]:
    """The default fields and their weights, checked: each must exist and be indexed."""
    if fields is None:
        weights = {name: 1.0 for name in schema.text_fields()}
    elif isinstance(fields, Mapping):
        weights = {name: float(weight) for name, weight in fields.items()}
    else:
        weights = {name: 1.0 for name in ([fields] if isinstance(fields, str) else fields)}
    for name, weight in weights.items():
        if name not in schema:
            known = ", ".join(schema.fields) or "none"
            raise QueryError(f"unknown default field {name!r}; the schema has: {known}")
        if not schema[name].is_indexed:
            raise QueryError(f"field {name!r} is not indexed and cannot be searched")
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"the weight of field {name!r} must be a positive number, got {weight}")
    return weights


__all__ = ["MAX_DEPTH", "MAX_REPAIRS", "QueryParser", "escape"]
