"""Pattern nodes (:class:`Prefix`, :class:`Wildcard`, :class:`Regex`, :class:`Fuzzy`),
rewritten before execution into an :class:`~searchlib.query.boolean.Or` of the terms
they match in the index, within the bounds of an :class:`Expansion` and of the query's
:class:`ExpansionBudget`; the dictionaries they read (:class:`DecodedTerms`,
:class:`ReaderTerms`) and the regular expressions they match with.
"""

from __future__ import annotations

import re
import time
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import numpy as np
import numpy.typing as npt
import regex

from searchlib.analysis.tokenizers import compile_pattern
from searchlib.errors import QueryError
from searchlib.limits import QueryLimits
from searchlib.query.boolean import Or
from searchlib.query.ranges import MatchNone
from searchlib.query.terms import Term
from searchlib.query.tree import Matches, Query, ScoringContext, TermSelector, TermSource
from searchlib.segment import SegmentReader, TermDictionary


#: Most terms a pattern query expands to unless told otherwise.
DEFAULT_MAX_EXPANSIONS = 1024


#: What a pattern query does past its bound: fail, or keep the most frequent terms.
OnTooMany = Literal["error", "keep_frequent"]


#: What makes a user's regex read the joined dictionary differently from one term:
#: anchors to the text's ends, lookbehinds, inline flags (``(?s)`` lets ``.`` cross lines).
_NOT_ONE_PASS = regex.compile(r"\\[AZzG]|\(\?<[=!]|\(\?[a-zA-Z^-]+[:)]")


class DecodedTerms:
    """One term dictionary with its terms decoded once, for the patterns of many
    queries to select from (a searcher keeps one per segment and field).

    A wildcard, fuzzy word or regex reads every term of a field; decoding them one by
    one from the mapped bytes costs more than matching them, so a searcher decodes a
    dictionary the first time a pattern needs it, in whole-list steps.
    """

    def __init__(self, dictionary: TermDictionary) -> None:
        self.dictionary = dictionary
        decode = partial(bytes.decode, encoding="utf-8", errors="surrogatepass")
        self._terms: list[str] = list(map(decode, dictionary.slice_bytes(0, len(dictionary))))
        self._joined = ""
        self._line_starts: npt.NDArray[np.int64] | None = None  # made when first needed

    def __len__(self) -> int:
        return len(self._terms)

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        return self.dictionary.prefix_range(prefix)

    def terms(self, start: int = 0, end: int | None = None) -> list[str]:
        return self._terms[start:end]

    def terms_at(self, indexes: Iterable[int]) -> list[str]:
        terms = self._terms
        return [terms[index] for index in indexes]

    def fullmatches(self, pattern: str, start: int = 0, end: int | None = None) -> list[int] | None:
        """The indexes of the terms from ``start`` to ``end`` that ``pattern`` (a
        :func:`glob_regex`) matches entirely, found in one pass of the regex engine
        over the terms joined by line breaks, not one call per term; None when some
        term holds a line break.

        The standard library's engine runs it: the ``regex`` module takes seconds over
        a whole dictionary for a pattern of many atomic groups that ``re`` runs in
        milliseconds (a glob regex is plain characters, ``.`` and atomic groups, which
        both read alike)."""
        lines = self._lines()
        if lines is None:
            return None
        joined, starts = lines
        stop = len(self._terms) if end is None else end
        if stop <= start:
            return []
        found = re.compile(f"(?m)^(?:{pattern})$").finditer(joined, int(starts[start]), int(starts[stop] - 1))
        return np.searchsorted(starts, [match.start() for match in found]).tolist()

    def regex_fullmatches(self, pattern: str, timeout: float) -> list[int] | None:
        """The indexes of the terms that the user's regular expression ``pattern``
        (``regex`` syntax) matches entirely, in one pass of the ``regex`` module over the
        joined terms, within ``timeout`` seconds (else TimeoutError): tens of times
        faster than a call per term. None when one pass cannot answer exactly, for the
        caller to match term by term: a term or a match holds a line break (``[^x]+``
        may run across one), or the pattern anchors to the text's ends, looks behind
        or sets flags inline (``(?s)``)."""
        lines = self._lines()
        if lines is None or _NOT_ONE_PASS.search(pattern):
            return None
        joined, starts = lines
        found = []
        for match in compile_pattern(f"(?m)^(?:{pattern})$").finditer(joined, timeout=timeout):
            if "\n" in match.group():
                return None
            found.append(match.start())
        return np.searchsorted(starts, found).tolist()

    def _lines(self) -> tuple[str, npt.NDArray[np.int64]] | None:
        """The terms joined by line breaks and where each starts, made when first
        needed; None when some term holds a line break."""
        if self._line_starts is None:
            joined = "\n".join(self._terms)
            if joined.count("\n") != max(0, len(self._terms) - 1):
                self._line_starts = np.zeros(0, dtype=np.int64)  # a term holds a line break
            else:
                self._joined = joined
                lengths = np.fromiter(map(len, self._terms), dtype=np.int64, count=len(self._terms))
                self._line_starts = np.concatenate(([0], np.cumsum(lengths + 1)))
        if not len(self._line_starts) and self._terms:
            return None
        return self._joined, self._line_starts


class ReaderTerms:
    """A :class:`TermSource` over segment readers whose document frequencies come from
    the dictionaries (deleted documents included): for callers that only match, such as
    ``IndexWriter.delete_by_query``, where no score depends on them."""

    def __init__(self, readers: Iterable[SegmentReader]) -> None:
        self.readers = list(readers)

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reader in self.readers:
            dictionary = reader.dictionary(field_name)
            if dictionary is None:
                continue
            picked = select(dictionary)
            for index, term in zip(picked, dictionary.terms_at(picked)):
                counts[term] = counts.get(term, 0) + reader.doc_freq_at(field_name, index)
        return counts


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


def ranked_terms(found: dict[str, int]) -> list[str]:
    """The terms of ``found`` by descending document count, ties alphabetical.

    Two sorts done in C (by term, then a stable one by count), not one with a Python
    key: a pattern may match the whole vocabulary.
    """
    return sorted(sorted(found), key=found.__getitem__, reverse=True)


class ExpansionBudget:
    """The bound the pattern nodes of one query share, and what was cut to keep to it.

    A :class:`TermSource` wrapper that :meth:`PatternQuery.rewrite` recognizes: each
    distinct pattern reads the dictionaries once (a query repeating ``a*`` two hundred
    times reads them once), at most ``limits.max_patterns`` distinct patterns that
    read whole dictionaries (wildcard, fuzzy, regex) are expanded, and the terms of all patterns together are at most
    ``limits.max_expansions``. Strict, a pattern past a bound raises
    :class:`QueryError` naming the bound; lenient, it is cut (the most frequent terms
    kept, or nothing once the bound is spent) and :attr:`warnings` says so.
    """

    def __init__(self, source: TermSource, limits: QueryLimits, *, strict: bool) -> None:
        self.source = source
        self.limits = limits
        self.strict = strict
        #: What was cut, as sentences a user can read, in the order it happened.
        self.warnings: list[str] = []
        #: Per distinct pattern, its terms by descending document count.
        self._ranked: dict[PatternQuery, list[str]] = {}
        #: Per distinct pattern and number of terms kept, those terms in order.
        self._kept: dict[tuple[PatternQuery, int], list[str]] = {}
        self._remaining = limits.max_expansions
        self._scans = 0  # distinct patterns read so far that read whole dictionaries
        #: When the query's regex scans must end (see PATTERN_MATCH_SECONDS): set by the
        #: first scan, shared by the rest, so many patterns cannot add up their bounds.
        self._scan_deadline: float | None = None
        #: Patterns left out, per reason ("patterns": past max_patterns; "terms": after
        #: max_expansions was spent), each reported in one warning however many there are.
        self._dropped = {"patterns": 0, "terms": 0}

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        return self.source.matching_terms(field_name, select)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def expand(self, pattern: PatternQuery) -> list[str]:
        """The terms ``pattern`` expands to (in order), within its own expansion's
        limit and what the query may still expand to."""
        key = replace(pattern, boost=1.0, expansion=None)  # type: ignore[type-var]
        ranked = self._ranked.get(key)
        if ranked is None:
            scans = not isinstance(pattern, Prefix)  # a prefix reads only its range of terms
            if scans and self._scans >= self.limits.max_patterns:
                if self.strict:
                    raise QueryError(
                        f"the query holds more than {self.limits.max_patterns:,} distinct wildcard, fuzzy or "
                        "regex patterns (each field counting apart), the limit (QueryLimits.max_patterns)"
                    )
                self._note_dropped("patterns")
                return []
            self._scans += scans
            if self._scan_deadline is None:
                self._scan_deadline = time.monotonic() + PATTERN_MATCH_SECONDS
            shared = _SCAN_DEADLINE.set(self._scan_deadline)
            try:
                found = self.source.matching_terms(pattern.field, pattern.select)
            except PatternTimeout as exc:
                if self.strict:
                    raise
                self.warn(f"{exc}; left it out")
                found = {}
            finally:
                _SCAN_DEADLINE.reset(shared)
            ranked = self._ranked[key] = ranked_terms(found)
        expansion = pattern.expansion or Expansion()
        keep = len(ranked)
        if keep > expansion.limit:
            if expansion.on_too_many == "error" and self.strict:
                raise QueryError(pattern.too_many(keep, expansion.limit))
            self.warn(
                f"{pattern.describe()} matched {keep:,} terms in {pattern.field}; "
                f"searched the {expansion.limit:,} most frequent"
            )
            keep = expansion.limit
        if keep > self._remaining:
            total = self.limits.max_expansions
            if self.strict:
                raise QueryError(
                    f"the query's patterns expand to more than {total:,} terms together, the limit "
                    f"(QueryLimits.max_expansions); {pattern.describe()} on {pattern.field!r} alone matches "
                    f"{len(ranked):,}: make the patterns longer or fewer"
                )
            keep = self._remaining
            if keep:
                self.warn(
                    f"{pattern.describe()} matched {len(ranked):,} terms in {pattern.field}; searched the "
                    f"{keep:,} most frequent (the query's patterns may expand to {total:,} terms together)"
                )
            else:
                self._note_dropped("terms")
        self._remaining -= keep
        kept = self._kept.get((key, keep))
        if kept is None:
            kept = self._kept[(key, keep)] = sorted(ranked[:keep])
        return kept

    def _note_dropped(self, reason: str) -> None:
        """Count a pattern left out, in one warning per reason."""
        previous = self._message_dropped(reason)
        self._dropped[reason] += 1
        if previous in self.warnings:
            self.warnings.remove(previous)
        self.warnings.append(self._message_dropped(reason))

    def _message_dropped(self, reason: str) -> str:
        count = self._dropped[reason]
        left_out = f"{count:,} pattern{'s' if count != 1 else ''} left out"
        if reason == "patterns":
            return (
                f"{left_out}: one query expands at most {self.limits.max_patterns:,} distinct wildcard, fuzzy "
                "or regex patterns"
            )
        return f"{left_out}: the query's patterns had expanded to {self.limits.max_expansions:,} terms together"


class PatternQuery(Query):
    """A query over every term of a field that a pattern picks (prefix, wildcard, ...)."""

    field: str
    boost: float
    expansion: Expansion | None

    @abstractmethod
    def select(self, dictionary: TermDictionary) -> Sequence[int]:
        """The indexes (ascending) of the terms of one segment's dictionary that the
        pattern picks: indexes, so document frequencies are read without look-ups."""

    @abstractmethod
    def describe(self) -> str:
        """The pattern as a user would type it, for messages."""

    def too_many(self, count: int, limit: int) -> str:
        """The message of a strict search whose pattern matches ``count`` terms, more than ``limit``."""
        return (
            f"{self.describe()} on {self.field!r} matches {count:,} terms, more than the "
            f"limit of {limit:,}; make the pattern longer, raise the limit "
            "(Expansion(limit=...), searchlib query --max-expansions N) or keep the most frequent "
            "terms (Expansion(on_too_many='keep_frequent'), searchlib query --keep-frequent)"
        )

    def rewrite(self, source: TermSource) -> Query:
        """An :class:`Or` of the terms the pattern matches, at most its expansion's limit.

        Past the limit, the search fails or (``keep_frequent``) keeps the most frequent
        terms. Given an :class:`ExpansionBudget` as the source (as a search does), the
        query's patterns also share one bound, a lenient search keeps the most frequent
        terms whatever the expansion says, and each cut is noted there as a warning.
        """
        if isinstance(source, ExpansionBudget):
            terms = source.expand(self)
        else:
            found = source.matching_terms(self.field, self.select)
            expansion = self.expansion or Expansion()
            if len(found) > expansion.limit and expansion.on_too_many == "error":
                raise QueryError(self.too_many(len(found), expansion.limit))
            terms = sorted(ranked_terms(found)[: expansion.limit])
        if not terms:
            return MatchNone()
        return Or([Term(self.field, term, self.boost) for term in terms])

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        raise QueryError(f"{self.describe()} must be rewritten against an index before it runs (Searcher does this)")


@dataclass(frozen=True)
class Prefix(PatternQuery):
    """Terms of ``field`` starting with ``prefix`` (already normalized, not stemmed)."""

    field: str
    prefix: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def select(self, dictionary: TermDictionary) -> Sequence[int]:
        start, end = dictionary.prefix_range(self.prefix.encode("utf-8", "surrogatepass"))
        return range(start, end)

    def describe(self) -> str:
        return f"prefix {self.prefix}*"


@dataclass(frozen=True)
class Wildcard(PatternQuery):
    """Terms of ``field`` matching ``pattern``, where ``*`` is any run of characters and
    ``?`` any one character."""

    field: str
    pattern: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def select(self, dictionary: TermDictionary) -> Sequence[int]:
        literal = regex.split(r"[*?]", self.pattern, maxsplit=1)[0]
        start, end = dictionary.prefix_range(literal.encode("utf-8", "surrogatepass"))
        if isinstance(dictionary, DecodedTerms):
            found = dictionary.fullmatches(wildcard_regex(self.pattern), start, end)
            if found is not None:
                return found
        matcher = regex.compile(wildcard_regex(self.pattern))
        return _full_matches(matcher, dictionary.terms(start, end), start, self.describe())

    def describe(self) -> str:
        return f"wildcard {self.pattern}"


def wildcard_regex(pattern: str) -> str:
    """A regular expression for a wildcard pattern: ``*`` any run, ``?`` one character.

    >>> wildcard_regex("t?lk*s")
    't.lk.*s'
    """
    runs = regex.split(r"([*?])", pattern)
    return glob_regex(runs[0::2], runs[1::2])


def glob_regex(literals: Sequence[str], wilds: Sequence[str]) -> str:
    """The regular expression, for ``fullmatch``, of ``literals[0] wilds[0] literals[1]
    ...``: each wild is ``*`` (any run) or ``?`` (one character); literals match as
    written.

    Written so that matching costs time in proportion to the term's length times the
    pattern's, never more, whatever shortcuts the regex engine finds or misses:
    ``.*a.*a.*a...b`` may backtrack through every way of placing the a's. Between two ``*`` the pattern has a fixed length, and placing such
    a piece at its leftmost possible start never prevents a match, so each middle
    piece is found lazily inside an atomic group, which never backtracks into it.

    >>> import regex
    >>> bool(regex.fullmatch(glob_regex(["", "a", "a", "b"], "***"), "xaxxaxb"))
    True
    >>> glob_regex(["", "a", "a", "b"], "***")
    '(?>.*?a)(?>.*?a).*b'
    """
    pieces: list[str] = [regex.escape(literals[0])]  # the fixed-length runs between *s
    for wild, literal in zip(wilds, literals[1:]):
        if wild == "*":
            pieces.append("")
        else:
            pieces[-1] += "."
        pieces[-1] += regex.escape(literal)
    if len(pieces) == 1:
        return pieces[0]
    middle = "".join(f"(?>.*?{piece})" for piece in pieces[1:-1] if piece)
    return f"{pieces[0]}{middle}.*{pieces[-1]}"


#: How long a query's regular expressions (regex queries and wildcards with escaped
#: characters) may take to match the index's terms, all of them together in a search
#: (the budget is shared through _SCAN_DEADLINE) or each alone elsewhere: a pattern that
#: backtracks catastrophically on some term, or many patterns over a large dictionary,
#: stop there with PatternTimeout, which a lenient search turns into a warning. Each
#: match call gets what is left. Well-behaved patterns take a few milliseconds over a
#: dictionary of SciFact's size.
PATTERN_MATCH_SECONDS = 0.05


#: The deadline (``time.monotonic()``) of the search whose patterns are being expanded.
_SCAN_DEADLINE: ContextVar[float | None] = ContextVar("searchlib_scan_deadline", default=None)


class PatternTimeout(QueryError):
    """A pattern took longer than PATTERN_MATCH_SECONDS to match a dictionary's terms."""


def _full_matches(pattern: regex.Pattern[str], terms: Sequence[str], first: int, describe: str) -> list[int]:
    """The indexes (from ``first``) of the ``terms`` that ``pattern`` matches whole,
    within PATTERN_MATCH_SECONDS."""
    deadline = _SCAN_DEADLINE.get() or time.monotonic() + PATTERN_MATCH_SECONDS
    matcher = pattern.fullmatch
    found: list[int] = []
    try:
        for i, term in enumerate(terms, first):
            left = deadline - time.monotonic()  # a clock read costs a tenth of a match
            if left <= 0:
                raise TimeoutError
            if matcher(term, timeout=left):
                found.append(i)
    except TimeoutError:
        raise _pattern_timeout(describe) from None
    return found


def _pattern_timeout(describe: str) -> PatternTimeout:
    return PatternTimeout(
        f"{describe} did not match the index's terms within the {PATTERN_MATCH_SECONDS * 1000:.0f} ms "
        "a query's patterns have (it backtracks too much, or the query holds too many); simplify it"
    )


@dataclass(frozen=True)
class Regex(PatternQuery):
    """Terms of ``field`` that the regular expression ``pattern`` matches entirely."""

    field: str
    pattern: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def __post_init__(self) -> None:
        try:
            compile_pattern(self.pattern)
        except ValueError as exc:
            raise QueryError(f"bad regular expression /{self.pattern}/: it {exc}") from None

    def select(self, dictionary: TermDictionary) -> Sequence[int]:
        if isinstance(dictionary, DecodedTerms):
            left = (_SCAN_DEADLINE.get() or time.monotonic() + PATTERN_MATCH_SECONDS) - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                found = dictionary.regex_fullmatches(self.pattern, left)
            except TimeoutError:
                raise _pattern_timeout(self.describe()) from None
            if found is not None:
                return found
        return _full_matches(compile_pattern(self.pattern), dictionary.terms(), 0, self.describe())

    def describe(self) -> str:
        return f"regex /{self.pattern}/"


@dataclass(frozen=True)
class Fuzzy(PatternQuery):
    """Terms of ``field`` within ``max_edits`` edits of ``text`` (an insertion, deletion,
    substitution or transposition of two neighbours each count one), sharing its first
    ``prefix_length`` characters."""

    field: str
    text: str
    max_edits: int = 2
    prefix_length: int = 0
    boost: float = 1.0
    expansion: Expansion | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.max_edits <= 2:
            raise QueryError(f"fuzzy edit distance must be 0, 1 or 2, got {self.max_edits}")

    def select(self, dictionary: TermDictionary) -> Sequence[int]:
        from searchlib.query.fuzzy import within_edits

        prefix = self.text[: self.prefix_length]
        start, end = dictionary.prefix_range(prefix.encode("utf-8", "surrogatepass"))
        return [start + i for i in within_edits(dictionary.terms(start, end), self.text, self.max_edits)]

    def describe(self) -> str:
        return f"fuzzy {self.text}~{self.max_edits}"
