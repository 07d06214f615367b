"""What checking array checksums on first access costs: the time to open an index and
answer its first query, each trial in a fresh process (so nothing is cached in Python)
with the index's files already in the page cache (so the figure is CPU, not disk).

A search checks the CRC-32 of each array the first time it reads it (see the format
specification in ``searchlib/codec.py``); this prints what that adds to a cold start.
Run it with the searchlib to measure first on ``PYTHONPATH`` to compare two versions::

    python tests/stress/first_query_cost.py INDEX [--trials 15] [--query TEXT ...]

It prints, per query, the median and the best of the trials, in milliseconds, split into
opening (``Index.open`` and ``Searcher``) and the first search (``search`` plus the hits'
ids and stored fields, what a caller needs before it can show a result); wall time, then
CPU time (less disturbed by other work on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

DEFAULT_QUERIES = [
    "0-dimensional biomaterials show inductive properties.",
    "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.",
    '"breast cancer" prognosis',
]

_TRIAL = """
import json, sys, time
from searchlib import Index, Searcher
from searchlib.parser import escape
imported, imported_cpu = time.perf_counter(), time.process_time()
index = Index.open(sys.argv[1])
searcher = Searcher(index)
opened, opened_cpu = time.perf_counter(), time.process_time()
text = sys.argv[2]
results = searcher.search(text if text.startswith('"') else escape(text), limit=10)
rows = [(hit.id, hit.score, hit.fields) for hit in results]
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({
    "open": opened - imported, "query": done - opened,
    "open_cpu": opened_cpu - imported_cpu, "query_cpu": done_cpu - opened_cpu, "hits": len(rows),
}))
"""


def _warm(path: str) -> None:
    """Read every file once so the trials measure checking, not the disk."""
    for name in os.listdir(path):
        with open(os.path.join(path, name), "rb") as handle:
            while handle.read(1 << 20):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index")
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--query", action="append", help="query text (default: three SciFact-like queries)")
    args = parser.parse_args()
    _warm(args.index)
    print(f"index {args.index}, {args.trials} fresh processes per query, times in ms (median / best)", flush=True)
    for text in args.query or DEFAULT_QUERIES:
        samples = []
        for _ in range(args.trials):
            output = subprocess.run(
                [sys.executable, "-c", _TRIAL, args.index, text], check=True, capture_output=True, text=True
            ).stdout
            samples.append(json.loads(output))
        figures = {key: [1000 * s[key] for s in samples] for key in ("open", "query", "open_cpu", "query_cpu")}
        print(
            "  " + "   ".join(
                f"{key.replace('_', ' ')} {statistics.median(values):6.1f} / {min(values):6.1f}"
                for key, values in figures.items()
            )
            + f"   ({samples[0]['hits']} hits) {text[:40]!r}"
        )


if __name__ == "__main__":
    main()
