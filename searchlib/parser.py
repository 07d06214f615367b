"""Query parsing: from the text a user typed to a query tree.

This first parser reads plain words combined with OR. Default fields that share an
analyzer are searched together: each word becomes one :class:`~searchlib.query.CombinedTerm`
over them, scored by BM25F with each field's boost as its weight. A field with an analyzer
of its own gets a :class:`~searchlib.query.Term` per word, its boost multiplying the score.
Stop words and punctuation vanish in analysis, so a query made only of them parses to an
empty query that matches nothing. A word typed twice counts twice, as in Lucene.

>>> from searchlib.schema import Schema, TEXT
>>> QueryParser(Schema(body=TEXT())).parse("Direct talks")
Or(clauses=(Term(field='body', text='direct', boost=1.0), Term(field='body', text='talk', boost=1.0)), min_match=1)
>>> QueryParser(Schema(title=TEXT(boost=2.0), body=TEXT())).parse("talks").clauses
(CombinedTerm(fields=('title', 'body'), text='talk', weights=(2.0, 1.0), boost=1.0),)
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from searchlib.errors import QueryError
from searchlib.query import CombinedTerm, Or, Query, Term
from searchlib.schema import FieldAnalyzers, Schema


class QueryParser:
    """Turns query strings into query trees over ``fields`` (default: every text field)."""

    def __init__(
        self,
        schema: Schema,
        fields: Sequence[str] | None = None,
        analyzers: FieldAnalyzers | None = None,
    ) -> None:
        self.schema = schema
        self.fields = list(fields) if fields is not None else schema.text_fields()
        for name in self.fields:
            if not schema[name].is_indexed:
                raise QueryError(f"field {name!r} is not indexed and cannot be searched")
        self._analyzers = analyzers if analyzers is not None else FieldAnalyzers(schema)

    def parse(self, text: str) -> Query:
        """Parse ``text`` as plain words combined with OR."""
        if not isinstance(text, str):
            raise QueryError(f"a query must be a string, got {type(text).__name__}")
        clauses: list[Query] = []
        for group in self._field_groups():
            terms = self._analyzers.query(group[0]).term_list(text)
            if len(group) == 1:
                boost = self.schema[group[0]].boost
                clauses.extend(Term(group[0], term, boost) for term in terms)
            else:
                weights = tuple(self.schema[name].boost for name in group)
                clauses.extend(CombinedTerm(group, term, weights) for term in terms)
        return Or(clauses)

    def _field_groups(self) -> list[tuple[str, ...]]:
        """The default fields grouped by query analyzer, in the order they were given."""
        groups: dict[str, list[str]] = {}
        for name in self.fields:
            spec = json.dumps(self.schema[name].query_analyzer_spec, sort_keys=True)
            groups.setdefault(spec, []).append(name)
        return [tuple(names) for names in groups.values()]
