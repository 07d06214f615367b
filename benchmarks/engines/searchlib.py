"""searchlib itself, with the peers' BM25 parameters (also its defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.scoring import DEFAULT_B, DEFAULT_K1

from bench_data import Doc
from engines import B, K1, Engine, Hits


class Searchlib(Engine):
    label = "searchlib"
    package = "searchlib"
    notes = {
        "fields": "two fields, title and text, both default query fields with boost 1, combined "
                  "the way the measured searchlib does it (BM25F since commit aea88d0; per-field "
                  "BM25 scores added before it)",
        "analysis": "Unicode words, lowercase, searchlib's English stop list (153 words), "
                    "NLTK Snowball English stemmer (Porter2)",
        "bm25": f"k1={K1}, b={B} (passed to Searcher; searchlib's defaults are k1={DEFAULT_K1}, "
                f"b={DEFAULT_B})",
        "stored": "id, title, text; positions indexed",
        "threads": "one (searchlib has no threads)",
        "timing": "index time includes searchlib's lazy first import of NLTK",
    }
    #: Keyword arguments for ``Searcher``.
    searcher_options: ClassVar[dict[str, Any]] = {"k1": K1, "b": B}

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        index = Index.create(self.path, Schema(id=ID(), title=TEXT(), text=TEXT()))
        with index.writer() as writer:
            for doc in docs:
                writer.add_document(id=doc.id, title=doc.title, text=doc.text)

    def open(self) -> None:
        self.searcher = Searcher(Index.open(self.path), **self.searcher_options)

    def search(self, words: Sequence[str], k: int) -> Hits:
        # Lenient: dataset queries hold stray quotes, colons and dashes that are words here.
        return [(hit.id, hit.score) for hit in self.searcher.search(" ".join(words), limit=k, strict=False)]

    def close(self) -> None:
        self.searcher.close()

