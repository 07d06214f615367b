"""From parsed clauses to query nodes: which fields a clause searches, and how a word,
phrase, pattern or range becomes nodes over them.

Internal to :mod:`searchlib.parser`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, NamedTuple

from searchlib.analysis import Analyzer, Token
from searchlib.analysis.tokenizers import compile_pattern
from searchlib.columns import INT64_RANGE, column_value
from searchlib.errors import SearchlibError
from searchlib.parser.lexer import Bound, QueryToken, SyntaxProblem
# The nodes every query of words needs; pattern, phrase and range nodes are imported
# where they are built, so that a process that searches for words never loads them.
from searchlib.query import And, Boost, CombinedTerm, Expansion, MatchAll, MatchNone, Not, Or, Query, Term
from searchlib.schema import FieldAnalyzers, Group, Schema, field_groups

if TYPE_CHECKING:
    from searchlib.query import RangeValue
    from searchlib.schema import GroupKind

INT = re.compile(r"[+-]?[0-9]+")
DIGITS = re.compile(r"[0-9]+")
FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
FACTOR = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_EXAMPLES = {"tilde": "word~1", "caret": "word^2"}
#: The last moment a DATETIME can hold: a low bound after it excludes every value.
_LAST_MOMENT = dt.datetime.max.isoformat()
#: A date without a time: a year, a month or a day, each meaning the whole of it.
_DATE_ONLY = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?")


#: How a clause side by side with others was marked: ``+`` required, ``-`` excluded.
Occur = Literal["", "+", "-"]


# NamedTuples rather than dataclasses, as the lexer's tokens (see there).
class Target(NamedTuple):
    """The fields a clause searches: the default ones, or one the user named
    (``field``), whose colon a lenient parse reads as a plain character on error."""

    groups: tuple[Group, ...]
    field: str | None = None
    colon: int | None = None

    def members(self) -> Iterator[tuple[str, float, GroupKind]]:
        for group in self.groups:
            for name, weight in group.members():
                yield name, weight, group.kind


def any_of(clauses: Iterable[Query | None]) -> Query | None:
    """An Or of the clauses (nested plain Ors flattened); one clause alone; None for none."""
    flat: list[Query] = []
    for clause in clauses:
        if type(clause) is Or and clause.min_match == 1:
            flat.extend(clause.clauses)
        elif clause is not None:
            flat.append(clause)
    return None if not flat else flat[0] if len(flat) == 1 else Or(flat)


def all_of(clauses: Iterable[Query | None]) -> Query | None:
    """An And of the clauses (nested Ands flattened); one clause alone; None for none."""
    flat: list[Query] = []
    for clause in clauses:
        if type(clause) is And:
            flat.extend(clause.clauses)
        elif clause is not None:
            flat.append(clause)
    return None if not flat else flat[0] if len(flat) == 1 else And(flat)


def boosted(query: Query | None, factor: float) -> Query | None:
    """``query`` scoring ``factor`` times more: a leaf's own boost multiplied, a
    compound node wrapped in :class:`Boost`."""
    if query is None or factor == 1.0 or isinstance(query, MatchNone):
        return query
    from searchlib.query import Fuzzy, Phrase, Prefix, Range, Regex, Wildcard

    if isinstance(query, (Term, CombinedTerm, Phrase, Prefix, Wildcard, Fuzzy, Regex, Range, MatchAll)):
        return replace(query, boost=query.boost * factor)
    if isinstance(query, Boost):
        return Boost(query.query, query.factor * factor)
    return Boost(query, factor)


def negated(query: Query | None, occur: Occur) -> Query | None:
    """A clause inside AND/OR: a ``-`` (or NOT) becomes a :class:`Not`."""
    return Not(query) if occur == "-" and query is not None else query


class NodeBuilder:
    """Builds the nodes of each kind of clause for one schema and its analyzers.

    ``is_and`` says whether the default operator is AND: it joins the terms of one word
    the analyzer splits (``covid-19``) as it joins words, so a parser's builder keeps
    the operator it was made with.
    """

    def __init__(self, schema: Schema, analyzers: FieldAnalyzers, expansion: Expansion | None, *, is_and: bool) -> None:
        self.schema = schema
        self._analyzers = analyzers
        self.expansion = expansion
        self.is_and = is_and

    def groups(self, weights: Mapping[str, float]) -> tuple[Group, ...]:
        """Fields grouped by how they are searched (see :func:`~searchlib.schema.field_groups`)."""
        return field_groups(self.schema, weights)

    def field_target(self, token: QueryToken) -> Target:
        """The target of ``name:``, checked against the schema."""
        name = token.text
        colon = token.end - 1
        if name not in self.schema:
            known = ", ".join(self.schema.fields) or "none"
            raise SyntaxProblem(f"unknown field {name!r}; the schema has: {known}", token.start, colon)
        definition = self.schema[name]
        if not (definition.is_indexed or definition.is_column):
            raise SyntaxProblem(f"field {name!r} is stored only, not indexed; it cannot be searched", token.start, colon)
        return Target(self.groups({name: 1.0}), name, colon)

    # --- leaves -------------------------------------------------------------------------

    def word(self, target: Target, word: QueryToken, tilde: QueryToken | None) -> Query | None:
        """A bare word: terms, a pattern, a fuzzy term, or a typed value."""
        if word.text == "*" and word.wild == (0,):
            from searchlib.query import Range

            return MatchAll() if target.field is None else Range(target.field, None, None)
        if tilde is not None:
            if word.wild:
                raise SyntaxProblem("a fuzzy word cannot hold wildcards; escape them with \\", tilde.start)
            return self._fuzzy(target, word, tilde)
        if word.wild:
            return self._pattern(target, word)
        return self.value(target, word.text, word)

    def value(self, target: Target, text: str, token: QueryToken) -> Query | None:
        """``text`` looked up as a value: analyzed terms, an exact term, or a typed value.

        Each group of fields is one alternative; within a text group the terms are
        joined as :meth:`one_word` says. A typed field the user named refuses a text
        that is none of its values; a typed default field just does not match it, so
        ``1999 talks`` over ``body`` and a NUMERIC ``year`` finds the year and the word.
        """
        clauses: list[Query | None] = []
        for group in target.groups:
            if group.kind == "text":
                positions = _terms_per_position(self._analyzers.query(group.fields[0]), text)
                clauses.append(self.one_word([self._term(group, term) for term in terms] for terms in positions))
            elif text:
                from searchlib.query import Range

                for name, weight in group.members():
                    if group.kind == "exact":
                        clauses.append(Term(name, text, weight))
                    elif (span := self._date_span(name, text)) is not None:
                        clauses.append(boosted(Range(name, span[0], span[1], include_high=False), weight))
                    else:
                        try:
                            value = self._typed(name, text, token.start, target, is_bound=False)
                        except SyntaxProblem:
                            if target.field is not None:
                                raise
                            continue  # not a value of this default field: it cannot match
                        clauses.append(boosted(Range(name, value, value), weight))
        return any_of(clauses)

    def text_values(self, target: Target, words: list[str]) -> list[Query | None] | None:
        """:meth:`value` of each of ``words`` where every group of ``target`` is a text
        group with a fast analyzer (the usual default fields), each group's analyzer run
        once over all the words; None otherwise (the caller takes them one by one)."""
        analyzed: list[tuple[Group, list[list[str]]]] = []
        for group in target.groups:
            analyzer = self._analyzers.query(group.fields[0])
            if group.kind != "text" or not analyzer.is_fast:
                return None
            analyzed.append((group, analyzer.term_lists(words)))
        # A fast chain gives each term a position of its own: one_word's alternatives
        # are single nodes, joined directly.
        join = all_of if self.is_and else any_of
        values: list[Query | None] = []
        for at in range(len(words)):
            per_group = [
                nodes[0] if len(nodes) == 1 else join(nodes)
                for nodes in ([self._term(group, term) for term in terms[at]] for group, terms in analyzed)
            ]
            values.append(per_group[0] if len(per_group) == 1 else any_of(per_group))
        return values

    def _date_span(self, name: str, text: str) -> tuple[str, str | None] | None:
        """For a DATETIME field and a date written without a time (``2024``,
        ``2024-05``, ``2024-05-01``): where that year, month or day starts and where the
        next one does (None past year 9999). A date names the whole of it, as in
        Elasticsearch: ``date:2024-05-01`` matches every moment of that day."""
        if self.schema[name].kind != "datetime" or not (match := _DATE_ONLY.fullmatch(text)):
            return None
        unit = "day" if match["day"] else "month" if match["month"] else "year"
        try:
            start = dt.date(int(match["year"]), int(match["month"] or 1), int(match["day"] or 1))
        except ValueError:
            return None  # not a real date: the field's own check names the problem
        after = _next_period(start, unit)
        return start.isoformat(), None if after is None else after.isoformat()

    def one_word(self, positions: Iterable[list[Query]]) -> Query | None:
        """The nodes of one word's terms, given per position: alternatives at a position
        (a synonym beside its word), positions joined by the default operator, as
        Lucene's classic parser does: under AND, ``covid-19`` needs both covid and 19,
        as ``covid 19`` would."""
        alternatives = (any_of(nodes) for nodes in positions)
        return all_of(alternatives) if self.is_and else any_of(alternatives)

    @staticmethod
    def _term(group: Group, term: str) -> Query:
        if len(group.fields) == 1:
            return Term(group.fields[0], term, group.weights[0])
        return CombinedTerm(group.fields, term, group.weights)

    def phrase(self, target: Target, phrase: QueryToken, slop: int) -> Query | None:
        """A phrase per text field (one term: like a word); the exact text elsewhere."""
        from searchlib.query import Phrase

        clauses: list[Query | None] = []
        for group in target.groups:
            if group.kind != "text":
                clauses.append(self.value(Target((group,), target.field, target.colon), phrase.text, phrase))
                continue
            tokens = _one_per_position(self._analyzers.query(group.fields[0]).tokens(phrase.text))
            if len(tokens) == 1:
                clauses.append(self._term(group, tokens[0][0]))
            elif tokens:
                terms = tuple(term for term, _ in tokens)
                positions = tuple(position for _, position in tokens)
                clauses.extend(Phrase(name, terms, slop, positions, weight) for name, weight in group.members())
        return any_of(clauses)

    def _pattern(self, target: Target, word: QueryToken) -> Query | None:
        """``prefix*``, or a wildcard pattern, over each field: folded, never stemmed."""
        from searchlib.query import Prefix, Regex, Wildcard

        is_prefix = word.wild == (len(word.text) - 1,) and word.text.endswith("*")
        clauses: list[Query] = []
        for name, weight, kind in self._searchable(target, word, "a wildcard pattern"):
            fold = self._analyzers.query(name).normalize if kind == "text" else _same
            if is_prefix:
                clauses.append(Prefix(name, fold(word.text[:-1]), weight, self.expansion))
            elif any(word.text[at] in "*?" for at in range(len(word.text)) if at not in word.wild):
                # An escaped * or ? stays literal, which only a regex can say.
                clauses.append(Regex(name, _literal_wildcard_regex(word, fold), weight, self.expansion))
            else:
                clauses.append(Wildcard(name, fold(word.text), weight, self.expansion))
        return any_of(clauses)

    def _fuzzy(self, target: Target, word: QueryToken, tilde: QueryToken) -> Query | None:
        """``word~N``: each of the word's analyzed terms (its folded form if all are stop
        words; a keyword field's exact text) within N edits, in each field of a group,
        the terms joined as a plain word's are (:meth:`one_word`): ``e-mail~1`` is e~1
        and mail~1, not e~1 alone."""
        from searchlib.query import Fuzzy

        edits = 2 if not tilde.text else number_after(tilde, DIGITS, "~ after a word takes 0, 1 or 2 edits")
        if edits > 2:
            raise SyntaxProblem(f"~ after a word takes 0, 1 or 2 edits, not {tilde.text}", tilde.start + 1, tilde.start)
        clauses: list[Query | None] = []
        for group in self._searchable_groups(target, word, "a fuzzy word"):
            positions = [[word.text]]
            if group.kind == "text":
                analyzer = self._analyzers.query(group.fields[0])
                positions = _terms_per_position(analyzer, word.text) or [[analyzer.normalize(word.text)]]
            clauses.append(self.one_word(
                [
                    Fuzzy(name, term, int(edits), boost=weight, expansion=self.expansion)
                    for term in terms
                    for name, weight in group.members()
                ]
                for terms in positions
            ))
        return any_of(clauses)

    def regex(self, target: Target, token: QueryToken) -> Query | None:
        """``/pattern/``: the pattern as typed, matched against whole terms."""
        from searchlib.query import Regex

        try:
            compile_pattern(token.text)  # bounded: a huge {n} would take minutes and gigabytes
        except Exception as exc:  # the regex module raises more than regex.error
            raise SyntaxProblem(f"bad regular expression /{token.text}/: {exc}", token.start) from None
        return any_of(
            Regex(name, token.text, weight, self.expansion)
            for name, weight, _ in self._searchable(target, token, "a regular expression")
        )

    def range(self, target: Target, token: QueryToken) -> Query | None:
        """``field:[low TO high]``, its bounds typed for the field."""
        from searchlib.query import Range

        spec = token.bounds
        assert spec is not None
        if target.field is None:
            raise SyntaxProblem("a range needs a field: write field:[low TO high]", token.start)
        name = target.field
        low, include_low = self._date_bound(name, spec.low, spec.include_low, is_low=True) or (
            self._bound(name, spec.low, target), spec.include_low
        )
        high, include_high = self._date_bound(name, spec.high, spec.include_high, is_low=False) or (
            self._bound(name, spec.high, target), spec.include_high
        )
        return Range(name, low, high, include_low, include_high)

    def _date_bound(self, name: str, bound: Bound, included: bool, *, is_low: bool) -> tuple[str | None, bool] | None:
        """A bound written as a date without a time on a DATETIME field, taken as the
        whole year, month or day: ``[2024-01-01 TO 2024-05-01]`` ends with 1 May, and
        ``{2024-05-01 TO *]`` starts after it. None for any other bound."""
        span = None if bound.text is None else self._date_span(name, bound.text)
        if span is None:
            return None
        start, after = span
        if is_low and not included and after is None:
            return _LAST_MOMENT, False  # after the last day there is: nothing
        if is_low:
            return (start, True) if included else (after, True)
        return (after, False) if included else (start, False)

    def _bound(self, name: str, bound: Bound, target: Target) -> RangeValue:
        if bound.text is None:
            return None
        definition = self.schema[name]
        if definition.is_text:
            return self._analyzers.query(name).normalize(bound.text)
        if not definition.is_column:
            return bound.text
        return self._typed(name, bound.text, bound.start, target, is_bound=True)

    def _typed(self, name: str, text: str, position: int, target: Target, *, is_bound: bool) -> RangeValue:
        """``text`` as a value of a NUMERIC, DATETIME or BOOLEAN field."""
        definition = self.schema[name]
        problem = f"field {name!r} is {definition.kind.upper()}"
        if definition.kind == "numeric":
            if INT.fullmatch(text):
                value: int | float = int(text) if len(text) < 30 else math.inf  # Python caps int() digits
                if definition.numeric_type == "int" and not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
                    raise SyntaxProblem(f"{problem}: {text} is outside the 64-bit integer range", position, target.colon)
                if math.isfinite(value):
                    return value
            if FLOAT.fullmatch(text) and (is_bound or definition.numeric_type == "float"):
                value = float(text)
                if math.isfinite(value):
                    return value
            kind = "an integer" if definition.numeric_type == "int" else "a number"
            raise SyntaxProblem(f"{problem} and takes {kind}, not {text!r}", position, target.colon)
        if definition.kind == "boolean":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise SyntaxProblem(f"{problem} and takes true or false, not {text!r}", position, target.colon)
        try:
            column_value("datetime", None, text, name)
        except (SearchlibError, ValueError, OverflowError) as exc:
            raise SyntaxProblem(str(exc), position, target.colon) from None
        return text

    def _searchable(self, target: Target, token: QueryToken, what: str) -> Iterator[tuple[str, float, GroupKind]]:
        """The target's fields a pattern can search (terms, not typed columns)."""
        for group in self._searchable_groups(target, token, what):
            for name, weight in group.members():
                yield name, weight, group.kind

    def _searchable_groups(self, target: Target, token: QueryToken, what: str) -> Iterator[Group]:
        """The target's groups of fields a pattern can search: a typed column the user
        named is refused; typed default fields are passed over, unless no other is left."""
        groups = [group for group in target.groups if group.kind != "column" or target.field is not None]
        for group in groups or target.groups:
            if group.kind == "column":
                name = group.fields[0]
                raise SyntaxProblem(
                    f"field {name!r} is {self.schema[name].kind.upper()}; {what} cannot search it",
                    token.start, target.colon,
                )
            yield group


def _next_period(start: dt.date, unit: str) -> dt.date | None:
    """The first day of the day, month or year after the one ``start`` begins; None
    past year 9999, which a date cannot reach."""
    try:
        if unit == "day":
            return start + dt.timedelta(days=1)
        if unit == "month":
            return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return dt.date(start.year + 1, 1, 1)
    except (OverflowError, ValueError):
        return None


def _terms_per_position(analyzer: Analyzer, text: str) -> list[list[str]]:
    """The terms of ``text``, one list per position: a word's term and any synonyms a
    filter put beside it. A fast chain gives one term a position, read without tokens
    (the cheaper path: every word a search box sends that the parser has not seen)."""
    if analyzer.is_fast:
        return [[term] for term in analyzer.term_list(text)]
    positions: list[list[str]] = []
    last_position = -1
    for token in analyzer.tokens(text):
        if positions and token.pos == last_position:
            positions[-1].append(token.text)
        else:
            positions.append([token.text])
            last_position = token.pos
    return positions


def _one_per_position(tokens: Iterable[Token]) -> list[tuple[str, int]]:
    """(term, position) of each position's first token: a phrase has one term a place
    (a synonym filter may add more)."""
    kept: list[tuple[str, int]] = []
    for token in tokens:
        if not kept or kept[-1][1] != token.pos:
            kept.append((token.text, token.pos))
    return kept


def _same(text: str) -> str:
    return text


def _literal_wildcard_regex(word: QueryToken, fold: Callable[[str], str]) -> str:
    """A regex for a wildcard word whose escaped ``*``/``?`` are literal characters."""
    from searchlib.query import glob_regex

    literals: list[str] = []
    wilds: list[str] = []
    run: list[str] = []
    for at, char in enumerate(word.text):
        if at in word.wild:
            literals.append(fold("".join(run)))
            wilds.append(char)
            run = []
        else:
            run.append(char)
    literals.append(fold("".join(run)))
    return glob_regex(literals, wilds)


def number_after(token: QueryToken, pattern: re.Pattern[str], what: str) -> float:
    """The number after ``~`` or ``^``, checked."""
    if not pattern.fullmatch(token.text) or not math.isfinite(float(token.text)):
        raise SyntaxProblem(f"{what}, as in {_EXAMPLES[token.kind]}", token.start + 1, token.start)
    return float(token.text)
