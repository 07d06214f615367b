"""What snippets add to a query: highlighting the top 10 hits of each SciFact query.

Builds a SciFact index (``corpus.jsonl``: ``id``, ``title``, ``text``; title and text
stored, English analyzer) under the scratch directory, then runs the 300 queries
(``queries.jsonl``) at top 10, lenient (syntax errors read as words). Per query it
times, on one thread:

- **search**: ``searcher.search`` alone (top 10), the figure snippets are weighed against;
- **base**: the search plus reading each hit's stored fields, which a caller showing
  results needs anyway;
- **snippets**: then ``hit.snippet()`` for each of the 10 hits (the default: the best
  stored text field, one fragment of about 160 characters, plain markers). This is the
  added cost of highlighting, reported per query as mean and p99 milliseconds;
- the same for ``count=3`` fragments and for ``format="html"``, as further lines.

One untimed warm-up pass fills the analyzer's word cache and the searcher's
document-frequency memo (a long-running application has both warm). Then ``--repeats``
timed passes run; each query's figure is its median over the passes, and the mean and
p99 are taken over the queries. ``--profile`` also prints a cProfile of one snippet
pass. Writes ``benchmarks/results/highlight.md`` with the machine and the commit.

Wall-clock figures move with the machine's load; instruction counts do not.
``--one-pass base`` and ``--one-pass snippets`` run, after the warm-up, one untimed pass
without and with the snippets, to be counted under callgrind: the difference of the two
counts over the number of queries is what snippets add per query.

Run from the repository root::

    python benchmarks/bench_highlight.py                    # ../shared/datasets/scifact
    python benchmarks/bench_highlight.py --profile --no-write
    valgrind --tool=callgrind python benchmarks/bench_highlight.py --one-pass snippets --index PATH
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench_report import cpu_model, git
from searchlib import ID, TEXT, Index, Schema, Searcher

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = BENCH_DIR.parent.parent / "shared" / "datasets" / "scifact"
DEFAULT_SCRATCH = BENCH_DIR / "scratch"
RESULTS = BENCH_DIR / "results" / "highlight.md"
TOP_K = 10

#: What is timed after the base step, by name: a function of one hit.
SNIPPETS: dict[str, Callable[[Any], object]] = {
    "snippet() (1 fragment, plain)": lambda hit: hit.snippet(),
    "snippet(count=3)": lambda hit: hit.snippet(count=3),
    'snippet(format="html")': lambda hit: hit.snippet(format="html"),
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build(dataset: Path, scratch: Path) -> Path:
    path = scratch / "highlight-scifact-index"
    if path.exists():
        shutil.rmtree(path)
    index = Index.create(path, Schema(id=ID(), title=TEXT(stored=True), text=TEXT(stored=True)))
    with index.writer() as writer:
        for doc in read_jsonl(dataset / "corpus.jsonl"):
            writer.add_document(id=str(doc["id"]), title=doc.get("title") or "", text=doc.get("text") or "")
    return path


def search(searcher: Searcher, text: str) -> Any:
    try:
        return searcher.search(text, limit=TOP_K, strict=False)
    except TypeError:  # a version without lenient parsing
        return searcher.search(text, limit=TOP_K)


def one_pass(
    searcher: Searcher, queries: list[str], snippet: Callable[[Any], object]
) -> tuple[list[float], list[float], list[float]]:
    """Per query: seconds for the search alone, for search + stored fields, and for the
    snippets of its hits."""
    alone, base, added = [], [], []
    for text in queries:
        start = time.perf_counter()
        hits = search(searcher, text)
        searched = time.perf_counter()
        for hit in hits:
            hit.fields  # noqa: B018  (read the stored fields, as a caller would)
        middle = time.perf_counter()
        for hit in hits:
            snippet(hit)
        end = time.perf_counter()
        alone.append(searched - start)
        base.append(middle - start)
        added.append(end - middle)
    return alone, base, added


def summary(per_pass: list[list[float]]) -> dict[str, float]:
    """Mean and p99 (ms) over queries of each query's median over the passes."""
    per_query = np.median(np.array(per_pass), axis=0) * 1000
    return {"mean": float(per_query.mean()), "p50": float(np.percentile(per_query, 50)),
            "p99": float(np.percentile(per_query, 99)), "max": float(per_query.max())}


def profile(searcher: Searcher, queries: list[str], top: int) -> str:
    hits = [list(search(searcher, text)) for text in queries]
    for page in hits:
        for hit in page:
            hit.fields  # noqa: B018
    profiler = cProfile.Profile()
    profiler.enable()
    for page in hits:
        for hit in page:
            hit.snippet()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def git_commit() -> str | None:
    commit = git("rev-parse", "--short", "HEAD", cwd=BENCH_DIR)
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=BENCH_DIR)
    return None if commit is None else (f"{commit}-dirty" if dirty else commit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="Print a cProfile of one snippet pass.")
    parser.add_argument("--no-write", action="store_true", help=f"Do not write {RESULTS.name}.")
    parser.add_argument("--one-pass", choices=("base", "snippets"),
                        help="After the warm-up, run one untimed pass (search + stored fields, and "
                             "snippets or not) for an instruction count; writes nothing.")
    parser.add_argument("--index", type=Path, help="Use this index (built by an earlier run) instead of building one.")
    args = parser.parse_args()

    commit = git_commit()
    queries = [q["text"] for q in read_jsonl(args.dataset / "queries.jsonl")]
    path = args.index if args.index is not None else build(args.dataset, args.scratch)
    if args.one_pass is not None:
        snippet = SNIPPETS["snippet() (1 fragment, plain)"]
        with Searcher(path) as searcher:
            one_pass(searcher, queries, snippet)  # warm-up, as before the timed passes
            one_pass(searcher, queries, snippet if args.one_pass == "snippets" else lambda hit: None)
        return
    rows: dict[str, dict[str, float]] = {}  # in the order shown
    cold: dict[str, float] | None = None
    with Searcher(path) as searcher:
        for name, snippet in SNIPPETS.items():
            _, _, first = one_pass(searcher, queries, snippet)  # warm-up
            cold = cold or summary([first])
            passes = [one_pass(searcher, queries, snippet) for _ in range(args.repeats)]
            rows.setdefault("search alone (top 10)", summary([alone for alone, _, _ in passes]))
            rows.setdefault("base: search + stored fields", summary([base for _, base, _ in passes]))
            rows[f"added: {name}"] = summary([added for _, _, added in passes])
        assert cold is not None
        rows["added, warm-up pass (word cache cold): snippet()"] = cold
        report = profile(searcher, queries, 25) if args.profile else None

    machine = f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    lines = [
        "# Highlighting cost on SciFact",
        "",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; commit `{commit}`",
        f"- Machine: {machine}",
        f"- {len(queries)} queries, top {TOP_K}, lenient; one warm-up pass, then the median of "
        f"{args.repeats} timed passes per query; milliseconds per query (all 10 hits)",
        "- Command: `.venv/bin/python benchmarks/bench_highlight.py`",
        "",
        "| per query (ms) | mean | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {r['mean']:.3f} | {r['p50']:.3f} | {r['p99']:.3f} | {r['max']:.3f} |" for name, r in rows.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    if report is not None:
        print(report)
    if not args.no_write:
        previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        notes = previous[previous.index("## Notes"):] if "## Notes" in previous else ""
        RESULTS.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
