"""Phrase query times at their worst: python tests/stress/phrase_timing.py [RUNS] [--search-only]

Prints the median of RUNS (default 5) timings (search, then search and the snippets of
the hits, unless ``--search-only``, which also skips the last case) for:

- a pasted 100-word and a 300-word phrase with ``~1000`` over Cranfield's 1,400 documents
  (the first words of its longest document, so that one document holds every word);
- ``"layer flow"~1000`` over one document of 100,000 words ``layer flow layer flow ...``,
  and over one of ``layer layer layer ...`` (and the same documents with
  ``"layer layer"~1000``, and with the plain words ``layer flow``, whose snippets show
  what highlighting such a document costs without phrases);
- a 40-word phrase ``"layer flow layer flow ..."~1000`` over the first document (every
  word repeated: the matcher's costliest case).

Not part of the default test command; the tests bound the same work by counts.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import ID, TEXT, Index, Schema, Searcher  # noqa: E402
from searchlib.evaluation import build_index, load_dataset  # noqa: E402
from tests.conftest import SHARED  # noqa: E402

CRANFIELD = SHARED / "datasets" / "cranfield"
WORDS = 100_000


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(searcher: Searcher, label: str, query: str, runs: int, snippets: bool) -> None:
    totals = []
    search_ms = median_ms(lambda: totals.append(searcher.search(query, limit=10).total), runs)
    line = f"{label}: {totals[0]} hits, search {search_ms:.1f} ms"
    if snippets:
        snippet_ms = median_ms(lambda: [hit.snippet() for hit in searcher.search(query, limit=10)], runs)
        line += f", search + snippets {snippet_ms:.1f} ms"
    print(line, flush=True)


def pasted_phrase(count: int) -> str:
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    longest = max(texts, key=lambda text: len(text.split()))
    words = [word.strip('"\\') for word in longest.split()][:count]
    return '"' + " ".join(word for word in words if word) + '"~1000'


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    runs = int(numbers[0]) if numbers else 5
    snippets = "--search-only" not in sys.argv
    root = Path(tempfile.mkdtemp())
    index = build_index(load_dataset(CRANFIELD), root / "cranfield")
    with Searcher(index) as searcher:
        for count in (100, 300):
            report(searcher, f"Cranfield, pasted {count}-word phrase ~1000", pasted_phrase(count), runs, snippets)
    for name, text in (
        ("layer flow", " ".join(["layer flow"] * (WORDS // 2))),
        ("layer layer", " ".join(["layer"] * WORDS)),
    ):
        small = Index.create(root / name.replace(" ", "-"), Schema(id=ID(), text=TEXT()))
        with small.writer() as writer:
            writer.add_document(id="1", text=text)
            writer.add_document(id="2", text="boundary layer flow")
        with Searcher(small.reopen()) as searcher:
            for query in ('layer flow', '"layer flow"~1000', '"layer layer"~1000'):
                report(searcher, f'100,000 words "{name} ...", {query}', query, runs, snippets)
            if snippets:
                long_repeated = '"' + " ".join(["layer flow"] * 20) + '"~1000'
                report(searcher, f'100,000 words "{name} ...", 40 repeated words ~1000', long_repeated, runs, True)


if __name__ == "__main__":
    main()
