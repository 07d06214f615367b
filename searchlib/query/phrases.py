"""The phrase node, :class:`Phrase`: matched in the compiled core, which intersects the
words' postings and matches their positions segment by segment (the rule is in
``core/src/query/phrase.rs``). A search hands the core a "phrase" plan node, which it
matches and scores inside the search's one call; :meth:`Phrase.matches` and
:meth:`Phrase.explain` read one segment's matches through
``searchlib._core.phrase_matches`` and score them here with the same formula.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from searchlib import _core
from searchlib.explain import Explanation, factor
from searchlib.query.tree import Matches, Query, ScoringContext, _doc_position
from searchlib.scoring import FieldSet, length_norms
from searchlib.segment import SegmentReader

if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    import numpy as np
    import numpy.typing as npt
    from searchlib.query.plan import PlanBuilder, PlanNode

#: Slops past this change nothing (positions and offsets are below 2**32), and the core
#: takes a 64-bit slop: larger ones are clamped here.
_SLOP_LIMIT = 1 << 40


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
    documents that hold every term, not with the slop, so a slop past a field's length
    means "anywhere in the field, in any order".
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
        """Live docs holding the phrase and the phrase's frequency in each. One call into
        the core per segment intersects the words' postings (rarest first, a repeated
        word only where it occurs often enough), decodes the positions of the documents
        left and matches them (``searchlib._core.phrase_matches``, over the rule above)."""
        import numpy as np
        slop = min(self.slop, _SLOP_LIMIT)
        docs_bytes, freqs_bytes = _core.phrase_matches(
            reader.core, self.field, list(self.phrase_terms), list(self.positions), slop
        )
        docs = np.frombuffer(docs_bytes, dtype="<u4").astype(np.int64)
        freqs = np.frombuffer(freqs_bytes, dtype="<u4").astype(np.int64)
        if not reader.all_live and len(docs):
            live = reader.live[docs]
            docs, freqs = docs[live], freqs[live]
        return docs, freqs

    def plan(self, builder: PlanBuilder) -> PlanNode:
        """Matched and scored in the core, segment by segment, within the search's one
        call: ``boost * idf`` times the saturated ``frequency / norm`` (:meth:`matches`'s
        formula)."""
        context = builder.context
        return (
            "phrase", self.field, list(zip(self.phrase_terms, self.positions)), min(self.slop, _SLOP_LIMIT),
            self.boost * self._idf(context), float(context.stats.average_length(self.field)),
        )

    def _idf(self, context: ScoringContext) -> float:
        stats = context.stats
        fields = (self.field,)
        doc_freqs = [stats.doc_freq(fields, term) for term in self.phrase_terms]
        return context.similarity.idf_sum(doc_freqs, stats.field_doc_count(fields))

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

