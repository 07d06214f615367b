"""Whoosh's ``Searcher``, ``Results``, ``ResultsPage`` and ``Hit`` on searchlib's searcher.

A document's number (``hit.docnum``) is its place in the searcher's snapshot, counting
segment after segment. ``len(results)`` is the number of matching documents and
``scored_length()`` the number of hits returned, as in Whoosh. Scores are searchlib's
BM25 (Lucene's), not Whoosh's BM25F, so they differ in value, seldom in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from searchlib import query as sl
from searchlib.compat.whoosh import Refusing, Unsupported, refuse_unknown
from searchlib.compat.whoosh.query import Query, as_searchlib
from searchlib.searcher import Searcher as SearchlibSearcher
from searchlib.searcher.results import Hit as SearchlibHit

if TYPE_CHECKING:
    from searchlib.compat.whoosh.index import Index

#: Whoosh's default highlight markup: ``<b class="match term0">word</b>``.
_BEFORE, _AFTER = '<b class="match term0">', "</b>"


class Searcher(Refusing):
    def __init__(self, index: Index) -> None:
        self.ixobj = index
        self.schema = index.schema
        self._searcher = SearchlibSearcher(index.searchlib_index.reopen())
        self._offsets: list[int] = []
        start = 0
        for reader in self._searcher.readers:
            self._offsets.append(start)
            start += reader.doc_count

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._searcher.close()

    def doc_count(self) -> int:
        return self._searcher.doc_count

    def doc_count_all(self) -> int:
        return sum(reader.doc_count for reader in self._searcher.readers)

    def up_to_date(self) -> bool:
        return self._searcher.index.generation == self._searcher.index.reopen().generation

    def refresh(self) -> Searcher:
        return Searcher(self.ixobj)

    def _address(self, docnum: int) -> tuple[int, int]:
        for segment in range(len(self._offsets) - 1, -1, -1):
            if docnum >= self._offsets[segment]:
                return segment, docnum - self._offsets[segment]
        raise IndexError(f"no document number {docnum}")

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        segment, doc = self._address(docnum)
        return self._searcher.readers[segment].stored_fields(doc)

    def key_of(self, docnum: int) -> str | None:
        segment, doc = self._address(docnum)
        return self._searcher.readers[segment].id_value(doc)

    def _match(self, fields: dict[str, Any]) -> sl.Query:
        clauses = [Term_of(self.schema, name, value) for name, value in fields.items()]
        return sl.And(clauses) if clauses else sl.MatchAll()

    def documents(self, **fields: Any) -> Iterator[dict[str, Any]]:
        """The stored fields of every document whose fields hold the values given."""
        for hit in self._searcher.search(self._match(fields), limit=max(1, self.doc_count())):
            yield hit.fields

    def document(self, **fields: Any) -> dict[str, Any] | None:
        return next(self.documents(**fields), None)

    def all_stored_fields(self) -> Iterator[dict[str, Any]]:
        return self.documents()

    def search(self, q: Query | sl.Query, limit: int | None = 10, sortedby: Any = None, reverse: bool = False,
               filter: Any = None, mask: Any = None, terms: bool = False, scored: bool = True,  # noqa: A002
               **options: Any) -> Results:
        refuse_unknown("Searcher.search", options, ("optimize",))
        return self._search(q, 0, limit, sortedby, reverse, filter, mask, terms)

    def search_page(self, q: Query | sl.Query, pagenum: int, pagelen: int = 10, **options: Any) -> ResultsPage:
        if pagenum < 1:
            raise ValueError("pagenum must be at least 1")
        sortedby, reverse = options.pop("sortedby", None), options.pop("reverse", False)
        filter_, mask, terms = options.pop("filter", None), options.pop("mask", None), options.pop("terms", False)
        refuse_unknown("Searcher.search_page", options, ("optimize", "scored"))
        results = self._search(q, 0, pagenum * pagelen, sortedby, reverse, filter_, mask, terms)
        return ResultsPage(results, pagenum, pagelen)

    def _search(self, q: Query | sl.Query, offset: int, limit: int | None, sortedby: Any, reverse: bool,
                filter_: Any, mask: Any, terms: bool) -> Results:
        tree = as_searchlib(q)
        restriction = self._restriction(filter_, mask)
        sort = self._sort(sortedby, reverse)
        if limit is None:
            limit = max(1, self.doc_count())
        found = self._searcher.search(tree, limit=limit, offset=offset, sort=sort, filter=restriction)
        hits = [Hit(self, hit, place) for place, hit in enumerate(found.hits)]
        return Results(self, tree, hits, found.total, terms)

    def _restriction(self, filter_: Any, mask: Any) -> sl.Query | None:
        parts: list[sl.Query] = []
        if filter_ is not None:
            parts.append(self._as_docs(filter_))
        if mask is not None:
            parts += [sl.MatchAll(), sl.Not(self._as_docs(mask))]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else sl.And(parts)

    def _as_docs(self, value: Any) -> sl.Query:
        if isinstance(value, (Query, sl.Query)):
            return as_searchlib(value)
        raise Unsupported("a filter or mask given as document numbers or Results (give a query)")

    def _sort(self, sortedby: Any, reverse: bool) -> str | None:
        if sortedby is None:
            if reverse:
                raise Unsupported("reverse=True without sortedby (scores descend)")
            return None
        if isinstance(sortedby, (list, tuple)):
            if len(sortedby) != 1:
                raise Unsupported("sorting by several fields")
            sortedby = sortedby[0]
        if not isinstance(sortedby, str):
            raise Unsupported(f"sortedby={sortedby!r} (give a field name)")
        return f"-{sortedby}" if reverse else sortedby

    def lexicon(self, fieldname: str) -> list[bytes]:
        terms: set[str] = set()
        for reader in self._searcher.readers:
            dictionary = reader.dictionary(fieldname)
            if dictionary is not None:
                terms.update(dictionary.terms())
        return [term.encode("utf-8") for term in sorted(terms)]

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self._searcher.doc_freq(fieldname, text)

    def reader(self) -> Any:
        from searchlib.compat.whoosh.reading import IndexReader

        return IndexReader(self._searcher)

    def is_atomic(self) -> bool:
        return len(self._searcher.readers) <= 1

    def __getattr__(self, name: str) -> Any:
        # As Whoosh's searcher does, hand the reader's methods on (counts, terms, lengths).
        from searchlib.compat.whoosh.reading import IndexReader

        if not name.startswith("_") and hasattr(IndexReader, name):
            return getattr(self.reader(), name)
        return super().__getattr__(name)

    def suggest(self, fieldname: str, text: str, limit: int = 5, **options: Any) -> list[str]:
        return [s.word for s in self._searcher.suggest(text, fields=[fieldname], limit=limit)]

    def correct_query(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("Searcher.correct_query (use searchlib's Searcher.did_you_mean)")

    @property
    def searchlib_searcher(self) -> SearchlibSearcher:
        return self._searcher


def Term_of(schema: Any, name: str, value: Any) -> sl.Query:  # noqa: N802
    """The query for ``name=value`` in ``documents()``."""
    if isinstance(value, bool | int | float):
        return sl.Range(name, value, value)
    return sl.Term(name, str(value))


class Hit(Refusing):
    """One hit: its stored fields as a read-only mapping, plus Whoosh's methods."""

    def __init__(self, searcher: Searcher, hit: SearchlibHit, place: int) -> None:
        self.searcher = searcher
        self._hit = hit
        self.pos = place
        self.rank = place
        self.score = hit.score
        self.docnum = searcher._offsets[hit.segment] + hit.doc
        self._terms: set[tuple[str, bytes]] | None = None

    def fields(self) -> dict[str, Any]:
        return dict(self._hit.fields)

    def __getitem__(self, name: str) -> Any:
        return self._hit.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._hit.fields.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._hit.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._hit.fields)

    def __len__(self) -> int:
        return len(self._hit.fields)

    def keys(self) -> Any:
        return self._hit.fields.keys()

    def values(self) -> Any:
        return self._hit.fields.values()

    def items(self) -> Any:
        return self._hit.fields.items()

    def __repr__(self) -> str:
        return f"<Hit {self._hit.fields!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hit) and (self.docnum, self.score) == (other.docnum, other.score)

    __hash__ = None  # type: ignore[assignment]

    def highlights(self, fieldname: str, text: str | None = None, top: int = 3, minscore: int = 1) -> str:
        """The best ``top`` fragments of the stored field with the query's words marked
        as Whoosh marks them; empty when the field is not stored or nothing matched."""
        if text is not None:
            raise Unsupported("highlights(text=...) on text not stored in the index")
        if fieldname not in self._hit.fields:
            return ""
        if not any(field == fieldname for field, _ in self._hit.query.terms()):
            return ""  # Whoosh marks only the query's words in this field
        fragments = self._hit.fragments(fieldname, count=top)
        if not fragments or fragments[0].is_opening:
            return ""
        return "...".join(self._hit.snippet(fieldname, count=top, before=_BEFORE, after=_AFTER,
                                            format="html").split("…"))

    def more_like_this(self, fieldname: str, text: str | None = None, top: int = 10, **options: Any) -> Any:
        raise Unsupported("Hit.more_like_this")

    def matched_terms(self) -> list[tuple[str, bytes]]:
        results = self._terms_owner
        return sorted(results._matched_terms_of(self))

    _terms_owner: Results


class Results(Refusing):
    """A search's hits (those scored) and the number of matching documents."""

    def __init__(self, searcher: Searcher, query: sl.Query, hits: list[Hit], total: int, terms: bool) -> None:
        self.searcher = searcher
        self.q = query
        self.top_n = hits
        self._total = total
        self._terms = terms
        self._docs_of_term: dict[tuple[str, str], set[int]] = {}
        for hit in hits:
            hit._terms_owner = self

    def __len__(self) -> int:
        return self._total

    def scored_length(self) -> int:
        return len(self.top_n)

    def estimated_length(self) -> int:
        return self._total

    def estimated_min_length(self) -> int:
        return self._total

    def has_exact_length(self) -> bool:
        return True

    def is_empty(self) -> bool:
        return self._total == 0

    @overload
    def __getitem__(self, n: int) -> Hit: ...

    @overload
    def __getitem__(self, n: slice) -> list[Hit]: ...

    def __getitem__(self, n: int | slice) -> Hit | list[Hit]:
        return self.top_n[n]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.top_n)

    def __bool__(self) -> bool:
        return not self.is_empty()

    def __repr__(self) -> str:
        return f"<Top {len(self.top_n)} Results for {self.q!r}>"

    def docs(self) -> set[int]:
        return {hit.docnum for hit in self.top_n}

    def copy(self) -> Results:
        return Results(self.searcher, self.q, list(self.top_n), self._total, self._terms)

    def fields(self, n: int) -> dict[str, Any]:
        return self.top_n[n].fields()

    def score(self, n: int) -> float:
        return self.top_n[n].score

    def docnum(self, n: int) -> int:
        return self.top_n[n].docnum

    def has_matched_terms(self) -> bool:
        return self._terms

    def matched_terms(self) -> set[tuple[str, bytes]]:
        found: set[tuple[str, bytes]] = set()
        for hit in self.top_n:
            found |= self._matched_terms_of(hit)
        return found

    def _matched_terms_of(self, hit: Hit) -> set[tuple[str, bytes]]:
        if not self._terms:
            raise Unsupported("matched_terms() without search(..., terms=True)")
        found = set()
        for field, text in sorted(self.q.terms()):
            docs = self._docs_of_term.get((field, text))
            if docs is None:
                matched = self.searcher.searchlib_searcher.search(sl.Term(field, text), limit=max(1, self.searcher.doc_count()))
                docs = self._docs_of_term[(field, text)] = {
                    self.searcher._offsets[h.segment] + h.doc for h in matched.hits}
            if hit.docnum in docs:
                found.add((field, text.encode("utf-8")))
        return found

    def key_terms(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("Results.key_terms")

    def groups(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("Results.groups (grouping)")

    def facet_names(self) -> Any:
        raise Unsupported("Results.facet_names (use searchlib's facets)")

    def upgrade(self, *args: Any, **kwargs: Any) -> None:
        raise Unsupported("Results.upgrade")

    def extend(self, *args: Any, **kwargs: Any) -> None:
        raise Unsupported("Results.extend")

    def filter(self, *args: Any, **kwargs: Any) -> None:
        raise Unsupported("Results.filter")


class ResultsPage(Refusing):
    """One page of results (``search_page``)."""

    def __init__(self, results: Results, pagenum: int, pagelen: int = 10) -> None:
        self.results = results
        self.total = len(results)
        self.pagelen = pagelen
        self.pagecount = max(1, math.ceil(self.total / pagelen)) if pagelen else 1
        self.pagenum = min(pagenum, self.pagecount)
        self.offset = (self.pagenum - 1) * pagelen
        if self.offset + pagelen > self.total:
            self.pagelen = max(0, self.total - self.offset)

    def __len__(self) -> int:
        return self.total

    def scored_length(self) -> int:
        return self.pagelen

    def _hits(self) -> Sequence[Hit]:
        return self.results[self.offset:self.offset + self.pagelen]

    def __getitem__(self, n: int) -> Hit:
        return self._hits()[n]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self._hits())

    def is_last_page(self) -> bool:
        return self.pagecount == 0 or self.pagenum == self.pagecount

    def docnum(self, n: int) -> int:
        return self[n].docnum

    def score(self, n: int) -> float:
        return self[n].score
