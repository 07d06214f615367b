"""More like this: a query for documents similar to a given one.

As in Lucene's MoreLikeThis, the document's stored text is analyzed again, each of its
terms is weighted by tf * idf (frequent in the document, rare in the index), and the
``max_terms`` best become an OR query, each term boosted by its weight relative to the
best one. Terms that only this document holds (document frequency below
``min_doc_freq``) are skipped: they cannot find anything else. The document itself is
excluded from the results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from searchlib.analysis import Analyzer
from searchlib.errors import SchemaError
from searchlib.query import Bool, Matches, Query, ScoringContext, Term
from searchlib.schema import Schema
from searchlib.scoring import bm25_idf
from searchlib.segment import SegmentReader

if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    import numpy as np

#: How many terms the query keeps, and how many documents a term must be in to count.
DEFAULT_MAX_TERMS = 25
DEFAULT_MIN_DOC_FREQ = 2


class CollectionView(Protocol):
    """What more like this needs of a searcher (:class:`searchlib.searcher.Searcher`
    is one): the schema, the analyzers, and the collection's statistics."""

    @property
    def schema(self) -> Schema: ...

    @property
    def analyzers(self) -> Mapping[str, Analyzer]: ...

    def doc_freq(self, field_name: str, term: str) -> int: ...

    def documents_with_field(self, field_name: str) -> int: ...


class SourceHit(Protocol):
    """The document more like this starts from (a :class:`searchlib.searcher.Hit`):
    its stored fields, its ID value, and where it lies."""

    @property
    def fields(self) -> dict[str, Any]: ...

    @property
    def id(self) -> str: ...

    @property
    def doc(self) -> int: ...

    @property
    def reader(self) -> SegmentReader: ...


@dataclass(frozen=True)
class SourceDocument(Query):
    """One document, named by its segment and its number there: how more like this
    leaves out the document it starts from when no ID field names it."""

    segment: str
    doc: int

    def matches(self, reader: SegmentReader, context: ScoringContext) -> Matches:
        import numpy as np
        if reader.meta.name != self.segment or not reader.live[self.doc]:
            return Matches.empty()
        return Matches(np.array([self.doc], dtype=np.int64), np.zeros(1, dtype=np.float64))


def distinctive_terms(
    searcher: CollectionView,
    hit: SourceHit,
    fields: Sequence[str],
    max_terms: int = DEFAULT_MAX_TERMS,
    min_doc_freq: int = DEFAULT_MIN_DOC_FREQ,
) -> list[tuple[str, str, float]]:
    """The document's best (field, term, tf * idf) triples, best first."""
    weighted: list[tuple[str, str, float]] = []
    for name in fields:
        text = hit.fields.get(name)
        if not isinstance(text, str):
            continue
        counts = Counter(searcher.analyzers[name].term_list(text))
        documents = searcher.documents_with_field(name)
        for term, tf in counts.items():
            doc_freq = searcher.doc_freq(name, term)
            if doc_freq >= min_doc_freq:
                weighted.append((name, term, tf * float(bm25_idf(doc_freq, documents))))
    weighted.sort(key=lambda item: (-item[2], item[0], item[1]))
    return weighted[:max_terms]


def more_like_this_query(
    searcher: CollectionView,
    hit: SourceHit,
    fields: Sequence[str] | None = None,
    max_terms: int = DEFAULT_MAX_TERMS,
    min_doc_freq: int = DEFAULT_MIN_DOC_FREQ,
) -> Query:
    """An OR of the document's most distinctive terms that excludes the document."""
    schema = searcher.schema
    chosen = list(fields) if fields is not None else [
        name for name in schema.text_fields() if schema[name].stored
    ]
    for name in chosen:
        if name not in schema or not (schema[name].is_text and schema[name].stored):
            raise SchemaError(f"more like this needs stored text fields; {name!r} is not one")
    terms = distinctive_terms(searcher, hit, chosen, max_terms, min_doc_freq)
    if not terms:
        return Bool(should=[])
    best = terms[0][2]
    should = [Term(name, term, weight / best) for name, term, weight in terms]
    id_field = schema.id_field
    source: Query = SourceDocument(hit.reader.meta.name, hit.doc) if id_field is None else Term(id_field, hit.id)
    return Bool(should=should, must_not=[source])
