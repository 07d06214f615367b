"""Sharded indexes: routing, the two-step build, and the fan-out search, whose ranking
must be one index's over the same documents.

The equality checks search the shards in this process (the merge is the same code a
cluster runs; tests/test_distributed_cluster.py runs it on real Dask workers), on
Cranfield and SciFact split into 1, 2, 3 and 8 shards, after deletions.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from searchlib import Index, Searcher
from searchlib.distributed import ShardBuildError, ShardedIndex, ShardError, route
from searchlib.distributed.manifest import MANIFEST_NAME, ORDER_FIELD, read_manifest, shard_name
from searchlib.errors import SchemaError
from searchlib.schema import ID, KEYWORD, NUMERIC, TEXT, Schema
from searchlib.searcher.facets import Facet, RangeFacet
from tests.conftest import SHARED

DATASETS = SHARED / "datasets"
SHARD_COUNTS = (1, 2, 3, 8)
TAGS = ("alpha", "beta", "gamma", "delta")
#: A score may differ from one index's by float rounding alone.
TOLERANCE = 1e-9


def schema() -> Schema:
    return Schema(id=ID(), title=TEXT(), text=TEXT(), year=NUMERIC("int"), tag=KEYWORD())


def corpus(name: str) -> list[dict[str, Any]]:
    """A dataset's documents with a year and tags derived from their position (seeded:
    the same every run), for ranges, sorting, filters and facets."""
    documents = []
    with open(DATASETS / name / "corpus.jsonl", encoding="utf-8") as file:
        for position, line in enumerate(file):
            record = json.loads(line)
            tags = [TAGS[position % 4]] + ([TAGS[(position // 4) % 4]] if position % 3 == 0 else [])
            documents.append({"id": str(record.get("_id", record.get("id"))), "title": record.get("title", ""),
                              "text": record["text"], "year": 1950 + (position * 7919) % 60, "tag": tags})
    return documents


def deleted_ids(documents: list[dict[str, Any]]) -> list[str]:
    return [document["id"] for position, document in enumerate(documents) if position % 17 == 5]


#: A query deleting more documents, on every shard.
DELETE_QUERY = "tag:delta AND year:[1950 TO 1953]"


def build_pair(root: Path, name: str) -> tuple[Path, dict[int, Path]]:
    """One index and sharded indexes of every count over the same documents, with the
    same deletions: the single index's path and each sharded index's."""
    documents = corpus(name)
    single = root / f"{name}-single"
    index = Index.create(single, schema())
    with index.writer() as writer:
        for document in documents:
            writer.add_document(document)
    with index.writer() as writer:
        for key in deleted_ids(documents):
            writer.delete_by_term("id", key)
        writer.delete_by_query(DELETE_QUERY)
    sharded = {}
    for shards in SHARD_COUNTS:
        path = root / f"{name}-{shards}"
        sharded_index = ShardedIndex.create(path, schema(), shards=shards)
        with sharded_index.writer(local=True) as sharded_writer:
            assert sharded_writer.add_documents(documents) == len(documents)
        with sharded_index.writer(local=True) as sharded_writer:
            for key in deleted_ids(documents):
                sharded_writer.delete_by_term("id", key)
            sharded_writer.delete_by_query(DELETE_QUERY)
        sharded[shards] = path
    return single, sharded


@pytest.fixture(scope="module", params=["cranfield", "scifact"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[int, Path]]:
    name = request.param
    single, sharded = build_pair(tmp_path_factory.mktemp(name), name)
    return name, single, sharded


def first_queries(name: str, count: int) -> list[str]:
    with open(DATASETS / name / "queries.jsonl", encoding="utf-8") as file:
        texts = [json.loads(line)["text"] for line in file]
    return [" ".join(text.replace('"', " ").replace("?", " ").split()[:8]) for text in texts[:count]]


#: Per dataset, queries of every kind: (text, search keywords).
QUERIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "cranfield": [
        ('"boundary layer"', {}), ('"heat transfer"~2 flow', {}), ("bound*", {}), ("superson*", {}),
        ("wign~1 body", {}), ("te?t pressure", {}), ("/flo[wo]r?/", {}),
        ("year:[1960 TO 1980]", {}), ("heat year:[1990 TO *]", {}),
        ("+boundary -layer flow", {}), ("heat AND transfer", {}), ("(wing OR body) NOT supersonic", {}),
        ("pressure distribution", {"sort": "year"}), ("pressure distribution", {"sort": "-year"}),
        ("shock wave", {"sort": "tag"}), ("shock wave", {"sort": "-tag"}),
        ("flow", {"offset": 5, "limit": 7}), ("flow", {"offset": 40, "limit": 10}),
        ("flow", {"sort": "-year", "offset": 13, "limit": 9}),
        ("flow over a plate", {"filter": "tag:beta"}), ("flow", {"filter": "year:[1990 TO *]", "limit": 30}),
        ("title:flow", {}), ("tag:gamma", {"limit": 25}),
    ],
    "scifact": [
        ('"gene expression"', {}), ('"breast cancer"~3 risk', {}), ("prote*", {}), ("immun*", {}),
        ("cancr~1 cells", {}), ("ge?e", {}), ("/mut[a-z]+/", {}),
        ("year:[1960 TO 1980]", {}), ("cells year:[1990 TO *]", {}),
        ("+cancer -breast tumor", {}), ("gene AND expression", {}), ("(mice OR rats) NOT human", {}),
        ("protein binding", {"sort": "year"}), ("protein binding", {"sort": "-year"}),
        ("cell death", {"sort": "tag"}), ("cell death", {"sort": "-tag"}),
        ("cells", {"offset": 5, "limit": 7}), ("cells", {"offset": 40, "limit": 10}),
        ("cells", {"sort": "-year", "offset": 13, "limit": 9}),
        ("stem cells", {"filter": "tag:beta"}), ("cells", {"filter": "year:[1990 TO *]", "limit": 30}),
        ("title:cancer", {}), ("tag:gamma", {"limit": 25}),
    ],
}


def assert_same_ranking(expected: list[tuple[str, float]], found: list[tuple[str, float]], what: str) -> None:
    """The same ids in the same order with the same scores (to TOLERANCE); documents
    whose scores differ by float rounding alone may trade places."""
    assert len(found) == len(expected), what
    for (_, want), (_, got) in zip(expected, found):
        assert got == pytest.approx(want, abs=TOLERANCE, rel=0), what
    start = 0
    while start < len(expected):  # runs of equal scores: the same ids, in order up to rounding
        end = start + 1
        while end < len(expected) and abs(expected[end][1] - expected[start][1]) <= TOLERANCE:
            end += 1
        if end - start == 1 or expected[start][1] != expected[end - 1][1]:
            assert {i for i, _ in found[start:end]} == {i for i, _ in expected[start:end]}, what
        else:  # exactly equal scores: listed in the order the documents were added
            assert [i for i, _ in found[start:end]] == [i for i, _ in expected[start:end]], what
        start = end


def test_every_query_kind_ranks_as_one_index_on_every_shard_count(pair: tuple[str, Path, dict[int, Path]]) -> None:
    name, single, sharded = pair
    queries = [(text, {"limit": 40}) for text in first_queries(name, 6)] + QUERIES[name]
    with Searcher(single) as searcher:
        expected = []
        for text, options in queries:
            results = searcher.search(text, **{"limit": 20, **options})
            expected.append(([(hit.id, hit.score) for hit in results], results.total))
        assert sum(total for _, total in expected) > 0
    for shards, path in sharded.items():
        # Three shards on threads (the steps overlapping), the others one after the other.
        with ShardedIndex.open(path).searcher(threads=2 if shards == 3 else 1) as sharded_searcher:
            for (text, options), (ranking, total) in zip(queries, expected):
                results = sharded_searcher.search(text, **{"limit": 20, **options})
                what = f"{name}, {shards} shards: {text!r} {options}"
                assert results.total == total, what
                assert_same_ranking(ranking, [(hit.id, hit.score) for hit in results], what)
                assert [hit.rank for hit in results] == list(range(options.get("offset", 0) + 1,
                                                                   options.get("offset", 0) + len(results) + 1))


def test_facets_and_totals_add_up_as_in_one_index(pair: tuple[str, Path, dict[int, Path]]) -> None:
    name, single, sharded = pair
    facets = ["tag", Facet("year", limit=5), RangeFacet.buckets("year", [1950, 1970, 1990, 2010], name="era")]
    text = first_queries(name, 1)[0]
    with Searcher(single) as searcher:
        expected = searcher.search(text, facets=facets, limit=3).facets
    for shards, path in sharded.items():
        with ShardedIndex.open(path).searcher() as sharded_searcher:
            found = sharded_searcher.search(text, facets=facets, limit=3).facets
        assert found == expected, f"{shards} shards"


def test_global_statistics_are_the_single_index_statistics(pair: tuple[str, Path, dict[int, Path]]) -> None:
    name, single, sharded = pair
    text = "flow bound* \"heat transfer\"" if name == "cranfield" else "cells prote* \"gene expression\""
    with Searcher(single) as searcher:
        expected = searcher.collection_stats(searcher.parse(text))
    with ShardedIndex.open(sharded[3]).searcher() as sharded_searcher:
        found = sharded_searcher.collection_stats(text)
    assert found == expected


def test_documents_are_routed_by_a_stable_hash_of_their_id(tmp_path: Path) -> None:
    assert route("doc-1", 8) == route("doc-1", 8)  # no per-process salt: fixed digests
    assert [route(str(i), 3) for i in range(12)] == [route(str(i), 3) for i in range(12)]
    assert {route(str(i), 4) for i in range(200)} == {0, 1, 2, 3}
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=4)
    with index.writer(local=True) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"word {i}", "year": 2000, "tag": "alpha"} for i in range(60))
    for number, path in enumerate(index.shard_paths()):
        with Searcher(path) as searcher:
            ids = [hit.id for hit in searcher.search("word", limit=100)]
        assert ids and all(route(key, 4) == number for key in ids)
    manifest = json.loads((tmp_path / "s" / MANIFEST_NAME).read_text())
    assert manifest["routing"] == {"hash": "blake2b-64", "field": "id"} and manifest["shards"] == 4
    assert manifest["next_order"] == 60 and ORDER_FIELD not in manifest["schema"]


SCHEMA_OF_ROWS = Schema(id=ID(), text=TEXT(), year=NUMERIC("int"), weight=NUMERIC("float"))


def test_a_dask_dataframe_is_indexed_row_by_row_as_its_records(tmp_path: Path) -> None:
    """Each row a document (a missing text is no value); the shards then rank as one
    index of the same records does."""
    import dask.dataframe
    import pandas

    frame = pandas.DataFrame({
        "id": [f"d{i}" for i in range(40)],
        "text": [f"row {i} of the same words" if i % 7 else None for i in range(40)],
        "year": pandas.array([1980 + i if i % 5 else None for i in range(40)], dtype="Int64"),  # <NA> where missing
        "weight": [i / 4 if i % 3 else float("nan") for i in range(40)],  # a float column: NaN where missing
    })
    records = [{key: value for key, value in row.items() if isinstance(value, str) or not pandas.isna(value)}
               for row in frame.to_dict("records")]
    assert len([record for record in records if "text" in record]) == 34
    sharded = ShardedIndex.create(tmp_path / "sharded", SCHEMA_OF_ROWS, shards=3)
    with sharded.writer(local=True) as writer:
        assert writer.add_documents(dask.dataframe.from_pandas(frame, npartitions=3)) == 40
    assert len([record for record in records if "year" in record]) == 32
    assert len([record for record in records if "weight" in record]) == 26
    one = Index.create(tmp_path / "one", SCHEMA_OF_ROWS)
    with one.writer() as writer:
        writer.add_documents(records)
    with sharded.searcher() as shards, Searcher(one) as alone:
        for query in ("same words", "row 21", "year:[2000 TO 2005]", "weight:[* TO *]", "weight:[2 TO 5]"):
            found, expected = shards.search(query, limit=50), alone.search(query, limit=50)
            assert_same_ranking([(hit.id, hit.score) for hit in expected], [(hit.id, hit.score) for hit in found], query)
            assert found.total == expected.total
        assert shards.search("same words", limit=0).total == 34  # the six rows without a text
        assert shards.search("weight:[* TO *]", limit=0).total == 26  # NaN is no weight


def test_updates_and_deletes_reach_the_shard_holding_the_document(tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=3)
    with index.writer(local=True) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"old words {i}", "tag": "alpha"} for i in range(30))
    with index.writer(local=True) as writer:
        writer.update_document(id="d7", text="new words")
        writer.delete_by_term("id", "d8")
        writer.delete_by_term("tag", "missing")
        writer.delete_by_query("text:29")
    assert index.doc_count == 28
    with index.searcher() as searcher:
        assert [hit.id for hit in searcher.search("new")] == ["d7"]
        assert searcher.search("old").total == 27
        assert searcher.search("id:d8").total == 0
        shard = searcher.search("new").hits[0].shard
    assert shard == route("d7", 3)


def test_a_bad_document_is_reported_with_its_shard_and_changes_no_shard(tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=3)
    with index.writer(local=True) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"first {i}"} for i in range(9))
    generations = [Index.open(path).generation for path in index.shard_paths()]
    documents = [{"id": f"n{i}", "text": f"second {i}"} for i in range(20)]
    documents[13] = {"id": "bad", "text": 42}  # a text field given a number
    with pytest.raises(ShardBuildError) as caught:
        with index.writer(local=True) as writer:
            writer.add_documents(documents)
            writer.update_document(id="d1", text="changed")
    failure = caught.value.failures[0]
    assert (failure.shard, failure.position, failure.document_id) == (route("bad", 3), 13, "bad")
    assert f"shard {route('bad', 3)}, document 13 (id 'bad')" in str(caught.value)
    assert "no shard was changed" in str(caught.value) and caught.value.committed == []
    # Every shard, those that had prepared their part too, is as it was.
    assert [Index.open(path).generation for path in index.shard_paths()] == generations
    assert index.doc_count == 9
    assert not [p for p in index.path.iterdir() if p.name.startswith("staging-")]
    assert read_manifest(index.path).next_order == 9
    with index.writer(local=True) as writer:  # the locks were released
        writer.add_document(id="n0", text="second")
    assert index.doc_count == 10


def test_documents_without_a_string_id_are_refused_before_any_work(tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=2)
    with index.writer(local=True) as writer:
        with pytest.raises(SchemaError, match="routes by the ID field 'id'"):
            writer.add_document(text="no id")
    with pytest.raises(SchemaError, match="ID field"):
        ShardedIndex.create(tmp_path / "t", Schema(text=TEXT()), shards=2)
    with pytest.raises(ValueError, match="at least 1"):
        ShardedIndex.create(tmp_path / "u", schema(), shards=0)


def test_new_fields_reach_every_shard_and_the_manifest(tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=2)
    with index.writer(local=True) as writer:
        writer.add_field("lang", KEYWORD())
        writer.add_documents({"id": f"d{i}", "text": "words", "lang": "en" if i % 2 else "fr"} for i in range(10))
    assert "lang" in ShardedIndex.open(index.path).schema
    assert all("lang" in Index.open(path).schema for path in index.shard_paths())
    with ShardedIndex.open(index.path).searcher() as searcher:
        assert searcher.search("lang:fr").total == 5


@pytest.fixture
def small(tmp_path: Path) -> ShardedIndex:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=3)
    with index.writer(local=True) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"common word{i % 5}", "year": 1990 + i} for i in range(40))
    return index


def test_a_damaged_shard_is_named_or_left_out_when_partial_results_are_asked(small: ShardedIndex) -> None:
    broken = small.shard_paths()[1]
    for manifest in broken.glob("manifest-*.json"):
        manifest.unlink()
    with small.searcher() as searcher:
        with pytest.raises(ShardError, match=f"shard 1 \\({broken}\\)") as caught:
            searcher.search("common")
        assert caught.value.shard == 1
        results = searcher.search("common", partial=True, limit=50)
    assert results.missing_shards == [1]
    assert results.total == 40 - sum(1 for i in range(40) if route(f"d{i}", 3) == 1)
    assert {hit.shard for hit in results} == {0, 2}


def test_a_removed_shard_is_named_too(small: ShardedIndex) -> None:
    shutil.rmtree(small.shard_paths()[2])
    with pytest.raises(ShardError, match="shard 2"), small.searcher() as searcher:
        searcher.search("common")
    with small.searcher(partial=True) as searcher:
        assert searcher.search("common").missing_shards == [2]


def test_a_query_mistake_is_the_callers_not_a_shards(small: ShardedIndex) -> None:
    from searchlib.errors import QueryError

    with small.searcher() as searcher, pytest.raises(QueryError):
        searcher.search("text:(unclosed", strict=True)


def test_snippets_come_from_the_shard_holding_the_hit(small: ShardedIndex) -> None:
    with small.searcher() as searcher:
        results = searcher.search("word3", snippets={"count": 1, "width": 40})
    assert results.total == 8
    assert all(hit.fragments is not None and "[word3]" in hit.to_dict()["snippet"] for hit in results)
    assert all(hit["id"] == hit.id for hit in results)


def test_shard_directories_are_ordinary_indexes(small: ShardedIndex) -> None:
    assert [path.name for path in small.shard_paths()] == [shard_name(i) for i in range(3)]
    assert sum(Index.open(path).doc_count for path in small.shard_paths()) == 40
    with pytest.raises(Exception, match="not empty"):
        ShardedIndex.create(small.path, schema(), shards=2)


def test_without_the_fetch_step_hits_keep_their_ids_and_scores(small: ShardedIndex) -> None:
    with small.searcher() as searcher:
        fetched = searcher.search("word3 common", limit=5)
        light = searcher.search("word3 common", limit=5, fetch=False)
    assert [(hit.id, hit.score, hit.rank) for hit in light] == [(hit.id, hit.score, hit.rank) for hit in fetched]
    assert all(hit.fields == {} for hit in light) and all(hit.fields["id"] == hit.id for hit in fetched)


def test_a_dead_writers_spools_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "s", schema(), shards=2)
    writer = index.writer(local=True)
    writer.add_documents({"id": f"d{i}", "text": "words"} for i in range(5))
    spools = [p for p in index.path.iterdir() if p.name.startswith("staging-")]
    assert len(spools) == 1 and any(spools[0].iterdir())
    if os.name == "posix":  # the spools are pickles: only their writer's user may reach them
        assert spools[0].stat().st_mode & 0o777 == 0o700
    writer._lock.release()  # as the process dying would: its spool stays behind
    with index.writer(local=True) as second:
        second.add_document(id="x", text="other")
    assert not spools[0].exists()
    assert index.doc_count == 1


def test_explanations_give_the_global_statistics_as_one_index_does(pair: tuple[str, Path, dict[int, Path]]) -> None:
    name, single, sharded = pair
    text = first_queries(name, 1)[0]
    with Searcher(single) as searcher:
        expected = [searcher.explain(hit).format() for hit in searcher.search(text, limit=3)]
    with ShardedIndex.open(sharded[3]).searcher() as sharded_searcher:
        results = sharded_searcher.search(text, limit=3, explain=True)
    found = [hit.explanation.format() for hit in results if hit.explanation is not None]
    assert found == expected
    assert "explanation" in results.hits[0].to_dict()


def test_a_shard_failing_in_its_commit_keeps_its_generation_and_the_error_lists_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib.distributed import build

    index = ShardedIndex.create(tmp_path / "s", schema(), shards=3)
    documents = [{"id": f"d{i}", "text": f"words {i}"} for i in range(30)]
    generations = [Index.open(path).generation for path in index.shard_paths()]
    commit_shard = build.commit_shard

    def failing(token: str, shard: int) -> None:
        if shard == 1:
            build.abort_shard(token, shard)  # what a commit that raised leaves: the writer aborted
            raise OSError("no space left on device")
        commit_shard(token, shard)

    monkeypatch.setattr(build, "commit_shard", failing)
    with pytest.raises(ShardBuildError) as caught, index.writer(local=True) as writer:
        writer.add_documents(documents)
    assert caught.value.committed == [0, 2] and caught.value.failures[0].shard == 1
    assert "OSError: no space left on device" in str(caught.value)
    assert "shards 0, 2 committed their part" in str(caught.value)
    assert Index.open(index.shard_paths()[1]).generation == generations[1]
    assert index.doc_count == sum(1 for d in documents if route(d["id"], 3) != 1)
    monkeypatch.setattr(build, "commit_shard", commit_shard)
    with index.writer(local=True) as writer:  # adding the batch again as updates repairs it
        writer.add_documents(documents, update=True)
    assert index.doc_count == 30
