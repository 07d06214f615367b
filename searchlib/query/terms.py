"""Term nodes: :class:`Term` (one field, BM25) and :class:`CombinedTerm` (several
fields, BM25F). Both run in the compiled core as one BM25F leaf (``core/src/query``),
which also explains their scores, part by part, with the functions that computed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchlib import _core
from searchlib.query.plan import PlanBuilder, PlanNode
from searchlib.query.tree import CoreQuery, ScoringContext
from searchlib.scoring import FieldSet
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.explain import Explanation


@dataclass(frozen=True)
class Term(CoreQuery):
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

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return builder.term((self.field,), (1.0,), self.text, self.boost)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        return self._combined().explain(reader, doc, context)


@dataclass(frozen=True)
class CombinedTerm(CoreQuery):
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

    def plan(self, builder: PlanBuilder) -> PlanNode:
        return builder.term(self.fields, self.weights, self.text, self.boost)

    def explain(self, reader: SegmentReader, doc: int, context: ScoringContext) -> Explanation | None:
        """The core's parts of this term's score in ``doc``: each field's tf, length and
        norm, x, the saturation, the idf from df and N (the parts the core scored with)."""
        from searchlib.explain import Explanation, factor

        leaf = PlanBuilder([reader], context).term(self.fields, self.weights, self.text, self.boost)
        found = _core.explain(
            [reader.query_segment], 0, leaf, context.similarity.name, float(context.k1), float(context.b), int(doc)
        )
        if found is None:
            return None
        score, _, idf, doc_freq, doc_count, pseudo_tf, saturated, parts = found
        fields_part: list[Explanation] = []
        for name, weight, tf, length, average, norm, keeps_lengths, value in parts:
            if keeps_lengths:
                norm_part = Explanation(norm, "norm = 1 - b + b * dl / avgdl", (
                    factor(context.b, "b"), factor(length, "dl, field length"),
                    factor(average, "avgdl, average field length"),
                ))
            else:
                norm_part = factor(norm, "norm, 1: a KEYWORD or ID field keeps no lengths")
            fields_part.append(Explanation(value, f"weight * tf / norm in {name}", (
                factor(weight, "field weight"), factor(tf, "tf, occurrences in the field"), norm_part,
            )))
        fields = "+".join(self.fields)
        return Explanation(score, f"{context.similarity.name} BM25 of {fields}:{self.text} = boost * idf * tf part", (
            factor(self.boost, "boost"),
            Explanation(idf, "idf", (
                factor(doc_freq, "df, documents with the term"),
                factor(int(doc_count), "N, documents with the field"),
            )),
            Explanation(saturated, f"tf part, saturating x with k1: {context.similarity.tf_formula}", (
                factor(context.k1, "k1"),
                *((factor(delta, "delta, the variant's lower bound"),) if (delta := context.similarity.delta) else ()),
                Explanation(pseudo_tf, "x, sum over fields", tuple(fields_part)),
            )),
        ))
