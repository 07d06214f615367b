"""Sharded indexes on Dask: the build's speed-up with workers, and a query's fan-out cost.

1. *Build*: the enwiki sample (``../shared/datasets/enwiki-sample``) indexed into a
   sharded index of ``--shards`` shards on a LocalCluster of 1 worker process, then of 2
   (the cluster started, and its workers' imports made, before the clock runs), and into one index by one ordinary
   writer for reference. The time is split into routing (this process reads the
   documents, hashes their IDs and spools them to the shards' files: serial) and the
   commit (the shards built on the workers: parallel).
2. *Query*: SciFact's queries (top 10, ids of the hits read) against one index, and
   against the same documents in 2 and 4 shards searched in this process (on 1 thread,
   and on 2) and on a LocalCluster of 2 workers: the median and 95th percentile latency, after one
   untimed warm-up pass, the runs interleaved query by query. As for one index only
   the hits' ids are read, the sharded searches skip the fetch step (``fetch=False``).

Prints a Markdown report (``--json`` for the figures). The machine is shared: compare
the ratios of one run, not absolute figures across runs.

Run from the repository root::

    python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --queries 200 --shards 2
    python benchmarks/bench_distributed.py --skip-build --skip-latency \\
        --shard-memory benchmarks/scratch/latency-1000000-searchlib benchmarks/scratch/synthetic-1000000/queries.jsonl

The last measures what one shard costs a worker (memory, and the two steps a sharded
search runs on it against a plain search), on an index another benchmark left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from searchlib import ID, TEXT, Index, Schema, Searcher  # noqa: E402
from searchlib.distributed import ShardedIndex  # noqa: E402

DATASETS = REPO.parent / "shared" / "datasets"


def schema() -> Schema:
    return Schema(id=ID(), title=TEXT(), text=TEXT())


def documents(path: Path) -> Iterator[dict[str, str]]:
    with (path / "corpus.jsonl").open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                row = json.loads(line)
                yield {"id": str(row.get("_id", row.get("id"))), "title": row.get("title") or "",
                       "text": row.get("text") or ""}


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def peak_rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _warm_worker() -> None:
    """What a worker imports to build a shard (and the analyzer it builds), done before
    a build is timed: a fresh worker process would otherwise pay it in the first task."""
    from searchlib.schema import FieldAnalyzers
    from searchlib.writer import IndexWriter  # noqa: F401

    FieldAnalyzers(schema())["text"].terms("warming up")


def build(scratch: Path, corpus: Path, shards: int, workers: int) -> dict[str, Any]:
    """One sharded build on a LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    path = scratch / f"sharded-{shards}-w{workers}"
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster, Client(cluster) as client:
        cluster_seconds = time.perf_counter() - started
        client.run(_warm_worker)  # each worker imports the writing side before the clock runs
        index = ShardedIndex.create(path, schema(), shards=shards)
        begin = time.perf_counter()
        with index.writer(client=client) as writer:
            count = writer.add_documents(documents(corpus))
            routed = time.perf_counter()
        done = time.perf_counter()
    return {"shards": shards, "workers": workers, "documents": count, "cluster_start_s": cluster_seconds,
            "route_s": routed - begin, "commit_s": done - routed, "total_s": done - begin,
            "index_mb": size_mb(path)}


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one kind of build: their median times (and the spread of the totals)."""
    row = dict(rows[0])
    for key in ("cluster_start_s", "route_s", "commit_s", "total_s"):
        if key in row:
            row[key] = statistics.median(r[key] for r in rows)
    row["total_range_s"] = (min(r["total_s"] for r in rows), max(r["total_s"] for r in rows))
    return row


def build_single(scratch: Path, corpus: Path) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / "single"
    index = Index.create(path, schema())
    begin = time.perf_counter()
    with index.writer() as writer:
        count = writer.add_documents(documents(corpus))
    return {"shards": 1, "workers": 0, "documents": count, "total_s": time.perf_counter() - begin,
            "index_mb": size_mb(path)}


def queries(path: Path, limit: int) -> list[str]:
    with (path / "queries.jsonl").open(encoding="utf-8") as file:
        texts = [json.loads(line)["text"] for line in file if line.strip()]
    return texts[:limit]


def latency(scratch: Path, corpus: Path, texts: list[str], shard_counts: list[int]) -> list[dict[str, Any]]:
    """Each configuration's latencies for the same queries, interleaved query by query."""
    from distributed import Client, LocalCluster

    single = scratch / "scifact-single"
    index = Index.create(single, schema())
    with index.writer() as writer:
        writer.add_documents(documents(corpus))
    sharded = {}
    for shards in shard_counts:
        sharded[shards] = ShardedIndex.create(scratch / f"scifact-{shards}", schema(), shards=shards)
        with sharded[shards].writer(local=True) as sharded_writer:
            sharded_writer.add_documents(documents(corpus))
    runs: dict[str, Callable[[str], Any]] = {}
    closers: list[Callable[[], None]] = []
    searcher = Searcher(single)
    runs["one index"] = lambda text: [hit.id for hit in searcher.search(text, strict=False)]
    closers.append(searcher.close)
    for shards, sharded_index in sharded.items():
        for threads in (1, 2):
            in_process = sharded_index.searcher(threads=threads)
            runs[f"{shards} shards, in process, {threads} thread(s)"] = (
                lambda text, s=in_process: [hit.id for hit in s.search(text, strict=False, fetch=False)])
            closers.append(in_process.close)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           host="127.0.0.1")
    client = Client(cluster)
    for shards, sharded_index in sharded.items():
        on_cluster = sharded_index.searcher(client=client)
        runs[f"{shards} shards, 2 Dask workers"] = (
            lambda text, s=on_cluster: [hit.id for hit in s.search(text, strict=False, fetch=False)])
        closers.append(on_cluster.close)
    timings: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for text in texts:  # warm-up: files mapped, searchers opened on the workers
            for run in runs.values():
                run(text)
        for text in texts:
            for name, run in runs.items():
                begin = time.perf_counter()
                run(text)
                timings[name].append(time.perf_counter() - begin)
    finally:
        for close in closers:
            close()
        client.close()
        cluster.close()
    base = statistics.median(timings["one index"])
    rows = []
    for name, values in timings.items():
        values.sort()
        median = statistics.median(values)
        rows.append({"configuration": name, "median_ms": median * 1e3,
                     "p95_ms": values[int(0.95 * (len(values) - 1))] * 1e3, "ratio": median / base})
    return rows


def shard_memory(index_path: Path, queries_path: Path, count: int) -> dict[str, Any]:
    """What one shard costs a worker: a fresh process opens a searcher on an existing
    index (one shard's worth of documents) and answers ``count`` queries in the two
    steps a sharded search runs on it (statistics, then the top 10 scored with them),
    reporting its memory (peak RSS, and anonymous memory: what is not the index's
    mapped file pages) and the steps' latencies beside a plain search's."""
    code = f"""
import json, statistics, sys, time
sys.path.insert(0, {str(REPO)!r})
from searchlib import Searcher
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
texts = [json.loads(line)['text'] for line in open({str(queries_path)!r})][:{count}]
before = status('RssAnon:')
searcher = Searcher({str(index_path)!r})
opened = status('RssAnon:')
for text in texts:
    searcher.search(text)
plain, fanned, stats_ms = [], [], []
for text in texts:
    begin = time.perf_counter(); searcher.search(text); plain.append(time.perf_counter() - begin)
    begin = time.perf_counter(); tree = searcher.parse(text); stats = searcher.collection_stats(tree)
    middle = time.perf_counter(); searcher.search(tree, stats=stats); end = time.perf_counter()
    stats_ms.append(middle - begin); fanned.append(end - begin)
print(json.dumps({{"documents": searcher.doc_count, "segments": len(searcher.readers),
    "anon_before_mib": before, "anon_open_mib": opened, "anon_after_mib": status('RssAnon:'),
    "peak_rss_mib": status('VmHWM:'), "plain_p50_ms": statistics.median(plain) * 1e3,
    "stats_p50_ms": statistics.median(stats_ms) * 1e3, "two_steps_p50_ms": statistics.median(fanned) * 1e3}}))
"""
    import subprocess

    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(found.stdout)
    result["index_mb"] = size_mb(index_path)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enwiki", type=Path, default=DATASETS / "enwiki-sample")
    parser.add_argument("--scifact", type=Path, default=DATASETS / "scifact")
    parser.add_argument("--shards", type=int, default=2, help="Shards of the enwiki builds [default: 2].")
    parser.add_argument("--queries", type=int, default=300, help="SciFact queries timed [default: 300].")
    parser.add_argument("--rounds", type=int, default=3,
                        help="Builds of each kind, interleaved; the medians are reported [default: 3].")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--shard-memory", nargs=2, type=Path, metavar=("INDEX", "QUERIES"), default=None,
                        help="Also measure one shard's memory and steps on an existing index and its queries.jsonl.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    report: dict[str, Any] = {"cores": os.cpu_count(), "load": os.getloadavg()}
    try:
        if not args.skip_build:
            rounds: list[list[dict[str, Any]]] = [[], [], []]
            for number in range(args.rounds):  # interleaved: the machine's load changes as they run
                rounds[0].append(build_single(scratch / f"round-{number}", args.enwiki))
                for workers in (1, 2):
                    rounds[workers].append(build(scratch / f"round-{number}", args.enwiki, args.shards, workers))
            report["builds"] = [median_row(rows) for rows in rounds]
            report["build_rounds"] = rounds
            one, two = report["builds"][1]["total_s"], report["builds"][2]["total_s"]
            report["speed_up"] = one / two
            report["commit_speed_up"] = report["builds"][1]["commit_s"] / report["builds"][2]["commit_s"]
        if not args.skip_latency:
            report["latency"] = latency(scratch, args.scifact, queries(args.scifact, args.queries), [2, 4])
        if args.shard_memory is not None:
            report["shard"] = shard_memory(*args.shard_memory, args.queries)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"# Sharded indexes on Dask ({report['cores']} cores, load {report['load'][0]:.2f})\n")
    if "builds" in report:
        print(f"Median of {args.rounds} interleaved rounds (total's range in brackets).\n")
        print("| build | documents | route s | commit s | total s | docs/s | index MB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in report["builds"]:
            name = "one index, one writer" if row["workers"] == 0 else \
                f"{row['shards']} shards, {row['workers']} worker(s)"
            route, commit = (f"{row[key]:.1f}" if key in row else "—" for key in ("route_s", "commit_s"))
            print(f"| {name} | {row['documents']:,} | {route} | {commit} | {row['total_s']:.1f} "
                  f"({row['total_range_s'][0]:.1f}-{row['total_range_s'][1]:.1f}) | "
                  f"{row['documents'] / row['total_s']:,.0f} | {row['index_mb']:.1f} |")
        print(f"\nSpeed-up from 1 to 2 workers: {report['speed_up']:.2f}x overall, "
              f"{report['commit_speed_up']:.2f}x in the commit (the parallel part).\n")
    if "latency" in report:
        print("| SciFact queries, top 10 | median ms | p95 ms | median / one index |")
        print("|---|---:|---:|---:|")
        for row in report["latency"]:
            print(f"| {row['configuration']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | {row['ratio']:.1f}x |")
    if "shard" in report:
        shard = report["shard"]
        print(f"\nOne shard of {shard['documents']:,} documents ({shard['segments']} segments, "
              f"{shard['index_mb']:.0f} MB on disk): anonymous memory {shard['anon_before_mib']:.0f} MiB before "
              f"opening, {shard['anon_open_mib']:.0f} MiB open, {shard['anon_after_mib']:.0f} MiB after the "
              f"queries; peak RSS {shard['peak_rss_mib']:.0f} MiB. Median plain search "
              f"{shard['plain_p50_ms']:.2f} ms; statistics step {shard['stats_p50_ms']:.2f} ms; statistics "
              f"and scored top 10 together {shard['two_steps_p50_ms']:.2f} ms.")


if __name__ == "__main__":
    main()
