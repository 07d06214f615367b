"""Phrase query times at their worst: python tests/stress/phrase_timing.py [RUNS] (default 5).

Prints the median of RUNS timings (search, then the snippets of the hits) for:

- a pasted 300-word phrase with ``~1000`` over Cranfield's 1,400 documents (the first
  300 words of its longest document, so that one document holds every word);
- ``"layer flow"~1000`` over one document of 100,000 words ``layer flow layer flow ...``,
  and over one of ``layer layer layer ...`` (and the same documents with
  ``"layer layer"~1000``);
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


def report(searcher: Searcher, label: str, query: str, runs: int) -> None:
    found = searcher.search(query, limit=10)
    search_ms = median_ms(lambda: searcher.search(query, limit=10), runs)
    snippet_ms = median_ms(lambda: [hit.snippet() for hit in searcher.search(query, limit=10)], runs)
    print(f"{label}: {found.total} hits, search {search_ms:.1f} ms, search + snippets {snippet_ms:.1f} ms")


def pasted_phrase() -> str:
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    longest = max(texts, key=lambda text: len(text.split()))
    words = [word.strip('"\\') for word in longest.split()][:300]
    return '"' + " ".join(word for word in words if word) + '"~1000'


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    root = Path(tempfile.mkdtemp())
    index = build_index(load_dataset(CRANFIELD), root / "cranfield")
    with Searcher(index) as searcher:
        report(searcher, "Cranfield, pasted 300-word phrase ~1000", pasted_phrase(), runs)
    for name, text in (
        ("layer flow", " ".join(["layer flow"] * (WORDS // 2))),
        ("layer layer", " ".join(["layer"] * WORDS)),
    ):
        small = Index.create(root / name.replace(" ", "-"), Schema(id=ID(), text=TEXT()))
        with small.writer() as writer:
            writer.add_document(id="1", text=text)
            writer.add_document(id="2", text="boundary layer flow")
        with Searcher(small.reopen()) as searcher:
            report(searcher, f'100,000 words "{name} ...", "layer flow"~1000', '"layer flow"~1000', runs)
            report(searcher, f'100,000 words "{name} ...", "layer layer"~1000', '"layer layer"~1000', runs)
            long_repeated = '"' + " ".join(["layer flow"] * 20) + '"~1000'
            report(searcher, f'100,000 words "{name} ...", 40 repeated words ~1000', long_repeated, runs)


if __name__ == "__main__":
    main()
