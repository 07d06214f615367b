"""Searching a sharded index with global statistics, ranking as one index would.

A search is Elasticsearch's "DFS query then fetch", in three fan-outs over the shards:

1. *Statistics*: each shard gathers what scoring the query reads there
   (:meth:`Searcher.collection_stats <searchlib.searcher.Searcher.collection_stats>`:
   document counts, field lengths, the document frequency of every term, patterns
   expanded first); the sums are the statistics of the whole collection.
2. *Query*: each shard ranks its documents with those statistics (``stats=``), so a
   document scores what it would in one index, and returns its best ``offset + limit``
   as light records (score, sort value, order number, address), its total and its facet
   counts (every value, so that the merged top values are exact).
3. *Fetch*: the merged page's stored fields (and snippets) are read from the shards
   that hold its hits.

The merge orders records as one index orders hits: by score (or by the sort field,
then score), and equal ones in the order their documents were added to the sharded
index (the order column every shard keeps), which is the order one index built from the
same documents lists them in.

A shard that fails or does not answer within ``timeout`` raises
:class:`~searchlib.distributed.errors.ShardError` naming it; with ``partial=True`` the
search goes on without it and the results list it in ``missing_shards``.

Patterns expand on each shard over its own terms, which gives one index's expansion as
long as a pattern stays within its expansion limit; past it (``keep_frequent``), each
shard keeps its own most frequent terms.
"""

from __future__ import annotations

import dataclasses
import sys
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from searchlib.distributed.errors import ShardError
from searchlib.distributed.execution import Call, InlineRunner, Outcome
from searchlib.distributed.manifest import ORDER_FIELD
from searchlib.errors import QueryError, SearchlibError

if TYPE_CHECKING:
    from searchlib.distributed.index import Runner, ShardedIndex
    from searchlib.explain import Explanation
    from searchlib.highlight import Fragment
    from searchlib.query import Query
    from searchlib.scoring import CollectionStats
    from searchlib.searcher import Searcher
    from searchlib.searcher.facets import Facet, FacetResult, FacetSpec, RangeFacet

#: A facet asked of a shard lists every value, so that the merged counts are exact.
ALL_VALUES = 2**62


# --- the shard's side ------------------------------------------------------------------------


class HeldShard:
    """A shard searched in this process: its searcher, opened once (a snapshot), or the
    error opening it raised, reported by every search."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        from searchlib.searcher import Searcher

        self.path = path
        self._searcher: Searcher | None = None
        self._error: Exception | None = None
        try:
            self._searcher = Searcher(path, **options)
        except Exception as exc:  # noqa: BLE001  # reported with the shard by each search
            self._error = exc

    def searcher(self, generation: int | None) -> Searcher:
        if self._searcher is None:
            assert self._error is not None
            raise self._error
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()


#: Searchers a worker process keeps open, by (shard path, options, generation).
_WORKER_SEARCHERS: dict[tuple[str, tuple[tuple[str, Any], ...], int], Searcher] = {}


@dataclass(frozen=True)
class WorkerShard:
    """A shard searched on a cluster's workers: what a worker needs to open it. Each
    worker keeps the shard's searchers open between queries; a query names the
    generation its first step saw, so its three steps read one snapshot."""

    path: str
    options: tuple[tuple[str, Any], ...]

    def searcher(self, generation: int | None) -> Searcher:
        from searchlib.index import Index
        from searchlib.searcher import Searcher

        wanted = Index.open(self.path).generation if generation is None else generation
        key = (self.path, self.options, wanted)
        found = _WORKER_SEARCHERS.get(key)
        if found is None:
            found = Searcher(self.path, **dict(self.options))
            if found.index.generation != wanted:
                raise SearchlibError(f"the shard changed during the query (generation {wanted} is gone); search again")
            for old in [k for k in _WORKER_SEARCHERS if k[:2] == key[:2] and k[2] < wanted - 1]:
                _WORKER_SEARCHERS.pop(old).close()  # two generations kept: queries under way
            _WORKER_SEARCHERS[key] = found
        return found


@dataclass(frozen=True)
class Request:
    """One query as every shard runs it: ``query`` is text until the first step has
    parsed it, then the tree (patterns expanded over every shard) the others run."""

    query: str | Query
    filter: str | Query | None
    strict: bool
    k1: float | None = None
    b: float | None = None
    similarity: str | None = None
    #: The query's text, for snippets that prefer its words as typed.
    text: str | None = None


def _tree(searcher: Searcher, request: Request, warnings: list[str] | None = None) -> Query:
    """The query tree a search of ``request`` runs (the filter joined as a Filter)."""
    from searchlib.query import Filter

    tree = request.query
    if isinstance(tree, str):
        tree = searcher.parse(tree, strict=request.strict, warnings=warnings)
    query_filter = request.filter
    if isinstance(query_filter, str):
        query_filter = searcher.parse(query_filter, strict=request.strict, warnings=warnings) \
            if query_filter.strip() else None
    return tree if query_filter is None else Filter(tree, query_filter)


def _patterns(query: Query) -> list[Any]:
    """The pattern nodes (prefix, wildcard, fuzzy, regex) of ``query``, in tree order."""
    if "searchlib.query.patterns" not in sys.modules:  # none exists before its module loads
        return []
    from searchlib.query import Query as QueryNode
    from searchlib.query.patterns import PatternQuery

    if isinstance(query, PatternQuery):
        return [query]
    found: list[Any] = []
    for value in vars(query).values():
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, QueryNode):
                found.extend(_patterns(child))
    return found


def _expansion_key(pattern: Any) -> Any:
    """A pattern as its expansion is looked up by (its boost and limit aside)."""
    return dataclasses.replace(pattern, boost=1.0, expansion=None)


@dataclass
class Parsed:
    """What step 1 gives of a shard: the query's tree, the terms each of its patterns
    matches on the shard (with their live document counts), and, for a query without
    patterns, the shard's statistics for it."""

    generation: int
    tree: Query
    expansions: dict[Any, dict[str, int]]
    stats: CollectionStats | None
    warnings: list[str]


def shard_parse(shard: HeldShard | WorkerShard, request: Request) -> Parsed:
    """Step 1 on a shard: parse the query; expand its patterns over the shard's terms
    (every match: the search cuts the merged expansion, as one index cuts its own); or,
    with no pattern in it, gather the statistics scoring it reads."""
    searcher = shard.searcher(None)
    warnings: list[str] = []
    tree = _tree(searcher, request, warnings)
    expansions: dict[Any, dict[str, int]] = {}
    for pattern in _patterns(tree):
        from searchlib.query.patterns import SegmentPicker

        key = _expansion_key(pattern)
        if key not in expansions:
            expansions[key] = searcher.matching_terms(pattern.field, SegmentPicker(pattern, None))
    stats = None if expansions else searcher.collection_stats(tree)
    return Parsed(searcher.index.generation, tree, expansions, stats, warnings)


class _MergedTerms:
    """The terms each pattern matches over every shard, for the expansion of one index:
    a term a shard found through its words as written is searched in every shard."""

    def __init__(self, parts: Sequence[dict[Any, dict[str, int]]]) -> None:
        self.found: dict[Any, dict[str, int]] = {}
        for part in parts:
            for key, terms in part.items():
                merged = self.found.setdefault(key, {})
                for term, count in terms.items():
                    merged[term] = merged.get(term, 0) + count

    def matching_terms(self, field_name: str, select: Any) -> dict[str, int]:
        return dict(self.found.get(_expansion_key(select.pattern), {}))


def shard_statistics(shard: HeldShard | WorkerShard, generation: int, tree: Query) -> CollectionStats:
    """Step 1b on a shard (for a query with patterns, expanded): every statistic scoring
    the expanded tree reads."""
    return shard.searcher(generation).collection_stats(tree)


@dataclass(frozen=True)
class Record:
    """One ranked document of a shard, as light as the merge needs it."""

    score: float
    order: int
    has_value: bool
    value: Any
    segment: int
    doc: int
    id: str


@dataclass
class ShardPage:
    """What step 2 gives of one shard."""

    total: int
    total_is_exact: bool
    records: list[Record]
    facets: dict[str, FacetResult]
    warnings: list[str]


def shard_top(shard: HeldShard | WorkerShard, generation: int, request: Request, stats: CollectionStats, k: int,
              sort: str | None, exact_total: bool, facets: list[Facet | RangeFacet]) -> ShardPage:
    """Step 2 on a shard: its best ``k`` documents scored with the global statistics."""
    searcher = shard.searcher(generation)
    results = searcher.search(
        request.query, limit=k, sort=sort, filter=request.filter, strict=request.strict, stats=stats,
        k1=request.k1, b=request.b, similarity=request.similarity, exact_total=exact_total, facets=facets or None,
    )
    sort_field, descending = searcher._sort_field(sort)
    records = []
    for hit in results.hits:
        order = _order(hit.reader, hit.doc)
        has_value, value = (False, None) if sort_field is None else _sort_value(searcher, sort_field, descending,
                                                                             hit.segment, hit.doc)
        records.append(Record(hit.score, order, has_value, value, hit.segment, hit.doc, hit.id))
    return ShardPage(results.total, results.total_is_exact, records, results.facets, results.warnings)


def _order(reader: Any, doc: int) -> int:
    """The document's order number: when it was added to the sharded index."""
    column = reader.column(ORDER_FIELD)
    return int(column[0][doc]) if column is not None and column[1][doc] else -1


#: Each searcher's KEYWORD values in order, by field: what a term rank stands for.
_VOCABULARIES: weakref.WeakKeyDictionary[Searcher, dict[str, list[bytes]]] = weakref.WeakKeyDictionary()


def _sort_value(searcher: Searcher, field_name: str, descending: bool, segment: int, doc: int) -> tuple[bool, Any]:
    """Whether the document has a value to sort by, and the value, comparable across
    shards: a column's value, or a KEYWORD field's term (its smallest ascending, its
    largest descending, as a searcher orders them)."""
    key = searcher._sort_keys_of(field_name)[segment]
    if not key.present[doc]:
        return False, None
    value = key.ordering(descending)[doc].item()
    if searcher.schema[field_name].is_column:
        return True, value
    vocabularies = _VOCABULARIES.setdefault(searcher, {})
    terms = vocabularies.get(field_name)
    if terms is None:
        every: set[bytes] = set()
        for reader in searcher.readers:
            dictionary = reader.dictionary(field_name)
            if dictionary is not None:
                every.update(dictionary[i] for i in range(len(dictionary)))
        terms = vocabularies[field_name] = sorted(every)
    return True, terms[value]


def shard_fetch(shard: HeldShard | WorkerShard, generation: int, request: Request, stats: CollectionStats,
                addresses: list[tuple[int, int]], snippets: dict[str, Any] | None, explain: bool = False
                ) -> list[Fetched]:
    """Step 3 on a shard: the stored fields of its hits on the page, with ``snippets``
    (:meth:`Searcher.fragments`'s ``count`` and ``width``) their fragments, and with
    ``explain`` their scores' explanations (with the global statistics)."""
    searcher = shard.searcher(generation)
    fields = [searcher.readers[segment].stored_fields(doc) for segment, doc in addresses]
    if snippets is None and not explain:
        return [Fetched(stored) for stored in fields]
    from searchlib import highlight
    from searchlib.searcher.results import Hit

    tree, context = searcher.prepare(_tree(searcher, request), strict=request.strict, stats=stats, k1=request.k1,
                                     b=request.b, similarity=request.similarity)
    if request.text is not None:
        highlight.remember_text(tree, request.text)
    found = []
    for rank, ((segment, doc), stored) in enumerate(zip(addresses, fields), start=1):
        hit = Hit(rank, 0.0, segment, doc, searcher, tree, searcher.readers[segment], context, stored)
        found.append(Fetched(stored, searcher.fragments(hit, **snippets) if snippets is not None else None,
                             searcher.explain(hit) if explain else None))
    return found


@dataclass
class Fetched:
    """What step 3 gives of one hit."""

    fields: dict[str, Any]
    fragments: list[Fragment] | None = None
    explanation: Explanation | None = None


# --- merging -------------------------------------------------------------------------------------


def merge_stats(parts: Sequence[CollectionStats]) -> CollectionStats:
    """The statistics of the shards together: every count and length summed."""
    from searchlib.scoring import CollectionStats

    merged = CollectionStats(doc_count=sum(part.doc_count for part in parts))
    for part in parts:
        for fields, count in part.field_doc_counts.items():
            merged.field_doc_counts[fields] = merged.field_doc_counts.get(fields, 0) + count
        for name, length in part.total_lengths.items():
            merged.total_lengths[name] = merged.total_lengths.get(name, 0) + length
        for key, doc_freq in part.doc_freqs.items():
            merged.doc_freqs[key] = merged.doc_freqs.get(key, 0) + doc_freq
    return merged


def merge_records(pages: Sequence[tuple[int, ShardPage]], *, sorted_by_field: bool,
                  descending: bool) -> list[tuple[int, Record]]:
    """Every shard's records in one ranking: by score, or by the sort field's value
    (documents without one last) and then score; ties in the order documents were added."""
    ranked = [(shard, record) for shard, page in pages for record in page.records]
    ranked.sort(key=lambda item: (-item[1].score, item[1].order))
    if not sorted_by_field:
        return ranked
    with_value = [item for item in ranked if item[1].has_value]
    with_value.sort(key=lambda item: item[1].value, reverse=descending)  # stable, reversed or not
    return with_value + [item for item in ranked if not item[1].has_value]


def merge_facets(specs: Sequence[Facet | RangeFacet], pages: Sequence[ShardPage]) -> dict[str, FacetResult]:
    """The shards' facet counts together: a value facet's counts summed per value and
    cut to its limit (ties by value, as one index lists them), a range facet's per range."""
    from searchlib.searcher.facets import Facet, FacetCount, FacetResult

    merged: dict[str, FacetResult] = {}
    for spec in specs:
        parts = [page.facets[spec.key] for page in pages if spec.key in page.facets]
        missing = sum(part.missing for part in parts)
        if isinstance(spec, Facet):
            counts: dict[Any, int] = {}
            for part in parts:
                for count in part.counts:
                    counts[count.value] = counts.get(count.value, 0) + count.count
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            listed = [FacetCount(value, count) for value, count in ranked[: spec.limit]]
            other = sum(counts.values()) - sum(count.count for count in listed)
            merged[spec.key] = FacetResult(spec.key, spec.field, listed, missing, other)
        else:
            ranges = [dataclasses.replace(count, count=sum(part.counts[i].count for part in parts))
                      for i, count in enumerate(parts[0].counts)] if parts else []
            merged[spec.key] = FacetResult(spec.key, spec.field, ranges, missing, 0)
    return merged


# --- the searcher ----------------------------------------------------------------------------------


@dataclass
class ShardedHit:
    """One hit of a sharded search: its rank, score, ID, the shard holding it and its
    stored fields; ``fragments`` when the search asked for snippets."""

    rank: int
    score: float
    id: str
    shard: int
    fields: dict[str, Any]
    fragments: list[Fragment] | None = None
    explanation: Explanation | None = None

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rank": self.rank, "id": self.id, "score": self.score, "shard": self.shard,
                                "fields": self.fields}
        if self.fragments is not None:
            from searchlib import highlight

            data.update({"snippet": highlight.format_plain(self.fragments),
                         "snippet_html": highlight.format_html(self.fragments),
                         "snippet_field": self.fragments[0].field,
                         "snippet_is_opening": self.fragments[0].is_opening})
        if self.explanation is not None:
            data["explanation"] = self.explanation.to_json()
        return data


@dataclass
class ShardedResults:
    """One page of a sharded search. ``missing_shards`` lists the shards a partial
    search went without (their documents are neither counted nor listed)."""

    hits: list[ShardedHit]
    total: int
    offset: int
    total_is_exact: bool = True
    facets: dict[str, FacetResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    missing_shards: list[int] = field(default_factory=list)

    def __iter__(self) -> Iterator[ShardedHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> ShardedHit:
        return self.hits[index]

    def to_dict(self, query: str | None = None) -> dict[str, Any]:
        """The JSON shape ``searchlib query --json`` prints, plus the missing shards."""
        data: dict[str, Any] = {"query": query, "total": self.total, "offset": self.offset,
                                "warnings": list(self.warnings), "hits": [hit.to_dict() for hit in self.hits],
                                "missing_shards": self.missing_shards}
        if self.facets:
            data["facets"] = {name: facet.to_dict() for name, facet in self.facets.items()}
        return data


class ShardedSearcher:
    """Searches every shard of a :class:`ShardedIndex` with global statistics (see the
    module's docstring): the same hits, in the same order, with the same scores as one
    index holding the same documents.

    ``options`` are :class:`~searchlib.searcher.Searcher`'s (``fields``,
    ``default_operator``, ``expansion``, ``limits``, ``k1``, ``b``, ``similarity``),
    given to every shard's searcher. ``timeout`` bounds each step's wait for the
    shards; ``partial`` is the default of :meth:`search`'s.
    """

    def __init__(self, index: ShardedIndex, runner: Runner, *, owns_runner: bool, timeout: float | None = None,
                 partial: bool = False, **options: Any) -> None:
        self.index = index
        self.schema = index.schema
        self.timeout = timeout
        self.partial = partial
        self._runner = runner
        self._owns_runner = owns_runner
        self._options = options
        paths = [str(path) for path in index.shard_paths()]
        self._shards: list[HeldShard | WorkerShard]
        if isinstance(runner, InlineRunner):
            self._shards = [HeldShard(path, options) for path in paths]
        else:
            frozen = tuple(sorted(options.items()))
            self._shards = [WorkerShard(path, frozen) for path in paths]

    def __enter__(self) -> ShardedSearcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for shard in self._shards:
            if isinstance(shard, HeldShard):
                shard.close()
        if self._owns_runner:
            self._runner.close()

    def collection_stats(self, query: str | Query, *, filter: str | Query | None = None,  # noqa: A002
                         strict: bool = True, partial: bool | None = None) -> CollectionStats:
        """The statistics of the whole collection for ``query`` (the first steps alone)."""
        _, _, stats, _ = self._prepare(Request(query, filter, strict), self._partial(partial), set())
        return stats

    def search(
        self,
        query: str | Query,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: str | None = None,
        filter: str | Query | None = None,  # noqa: A002
        strict: bool = True,
        k1: float | None = None,
        b: float | None = None,
        similarity: str | None = None,
        exact_total: bool = True,
        facets: Sequence[FacetSpec] | None = None,
        snippets: dict[str, Any] | None = None,
        partial: bool | None = None,
        fetch: bool = True,
        explain: bool = False,
    ) -> ShardedResults:
        """Rank the documents of every shard matching ``query`` and return one page, as
        :meth:`Searcher.search <searchlib.searcher.Searcher.search>` does (the same
        arguments, less ``stats``: the statistics are the shards' together).
        ``snippets`` asks for each hit's fragments (``{"count": 1, "width": 160}``);
        ``partial`` lets the search go on without failed shards; ``fetch=False`` skips
        the last step, for hits with their ids and scores but no stored fields; ``explain``
        gives each hit its score's explanation (``ShardedHit.explanation``)."""
        from searchlib.searcher.searcher import _is_whole_number

        if not (_is_whole_number(limit) and _is_whole_number(offset)):
            raise TypeError(f"limit and offset must be whole numbers, got limit={limit!r}, offset={offset!r}")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        specs: list[Facet | RangeFacet] = []
        shard_specs: list[Facet | RangeFacet] = []
        if facets:
            from searchlib.searcher.facets import Facet, resolve_specs

            specs = resolve_specs(self.schema, facets)
            shard_specs = [dataclasses.replace(spec, limit=ALL_VALUES) if isinstance(spec, Facet) else spec
                           for spec in specs]
        if sort is not None:
            self._check_sort(sort)
        sort_field, descending = _sort_of(sort)
        allow_partial = self._partial(partial)
        missing: set[int] = set()
        request, generations, stats, warnings = self._prepare(
            Request(query, filter, strict, k1, b, similarity, query if isinstance(query, str) else None),
            allow_partial, missing,
        )
        outcomes = self._runner.run([
            Call(shard, shard_top, (self._shards[shard], generation, request, stats, offset + limit, sort,
                                    exact_total, shard_specs))
            for shard, generation in generations.items()
        ], self.timeout)
        pages = [(outcome.shard, outcome.value) for outcome in self._check(outcomes, allow_partial, missing)]
        ranked = merge_records(pages, sorted_by_field=sort_field is not None, descending=descending)
        page = ranked[offset : offset + limit]
        if fetch or snippets is not None or explain:
            hits = self._fetch(page, generations, request, stats, snippets, explain, offset, allow_partial, missing)
        else:
            hits = [ShardedHit(offset + rank, record.score, record.id, shard, {})
                    for rank, (shard, record) in enumerate(page, start=1)]
        return ShardedResults(
            hits, sum(shard_page.total for _, shard_page in pages), offset,
            all(shard_page.total_is_exact for _, shard_page in pages),
            merge_facets(specs, [shard_page for _, shard_page in pages]) if specs else {}, warnings, sorted(missing),
        )

    def _check_sort(self, sort: str) -> None:
        """Refuse a sort field the schema cannot sort by, as one searcher would."""
        from searchlib.searcher.sorting import _is_sortable

        name = sort[1:] if sort.startswith("-") else sort
        if name == "score" and not (name in self.schema and _is_sortable(self.schema[name])):
            return
        if name not in self.schema or not _is_sortable(self.schema[name]):
            raise QueryError(f"cannot sort by {name!r}: sort by a NUMERIC, DATETIME, BOOLEAN, KEYWORD or ID field")

    def _partial(self, partial: bool | None) -> bool:
        return self.partial if partial is None else partial

    def _prepare(self, request: Request, allow_partial: bool, missing: set[int]
                 ) -> tuple[Request, dict[int, int], CollectionStats, list[str]]:
        """The first steps: every shard parses the query and expands its patterns; the
        patterns are expanded over the shards' terms together (within the searcher's
        limits, as one index expands them) and the shards then gather their statistics
        for the expanded tree. Returns the request as the tree, each answering shard's
        generation, the global statistics and the warnings of a lenient search."""
        outcomes = self._runner.run(
            [Call(number, shard_parse, (shard, request)) for number, shard in enumerate(self._shards)], self.timeout
        )
        done = self._check(outcomes, allow_partial, missing)
        if not done:
            raise ShardError(outcomes[0].shard, self._path(outcomes[0].shard), "no shard answered")
        parsed: dict[int, Parsed] = {outcome.shard: outcome.value for outcome in done}
        first = next(iter(parsed.values()))
        tree, warnings = first.tree, list(first.warnings)
        generations = {shard: part.generation for shard, part in parsed.items()}
        if first.stats is not None:  # no pattern: the statistics came with the parse
            parts = [part.stats for part in parsed.values() if part.stats is not None]
        else:
            from searchlib.limits import DEFAULT_LIMITS
            from searchlib.query import ExpansionBudget

            budget = ExpansionBudget(_MergedTerms([part.expansions for part in parsed.values()]),
                                     self._options.get("limits") or DEFAULT_LIMITS, strict=request.strict)
            tree = tree.rewrite(budget)
            warnings.extend(budget.warnings)
            outcomes = self._runner.run([
                Call(shard, shard_statistics, (self._shards[shard], generation, tree))
                for shard, generation in generations.items()
            ], self.timeout)
            counted = self._check(outcomes, allow_partial, missing)
            parts = [outcome.value for outcome in counted]
            generations = {outcome.shard: generations[outcome.shard] for outcome in counted}
        return dataclasses.replace(request, query=tree, filter=None), generations, merge_stats(parts), warnings

    def _check(self, outcomes: list[Outcome], allow_partial: bool, missing: set[int]) -> list[Outcome]:
        """The outcomes that succeeded; a failure raises, or (partial) joins ``missing``.
        A mistake in the query itself is the caller's, not a shard's: raised as it is."""
        done = []
        for outcome in outcomes:
            if outcome.ok:
                done.append(outcome)
            elif outcome.error_type == "QueryError":
                raise QueryError(outcome.message or "bad query")
            elif allow_partial:
                missing.add(outcome.shard)
            else:
                raise ShardError(outcome.shard, self._path(outcome.shard), outcome.describe())
        return done

    def _path(self, shard: int) -> str:
        return str(self.index.shard_paths()[shard])

    def _fetch(self, page: list[tuple[int, Record]], generations: dict[int, int], request: Request,
               stats: CollectionStats, snippets: dict[str, Any] | None, explain: bool, offset: int,
               allow_partial: bool, missing: set[int]) -> list[ShardedHit]:
        """Step 3: the page's stored fields (and fragments), from the shards holding it."""
        wanted: dict[int, list[Record]] = {}
        for shard, record in page:
            wanted.setdefault(shard, []).append(record)
        outcomes = self._runner.run([
            Call(shard, shard_fetch, (self._shards[shard], generations[shard], request, stats,
                                      [(record.segment, record.doc) for record in records], snippets, explain))
            for shard, records in wanted.items()
        ], self.timeout)
        fetched: dict[tuple[int, int, int], Fetched] = {}
        for outcome in self._check(outcomes, allow_partial, missing):
            for record, found in zip(wanted[outcome.shard], outcome.value):
                fetched[(outcome.shard, record.segment, record.doc)] = found
        hits: list[ShardedHit] = []
        for shard, record in page:
            found = fetched.get((shard, record.segment, record.doc))
            if found is not None:
                hits.append(ShardedHit(offset + len(hits) + 1, record.score, record.id, shard, found.fields,
                                       found.fragments, found.explanation))
        return hits


def _sort_of(sort: str | None) -> tuple[str | None, bool]:
    """The sort field and direction, as far as the merge needs them (the shards check
    the field): None for the score."""
    if sort is None:
        return None, False
    name = sort[1:] if sort.startswith("-") else sort
    return (None, False) if name == "score" else (name, sort.startswith("-"))

