"""Pattern nodes (:class:`Prefix`, :class:`Wildcard`, :class:`Regex`, :class:`Fuzzy`),
rewritten before execution into the terms they match in the index, within the bounds of
an :class:`Expansion` and of the query's :class:`ExpansionBudget`: a prefix, wildcard or
regular expression into a :class:`MatchedTerms` (every match scores the boost), a fuzzy
word into an :class:`~searchlib.query.boolean.Or` of its scored terms.

The compiled core expands them (``searchlib._core.Pattern``, ``core/src/patterns/``):
each pattern is an automaton over a term's bytes (a lazily built DFA for regular
expressions and wildcards, a Levenshtein DFA for fuzzy words, in which a transposition
counts one edit) driven over a segment's sorted term dictionary, skipping every run of
terms whose shared prefix already rules them out. A walk stops at a deadline, and each
segment offers at most the expansion's limit of terms, its most frequent.

On a field whose analyzer stems, a prefix, wildcard or regular expression is matched
against the words as written (the segment's lexicon of surface words), and expands to
the terms those words were stemmed to: ``negotiat*`` finds "negotiating" and
"negotiations" (the term ``negoti``), ``/licen[cs]e/`` finds "license". A fuzzy word is
stemmed by the parser like any word, so it is matched against the terms.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any


from searchlib import _core
from searchlib.analysis.tokenizers import compile_pattern
from searchlib.errors import QueryError
from searchlib.limits import DEFAULT_LIMITS, QueryLimits
from searchlib.query.boolean import Or
from searchlib.query.expansion import Expansion
from searchlib.query.match import MatchNone
from searchlib.query.terms import Term
from searchlib.query.tree import CoreQuery, Matches, Query, ScoringContext, TermSelector, TermSource
from searchlib.segment import SegmentReader

if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    import numpy as np
    import numpy.typing as npt

    from searchlib.explain import Explanation
    from searchlib.query.plan import PlanBuilder, PlanNode


class ReaderTerms:
    """A :class:`TermSource` over segment readers whose document frequencies come from
    the dictionaries (deleted documents included): for callers that only match, such as
    ``IndexWriter.delete_by_query``, where no score depends on them."""

    def __init__(self, readers: Iterable[SegmentReader]) -> None:
        self.readers = list(readers)

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        terms, doc_freqs = select(self.readers, field_name)
        totals = doc_freqs.sum(axis=0, dtype="<u8").tolist()
        return {term: count for term, count in zip(terms, totals) if count}


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
    read whole dictionaries (wildcard, fuzzy, regex) are expanded, all of them within
    one :data:`PATTERN_MATCH_SECONDS`, and the terms of all patterns together are at
    most ``limits.max_expansions``. Strict, a pattern past a bound raises
    :class:`QueryError` naming the bound; lenient, it is cut (the most frequent terms
    kept, or nothing once the bound is spent) and :attr:`warnings` says so.
    """

    def __init__(self, source: TermSource, limits: QueryLimits, *, strict: bool) -> None:
        self.source = source
        self.limits = limits
        self.strict = strict
        #: What was cut, as sentences a user can read, in the order it happened.
        self.warnings: list[str] = []
        #: Per distinct pattern and per-segment keep, its terms by descending document
        #: count and how many it matched.
        self._ranked: dict[tuple[PatternQuery, int], tuple[list[str], int]] = {}
        #: Per distinct pattern and number of terms kept, those terms in order.
        self._kept: dict[tuple[PatternQuery, int, int], list[str]] = {}
        self._remaining = limits.max_expansions
        self._scans = 0  # distinct patterns read so far that read whole dictionaries
        #: The time the query's pattern walks have left (see PATTERN_MATCH_SECONDS),
        #: shared, so many patterns cannot add up their bounds.
        self.walk_time = WalkTime(limits.untimed_visits)
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
        expansion = pattern.expansion or Expansion()
        cached = self._ranked.get((key, expansion.limit))
        if cached is None:
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
            picker = SegmentPicker(pattern, expansion.limit, self.walk_time)
            try:
                found = self.source.matching_terms(pattern.field, picker)
            except PatternTimeout as exc:
                if self.strict:
                    raise
                self.warn(f"{exc}; left it out")
                found = {}
            cached = self._ranked[(key, expansion.limit)] = (ranked_terms(found), picker.matched(found))
        ranked, matched = cached
        keep = len(ranked)
        if matched > expansion.limit:
            if expansion.on_too_many == "error" and self.strict:
                raise QueryError(pattern.too_many(matched, expansion.limit))
            self.warn(
                f"{pattern.describe()} matched {matched:,} terms in {pattern.field}; "
                f"searched the {expansion.limit:,} most frequent"
            )
            keep = min(keep, expansion.limit)
        if keep > self._remaining:
            total = self.limits.max_expansions
            if self.strict:
                raise QueryError(
                    f"the query's patterns expand to more than {total:,} terms together, the limit "
                    f"(QueryLimits.max_expansions); {pattern.describe()} on {pattern.field!r} alone matches "
                    f"{matched:,}: make the patterns longer or fewer"
                )
            keep = self._remaining
            if keep:
                self.warn(
                    f"{pattern.describe()} matched {matched:,} terms in {pattern.field}; searched the "
                    f"{keep:,} most frequent (the query's patterns may expand to {total:,} terms together)"
                )
            else:
                self._note_dropped("terms")
        self._remaining -= keep
        kept = self._kept.get((key, expansion.limit, keep))
        if kept is None:
            kept = self._kept[(key, expansion.limit, keep)] = sorted(ranked[:keep])
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


class WalkTime:
    """The time the pattern walks of one query (or of one pattern alone) may take
    together: :data:`PATTERN_MATCH_SECONDS` of the searching thread's CPU time, counted
    while the core walks, so that neither the work between the walks (scoring, counting
    live documents) nor waiting for a core on a loaded machine spends it. Each walk
    reads its first ``untimed_visits`` entries whatever is left, so a small index's
    patterns are never cut (see ``QueryLimits.untimed_visits``)."""

    def __init__(self, untimed_visits: int = DEFAULT_LIMITS.untimed_visits) -> None:
        self.left = PATTERN_MATCH_SECONDS
        #: Entries each walk reads before the time left can stop it (QueryLimits.untimed_visits).
        self.untimed_visits = untimed_visits

    def spend(self, seconds: float) -> None:
        self.left -= seconds


class SegmentPicker:
    """The :class:`TermSelector` of one expansion: a pattern's terms in a snapshot's
    segments, found by the core in one call within the walks' time, at most ``keep`` of
    them (the most frequent) per segment; it remembers how many the segments matched
    before that cut.

    A prefix is not timed: it reads only the range of terms it names (as it is not
    counted against ``QueryLimits.max_patterns``). On a stemmed field the words a
    pattern matches differ by segment while their terms are searched in all: a term one
    segment found through its words is counted in every segment that holds it."""

    def __init__(self, pattern: PatternQuery, keep: int | None, clock: WalkTime | None = None) -> None:
        self.pattern = pattern
        self.keep = keep
        self.clock = clock if clock is not None else WalkTime()
        self._matches = 0  # what the segments matched, added up
        self._cut = False  # whether some segment matched more than keep

    def __call__(
        self, readers: Sequence[SegmentReader], field_name: str
    ) -> tuple[list[str], npt.NDArray[np.uint32]]:
        import numpy as np
        timed = not isinstance(self.pattern, Prefix)
        # Compiled before the clock starts: a process's first fuzzy word builds the
        # Levenshtein builder (tens of ms, once), and the bound is on the walks.
        compiled = self.pattern.compiled()
        start = time.thread_time()  # CPU time, as the core's bound counts it
        terms, doc_freqs, matched, cut, complete = compiled.expand(
            [reader.core for reader in readers], field_name, surface=self.pattern.surface, keep=self.keep,
            seconds=max(self.clock.left, 0.0) if timed else None, untimed_visits=self.clock.untimed_visits,
        )
        if timed:
            self.clock.spend(time.thread_time() - start)
        if not complete:
            raise _pattern_timeout(self.pattern.describe())
        self._matches += matched
        self._cut |= cut
        return terms, np.frombuffer(doc_freqs, dtype="<u4").reshape(len(readers), len(terms))

    def matched(self, found: dict[str, int]) -> int:
        """How many terms the pattern matched: those ``found``, or, when a segment had
        more than ``keep``, the segments' matches added up (a term in two segments then
        counts twice: no segment lists what it cut)."""
        return max(len(found), self._matches) if self._cut else len(found)


@lru_cache(maxsize=64)
def _compiled(kind: str, text: str, max_edits: int, prefix_length: int) -> Any:
    """The core's automaton for a pattern, compiled once for every segment and every
    search that repeats it (a few kept: each may hold up to 4 MiB of DFA states); a
    pattern it cannot run is a QueryError saying why."""
    try:
        return _core.Pattern(kind, text, max_edits, prefix_length)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


class PatternQuery(Query):
    """A query over every term of a field that a pattern picks (prefix, wildcard, ...)."""

    field: str
    boost: float
    expansion: Expansion | None
    #: Whether a stemmed field is matched by its words as written (its lexicon).
    surface = True
    #: Whether every match scores the boost (a prefix, wildcard or regular expression,
    #: see :class:`MatchedTerms`) rather than its terms' BM25 scores summed (fuzzy).
    constant_score = True

    @abstractmethod
    def core_spec(self) -> tuple[str, str, int, int]:
        """(kind, text, max edits, prefix length) of the core's ``Pattern``."""

    @abstractmethod
    def describe(self) -> str:
        """The pattern as a user would type it, for messages."""

    def compiled(self) -> Any:
        """The core's compiled pattern (``searchlib._core.Pattern``)."""
        try:
            return _compiled(*self.core_spec())
        except QueryError as exc:
            raise QueryError(f"{self.describe()} {exc}") from None

    def select(self, reader: SegmentReader, field_name: str) -> tuple[list[str], npt.NDArray[np.uint32]]:
        """The terms (in order) of one segment's field that the pattern picks, with their
        document frequencies there (deleted documents included), within
        :data:`PATTERN_MATCH_SECONDS`."""
        terms, doc_freqs = SegmentPicker(self, None)([reader], field_name)
        return terms, doc_freqs[0]

    def too_many(self, count: int, limit: int) -> str:
        """The message of a strict search whose pattern matches ``count`` terms, more than ``limit``."""
        return (
            f"{self.describe()} on {self.field!r} matches {count:,} terms, more than the "
            f"limit of {limit:,}; make the pattern longer, raise the limit "
            "(Expansion(limit=...), searchlib query --max-expansions N) or keep the most frequent "
            "terms (Expansion(on_too_many='keep_frequent'), searchlib query --keep-frequent)"
        )

    def rewrite(self, source: TermSource) -> Query:
        """The terms the pattern matches, at most its expansion's limit: a constant-score
        :class:`MatchedTerms`, or for a fuzzy word an :class:`Or` of scored terms.

        Past the limit, the search fails or (``keep_frequent``) keeps the most frequent
        terms. Given an :class:`ExpansionBudget` as the source (as a search does), the
        query's patterns also share one bound, a lenient search keeps the most frequent
        terms whatever the expansion says, and each cut is noted there as a warning.
        """
        if isinstance(source, ExpansionBudget):
            terms = source.expand(self)
        else:
            expansion = self.expansion or Expansion()
            picker = SegmentPicker(self, expansion.limit)
            found = source.matching_terms(self.field, picker)
            matched = picker.matched(found)
            if matched > expansion.limit and expansion.on_too_many == "error":
                raise QueryError(self.too_many(matched, expansion.limit))
            terms = sorted(ranked_terms(found)[: expansion.limit])
        if not terms:
            return MatchNone()
        if self.constant_score:
            return MatchedTerms(self.field, tuple(terms), self.boost, self.describe())
        return Or([Term(self.field, term, self.boost) for term in terms])

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        raise QueryError(f"{self.describe()} must be rewritten against an index before it runs (Searcher does this)")


@dataclass(frozen=True)
class MatchedTerms(CoreQuery):
    """Documents whose ``field`` holds any of ``matched``, the terms a prefix, wildcard or
    regular expression expanded to, each scoring ``boost`` (Lucene's constant-score
    rewrite of its multi-term queries, which tantivy's follow too).

    Scoring the expansion term by term would rank a document by the rarest terms it
    holds, so a misspelling or a rare inflection (high idf) outranks the common words a
    user meant by ``talk*``; and it reads every posting's frequency and length and sums
    hundreds of scores per document, which made a short prefix cost a hundred
    milliseconds on a million documents. As a set, the terms' doc ids are read into one
    bitset and nothing else. ``pattern`` says, in explanations, what was expanded.
    """

    field: str
    matched: tuple[str, ...]
    boost: float = 1.0
    pattern: str = ""

    def terms(self) -> set[tuple[str, str]]:
        return {(self.field, term) for term in self.matched}

    def plan(self, builder: PlanBuilder) -> PlanNode:
        ranges: list[PlanNode] = []
        for term in self.matched:
            key = term.encode("utf-8", "surrogatepass")
            ranges.append(("terms", self.field, key, key, True, True))
        return ("const", ("bool", [], ranges, [], [], 1), float(self.boost))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        from searchlib.explain import Explanation, factor
        from searchlib.query.tree import _doc_position

        if _doc_position(self.matches(reader, context).docs, doc) < 0:
            return None
        return Explanation(self.boost, f"constant score of {self.pattern or 'a pattern'} in {self.field}, the same for "
                           f"every match of its {len(self.matched):,} term{'s' if len(self.matched) != 1 else ''}",
                           (factor(self.boost, "boost"),))


@dataclass(frozen=True)
class Prefix(PatternQuery):
    """Terms of ``field`` starting with ``prefix`` (already normalized, not stemmed; on a
    stemmed field, the terms of the written words starting with it)."""

    field: str
    prefix: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def core_spec(self) -> tuple[str, str, int, int]:
        return ("prefix", _core_text(self.prefix), 0, 0)

    def describe(self) -> str:
        return f"prefix {self.prefix}*"


@dataclass(frozen=True)
class Wildcard(PatternQuery):
    """Terms of ``field`` matching ``pattern``, where ``*`` is any run of characters and
    ``?`` any one character (on a stemmed field, the terms of the written words that
    match)."""

    field: str
    pattern: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def core_spec(self) -> tuple[str, str, int, int]:
        return ("wildcard", _core_text(self.pattern), 0, 0)

    def describe(self) -> str:
        return f"wildcard {self.pattern}"


def wildcard_regex(pattern: str) -> str:
    """A regular expression for a wildcard pattern: ``*`` any run, ``?`` one character.

    >>> wildcard_regex("t?lk*s")
    't.lk.*s'
    """
    import regex  # only a wildcard query needs it; its escaping is the dialect the core reads

    runs = regex.split(r"([*?])", pattern)
    return glob_regex(runs[0::2], runs[1::2])


def glob_regex(literals: Sequence[str], wilds: Sequence[str]) -> str:
    """The regular expression, for a whole-term match, of ``literals[0] wilds[0]
    literals[1] ...``: each wild is ``*`` (any run) or ``?`` (one character); literals
    match as written. It runs as an automaton (see :class:`Regex`), so no shape of
    pattern can make it backtrack.

    >>> glob_regex(["", "a", "a", "b"], "***")
    '.*a.*a.*b'
    """
    import regex

    pieces = [regex.escape(literals[0])]
    for wild, literal in zip(wilds, literals[1:]):
        pieces.append(".*" if wild == "*" else ".")
        pieces.append(regex.escape(literal))
    return "".join(pieces)


#: How long a query's wildcard, regex and fuzzy patterns may take to walk the index's
#: terms, all of them together in a search (an :class:`ExpansionBudget` gives each what
#: its predecessors left) or each alone elsewhere: a pattern that reads a whole large
#: dictionary, or many of them, stop there with PatternTimeout, which a lenient search
#: turns into a warning. A walk over all 26,000 terms of SciFact's text field takes
#: about a millisecond.
PATTERN_MATCH_SECONDS = 0.05


class PatternTimeout(QueryError):
    """A pattern took longer than PATTERN_MATCH_SECONDS to match a dictionary's terms."""


def _pattern_timeout(describe: str) -> PatternTimeout:
    return PatternTimeout(
        f"{describe} did not match the index's terms within the {PATTERN_MATCH_SECONDS * 1000:.0f} ms "
        "a query's patterns have (it reads too many terms, or the query holds too many patterns); simplify it"
    )


def _utf8(term: str) -> bytes:
    """A term's sort key: terms order by their UTF-8 bytes."""
    return term.encode("utf-8", "surrogatepass")


def _core_text(text: str) -> str:
    """``text`` as the core takes it: a lone surrogate cannot cross (no term holds one,
    terms being UTF-8), so it becomes U+FFFD, which no analyzer keeps either."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass(frozen=True)
class Regex(PatternQuery):
    """Terms of ``field`` that the regular expression ``pattern`` matches entirely (on a
    stemmed field, the terms of the written words it matches).

    The pattern is in the ``regex`` module's syntax and runs as an automaton, which
    cannot look around, refer back to a group, or hold atomic groups or possessive
    quantifiers: such a pattern is refused with a :class:`QueryError` naming what it
    uses."""

    field: str
    pattern: str
    boost: float = 1.0
    expansion: Expansion | None = None

    def __post_init__(self) -> None:
        try:
            compile_pattern(self.pattern)
        except ValueError as exc:
            raise QueryError(f"bad regular expression /{self.pattern}/: it {exc}") from None
        self.compiled()

    def core_spec(self) -> tuple[str, str, int, int]:
        return ("regex", _core_text(self.pattern), 0, 0)

    def describe(self) -> str:
        return f"regex /{self.pattern}/"


@dataclass(frozen=True)
class Fuzzy(PatternQuery):
    """Terms of ``field`` within ``max_edits`` edits of ``text`` (an insertion, deletion,
    substitution or transposition of two neighbours each count one), sharing its first
    ``prefix_length`` characters. ``text`` is a term (the parser stems the word), so the
    field's terms are searched, not its written words."""

    field: str
    text: str
    max_edits: int = 2
    prefix_length: int = 0
    boost: float = 1.0
    expansion: Expansion | None = None
    surface = False
    constant_score = False  # a near-miss ranks by its terms, as Lucene's fuzzy query does

    def __post_init__(self) -> None:
        if not 0 <= self.max_edits <= 2:
            raise QueryError(f"fuzzy edit distance must be 0, 1 or 2, got {self.max_edits}")

    def core_spec(self) -> tuple[str, str, int, int]:
        return ("fuzzy", _core_text(self.text), self.max_edits, max(0, self.prefix_length))

    def describe(self) -> str:
        return f"fuzzy {self.text}~{self.max_edits}"
