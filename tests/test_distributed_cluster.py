"""Sharded indexes on real Dask clusters: a LocalCluster of worker processes, and a
scheduler and worker started on loopback as separate programs (``dask scheduler``,
``dask worker``), as a user's cluster would be."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

from searchlib import Index, Searcher  # noqa: E402
from searchlib.distributed import ShardBuildError, ShardedIndex, ShardError, route  # noqa: E402
from tests.test_distributed import assert_same_ranking, corpus, schema  # noqa: E402

QUERIES = ["boundary layer flow", '"heat transfer"', "superson*", "+wing -body", "pressure"]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return corpus("cranfield")[:600]


def rankings(searcher: Any, limit: int = 15) -> list[list[tuple[str, float]]]:
    return [[(hit.id, hit.score) for hit in searcher.search(text, limit=limit)] for text in QUERIES]


def test_a_local_cluster_builds_the_shards_and_searches_them_as_one_index(
    client: Any, documents: list[dict[str, Any]], tmp_path: Path
) -> None:
    single = Index.create(tmp_path / "single", schema())
    with single.writer() as writer:
        for document in documents:
            writer.add_document(document)
    index = ShardedIndex.create(tmp_path / "sharded", schema(), shards=3)
    with index.writer(client=client) as writer:
        writer.add_documents(documents)
    with index.writer(client=client) as writer:
        writer.update_document({**documents[0], "text": "zyxwvut words"})
    with single.writer() as writer:
        writer.update_document({**documents[0], "text": "zyxwvut words"})
    assert index.doc_count == len(documents)
    workers = set(client.scheduler_info()["workers"])
    assert len(workers) == 2
    with Searcher(tmp_path / "single") as searcher:
        expected = rankings(searcher)
    with index.searcher(client=client) as sharded:
        found = rankings(sharded)
        assert [hit.id for hit in sharded.search("zyxwvut")] == [documents[0]["id"]]
    for text, want, got in zip(QUERIES, expected, found):
        assert_same_ranking(want, got, text)


def test_a_failed_task_on_a_worker_names_the_shard_and_document_and_changes_nothing(
    client: Any, tmp_path: Path
) -> None:
    index = ShardedIndex.create(tmp_path / "sharded", schema(), shards=4)
    with index.writer(client=client) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"first {i}"} for i in range(20))
    generations = [Index.open(path).generation for path in index.shard_paths()]
    with pytest.raises(ShardBuildError) as caught, index.writer(client=client) as writer:
        writer.add_documents([{"id": f"n{i}", "text": "second"} for i in range(10)] + [{"id": "bad", "year": "x"}])
    failure = caught.value.failures[0]
    assert (failure.shard, failure.position, failure.document_id) == (route("bad", 4), 10, "bad")
    assert [Index.open(path).generation for path in index.shard_paths()] == generations
    assert index.doc_count == 20


def test_a_shard_that_does_not_answer_in_time_is_named(client: Any, tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "sharded", schema(), shards=2)
    with index.writer(local=True) as writer:
        writer.add_documents({"id": f"d{i}", "text": "words"} for i in range(10))
    with index.searcher(client=client, timeout=1e-6) as searcher, \
            pytest.raises(ShardError, match=r"shard 0 \(.*shard-000\): did not answer in time"):
        searcher.search("words")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A scheduler and one worker, each its own process, on loopback."""
    address = f"tcp://127.0.0.1:{free_port()}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    logs = open(tmp_path / "cluster.log", "wb")  # noqa: SIM115  # closed below
    processes = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], stdout=logs, stderr=logs)]
    try:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1"], stdout=logs, stderr=logs,
        ))
        with distributed.Client(address, timeout=60) as probe:
            deadline = time.monotonic() + 60
            while not probe.scheduler_info()["workers"]:
                assert time.monotonic() < deadline, (tmp_path / "cluster.log").read_text()
                time.sleep(0.1)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:  # a worker may wait for the scheduler it lost: not our subject
                process.kill()
                process.wait(10)
        logs.close()


def test_a_scheduler_given_by_address_builds_and_searches(scheduler: str, tmp_path: Path) -> None:
    index = ShardedIndex.create(tmp_path / "sharded", schema(), shards=2)
    with index.writer(scheduler=scheduler) as writer:
        writer.add_documents({"id": f"d{i}", "text": f"word{i % 3} common"} for i in range(30))
    assert index.doc_count == 30
    with index.searcher() as local, index.searcher(scheduler=scheduler) as remote:
        expected = [(hit.id, hit.score) for hit in local.search("word1 common", limit=20)]
        found = remote.search("word1 common", limit=20)
    assert [(hit.id, hit.score) for hit in found] == expected
    assert found.total == 30


def test_a_dask_bag_is_indexed_partition_by_partition_in_its_order(client: Any, tmp_path: Path) -> None:
    import dask.bag

    rows = [{"id": f"d{i}", "text": f"same words {i}"} for i in range(50)]
    bag = dask.bag.from_sequence(rows, npartitions=4)
    index = ShardedIndex.create(tmp_path / "sharded", schema(), shards=3)
    with index.writer(client=client) as writer:
        assert writer.add_documents(bag) == 50
    with index.searcher() as searcher:
        found = searcher.search("same words", limit=50)
    assert found.total == 50
    # Equal scores are listed in the order the bag gave the documents, as one index lists them.
    by_score: dict[float, list[str]] = {}
    for hit in found:
        by_score.setdefault(hit.score, []).append(hit.id)
    for ids in by_score.values():
        assert ids == sorted(ids, key=lambda key: int(key[1:]))
