"""The impact cache: terms' tf parts kept between queries change no score or ranking,
are kept apart per scoring setting, and stay within their bound."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.query import impacts as impacts_module
from searchlib.query.impacts import CacheLookup, ImpactArrays, ImpactCache, TermImpacts
from searchlib.scoring import CollectionStats, FieldSet
from searchlib.segment import SegmentReader
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """240 Cranfield documents in three segments, every seventh deleted."""
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(240), handle)]
    created = Index.create(tmp_path_factory.mktemp("impacts") / "idx", Schema(id=ID(), title=TEXT(), text=TEXT()))
    for start in (0, 80, 160):
        with created.writer() as writer:
            for document in documents[start : start + 80]:
                writer.add_document(id=document["id"], title=document["title"], text=document["text"])
    with created.writer() as writer:
        for document in documents[::7]:
            writer.delete_by_term("id", document["id"])
    return created.reopen()


@pytest.fixture(scope="module")
def queries() -> list[str]:
    with open(CRANFIELD / "queries.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for _, line in zip(range(30), handle)]


def ranked(searcher: Searcher, query: str, limit: int = 50, **options: object) -> list[tuple[str, float]]:
    return [(hit.id, hit.score) for hit in searcher.search(query, limit=limit, strict=False, **options)]  # type: ignore[arg-type]


def test_cached_tf_parts_give_the_uncached_scores_exactly(index: Index, queries: list[str]) -> None:
    with Searcher(index) as cached, Searcher(index, impact_cache_postings=0) as uncached:
        cold = [ranked(cached, query) for query in queries]
        assert len(cached.impacts) > 0 and 0 < cached.impacts.postings <= cached.impacts.max_postings
        warm = [ranked(cached, query) for query in queries]
        assert len(uncached.impacts) == 0
        expected = [ranked(uncached, query) for query in queries]
        assert all(expected), "a query without hits would make the comparison vacuous"
        assert cold == expected
        assert warm == expected


@pytest.mark.parametrize("options", [
    {"k1": 0.5}, {"b": 0.2}, {"similarity": "bm25+"}, {"similarity": "robertson", "k1": 2.0},
], ids=str)
def test_each_scoring_setting_has_its_own_entries(index: Index, queries: list[str], options: dict[str, object]) -> None:
    with Searcher(index) as cached, Searcher(index, impact_cache_postings=0) as uncached:
        for query in queries[:10]:
            ranked(cached, query)  # the searcher's own setting first
            assert ranked(cached, query, **options) == ranked(uncached, query, **options)
            assert ranked(cached, query) == ranked(uncached, query)


def test_statistics_with_other_average_lengths_are_not_served_the_snapshots(index: Index, queries: list[str]) -> None:
    with Searcher(index) as cached, Searcher(index, impact_cache_postings=0) as uncached:
        for query in queries[:10]:
            own = cached.collection_stats(cached.parse(query, strict=False))
            # A shard's view: fields twice as long on average, the same frequencies.
            longer = CollectionStats(
                own.doc_count, dict(own.field_doc_counts),
                {name: total * 2 for name, total in own.total_lengths.items()}, dict(own.doc_freqs),
            )
            local = ranked(cached, query)
            shard = ranked(cached, query, stats=longer)
            assert shard == ranked(uncached, query, stats=longer)
            assert [score for _, score in shard] != [score for _, score in local]


def test_cached_arrays_are_read_only(index: Index, queries: list[str]) -> None:
    with Searcher(index) as searcher:
        results = searcher.search("flow", limit=5)
        assert results.total > 0
        for reader in searcher.readers:
            assert results.context is not None
            matches = results.query.matches(reader, results.context)
            with pytest.raises(ValueError, match="read-only"):
                matches.docs[:1] = 0


def use(cache: ImpactCache, key: tuple[int, str], postings: int, times: int = 1) -> None:
    """Look ``key`` up ``times`` times, then offer impacts with ``postings`` postings
    (0: the term has none) computed for it, as a search does."""
    for _ in range(times):
        cache.get(key)
    computed = None
    if postings:
        computed = ImpactArrays(np.arange(postings, dtype=np.int64), np.ones(postings), np.zeros(postings, dtype=np.int64))
    cache.remember(CacheLookup([None], [0], [key]), computed)


def test_the_cache_drops_the_least_recently_used_terms_first() -> None:
    cache = ImpactCache(max_postings=10)
    use(cache, (0, "a"), 4)
    use(cache, (0, "b"), 4)
    assert cache.get((0, "a")) is not False  # "a" is now the more recently used
    use(cache, (0, "c"), 4, times=3)  # looked up more often than "b" (by two): admitted in its place
    assert cache.get((0, "b")) is False
    assert cache.get((0, "a")) is not False and cache.get((0, "c")) is not False
    assert cache.postings == 8
    use(cache, (0, "huge"), 11, times=9)  # larger than the whole cache: not kept, nothing dropped
    assert cache.get((0, "huge")) is False and len(cache) == 2


def test_a_full_cache_keeps_its_terms_against_ones_looked_up_no_more_often() -> None:
    # Queries cycling through more terms than fit: LRU would drop each term just before
    # its next use; the first terms stay instead, and are found on every round.
    # Later rounds look the others up first, so a count taken mid-round is one ahead.
    cache = ImpactCache(max_postings=8)
    found = 0
    for round_order in (("w", "x", "y", "z"), ("y", "z", "w", "x"), ("y", "z", "w", "x")):
        for word in round_order:
            found += cache.get((0, word)) is not False
            use(cache, (0, word), 4, times=0)
    assert found == 4  # "w" and "x", found on the second and third rounds
    assert cache.get((0, "w")) is not False and cache.get((0, "x")) is not False
    assert cache.postings == 8


def test_kept_impacts_are_read_only_copies_of_their_terms_postings() -> None:
    cache = ImpactCache(max_postings=100)
    computed = ImpactArrays(np.array([1, 5, 0, 2, 7]), np.array([0.1, 0.2, 0.3, 0.4, 0.5]), np.array([0, 0, 2, 2, 2]))
    keys = [(0, "a"), (0, "b"), (0, "c")]
    cache.remember(CacheLookup([None] * 3, [0, 1, 2], keys), computed)
    first, absent, third = (cache.get(key) for key in keys)
    assert isinstance(first, TermImpacts) and isinstance(third, TermImpacts) and absent is None
    assert first.docs.tolist() == [1, 5] and third.tf_parts.tolist() == [0.3, 0.4, 0.5]
    assert first.docs.base is None and not first.docs.flags.writeable
    assert cache.postings == 2 + 1 + 3


def test_unknown_terms_count_towards_the_bound() -> None:
    cache = ImpactCache(max_postings=3)
    for word in ("qq", "zz", "xx", "yy"):
        use(cache, (0, word), 0, times=3 if word == "yy" else 1)
    assert len(cache) == 3 and cache.postings == 3
    assert cache.get((0, "qq")) is False and cache.get((0, "yy")) is None


def test_a_negative_cache_size_is_refused(index: Index) -> None:
    with pytest.raises(ValueError, match="impact cache's size must not be negative, got -1"):
        Searcher(index, impact_cache_postings=-1)


def test_a_reopened_searcher_keeps_the_cache_size_and_sees_the_new_commit(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", Schema(id=ID(), text=TEXT()))
    with index.writer() as writer:
        writer.add_document(id="a", text="supersonic flow")
    with Searcher(index, impact_cache_postings=123) as searcher:
        assert [hit.id for hit in searcher.search("flow")] == ["a"]
        with index.writer() as writer:
            writer.delete_by_term("id", "a")
            writer.add_document(id="b", text="laminar flow")
        reopened = searcher.reopen()
        assert reopened is not searcher and reopened.impacts.max_postings == 123
        assert [hit.id for hit in reopened.search("flow")] == ["b"]
        assert [hit.id for hit in searcher.search("flow")] == ["a"]  # still its own snapshot


def test_setting_numbers_are_never_reused_when_the_cache_starts_afresh(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(impacts_module, "MAX_SETTINGS", 2)
    with Searcher(index) as searcher:
        context = searcher.search("flow").context
        assert context is not None
        cache, reader = ImpactCache(100), searcher.readers[0]
        first = cache.setting(reader, ("title",), (1.0,), context)
        use(cache, (first, "flow"), 3)
        second = cache.setting(reader, ("text",), (1.0,), context)
        assert cache.setting(reader, ("title",), (1.0,), context) == first  # known: the same number
        third = cache.setting(reader, ("title", "text"), (1.0, 1.0), context)  # one too many: afresh
        assert len({first, second, third}) == 3
        assert len(cache) == 0 and cache.postings == 0


def test_a_query_of_many_terms_is_scored_without_the_cache(index: Index) -> None:
    with Searcher(index) as cached, Searcher(index, impact_cache_postings=0) as uncached:
        expanded = cached.search("text:c*", limit=20)
        assert len(expanded.query.terms()) > impacts_module.MAX_CACHED_TERMS
        assert len(cached.impacts) == 0
        assert [(hit.id, hit.score) for hit in expanded] == ranked(uncached, "text:c*", limit=20)


def test_one_clause_among_many_matches_like_its_term_alone(index: Index) -> None:
    with Searcher(index) as searcher:
        alone = ranked(searcher, "text:supersonic")
        assert ranked(searcher, "text:supersonic text:qqqzzz text:xxxyyy") == alone


def test_document_frequencies_noted_while_scoring_are_the_counted_ones(index: Index, queries: list[str]) -> None:
    """The live counts scoring notes on each segment (title and text added up, deleted
    documents left out) equal those counted from the postings, term by term."""
    with Searcher(index) as searcher:
        for query in queries[:10]:
            ranked(searcher, query)
        fields = ("title", "text")
        analyzer = searcher.schema["text"].make_analyzer()
        terms = {term for query in queries[:10] for term in analyzer.term_list(query)}
        checked = 0
        for reader in searcher.readers:
            for term in sorted(terms):
                noted = reader.noted_live_doc_freq(fields, term)
                if noted is None:
                    continue
                live_docs: set[int] = set()
                for name in fields:
                    postings = reader.postings(name, term)
                    if postings is not None:
                        live_docs.update(int(doc) for doc in postings.docs if reader.live[doc])
                assert noted == len(live_docs), (reader.meta.name, term)
                checked += 1
        assert checked > 100
        assert any(not reader.all_live for reader in searcher.readers)


@dataclass
class _ReadWhenStats(CollectionStats):
    """A query's statistics gathered up front (as a sharded search passes them) that
    note, each time a document frequency is read, whether every segment had already
    counted the term's live documents while computing its tf parts."""

    readers: list[SegmentReader] = field(default_factory=list)
    counted_before_read: list[bool] = field(default_factory=list)

    def doc_freq(self, fields: FieldSet, term: str) -> int:
        noted = [reader.noted_live_doc_freq(fields, term) for reader in self.readers]
        self.counted_before_read.append(all(count is not None for count in noted))
        return super().doc_freq(fields, term)


def test_every_segments_tf_parts_are_computed_before_any_idf(index: Index, queries: list[str]) -> None:
    """Computing a term's tf parts in a segment counts its live documents there; a
    search does so in all segments first, so the idf that follows need not count
    them again in the segments not yet scored."""
    with Searcher(index) as searcher:
        tree = searcher.parse(queries[0], strict=False)
        gathered = searcher.collection_stats(tree)
        stats = _ReadWhenStats(**vars(gathered), readers=searcher.readers)
        assert len(searcher.readers) == 3
        hits = searcher.search(tree, stats=stats, limit=50)
        assert len(stats.counted_before_read) >= 5
        assert all(stats.counted_before_read)
        with Searcher(index) as fresh:
            assert [(hit.id, hit.score) for hit in hits] == ranked(fresh, queries[0])


@pytest.mark.parametrize("text", [
    "title:wing", "wing", "wing body flow", "title:wing OR text:flow", "(wing body)^2.5", "wing AND body",
    "+wing -body flow", "wi*", "flaw~1 NOT wing", '"boundary layer" flow',
])
@pytest.mark.parametrize("cache_postings", [0, 100_000])
def test_matches_in_all_segments_equal_the_matches_of_each(index: Index, text: str, cache_postings: int) -> None:
    with Searcher(index, impact_cache_postings=cache_postings) as searcher:
        tree, context = searcher.prepare(text)
        together = tree.matches_in(searcher.readers, context)
        one_by_one = [tree.matches(reader, context) for reader in searcher.readers]
        assert sum(len(found.docs) for found in together) > 0
        assert len(together) == len(one_by_one) == 3
        for found, expected in zip(together, one_by_one):
            np.testing.assert_array_equal(found.docs, expected.docs)
            np.testing.assert_array_equal(found.scores, expected.scores)
