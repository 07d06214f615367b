"""What pattern queries, fuzzy words and "did you mean" cost on SciFact, and how a long
pasted query stays bounded.

Builds (once, in ``benchmarks/scratch/scifact-patterns``) an index of SciFact's corpus
with the CLI's schema, then times, in one process, one thread:

- prefix, wildcard, regex and fuzzy queries (top 10): the first search of a fresh
  searcher and the median of the next five;
- "did you mean" per unknown word (100 seeded misspellings of corpus words);
- a 3,000-word query of seeded misspellings: a lenient search and its "did you mean",
  with the default limits and with every count limit lifted (so only the time bounds
  hold the work).

Run from the repository root (``--index DIR`` to reuse an index)::

    python benchmarks/bench_patterns.py
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CORPUS = BENCH_DIR.parent.parent / "shared" / "datasets" / "scifact" / "corpus.jsonl"
QUERIES = ["prot*", "negotiat*", "cell*", "*tion", "pro*ion", "/.*ing/", "/licen[cs]e/", "/(a|a)+b/",
           "univresity~2", "protien~2", "mitochondira~2", "cel~1"]


def corpus_words(limit: int = 300_000) -> list[str]:
    words: list[str] = []
    with CORPUS.open() as lines:
        for line in lines:
            words += re.findall(r"[a-z]{4,}", json.loads(line)["text"].lower())
            if len(words) > limit:
                break
    return words


def misspell(word: str, rng: random.Random) -> str:
    at = rng.randrange(len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def timed(call, repeat: int = 1) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median milliseconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=BENCH_DIR / "scratch" / "scifact-patterns")
    args = parser.parse_args()

    from searchlib import Searcher
    from searchlib.ingest import ingest
    from searchlib.limits import QueryLimits

    if not (args.index / "COMPLETE").exists():
        ingest(args.index, [CORPUS])  # as `searchlib index` does
        (args.index / "COMPLETE").touch()

    print("| query | hits | first search, ms | next five, median ms |")
    print("|---|---:|---:|---:|")
    for text in QUERIES:
        with Searcher(args.index) as searcher:
            first, results = timed(lambda: searcher.search(text, strict=False))
            warm, _ = timed(lambda: searcher.search(text, strict=False), 5)
        print(f"| `{text}` | {results.total:,} | {first:.1f} | {warm:.2f} |")  # type: ignore[attr-defined]

    rng = random.Random(19)
    words = corpus_words()
    typos = [misspell(word, rng) for word in rng.sample(words, 100)]
    with Searcher(args.index) as searcher:
        searcher.did_you_mean("warm up")
        per_word = [timed(lambda: searcher.did_you_mean(typo))[0] for typo in typos]
    print(f"\ndid you mean, one unknown word: median {statistics.median(per_word):.2f} ms, "
          f"max {max(per_word):.2f} ms (100 words)")

    pasted = " ".join(misspell(word, rng) for word in rng.sample(words, 3000))
    lifted = QueryLimits(max_length=10**7, max_clauses=10**6, suggest_words=10**6, suggest_candidates=10**6)
    for name, limits in (("default limits", None), ("count limits lifted", lifted)):
        with Searcher(args.index, limits=limits) as searcher:
            search_ms, results = timed(lambda: searcher.search(pasted, strict=False))
            suggest_ms, _ = timed(lambda: searcher.did_you_mean(pasted))
        print(f"3,000-word query, {name}: search {search_ms:,.0f} ms ({results.total:,} hits), "  # type: ignore[attr-defined]
              f"did you mean {suggest_ms:,.0f} ms")


if __name__ == "__main__":
    main()
