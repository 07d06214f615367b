"""The :class:`Searcher`: it opens one generation of an index, parses and rewrites
queries, gathers their statistics, ranks the hits across segments and makes snippets.
"""

from __future__ import annotations

import os
import sys
from _thread import allocate_lock  # threading's Lock, without loading threading

from searchlib.errors import QueryError, SchemaError, SearchlibError
from searchlib.index import Index
from searchlib.limits import DEFAULT_LIMITS, QueryLimits
from searchlib.schema import FieldAnalyzers
from searchlib.searcher.results import DeferredQuery, Hit, Results

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # imported when first used: a plain search and `searchlib query` start without them
    from collections.abc import Callable, Mapping, Sequence
    from types import TracebackType
    from typing import Any

    import numpy as np
    from searchlib import highlight
    from searchlib.analysis import Analyzer
    from searchlib.explain import Explanation
    from searchlib.parser import QueryParser
    from searchlib.query import Expansion, Matches, Query, ScoringContext, TermSelector
    from searchlib.scoring import CollectionStats, FieldSet, Similarity
    from searchlib.searcher.facets import Facet, FacetCounter, FacetResult, FacetSpec, RangeFacet
    from searchlib.searcher.sorting import _SortKey
    from searchlib.segment import SegmentReader
    from searchlib.suggest import Suggestion, Vocabulary

    #: What the core's plain search returns: segment numbers, doc ids, scores, total,
    #: whether it is exact, and each hit's id (see ``Hit._id``).
    PlainFound = tuple[list[int], list[int], list[float], int, bool, list["str | None | bool"]]

#: Document frequencies a searcher remembers (its snapshot never changes).
DOC_FREQ_MEMO_SIZE = 100_000

#: Operators a searcher's query strings may use by default (what the parser accepts).
_OPERATORS = ("AND", "OR")


class Searcher:
    """Searches one generation of an index.

    Parameters
    ----------
    index:
        The index (or a path to it) to search. The searcher opens its newest committed
        generation and keeps that snapshot until it is closed.
    fields:
        Default fields for query strings (every text field if omitted): names, or a
        mapping of names to weights that multiply the fields' boosts.
    default_operator:
        How words side by side in a query string combine: ``"OR"`` or ``"AND"``.
    expansion:
        How many terms a prefix, wildcard, fuzzy or regex pattern in a query string may
        expand to, and what happens past that (default: 1,024, then an error; a lenient
        search keeps the most frequent terms and says so in ``Results.warnings``).
    limits:
        The caps on the work one query may ask for: its length, clauses, nesting,
        patterns' terms together, and "did you mean" (see
        :class:`~searchlib.limits.QueryLimits` for the defaults).
    k1, b, similarity:
        The BM25 parameters and variant (see :class:`~searchlib.scoring.Similarity`);
        by default the index's own (:attr:`Index.scoring`).
    highlight_max_chars:
        Snippets look for matches in at most this many first characters of a field.
    impact_cache_postings:
        Accepted for callers of earlier versions and unused: queries run in the compiled
        core, which keeps each segment's length norms between queries instead of
        per-posting scores.
    """

    def __init__(
        self,
        index: Index | str | os.PathLike[str],
        *,
        fields: Sequence[str] | Mapping[str, float] | None = None,
        default_operator: str = "OR",
        expansion: Expansion | None = None,
        limits: QueryLimits | None = None,
        k1: float | None = None,
        b: float | None = None,
        similarity: str | None = None,
        highlight_max_chars: int | None = None,
        impact_cache_postings: int = 0,
    ) -> None:
        # A searcher is a snapshot of the newest commit, whatever handle it was given.
        self.index, self.readers = Index.open_snapshot(
            index if isinstance(index, (str, os.PathLike)) else index.directory.root
        )
        #: The BM25 variant and parameters queries rank with unless they say otherwise:
        #: the index's own settings, with any given here replacing them.
        self.scoring = self.index.scoring.replace(similarity, k1, b)
        self.schema = self.index.schema
        self.analyzers = FieldAnalyzers(self.schema, self.index.chains)
        #: The analyzers query text goes through (the parser's, built later, and the
        #: plain search's): these, even if ``analyzers`` is replaced afterwards.
        self._query_analyzers = self.analyzers
        self._use_stored_lexicons()
        #: The caps on one query's work.
        self.limits = DEFAULT_LIMITS if limits is None else limits
        self._fields = fields
        self._default_operator = default_operator
        self._expansion = expansion
        self._parser: QueryParser | None = None
        operator = default_operator.upper() if isinstance(default_operator, str) else default_operator
        if fields is not None or operator not in _OPERATORS:
            self._parser = self.parser  # checked now: the fields and operator given may be wrong
        #: The default fields with their weights (every text field, weight 1, by default).
        self._weights: dict[str, float] = (
            {name: 1.0 for name in self.schema.text_fields()} if self._parser is None else self._parser.weights
        )
        self._is_and = operator == "AND"
        self._plain: Any = None  # the core's plain search, built on first use; False: none
        self._sort_keys: dict[str, list[_SortKey]] = {}
        self._facet_counter: FacetCounter | None = None
        self._similarity: Similarity | None = None  # the searcher's own variant, made on first use
        self._vocabularies: dict[str, Vocabulary] = {}
        self._doc_count = sum(reader.live_count for reader in self.readers)
        self._field_doc_counts: dict[FieldSet, int] = {}
        self._doc_freqs: dict[tuple[FieldSet, str], int] = {}
        self._total_lengths: dict[str, int] = {}
        self.is_closed = False
        self._highlight_max_chars = highlight_max_chars
        self._highlight_targets: highlight.QueryHighlighter | None = None  # the last query's
        #: Held while a vocabulary or sort keys are built, so that threads build each once.
        self._building = allocate_lock()

    @property
    def parser(self) -> QueryParser:
        """The parser of this searcher's query strings (built on first use: a plain
        search runs without it)."""
        if self._parser is None:
            from searchlib.parser import QueryParser

            self._parser = QueryParser(
                self.schema, self._fields, self._query_analyzers, default_operator=self._default_operator,
                expansion=self._expansion, limits=self.limits,
            )
        return self._parser

    @property
    def highlight_max_chars(self) -> int:
        """Snippets look for matches in at most this many first characters of a field."""
        if self._highlight_max_chars is None:
            from searchlib.highlight import DEFAULT_MAX_CHARS

            self._highlight_max_chars = DEFAULT_MAX_CHARS
        return self._highlight_max_chars

    @highlight_max_chars.setter
    def highlight_max_chars(self, value: int) -> None:
        self._highlight_max_chars = value

    def _use_stored_lexicons(self) -> None:
        """Let each costly analyzer look words up in the segments' lexicons first.

        A query word or snippet word the index has seen then gets its stem from the
        index, and ``searchlib query`` runs without importing NLTK.
        """
        fields_of: dict[int, tuple[Analyzer, list[str]]] = {}
        for name in self.schema.text_fields():
            if self.analyzers.is_recorded(name):  # runs in the core: no costly part
                continue
            analyzer = self.analyzers[name]
            if analyzer.costly_from is not None:
                fields_of.setdefault(id(analyzer), (analyzer, []))[1].append(name)
        readers = list(self.readers)  # hits outlive close(); so does this look-up
        for analyzer, names in fields_of.values():
            # The fields with most words first: a word is likelier to be found in a
            # body than in a title, and each field that lacks it costs a look-up.
            names.sort(key=lambda name: -sum(reader.lexicon_size(name) for reader in readers))
            analyzer.known_terms = _known_term_in(readers, names)

    def __enter__(self) -> Searcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def reopen(self) -> Searcher:
        """A searcher on the newest generation, or this one if nothing was committed since
        (and it is still open).

        This searcher is left as it is (still its own snapshot); close it when done.
        """
        if not self.is_closed and Index.open(self.index.path).generation == self.index.generation:
            return self
        return Searcher(
            self.index.path, fields=self._fields, default_operator=self._default_operator,
            expansion=self._expansion, limits=self.limits,
            k1=self.scoring.k1, b=self.scoring.b, similarity=self.scoring.similarity,
            highlight_max_chars=self.highlight_max_chars,
        )

    def close(self) -> None:
        """Drop this searcher's segments (hits already returned keep theirs)."""
        self.readers = []
        self.is_closed = True

    @property
    def doc_count(self) -> int:
        """Live documents in this snapshot."""
        return self._doc_count

    def collection_stats(self, query: Query) -> CollectionStats:
        """Document counts, total field lengths and document frequencies over live
        documents: every statistic that scoring ``query`` here reads.

        Pattern nodes (prefix, wildcard, fuzzy, regex) are expanded first, as a search
        expands them, so the statistics hold their terms too; their fields' counts and
        lengths are there even where the pattern matches nothing, as another shard's
        expansion needs this shard's share of them. A sharded search merges what each
        shard gathers and passes the sum to every shard's ``search``.
        """
        from searchlib.query import pattern_fields
        from searchlib.scoring import CollectionStats

        stats = CollectionStats(doc_count=self.doc_count)
        seen_fields: set[FieldSet] = set()

        def count_fields(fields: FieldSet) -> None:
            if fields not in seen_fields:  # per field set once: a query repeats them
                seen_fields.add(fields)
                for field_set in (fields, *((name,) for name in fields)):
                    stats.field_doc_counts[field_set] = self._documents_with_fields(field_set)
                for name in fields:
                    stats.total_lengths[name] = self._total_length(name)

        for name in sorted(pattern_fields(query)):
            count_fields((name,))
        for fields, term in query.rewrite(self).scored_terms():
            count_fields(fields)
            stats.doc_freqs[(fields, term)] = self._doc_freq(fields, term)
        return stats

    def matching_terms(self, field_name: str, select: TermSelector) -> dict[str, int]:
        """Every term of ``field_name`` that ``select`` picks in any segment, with its live
        document frequency; terms whose documents are all deleted are left out."""
        from itertools import repeat

        from searchlib.query import DEFAULT_MAX_EXPANSIONS
        from searchlib.searcher.statistics import live_doc_freqs

        terms, doc_freqs = select(self.readers, field_name)
        counts = doc_freqs.astype("<i8")  # the dictionary's counts: the live ones where nothing is deleted
        for row, reader in enumerate(self.readers):
            if not reader.all_live:  # count the live documents of the terms the segment counts
                held = counts[row].nonzero()[0]
                counts[row, held] = live_doc_freqs([reader], (field_name,), [terms[at] for at in held.tolist()])
        totals = counts.sum(axis=0).tolist()
        found = {term: count for term, count in zip(terms, totals) if count}
        # Exact live counts: scoring need not recount (remembered in one step, not per
        # term). Not for a pattern past the usual bound: only its most frequent terms
        # will be scored, and scoring notes their counts as it goes.
        if len(found) <= DEFAULT_MAX_EXPANSIONS:
            if len(self._doc_freqs) + len(found) > DOC_FREQ_MEMO_SIZE:
                self._doc_freqs.clear()
            self._doc_freqs.update(zip(zip(repeat((field_name,)), found), found.values()))
        return found

    def _doc_freq(self, fields: FieldSet, term: str) -> int:
        """Live documents holding ``term`` in any of ``fields`` (remembered per snapshot)."""
        key = (fields, term)
        doc_freq = self._doc_freqs.get(key)
        if doc_freq is None:
            from searchlib.searcher.statistics import live_doc_freqs

            doc_freq = live_doc_freqs(self.readers, fields, [term])[0]
            self._remember_doc_freq(key, doc_freq)
        return doc_freq

    def _known_doc_freq(self, fields: FieldSet, term: str) -> int | None:
        """What :meth:`_doc_freq` has counted for ``term``, if it has."""
        return self._doc_freqs.get((fields, term))

    def _remember_doc_freq(self, key: tuple[FieldSet, str], doc_freq: int) -> None:
        if len(self._doc_freqs) >= DOC_FREQ_MEMO_SIZE:
            self._doc_freqs.clear()
        self._doc_freqs[key] = doc_freq

    def _documents_with_fields(self, fields: FieldSet) -> int:
        """Live documents with at least one term in any of ``fields`` (cached)."""
        count = self._field_doc_counts.get(fields)
        if count is None:
            count = 0
            # Each field's own count and total length come with the pass (a plain
            # search asks for all of them next), unless a segment lacks its lengths.
            totals, counts = [0] * len(fields), [0] * len(fields)
            each_field = True
            for reader in self.readers:
                stats = reader.length_stats(fields)
                if stats is not None:
                    count += stats[0]
                    totals = [sum(pair) for pair in zip(totals, stats[1])]
                    counts = [sum(pair) for pair in zip(counts, stats[2])]
                    continue
                each_field = False
                import numpy as np  # fields without lengths: from their postings

                has_any = np.zeros(reader.doc_count, dtype=bool)
                for name in fields:
                    has_any |= reader.has_field(name)
                count += int(np.count_nonzero(has_any & reader.live))
            self._field_doc_counts[fields] = count
            if each_field:
                for name, total, documents in zip(fields, totals, counts):
                    self._total_lengths.setdefault(name, total)
                    self._field_doc_counts.setdefault((name,), documents)
        return count

    def _total_length(self, field_name: str) -> int:
        """Sum of a field's lengths over live documents (cached)."""
        total = self._total_lengths.get(field_name)
        if total is None:
            total = 0
            for reader in self.readers:
                stats = reader.length_stats((field_name,))
                total += stats[1][0] if stats is not None else 0  # no lengths: no length to add
            self._total_lengths[field_name] = total
        return total

    @property
    def k1(self) -> float:
        return self.scoring.k1

    @property
    def b(self) -> float:
        return self.scoring.b

    def parse(self, text: str, *, strict: bool = True, warnings: list[str] | None = None) -> Query:
        """The query tree of ``text`` over this searcher's default fields (see
        :meth:`QueryParser.parse <searchlib.parser.QueryParser.parse>`)."""
        return self.parser.parse(text, strict=strict, warnings=warnings)

    def prepare(
        self,
        query: str | Query,
        *,
        strict: bool = True,
        stats: CollectionStats | None = None,
        k1: float | None = None,
        b: float | None = None,
        similarity: str | None = None,
        warnings: list[str] | None = None,
    ) -> tuple[Query, ScoringContext]:
        """The query tree ready to run (parsed, patterns expanded) and how to score it.

        The patterns are expanded within :attr:`limits`: strict, a pattern past them
        raises :class:`QueryError`; lenient, it is cut, and what was cut is appended to
        ``warnings`` (when given) as sentences a user can read.
        """
        from searchlib.query import Query, ScoringContext
        from searchlib.scoring import Similarity
        from searchlib.searcher.statistics import _SnapshotStats

        tree = self.parse(query, strict=strict, warnings=warnings) if isinstance(query, str) else query
        if not isinstance(tree, Query):
            raise QueryError(f"a query must be a string or a Query, got {type(query).__name__}")
        # Only pattern nodes rewrite, and none exists before their module has loaded: a
        # query of words, phrases and ranges neither expands nor loads the patterns.
        if "searchlib.query.patterns" in sys.modules:
            from searchlib.query import ExpansionBudget

            budget = ExpansionBudget(self, self.limits, strict=strict)
            tree = tree.rewrite(budget)
            if warnings is not None:
                warnings.extend(budget.warnings)
        overridden = similarity is not None or k1 is not None or b is not None
        settings = self.scoring.replace(similarity, k1, b) if overridden else self.scoring
        scorer = self._similarity
        if scorer is None or scorer.name != settings.similarity:
            scorer = Similarity(settings.similarity)
            if not overridden:
                self._similarity = scorer  # the searcher's own, made once
        context = ScoringContext(stats or _SnapshotStats(self), settings.k1, settings.b, scorer, self.schema)
        return tree, context

    def search(
        self,
        query: str | Query,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: str | None = None,
        filter: str | Query | None = None,  # noqa: A002
        strict: bool = True,
        stats: CollectionStats | None = None,
        k1: float | None = None,
        b: float | None = None,
        similarity: str | None = None,
        exact_total: bool = True,
        facets: Sequence[FacetSpec] | None = None,
    ) -> Results:
        """Rank the documents matching ``query`` and return one page of hits.

        Parameters
        ----------
        query:
            Query text (see :mod:`searchlib.parser`) or a query tree.
        limit, offset:
            The page: hits ``offset + 1`` to ``offset + limit`` of the ranking.
        sort:
            A NUMERIC, DATETIME, BOOLEAN or KEYWORD/ID field to order by instead of the
            score (``"-year"`` for descending); documents without a value come last, and
            ties are broken by score, then by index order. A multi-valued KEYWORD field
            sorts by a document's smallest value ascending, by its largest descending.
        filter:
            A query (text or tree) that restricts the hits without changing their
            scores; blank text restricts nothing.
        strict:
            Raise :class:`QueryError` on a syntax error or a query past the searcher's
            :attr:`limits`; else read what is not syntax as plain words, cut the query to
            the limits, and say what was cut in ``Results.warnings``.
        stats:
            Collection statistics to score with instead of this snapshot's (a sharded
            search passes global ones).
        k1, b, similarity:
            BM25 parameters and variant for this query only.
        exact_total:
            Count every match for ``Results.total`` (the default: the core counts a
            union of postings by doc id alone, cheaper than scoring it). False skips
            that count where the top k are found by pruning: the total is then a lower
            bound, the documents the pruned pass visited (``Results.total_is_exact``
            says whether it is exact).
        facets:
            What to count over every match, whatever the page (see
            :mod:`searchlib.searcher.facets`): field names (a KEYWORD field's values, or
            a NUMERIC, DATETIME or BOOLEAN field's distinct values, the ten most
            frequent), :class:`~searchlib.searcher.facets.Facet` objects (with another
            ``limit``), or :class:`~searchlib.searcher.facets.RangeFacet` objects
            (named ranges of a NUMERIC or DATETIME field). Returned in
            ``Results.facets`` by name; a field that cannot be counted so raises
            :class:`QueryError` naming it, before the query runs.
        """
        if self.is_closed:
            raise SearchlibError("this searcher is closed; open a new Searcher")
        facet_specs: list[Facet | RangeFacet] = []
        if facets:
            from searchlib.searcher.facets import resolve_specs

            facet_specs = resolve_specs(self.schema, facets)
        if not (_is_whole_number(limit) and _is_whole_number(offset)):
            raise TypeError(f"limit and offset must be whole numbers, got limit={limit!r}, offset={offset!r}")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        sort_field, descending = self._sort_field(sort)
        if isinstance(filter, str) and not filter.strip():
            filter = None  # noqa: A001  # a blank filter box restricts nothing
        if (type(query) is str and filter is None and sort_field is None and stats is None and k1 is None
                and b is None and similarity is None and not facet_specs):
            found = self._plain_top(query, offset + limit, exact_total)
            if found is not None:
                segment_ids, doc_ids, top_scores, total, exact, ids = found
                deferred = DeferredQuery(self, query, strict)
                readers = self.readers
                hits = [
                    Hit(offset + rank + 1, score, segment, doc, self, deferred, readers[segment], None, None, None, id_)
                    for rank, (score, segment, doc, id_) in enumerate(
                        zip(top_scores[offset:], segment_ids[offset:], doc_ids[offset:], ids[offset:])
                    )
                ]
                return Results(deferred, total, hits, offset, None, [], total_is_exact=exact)
        from searchlib.query import Filter, Query

        warnings: list[str] = []
        if filter is not None:
            if isinstance(filter, str):
                filter = self.parse(filter, strict=strict, warnings=warnings)  # noqa: A001
            elif not isinstance(filter, Query):
                raise QueryError(f"a filter must be a string or a Query, got {type(filter).__name__}")
            query = Filter(self.parse(query, strict=strict, warnings=warnings) if isinstance(query, str) else query, filter)
        text = query if isinstance(query, str) else None
        tree, context = self.prepare(
            query, strict=strict, stats=stats, k1=k1, b=b, similarity=similarity, warnings=warnings
        )
        if text is not None:  # snippets prefer the query's words as typed
            from searchlib import highlight

            highlight.remember_text(tree, text)
        if sort_field is None:
            from searchlib.query.plan import core_top

            segment_ids, doc_ids, top_scores, total, exact = core_top(
                tree, self.readers, context, offset + limit, exact_total=exact_total
            )
            readers = self.readers
            hits = [
                Hit(offset + rank + 1, score, segment, doc, self, tree, readers[segment], context)
                for rank, (score, segment, doc) in enumerate(
                    zip(top_scores[offset:], segment_ids[offset:], doc_ids[offset:])
                )
            ]
            counted: dict[str, FacetResult] = {}
            if facet_specs:  # every match listed: the total is exact whatever exact_total said
                every_match = tree.matches_in(self.readers, context)
                counted = self._facets(facet_specs, every_match)
                total, exact = sum(len(m.docs) for m in every_match), True
            return Results(tree, total, hits, offset, context, warnings, total_is_exact=exact, facets=counted)
        import numpy as np  # sorting by a field orders every match by its column

        per_segment: list[Matches] = tree.matches_in(self.readers, context)
        total = sum(len(m.docs) for m in per_segment)
        counted = self._facets(facet_specs, per_segment) if facet_specs else {}
        if total == 0 or limit == 0:
            return Results(tree, total, [], offset, context, warnings, facets=counted)
        if len(per_segment) == 1:  # one segment: no concatenation, every hit in segment 0
            scores, docs = per_segment[0].scores, per_segment[0].docs
            segments = np.zeros(total, dtype=np.int64)
        else:
            scores = np.concatenate([m.scores for m in per_segment])
            docs = np.concatenate([m.docs for m in per_segment])
            segments = np.concatenate(
                [np.full(len(m.docs), i, dtype=np.int64) for i, m in enumerate(per_segment)]
            )
        from searchlib.searcher.sorting import _reversed_order

        keys = self._sort_keys_of(sort_field)
        values = np.concatenate([key.ordering(descending)[m.docs] for key, m in zip(keys, per_segment)])
        if descending:
            values = _reversed_order(values)
        missing = np.concatenate([~key.present[m.docs] for key, m in zip(keys, per_segment)])
        # lexsort's last key sorts first: documents without a value come last either way.
        order = np.lexsort((docs, segments, -scores, values, missing))
        page = order[offset : offset + limit]
        readers = self.readers
        hits = [
            Hit(offset + rank + 1, score, segment, doc, self, tree, readers[segment], context)
            for rank, (score, segment, doc) in enumerate(
                zip(scores[page].tolist(), segments[page].tolist(), docs[page].tolist())
            )
        ]
        return Results(tree, total, hits, offset, context, warnings, facets=counted)

    def _facets(self, specs: list[Facet | RangeFacet], matches: list[Matches]) -> dict[str, FacetResult]:
        """Count ``specs`` over every match (see :mod:`searchlib.searcher.facets`); the
        counter keeps what it reads from the segments for the searcher's next query."""
        counter = self._facet_counter
        if counter is None:
            with self._building:
                counter = self._facet_counter
                if counter is None:
                    from searchlib.searcher.facets import FacetCounter

                    counter = self._facet_counter = FacetCounter(self.readers, self.schema)
        return counter.count(specs, matches)

    def _plain_top(self, text: str, k: int, exact_total: bool) -> PlainFound | None:
        """The ``k`` best matches of plain ``text`` run in one call into the core (see
        :mod:`searchlib.searcher.plain`), or None when the text takes the tree path."""
        plain = self._plain
        if plain is None:
            from searchlib.searcher.plain import plain_search

            plain = self._plain = plain_search(self, self._weights, self._is_and) or False
        if plain is False or len(text) > self.limits.max_length:
            return None
        found: PlainFound | None = plain.search(text, k, exact_total)
        return found

    def explain(self, hit: Hit) -> Explanation:
        """Why ``hit`` scored what it did, factor by factor (tf, df, N, lengths, idf, k1, b, boost)."""
        explained = hit.query.explain(hit.reader, hit.doc, hit.context)
        if explained is None:  # cannot happen for a hit of its own query
            raise SearchlibError(f"hit {hit.id} does not match its query")
        return explained

    def explain_document(
        self,
        query: str | Query,
        document: str | Hit,
        *,
        strict: bool = True,
        stats: CollectionStats | None = None,
        k1: float | None = None,
        b: float | None = None,
        similarity: str | None = None,
    ) -> Explanation | None:
        """Why a document scores what it does for ``query``, factor by factor; None when
        it does not match. ``document`` is its ID field's value, or a hit of any search
        (of another query, say). For a document that is not among the hits shown: "why
        is this one not ranked higher?". The scoring arguments are :meth:`search`'s: give
        the ones the search was made with."""
        source = document if isinstance(document, Hit) else self._hit_by_id(document)
        tree, context = self.prepare(query, strict=strict, stats=stats, k1=k1, b=b, similarity=similarity)
        return tree.explain(source.reader, source.doc, context)

    def doc_freq(self, field_name: str, term: str) -> int:
        """Live documents holding ``term`` in ``field_name``."""
        return self._doc_freq((field_name,), term)

    def documents_with_field(self, field_name: str) -> int:
        """Live documents with at least one term in ``field_name``."""
        return self._documents_with_fields((field_name,))

    def vocabulary(self, field_name: str) -> Vocabulary:
        """The words of a text field with their document counts (built once per searcher)."""
        vocabulary = self._vocabularies.get(field_name)
        if vocabulary is None:
            from searchlib.suggest import Vocabulary

            with self._building:
                vocabulary = self._vocabularies.get(field_name)
                if vocabulary is None:
                    vocabulary = self._vocabularies[field_name] = Vocabulary(self, field_name)
        return vocabulary

    def suggest(self, word: str, *, fields: Sequence[str] | None = None, limit: int = 5) -> list[Suggestion]:
        """Words of the index within two edits of ``word``, most frequent first."""
        from searchlib.suggest import suggest_words

        return suggest_words(self, word, list(fields or self._weights), limit)

    def did_you_mean(self, text: str) -> str | None:
        """``text`` with its unknown words replaced by the best suggestions, or None."""
        from searchlib.suggest import did_you_mean

        # The default fields as the parser has them, without building it (a query of
        # known words never needs the parser).
        return did_you_mean(self, text, [f for f in self._weights if self.schema[f].is_text])

    def more_like_this(
        self,
        hit: Hit | str,
        *,
        fields: Sequence[str] | None = None,
        max_terms: int | None = None,
        min_doc_freq: int | None = None,
        limit: int = 10,
    ) -> Results:
        """Documents similar to ``hit`` (a hit, or a document's ID field value), found by
        its most distinctive terms (see :mod:`searchlib.similar`; its defaults for the
        counts left as None)."""
        from searchlib.similar import DEFAULT_MAX_TERMS, DEFAULT_MIN_DOC_FREQ, more_like_this_query

        max_terms = DEFAULT_MAX_TERMS if max_terms is None else max_terms
        min_doc_freq = DEFAULT_MIN_DOC_FREQ if min_doc_freq is None else min_doc_freq
        if isinstance(hit, str):
            hit = self._hit_by_id(hit)
        query = more_like_this_query(self, hit, fields, max_terms, min_doc_freq)
        return self.search(query, limit=limit)

    def _hit_by_id(self, value: str) -> Hit:
        id_field = self.schema.id_field
        if id_field is None:
            raise SchemaError("the schema has no ID field; pass a Hit instead of an id")
        from searchlib.query import Term

        found = self.search(Term(id_field, value), limit=1)
        if not found.hits:
            raise SearchlibError(f"no document has {id_field} {value!r}")
        return found.hits[0]

    def _sort_field(self, sort: str | None) -> tuple[str | None, bool]:
        """The field to sort by and whether descending; (None, False) for by score.

        ``"score"`` means by score unless the schema has a sortable field of that name,
        which is common in JSON data (ratings, reviews): such a field is never hidden by
        the keyword.
        """
        if sort is None:
            return None, False
        from searchlib.searcher.sorting import _is_sortable

        name = sort[1:] if sort.startswith("-") else sort
        if name == "score" and not (name in self.schema and _is_sortable(self.schema[name])):
            return None, False
        if name not in self.schema:
            raise QueryError(f"cannot sort by {name!r}: the index has no such field")
        definition = self.schema[name]
        if not _is_sortable(definition):
            raise QueryError(
                f"cannot sort by {name!r}: it is a {definition.kind.upper()} field; sort by a NUMERIC, "
                "DATETIME, BOOLEAN, KEYWORD or ID field"
            )
        return name, sort.startswith("-")

    def _sort_keys_of(self, field_name: str) -> list[_SortKey]:
        """Per segment, the values that order its documents by ``field_name``.

        Columns give their values; a KEYWORD or ID field gives the rank of the document's
        (smallest) term among the terms of every segment, computed once per searcher.
        """
        keys = self._sort_keys.get(field_name)
        if keys is None:
            with self._building:
                keys = self._sort_keys.get(field_name)
                if keys is None:
                    from searchlib.searcher.sorting import _column_key, _term_rank_keys

                    definition = self.schema[field_name]
                    if definition.is_column:
                        keys = [_column_key(reader, field_name, definition) for reader in self.readers]
                    else:
                        keys = _term_rank_keys(self.readers, field_name)
                    self._sort_keys[field_name] = keys
        return keys

    def fragment(
        self, hit: Hit, field_name: str | None = None, *, width: int | None = None
    ) -> highlight.Fragment:
        """The best fragment of ``hit`` in ``field_name``, or in the best-matching field."""
        return self.fragments(hit, field_name, width=width)[0]

    def fragments(
        self,
        hit: Hit,
        field_name: str | None = None,
        *,
        count: int = 1,
        width: int | None = None,
        max_chars: int | None = None,
    ) -> list[highlight.Fragment]:
        """Up to ``count`` fragments of ``hit`` with its query's matches marked, in text
        order (see :func:`searchlib.highlight.best_fragments`).

        ``field_name`` may be any stored text field; one the query did not search is
        marked with the query's terms analyzed again by that field's own analyzer.
        Without it, the stored text field whose fragments show the most distinct terms
        is used. At most ``max_chars`` characters of the field (default: this
        searcher's ``highlight_max_chars``) are searched for matches. ``width``: by
        default :data:`searchlib.highlight.DEFAULT_WIDTH`.
        """
        from searchlib import highlight

        width = highlight.DEFAULT_WIDTH if width is None else width
        remembered, names, searched = self._highlighting(hit, field_name)
        limit = self.highlight_max_chars if max_chars is None else max_chars
        best = remembered.hit_fragments(
            hit.fields, names, self.analyzers, searched=searched, count=count, width=width, max_chars=limit
        )
        return best if best is not None else [highlight.Fragment("", 0, 0, (), is_opening=True, field=field_name)]

    def snippets(
        self,
        hits: Sequence[Hit],
        field_name: str | None = None,
        *,
        style: str = "plain",
        count: int = 1,
        width: int | None = None,
        max_chars: int | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> list[str]:
        """The snippet of each of ``hits`` (hits of one query): its :meth:`fragments`
        formatted in ``style`` ("plain", "ansi" or "html", as
        :func:`searchlib.highlight.format_plain` and the others give them), all in one
        call into the core."""
        if not hits:
            return []
        from searchlib import highlight

        width = highlight.DEFAULT_WIDTH if width is None else width
        remembered, names, searched = self._highlighting(hits[0], field_name)
        limit = self.highlight_max_chars if max_chars is None else max_chars
        found = remembered.page_snippets([hit.fields for hit in hits], names, self.analyzers, searched=searched,
                                         count=count, width=width, max_chars=limit, style=style, before=before,
                                         after=after)
        return [text if text is not None else highlight.format_as(
            [highlight.Fragment("", 0, 0, (), is_opening=True, field=field_name)], style, before, after)
            for text in found]

    def _highlighting(self, hit: Hit, field_name: str | None) -> tuple[highlight.QueryHighlighter, list[str], list[str]]:
        """The targets of ``hit``'s query, the fields to highlight, and (for a field the
        query did not search) the searched text fields whose targets it takes."""
        from searchlib import highlight

        remembered = self._highlight_targets  # the hits of one search share their query
        source = hit.query_source
        if remembered is None or remembered.source is not source:
            remembered = self._highlight_targets = self._highlighter(source)
        searched: list[str] = []
        if field_name is not None:
            definition = self.schema[field_name]
            if not (definition.is_text and definition.stored):
                raise SchemaError(f"field {field_name!r} is not a stored text field; it cannot be highlighted")
            searched = [f for f in remembered.targets.fields if f in self.schema and self.schema[f].is_text]
            return remembered, [field_name], searched
        return remembered, self._stored_text_fields(), searched

    def _highlighter(self, source: Query | DeferredQuery) -> highlight.QueryHighlighter:
        """The highlighter of hits whose query is ``source``: a plain search's words are
        marked as the core's plain search analyzes them, with no query tree built (the
        tree's targets would be the same terms in the same order); anything else by its
        tree."""
        from searchlib import highlight

        if not isinstance(source, DeferredQuery):
            return highlight.query_highlighter(source)
        plain = self._plain.targets(source.text) if self._plain else None
        if plain is None:
            tree = source.get()[0]
            return highlight.QueryHighlighter(source, highlight.query_targets(tree), highlight.query_text(tree))
        targets = highlight.Targets()
        for name, terms in plain:
            for term in terms:
                targets.add(name, term)
        return highlight.QueryHighlighter(source, targets, source.text)

    def _stored_text_fields(self) -> list[str]:
        """The fields snippets may come from (the schema of a snapshot never changes)."""
        fields: list[str] | None = getattr(self, "_snippet_fields", None)
        if fields is None:
            fields = self._snippet_fields = [name for name in self.schema.text_fields() if self.schema[name].stored]
        return fields


def _is_whole_number(value: object) -> bool:
    """An int (numpy's too: its integers register as ``numbers.Integral``), not a bool or
    a float: what a page's bounds must be."""
    if type(value) is int:
        return True
    import numbers  # loaded only for bounds of other types

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _known_term_in(readers: list[SegmentReader], fields: list[str]) -> Callable[[str], str | None]:
    """The look-up of the term a key became in the first of ``readers`` and ``fields``
    that hold it."""

    def known_term(key: str) -> str | None:
        for reader in readers:
            for name in fields:
                term = reader.lexicon_term(name, key)
                if term is not None:
                    return term
        return None

    return known_term
