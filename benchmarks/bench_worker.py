"""One engine's share of the peer benchmark, run in its own process by ``run.py``.

The worker loads the corpus into memory, builds the engine's index (timed), then, when the
dataset has queries, opens the index from disk and runs: one warm-up pass at top-10
(timed apart: what queries cost before any cache holds them), one timed pass at top-10 (one query at a time, one thread), and one untimed pass
at top-100 whose rankings the parent scores. It writes a JSON object to ``--result`` and
imports nothing it does not need (no numpy of its own, no ir-measures), so its peak RSS
is the interpreter, the corpus in memory and the engine.

Run by ``run.py`` as ``python benchmarks/run.py --worker ENGINE --dataset DIR
--index-dir DIR --result FILE [--queries-limit N]``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_data import Query, iter_docs, load_queries
from engines import Engine, Hits, load_engine

TOP_K = 10
EVAL_DEPTH = 100


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB.

    Linux's ``VmHWM`` (the high-water mark of this process's own address space) where
    there is one: ``ru_maxrss`` would do, except that Linux carries it over from the
    parent through fork/vfork and exec, so a worker started by a parent holding
    100 MB would report at least 100 MB whatever it did itself.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def run_pass(engine: Engine, queries: Sequence[Query], k: int) -> tuple[list[float], dict[str, Hits]]:
    """Run every query once; return per-query seconds and each query's hits."""
    latencies: list[float] = []
    rankings: dict[str, Hits] = {}
    for query in queries:
        start = time.perf_counter()
        hits = engine.search(query.words, k)
        latencies.append(time.perf_counter() - start)
        rankings[query.id] = hits
    return latencies, rankings


def query_phase(engine: Engine, queries: Sequence[Query]) -> dict[str, Any]:
    engine.open()
    try:
        first_latencies, _ = run_pass(engine, queries, TOP_K)  # the warm-up, timed apart
        latencies, _ = run_pass(engine, queries, TOP_K)
        _, rankings = run_pass(engine, queries, EVAL_DEPTH)
    finally:
        engine.close()
    return {
        "latencies_s": latencies,
        "first_pass_latencies_s": first_latencies,
        "rankings": {qid: [[doc_id, float(score)] for doc_id, score in hits] for qid, hits in rankings.items()},
        "queries_without_hits": sum(1 for hits in rankings.values() if not hits),
    }


def run_worker(key: str, dataset: Path, index_dir: Path, result: Path, queries_limit: int | None) -> None:
    start = time.perf_counter()
    engine_class = load_engine(key)
    import_seconds = time.perf_counter() - start

    docs = list(iter_docs(dataset))
    queries = load_queries(dataset, queries_limit)
    rss_loaded = peak_rss_mb()

    engine = engine_class(index_dir)
    start = time.perf_counter()
    engine.build(docs)
    index_seconds = time.perf_counter() - start
    del docs

    report: dict[str, Any] = {
        "engine": key,
        "label": engine_class.label,
        "version": engine_class.version(),
        "library_file": getattr(sys.modules.get(engine_class.package), "__file__", None),
        "notes": engine_class.notes,
        "import_seconds": import_seconds,
        "index_seconds": index_seconds,
        "index_bytes": engine.size(),
        "rss_after_loading_corpus_mb": rss_loaded,
    }
    if queries:
        report.update(query_phase(engine, queries))
    report["peak_rss_mb"] = peak_rss_mb()
    result.write_text(json.dumps(report), encoding="utf-8")
