"""One engine's share of the peer benchmark, run in its own process by ``run.py``.

The worker loads the corpus into memory, builds the engine's index (timed), then, when the
dataset has queries, opens the index from disk and runs: one warm-up pass at top-10
(timed apart: what queries cost before any cache holds them), one timed pass at top-10 (one query at a time, one thread), and one untimed pass
at top-100 whose rankings the parent scores. It writes a JSON object to ``--result`` and
imports nothing it does not need (no numpy of its own, no ir-measures), so its peak RSS
is the interpreter, the corpus in memory and the engine.

The build's CPU time (user + system, of every thread of the process and of any process
it started and waited for) is reported beside its wall time: their ratio shows how many
cores an engine asked for ``threads=N`` really kept busy.

Run by ``run.py`` as ``python benchmarks/run.py --worker ENGINE --dataset DIR
--index-dir DIR --result FILE [--threads N] [--queries-limit N]``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
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


def cpu_seconds() -> float:
    """User + system CPU time of this process and its waited-for children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class ThreadSampler:
    """The most threads this process ran at once while in the ``with`` block (its own
    sampling thread not counted), and the most at once of each thread name (trailing
    digits dropped: tantivy's ``thrd-tantivy-index0`` and ``...1`` are two
    ``thrd-tantivy-index``), read from ``/proc/self/task`` every 20 ms: evidence that an
    engine asked for N indexing threads ran them."""

    INTERVAL_S = 0.02

    def __init__(self) -> None:
        self.peak = 0
        self.peak_by_name: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _names(self) -> list[str]:
        names: list[str] = []
        own = threading.get_native_id()
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return names
        for task in tasks:
            if int(task) == own:
                continue
            try:
                with open(f"/proc/self/task/{task}/comm", encoding="utf-8", errors="replace") as comm:
                    names.append(comm.read().strip().rstrip("0123456789"))
            except OSError:  # the thread ended meanwhile
                pass
        return names

    def _sample(self) -> None:
        while not self._stop.is_set():
            names = self._names()
            self.peak = max(self.peak, len(names))
            for name in set(names):
                self.peak_by_name[name] = max(self.peak_by_name.get(name, 0), names.count(name))
            self._stop.wait(self.INTERVAL_S)

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


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


def run_worker(key: str, dataset: Path, index_dir: Path, result: Path, queries_limit: int | None,
               threads: int = 1) -> None:
    start = time.perf_counter()
    engine_class = load_engine(key)
    import_seconds = time.perf_counter() - start

    docs = list(iter_docs(dataset))
    queries = load_queries(dataset, queries_limit)
    rss_loaded = peak_rss_mb()

    engine = engine_class(index_dir, threads)
    with ThreadSampler() as sampler:
        start, cpu_start = time.perf_counter(), cpu_seconds()
        engine.build(docs)
        index_seconds = time.perf_counter() - start
        index_cpu_seconds = cpu_seconds() - cpu_start
    del docs

    report: dict[str, Any] = {
        "engine": key,
        "label": engine_class.label,
        "version": engine_class.version(),
        "library_file": getattr(sys.modules.get(engine_class.package), "__file__", None),
        "notes": engine.notes,
        "threads": threads,
        "import_seconds": import_seconds,
        "index_seconds": index_seconds,
        "index_cpu_seconds": index_cpu_seconds,
        "index_peak_threads": sampler.peak,
        "index_peak_threads_by_name": sampler.peak_by_name,
        "index_bytes": engine.size(),
        "rss_after_loading_corpus_mb": rss_loaded,
    }
    if queries:
        report.update(query_phase(engine, queries))
    report["peak_rss_mb"] = peak_rss_mb()
    # The largest peak of any child process (searchlib's indexing workers), 0 without any.
    report["children_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    result.write_text(json.dumps(report), encoding="utf-8")
