"""The phrase node, :class:`Phrase`: documents holding every word are found from the
postings, then their positions are matched by :mod:`searchlib.query.positions`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from searchlib.explain import Explanation, factor
from searchlib.query.positions import TermPositions, match_phrase
from searchlib.query.tree import Matches, Query, ScoringContext, _doc_position
from searchlib.scoring import FieldSet, length_norms
from searchlib.segment import Postings, SegmentReader


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
    (:mod:`searchlib.query.positions`), so a slop past a field's length means "anywhere in the
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
        their positions (:mod:`searchlib.query.positions`)."""
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
