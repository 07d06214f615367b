"""Query trees, and their execution segment by segment with numpy.

A query is an immutable tree of nodes; :class:`~searchlib.parser.QueryParser` builds the
same nodes from text, and they compose in Python (``&``, ``|``, ``~``)::

    >>> Term("body", "direct") & ~Term("body", "war")
    And(clauses=(Term(field='body', text='direct', boost=1.0), Not(clause=Term(field='body', text='war', boost=1.0))))

Given a segment and a :class:`ScoringContext`, each node returns the matching live doc
ids of that segment with their scores (:class:`Matches`), computed over whole postings
arrays: no Python loop runs per posting. A search asks for all its segments at once
(:meth:`Query.matches_in`), so that a node can do its per-query work (an idf, a clause's
factors) once rather than once per segment. Scoring nodes (:class:`Term`,
:class:`CombinedTerm`, :class:`Phrase`) score with BM25 (see :mod:`searchlib.scoring`);
compound nodes sum their clauses' scores; :class:`Range` and :class:`MatchAll` give a
constant score (their boost); :class:`Not` and the ``filter`` clauses of :class:`Bool`
restrict without scoring.

Pattern nodes (:class:`Prefix`, :class:`Wildcard`, :class:`Fuzzy`, :class:`Regex`) are
rewritten before execution into an :class:`Or` of the terms they match in the index
(:meth:`Query.rewrite`), each scored as a :class:`Term`; how many terms they may expand to
is bounded (see :class:`Expansion`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import regex

from searchlib.analysis.tokenizers import compile_pattern
from searchlib.columns import INT64_RANGE, column_dtype, column_value
from searchlib.errors import QueryError
from searchlib.explain import Explanation, factor
from searchlib.grouping import sum_by_key
from searchlib.impacts import (
    MAX_CACHED_TERMS, ImpactArrays, ImpactCache, TermImpacts, impact_arrays, live_doc_counts, split_by_term,
)
from searchlib.limits import QueryLimits
from searchlib.schema import Schema
from searchlib.scoring import (
    DEFAULT_B,
    DEFAULT_K1,
    CollectionStats,
    FieldSet,
    Similarity,
    length_norms,
)
from searchlib.phrases import TermPositions, match_phrase
from searchlib.segment import Postings, SegmentReader, TermDictionary

#: Most terms a pattern query expands to unless told otherwise.
DEFAULT_MAX_EXPANSIONS = 1024
#: Segment-local doc ids: int64 once computed, uint32 straight from the postings.
DocIds = npt.NDArray[Any]
#: What a pattern query does past its bound: fail, or keep the most frequent terms.
OnTooMany = Literal["error", "keep_frequent"]


@dataclass(frozen=True)
class Matches:
    """Matching doc ids of one segment (ascending, live only) and their scores."""

    docs: DocIds
    scores: npt.NDArray[np.float64]

    @classmethod
    def empty(cls) -> Matches:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the segment: statistics, BM25 parameters, the schema."""

    stats: CollectionStats
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B
    similarity: Similarity = field(default_factory=Similarity)
    schema: Schema | None = None
    #: Where terms' tf parts are kept between queries (a searcher's), or None.
    impacts: ImpactCache | None = None


class TermSource(Protocol):
    """Where pattern queries find the terms they expand to (a searcher's segments)."""

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        """Every term of ``field_name`` that ``select`` picks, with its live doc frequency."""


class TermSelector(Protocol):
    """Picks terms of one segment's dictionary: their indexes there, ascending."""

    def __call__(self, dictionary: TermDictionary) -> Sequence[int]: ...


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


class Query(ABC):
    """A node of a query tree."""

    def terms(self) -> set[tuple[str, str]]:
        """Every (field, term) the query looks up: for highlighting."""
        return set()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        """Every (field set, term) whose statistics the scores need."""
        return set()

    def rewrite(self, source: TermSource) -> Query:
        """This query with pattern nodes replaced by the terms they match in ``source``."""
        return self

    @abstractmethod
    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        """Live docs of ``reader`` that match, with their scores."""

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        """:meth:`matches` in each of ``readers`` (the segments of one search), in order.

        A search asks for all its segments at once, so that a query can do the work
        its statistics need in every segment before scoring any (see
        :func:`_sums_of_terms`).
        """
        return [self.matches(reader, context) for reader in readers]

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        """Why ``doc`` of ``reader`` scores what it does; None when it does not match."""
        found = self.matches(reader, context)
        at = int(np.searchsorted(found.docs, doc))
        if at == len(found.docs) or found.docs[at] != doc:
            return None
        return factor(float(found.scores[at]), f"{self!r}")

    def __and__(self, other: Query) -> And:
        if not isinstance(other, Query):
            return NotImplemented  # "a" & 2 is a TypeError now, not a failure at search time
        return And([*_flat(self, And), *_flat(other, And)])

    def __or__(self, other: Query) -> Or:
        if not isinstance(other, Query):
            return NotImplemented
        return Or([*_flat(self, Or), *_flat(other, Or)])

    def __invert__(self) -> Not:
        return Not(self)


def pattern_fields(query: Query) -> set[str]:
    """The fields of the pattern nodes (prefix, wildcard, fuzzy, regex) in ``query``:
    what their expansions will be scored in, wherever they expand to nothing."""
    if isinstance(query, PatternQuery):
        return {query.field}
    found: set[str] = set()
    for value in vars(query).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Query):
                found |= pattern_fields(child)
    return found


def leaf_count(query: Query) -> int:
    """The leaves of ``query``: each term, phrase, pattern, range or match-all once per
    field it searches (a :class:`CombinedTerm` over two fields counts two), which is
    what Lucene's max clause count bounds. A measure of the work a query asks for."""
    if isinstance(query, CombinedTerm):
        return len(query.fields)
    if isinstance(query, MatchNone):
        return 0
    if not isinstance(query, (And, Or, Bool, Not, Filter, Boost)):
        return 1
    count = 0
    for value in vars(query).values():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Query):
                count += leaf_count(child)
    return count


def _flat(query: Query, kind: type[And] | type[Or]) -> tuple[Query, ...]:
    """The clauses of ``query`` if it is a plain ``kind`` node, else ``query`` itself."""
    if type(query) is kind and (kind is And or getattr(query, "min_match", 1) == 1):
        return query.clauses
    return (query,)


# --- scoring leaves ---------------------------------------------------------------------


def _constant_score(query: Range | MatchAll, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
    """A constant-score node's explanation: every match scores the node's boost."""
    found = query.matches(reader, context)
    if _doc_position(found.docs, doc) < 0:
        return None
    return Explanation(query.boost, f"constant score of {query!r}, the same for every match", (
        factor(query.boost, "boost"),
    ))


def _live_postings(
    reader: SegmentReader, field_name: str, term: str
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]] | None:
    """The live doc ids and term frequencies of a term in one field, or None."""
    postings = reader.postings(field_name, term)
    if postings is None:
        return None
    if reader.all_live:
        return postings.docs, postings.freqs
    is_live = reader.live[postings.docs]
    return postings.docs[is_live], postings.freqs[is_live]


def sum_by_doc(
    docs: Sequence[npt.NDArray[Any]], values: Sequence[npt.NDArray[np.float64]], size: int
) -> tuple[DocIds, npt.NDArray[np.float64], npt.NDArray[Any]]:
    """Per distinct doc id over several (docs, values) parts: the doc ids (ascending),
    the sum of their values and how many parts hold each.

    Few postings are grouped by sorting them; many, by one dense ``bincount`` over the
    segment, whichever touches less memory.
    """
    if len(docs) == 1:
        only = docs[0].astype(np.int64)
        return only, values[0], np.ones(len(only), dtype=np.int64)
    return _group(np.concatenate(docs).astype(np.int64, copy=False), np.concatenate(values), size)


def _doc_position(docs: DocIds, doc: int) -> int:
    at = int(np.searchsorted(docs, doc))
    return at if at < len(docs) and docs[at] == doc else -1


@dataclass(frozen=True)
class Term(Query):
    """Documents whose ``field`` holds the (already analyzed) ``text``, scored by BM25."""

    field: str
    text: str
    boost: float = 1.0

    def terms(self) -> set[tuple[str, str]]:
        return {(self.field, self.text)}

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return {((self.field,), self.text)}

    def _combined(self) -> CombinedTerm:
        # BM25 on one field is BM25F over that field alone: one scoring path for both.
        return CombinedTerm((self.field,), self.text, boost=self.boost)

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return _sums_of_terms([self], [reader], context)[0]

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        return _sums_of_terms([self], readers, context)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return self._combined().explain(reader, doc, context)


@dataclass(frozen=True)
class CombinedTerm(Query):
    """One analyzed term searched in several fields at once, scored by BM25F.

    Each field's term frequency is normalized by that field's length and multiplied by
    the field's weight; the weighted sum is saturated once and multiplied by the term's
    idf over the fields taken together (see :mod:`searchlib.scoring`). With one field it
    scores exactly like :class:`Term`.
    """

    fields: tuple[str, ...]
    text: str
    weights: tuple[float, ...] = ()
    boost: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.fields, str):
            raise TypeError(f"a CombinedTerm takes a sequence of fields, not the string {self.fields!r}")
        object.__setattr__(self, "fields", tuple(self.fields))  # lists would make it unhashable
        object.__setattr__(self, "weights", tuple(self.weights) or (1.0,) * len(self.fields))
        if len(self.weights) != len(self.fields) or not self.fields:
            raise ValueError("CombinedTerm needs one weight per field and at least one field")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError(f"CombinedTerm names a field twice: {self.fields}; give each field once, with its weight")

    def terms(self) -> set[tuple[str, str]]:
        return {(name, self.text) for name in self.fields}

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return {(self.fields, self.text)}

    def _idf(self, context: ScoringContext) -> float:
        stats = context.stats
        return context.similarity.idf_value(stats.doc_freq(self.fields, self.text), stats.field_doc_count(self.fields))

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return _sums_of_terms([self], [reader], context)[0]

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        return _sums_of_terms([self], readers, context)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        stats = context.stats
        fields_part: list[Explanation] = []
        pseudo_tf = 0.0
        for name, weight in zip(self.fields, self.weights):
            found = _live_postings(reader, name, self.text)
            at = -1 if found is None else _doc_position(found[0], doc)
            if found is None or at < 0:
                continue
            tf = int(found[1][at])
            length = int(reader.field_lengths(name)[doc])
            average = stats.average_length(name)
            norm = float(length_norms(reader, name, average, context.b)[doc])
            pseudo_tf += weight * tf / norm
            if reader.keeps_lengths(name):
                norm_part = Explanation(norm, "norm = 1 - b + b * dl / avgdl", (
                    factor(context.b, "b"), factor(length, "dl, field length"),
                    factor(average, "avgdl, average field length"),
                ))
            else:
                norm_part = factor(norm, "norm, 1: a KEYWORD or ID field keeps no lengths")
            fields_part.append(Explanation(weight * tf / norm, f"weight * tf / norm in {name}", (
                factor(weight, "field weight"), factor(tf, "tf, occurrences in the field"), norm_part,
            )))
        if not fields_part:
            return None
        fields = "+".join(self.fields)
        doc_freq = stats.doc_freq(self.fields, self.text)
        doc_count = stats.field_doc_count(self.fields)
        idf = self._idf(context)
        saturated = float(context.similarity.saturate(pseudo_tf, context.k1))
        score = self.boost * idf * saturated
        return Explanation(score, f"{context.similarity.name} BM25 of {fields}:{self.text} = boost * idf * tf part", (
            factor(self.boost, "boost"),
            Explanation(idf, "idf", (
                factor(doc_freq, "df, documents with the term"),
                factor(doc_count, "N, documents with the field"),
            )),
            Explanation(saturated, f"tf part, saturating x with k1: {context.similarity.tf_formula}", (
                factor(context.k1, "k1"),
                *((factor(delta, "delta, the variant's lower bound"),) if (delta := context.similarity.delta) else ()),
                Explanation(pseudo_tf, "x, sum over fields", tuple(fields_part)),
            )),
        ))


def _sums_of_terms(
    clauses: Sequence[Term | CombinedTerm], readers: Sequence[SegmentReader], context: ScoringContext
) -> list[Matches]:
    """An OR of terms (the everyday query) scored in a few whole-array steps per segment.

    Each clause's tf part per document comes from :mod:`searchlib.impacts`: from the
    context's cache for terms scored before, else computed for the other clauses
    together. The clauses' parts are multiplied by their clauses' boost times idf and
    summed per doc with one ``bincount``. Python work is per term; numpy work is a
    fixed number of passes over the postings, however many terms the query has.

    Every segment's tf parts come first, the idf after: computing a new term's parts
    in a segment counts its live documents there, which is that segment's share of
    the term's document frequency. Asked for before, the idf would count them again.
    """
    if not readers or not clauses:
        return [Matches.empty() for _ in readers]
    combined = [clause._combined() if isinstance(clause, Term) else clause for clause in clauses]
    pending = deque(_segment_impacts(combined, reader, context) for reader in readers)
    if all(found.is_empty for found in pending):
        return [Matches.empty() for _ in readers]  # no idf needed: nothing to score
    factors = _clause_factors(combined, context)
    positive = all(factor > 0.0 for factor in factors) and _positive_weights(combined)  # False on NaN
    # Taken off the queue as summed: each segment's arrays are freed once they are.
    return [_summed_impacts(pending.popleft(), factors, reader.doc_count, positive=positive) for reader in readers]


@dataclass(frozen=True)
class _SegmentImpacts:
    """Every clause's tf parts in one segment: computed together for all clauses
    (``computed``, when none was cached), or one entry per clause (``per_clause``)."""

    computed: ImpactArrays | None
    per_clause: list[TermImpacts | None] | None = None

    @property
    def is_empty(self) -> bool:
        """No clause has a live posting in the segment."""
        if self.per_clause is None:
            return self.computed is None
        return all(found is None for found in self.per_clause)


def _segment_impacts(
    clauses: Sequence[CombinedTerm], reader: SegmentReader, context: ScoringContext
) -> _SegmentImpacts:
    """The clauses' tf parts in ``reader``: cached ones looked up, the others computed
    together and offered to the cache."""
    cache = context.impacts
    if cache is None or cache.max_postings == 0 or len(clauses) > MAX_CACHED_TERMS:
        return _SegmentImpacts(_computed_impacts(reader, clauses, context))
    lookup = cache.look_up(reader, clauses, context)
    missing = lookup.missing
    computed = _computed_impacts(reader, [clauses[slot] for slot in missing], context) if missing else None
    cache.remember(lookup, computed)
    if len(missing) == len(clauses):  # nothing cached: the computed arrays are the query's
        return _SegmentImpacts(computed)
    found = lookup.found
    for slot, impacts in zip(missing, split_by_term(computed, len(missing))):
        found[slot] = impacts
    return _SegmentImpacts(None, found)


def _summed_impacts(impacts: _SegmentImpacts, factors: list[float], size: int, *, positive: bool) -> Matches:
    """One segment's matches: each clause's tf parts times its factor, summed per doc.

    ``positive`` says every factor and field weight is above 0 (see :func:`_sum_per_doc`).
    """
    if impacts.per_clause is None:
        arrays = impacts.computed
        if arrays is None:
            return Matches.empty()
        scores = arrays.tf_parts * np.array(factors).take(arrays.terms)
        if len(factors) == 1:  # one clause's docs ascend already
            return Matches(arrays.docs, scores)
        return _sum_per_doc(arrays.docs, scores, size, positive=positive)
    docs_parts: list[npt.NDArray[np.int64]] = []
    tf_parts: list[npt.NDArray[np.float64]] = []
    kept_factors: list[float] = []
    counts: list[int] = []
    for found, clause_factor in zip(impacts.per_clause, factors):
        if found is not None:
            docs_parts.append(found.docs)
            tf_parts.append(found.tf_parts)
            kept_factors.append(clause_factor)
            counts.append(len(found.docs))
    if not docs_parts:
        return Matches.empty()
    if len(docs_parts) == 1:  # one clause's docs ascend already
        return Matches(docs_parts[0], tf_parts[0] * kept_factors[0])
    docs = np.concatenate(docs_parts)
    scores = np.concatenate(tf_parts)
    scores *= np.repeat(kept_factors, counts)
    # Positive factors and tf parts make every match's score positive (a weight above 0
    # and x > 0 saturate above 0 in every variant), so a doc matches exactly when its
    # sum is above 0.
    return _sum_per_doc(docs, scores, size, positive=positive)


def _computed_impacts(
    reader: SegmentReader, terms: Sequence[CombinedTerm], context: ScoringContext
) -> ImpactArrays | None:
    """:func:`impact_arrays` of ``terms``, noting on the reader how many live documents
    hold each term: adding the term's fields up per document has just counted them, and
    that count is the document frequency the clauses' idf asks for next."""
    arrays = impact_arrays(reader, terms, context)
    for term, count in zip(terms, live_doc_counts(arrays, len(terms))):
        reader.note_live_doc_freq(term.fields, term.text, count)
    return arrays


def _clause_factors(clauses: Sequence[CombinedTerm], context: ScoringContext) -> list[float]:
    """Each clause's boost times its idf."""
    stats = context.stats
    idf = context.similarity.idf_value
    doc_counts: dict[FieldSet, int] = {}  # clauses mostly share their fields
    factors = []
    for clause in clauses:
        fields = clause.fields
        doc_count = doc_counts.get(fields)
        if doc_count is None:
            doc_count = doc_counts[fields] = stats.field_doc_count(fields)
        factors.append(clause.boost * idf(stats.doc_freq(fields, clause.text), doc_count))
    return factors


def _positive_weights(clauses: Sequence[CombinedTerm]) -> bool:
    checked: set[tuple[float, ...]] = set()  # clauses mostly share their weights
    for clause in clauses:
        if clause.weights not in checked:
            if min(clause.weights) <= 0.0:
                return False
            checked.add(clause.weights)
    return True


def _sum_per_doc(docs: DocIds, values: npt.NDArray[np.float64], size: int, *, positive: bool = False) -> Matches:
    """:func:`_group` without the counts: the matches of an OR, summed per doc.

    ``positive`` says every doc holds at least one positive value and none a negative
    one, so a doc's sum is nonzero exactly when it matches: no separate presence pass.
    """
    if len(docs) * 16 < size:
        groups = sum_by_key(docs.astype(np.int64, copy=False), values)
        return Matches(groups.keys, groups.sums)
    sums = np.asarray(np.bincount(docs, weights=values, minlength=size), dtype=np.float64)
    if positive:
        found = np.flatnonzero(sums > 0.0)
    else:
        is_present = np.zeros(size, dtype=bool)
        is_present[docs] = True
        found = np.flatnonzero(is_present)
    return Matches(found, sums.take(found))


def _group(
    docs: DocIds, values: npt.NDArray[np.float64], size: int
) -> tuple[DocIds, npt.NDArray[np.float64], npt.NDArray[Any]]:
    """Sum ``values`` per distinct doc id of ``docs`` (which may repeat): few postings by
    sorting them, many by one dense ``bincount`` over the segment, whichever touches
    less memory."""
    if len(docs) * 16 < size:
        groups = sum_by_key(docs.astype(np.int64, copy=False), values)
        return groups.keys, groups.sums, groups.counts()
    counts = np.bincount(docs, minlength=size)
    found = np.flatnonzero(counts != 0)  # a bool mask: several times faster than ints
    sums = np.asarray(np.bincount(docs, weights=values, minlength=size)[found], dtype=np.float64)
    return found, sums, counts[found]


@dataclass(frozen=True)
class Phrase(Query):
    """Documents where ``terms`` occur at ``positions`` relative to each other, allowing
    ``slop`` moves, scored by BM25 with the phrase's frequency as tf and the sum of its
    terms' idfs as idf (as Lucene does).

    ``positions`` (default 0, 1, 2, ...; never decreasing) are the query tokens'
    positions, so a stop word dropped from "talks of peace" leaves its gap. The rule is
    Lucene's: each query word takes its own document position (a word the phrase repeats
    needs as many occurrences), and the values ``position - positions[i]`` lie within
    ``slop`` of each other ("b a" needs slop 2 to match "a b"); with slop 0 a match is
    an exact occurrence. The phrase's frequency in a document (its tf) is the number of
    first-term positions where an occurrence starts: the first word there, and the first
    word's other slots, if it repeats, after it. The work grows with the positions of the
    documents that hold every term, not with the slop or the number of words alone
    (:mod:`searchlib.phrases`), so a slop past a field's length means "anywhere in the
    field, in any order".
    """

    field: str
    phrase_terms: tuple[str, ...]
    slop: int = 0
    positions: tuple[int, ...] = ()
    boost: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.phrase_terms, str):
            raise TypeError(f"a Phrase takes a sequence of terms, not the string {self.phrase_terms!r}")
        object.__setattr__(self, "phrase_terms", tuple(self.phrase_terms))
        if not self.positions:
            object.__setattr__(self, "positions", tuple(range(len(self.phrase_terms))))
        else:
            first = self.positions[0]
            object.__setattr__(self, "positions", tuple(p - first for p in self.positions))
        if len(self.positions) != len(self.phrase_terms) or not self.phrase_terms:
            raise ValueError("a Phrase needs at least one term and one position per term")
        if self.slop < 0:
            raise ValueError(f"a phrase's slop cannot be negative, got {self.slop}")
        if any(b < a for a, b in zip(self.positions, self.positions[1:])) or self.positions[-1] >= 1 << 31:
            raise ValueError(f"a phrase's positions must not decrease nor span 2**31, got {self.positions}")

    def terms(self) -> set[tuple[str, str]]:
        return {(self.field, term) for term in self.phrase_terms}

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return {((self.field,), term) for term in self.phrase_terms}

    def frequencies(self, reader: SegmentReader) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Live docs holding the phrase and the phrase's frequency in each: the docs that
        hold every term (as often as the phrase repeats it) first, then a few passes over
        their positions (:mod:`searchlib.phrases`)."""
        none = np.zeros(0, dtype=np.int64)
        needed: dict[str, int] = {}  # each query word takes its own position
        for term in self.phrase_terms:
            needed[term] = needed.get(term, 0) + 1
        distinct = list(needed)
        looked_up = [reader.positions(self.field, term) for term in distinct]
        found = [item for item in looked_up if item is not None]
        if len(found) < len(looked_up):
            return none, none
        candidates: npt.NDArray[np.int64] | None = None
        for (postings, _), term in sorted(zip(found, distinct), key=lambda item: len(item[0][0].docs)):
            if candidates is None:
                docs = postings.docs.astype(np.int64)
                if needed[term] > 1:
                    docs = docs[postings.freqs >= needed[term]]
                candidates = docs[reader.live[docs]]
            else:  # the rarest terms first: look the few candidates up in longer lists
                at = np.minimum(np.searchsorted(postings.docs, candidates), len(postings.docs) - 1)
                held = postings.docs[at] == candidates
                if needed[term] > 1:
                    held &= postings.freqs[at] >= needed[term]
                candidates = candidates[held]
            if not len(candidates):
                return none, none
        assert candidates is not None
        occurrences = [_candidate_positions(postings, positions, candidates) for postings, positions in found]
        index_of = {term: i for i, term in enumerate(distinct)}
        slots = [index_of[term] for term in self.phrase_terms]
        counts = match_phrase(occurrences, slots, self.positions, self.slop).frequencies(len(candidates))
        matched = np.flatnonzero(counts)
        return candidates[matched], counts[matched]

    def _idf(self, context: ScoringContext) -> float:
        stats = context.stats
        fields = (self.field,)
        return float(sum(
            context.similarity.idf(stats.doc_freq(fields, term), stats.field_doc_count(fields))
            for term in self.phrase_terms
        ))

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        docs, freqs = self.frequencies(reader)
        if not len(docs):
            return Matches.empty()
        norm = length_norms(reader, self.field, context.stats.average_length(self.field), context.b)[docs]
        saturated = context.similarity.saturate(freqs / norm, context.k1)
        return Matches(docs, self.boost * self._idf(context) * saturated)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        docs, freqs = self.frequencies(reader)
        at = _doc_position(docs, doc)
        if at < 0:
            return None
        stats = context.stats
        fields = (self.field,)
        length = int(reader.field_lengths(self.field)[doc])
        average = stats.average_length(self.field)
        norm = float(length_norms(reader, self.field, average, context.b)[doc])
        tf = int(freqs[at])
        saturated = float(context.similarity.saturate(tf / norm, context.k1))
        idf = self._idf(context)
        idfs = tuple(
            Explanation(float(context.similarity.idf(stats.doc_freq(fields, term), stats.field_doc_count(fields))),
                        f"idf of {term}", (factor(stats.doc_freq(fields, term), "df"),
                                           factor(stats.field_doc_count(fields), "N")))
            for term in self.phrase_terms
        )
        text = " ".join(self.phrase_terms)
        return Explanation(self.boost * idf * saturated,
                           f"{context.similarity.name} BM25 of {self.field}:\"{text}\"~{self.slop}", (
            factor(self.boost, "boost"),
            Explanation(idf, "idf, summed over the phrase's terms", idfs),
            Explanation(saturated, "tf part, saturating x = tf / norm with k1", (
                factor(tf, "tf, phrase occurrences"), factor(context.k1, "k1"), factor(context.b, "b"),
                factor(length, "dl, field length"), factor(average, "avgdl, average field length"),
            )),
        ))


def _candidate_positions(
    postings: Postings, positions: npt.NDArray[np.uint32], candidates: npt.NDArray[np.int64]
) -> TermPositions:
    """A term's positions in the ``candidates`` (ascending doc ids, all in ``postings``),
    each tagged with its document's rank among them: only those documents' positions are
    read."""
    at = np.searchsorted(postings.docs, candidates)
    ends = np.cumsum(postings.freqs, dtype=np.int64)
    counts = postings.freqs[at].astype(np.int64)
    ranks = np.repeat(np.arange(len(candidates), dtype=np.int64), counts)
    # Each occurrence's index in ``positions``: its posting's first one, plus its place there.
    steps = np.arange(len(ranks), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return TermPositions.of(ranks, positions[np.repeat(ends[at] - counts, counts) + steps])


# --- constant-score leaves ----------------------------------------------------------------


@dataclass(frozen=True)
class MatchAll(Query):
    """Every live document, each scoring ``boost``."""

    boost: float = 1.0

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        docs = np.flatnonzero(reader.live).astype(np.int64)
        return Matches(docs, np.full(len(docs), self.boost, dtype=np.float64))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return _constant_score(self, reader, doc, context)


@dataclass(frozen=True)
class MatchNone(Query):
    """No document (what a query of only stop words becomes)."""

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return Matches.empty()


RangeValue = int | float | str | dt.date | dt.datetime | bool | None


@dataclass(frozen=True)
class Range(Query):
    """Documents whose ``field`` lies between ``low`` and ``high`` (None: open end).

    NUMERIC, DATETIME and BOOLEAN fields compare their column values; KEYWORD, ID and
    TEXT fields compare terms by their UTF-8 bytes (so ``[a TO b]`` on a keyword field is
    alphabetical for ASCII). Matching documents score ``boost``.
    """

    field: str
    low: RangeValue = None
    high: RangeValue = None
    include_low: bool = True
    include_high: bool = True
    boost: float = 1.0

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        if context.schema is None or self.field not in context.schema:
            raise QueryError(f"range on unknown field {self.field!r}")
        definition = context.schema[self.field]
        if definition.is_column:
            docs = self._column_docs(reader, definition.kind, definition.numeric_type)
        elif definition.is_indexed:
            docs = self._term_docs(reader)
        else:
            raise QueryError(f"field {self.field!r} is not indexed; a range cannot search it")
        return Matches(docs, np.full(len(docs), self.boost, dtype=np.float64))

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return _constant_score(self, reader, doc, context)

    def _bound(self, value: RangeValue, kind: str, numeric_type: str | None) -> int | float:
        """``value`` as a number to compare a column with: a datetime as its microseconds,
        a boolean as 0 or 1. An int bound of an int field stays a Python int, exact at any
        size (one past the int64 range simply lies beyond every value); other numbers must
        be finite."""
        if numeric_type == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return column_value(kind, numeric_type if kind != "numeric" else "float", value, self.field)[0]
        except Exception as exc:
            raise QueryError(f"range on {self.field!r}: {exc}") from None

    def _column_docs(self, reader: SegmentReader, kind: str, numeric_type: str | None) -> npt.NDArray[np.int64]:
        column = reader.column(self.field)
        if column is None:
            return np.zeros(0, dtype=np.int64)
        values, present = column
        keep = present & reader.live
        if column_dtype(kind, numeric_type).kind == "f":
            if self.low is not None:
                low = self._bound(self.low, kind, numeric_type)
                keep &= (values >= low) if self.include_low else (values > low)
            if self.high is not None:
                high = self._bound(self.high, kind, numeric_type)
                keep &= (values <= high) if self.include_high else (values < high)
            return np.flatnonzero(keep).astype(np.int64)
        bounds = self._integer_bounds(kind, numeric_type)
        if bounds is None:
            return np.zeros(0, dtype=np.int64)
        lowest, highest = bounds
        if self.low is not None:
            keep &= values >= np.int64(lowest)
        if self.high is not None:
            keep &= values <= np.int64(highest)
        return np.flatnonzero(keep).astype(np.int64)

    def _integer_bounds(self, kind: str, numeric_type: str | None) -> tuple[int, int] | None:
        """The range as inclusive int64 bounds for a column of integers (NUMERIC int,
        DATETIME microseconds, BOOLEAN), or None when no int64 value lies in it.

        Worked out in Python ints: compared as float64, values past 2**53 (snowflake ids,
        nanosecond timestamps) round onto their neighbours and match bounds they are not
        equal to. A float bound rounds inwards exactly (``[1.5 TO 3]`` holds 2 and 3), and
        a bound past the int64 range is clamped, never overflowing the comparison.
        """
        lowest, highest = INT64_RANGE
        if self.low is not None:
            low = self._bound(self.low, kind, numeric_type)
            lowest = max(lowest, math.ceil(low) if self.include_low else math.floor(low) + 1)
        if self.high is not None:
            high = self._bound(self.high, kind, numeric_type)
            highest = min(highest, math.floor(high) if self.include_high else math.ceil(high) - 1)
        return (lowest, highest) if lowest <= highest else None

    def _term_docs(self, reader: SegmentReader) -> npt.NDArray[np.int64]:
        dictionary = reader.dictionary(self.field)
        if dictionary is None:
            return np.zeros(0, dtype=np.int64)
        start = 0 if self.low is None else dictionary.bound(_term_bytes(self.low), after=not self.include_low)
        end = len(dictionary) if self.high is None else dictionary.bound(_term_bytes(self.high), after=self.include_high)
        docs = np.unique(reader.docs_of_terms(self.field, start, end)).astype(np.int64)
        return docs[reader.live[docs]]


def _term_bytes(value: RangeValue) -> bytes:
    return str(value).encode("utf-8", "surrogatepass")


# --- pattern leaves: rewritten into terms ---------------------------------------------------


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
        from searchlib.fuzzy import within_edits

        prefix = self.text[: self.prefix_length]
        start, end = dictionary.prefix_range(prefix.encode("utf-8", "surrogatepass"))
        return [start + i for i in within_edits(dictionary.terms(start, end), self.text, self.max_edits)]

    def describe(self) -> str:
        return f"fuzzy {self.text}~{self.max_edits}"


# --- compound nodes -----------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class Bool(Query):
    """Lucene's boolean query: every ``must`` and ``filter`` clause matches, no
    ``must_not`` clause does, and at least ``min_should_match`` ``should`` clauses do
    (default: 1 when there is no ``must`` or ``filter`` clause, else 0). The score is the
    sum of the matching ``must`` and ``should`` clauses' scores; ``filter`` and
    ``must_not`` clauses never score. A Bool of only ``must_not`` clauses matches
    nothing, as in Lucene (:class:`Not` and :class:`And` add a match-all to exclude from)."""

    must: tuple[Query, ...] = ()
    should: tuple[Query, ...] = ()
    must_not: tuple[Query, ...] = ()
    filter: tuple[Query, ...] = ()
    min_should_match: int | None = None

    def __init__(
        self,
        must: Iterable[Query] = (),
        should: Iterable[Query] = (),
        must_not: Iterable[Query] = (),
        filter: Iterable[Query] = (),  # noqa: A002
        min_should_match: int | None = None,
    ) -> None:
        object.__setattr__(self, "must", tuple(must))
        object.__setattr__(self, "should", tuple(should))
        object.__setattr__(self, "must_not", tuple(must_not))
        object.__setattr__(self, "filter", tuple(filter))
        object.__setattr__(self, "min_should_match", min_should_match)

    def _children(self) -> tuple[Query, ...]:
        return (*self.must, *self.should, *self.must_not, *self.filter)

    def terms(self) -> set[tuple[str, str]]:
        return set().union(*(clause.terms() for clause in (*self.must, *self.should, *self.filter)))

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return set().union(*(clause.scored_terms() for clause in (*self.must, *self.should)))

    def rewrite(self, source: TermSource) -> Query:
        return Bool(
            [c.rewrite(source) for c in self.must], [c.rewrite(source) for c in self.should],
            [c.rewrite(source) for c in self.must_not], [c.rewrite(source) for c in self.filter],
            self.min_should_match,
        )

    @property
    def required_should(self) -> int:
        if self.min_should_match is not None:
            return self.min_should_match
        return 0 if (self.must or self.filter) else 1

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return self.matches_in([reader], context)[0]

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        # Each clause runs over every segment at once (see Query.matches_in), so that a
        # clause of terms does its per-query work once, not once per segment; the
        # clauses' matches are then combined segment by segment.
        needed = self.required_should
        if needed > len(self.should):
            return [Matches.empty() for _ in readers]
        must = [clause.matches_in(readers, context) for clause in self.must]
        filters = [clause.matches_in(readers, context) for clause in self.filter]
        should = [clause.matches_in(readers, context) for clause in self.should]
        return [
            self._segment_matches(
                reader,
                context,
                [found[at] for found in must] + [_unscored(found[at]) for found in filters],
                [found[at] for found in should],
            )
            for at, reader in enumerate(readers)
        ]

    def _segment_matches(
        self, reader: SegmentReader, context: ScoringContext, required: list[Matches], optional: list[Matches]
    ) -> Matches:
        """One segment's matches from its scoring clauses' (sparse throughout: each
        clause's (docs, scores) are grouped by doc id with sum_by_doc, so a query costs
        time in its postings, not in the segment's size), less the ``must_not`` clauses'
        documents. Those score nothing, so they run segment by segment, and only where
        something is left to exclude from."""
        needed = self.required_should
        size = reader.doc_count
        if required:
            docs, scores, counts = sum_by_doc([m.docs for m in required], [m.scores for m in required], size)
            keep = counts == len(required)
            docs, scores = docs[keep], scores[keep]
            if optional:
                docs, scores = self._add_optional(docs, scores, optional, needed, size)
        else:
            optional = [m for m in optional if len(m.docs)]
            if not optional:
                return Matches.empty()
            docs, scores, counts = sum_by_doc([m.docs for m in optional], [m.scores for m in optional], size)
            if needed > 1:
                keep = counts >= needed
                docs, scores = docs[keep], scores[keep]
        for clause in self.must_not:
            if not len(docs):
                break
            excluded = clause.matches(reader, context).docs
            if len(excluded):
                keep = ~_contains(excluded, docs)
                docs, scores = docs[keep], scores[keep]
        return Matches(docs, scores)

    @staticmethod
    def _add_optional(
        docs: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], optional: list[Matches], needed: int, size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Required docs with the scores of the optional clauses they match added, kept
        when they match at least ``needed`` of them."""
        parts = [m for m in optional if len(m.docs)]
        if not parts:
            return (docs, scores) if needed == 0 else (docs[:0], scores[:0])
        extra_docs, extra_scores, extra_counts = sum_by_doc([m.docs for m in parts], [m.scores for m in parts], size)
        at = np.minimum(np.searchsorted(extra_docs, docs), len(extra_docs) - 1)
        has_extra = extra_docs[at] == docs
        scores = scores + np.where(has_extra, extra_scores[at], 0.0)
        if needed:
            keep = has_extra & (extra_counts[at] >= needed)
            return docs[keep], scores[keep]
        return docs, scores

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        found = self.matches(reader, context)
        at = _doc_position(found.docs, doc)
        if at < 0:
            return None
        details = [
            explained for clause in (*self.must, *self.should)
            if (explained := clause.explain(reader, doc, context)) is not None
        ]
        if len(details) == 1 and math.isclose(details[0].value, float(found.scores[at])):
            return details[0]  # one scoring clause: its own explanation says it all
        return Explanation(float(found.scores[at]), "sum of the matching clauses:", tuple(details))


def _unscored(found: Matches) -> Matches:
    return Matches(found.docs, np.zeros(len(found.docs)))


def _contains(sorted_values: npt.NDArray[Any], values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """For each of ``values``, whether the ascending array ``sorted_values`` holds it."""
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[at] == values  # type: ignore[no-any-return]


class _BoolShaped(Query):
    """A compound node that runs as a :class:`Bool`."""

    @abstractmethod
    def as_bool(self) -> Bool: ...

    def terms(self) -> set[tuple[str, str]]:
        return self.as_bool().terms()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return self.as_bool().scored_terms()

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return self.as_bool().matches(reader, context)

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        return self.as_bool().matches_in(readers, context)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return self.as_bool().explain(reader, doc, context)


@dataclass(frozen=True, init=False)
class And(_BoolShaped):
    """Documents matching every clause; a :class:`Not` clause excludes instead."""

    clauses: tuple[Query, ...]

    def __init__(self, clauses: Iterable[Query]) -> None:
        object.__setattr__(self, "clauses", tuple(clauses))

    def as_bool(self) -> Bool:
        must = [clause for clause in self.clauses if not isinstance(clause, Not)]
        must_not = [clause.clause for clause in self.clauses if isinstance(clause, Not)]
        if not must:
            must = [MatchAll(0.0)] if must_not else []
        if not must:
            return Bool(should=[MatchNone()])
        return Bool(must=must, must_not=must_not)

    def rewrite(self, source: TermSource) -> Query:
        return And(clause.rewrite(source) for clause in self.clauses)


@dataclass(frozen=True, init=False)
class Or(_BoolShaped):
    """Documents matching at least ``min_match`` clauses; scores add up."""

    clauses: tuple[Query, ...]
    min_match: int = 1

    def __init__(self, clauses: Iterable[Query], min_match: int = 1) -> None:
        object.__setattr__(self, "clauses", tuple(clauses))
        object.__setattr__(self, "min_match", min_match)
        if min_match < 1:
            raise ValueError(f"min_match must be at least 1, got {min_match}")

    def as_bool(self) -> Bool:
        return Bool(should=self.clauses, min_should_match=self.min_match)

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return set().union(*(clause.scored_terms() for clause in self.clauses))

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        return self.matches_in([reader], context)[0]

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        if self.min_match == 1 and self.clauses and all(type(c) in (Term, CombinedTerm) for c in self.clauses):
            return _sums_of_terms(self.clauses, readers, context)  # type: ignore[arg-type]
        return self.as_bool().matches_in(readers, context)

    def rewrite(self, source: TermSource) -> Query:
        return Or((clause.rewrite(source) for clause in self.clauses), self.min_match)


@dataclass(frozen=True)
class Not(_BoolShaped):
    """Documents that do not match ``clause`` (scoring 0); inside :class:`And`, an exclusion."""

    clause: Query

    def as_bool(self) -> Bool:
        return Bool(must=[MatchAll(0.0)], must_not=[self.clause])

    def terms(self) -> set[tuple[str, str]]:
        return set()

    def rewrite(self, source: TermSource) -> Query:
        return Not(self.clause.rewrite(source))


@dataclass(frozen=True)
class Filter(_BoolShaped):
    """Documents matching both; only ``query`` scores (``filter`` just restricts)."""

    query: Query
    filter: Query

    def as_bool(self) -> Bool:
        return Bool(must=[self.query], filter=[self.filter])

    def rewrite(self, source: TermSource) -> Query:
        return Filter(self.query.rewrite(source), self.filter.rewrite(source))


@dataclass(frozen=True)
class Boost(Query):
    """``query`` with its scores multiplied by ``factor``."""

    query: Query
    factor: float

    def terms(self) -> set[tuple[str, str]]:
        return self.query.terms()

    def scored_terms(self) -> set[tuple[FieldSet, str]]:
        return self.query.scored_terms()

    def rewrite(self, source: TermSource) -> Query:
        return Boost(self.query.rewrite(source), self.factor)

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        found = self.query.matches(reader, context)
        return Matches(found.docs, found.scores * self.factor)

    def matches_in(self, readers: Sequence[SegmentReader], context: ScoringContext) -> list[Matches]:
        return [Matches(found.docs, found.scores * self.factor) for found in self.query.matches_in(readers, context)]

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        inner = self.query.explain(reader, doc, context)
        if inner is None:
            return None
        return Explanation(inner.value * self.factor, "boost * score", (factor(self.factor, "boost"), inner))


__all__ = [
    "And", "Bool", "Boost", "CombinedTerm", "Expansion", "Filter", "Fuzzy", "MatchAll", "MatchNone",
    "Matches", "Not", "Or", "Phrase", "Prefix", "Query", "Range", "Regex", "ScoringContext", "Term",
    "Wildcard",
]
