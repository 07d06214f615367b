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
:class:`~searchlib.query.Term`. The terms of a word the analyzer splits (``covid-19``,
``e-mail~1``) are joined by the default operator, as separate words would be (with AND,
each is required in some field of a group), while the groups of fields stay
alternatives. A stop word vanishes, so a query of only stop words matches nothing, and
so does one whose other clauses only exclude (``the -war``, ``the AND NOT war``):
exclusions alone match everything else only when nothing else was written (``-war``).
KEYWORD and ID fields take the text exactly; NUMERIC, DATETIME and BOOLEAN fields a
typed value (``year:1999`` is the range ``[1999 TO 1999]``). Patterns are case- and
accent-folded, never stemmed: ``universit*`` must not become ``univers*``. Nodes are
built one canonical way (nested And/Or flattened, no wrapper around a single clause), so
a tree built in Python compares equal to the parsed one:

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
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from searchlib.errors import QueryError
from searchlib.limits import DEFAULT_LIMITS, QueryLimits
from searchlib.parser.grammar import MAX_DEPTH, Grammar
from searchlib.parser.lexer import OPERATOR_WORDS, Lexer, QueryToken, SyntaxProblem, escape
from searchlib.parser.nodes import NodeBuilder, Target, all_of, any_of
from searchlib.query import CombinedTerm, Expansion, Or, Query, Term, leaf_count
from searchlib.schema import FieldAnalyzers, Schema

#: Repairs a lenient parse tries (each reads one problem character as a plain one)
#: before it reads the whole text as plain words.
MAX_REPAIRS = 50
#: Characters all of a lenient parse's repairs may read again, together: each repair
#: reads the whole query anew, so a long query gets fewer of them (a 160-character one
#: all 50, a 10,000-character one 1) and a query's parsing costs time in proportion to
#: its length, not to its length times its number of problems.
REPAIR_BUDGET = 8_000
#: Words whose parsed value over the default fields a parser remembers.
PLAIN_WORD_MEMO_SIZE = 50_000
#: Whole query texts without syntax whose tree a parser remembers (trees are immutable,
#: so a repeated query shares its tree).
PLAIN_QUERY_MEMO_SIZE = 10_000


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
    limits:
        The caps on one query's length, clauses and nesting
        (:class:`~searchlib.limits.QueryLimits`; defaults: 10,000 characters, 1,024
        clauses, 50 levels).
    """

    def __init__(
        self,
        schema: Schema,
        fields: Sequence[str] | Mapping[str, float] | None = None,
        analyzers: FieldAnalyzers | None = None,
        *,
        default_operator: str = "OR",
        expansion: Expansion | None = None,
        limits: QueryLimits | None = None,
    ) -> None:
        operator = default_operator.upper() if isinstance(default_operator, str) else default_operator
        if operator not in ("AND", "OR"):
            raise ValueError(f"default_operator must be 'AND' or 'OR', got {default_operator!r}")
        self.schema = schema
        self._default_operator: Literal["AND", "OR"] = operator  # type: ignore[assignment]
        self.expansion = expansion
        self.limits = DEFAULT_LIMITS if limits is None else limits
        #: The default fields and their weights.
        self.weights = _default_weights(schema, fields)
        #: The default fields' names, in order.
        self.fields = list(self.weights)
        analyzers = analyzers if analyzers is not None else FieldAnalyzers(schema)
        self._builder = NodeBuilder(schema, analyzers, expansion, is_and=operator == "AND")
        self._defaults = Target(self._builder.groups(self.weights))
        # Plain text takes the fast path only when every default field is a text field:
        # typed fields give errors with positions, which the grammar reports.
        self._plain_text_defaults = all(group.kind == "text" for group in self._defaults.groups)
        self._plain_values: dict[str, tuple[Query | None, int]] = {}
        #: Recent whole query texts that took the plain path, with their trees.
        self._plain_queries: dict[str, Query] = {}

    @property
    def default_operator(self) -> Literal["AND", "OR"]:
        """How clauses written side by side combine, and the terms of a word the
        analyzer splits. Fixed for a parser: remembered words' values depend on it."""
        return self._default_operator

    def parse(self, text: str, *, strict: bool = True, warnings: list[str] | None = None) -> Query:
        """The query tree of ``text``.

        Strict (the default), a syntax error raises :class:`QueryError` whose
        ``position`` is where the problem is, and so does a query past one of the
        parser's :attr:`limits`. Lenient (``strict=False``, for search boxes), nothing
        raises: what cannot be read as syntax is read as plain words, and a query past
        a limit is cut to fit, with a sentence saying so appended to ``warnings`` (when
        given).
        """
        if not isinstance(text, str):
            raise QueryError(f"a query must be a string, got {type(text).__name__}")
        notes: list[str] = []
        query = self._parse_within_limits(text, strict, notes)
        if warnings is not None:
            warnings.extend(notes)
        return query

    def _parse_within_limits(self, text: str, strict: bool, notes: list[str]) -> Query:
        known = self._plain_queries.get(text)
        if known is not None:  # the same text again (a search box's next page, say)
            return known
        max_length = self.limits.max_length
        if len(text) > max_length:
            if strict:
                raise QueryError(
                    f"the query is {len(text):,} characters long, more than the limit of {max_length:,} "
                    "(QueryLimits.max_length)", position=max_length,
                )
            notes.append(f"the query was cut to its first {max_length:,} characters of {len(text):,}")
            text = text[:max_length]
        if self._plain_text_defaults:
            depth = min(_PLAIN_MAX_DEPTH, self.limits.max_depth)  # deeper: the grammar says what to do
            words = plain_words(text, allow_groups=self.default_operator == "OR", max_depth=depth)
            if words is not None:
                cut = len(notes)
                query = self._parse_plain(words, strict, notes)
                if len(notes) == cut and len(text) <= max_length:  # whole, in either mode
                    if len(self._plain_queries) >= PLAIN_QUERY_MEMO_SIZE:
                        self._plain_queries.clear()
                    self._plain_queries[text] = query
                return query
        if strict:
            try:
                return self._parse(text, frozenset(), strict=True, notes=notes)
            except SyntaxProblem as problem:
                raise QueryError(problem.message, query=text, position=problem.position) from None
        literal = unmatched_parentheses(text)
        for _ in range(min(MAX_REPAIRS, max(1, REPAIR_BUDGET // max(1, len(text))))):
            try:
                return self._parse(text, frozenset(literal), strict=False, notes=notes)
            except SyntaxProblem as problem:
                if problem.literal in literal:
                    break
                literal.add(problem.literal)
            except QueryError:
                break
        # The whole text as plain words: what parse(escape(text)) reads (each run of
        # non-space characters one word, whatever it holds), built without escaping
        # and reading the text once more character by character.
        try:
            return self._parse_plain(list(_CHUNK.finditer(text)), strict=False, notes=notes)
        except QueryError:
            return Or(())

    def _parse_plain(self, words: list[re.Match[str]], strict: bool, notes: list[str]) -> Query:
        """The tree of text without syntax (see :func:`plain_words`): each word's value
        over the default fields, joined by the default operator, exactly as the grammar
        would build it, without tokens, spans and recursive descent; cut (or refused,
        strict) at the clause limit as the grammar would.

        A word's value depends on the word alone (the default fields and operator are
        fixed for a parser), so recent ones are remembered: a search box sees the same
        words again and again.
        """
        memo = self._plain_values
        if len(memo) + len(words) >= PLAIN_WORD_MEMO_SIZE:
            memo.clear()
        unseen = list(dict.fromkeys(word for match in words if (word := match.group()) not in memo))
        if len(unseen) > 1:  # the new words analyzed together: one call into the core
            found = self._builder.text_values(self._defaults, unseen)
            for word, value in zip(unseen, found or ()):
                memo[word] = (value, _clause_count(value))
        values: list[Query | None] = []
        clauses, limit = 0, self.limits.max_clauses
        for match in words:
            word = match.group()
            known = memo.get(word)
            if known is None:
                token = QueryToken("word", match.start(), match.end(), word)
                value = self._builder.value(self._defaults, word, token)
                known = memo[word] = (value, _clause_count(value))
            value, count = known
            if clauses + count > limit:
                what = f"more than {limit:,} clauses (a word counts once per field it searches)"
                if strict:
                    raise QueryError(f"the query holds {what}, the limit (QueryLimits.max_clauses)", position=match.start())
                notes.append(f"the query was cut before character {match.start():,}: it holds {what}")
                break
            clauses += count
            values.append(value)
        query = all_of(values) if self.default_operator == "AND" else any_of(values)
        return Or(()) if query is None else query

    def _parse(
        self, text: str, literal: frozenset[int], *, strict: bool = True, notes: list[str] | None = None
    ) -> Query:
        tokens = Lexer(text, literal).tokens()
        grammar = Grammar(self._builder, self._defaults, tokens, self.limits, strict=strict)
        query = grammar.query()
        if notes is not None:
            notes.extend(grammar.warnings)  # only a parse that succeeds gets here
        return Or(()) if query is None else query


def _clause_count(value: Query | None) -> int:
    """What a word's value counts against the clause limit (:func:`leaf_count`), without
    walking a lone term: most words are one."""
    if value is None:
        return 0
    if type(value) is CombinedTerm:
        return len(value.fields)
    if type(value) is Term:
        return 1
    return leaf_count(value)


#: A character that gives a query syntax anywhere in a word (parentheses aside).
_SYNTAX_ANYWHERE = re.compile(r'[\\\[\]{}"^~:*?]')
#: Characters that are operators (or start a regex) at the start of a word only.
_SYNTAX_AT_START = frozenset("+-!/&|")
#: A run of characters between spaces: a word of escaped text.
_CHUNK = re.compile(r"\S+")
#: A word, or a parenthesis (which ends a word wherever it is).
_WORD_OR_PARENTHESIS = re.compile(r"[^\s()]+|[()]")
#: Deepest nesting of parentheses the fast path takes (the grammar allows MAX_DEPTH).
_PLAIN_MAX_DEPTH = 8


def plain_words(text: str, *, allow_groups: bool = False, max_depth: int = 8) -> list[re.Match[str]] | None:
    """The words of ``text`` if it holds no syntax, else None.

    Plain means: no special character anywhere, no word starting with an operator
    character, no operator word, and (only when ``allow_groups``) parentheses that
    balance, nested at most ``max_depth`` deep. Such text parses to its words' values joined by the default operator, in
    strict and lenient mode alike; with the OR operator a group adds nothing, as nested
    ORs flatten. :meth:`QueryParser.parse` builds that tree directly, without the
    grammar: it is what a search box usually receives.
    """
    if _SYNTAX_ANYWHERE.search(text):
        return None
    words: list[re.Match[str]] = []
    depth = 0
    for match in _WORD_OR_PARENTHESIS.finditer(text):
        piece = match.group()
        if piece == "(":
            depth += 1
            if not allow_groups or depth > max_depth:
                return None
        elif piece == ")":
            depth -= 1
            if depth < 0:
                return None
        elif piece[0] in _SYNTAX_AT_START or piece in OPERATOR_WORDS:
            return None
        else:
            words.append(match)
    return words if depth == 0 else None


def unmatched_parentheses(text: str) -> set[int]:
    """Where ``text`` has a parenthesis that nothing closes or opens (none when it
    cannot be split into tokens): a lenient parse reads them all as plain characters at
    once, rather than one repair (one more reading of the whole query) each."""
    try:
        tokens = Lexer(text).tokens()
    except SyntaxProblem:
        return set()
    unmatched: set[int] = set()
    opened: list[int] = []
    for token in tokens:
        if token.kind == "lparen":
            opened.append(token.start)
        elif token.kind == "rparen":
            if opened:
                opened.pop()
            else:
                unmatched.add(token.start)
    return unmatched | set(opened)


def _default_weights(schema: Schema, fields: Sequence[str] | Mapping[str, float] | None) -> dict[str, float]:
    """The default fields and their weights, checked: each must exist and be searchable
    (indexed terms, or a typed column such as a NUMERIC year: a word that is one of its
    values then matches it too, and any other word skips it)."""
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
        if not (schema[name].is_indexed or schema[name].is_column):
            raise QueryError(f"field {name!r} is not indexed and cannot be searched")
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"the weight of field {name!r} must be a positive number, got {weight}")
    return weights


__all__ = ["MAX_DEPTH", "MAX_REPAIRS", "QueryLimits", "QueryParser", "escape", "plain_words"]
