"""What a search returns: :class:`Results`, one page of ranked :class:`Hit` objects with
the exact number of matching documents; a hit reads its stored fields and snippets on
demand, through its searcher.
"""

from __future__ import annotations

# weakref's ref itself, from the built-in module weakref wraps: the weakref module loads
# types and itertools, a few milliseconds of a searching process's start-up.
from _weakref import ref as weak_ref

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator
    from typing import Any, Literal

    from searchlib.explain import Explanation
    from searchlib.highlight import Fragment
    from searchlib.query import Query, ScoringContext
    from searchlib.searcher.facets import FacetResult
    from searchlib.searcher.searcher import Searcher
    from searchlib.segment import SegmentReader

    SnippetFormat = Literal["plain", "ansi", "html"]


def __getattr__(name: str) -> Any:
    """``SnippetFormat`` for code that evaluates annotations at run time: built on first
    use, so that a search does not import :mod:`typing`."""
    if name == "SnippetFormat":
        from typing import Literal

        return Literal["plain", "ansi", "html"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DeferredQuery:
    """The query tree and scoring context of a search that ran without them (a plain
    search runs from its text in the core), built the first time a hit or the results
    ask for them: most searches never do."""

    __slots__ = ("_built", "searcher", "strict", "text")

    def __init__(self, searcher: Searcher, text: str, strict: bool) -> None:
        self.searcher = searcher
        self.text = text
        self.strict = strict
        self._built: tuple[Query, ScoringContext] | None = None

    def get(self) -> tuple[Query, ScoringContext]:
        if self._built is None:
            from searchlib import highlight

            tree, context = self.searcher.prepare(self.text, strict=self.strict)
            highlight.remember_text(tree, self.text)  # snippets prefer the words as typed
            self._built = (tree, context)
        return self._built


class Hit:
    """One ranked result: its rank (1-based), score, and stored fields on demand.

    A hit keeps its segment open, so it stays usable after its searcher is closed.
    ``query`` and ``context`` may be given as one :class:`DeferredQuery` (``context``
    None), which builds them when first read.
    """

    __slots__ = ("__weakref__", "_context", "_deferred", "_fields", "_id", "_page", "_query", "doc", "rank",
                 "reader", "score", "searcher", "segment")

    def __init__(
        self,
        rank: int,
        score: float,
        segment: int,
        doc: int,
        searcher: Searcher,
        query: Query | DeferredQuery,
        reader: SegmentReader,
        context: ScoringContext | None,
        _fields: dict[str, Any] | None = None,
        _page: weak_ref[Results] | None = None,
        _id: str | None | bool = False,
    ) -> None:
        self.rank = rank
        self.score = score
        self.segment = segment
        self.doc = doc
        self.searcher = searcher
        self.reader = reader
        self._deferred = query if type(query) is DeferredQuery else None
        self._query = None if self._deferred is not None else query
        self._context = context
        self._fields = _fields
        #: The page this hit came on, whose snippets are made together.
        self._page = _page
        #: The ID field's value when the search read it with the hit (None: the
        #: document has none), False when it is read on first use.
        self._id = _id

    @property
    def query(self) -> Query:
        """The query this hit matched (its tree)."""
        if self._query is None and self._deferred is not None:
            self._query, self._context = self._deferred.get()
        return self._query  # type: ignore[return-value]

    @property
    def query_source(self) -> Query | DeferredQuery:
        """What this hit's query is known by without building it: the hits of one search
        share it (their deferred query, for a plain search; else their tree)."""
        return self._deferred if self._deferred is not None else self._query  # type: ignore[return-value]

    @property
    def context(self) -> ScoringContext:
        """How the hit was scored (statistics, BM25 parameters)."""
        if self._context is None and self._deferred is not None:
            self._query, self._context = self._deferred.get()
        return self._context  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Hit(rank={self.rank!r}, score={self.score!r}, segment={self.segment!r}, doc={self.doc!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Hit)
        return (self.rank, self.score, self.segment, self.doc) == (other.rank, other.score, other.segment, other.doc) \
            and self.searcher is other.searcher and self.reader is other.reader

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

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
        value = self._id
        if value is False:
            value = self._id = self.reader.store.id_value(self.doc)
        return value if value is not None else f"{self.segment}:{self.doc}"  # type: ignore[return-value]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def fragments(
        self,
        field_name: str | None = None,
        *,
        count: int = 1,
        width: int | None = None,
        max_chars: int | None = None,
    ) -> list[Fragment]:
        """Up to ``count`` fragments of a stored text field (by default the field that
        matches best), in text order (see :meth:`Searcher.fragments`)."""
        return self.searcher.fragments(self, field_name, count=count, width=width, max_chars=max_chars)

    def fragment(
        self, field_name: str | None = None, *, width: int | None = None, max_chars: int | None = None
    ) -> Fragment:
        """The best fragment of a stored text field (by default the one matching best)."""
        return self.fragments(field_name, width=width, max_chars=max_chars)[0]

    def snippet(
        self,
        field_name: str | None = None,
        *,
        format: SnippetFormat = "plain",  # noqa: A002
        width: int | None = None,
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
        width: int | None = None,
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
            from searchlib import highlight

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


class Results:
    """The hits of one page of results and the number of matching documents (exact
    unless the search was asked not to count them all: see :attr:`total_is_exact`).

    ``query`` (with ``context`` None) may be a :class:`DeferredQuery`, which builds the
    tree when first read."""

    def __init__(
        self,
        query: Query | DeferredQuery,
        total: int,
        hits: list[Hit],
        offset: int = 0,
        context: ScoringContext | None = None,
        warnings: list[str] | None = None,
        total_is_exact: bool = True,
        facets: dict[str, FacetResult] | None = None,
    ) -> None:
        self._deferred = query if type(query) is DeferredQuery else None
        self._query = None if self._deferred is not None else query
        self._context = context
        self.total = total
        self.hits = hits
        self.offset = offset
        #: What a lenient search cut to keep the query within its limits (a pattern kept
        #: to its most frequent terms, a query cut to its first clauses), as sentences a
        #: user can read; empty when the query ran as written.
        self.warnings: list[str] = [] if warnings is None else warnings
        #: Whether :attr:`total` counts every match; False only after ``search(...,
        #: exact_total=False)`` pruned a segment, where it is a lower bound.
        self.total_is_exact = total_is_exact
        #: What ``search(..., facets=...)`` counted over every match, by facet name (the
        #: field's name unless the facet was given another); empty when none was asked.
        self.facets: dict[str, FacetResult] = {} if facets is None else facets
        #: The hits' snippets by the arguments they were asked with (see :meth:`Hit.snippet`).
        self._snippets: dict[tuple[Any, ...], tuple[tuple[Hit, ...], list[str]]] = {}
        page = weak_ref(self)
        for hit in hits:
            hit._page = page

    @property
    def query(self) -> Query:
        """The query the hits matched (its tree)."""
        if self._query is None and self._deferred is not None:
            self._query, self._context = self._deferred.get()
        return self._query  # type: ignore[return-value]

    @property
    def context(self) -> ScoringContext | None:
        """How the hits were scored (statistics, BM25 parameters)."""
        if self._context is None and self._deferred is not None:
            self._query, self._context = self._deferred.get()
        return self._context

    def __repr__(self) -> str:
        return (f"Results(total={self.total!r}, hits={self.hits!r}, offset={self.offset!r}, "
                f"warnings={self.warnings!r}, total_is_exact={self.total_is_exact!r}, facets={self.facets!r})")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Results)
        return (self.total, self.hits, self.offset, self.warnings, self.total_is_exact, self.facets) == (
            other.total, other.hits, other.offset, other.warnings, other.total_is_exact, other.facets)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

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
        width: int | None = None,
        explain: bool = False,
    ) -> dict[str, Any]:
        """This page as plain data for JSON, exactly what ``searchlib query --json``
        prints (less the CLI's did-you-mean): the query's text, ``total``, ``offset``,
        ``warnings``, each hit as :meth:`Hit.to_dict` gives it with these options, and
        ``facets`` when the search counted any."""
        from searchlib.highlight import query_text

        text = query_text(self.query)
        data: dict[str, Any] = {
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
        if self.facets:
            data["facets"] = {name: facet.to_dict() for name, facet in self.facets.items()}
        return data
