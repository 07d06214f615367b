"""Facet counting on a synthetic index: what ``facets=`` adds to a search.

Builds (once, in a temporary directory unless ``--index`` names one to keep) a seeded
index of ``--docs`` documents (default 100,000): a body of words drawn from a small
vocabulary with Zipf weights, 1 to 5 tags each from 1,000 tags (Zipf), a year and a
price. Then, per query (one word matching nearly every document, one matching about a
tenth, one matching few), it times the median of ``--rounds`` searches (top 10) with no
facet, with the ``tags`` facet, and with the tags, year and a price range facet, after
one warm-up that builds the searcher's tag table (whose time is printed apart).

    python benchmarks/bench_facets.py                 # 100,000 documents
    python benchmarks/bench_facets.py --docs 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from searchlib import ID, KEYWORD, NUMERIC, TEXT, Index, RangeFacet, Schema, Searcher

WORDS = [f"w{i}" for i in range(200)]
TAGS = [f"tag{i}" for i in range(1000)]


def build(path: Path, docs: int, seed: int) -> Index:
    rng = random.Random(seed)
    word_weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    tag_weights = [1 / (rank + 1) for rank in range(len(TAGS))]
    schema = Schema(id=ID(), body=TEXT("standard"), tags=KEYWORD(), year=NUMERIC("int"), price=NUMERIC("float"))
    index = Index.create(path, schema)
    with index.writer() as writer:
        for number in range(docs):
            body = rng.choices(WORDS, word_weights, k=12)
            if number % 10 == 0:
                body.append("tenth")
            if number % 1000 == 0:
                body.append("rare")
            body.append("every")
            writer.add_document(
                id=str(number), body=" ".join(body), tags=rng.choices(TAGS, tag_weights, k=rng.randint(1, 5)),
                year=rng.randint(1950, 2025), price=round(rng.uniform(0, 500), 2),
            )
    return index


def median_ms(searcher: Searcher, query: str, rounds: int, **options: object) -> float:
    """The median CPU time of a search, in milliseconds: on a shared machine, the time
    the process waited for a core is left out (the search runs in this one thread)."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        searcher.search(query, limit=10, **options)  # type: ignore[arg-type]
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--index", type=Path, default=None, help="Keep the index here (reused if it exists).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.index or Path(scratch) / "index"
        if Index.exists(path):
            index = Index.open(path)
        else:
            start = time.perf_counter()
            index = build(path, args.docs, args.seed)
            print(f"built {args.docs:,} documents in {time.perf_counter() - start:.1f} s")
        ranges = RangeFacet("price", [("under 50", None, 50), ("50-200", 50, 200), ("200 and up", 200, None)])
        with Searcher(index) as searcher:
            print(f"{searcher.doc_count:,} documents in {len(searcher.readers)} segments")
            import numpy  # noqa: F401  # loaded before the timing: a search alone does not load it

            searcher.search("every", limit=10, sort="year")  # the query and numpy warmed up
            start = time.process_time()
            searcher.search("every", limit=10, facets=["tags"])
            print(f"first faceted search (builds the tag table): {1000 * (time.process_time() - start):.1f} CPU ms")
            print(f"{'query':<8} {'hits':>8} {'no facet':>10} {'tags':>10} {'tags+year+price':>16}  (median CPU ms)")
            for query in ("every", "tenth", "rare"):
                total = searcher.search(query, limit=0).total
                plain = median_ms(searcher, query, args.rounds)
                tags = median_ms(searcher, query, args.rounds, facets=["tags"])
                every = median_ms(searcher, query, args.rounds, facets=["tags", "year", ranges])
                print(f"{query:<8} {total:>8,} {plain:>10.2f} {tags:>10.2f} {every:>16.2f}")


if __name__ == "__main__":
    main()
