"""Index a BEIR-layout dataset with searchlib, then time queries and score the ranking.

A dataset directory holds ``corpus.jsonl`` (``id``, ``title``, ``text``), ``queries.jsonl``
(``id``, ``text``) and ``qrels.tsv`` (header ``query-id corpus-id score``). The script
builds a fresh index under the scratch directory and prints:

- indexing: wall time of the whole ``with index.writer()`` block (adding every document
  and the commit), documents/s, MB/s of input text (UTF-8 bytes of title + text; 1 MB =
  10**6 bytes) and the index size on disk;
- querying: one untimed warm-up pass over all queries, then one timed single-threaded
  pass at top-10 giving queries/s and p50/p99 latency. A query's latency covers
  ``searcher.search`` plus reading the ids of its hits (stored fields), which is what a
  caller needs before it can use a result;
- quality: nDCG@10 and Recall@100 (``ir-measures``) from a separate untimed top-100 pass,
  averaged over every judged query (a judged query without hits counts as 0);
- the machine (CPU, cores, Python, numpy) and the git commit.

Run from the repository root::

    pip install -r benchmarks/requirements.txt
    python benchmarks/bench_scifact.py                       # ../shared/datasets/scifact
    python benchmarks/bench_scifact.py ../shared/datasets/cranfield --json
    python benchmarks/bench_scifact.py --k1 1.2 --b 0.75 --scratch /tmp/bench
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ir_measures
import numpy as np
from ir_measures import R, nDCG

from bench_report import cpu_model, git
from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.parser import escape

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = BENCH_DIR.parent.parent / "shared" / "datasets" / "scifact"  # ../shared beside the repo
DEFAULT_SCRATCH = BENCH_DIR / "scratch"
TOP_K = 10
EVAL_DEPTH = 100
MEASURES = (nDCG @ 10, R @ 100)


@dataclass
class Dataset:
    """A BEIR-layout dataset, loaded into memory."""

    name: str
    corpus: list[dict[str, str]]
    queries: list[tuple[str, str]]
    qrels: list[ir_measures.Qrel]


# --- loading -------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> list[ir_measures.Qrel]:
    """Read a BEIR ``qrels.tsv`` (with its ``query-id corpus-id score`` header)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [
            ir_measures.Qrel(row["query-id"].strip(), row["corpus-id"].strip(), int(row["score"]))
            for row in rows
        ]


def load_dataset(path: Path) -> Dataset:
    corpus = [
        {"id": str(doc["id"]), "title": doc.get("title") or "", "text": doc.get("text") or ""}
        for doc in read_jsonl(path / "corpus.jsonl")
    ]
    queries = [(str(q["id"]), q["text"]) for q in read_jsonl(path / "queries.jsonl")]
    return Dataset(path.name, corpus, queries, read_qrels(path / "qrels.tsv"))


def input_bytes(corpus: Sequence[dict[str, str]]) -> int:
    """UTF-8 size of the indexed text (title + text) of every document."""
    return sum(len(doc["title"].encode()) + len(doc["text"].encode()) for doc in corpus)


# --- indexing ------------------------------------------------------------------------


def fresh_index(path: Path) -> Index:
    """Create an empty index at ``path``, removing a previous benchmark run's index."""
    if path.exists():
        shutil.rmtree(path)
    return Index.create(path, Schema(id=ID(), title=TEXT(), text=TEXT()))


def build_index(index: Index, corpus: Sequence[dict[str, str]]) -> float:
    """Add every document in one writer; return the seconds the writer block took."""
    start = time.perf_counter()
    with index.writer() as writer:
        for doc in corpus:
            writer.add_document(id=doc["id"], title=doc["title"], text=doc["text"])
    return time.perf_counter() - start


def directory_size(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


# --- querying ------------------------------------------------------------------------


def run_queries(
    searcher: Searcher, queries: Sequence[tuple[str, str]], limit: int
) -> tuple[list[float], dict[str, list[tuple[str, float]]]]:
    """Run every query once; return per-query seconds and the ranked (id, score) lists."""
    latencies: list[float] = []
    ranked: dict[str, list[tuple[str, float]]] = {}
    for query_id, text in queries:
        start = time.perf_counter()
        hits = [(hit.id, hit.score) for hit in searcher.search(escape(text), limit=limit)]  # plain words
        latencies.append(time.perf_counter() - start)
        ranked[query_id] = hits
    return latencies, ranked


def evaluate(ranked: dict[str, list[tuple[str, float]]], qrels: Sequence[ir_measures.Qrel]) -> dict[str, float]:
    """Mean of each measure over every judged query; a query without hits scores 0."""
    run = [
        ir_measures.ScoredDoc(query_id, doc_id, score)
        for query_id, hits in ranked.items()
        for doc_id, score in hits
    ]
    judged = {qrel.query_id for qrel in qrels}
    sums = dict.fromkeys(MEASURES, 0.0)
    for metric in ir_measures.iter_calc(MEASURES, qrels, run):
        if metric.query_id in judged:
            sums[metric.measure] += metric.value
    return {str(measure): total / len(judged) for measure, total in sums.items()}


# --- environment ---------------------------------------------------------------------


def git_commit() -> str | None:
    """Short hash of HEAD, with ``-dirty`` if the working tree has uncommitted changes."""
    commit = git("rev-parse", "--short", "HEAD", cwd=BENCH_DIR)
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=BENCH_DIR)
    if commit is None:
        return None
    return f"{commit}-dirty" if dirty else commit


def machine_info() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


# --- the benchmark -------------------------------------------------------------------


def searcher_options(args: argparse.Namespace) -> dict[str, float]:
    """BM25 parameters to pass: only those given, so searchlib's defaults apply otherwise."""
    return {name: value for name, value in (("k1", args.k1), ("b", args.b)) if value is not None}


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    commit = git_commit()  # before the run: the tree may change while it goes on
    dataset = load_dataset(args.dataset)
    index_path = args.scratch / f"{dataset.name}-index"
    index = fresh_index(index_path)
    text_bytes = input_bytes(dataset.corpus)
    index_seconds = build_index(index, dataset.corpus)

    options = searcher_options(args)
    with Searcher(Index.open(index_path), **options) as searcher:
        bm25 = {"k1": searcher.k1, "b": searcher.b, "defaults": not options}
        run_queries(searcher, dataset.queries, TOP_K)  # warm-up
        latencies, _ = run_queries(searcher, dataset.queries, TOP_K)
        _, ranked = run_queries(searcher, dataset.queries, EVAL_DEPTH)

    return {
        "dataset": str(args.dataset),
        "documents": len(dataset.corpus),
        "queries": len(dataset.queries),
        "judged_queries": len({q.query_id for q in dataset.qrels}),
        "bm25": bm25,
        "index_seconds": index_seconds,
        "docs_per_second": len(dataset.corpus) / index_seconds,
        "input_mb": text_bytes / 1e6,
        "mb_per_second": text_bytes / 1e6 / index_seconds,
        "index_mb": directory_size(index_path) / 1e6,
        "queries_per_second": len(latencies) / sum(latencies),
        "latency_p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "latency_p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "latency_mean_ms": 1000 * statistics.fmean(latencies),
        **evaluate(ranked, dataset.qrels),
        "machine": machine_info(),
        "commit": commit,
    }


def format_table(result: dict[str, Any]) -> str:
    machine, bm25 = result["machine"], result["bm25"]
    rows = [
        ("dataset", f"{result['dataset']} ({result['documents']} docs, {result['queries']} queries, "
                    f"{result['judged_queries']} judged)"),
        ("BM25", f"k1={bm25['k1']} b={bm25['b']}" + (" (searchlib defaults)" if bm25["defaults"] else "")),
        ("index time", f"{result['index_seconds']:.2f} s"),
        ("documents/s", f"{result['docs_per_second']:,.0f}"),
        ("input text", f"{result['input_mb']:.2f} MB"),
        ("MB/s", f"{result['mb_per_second']:.2f}"),
        ("index size", f"{result['index_mb']:.2f} MB"),
        ("queries/s (top-10, 1 thread)", f"{result['queries_per_second']:,.0f}"),
        ("latency p50", f"{result['latency_p50_ms']:.2f} ms"),
        ("latency p99", f"{result['latency_p99_ms']:.2f} ms"),
        ("nDCG@10", f"{result['nDCG@10']:.4f}"),
        ("Recall@100", f"{result['R@100']:.4f}"),
        ("machine", f"{machine['cpu']}, {machine['cores']} cores, "
                    f"Python {machine['python']}, numpy {machine['numpy']}"),
        ("commit", result["commit"] or "unknown"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET,
                        help=f"BEIR-layout dataset directory (default: {DEFAULT_DATASET})")
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH,
                        help="where the index is rebuilt each run (default: benchmarks/scratch/)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--k1", type=float, help="BM25 k1 (default: searchlib's)")
    parser.add_argument("--b", type=float, help="BM25 b (default: searchlib's)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = benchmark(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
