"""Query parsing: from the text a user typed to a query tree.

This first parser reads plain words: each word is analyzed with the analyzer of every
default field, and the resulting terms are combined with OR, each weighted by its
field's boost. Stop words and punctuation vanish in analysis, so a query made only of
them parses to an empty query that matches nothing.

>>> from searchlib.schema import Schema, TEXT
>>> QueryParser(Schema(body=TEXT())).parse("Direct talks")
Or(clauses=(Term(field='body', text='direct', boost=1.0), Term(field='body', text='talk', boost=1.0)))
"""

from __future__ import annotations

from collections.abc import Sequence

from searchlib.errors import QueryError
from searchlib.query import Or, Query, Term
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
        for name in self.fields:
            boost = self.schema[name].boost
            for term in self._analyzers[name].terms(text):
                if term is not None:
                    clauses.append(Term(name, term, boost))
        return Or(clauses)
