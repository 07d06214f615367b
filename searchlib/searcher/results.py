"""What a search returns: :class:`Results`, one page of ranked :class:`Hit` objects with
the exact number of matching documents; a hit reads its stored fields and snippets on
demand, through its searcher.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from searchlib import highlight
from searchlib.explain import Explanation
from searchlib.query import Query, ScoringContext
from searchlib.segment import SegmentReader

if TYPE_CHECKING:
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
        before: str | None = None,
        after: str | None = None,
    ) -> str:
        """Up to ``count`` fragments as plain text (each match between ``before`` and
        ``after``, by default ``[`` and ``]``), ANSI colour or HTML (each match between
        ``before`` and ``after`` as given, by default ``<mark>`` and ``</mark>``, and the
        text escaped), joined by ellipses where text is left out.

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

    def to_dict(
        self,
        *,
        fields: Collection[str] | None = None,
        exclude: Collection[str] = (),
        max_field_chars: int | None = None,
        snippets: bool = True,
        count: int = 1,
        width: int = highlight.DEFAULT_WIDTH,
        explain: bool = False,
    ) -> dict[str, Any]:
        """This hit as plain data for JSON (the shape ``searchlib query --json`` prints
        per hit): ``rank``, ``id``, ``score``, the stored ``fields`` and, with
        ``snippets``, its snippet as plain text, HTML and spans.

        A web page rarely wants a hit's whole body: ``fields`` keeps only the stored
        fields named, ``exclude`` leaves the named ones out, and ``max_field_chars``
        leaves out any text longer than that many characters, naming what was left out
        in ``omitted_fields`` (snippets still come from the whole stored text).
        ``count`` and ``width`` shape the snippet as in :meth:`snippet`; ``explain``
        adds the score's explanation."""
        stored = self.fields
        kept: dict[str, Any] = {}
        omitted: list[str] = []
        for name, value in stored.items():
            if (fields is not None and name not in fields) or name in exclude:
                continue
            if max_field_chars is not None and isinstance(value, str) and len(value) > max_field_chars:
                omitted.append(name)
                continue
            kept[name] = value
        data: dict[str, Any] = {"rank": self.rank, "id": self.id, "score": self.score, "fields": kept}
        if omitted:
            data["omitted_fields"] = omitted
        if snippets:
            fragments = self.fragments(count=count, width=width)
            data.update({
                "snippet": highlight.format_plain(fragments),
                "snippet_html": highlight.format_html(fragments),
                "snippet_spans": highlight.format_spans(fragments),  # offsets into fields[snippet_field]
                "snippet_field": fragments[0].field,
                "snippet_is_opening": fragments[0].is_opening,
                "snippet_truncated": fragments[0].is_truncated,
            })
        if explain:
            data["explanation"] = self.explain().to_json()
        return data

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

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> Hit:
        return self.hits[index]

    def to_dict(
        self,
        *,
        fields: Collection[str] | None = None,
        exclude: Collection[str] = (),
        max_field_chars: int | None = None,
        snippets: bool = True,
        count: int = 1,
        width: int = highlight.DEFAULT_WIDTH,
        explain: bool = False,
    ) -> dict[str, Any]:
        """This page as plain data for JSON, exactly what ``searchlib query --json``
        prints (less the CLI's did-you-mean): the query's text, ``total``, ``offset``,
        ``warnings`` and each hit as :meth:`Hit.to_dict` gives it with these options."""
        text = highlight.query_text(self.query)
        return {
            "query": text if text is not None else str(self.query),
            "total": self.total,
            "offset": self.offset,
            "warnings": list(self.warnings),
            "hits": [
                hit.to_dict(fields=fields, exclude=exclude, max_field_chars=max_field_chars, snippets=snippets,
                            count=count, width=width, explain=explain)
                for hit in self.hits
            ],
        }

    #: The hits' snippets by the arguments they were asked with (see :meth:`Hit.snippet`).
    _snippets: dict[tuple[Any, ...], tuple[tuple[Hit, ...], list[str]]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        page = weakref.ref(self)
        for hit in self.hits:
            hit._page = page
