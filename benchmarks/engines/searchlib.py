"""searchlib itself, with the peers' BM25 parameters (also its defaults)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

from searchlib import ID, TEXT, Index, IndexWriter, Schema, Searcher
from searchlib.scoring import DEFAULT_B, DEFAULT_K1

from bench_data import Doc
from engines import B, K1, Engine, Hits

#: The keywords searchlib has taken for parallel indexing, newest first.
PARALLEL_KEYWORDS = ("threads", "workers")


def parallel_keyword(function: Callable[..., Any]) -> str | None:
    """Which of :data:`PARALLEL_KEYWORDS` ``function`` accepts, if any.

    Looked up rather than assumed, so that the benchmark runs unchanged on the searchlib of
    any commit: ``add_documents(workers=N)`` (worker processes) before the compiled core,
    ``threads=N`` after it.
    """
    parameters = inspect.signature(function).parameters
    return next((name for name in PARALLEL_KEYWORDS if name in parameters), None)


def parallel_options(threads: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword arguments for ``Index.writer`` and for ``IndexWriter.add_documents``.

    The count is passed even when it is 1, so that a default of several threads does not
    turn the one-thread row into something else.
    """
    keyword = parallel_keyword(Index.writer)
    if keyword is not None:
        return {keyword: threads}, {}
    keyword = parallel_keyword(IndexWriter.add_documents)
    if keyword is not None:
        return {}, {keyword: threads}
    if threads == 1:
        return {}, {}
    raise ValueError("this searchlib takes no thread or worker count")


def as_documents(docs: Sequence[Doc]) -> Iterator[dict[str, str]]:
    for doc in docs:
        yield {"id": doc.id, "title": doc.title, "text": doc.text}


class Searchlib(Engine):
    label = "searchlib"
    package = "searchlib"
    threaded = True
    notes = {
        "fields": "two fields, title and text, both default query fields with boost 1, combined "
                  "the way the measured searchlib does it (BM25F since commit aea88d0; per-field "
                  "BM25 scores added before it)",
        "analysis": "the `english` analyzer: Unicode words, lowercase, searchlib's English stop "
                    "list (153 words), Snowball English stemmer (Porter2)",
        "bm25": f"k1={K1}, b={B} (passed to Searcher; searchlib's defaults are k1={DEFAULT_K1}, "
                f"b={DEFAULT_B})",
        "stored": "id only (TEXT(stored=False) for title and text); positions indexed",
        "threads": "N>1: the writer's `threads=N` if it takes one, else `add_documents(workers=N)` "
                   "(N worker processes writing segments; their CPU time counts in cores busy, their "
                   "peak RSS is the JSON's children_peak_rss_mb)",
        "timing": "index time includes searchlib's lazy first import of its stemmer",
    }
    #: Keyword arguments for ``Searcher``.
    searcher_options: ClassVar[dict[str, Any]] = {"k1": K1, "b": B}

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        index = Index.create(self.path, Schema(id=ID(), title=TEXT(stored=False), text=TEXT(stored=False)))
        writer_options, add_options = parallel_options(self.threads)
        used = ", ".join(f"{name}={value}" for name, value in {**writer_options, **add_options}.items())
        self.notes = {**self.notes, "threads": f"{self.threads}, as " + (used or "the writer's default (one)")
                      + "; " + self.notes["threads"]}
        with index.writer(**writer_options) as writer:
            writer.add_documents(as_documents(docs), **add_options)

    def open(self) -> None:
        self.searcher = Searcher(Index.open(self.path), **self.searcher_options)

    def search(self, words: Sequence[str], k: int) -> Hits:
        # Lenient: dataset queries hold stray quotes, colons and dashes that are words here.
        return [(hit.id, hit.score) for hit in self.searcher.search(" ".join(words), limit=k, strict=False)]

    def close(self) -> None:
        self.searcher.close()
