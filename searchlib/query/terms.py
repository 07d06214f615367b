"""Term nodes: :class:`Term` (one field, BM25) and :class:`CombinedTerm` (several
fields, BM25F), and the whole-array scoring of an OR of terms that both run through
(:func:`_sums_of_terms`), with the tf parts kept between queries by
:mod:`searchlib.query.impacts`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from searchlib.explain import Explanation, factor
from searchlib.grouping import sum_by_key
from searchlib.query.impacts import (
    MAX_CACHED_TERMS, ImpactArrays, TermImpacts, impact_arrays, live_doc_counts, split_by_term,
)
from searchlib.query.tree import DocIds, Matches, Query, ScoringContext, _doc_position
from searchlib.scoring import FieldSet, length_norms
from searchlib.segment import SegmentReader


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

    Each clause's tf part per document comes from :mod:`searchlib.query.impacts`: from the
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
