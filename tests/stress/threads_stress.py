"""Threads sharing one Searcher at length, and one thread's speed, on SciFact.

    python tests/stress/threads_stress.py [--queries 100000] [--qps-passes 5] [--scratch DIR]

1. One thread's speed: SciFact's 300 queries (as plain words), top 10 and the hits'
   ids, timed over ``--qps-passes`` passes after a warm-up pass; prints queries/s.
2. The mix of ``tests/unit/test_threads.py`` (words, phrases, prefixes, fuzzy words,
   boolean logic, sorted and filtered searches, snippets, did-you-mean) over SciFact's
   own words: one thread answers each search once, then 8 threads share one searcher
   and ask ``--queries`` searches in all;
   every answer (total, ids and scores, snippets, suggestion) must equal one thread's.
   Prints errors, wrong answers, time and the cache's state.

The index is built once under the scratch directory and reused. Not part of the default
test command.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import Index, Searcher  # noqa: E402
from searchlib.evaluation import build_index, load_dataset  # noqa: E402
from searchlib.parser import escape  # noqa: E402
from tests.conftest import SHARED  # noqa: E402
from tests.unit.test_threads import THREADS, answer, mix_searcher, query_mix, run_shared  # noqa: E402

SCIFACT = SHARED / "datasets" / "scifact"
#: Distinct searches in the mix; the threads go through them again and again.
MIX_SIZE = 2_500


def scifact_index(scratch: Path) -> Index:
    path = scratch / "scifact-index"
    if (path / "manifest-1.json").exists() or any(path.glob("manifest-*.json")):
        return Index.open(path)
    started = time.perf_counter()
    index = build_index(load_dataset(SCIFACT), path)
    print(f"built SciFact's index in {time.perf_counter() - started:.1f} s at {path}", flush=True)
    return index


def single_thread_qps(index: Index, passes: int) -> float:
    queries = [escape(json.loads(line)["text"]) for line in open(SCIFACT / "queries.jsonl", encoding="utf-8")]
    with Searcher(index) as searcher:
        for query in queries:  # warm-up: NLTK, lexicons, caches
            [hit.id for hit in searcher.search(query, limit=10)]
        started = time.perf_counter()
        for _ in range(passes):
            for query in queries:
                [hit.id for hit in searcher.search(query, limit=10)]
        return passes * len(queries) / (time.perf_counter() - started)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--queries", type=int, default=100_000, help="searches in all, over every thread")
    options.add_argument("--qps-passes", type=int, default=5, help="timed passes over SciFact's queries (0: skip)")
    options.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "searchlib-threads-stress")
    args = options.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    index = scifact_index(args.scratch)
    if args.qps_passes:
        print(f"one thread: {single_thread_qps(index, args.qps_passes):.0f} queries/s (SciFact, top 10)", flush=True)
    documents = [json.loads(line) for line in open(SCIFACT / "corpus.jsonl", encoding="utf-8")]
    asks = query_mix(documents, min(MIX_SIZE, max(1, args.queries // THREADS)), seed=17)
    started = time.perf_counter()
    with mix_searcher(index) as alone:
        expected = [answer(alone, ask) for ask in asks]
    print(f"one thread answered the {len(asks)} searches of the mix in {time.perf_counter() - started:.1f} s", flush=True)
    rounds = max(1, -(-args.queries // (THREADS * len(asks))))
    started = time.perf_counter()
    with mix_searcher(index) as shared:
        run = run_shared(shared, asks, expected, rounds)
        seconds = time.perf_counter() - started
        print(
            f"{THREADS} threads, one searcher: {run.queries:,} searches in {seconds:.1f} s "
            f"({run.queries / seconds:.0f}/s), {len(run.errors)} errors, {len(run.mismatches)} wrong answers",
            flush=True,
        )
    for problem in (run.errors + run.mismatches)[:10]:
        print("  ", problem[:400])
    if run.errors or run.mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
