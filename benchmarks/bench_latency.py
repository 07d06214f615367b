"""Query latency by query type on a large index: searchlib beside tantivy and SQLite FTS5.

On the seeded synthetic Zipf corpus (``bench_synthetic``) of ``--docs`` documents
(default 1,000,000), each engine builds its index once (reused on later runs, kept in
``benchmarks/scratch/``), then answers the same queries of five types, one thread,
top 10, after one warm-up pass, in ``--rounds`` rounds (default 3) that take the engines
in turn, query type by query type, each round starting with another engine. A query's
latency is the median of its rounds, so a burst of load on this shared machine that
hits one engine's turn is outvoted rather than counted; the percentiles are over the
queries' medians.

- term: one word of middling frequency (the synthetic queries' first word);
- AND and OR: the synthetic queries' first two words;
- phrase: two consecutive words taken from a document, so every phrase occurs;
- prefix: a query word less its last character, followed by ``*``.

It prints and writes ``benchmarks/results/latency.md``: p50 and p99 milliseconds per
type and engine, and each engine's queries per second over all types. Whoosh and bm25s
are left out: Whoosh indexes about 300 documents a second here (an hour per million),
and bm25s has no phrases, prefixes or boolean operators.

Run from the repository root, with the peers installed::

    python benchmarks/bench_latency.py                      # 1M documents
    python benchmarks/bench_latency.py --docs 100000 --engines searchlib,fts5
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench_data import iter_docs
from bench_report import cpu_model, git
from bench_synthetic import synthetic_dataset

BENCH_DIR = Path(__file__).resolve().parent
SCRATCH = BENCH_DIR / "scratch"
QUERY_TYPES = ("term", "AND", "OR", "phrase", "prefix")
TOP_K = 10

Searcher = Callable[[str, str], int]


def make_queries(dataset: Path, count: int, seed: int = 0) -> dict[str, list[tuple[str, ...]]]:
    """Per query type, ``count`` word tuples from the dataset's queries and documents."""
    rng = np.random.default_rng(seed)
    raw = [json.loads(line)["text"].split() for line in (dataset / "queries.jsonl").open()]
    pairs = [words[:2] for words in raw if len(words) >= 2][:count]
    phrases: list[tuple[str, ...]] = []
    for doc in iter_docs(dataset):
        words = [w for w in doc.text.split() if len(w) > 3]  # skip the function words
        if len(words) > 2:
            at = int(rng.integers(len(words) - 1))
            # consecutive in the text, not only in the filtered list
            tokens = doc.text.split()
            index = tokens.index(words[at])
            if index + 1 < len(tokens) and len(tokens[index + 1]) > 3:
                phrases.append((tokens[index], tokens[index + 1]))
        if len(phrases) >= count:
            break
    return {
        "term": [(a,) for a, _ in pairs],
        "AND": [(a, b) for a, b in pairs],
        "OR": [(a, b) for a, b in pairs],
        "phrase": phrases,
        "prefix": [(a[:-1] if len(a) > 4 else a,) for a, _ in pairs],
    }


def query_text(kind: str, words: tuple[str, ...], dialect: str) -> str:
    """The query in an engine's syntax (searchlib and tantivy share Lucene's)."""
    if kind == "term":
        return words[0]
    if kind == "AND":
        return " AND ".join(words)
    if kind == "OR":
        return " OR ".join(words) if dialect == "fts5" else " ".join(words)
    if kind == "phrase":
        return '"' + " ".join(words) + '"'
    return words[0] + "*"


# --- engines: build once, then a function running one query and returning its hit count ----


def searchlib_engine(dataset: Path, directory: Path) -> tuple[Searcher, str]:
    from searchlib import ID, TEXT, IncompatibleFormatError, Index, Schema
    from searchlib import Searcher as SearchlibSearcher
    from searchlib.query import Expansion

    if (directory / "COMPLETE").exists():
        try:
            Index.open(directory)
        except IncompatibleFormatError:  # built by an older format: build it again
            shutil.rmtree(directory)
    if not (directory / "COMPLETE").exists():
        index = Index.create(directory, Schema(id=ID(), title=TEXT(), text=TEXT()))
        with index.writer() as writer:
            for doc in iter_docs(dataset):
                writer.add_document(id=doc.id, title=doc.title, text=doc.text)
        (directory / "COMPLETE").touch()
    searcher = SearchlibSearcher(directory, expansion=Expansion(1024, "keep_frequent"))

    def run(kind: str, text: str) -> int:
        return len(searcher.search(text, limit=TOP_K, strict=True).hits)

    return run, f"searchlib ({len(searcher.readers)} segments)"


def tantivy_engine(dataset: Path, directory: Path) -> tuple[Searcher, str]:
    import tantivy
    from engines.tantivy import register_analyzer, schema

    if not (directory / "COMPLETE").exists():
        directory.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(schema(), path=str(directory))
        register_analyzer(index)
        writer = index.writer(128_000_000, num_threads=1)
        for doc in iter_docs(dataset):
            writer.add_document(tantivy.Document(id=doc.id, title=doc.title, text=doc.text))
        writer.commit()
        writer.wait_merging_threads()
        (directory / "COMPLETE").touch()
    index = tantivy.Index.open(str(directory))
    register_analyzer(index)
    index.reload()
    searcher = index.searcher()

    index_schema = schema()

    def run(kind: str, text: str) -> int:
        if kind == "prefix":  # the parser does not expand word*: an automaton over the term dictionary does
            pattern = re.escape(text.rstrip("*")) + ".*"
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Should, tantivy.Query.regex_query(index_schema, field, pattern))
                for field in ("title", "text")
            ])
        else:
            query = index.parse_query(text, ["title", "text"])
        return len(searcher.search(query, TOP_K).hits)

    from importlib.metadata import version

    return run, f"tantivy-py {version('tantivy')}"


def fts5_engine(dataset: Path, directory: Path) -> tuple[Searcher, str]:
    database = directory / "fts5.sqlite"
    if not (directory / "COMPLETE").exists():
        directory.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        connection = sqlite3.connect(database)
        connection.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, tokenize='porter unicode61')")
        connection.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)", ((d.id, d.title, d.text) for d in iter_docs(dataset))
        )
        connection.commit()
        connection.close()
        (directory / "COMPLETE").touch()
    connection = sqlite3.connect(database)
    statement = "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?"

    def run(kind: str, text: str) -> int:
        return len(connection.execute(statement, (text, TOP_K)).fetchall())

    return run, f"SQLite {sqlite3.sqlite_version} FTS5"


ENGINES = {"searchlib": (searchlib_engine, "lucene"), "tantivy": (tantivy_engine, "lucene"),
           "fts5": (fts5_engine, "fts5")}


def timed_pass(run: Searcher, kind: str, texts: list[str]) -> tuple[list[float | None], int]:
    """Each text's latency in seconds (None where the engine cannot run it) and how many
    had at least one hit."""
    latencies: list[float | None] = []
    found = 0
    for text in texts:
        started = time.perf_counter()
        try:
            found += run(kind, text) > 0
        except Exception:  # an engine that cannot run this query type
            latencies.append(None)
            continue
        latencies.append(time.perf_counter() - started)
    return latencies, found


def measure(engines: list[tuple[str, Searcher, str]], queries: dict[str, list[tuple[str, ...]]],
            rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    """Per engine label and query type: p50 and p99 of the queries' median latencies over
    ``rounds`` rounds, queries per second, the share with hits and the failures."""
    figures: dict[str, dict[str, dict[str, float]]] = {label: {} for label, _, _ in engines}
    for kind in QUERY_TYPES:
        texts = {label: [query_text(kind, words, dialect) for words in queries[kind]] for label, _, dialect in engines}
        for label, run, _ in engines:  # warm-up: page cache, lazily built structures
            timed_pass(run, kind, texts[label])
        by_round: dict[str, list[list[float | None]]] = {label: [] for label, _, _ in engines}
        found: dict[str, int] = {}
        for round_number in range(rounds):
            shift = round_number % len(engines)
            for label, run, _ in engines[shift:] + engines[:shift]:
                latencies, found[label] = timed_pass(run, kind, texts[label])
                by_round[label].append(latencies)
        for label, _, _ in engines:
            per_query = list(zip(*by_round[label]))
            failed = sum(any(t is None for t in times) for times in per_query)
            medians = sorted(statistics.median(times) for times in per_query if all(t is not None for t in times))
            if not medians:
                figures[label][kind] = {"failed": failed}
                continue
            figures[label][kind] = {
                "p50_ms": statistics.median(medians) * 1e3,
                "p99_ms": medians[min(len(medians) - 1, int(0.99 * len(medians)))] * 1e3,
                "qps": len(medians) / sum(medians),
                "with_hits": found[label] / len(per_query),
                "failed": failed,
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per type")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per engine, taken in turn")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "latency.md")
    args = parser.parse_args()
    SCRATCH.mkdir(exist_ok=True)
    dataset = synthetic_dataset(SCRATCH, args.docs)
    queries = make_queries(dataset, args.queries)
    engines = []
    for name in args.engines.split(","):
        build, dialect = ENGINES[name]
        started = time.perf_counter()
        run, label = build(dataset, SCRATCH / f"latency-{args.docs}-{name}")
        print(f"{label}: ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        engines.append((label, run, dialect))
    measured = measure(engines, queries, args.rounds)
    rows = [(label, measured[label]) for label, _, _ in engines]
    lines = [
        "<!-- written by benchmarks/bench_latency.py: rerun it rather than editing by hand -->",
        f"# Query latency on {args.docs:,} synthetic documents",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; commit `{git('rev-parse', '--short', 'HEAD', cwd=BENCH_DIR)}`",
        f"- Machine: {cpu_model()}; one thread; Python {platform.python_version()}",
        f"- {args.queries} queries per type, top {TOP_K}, after a warm-up pass; fields title and text",
        f"- {args.rounds} rounds taking the engines in turn (each starting with another); a query's "
        "latency is the median of its rounds, the percentiles over those medians",
        "",
        "| engine | " + " | ".join(f"{k} p50 / p99 ms" for k in QUERY_TYPES) + " |",
        "|---|" + "---:|" * len(QUERY_TYPES),
    ]
    for label, figures in rows:
        cells = []
        for kind in QUERY_TYPES:
            f = figures[kind]
            cells.append(f"{f['p50_ms']:.2f} / {f['p99_ms']:.2f}" if "p50_ms" in f else "unsupported")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Share of queries with at least one hit:", ""]
    for label, figures in rows:
        lines.append(f"- {label}: " + ", ".join(
            f"{k} {figures[k].get('with_hits', 0):.2f}" + (f" ({int(figures[k]['failed'])} failed)" if figures[k].get("failed") else "")
            for k in QUERY_TYPES))
    lines += [
        "",
        "Notes: searchlib's index is as one commit leaves it (default merge policy), not",
        "optimized to one segment. searchlib expands a prefix into up to 1,024 terms per field",
        "(the most frequent kept), matched as a set, every match scoring the boost;",
        "tantivy-py's query parser does not expand `word*`, so its prefix query is an OR of",
        "`Query.regex_query(field, 'word.*')` over title and text (tantivy's automaton over",
        "its term dictionary, constant-scored too).",
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
