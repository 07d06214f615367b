"""What a search returns: :class:`Results`, one page of ranked :class:`Hit` objects with
the exact number of matching documents; a hit reads its stored fields and snippets on
demand, through its searcher.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from searchlib import highlight
from searchlib.explain import Explanation
from searchlib.query import Query, ScoringContext
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
    from searchlib.searcher.facets import FacetResult
    from searchlib.searcher.searcher import Searcher


SnippetFormat = Literal["plain", "ansi", "html"]


@dataclass
class Hit:
    """One ranked result: its rank (1-based), score, and stored fields on demand.

    A hit keeps its segment open, so it stays usable after its searcher is closed.
    """

    rank: int
    score: float
    segment: int
    doc: int
    searcher: Searcher = field(repr=False)
    query: Query = field(repr=False)
    reader: SegmentReader = field(repr=False)
    context: ScoringContext = field(repr=False)
    _fields: dict[str, Any] | None = field(default=None, repr=False)
    #: The page this hit came on, whose snippets are made together.
    _page: weakref.ref[Results] | None = field(default=None, repr=False, compare=False)

    def explain(self) -> Explanation:
        """Why this hit scored what it did (see :meth:`Searcher.explain`)."""
        return self.searcher.explain(self)

    @property
    def fields(self) -> dict[str, Any]:
        """The document's stored fields."""
        if self._fields is None:
            self._fields = self.reader.stored_fields(self.doc)
        return self._fields

    @property
    def id(self) -> str:
        """The value of the schema's ID field, or the hit's internal address."""
        value = self.reader.id_value(self.doc)
        return value if value is not None else f"{self.segment}:{self.doc}"

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def fragments(
        self,
        field_name: str | None = None,
        *,
        count: int = 1,
        width: int = highlight.DEFAULT_WIDTH,
        max_chars: int | None = None,
    ) -> list[highlight.Fragment]:
        """Up to ``count`` fragments of a stored text field (by default the field that
        matches best), in text order (see :meth:`Searcher.fragments`)."""
        return self.searcher.fragments(self, field_name, count=count, width=width, max_chars=max_chars)

    def fragment(
        self, field_name: str | None = None, *, width: int = highlight.DEFAULT_WIDTH, max_chars: int | None = None
    ) -> highlight.Fragment:
        """The best fragment of a stored text field (by default the one matching best)."""
        return self.fragments(field_name, width=width, max_chars=max_chars)[0]

    def snippet(
        self,
        field_name: str | None = None,
        *,
        format: SnippetFormat = "plain",  # noqa: A002
        width: int = highlight.DEFAULT_WIDTH,
        count: int = 1,
        max_chars: int | None = None,
        before: str = "[",
        after: str = "]",
    ) -> str:
        """Up to ``count`` fragments as plain text (each match between ``before`` and
        ``after``), ANSI colour or HTML, joined by ellipses where text is left out.

        The first snippet asked of a page makes those of all its hits, alike, in one call
        into the core (a page's snippets are nearly always shown together)."""
        style = format if format in ("html", "ansi") else "plain"
        page = self._page() if self._page is not None else None
        key = (field_name, style, width, count, max_chars, before, after)
        if page is None:
            return self.searcher.snippets([self], field_name, style=style, width=width, count=count,
                                          max_chars=max_chars, before=before, after=after)[0]
        hits, made = page._snippets.get(key, ((), []))
        if hits != tuple(page.hits):  # the same hits (compared by identity first)
            hits = tuple(page.hits)
            made = self.searcher.snippets(hits, field_name, style=style, width=width, count=count,
                                          max_chars=max_chars, before=before, after=after)
            page._snippets[key] = (hits, made)
        for hit, snippet in zip(hits, made):
            if hit is self:
                return snippet
        return self.searcher.snippets([self], field_name, style=style, width=width, count=count,
                                      max_chars=max_chars, before=before, after=after)[0]

    @property
    def is_truncated(self) -> bool:
        """Whether a stored text field of this hit is longer than its searcher's
        ``highlight_max_chars``, so that its snippets come from that many first
        characters only (each :class:`~searchlib.highlight.Fragment` says it too)."""
        limit = self.searcher.highlight_max_chars
        return any(
            isinstance(value, str) and len(value) > limit
            for name, value in self.fields.items()
            if name in self.searcher.schema and self.searcher.schema[name].is_text
        )


@dataclass
class Results:
    """The hits of one page of results and the number of matching documents (exact
    unless the search was asked not to count them all: see :attr:`total_is_exact`)."""

    query: Query
    total: int
    hits: list[Hit]
    offset: int = 0
    context: ScoringContext | None = None
    #: What a lenient search cut to keep the query within its limits (a pattern kept
    #: to its most frequent terms, a query cut to its first clauses), as sentences a
    #: user can read; empty when the query ran as written.
    warnings: list[str] = field(default_factory=list)
    #: Whether :attr:`total` counts every match; False only after ``search(...,
    #: exact_total=False)`` pruned a segment, where it is a lower bound.
    total_is_exact: bool = True
    #: What ``search(..., facets=...)`` counted over every match, by facet name (the
    #: field's name unless the facet was given another); empty when none was asked.
    facets: dict[str, FacetResult] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    #: The hits' snippets by the arguments they were asked with (see :meth:`Hit.snippet`).
    _snippets: dict[tuple[Any, ...], tuple[tuple[Hit, ...], list[str]]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        page = weakref.ref(self)
        for hit in self.hits:
            hit._page = page
